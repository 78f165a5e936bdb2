//! Opening handshakes whose heads arrive an octet per read, on both
//! sides: each side parses the head again only when it may have ended or
//! has doubled (`handshake::HeadProgress`), and must still take it the
//! moment its empty line arrives, whatever the octets around it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use autostrada::{ClientBuilder, Message, ServerBuilder};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

/// Far longer than either handshake takes: only a head whose end went
/// unseen runs into it.
const LONG: std::time::Duration = std::time::Duration::from_secs(20);

/// A stream whose reads hand over at most one octet each.
struct OneOctetReads(DuplexStream);

impl AsyncRead for OneOctetReads {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut one = [0u8; 1];
        let mut small = ReadBuf::new(&mut one);
        let polled = Pin::new(&mut self.0).poll_read(cx, &mut small);
        if polled.is_ready() {
            buf.put_slice(small.filled());
        }
        polled
    }
}

impl AsyncWrite for OneOctetReads {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Both sides read an octet at a time; the handshake completes and an echo
/// (which arrives in the same reads as the end of the response, for the
/// frames the server may send at once) goes through.
#[tokio::test]
async fn both_sides_take_heads_read_an_octet_at_a_time() {
    let (a, b) = tokio::io::duplex(64);
    let server = tokio::spawn(async move {
        let mut ws = ServerBuilder::new().accept(OneOctetReads(b)).await.unwrap();
        let message = ws.next().await.unwrap().unwrap();
        ws.send(message).await.unwrap();
    });
    // Many header fields: a head of several kilobytes, parsed only a
    // handful of times.
    let mut builder = ClientBuilder::new();
    for i in 0..50 {
        builder = builder.header(format!("x-filler-{i}"), "a".repeat(40)).unwrap();
    }
    // A head whose end went unseen would wait for octets that never come.
    let connecting = builder.connect_on(OneOctetReads(a), "ws://example.com/");
    let (mut ws, response) = tokio::time::timeout(LONG, connecting).await.expect("the handshake ends").unwrap();
    assert_eq!(response.status(), 101);
    ws.send(Message::text("through")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("through"));
    server.await.unwrap();
}

/// A head with bare LF line ends, and empty lines before the request line
/// (which the parser skips), still completes when its empty line comes.
#[tokio::test]
async fn bare_line_feeds_and_leading_empty_lines() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Room for the whole answer: this side reads only its start.
    let (mut a, b) = tokio::io::duplex(4096);
    let server = tokio::spawn(async move { ServerBuilder::new().accept(OneOctetReads(b)).await.map(drop) });
    let request = "\r\n\nGET / HTTP/1.1\nHost: example.com\nUpgrade: websocket\nConnection: Upgrade\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n";
    a.write_all(request.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    tokio::time::timeout(LONG, a.read_exact(&mut answer)).await.expect("the server answers").unwrap();
    assert_eq!(&answer, b"HTTP/1.1 101");
    server.await.unwrap().unwrap();
}
