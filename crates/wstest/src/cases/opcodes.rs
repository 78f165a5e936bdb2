//! Categories 3 (reserved bits) and 4 (reserved opcodes): frames that a
//! peer without extensions must reject with 1002.

use bytes::Bytes;

use super::{CaseDef, Expectation, ExpectedClose, Write, act, ok};
use crate::wire::{Event, FrameSpec};

const HELLO: &[u8] = b"Hello, world!";

/// An echo of HELLO may or may not make it out before the peer fails: both pass.
fn echo_then_fail() -> Expectation {
    Expectation {
        outcomes: vec![("OK", vec![Event::text(HELLO)]), ("NON-STRICT", vec![])],
        close: ExpectedClose::peer_fails(&[1002]),
    }
}

fn must_fail() -> Expectation {
    Expectation { outcomes: ok(vec![]), close: ExpectedClose::peer_fails(&[1002]) }
}

const FAIL_1002: &str = "The peer fails the connection with 1002 (or drops TCP) without echoing the bad frame.";
const ECHO_THEN_FAIL: &str = "The peer echoes the valid message, then fails the connection with 1002 (or drops TCP) on the bad frame. Failing before the echo got out is accepted as non-strict.";

/// Cases 3.1–3.7.
pub fn reserved_bits() -> Vec<CaseDef> {
    let mut out = vec![CaseDef::script(
        "3.1",
        "A text frame with RSV = 1 while no extension is negotiated.",
        FAIL_1002,
        must_fail(),
        act(|p| {
            p.send_frame(FrameSpec::new(1, HELLO).rsv(1));
            p.kill_after(1.0);
        }),
    )];
    for (id, rsv, write) in [("3.2", 2, Write::Plain), ("3.3", 3, Write::Sync), ("3.4", 4, Write::Chop1)] {
        out.push(CaseDef::script(
            id,
            format!("A valid text frame, then a text frame with RSV = {rsv}, then a ping.{}", write.words()),
            ECHO_THEN_FAIL,
            echo_then_fail(),
            act(move |p| {
                p.send_frame(write.apply(FrameSpec::new(1, HELLO)));
                p.send_frame(write.apply(FrameSpec::new(1, HELLO).rsv(rsv)));
                p.send_frame(write.apply(FrameSpec::new(9, Bytes::new())));
                p.kill_after(1.0);
            }),
        ));
    }
    let singles: [(&str, u8, u8, &'static [u8], &str); 3] = [
        ("3.5", 5, 2, &[0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff], "A binary frame with RSV = 5."),
        ("3.6", 6, 2, HELLO, "A binary frame with RSV = 6."),
        ("3.7", 7, 8, b"", "A close frame with RSV = 7."),
    ];
    for (id, rsv, opcode, payload, description) in singles {
        out.push(CaseDef::script(
            id,
            description,
            FAIL_1002,
            must_fail(),
            act(move |p| {
                p.send_frame(FrameSpec::new(opcode, payload).rsv(rsv));
                p.kill_after(1.0);
            }),
        ));
    }
    out
}

/// Cases 4.1.1–4.2.5.
pub fn cases() -> Vec<CaseDef> {
    let mut out = Vec::new();
    for (sub, base, kind) in [(1, 3u8, "data"), (2, 11u8, "control")] {
        for (i, op) in (base..base + 5).enumerate() {
            let id = format!("4.{sub}.{}", i + 1);
            match i {
                0 | 1 => {
                    let payload: &'static [u8] = if i == 0 { b"" } else { b"reserved opcode payload" };
                    out.push(CaseDef::script(
                        id,
                        format!(
                            "A frame with the reserved {kind} opcode {op}{}.",
                            if i == 0 { "" } else { " and a payload" }
                        ),
                        FAIL_1002,
                        must_fail(),
                        act(move |p| {
                            p.send_frame(FrameSpec::new(op, payload));
                            p.kill_after(1.0);
                        }),
                    ));
                }
                _ => {
                    let payload: &'static [u8] = if i >= 3 { HELLO } else { b"" };
                    let write = if i == 4 { Write::Chop1 } else { Write::Plain };
                    out.push(CaseDef::script(
                        id,
                        format!(
                            "A valid text frame, then a frame with the reserved {kind} opcode {op}, then a ping.{}",
                            write.words()
                        ),
                        ECHO_THEN_FAIL,
                        echo_then_fail(),
                        act(move |p| {
                            p.send_frame(write.apply(FrameSpec::new(1, HELLO)));
                            p.send_frame(write.apply(FrameSpec::new(op, payload)));
                            p.send_frame(write.apply(FrameSpec::new(9, Bytes::new())));
                            p.kill_after(1.0);
                        }),
                    ));
                }
            }
        }
    }
    out
}
