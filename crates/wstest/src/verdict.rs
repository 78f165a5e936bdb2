//! The verdict engine: compares what a case expected with what the wire
//! peer recorded, with the reference's vocabulary and rules.
//!
//! `behavior`: the first expected outcome equal to the received events
//! names the verdict (`OK`, `NON-STRICT`); otherwise it stays what the case
//! decided (`FAILED` unless a timed case set it).
//! `behaviorClose`: wrong closing endpoint → `FAILED`; unclean where clean
//! was required → `UNCLEAN`; a close code outside the allowed ones →
//! `WRONG CODE`; we (as client) had to drop TCP → `FAILED BY CLIENT`;
//! otherwise `OK`. Then the case-specific adjustments.

use crate::cases::{CaseRun, Post};
use crate::wire::Session;

/// A case's two verdicts and their explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Behaviour verdict.
    pub behavior: String,
    /// Closing-behaviour verdict.
    pub behavior_close: String,
    /// Why the behaviour verdict.
    pub result: String,
    /// Why the closing verdict.
    pub result_close: String,
}

/// Behaviour verdicts that count as a pass (the exit code's rule).
pub const PASSING_BEHAVIOR: [&str; 4] = ["OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED"];
/// Closing verdicts that count as a pass: the reference colours WRONG CODE
/// as non-strict and FAILED BY CLIENT as almost OK.
pub const PASSING_CLOSE: [&str; 4] = ["OK", "INFORMATIONAL", "WRONG CODE", "FAILED BY CLIENT"];

impl Verdict {
    /// Both verdicts count as a pass.
    #[must_use]
    pub fn passed(&self) -> bool {
        PASSING_BEHAVIOR.contains(&self.behavior.as_str()) && PASSING_CLOSE.contains(&self.behavior_close.as_str())
    }

    /// A verdict for a case that could not run at all.
    #[must_use]
    pub fn not_run(reason: &str) -> Self {
        Self {
            behavior: "FAILED".into(),
            behavior_close: "FAILED".into(),
            result: reason.into(),
            result_close: reason.into(),
        }
    }
}

/// Judges one finished case. `post` is the case's adjustment.
#[must_use]
pub fn judge(run: &CaseRun, session: &Session, post: Post) -> Verdict {
    let mut v = judge_events(run, session, post);
    // A case cut short by our own size limit says so, whatever its events.
    if let Some(len) = session.peer.over_limit() {
        v.behavior = "FAILED".into();
        v.result = format!(
            "The peer sent a message of at least {len} octets, past wstest's limit of {} MiB; wstest failed the connection (1009) rather than hold it.",
            crate::wire::incoming::MAX_MESSAGE >> 20
        );
    }
    v
}

fn judge_events(run: &CaseRun, session: &Session, post: Post) -> Verdict {
    let peer = &session.peer;
    let close = &peer.close;
    let mut v = Verdict {
        behavior: run.behavior.to_owned(),
        behavior_close: "FAILED".into(),
        result: run.result.clone(),
        result_close: "TCP connection was dropped without close handshake".into(),
    };
    let Some(expect) = run.expect.as_ref().filter(|_| session.opened) else {
        v.result_close = "The WebSocket opening handshake was never completed!".into();
        if post == Post::OwnFragmentation {
            v.behavior = "FAILED".into();
            v.result = "WebSocket connection was never open".into();
        }
        return v;
    };
    if let Some((name, _)) = expect.outcomes.iter().find(|(_, events)| *events == peer.received) {
        v.behavior = (*name).into();
        v.result = "Actual events match at least one expected.".into();
    }
    let ec = &expect.close;
    let (verdict, text) = if ec.closed_by_me != close.closed_by_me {
        ("FAILED", "The connection was failed by the wrong endpoint".to_owned())
    } else if ec.require_clean && !close.was_clean {
        ("UNCLEAN", "The spec requires the connection to be failed cleanly here".to_owned())
    } else if close.remote_close_code.is_some_and(|c| !ec.codes.contains(&c)) {
        let codes: Vec<String> = ec.codes.iter().map(u16::to_string).collect();
        ("WRONG CODE", format!("The close code should have been {} or empty", codes.join(",")))
    } else if session.peer.role == autostrada::Role::Client && close.dropped_by_me {
        ("FAILED BY CLIENT", "It is preferred that the server close the TCP connection".to_owned())
    } else {
        ("OK", "Connection was properly closed".to_owned())
    };
    v.behavior_close = verdict.into();
    v.result_close = text;
    if ec.wrong_endpoint_fatal && ec.closed_by_me != close.closed_by_me {
        v.behavior = "FAILED".into();
    }
    match post {
        Post::WrongCodeFails | Post::WrongCodeFailsHexReason if v.behavior_close == "WRONG CODE" => {
            v.behavior = "FAILED".into();
            v.result = v.result_close.clone();
        }
        Post::TextBeforeClose => {
            v.result = match v.behavior.as_str() {
                "OK" => "Text message was processed before close.".into(),
                "NON-STRICT" => "Close was processed before text message could be returned.".into(),
                _ => v.result,
            };
            v.behavior = "INFORMATIONAL".into();
            v.behavior_close = "INFORMATIONAL".into();
        }
        Post::Informational => {
            v.behavior = "INFORMATIONAL".into();
            v.behavior_close = "INFORMATIONAL".into();
            v.result = "Actual events are undefined by the spec.".into();
        }
        Post::OwnFragmentation => {
            let (cont, text) = (peer.stats.tx_frames.get(0), peer.stats.tx_frames.get(1));
            if (cont, text) != (50, 1) {
                v.behavior = "FAILED".into();
                v.result = format!(
                    "Frames transmitted {{0: {cont}, 1: {text}}} does not match what we expected {{0: 50, 1: 1}}."
                );
            }
        }
        _ => {}
    }
    v
}

#[cfg(test)]
mod tests;
