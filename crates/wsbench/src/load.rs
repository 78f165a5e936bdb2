//! The load generator: N connections, each keeping D messages in flight
//! (closed loop: every echo received lets one more message go), a warm-up,
//! (at least `--warmup`, and until every connection has had an echo back),
//! then a measured window. Latency is the time from handing a message to
//! the socket to receiving its echo; echoes come back in order, so each
//! connection matches them to a queue of send times.
//!
//! With one message in flight a connection is one task (send, await the
//! echo). With more, reading and writing are separate tasks: a connection
//! that writes 16 × 1 MiB without reading would fill both directions'
//! socket buffers against a server that echoes as it reads, and stall.
//!
//! By default each message leaves in its own write, as most clients send.
//! With `batch_writes`, the messages that an arriving batch of echoes lets
//! go leave together in one write (autostrada's `feed`, then one flush): the
//! load then costs far less per message, so the server is measured rather
//! than the load generator, and the server sees bursts, not single frames.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use autostrada::proto::deflate::DeflateConfig;
use autostrada::{ClientBuilder, Config, Message, Utf8Bytes};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};

use crate::cells::{Cell, Kind};
use crate::{payload, procstat};

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// `host:port` of the server.
    pub addr: String,
    /// Whether the server speaks WebSocket; false for the raw TCP echo,
    /// which gets the same payload octets without framing.
    pub websocket: bool,
    /// The load shape.
    pub cell: Cell,
    /// Run before measuring: connections warm up, buffers grow.
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
    /// The server's process, whose CPU time is read around the window.
    pub server_pid: Option<u32>,
    /// Whether messages let go together leave in one write (see the module
    /// docs); false sends each in its own write.
    pub batch_writes: bool,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadResult {
    /// Echoes received in the window.
    pub messages: u64,
    /// The window's length, in seconds.
    pub secs: f64,
    /// Echoes per second.
    pub msgs_per_sec: f64,
    /// Payload megabytes (10^6 octets) echoed per second, one direction.
    pub mb_per_sec: f64,
    /// Latency percentiles in microseconds: p50, p90, p99, p99.9, max.
    pub latency_us: [f64; 5],
    /// The server's CPU time (user + system) in the window, per echoed message, in µs.
    pub server_cpu_us_per_msg: Option<f64>,
    /// Connections that failed or echoed something else than was sent.
    pub errors: u64,
}

const WARMING: u8 = 0;
const MEASURING: u8 = 1;

/// Shared by every connection of a run.
struct Shared {
    phase: AtomicU8,
    echoed: AtomicU64,
    errors: AtomicU64,
    /// Connections that have had at least one echo back.
    warm: AtomicU64,
}

/// The warm-up goes on past `--warmup` until every connection has had an
/// echo back, for at most this long: with megabytes in flight per
/// connection the first round alone can take seconds.
const MAX_WARMUP: Duration = Duration::from_secs(10);

/// Runs one cell and returns what it measured.
///
/// # Errors
/// When not even one connection can be opened, or every connection failed.
pub async fn run(spec: &LoadSpec) -> Result<LoadResult, String> {
    let payload = payload::make(spec.cell.kind, spec.cell.size);
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(WARMING),
        echoed: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        warm: AtomicU64::new(0),
    });
    let (stop_tx, stop) = watch::channel(false);
    let conns = open_all(spec, spec.cell.conns).await?;
    let mut tasks = Vec::with_capacity(conns.len());
    for conn in conns {
        let (shared, stop, payload, cell) = (shared.clone(), stop.clone(), payload.clone(), spec.cell);
        let batch = spec.batch_writes;
        tasks.push(tokio::spawn(async move {
            let mut hist = new_histogram();
            let ok = match conn {
                Conn::Ws(ws) => drive_ws(*ws, cell, batch, payload, &shared, stop, &mut hist).await,
                Conn::Raw(tcp) => drive_raw(tcp, cell, batch, payload, &shared, stop, &mut hist).await,
            };
            if !ok {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
            hist
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(spec.warmup).await;
    let open = tasks.len() as u64;
    while shared.warm.load(Ordering::Relaxed) + shared.errors.load(Ordering::Relaxed) < open
        && started.elapsed() < MAX_WARMUP
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu0 = spec.server_pid.map(procstat::cpu_micros).transpose()?;
    let (n0, t0) = (shared.echoed.load(Ordering::Relaxed), Instant::now());
    shared.phase.store(MEASURING, Ordering::Relaxed);
    tokio::time::sleep(spec.duration).await;
    let (n1, t1) = (shared.echoed.load(Ordering::Relaxed), Instant::now());
    let cpu1 = spec.server_pid.map(procstat::cpu_micros).transpose()?;
    let _ = stop_tx.send(true);
    let mut hist = new_histogram();
    for t in tasks {
        if let Ok(h) = t.await {
            let _ = hist.add(h);
        }
    }
    let messages = n1 - n0;
    let secs = (t1 - t0).as_secs_f64();
    let errors = shared.errors.load(Ordering::Relaxed);
    if messages == 0 {
        return Err(format!("no echo came back in {secs:.1} s ({errors} of {} connections failed)", spec.cell.conns));
    }
    let q = |p: f64| hist.value_at_quantile(p) as f64 / 1000.0;
    Ok(LoadResult {
        messages,
        secs,
        msgs_per_sec: messages as f64 / secs,
        mb_per_sec: (messages as f64 * spec.cell.size as f64) / secs / 1e6,
        latency_us: [q(0.5), q(0.9), q(0.99), q(0.999), hist.max() as f64 / 1000.0],
        server_cpu_us_per_msg: cpu0.zip(cpu1).map(|(a, b)| b.saturating_sub(a) as f64 / messages as f64),
        errors,
    })
}

/// Nanoseconds from 1 ns to one minute, three significant digits.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// One open connection.
pub enum Conn {
    /// A WebSocket (autostrada's client), boxed: it is far larger than a bare socket.
    Ws(Box<autostrada::WebSocket<TcpStream>>),
    /// A plain TCP connection to the raw echo.
    Raw(TcpStream),
}

/// Opens `n` connections, at most 256 handshakes at a time (a listen
/// backlog of a few hundred is common).
///
/// # Errors
/// The first connection's error when none opens; otherwise failures are
/// reported and the run goes on with the connections that opened.
pub async fn open_all(spec: &LoadSpec, n: usize) -> Result<Vec<Conn>, String> {
    let gate = Arc::new(Semaphore::new(256));
    let mut pending = Vec::with_capacity(n);
    for _ in 0..n {
        let (gate, addr, websocket, kind) = (gate.clone(), spec.addr.clone(), spec.websocket, spec.cell.kind);
        pending.push(tokio::spawn(async move {
            let _slot = gate.acquire_owned().await;
            open(&addr, websocket, kind).await
        }));
    }
    let mut conns = Vec::with_capacity(n);
    let mut first_error = None;
    for p in pending {
        match p.await {
            Ok(Ok(c)) => conns.push(c),
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    match first_error {
        Some(e) if conns.is_empty() => Err(format!("cannot connect to {}: {e}", spec.addr)),
        Some(e) => {
            eprintln!("wsbench: {} of {n} connections failed to open (first: {e})", n - conns.len());
            Ok(conns)
        }
        None => Ok(conns),
    }
}

/// Opens one connection; a WebSocket offers permessage-deflate for [`Kind::Deflate`].
async fn open(addr: &str, websocket: bool, kind: Kind) -> Result<Conn, String> {
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    if !websocket {
        return Ok(Conn::Raw(tcp));
    }
    let mut config = Config::default();
    config.max_frame_size = crate::servers::MAX_MESSAGE;
    config.max_message_size = crate::servers::MAX_MESSAGE;
    if kind == Kind::Deflate {
        config.deflate = Some(DeflateConfig::default());
    }
    let (ws, _) = ClientBuilder::new()
        .config(config)
        .connect_on(tcp, &format!("ws://{addr}/"))
        .await
        .map_err(|e| e.to_string())?;
    if kind == Kind::Deflate && ws.deflate().is_none() {
        return Err(format!("the server at {addr} did not accept permessage-deflate"));
    }
    Ok(Conn::Ws(Box::new(ws)))
}

/// Per connection: the send times of messages in flight, oldest first, and
/// whether an echo has come back yet.
#[derive(Default)]
struct InFlight(Mutex<VecDeque<Instant>>, std::sync::atomic::AtomicBool);

impl InFlight {
    fn sent(&self) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push_back(Instant::now());
    }

    /// Counts one echo and, in the window, records its latency.
    fn echoed(&self, shared: &Shared, hist: &mut Histogram<u64>) {
        let sent = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front();
        shared.echoed.fetch_add(1, Ordering::Relaxed);
        if !self.1.swap(true, Ordering::Relaxed) {
            shared.warm.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(t) = sent.filter(|_| shared.phase.load(Ordering::Relaxed) == MEASURING) {
            let _ = hist.record(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX).max(1));
        }
    }
}

/// The message of `kind` carrying `payload`.
pub(crate) fn message(kind: Kind, payload: &Bytes) -> Message {
    match kind {
        Kind::Binary => Message::Binary(payload.clone()),
        // Made valid by payload::make; checked here once per message clone.
        Kind::Text | Kind::Deflate => {
            Message::Text(Utf8Bytes::from_bytes(payload.clone()).expect("text payloads are UTF-8"))
        }
    }
}

/// Whether `m` is the echo of a message of `kind` and `size` octets.
fn is_echo(m: &Message, kind: Kind, size: usize) -> bool {
    match m {
        Message::Binary(b) => kind == Kind::Binary && b.len() == size,
        Message::Text(t) => kind != Kind::Binary && t.len() == size,
        _ => false,
    }
}

/// Drives a WebSocket until `stop`; false when it failed.
async fn drive_ws(
    ws: autostrada::WebSocket<TcpStream>,
    cell: Cell,
    batch: bool,
    payload: Bytes,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
    hist: &mut Histogram<u64>,
) -> bool {
    let msg = message(cell.kind, &payload);
    let inflight = InFlight::default();
    if cell.inflight == 1 {
        let mut ws = ws;
        loop {
            inflight.sent();
            if ws.send(msg.clone()).await.is_err() {
                return false;
            }
            let echo = tokio::select! {
                biased;
                _ = stop.changed() => return true,
                m = next_data(&mut ws) => m,
            };
            match echo {
                Some(m) if is_echo(&m, cell.kind, cell.size) => inflight.echoed(shared, hist),
                _ => return false,
            }
        }
    }
    let (mut rx, mut tx) = ws.split();
    let permits = Semaphore::new(cell.inflight);
    let writer = async {
        loop {
            let Some(n) = take_permits(&permits, batch).await else { return false };
            for _ in 0..n {
                inflight.sent();
                if tx.feed(msg.clone()).await.is_err() {
                    return false;
                }
            }
            if tx.flush().await.is_err() {
                return false;
            }
        }
    };
    let reader = async {
        loop {
            match next_data(&mut rx).await {
                Some(m) if is_echo(&m, cell.kind, cell.size) => {
                    inflight.echoed(shared, hist);
                    permits.add_permits(1);
                }
                _ => return false,
            }
        }
    };
    tokio::select! {
        _ = stop.changed() => true,
        ok = writer => ok,
        ok = reader => ok,
    }
}

/// Largest batch of raw payloads copied into one write.
const BATCH_COPY_MAX: usize = 64 << 10;

/// Waits for a permit to send, and with `batch` takes every other one
/// free now too; returns how many messages may go, `None` if the
/// semaphore was closed.
async fn take_permits(permits: &Semaphore, batch: bool) -> Option<usize> {
    let first = permits.acquire().await.ok()?;
    first.forget();
    if !batch {
        return Some(1);
    }
    let more = permits.available_permits();
    match u32::try_from(more).ok().and_then(|m| permits.try_acquire_many(m).ok()) {
        Some(rest) => {
            rest.forget();
            Some(1 + more)
        }
        None => Some(1),
    }
}

/// The next text or binary message; None at the end or on an error.
async fn next_data<S>(s: &mut S) -> Option<Message>
where
    S: futures_util::Stream<Item = Result<Message, autostrada::Error>> + Unpin,
{
    loop {
        match s.next().await? {
            Ok(m) if m.is_data() => return Some(m),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// Drives a raw TCP connection until `stop`: `size` octets out per message,
/// `size` octets back per echo; false when it failed.
async fn drive_raw(
    tcp: TcpStream,
    cell: Cell,
    batch: bool,
    payload: Bytes,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
    hist: &mut Histogram<u64>,
) -> bool {
    let inflight = InFlight::default();
    let permits = Semaphore::new(cell.inflight);
    let (mut rd, mut wr) = tcp.into_split();
    let writer = async {
        let mut copies = Vec::new();
        // Small payloads let go together leave in writes of up to 64 KiB,
        // as the WebSocket subjects' batched frames do.
        let per_write = (BATCH_COPY_MAX / payload.len().max(1)).max(1);
        loop {
            let Some(mut n) = take_permits(&permits, batch).await else { return false };
            (0..n).for_each(|_| inflight.sent());
            let mut written = Ok(());
            while n > 0 && written.is_ok() {
                let k = n.min(per_write);
                written = if k == 1 {
                    wr.write_all(&payload).await
                } else {
                    copies.clear();
                    (0..k).for_each(|_| copies.extend_from_slice(&payload));
                    wr.write_all(&copies).await
                };
                n -= k;
            }
            if written.is_err() {
                return false;
            }
        }
    };
    let reader = async {
        let mut buf = vec![0u8; 64 << 10];
        let mut partial = 0;
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => {
                    partial += n;
                    while partial >= cell.size {
                        partial -= cell.size;
                        inflight.echoed(shared, hist);
                        permits.add_permits(1);
                    }
                }
            }
        }
    };
    tokio::select! {
        _ = stop.changed() => true,
        ok = writer => ok,
        ok = reader => ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servers::{Subject, serve_on};

    async fn server(subject: Subject) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(serve_on(subject, listener));
        addr
    }

    fn spec(addr: String, subject: Subject, cell: &str) -> LoadSpec {
        LoadSpec {
            addr,
            websocket: subject.is_websocket(),
            cell: Cell::parse(cell).unwrap(),
            warmup: Duration::from_millis(50),
            duration: Duration::from_millis(200),
            // This process serves as well: its CPU time stands in for the server's.
            server_pid: Some(std::process::id()),
            batch_writes: false,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_rust_subject_echoes_every_kind_of_cell() {
        let subjects = [
            Subject::RawTcp,
            Subject::Autostrada,
            Subject::TokioWebsockets,
            Subject::Fastwebsockets,
            Subject::TokioTungstenite,
        ];
        for subject in subjects {
            let addr = server(subject).await;
            // One in flight (one task per connection), several (split
            // reader and writer), a message larger than the socket buffers, text.
            for cell in ["2:20:1", "3:1k:8", "1:300k:4", "2:5k:2:text"] {
                let r = run(&spec(addr.clone(), subject, cell)).await.unwrap();
                assert!(r.messages > 0, "{} {cell}: no echo", subject.name());
                assert_eq!(r.errors, 0, "{} {cell}", subject.name());
                assert!(r.server_cpu_us_per_msg.is_some());
                assert!(r.latency_us[0] > 0.0 && r.latency_us[0] <= r.latency_us[4]);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batched_writes_keep_every_message_and_its_echo() {
        for subject in [Subject::RawTcp, Subject::Autostrada, Subject::TokioWebsockets] {
            let addr = server(subject).await;
            // Small messages batched into one write; a batch too large to
            // copy together (raw TCP writes those one by one); text.
            for cell in ["2:20:16", "1:20k:8", "2:1k:4:text"] {
                let mut spec = spec(addr.clone(), subject, cell);
                spec.batch_writes = true;
                let r = run(&spec).await.unwrap();
                assert!(r.messages > 0, "{} {cell}: no echo", subject.name());
                assert_eq!(r.errors, 0, "{} {cell}", subject.name());
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deflate_cells_negotiate_compression_or_fail_clearly() {
        let ours = server(Subject::Autostrada).await;
        let r = run(&spec(ours, Subject::Autostrada, "2:4k:2:deflate")).await.unwrap();
        assert!(r.messages > 0 && r.errors == 0);
        // tokio-websockets does not implement permessage-deflate.
        let theirs = server(Subject::TokioWebsockets).await;
        let e = run(&spec(theirs, Subject::TokioWebsockets, "1:4k:1:deflate")).await.unwrap_err();
        assert!(e.contains("did not accept permessage-deflate"), "{e}");
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_a_clear_error() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
        let e = run(&spec(free.clone(), Subject::Autostrada, "1:20:1")).await.unwrap_err();
        assert!(e.contains(&format!("cannot connect to {free}")), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_connections_are_counted_with_and_without_compression() {
        let addr = server(Subject::Autostrada).await;
        let plain = crate::idle::run(&addr, true, false, 40, std::process::id()).await.unwrap();
        assert_eq!((plain.conns, plain.deflate), (40, false));
        let deflate = crate::idle::run(&addr, true, true, 40, std::process::id()).await.unwrap();
        assert_eq!((deflate.conns, deflate.deflate), (40, true));
        assert!(deflate.rss_after_kib > 0);
    }
}
