//! Category 9 — limits and performance (large messages, many fragments,
//! chopped writes, round trips), and category 10 — our own fragmentation.

use super::{CaseDef, Expectation, ExpectedClose, Logic, Post, act, ok};
use crate::wire::{Event, FrameSpec, repeat};

const TEXT: &[u8] = b"BAsd7&jh23";
const BINARY: &[u8] = &[0x00, 0xfe, 0x23, 0xfa, 0xf0];

fn timed(id: String, description: String, expectation: &str, logic: Logic) -> CaseDef {
    let mut def = CaseDef::script(
        id,
        description,
        expectation,
        Expectation { outcomes: vec![], close: ExpectedClose::normal() },
        act(|_| {}),
    );
    def.logic = logic;
    def.report_time = true;
    def
}

fn kind(binary: bool) -> &'static str {
    if binary { "binary" } else { "text" }
}

/// Cases 9.1.1–9.8.6.
pub fn cases() -> Vec<CaseDef> {
    let mut out = Vec::new();
    let sizes = [65_536usize, 262_144, 1 << 20, 4 << 20, 8 << 20, 16 << 20];
    for (sub, binary, waits) in
        [(1, false, [10.0, 10.0, 100.0, 100.0, 100.0, 100.0]), (2, true, [10.0, 10.0, 10.0, 10.0, 100.0, 100.0])]
    {
        for (i, (&len, wait)) in sizes.iter().zip(waits).enumerate() {
            let pattern: &'static [u8] = if binary { BINARY } else { TEXT };
            let opcode = if binary { 2 } else { 1 };
            out.push(timed(
                format!("9.{sub}.{}", i + 1),
                format!("One {} message of {len} octets in a single frame.", kind(binary)),
                "The peer echoes a message of the same type and length within the time limit.",
                Logic::Echo {
                    send: act(move |p| p.send_frame(FrameSpec::new(opcode, pattern).repeat_to(len))),
                    binary,
                    len,
                    wait,
                },
            ));
        }
    }
    let fragment_sizes = [64usize, 256, 1024, 4096, 16_384, 65_536, 262_144, 1 << 20, 4 << 20];
    for (sub, binary) in [(3, false), (4, true)] {
        for (i, &size) in fragment_sizes.iter().enumerate() {
            let len = 4 << 20;
            let fill = if binary && i == 0 { 0xfe } else { b'*' };
            out.push(timed(
                format!("9.{sub}.{}", i + 1),
                format!("One {} message of {len} octets in fragments of {size} octets.", kind(binary)),
                "The peer echoes a message of the same type and length within the time limit.",
                Logic::Echo {
                    send: act(move |p| p.send_message(repeat(&[fill], len), binary, Some(size), false)),
                    binary,
                    len,
                    wait: 100.0,
                },
            ));
        }
    }
    for (sub, binary) in [(5, false), (6, true)] {
        for (i, chop) in [64usize, 128, 256, 512, 1024, 2048].into_iter().enumerate() {
            let len = 1 << 20;
            let pattern: &'static [u8] = if binary { BINARY } else { TEXT };
            let opcode = if binary { 2 } else { 1 };
            out.push(timed(
                format!("9.{sub}.{}", i + 1),
                format!(
                    "One {} message of {len} octets in a single frame, written in pieces of {chop} octets.",
                    kind(binary)
                ),
                "The peer echoes a message of the same type and length within the time limit.",
                Logic::Echo {
                    send: act(move |p| p.send_frame(FrameSpec::new(opcode, pattern).repeat_to(len).chop(chop))),
                    binary,
                    len,
                    wait: 1000.0,
                },
            ));
        }
    }
    for (sub, binary) in [(7, false), (8, true)] {
        for (i, (len, wait)) in
            [(0usize, 60.0), (16, 60.0), (64, 60.0), (256, 120.0), (1024, 240.0), (4096, 480.0)].into_iter().enumerate()
        {
            out.push(timed(
                format!("9.{sub}.{}", i + 1),
                format!(
                    "1000 {} messages of {len} octets, each sent when the previous echo arrived (round-trip time).",
                    kind(binary)
                ),
                "The peer echoes every message with the same type and length; all within the time limit.",
                Logic::RoundTrip { binary, len, count: 1000, wait },
            ));
        }
    }
    out
}

/// Case 10.1.1.
pub fn misc() -> Vec<CaseDef> {
    let payload = repeat(b"*", 65_536);
    let expected = Event::Message { payload: payload.clone(), binary: false };
    let mut def = CaseDef::script(
        "10.1.1",
        "A 65536-octet text message that we fragment automatically into 1300-octet frames.",
        "The peer echoes the message; we check we sent 1 text and 50 continuation frames.",
        Expectation { outcomes: ok(vec![expected]), close: ExpectedClose::normal() },
        act(move |p| {
            p.auto_fragment_size = 1300;
            p.send_message(payload.clone(), false, None, false);
            p.kill_after(10.0);
        }),
    );
    def.post = Post::OwnFragmentation;
    vec![def]
}
