//! Both halves of a split connection, in two tasks, waiting on the same
//! socket's write readiness: a socket remembers one waker per direction,
//! so whichever half registered last must not leave the other asleep; the
//! same for one unsplit `WebSocket` that two tasks poll in turn (through
//! `futures`' `StreamExt::split`). And the same in one task, where no
//! combined waker is needed.

use std::time::Duration;

use autostrada::proto::Role;
use autostrada::{Config, Message, WebSocket};
use bytes::BytesMut;
use std::future::Future;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Only turns a hang into a failure.
const GUARD: Duration = Duration::from_secs(20);

const BIG: usize = 64 << 10;

/// A masked client ping.
fn ping(payload: &[u8]) -> Vec<u8> {
    let key = [0x11, 0x22, 0x33, 0x44];
    let mut f = vec![0x89, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Reads the server's frames off `peer` until it has seen a `BIG` binary
/// message and a pong; returns the pong's payload.
async fn drain(peer: &mut DuplexStream) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut chunk = vec![0u8; 4096];
    let (mut big, mut pong) = (false, None);
    while !(big && pong.is_some()) {
        let n = peer.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed early");
        wire.extend_from_slice(&chunk[..n]);
        // Take whole frames off the front (server frames are unmasked).
        while let Some(h) = autostrada::proto::FrameHeader::parse(&wire) {
            let end = h.header_len + h.header.payload_len as usize;
            if wire.len() < end {
                break;
            }
            match h.header.opcode {
                autostrada::proto::OpCode::Binary => big = h.header.payload_len as usize == BIG,
                autostrada::proto::OpCode::Pong => pong = Some(wire[h.header_len..end].to_vec()),
                other => panic!("unexpected {other:?}"),
            }
            wire.drain(..end);
        }
    }
    pong.unwrap()
}

/// A writer task parks on a full socket with a `BIG` message; a reader
/// task reads a ping, whose pong queues behind the message, and it too
/// waits for the socket. Then the peer reads: the socket drains, and the
/// writer must finish. With `writer_first`, the test lets the writer park
/// before the ping goes out (on one thread, that fixes the order).
async fn both_tasks_wake_when_the_socket_drains<W, R>(
    mut write: W,
    mut read: R,
    mut peer: DuplexStream,
    payload: &'static [u8],
    writer_first: bool,
) where
    W: futures_util::Sink<Message, Error = autostrada::Error> + Unpin + Send + 'static,
    R: futures_util::Stream<Item = Result<Message, autostrada::Error>> + Unpin + Send + 'static,
{
    let writer = tokio::spawn(async move { write.send(Message::binary(vec![7u8; BIG])).await });
    if writer_first {
        // The writer runs until the socket is full, and parks.
        tokio::task::yield_now().await;
        assert!(!writer.is_finished());
    }
    peer.write_all(&ping(payload)).await.unwrap();
    let reader = tokio::spawn(async move {
        let first = read.next().await;
        (first, read)
    });
    let (first, _read) = tokio::time::timeout(GUARD, reader).await.expect("the reader hung").unwrap();
    assert!(matches!(first, Some(Ok(Message::Ping(_)))), "{first:?}");
    let pong = tokio::time::timeout(GUARD, drain(&mut peer)).await.expect("the pong or the message never came");
    assert_eq!(pong, payload);
    tokio::time::timeout(GUARD, writer).await.expect("the writer was never woken").unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_in_two_tasks_both_wake_when_the_socket_drains() {
    let (ours, peer) = tokio::io::duplex(1024);
    let ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
    let (read, write) = ws.split();
    both_tasks_wake_when_the_socket_drains(write, read, peer, b"are you there", false).await;
}

/// The same with `futures`' own `StreamExt::split`: the `WebSocket` stays
/// whole (no lock), and the two tasks poll it in turn, each with `&mut`.
/// One thread, so that the order is fixed: the writer parks on the full
/// socket first, then the reader's pong write parks on it with the other
/// task's waker, and that task is done by the time the socket drains.
#[tokio::test(flavor = "current_thread")]
async fn two_tasks_polling_one_unsplit_socket_both_wake_when_it_drains() {
    let (ours, peer) = tokio::io::duplex(1024);
    let ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
    let (write, read) = StreamExt::split(ws);
    both_tasks_wake_when_the_socket_drains(write, read, peer, b"still one socket", true).await;
}

#[tokio::test(flavor = "current_thread")]
async fn one_task_polling_both_halves_is_woken_by_its_own_waker() {
    let (ours, mut peer) = tokio::io::duplex(1024);
    let mut ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
    peer.write_all(&ping(b"hello")).await.unwrap();
    let server = async {
        // Reads the ping (its pong is queued), then sends the big message:
        // the socket fills and this task waits on it.
        assert!(matches!(ws.next().await, Some(Ok(Message::Ping(_)))));
        ws.send(Message::binary(vec![7u8; BIG])).await.unwrap();
    };
    let (_, pong) = tokio::time::timeout(GUARD, async { tokio::join!(server, drain(&mut peer)) })
        .await
        .expect("a task waiting on its own socket was never woken");
    assert_eq!(pong, b"hello");
}

/// A masked client binary frame.
fn binary(payload: &[u8]) -> Vec<u8> {
    let mut f = ping(payload);
    f[0] = 0x82;
    f
}

/// A waker that records that it was woken.
struct Flag(std::sync::atomic::AtomicBool);

impl std::task::Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

fn flag() -> (std::sync::Arc<Flag>, std::task::Waker) {
    let f = std::sync::Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
    (f.clone(), std::task::Waker::from(f))
}

/// Task A waits on the connection, splits it and waits to send into a full
/// socket; task B then polls the read half, which pushes A's queued
/// message out and so waits on the same socket. When the socket drains,
/// A must be woken too. (Polled by hand, with two wakers, so that the
/// order is certain.)
#[tokio::test(flavor = "current_thread")]
async fn a_task_that_hands_its_read_half_to_another_still_wakes_for_its_writes() {
    use std::pin::pin;
    use std::sync::atomic::Ordering;
    use std::task::{Context, Poll};

    let (ours, mut peer) = tokio::io::duplex(1024);
    let mut ws = WebSocket::from_upgraded(ours, Role::Server, &Config::default(), BytesMut::new(), None);
    let (a, a_waker) = flag();
    let (_b, b_waker) = flag();
    let mut cx_a = Context::from_waker(&a_waker);
    let mut cx_b = Context::from_waker(&b_waker);
    // A waits for a message, then gets it.
    assert!(ws.poll_next_unpin(&mut cx_a).is_pending());
    peer.write_all(&binary(b"go")).await.unwrap();
    assert!(matches!(ws.poll_next_unpin(&mut cx_a), Poll::Ready(Some(Ok(Message::Binary(_))))));
    let (mut read, mut write) = ws.split();
    // A's send fills the socket and waits.
    let mut send = pin!(write.send(Message::binary(vec![7u8; BIG])));
    assert!(send.as_mut().poll(&mut cx_a).is_pending());
    // B's read pushes the queue out and waits, on the socket too.
    assert!(read.poll_next_unpin(&mut cx_b).is_pending());
    a.0.store(false, Ordering::SeqCst);
    // The peer makes room: the socket wakes its write waiters.
    let mut room = vec![0u8; 1024];
    peer.read_exact(&mut room).await.unwrap();
    assert!(a.0.load(Ordering::SeqCst), "the sending task was not woken when the socket drained");
}
