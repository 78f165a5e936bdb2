//! The fuzzer as server: reads a client's upgrade request (logged like any
//! other octets), lets the caller decide what the request asks for, then
//! either refuses it with an HTTP error or completes the opening handshake
//! — answering permessage-deflate offers with the case's acceptor — and
//! hands over to the driver.
//!
//! Unlike the reference, the `Host` header's port is not checked against
//! the port of the spec's `url` (the reference refuses another port, and a
//! `Host` without one unless that port is 80, or 443 with TLS): behind a
//! port mapping (Docker, a proxy) they differ, and nothing in the protocol
//! depends on them. Neither server checks the host name. A port that is no
//! number at all is refused, as there.

use std::borrow::Cow;
use std::time::Instant;

use autostrada::proto::Role;
use autostrada::proto::handshake::{self, check_request};
use bytes::{Buf, BufMut};
use http::header::{
    CONNECTION, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderValue, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Duration, sleep_until};

use super::deflate::{Acceptor, Deflate, check_offers};
use super::driver::{DriveOptions, Handler, Session, dispatch, drive};
use super::duplicates::first_repeat;
use super::extension_header::read_extensions;
use super::http_head::{head_end, holdable_target, py_int, py_space, py_str_fails, py2_text, read_head};
use super::incoming::READ_CHUNK;
use super::peer::{Peer, State, Timeouts};
use super::transport::{Reader, Stream, Writer};

/// The request heads we accept are at most this large. The reference's
/// server takes a head of any size (a browser's may pass 16 KiB with its
/// cookies, and there it is served): this bound is ours, against a client
/// that sends headers for ever.
const MAX_HEAD: usize = 1 << 20;

/// What the fuzzer says it is in its 101 response.
pub const SERVER_HEADER: &str = concat!("wstest/", env!("CARGO_PKG_VERSION"));

/// A connection whose upgrade request has been read, not yet answered.
#[derive(Debug)]
pub struct Pending {
    peer: Peer,
    rd: Reader,
    wr: Writer,
    /// The parsed request.
    pub request: Request<()>,
    /// The request head as received.
    pub head: String,
    /// When the request was read (UTC).
    pub started: chrono::DateTime<chrono::Utc>,
}

/// Why no request could be read.
#[derive(Debug)]
pub enum RequestError {
    /// The connection ended, failed or timed out before a whole head arrived.
    Gone(String),
    /// The head arrived but is not a request we can take; answered already.
    Refused(String),
}

/// Reads the upgrade request of a fresh connection, within the open-handshake
/// timeout. A malformed or oversized head is answered with an HTTP error.
///
/// # Errors
/// See [`RequestError`].
pub async fn read_request(stream: Stream, timeouts: Timeouts) -> Result<Pending, RequestError> {
    if let Stream::Tcp(tcp) = &stream {
        let _ = tcp.set_nodelay(true);
    }
    let (mut rd, mut wr) = stream.split();
    let mut peer = Peer::new(Role::Server);
    peer.timeouts = timeouts;
    let deadline = tokio::time::Instant::now() + timeouts.open_handshake;
    loop {
        let buf = peer.head_buffer();
        let from = buf.len();
        let mut room = buf.limit(READ_CHUNK);
        let read = tokio::select! {
            r = rd.read_buf(&mut room) => r,
            () = sleep_until(deadline) => return Err(RequestError::Gone("no complete request within the opening handshake timeout".into())),
        };
        match read {
            Ok(n) if n > 0 => peer.note_read(from),
            Ok(_) => {
                return Err(RequestError::Gone(
                    "the client closed the connection before its request was complete".into(),
                ));
            }
            Err(e) => return Err(RequestError::Gone(e.to_string())),
        }
        let mut buf = peer.take_buffer();
        let refusal = match head_end(&buf, from) {
            Some(n) if n <= MAX_HEAD => match parse_head(&buf[..n]) {
                Ok(request) => {
                    let head = py2_text(&buf[..n]).unwrap_or_default().into_owned();
                    buf.advance(n);
                    peer.restore_buffer(buf);
                    return Ok(Pending { peer, rd, wr, request, head, started: chrono::Utc::now() });
                }
                Err(refusal) => refusal,
            },
            None if buf.len() <= MAX_HEAD => {
                peer.restore_buffer(buf);
                continue;
            }
            _ => HeadRefusal {
                status: 431,
                phrase: "Request Header Fields Too Large",
                reason: format!("the request head is larger than {MAX_HEAD} octets"),
            },
        };
        let response = error_response(refusal.status, refusal.phrase, &format!("wstest: {}", refusal.reason));
        let _ = wr.write_all(response.as_bytes()).await;
        let _ = wr.shutdown().await;
        return Err(RequestError::Refused(refusal.reason));
    }
}

/// Why a request head was refused, and the HTTP status that says so.
#[derive(Debug)]
struct HeadRefusal {
    status: u16,
    phrase: &'static str,
    reason: String,
}

impl HeadRefusal {
    fn bad(reason: String) -> Self {
        Self { status: 400, phrase: "Bad Request", reason }
    }
}

/// Reads a request head (up to and with its `\r\n\r\n`) the way the
/// reference's server reads it, which is not the way of an HTTP/1.1 parser
/// (RFC 7230): the head ends at the first CRLF CRLF only (a head whose
/// lines end in bare LF never ends, and the opening handshake times out);
/// its lines and fields are read as [`read_head`] reads them (`Name :
/// value` is taken, a line without a colon is passed over); the request
/// line must be three words, `GET`, the target and `HTTP/1.1` exactly.
/// A field whose name is no HTTP token, or whose value holds a control
/// character, cannot be held by our HTTP types and is passed over.
fn parse_head(head: &[u8]) -> Result<Request<()>, HeadRefusal> {
    // Decoded as the reference's server decodes it, encoded surrogates
    // taken (Python 2's codec does).
    let text = py2_text(head).ok_or_else(|| HeadRefusal::bad("the request head is not UTF-8".into()))?;
    let (request_line, fields) = read_head(&text);
    let words: Vec<&str> = request_line.split(py_space).filter(|w| !w.is_empty()).collect();
    let [method, target, version] = words[..] else {
        return Err(HeadRefusal::bad(format!("bad HTTP request line {request_line:?}")));
    };
    if method != "GET" {
        let reason = format!("HTTP method {method:?} not allowed");
        return Err(HeadRefusal { status: 405, phrase: "Method Not Allowed", reason });
    }
    if version != "HTTP/1.1" {
        let reason = format!("unsupported HTTP version {version:?}");
        return Err(HeadRefusal { status: 505, phrase: "HTTP Version Not Supported", reason });
    }
    let mut request = Request::builder()
        .method(http::Method::GET)
        .uri(holdable_target(target).as_ref())
        .version(http::Version::HTTP_11)
        .body(())
        .map_err(|e| HeadRefusal::bad(format!("bad request target {target:?}: {e}")))?;
    for (name, value) in fields {
        // `from_bytes` keeps octets past ASCII in a value (`from_str` may not).
        let name = http::HeaderName::from_bytes(name.as_bytes());
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_bytes(value.as_bytes())) {
            request.headers_mut().append(name, value);
        }
    }
    Ok(request)
}

/// An HTTP error response with a plain-text explanation.
fn error_response(status: u16, reason: &str, body: &str) -> String {
    let body = format!("{body}\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\nServer: {SERVER_HEADER}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

impl Pending {
    /// Refuses the request with `status` and an explanation for the client.
    pub async fn refuse(mut self, status: u16, reason: &str, body: &str) {
        let response = error_response(status, reason, body);
        let _ = self.wr.write_all(response.as_bytes()).await;
        let _ = self.wr.shutdown().await;
        // Let the client read the answer before the socket goes.
        let mut sink = [0u8; 1024];
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while self.rd.read(&mut sink).await.unwrap_or(0) > 0 {}
        })
        .await;
    }

    /// Completes the opening handshake (RFC 6455 §4.2.2), answering
    /// permessage-deflate offers with `acceptor` (`None` declines them).
    /// A request that is no valid WebSocket upgrade is refused with 400.
    ///
    /// # Errors
    /// Why the request was refused, after the refusal was sent.
    pub async fn accept(mut self, acceptor: Option<Acceptor>) -> Result<Open, Refusal> {
        let accept = match check_request(&as_the_reference_judges(&self.request)) {
            // The answer is made from the key as sent (the copy judged may
            // hold its canonical form).
            Ok(a) => self.request.headers().get(SEC_WEBSOCKET_KEY).map_or(a, |k| handshake::accept_key(k.as_bytes())),
            Err(e) => {
                let reason = e.to_string();
                let _ = self.wr.write_all(&handshake::rejection(&e)).await;
                let _ = self.wr.shutdown().await;
                return Err(Refusal::Upgrade(reason));
            }
        };
        if let Some(port) = bad_host_port(&self.request) {
            let reason = format!("invalid port {port:?} in the Host header");
            self.refuse(400, "Bad Request", &format!("wstest: {reason}")).await;
            return Err(Refusal::Upgrade(reason));
        }
        if let Some(name) = repeated_header(&self.request) {
            let reason = format!("the {name} header appears more than once");
            self.refuse(400, "Bad Request", &format!("wstest: {reason}")).await;
            return Err(Refusal::Upgrade(reason));
        }
        if let Some(fragment) = target_fragment(&self.head) {
            // RFC 6455 §3: fragments "MUST NOT be used" on WebSocket URIs;
            // the reference's server refuses a target that has one.
            let reason = format!("the request target has a fragment ({fragment:?})");
            self.refuse(400, "Bad Request", &format!("wstest: {reason}")).await;
            return Err(Refusal::Upgrade(reason));
        }
        if let Some(name) = [SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_EXTENSIONS].into_iter().find(|name| {
            self.request.headers().get_all(name).iter().any(|v| py_str_fails(&String::from_utf8_lossy(v.as_bytes())))
        }) {
            // The reference's server raises on such a value (a non-ASCII
            // subprotocol or extension, [`py_str_fails`]) before its case
            // exists: no answer, and no result.
            let _ = self.wr.shutdown().await;
            return Err(Refusal::Upgrade(format!("a non-ASCII character in {name}")));
        }
        if let Some(twice) = duplicate_protocol(&self.request) {
            let reason = format!("subprotocol {twice:?} offered more than once in Sec-WebSocket-Protocol");
            self.refuse(400, "Bad Request", &format!("wstest: {reason}")).await;
            return Err(Refusal::Upgrade(reason));
        }
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nServer: {SERVER_HEADER}\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
        );
        // Offers are judged on every connection, taken only where the case
        // has an acceptor.
        let offered: Vec<_> = self
            .request
            .headers()
            .get_all(SEC_WEBSOCKET_EXTENSIONS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(read_extensions)
            .collect();
        let answer = match acceptor {
            Some(acceptor) => acceptor.accept(&offered),
            None => check_offers(&offered).map(|()| None),
        };
        match answer {
            Ok(Some((agreement, header))) => {
                response.push_str(&format!("Sec-WebSocket-Extensions: {header}\r\n"));
                self.peer.deflate = Some(Deflate::new(agreement, Role::Server));
            }
            Ok(None) => {}
            Err(reason) => {
                let body = format!("wstest: malformed permessage-deflate offer: {reason}");
                self.refuse(400, "Bad Request", &body).await;
                return Err(Refusal::Handshake(reason));
            }
        }
        response.push_str("\r\n");
        // The reference's server writes its 101 into its transport's buffer
        // and opens the case in the same callback: the 101 reaches the
        // client in one segment with the case's first frames. Queued as a
        // plain write, it leaves with them here too (the driver joins them),
        // so a client that loses what follows the 101 in its read fails
        // here as it does there. Logged and counted now (still CONNECTING:
        // pre-open octets).
        self.peer.traffic.outgoing.preopen += response.len() as u64;
        self.peer.send_data(bytes::Bytes::from(response.clone()), false, None);
        self.peer.state = State::Open;
        Ok(Open {
            peer: self.peer,
            rd: self.rd,
            wr: self.wr,
            http_request: self.head,
            http_response: response,
            started: self.started,
        })
    }
}

/// Why [`Pending::accept`] did not complete a handshake.
#[derive(Debug)]
pub enum Refusal {
    /// The request is no valid WebSocket upgrade (RFC 6455 §4.2.1): judged
    /// before anything it asks for.
    Upgrade(String),
    /// A valid upgrade that still came to nothing: its permessage-deflate
    /// offer is malformed. (The 101 leaves with the case's first frames,
    /// or by [`Open::answer_now`]: a write that fails then ends the
    /// connection, not the handshake.)
    Handshake(String),
}

/// The request as `check_request` is to judge it, where the reference's
/// server is more lenient than RFC 6455:
/// - it speaks draft hybi-10 as well (its protocol versions are 0, 8 and
///   13; 0, Hixie-76, has framing of its own that wstest does not speak):
///   a client asking for version 8, whose handshake and framing are RFC
///   6455's, is served like one asking for 13;
/// - it reads the version with Python's `int`, so `013`, `+13` or `+ 8`
///   name a version as well as `13` and `8` do;
/// - it reads `Upgrade` and `Connection` as text (the head decoded as
///   UTF-8), cut at commas, each piece trimmed and lower-cased as Python
///   does: a list holding `websocket` (`upgrade`) counts whatever else it
///   holds, characters past ASCII too, which an HTTP header value may not;
/// - it checks only the key's shape (22 characters of the base64 alphabet,
///   then `==`), not that the bits its last character leaves unused are
///   zero, as a strict base64 decoder does: such a key is judged in its
///   canonical form;
/// - it never looks at `Content-Length` or `Transfer-Encoding`: whatever
///   follows the head is read as frames, a body announced or not, so a
///   request announcing one is not refused for it.
fn as_the_reference_judges(request: &Request<()>) -> Cow<'_, Request<()>> {
    let mut judged = Cow::Borrowed(request);
    for name in [http::header::CONTENT_LENGTH, http::header::TRANSFER_ENCODING] {
        if request.headers().contains_key(&name) {
            judged.to_mut().headers_mut().remove(name);
        }
    }
    for (name, token, canonical) in [(UPGRADE, "websocket", "websocket"), (CONNECTION, "upgrade", "Upgrade")] {
        let mut pieces = request.headers().get_all(&name).iter().flat_map(|v| {
            let text = String::from_utf8_lossy(v.as_bytes()).into_owned();
            text.split(',').map(|piece| piece.trim_matches(py_space).to_lowercase()).collect::<Vec<_>>()
        });
        if pieces.any(|piece| piece == token) {
            judged.to_mut().headers_mut().insert(name, HeaderValue::from_static(canonical));
        }
    }
    if matches!(version(request), Some(8 | 13)) {
        judged.to_mut().headers_mut().insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    let mut keys = request.headers().get_all(SEC_WEBSOCKET_KEY).iter();
    if let (Some(key), None) = (keys.next(), keys.next())
        && let Some(canonical) = canonical_key(key.as_bytes())
    {
        judged.to_mut().headers_mut().insert(SEC_WEBSOCKET_KEY, canonical);
    }
    judged
}

/// The version the request asks for, read as the reference reads it
/// (Python's `int`), if it gives one `Sec-WebSocket-Version` that reads.
fn version(request: &Request<()>) -> Option<i128> {
    let mut versions = request.headers().get_all(SEC_WEBSOCKET_VERSION).iter();
    match (versions.next(), versions.next()) {
        (Some(v), None) => py_int(&String::from_utf8_lossy(v.as_bytes())),
        _ => None,
    }
}

/// The port of the `Host` header, when it has one that Python's `int`
/// cannot read: the reference's server takes what follows the last colon
/// as the port (unless the value ends in `]`, an IPv6 address alone) and
/// refuses the request when that is no number.
fn bad_host_port(request: &Request<()>) -> Option<String> {
    let host = String::from_utf8_lossy(request.headers().get(http::header::HOST)?.as_bytes()).into_owned();
    let host = host.trim_matches(py_space);
    let (_, port) = host.rsplit_once(':').filter(|_| !host.ends_with(']'))?;
    py_int(port).is_none().then(|| port.to_owned())
}

/// A key of the reference's shape, with the unused low four bits of its
/// 22nd character cleared (`None` for any other key).
fn canonical_key(key: &[u8]) -> Option<HeaderValue> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let key = key.trim_ascii();
    let (chars, b"==") = key.split_at_checked(22)? else { return None };
    let sextets: Vec<usize> = chars.iter().map(|c| ALPHABET.iter().position(|a| a == c)).collect::<Option<_>>()?;
    let mut canonical = key.to_vec();
    canonical[21] = ALPHABET[sextets[21] & 0b11_0000];
    HeaderValue::from_bytes(&canonical).ok()
}

/// A header the request has more than once, of those the reference's
/// server wants once at most: `Host` (RFC 7230 §5.4 asks for a 400), the
/// origin (`Origin`, or hybi-10's `Sec-WebSocket-Origin` with version 8)
/// and `Sec-WebSocket-Extensions` (which RFC 6455 §9.1 would let repeat).
/// `Sec-WebSocket-Key` and `Sec-WebSocket-Version` are `check_request`'s.
fn repeated_header(request: &Request<()>) -> Option<&'static str> {
    let headers = request.headers();
    let hybi10 = version(request) == Some(8);
    let origin = if hybi10 { "Sec-WebSocket-Origin" } else { "Origin" };
    [("Host", "host"), (origin, origin), ("Sec-WebSocket-Extensions", "sec-websocket-extensions")]
        .into_iter()
        .find(|(_, name)| headers.get_all(*name).iter().count() > 1)
        .map(|(name, _)| name)
}

/// The fragment of the request target in `head` (the request as received),
/// if it has a non-empty one. The target is the request line's second word,
/// the line and its words cut as [`parse_head`] cuts them.
fn target_fragment(head: &str) -> Option<&str> {
    let target = read_head(head).0.split(py_space).filter(|w| !w.is_empty()).nth(1)?;
    target.split_once('#').map(|(_, fragment)| fragment).filter(|f| !f.is_empty())
}

/// A subprotocol the request offers more than once: the reference's server
/// refuses such a request (RFC 6455 §4.1: the values MUST be unique), as it
/// splits the values of all `Sec-WebSocket-Protocol` fields at commas.
fn duplicate_protocol(request: &Request<()>) -> Option<String> {
    let values = request.headers().get_all(SEC_WEBSOCKET_PROTOCOL);
    let offered = values.iter().flat_map(|v| v.to_str().unwrap_or_default().split(',')).map(str::trim);
    first_repeat(offered).map(str::to_owned)
}

/// A connection whose opening handshake (server side) is complete.
#[derive(Debug)]
pub struct Open {
    /// The peer, open.
    pub peer: Peer,
    rd: Reader,
    wr: Writer,
    http_request: String,
    http_response: String,
    started: chrono::DateTime<chrono::Utc>,
}

impl Open {
    /// Resolves once the client has gone (end of stream or an error).
    /// Whatever it sends meanwhile is read and counted, not acted on: for
    /// holding a connection open while waiting for something else.
    pub async fn gone(&mut self) {
        loop {
            let buf = self.peer.read_buffer();
            let from = buf.len();
            let mut room = buf.limit(READ_CHUNK);
            match self.rd.read_buf(&mut room).await {
                Ok(n) if n > 0 => {
                    self.peer.note_read(from);
                    // Keep nothing: this connection's octets are not decoded while waiting.
                    let _ = self.peer.take_buffer();
                }
                _ => return,
            }
        }
    }

    /// Writes now what [`Pending::accept`] queued (the 101), rather than
    /// with the case's first frames: for a connection whose case does not
    /// start at once, so that the client's handshake timeout does not run
    /// while it waits.
    ///
    /// # Errors
    /// The socket failed; the connection is gone.
    pub async fn answer_now(&mut self) -> std::io::Result<()> {
        while let Some(unit) = self.peer.pop_unit() {
            self.wr.write_all(&unit.data).await?;
        }
        self.wr.flush().await
    }

    /// Runs `handler` on the connection until TCP is gone. `skip` (an
    /// excluded case) closes at once instead of starting the case.
    pub async fn run(mut self, handler: &mut (dyn Handler + Send), options: DriveOptions, skip: bool) -> Session {
        let open_time = Instant::now();
        if skip {
            self.peer.send_close_frame(None, None, false);
        } else {
            handler.on_open(&mut self.peer);
        }
        dispatch(&mut self.peer, handler);
        drive(&mut self.peer, &mut self.rd, &mut self.wr, handler, options).await;
        Session {
            peer: self.peer,
            opened: true,
            started: self.started,
            open_time: (!skip).then_some(open_time),
            http_request: self.http_request,
            http_response: Some(self.http_response),
            server_header: None,
            skipped: skip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request<()> {
        let mut r = Request::new(());
        for (name, value) in headers {
            r.headers_mut().append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        r
    }

    #[test]
    fn request_heads_are_read_as_the_reference_reads_them() {
        let head =
            "GET /runCase?case=1 HTTP/1.1\r\nHost : h:9001\r\nupgrade:WebSocket\r\n folded on\r\nno colon\r\n\r\n";
        let r = parse_head(head.as_bytes()).unwrap();
        assert_eq!(r.uri().path(), "/runCase");
        assert_eq!(r.headers()["host"], "h:9001");
        assert_eq!(r.headers()["upgrade"], "WebSocket");
        assert_eq!(r.headers().len(), 2);
        let status = |head: &str| parse_head(head.as_bytes()).map(drop).map_err(|r| r.status);
        assert_eq!(status("GET / HTTP/1.0\r\n\r\n"), Err(505));
        assert_eq!(status("GET / HTTP/1.2\r\n\r\n"), Err(505));
        assert_eq!(status("POST / HTTP/1.1\r\n\r\n"), Err(405));
        assert_eq!(status("GET /a b HTTP/1.1\r\n\r\n"), Err(400));
        assert_eq!(status("GET  /  HTTP/1.1 \r\n\r\n"), Ok(()));
        // Python's white space and line breaks, as on the client side: a
        // separator octet ends the request line's last word, a vertical tab
        // ends a line, and a value past ASCII is kept.
        assert_eq!(status("GET / HTTP/1.1\x1c\r\n\r\n"), Ok(()));
        let r = parse_head("GET / HTTP/1.1\r\nUpgrade: websocket\x0bX: y\r\nUser-Agent: caf\u{e9}\r\n\r\n".as_bytes())
            .unwrap();
        assert_eq!(r.headers()["upgrade"], "websocket");
        assert_eq!(r.headers()["x"], "y");
        assert_eq!(r.headers()["user-agent"].as_bytes(), "caf\u{e9}".as_bytes());
    }

    #[test]
    fn a_key_of_the_references_shape_is_judged_in_its_canonical_form() {
        // 'B' (000001) ends a key whose last character should leave its
        // low four bits zero: 'A'.
        assert_eq!(
            canonical_key(b"AAAAAAAAAAAAAAAAAAAAAB=="),
            Some(HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAA=="))
        );
        assert_eq!(
            canonical_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            Some(HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="))
        );
        // Other shapes are left to check_request (which refuses them).
        assert_eq!(canonical_key(b"AAAAAAAAAAAAAAAAAAAAAAAAAAA="), None);
        assert_eq!(canonical_key(b"AAAAAAAAAAAAAAAAAAAAA!=="), None);
    }

    #[test]
    fn upgrade_and_connection_lists_are_read_as_text() {
        let judged = |connection: &str| {
            let mut r = request(&[("upgrade", "h2c, WebSocket"), ("sec-websocket-version", "13")]);
            let value = HeaderValue::from_bytes(connection.as_bytes()).unwrap();
            r.headers_mut().insert(CONNECTION, value);
            let judged = as_the_reference_judges(&r).into_owned();
            let text = |name| String::from_utf8_lossy(judged.headers()[name].as_bytes()).into_owned();
            (text(UPGRADE), text(CONNECTION))
        };
        assert_eq!(judged("Upgrade, Keep-Aliv\u{e9}"), ("websocket".into(), "Upgrade".into()));
        assert_eq!(judged("Keep-Aliv\u{e9}"), ("websocket".into(), "Keep-Aliv\u{e9}".into()));
    }

    #[test]
    fn versions_and_host_ports_are_read_with_pythons_int() {
        assert_eq!(version(&request(&[("sec-websocket-version", "013")])), Some(13));
        assert_eq!(version(&request(&[("sec-websocket-version", "+ 8")])), Some(8));
        assert_eq!(version(&request(&[("sec-websocket-version", "13, 8")])), None);
        let twice = request(&[("sec-websocket-version", "13"), ("sec-websocket-version", "13")]);
        assert_eq!(version(&twice), None);
        let port = |host| bad_host_port(&request(&[("host", host)]));
        assert_eq!(port("127.0.0.1:ws").as_deref(), Some("ws"));
        assert_eq!(port("[::1]:").as_deref(), Some(""));
        assert_eq!(port("127.0.0.1: 9001"), None);
        assert_eq!(port("localhost"), None);
        assert_eq!(port("[::1]"), None);
    }

    #[test]
    fn headers_the_reference_wants_once_are_found_repeated() {
        let twice = |name| request(&[(name, "a"), (name, "b")]);
        assert_eq!(repeated_header(&twice("host")), Some("Host"));
        assert_eq!(repeated_header(&twice("origin")), Some("Origin"));
        assert_eq!(repeated_header(&twice("sec-websocket-extensions")), Some("Sec-WebSocket-Extensions"));
        assert_eq!(repeated_header(&twice("sec-websocket-protocol")), None);
        let hybi10 = request(&[("sec-websocket-version", "8"), ("origin", "a"), ("origin", "b")]);
        assert_eq!(repeated_header(&hybi10), None);
        assert_eq!(repeated_header(&request(&[("host", "a"), ("origin", "b")])), None);
    }

    #[test]
    fn a_fragment_is_found_on_the_request_line_only() {
        assert_eq!(target_fragment("GET /runCase?case=1#case HTTP/1.1\r\nHost: x#y\r\n\r\n"), Some("case"));
        assert_eq!(target_fragment("GET /runCase?case=1# HTTP/1.1\r\n\r\n"), None);
        assert_eq!(target_fragment("GET /runCase?case=1 HTTP/1.1\r\nHost: x#y\r\n\r\n"), None);
        // Words split at Python's white space (U+001F too), lines at its
        // line breaks (U+0085 too).
        assert_eq!(target_fragment("GET\u{1f}/a#f\u{1f}HTTP/1.1\r\n\r\n"), Some("f"));
        assert_eq!(target_fragment("GET /a\u{85}#f HTTP/1.1\r\n\r\n"), None);
    }

    #[test]
    fn a_subprotocol_offered_twice_is_found_across_fields() {
        assert_eq!(duplicate_protocol(&request(&[("sec-websocket-protocol", "chat, chat")])).as_deref(), Some("chat"));
        let split = request(&[("sec-websocket-protocol", "chat, superchat"), ("sec-websocket-protocol", "chat")]);
        assert_eq!(duplicate_protocol(&split).as_deref(), Some("chat"));
        assert_eq!(duplicate_protocol(&request(&[("sec-websocket-protocol", "chat, superchat")])), None);
        assert_eq!(duplicate_protocol(&request(&[])), None);
        // 238k distinct tokens (a 1 MiB head): a pairwise scan took minutes.
        let many: String = (0..238_000).map(|i| format!("p{i},")).collect();
        let started = std::time::Instant::now();
        assert_eq!(duplicate_protocol(&request(&[("sec-websocket-protocol", &many)])), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
