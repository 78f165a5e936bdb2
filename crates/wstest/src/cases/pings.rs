//! Category 2 — Pings and pongs.

use bytes::Bytes;

use super::{CaseDef, Expectation, ExpectedClose, act, ok};
use crate::wire::{Event, FrameSpec, Peer, repeat};

fn ping_case(id: &str, description: &str, payload: Bytes, chop: Option<usize>, close_after: f64) -> CaseDef {
    let expected = ok(vec![Event::Pong(payload.clone())]);
    CaseDef::script(
        id,
        description,
        "The peer answers with a pong carrying the same payload; then we close normally.",
        Expectation { outcomes: expected, close: ExpectedClose::normal() },
        act(move |p: &mut Peer| {
            let mut spec = FrameSpec::new(9, payload.clone());
            if let Some(c) = chop {
                spec = spec.chop(c);
            }
            p.send_frame(spec);
            p.close_after(close_after);
        }),
    )
}

/// Cases 2.1–2.11.
pub fn cases() -> Vec<CaseDef> {
    let fe125 = repeat(&[0xfe], 125);
    let mut out = vec![
        ping_case("2.1", "A ping with an empty payload.", Bytes::new(), None, 1.0),
        ping_case("2.2", "A ping with a short text payload.", Bytes::from_static(b"Hello, world!"), None, 1.0),
        ping_case(
            "2.3",
            "A ping with a short binary payload.",
            Bytes::from_static(&[0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]),
            None,
            1.0,
        ),
        ping_case(
            "2.4",
            "A ping with the largest payload a control frame allows (125 octets).",
            fe125.clone(),
            None,
            1.0,
        ),
        CaseDef::script(
            "2.5",
            "A ping with 126 octets of payload: one more than a control frame may carry.",
            "The peer fails the connection (close 1002, or by dropping TCP).",
            Expectation { outcomes: ok(vec![]), close: ExpectedClose::peer_fails(&[1002]) },
            act(|p| {
                p.send_frame(FrameSpec::new(9, Bytes::from_static(&[0xfe])).repeat_to(126));
                p.kill_after(1.0);
            }),
        ),
        ping_case("2.6", "A ping with 125 octets of payload, written one octet at a time.", fe125, Some(1), 2.0),
    ];
    for (id, payload) in [("2.7", Bytes::new()), ("2.8", Bytes::from_static(b"unsolicited pong payload"))] {
        out.push(CaseDef::script(
            id,
            "An unsolicited pong, then a normal close.",
            "The peer ignores the pong and answers the close.",
            Expectation { outcomes: ok(vec![]), close: ExpectedClose::normal() },
            act(move |p| {
                p.send_frame(FrameSpec::new(10, payload.clone()));
                p.send_close(Some(1000), None);
                p.close_after(1.0);
            }),
        ));
    }
    out.push(CaseDef::script(
        "2.9",
        "An unsolicited pong, then a ping.",
        "The peer ignores the pong and answers the ping; then we close normally.",
        Expectation { outcomes: ok(vec![Event::pong(&b"ping payload"[..])]), close: ExpectedClose::normal() },
        act(|p| {
            p.send_frame(FrameSpec::new(10, Bytes::from_static(b"unsolicited pong payload")));
            p.send_frame(FrameSpec::new(9, Bytes::from_static(b"ping payload")));
            p.close_after(1.0);
        }),
    ));
    for (id, chop) in [("2.10", None), ("2.11", Some(1))] {
        let pongs = (0..10).map(|i| Event::pong(format!("payload-{i}").into_bytes())).collect();
        let how = if chop.is_some() { ", each written one octet at a time" } else { "" };
        out.push(CaseDef::script(
            id,
            format!("Ten pings in a row{how}, payloads payload-0 to payload-9."),
            "The peer answers every ping, in order (the RFC only requires answering the last, but we check all); then we close normally.",
            Expectation { outcomes: ok(pongs), close: ExpectedClose::normal() },
            act(move |p| {
                for i in 0..10 {
                    let mut spec = FrameSpec::new(9, format!("payload-{i}").into_bytes());
                    if let Some(c) = chop {
                        spec = spec.chop(c);
                    }
                    p.send_frame(spec);
                }
                p.close_after(3.0);
            }),
        ));
    }
    out
}
