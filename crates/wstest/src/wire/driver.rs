//! Runs one fuzzing connection once it is open, in either role: reads,
//! writes (chopped and synced writes each alone, with a yield between) and
//! timers, until TCP is gone. The opening handshakes are in `client.rs` and
//! `server.rs`.

use std::io;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{Duration, sleep_until};

use super::incoming::{Delivery, READ_CHUNK};
use super::peer::Peer;
use super::transport::{Reader, Writer};

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

pub(crate) fn dispatch(peer: &mut Peer, handler: &mut (dyn Handler + Send)) {
    while let Some(d) = peer.next_delivery() {
        match d {
            Delivery::Message(payload, binary) => handler.on_message(peer, payload, binary),
            Delivery::Pong(payload) => handler.on_pong(peer, payload),
        }
    }
}

/// Octets being written: one queued unit alone, or a run of direct units
/// joined into one write (the reference's transport coalesces them too),
/// and the start of a queued run after them (see [`Batch::take`]).
struct Batch {
    data: Bytes,
    units: usize,
    offset: usize,
}

/// Writes joined into one batch at most this large (past the first two
/// units of a queued run, which join whatever their size).
const MAX_BATCH: usize = 256 * 1024;

impl Batch {
    /// The next write. The reference's transport (Twisted) only buffers a
    /// write; the socket gets it at the event loop's next I/O turn. Its
    /// queued (sync or chopped) writes go one per timer of 10 µs: the first
    /// at once, into that buffer beside the direct writes before it, the
    /// second when the timer fires, which the loop runs before that I/O
    /// turn, so the two leave in one segment (3.3's text frame and the frame
    /// with RSV set reach the peer together: 38 octets in one read; as the
    /// fuzzing server, with the 101 too). Each later unit goes a loop turn
    /// after the one before, alone: chops do so here too, but later sync
    /// writes join the first two (3.3's ping, 44 octets in one read, as
    /// sometimes from the reference). That join is ours: written apart, the
    /// third arrived unread at a server that had failed at the second (the
    /// `trickles` fixture in 3.3, which still had its close reply to write
    /// an octet at a time), whose close then became a reset that discarded
    /// what it had not sent, a verdict that depended on the machine's load.
    /// It stops at [`MAX_BATCH`].
    ///
    /// A run begun in a timer's callback (5.20's second part, say) is not
    /// joined: the loop runs the timer that sends its second unit only on
    /// its next pass, after the I/O turn that wrote the first alone.
    fn take(peer: &Peer) -> Option<Self> {
        let mut units = peer.out.iter().peekable();
        let mut run: Vec<&Bytes> = Vec::new();
        let mut total = 0;
        while let Some(u) = units.next_if(|u| !u.queued && (total == 0 || total + u.data.len() <= MAX_BATCH)) {
            total += u.data.len();
            run.push(&u.data);
        }
        // The first unit of a queued run was logged when queued
        // (Peer::push_unit); the ones after it were not.
        let plain_done = units.peek().is_some_and(|u| u.queued);
        if plain_done && let Some(first) = units.next_if(|u| u.logged) {
            run.push(&first.data);
            total += first.data.len();
            let joins = !first.from_timer;
            if let Some(second) = units.next_if(|u| joins && u.queued && !u.logged) {
                run.push(&second.data);
                total += second.data.len();
                if !first.chop && !second.chop {
                    while let Some(more) =
                        units.next_if(|u| u.queued && !u.logged && !u.chop && total + u.data.len() <= MAX_BATCH)
                    {
                        total += more.data.len();
                        run.push(&more.data);
                    }
                }
            }
        } else if run.is_empty() {
            run.push(&units.next()?.data);
        }
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

/// How an open connection is run, in either role.
#[derive(Debug, Clone, Copy, Default)]
pub struct DriveOptions {
    /// While waiting for the peer, poll the socket this long before
    /// sleeping (`None`: sleep at once).
    pub busy_poll: Option<Duration>,
    /// The longest the connection may last (once open, unless
    /// `deadline_from` says otherwise); then we drop TCP ourselves and the
    /// case is judged on what it saw (`None`: no limit).
    pub hard_deadline: Option<Duration>,
    /// When the hard deadline's clock started, if before the connection
    /// opened (a client's runs from its connect).
    pub deadline_from: Option<tokio::time::Instant>,
}

/// Fires every timer due by now, earliest first, and runs the steps they
/// schedule. Called before anything read is processed too: like the
/// reference's event loop, a timer whose moment has passed wins over octets
/// (or an end of stream) that arrive after it — tokio's timers may wake us
/// up to a millisecond late, which would otherwise let a peer's FIN sent
/// just after our deadline overtake it.
fn fire_due(peer: &mut Peer, handler: &mut (dyn Handler + Send)) {
    fire_timers(peer, handler);
    dispatch(peer, handler);
}

/// Fires the timers that are due, in deadline order, without decoding what
/// is buffered: right after a read the new octets are not yet logged, so
/// they must not be decoded (and consumed) before [`Peer::note_read`].
fn fire_timers(peer: &mut Peer, handler: &mut (dyn Handler + Send)) {
    let now = Instant::now();
    if !peer.timers.iter().any(|(at, _)| *at <= now) {
        return;
    }
    let mut due = Vec::new();
    peer.timers.retain(|(at, t)| {
        if *at <= now {
            due.push((*at, t.clone()));
            false
        } else {
            true
        }
    });
    due.sort_by_key(|(at, _)| *at);
    peer.in_timer = true;
    for (_, timer) in due {
        if let Some(tag) = peer.fire(timer) {
            handler.on_step(peer, tag);
        }
    }
    peer.in_timer = false;
}

/// The longest a TLS shutdown (close_notify and what TLS still holds) may
/// take when we drop the connection; plain TCP shuts down at once.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(2);

/// The case's hard deadline has passed with the connection still up: drop
/// TCP, saying why.
fn hard_deadline_passed(peer: &mut Peer, options: &DriveOptions) {
    peer.close.was_not_clean_reason = Some(format!(
        "wstest: the connection was still up at the case's hard deadline ({} s); wstest dropped it",
        options.hard_deadline.unwrap_or_default().as_secs()
    ));
    peer.drop_tcp(true);
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
fn busy_poll(rd: &Reader, budget: Duration) {
    // Over TLS the socket's octets are not the stream's: no polling there.
    let Some(tcp) = rd.tcp() else { return };
    let socket = socket2::SockRef::from(tcp.as_ref());
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

/// Runs an open connection — reads, writes (chopped and synced writes
/// each alone, with a yield between) and timers — until TCP is gone, then
/// marks the connection lost. The opening handshake is done (either role).
pub(crate) async fn drive(
    peer: &mut Peer,
    rd: &mut Reader,
    wr: &mut Writer,
    handler: &mut (dyn Handler + Send),
    options: DriveOptions,
) {
    let clock = options.deadline_from.unwrap_or_else(tokio::time::Instant::now);
    let hard_deadline = options.hard_deadline.map(|d| clock + d);
    // TLS buffers what it is given: a written batch must also be flushed.
    let buffered = wr.is_tls();
    let mut batch: Option<Batch> = None;
    let mut yield_next = false;
    // After a paced chop, no write before this instant.
    let mut pause_until: Option<tokio::time::Instant> = None;
    loop {
        if let Some(abort) = peer.drop_requested
            && (abort || (peer.out.is_empty() && batch.is_none()))
        {
            // Over TLS, shutdown first writes out what TLS holds: a peer
            // that stopped reading must not hold us here.
            let _ = tokio::time::timeout(SHUTDOWN_LIMIT, wr.shutdown()).await;
            break;
        }
        // Checked here too: the biased `select!` below polls the read
        // first, so a peer that never stops sending would starve the
        // deadline's branch.
        if hard_deadline.is_some_and(|d| d <= tokio::time::Instant::now()) && peer.drop_requested != Some(true) {
            hard_deadline_passed(peer, &options);
            continue;
        }
        if yield_next {
            tokio::task::yield_now().await;
            yield_next = false;
        }
        if pause_until.is_some_and(|t| t <= tokio::time::Instant::now()) {
            pause_until = None;
        }
        if batch.is_none() {
            batch = Batch::take(peer);
        }
        let next_timer = peer.timers.iter().map(|(at, _)| *at).min();
        if let (Some(budget), None, None) = (options.busy_poll, &batch, pause_until) {
            busy_poll(rd, budget);
        }
        tokio::select! {
            biased;
            read = async {
                let buf = peer.read_buffer();
                let from = buf.len();
                rd.read_buf(&mut buf.limit(READ_CHUNK)).await.map(|n| (n, from))
            } => {
                // Timers that came due while we waited fire first; the new
                // octets are decoded only once they are logged.
                fire_timers(peer, handler);
                match read {
                    Ok((n, from)) if n > 0 => {
                        peer.note_read(from);
                        dispatch(peer, handler);
                    }
                    _ => break,
                }
            },
            () = sleep_until(hard_deadline.unwrap_or_else(tokio::time::Instant::now)), if hard_deadline.is_some() => {
                hard_deadline_passed(peer, &options);
            }
            () = sleep_until(pause_until.unwrap_or_else(tokio::time::Instant::now)), if pause_until.is_some() => pause_until = None,
            written = async {
                let rest = batch.as_ref().map_or(&[][..], Batch::rest);
                // All of a batch is written: over TLS, push out what the TLS
                // layer still holds before the batch counts as sent.
                if rest.is_empty() { wr.flush().await.map(|()| 0) } else { wr.write(rest).await }
            }, if batch.is_some() && pause_until.is_none() => {
                // A write error means the peer is gone: the connection is lost, not failed to open.
                let Ok(n) = written else { break };
                if let Some(b) = batch.as_mut() {
                    b.offset += n;
                    if b.offset == b.data.len() && (n == 0 || !buffered) {
                        for _ in 0..b.units {
                            if let Some(u) = peer.pop_unit() {
                                if !u.logged {
                                    peer.account_written(&u.data, u.sync);
                                }
                                yield_next = u.queued;
                                if u.paced {
                                    pause_until = Some(tokio::time::Instant::now() + super::write_queue::SMALL_CHOP_GAP);
                                }
                            }
                        }
                        batch = None;
                    }
                }
            },
            () = sleep_until(next_timer.map_or_else(tokio::time::Instant::now, tokio::time::Instant::from_std)), if next_timer.is_some() => {
                fire_due(peer, handler);
            }
        }
    }
    peer.connection_lost();
}
