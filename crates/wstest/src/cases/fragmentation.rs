//! Category 5 — Fragmentation: fragmented messages, control frames between
//! fragments, and continuation frames where none may be.

use bytes::Bytes;

use super::{CaseDef, Expectation, ExpectedClose, Logic, Post, Write, act, ok};
use crate::wire::{Event, FrameSpec, Peer};

/// Writes one frame the given way.
fn frame(p: &mut Peer, write: Write, opcode: u8, payload: &'static [u8], fin: bool) {
    p.send_frame(write.apply(FrameSpec::new(opcode, Bytes::from_static(payload)).fin(fin)));
}

const WRITES: [Write; 3] = [Write::Plain, Write::Sync, Write::Chop1];
const FAIL: &str = "The peer fails the connection with 1002 (or drops TCP) and echoes nothing.";

fn must_fail() -> Expectation {
    Expectation { outcomes: ok(vec![]), close: ExpectedClose::peer_fails(&[1002]) }
}

/// Cases 5.1–5.20.
pub fn cases() -> Vec<CaseDef> {
    let mut out = Vec::new();
    for (id, opcode, name) in [("5.1", 9u8, "ping"), ("5.2", 10u8, "pong")] {
        out.push(CaseDef::script(
            id,
            format!("A {name} split into two fragments (control frames may not be fragmented)."),
            FAIL,
            must_fail(),
            act(move |p| {
                p.send_frame(FrameSpec::new(opcode, &b"fragment1"[..]).fin(false));
                p.send_frame(FrameSpec::new(0, &b"fragment2"[..]));
                p.kill_after(1.0);
            }),
        ));
    }
    let whole = || Event::text(&b"fragment1fragment2"[..]);
    for (i, write) in WRITES.into_iter().enumerate() {
        out.push(CaseDef::script(
            format!("5.{}", 3 + i),
            format!("A text message in two fragments.{}", write.words()),
            "The peer echoes the reassembled message; then we close normally.",
            Expectation { outcomes: ok(vec![whole()]), close: ExpectedClose::normal() },
            act(move |p| {
                frame(p, write, 1, b"fragment1", false);
                frame(p, write, 0, b"fragment2", true);
                p.close_after(1.0);
            }),
        ));
    }
    for (i, write) in WRITES.into_iter().enumerate() {
        out.push(CaseDef::script(
            format!("5.{}", 6 + i),
            format!("A text message in two fragments with a ping between them.{}", write.words()),
            "The peer answers the ping at once and echoes the reassembled message; then we close normally.",
            Expectation {
                outcomes: ok(vec![Event::pong(&b"ping payload"[..]), whole()]),
                close: ExpectedClose::normal(),
            },
            act(move |p| {
                frame(p, write, 1, b"fragment1", false);
                frame(p, write, 9, b"ping payload", true);
                frame(p, write, 0, b"fragment2", true);
                p.close_after(1.0);
            }),
        ));
    }
    for (base, fin, what) in [(9, true, "A final continuation frame"), (12, false, "A non-final continuation frame")] {
        for (i, write) in WRITES.into_iter().enumerate() {
            out.push(CaseDef::script(
                format!("5.{}", base + i),
                format!("{what} with no message to continue, then a text message.{}", write.words()),
                FAIL,
                must_fail(),
                act(move |p| {
                    frame(p, write, 0, b"non-continuation payload", fin);
                    frame(p, write, 1, b"Hello, world!", true);
                    p.kill_after(1.0);
                }),
            ));
        }
    }
    out.push(CaseDef::script(
        "5.15",
        "A text message in two fragments, then a continuation frame with no message to continue, then a text frame.",
        "The peer echoes the first message, then fails the connection with 1002 (or drops TCP). Failing before the echo got out is accepted as non-strict.",
        Expectation { outcomes: vec![("OK", vec![whole()]), ("NON-STRICT", vec![])], close: ExpectedClose::peer_fails(&[1002]) },
        act(|p| {
            p.send_frame(FrameSpec::new(1, &b"fragment1"[..]).fin(false));
            p.send_frame(FrameSpec::new(0, &b"fragment2"[..]));
            p.send_frame(FrameSpec::new(0, &b"fragment3"[..]).fin(false));
            p.send_frame(FrameSpec::new(1, &b"fragment4"[..]));
            p.kill_after(1.0);
        }),
    ));
    for (id, first_fin) in [("5.16", false), ("5.17", true)] {
        out.push(CaseDef::script(
            id,
            format!(
                "Twice: a {} continuation frame with nothing to continue, a text fragment, a final continuation.",
                if first_fin { "final" } else { "non-final" }
            ),
            FAIL,
            must_fail(),
            act(move |p| {
                for _ in 0..2 {
                    p.send_frame(FrameSpec::new(0, &b"fragment1"[..]).fin(first_fin));
                    p.send_frame(FrameSpec::new(1, &b"fragment2"[..]).fin(false));
                    p.send_frame(FrameSpec::new(0, &b"fragment3"[..]));
                }
                p.kill_after(1.0);
            }),
        ));
    }
    out.push(CaseDef::script(
        "5.18",
        "A text fragment followed by a new text frame instead of a continuation.",
        FAIL,
        must_fail(),
        act(|p| {
            p.send_frame(FrameSpec::new(1, &b"fragment1"[..]).fin(false));
            p.send_frame(FrameSpec::new(1, &b"fragment2"[..]));
            p.kill_after(1.0);
        }),
    ));
    for (id, write) in [("5.19", Write::Plain), ("5.20", Write::Sync)] {
        let events = vec![
            Event::pong(&b"pongme 1!"[..]),
            Event::pong(&b"pongme 2!"[..]),
            Event::text(&b"fragment1fragment2fragment3fragment4fragment5"[..]),
        ];
        let mut def = CaseDef::script(
            id,
            format!(
                "A text message in five fragments sent over a second, with a ping after the second and after the fourth fragment.{}",
                write.words()
            ),
            "The peer answers both pings as they come and echoes the reassembled message; then we close normally.",
            Expectation { outcomes: ok(events), close: ExpectedClose::normal() },
            act(|_| {}),
        );
        def.logic = Logic::Pause {
            first: act(move |p| {
                frame(p, write, 1, b"fragment1", false);
                frame(p, write, 0, b"fragment2", false);
                frame(p, write, 9, b"pongme 1!", true);
            }),
            delay: 1.0,
            then: act(move |p| {
                frame(p, write, 0, b"fragment3", false);
                frame(p, write, 0, b"fragment4", false);
                frame(p, write, 9, b"pongme 2!", true);
                frame(p, write, 0, b"fragment5", true);
                p.close_after(1.0);
            }),
        };
        def.post = Post::None;
        out.push(def);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn twenty_cases() {
        assert_eq!(super::cases().len(), 20);
    }
}
