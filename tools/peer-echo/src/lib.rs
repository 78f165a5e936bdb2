//! Shared plumbing for the peer echo servers: the accept loop, and an
//! opening handshake (from autostrada's sans-IO core) for libraries that
//! leave it to the application.

use std::future::Future;

use autostrada::proto::handshake::{self, HandshakeLimits};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Listens on the address given as the first argument and runs `serve` for
/// every connection.
pub async fn run<F, Fut>(name: &str, serve: F)
where
    F: Fn(TcpStream) -> Fut + Send + Copy + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr).await.expect("bind");
    eprintln!("{name} echo server on ws://{addr}");
    loop {
        let Ok((tcp, _)) = listener.accept().await else { continue };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(serve(tcp));
    }
}

/// Reads and answers an upgrade request; returns false if it was not one.
/// Octets past the request head are not expected (clients wait for 101).
pub async fn upgrade(tcp: &mut TcpStream) -> bool {
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        if tcp.read_buf(&mut buf).await.unwrap_or(0) == 0 {
            return false;
        }
        match handshake::parse_request(&buf, &HandshakeLimits::default()) {
            Ok(Some((req, _))) => {
                let Ok(accept) = handshake::check_request(&req) else { return false };
                return tcp.write_all(&handshake::server_response(&accept, &http::HeaderMap::new())).await.is_ok();
            }
            Ok(None) => {}
            Err(_) => return false,
        }
    }
}
