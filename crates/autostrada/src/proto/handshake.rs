//! The opening handshake (RFC 6455 §4), both roles, without I/O.
//!
//! Client: [`client_request`] writes the upgrade request for a fresh
//! [`generate_key`]; [`parse_response`] reads the server's answer from the
//! bytes received so far and [`check_response`] verifies it.
//! Server: [`parse_request`] and [`check_request`] read and verify the
//! request; [`server_response`] or [`rejection`] write the answer.
//!
//! Head sizes and header counts are bounded by [`HandshakeLimits`], so a peer
//! cannot make us buffer an endless head.
//!
//! ```
//! use autostrada::proto::handshake::accept_key;
//!
//! // RFC 6455 §1.3
//! assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! ```

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri, header};
use sha1::{Digest, Sha1};

mod progress;
pub use progress::HeadProgress;

/// RFC 6455 §1.3: the GUID appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Bounds on the head of a handshake request or response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeLimits {
    /// Largest head in octets, request line and headers included.
    pub max_head_size: usize,
    /// Most header fields.
    pub max_headers: usize,
}

impl Default for HandshakeLimits {
    /// 16 KiB and 64 headers: far above what browsers send, far below what hurts.
    fn default() -> Self {
        Self { max_head_size: 16 * 1024, max_headers: 64 }
    }
}

/// Why a handshake failed. The message says what was wrong and, where it
/// helps, what the peer should have sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head exceeded [`HandshakeLimits::max_head_size`].
    HeadTooLarge(usize),
    /// More header fields than [`HandshakeLimits::max_headers`].
    TooManyHeaders(usize),
    /// The head is not valid HTTP/1.1.
    MalformedHttp(String),
    /// The request method is not GET (RFC 6455 §4.1).
    NotGet(String),
    /// The HTTP version is older than 1.1.
    HttpVersion,
    /// A required header is missing or has the wrong value.
    Header {
        /// The header's name.
        name: &'static str,
        /// What was expected.
        expected: &'static str,
        /// What was received (empty when missing).
        got: String,
    },
    /// `Sec-WebSocket-Key` is not 16 octets in base64 (RFC 6455 §4.1).
    BadKey(String),
    /// The server did not answer 101 Switching Protocols.
    Status(u16),
    /// `Sec-WebSocket-Accept` does not match the key we sent.
    BadAccept {
        /// The value the key implies.
        expected: String,
        /// The value the server sent.
        got: String,
    },
    /// The server selected something we did not offer.
    Unrequested(&'static str, String),
    /// The URL cannot be used for a WebSocket connection.
    Url(String),
    /// Server: the request's `Host` is missing, repeated or not a
    /// `host[:port]` (RFC 9112 §3.2); the text says which.
    Host(String),
    /// Server: the request target is neither a path (`/chat`) nor an
    /// absolute URI (`ws://example.com/chat`): `*` and a bare authority
    /// belong to OPTIONS and CONNECT only (RFC 9112 §3.2.3, §3.2.4).
    Target(String),
    /// Server: the application chose a subprotocol the client did not
    /// offer (RFC 6455 §4.2.2); the client is answered 500.
    NotOffered(String),
    /// permessage-deflate negotiation failed (RFC 7692).
    Extension(super::deflate::DeflateError),
    /// Server, in a hyper service: an HTTP/2 request that is not a
    /// WebSocket extended CONNECT (RFC 8441 §4: `CONNECT` with `:protocol`
    /// `websocket`), or HTTP/2 support not built (feature `hyper-http2`);
    /// the text says which.
    Http2(String),
}

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HeadTooLarge(n) => write!(
                f,
                "handshake head exceeds {n} octets; raise HandshakeLimits::max_head_size if that is legitimate"
            ),
            Self::TooManyHeaders(n) => write!(
                f,
                "handshake has more than {n} header fields; raise HandshakeLimits::max_headers if that is legitimate"
            ),
            Self::MalformedHttp(e) => write!(f, "handshake is not valid HTTP/1.1: {e}"),
            Self::NotGet(m) => write!(f, "a WebSocket upgrade must use GET, not {m}"),
            Self::HttpVersion => f.write_str("a WebSocket upgrade needs HTTP/1.1 or later"),
            Self::Header { name, expected, got } if got.is_empty() => {
                write!(f, "missing header {name}: expected {expected}")
            }
            Self::Header { name, expected, got } => write!(f, "header {name} is {got:?}: expected {expected}"),
            Self::BadKey(k) => write!(f, "Sec-WebSocket-Key {k:?} is not 16 octets encoded in base64"),
            Self::Status(s) => write!(f, "server answered HTTP {s} instead of 101 Switching Protocols"),
            Self::BadAccept { expected, got } => write!(
                f,
                "Sec-WebSocket-Accept is {got:?}, expected {expected:?}: the server did not compute it from our key"
            ),
            Self::Unrequested(what, v) => {
                write!(f, "server selected {what} {v:?}, which we did not offer")
            }
            Self::Url(e) => write!(f, "unusable WebSocket URL: {e}"),
            Self::Host(why) => write!(f, "bad Host header: {why} (RFC 9112 §3.2 wants exactly one host[:port])"),
            Self::Target(t) => {
                write!(
                    f,
                    "request target {t:?} is not a path or an absolute URI (a WebSocket upgrade asks for a resource)"
                )
            }
            Self::NotOffered(p) => write!(
                f,
                "the server chose subprotocol {p:?}, which the client did not offer (RFC 6455 §4.2.2: choose one of its offers or none)"
            ),
            Self::Extension(e) => write!(f, "{e}"),
            Self::Http2(why) => write!(f, "not a WebSocket over HTTP/2: {why}"),
        }
    }
}

impl std::error::Error for HandshakeError {}

/// A fresh `Sec-WebSocket-Key`: 16 octets from the thread's CSPRNG, in base64.
#[must_use]
pub fn generate_key() -> String {
    BASE64.encode(rand::random::<[u8; 16]>())
}

/// RFC 6455 §4.2.2: base64(SHA-1(key ++ GUID)).
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    BASE64.encode(sha.finalize())
}

/// Splits a comma-separated header into trimmed tokens.
fn tokens(value: &HeaderValue) -> impl Iterator<Item = &str> {
    value.to_str().unwrap_or("").split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// True if any instance of `name` lists `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| tokens(v).any(|t| t.eq_ignore_ascii_case(token)))
}

fn joined(headers: &HeaderMap, name: header::HeaderName) -> String {
    let all: Vec<&str> = headers.get_all(name).iter().map(|v| v.to_str().unwrap_or("<non-ASCII>")).collect();
    all.join(", ")
}

/// Checks `Upgrade: websocket` and `Connection: upgrade` (RFC 6455 §4.1, §4.2.1).
fn check_upgrade_headers(headers: &HeaderMap) -> Result<(), HandshakeError> {
    if !has_token(headers, header::UPGRADE, "websocket") {
        return Err(HandshakeError::Header {
            name: "Upgrade",
            expected: "websocket",
            got: joined(headers, header::UPGRADE),
        });
    }
    if !has_token(headers, header::CONNECTION, "upgrade") {
        return Err(HandshakeError::Header {
            name: "Connection",
            expected: "a list containing upgrade",
            got: joined(headers, header::CONNECTION),
        });
    }
    Ok(())
}

/// RFC 6455 §4.1 makes the opening handshake a GET, and a GET's content
/// has no meaning (RFC 9110 §9.3.1). Here it would have one: whatever
/// follows the head is read as WebSocket frames, so a request that
/// announces a body is refused rather than have its body taken for frames
/// (an intermediary that forwards the body as such and then the next
/// request would otherwise smuggle that request in as frame octets).
/// `Content-Length: 0` announces none and passes.
fn check_no_body(headers: &HeaderMap) -> Result<(), HandshakeError> {
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return Err(HandshakeError::Header {
            name: "Transfer-Encoding",
            expected: "none: an upgrade request has no body",
            got: joined(headers, header::TRANSFER_ENCODING),
        });
    }
    let lengths = joined(headers, header::CONTENT_LENGTH);
    if !lengths.is_empty() && lengths.split(',').any(|l| l.trim() != "0") {
        return Err(HandshakeError::Header {
            name: "Content-Length",
            expected: "none or 0: an upgrade request has no body",
            got: lengths,
        });
    }
    Ok(())
}

fn head_error(e: httparse::Error, limits: &HandshakeLimits) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders(limits.max_headers),
        other => HandshakeError::MalformedHttp(other.to_string()),
    }
}

fn check_partial(buf: &[u8], limits: &HandshakeLimits) -> Result<(), HandshakeError> {
    if buf.len() > limits.max_head_size { Err(HandshakeError::HeadTooLarge(limits.max_head_size)) } else { Ok(()) }
}

fn copy_headers(parsed: &[httparse::Header<'_>], into: &mut HeaderMap) -> Result<(), HandshakeError> {
    for h in parsed {
        let name = header::HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|e| HandshakeError::MalformedHttp(e.to_string()))?;
        // A folded value (a response's only: requests refuse obs-fold)
        // keeps its line breaks; each becomes a space.
        let unfolded: Vec<u8>;
        let value = if h.value.iter().any(|&b| b == b'\r' || b == b'\n') {
            unfolded = h.value.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect();
            &unfolded[..]
        } else {
            h.value
        };
        let value = HeaderValue::from_bytes(value).map_err(|e| HandshakeError::MalformedHttp(e.to_string()))?;
        into.append(name, value);
    }
    Ok(())
}

/// Slots for httparse: the configured maximum, but no more than `buf` can
/// hold (a header line takes at least three octets), so that a limit of
/// `usize::MAX` means "unlimited" rather than an impossible allocation.
fn header_slots(buf: &[u8], limits: &HandshakeLimits) -> usize {
    limits.max_headers.min(buf.len() / 3 + 1)
}

/// Server: parses the upgrade request at the front of `buf`.
///
/// `Ok(None)` means more bytes are needed; `Ok(Some((request, n)))` means the
/// head took `n` octets and anything after it is already WebSocket data.
pub fn parse_request(buf: &[u8], limits: &HandshakeLimits) -> Result<Option<(Request<()>, usize)>, HandshakeError> {
    let mut headers = vec![httparse::EMPTY_HEADER; header_slots(buf, limits)];
    let mut req = httparse::Request::new(&mut headers);
    let n = match req.parse(buf).map_err(|e| head_error(e, limits))? {
        httparse::Status::Partial => return check_partial(buf, limits).map(|()| None),
        httparse::Status::Complete(n) if n > limits.max_head_size => {
            return Err(HandshakeError::HeadTooLarge(limits.max_head_size));
        }
        httparse::Status::Complete(n) => n,
    };
    let method = req.method.unwrap_or_default();
    if method != "GET" {
        return Err(HandshakeError::NotGet(method.to_owned()));
    }
    if req.version != Some(1) {
        return Err(HandshakeError::HttpVersion);
    }
    let mut out = Request::builder()
        .method(http::Method::GET)
        .uri(req.path.unwrap_or("/"))
        .version(http::Version::HTTP_11)
        .body(())
        .map_err(|e| HandshakeError::MalformedHttp(e.to_string()))?;
    copy_headers(req.headers, out.headers_mut())?;
    Ok(Some((out, n)))
}

/// Server: verifies an upgrade request (RFC 6455 §4.2.1; one that announces
/// a body is refused, see `check_no_body`) and returns the
/// `Sec-WebSocket-Accept` value to answer with.
pub fn check_request<B>(req: &Request<B>) -> Result<String, HandshakeError> {
    let headers = req.headers();
    check_host(headers)?;
    check_target(req.uri())?;
    check_upgrade_headers(headers)?;
    check_no_body(headers)?;
    check_version(headers)?;
    let mut keys = headers.get_all(header::SEC_WEBSOCKET_KEY).iter();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return Err(HandshakeError::BadKey(joined(headers, header::SEC_WEBSOCKET_KEY)));
    };
    match BASE64.decode(key.as_bytes()) {
        Ok(raw) if raw.len() == 16 => Ok(accept_key(key.as_bytes())),
        _ => Err(HandshakeError::BadKey(String::from_utf8_lossy(key.as_bytes()).into_owned())),
    }
}

/// RFC 6455 §4.2.1: a single `Sec-WebSocket-Version: 13` (a server
/// answers any other with 426 and the versions it speaks).
pub fn check_version(headers: &HeaderMap) -> Result<(), HandshakeError> {
    let version = joined(headers, header::SEC_WEBSOCKET_VERSION);
    if version != "13" {
        return Err(HandshakeError::Header { name: "Sec-WebSocket-Version", expected: "13", got: version });
    }
    Ok(())
}

/// The `Sec-WebSocket-Extensions` values of a request or response, parsed.
#[must_use]
pub fn extensions(headers: &HeaderMap) -> Vec<super::deflate::negotiate::Extension> {
    super::deflate::negotiate::parse_extensions(
        headers.get_all(header::SEC_WEBSOCKET_EXTENSIONS).iter().filter_map(|v| v.to_str().ok()),
    )
}

/// The subprotocols a client offered, in its order of preference.
#[must_use]
pub fn offered_protocols<B>(req: &Request<B>) -> Vec<String> {
    req.headers().get_all(header::SEC_WEBSOCKET_PROTOCOL).iter().flat_map(tokens).map(str::to_owned).collect()
}

/// Server: the 101 response head. `extra` headers are added as given
/// (e.g. `Sec-WebSocket-Protocol`).
#[must_use]
pub fn server_response(accept: &str, extra: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept.as_bytes());
    out.extend_from_slice(b"\r\n");
    write_headers(&mut out, extra);
    out.extend_from_slice(b"\r\n");
    out
}

/// RFC 9112 §3.2: exactly one `Host`, whose value is `host[:port]` (an
/// application that routes or authorises by it must see the one the
/// client meant, not the first of several).
fn check_host(headers: &HeaderMap) -> Result<(), HandshakeError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let (Some(host), None) = (hosts.next(), hosts.next()) else {
        let n = headers.get_all(header::HOST).iter().count();
        return Err(HandshakeError::Host(if n == 0 { "missing".into() } else { format!("{n} of them") }));
    };
    let valid = host
        .to_str()
        .ok()
        .filter(|h| !h.is_empty() && !h.contains('@'))
        .and_then(|h| h.parse::<http::uri::Authority>().ok());
    match valid {
        Some(_) => Ok(()),
        None => Err(HandshakeError::Host(format!("{:?} is not host[:port]", String::from_utf8_lossy(host.as_bytes())))),
    }
}

/// RFC 9112 §3.2: a GET's target is a path (origin-form) or an absolute URI.
fn check_target(uri: &http::Uri) -> Result<(), HandshakeError> {
    let origin_form = uri.scheme().is_none() && uri.authority().is_none() && uri.path().starts_with('/');
    let absolute_form = uri.scheme().is_some() && uri.authority().is_some();
    if origin_form || absolute_form { Ok(()) } else { Err(HandshakeError::Target(uri.to_string())) }
}

/// Server: an error response for a refused handshake, with the reason as a
/// plain-text body. A wrong version is answered 426 with the version we
/// speak (RFC 6455 §4.4); a head over our limits 431, with a body that
/// names no limit (the figure and the knob are for the operator, who
/// finds them in the [`Error`](crate::Error)); anything else 400.
#[must_use]
pub fn rejection(err: &HandshakeError) -> Vec<u8> {
    let body = match err {
        HandshakeError::HeadTooLarge(_) | HandshakeError::TooManyHeaders(_) => {
            "the request's header fields are too large\n".to_owned()
        }
        _ => format!("{err}\n"),
    };
    let (status, extra) = match err {
        HandshakeError::Header { name: "Sec-WebSocket-Version", .. } => {
            (StatusCode::UPGRADE_REQUIRED, "Sec-WebSocket-Version: 13\r\n")
        }
        HandshakeError::HeadTooLarge(_) | HandshakeError::TooManyHeaders(_) => {
            (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "")
        }
        _ => (StatusCode::BAD_REQUEST, ""),
    };
    format!(
        "HTTP/1.1 {} {}\r\n{extra}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes()
}

/// Writes each header as `name: value` and a line end.
pub(crate) fn write_headers(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Client: host, port and resource of a `ws://` or `wss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// True for `wss://`.
    pub tls: bool,
    /// The host name or address, without IPv6 brackets.
    pub host: String,
    /// The port, defaulted from the scheme.
    pub port: u16,
    /// Path and query, at least `/`.
    pub resource: String,
}

impl Target {
    /// Reads a `ws://` or `wss://` URL.
    pub fn from_uri(uri: &Uri) -> Result<Self, HandshakeError> {
        let tls = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            Some(other) => {
                return Err(HandshakeError::Url(format!("scheme {other:?}: use ws:// or wss://")));
            }
            None => {
                return Err(HandshakeError::Url(format!("{uri} has no scheme: use ws://host[:port]/path")));
            }
        };
        let host = uri.host().ok_or_else(|| HandshakeError::Url(format!("{uri} has no host")))?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let resource = uri.path_and_query().map_or("/", |p| p.as_str());
        let resource = if resource.is_empty() { "/".to_owned() } else { resource.to_owned() };
        Ok(Self { tls, host, port, resource })
    }

    /// The `Host` header value: host, plus the port when it is not the default.
    #[must_use]
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default { host } else { format!("{host}:{}", self.port) }
    }
}

/// Client: the upgrade request head for `target` with `key`. `extra` headers
/// (e.g. `Origin`, `Sec-WebSocket-Protocol`) are added as given.
#[must_use]
///
/// A header in `extra` that the request needs anyway (`Host`, `Upgrade`,
/// `Connection`, `Sec-WebSocket-Version`, `Sec-WebSocket-Key`) replaces the
/// one made here: nothing is sent twice. `key` is used only when `extra` has
/// no `Sec-WebSocket-Key`.
pub fn client_request(target: &Target, key: &str, extra: &HeaderMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(format!("GET {} HTTP/1.1\r\n", target.resource).as_bytes());
    let made = [
        (header::HOST, "Host", target.host_header()),
        (header::UPGRADE, "Upgrade", "websocket".to_owned()),
        (header::CONNECTION, "Connection", "Upgrade".to_owned()),
        (header::SEC_WEBSOCKET_VERSION, "Sec-WebSocket-Version", "13".to_owned()),
        (header::SEC_WEBSOCKET_KEY, "Sec-WebSocket-Key", key.to_owned()),
    ];
    for (name, written, value) in made {
        if !extra.contains_key(&name) {
            out.extend_from_slice(format!("{written}: {value}\r\n").as_bytes());
        }
    }
    write_headers(&mut out, extra);
    out.extend_from_slice(b"\r\n");
    out
}

/// Client: parses the server's response head at the front of `buf`.
/// `Ok(None)` means more bytes are needed.
pub fn parse_response(buf: &[u8], limits: &HandshakeLimits) -> Result<Option<(Response<()>, usize)>, HandshakeError> {
    let mut headers = vec![httparse::EMPTY_HEADER; header_slots(buf, limits)];
    let mut resp = httparse::Response::new(&mut headers);
    // RFC 9112 §5.2: a user agent reads a folded header line (obs-fold) on,
    // its folds taken as spaces (`copy_headers`).
    let mut config = httparse::ParserConfig::default();
    config.allow_obsolete_multiline_headers_in_responses(true);
    let n = match config.parse_response(&mut resp, buf).map_err(|e| head_error(e, limits))? {
        httparse::Status::Partial => return check_partial(buf, limits).map(|()| None),
        httparse::Status::Complete(n) if n > limits.max_head_size => {
            return Err(HandshakeError::HeadTooLarge(limits.max_head_size));
        }
        httparse::Status::Complete(n) => n,
    };
    // An HTTP/1.0 answer is read too: a server (or a proxy in front of it)
    // that refuses in 1.0 keeps its status, headers and body for the
    // caller; only a 101 must be HTTP/1.1 (see `check_response`).
    let version = match resp.version {
        Some(1) => http::Version::HTTP_11,
        Some(0) => http::Version::HTTP_10,
        _ => return Err(HandshakeError::HttpVersion),
    };
    let mut out = Response::builder()
        .status(resp.code.unwrap_or(0))
        .version(version)
        .body(())
        .map_err(|e| HandshakeError::MalformedHttp(e.to_string()))?;
    copy_headers(resp.headers, out.headers_mut())?;
    Ok(Some((out, n)))
}

/// Client: verifies the server's answer to a request sent with `key`
/// (RFC 6455 §4.1, "the client MUST validate the server's response").
/// `protocols` are the subprotocols we offered; with `extensions_offered`
/// false, any `Sec-WebSocket-Extensions` in the answer is refused (with it
/// true, the caller checks the extensions it offered).
pub fn check_response(
    resp: &Response<()>,
    key: &str,
    protocols: &[String],
    extensions_offered: bool,
) -> Result<(), HandshakeError> {
    if resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(HandshakeError::Status(resp.status().as_u16()));
    }
    if resp.version() != http::Version::HTTP_11 {
        return Err(HandshakeError::HttpVersion);
    }
    let headers = resp.headers();
    // RFC 6455 §4.1: the answer's Upgrade is `websocket` and nothing else
    // (a request may list several protocols; the switch names one).
    let upgrade = joined(headers, header::UPGRADE);
    if !upgrade.trim().eq_ignore_ascii_case("websocket") {
        return Err(HandshakeError::Header { name: "Upgrade", expected: "websocket", got: upgrade });
    }
    check_upgrade_headers(headers)?;
    let expected = accept_key(key.as_bytes());
    let mut accepts = headers.get_all(header::SEC_WEBSOCKET_ACCEPT).iter();
    match (accepts.next(), accepts.next()) {
        (Some(v), None) if v.as_bytes() == expected.as_bytes() => {}
        _ => {
            return Err(HandshakeError::BadAccept { expected, got: joined(headers, header::SEC_WEBSOCKET_ACCEPT) });
        }
    }
    // RFC 6455 §4.1: no extension we did not offer. A value that is not
    // text cannot name one we offered either (and must not be dropped
    // unread, as parsing the rest would).
    for ext in headers.get_all(header::SEC_WEBSOCKET_EXTENSIONS) {
        if !extensions_offered || ext.to_str().is_err() {
            return Err(HandshakeError::Unrequested("extension", String::from_utf8_lossy(ext.as_bytes()).into_owned()));
        }
    }
    // RFC 6455 §4.1: one subprotocol, one we offered; §11.3.4: the header
    // appears at most once in a response.
    let mut chosen = headers.get_all(header::SEC_WEBSOCKET_PROTOCOL).iter();
    if let Some(p) = chosen.next() {
        let text = p.to_str().ok().filter(|p| protocols.iter().any(|o| o == p));
        if text.is_none() || chosen.next().is_some() {
            return Err(HandshakeError::Unrequested("subprotocol", joined(headers, header::SEC_WEBSOCKET_PROTOCOL)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
