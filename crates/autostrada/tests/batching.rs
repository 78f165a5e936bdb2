//! System calls per message: echoes queued with `feed` leave together when
//! the read half runs out of buffered messages, and a socket that keeps
//! filling every read gets larger reads. Counted on a wrapper around the
//! server's stream, so the figures are the server's reads and writes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use autostrada::{ClientBuilder, Message, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::io::DuplexStream;

#[path = "common/counted_io.rs"]
mod counted_io;

use counted_io::{Counted, Counts};

/// A server over a counted in-memory pipe echoing with `feed`, and a client on the other end.
async fn pair(pipe: usize) -> (autostrada::WebSocket<DuplexStream>, Arc<Counts>) {
    let (client_io, server_io) = tokio::io::duplex(pipe);
    let (counted, counts) = Counted::new(server_io);
    tokio::spawn(async move {
        let mut ws = ServerBuilder::new().accept(counted).await.unwrap();
        while let Some(Ok(m)) = ws.next().await {
            if m.is_data() && ws.feed(m).await.is_err() {
                return;
            }
        }
    });
    let (ws, _) = ClientBuilder::new().connect_on(client_io, "ws://localhost/").await.unwrap();
    (ws, counts)
}

#[tokio::test]
async fn echoes_fed_together_leave_in_one_write_once_nothing_more_is_buffered() {
    let (mut client, counts) = pair(1 << 20).await;
    // Let the handshake's own write be counted first.
    client.send(Message::text("warm-up")).await.unwrap();
    assert!(client.next().await.unwrap().unwrap().is_data());
    let before = counts.writes.load(Ordering::Relaxed);
    // Twenty messages in one write: the server reads them at once.
    for i in 0..20 {
        client.feed(Message::text(format!("message {i}"))).await.unwrap();
    }
    client.flush().await.unwrap();
    for i in 0..20 {
        let echo = client.next().await.unwrap().unwrap();
        assert_eq!(echo.as_text(), Some(format!("message {i}").as_str()));
    }
    let used = counts.writes.load(Ordering::Relaxed) - before;
    assert!(used <= 2, "20 echoes took {used} writes");
}

#[tokio::test]
async fn a_socket_that_keeps_filling_reads_gets_larger_reads() {
    let (mut client, counts) = pair(4 << 20).await;
    client.send(Message::text("warm-up")).await.unwrap();
    assert!(client.next().await.unwrap().unwrap().is_data());
    let before = counts.reads.load(Ordering::Relaxed);
    // 1 MiB of 1 KiB messages, all written before the server reads.
    let payload = bytes::Bytes::from(vec![7u8; 1024]);
    for _ in 0..1024 {
        client.feed(Message::Binary(payload.clone())).await.unwrap();
    }
    client.flush().await.unwrap();
    for _ in 0..1024 {
        assert_eq!(client.next().await.unwrap().unwrap().len(), 1024);
    }
    let used = counts.reads.load(Ordering::Relaxed) - before;
    // Reads that stay at 8 KiB took 70 here (frames straddle reads); growing ones take far fewer.
    assert!(used <= 40, "1 MiB took {used} reads");
}

#[tokio::test]
async fn bursts_of_small_messages_take_one_read_each() {
    let (mut client, counts) = pair(1 << 20).await;
    client.send(Message::text("warm-up")).await.unwrap();
    assert!(client.next().await.unwrap().unwrap().is_data());
    // Bursts of sixteen 1 KiB messages (16.5 KiB with their headers, more
    // than the 8 KiB scratch), each written at once, echoed before the next.
    let payload = bytes::Bytes::from(vec![7u8; 1024]);
    let burst = async |client: &mut autostrada::WebSocket<DuplexStream>| {
        for _ in 0..16 {
            client.feed(Message::Binary(payload.clone())).await.unwrap();
        }
        client.flush().await.unwrap();
        for _ in 0..16 {
            assert_eq!(client.next().await.unwrap().unwrap().len(), 1024);
        }
    };
    // The first bursts size the reads.
    for _ in 0..4 {
        burst(&mut client).await;
    }
    let before = counts.reads.load(Ordering::Relaxed);
    for _ in 0..32 {
        burst(&mut client).await;
    }
    let used = counts.reads.load(Ordering::Relaxed) - before;
    // Sized for what the last burst brought in all (not what was left
    // buffered after its first read was decoded): one read each. Sized by
    // the leftover, each burst took a scratch read and a second one (64).
    assert!(used <= 34, "32 bursts took {used} reads");
}
