//! [`WebSocket`]: the tokio front end over the sans-IO core, and its read half.
//!
//! The read half drives the connection: it reads octets, turns them into
//! messages, queues automatic replies on the shared writer and pushes them
//! out at once, and runs the closing handshake to its end — a server
//! half-closes TCP first (RFC 6455 §7.1.1), a client waits for the server to
//! do so, up to [`Config::close_timeout`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf as IoReadHalf};
use tokio::time::{Instant, Sleep, sleep_until};

use crate::config::Config;
use crate::error::Error;
use crate::message::Message;
use crate::proto::deflate::DeflateParams;
use crate::proto::{Encoder, Receiver, Role, Sender, auto_reply};
use crate::writer::{Shared, Side, WriteHalf};

/// Stands in for an unlimited close timeout: about 30 years.
const FAR_FUTURE: std::time::Duration = std::time::Duration::from_secs(86_400 * 365 * 30);

/// Reads at most this far ahead into a large frame per read.
const MAX_READ_AHEAD: usize = 1 << 20;

/// The stack scratch a connection with nothing buffered reads into (at most
/// `read_buffer_size` of it).
const IDLE_READ: usize = 8 * 1024;

/// The most a read asks for while the socket keeps filling every read (see
/// [`ReadHalf::poll_fill`]): one system call then takes in several messages.
const MAX_BURST_READ: usize = 64 * 1024;

/// Where the read half is in the connection's life.
#[derive(Debug)]
enum ReadState {
    /// Messages flow.
    Open,
    /// A close frame was received, or the peer broke the protocol: write out
    /// our close, then (server) half-close TCP, and only then hand the
    /// application what ended the connection — the received close, or the
    /// error — so that an application that stops reading there leaves the
    /// peer a complete closing handshake.
    Closing(Ending),
    /// Waiting for the peer to close TCP.
    AwaitEof,
    /// The stream has ended.
    Done,
}

/// What the read half hands over once its close frame is out.
#[derive(Debug)]
enum Ending {
    /// The peer's close frame.
    Closed(Message),
    /// The protocol error we failed the connection for.
    Failed(crate::proto::ProtocolError),
}

impl Ending {
    fn into_item(self) -> Result<Message, Error> {
        match self {
            Self::Closed(m) => Ok(m),
            Self::Failed(e) => Err(Error::Protocol(e)),
        }
    }
}

/// The receiving half of a [`WebSocket`]: a `Stream` of messages.
///
/// Keep polling it even if you only send: it answers pings and closes, and
/// it is what completes the closing handshake.
pub struct ReadHalf<S> {
    role: Role,
    rx: Receiver,
    io: IoReadHalf<S>,
    shared: Arc<Shared<S>>,
    state: ReadState,
    read_buffer_size: usize,
    /// What the next read asks for when no frame asks for more: starts at
    /// `read_buffer_size`, doubles after every read that filled all it
    /// asked for, and falls back after a short read or an empty socket.
    burst: usize,
    close_timeout: std::time::Duration,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> std::fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadHalf").field("role", &self.role).field("state", &self.state).finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite> ReadHalf<S> {
    /// Reads more octets into the receiver. `Ok(0)` is end of stream.
    ///
    /// A connection that waits holds no read buffer: with nothing buffered
    /// it reads into a scratch array on the stack and keeps only what
    /// arrived, and a buffer left empty when the socket has nothing more is
    /// given back. Idle connections then cost their state, not 8 KiB each.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let buf = self.rx.buffer_mut();
        // Not in a burst: read into the stack scratch whatever
        // `read_buffer_size` is, and keep only what arrived.
        let bursting = self.burst > self.read_buffer_size && self.burst > IDLE_READ;
        if buf.is_empty() && buf.capacity() == 0 && !bursting {
            // Let go of the storage the last message was split from (a
            // drained buffer still shares it).
            *buf = BytesMut::new();
            // Uninitialised: the read writes what it fills, nothing is cleared first.
            let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); IDLE_READ];
            let asked = self.burst.min(IDLE_READ);
            let mut read = tokio::io::ReadBuf::uninit(&mut scratch[..asked]);
            let polled = Pin::new(&mut self.io).poll_read(cx, &mut read);
            self.note_read(polled.is_pending(), read.filled().len(), asked);
            ready!(polled)?;
            self.rx.buffer_mut().extend_from_slice(read.filled());
            return Poll::Ready(Ok(read.filled().len()));
        }
        // Read ahead into a large frame in step with what has arrived (the
        // buffer at most doubles per read), never on the length its header
        // merely claims: a 10-octet header must not cost a megabyte.
        let arrived = buf.len();
        let want = self.rx.frame_remaining().min(arrived).min(MAX_READ_AHEAD).max(self.burst);
        let buf = self.rx.buffer_mut();
        buf.reserve(want);
        let asked = buf.capacity() - buf.len();
        let polled = tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, buf);
        if polled.is_pending() {
            if buf.is_empty() {
                *buf = BytesMut::new();
            } else if buf.len() < self.read_buffer_size && buf.capacity() - buf.len() > self.read_buffer_size {
                // The socket went quiet on a partial frame after a burst:
                // keep what arrived, not the burst's large buffer.
                *buf = BytesMut::from(&buf[..]);
            }
        }
        let got = match &polled {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        self.note_read(polled.is_pending(), got, asked);
        polled
    }

    /// Sizes the next read from how this one went: a read that filled all
    /// it asked for leaves more in the socket, so the next asks for twice
    /// as much (read directly into the buffer, without the stack scratch);
    /// a short read or an empty socket means the burst is over.
    fn note_read(&mut self, pending: bool, got: usize, asked: usize) {
        self.burst = if !pending && got >= asked && got > 0 {
            (self.burst * 2).min(MAX_BURST_READ).max(self.read_buffer_size)
        } else {
            self.read_buffer_size
        };
    }

    /// Starts the close timer if it is not running; true once it has fired.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        let timeout = self.close_timeout;
        let timer = self.deadline.get_or_insert_with(|| {
            // `Duration::MAX` means "never": as far off as tokio's timer goes.
            let now = Instant::now();
            Box::pin(sleep_until(now.checked_add(timeout).unwrap_or(now + FAR_FUTURE)))
        });
        // The clock decides, the timer only wakes us: a task kept busy by a
        // peer that never stops sending can see the timer's poll return
        // Pending past its deadline (tokio's cooperative budget).
        let due = Instant::now() >= timer.deadline();
        timer.as_mut().poll(cx).is_ready() || due
    }

    /// Reads more, after pushing out queued writes of at least
    /// `flush_threshold` octets (a large echo `feed` queued): they leave as
    /// the socket takes them instead of waiting until this side has read a
    /// whole further message, so data keeps moving both ways. Smaller
    /// queues wait for the read to come up empty, and leave together.
    fn write_large_then_fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let _ = self.push_writes(cx, true);
        self.poll_fill(cx)
    }

    /// Pushes out queued writes (automatic replies, fed messages) without
    /// blocking the read path: with `large_only`, only a queue of at least
    /// `flush_threshold` octets; otherwise any queue, and whatever a TLS
    /// layer still holds unflushed. Returns whether a close frame has gone
    /// out (one lock for both).
    fn push_writes(&self, cx: &Context<'_>, large_only: bool) -> bool {
        self.shared.poll_io(Side::Reader, cx, |w, cx| {
            let due = if large_only { w.tx.pending() >= w.flush_threshold } else { w.tx.pending() > 0 || w.unflushed };
            if due {
                // A pending or failed write is seen again by the next send or poll.
                let _ = w.poll_write_out(cx);
            }
            w.tx.close_sent()
        })
    }

    fn poll_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        loop {
            match &mut self.state {
                ReadState::Open => {
                    // Our close went out (from either half): the peer has
                    // `close_timeout` to answer, however much else it sends.
                    if self.shared.close_queued() && self.poll_deadline(cx) {
                        self.state = ReadState::Done;
                        return Poll::Ready(Some(Err(Error::CloseTimeout)));
                    }
                    let event = self.rx.next_message();
                    if matches!(event, Ok(Some(Message::Ping(_) | Message::Close(_))) | Err(_)) {
                        auto_reply(&mut self.shared.lock().tx, &event);
                    }
                    match event {
                        Ok(Some(Message::Close(frame))) => {
                            // A fresh timer for the reply to go out.
                            self.deadline = None;
                            self.state = ReadState::Closing(Ending::Closed(Message::Close(frame)));
                        }
                        Ok(Some(message)) => {
                            if matches!(message, Message::Ping(_)) {
                                let _ = self.push_writes(cx, false);
                            }
                            return Poll::Ready(Some(Ok(message)));
                        }
                        Err(e) => {
                            self.deadline = None;
                            self.state = ReadState::Closing(Ending::Failed(e));
                        }
                        Ok(None) => match self.write_large_then_fill(cx) {
                            Poll::Pending => {
                                let close_sent = self.push_writes(cx, false);
                                // We sent a close and wait for the answer: not forever.
                                if close_sent && self.poll_deadline(cx) {
                                    self.state = ReadState::Done;
                                    return Poll::Ready(Some(Err(Error::CloseTimeout)));
                                }
                                return Poll::Pending;
                            }
                            Poll::Ready(Ok(0)) => {
                                self.state = ReadState::Done;
                                return Poll::Ready(Some(Err(Error::ConnectionReset)));
                            }
                            Poll::Ready(Ok(_)) => {}
                            Poll::Ready(Err(e)) => {
                                self.state = ReadState::Done;
                                return Poll::Ready(Some(Err(Error::Io(e))));
                            }
                        },
                    }
                }
                ReadState::Closing(_) => {
                    let role = self.role;
                    let flushed = self.shared.poll_io(Side::Reader, cx, |w, cx| match role {
                        // RFC 6455 §7.1.1: the server closes TCP first.
                        Role::Server => w.poll_shutdown(cx),
                        Role::Client => w.poll_write_out(cx),
                    });
                    let next = match flushed {
                        Poll::Pending if !self.poll_deadline(cx) => return Poll::Pending,
                        Poll::Ready(Ok(())) => ReadState::AwaitEof,
                        // Timed out or failed: nothing more to do on this socket.
                        _ => ReadState::Done,
                    };
                    self.deadline = None;
                    let ReadState::Closing(ending) = std::mem::replace(&mut self.state, next) else {
                        unreachable!("matched Closing above")
                    };
                    return Poll::Ready(Some(ending.into_item()));
                }
                ReadState::AwaitEof => {
                    // Discard whatever still arrives until the peer closes TCP.
                    self.rx.buffer_mut().clear();
                    let eof = match self.poll_fill(cx) {
                        Poll::Ready(Ok(0) | Err(_)) => true,
                        // A peer that keeps sending does not keep us here.
                        Poll::Ready(Ok(_)) if !self.poll_deadline(cx) => continue,
                        Poll::Ready(Ok(_)) => true,
                        Poll::Pending => self.poll_deadline(cx),
                    };
                    if !eof {
                        return Poll::Pending;
                    }
                    // A client closes its side once the server has (or after the timeout).
                    let _ = self.shared.poll_io(Side::Reader, cx, |w, cx| w.poll_shutdown(cx));
                    self.state = ReadState::Done;
                }
                ReadState::Done => return Poll::Ready(None),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_message(cx)
    }
}

/// A WebSocket connection over a stream `S` (a `TcpStream`, a TLS stream, …):
/// a `Stream` of received [`Message`]s and a `Sink` for messages to send.
///
/// Get one from [`accept`](crate::accept) / [`ServerBuilder`](crate::ServerBuilder)
/// or [`connect`](crate::connect) / [`ClientBuilder`](crate::ClientBuilder), or
/// wrap a stream whose handshake happened elsewhere with
/// [`from_upgraded`](Self::from_upgraded).
///
/// Received pings are answered and received closes are echoed for you, as
/// soon as they are read. The stream ends (`None`) after the closing
/// handshake; a protocol violation by the peer is reported once as
/// [`Error::Protocol`] after the matching close frame went out.
///
/// ```no_run
/// use autostrada::{Message, accept};
/// use futures_util::{SinkExt, StreamExt};
///
/// # async fn serve(stream: tokio::net::TcpStream) -> Result<(), autostrada::Error> {
/// let ws = accept(stream).await?;
/// let (mut read, mut write) = ws.split();
/// tokio::spawn(async move {
///     let _ = write.send(Message::text("welcome")).await;
/// });
/// while let Some(message) = read.next().await {
///     println!("got {:?}", message?);
/// }
/// # Ok(())
/// # }
/// ```
pub struct WebSocket<S> {
    read: ReadHalf<S>,
    write: WriteHalf<S>,
    deflate: Option<DeflateParams>,
    /// The subprotocol the handshake selected.
    pub(crate) protocol: Option<Box<str>>,
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket").field("read", &self.read).finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite> WebSocket<S> {
    /// Wraps a stream on which the opening handshake is already done.
    /// `leftover` holds octets read past the handshake (often empty);
    /// `deflate` the permessage-deflate parameters the handshake agreed on.
    pub fn from_upgraded(
        stream: S,
        role: Role,
        config: &Config,
        leftover: BytesMut,
        deflate: Option<DeflateParams>,
    ) -> Self {
        let (io_read, io_write) = tokio::io::split(stream);
        let mut rx = Receiver::new(role, config);
        rx.set_deflate(deflate);
        rx.receive_data(&leftover);
        // The write half compresses (and, as a client, masks) large data
        // messages with its own encoder before it locks the writer; the
        // sender behind the lock only frames small messages and replies.
        let tx = Sender::new(role, config);
        let mut encoder = Encoder::new(role, config);
        encoder.set_deflate(deflate);
        let shared = Arc::new(Shared::new(tx, io_write, config.flush_threshold));
        let read = ReadHalf {
            role,
            rx,
            io: io_read,
            shared: Arc::clone(&shared),
            state: ReadState::Open,
            read_buffer_size: config.read_buffer_size.clamp(1, MAX_READ_AHEAD),
            burst: config.read_buffer_size.clamp(1, MAX_READ_AHEAD),
            close_timeout: config.close_timeout,
            deadline: None,
        };
        Self { read, write: WriteHalf { shared, encoder }, deflate, protocol: None }
    }

    /// The subprotocol the opening handshake selected (`Sec-WebSocket-Protocol`),
    /// in either role; `None` when none was. Set by [`accept`](crate::accept),
    /// [`Upgrade`](crate::Upgrade) and [`connect`](crate::connect); `None` for
    /// a socket made with [`from_upgraded`](Self::from_upgraded) until
    /// [`set_protocol`](Self::set_protocol).
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Records the subprotocol a handshake made elsewhere (e.g. by hyper)
    /// selected, for [`protocol`](Self::protocol).
    pub fn set_protocol(&mut self, protocol: Option<&str>) {
        self.protocol = protocol.map(Into::into);
    }

    /// The permessage-deflate parameters in force, if it was negotiated.
    pub fn deflate(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// Queues a data message without compressing it, even with
    /// permessage-deflate in force (for data that is already compressed).
    /// Flush (or send another message) to write it out.
    pub fn queue_uncompressed(&mut self, message: Message) -> Result<(), Error> {
        self.write.queue_uncompressed(message)
    }

    /// Splits into a read half and a write half, each usable from its own
    /// task. Automatic replies keep flowing from the read half.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        (self.read, self.write)
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.read.role
    }
}

impl<S: AsyncRead + AsyncWrite> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().read.poll_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.write.poll_ready_inner(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().write.start_send_inner(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.write.poll_flush_inner(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.write.poll_close_inner(cx))?;
        Poll::Ready(Ok(()))
    }
}
