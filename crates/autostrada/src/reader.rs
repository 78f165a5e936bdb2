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

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep, sleep_until};

use crate::config::Config;
use crate::error::Error;
use crate::keepalive::{Due, Timers};
use crate::message::Message;
use crate::proto::connection::auto_reply_to;
use crate::proto::deflate::DeflateParams;
use crate::proto::{CloseCode, Receiver, Role};
use crate::shared::{Access, Link};
use crate::writer::Side;

mod fill;

/// Reads at most this far ahead into a large frame per read.
pub(crate) const MAX_READ_AHEAD: usize = 1 << 20;

/// The payload of the keepalive's pings.
const KEEPALIVE_PING: &[u8] = b"keepalive";

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

/// The error for a peer's close we could not answer within
/// `Config::close_timeout`: the peer stopped reading while our writes
/// (the close among them) were still queued.
fn unsent_close() -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the peer closed, but stopped reading before our close reply could be written within Config::close_timeout",
    ))
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
    /// What the next read asks for when no frame asks for more, and what
    /// the reads since the socket was last drained brought (see
    /// [`ReadSizing`](fill::ReadSizing) and [`note_read`](Self::note_read)).
    sizing: fill::ReadSizing,
    /// Whether the read buffer's storage is one to give back to the thread
    /// once it empties (see [`read_buffer`](crate::read_buffer)), rather than a small one of
    /// this connection's own.
    pub(crate) lent: bool,
    /// While `lent`: payloads shorter than `1 << copy_below_log2` octets
    /// are copied out of the buffer rather than split off it (0: none
    /// are); see `HOLD_RATIO` in `reader/fill.rs`. One octet, in what would be padding.
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
            sizing: fill::ReadSizing::new(read_buffer_size as usize),
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
    ///
    /// # Errors
    /// The writes stalled past `Config::write_timeout`: the connection can
    /// no longer answer the peer (a frame may be half out), so the read
    /// half ends too, also when no send waits to hear it. Other write
    /// errors are left to the next send, and to the reads, which see a
    /// broken connection their own way.
    fn push_writes<S: AsyncRead + AsyncWrite + Unpin, W: Access<S>>(
        &self,
        link: &mut Link<'_, S, W>,
        cx: &Context<'_>,
    ) -> std::io::Result<bool> {
        link.poll_io(Side::Reader, cx, |w, cx| {
            if (w.tx.pending() > 0 || w.unflushed)
                && let Poll::Ready(Err(e)) = w.poll_write_out(cx)
                && e.kind() == std::io::ErrorKind::TimedOut
            {
                return Err(e);
            }
            Ok(w.tx.close_sent())
        })
    }

    /// What the keepalive and idle timers ask for now; with `cx` (given
    /// once the socket was found empty), also arms the timer to wake the
    /// task when they next will. Without it, a deadline on the peer's
    /// silence waits for the socket to be read (see `keepalive::GRACE_OCTETS`).
    /// Nothing once a close frame is queued: `close_timeout` governs from
    /// then on.
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
            None => timers.check(&link.flags.data_sent, false),
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
                                let close_sent = match self.push_writes(link, cx) {
                                    Ok(sent) => sent,
                                    Err(stalled) => {
                                        self.finish(link);
                                        return Poll::Ready(Some(Err(Error::Io(stalled))));
                                    }
                                };
                                self.release_buffer();
                                // We sent a close and wait for the answer: not forever.
                                if close_sent && self.poll_deadline(cx) {
                                    self.finish(link);
                                    return Poll::Ready(Some(Err(Error::CloseTimeout)));
                                }
                                if self.rx.in_data_message()
                                    && let Some(t) = self.timers()
                                {
                                    t.waiting_in_message();
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
                    // What stopped our close from going out, if anything.
                    let (next, stopped) = match flushed {
                        Poll::Pending if !self.poll_deadline(cx) => return Poll::Pending,
                        Poll::Ready(Ok(())) if !abandon => (ReadState::AwaitEof, None),
                        // A socket that failed now was most often closed
                        // by a peer that sent its close and left: it no
                        // longer needs our answer, and its close stands.
                        Poll::Ready(_) => (ReadState::Done, None),
                        // Timed out: the peer stopped reading; nothing more
                        // to do on this socket.
                        Poll::Pending => (ReadState::Done, Some(unsent_close())),
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
                    // (never), the stream just ends. The peer's close
                    // whose answer never went out closed nothing cleanly
                    // (RFC 6455 §7.1.4: the handshake needs both frames): the
                    // failure is reported instead. An ending that is itself
                    // an error says more than the failed write.
                    return Poll::Ready(ending.map(|e| match (*e, stopped) {
                        (Ending::Closed(_), Some(failure)) => Err(failure),
                        (e, _) => e.into_item(),
                    }));
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
