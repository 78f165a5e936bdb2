//! `wss://`: the stream a client connection runs on, plain or TLS, and the
//! [`Connector`] that makes the TLS side.
//!
//! TLS is rustls behind cargo features, none on by default:
//!
//! | feature | what `connect("wss://…")` trusts |
//! |---|---|
//! | `rustls` | nothing by default: pass a [`Connector`] with your roots |
//! | `rustls-webpki-roots` | the Mozilla roots compiled into `webpki-roots` |
//! | `rustls-native-roots` | the operating system's certificate store |
//!
//! A server needs no feature of ours: [`accept`](crate::accept) runs over
//! any `AsyncRead + AsyncWrite`, a `tokio_rustls::server::TlsStream`
//! included (see `examples/wss_echo_server.rs`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A client connection's stream: plain TCP for `ws://`, TLS for `wss://`.
///
/// [`ClientBuilder::connect`](crate::ClientBuilder::connect) returns a
/// `WebSocket<MaybeTlsStream<TcpStream>>` whatever the scheme, so one type
/// names both. The TLS variant is boxed: a plain connection does not carry
/// the size of a TLS session.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream<S> {
    /// No TLS (`ws://`).
    Plain(S),
    /// rustls over `S` (`wss://`).
    #[cfg(feature = "rustls")]
    Rustls(Box<tokio_rustls::client::TlsStream<S>>),
}

impl<S> MaybeTlsStream<S> {
    /// The transport under TLS (for its peer address or socket options).
    pub fn get_ref(&self) -> &S {
        match self {
            Self::Plain(s) => s,
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => s.get_ref().0,
        }
    }

    /// The transport under TLS, mutably. Reading or writing it directly
    /// corrupts the connection; use it for socket options.
    pub fn get_mut(&mut self) -> &mut S {
        match self {
            Self::Plain(s) => s,
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => s.get_mut().0,
        }
    }

    /// The TLS session (negotiated protocol version, ALPN, the server's
    /// certificates), or `None` on a plain connection.
    #[cfg(feature = "rustls")]
    pub fn tls_session(&self) -> Option<&rustls::ClientConnection> {
        match self {
            Self::Plain(_) => None,
            Self::Rustls(s) => Some(s.get_ref().1),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTlsStream<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTlsStream<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "rustls")]
            Self::Rustls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How a client opens `wss://` connections: a rustls configuration
/// (trust anchors, client certificate, ALPN), shared by every connection
/// made with it.
///
/// ```
/// # #[cfg(feature = "rustls")]
/// # fn build(ca_pem: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// use autostrada::{ClientBuilder, Connector};
/// use rustls::pki_types::{CertificateDer, pem::PemObject};
///
/// // Trust one private CA, e.g. a test or company CA.
/// let mut roots = rustls::RootCertStore::empty();
/// roots.add(CertificateDer::from_pem_slice(ca_pem)?)?;
/// let client = ClientBuilder::new().connector(Connector::with_roots(roots));
/// // client.connect("wss://internal.example:8443/feed").await?
/// # drop(client);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Connector {
    /// The default: `ws://` in the clear; `wss://` with the roots the
    /// enabled feature names (`rustls-webpki-roots`, `rustls-native-roots`),
    /// or an error saying which feature to enable.
    #[default]
    Default,
    /// `wss://` with this rustls configuration, used as given (set its
    /// `alpn_protocols` yourself if the server needs ALPN).
    #[cfg(feature = "rustls")]
    Rustls(std::sync::Arc<rustls::ClientConfig>),
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("Connector::Default"),
            #[cfg(feature = "rustls")]
            Self::Rustls(_) => f.write_str("Connector::Rustls(..)"),
        }
    }
}

#[cfg(feature = "rustls")]
mod with_rustls {
    use std::sync::{Arc, OnceLock};

    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use rustls::{ClientConfig, RootCertStore};
    use tokio::io::{AsyncRead, AsyncWrite};

    use super::{Connector, MaybeTlsStream};
    use crate::error::Error;

    /// The ALPN protocol a WebSocket upgrade runs on (RFC 6455 §4.1: an
    /// HTTP/1.1 request).
    const ALPN_HTTP11: &[u8] = b"http/1.1";

    fn builder() -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        // The ring provider supports the default versions: this cannot fail.
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports TLS 1.2 and 1.3")
    }

    fn finish(mut config: ClientConfig) -> Connector {
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        Connector::Rustls(Arc::new(config))
    }

    impl Connector {
        /// `wss://` trusting exactly `roots`, ALPN `http/1.1`, no client
        /// certificate.
        #[must_use]
        pub fn with_roots(roots: RootCertStore) -> Self {
            finish(builder().with_root_certificates(roots).with_no_client_auth())
        }

        /// `wss://` trusting `roots` and presenting a client certificate
        /// (`chain` starts with the client's own certificate) for servers
        /// that ask for one.
        ///
        /// # Errors
        /// The key does not fit the certificate or is of a kind rustls does
        /// not support.
        pub fn with_client_auth(
            roots: RootCertStore,
            chain: Vec<CertificateDer<'static>>,
            key: PrivateKeyDer<'static>,
        ) -> Result<Self, Error> {
            let config = builder()
                .with_root_certificates(roots)
                .with_client_auth_cert(chain, key)
                .map_err(|e| tls_error(format!("client certificate rejected: {e}")))?;
            Ok(finish(config))
        }

        /// `wss://` with a rustls configuration you built, used as given.
        #[must_use]
        pub fn rustls(config: Arc<ClientConfig>) -> Self {
            Self::Rustls(config)
        }

        /// Wraps a connected transport in TLS for `host` (a DNS name or an
        /// IP address) when `tls` is set.
        pub(crate) async fn wrap<S>(&self, stream: S, host: &str, tls: bool) -> Result<MaybeTlsStream<S>, Error>
        where
            S: AsyncRead + AsyncWrite + Unpin,
        {
            if !tls {
                return Ok(MaybeTlsStream::Plain(stream));
            }
            let config = match self {
                Self::Rustls(config) => config.clone(),
                Self::Default => default_config()?,
            };
            let name = ServerName::try_from(host.to_owned())
                .map_err(|_| tls_error(format!("{host:?} is neither a DNS name nor an IP address")))?;
            let tls = tokio_rustls::TlsConnector::from(config).connect(name, stream).await.map_err(|e| {
                // rustls reports a refused certificate or a failed handshake
                // inside an io::Error; the socket's own failures stay Io.
                if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                    tls_error(format!("TLS handshake with {host} failed: {e}"))
                } else {
                    Error::Io(e)
                }
            })?;
            Ok(MaybeTlsStream::Rustls(Box::new(tls)))
        }
    }

    fn tls_error(text: String) -> Error {
        Error::Tls(text)
    }

    /// The configuration `Connector::Default` uses for `wss://`, built on
    /// first use (reading the system store takes milliseconds) and shared.
    fn default_config() -> Result<Arc<ClientConfig>, Error> {
        static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
        let config = CONFIG.get_or_init(|| {
            let roots = default_roots()?;
            match finish(builder().with_root_certificates(roots).with_no_client_auth()) {
                Connector::Rustls(config) => Ok(config),
                Connector::Default => unreachable!("finish always builds a rustls connector"),
            }
        });
        config.clone().map_err(tls_error)
    }

    #[allow(clippy::unnecessary_wraps, unused_mut)]
    fn default_roots() -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        #[cfg(feature = "rustls-webpki-roots")]
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        #[cfg(feature = "rustls-native-roots")]
        {
            let found = rustls_native_certs::load_native_certs();
            let (added, _ignored) = roots.add_parsable_certificates(found.certs);
            if added == 0 && roots.is_empty() {
                return Err(format!(
                    "no usable certificate in the system's store ({} errors reading it); install the CA \
                     certificates package or pass a Connector with your roots",
                    found.errors.len()
                ));
            }
        }
        if roots.is_empty() {
            return Err("wss:// with the default connector needs the `rustls-webpki-roots` or \
                        `rustls-native-roots` feature; or pass ClientBuilder::connector(Connector::with_roots(..))"
                .into());
        }
        Ok(roots)
    }
}
