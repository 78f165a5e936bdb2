//! Category 6 — UTF-8 handling: valid and invalid text, fragmented on and
//! inside code points, and fail-fast detection inside a frame.

use bytes::Bytes;

use super::{CaseDef, Expectation, ExpectedClose, Logic, act, ok};
use crate::wire::{Event, FrameSpec, Peer};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0)).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const HELLO_UTF8: &str = "48656c6c6f2dc2b540c39fc3b6c3a4c3bcc3a0c3a12d5554462d382121";
const KOSME: &str = "cebae1bdb9cf83cebcceb5";
const KOSME_BAD: &str = "cebae1bdb9cf83cebcceb5eda080656469746564";

fn valid(payload: &[u8]) -> Expectation {
    Expectation { outcomes: ok(vec![Event::text(payload.to_vec())]), close: ExpectedClose::normal() }
}

fn invalid() -> Expectation {
    Expectation { outcomes: ok(vec![]), close: ExpectedClose::peer_fails_fatal(&[1007]) }
}

const ECHO: &str = "The peer echoes the text message unchanged; then we close normally.";
const FAIL_1007: &str = "The peer fails the connection with 1007 (or drops TCP) because the text is not valid UTF-8.";

/// How a 6.2.x case puts its text on the wire.
type SendText = fn(&mut Peer, Bytes);

/// The generated groups 6.5–6.23: payloads in order, by group.
fn groups() -> Vec<Vec<Vec<u8>>> {
    let h = |list: &[&str]| list.iter().map(|s| unhex(s)).collect::<Vec<_>>();
    let kosme = unhex(KOSME);
    let mut g = vec![
        h(&[
            "68656c6c6f24776f726c64",
            "68656c6c6fc2a2776f726c64",
            "68656c6c6fe282ac776f726c64",
            "68656c6c6ff0a4ada2776f726c64",
            KOSME,
        ]),
        (1..=kosme.len()).map(|n| kosme[..n].to_vec()).collect(),
        h(&["00", "c280", "e0a080", "f0908080"]),
        h(&["f888808080", "fc8480808080"]),
        h(&["7f", "dfbf", "efbfbf", "f48fbfbf"]),
        h(&["f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf"]),
        h(&["ed9fbf", "ee8080", "efbfbd", "f48fbfbf", "f4908080"]),
    ];
    let mut unexpected = h(&["80", "bf", "80bf", "80bf80", "80bf80bf", "80bf80bf80", "80bf80bf80bf"]);
    unexpected.push((0x80..=0xbe).collect());
    g.push(unexpected);
    let lonely = |from: u8, to: u8| (from..to).flat_map(|b| [b, 0x20]).collect::<Vec<u8>>();
    g.push(vec![lonely(0xc0, 0xdf), lonely(0xe0, 0xef), lonely(0xf0, 0xf7), unhex("f820f920fa20"), unhex("fc20")]);
    let missing = ["c0", "e080", "f08080", "f8808080", "fc80808080", "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf"];
    g.push(h(&missing));
    g.push(vec![missing.iter().flat_map(|s| unhex(s)).collect()]);
    g.push(h(&["fe", "ff", "fefeffff"]));
    g.push(h(&["c0af", "e080af", "f08080af", "f8808080af", "fc80808080af"]));
    g.push(h(&["c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf", "fc83bfbfbfbf"]));
    g.push(h(&["c080", "e08080", "f0808080", "f880808080", "fc8080808080"]));
    g.push(h(&["eda080", "edadbf", "edae80", "edafbf", "edb080", "edbe80", "edbfbf"]));
    g.push(h(&[
        "eda080edb080",
        "eda080edbfbf",
        "edadbfedb080",
        "edadbfedbfbf",
        "edae80edb080",
        "edae80edbfbf",
        "edafbfedb080",
        "edafbfedbfbf",
    ]));
    let mut nonchars = h(&["efbfbe", "efbfbf"]);
    for z1 in [0xf0u8, 0xf1, 0xf2, 0xf3, 0xf4] {
        for z2 in [0x8fu8, 0x9f, 0xaf, 0xbf] {
            if (z1 == 0xf4 && z2 != 0x8f) || (z1 == 0xf0 && z2 == 0x8f) {
                continue;
            }
            for z3 in [0xbeu8, 0xbf] {
                nonchars.push(vec![z1, z2, 0xbf, z3]);
            }
        }
    }
    g.push(nonchars);
    g.push(h(&["efbfb9", "efbfba", "efbfbb", "efbfbc", "efbfbd", "efbfbe", "efbfbf"]));
    g
}

/// Cases 6.1.1–6.23.7.
pub fn cases() -> Vec<CaseDef> {
    let mut out = Vec::new();
    out.push(CaseDef::script(
        "6.1.1",
        "A text message with an empty payload.",
        ECHO,
        valid(b""),
        act(|p| {
            p.send_frame(FrameSpec::new(1, Bytes::new()));
            p.close_after(1.0);
        }),
    ));
    for (id, middle) in [("6.1.2", &b""[..]), ("6.1.3", &b"middle frame payload"[..])] {
        out.push(CaseDef::script(
            id,
            format!(
                "A text message in three fragments: empty, {}, empty.",
                if middle.is_empty() { "empty" } else { "a short text" }
            ),
            ECHO,
            valid(middle),
            act(move |p| {
                p.send_frame(FrameSpec::new(1, Bytes::new()).fin(false));
                p.send_frame(FrameSpec::new(0, Bytes::from_static(middle)).fin(false));
                p.send_frame(FrameSpec::new(0, Bytes::new()));
                p.close_after(1.0);
            }),
        ));
    }
    // 6.2.x: valid text sent whole, split between code points, and split inside them.
    let hello = Bytes::from(unhex(HELLO_UTF8));
    let kosme = Bytes::from(unhex(KOSME));
    let whole = |p: &mut Peer, t: Bytes| p.send_frame(FrameSpec::new(1, t));
    let halves = |p: &mut Peer, t: Bytes| {
        p.send_frame(FrameSpec::new(1, t.slice(..15)).fin(false));
        p.send_frame(FrameSpec::new(0, t.slice(15..)));
    };
    let octets = |p: &mut Peer, t: Bytes| p.send_message(t, false, Some(1), false);
    let ways: [(&str, &str, &Bytes, SendText); 4] = [
        ("6.2.1", "Valid UTF-8 text with multi-octet characters, in one frame.", &hello, whole),
        ("6.2.2", "The same text in two fragments split between code points.", &hello, halves),
        ("6.2.3", "The same text in one-octet fragments, so fragments end inside code points.", &hello, octets),
        ("6.2.4", "Greek text (κόσμε) in one-octet fragments.", &kosme, octets),
    ];
    for (id, description, text, send) in ways {
        let t = text.clone();
        out.push(CaseDef::script(
            id,
            description,
            ECHO,
            valid(text),
            act(move |p| {
                send(p, t.clone());
                p.close_after(1.0);
            }),
        ));
    }
    let bad = Bytes::from(unhex(KOSME_BAD));
    for (id, fragmented) in [("6.3.1", false), ("6.3.2", true)] {
        let b = bad.clone();
        out.push(CaseDef::script(
            id,
            format!(
                "Text holding a UTF-16 surrogate encoded in UTF-8 (invalid), {}.",
                if fragmented { "in one-octet fragments" } else { "in one frame" }
            ),
            FAIL_1007,
            invalid(),
            act(move |p| {
                if fragmented {
                    p.send_message(b.clone(), false, Some(1), false);
                } else {
                    p.send_frame(FrameSpec::new(1, b.clone()));
                }
                p.kill_after(1.0);
            }),
        ));
    }
    let payload = unhex("cebae1bdb9cf83cebcceb5f4908080656469746564");
    let split = |a: usize, b: usize| {
        [
            Bytes::copy_from_slice(&payload[..a]),
            Bytes::copy_from_slice(&payload[a..b]),
            Bytes::copy_from_slice(&payload[b..]),
        ]
    };
    for (id, parts, streaming, how) in [
        ("6.4.1", split(11, 15), false, "three fragments; the second holds a code point above U+10FFFF"),
        (
            "6.4.2",
            split(12, 13),
            false,
            "three fragments; the octet that makes the text invalid is the whole second fragment",
        ),
        (
            "6.4.3",
            split(11, 15),
            true,
            "one frame written in three parts; the second holds a code point above U+10FFFF",
        ),
        (
            "6.4.4",
            split(12, 13),
            true,
            "one frame written in three parts; the second part is the single octet that makes the text invalid",
        ),
    ] {
        let mut def = CaseDef::script(
            id,
            format!("Text sent in {how}, one second apart: valid, invalid, the rest."),
            "The peer fails the connection with 1007 as soon as the invalid octets arrive, before the third part is sent. Failing only once the whole message is in is accepted as non-strict.",
            Expectation {
                outcomes: vec![
                    ("OK", vec![Event::Timeout("A".into())]),
                    ("NON-STRICT", vec![Event::Timeout("A".into()), Event::Timeout("B".into())]),
                ],
                close: ExpectedClose::peer_fails_fatal(&[1007]),
            },
            act(|_| {}),
        );
        def.logic = Logic::FailFast { parts, streaming };
        out.push(def);
    }
    for (g, group) in groups().into_iter().enumerate() {
        for (j, payload) in group.into_iter().enumerate() {
            let id = format!("6.{}.{}", g + 5, j + 1);
            let is_valid = std::str::from_utf8(&payload).is_ok();
            let (desc, expectation, expect) = if is_valid {
                (format!("One text frame whose payload is valid UTF-8: 0x{}.", hex(&payload)), ECHO, valid(&payload))
            } else {
                (format!("One text frame whose payload is not valid UTF-8: 0x{}.", hex(&payload)), FAIL_1007, invalid())
            };
            let payload = Bytes::from(payload);
            out.push(CaseDef::script(
                id,
                desc,
                expectation,
                expect,
                act(move |p| {
                    p.send_frame(FrameSpec::new(1, payload.clone()));
                    p.kill_after(0.5);
                }),
            ));
        }
    }
    out
}
