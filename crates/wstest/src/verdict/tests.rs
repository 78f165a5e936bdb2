use super::*;
use crate::cases::{self, CaseDef};
use crate::wire::{Event, Peer, State};
use autostrada::Role;

fn case(id: &str) -> CaseDef {
    cases::all().into_iter().find(|c| c.id == id).unwrap()
}

fn session(peer: Peer) -> Session {
    Session {
        peer,
        opened: true,
        started: chrono::Utc::now(),
        open_time: None,
        http_request: String::new(),
        http_response: None,
        server_header: None,
        skipped: false,
    }
}

fn judged(id: &str, setup: impl FnOnce(&mut Peer)) -> Verdict {
    let def = case(id);
    let mut run = CaseRun::new(&def);
    run.expect = Some(def.expect.clone());
    let mut peer = Peer::new(Role::Client);
    peer.state = State::Closed;
    setup(&mut peer);
    judge(&run, &session(peer), def.post)
}

#[test]
fn clean_echo_passes() {
    let v = judged("1.1.2", |p| {
        p.received.push(Event::text(vec![b'*'; 125]));
        p.close.closed_by_me = true;
        p.close.was_clean = true;
        p.close.remote_close_code = Some(1000);
    });
    assert_eq!((v.behavior.as_str(), v.behavior_close.as_str()), ("OK", "OK"));
    assert!(v.passed());
}

#[test]
fn peer_that_never_fails_is_closed_by_us() {
    // 6.6.1 is invalid UTF-8; a peer that echoes it makes us close: wrong endpoint, fatal.
    let v = judged("6.6.1", |p| {
        p.received.push(Event::text(vec![0xce]));
        p.close.closed_by_me = true;
        p.close.failed_by_me = true;
        p.close.was_clean = true;
    });
    assert_eq!((v.behavior.as_str(), v.behavior_close.as_str()), ("FAILED", "FAILED"));
}

#[test]
fn non_strict_and_wrong_code() {
    let v = judged("3.2", |p| {
        p.close.was_clean = true;
        p.close.remote_close_code = Some(1000);
    });
    assert_eq!((v.behavior.as_str(), v.behavior_close.as_str()), ("NON-STRICT", "WRONG CODE"));
    assert_eq!(v.result_close, "The close code should have been 1002 or empty");
    // In 7.x a wrong code also fails the behaviour.
    let v = judged("7.9.1", |p| {
        p.close.closed_by_me = true;
        p.close.was_clean = true;
        p.close.remote_close_code = Some(1000);
    });
    assert_eq!((v.behavior.as_str(), v.behavior_close.as_str()), ("FAILED", "WRONG CODE"));
}

#[test]
fn unclean_and_failed_by_client() {
    let v = judged("2.1", |p| {
        p.received.push(Event::pong(Vec::new()));
        p.close.closed_by_me = true;
    });
    assert_eq!(v.behavior_close, "UNCLEAN");
    let v = judged("2.1", |p| {
        p.received.push(Event::pong(Vec::new()));
        p.close.closed_by_me = true;
        p.close.was_clean = true;
        p.close.dropped_by_me = true;
    });
    assert_eq!(v.behavior_close, "FAILED BY CLIENT");
    assert!(v.passed());
}

#[test]
fn informational_cases() {
    let v = judged("7.13.1", |_| {});
    assert_eq!((v.behavior.as_str(), v.behavior_close.as_str()), ("INFORMATIONAL", "INFORMATIONAL"));
    let v = judged("7.1.6", |p| {
        p.received.push(Event::text(&b"Hello World!"[..]));
        p.close.closed_by_me = true;
        p.close.was_clean = true;
    });
    assert_eq!(v.result, "Text message was processed before close.");
}

#[test]
fn handshake_never_completed() {
    let def = case("1.1.1");
    let run = CaseRun::new(&def);
    let mut s = session(Peer::new(Role::Client));
    s.opened = false;
    let v = judge(&run, &s, def.post);
    assert_eq!((v.behavior.as_str(), v.behavior_close.as_str()), ("FAILED", "FAILED"));
    assert_eq!(v.result_close, "The WebSocket opening handshake was never completed!");
}
