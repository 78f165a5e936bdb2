//! The Rust peers' echoes, each as its library's documentation shows it.

use autostrada::proto::handshake::{self, HandshakeLimits};
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::MAX_MESSAGE;

/// tokio-websockets: its own server handshake, then the message stream.
pub async fn tokio_websockets(tcp: TcpStream) {
    let builder = tokio_websockets::ServerBuilder::new()
        .limits(tokio_websockets::Limits::default().max_payload_len(Some(MAX_MESSAGE)));
    let Ok((_request, ws)) = builder.accept(tcp).await else { return };
    tokio_websockets_echo(ws).await;
}

/// tokio-websockets on an open connection, in either role: each text and
/// binary message echoed until the connection ends.
pub async fn tokio_websockets_echo<S: AsyncRead + AsyncWrite + Unpin>(mut ws: tokio_websockets::WebSocketStream<S>) {
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

/// tokio-tungstenite: `accept_async`, then the message stream.
pub async fn tokio_tungstenite(tcp: TcpStream) {
    use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
    let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(tcp, Some(config)).await else { return };
    tokio_tungstenite_echo(ws).await;
}

/// tokio-tungstenite on an open connection, in either role: each text and
/// binary message echoed until the connection ends.
pub async fn tokio_tungstenite_echo<S: AsyncRead + AsyncWrite + Unpin>(mut ws: tokio_tungstenite::WebSocketStream<S>) {
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

/// fastwebsockets: it leaves the handshake to the application (or to hyper);
/// this one is answered with autostrada's sans-IO handshake, then frames are
/// read through its `FragmentCollector` with automatic pong and close.
pub async fn fastwebsockets(mut tcp: TcpStream) {
    if !upgrade(&mut tcp).await {
        return;
    }
    fastwebsockets_echo(tcp, fastwebsockets::Role::Server).await;
}

/// fastwebsockets on a socket whose handshake is done, in either role:
/// frames through its `FragmentCollector` with automatic pong and close,
/// each text and binary message echoed, until the connection ends.
pub async fn fastwebsockets_echo(tcp: TcpStream, role: fastwebsockets::Role) {
    use fastwebsockets::{FragmentCollector, OpCode, WebSocket};
    let mut ws = WebSocket::after_handshake(tcp, role);
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    ws.set_max_message_size(MAX_MESSAGE);
    let mut ws = FragmentCollector::new(ws);
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

/// Reads and answers an upgrade request; false when it was not one. Clients
/// wait for the 101 before sending frames, so nothing follows the request.
async fn upgrade(tcp: &mut TcpStream) -> bool {
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        if tcp.read_buf(&mut buf).await.unwrap_or(0) == 0 {
            return false;
        }
        match handshake::parse_request(&buf, &HandshakeLimits::default()) {
            Ok(Some((request, _))) => {
                let Ok(accept) = handshake::check_request(&request) else { return false };
                let response = handshake::server_response(&accept, &http::HeaderMap::new());
                return tcp.write_all(&response).await.is_ok();
            }
            Ok(None) => {}
            Err(_) => return false,
        }
    }
}
