//! Runs one fuzzing connection over TCP: the opening handshake, then reads,
//! writes (chopped and synced writes each alone, with a yield between) and
//! timers, until TCP is gone.

use std::io;
use std::time::Instant;

use autostrada::proto::Role;
use autostrada::proto::handshake::{Target, accept_key, generate_key};
use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::time::{Duration, sleep_until, timeout};

use super::incoming::{Delivery, READ_CHUNK};
use super::peer::{Peer, State};

/// How long to wait for the TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The case's side of a connection: called as things happen.
pub trait Handler {
    /// The opening handshake completed.
    fn on_open(&mut self, peer: &mut Peer);
    /// A complete data message arrived.
    fn on_message(&mut self, peer: &mut Peer, payload: Bytes, binary: bool);
    /// A pong arrived.
    fn on_pong(&mut self, peer: &mut Peer, payload: Bytes);
    /// A step scheduled with [`Peer::later`] is due.
    fn on_step(&mut self, peer: &mut Peer, tag: Option<String>);
}

/// Everything a finished connection leaves behind.
#[derive(Debug)]
pub struct Session {
    /// The peer, with its records.
    pub peer: Peer,
    /// The opening handshake completed.
    pub opened: bool,
    /// When TCP connected (UTC).
    pub started: chrono::DateTime<chrono::Utc>,
    /// When the case began (handshake done).
    pub open_time: Option<Instant>,
    /// The request we sent.
    pub http_request: String,
    /// The response head we received.
    pub http_response: Option<String>,
    /// The response's `Server` header.
    pub server_header: Option<String>,
    /// The case was skipped by `exclude-agent-cases` after opening.
    pub skipped: bool,
}

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

/// Checks the server's response head; `Err` holds the reason for the report.
fn check_response(head: &str, key: &str, protocols: &[String]) -> Result<Option<String>, String> {
    let mut headers = [httparse_header(); 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(head.as_bytes()) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err("malformed HTTP response to the opening handshake".into()),
    }
    if !head.starts_with("HTTP/1.1 ") {
        return Err("server does not answer with HTTP/1.1".into());
    }
    let code = resp.code.unwrap_or(0);
    if code != 101 {
        return Err(format!("WebSocket connection upgrade failed ({code} - {})", resp.reason.unwrap_or("")));
    }
    let get_all = |name: &str| -> Vec<String> {
        resp.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
            .collect()
    };
    let upgrade = get_all("upgrade");
    if !upgrade.iter().any(|u| u.eq_ignore_ascii_case("websocket")) {
        return Err(format!("HTTP Upgrade header missing or not 'websocket' (got {upgrade:?})"));
    }
    let connection = get_all("connection");
    if !connection.iter().flat_map(|c| c.split(',')).any(|t| t.trim().eq_ignore_ascii_case("upgrade")) {
        return Err(format!("HTTP Connection header missing or without 'upgrade' (got {connection:?})"));
    }
    let expected = accept_key(key.as_bytes());
    match get_all("sec-websocket-accept").as_slice() {
        [one] if *one == expected => {}
        [one] => {
            return Err(format!("HTTP Sec-WebSocket-Accept bogus value: expected {expected}, got {one}"));
        }
        [] => return Err("HTTP Sec-WebSocket-Accept header missing".into()),
        _ => return Err("HTTP Sec-WebSocket-Accept header appears more than once".into()),
    }
    if let Some(ext) = get_all("sec-websocket-extensions").first() {
        return Err(format!("server selected extension {ext:?}, which was not offered"));
    }
    if let Some(p) = get_all("sec-websocket-protocol").first() {
        if !protocols.contains(p) {
            return Err(format!("server selected subprotocol {p:?}, which was not offered"));
        }
    }
    Ok(get_all("server").into_iter().next())
}

fn httparse_header() -> httparse::Header<'static> {
    httparse::EMPTY_HEADER
}

fn dispatch(peer: &mut Peer, handler: &mut (dyn Handler + Send)) {
    while let Some(d) = peer.next_delivery() {
        match d {
            Delivery::Message(payload, binary) => handler.on_message(peer, payload, binary),
            Delivery::Pong(payload) => handler.on_pong(peer, payload),
        }
    }
}

/// Octets being written: one queued unit alone, or a run of direct units
/// joined into one write (the reference's transport coalesces them too).
struct Batch {
    data: Bytes,
    units: usize,
    offset: usize,
}

/// Direct writes joined into one batch at most this large.
const MAX_BATCH: usize = 256 * 1024;

impl Batch {
    fn take(peer: &Peer) -> Option<Self> {
        let first = peer.out.front()?;
        if first.queued {
            return Some(Self { data: first.data.clone(), units: 1, offset: 0 });
        }
        let run: Vec<&Bytes> = {
            let mut total = 0;
            peer.out
                .iter()
                .take_while(|u| !u.queued)
                .map(|u| &u.data)
                .take_while(|d| {
                    let take = total == 0 || total + d.len() <= MAX_BATCH;
                    total += d.len();
                    take
                })
                .collect()
        };
        if run.len() == 1 {
            return Some(Self { data: run[0].clone(), units: 1, offset: 0 });
        }
        let mut data = BytesMut::with_capacity(run.iter().map(|d| d.len()).sum());
        for d in &run {
            data.extend_from_slice(d);
        }
        Some(Self { data: data.freeze(), units: run.len(), offset: 0 })
    }

    fn rest(&self) -> &[u8] {
        &self.data[self.offset..]
    }
}

/// Options of one client connection.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// Extra request headers (`Origin`, `Sec-WebSocket-Protocol`).
    pub headers: Vec<(String, String)>,
    /// Subprotocols offered.
    pub protocols: Vec<String>,
    /// While waiting for the server, poll the socket this long before
    /// sleeping (`None`: sleep at once). See [`busy_poll`].
    pub busy_poll: Option<Duration>,
}

/// Waits, without sleeping, until there is something to read on the socket
/// (data, end of stream or an error — the read that follows finds out
/// which) or `budget` is spent.
///
/// A timed case that waits for a reply would otherwise sleep in the
/// reactor and pay the CPU's wake-up latency on every round trip — on a
/// virtual machine that is more than the server's own turnaround, and it
/// made 9.7/9.8 durations swing between two values from one run to the
/// next. Polling costs CPU only for the few microseconds a reply normally
/// takes; past `budget` the caller sleeps as usual. It peeks at the socket
/// itself (consuming nothing): tokio's cached readiness would not see octets
/// that arrive while we poll; the reactor learns of them on its next turn,
/// which then does not sleep.
fn busy_poll(rd: &OwnedReadHalf, budget: Duration) {
    let socket = socket2::SockRef::from(rd.as_ref());
    let mut probe = [std::mem::MaybeUninit::<u8>::uninit()];
    let until = Instant::now() + budget;
    loop {
        match socket.peek(&mut probe) {
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            _ => return,
        }
        if Instant::now() >= until {
            return;
        }
        std::hint::spin_loop();
    }
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
    let tcp = timeout(CONNECT_TIMEOUT, TcpStream::connect((target.host.as_str(), target.port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TCP connect timed out"))??;
    tcp.set_nodelay(true)?;
    let started = chrono::Utc::now();
    let deadline = tokio::time::Instant::now() + peer.timeouts.open_handshake;
    let key = generate_key();
    let http_request = request(target, &key, &options.headers);
    let (mut rd, mut wr) = tcp.into_split();
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
    wr.write_all(http_request.as_bytes()).await?;

    // Opening handshake.
    let mut chunk = BytesMut::with_capacity(64 * 1024);
    let head = loop {
        chunk.clear();
        let read = tokio::select! {
            r = rd.read_buf(&mut chunk) => r,
            () = sleep_until(deadline) => {
                peer.close.was_open_handshake_timeout = true;
                peer.close.was_not_clean_reason = Some("peer did not finish (in time) the opening handshake".into());
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
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = buf.split_to(end + 4);
            peer.restore_buffer(buf);
            break String::from_utf8_lossy(&head).into_owned();
        }
        peer.restore_buffer(buf);
    };
    session.http_response = Some(head.clone());
    match check_response(&head, &key, &options.protocols) {
        Ok(server) => session.server_header = server,
        Err(reason) => {
            peer.close.was_not_clean_reason = Some(reason);
            peer.close.dropped_by_me = true;
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

    // Open: reads, writes and timers until TCP is gone.
    let mut batch: Option<Batch> = None;
    let mut yield_next = false;
    // After a paced chop, no write before this instant.
    let mut pause_until: Option<tokio::time::Instant> = None;
    loop {
        if let Some(abort) = peer.drop_requested {
            if abort || (peer.out.is_empty() && batch.is_none()) {
                let _ = wr.shutdown().await;
                break;
            }
        }
        if yield_next {
            tokio::task::yield_now().await;
            yield_next = false;
        }
        if pause_until.is_some_and(|t| t <= tokio::time::Instant::now()) {
            pause_until = None;
        }
        if batch.is_none() {
            batch = Batch::take(&peer);
        }
        let next_timer = peer.timers.iter().map(|(at, _)| *at).min();
        if let (Some(budget), None, None) = (options.busy_poll, &batch, pause_until) {
            busy_poll(&rd, budget);
        }
        tokio::select! {
            biased;
            read = async {
                let buf = peer.read_buffer();
                let from = buf.len();
                rd.read_buf(&mut buf.limit(READ_CHUNK)).await.map(|n| (n, from))
            } => match read {
                Ok((n, from)) if n > 0 => {
                    peer.note_read(from);
                    dispatch(&mut peer, handler);
                }
                _ => break,
            },
            () = sleep_until(pause_until.unwrap_or_else(tokio::time::Instant::now)), if pause_until.is_some() => pause_until = None,
            written = async { wr.write(batch.as_ref().map_or(&[][..], Batch::rest)).await }, if batch.is_some() && pause_until.is_none() => {
                // A write error means the peer is gone: the connection is lost, not failed to open.
                let Ok(n) = written else { break };
                if let Some(b) = batch.as_mut() {
                    b.offset += n;
                    if b.offset == b.data.len() {
                        for _ in 0..b.units {
                            if let Some(u) = peer.pop_unit() {
                                peer.log.wrote(&u.data, u.sync);
                                peer.stats.tx_octets.add(u.data.len() as u64);
                                yield_next = u.queued;
                                if u.paced {
                                    pause_until = Some(tokio::time::Instant::now() + super::peer::SMALL_CHOP_GAP);
                                }
                            }
                        }
                        batch = None;
                    }
                }
            },
            () = sleep_until(next_timer.map_or_else(tokio::time::Instant::now, tokio::time::Instant::from_std)), if next_timer.is_some() => {
                let now = Instant::now();
                let mut due = Vec::new();
                peer.timers.retain(|(at, t)| if *at <= now { due.push((*at, t.clone())); false } else { true });
                due.sort_by_key(|(at, _)| *at);
                for (_, timer) in due {
                    if let Some(tag) = peer.fire(timer) {
                        handler.on_step(&mut peer, tag);
                    }
                }
                dispatch(&mut peer, handler);
            }
        }
    }
    peer.connection_lost();
    session.peer = peer;
    Ok(session)
}
