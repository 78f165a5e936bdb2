//! [`WebSocket`]: the tokio front end over the sans-IO core.
//!
//! A `WebSocket` holds what its two halves would, in one value: the read
//! side's state (`Reader`, in `reader.rs`, which drives the connection),
//! the send side's encoder (`send.rs`), and the stream with the outbox
//! (`Shared`, in `shared.rs`; the writer itself is in `writer.rs`), which
//! it reaches without a lock. [`split`](WebSocket::split) moves that last
//! part to the heap, shared by a [`RecvHalf`] and a [`SendHalf`] that lock
//! it; until then a connection is one value in its task, with no
//! allocation of its own.

use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use futures_core::Stream;
use futures_core::stream::FusedStream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::Config;
use crate::error::Error;
use crate::message::Message;
use crate::ping::Pong;
use crate::proto::deflate::DeflateParams;
use crate::proto::outbox::Outbox;
use crate::proto::{CloseCode, Encoder, Role};
use crate::read::RecvHalf;
use crate::reader::Reader;
use crate::send::{SendHalf, Sending};
use crate::shared::Shared;
use crate::writer::Writer;

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
    pub(crate) reader: Reader,
    /// Compresses and fragments data messages (and masks them, as a
    /// client) before the writer's lock is taken.
    pub(crate) encoder: Encoder,
    /// What the halves share once split; inline until then.
    pub(crate) shared: Shared<S>,
}

impl<S> std::fmt::Debug for WebSocket<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("role", &self.reader.role)
            .field("state", &self.reader.state)
            .finish_non_exhaustive()
    }
}

/// The stream under a [`WebSocket`], borrowed: derefs to `S`.
///
/// It holds the connection's lock, which both halves take to read and to
/// write: use it and drop it, never hold it across an `.await`.
///
/// ```no_run
/// # fn show(ws: &autostrada::WebSocket<tokio::net::TcpStream>) -> std::io::Result<()> {
/// let peer = ws.get_ref().peer_addr()?;
/// println!("talking to {peer}");
/// # Ok(())
/// # }
/// ```
pub struct StreamRef<'a, S>(pub(crate) MutexGuard<'a, Writer<S>>);

impl<S> Deref for StreamRef<'_, S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.0.io
    }
}

impl<S> DerefMut for StreamRef<'_, S> {
    fn deref_mut(&mut self) -> &mut S {
        &mut self.0.io
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for StreamRef<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0.io, f)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
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
        let mut reader = Reader::new(role, config, deflate);
        reader.rx.receive_data(&leftover);
        // The send side compresses (and, as a client, masks) large data
        // messages with its own encoder before it locks the writer; the
        // outbox behind the lock only frames small messages and replies.
        let tx = Outbox::new(role, config);
        let mut encoder = Encoder::new(role, config);
        encoder.set_deflate(deflate);
        Self { reader, encoder, shared: Shared::new(tx, stream, config) }
    }

    /// Starts the closing handshake with `code` and `reason` (cut to 123
    /// octets at a character boundary) and writes the close frame out; then
    /// keep reading until the stream ends. See [`SendHalf::close`].
    ///
    /// ```no_run
    /// # async fn run(mut ws: autostrada::WebSocket<tokio::net::TcpStream>) -> Result<(), autostrada::Error> {
    /// use autostrada::CloseCode;
    /// use futures_util::StreamExt;
    ///
    /// ws.close(CloseCode::GOING_AWAY, "server restarting").await?;
    /// while let Some(Ok(_)) = ws.next().await {} // until the peer answers
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.sending().close(code, reason).await
    }

    /// Queues a ping and writes it out; the returned [`Pong`] resolves to
    /// the round-trip time once the answer is read. Keep reading the socket
    /// meanwhile (e.g. `tokio::select!` on the `Pong` and `next()`).
    pub async fn ping(&mut self) -> Result<Pong, Error> {
        self.sending().ping().await
    }

    /// Queues a data message without compressing it, even with
    /// permessage-deflate in force (for data that is already compressed).
    /// Flush (or send another message) to write it out.
    pub fn queue_uncompressed(&mut self, message: Message) -> Result<(), Error> {
        crate::send::queue_uncompressed(self.shared.owned(), message)
    }

    /// The send side's view of the connection.
    #[inline]
    fn sending(&mut self) -> Sending<'_, S, &mut Mutex<Writer<S>>> {
        Sending { link: self.shared.owned(), encoder: &mut self.encoder }
    }
}

impl<S> WebSocket<S> {
    /// The subprotocol the opening handshake selected (`Sec-WebSocket-Protocol`),
    /// in either role; `None` when none was. Set by [`accept`](crate::accept),
    /// [`Upgrade`](crate::Upgrade) and [`connect`](crate::connect); `None` for
    /// a socket made with [`from_upgraded`](Self::from_upgraded) until
    /// [`set_protocol`](Self::set_protocol).
    pub fn protocol(&self) -> Option<&str> {
        self.reader.protocol()
    }

    /// Records the subprotocol a handshake made elsewhere (e.g. by hyper)
    /// selected, for [`protocol`](Self::protocol).
    pub fn set_protocol(&mut self, protocol: Option<&str>) {
        self.reader.set_protocol(protocol.map(Into::into));
    }

    /// The permessage-deflate parameters in force, if it was negotiated.
    pub fn deflate(&self) -> Option<DeflateParams> {
        self.reader.rx.deflate()
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.reader.role
    }

    /// Octets queued on this connection that the stream has not taken yet
    /// (data, pongs, pings, the close), as a browser's `bufferedAmount`.
    /// A `feed` past [`Config::flush_threshold`](crate::Config::flush_threshold)
    /// waits for the peer to read; a server that would rather not wait on a
    /// slow consumer can look here first and drop or coalesce what it sends
    /// it. Over TLS, octets the TLS layer took but has not written yet are
    /// not counted.
    ///
    /// ```
    /// # async fn run() -> Result<(), autostrada::Error> {
    /// use autostrada::{Message, ServerBuilder};
    /// use futures_util::SinkExt;
    ///
    /// # let (client, server) = tokio::io::duplex(64);
    /// # tokio::spawn(async move { let _ = autostrada::ClientBuilder::new().connect_on(client, "ws://localhost/").await; });
    /// let mut ws = ServerBuilder::new().accept(server).await?;
    /// ws.feed(Message::text("tick")).await?;
    /// assert_eq!(ws.buffered_amount(), 6); // a 2-octet header and the text
    /// # Ok(())
    /// # }
    /// ```
    pub fn buffered_amount(&self) -> usize {
        self.shared.lock().tx.pending()
    }

    /// The stream under the connection — its peer address, its TLS
    /// session, its socket options. The guard holds the connection's lock:
    /// drop it before the next `.await`.
    pub fn get_ref(&self) -> StreamRef<'_, S> {
        StreamRef(self.shared.lock())
    }

    /// The stream under the connection, mutably (same guard as
    /// [`get_ref`](Self::get_ref)). Reading or writing it directly corrupts
    /// the WebSocket framing: use it for settings.
    pub fn get_mut(&mut self) -> StreamRef<'_, S> {
        StreamRef(self.shared.lock())
    }

    /// Gives the stream back. Octets received but not yet returned as
    /// messages, and queued ones not yet written, are dropped: flush first.
    pub fn into_inner(self) -> S {
        self.shared.into_stream()
    }

    /// Splits into a read half and a send half, each usable from its own
    /// task. Automatic replies, keepalive and [`Pong`]s keep working from the
    /// read half; [`RecvHalf::reunite`] joins them again.
    ///
    /// Splitting moves the state both halves need (the socket, the send
    /// queue) to the heap, one allocation, and from then on each half takes
    /// a lock to reach the socket. A task that both reads and sends is
    /// cheaper with the `WebSocket` unsplit.
    pub fn split(self) -> (RecvHalf<S>, SendHalf<S>) {
        let WebSocket { reader, encoder, shared } = self;
        // The one allocation a connection makes for itself, once split.
        let shared = Arc::new(shared);
        (RecvHalf { reader, shared: Arc::clone(&shared) }, SendHalf { shared, encoder })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocket<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.reader.poll_message(&mut this.shared.owned(), cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FusedStream for WebSocket<S> {
    fn is_terminated(&self) -> bool {
        self.reader.is_done()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocket<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().sending().poll_ready_inner(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().sending().start_send_inner(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().sending().poll_flush_inner(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.get_mut().sending().poll_close_inner(cx))?;
        Poll::Ready(Ok(()))
    }
}
