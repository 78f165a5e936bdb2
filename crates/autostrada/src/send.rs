//! [`SendHalf`]: the sending half of a [`WebSocket`](crate::WebSocket).

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use futures_sink::Sink;
use tokio::io::AsyncWrite;

use crate::error::Error;
use crate::message::Message;
use crate::ping::Pong;
use crate::proto::{CloseCode, CloseFrame, Encoder};
use crate::shared::{Access, Link, Shared};
use crate::stream::StreamRef;
use crate::writer::{Side, Writer};

/// The sending half of a [`WebSocket`](crate::WebSocket): a `Sink` of
/// [`Message`]s. Obtained from [`WebSocket::split`](crate::WebSocket::split);
/// [`RecvHalf::reunite`](crate::RecvHalf::reunite) puts the two back together.
///
/// `send` writes and flushes; `feed` only queues, and the queue is written
/// once it passes [`Config::flush_threshold`](crate::Config::flush_threshold),
/// on the next flush, or when the read half has no complete message
/// buffered and is about to wait for the socket. An echo loop that `feed`s
/// (and keeps reading) thus answers a burst of messages with one write; a
/// task that only writes must `flush` (or `send`). Closing the sink sends a
/// close frame (1000) if none was sent ([`close`](Self::close) picks the
/// code and reason); keep reading the other half until it ends to complete
/// the closing handshake.
pub struct SendHalf<S> {
    pub(crate) shared: Arc<Shared<S>>,
    /// Compresses and fragments data messages (and masks them, as a client)
    /// without the writer's lock.
    pub(crate) encoder: Encoder,
}

impl<S> std::fmt::Debug for SendHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendHalf").finish_non_exhaustive()
    }
}

impl<S: AsyncWrite + Unpin> SendHalf<S> {
    /// Queues a data message without compressing it, even with
    /// permessage-deflate in force. Flush to write it out.
    pub fn queue_uncompressed(&self, message: Message) -> Result<(), Error> {
        queue_uncompressed(self.shared.locked(), message)
    }

    /// Starts the closing handshake with `code` and `reason` and writes the
    /// close frame out. A reason longer than 123 octets (RFC 6455 §5.5: a
    /// control frame carries at most 125) is cut at a character boundary.
    /// Keep reading the read half: it ends once the peer has answered (or
    /// after [`Config::close_timeout`](crate::Config::close_timeout)).
    ///
    /// Fails with [`Error::Send`] for a code that may not be sent (1005,
    /// 1006, 1015, unassigned ones) or when a close was already sent.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.sending().close(code, reason).await
    }

    /// Queues a ping and writes it out; the returned [`Pong`] resolves to
    /// the round-trip time once the read half reads the answer. The read
    /// half must keep being polled meanwhile.
    ///
    /// ```no_run
    /// # async fn run(ws: autostrada::WebSocket<tokio::net::TcpStream>) -> Result<(), autostrada::Error> {
    /// use futures_util::StreamExt;
    ///
    /// let (mut read, mut write) = ws.split();
    /// tokio::spawn(async move { while let Some(Ok(_)) = read.next().await {} });
    /// let rtt = write.ping().await?.await?;
    /// println!("round trip: {rtt:?}");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ping(&mut self) -> Result<Pong, Error> {
        self.sending().ping().await
    }

    /// Octets queued on this connection that the stream has not taken yet;
    /// see [`WebSocket::buffered_amount`](crate::WebSocket::buffered_amount).
    pub fn buffered_amount(&self) -> usize {
        self.shared.lock().tx.pending()
    }

    /// The stream under the connection, e.g. for its peer address or TLS
    /// session. The guard holds the connection's lock: drop it before the
    /// next await, or both halves wait for it, and before any other call on
    /// either half (`buffered_amount` included), which would wait for it
    /// on this very thread for ever.
    pub fn get_ref(&self) -> StreamRef<'_, S> {
        StreamRef(self.shared.lock())
    }

    /// The send side's view of the connection.
    #[inline]
    fn sending(&mut self) -> Sending<'_, S, &Mutex<Writer<S>>> {
        Sending { link: self.shared.locked(), encoder: &mut self.encoder }
    }
}

/// The send side of a connection, borrowed: a link to the state both sides
/// share and the encoder of the side that sends. A [`SendHalf`] lends its
/// own (the link takes the lock); a [`WebSocket`](crate::WebSocket) lends
/// the fields it keeps inline (the link needs no lock).
pub(crate) struct Sending<'a, S, W> {
    pub(crate) link: Link<'a, S, W>,
    pub(crate) encoder: &'a mut Encoder,
}

impl<S: AsyncWrite + Unpin, W: Access<S>> Sending<'_, S, W> {
    /// See [`SendHalf::close`].
    pub(crate) async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.queue_close(code, reason)?;
        poll_fn(|cx| self.poll_flush_inner(cx)).await
    }

    /// See [`SendHalf::ping`].
    pub(crate) async fn ping(&mut self) -> Result<Pong, Error> {
        let pong = self.queue_ping()?;
        poll_fn(|cx| self.poll_flush_inner(cx)).await?;
        Ok(pong)
    }

    #[inline]
    fn check_open(&mut self) -> Result<(), Error> {
        check_open(&mut self.link)
    }

    pub(crate) fn queue_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.check_open()?;
        let mut w = self.link.writer.lock();
        let queued = w.tx.send_close(Some(&CloseFrame::new(code, reason)));
        self.link.flags.note_queued(&w);
        queued.map_err(Error::Send)
    }

    pub(crate) fn queue_ping(&mut self) -> Result<Pong, Error> {
        self.check_open()?;
        let mut w = self.link.writer.lock();
        // Nothing follows a close (RFC 6455 §5.5.1): refuse before a waiting
        // slot is taken.
        if w.tx.close_sent() {
            return Err(Error::Send(crate::proto::SendError::AlreadyClosed));
        }
        let (payload, pong) = w.pings.start();
        w.tx.send_plain(Message::Ping(payload)).map_err(Error::Send)?;
        Ok(pong)
    }

    pub(crate) fn poll_ready_inner(&mut self, cx: &Context<'_>) -> Poll<Result<(), Error>> {
        self.check_open()?;
        // Room in the queue (the common case): ready without the lock or
        // the socket, so no waker to register.
        if !self.link.flags.backlogged() {
            return Poll::Ready(Ok(()));
        }
        let ready = self.link.poll_io(Side::Writer, cx, |w, cx| {
            if w.at_flush_threshold() {
                ready!(w.poll_write_out(cx)).map_err(Error::Io)?;
            }
            Poll::Ready(Ok(()))
        });
        if let Poll::Ready(Ok(())) = ready {
            self.link.flags.clear_backlog();
        }
        ready
    }

    pub(crate) fn start_send_inner(&mut self, item: Message) -> Result<(), Error> {
        self.check_open()?;
        let costly = match &item {
            Message::Text(t) => self.encoder.encodes_apart(t.len()),
            Message::Binary(b) => self.encoder.encodes_apart(b.len()),
            _ => false,
        };
        if item.is_data() {
            self.link.flags.data_sent.store(true, Ordering::Relaxed);
        }
        // Deflate, or a masked copy of a large payload, runs here, before the
        // lock: the read half can queue its pongs and closes meanwhile.
        let item = if costly { self.encoder.encode(item) } else { Err(item) };
        let mut w = self.link.writer.lock();
        let sent = match item {
            Ok(encoded) => w.tx.push_encoded(encoded),
            Err(item) => w.tx.send_plain(item),
        };
        self.link.flags.note_queued(&w);
        sent.map_err(Error::Send)
    }

    pub(crate) fn poll_flush_inner(&mut self, cx: &Context<'_>) -> Poll<Result<(), Error>> {
        let ended = self.link.flags.is_terminated();
        self.link.poll_io(Side::Writer, cx, |w, cx| match w.poll_write_out(cx) {
            // The connection is over and the socket may never drain.
            Poll::Pending if ended => Poll::Ready(Err(Error::ConnectionClosed)),
            polled => polled.map_err(Error::Io),
        })
    }

    pub(crate) fn poll_close_inner(&mut self, cx: &Context<'_>) -> Poll<Result<(), Error>> {
        if self.link.flags.is_terminated() {
            // Closing what has already ended is done.
            return Poll::Ready(Ok(()));
        }
        {
            let mut w = self.link.writer.lock();
            if !w.tx.close_sent() {
                w.tx.send_close(Some(&CloseFrame::new(CloseCode::NORMAL, ""))).map_err(Error::Send)?;
            }
            self.link.flags.note_queued(&w);
        }
        self.poll_flush_inner(cx)
    }
}

/// See [`SendHalf::queue_uncompressed`]; needs no encoder.
pub(crate) fn queue_uncompressed<S, W: Access<S>>(mut link: Link<'_, S, W>, message: Message) -> Result<(), Error> {
    check_open(&mut link)?;
    let mut w = link.writer.lock();
    let sent = w.tx.send_plain(message).map_err(Error::Send);
    link.flags.data_sent.store(true, Ordering::Relaxed);
    link.flags.note_queued(&w);
    sent
}

/// Fails once the read side has ended the connection: with
/// `Send(AlreadyClosed)` after a closing handshake, else `ConnectionClosed`.
#[inline]
fn check_open<S, W: Access<S>>(link: &mut Link<'_, S, W>) -> Result<(), Error> {
    if link.flags.is_terminated() { Err(ended(link)) } else { Ok(()) }
}

/// Why nothing more can be sent, once the read side has ended the connection.
#[cold]
fn ended<S, W: Access<S>>(link: &mut Link<'_, S, W>) -> Error {
    if link.writer.lock().tx.close_sent() {
        Error::Send(crate::proto::SendError::AlreadyClosed)
    } else {
        Error::ConnectionClosed
    }
}

impl<S: AsyncWrite + Unpin> Sink<Message> for SendHalf<S> {
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
        self.get_mut().sending().poll_close_inner(cx)
    }
}
