//! Control over a server's upgrade before the 101 goes out: look at the
//! request, then [`Upgrade::accept`] it (choosing the subprotocol and adding
//! response headers with [`Accept`]) or [`Upgrade::reject`] it with any
//! status, headers and body.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, header};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::error::Error;
use crate::proto::Role;
use crate::proto::deflate::DeflateParams;
use crate::proto::handshake::{self, HandshakeError};
use crate::server::ServerBuilder;
use crate::stream::WebSocket;

/// A valid upgrade request that has not been answered yet, from
/// [`ServerBuilder::read_request`].
///
/// ```no_run
/// use autostrada::{Accept, ServerBuilder};
/// use http::{Response, StatusCode};
///
/// # async fn serve(tcp: tokio::net::TcpStream) -> Result<(), autostrada::Error> {
/// let server = ServerBuilder::new().protocols(["chat.v2", "chat.v1"]);
/// let upgrade = server.read_request(tcp).await?;
/// let origin = upgrade.request().headers().get("origin").and_then(|o| o.to_str().ok());
/// if origin != Some("https://app.example") {
///     let refusal = Response::builder()
///         .status(StatusCode::FORBIDDEN)
///         .header("x-reason", "origin")
///         .body("cross-origin WebSockets are not allowed\n")
///         .unwrap();
///     return upgrade.reject(refusal).await;
/// }
/// let ws = upgrade.accept_with(Accept::new().header("x-session", "42")?).await?;
/// println!("speaking {:?}", ws.protocol());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Upgrade<S> {
    pub(crate) stream: S,
    /// Octets read past the request's head.
    pub(crate) leftover: BytesMut,
    pub(crate) request: Request<()>,
    /// The `Sec-WebSocket-Accept` value for the request's key.
    pub(crate) accept_key: String,
    pub(crate) server: ServerBuilder,
}

/// How to answer an upgrade: the subprotocol and extra response headers.
/// By default the [`ServerBuilder`]'s subprotocol preference chooses and no
/// header is added.
#[derive(Debug, Clone, Default)]
pub struct Accept {
    protocol: Option<Option<String>>,
    headers: HeaderMap,
}

/// Response headers the handshake itself sets.
const OURS: [HeaderName; 9] = [
    header::UPGRADE,
    header::CONNECTION,
    header::SEC_WEBSOCKET_ACCEPT,
    header::SEC_WEBSOCKET_EXTENSIONS,
    header::SEC_WEBSOCKET_PROTOCOL,
    header::SEC_WEBSOCKET_KEY,
    header::SEC_WEBSOCKET_VERSION,
    // RFC 9110 §8.6, §6.1: a 101 carries no content.
    header::CONTENT_LENGTH,
    header::TRANSFER_ENCODING,
];

impl Accept {
    /// The default answer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Selects this subprotocol, which must be one the client offered
    /// (RFC 6455 §4.2.2); `accept_with` fails otherwise.
    #[must_use]
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(Some(protocol.into()));
        self
    }

    /// Selects no subprotocol, whatever the client offered.
    #[must_use]
    pub fn no_protocol(mut self) -> Self {
        self.protocol = Some(None);
        self
    }

    /// Adds a response header (a cookie, a session id, a rate-limit hint).
    ///
    /// # Errors
    /// An invalid name or value, or one of the headers the handshake sets
    /// itself (`Upgrade`, `Connection`, `Sec-WebSocket-*`: choose the
    /// subprotocol with [`protocol`](Self::protocol)) or a 101 must not
    /// carry (`Content-Length`, `Transfer-Encoding`).
    pub fn header<K, V>(mut self, name: K, value: V) -> Result<Self, Error>
    where
        K: TryInto<HeaderName>,
        V: TryInto<HeaderValue>,
    {
        let bad =
            |what: &str| Error::Handshake(HandshakeError::MalformedHttp(format!("invalid response header {what}")));
        let name = name.try_into().map_err(|_| bad("name"))?;
        let value = value.try_into().map_err(|_| bad(&format!("value for {name}")))?;
        if OURS.contains(&name) {
            return Err(Error::Handshake(HandshakeError::MalformedHttp(format!(
                "{name} is set by the handshake; choose the subprotocol with Accept::protocol"
            ))));
        }
        self.headers.append(name, value);
        Ok(self)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Upgrade<S> {
    /// The client's request: path, query, `Origin`, cookies, credentials.
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// The subprotocols the client offered, in its order.
    pub fn offered_protocols(&self) -> Vec<String> {
        handshake::offered_protocols(&self.request)
    }

    /// Answers 101 as the [`ServerBuilder`] would: its subprotocol
    /// preference, permessage-deflate if configured and offered.
    ///
    /// # Errors
    /// The socket failed while the answer went out.
    pub async fn accept(self) -> Result<WebSocket<S>, Error> {
        self.accept_with(Accept::new()).await
    }

    /// Answers 101 with the subprotocol and headers of `answer`.
    ///
    /// # Errors
    /// [`Accept::protocol`] named a subprotocol the client did not offer
    /// (the client is answered 500); the socket failed.
    pub async fn accept_with(self, answer: Accept) -> Result<WebSocket<S>, Error> {
        // Boxed, so that the answer's state does not size the caller's task
        // for the life of the connection.
        Box::pin(self.answer(answer)).await.map(|(ws, _)| ws)
    }

    /// Answers 101 and hands the request back with the socket.
    ///
    /// Not an `async fn`: the negotiation and the response's octets are
    /// worked out before the future exists, and the future uses `self` in
    /// place, so that a handshake in flight holds the upgrade once rather
    /// than in two slots (an `async fn` moves its arguments into locals).
    pub(crate) fn answer(self, answer: Accept) -> impl Future<Output = Result<(WebSocket<S>, Request<()>), Error>> {
        let outcome = match negotiate(&self.request, &self.server, answer) {
            Ok(agreed) => {
                Ok((handshake::server_response(&self.accept_key, &agreed.headers), agreed.protocol, agreed.deflate))
            }
            Err(e) => {
                let refusal =
                    plain(StatusCode::INTERNAL_SERVER_ERROR, "the server chose a subprotocol you did not offer\n");
                Err((render_response(refusal), e))
            }
        };
        let mut up = self;
        let limit = up.server.config.handshake_timeout;
        async move {
            let (response, protocol, deflate) = match outcome {
                Ok(agreed) => agreed,
                Err((refusal, e)) => {
                    // Best effort: the client may already be gone.
                    let _ = write_all_and_flush(&mut up.stream, &refusal, limit).await;
                    return Err(Error::Handshake(e));
                }
            };
            write_all_and_flush(&mut up.stream, &response, limit).await?;
            let mut ws = WebSocket::from_upgraded(up.stream, Role::Server, &up.server.config, up.leftover, deflate);
            ws.reader.set_protocol(protocol.map(String::into_boxed_str));
            Ok((ws, up.request))
        }
    }

    /// Refuses the upgrade with `response` — any final status (a 1xx is
    /// sent as 500), headers and body (`Content-Length` and `Connection:
    /// close` are set for you, `Transfer-Encoding` removed) — and closes the
    /// connection.
    ///
    /// # Errors
    /// The socket failed while the answer went out, or the answer took
    /// longer than [`Config::handshake_timeout`](crate::Config::handshake_timeout)
    /// to go out (a client that does not read it): [`Error::HandshakeTimeout`].
    pub async fn reject<B: Into<Bytes>>(mut self, response: Response<B>) -> Result<(), Error> {
        let limit = self.server.config.handshake_timeout;
        write_all_and_flush(&mut self.stream, &render_response(response.map(Into::into)), limit).await?;
        tokio::time::timeout(limit, self.stream.shutdown()).await.map_err(|_| Error::HandshakeTimeout)??;
        Ok(())
    }
}

/// What the server's answer agrees to: its extra headers (subprotocol,
/// permessage-deflate, the caller's own), the subprotocol and the deflate
/// parameters. Shared by the plain server and the hyper upgrade.
pub(crate) struct Agreed {
    pub(crate) headers: HeaderMap,
    pub(crate) protocol: Option<String>,
    pub(crate) deflate: Option<DeflateParams>,
}

/// Decides the subprotocol and permessage-deflate for `request` under
/// `server`'s settings and the caller's `answer`.
pub(crate) fn negotiate<B>(
    request: &Request<B>,
    server: &ServerBuilder,
    answer: Accept,
) -> Result<Agreed, HandshakeError> {
    let offered = handshake::offered_protocols(request);
    let protocol = match answer.protocol {
        // RFC 6455 §4.2.2: the server selects one of the client's values.
        Some(Some(p)) if !offered.contains(&p) => {
            return Err(HandshakeError::NotOffered(p));
        }
        Some(chosen) => chosen,
        None => server.protocols.iter().find(|p| offered.contains(p)).cloned(),
    };
    let mut headers = answer.headers;
    if let Some(p) = &protocol
        && let Ok(v) = HeaderValue::from_str(p)
    {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, v);
    }
    // RFC 7692 §5: accept the first permessage-deflate offer we can honour.
    let mut deflate = None;
    if let Some(policy) = &server.config.deflate
        && let Some((params, answer)) = policy.accept(&handshake::extensions(request.headers()))
        && let Ok(v) = HeaderValue::from_str(&answer)
    {
        headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, v);
        deflate = Some(params);
    }
    Ok(Agreed { headers, protocol, deflate })
}

fn plain(status: StatusCode, body: &'static str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(body.as_bytes()));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

/// The octets of a refusal: a final status (a 1xx becomes 500), the
/// caller's headers less `Transfer-Encoding`, a `Content-Length` and
/// `Connection: close`, then the body.
fn render_response(response: Response<Bytes>) -> Vec<u8> {
    let (mut parts, body) = response.into_parts();
    if parts.status.is_informational() {
        parts.status = StatusCode::INTERNAL_SERVER_ERROR;
    }
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    parts.headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    let mut head = format!("HTTP/1.1 {} {}\r\n", parts.status.as_u16(), parts.status.canonical_reason().unwrap_or(""))
        .into_bytes();
    crate::proto::handshake::write_headers(&mut head, &parts.headers);
    head.extend_from_slice(b"\r\n");
    head.extend_from_slice(&body);
    head
}

/// Writes `octets` and flushes them (TLS holds records until flushed).
async fn write_all_and_flush<S: AsyncWrite + Unpin>(
    stream: &mut S,
    octets: &[u8],
    limit: Duration,
) -> Result<(), Error> {
    // A client that sends its request and never reads would otherwise hold
    // a large refusal (and the task writing it) for ever.
    let writing = async {
        stream.write_all(octets).await?;
        stream.flush().await
    };
    tokio::time::timeout(limit, writing).await.map_err(|_| Error::HandshakeTimeout)?.map_err(Error::Io)
}
