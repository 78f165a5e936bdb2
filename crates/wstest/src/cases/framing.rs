//! Category 1 — Framing: single-frame text and binary messages at the
//! payload-length boundaries of the frame header.

use bytes::Bytes;

use super::{CaseDef, Expectation, ExpectedClose, act, ok};
use crate::wire::{Event, FrameSpec, repeat};

/// Lengths probed, with the kill timer for each (1.x.1 – 1.x.8).
const ROWS: [(usize, f64, Option<usize>); 8] = [
    (0, 1.0, None),
    (125, 1.0, None),
    (126, 1.0, None),
    (127, 1.0, None),
    (128, 1.0, None),
    (65535, 10.0, None),
    (65536, 10.0, None),
    (65536, 10.0, Some(997)),
];

/// Cases 1.1.1–1.2.8.
pub fn cases() -> Vec<CaseDef> {
    let mut out = Vec::new();
    for (sub, binary) in [(1, false), (2, true)] {
        for (i, &(len, kill, chop)) in ROWS.iter().enumerate() {
            let pattern: &'static [u8] = if binary { &[0xfe] } else { b"*" };
            let payload = repeat(pattern, len);
            let kind = if binary { "binary" } else { "text" };
            let chopped = chop.map_or(String::new(), |c| format!(", its octets written in pieces of {c}"));
            let event = Event::Message { payload: payload.clone(), binary };
            out.push(CaseDef::script(
                format!("1.{sub}.{}", i + 1),
                format!("One unfragmented {kind} frame carrying {len} octets{chopped}."),
                format!("The peer echoes the {kind} message unchanged; then we close normally."),
                Expectation { outcomes: ok(vec![event]), close: ExpectedClose::normal() },
                act(move |p| {
                    let opcode = if binary { 2 } else { 1 };
                    let mut spec = FrameSpec::new(opcode, Bytes::from_static(pattern)).repeat_to(len);
                    if let Some(c) = chop {
                        spec = spec.chop(c);
                    }
                    p.send_frame(spec);
                    p.kill_after(kill);
                }),
            ));
        }
    }
    out
}
