//! The fuzzer as client: connects, sends the opening handshake (with the
//! permessage-deflate offers of the compression cases), checks the server's
//! answer the way the reference does, then hands over to the driver.

use std::io;
use std::time::Instant;

use autostrada::proto::Role;
use autostrada::proto::handshake::{Target, accept_key, generate_key};
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Duration, timeout};

use autostrada::rustls::pki_types::ServerName;
use autostrada::tokio_rustls::TlsConnector;

use super::deflate::{self, Agreement, Offer};
use super::driver::{DriveOptions, Handler, Session, dispatch, drive};
use super::extension_header::read_extensions;
use super::http_head::{head_end, py_space, py_str_fails, py2_utf8, read_head};
use super::peer::{Peer, State, sleep_until_deadline};
use super::transport::Stream;

/// How long to wait for the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the upgrade request the fuzzer sends.
fn request(target: &Target, key: &str, extra: &[(String, String)]) -> String {
    let host = if target.host.contains(':') { format!("[{}]", target.host) } else { target.host.clone() };
    let mut req = format!(
        "GET {} HTTP/1.1\r\nUser-Agent: wstest/{}\r\nHost: {host}:{}\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nSec-WebSocket-Key: {key}\r\n",
        target.resource,
        env!("CARGO_PKG_VERSION"),
        target.port
    );
    for (name, value) in extra {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("Sec-WebSocket-Version: 13\r\n\r\n");
    req
}

/// What a good response told us.
#[derive(Debug, Default)]
struct Accepted {
    /// The `Server` header.
    server: Option<String>,
    /// permessage-deflate, if offered and agreed.
    deflate: Option<Agreement>,
}

/// The longest response head wstest keeps (the reference keeps any length).
const MAX_HEAD: usize = 64 * 1024;

/// Why a response head does not open the connection.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// The reference fails the handshake with this reason (it drops TCP).
    Fails(String),
    /// The reference's handshake code raises (a header value it cannot
    /// encode with `str()`) and Twisted drops the connection under it: no
    /// reason of its own, not dropped by the fuzzer.
    Raises,
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Self::Fails(reason)
    }
}

/// Checks the server's response head; `Err` says why it does not open.
fn check_response(head: &str, key: &str, options: &ClientOptions) -> Result<Accepted, Refusal> {
    // The checks, their order and their texts (which the report keeps as
    // wasNotCleanReason) are the reference's: autobahn's
    // WebSocketClientProtocol.processHandshake (autobahn.md §3.7, §2.7).
    let (status_line, fields) = read_head(head);
    let words: Vec<&str> = status_line.split(py_space).filter(|w| !w.is_empty()).collect();
    if words.len() < 2 {
        return Err(Refusal::Fails(format!("Bad HTTP response status line '{status_line}'")));
    }
    let version = words[0];
    if version != "HTTP/1.1" {
        return Err(Refusal::Fails(format!("Unsupported HTTP version ('{version}')")));
    }
    // A decimal integer as Python's int() reads one: a sign and leading zeros allowed.
    let Ok(code) = words[1].parse::<i128>() else {
        return Err(Refusal::Fails(format!("Bad HTTP status code ('{}')", words[1])));
    };
    if code != 101 {
        // The reason phrase's words are joined without spaces ("404 - NotFound").
        let reason = if words.len() > 2 { format!(" - {}", words[2..].concat()) } else { String::new() };
        return Err(Refusal::Fails(format!("WebSocket connection upgrade failed ({code}{reason})")));
    }
    let get_all = |name: &str| -> Vec<String> {
        fields.iter().filter(|(n, _)| n == name).map(|(_, v)| (*v).to_owned()).collect()
    };
    // A header sent more than once counts as one value joined with ", ", as
    // the reference's parseHttpHeader reads it.
    let joined = |name: &str| Some(get_all(name)).filter(|v| !v.is_empty()).map(|v| v.join(", "));
    match joined("upgrade") {
        None => return Err(Refusal::Fails("HTTP Upgrade header missing".into())),
        // Python lower-cases all of Unicode: a KELVIN SIGN (U+212A) reads as `k`.
        Some(u) if u.to_lowercase() != "websocket" => {
            return Err(Refusal::Fails(format!(
                "HTTP Upgrade header different from 'websocket' (case-insensitive) : {u}"
            )));
        }
        Some(_) => {}
    }
    match joined("connection") {
        None => return Err(Refusal::Fails("HTTP Connection header missing".into())),
        // Each token trimmed of Python's white space (U+001F too), as the reference trims it.
        Some(c) if !c.split(',').any(|t| t.trim_matches(py_space).to_lowercase() == "upgrade") => {
            return Err(Refusal::Fails(format!(
                "HTTP Connection header does not include 'upgrade' value (case-insensitive) : {c}"
            )));
        }
        Some(_) => {}
    }
    let expected = accept_key(key.as_bytes());
    match get_all("sec-websocket-accept").as_slice() {
        [one] if *one == expected => {}
        [one] => {
            return Err(Refusal::Fails(format!(
                "HTTP Sec-WebSocket-Accept bogus value : expected {expected} / got {one}"
            )));
        }
        [] => return Err(Refusal::Fails("HTTP Sec-WebSocket-Accept header missing in opening handshake reply".into())),
        _ => {
            return Err(Refusal::Fails(
                "HTTP Sec-WebSocket-Accept header appears more than once in opening handshake reply".into(),
            ));
        }
    }
    let mut deflate = None;
    match get_all("sec-websocket-extensions").as_slice() {
        [] => {}
        [_, _, ..] => {
            return Err(Refusal::Fails(
                "HTTP Sec-WebSocket-Extensions header appears more than once in opening handshake reply".into(),
            ));
        }
        // Once found single, the value is read with Python's `str()`
        // (element by element), which raises on anything not ASCII.
        [ext] if py_str_fails(ext) => return Err(Refusal::Raises),
        // Nothing offered (cases 1-10): the reference still parses a
        // permessage-deflate answer, then its accept hook declines it.
        [ext] if options.deflate_offers.is_empty() => {
            if let Some(first) = read_extensions(ext).into_iter().next() {
                deflate::parse_response(std::slice::from_ref(&first))?;
                return Err(Refusal::Fails(
                    "WebSocket permessage-compress extension response from server denied by client".into(),
                ));
            }
        }
        [ext] => deflate = deflate::parse_response(&read_extensions(ext))?,
    }
    match get_all("sec-websocket-protocol").as_slice() {
        [_, _, ..] => {
            return Err(Refusal::Fails(
                "HTTP Sec-WebSocket-Protocol header appears more than once in opening handshake reply".into(),
            ));
        }
        // Read whole with `str()`, as the extensions are.
        [p] if !p.trim_matches(py_space).is_ascii() => return Err(Refusal::Raises),
        [p] if !p.is_empty() && !options.protocols.contains(p) => {
            // The list as Python 2 prints a list of (unicode) strings.
            let list: Vec<String> = options.protocols.iter().map(|p| format!("u'{p}'")).collect();
            return Err(Refusal::Fails(format!(
                "subprotocol selected by server ({p}) not in subprotocol list requested by client ([{}])",
                list.join(", ")
            )));
        }
        _ => {}
    }
    // The agent a spec without one learns: every Server header, joined.
    Ok(Accepted { server: joined("server"), deflate })
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("tls", &self.tls.is_some())
            .field("headers", &self.headers)
            .field("protocols", &self.protocols)
            .field("deflate_offers", &self.deflate_offers)
            .field("drive", &self.drive)
            .finish()
    }
}

/// Options of one client connection.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// How `wss://` servers are connected (their certificate checked);
    /// `None`: against the public roots.
    pub tls: Option<TlsConnector>,
    /// Extra request headers (`Origin`, `Sec-WebSocket-Protocol`).
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered.
    pub protocols: Vec<String>,
    /// permessage-deflate offers (the compression cases); none: no extension offered.
    pub deflate_offers: Vec<Offer>,
    /// How the open connection is run.
    pub drive: DriveOptions,
}

/// The TLS handshake of a `wss://` connection, within the TCP connect's
/// timeout; a failure is an error naming the server.
async fn tls_connect(
    target: &Target,
    options: &ClientOptions,
    tcp: TcpStream,
) -> io::Result<autostrada::tokio_rustls::client::TlsStream<TcpStream>> {
    let connector = match &options.tls {
        Some(c) => c.clone(),
        None => crate::tls::connector(&crate::tls::Trust::PublicRoots).map_err(io::Error::other)?,
    };
    let name = ServerName::try_from(target.host.clone()).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{:?} is not a TLS server name", target.host))
    })?;
    timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))?
        .map_err(|e| io::Error::new(e.kind(), format!("TLS handshake with {}: {e}", target.host)))
}

/// Connects to `target`, runs the opening handshake and then the case
/// through `handler` until TCP is gone. `skip` is asked, once open, whether
/// the case is excluded for the server's agent name.
pub async fn run_client(
    target: &Target,
    options: &ClientOptions,
    mut peer: Peer,
    handler: &mut (dyn Handler + Send),
    skip: &(dyn Fn(Option<&str>) -> bool + Sync),
) -> io::Result<Session> {
    // The case's hard deadline runs from here: it bounds the connect and
    // the opening handshake too (a silent server with an
    // `openHandshakeTimeout` of 0 would otherwise hold the case until the
    // runner's last-resort net, losing what was observed), and what is
    // left of it bounds the case once open.
    let case_start = tokio::time::Instant::now();
    let case_end = options.drive.hard_deadline.map(|d| case_start + d);
    let connect_end = case_end.map_or(case_start + CONNECT_TIMEOUT, |end| end.min(case_start + CONNECT_TIMEOUT));
    let tcp = tokio::time::timeout_at(connect_end, TcpStream::connect((target.host.as_str(), target.port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TCP connect timed out"))??;
    tcp.set_nodelay(true)?;
    let stream = if target.tls {
        Stream::TlsClient(Box::new(tls_connect(target, options, tcp).await?))
    } else {
        Stream::Tcp(tcp)
    };
    let started = chrono::Utc::now();
    // No deadline for a timeout of 0 (as the reference): the case's hard
    // deadline bounds the wait then, or first if it comes first.
    let open_deadline = peer.timeouts.open_handshake_deadline();
    let deadline = match (open_deadline, case_end) {
        (Some(open), Some(end)) => Some(open.min(end)),
        (open, end) => open.or(end),
    };
    let key = generate_key();
    let mut headers = options.headers.clone();
    if !options.deflate_offers.is_empty() {
        headers.push(("Sec-WebSocket-Extensions".into(), Offer::header_list(&options.deflate_offers)));
    }
    let http_request = request(target, &key, &headers);
    let (mut rd, mut wr) = stream.split();
    let mut session = Session {
        peer: Peer::new(Role::Client),
        opened: false,
        started,
        open_time: None,
        http_request: http_request.clone(),
        http_response: None,
        server_header: None,
        skipped: false,
    };
    peer.log.wrote(http_request.as_bytes(), false);
    peer.stats.tx_octets.add(http_request.len() as u64);
    peer.traffic.outgoing.preopen += http_request.len() as u64;
    wr.write_all(http_request.as_bytes()).await?;
    wr.flush().await?;

    // Opening handshake.
    let mut chunk = BytesMut::with_capacity(64 * 1024);
    // Octets of the buffer already searched for the end of the head, and
    // whether the head outgrew MAX_HEAD (then it is no longer kept).
    let (mut scanned, mut overlong) = (0usize, false);
    let head = loop {
        chunk.clear();
        let read = tokio::select! {
            r = rd.read_buf(&mut chunk) => r,
            () = sleep_until_deadline(deadline) => {
                if open_deadline.is_some() && open_deadline == deadline {
                    peer.close.was_open_handshake_timeout = true;
                    peer.close.was_not_clean_reason = Some("peer did not finish (in time) the opening handshake".into());
                } else {
                    peer.close.was_not_clean_reason = Some(format!(
                        "wstest: the opening handshake was still unfinished at the case's hard deadline ({} s); \
                         wstest dropped the connection",
                        options.drive.hard_deadline.unwrap_or_default().as_secs()
                    ));
                }
                peer.close.dropped_by_me = true;
                peer.state = State::Closed;
                session.peer = peer;
                return Ok(session);
            }
        };
        match read {
            Ok(n) if n > 0 => peer.receive(&chunk[..n]),
            _ => {
                peer.connection_lost();
                session.peer = peer;
                return Ok(session);
            }
        }
        let mut buf = peer.take_buffer();
        if let Some(end) = head_end(&buf, scanned) {
            let head = buf.split_to(end);
            peer.restore_buffer(buf);
            if overlong {
                peer.close.was_not_clean_reason =
                    Some(format!("HTTP response head longer than wstest's limit of {MAX_HEAD} octets"));
                peer.close.dropped_by_me = true;
                peer.state = State::Closed;
                session.peer = peer;
                return Ok(session);
            }
            if !py2_utf8(&head) {
                // The reference decodes the whole head as UTF-8 before it
                // reads a line of it (parseHttpHeader); a head that does not
                // decode raises inside its dataReceived, and Twisted then
                // drops the connection: the opening handshake never
                // completes, and the case ends as if the server had dropped
                // TCP (droppedByMe false, the peer-dropped reason).
                session.http_response = Some(String::from_utf8_lossy(&head).into_owned());
                peer.connection_lost();
                session.peer = peer;
                return Ok(session);
            }
            break String::from_utf8_lossy(&head).into_owned();
        }
        // A server that sends an endless head is given the open-handshake
        // timeout like any slow one (so the verdict is the reference's),
        // but what it sends past MAX_HEAD is logged, not kept.
        if buf.len() > MAX_HEAD {
            overlong = true;
            let keep = buf.len() - 3;
            buf.advance(keep);
        }
        scanned = buf.len();
        peer.restore_buffer(buf);
    };
    session.http_response = Some(head.clone());
    match check_response(&head, &key, options) {
        Ok(accepted) => {
            session.server_header = accepted.server;
            peer.deflate = accepted.deflate.map(|a| deflate::Deflate::new(a, Role::Client));
        }
        Err(refusal) => {
            (peer.close.was_not_clean_reason, peer.close.dropped_by_me) = match refusal {
                Refusal::Fails(reason) => (Some(reason), true),
                Refusal::Raises => (Some(super::peer::PEER_DROPPED.into()), false),
            };
            peer.state = State::Closed;
            session.peer = peer;
            return Ok(session);
        }
    }
    peer.state = State::Open;
    session.opened = true;
    if skip(session.server_header.as_deref()) {
        session.skipped = true;
        peer.send_close_frame(None, None, false);
    } else {
        session.open_time = Some(Instant::now());
        handler.on_open(&mut peer);
    }
    dispatch(&mut peer, handler);

    let drive_options = DriveOptions { deadline_from: Some(case_start), ..options.drive };
    drive(&mut peer, &mut rd, &mut wr, handler, drive_options).await;
    session.peer = peer;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer to a head with `status` and `fields` after the three the
    /// handshake needs.
    fn answer(status: &str, fields: &str) -> Result<Accepted, Refusal> {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let accept = accept_key(key.as_bytes());
        let head = format!(
            "{status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{fields}\r\n"
        );
        check_response(&head, key, &ClientOptions::default())
    }

    #[test]
    fn response_heads_are_read_as_the_reference_reads_them() {
        assert!(answer("HTTP/1.1 101 Switching Protocols", "Server : x\r\n folded\r\nno colon\r\n").is_ok());
        assert!(answer("HTTP/1.1 +0101", "").is_ok());
        let many: String = (0..100).map(|i| format!("X-{i}: {i}\r\n")).collect();
        assert!(answer("HTTP/1.1 101 Switching Protocols", &many).is_ok());
        let fails = |status: &str, fields: &str| match answer(status, fields) {
            Err(Refusal::Fails(reason)) => reason,
            other => panic!("{status} {fields:?}: {other:?}"),
        };
        assert_eq!(fails("HTTP/1.1", ""), "Bad HTTP response status line 'HTTP/1.1'");
        assert_eq!(fails("HTTP/1.1 1o1 OK", ""), "Bad HTTP status code ('1o1')");
        assert_eq!(fails("HTTP/1.1 404 Not Found", ""), "WebSocket connection upgrade failed (404 - NotFound)");
        let servers = answer("HTTP/1.1 101 OK", "Server: front\r\nServer: back\r\n").unwrap();
        assert_eq!(servers.server.as_deref(), Some("front, back"));
        let twice = fails("HTTP/1.1 101 OK", "sec-websocket-accept : x\r\n");
        assert!(twice.contains("appears more than once"), "{twice}");
    }

    /// A subprotocol or extension list that Python's `str()` cannot encode
    /// raises in the reference's handshake code (Twisted then drops the
    /// connection); twice, the header fails as repeated first.
    #[test]
    fn headers_the_reference_cannot_encode_tear_the_connection_down() {
        let ok = "HTTP/1.1 101 Switching Protocols";
        assert_eq!(answer(ok, "Sec-WebSocket-Protocol: ch\u{e2}t\r\n").unwrap_err(), Refusal::Raises);
        assert_eq!(answer(ok, "Sec-WebSocket-Extensions: x; a=\u{e9}\r\n").unwrap_err(), Refusal::Raises);
        let twice = "Sec-WebSocket-Extensions: x; a=\u{e9}\r\nSec-WebSocket-Extensions: y\r\n";
        assert!(matches!(answer(ok, twice), Err(Refusal::Fails(r)) if r.contains("more than once")));
    }
}
