//! The `echoserver` and `testeeserver` modes, and the server behind the
//! no-argument run: an autostrada echo server.

use std::net::SocketAddr;

use autostrada::proto::deflate::DeflateConfig;
use autostrada::tokio_rustls::TlsAcceptor;
use autostrada::{Config, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

/// Limits raised so the suite's 16 MiB messages fit, and permessage-deflate on.
#[must_use]
pub fn config() -> Config {
    let mut config = Config::default();
    config.max_frame_size = 64 << 20;
    config.max_message_size = 64 << 20;
    // permessage-deflate when the peer offers (server) / offered to the server (client).
    config.deflate = Some(DeflateConfig::default());
    config
}

/// Binds an echo server to `addr`; returns the bound address and the task
/// that serves it until dropped or aborted.
pub async fn start(addr: &str) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    start_with(addr, None).await
}

/// As [`start`], serving `wss://` through `tls` when given.
///
/// # Errors
/// When `addr` cannot be bound.
pub async fn start_with(
    addr: &str,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((local, tokio::spawn(serve_with(listener, tls))))
}

/// An echo server on a runtime of its own (its own threads, like a server
/// in another process), stopped when dropped.
#[derive(Debug)]
pub struct Background {
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
}

impl Background {
    /// Binds to `addr` and starts serving. Callable from inside another
    /// runtime: the server never shares the caller's threads, so a client
    /// there that polls the socket cannot hold the server up.
    ///
    /// # Errors
    /// When `addr` cannot be bound or the runtime cannot start.
    pub fn start(addr: &str) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().thread_name("wstest-echo").build()?;
        runtime.spawn(async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => serve(listener).await,
                Err(e) => eprintln!("wstest: the echo server cannot listen: {e}"),
            }
        });
        Ok(Self { runtime: Some(runtime), addr })
    }

    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Not `drop`: that would block, which is not allowed inside the caller's runtime.
            runtime.shutdown_background();
        }
    }
}

/// Echoes every data message on every connection `listener` accepts.
async fn serve(listener: TcpListener) {
    serve_with(listener, None).await;
}

/// As [`serve`], behind TLS when `tls` is given.
async fn serve_with(listener: TcpListener, tls: Option<TlsAcceptor>) {
    let server = ServerBuilder::new().config(config());
    while let Ok((tcp, _)) = listener.accept().await {
        let _ = tcp.set_nodelay(true);
        let (server, tls) = (server.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => echo(server.accept(tcp).await).await,
                Some(tls) => {
                    // A client that never starts TLS does not keep its task.
                    let limit = config().handshake_timeout;
                    if let Ok(Ok(stream)) = tokio::time::timeout(limit, tls.accept(tcp)).await {
                        echo(server.accept(stream).await).await;
                    }
                }
            }
        });
    }
}

/// Echoes data messages until the connection ends.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(ws: Result<autostrada::WebSocket<S>, autostrada::Error>) {
    let Ok(mut ws) = ws else { return };
    while let Some(message) = ws.next().await {
        if let Ok(m) = message
            && m.is_data()
            && ws.send(m).await.is_err()
        {
            break;
        }
    }
}
