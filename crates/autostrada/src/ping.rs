//! Pings that wait for their pong: a round-trip time on a live connection.
//!
//! [`WebSocket::ping`](crate::WebSocket::ping) (or the send half's) queues a
//! ping whose payload names it, and hands back a [`Pong`] future. The read
//! half, when it reads a pong carrying that name, completes the future with
//! the time since the ping was queued.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::error::Error;

/// Most pings awaiting their pong at once; queuing one more gives up on the
/// oldest (its [`Pong`] resolves to [`Error::NoPong`]). Bounds what a peer
/// that never answers makes us keep.
pub const MAX_OUTSTANDING_PINGS: usize = 16;

/// Marks the pings this module sends, before an 8-octet sequence number.
const TAG: &[u8; 8] = b"as-ping:";

/// One ping waiting for its pong.
#[derive(Debug)]
struct Waiting {
    seq: u64,
    sent: Instant,
    reply: oneshot::Sender<Duration>,
}

/// The pings awaiting pongs on one connection.
///
/// Most connections never ping from the application: the queue is made on
/// the first ping (or when the connection ends), and until then costs one
/// pointer.
#[derive(Debug, Default)]
pub(crate) struct Pings {
    queue: Option<Box<PingQueue>>,
}

/// The sequence counter and the pings sent, oldest first.
#[derive(Debug, Default)]
struct PingQueue {
    next: u64,
    waiting: VecDeque<Waiting>,
    /// The connection has ended: no pong will come. Kept here rather than
    /// beside the pointer, where it would double an idle connection's
    /// share; ending is rare enough to pay for the box.
    closed: bool,
}

impl Pings {
    /// Registers a new ping: its payload and the future its pong completes.
    pub(crate) fn start(&mut self) -> (Bytes, Pong) {
        let q = self.queue.get_or_insert_default();
        if q.closed {
            // The sender is dropped at once: the Pong resolves to NoPong.
            let (_, rx) = oneshot::channel();
            return (Bytes::new(), Pong { rx });
        }
        if q.waiting.len() >= MAX_OUTSTANDING_PINGS {
            // Dropping the sender resolves the oldest `Pong` with NoPong.
            q.waiting.pop_front();
        }
        let seq = q.next;
        q.next += 1;
        let (reply, rx) = oneshot::channel();
        q.waiting.push_back(Waiting { seq, sent: Instant::now(), reply });
        let mut payload = BytesMut::with_capacity(TAG.len() + 8);
        payload.put_slice(TAG);
        payload.put_u64(seq);
        (payload.freeze(), Pong { rx })
    }

    /// True when no ping awaits a pong.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.as_ref().is_none_or(|q| q.waiting.is_empty())
    }

    /// Completes the ping a received pong answers, and every earlier one:
    /// RFC 6455 §5.5.3 lets a peer answer only the most recent of several
    /// pings. A pong we did not ask for (or with another payload) is ignored.
    pub(crate) fn answer(&mut self, payload: &[u8]) {
        let Some(seq) = payload.strip_prefix(TAG.as_slice()).and_then(|s| s.try_into().ok()).map(u64::from_be_bytes)
        else {
            return;
        };
        let Some(q) = self.queue.as_mut() else { return };
        if !q.waiting.iter().any(|w| w.seq == seq) {
            return;
        }
        while let Some(w) = q.waiting.pop_front() {
            let done = w.seq == seq;
            // The caller may have dropped its `Pong`: nothing to tell then.
            let _ = w.reply.send(w.sent.elapsed());
            if done {
                break;
            }
        }
    }

    /// Gives up on every waiting ping and on any later one: the
    /// connection has ended, or its read half is gone.
    pub(crate) fn close(&mut self) {
        let q = self.queue.get_or_insert_default();
        q.closed = true;
        // Dropping the waiting senders resolves their Pongs with NoPong.
        q.waiting = VecDeque::new();
    }
}

/// Resolves to the round-trip time once the peer answers a ping queued by
/// [`WebSocket::ping`](crate::WebSocket::ping) or
/// [`SendHalf::ping`](crate::SendHalf::ping).
///
/// The time runs from when the ping was queued to when the read half read
/// its pong, so keep reading the socket (or its read half) meanwhile. It
/// resolves to [`Error::NoPong`] if the connection ends first, or if
/// [`MAX_OUTSTANDING_PINGS`] newer pings were queued before the answer came.
/// It has no deadline of its own: wrap it in `tokio::time::timeout`.
#[derive(Debug)]
#[must_use = "a Pong does nothing unless awaited"]
pub struct Pong {
    rx: oneshot::Receiver<Duration>,
}

impl Future for Pong {
    type Output = Result<Duration, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx).poll(cx).map(|r| r.map_err(|_| Error::NoPong))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_pong_answers_its_ping_and_the_ones_before() {
        let mut pings = Pings::default();
        let (_, first) = pings.start();
        let (second_payload, second) = pings.start();
        let (_, third) = pings.start();
        pings.answer(b"someone else's pong");
        pings.answer(&second_payload);
        assert!(first.await.is_ok());
        assert!(second.await.is_ok());
        pings.close();
        assert!(matches!(third.await, Err(Error::NoPong)));
        let (_, late) = pings.start();
        assert!(matches!(late.await, Err(Error::NoPong)), "a ping after the end gets no pong");
    }

    #[tokio::test]
    async fn the_oldest_ping_is_given_up_past_the_limit() {
        let mut pings = Pings::default();
        let (_, oldest) = pings.start();
        let rest: Vec<_> = (0..MAX_OUTSTANDING_PINGS).map(|_| pings.start()).collect();
        assert!(matches!(oldest.await, Err(Error::NoPong)));
        assert_eq!(pings.queue.as_ref().unwrap().waiting.len(), MAX_OUTSTANDING_PINGS);
        pings.answer(&rest.last().unwrap().0);
        assert!(pings.is_empty());
    }
}
