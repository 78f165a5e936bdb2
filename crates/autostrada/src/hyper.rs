//! WebSockets inside a hyper 1.x server — axum's routes included (feature
//! `hyper`): [`upgrade`] checks the request, negotiates the subprotocol and
//! permessage-deflate exactly as [`ServerBuilder`] does, and gives the 101
//! response to return plus a future that yields the [`WebSocket`] once hyper
//! has handed the connection over.
//!
//! ```no_run
//! use autostrada::{ServerBuilder, hyper::upgrade};
//! use futures_util::{SinkExt, StreamExt};
//!
//! // An axum handler; a hyper `service_fn` looks the same.
//! async fn ws(mut request: axum::extract::Request) -> axum::response::Response {
//!     let server = ServerBuilder::new().protocols(["chat.v1"]);
//!     match upgrade(&mut request, &server) {
//!         Ok((response, socket)) => {
//!             tokio::spawn(async move {
//!                 let Ok(mut ws) = socket.await else { return };
//!                 while let Some(Ok(message)) = ws.next().await {
//!                     if message.is_data() && ws.send(message).await.is_err() {
//!                         break;
//!                     }
//!                 }
//!             });
//!             response
//!         }
//!         Err(e) => autostrada::hyper::bad_request(&e),
//!     }
//! }
//! ```
//!
//! hyper's HTTP/1 connection must be served `with_upgrades()` (axum's
//! `serve` does this).
//!
//! # WebSockets over HTTP/2 (RFC 8441)
//!
//! With the `hyper-http2` feature the same [`upgrade`] also takes an HTTP/2
//! extended CONNECT (`:method CONNECT`, `:protocol websocket`): it answers
//! 200 instead of 101, with no `Sec-WebSocket-Accept` (RFC 8441 §5: the key
//! and accept are not used over HTTP/2), and the socket runs on that one
//! stream of the HTTP/2 connection, frames and masking unchanged. The
//! server must announce the extended CONNECT in its settings
//! (`hyper::server::conn::http2::Builder::enable_connect_protocol`; a
//! client never sends one otherwise), and a router must let `CONNECT` in
//! as well as `GET`. Without the feature an HTTP/2 request is refused with
//! [`HandshakeError::Http2`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use hyper_util::rt::TokioIo;

use crate::config::Config;
use crate::error::Error;
use crate::proto::Role;
use crate::proto::deflate::DeflateParams;
use crate::proto::handshake::{self, HandshakeError};
use crate::server::ServerBuilder;
use crate::stream::WebSocket;
use crate::upgrade::{Accept, negotiate};

/// The socket a hyper upgrade yields.
pub type HyperWebSocket = WebSocket<TokioIo<::hyper::upgrade::Upgraded>>;

/// Upgrades `request` with `server`'s subprotocols, limits and
/// permessage-deflate policy; see [`upgrade_with`].
///
/// # Errors
/// As [`upgrade_with`].
pub fn upgrade<B: Default, R>(
    request: &mut Request<R>,
    server: &ServerBuilder,
) -> Result<(Response<B>, PendingWebSocket), Error> {
    upgrade_with(request, server, Accept::new())
}

/// Upgrades `request`: returns the 101 response to send (with `answer`'s
/// subprotocol and headers) and a future that yields the socket once hyper
/// hands the connection over. Look at the request (`Origin`, credentials,
/// path) before calling this; to refuse, return your own response instead.
///
/// Over HTTP/2 (feature `hyper-http2`) the request is an extended CONNECT
/// and the response a 200 (see the [module docs](self)).
///
/// # Errors
/// [`Error::Handshake`] when the request is not a valid WebSocket upgrade
/// (not `GET`, not HTTP/1.1, a missing or wrong header; over HTTP/2 not an
/// extended CONNECT for `websocket`: answer it with [`bad_request`]) or
/// `answer` names a subprotocol the client did not offer.
pub fn upgrade_with<B: Default, R>(
    request: &mut Request<R>,
    server: &ServerBuilder,
    answer: Accept,
) -> Result<(Response<B>, PendingWebSocket), Error> {
    if request.version() == Version::HTTP_2 {
        return upgrade_http2(request, server, answer);
    }
    if request.method() != Method::GET {
        return Err(HandshakeError::NotGet(request.method().to_string()).into());
    }
    if request.version() != Version::HTTP_11 {
        return Err(HandshakeError::HttpVersion.into());
    }
    let accept_key = handshake::check_request(request)?;
    let mut agreed = negotiate(request, server, answer)?;
    let mut response = Response::new(B::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    let accept = HeaderValue::from_str(&accept_key).map_err(|e| HandshakeError::MalformedHttp(e.to_string()))?;
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    headers.extend(std::mem::take(&mut agreed.headers));
    Ok((response, PendingWebSocket::new(request, server, agreed)))
}

/// RFC 8441: a WebSocket on one stream of an HTTP/2 connection.
#[cfg(feature = "hyper-http2")]
fn upgrade_http2<B: Default, R>(
    request: &mut Request<R>,
    server: &ServerBuilder,
    answer: Accept,
) -> Result<(Response<B>, PendingWebSocket), Error> {
    let refuse = |why: String| Err(HandshakeError::Http2(why).into());
    // RFC 8441 §4: the extended CONNECT names the protocol in `:protocol`
    // (the token registered for RFC 6455 is `websocket`); a GET cannot
    // upgrade over HTTP/2, which has no Upgrade header.
    if request.method() != Method::CONNECT {
        return refuse(format!(
            "{} cannot upgrade over HTTP/2; a client opens a WebSocket with an extended CONNECT \
             (:protocol websocket, RFC 8441 §4)",
            request.method()
        ));
    }
    match request.extensions().get::<::hyper::ext::Protocol>() {
        Some(p) if p.as_str().eq_ignore_ascii_case("websocket") => {}
        Some(p) => return refuse(format!(":protocol is {:?}, expected \"websocket\"", p.as_str())),
        None => return refuse("a CONNECT without :protocol is a plain tunnel request, not a WebSocket".into()),
    }
    // RFC 8441 §5: the version is checked as in RFC 6455 §4.2.1 (426 for
    // any other); Sec-WebSocket-Key and Sec-WebSocket-Accept are not used.
    handshake::check_version(request.headers())?;
    let mut agreed = negotiate(request, server, answer)?;
    let mut response = Response::new(B::default());
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().extend(std::mem::take(&mut agreed.headers));
    Ok((response, PendingWebSocket::new(request, server, agreed)))
}

/// Without `hyper-http2`: an HTTP/2 request is refused, saying why.
#[cfg(not(feature = "hyper-http2"))]
fn upgrade_http2<B: Default, R>(
    _: &mut Request<R>,
    _: &ServerBuilder,
    _: Accept,
) -> Result<(Response<B>, PendingWebSocket), Error> {
    Err(HandshakeError::Http2(
        "this server was built without autostrada's `hyper-http2` feature, which WebSockets over HTTP/2 \
         (RFC 8441) need"
            .into(),
    )
    .into())
}

/// A 400 (426 for a wrong `Sec-WebSocket-Version`, 500 for a subprotocol
/// the client did not offer) response naming what was wrong, for the `Err`
/// of [`upgrade`].
#[must_use]
pub fn bad_request<B: From<String>>(error: &Error) -> Response<B> {
    let status = match error {
        Error::Handshake(HandshakeError::Header { name: "Sec-WebSocket-Version", .. }) => StatusCode::UPGRADE_REQUIRED,
        // The server chose a subprotocol the client did not offer: our fault.
        Error::Handshake(HandshakeError::NotOffered(..)) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = Response::new(B::from(format!("{error}\n")));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    if status == StatusCode::UPGRADE_REQUIRED {
        headers.insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    response
}

/// Yields the [`HyperWebSocket`] once hyper has sent the 101 (the 200 over
/// HTTP/2) and handed the connection (the stream) over. Await it in a task
/// of its own: hyper hands over only after the response returned from the
/// service went out.
pub struct PendingWebSocket {
    on_upgrade: ::hyper::upgrade::OnUpgrade,
    config: Arc<Config>,
    deflate: Option<DeflateParams>,
    protocol: Option<String>,
}

impl PendingWebSocket {
    /// The socket `request`'s upgrade yields, with what the handshake agreed.
    fn new<R>(request: &mut Request<R>, server: &ServerBuilder, agreed: crate::upgrade::Agreed) -> Self {
        Self {
            on_upgrade: ::hyper::upgrade::on(request),
            config: Arc::clone(&server.config),
            deflate: agreed.deflate,
            protocol: agreed.protocol,
        }
    }
}

impl std::fmt::Debug for PendingWebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingWebSocket").field("protocol", &self.protocol).finish_non_exhaustive()
    }
}

impl Future for PendingWebSocket {
    type Output = Result<HyperWebSocket, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let upgraded = ready!(Pin::new(&mut this.on_upgrade).poll(cx))
            .map_err(|e| Error::Io(std::io::Error::other(format!("hyper did not hand the connection over: {e}"))))?;
        // hyper's Upgraded yields any octets it read past the request first.
        let io = TokioIo::new(upgraded);
        let mut ws = WebSocket::from_upgraded(io, Role::Server, &this.config, BytesMut::new(), this.deflate);
        ws.reader.set_protocol(this.protocol.take().map(String::into_boxed_str));
        Poll::Ready(Ok(ws))
    }
}
