//! What an idle connection costs: after one message each way, a server
//! connection that waits for the next one holds no read buffer, no frame
//! assembly buffer and no opening-handshake state — about 1.6 KiB of heap
//! (its task and shared state), where it used to keep 11 KiB.

#[path = "common/counting.rs"]
mod counting;

use std::io::{Read, Write};
use std::sync::atomic::Ordering;

use autostrada::{Config, ServerBuilder};
use futures_util::{SinkExt, StreamExt};

#[global_allocator]
static A: counting::Counting = counting::Counting;

const CONNECTIONS: usize = 200;

/// A plain blocking client (not counted as the server's: no tokio, no
/// autostrada): handshake, one masked 200-octet text message, its echo.
fn client(addr: std::net::SocketAddr) -> std::net::TcpStream {
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    let payload = [b'x'; 200];
    let mut frame = vec![0x81, 0x80 | 126, 0, 200, 0, 0, 0, 0];
    frame.extend_from_slice(&payload);
    tcp.write_all(&frame).unwrap();
    let mut echo = [0u8; 4 + 200];
    tcp.read_exact(&mut echo).unwrap();
    assert_eq!(&echo[4..], &payload);
    tcp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_connection_holds_no_read_buffer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = ServerBuilder::new().config(Config::default());
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let server = server.clone();
            let ready = ready_tx.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = server.accept(tcp).await else { return };
                let mut echoed = false;
                while let Some(Ok(m)) = ws.next().await {
                    if ws.send(m).await.is_err() {
                        break;
                    }
                    if !echoed {
                        echoed = true;
                        let _ = ready.send(());
                    }
                }
            });
        }
    });
    // Warm up the runtime's own structures (timer wheel, I/O driver pages).
    let warm: Vec<_> = (0..20).map(|_| client(addr)).collect();
    for _ in 0..20 {
        ready_rx.recv().await.unwrap();
    }
    let before = counting::CURRENT.load(Ordering::Relaxed);
    let clients =
        tokio::task::spawn_blocking(move || (0..CONNECTIONS).map(|_| client(addr)).collect::<Vec<_>>()).await.unwrap();
    for _ in 0..CONNECTIONS {
        ready_rx.recv().await.unwrap();
    }
    // Each server task has echoed and gone back to waiting for the socket.
    tokio::task::yield_now().await;
    let after = counting::CURRENT.load(Ordering::Relaxed);
    let per_connection = after.saturating_sub(before) / CONNECTIONS;
    eprintln!("live heap per idle server connection: {per_connection} octets");
    assert!(per_connection < 2560, "an idle connection holds {per_connection} octets of heap");
    drop((clients, warm));
}
