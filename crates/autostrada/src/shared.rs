//! What both sides of a connection share, and how each side reaches it.
//!
//! The [`Writer`] (the outbox and the stream) sits behind a mutex, beside a
//! few flags either side reads without it ([`Flags`]). An unsplit
//! `WebSocket` keeps all of this inline and reaches the writer through
//! `&mut` ([`Shared::owned`]): no lock, no atomic read-modify-write per
//! access. Split halves keep it behind an `Arc` and take the lock
//! ([`Shared::locked`]), for the duration of one poll, never across an
//! await. The read and send logic is written once over [`Link`], and runs
//! either way.

use std::marker::PhantomData;
use std::ops::DerefMut;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Context;

use crate::config::Config;
use crate::proto::outbox::Outbox;
use crate::writer::{Side, Writer};

/// What both sides read without the writer's lock.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    /// Set once a close frame is queued, by either side: the read side then
    /// runs the close timer even while the peer keeps sending.
    close_queued: AtomicBool,
    /// Set whenever a data message is queued; the read side's idle timer
    /// takes it (see `Config::idle_timeout`).
    pub(crate) data_sent: AtomicBool,
    /// Set once the read side has ended the connection (closing handshake
    /// done, timeout, reset, error): the send side then fails instead of
    /// waiting on a socket nobody will drain.
    terminated: AtomicBool,
    /// Set by the send side when what it queued brought the queue to
    /// `flush_threshold` or past it; cleared by the send side once it sees
    /// the queue below again. While it is clear, the send side is ready
    /// without taking the lock. Only the send side's own messages set it:
    /// the read side's automatic replies add at most `PONG_BUDGET` and a
    /// close frame beyond the threshold unseen.
    backlogged: AtomicBool,
}

impl Flags {
    /// True once a close frame was queued (see [`Flags::note_queued`]).
    pub(crate) fn close_queued(&self) -> bool {
        self.close_queued.load(Ordering::Acquire)
    }

    /// After the send side queued something on `w`: records a close frame,
    /// if one is queued, waking the read side the first time (a reader
    /// parked on a silent peer must start its close timer), and a queue
    /// grown to `flush_threshold` (see [`Flags::backlogged`]).
    pub(crate) fn note_queued<S>(&self, w: &Writer<S>) {
        if w.at_flush_threshold() {
            self.backlogged.store(true, Ordering::Relaxed);
        }
        if w.tx.close_sent() && !self.close_queued.swap(true, Ordering::AcqRel) {
            w.wakers.wake_reader();
        }
    }

    /// Whether the send side's queue may have reached `flush_threshold`
    /// (see [`Flags::note_queued`]); false means it has not.
    pub(crate) fn backlogged(&self) -> bool {
        self.backlogged.load(Ordering::Relaxed)
    }

    /// The send side saw its queue below `flush_threshold`.
    pub(crate) fn clear_backlog(&self) {
        self.backlogged.store(false, Ordering::Relaxed);
    }

    /// True once [`Link::terminate`] ran.
    pub(crate) fn is_terminated(&self) -> bool {
        self.terminated.load(Ordering::Acquire)
    }
}

/// The writer and the flags: inline in an unsplit `WebSocket`, behind an
/// `Arc` once split.
pub(crate) struct Shared<S> {
    writer: Mutex<Writer<S>>,
    flags: Flags,
}

impl<S> Shared<S> {
    pub(crate) fn new(tx: Outbox, io: S, config: &Config) -> Self {
        Self { writer: Mutex::new(Writer::new(tx, io, config)), flags: Flags::default() }
    }

    /// The writer, locked: for the split halves, and for whatever borrows a
    /// connection through `&self` (`get_ref`).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Writer<S>> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A split half's way in: the writer through its lock.
    pub(crate) fn locked(&self) -> Link<'_, S, &Mutex<Writer<S>>> {
        Link { flags: &self.flags, writer: &self.writer, stream: PhantomData }
    }

    /// An unsplit connection's way in: it owns the writer, so it needs no
    /// lock (nothing else can reach it).
    pub(crate) fn owned(&mut self) -> Link<'_, S, &mut Mutex<Writer<S>>> {
        Link { flags: &self.flags, writer: &mut self.writer, stream: PhantomData }
    }

    /// The stream, once no half holds the connection any more.
    pub(crate) fn into_stream(self) -> S {
        self.writer.into_inner().unwrap_or_else(PoisonError::into_inner).io
    }
}

/// How a side reaches the [`Writer`]: through the lock, or through `&mut`.
pub(crate) trait Access<S> {
    /// The writer, held until dropped.
    type Guard<'g>: DerefMut<Target = Writer<S>>
    where
        Self: 'g;

    /// The writer, for the duration of one step of a poll.
    fn lock(&mut self) -> Self::Guard<'_>;
}

impl<'m, S> Access<S> for &'m Mutex<Writer<S>> {
    type Guard<'g>
        = MutexGuard<'m, Writer<S>>
    where
        Self: 'g;

    #[inline]
    fn lock(&mut self) -> MutexGuard<'m, Writer<S>> {
        Mutex::lock(self).unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S> Access<S> for &mut Mutex<Writer<S>> {
    type Guard<'g>
        = &'g mut Writer<S>
    where
        Self: 'g;

    #[inline]
    fn lock(&mut self) -> &mut Writer<S> {
        self.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One side's hold on the shared state for one poll: the flags, and the
/// writer through `W` (see [`Access`]). The fields are apart so that a
/// side can hold the writer and read the flags at once.
pub(crate) struct Link<'a, S, W> {
    pub(crate) flags: &'a Flags,
    pub(crate) writer: W,
    stream: PhantomData<fn() -> S>,
}

impl<S, W: Access<S>> Link<'_, S, W> {
    /// Runs `f` on the writer with a context that wakes whichever tasks
    /// wait on the socket (see [`Writer::poll_io`]). An unsplit connection
    /// registers too: `&mut` means one poll at a time, not one task (a
    /// `WebSocket` behind `futures`' `StreamExt::split` or an async mutex
    /// is polled by two).
    #[inline]
    pub(crate) fn poll_io<T>(
        &mut self,
        side: Side,
        cx: &Context<'_>,
        f: impl FnOnce(&mut Writer<S>, &mut Context<'_>) -> T,
    ) -> T {
        self.writer.lock().poll_io(side, cx, f)
    }

    /// Marks the connection ended: waiting pings get [`Error::NoPong`](crate::Error::NoPong),
    /// and a send half parked on the socket wakes to find it so.
    pub(crate) fn terminate(&mut self) {
        let mut w = self.writer.lock();
        w.pings.close();
        self.flags.terminated.store(true, Ordering::Release);
        w.wakers.wake_all();
    }
}
