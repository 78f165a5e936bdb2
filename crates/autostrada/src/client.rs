//! Connecting: the client side of the opening handshake on tokio.

use bytes::BytesMut;
use http::{HeaderMap, HeaderName, HeaderValue, Response, Uri, header};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::Config;
use crate::error::Error;
use crate::proto::Role;
use crate::proto::deflate::DeflateParams;
use crate::proto::handshake::{self, HandshakeError, Target};
use crate::stream::WebSocket;

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

    /// Connects over TCP to a `ws://` URL and performs the opening handshake.
    /// `TCP_NODELAY` is set: the writer batches by itself.
    pub async fn connect(&self, url: &str) -> Result<(WebSocket<TcpStream>, Response<()>), Error> {
        let target = parse_url(url)?;
        if target.tls {
            return Err(Error::Handshake(HandshakeError::Url(
                "wss:// is not supported yet; connect a TLS stream yourself and use connect_on".into(),
            )));
        }
        let connecting = TcpStream::connect((target.host.as_str(), target.port));
        let tcp = tokio::time::timeout(self.config.handshake_timeout, connecting)
            .await
            .map_err(|_| Error::HandshakeTimeout)??;
        tcp.set_nodelay(true)?;
        self.connect_on(tcp, url).await
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
        Ok((WebSocket::from_upgraded(stream, Role::Client, &self.config, leftover, deflate), response))
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

fn parse_url(url: &str) -> Result<Target, Error> {
    let uri: Uri = url.parse().map_err(|e| HandshakeError::Url(format!("{url:?}: {e}")))?;
    Ok(Target::from_uri(&uri)?)
}

/// Connects to a `ws://` URL with the default configuration.
///
/// ```no_run
/// # async fn run() -> Result<(), autostrada::Error> {
/// let (ws, _response) = autostrada::connect("ws://127.0.0.1:9001/").await?;
/// # drop(ws);
/// # Ok(())
/// # }
/// ```
pub async fn connect(url: &str) -> Result<(WebSocket<TcpStream>, Response<()>), Error> {
    ClientBuilder::new().connect(url).await
}
