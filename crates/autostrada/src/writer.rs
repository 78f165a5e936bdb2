//! The write side of the tokio front end, shared by both sides: the
//! [`Writer`] (the outbox and the stream), which `shared.rs` puts
//! behind a lock for split halves. The read side reaches it to read, and
//! briefly to queue a pong or close reply and push it out; the send side
//! to send. Neither waits on the other's progress.
//!
//! Both halves may be parked on the same socket's write readiness, but a
//! socket remembers one waker per direction. While one task polls both
//! halves (an unsplit `WebSocket`, or halves kept in one task) its own
//! waker is that waker. Once the halves are polled by different tasks, the
//! socket gets a combined waker ([`WakerSet`]) that wakes both (see [`Wakers`]).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker, ready};

use tokio::io::AsyncWrite;
use tokio::time::{Instant, Sleep, sleep_until};

use crate::config::Config;
use crate::keepalive::after;
use crate::ping::Pings;
use crate::proto::outbox::Outbox;

/// Most chunks handed to one vectored write.
const MAX_IOVECS: usize = 64;

/// Which half is polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    fn slot(&self, side: Side) -> &Mutex<Option<Waker>> {
        match side {
            Side::Reader => &self.reader,
            Side::Writer => &self.writer,
        }
    }

    fn register(&self, side: Side, waker: &Waker) {
        let mut slot = self.slot(side).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

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

/// Who is woken when the socket is ready, or when the connection ends.
#[derive(Debug, Default)]
pub(crate) enum Wakers {
    /// Neither half has waited yet.
    #[default]
    None,
    /// Every wait so far came from one task (usually: an unsplit
    /// `WebSocket`, or both halves kept in one task): its waker.
    One(Waker),
    /// Waits came from more than one task (split halves in two tasks, a
    /// `WebSocket` that moved to another task or that two tasks poll in
    /// turn, through `futures`' `StreamExt::split` say): the set of their
    /// wakers, which the socket wakes as one. Allocated then, and kept.
    Both(Arc<WakerSet>),
}

impl Wakers {
    /// Records that `side`'s task, woken by `waker`, is about to wait on
    /// the socket; returns the combined waker to wait with once waits have
    /// come from more than one task, `None` while `waker` itself will do.
    fn register(&mut self, side: Side, waker: &Waker) -> Option<Waker> {
        match self {
            Self::One(w) if w.will_wake(waker) => return None,
            Self::None => {
                *self = Self::One(waker.clone());
                return None;
            }
            Self::One(earlier) => {
                // Which half the earlier task waited for is not known (it
                // may have been both): it gets both slots. A stale waker
                // costs a spurious wake at most.
                let set = Arc::new(WakerSet::default());
                set.register(Side::Reader, earlier);
                set.register(Side::Writer, earlier);
                *self = Self::Both(set);
            }
            Self::Both(_) => {}
        }
        let Self::Both(set) = self else { unreachable!("set to Both above") };
        set.register(side, waker);
        // Made anew each time (one reference count), rather than kept:
        // the waker would double what a connection holds for this.
        Some(Waker::from(Arc::clone(set)))
    }

    /// Wakes the read half if it waits: a reader parked on a silent peer
    /// must start its close timer once a close frame is queued. With one
    /// task recorded, that task (if it polls only the send half, the wake
    /// is spurious and harmless).
    pub(crate) fn wake_reader(&self) {
        match self {
            Self::One(w) => w.wake_by_ref(),
            Self::Both(set) => set.wake_reader(),
            Self::None => {}
        }
    }

    /// Wakes whichever half waits.
    pub(crate) fn wake_all(&self) {
        match self {
            Self::One(w) => w.wake_by_ref(),
            Self::Both(set) => set.wake_by_ref(),
            Self::None => {}
        }
    }
}

/// The outbox and the stream. The read half reads the stream under the
/// same lock (a socket is read and written through one handle, as TLS
/// needs), for the duration of one poll.
pub(crate) struct Writer<S> {
    pub(crate) tx: Outbox,
    pub(crate) io: S,
    /// `Config::flush_threshold` (4 GiB or more: 4 GiB − 1).
    flush_threshold: u32,
    /// `Config::write_timeout` in milliseconds (at least 1), `u32::MAX`
    /// for none: four octets that fit what was padding.
    write_timeout_ms: u32,
    /// Set while a write waits (the socket is full), with the write
    /// timeout's clock; boxed, as only a waiting connection needs one.
    stall: Option<Box<Stall>>,
    shut_down: bool,
    /// The stream took octets and has not been flushed since. TCP sends
    /// what it takes, but TLS holds records until flushed: the queue being
    /// empty does not mean that everything has left.
    pub(crate) unflushed: bool,
    /// Pings queued by the application, awaiting their pongs.
    pub(crate) pings: Pings,
    /// Octets the stream has taken so far: the keepalive counts our data
    /// leaving (the peer's TCP acknowledging it) as a sign of life.
    pub(crate) written: u64,
    /// Who the socket wakes.
    pub(crate) wakers: Wakers,
}

/// A write waiting on the peer: how much had left when the wait began or
/// last saw progress, and when it fails if nothing more leaves.
struct Stall {
    mark: u64,
    deadline: Pin<Box<Sleep>>,
    /// The timeout ran out: the connection is broken for writing for good
    /// (a frame may be half out), and every later write fails at once.
    expired: bool,
}

impl<S> Writer<S> {
    /// The writer of a new connection: `tx` sends on `io`.
    pub(crate) fn new(tx: Outbox, io: S, config: &Config) -> Self {
        Self {
            tx,
            io,
            flush_threshold: crate::proto::encoder::saturate_u32(config.flush_threshold),
            write_timeout_ms: config
                .write_timeout
                .map_or(u32::MAX, |t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX).clamp(1, u32::MAX - 1)),
            stall: None,
            shut_down: false,
            unflushed: false,
            pings: Pings::default(),
            written: 0,
            wakers: Wakers::None,
        }
    }

    /// Runs `f` on the writer with a context that wakes whichever halves
    /// wait on the socket (see [`Wakers`]).
    pub(crate) fn poll_io<T>(
        &mut self,
        side: Side,
        cx: &Context<'_>,
        f: impl FnOnce(&mut Self, &mut Context<'_>) -> T,
    ) -> T {
        // Cloned only when the halves live in different tasks.
        match self.wakers.register(side, cx.waker()) {
            Some(combined) => f(self, &mut Context::from_waker(&combined)),
            None => f(self, &mut Context::from_waker(cx.waker())),
        }
    }

    /// Whether the queue has reached `Config::flush_threshold`: the writer
    /// then writes it out before taking more.
    #[inline]
    pub(crate) fn at_flush_threshold(&self) -> bool {
        self.tx.pending() >= self.flush_threshold as usize
    }
}

impl<S: AsyncWrite + Unpin> Writer<S> {
    /// Writes every pending octet (vectored), then flushes the socket; fails
    /// once the peer has taken nothing for `Config::write_timeout`.
    pub(crate) fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stall.as_ref().is_some_and(|s| s.expired) {
            return Poll::Ready(Err(self.timed_out()));
        }
        let polled = self.poll_write_all(cx);
        if polled.is_ready() {
            self.stall = None;
            return polled;
        }
        self.poll_stall(cx)
    }

    /// The write is waiting: starts the write timeout, starts it again if
    /// octets left since it last looked, and fails once it runs out.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.write_timeout_ms == u32::MAX {
            return Poll::Pending;
        }
        let timeout = std::time::Duration::from_millis(u64::from(self.write_timeout_ms));
        let written = self.written;
        let stall = match &mut self.stall {
            Some(stall) if stall.mark == written => stall,
            Some(stall) => {
                stall.mark = written;
                stall.deadline.as_mut().reset(after(Instant::now(), timeout));
                stall
            }
            stall @ None => stall.insert(Box::new(Stall {
                mark: written,
                deadline: Box::pin(sleep_until(after(Instant::now(), timeout))),
                expired: false,
            })),
        };
        ready!(stall.deadline.as_mut().poll(cx));
        stall.expired = true;
        Poll::Ready(Err(self.timed_out()))
    }

    /// The error of a write timeout, for every write from then on.
    fn timed_out(&self) -> io::Error {
        let timeout = std::time::Duration::from_millis(u64::from(self.write_timeout_ms));
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the peer took none of our data for {timeout:?} (Config::write_timeout); drop the connection"),
        )
    }

    /// Writes every pending octet (vectored), then flushes the socket.
    fn poll_write_all(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.tx.pending() > 0 {
            // One contiguous chunk (small frames are copied together) goes
            // out with a plain write: a socket's send is cheaper than writev,
            // and no slots need gathering.
            let written = if let Some(chunk) = self.tx.single_chunk() {
                ready!(Pin::new(&mut self.io).poll_write(cx, chunk))?
            } else {
                let mut slots = [IoSlice::new(&[]); MAX_IOVECS];
                let n = self.tx.chunks(&mut slots);
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slots[..n]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.tx.advance(written);
            self.written += written as u64;
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
