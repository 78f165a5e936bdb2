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

use std::time::Instant;

use autostrada::proto::Role;
use autostrada::proto::handshake::{self, check_request};
use bytes::{Buf, BufMut};
use http::header::{SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL};
use http::{HeaderValue, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Duration;

use super::deflate::{Acceptor, Deflate, check_offers};
use super::driver::{DriveOptions, Handler, Session, dispatch, drive};
use super::extension_header::read_extensions;
use super::http_head::{SHOWN, clip, head_end, holdable_target, py_space, py_str_fails, py2_text, read_head};
use super::incoming::READ_CHUNK;
use super::peer::{Peer, State, Timeouts, sleep_until_deadline};
use super::transport::{Reader, Stream, Writer};

mod judge;
use judge::{as_the_reference_judges, bad_host_port, duplicate_protocol, repeated_header, target_fragment};

/// The request heads we accept are at most this large. The reference's
/// server takes a head of any size (a browser's may pass 16 KiB with its
/// cookies, and there it is served): this bound is ours, against a client
/// that sends headers for ever.
const MAX_HEAD: usize = 1 << 20;

/// The longest an HTTP refusal may take to leave (written, then our side
/// closed): a client that never reads would otherwise hold the connection,
/// and one of the server's connection slots, for ever.
const REFUSAL_LIMIT: Duration = Duration::from_secs(5);

/// The most characters of explanation a refusal carries: every quote of
/// what the client sent is clipped to [`SHOWN`] already; this bounds the
/// whole body whatever a message quotes.
const MAX_BODY: usize = 2000;

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
    // A timeout of 0 sets no deadline, as the reference arms no timer then:
    // a client that never completes its request keeps its connection (one of
    // the fuzzing server's slots) until it goes.
    let deadline = timeouts.open_handshake_deadline();
    loop {
        let buf = peer.head_buffer();
        let from = buf.len();
        let mut room = buf.limit(READ_CHUNK);
        let read = tokio::select! {
            r = rd.read_buf(&mut room) => r,
            () = sleep_until_deadline(deadline) => return Err(RequestError::Gone("no complete request within the opening handshake timeout".into())),
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
        send_refusal(&mut wr, response.as_bytes()).await;
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
        return Err(HeadRefusal::bad(format!("bad HTTP request line {:?}", clip(request_line, SHOWN))));
    };
    if method != "GET" {
        let reason = format!("HTTP method {:?} not allowed", clip(method, SHOWN));
        return Err(HeadRefusal { status: 405, phrase: "Method Not Allowed", reason });
    }
    if version != "HTTP/1.1" {
        let reason = format!("unsupported HTTP version {:?}", clip(version, SHOWN));
        return Err(HeadRefusal { status: 505, phrase: "HTTP Version Not Supported", reason });
    }
    let mut request = Request::builder()
        .method(http::Method::GET)
        .uri(holdable_target(target).as_ref())
        .version(http::Version::HTTP_11)
        .body(())
        .map_err(|e| HeadRefusal::bad(format!("bad request target {:?}: {e}", clip(target, SHOWN))))?;
    for (name, value) in fields {
        // `from_bytes` keeps octets past ASCII in a value (`from_str` may not).
        let name = http::HeaderName::from_bytes(name.as_bytes());
        if let (Ok(name), Ok(value)) = (name, HeaderValue::from_bytes(value.as_bytes()))
            && request.headers_mut().try_append(name, value).is_err()
        {
            // http holds at most 24,576 names. The reference's server (a
            // dict) would take more, but no client sends a thousandth of
            // that many; refused as a head too large, with no result.
            let reason = "the request has more distinct header names than wstest can hold (24576)".into();
            return Err(HeadRefusal { status: 431, phrase: "Request Header Fields Too Large", reason });
        }
    }
    Ok(request)
}

/// An HTTP error response with a plain-text explanation.
fn error_response(status: u16, reason: &str, body: &str) -> String {
    let body = format!("{}\n", clip(body, MAX_BODY));
    format!(
        "HTTP/1.1 {status} {reason}\r\nServer: {SERVER_HEADER}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Writes a refusal and closes our side, giving up after [`REFUSAL_LIMIT`]
/// (the connection is then dropped unanswered).
async fn send_refusal(wr: &mut Writer, response: &[u8]) {
    let _ = tokio::time::timeout(REFUSAL_LIMIT, async {
        wr.write_all(response).await?;
        wr.shutdown().await
    })
    .await;
}

/// autostrada's answer to a request that is no valid upgrade, its body
/// clipped to [`MAX_BODY`] characters when the error quotes a huge header
/// (a `Sec-WebSocket-Key` of a megabyte, say).
fn upgrade_rejection(e: &handshake::HandshakeError) -> Vec<u8> {
    let full = handshake::rejection(e);
    let Some(end) = head_end(&full, 0).filter(|end| full.len() - end > MAX_BODY) else { return full };
    let body = format!("{}\n", clip(&e.to_string(), MAX_BODY));
    let mut out = String::new();
    for line in String::from_utf8_lossy(&full[..end - 4]).split("\r\n") {
        if line.to_ascii_lowercase().starts_with("content-length:") {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        } else {
            out.push_str(&format!("{line}\r\n"));
        }
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out.into_bytes()
}

impl Pending {
    /// Refuses the request with `status` and an explanation for the client.
    pub async fn refuse(mut self, status: u16, reason: &str, body: &str) {
        let response = error_response(status, reason, body);
        send_refusal(&mut self.wr, response.as_bytes()).await;
        self.drain_briefly().await;
    }

    /// Lets the client read a refusal before the socket goes: reads (and
    /// discards) what it sends for up to a second, or until it goes.
    async fn drain_briefly(&mut self) {
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
                send_refusal(&mut self.wr, &upgrade_rejection(&e)).await;
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
            let _ = tokio::time::timeout(REFUSAL_LIMIT, self.wr.shutdown()).await;
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
                // The reference's answer, to the octet: its reason as the
                // status line's reason phrase, no headers, no body; logged
                // and counted, for the case's report.
                let response = format!("HTTP/1.1 400 {reason}\r\n\r\n");
                self.peer.log.wrote(response.as_bytes(), false);
                self.peer.stats.tx_octets.add(response.len() as u64);
                send_refusal(&mut self.wr, response.as_bytes()).await;
                self.drain_briefly().await;
                return Err(Refusal::Handshake { reason, peer: Box::new(self.peer), head: self.head });
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
    Handshake {
        /// Why, in the reference's words.
        reason: String,
        /// The connection's peer, closed: its log and octet counts hold
        /// the request and our refusal.
        peer: Box<Peer>,
        /// The request head as received.
        head: String,
    },
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

    /// Lets go of what only a case's report would show — the request head
    /// (up to 1 MiB), the wire log so far, unread octets — for a
    /// connection that waits, perhaps for ever, to say one thing (a case's
    /// status), so that many waiting clients cost little each.
    pub fn forget_request(&mut self) {
        self.http_request = String::new();
        self.peer.log.clear_rows();
        let _ = self.peer.take_buffer();
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

    #[test]
    fn a_head_of_more_header_names_than_http_holds_is_refused() {
        let head = |names: usize| {
            let fields: String = (0..names).map(|i| format!("x{i}: v\r\n")).collect();
            format!("GET / HTTP/1.1\r\n{fields}\r\n")
        };
        assert_eq!(parse_head(head(24_576).as_bytes()).unwrap().headers().len(), 24_576);
        let refusal = parse_head(head(24_577).as_bytes()).unwrap_err();
        assert_eq!(refusal.status, 431, "{}", refusal.reason);
        // Values of one name are not counted.
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "x: v\r\n".repeat(30_000));
        assert_eq!(parse_head(many.as_bytes()).unwrap().headers().len(), 30_000);
    }

    #[test]
    fn refusals_quote_little_of_what_the_client_sent() {
        // A request line of a megabyte of control characters, each quoted
        // as six: the reason quotes 200 characters of it.
        let line = format!("GET{}\r\n\r\n", "\x01".repeat(1 << 20));
        let refusal = parse_head(line.as_bytes()).unwrap_err();
        assert_eq!(refusal.status, 400);
        assert!(refusal.reason.len() < 2000 && refusal.reason.ends_with("…\""), "{}", refusal.reason.len());
        let long = error_response(400, "Bad Request", &"x".repeat(1 << 20));
        assert!(long.len() < MAX_BODY + 300 && long.ends_with("x…\n"), "{}", long.len());
        // A megabyte key, quoted with every backslash doubled by autostrada.
        let e = handshake::HandshakeError::BadKey("\\".repeat(1 << 20));
        let clipped = String::from_utf8(upgrade_rejection(&e)).unwrap();
        let (head, body) = clipped.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
        assert!(head.contains(&format!("Content-Length: {}", body.len())), "{head}");
        assert!(body.len() < MAX_BODY * 4 && body.ends_with("…\n"));
        // A short one is autostrada's as it is.
        let short = handshake::HandshakeError::BadKey("x".into());
        assert_eq!(upgrade_rejection(&short), handshake::rejection(&short));
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
}
