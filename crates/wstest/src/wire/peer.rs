//! The wire peer's state and its sending primitives.
//!
//! A [`Peer`] is one fuzzing endpoint on one connection. It can put any
//! frame on the wire (reserved bits and opcodes, fragmented control frames,
//! repeated payloads), chop a frame's octets into separately written pieces,
//! "sync" a write (write it alone, then yield before the next), and it runs
//! the closing handshake and timers the way the reference fuzzer does. It
//! records everything the verdicts are computed from; it knows no case.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use autostrada::proto::{FrameHeader, OpCode, Role, apply_mask};
use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};

use super::deflate::Deflate;
use super::frame_spec::{FrameSpec, extend_repeated};
use super::incoming::Incoming;
use super::log::{FrameInfo, Stats, WireLog};
use super::traffic::Traffic;
use super::write_queue::Unit;

/// The report's reason when the peer's TCP went without a closing
/// handshake (the reference's words, which reports are compared on).
pub(crate) const PEER_DROPPED: &str = "peer dropped the TCP connection without previous WebSocket closing handshake";

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Opening handshake in progress.
    Connecting,
    /// Messages flow.
    Open,
    /// A close frame was sent or received.
    Closing,
    /// TCP is gone.
    Closed,
}

/// Something the case observed, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A complete data message.
    Message {
        /// Reassembled payload.
        payload: Bytes,
        /// True if the first frame was binary.
        binary: bool,
    },
    /// A pong.
    Pong(Bytes),
    /// A mark a case records itself when a scheduled step runs.
    Timeout(String),
}

impl Event {
    /// A text message event.
    #[must_use]
    pub fn text(payload: impl Into<Bytes>) -> Self {
        Self::Message { payload: payload.into(), binary: false }
    }

    /// A binary message event.
    #[must_use]
    pub fn binary(payload: impl Into<Bytes>) -> Self {
        Self::Message { payload: payload.into(), binary: true }
    }

    /// A pong event.
    #[must_use]
    pub fn pong(payload: impl Into<Bytes>) -> Self {
        Self::Pong(payload.into())
    }
}

/// How the closing went, field by field as the reports name them.
#[derive(Debug, Clone, Default)]
pub struct CloseStatus {
    /// We sent a close first (not as a reply).
    pub closed_by_me: bool,
    /// We failed the connection (a violation by the peer, or the kill timer).
    pub failed_by_me: bool,
    /// We closed TCP.
    pub dropped_by_me: bool,
    /// A close frame was received, and no timeout struck afterwards.
    pub was_clean: bool,
    /// Why the connection was not clean.
    pub was_not_clean_reason: Option<String>,
    /// The server did not drop TCP in time after the closing handshake.
    pub was_server_connection_drop_timeout: bool,
    /// The opening handshake did not finish in time.
    pub was_open_handshake_timeout: bool,
    /// The peer did not answer our close in time.
    pub was_close_handshake_timeout: bool,
    /// Code of the close we sent.
    pub local_close_code: Option<u16>,
    /// Reason octets of the close we sent, as sent: 7.5.1's are invalid
    /// UTF-8 on purpose, and its report shows them in hex.
    pub local_close_reason: Option<Vec<u8>>,
    /// Code of the close we received.
    pub remote_close_code: Option<u16>,
    /// Reason of the close we received.
    pub remote_close_reason: Option<String>,
}

/// A timer armed on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    /// Fail the connection if still not closed.
    Kill,
    /// Send an empty close if still open.
    Close,
    /// Run the case's next step, with an optional tag.
    Step(Option<String>),
    /// Our close was not answered in time.
    CloseHandshake,
    /// The server did not drop TCP in time (client role).
    ServerDrop,
}

/// A delay as the wire log shows it: an integer when whole.
fn delay_json(secs: f64) -> Value {
    if secs.fract() == 0.0 { json!(secs as u64) } else { json!(secs) }
}

/// Timeouts of the peer's own protocol (the reference's defaults).
///
/// A timeout of zero arms no timer at all, as in the reference, which arms
/// each of these only when it is above 0 (autobahn 0.10.9
/// `websocket/protocol.py`: `openHandshakeTimeout` in `_connectionMade`,
/// `closeHandshakeTimeout` in `sendCloseFrame`, `serverConnectionDropTimeout`
/// in `onCloseFrame`): the wait is then bounded only by the case's own
/// timers and by wstest's hard deadline of the case.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// After we sent a close that is not a reply (0: no timer).
    pub close_handshake: Duration,
    /// Client role: after the closing handshake, for the server to drop TCP
    /// (0: no timer).
    pub server_drop: Duration,
    /// For the opening handshake (0: no timer).
    pub open_handshake: Duration,
}

impl Timeouts {
    /// When the opening handshake begun now must be over: `None` for a
    /// timeout of 0, which the reference never arms.
    #[must_use]
    pub fn open_handshake_deadline(&self) -> Option<tokio::time::Instant> {
        (!self.open_handshake.is_zero()).then(|| tokio::time::Instant::now() + self.open_handshake)
    }
}

/// Waits until `deadline`, or for ever when there is none (a timeout of 0).
pub(crate) async fn sleep_until_deadline(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            close_handshake: Duration::from_secs(1),
            server_drop: Duration::from_secs(1),
            open_handshake: Duration::from_secs(5),
        }
    }
}

/// Events [`Peer::record`] keeps at most.
pub const MAX_EVENTS: usize = 10_000;
/// Payload octets [`Peer::record`] keeps at most (the suite's largest
/// recorded message is 64 KiB).
pub const MAX_EVENT_OCTETS: usize = 32 << 20;

/// One fuzzing endpoint on one connection.
#[derive(Debug)]
pub struct Peer {
    /// Our role.
    pub role: Role,
    /// Connection state.
    pub state: State,
    /// How the closing went.
    pub close: CloseStatus,
    /// Messages and pongs received, plus the case's own marks.
    pub received: Vec<Event>,
    /// The wire log.
    pub log: WireLog,
    /// Traffic statistics.
    pub stats: Stats,
    /// Octets, frames and messages by level and direction (`trafficStats`).
    pub traffic: Traffic,
    /// permessage-deflate, when negotiated.
    pub deflate: Option<Deflate>,
    /// Fragment size the message API uses when none is given (0: none).
    pub auto_fragment_size: usize,
    /// Protocol timeouts.
    pub timeouts: Timeouts,
    pub(crate) out: VecDeque<Unit>,
    /// How many units in `out` are queued (chopped or synced) writes.
    pub(crate) queued_units: usize,
    /// How many of those are not logged yet: the reference's send queue,
    /// which no longer holds the first of a run, written at once.
    pub(crate) unlogged_queued: usize,
    /// Set while the driver fires timers: a run of queued writes begun
    /// there leaves unit by unit (see the driver's `Batch::take`).
    pub(crate) in_timer: bool,
    pub(crate) timers: Vec<(Instant, Timer)>,
    /// Set when we decided to close TCP: `true` for an abort.
    pub(crate) drop_requested: Option<bool>,
    pub(crate) incoming: Incoming,
    /// Payload octets held by `received`.
    received_octets: usize,
    /// Octets in `out`.
    pub(crate) out_octets: usize,
    /// Key and offset of a frame being streamed (6.4.3/6.4.4).
    stream_mask: Option<([u8; 4], usize)>,
}

impl Peer {
    /// A peer for a connection about to open.
    #[must_use]
    pub fn new(role: Role) -> Self {
        Self {
            role,
            state: State::Connecting,
            close: CloseStatus::default(),
            received: Vec::new(),
            log: WireLog::new(),
            stats: Stats::default(),
            traffic: Traffic::default(),
            deflate: None,
            auto_fragment_size: 0,
            timeouts: Timeouts::default(),
            out: VecDeque::new(),
            queued_units: 0,
            unlogged_queued: 0,
            in_timer: false,
            timers: Vec::new(),
            drop_requested: None,
            incoming: Incoming::default(),
            received_octets: 0,
            out_octets: 0,
            stream_mask: None,
        }
    }

    /// Adds an event to [`Peer::received`], unless a flooding peer has
    /// already filled it: at most [`MAX_EVENTS`] events holding at most
    /// [`MAX_EVENT_OCTETS`] of payload are kept. (No case of the suite
    /// expects more than ten events, so a full list fails the case anyway.)
    ///
    /// A kept payload is copied into storage of its own size: cut from the
    /// read buffer, it would share that buffer's allocation, and a one-octet
    /// pong that arrived behind a 20 MiB frame would hold all 20 MiB while
    /// counting as one octet here.
    pub fn record(&mut self, event: Event) {
        let size = match &event {
            Event::Message { payload, .. } | Event::Pong(payload) => payload.len(),
            Event::Timeout(_) => 0,
        };
        if self.received.len() < MAX_EVENTS && self.received_octets + size <= MAX_EVENT_OCTETS {
            self.received_octets += size;
            self.received.push(match event {
                Event::Message { payload, binary } => {
                    Event::Message { payload: Bytes::copy_from_slice(&payload), binary }
                }
                Event::Pong(payload) => Event::Pong(Bytes::copy_from_slice(&payload)),
                timeout @ Event::Timeout(_) => timeout,
            });
        }
    }

    /// Frees what only the per-case report needs — wire log rows, received
    /// payloads, buffers, zlib state — keeping the close status and counters.
    pub fn release(&mut self) {
        self.log.clear_rows();
        self.received = Vec::new();
        self.received_octets = 0;
        self.incoming = Incoming::default();
        self.out = VecDeque::new();
        self.out_octets = 0;
        self.queued_units = 0;
        self.unlogged_queued = 0;
        self.deflate = None;
    }

    fn mask_key(&self) -> Option<[u8; 4]> {
        (self.role == Role::Client).then(rand::random)
    }

    /// Builds and writes exactly one frame, whatever the connection state.
    pub fn send_frame(&mut self, spec: FrameSpec) {
        let len = spec.repeat_to.unwrap_or(spec.payload.len());
        let mask = self.mask_key();
        let opcode = OpCode::from_bits(spec.opcode);
        let header = FrameHeader { fin: spec.fin, rsv: spec.rsv & 7, opcode, mask, payload_len: len as u64 };
        let (head, n) = header.encode();
        // One buffer for header and payload: repeated payloads (up to 16 MiB
        // in 9.x) are built in place and masked there, never copied.
        let mut raw = Vec::with_capacity(n + len);
        raw.extend_from_slice(&head[..n]);
        match spec.repeat_to {
            Some(len) => extend_repeated(&mut raw, &spec.payload, len),
            None => raw.extend_from_slice(&spec.payload),
        }
        if let Some(key) = mask {
            apply_mask(&mut raw[n..], key, 0);
        }
        let info = FrameInfo { opcode: spec.opcode & 0x0f, fin: spec.fin, rsv: spec.rsv & 7, mask };
        self.log.tx_frame(&info, &spec.payload, spec.repeat_to, spec.chop, spec.sync);
        self.stats.tx_frames.add(u64::from(spec.opcode & 0x0f));
        if spec.opcode & 0x0f <= 2 {
            self.traffic.outgoing.frames += 1;
        }
        self.send_data(Bytes::from(raw), spec.sync, spec.chop);
    }

    /// The message API: only while open; compressed when permessage-deflate
    /// was agreed (RSV1 on the first frame), then cut into fragments of
    /// `fragment_size` (or the auto fragment size) — with the reference's
    /// extra empty final frame when the length is an exact multiple of the
    /// fragment size.
    pub fn send_message(&mut self, payload: Bytes, binary: bool, fragment_size: Option<usize>, sync: bool) {
        if self.state != State::Open {
            return;
        }
        // RFC 7692 §6.1: compress first, then fragment the compressed octets.
        let app = payload.len();
        let (payload, rsv) = match self.deflate.as_mut() {
            Some(deflate) => (deflate.compress(&payload), 4),
            None => (payload, 0),
        };
        self.send_prepared(app, payload, rsv, binary, fragment_size, sync);
    }

    /// Sends a message compressed elsewhere (its octets are what this
    /// connection's compressor would have made of `app` octets): a
    /// compression case shares them with the other cases of its run.
    pub fn send_compressed(&mut self, app: usize, compressed: Bytes, binary: bool) {
        if self.state != State::Open || self.deflate.is_none() {
            return;
        }
        self.send_prepared(app, compressed, 4, binary, None, false);
    }

    /// Sends a message's (possibly compressed) payload, fragmented as asked.
    fn send_prepared(
        &mut self,
        app: usize,
        payload: Bytes,
        rsv: u8,
        binary: bool,
        fragment_size: Option<usize>,
        sync: bool,
    ) {
        let opcode = if binary { 2 } else { 1 };
        self.traffic.outgoing.messages += 1;
        self.traffic.outgoing.app += app as u64;
        self.traffic.outgoing.websocket += payload.len() as u64;
        let size = fragment_size.or((self.auto_fragment_size > 0).then_some(self.auto_fragment_size));
        let Some(size) = size.filter(|&s| s > 0 && payload.len() > s) else {
            self.send_frame(FrameSpec::new(opcode, payload).sync(sync).rsv(rsv));
            return;
        };
        let n = payload.len();
        let mut i = 0;
        let mut first = true;
        loop {
            let mut j = i + size;
            let done = j > n;
            if done {
                j = n;
            }
            let (op, rsv) = if first { (opcode, rsv) } else { (0, 0) };
            self.send_frame(FrameSpec::new(op, payload.slice(i.min(n)..j)).fin(done).sync(sync).rsv(rsv));
            first = false;
            i += size;
            if done {
                break;
            }
        }
    }

    /// The normal close API: a code, and a reason cut to fit a control frame.
    pub fn send_close(&mut self, code: Option<u16>, reason: Option<&str>) {
        let mut reason = reason.map(|r| r.as_bytes().to_vec());
        if let Some(r) = reason.as_mut()
            && r.len() + 2 > 125
        {
            r.truncate(120);
            r.extend_from_slice(b"...");
        }
        self.send_close_frame(code, reason.map(Bytes::from), false);
    }

    /// Writes a close frame with any content; only while open. A close that
    /// is not a reply makes us the closing endpoint and arms the
    /// close-handshake timeout.
    pub fn send_close_frame(&mut self, code: Option<u16>, reason: Option<Bytes>, is_reply: bool) {
        if self.state != State::Open {
            return;
        }
        let mut payload = BytesMut::new();
        if let Some(c) = code {
            payload.put_u16(c);
        }
        if let Some(r) = &reason {
            payload.put_slice(r);
        }
        self.send_frame(FrameSpec::new(8, payload.freeze()));
        self.state = State::Closing;
        self.close.closed_by_me = !is_reply;
        self.close.local_close_code = code;
        self.close.local_close_reason = reason.map(|r| r.to_vec());
        // The reference arms it only when above 0.
        if !is_reply && !self.timeouts.close_handshake.is_zero() {
            self.arm(self.timeouts.close_handshake, Timer::CloseHandshake);
        }
    }

    /// Streaming API: writes the header of a data frame (FIN clear) whose
    /// payload follows in pieces through [`stream_data`](Self::stream_data).
    pub fn stream_frame_header(&mut self, binary: bool, len: usize) {
        let mask = self.mask_key();
        let opcode = if binary { OpCode::Binary } else { OpCode::Text };
        let header = FrameHeader { fin: false, rsv: 0, opcode, mask, payload_len: len as u64 };
        let (head, n) = header.encode();
        self.stream_mask = mask.map(|k| (k, 0));
        self.send_data(Bytes::copy_from_slice(&head[..n]), false, None);
    }

    /// Streaming API: writes payload octets of the frame begun last, masked
    /// with the key offset carried over.
    pub fn stream_data(&mut self, data: &[u8]) {
        let mut data = data.to_vec();
        if let Some((key, offset)) = self.stream_mask.as_mut() {
            apply_mask(&mut data, *key, *offset);
            *offset += data.len();
        }
        self.send_data(Bytes::from(data), false, None);
    }

    /// Streaming API: ends the message with an empty final continuation frame.
    pub fn stream_end(&mut self) {
        self.stream_mask = None;
        self.send_frame(FrameSpec::new(0, Bytes::new()));
    }

    fn arm(&mut self, after: Duration, timer: Timer) {
        self.timers.push((Instant::now() + after, timer));
    }

    fn disarm(&mut self, timer: &Timer) {
        self.timers.retain(|(_, t)| t != timer);
    }

    /// After `secs`, fail the connection if it is not closed yet.
    pub fn kill_after(&mut self, secs: f64) {
        self.log.timer(json!(["KL", delay_json(secs)]));
        self.arm(Duration::from_secs_f64(secs), Timer::Kill);
    }

    /// After `secs`, send an empty close if still open.
    pub fn close_after(&mut self, secs: f64) {
        self.log.timer(json!(["TI", delay_json(secs)]));
        self.arm(Duration::from_secs_f64(secs), Timer::Close);
    }

    /// After `secs`, run the case's next step (if not closed by then).
    pub fn later(&mut self, secs: f64, tag: Option<&str>) {
        self.log.timer(json!(["CT", delay_json(secs), tag]));
        self.arm(Duration::from_secs_f64(secs), Timer::Step(tag.map(str::to_owned)));
    }

    /// Fails the connection: a close with `code` while open, a TCP drop while closing.
    pub fn fail(&mut self, code: u16, reason: &str) {
        self.close.failed_by_me = true;
        match self.state {
            State::Open => self.send_close_frame(Some(code), Some(Bytes::copy_from_slice(reason.as_bytes())), false),
            State::Closing => self.drop_tcp(false),
            _ => {}
        }
    }

    /// Closes TCP from our side (after writing what is pending, unless
    /// `abort`). From here on the connection counts as closed, as in the
    /// reference: nothing more is read or decoded, and timers still armed
    /// (a server-drop timeout due in the same millisecond as the kill timer
    /// that dropped, say) find nothing left to do.
    pub fn drop_tcp(&mut self, abort: bool) {
        self.close.dropped_by_me = true;
        self.state = State::Closed;
        if self.drop_requested != Some(true) {
            self.drop_requested = Some(abort);
        }
    }

    /// Fires a timer; returns the step tag when the case should run a step.
    pub(crate) fn fire(&mut self, timer: Timer) -> Option<Option<String>> {
        if self.state == State::Closed {
            return None;
        }
        match timer {
            Timer::Kill => {
                self.log.timer(json!(["KLE"]));
                self.close.failed_by_me = true;
                match self.state {
                    State::Open => self.send_close_frame(Some(1001), Some(Bytes::from_static(b"Going Away")), false),
                    _ => self.drop_tcp(false),
                }
            }
            Timer::Close => {
                self.log.timer(json!(["TIE"]));
                self.send_close_frame(None, None, false);
            }
            Timer::Step(tag) => {
                self.log.timer(json!(["CTE", tag]));
                return Some(tag);
            }
            Timer::CloseHandshake => {
                self.close.was_clean = false;
                self.close.was_close_handshake_timeout = true;
                self.close.was_not_clean_reason = Some("peer did not respond (in time) in closing handshake".into());
                self.drop_tcp(true);
            }
            Timer::ServerDrop => {
                self.close.was_clean = false;
                self.close.was_server_connection_drop_timeout = true;
                self.close.was_not_clean_reason = Some("server did not drop TCP connection (in time)".into());
                self.drop_tcp(true);
            }
        }
        None
    }

    /// Handles a valid close frame from the peer.
    pub(crate) fn on_close_frame(&mut self, code: Option<u16>, reason: Option<String>) {
        self.close.remote_close_code = code;
        self.close.remote_close_reason = reason;
        match self.state {
            State::Closing => {
                self.close.was_clean = true;
                self.disarm(&Timer::CloseHandshake);
                if self.role == Role::Server {
                    self.drop_tcp(false);
                } else if !self.timeouts.server_drop.is_zero()
                    && !self.timers.iter().any(|(_, t)| *t == Timer::ServerDrop)
                {
                    // The reference arms one more timer for every further
                    // close (none when the timeout is 0); the first fires
                    // first and drops, the others then find the connection
                    // closed. Arming only the first keeps that timing and
                    // the timer list short.
                    self.arm(self.timeouts.server_drop, Timer::ServerDrop);
                }
            }
            State::Open => {
                self.close.was_clean = true;
                self.send_close_frame(Some(1000), None, true);
                if self.role == Role::Server {
                    self.drop_tcp(false);
                }
            }
            _ => {}
        }
    }

    /// The TCP connection is gone.
    pub(crate) fn connection_lost(&mut self) {
        self.state = State::Closed;
        if !self.close.was_clean && !self.close.dropped_by_me && self.close.was_not_clean_reason.is_none() {
            self.close.was_not_clean_reason = Some(PEER_DROPPED.into());
        }
    }
}

#[cfg(test)]
#[path = "peer_tests.rs"]
mod tests;
