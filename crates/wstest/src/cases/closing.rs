//! Category 7 — Close handling: what a peer does after a close, and how it
//! answers close frames of every shape and code.

use bytes::Bytes;

use super::{CaseDef, Expectation, ExpectedClose, Post, act, ok};
use crate::wire::{Event, FrameSpec, Peer, repeat};

const HELLO: &[u8] = b"Hello World!";

fn expect(outcomes: Vec<(&'static str, Vec<Event>)>, codes: &[u16], clean: bool) -> Expectation {
    Expectation {
        outcomes,
        close: ExpectedClose {
            closed_by_me: true,
            codes: codes.to_vec(),
            require_clean: clean,
            wrong_endpoint_fatal: false,
        },
    }
}

/// A case that closes by itself (no automatic close on a match).
fn closing_case(
    id: &str,
    description: &str,
    expectation: &str,
    e: Expectation,
    post: Post,
    open: impl Fn(&mut Peer) + Send + Sync + 'static,
) -> CaseDef {
    let mut def = CaseDef::script(
        id,
        description,
        expectation,
        e,
        act(move |p| {
            open(p);
            p.kill_after(1.0);
        }),
    );
    def.suppress_close = true;
    def.post = post;
    def
}

/// Cases 7.1.1–7.13.2.
pub fn cases() -> Vec<CaseDef> {
    let mut out = Vec::new();
    let mut first = CaseDef::script(
        "7.1.1",
        "A text message, echoed, then a normal close from us.",
        "The peer echoes the message and answers our close with 1000.",
        expect(ok(vec![Event::text(HELLO)]), &[1000], true),
        act(|p| {
            p.send_frame(FrameSpec::new(1, HELLO));
            p.kill_after(1.0);
        }),
    );
    first.post = Post::WrongCodeFails;
    out.push(first);
    let after_close = "The peer answers our close with 1000 and ignores what follows it.";
    out.push(closing_case(
        "7.1.2",
        "A normal close, then a second close frame.",
        after_close,
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        |p| {
            p.send_close(Some(1000), None);
            p.send_frame(FrameSpec::new(8, Bytes::new()));
        },
    ));
    out.push(closing_case(
        "7.1.3",
        "A normal close, then a ping.",
        "The peer answers our close with 1000 and does not answer the ping.",
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        |p| {
            p.send_close(Some(1000), None);
            p.send_frame(FrameSpec::new(9, Bytes::new()));
        },
    ));
    out.push(closing_case(
        "7.1.4",
        "A normal close, then a text message.",
        "The peer answers our close with 1000 and does not echo the message.",
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        |p| {
            p.send_close(Some(1000), None);
            p.send_frame(FrameSpec::new(1, HELLO));
        },
    ));
    out.push(closing_case(
        "7.1.5",
        "The first fragment of a text message, a normal close, then the last fragment.",
        after_close,
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        |p| {
            p.send_frame(FrameSpec::new(1, &b"fragment1"[..]).fin(false));
            p.send_close(Some(1000), None);
            p.send_frame(FrameSpec::new(0, &b"fragment2"[..]));
        },
    ));
    out.push(closing_case(
        "7.1.6",
        "A 256 KiB text message, a short text message, a normal close and a ping, all at once.",
        "Informational: whether the peer echoes the messages before it answers the close is up to it.",
        expect(vec![("OK", vec![Event::text(HELLO)]), ("NON-STRICT", vec![])], &[1000], true),
        Post::TextBeforeClose,
        |p| {
            p.send_frame(FrameSpec::new(1, &b"BAsd7&jh23"[..]).repeat_to(262_144));
            p.send_frame(FrameSpec::new(1, HELLO));
            p.send_close(Some(1000), None);
            p.send_frame(FrameSpec::new(9, Bytes::new()));
        },
    ));
    let raw =
        |code: Option<u16>, reason: Option<Bytes>| move |p: &mut Peer| p.send_close_frame(code, reason.clone(), false);
    let echo_close = "The peer answers with a close of its own (1000 or the same code).";
    let fail = "The peer fails the connection with 1002 (or drops TCP).";
    out.push(closing_case(
        "7.3.1",
        "A close frame with an empty payload.",
        echo_close,
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        raw(None, None),
    ));
    out.push(closing_case(
        "7.3.2",
        "A close frame with a one-octet payload (too short for a code).",
        fail,
        expect(ok(vec![]), &[1002], false),
        Post::WrongCodeFails,
        raw(None, Some(Bytes::from_static(b"a"))),
    ));
    out.push(closing_case(
        "7.3.3",
        "A close frame with code 1000 and no reason.",
        echo_close,
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        |p| p.send_close(Some(1000), None),
    ));
    out.push(closing_case(
        "7.3.4",
        "A close frame with code 1000 and a short reason.",
        echo_close,
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        |p| {
            p.send_close(Some(1000), Some("Hello World!"));
        },
    ));
    out.push(closing_case(
        "7.3.5",
        "A close frame with code 1000 and a 123-octet reason (125 octets in all).",
        echo_close,
        expect(ok(vec![]), &[1000], true),
        Post::WrongCodeFails,
        |p| {
            p.send_close(Some(1000), Some(&"*".repeat(123)));
        },
    ));
    out.push(closing_case(
        "7.3.6",
        "A close frame with code 1000 and a 124-octet reason: 126 octets, too long for a control frame.",
        fail,
        expect(ok(vec![]), &[1002], false),
        Post::WrongCodeFails,
        raw(Some(1000), Some(repeat(b"*", 124))),
    ));
    out.push(closing_case(
        "7.5.1",
        "A close frame with code 1000 and a reason that is not valid UTF-8.",
        "The peer fails the connection with 1007 or 1002 (or drops TCP).",
        expect(ok(vec![]), &[1002, 1007], false),
        Post::WrongCodeFailsHexReason,
        raw(
            Some(1000),
            Some(Bytes::from_static(
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
            )),
        ),
    ));
    for (i, code) in
        [1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].into_iter().enumerate()
    {
        let mut def = CaseDef::script(
            format!("7.7.{}", i + 1),
            format!("A close frame with the valid code {code}."),
            format!("The peer answers with a close carrying 1000 or {code}."),
            expect(ok(vec![]), &[1000, code], true),
            act(move |p| {
                p.send_close_frame(Some(code), None, false);
                p.kill_after(1.0);
            }),
        );
        def.post = Post::WrongCodeFails;
        out.push(def);
    }
    for (i, code) in [0u16, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].into_iter().enumerate() {
        let mut def = CaseDef::script(
            format!("7.9.{}", i + 1),
            format!("A close frame with the code {code}, which may not be sent."),
            fail,
            expect(ok(vec![]), &[1002], false),
            act(move |p| {
                p.send_close_frame(Some(code), None, false);
                p.kill_after(1.0);
            }),
        );
        def.post = Post::WrongCodeFails;
        out.push(def);
    }
    for (id, code) in [("7.13.1", 5000u16), ("7.13.2", 65535u16)] {
        out.push(closing_case(
            id,
            &format!("A close frame with the code {code}, outside every defined range."),
            "Informational: the spec does not say how to answer this code.",
            expect(ok(vec![]), &[1000, code, 1002], false),
            Post::Informational,
            move |p| p.send_close_frame(Some(code), None, false),
        ));
    }
    out
}
