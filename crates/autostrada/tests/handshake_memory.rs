//! What a server connection costs while its opening handshake waits for
//! the request: a burst of clients that connect and are slow to speak (or
//! never do) holds their tasks and the handshake's one box, not a read
//! buffer and several allocations each. A test file of its own: the heap
//! counter is process-wide.

#[path = "common/counting.rs"]
mod counting;

use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use autostrada::ServerBuilder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::mpsc::UnboundedSender;

#[global_allocator]
static A: counting::Counting = counting::Counting;

const CONNECTIONS: usize = 200;

/// A server socket that reports the first time a read finds nothing: the
/// handshake is then parked, waiting for the request.
struct ReportsWaiting {
    tcp: TcpStream,
    waiting: Option<UnboundedSender<()>>,
}

impl AsyncRead for ReportsWaiting {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if polled.is_pending()
            && let Some(waiting) = self.waiting.take()
        {
            let _ = waiting.send(());
        }
        polled
    }
}

impl AsyncWrite for ReportsWaiting {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Live heap per server connection whose handshake waits for a request
/// that has not come: its task (the caller's future, a pointer to the
/// boxed handshake), tokio's I/O registration and the handshake's box.
async fn heap_per_waiting_handshake() -> usize {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (waiting_tx, mut waiting_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(async move {
        let server = ServerBuilder::new();
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let server = server.clone();
            let stream = ReportsWaiting { tcp, waiting: Some(waiting_tx.clone()) };
            tokio::spawn(async move {
                let _ = server.accept(stream).await;
            });
        }
    });
    // Warm up the runtime's own structures (timer wheel, I/O driver pages).
    let warm: Vec<_> = futures_util::future::join_all((0..20).map(|_| TcpStream::connect(addr))).await;
    for _ in 0..20 {
        waiting_rx.recv().await.unwrap();
    }
    let before = counting::CURRENT.load(Ordering::Relaxed);
    let mut clients = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        clients.push(TcpStream::connect(addr).await.unwrap());
    }
    for _ in 0..CONNECTIONS {
        waiting_rx.recv().await.unwrap();
    }
    // The clients' sockets (in this process) are counted too.
    let after = counting::CURRENT.load(Ordering::Relaxed);
    drop((clients, warm));
    server.abort();
    after.saturating_sub(before) / CONNECTIONS
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_waiting_for_its_request_holds_no_buffer() {
    let waiting = heap_per_waiting_handshake().await;
    eprintln!("live heap per server connection waiting for its request: {waiting} octets");
    // 1,560 when written, the client's socket registration included: the
    // server task, its registration, and the handshake's box (720 octets).
    // It was 4,376 when the handshake kept a 1 KiB read buffer, a timer
    // box and a 1,856-octet box while it waited.
    assert!(waiting < 2048, "a waiting handshake holds {waiting} octets of heap");
}
