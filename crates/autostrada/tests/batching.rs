//! System calls per message: echoes queued with `feed` leave together when
//! the read half runs out of buffered messages, and a socket that keeps
//! filling every read gets larger reads. Counted on a wrapper around the
//! server's stream, so the figures are the server's reads and writes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use autostrada::{ClientBuilder, Message, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

/// A stream that counts the reads and writes that moved data.
struct Counted {
    inner: DuplexStream,
    reads: Arc<AtomicUsize>,
    writes: Arc<AtomicUsize>,
}

impl AsyncRead for Counted {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.reads.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }
}

impl AsyncWrite for Counted {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A server over a counted in-memory pipe echoing with `feed`, and a client on the other end.
async fn pair(pipe: usize) -> (autostrada::WebSocket<DuplexStream>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (client_io, server_io) = tokio::io::duplex(pipe);
    let (reads, writes) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = Counted { inner: server_io, reads: reads.clone(), writes: writes.clone() };
    tokio::spawn(async move {
        let mut ws = ServerBuilder::new().accept(counted).await.unwrap();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_data() && ws.feed(m).await.is_err() {
                return;
            }
        }
    });
    let (ws, _) = ClientBuilder::new().connect_on(client_io, "ws://localhost/").await.unwrap();
    (ws, reads, writes)
}

#[tokio::test]
async fn echoes_fed_together_leave_in_one_write_once_nothing_more_is_buffered() {
    let (mut client, _, writes) = pair(1 << 20).await;
    // Let the handshake's own write be counted first.
    client.send(Message::text("warm-up")).await.unwrap();
    assert!(client.next().await.unwrap().unwrap().is_data());
    let before = writes.load(Ordering::Relaxed);
    // Twenty messages in one write: the server reads them at once.
    for i in 0..20 {
        client.feed(Message::text(format!("message {i}"))).await.unwrap();
    }
    client.flush().await.unwrap();
    for i in 0..20 {
        let echo = client.next().await.unwrap().unwrap();
        assert_eq!(echo.as_text(), Some(format!("message {i}").as_str()));
    }
    let used = writes.load(Ordering::Relaxed) - before;
    assert!(used <= 2, "20 echoes took {used} writes");
}

#[tokio::test]
async fn a_socket_that_keeps_filling_reads_gets_larger_reads() {
    let (mut client, reads, _) = pair(4 << 20).await;
    client.send(Message::text("warm-up")).await.unwrap();
    assert!(client.next().await.unwrap().unwrap().is_data());
    let before = reads.load(Ordering::Relaxed);
    // 1 MiB of 1 KiB messages, all written before the server reads.
    let payload = bytes::Bytes::from(vec![7u8; 1024]);
    for _ in 0..1024 {
        client.feed(Message::Binary(payload.clone())).await.unwrap();
    }
    client.flush().await.unwrap();
    for _ in 0..1024 {
        assert_eq!(client.next().await.unwrap().unwrap().len(), 1024);
    }
    let used = reads.load(Ordering::Relaxed) - before;
    // Reads that stay at 8 KiB took 70 here (frames straddle reads); growing ones take far fewer.
    assert!(used <= 40, "1 MiB took {used} reads");
}
