//! Connecting: the client side of the opening handshake on tokio.

use bytes::Bytes;
use bytes::BytesMut;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, Uri, header};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Config;
use crate::error::Error;
use crate::proto::Role;
use crate::proto::deflate::DeflateParams;
use crate::proto::handshake::{self, HandshakeError, Target};
use crate::stream::WebSocket;
use crate::tls::{Connector, MaybeTlsStream};

/// Opens WebSocket connections with a chosen configuration, subprotocols
/// and extra request headers.
///
/// ```no_run
/// use autostrada::ClientBuilder;
///
/// # async fn run() -> Result<(), autostrada::Error> {
/// let (ws, response) = ClientBuilder::new()
///     .protocols(["chat.v1"])
///     .header("Origin", "https://example.com")?
///     .connect("ws://127.0.0.1:9001/chat")
///     .await?;
/// println!("server chose {:?}", response.headers().get("sec-websocket-protocol"));
/// # drop(ws);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    config: Config,
    protocols: Vec<String>,
    headers: HeaderMap,
    connector: Connector,
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

    /// Subprotocols to offer, most preferred first.
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

    /// Adds a header to the upgrade request (e.g. `Origin`, `Authorization`).
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let bad = |what: &str| {
            Error::Handshake(HandshakeError::MalformedHttp(format!("invalid header {what} {name:?}: {value:?}")))
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("name"))?;
        let value = HeaderValue::from_str(value).map_err(|_| bad("value"))?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// Connects to a `ws://` or `wss://` URL (TLS through the
    /// [`connector`](Self::connector)) and performs the opening handshake.
    /// `TCP_NODELAY` is set: the writer batches by itself. The TCP connect,
    /// TLS and the upgrade together are bounded by
    /// [`Config::handshake_timeout`].
    ///
    /// # Errors
    /// [`Error::Tls`] for `wss://` without trust anchors (enable
    /// `rustls-webpki-roots` or `rustls-native-roots`, or pass a
    /// [`Connector`]) or a certificate that is not trusted; otherwise as
    /// [`connect_on`](Self::connect_on).
    pub async fn connect(&self, url: &str) -> Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response<()>), Error> {
        let target = parse_url(url)?;
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
            let tcp = TcpStream::connect((target.host.as_str(), target.port)).await?;
            tcp.set_nodelay(true)?;
            self.wrap(tcp, &target).await
        };
        let limit = self.config.handshake_timeout;
        let stream = tokio::time::timeout(limit, connecting).await.map_err(|_| Error::HandshakeTimeout)??;
        let mut config = self.config.clone();
        config.handshake_timeout = limit.saturating_sub(started.elapsed());
        let rest = ClientBuilder { config, ..self.clone() };
        rest.connect_on(stream, url).await
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

    /// Performs the opening handshake for `url` over an already connected
    /// stream (plain TCP, TLS, a Unix socket, …).
    pub async fn connect_on<S>(&self, mut stream: S, url: &str) -> Result<(WebSocket<S>, Response<()>), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let target = parse_url(url)?;
        // Boxed, as on the server: the handshake's state is on the heap
        // only while it runs.
        let handshake =
            Box::pin(tokio::time::timeout(self.config.handshake_timeout, self.handshake(&mut stream, &target)));
        let (response, leftover, deflate) = handshake.await.map_err(|_| Error::HandshakeTimeout)??;
        let mut ws = WebSocket::from_upgraded(stream, Role::Client, &self.config, leftover, deflate);
        ws.read.protocol =
            response.headers().get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|p| p.to_str().ok()).map(Into::into);
        Ok((ws, response))
    }

    async fn handshake<S>(
        &self,
        stream: &mut S,
        target: &Target,
    ) -> Result<(Response<()>, BytesMut, Option<DeflateParams>), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let key = handshake::generate_key();
        let mut extra = self.headers.clone();
        if !self.protocols.is_empty() {
            let offer = HeaderValue::from_str(&self.protocols.join(", "))
                .map_err(|_| HandshakeError::MalformedHttp(format!("invalid subprotocol list {:?}", self.protocols)))?;
            extra.insert(header::SEC_WEBSOCKET_PROTOCOL, offer);
        }
        if let Some(deflate) = &self.config.deflate {
            let offer = HeaderValue::from_str(&deflate.offer())
                .map_err(|_| HandshakeError::MalformedHttp("invalid permessage-deflate offer".into()))?;
            extra.insert(header::SEC_WEBSOCKET_EXTENSIONS, offer);
        }
        stream.write_all(&handshake::client_request(target, &key, &extra)).await?;
        stream.flush().await?;
        let mut buf = BytesMut::with_capacity(1024);
        loop {
            if stream.read_buf(&mut buf).await? == 0 {
                return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            if let Some((response, n)) = handshake::parse_response(&buf, &self.config.handshake_limits)? {
                if response.status() != StatusCode::SWITCHING_PROTOCOLS {
                    let _ = buf.split_to(n);
                    let body = refusal_body(stream, response.headers(), buf).await;
                    return Err(Error::Refused(Box::new(response.map(|()| body))));
                }
                let offered = self.config.deflate.as_ref();
                handshake::check_response(&response, &key, &self.protocols, offered.is_some())?;
                // RFC 7692 §7.1: the answer must fit our offer, or the connection fails.
                let deflate = match offered {
                    Some(d) => d
                        .check_response(&handshake::extensions(response.headers()))
                        .map_err(HandshakeError::Extension)?,
                    None => None,
                };
                let _ = buf.split_to(n);
                return Ok((response, buf, deflate));
            }
        }
    }
}

/// The most body octets of a refused upgrade that [`Error::Refused`]
/// keeps (64 KiB): enough for any error page's message, bounded against a
/// server that streams forever.
pub const MAX_REFUSAL_BODY: usize = 64 * 1024;

/// Reads the body of a refused upgrade: as long as `Content-Length` says,
/// de-chunked, or to the end of the stream, never past
/// [`MAX_REFUSAL_BODY`]. A read error ends it with what arrived.
async fn refusal_body<S: AsyncRead + Unpin>(stream: &mut S, headers: &HeaderMap, mut buf: BytesMut) -> Bytes {
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<usize>().ok());
    let mut body = BytesMut::new();
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
        if full || !matches!(stream.read_buf(&mut buf).await, Ok(n) if n > 0) {
            body.truncate(MAX_REFUSAL_BODY);
            return body.freeze();
        }
    }
}

fn parse_url(url: &str) -> Result<Target, Error> {
    let uri: Uri = url.parse().map_err(|e| HandshakeError::Url(format!("{url:?}: {e}")))?;
    Ok(Target::from_uri(&uri)?)
}

/// Connects to a `ws://` or `wss://` URL with the default configuration
/// (`wss://` needs the `rustls-webpki-roots` or `rustls-native-roots`
/// feature).
///
/// ```no_run
/// # async fn run() -> Result<(), autostrada::Error> {
/// let (ws, _response) = autostrada::connect("ws://127.0.0.1:9001/").await?;
/// # drop(ws);
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream<TcpStream>>, Response<()>), Error> {
    ClientBuilder::new().connect(url).await
}
