//! The Rust peers' echoes, each as its library's documentation shows it.
//!
//! Like autostrada's (`autostrada_echo.rs`), each handshake and its echo
//! loop are chained with `then` instead of written as one `async fn`, which
//! would keep the `TcpStream` it took for the connection's whole life.

use std::future::Future;
use std::sync::OnceLock;

use autostrada::proto::handshake::{self, HandshakeLimits};
use bytes::BytesMut;
use futures_util::future::{self, Either};
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::MAX_MESSAGE;

/// tokio-websockets: its own server handshake, then the message stream.
pub fn tokio_websockets(tcp: TcpStream) -> impl Future<Output = ()> + Send {
    static BUILDER: OnceLock<tokio_websockets::ServerBuilder> = OnceLock::new();
    let builder = BUILDER.get_or_init(|| {
        tokio_websockets::ServerBuilder::new()
            .limits(tokio_websockets::Limits::default().max_payload_len(Some(MAX_MESSAGE)))
    });
    future::lazy(move |_| builder.accept(tcp)).flatten().then(|accepted| match accepted {
        Ok((_request, ws)) => Either::Left(tokio_websockets_echo(ws)),
        Err(_) => Either::Right(future::ready(())),
    })
}

/// tokio-websockets on an open connection, in either role: each text and
/// binary message echoed until the connection ends.
pub fn tokio_websockets_echo<S: AsyncRead + AsyncWrite + Unpin + Send>(
    ws: tokio_websockets::WebSocketStream<S>,
) -> impl Future<Output = ()> + Send {
    echo_data(ws, |m: &tokio_websockets::Message| m.is_text() || m.is_binary())
}

/// tokio-tungstenite: `accept_async`, then the message stream.
pub fn tokio_tungstenite(tcp: TcpStream) -> impl Future<Output = ()> + Send {
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
    future::lazy(move |_| tokio_tungstenite::accept_async_with_config(tcp, Some(config))).flatten().then(|accepted| {
        match accepted {
            Ok(ws) => Either::Left(tokio_tungstenite_echo(ws)),
            Err(_) => Either::Right(future::ready(())),
        }
    })
}

/// tokio-tungstenite on an open connection, in either role: each text and
/// binary message echoed until the connection ends.
pub fn tokio_tungstenite_echo<S: AsyncRead + AsyncWrite + Unpin + Send>(
    ws: tokio_tungstenite::WebSocketStream<S>,
) -> impl Future<Output = ()> + Send {
    echo_data(ws, |m: &tokio_tungstenite::tungstenite::Message| m.is_text() || m.is_binary())
}

/// A message stream and sink echoing each message `is_data` picks, until
/// the stream ends or fails, as the peers' documentation shows. Not an
/// `async fn`: that would move the connection into a second slot.
#[allow(clippy::manual_async_fn)]
fn echo_data<W, M, E>(mut ws: W, is_data: fn(&M) -> bool) -> impl Future<Output = ()> + Send
where
    W: futures_util::Stream<Item = Result<M, E>> + futures_util::Sink<M> + Unpin + Send,
    M: Send,
    E: Send,
{
    async move {
        while let Some(Ok(message)) = ws.next().await {
            if is_data(&message) && ws.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// fastwebsockets: it leaves the handshake to the application (or to hyper);
/// this one is answered with autostrada's sans-IO handshake, then frames are
/// read through its `FragmentCollector` with automatic pong and close.
pub fn fastwebsockets(tcp: TcpStream) -> impl Future<Output = ()> + Send {
    future::lazy(move |_| upgrade(tcp)).flatten().then(|upgraded| match upgraded {
        Some(tcp) => Either::Left(fastwebsockets_echo(tcp, fastwebsockets::Role::Server)),
        None => Either::Right(future::ready(())),
    })
}

/// fastwebsockets on a socket whose handshake is done, in either role:
/// frames through its `FragmentCollector` with automatic pong and close,
/// each text and binary message echoed, until the connection ends.
pub fn fastwebsockets_echo(tcp: TcpStream, role: fastwebsockets::Role) -> impl Future<Output = ()> + Send {
    use fastwebsockets::{FragmentCollector, OpCode, WebSocket};
    let mut ws = WebSocket::after_handshake(tcp, role);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    ws.set_max_message_size(MAX_MESSAGE);
    let mut ws = FragmentCollector::new(ws);
    async move {
        while let Ok(frame) = ws.read_frame().await {
            let echo = match frame.opcode {
                OpCode::Close => return,
                OpCode::Text | OpCode::Binary => ws.write_frame(frame).await,
                _ => Ok(()),
            };
            if echo.is_err() {
                return;
            }
        }
    }
}

/// Reads and answers an upgrade request, handing the socket back; `None`
/// when it was not one. Clients wait for the 101 before sending frames, so
/// nothing follows the request.
async fn upgrade(mut tcp: TcpStream) -> Option<TcpStream> {
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        if tcp.read_buf(&mut buf).await.unwrap_or(0) == 0 {
            return None;
        }
        match handshake::parse_request(&buf, &HandshakeLimits::default()) {
            Ok(Some((request, _))) => {
                let Ok(accept) = handshake::check_request(&request) else { return None };
                let response = handshake::server_response(&accept, &http::HeaderMap::new());
                return tcp.write_all(&response).await.is_ok().then_some(tcp);
            }
            Ok(None) => {}
            Err(_) => return None,
        }
    }
}
