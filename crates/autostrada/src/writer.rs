//! The write side of the tokio front end, shared by both halves.
//!
//! The writer (the [`Sender`] and the socket's write half) sits behind a
//! mutex held only for the duration of one poll, never across an await. The
//! read half takes it briefly to queue a pong or close reply and push it out;
//! the write half takes it to send. Neither waits on the other's progress.
//!
//! Both halves may be parked on the same socket's write readiness, but a
//! socket remembers one waker per direction. So the socket is always polled
//! with a combined waker ([`WakerSet`]) that wakes both halves' tasks.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker, ready};

use futures_sink::Sink;
use tokio::io::{AsyncWrite, WriteHalf as IoWriteHalf};

use crate::error::Error;
use crate::message::Message;
use crate::proto::{CloseCode, CloseFrame, Encoder, Sender};

/// Most chunks handed to one vectored write.
const MAX_IOVECS: usize = 64;

/// Which half is polling.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side {
    Reader,
    Writer,
}

/// The tasks of both halves, woken together.
#[derive(Debug, Default)]
pub(crate) struct WakerSet {
    reader: Mutex<Option<Waker>>,
    writer: Mutex<Option<Waker>>,
}

impl WakerSet {
    fn register(&self, side: Side, waker: &Waker) {
        let slot = match side {
            Side::Reader => &self.reader,
            Side::Writer => &self.writer,
        };
        let mut slot = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

impl WakerSet {
    fn wake_reader(&self) {
        let waker = self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Wake for WakerSet {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        for slot in [&self.reader, &self.writer] {
            let waker = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

/// The sender and the socket's write half.
pub(crate) struct Writer<S> {
    pub(crate) tx: Sender,
    io: IoWriteHalf<S>,
    pub(crate) flush_threshold: usize,
    shut_down: bool,
    /// The stream took octets and has not been flushed since. TCP sends
    /// what it takes, but TLS holds records until flushed: the queue being
    /// empty does not mean that everything has left.
    pub(crate) unflushed: bool,
}

impl<S: AsyncWrite> Writer<S> {
    /// Writes every pending octet (vectored), then flushes the socket.
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.tx.pending() > 0 {
            let mut slots = [IoSlice::new(&[]); MAX_IOVECS];
            let n = self.tx.chunks(&mut slots);
            // One contiguous chunk (small frames are copied together) goes
            // out with a plain write: a socket's send is cheaper than writev.
            let written = if n == 1 {
                ready!(Pin::new(&mut self.io).poll_write(cx, &slots[0]))?
            } else {
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slots[..n]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.tx.advance(written);
            self.unflushed = true;
        }
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        self.unflushed = false;
        Poll::Ready(Ok(()))
    }

    /// Writes out what is pending, then half-closes TCP (sends FIN), once.
    pub(crate) fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_out(cx))?;
        if !self.shut_down {
            ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
            self.shut_down = true;
        }
        Poll::Ready(Ok(()))
    }
}

/// What both halves hold.
pub(crate) struct Shared<S> {
    writer: Mutex<Writer<S>>,
    /// Set once a close frame is queued, by either half: the read half then
    /// runs the close timer even while the peer keeps sending.
    close_queued: AtomicBool,
    wakers: Arc<WakerSet>,
    waker: Waker,
}

impl<S> Shared<S> {
    pub(crate) fn new(tx: Sender, io: IoWriteHalf<S>, flush_threshold: usize) -> Self {
        let wakers = Arc::new(WakerSet::default());
        let waker = Waker::from(Arc::clone(&wakers));
        let writer = Mutex::new(Writer { tx, io, flush_threshold, shut_down: false, unflushed: false });
        Self { writer, close_queued: AtomicBool::new(false), wakers, waker }
    }

    /// True once a close frame was queued (see [`Shared::note_close`]).
    pub(crate) fn close_queued(&self) -> bool {
        self.close_queued.load(Ordering::Acquire)
    }

    /// Records that `w` has queued a close frame, if it has, and wakes the
    /// read half the first time: a reader parked on a silent peer must start
    /// its close timer.
    fn note_close(&self, w: &Writer<S>) {
        if w.tx.close_sent() && !self.close_queued.swap(true, Ordering::AcqRel) {
            self.wakers.wake_reader();
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Writer<S>> {
        self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the writer with a context that wakes both halves.
    pub(crate) fn poll_io<T>(
        &self,
        side: Side,
        cx: &Context<'_>,
        f: impl FnOnce(&mut Writer<S>, &mut Context<'_>) -> T,
    ) -> T {
        self.wakers.register(side, cx.waker());
        let mut combined = Context::from_waker(&self.waker);
        f(&mut self.lock(), &mut combined)
    }
}

/// The sending half of a [`WebSocket`](crate::WebSocket): a `Sink` of
/// [`Message`]s. Obtained from [`WebSocket::split`](crate::WebSocket::split).
///
/// `send` writes and flushes; `feed` only queues, and the queue is written
/// once it passes [`Config::flush_threshold`](crate::Config::flush_threshold),
/// on the next flush, or when the read half has no complete message
/// buffered and is about to wait for the socket. An echo loop that `feed`s
/// (and keeps reading) thus answers a burst of messages with one write; a
/// task that only writes must `flush` (or `send`). Closing the sink sends a close frame (1000) if none
/// was sent; keep reading the other half until it ends to complete the
/// closing handshake.
pub struct WriteHalf<S> {
    pub(crate) shared: Arc<Shared<S>>,
    /// Compresses and fragments data messages (and masks them, as a client)
    /// without the writer's lock.
    pub(crate) encoder: Encoder,
}

impl<S> std::fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteHalf").finish_non_exhaustive()
    }
}

impl<S: AsyncWrite> WriteHalf<S> {
    /// Queues a data message without compressing it, even with
    /// permessage-deflate in force. Flush to write it out.
    pub fn queue_uncompressed(&self, message: Message) -> Result<(), Error> {
        let mut w = self.shared.lock();
        let sent = w.tx.send_uncompressed(message).map_err(Error::Send);
        self.shared.note_close(&w);
        sent
    }

    pub(crate) fn poll_ready_inner(&self, cx: &Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll_io(Side::Writer, cx, |w, cx| {
            if w.tx.pending() >= w.flush_threshold {
                w.poll_write_out(cx).map_err(Error::Io)
            } else {
                Poll::Ready(Ok(()))
            }
        })
    }

    pub(crate) fn start_send_inner(&mut self, item: Message) -> Result<(), Error> {
        let costly = match &item {
            Message::Text(t) => self.encoder.encodes_apart(t.len()),
            Message::Binary(b) => self.encoder.encodes_apart(b.len()),
            _ => false,
        };
        // Deflate, or a masked copy of a large payload, runs here, before the
        // lock: the read half can queue its pongs and closes meanwhile.
        let item = if costly { self.encoder.encode(item) } else { Err(item) };
        let mut w = self.shared.lock();
        let sent = match item {
            Ok(encoded) => w.tx.push_encoded(encoded),
            Err(item) => w.tx.send(item),
        };
        self.shared.note_close(&w);
        sent.map_err(Error::Send)
    }

    pub(crate) fn poll_flush_inner(&self, cx: &Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.poll_io(Side::Writer, cx, |w, cx| w.poll_write_out(cx).map_err(Error::Io))
    }

    pub(crate) fn poll_close_inner(&self, cx: &Context<'_>) -> Poll<Result<(), Error>> {
        {
            let mut w = self.shared.lock();
            if !w.tx.close_sent() {
                w.tx.send_close(Some(&CloseFrame::new(CloseCode::NORMAL, ""))).map_err(Error::Send)?;
            }
            self.shared.note_close(&w);
        }
        self.poll_flush_inner(cx)
    }
}

impl<S: AsyncWrite> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll_ready_inner(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().start_send_inner(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll_flush_inner(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll_close_inner(cx)
    }
}
