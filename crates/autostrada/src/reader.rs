//! The read side's state machine, which drives a connection: it reads
//! octets, turns them into messages, queues automatic replies on the shared
//! writer and pushes them out at once, runs the keepalive and idle timers,
//! and runs the closing handshake to its end — a server half-closes TCP
//! first (RFC 6455 §7.1.1), a client waits for the server to do so, up to
//! [`Config::close_timeout`](crate::Config::close_timeout).
//!
//! A [`Reader`] holds the read side's own state; its methods take a [`Link`]
//! to the state both sides share, which a [`WebSocket`](crate::WebSocket)
//! keeps inline (and reaches without a lock) and a
//! [`RecvHalf`](crate::RecvHalf) behind an `Arc` and its lock.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep, sleep_until};

use crate::config::Config;
use crate::error::Error;
use crate::keepalive::{Due, Timers};
use crate::message::Message;
use crate::proto::connection::auto_reply_to;
use crate::proto::deflate::DeflateParams;
use crate::proto::{CloseCode, Receiver, Role};
use crate::read_buffer;
use crate::shared::{Access, Link};
use crate::writer::Side;

/// Reads at most this far ahead into a large frame per read.
pub(crate) const MAX_READ_AHEAD: usize = 1 << 20;

/// The payload of the keepalive's pings.
const KEEPALIVE_PING: &[u8] = b"keepalive";

/// The stack scratch a connection with nothing buffered reads into (at most
/// `read_buffer_size` of it).
const IDLE_READ: usize = 8 * 1024;

/// The most a read asks for while the socket keeps filling every read (see
/// [`Reader::poll_fill`]): one system call then takes in several messages.
/// Above 64 KiB, so that a 64 KiB message and its header fit one read.
const MAX_BURST_READ: usize = 128 * 1024;

/// A message split off a lent buffer shares its storage, and holds all of
/// it while the application holds the message: payloads shorter than
/// `1/HOLD_RATIO` of the storage (rounded up to a power of two) are copied
/// out instead (see `Receiver::next_message_copying_below`), so that a held
/// message keeps at most this many times its own size (twice that when the
/// buffer grew around a front it had already consumed, which the reader
/// cannot see). Without it, a few octets that arrived behind a megabyte
/// frame kept the megabyte. The copies are small (at most 1/16 of the
/// storage, which is at most about 2 MiB unless a frame needs more), and a
/// buffer this connection sized for itself (under `LEND_MIN`) is split as
/// before.
const HOLD_RATIO: usize = 32;

/// Reads into a buffer ask for an eighth more than they expect (`1/8`):
/// enough that a read bringing all that is there comes back short.
const READ_SLACK: usize = 8;

/// The length (header and payload) of the frame `buf` begins with, once
/// its header has arrived.
fn first_frame_len(buf: &[u8]) -> Option<usize> {
    let parsed = crate::proto::FrameHeader::parse(buf)?;
    usize::try_from(parsed.header.payload_len).ok()?.checked_add(parsed.header_len)
}

/// How much room to make for the `remaining` octets of a frame of which
/// `arrived` have come: all of them, but never more than what arrived (or
/// a read of the burst's size) nor [`MAX_READ_AHEAD`]. The buffer grows in
/// step with the data, never on the length a header merely claims: a
/// 10-octet header must not cost a megabyte.
fn frame_room(remaining: usize, arrived: usize, burst: usize) -> usize {
    remaining.min(arrived.max(burst)).min(MAX_READ_AHEAD)
}

/// The writer, for a read: with `push_large`, after pushing out a queue of
/// at least `flush_threshold` octets (see [`Reader::poll_fill`]), under
/// the same lock.
fn lock_for_read<'l, S: AsyncWrite + Unpin, W: Access<S>>(
    link: &'l mut Link<'_, S, W>,
    cx: &Context<'_>,
    push_large: bool,
) -> W::Guard<'l> {
    let mut w = link.writer.lock();
    if push_large && w.at_flush_threshold() {
        // Both halves may wait on the write: the combined waker.
        w.poll_io(Side::Reader, cx, |w, cx| {
            // A pending or failed write is seen again by the next send or poll.
            let _ = w.poll_write_out(cx);
        });
    }
    w
}

/// Where the read half is in the connection's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadState {
    /// Messages flow.
    Open,
    /// A close frame was received, or the peer broke the protocol: write out
    /// our close, then (server) half-close TCP, and only then hand the
    /// application what ended the connection (the [`Ending`] in
    /// [`Cold::ending`]: the received close, or the error), so that an
    /// application that stops reading there leaves the peer a complete
    /// closing handshake.
    Closing,
    /// Waiting for the peer to close TCP.
    AwaitEof,
    /// The stream has ended.
    Done,
}

/// What the read half hands over once its close frame is out.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The peer's close frame.
    Closed(Message),
    /// The protocol error we failed the connection for.
    Failed(crate::proto::ProtocolError),
    /// Nothing passed for `Config::idle_timeout`; we closed with 1000.
    Idle,
    /// The peer answered no keepalive ping: we sent 1011 and do not wait
    /// for an answer.
    Unanswered,
    /// A message took longer than `Config::message_timeout`; we closed
    /// with 1008.
    SlowMessage,
}

impl Ending {
    fn into_item(self) -> Result<Message, Error> {
        match self {
            Self::Closed(m) => Ok(m),
            Self::Failed(e) => Err(Error::Protocol(e)),
            Self::Idle => Err(Error::IdleTimeout),
            Self::Unanswered => Err(Error::KeepaliveTimeout),
            Self::SlowMessage => Err(Error::MessageTimeout),
        }
    }
}

/// What the read half holds only some of the time, boxed together so that
/// a connection with no subprotocol and no keepalive holds one null pointer
/// for all of it until it closes: on an idle connection, that is 32 octets
/// less than the four fields side by side.
#[derive(Debug, Default)]
pub(crate) struct Cold {
    /// While [`ReadState::Closing`]: what to hand the application once our
    /// close is out.
    ending: Option<Box<Ending>>,
    /// The close timer, once a close frame is queued.
    deadline: Option<Pin<Box<Sleep>>>,
    /// Keepalive and idle timers, when configured.
    timers: Option<Box<Timers>>,
    /// The subprotocol the handshake selected.
    protocol: Option<Box<str>>,
}

/// What the read side of a connection holds beside the state both sides
/// share: a `WebSocket` keeps it next to that state, a `RecvHalf`
/// next to its share of it. Its methods take a [`Link`] to the shared state.
pub(crate) struct Reader {
    pub(crate) role: Role,
    pub(crate) rx: Receiver,
    pub(crate) state: ReadState,
    /// `Config::read_buffer_size`, at most `MAX_READ_AHEAD`.
    pub(crate) read_buffer_size: u32,
    /// What the next read asks for when no frame asks for more: starts at
    /// `read_buffer_size`, doubles after every read that filled all it
    /// asked for, and after a short read is sized for what is buffered
    /// when that was more than the scratch holds, else back to
    /// `read_buffer_size` (see [`note_read`](Self::note_read)).
    pub(crate) burst: u32,
    /// Whether the read buffer's storage is one to give back to the thread
    /// once it empties (see [`read_buffer`]), rather than a small one of
    /// this connection's own.
    pub(crate) lent: bool,
    /// While `lent`: payloads shorter than `1 << copy_below_log2` octets
    /// are copied out of the buffer rather than split off it (0: none
    /// are); see [`HOLD_RATIO`]. One octet, in what would be padding.
    copy_below_log2: u8,
    /// `Config::close_timeout` in milliseconds; `u32::MAX` waits forever.
    pub(crate) close_timeout_ms: u32,
    /// The close timer, the timers, the subprotocol and the ending, when
    /// there are any (see [`Cold`]).
    cold: Option<Box<Cold>>,
}

impl Reader {
    /// The read side of a new connection; `deflate` as the handshake agreed.
    pub(crate) fn new(role: Role, config: &Config, deflate: Option<DeflateParams>) -> Self {
        let mut rx = Receiver::new(role, config);
        rx.set_deflate(deflate);
        // At most MAX_READ_AHEAD (1 MiB): 32 bits hold it.
        let read_buffer_size = config.read_buffer_size.clamp(1, MAX_READ_AHEAD) as u32;
        Self {
            role,
            rx,
            state: ReadState::Open,
            read_buffer_size,
            burst: read_buffer_size,
            lent: false,
            copy_below_log2: 0,
            // Milliseconds, rounded up (a sub-millisecond timeout still
            // waits); 2^32 - 1 ms (about 49.7 days) or more is forever.
            close_timeout_ms: u32::try_from(config.close_timeout.as_nanos().div_ceil(1_000_000)).unwrap_or(u32::MAX),
            cold: Timers::new(config).map(|timers| Box::new(Cold { timers: Some(timers), ..Cold::default() })),
        }
    }

    /// The subprotocol the opening handshake selected.
    pub(crate) fn protocol(&self) -> Option<&str> {
        self.cold.as_ref()?.protocol.as_deref()
    }

    /// Records the subprotocol the opening handshake selected.
    pub(crate) fn set_protocol(&mut self, protocol: Option<Box<str>>) {
        if protocol.is_some() || self.cold.is_some() {
            self.cold.get_or_insert_default().protocol = protocol;
        }
    }

    /// The keepalive and idle timers, when configured.
    fn timers(&mut self) -> Option<&mut Timers> {
        self.cold.as_mut()?.timers.as_deref_mut()
    }

    /// Enters [`ReadState::Closing`], to hand over `ending` once our close
    /// is out, with a fresh close timer for that.
    fn start_closing(&mut self, ending: Ending) {
        let cold = self.cold.get_or_insert_default();
        cold.deadline = None;
        cold.ending = Some(Box::new(ending));
        self.state = ReadState::Closing;
    }

    /// True once the stream has ended.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, ReadState::Done)
    }

    /// Reads more octets into the receiver. `Ok(0)` is end of stream.
    ///
    /// A connection that waits holds no read buffer: with nothing buffered
    /// it reads into a scratch array on the stack and keeps only what
    /// arrived, and a buffer left empty when the socket has nothing more is
    /// given back once the writes are out ([`release_buffer`](Self::release_buffer)).
    /// Idle connections then cost their state, not a buffer each. A
    /// connection whose last reads buffered more than the scratch holds
    /// reads straight into its own emptied storage, once no message shares
    /// it, or into the thread's spare buffer when it is free: a stream of
    /// 16 KiB messages then costs one read each, not two, and no copy out
    /// of the scratch.
    ///
    /// With `push_large`, a queue of at least `flush_threshold` octets (a
    /// large echo `feed` queued) is pushed out first, under the same lock
    /// as the read: it leaves as the socket takes it instead of waiting
    /// until this side has read a whole further message, so data keeps
    /// moving both ways. Smaller queues wait for the read to come up empty,
    /// and leave together.
    fn poll_fill<S: AsyncRead + AsyncWrite + Unpin, W: Access<S>>(
        &mut self,
        link: &mut Link<'_, S, W>,
        cx: &mut Context<'_>,
        push_large: bool,
    ) -> Poll<io::Result<usize>> {
        let mut w = lock_for_read(link, cx, push_large);
        let (burst, read_buffer_size) = (self.burst as usize, self.read_buffer_size as usize);
        let bursting = burst > read_buffer_size && burst > IDLE_READ;
        // The room a read between frames needs: the burst less its slack
        // (what the last reads buffered, when they came back short), or a
        // scratch's worth.
        let want = if bursting { burst - burst / (READ_SLACK + 1) } else { burst.min(IDLE_READ) };
        let buf = self.rx.buffer_mut();
        // Between frames, read into this connection's own storage once the
        // messages split off it are gone (`reclaim` takes its room back only
        // then, and allocates nothing) and it is no more than twice the read,
        // so that a small message does not pin a large storage; else, when
        // the last reads brought more than the scratch holds, into the
        // thread's spare if it is free (the drained buffer makes way); else
        // into the stack scratch, keeping only what arrives. Never into the
        // rest of storage a message still shares: a large frame read there
        // would be copied out whole once it outgrew it.
        let mut use_scratch = false;
        let mut lent_storage = None;
        let reuse_own = |buf: &mut BytesMut| read_buffer::reclaim(buf) && read_buffer::fits(buf.capacity(), want);
        if buf.is_empty() && !(self.lent && reuse_own(buf)) {
            match if bursting { read_buffer::take_spare(want) } else { None } {
                Some(spare) => {
                    lent_storage = Some(spare.capacity());
                    read_buffer::give_back(std::mem::replace(buf, spare));
                }
                None => use_scratch = true,
            }
        }
        if let Some(storage) = lent_storage {
            self.lend(storage);
        }
        if use_scratch {
            // The payload still to come of a frame whose header was read
            // earlier (the buffer is empty: none of it has arrived yet).
            let in_frame = self.rx.frame_remaining();
            // Uninitialised: the read writes what it fills, nothing is cleared first.
            let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); IDLE_READ];
            let asked = burst.min(IDLE_READ);
            let mut read = tokio::io::ReadBuf::uninit(&mut scratch[..asked]);
            let polled = Pin::new(&mut w.io).poll_read(cx, &mut read);
            drop(w);
            let got = read.filled().len();
            self.note_read(polled.is_pending(), got, asked, got);
            // Nothing arrived: the drained buffer stays until the writes are
            // out (`release_buffer`), when its storage may be free to keep.
            ready!(polled)?;
            let got = read.filled();
            // One allocation, exact unless the read filled the scratch with
            // part of a larger frame: then room for its rest too, as far as
            // what arrived (see `frame_room`), so that the next read need not
            // move what arrived. A short read (a small message) skips this.
            let room = if got.len() < asked {
                0
            } else {
                let total = if in_frame > 0 { Some(in_frame) } else { first_frame_len(got) };
                total.map_or(0, |total| frame_room(total - got.len().min(total), got.len(), got.len()))
            };
            // The storage the last messages were split from, kept if they are gone.
            self.release_buffer();
            *self.rx.buffer_mut() = if got.len() + room < read_buffer::LEND_MIN {
                BytesMut::from(got)
            } else {
                // A large read, or a frame larger than the scratch: the
                // thread's spare buffer, which the next large read can
                // take back once the messages split off it are dropped.
                // For a frame's rest, an eighth more: the read that completes
                // the frame then comes back short, telling the socket is
                // drained (see `note_read`), and the next one fits the same storage.
                let need = got.len() + room;
                let mut buf = read_buffer::take(if room > 0 { need + need / READ_SLACK } else { need });
                self.lend(buf.capacity());
                buf.extend_from_slice(got);
                buf
            };
            return Poll::Ready(Ok(got.len()));
        }
        // Read ahead into a large frame in step with what has arrived (the
        // buffer at most doubles per read), never on the length its header
        // merely claims: a 10-octet header must not cost a megabyte.
        let arrived = self.rx.buffer_mut().len();
        let remaining = self.rx.frame_remaining();
        let rest = frame_room(remaining, arrived, burst);
        let buf = self.rx.buffer_mut();
        // Room for the rest of the frame (as far as `frame_room` allows) or,
        // between frames, for a read of the burst's size. A buffer that
        // already has the room is not grown (growing would move what it holds).
        let room = buf.capacity() - buf.len();
        if if rest == 0 { room < want } else { room < rest } {
            buf.reserve(rest.max(burst));
            // `lend` below, once the read is done with the buffer.
            self.lent = true;
            // The storage from the buffer's front on: a front already
            // consumed that the growth kept is not counted, which makes
            // the threshold at most twice too low (growth at least doubles).
            lent_storage = Some(buf.capacity());
        }
        // A read stops 8 KiB, or a burst's read (at most 128 KiB), past the
        // end of the frame it completes. What it brings of the next frame stays behind in
        // storage the finished message shares, and making room for the rest
        // of that frame means copying it into new storage: up to a megabyte
        // per message, before, when a grown buffer read on.
        let limit = remaining.saturating_add(IDLE_READ).max(burst.min(MAX_BURST_READ));
        let asked = (buf.capacity() - buf.len()).min(limit);
        let polled = tokio_util::io::poll_read_buf(Pin::new(&mut w.io), cx, &mut (&mut *buf).limit(limit));
        drop(w);
        let got = match &polled {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        // Keep what arrived at its own size, and give the large buffer
        // back, when the socket went quiet on a partial frame after a burst
        // (an empty buffer waits for `release_buffer`), or when a small read
        // landed in a large buffer (a connection that last saw large reads):
        // a message the application holds then pins no large buffer.
        let copy_out = if polled.is_pending() {
            !buf.is_empty() && buf.len() < read_buffer_size && asked > read_buffer_size
        } else {
            self.lent && arrived == 0 && got > 0 && got < read_buffer::LEND_MIN
        };
        if let Some(storage) = lent_storage {
            self.lend(storage);
        }
        if copy_out {
            let buf = self.rx.buffer_mut();
            let own = BytesMut::from(&buf[..]);
            read_buffer::give_back(std::mem::replace(buf, own));
            self.unlend();
        }
        let buffered = self.rx.buffer_mut().len();
        self.note_read(polled.is_pending(), got, asked, buffered);
        polled
    }

    /// Gives an emptied read buffer's storage back to the thread (see
    /// [`read_buffer`]), so that a waiting connection holds none. Called
    /// once the queued writes have gone out: the messages split off the
    /// buffer that were echoed are gone by then, and the storage is free to
    /// keep; one still held elsewhere keeps it instead.
    fn release_buffer(&mut self) {
        if !self.lent {
            return;
        }
        let buf = self.rx.buffer_mut();
        if buf.is_empty() {
            read_buffer::give_back(std::mem::take(buf));
            self.unlend();
        }
    }

    /// The read buffer is now storage of `storage` octets to give back to
    /// the thread once it empties; payloads small beside it are copied out
    /// of it (see [`HOLD_RATIO`]).
    fn lend(&mut self, storage: usize) {
        self.lent = true;
        // The fraction, rounded up to a power of two: a message at least
        // that long is split off.
        self.copy_below_log2 = match storage / HOLD_RATIO {
            0 => 0,
            n => n.next_power_of_two().ilog2() as u8,
        };
    }

    /// The read buffer is this connection's own again (or none).
    fn unlend(&mut self) {
        self.lent = false;
        self.copy_below_log2 = 0;
    }

    /// Sizes the next read from how this one went: a read that filled all
    /// it asked for leaves more in the socket, so the next asks for twice
    /// as much (read directly into the buffer, without the stack scratch).
    /// A short read means the socket is drained: if what is buffered now
    /// (this read and what came before it, `buffered`) is more than the
    /// scratch holds, the next read asks for an eighth more than that, so
    /// that a peer sending messages larger than the scratch gets each one in
    /// a single read that comes back short (the runtime then knows the
    /// socket is empty without a further system call); otherwise the next
    /// read is a scratch read again. An empty socket says nothing of what
    /// comes next and changes nothing.
    fn note_read(&mut self, pending: bool, got: usize, asked: usize, buffered: usize) {
        if got > 0 {
            if let Some(t) = self.timers() {
                t.heard();
            }
        }
        if pending {
            return;
        }
        let brought = got.max(buffered);
        let read_buffer_size = self.read_buffer_size as usize;
        let burst = if got >= asked && got > 0 {
            (self.burst as usize * 2).min(MAX_BURST_READ).max(read_buffer_size)
        } else if got > 0 && brought > IDLE_READ {
            (brought + brought / READ_SLACK).min(MAX_BURST_READ).max(read_buffer_size)
        } else {
            read_buffer_size
        };
        // At most `MAX_READ_AHEAD`, which fits 32 bits (see `from_upgraded`).
        self.burst = burst as u32;
    }

    /// Starts the close timer if it is not running; true once it has fired.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        let timeout = match self.close_timeout_ms {
            u32::MAX => std::time::Duration::MAX,
            ms => std::time::Duration::from_millis(u64::from(ms)),
        };
        let timer = self.cold.get_or_insert_default().deadline.get_or_insert_with(|| {
            // `Duration::MAX` means "never": as far off as tokio's timer goes.
            Box::pin(sleep_until(crate::keepalive::after(Instant::now(), timeout)))
        });
        // The clock decides, the timer only wakes us: a task kept busy by a
        // peer that never stops sending can see the timer's poll return
        // Pending past its deadline (tokio's cooperative budget).
        let due = Instant::now() >= timer.deadline();
        timer.as_mut().poll(cx).is_ready() || due
    }

    /// Pushes out queued writes (automatic replies, fed messages), and
    /// whatever a TLS layer still holds unflushed, without blocking the
    /// read path. Returns whether a close frame has gone out (one lock for
    /// both). Registers the read half's waker even when nothing is queued:
    /// the send half wakes the reader through it when it queues a close.
    fn push_writes<S: AsyncRead + AsyncWrite + Unpin, W: Access<S>>(
        &self,
        link: &mut Link<'_, S, W>,
        cx: &Context<'_>,
    ) -> bool {
        link.poll_io(Side::Reader, cx, |w, cx| {
            if w.tx.pending() > 0 || w.unflushed {
                // A pending or failed write is seen again by the next send or poll.
                let _ = w.poll_write_out(cx);
            }
            w.tx.close_sent()
        })
    }

    /// What the keepalive and idle timers ask for now; with `cx`, also arms
    /// the timer to wake the task when they next will. Nothing once a close
    /// frame is queued: `close_timeout` governs from then on.
    fn timers_due<S, W>(&mut self, link: &Link<'_, S, W>, cx: Option<&mut Context<'_>>) -> Option<Due> {
        let timers = self.timers()?;
        if link.flags.close_queued() {
            return None;
        }
        match cx {
            Some(cx) => match timers.poll_due(cx, &link.flags.data_sent) {
                Poll::Ready(due) => Some(due),
                Poll::Pending => None,
            },
            None => timers.check(&link.flags.data_sent),
        }
    }

    /// Acts on a due timer: a keepalive ping goes out with the next write;
    /// a dead peer or an idle connection is closed.
    fn on_due<S, W: Access<S>>(&mut self, link: &mut Link<'_, S, W>, due: Due) {
        let mut w = link.writer.lock();
        let Some(timers) = self.cold.as_mut().and_then(|c| c.timers.as_deref_mut()) else { return };
        match due {
            Due::Ping => {
                // At most 125 octets, and no close is queued: cannot fail.
                let _ = w.tx.send_plain(Message::Ping(Bytes::from_static(KEEPALIVE_PING)));
                timers.written_at_ping = w.written;
                timers.ping_leaves_at = w.written + w.tx.pending() as u64;
                return;
            }
            // The ping still sits behind our earlier data, and that data kept
            // leaving (the peer's TCP acknowledges it): wait on.
            Due::Dead if w.written < timers.ping_leaves_at && w.written > timers.written_at_ping => {
                timers.written_at_ping = w.written;
                timers.extend_pong_wait();
                return;
            }
            // RFC 6455 §7.4.1: 1011, the peer stopped answering.
            Due::Dead => w.tx.fail(CloseCode::INTERNAL_ERROR, "keepalive timeout"),
            // A large message still arriving is not idleness; a peer that
            // began one and then went quiet for the whole timeout is idle.
            Due::Idle if self.rx.in_data_message() && timers.still_arriving(self.rx.data_progress()) => return,
            Due::Idle => w.tx.fail(CloseCode::NORMAL, "idle timeout"),
            // Completed, not yet taken from the buffer: in time after all.
            Due::SlowMessage if !self.rx.in_data_message() => return,
            // RFC 6455 §7.4.1: 1008, a generic policy violation (ours: how
            // long a message may take).
            Due::SlowMessage => w.tx.fail(CloseCode::POLICY_VIOLATION, "message timeout"),
        }
        drop(w);
        self.start_closing(match due {
            Due::Dead => Ending::Unanswered,
            Due::SlowMessage => Ending::SlowMessage,
            Due::Ping | Due::Idle => Ending::Idle,
        });
    }

    /// The stream has ended: pings still waiting for a pong never get one.
    fn finish<S, W: Access<S>>(&mut self, link: &mut Link<'_, S, W>) {
        self.state = ReadState::Done;
        link.terminate();
    }

    pub(crate) fn poll_message<S: AsyncRead + AsyncWrite + Unpin, W: Access<S>>(
        &mut self,
        link: &mut Link<'_, S, W>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        loop {
            match self.state {
                ReadState::Open => {
                    // Our close went out (from either half): the peer has
                    // `close_timeout` to answer, however much else it sends.
                    if link.flags.close_queued() && self.poll_deadline(cx) {
                        self.finish(link);
                        return Poll::Ready(Some(Err(Error::CloseTimeout)));
                    }
                    if let Some(due) = self.timers_due(link, None) {
                        self.on_due(link, due);
                        continue;
                    }
                    let copy_below = if self.copy_below_log2 > 0 { 1 << self.copy_below_log2 } else { 0 };
                    let event = self.rx.next_message_copying_below(copy_below);
                    if matches!(event, Ok(Some(Message::Ping(_) | Message::Close(_))) | Err(_)) {
                        auto_reply_to(&mut link.writer.lock().tx, &event);
                    }
                    match event {
                        Ok(Some(Message::Close(frame))) => {
                            // A fresh timer for the reply to go out.
                            self.start_closing(Ending::Closed(Message::Close(frame)));
                        }
                        Ok(Some(message)) => {
                            match &message {
                                Message::Ping(_) => {
                                    let _ = self.push_writes(link, cx);
                                }
                                // The answer to our own keepalive ping is not the application's.
                                Message::Pong(payload) if self.timers().is_some() && payload[..] == *KEEPALIVE_PING => {
                                    continue;
                                }
                                Message::Pong(payload) => {
                                    let mut w = link.writer.lock();
                                    if !w.pings.is_empty() {
                                        w.pings.answer(payload);
                                    }
                                }
                                _ => {
                                    if let Some(t) = self.timers() {
                                        t.data_received();
                                    }
                                }
                            }
                            return Poll::Ready(Some(Ok(message)));
                        }
                        Err(e) => self.start_closing(Ending::Failed(e)),
                        Ok(None) => match self.poll_fill(link, cx, true) {
                            Poll::Pending => {
                                let close_sent = self.push_writes(link, cx);
                                self.release_buffer();
                                // We sent a close and wait for the answer: not forever.
                                if close_sent && self.poll_deadline(cx) {
                                    self.finish(link);
                                    return Poll::Ready(Some(Err(Error::CloseTimeout)));
                                }
                                if self.rx.in_data_message() {
                                    if let Some(t) = self.timers() {
                                        t.waiting_in_message();
                                    }
                                }
                                if let Some(due) = self.timers_due(link, Some(cx)) {
                                    self.on_due(link, due);
                                    continue;
                                }
                                return Poll::Pending;
                            }
                            Poll::Ready(Ok(0)) => {
                                self.finish(link);
                                return Poll::Ready(Some(Err(Error::ConnectionReset)));
                            }
                            Poll::Ready(Ok(_)) => {}
                            Poll::Ready(Err(e)) => {
                                self.finish(link);
                                return Poll::Ready(Some(Err(Error::Io(e))));
                            }
                        },
                    }
                }
                ReadState::Closing => {
                    // A peer that answered no keepalive ping gets no wait.
                    let abandon =
                        matches!(self.cold.as_ref().and_then(|c| c.ending.as_deref()), Some(Ending::Unanswered));
                    let role = self.role;
                    let flushed = link.poll_io(Side::Reader, cx, |w, cx| match role {
                        // RFC 6455 §7.1.1: the server closes TCP first.
                        Role::Server => w.poll_shutdown(cx),
                        Role::Client if abandon => w.poll_shutdown(cx),
                        Role::Client => w.poll_write_out(cx),
                    });
                    let next = match flushed {
                        Poll::Pending if !self.poll_deadline(cx) => return Poll::Pending,
                        Poll::Ready(Ok(())) if !abandon => ReadState::AwaitEof,
                        // Timed out or failed: nothing more to do on this socket.
                        _ => ReadState::Done,
                    };
                    let cold = self.cold.get_or_insert_default();
                    cold.deadline = None;
                    let ending = cold.ending.take();
                    debug_assert!(ending.is_some(), "start_closing always leaves an ending");
                    self.state = next;
                    if next == ReadState::Done {
                        self.finish(link);
                    }
                    // `start_closing` left the ending there; without one
                    // (never), the stream just ends.
                    return Poll::Ready(ending.map(|e| e.into_item()));
                }
                ReadState::AwaitEof => {
                    // Discard whatever still arrives until the peer closes TCP.
                    self.rx.buffer_mut().clear();
                    let eof = match self.poll_fill(link, cx, false) {
                        Poll::Ready(Ok(0) | Err(_)) => true,
                        // A peer that keeps sending does not keep us here.
                        Poll::Ready(Ok(_)) if !self.poll_deadline(cx) => continue,
                        Poll::Ready(Ok(_)) => true,
                        Poll::Pending => {
                            self.release_buffer();
                            self.poll_deadline(cx)
                        }
                    };
                    if !eof {
                        return Poll::Pending;
                    }
                    // A client closes its side once the server has (or after the timeout).
                    let _ = link.poll_io(Side::Reader, cx, |w, cx| w.poll_shutdown(cx));
                    self.finish(link);
                }
                ReadState::Done => return Poll::Ready(None),
            }
        }
    }
}
