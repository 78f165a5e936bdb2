//! The fuzzer as server: reads a client's upgrade request (logged like any
//! other octets), lets the caller decide what the request asks for, then
//! either refuses it with an HTTP error or completes the opening handshake
//! — answering permessage-deflate offers with the case's acceptor — and
//! hands over to the driver.
//!
//! Unlike the reference, the `Host` header's name and port are not checked
//! against the address we listen on: behind a port mapping (Docker, a
//! proxy) they differ, and nothing in the protocol depends on them.

use std::time::Instant;

use autostrada::proto::Role;
use autostrada::proto::handshake::{self, HandshakeLimits, check_request, parse_request};
use bytes::{Buf, BufMut};
use http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Duration, sleep_until};

use super::deflate::{Acceptor, Deflate};
use super::driver::{DriveOptions, Handler, Session, dispatch, drive};
use super::incoming::READ_CHUNK;
use super::peer::{Peer, State, Timeouts};
use super::transport::{Reader, Stream, Writer};

/// The request heads we accept are at most this large.
const MAX_HEAD: usize = 16 * 1024;

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
    let limits = HandshakeLimits { max_head_size: MAX_HEAD, ..HandshakeLimits::default() };
    loop {
        let buf = peer.read_buffer();
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
        let buf = peer.take_buffer();
        match parse_request(&buf, &limits) {
            Ok(Some((request, n))) => {
                let mut buf = buf;
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                buf.advance(n);
                peer.restore_buffer(buf);
                return Ok(Pending { peer, rd, wr, request, head, started: chrono::Utc::now() });
            }
            Ok(None) => peer.restore_buffer(buf),
            Err(e) => {
                let reason = e.to_string();
                let _ = wr.write_all(&handshake::rejection(&e)).await;
                let _ = wr.shutdown().await;
                return Err(RequestError::Refused(reason));
            }
        }
    }
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
    /// The refusal's reason, after it was sent.
    pub async fn accept(mut self, acceptor: Option<Acceptor>) -> Result<Open, String> {
        let accept = match check_request(&self.request) {
            Ok(a) => a,
            Err(e) => {
                let reason = e.to_string();
                let _ = self.wr.write_all(&handshake::rejection(&e)).await;
                let _ = self.wr.shutdown().await;
                return Err(reason);
            }
        };
        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nServer: {SERVER_HEADER}\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
        );
        if let Some(acceptor) = acceptor {
            match acceptor.accept(&handshake::extensions(self.request.headers())) {
                Ok(Some((agreement, header))) => {
                    response.push_str(&format!("Sec-WebSocket-Extensions: {header}\r\n"));
                    self.peer.deflate = Some(Deflate::new(agreement, Role::Server));
                }
                Ok(None) => {}
                Err(reason) => {
                    let body = format!("wstest: malformed permessage-deflate offer: {reason}");
                    self.refuse(400, "Bad Request", &body).await;
                    return Err(reason);
                }
            }
        }
        response.push_str("\r\n");
        self.peer.log.wrote(response.as_bytes(), false);
        self.peer.stats.tx_octets.add(response.len() as u64);
        self.peer.traffic.outgoing.preopen += response.len() as u64;
        self.wr.write_all(response.as_bytes()).await.map_err(|e| e.to_string())?;
        self.wr.flush().await.map_err(|e| e.to_string())?;
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
