//! The case registry: the reference suite's 517 cases with their ids,
//! frames, timers and expectations. Descriptions are ours.
//!
//! A case is a [`CaseDef`]: what to send when the connection opens
//! ([`Logic`]), which events and closing behaviour count as a pass
//! ([`Expectation`]), and any case-specific verdict adjustment ([`Post`]).
//! [`CaseRun`] is one execution of a case; it drives the wire peer and keeps
//! the case-level records the verdict engine reads.

mod closing;
pub mod compression;
pub mod corpus;
mod fragmentation;
mod framing;
mod groups;
mod limits;
pub mod message_cache;
mod opcodes;
mod pings;
mod utf8;

pub use groups::{group_of, subcategory_name};

use std::sync::Arc;

use bytes::Bytes;

use crate::wire::{Event, Handler, Peer};

/// A sender of frames, run when the connection opens or a step is due.
pub type Action = Arc<dyn Fn(&mut Peer) + Send + Sync>;

/// How a case writes its frames: normally, each alone ("sync"), or one
/// octet at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Straight away.
    Plain,
    /// Each frame written on its own.
    Sync,
    /// Each frame written one octet at a time.
    Chop1,
}

impl Write {
    /// `spec` written this way.
    #[must_use]
    pub fn apply(self, spec: crate::wire::FrameSpec) -> crate::wire::FrameSpec {
        match self {
            Self::Plain => spec,
            Self::Sync => spec.sync(true),
            Self::Chop1 => spec.chop(1),
        }
    }

    /// The words a description adds for this way of writing.
    #[must_use]
    pub fn words(self) -> &'static str {
        match self {
            Self::Plain => "",
            Self::Sync => " Each frame is written on its own.",
            Self::Chop1 => " Each frame is written one octet at a time.",
        }
    }
}

/// Wraps a closure as an [`Action`].
pub fn act(f: impl Fn(&mut Peer) + Send + Sync + 'static) -> Action {
    Arc::new(f)
}

/// The closing behaviour a case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedClose {
    /// Whether we (the fuzzer) should be the one to start the closing handshake.
    pub closed_by_me: bool,
    /// Close codes the peer may send.
    pub codes: Vec<u16>,
    /// The connection must end with a closing handshake.
    pub require_clean: bool,
    /// If the wrong side closed, the behaviour verdict fails too (the peer
    /// never noticed what it should have failed on).
    pub wrong_endpoint_fatal: bool,
}

impl ExpectedClose {
    /// The peer should answer; we close with 1000 once all expected events arrived.
    #[must_use]
    pub fn normal() -> Self {
        Self { closed_by_me: true, codes: vec![1000], require_clean: true, wrong_endpoint_fatal: false }
    }

    /// The peer must fail the connection, with one of `codes` or by dropping TCP.
    #[must_use]
    pub fn peer_fails(codes: &[u16]) -> Self {
        Self { closed_by_me: false, codes: codes.to_vec(), require_clean: false, wrong_endpoint_fatal: false }
    }

    /// As [`peer_fails`](Self::peer_fails), and failing to do so fails the behaviour too.
    #[must_use]
    pub fn peer_fails_fatal(codes: &[u16]) -> Self {
        Self { wrong_endpoint_fatal: true, ..Self::peer_fails(codes) }
    }
}

/// The outcomes a case accepts, in order: a name (`OK`, `NON-STRICT`) and
/// the exact list of events.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// Accepted outcomes.
    pub outcomes: Vec<(&'static str, Vec<Event>)>,
    /// Expected closing behaviour.
    pub close: ExpectedClose,
}

/// Case-specific verdict adjustments after the common rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Post {
    /// None.
    None,
    /// Close-handling cases: a wrong close code fails the behaviour too.
    WrongCodeFails,
    /// As `WrongCodeFails`, and our close reason is reported in hex.
    WrongCodeFailsHexReason,
    /// Always informational, with a note on whether the text was processed.
    TextBeforeClose,
    /// Always informational: the spec leaves the outcome open.
    Informational,
    /// Also check our own fragmentation: 50 continuation frames and 1 text frame sent.
    OwnFragmentation,
}

/// How a case behaves beyond sending frames on open.
#[derive(Clone)]
pub enum Logic {
    /// Send on open; record messages and pongs; close when everything expected arrived.
    Script(Action),
    /// Send on open, then run one step after `delay` seconds.
    Pause {
        /// Sent on open.
        first: Action,
        /// Delay before the step.
        delay: f64,
        /// Sent at the step.
        then: Action,
    },
    /// Fail-fast UTF-8 (6.4.x): three parts one second apart, marking `A` and `B` timeouts.
    FailFast {
        /// The three parts.
        parts: [Bytes; 3],
        /// All parts inside one frame (streaming) instead of three frames.
        streaming: bool,
    },
    /// Performance: one message out, the echo's type and length checked.
    Echo {
        /// Sent on open.
        send: Action,
        /// Binary expected back.
        binary: bool,
        /// Length expected back.
        len: usize,
        /// Seconds to wait.
        wait: f64,
    },
    /// permessage-deflate (12.x, 13.x): corpus messages one at a time, compressed.
    Compression(compression::Compression),
    /// Performance: `count` messages one at a time, each after the previous echo.
    RoundTrip {
        /// Binary messages.
        binary: bool,
        /// Payload length.
        len: usize,
        /// How many.
        count: usize,
        /// Seconds the whole ladder may take.
        wait: f64,
    },
}

/// One case of the suite.
#[derive(Clone)]
pub struct CaseDef {
    /// The id, e.g. `6.4.1`.
    pub id: String,
    /// What the case does (our words).
    pub description: String,
    /// What a conforming peer does (our words).
    pub expectation: String,
    /// Expected outcomes and closing behaviour.
    pub expect: Expectation,
    /// Our automatic close on a full match is disabled: the case closes itself.
    pub suppress_close: bool,
    /// The case is timed (its duration matters).
    pub report_time: bool,
    /// Verdict adjustments.
    pub post: Post,
    /// What it does.
    pub logic: Logic,
}

impl CaseDef {
    /// A scripted case.
    pub fn script(
        id: impl Into<String>,
        description: impl Into<String>,
        expectation: impl Into<String>,
        expect: Expectation,
        open: Action,
    ) -> Self {
        Self {
            id: id.into(),
            description: description.into(),
            expectation: expectation.into(),
            expect,
            suppress_close: false,
            report_time: false,
            post: Post::None,
            logic: Logic::Script(open),
        }
    }

    /// The id as numbers, for ordering.
    #[must_use]
    pub fn key(&self) -> Vec<u32> {
        id_key(&self.id)
    }

    /// True for the timed performance cases (category 9), which run alone.
    #[must_use]
    pub fn runs_alone(&self) -> bool {
        self.id.starts_with("9.")
    }

    /// True for the timer-paced cases (5.19, 5.20, 6.4.x, and those that write
    /// paced one-octet chops): they send a little at a time and otherwise wait. The runner starts them
    /// first, beside everything else, so their seconds of waiting overlap
    /// the rest of the run.
    #[must_use]
    pub fn mostly_waits(&self) -> bool {
        match &self.logic {
            Logic::Pause { .. } | Logic::FailFast { .. } => true,
            // Cases whose frames go out in paced small chops wait between writes.
            Logic::Script(open) => {
                let mut dry = Peer::new(autostrada::Role::Client);
                dry.state = crate::wire::State::Open;
                open(&mut dry);
                dry.has_paced_writes()
            }
            _ => false,
        }
    }

    /// The longest a run of this case may take before it is cut off.
    #[must_use]
    pub fn hard_deadline(&self) -> std::time::Duration {
        let wait = match &self.logic {
            Logic::Echo { wait, .. } | Logic::RoundTrip { wait, .. } => *wait,
            Logic::Compression(c) => f64::from(c.wait),
            _ => 10.0,
        };
        std::time::Duration::from_secs_f64(wait + 30.0)
    }

    /// The permessage-deflate offers we make as client (none outside 12.x/13.x).
    #[must_use]
    pub fn deflate_offers(&self) -> Vec<crate::wire::deflate::Offer> {
        match &self.logic {
            Logic::Compression(c) => c.offers.clone(),
            _ => Vec::new(),
        }
    }

    /// How we answer permessage-deflate offers as server (`None`: decline all).
    #[must_use]
    pub fn deflate_acceptor(&self) -> Option<crate::wire::deflate::Acceptor> {
        match &self.logic {
            Logic::Compression(c) => Some(c.acceptor),
            _ => None,
        }
    }

    /// The compression case's parameters (12.x, 13.x).
    #[must_use]
    pub fn compression(&self) -> Option<&compression::Compression> {
        match &self.logic {
            Logic::Compression(c) => Some(c),
            _ => None,
        }
    }

    /// The report gives the compression ratios (12.x, 13.x).
    #[must_use]
    pub fn reports_compression(&self) -> bool {
        matches!(self.logic, Logic::Compression(_))
    }
}

/// An id as numbers (`"6.10.2"` → `[6, 10, 2]`).
#[must_use]
pub fn id_key(id: &str) -> Vec<u32> {
    id.split('.').map(|p| p.parse().unwrap_or(u32::MAX)).collect()
}

/// `OK` with exactly `events`.
#[must_use]
pub fn ok(events: Vec<Event>) -> Vec<(&'static str, Vec<Event>)> {
    vec![("OK", events)]
}

/// Every case, in id order.
#[must_use]
pub fn all() -> Vec<CaseDef> {
    let mut cases = Vec::new();
    cases.extend(framing::cases());
    cases.extend(pings::cases());
    cases.extend(opcodes::reserved_bits());
    cases.extend(opcodes::cases());
    cases.extend(fragmentation::cases());
    cases.extend(utf8::cases());
    cases.extend(closing::cases());
    cases.extend(limits::cases());
    cases.extend(limits::misc());
    cases.extend(compression::cases());
    cases.sort_by_key(CaseDef::key);
    cases
}

/// Category names, for the console summary.
#[must_use]
pub fn category_name(cat: u32) -> &'static str {
    match cat {
        1 => "Framing",
        2 => "Pings/Pongs",
        3 => "Reserved Bits",
        4 => "Opcodes",
        5 => "Fragmentation",
        6 => "UTF-8 Handling",
        7 => "Close Handling",
        9 => "Limits/Performance",
        10 => "Misc",
        12 => "WebSocket Compression (different payloads)",
        13 => "WebSocket Compression (different parameters)",
        _ => "Misc",
    }
}

/// One execution of a case: the [`Handler`] the wire peer calls, and the
/// case-level records (expected outcomes, the case's own verdict for timed cases).
pub struct CaseRun {
    def: CaseDef,
    /// Set when the connection opened: what the case expects.
    pub expect: Option<Expectation>,
    /// Behaviour as the case itself decided it (the timed cases), before the common rules.
    pub behavior: &'static str,
    /// The result text that goes with it.
    pub result: String,
    /// Messages sent so far (round trips).
    sent: usize,
    /// Where a compression case stands.
    pub compression: compression::Progress,
}

impl CaseRun {
    /// A run of `def`.
    #[must_use]
    pub fn new(def: &CaseDef) -> Self {
        Self {
            def: def.clone(),
            expect: None,
            behavior: "FAILED",
            result: "Actual events differ from any expected.".into(),
            sent: 0,
            compression: compression::Progress::default(),
        }
    }

    /// Records an event and closes when it completes every expected outcome.
    fn record(&mut self, peer: &mut Peer, event: Event) {
        peer.record(event);
        self.finish_when_done(peer);
    }

    /// We close (with the expected code) once what we received equals every
    /// expected outcome — vacuously so when a case expects nothing in
    /// particular — unless the case closes by itself.
    fn finish_when_done(&mut self, peer: &mut Peer) {
        let Some(expect) = &self.expect else { return };
        let all_match = expect.outcomes.iter().all(|(_, events)| *events == peer.received);
        if all_match && expect.close.closed_by_me && !self.def.suppress_close {
            peer.send_close(expect.close.codes.first().copied(), None);
        }
    }

    /// The reference writes each message of the ladder with its raw frame
    /// call, which ignores the connection's state (autobahn.md §6.1;
    /// `case9_7_X.py`): an echo that arrives after we began closing (an
    /// unsolicited pong made us close, say) still sends the next message.
    fn send_round_trip(&mut self, peer: &mut Peer, binary: bool, len: usize) {
        let (opcode, pattern): (u8, &'static [u8]) = if binary { (2, &[0xfe]) } else { (1, b"*") };
        peer.send_frame(crate::wire::FrameSpec::new(opcode, pattern).repeat_to(len));
        self.sent += 1;
    }
}

impl Handler for CaseRun {
    fn on_open(&mut self, peer: &mut Peer) {
        self.expect = Some(self.def.expect.clone());
        match self.def.logic.clone() {
            Logic::Script(open) => open(peer),
            Logic::Pause { first, delay, .. } => {
                first(peer);
                peer.later(delay, None);
            }
            Logic::FailFast { parts, streaming } => {
                if streaming {
                    peer.stream_frame_header(false, parts.iter().map(Bytes::len).sum());
                    peer.stream_data(&parts[0]);
                } else {
                    peer.send_frame(crate::wire::FrameSpec::new(1, parts[0].clone()).fin(false));
                }
                peer.later(1.0, Some("A"));
            }
            Logic::Echo { send, wait, .. } => {
                self.result = format!("Did not receive message within {wait} seconds.");
                peer.log.enabled = false;
                send(peer);
                peer.close_after(wait);
            }
            Logic::Compression(c) => {
                let (behavior, result) = self.compression.open(&c, peer);
                self.behavior = behavior;
                self.result = result;
            }
            Logic::RoundTrip { binary, len, wait, .. } => {
                self.result = format!("Case did not finish within {wait} seconds.");
                peer.log.set_enabled_logged(false);
                peer.close_after(wait);
                self.send_round_trip(peer, binary, len);
            }
        }
    }

    fn on_message(&mut self, peer: &mut Peer, payload: Bytes, binary: bool) {
        match self.def.logic.clone() {
            Logic::Echo { binary: want_binary, len, .. } => {
                // Every message is judged, as the reference does, also one
                // that arrives after we began closing: a late echo after the
                // close timer, or after an unsolicited pong made us close
                // (autobahn.md §2.2, §8 notes 4 and 43).
                let kind = |b: bool| if b { "binary" } else { "text" };
                if binary != want_binary {
                    self.result =
                        format!("Expected {} message with payload, but got {}.", kind(want_binary), kind(binary));
                } else if payload.len() != len {
                    self.result = format!(
                        "Expected {} message with payload of length {len}, but got {}.",
                        kind(binary),
                        payload.len()
                    );
                } else {
                    self.behavior = "OK";
                    self.result = format!("Received {} message of length {len}.", kind(binary));
                }
                peer.log.enabled = true;
                peer.send_close(Some(1000), None);
            }
            Logic::RoundTrip { binary: want_binary, len, count, .. } => {
                if binary != want_binary || payload.len() != len {
                    self.behavior = "FAILED";
                    self.result = format!(
                        "Echo'ed message type or length differs from what I sent (got binary = {}, payload length = {}).",
                        if binary { "True" } else { "False" },
                        payload.len()
                    );
                    peer.log.set_enabled_logged(true);
                    peer.send_close(Some(1000), None);
                } else if self.sent < count {
                    self.send_round_trip(peer, want_binary, len);
                } else {
                    self.behavior = "OK";
                    self.result = "Ok, received all echo'ed messages in time.".into();
                    peer.log.set_enabled_logged(true);
                    peer.send_close(Some(1000), None);
                }
            }
            Logic::Compression(c) => {
                if let Some((behavior, result)) = self.compression.echo(&c, peer, &payload, binary) {
                    self.behavior = behavior;
                    self.result = result;
                }
            }
            _ => self.record(peer, Event::Message { payload, binary }),
        }
    }

    fn on_pong(&mut self, peer: &mut Peer, payload: Bytes) {
        self.record(peer, Event::Pong(payload));
    }

    fn on_step(&mut self, peer: &mut Peer, tag: Option<String>) {
        match self.def.logic.clone() {
            Logic::Pause { then, .. } => then(peer),
            Logic::FailFast { parts, streaming } => {
                // Each step runs only while nobody has started closing.
                if peer.state != crate::wire::State::Open {
                    return;
                }
                let tag = tag.unwrap_or_default();
                peer.record(Event::Timeout(tag.clone()));
                let (part, last) = if tag == "A" { (&parts[1], false) } else { (&parts[2], true) };
                if streaming {
                    peer.stream_data(part);
                    if last {
                        peer.stream_end();
                    }
                } else {
                    peer.send_frame(crate::wire::FrameSpec::new(0, part.clone()).fin(last));
                }
                if last {
                    peer.kill_after(1.0);
                } else {
                    peer.later(1.0, Some("B"));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_hundred_and_seventeen_cases_in_order() {
        let cases = all();
        assert_eq!(cases.len(), 517);
        let per_cat = |c: u32| cases.iter().filter(|d| d.key()[0] == c).count();
        let counts: Vec<usize> = [1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13].iter().map(|&c| per_cat(c)).collect();
        assert_eq!(counts, vec![16, 11, 7, 10, 20, 145, 37, 54, 1, 90, 126]);
        let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
        ids.dedup();
        assert_eq!(ids.len(), 517, "duplicate ids");
        assert_eq!(cases.iter().position(|c| c.id == "6.5.1"), Some(77));
        assert_eq!(cases.iter().position(|c| c.id == "12.1.1"), Some(301));
    }
}
