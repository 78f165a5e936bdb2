//! The ceiling: a TCP echo of the same octets, no WebSocket. Each
//! connection reads what is there and writes it back, as tight as tokio
//! allows, so its CPU per message is the kernel's share of every subject's.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Echoes until the peer closes.
pub async fn echo(mut tcp: TcpStream) {
    let mut buf = vec![0u8; 64 << 10];
    loop {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tcp.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
