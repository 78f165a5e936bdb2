//! Accepting connections: the server side of the opening handshake on tokio.

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Poll, ready};

use bytes::BytesMut;
use http::Request;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::config::Config;
use crate::error::Error;
use crate::proto::handshake::{self, HandshakeError};
use crate::stream::WebSocket;
use crate::upgrade::{Accept, Upgrade};

/// Accepts WebSocket connections with a chosen configuration.
///
/// ```no_run
/// use autostrada::{Config, ServerBuilder};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let mut config = Config::default();
/// config.max_message_size = 1 << 20;
/// let server = ServerBuilder::new().config(config).protocols(["chat.v1"]);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     let server = server.clone();
///     tokio::spawn(async move {
///         if let Ok((ws, request)) = server.accept_with_request(tcp).await {
///             println!("{} connected", request.uri());
///             drop(ws);
///         }
///     });
/// }
/// # }
/// ```
///
/// Cloning is cheap (two reference counts): a clone per connection costs a
/// few octets, not a copy of the configuration in every connection's task.
#[derive(Debug, Clone, Default)]
pub struct ServerBuilder {
    pub(crate) config: Arc<Config>,
    pub(crate) protocols: Arc<[String]>,
}

impl ServerBuilder {
    /// A builder with [`Config::default`] and no subprotocols.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the connection configuration.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = Arc::new(config);
        self
    }

    /// The subprotocols we speak, in our order of preference; the first one
    /// the client also offers is selected. By default none is.
    #[must_use]
    pub fn protocols<I: IntoIterator<Item = P>, P: Into<String>>(mut self, protocols: I) -> Self {
        self.protocols = protocols.into_iter().map(Into::into).collect::<Vec<String>>().into();
        self
    }

    /// Performs the opening handshake on `stream`.
    ///
    /// The returned future is one pointer: the handshake runs on the heap,
    /// so a task that awaits it and then serves the connection is sized
    /// for the connection, not for its handshake.
    pub fn accept<S>(&self, stream: S) -> impl Future<Output = Result<WebSocket<S>, Error>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let handshake = self.accept_with_request(stream);
        async move { handshake.await.map(|(ws, _)| ws) }
    }

    /// Performs the opening handshake and also returns the client's request
    /// (path, query, headers such as `Origin` or cookies). To look at the
    /// request *before* answering it — and refuse it, pick the subprotocol
    /// or add headers — use [`read_request`](Self::read_request).
    ///
    /// A request that is not a valid upgrade is answered with 400 (or 426
    /// for a wrong version) carrying the reason, and returned as
    /// [`Error::Handshake`]. Bounded by [`Config::handshake_timeout`] and
    /// [`Config::handshake_limits`].
    pub fn accept_with_request<S>(&self, stream: S) -> impl Future<Output = Result<(WebSocket<S>, Request<()>), Error>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // Boxed, reading and answering, in one allocation: the handshake's
        // state (and the stream, until it is handed over) lives on the heap
        // only while it runs, instead of sizing every connection's task for
        // it for as long as the connection lasts.
        Box::pin(async move {
            let upgrade = self.read_upgrade(stream).await?;
            upgrade.answer(Accept::new()).await
        })
    }

    /// Reads and checks the upgrade request, and leaves the answer to you:
    /// [`Upgrade::accept`], [`Upgrade::accept_with`] (subprotocol, response
    /// headers) or [`Upgrade::reject`] (any status, headers and body).
    ///
    /// A request that is not a valid upgrade is answered with 400 (or 426
    /// for a wrong version) and returned as [`Error::Handshake`]. Reading is
    /// bounded by [`Config::handshake_timeout`] and
    /// [`Config::handshake_limits`]; the time you take to decide is not.
    pub async fn read_request<S>(&self, stream: S) -> Result<Upgrade<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // Boxed: the handshake's state (its parsed request, timer) lives on
        // the heap only while it runs, instead of sizing every connection's
        // task for it for as long as the connection lasts.
        Box::pin(self.read_upgrade(stream)).await
    }

    /// [`read_request`](Self::read_request), unboxed (its callers box it).
    /// Not an `async fn`, which would keep a second copy of `stream`.
    #[allow(clippy::manual_async_fn)]
    fn read_upgrade<S>(&self, mut stream: S) -> impl Future<Output = Result<Upgrade<S>, Error>> + use<'_, S>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        async move {
            let reading = tokio::time::timeout(self.config.handshake_timeout, self.read_head(&mut stream));
            let (request, leftover, accept_key) = reading.await.map_err(|_| Error::HandshakeTimeout)??;
            Ok(Upgrade { stream, leftover, request, accept_key, server: self.clone() })
        }
    }

    async fn read_head<S>(&self, stream: &mut S) -> Result<(Request<()>, BytesMut, String), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let limits = &self.config.handshake_limits;
        // Empty until the request's first octets arrive: a connection that
        // has not sent its request yet holds no buffer (see `read_some`).
        let mut buf = BytesMut::new();
        let mut progress = handshake::HeadProgress::default();
        loop {
            if read_some(stream, &mut buf).await? == 0 {
                return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            // Not after every read: a head trickled an octet at a time
            // would be parsed from its start thousands of times.
            if !progress.worth_parsing(&buf, limits) {
                continue;
            }
            let parsed = handshake::parse_request(&buf, limits).and_then(|parsed| {
                parsed
                    .map(|(request, n)| handshake::check_request(&request).map(|accept| (request, n, accept)))
                    .transpose()
            });
            match parsed {
                Ok(Some((request, n, accept))) => {
                    let _ = buf.split_to(n);
                    return Ok((request, buf, accept));
                }
                Ok(None) => {}
                Err(e) => return Err(reject(stream, e).await),
            }
        }
    }
}

/// The most one read of a request's head takes in.
const HEAD_READ: usize = 4096;

/// Appends what `stream` has (at most [`HEAD_READ`] octets) to `buf` and
/// returns how many octets came, 0 at the end of the stream. The read goes
/// to scratch space on the stack within one poll and only what arrived is
/// copied out, so a connection whose request has not come yet holds no
/// buffer: a burst of connections that are slow to speak costs their
/// tasks, not a kilobyte each.
async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut BytesMut) -> std::io::Result<usize> {
    std::future::poll_fn(|cx| {
        let mut scratch = [MaybeUninit::<u8>::uninit(); HEAD_READ];
        let mut chunk = ReadBuf::uninit(&mut scratch);
        ready!(Pin::new(&mut *stream).poll_read(cx, &mut chunk))?;
        buf.extend_from_slice(chunk.filled());
        Poll::Ready(Ok(chunk.filled().len()))
    })
    .await
}

/// Answers a bad request with an HTTP error naming the problem.
async fn reject<S: AsyncWrite + Unpin>(stream: &mut S, e: HandshakeError) -> Error {
    // Best effort: the client may already be gone.
    let _ = stream.write_all(&handshake::rejection(&e)).await;
    let _ = stream.shutdown().await;
    Error::Handshake(e)
}

/// Accepts a WebSocket connection on `stream` with the default configuration.
///
/// ```no_run
/// use futures_util::{SinkExt, StreamExt};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let (tcp, _) = listener.accept().await?;
/// let mut ws = autostrada::accept(tcp).await?;
/// while let Some(Ok(message)) = ws.next().await {
///     if message.is_data() {
///         ws.send(message).await?;
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub fn accept<S>(stream: S) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Boxed, as `ServerBuilder::accept` is: one pointer in the caller's task.
    Box::pin(async move { ServerBuilder::new().accept(stream).await })
}
