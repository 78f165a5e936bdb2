//! [`RecvHalf`]: the read half of a split [`WebSocket`], a `Stream` of
//! messages. The state machine it runs is the `Reader` (`reader.rs`), the
//! same one an unsplit `WebSocket` runs.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_core::stream::FusedStream;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::Config;
use crate::error::Error;
use crate::message::Message;
use crate::reader::{ReadState, Reader};
use crate::send::SendHalf;
use crate::shared::Shared;
use crate::stream::{StreamRef, WebSocket};

/// The receiving half of a [`WebSocket`]: a `Stream` of messages.
/// Obtained from [`WebSocket::split`]; [`reunite`](Self::reunite) puts the
/// halves back together.
///
/// Keep polling it even if you only send: it answers pings and closes, runs
/// the keepalive and idle timers, completes [`Pong`](crate::Pong)s, and it
/// is what completes the closing handshake.
pub struct RecvHalf<S> {
    pub(crate) reader: Reader,
    pub(crate) shared: Arc<Shared<S>>,
}

impl<S> std::fmt::Debug for RecvHalf<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvHalf")
            .field("role", &self.reader.role)
            .field("state", &self.reader.state)
            .finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for RecvHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.reader.poll_message(&mut this.shared.locked(), cx)
    }
}

/// A read half dropped before the end: pings awaiting pongs fail now
/// instead of never.
impl<S> Drop for RecvHalf<S> {
    fn drop(&mut self) {
        if !self.reader.is_done() {
            self.shared.lock().pings.close();
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FusedStream for RecvHalf<S> {
    fn is_terminated(&self) -> bool {
        self.reader.is_done()
    }
}

impl<S> RecvHalf<S> {
    /// The stream under the connection, e.g. for its peer address or TLS
    /// session. The guard holds the connection's lock: drop it before the
    /// next await, or both halves wait for it, and before any other call on
    /// either half (`buffered_amount` included), which would wait for it
    /// on this very thread for ever.
    pub fn get_ref(&self) -> StreamRef<'_, S> {
        StreamRef(self.shared.lock())
    }

    /// The subprotocol the opening handshake selected.
    pub fn protocol(&self) -> Option<&str> {
        self.reader.protocol()
    }

    /// Puts the halves of one connection back together. Fails, handing both
    /// back, when `send` belongs to another connection.
    pub fn reunite(mut self, send: SendHalf<S>) -> Result<WebSocket<S>, Box<ReuniteError<S>>> {
        if !Arc::ptr_eq(&self.shared, &send.shared) {
            return Err(Box::new(ReuniteError(self, send)));
        }
        let SendHalf { shared, encoder } = send;
        drop(shared);
        // A stand-in that has ended, so that dropping this half fails no
        // ping: the connection goes on.
        let mut ended = Reader::new(self.reader.role, &Config::default(), None);
        ended.state = ReadState::Done;
        let reader = std::mem::replace(&mut self.reader, ended);
        let shared = Arc::clone(&self.shared);
        drop(self);
        // The two halves held the only references, and both are gone.
        let Ok(shared) = Arc::try_unwrap(shared) else {
            unreachable!("a connection's halves own the only references to its shared state")
        };
        Ok(WebSocket { reader, encoder, shared })
    }
}

/// The halves given to [`RecvHalf::reunite`] came from two connections;
/// here they are, unchanged.
pub struct ReuniteError<S>(pub RecvHalf<S>, pub SendHalf<S>);

impl<S> std::fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S> std::fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tried to reunite the halves of two different WebSocket connections")
    }
}

impl<S> std::error::Error for ReuniteError<S> {}
