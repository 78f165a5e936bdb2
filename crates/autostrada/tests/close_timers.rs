//! The close timer against peers that do not cooperate, over in-memory
//! pipes: a silent peer while only the write half closed, a peer that keeps
//! sending after our close, and the close reply that must be out before the
//! application sees the peer's close.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use autostrada::proto::Role;
use autostrada::{CloseCode, CloseFrame, Config, Error, Message, WebSocket};
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Generous: the timers under test are 200 ms; this only turns a hang into a failure.
const GUARD: Duration = Duration::from_secs(20);

fn server(io: DuplexStream) -> WebSocket<DuplexStream> {
    let mut config = Config::default();
    config.close_timeout = Duration::from_millis(200);
    WebSocket::from_upgraded(io, Role::Server, &config, BytesMut::new(), None)
}

/// A masked client frame.
fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

#[tokio::test]
async fn a_reader_parked_on_a_silent_peer_times_out_after_the_write_half_closes() {
    let (ours, _silent_peer) = tokio::io::duplex(4096);
    let (mut read, mut write) = server(ours).split();
    let reader = tokio::spawn(async move { read.next().await });
    // Let the reader park first: it has nothing to read.
    tokio::task::yield_now().await;
    write.send(Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "bye")))).await.unwrap();
    let ended = tokio::time::timeout(GUARD, reader).await.expect("the reader never woke").unwrap();
    assert!(matches!(ended, Some(Err(Error::CloseTimeout))), "{ended:?}");
}

/// The same with `futures`' own `StreamExt::split`, which leaves the
/// `WebSocket` whole and lets two tasks poll it in turn: each poll has
/// `&mut` (no lock), but the tasks differ, and the reader's must still be
/// woken when the sink queues a close.
#[tokio::test]
async fn a_reader_parked_on_a_silent_peer_wakes_when_another_task_closes_the_unsplit_socket() {
    let (ours, _silent_peer) = tokio::io::duplex(4096);
    let (mut sink, mut stream) = StreamExt::split(server(ours));
    let reader = tokio::spawn(async move { stream.next().await });
    // Let the reader park first: it has nothing to read.
    tokio::task::yield_now().await;
    sink.send(Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "bye")))).await.unwrap();
    let ended = tokio::time::timeout(GUARD, reader).await.expect("the reader never woke").unwrap();
    assert!(matches!(ended, Some(Err(Error::CloseTimeout))), "{ended:?}");
}

/// A peer that always has another text frame ready and takes whatever we
/// write: its reads never return `Pending`.
struct Endless {
    frame: Vec<u8>,
    at: usize,
}

impl tokio::io::AsyncRead for Endless {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        while buf.remaining() > 0 {
            let at = self.at;
            let n = buf.remaining().min(self.frame.len() - at);
            buf.put_slice(&self.frame[at..at + n]);
            self.at = (at + n) % self.frame.len();
        }
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Endless {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_peer_that_keeps_sending_after_our_close_does_not_hold_the_timer_off() {
    let peer = Endless { frame: masked(0x1, b"still talking"), at: 0 };
    let mut config = Config::default();
    config.close_timeout = Duration::from_millis(200);
    let mut ws = WebSocket::from_upgraded(peer, Role::Server, &config, BytesMut::new(), None);
    ws.send(Message::Close(None)).await.unwrap();
    let started = std::time::Instant::now();
    let mut texts = 0u64;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(_))) => texts += 1,
            Some(Err(Error::CloseTimeout)) => break,
            other => panic!("expected text or the close timeout, got {other:?}"),
        }
        assert!(started.elapsed() < GUARD, "the close timer never fired ({texts} messages read)");
    }
    assert!(texts > 0);
}

#[tokio::test]
async fn the_close_reply_is_out_before_the_application_sees_the_close() {
    for role_is_split in [false, true] {
        let (ours, mut theirs) = tokio::io::duplex(4096);
        theirs.write_all(&masked(0x8, &[0x03, 0xe8])).await.unwrap();
        let mut ws = server(ours);
        let first = if role_is_split {
            let (mut read, _write) = ws.split();
            let m = read.next().await;
            // The application stops here and never polls again.
            std::mem::forget(read);
            m
        } else {
            let m = ws.next().await;
            std::mem::forget(ws);
            m
        };
        assert_eq!(first.unwrap().unwrap(), Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, ""))));
        let mut reply = [0u8; 4];
        tokio::time::timeout(GUARD, theirs.read_exact(&mut reply)).await.expect("no close reply").unwrap();
        assert_eq!(reply, [0x88, 0x02, 0x03, 0xe8]);
    }
}

/// A peer that sends its close and then stops reading, while our writes
/// (a message, then the close reply behind it) cannot get out: after
/// `close_timeout` the application learns that the closing handshake did
/// not complete (RFC 6455 §7.1.4), not that the peer closed cleanly.
#[tokio::test]
async fn a_peer_close_whose_reply_cannot_go_out_is_not_reported_clean() {
    // The pipe holds 64 octets: a queued 1 KiB message fills it for good.
    let (ours, mut theirs) = tokio::io::duplex(64);
    theirs.write_all(&masked(0x8, &[0x03, 0xe8])).await.unwrap();
    let mut ws = server(ours);
    ws.feed(Message::binary(vec![0u8; 1024])).await.unwrap();
    let got = tokio::time::timeout(GUARD, ws.next()).await.expect("the close timer never fired");
    assert!(matches!(&got, Some(Err(Error::Io(e))) if e.kind() == std::io::ErrorKind::TimedOut), "{got:?}");
    assert!(ws.next().await.is_none());
    drop(theirs);
}
