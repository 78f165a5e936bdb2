//! Connecting: the client side of the opening handshake on tokio.

use bytes::Bytes;
use bytes::BytesMut;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, header};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Config;
use crate::error::Error;
use crate::proto::Role;
use crate::proto::deflate::DeflateParams;
use crate::proto::handshake::{self, HandshakeError, Target};
use crate::proxy::Proxy;
use crate::request::IntoClientRequest;
use crate::stream::WebSocket;
use crate::tls::{Connector, MaybeTlsStream};

/// Opens WebSocket connections with a chosen configuration, subprotocols,
/// extra request headers, TLS settings and proxy.
///
/// ```no_run
/// use autostrada::ClientBuilder;
/// use autostrada::http::header;
///
/// # async fn run() -> Result<(), autostrada::Error> {
/// let (ws, response) = ClientBuilder::new()
///     .protocols(["chat.v1"])
///     .header(header::ORIGIN, "https://example.com")?
///     .header("X-Trace", "on")?
///     .connect("ws://127.0.0.1:9001/chat")
///     .await?;
/// println!("server chose {:?}", ws.protocol());
/// # drop(response);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    config: Config,
    protocols: Vec<String>,
    headers: HeaderMap,
    connector: Connector,
    proxy: ProxySetting,
}

/// The future of [`ClientBuilder::connect`] and [`connect`]: `Send` and
/// `'static`, one pointer in size.
pub type Connecting = std::pin::Pin<
    Box<dyn Future<Output = Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response<()>), Error>> + Send + 'static>,
>;

/// Where [`ClientBuilder::connect`] opens its TCP connection.
#[derive(Debug, Clone, Default)]
enum ProxySetting {
    /// Straight to the server.
    #[default]
    Direct,
    /// Through this proxy.
    Fixed(Proxy),
    /// Through the proxy the environment names, if any, read at connect time.
    FromEnv,
}

impl ClientBuilder {
    /// A builder with [`Config::default`].
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the connection configuration.
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Subprotocols to offer, most preferred first. (Or set the
    /// `Sec-WebSocket-Protocol` header of a prepared request; not both.)
    #[must_use]
    pub fn protocols<I: IntoIterator<Item = P>, P: Into<String>>(mut self, protocols: I) -> Self {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// How `wss://` connections are made: trust anchors, client
    /// certificate, or a whole rustls configuration. The default trusts the
    /// roots of the enabled `rustls-webpki-roots` / `rustls-native-roots`
    /// feature. See [`Connector`].
    #[must_use]
    pub fn connector(mut self, connector: Connector) -> Self {
        self.connector = connector;
        self
    }

    /// Connects through `proxy` (HTTP `CONNECT` or SOCKS5). The proxy only
    /// carries the TCP connection: TLS for `wss://` still runs end to end.
    #[must_use]
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = ProxySetting::Fixed(proxy);
        self
    }

    /// Connects through the proxy the environment names for each URL
    /// (`HTTPS_PROXY` for `wss://`, `HTTP_PROXY` for `ws://`, else
    /// `ALL_PROXY`; not for hosts in `NO_PROXY`), read at connect time. See
    /// [`Proxy::from_env`]. Off unless asked for.
    #[must_use]
    pub fn proxy_from_env(mut self) -> Self {
        self.proxy = ProxySetting::FromEnv;
        self
    }

    /// Adds a header to the upgrade request (e.g. `Origin`,
    /// `Authorization`): names and values as `&str`, `String`, or the typed
    /// `http::HeaderName` / `HeaderValue`.
    pub fn header<K, V>(mut self, name: K, value: V) -> Result<Self, Error>
    where
        K: TryInto<HeaderName>,
        K::Error: std::fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: std::fmt::Display,
    {
        let bad = |e: String| Error::Handshake(HandshakeError::MalformedHttp(e));
        let name = name.try_into().map_err(|e| bad(format!("invalid header name: {e}")))?;
        let value = value.try_into().map_err(|e| bad(format!("invalid value for header {name}: {e}")))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Connects to a `ws://` or `wss://` URL — a `&str`, `String`,
    /// `http::Uri` or prepared `http::Request` (see [`IntoClientRequest`]) —
    /// through the [`proxy`](Self::proxy) if one is set, with TLS through the
    /// [`connector`](Self::connector), and performs the opening handshake.
    /// `TCP_NODELAY` is set: the writer batches by itself. The TCP connect,
    /// proxy, TLS and the upgrade together are bounded by
    /// [`Config::handshake_timeout`].
    ///
    /// # Errors
    /// [`Error::Tls`] for `wss://` without trust anchors (enable
    /// `rustls-webpki-roots` or `rustls-native-roots`, or pass a
    /// [`Connector`]) or a certificate that is not trusted; [`Error::Proxy`]
    /// when the proxy cannot be reached or refuses; otherwise as
    /// [`connect_on`](Self::connect_on).
    ///
    /// The returned future is one pointer: the connection and its handshake
    /// run on the heap, so a task that awaits it and then serves the
    /// connection is sized for the connection, not for its handshake. It
    /// borrows neither the builder nor the request (it holds its own copy
    /// of the settings), so it can be spawned as it is:
    ///
    /// ```no_run
    /// # async fn run(url: String) -> Result<(), Box<dyn std::error::Error>> {
    /// let builder = autostrada::ClientBuilder::new();
    /// let connecting = tokio::spawn(builder.connect(&url));
    /// drop(builder);
    /// let (ws, _response) = connecting.await??;
    /// # drop(ws);
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect(&self, request: impl IntoClientRequest) -> Connecting {
        // The request is checked now (a request that cannot go out fails
        // before any connection is made); only what the connection needs
        // goes into the boxed future.
        let prepared = self.prepare(request);
        let builder = self.clone();
        Box::pin(async move {
            let (target, headers) = prepared?;
            builder.connect_prepared(target, headers).await
        })
    }

    /// The target and headers of a request, checked.
    fn prepare(&self, request: impl IntoClientRequest) -> Result<(Target, (HeaderMap, Vec<String>)), Error> {
        let request = request.into_client_request()?;
        let target = Target::from_uri(request.uri())?;
        let headers = self.request_headers(&request)?;
        Ok((target, headers))
    }

    async fn connect_prepared(
        &self,
        target: Target,
        headers: (HeaderMap, Vec<String>),
    ) -> Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response<()>), Error> {
        #[cfg(not(feature = "rustls"))]
        if target.tls {
            return Err(Error::Tls(
                "wss:// needs autostrada's `rustls-webpki-roots` or `rustls-native-roots` feature (or `rustls` \
                 and a Connector); or connect a TLS stream yourself and use connect_on"
                    .into(),
            ));
        }
        let started = tokio::time::Instant::now();
        let connecting = async {
            let proxy = match &self.proxy {
                ProxySetting::Direct => None,
                ProxySetting::Fixed(proxy) => Some(proxy.clone()),
                ProxySetting::FromEnv => Proxy::from_env(&target.host, target.tls)?,
            };
            let tcp = match proxy {
                Some(proxy) => proxy.tunnel(&target.host, target.port).await?,
                None => TcpStream::connect((target.host.as_str(), target.port)).await?,
            };
            tcp.set_nodelay(true)?;
            self.wrap(tcp, &target).await
        };
        let limit = self.config.handshake_timeout;
        let stream = tokio::time::timeout(limit, connecting).await.map_err(|_| Error::HandshakeTimeout)??;
        self.upgrade(stream, headers, &target, limit.saturating_sub(started.elapsed())).await
    }

    #[cfg(feature = "rustls")]
    async fn wrap(&self, tcp: TcpStream, target: &Target) -> Result<MaybeTlsStream<TcpStream>, Error> {
        self.connector.wrap(tcp, &target.host, target.tls).await
    }

    #[cfg(not(feature = "rustls"))]
    #[allow(clippy::unused_async)]
    async fn wrap(&self, tcp: TcpStream, _target: &Target) -> Result<MaybeTlsStream<TcpStream>, Error> {
        Ok(MaybeTlsStream::Plain(tcp))
    }

    /// Performs the opening handshake for a request (see
    /// [`IntoClientRequest`]) over an already connected stream (plain TCP,
    /// TLS, a Unix socket, …), within [`Config::handshake_timeout`].
    ///
    /// The returned future is one pointer, as [`connect`](Self::connect)'s.
    pub fn connect_on<S>(
        &self,
        stream: S,
        request: impl IntoClientRequest,
    ) -> impl Future<Output = Result<(WebSocket<S>, Response<()>), Error>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let prepared = self.prepare(request);
        Box::pin(async move {
            let (target, headers) = prepared?;
            self.upgrade(stream, headers, &target, self.config.handshake_timeout).await
        })
    }

    async fn upgrade<S>(
        &self,
        mut stream: S,
        headers: (HeaderMap, Vec<String>),
        target: &Target,
        limit: std::time::Duration,
    ) -> Result<(WebSocket<S>, Response<()>), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // Boxed, as on the server: the handshake's state is on the heap
        // only while it runs.
        // An unlimited timeout (`Duration::MAX`) saturates, as the other timers do.
        let deadline = crate::keepalive::after(tokio::time::Instant::now(), limit);
        let handshake = Box::pin(tokio::time::timeout_at(deadline, self.handshake(&mut stream, headers, target)));
        let (response, leftover, deflate) = match handshake.await.map_err(|_| Error::HandshakeTimeout)?? {
            Answer::Upgraded(response, leftover, deflate) => (response, leftover, deflate),
            Answer::Refused(response, rest) => {
                // The status is in: a body that stalls ends after
                // REFUSAL_BODY_SILENCE, or at the deadline, with what arrived,
                // instead of losing the refusal to a timeout.
                let body = if has_body(response.status()) {
                    Box::pin(refusal_body(&mut stream, response.headers(), rest, deadline)).await
                } else {
                    Bytes::new()
                };
                return Err(Error::Refused(Box::new(response.map(|()| body))));
            }
        };
        let mut ws = WebSocket::from_upgraded(stream, Role::Client, &self.config, leftover, deflate);
        ws.reader.set_protocol(
            response.headers().get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|p| p.to_str().ok()).map(Into::into),
        );
        Ok((ws, response))
    }

    /// The request's headers over the builder's (a name set in both is sent
    /// as the request has it), and the subprotocols offered.
    fn request_headers(&self, request: &Request<()>) -> Result<(HeaderMap, Vec<String>), Error> {
        let mut extra = self.headers.clone();
        for name in request.headers().keys() {
            extra.remove(name);
        }
        for (name, value) in request.headers() {
            extra.append(name.clone(), value.clone());
        }
        let bad = |e: &str| Error::Handshake(HandshakeError::MalformedHttp(e.into()));
        let protocols = if extra.contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
            if !self.protocols.is_empty() {
                return Err(bad("subprotocols are set both by ClientBuilder::protocols and by a \
                     Sec-WebSocket-Protocol header; keep one"));
            }
            let mut offered = Vec::new();
            for value in extra.get_all(header::SEC_WEBSOCKET_PROTOCOL) {
                let value = value.to_str().map_err(|_| bad("the Sec-WebSocket-Protocol header is not valid text"))?;
                offered.extend(value.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned));
            }
            offered
        } else {
            if !self.protocols.is_empty() {
                let offer = HeaderValue::from_str(&self.protocols.join(", ")).map_err(|_| {
                    HandshakeError::MalformedHttp(format!("invalid subprotocol list {:?}", self.protocols))
                })?;
                extra.insert(header::SEC_WEBSOCKET_PROTOCOL, offer);
            }
            self.protocols.clone()
        };
        if extra.contains_key(header::SEC_WEBSOCKET_EXTENSIONS) {
            return Err(bad("Sec-WebSocket-Extensions is made from Config::deflate; remove the header and set \
                 Config::deflate to offer permessage-deflate"));
        }
        if let Some(deflate) = &self.config.deflate {
            let offer = HeaderValue::from_str(&deflate.offer())
                .map_err(|_| HandshakeError::MalformedHttp("invalid permessage-deflate offer".into()))?;
            extra.insert(header::SEC_WEBSOCKET_EXTENSIONS, offer);
        }
        Ok((extra, protocols))
    }

    async fn handshake<S>(
        &self,
        stream: &mut S,
        (extra, protocols): (HeaderMap, Vec<String>),
        target: &Target,
    ) -> Result<Answer, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        // A key the request brought is the one the answer must match.
        if extra.get_all(header::SEC_WEBSOCKET_KEY).iter().count() > 1 {
            return Err(
                HandshakeError::MalformedHttp("the request carries more than one Sec-WebSocket-Key".into()).into()
            );
        }
        let key = match extra.get(header::SEC_WEBSOCKET_KEY) {
            Some(key) => key
                .to_str()
                .map_err(|_| HandshakeError::MalformedHttp("the Sec-WebSocket-Key header is not valid text".into()))?
                .to_owned(),
            None => handshake::generate_key(),
        };
        stream.write_all(&handshake::client_request(target, &key, &extra)).await?;
        stream.flush().await?;
        let mut buf = BytesMut::with_capacity(1024);
        let mut interim = 0;
        let limits = &self.config.handshake_limits;
        // Parsed again only when it may have ended or has doubled, not after
        // every read (see `HeadProgress`).
        let mut progress = handshake::HeadProgress::default();
        let (response, n) = loop {
            let parsed =
                if progress.worth_parsing(&buf, limits) { handshake::parse_response(&buf, limits)? } else { None };
            let Some((response, n)) = parsed else {
                if stream.read_buf(&mut buf).await? == 0 {
                    return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
                }
                continue;
            };
            let status = response.status();
            if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
                // RFC 9110 §15.2: interim answers (100 Continue, 103 Early
                // Hints) may come before the final one; skip them, but not
                // forever (an unlimited handshake timeout would allow it).
                interim += 1;
                if interim > MAX_INTERIM_RESPONSES {
                    return Err(HandshakeError::MalformedHttp(format!(
                        "the server sent more than {MAX_INTERIM_RESPONSES} interim (1xx) answers and no final one"
                    ))
                    .into());
                }
                let _ = buf.split_to(n);
                progress = handshake::HeadProgress::default();
                continue;
            }
            break (response, n);
        };
        let _ = buf.split_to(n);
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Ok(Answer::Refused(response, buf));
        }
        let offered = self.config.deflate.as_ref();
        handshake::check_response(&response, &key, &protocols, offered.is_some())?;
        // RFC 7692 §7.1: the answer must fit our offer, or the connection fails.
        let deflate = match offered {
            Some(d) => {
                d.check_response(&handshake::extensions(response.headers())).map_err(HandshakeError::Extension)?
            }
            None => None,
        };
        Ok(Answer::Upgraded(response, buf, deflate))
    }
}

/// The most interim (1xx other than 101) answers skipped before the final one.
const MAX_INTERIM_RESPONSES: usize = 16;

/// How the server answered the upgrade request.
enum Answer {
    /// 101, checked: the response, octets read past it, the deflate parameters.
    Upgraded(Response<()>, BytesMut, Option<DeflateParams>),
    /// Any other final status: the response head, and what was read past it.
    Refused(Response<()>, BytesMut),
}

/// RFC 9110 §6.4.1: 1xx, 204 and 304 answers end at their head.
fn has_body(status: StatusCode) -> bool {
    !(status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED)
}

/// The most body octets of a refused upgrade that [`Error::Refused`]
/// keeps (64 KiB): enough for any error page's message, bounded against a
/// server that streams forever.
pub const MAX_REFUSAL_BODY: usize = 64 * 1024;

/// How long the body of a refused upgrade may fall silent (2 s) before the
/// refusal is reported with what arrived. The body only explains a refusal
/// whose status is already in: a server that promises more than it sends,
/// or keeps the connection open after a body with no length, costs the
/// caller this long rather than the whole [`Config::handshake_timeout`]
/// (which may be unlimited).
///
/// [`Config::handshake_timeout`]: crate::Config::handshake_timeout
pub const REFUSAL_BODY_SILENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// The longest the body of a refused upgrade is read in all (10 s), however
/// it trickles: a server that sends an octet every second never falls
/// silent for [`REFUSAL_BODY_SILENCE`], and 64 KiB at that pace would take
/// most of a day. Past it the refusal is reported with what arrived.
pub const REFUSAL_BODY_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads the body of a refused upgrade: as long as `Content-Length` says,
/// de-chunked, or to the end of the stream, never past
/// [`MAX_REFUSAL_BODY`] nor `deadline`. A read error, the deadline,
/// [`REFUSAL_BODY_SILENCE`] without an octet or [`REFUSAL_BODY_TIME`] in
/// all ends it with what arrived.
async fn refusal_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    headers: &HeaderMap,
    mut buf: BytesMut,
    deadline: tokio::time::Instant,
) -> Bytes {
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
    let mut body = BytesMut::new();
    let deadline = deadline.min(crate::keepalive::after(tokio::time::Instant::now(), REFUSAL_BODY_TIME));
    loop {
        if chunked {
            // Takes every whole chunk buffered so far (RFC 9112 §7.1).
            while let Ok(httparse::Status::Complete((start, size))) = httparse::parse_chunk_size(&buf) {
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                if size == 0 {
                    return body.freeze();
                }
                let have = buf.len() - start;
                let room = MAX_REFUSAL_BODY - body.len();
                if have >= size.saturating_add(2) && size < room {
                    body.extend_from_slice(&buf[start..start + size]);
                    let _ = buf.split_to(start + size + 2);
                } else if size >= room && have >= room {
                    // The limit falls inside this chunk.
                    body.extend_from_slice(&buf[start..start + room]);
                    return body.freeze();
                } else {
                    break;
                }
            }
            if httparse::parse_chunk_size(&buf).is_err() {
                return body.freeze();
            }
        } else {
            body.extend_from_slice(&buf.split());
            let want = length.unwrap_or(usize::MAX).min(MAX_REFUSAL_BODY);
            if body.len() >= want {
                body.truncate(want);
                return body.freeze();
            }
        }
        // `buf` holds at most one partial chunk head past the limit.
        let full = body.len() >= MAX_REFUSAL_BODY || buf.len() > 2 * MAX_REFUSAL_BODY;
        let until = deadline.min(tokio::time::Instant::now() + REFUSAL_BODY_SILENCE);
        if full || !matches!(tokio::time::timeout_at(until, stream.read_buf(&mut buf)).await, Ok(Ok(n)) if n > 0) {
            body.truncate(MAX_REFUSAL_BODY);
            return body.freeze();
        }
    }
}

/// Connects to a `ws://` or `wss://` URL (`&str`, `String`, `http::Uri`, or
/// a prepared `http::Request`: see [`IntoClientRequest`]) with the default
/// configuration (`wss://` needs the `rustls-webpki-roots` or
/// `rustls-native-roots` feature).
///
/// ```no_run
/// # async fn run() -> Result<(), autostrada::Error> {
/// let (ws, _response) = autostrada::connect("ws://127.0.0.1:9001/").await?;
/// # drop(ws);
/// # Ok(())
/// # }
/// ```
pub fn connect(request: impl IntoClientRequest) -> Connecting {
    ClientBuilder::new().connect(request)
}
