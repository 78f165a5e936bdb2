use super::*;
use crate::wire::repeat;

fn frames(peer: &mut Peer) -> Vec<(bool, u8, usize)> {
    let wire: Vec<u8> = peer.out.drain(..).flat_map(|u| u.data.to_vec()).collect();
    let mut out = Vec::new();
    let mut rest = &wire[..];
    while let Some(p) = FrameHeader::parse(rest) {
        out.push((p.header.fin, p.header.opcode.bits(), p.header.payload_len as usize));
        rest = &rest[p.header_len + p.header.payload_len as usize..];
    }
    out
}

/// `TO` rows logged so far.
fn written_rows(peer: &Peer) -> usize {
    peer.log.rows().iter().filter(|r| r[0] == "TO").count()
}

#[test]
fn writes_are_logged_when_the_reference_would_write_them() {
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    // A plain write: at once.
    p.send_data(Bytes::from_static(b"a"), false, None);
    assert_eq!(written_rows(&p), 1);
    // A synced one with nothing queued: written at once too; a plain
    // one behind it finds the send queue empty and goes at once.
    p.send_data(Bytes::from_static(b"b"), true, None);
    p.send_data(Bytes::from_static(b"c"), false, None);
    assert_eq!(written_rows(&p), 3);
    // Three chops: the first at once, the others when written; a plain
    // write behind them waits its turn.
    p.send_data(Bytes::from_static(b"def"), false, Some(1));
    p.send_data(Bytes::from_static(b"g"), false, None);
    assert_eq!(written_rows(&p), 3, "the first chop waits for the earlier synced write");
    while let Some(unit) = p.pop_unit() {
        if !unit.logged {
            p.account_written(&unit.data, unit.sync);
        }
    }
    assert_eq!(written_rows(&p), 7);
    assert_eq!(p.unlogged_queued, 0);
    // Nothing queued any more: the next chop goes at once.
    p.send_data(Bytes::from_static(b"hi"), false, Some(1));
    assert_eq!(written_rows(&p), 8);
}

#[test]
fn message_api_adds_an_empty_final_frame_on_exact_multiples() {
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    p.send_message(Bytes::from_static(b"abcd"), false, Some(2), false);
    assert_eq!(frames(&mut p), vec![(false, 1, 2), (false, 0, 2), (true, 0, 0)]);
    p.send_message(Bytes::from_static(b"abcde"), true, Some(2), false);
    assert_eq!(frames(&mut p), vec![(false, 2, 2), (false, 0, 2), (true, 0, 1)]);
    p.send_message(Bytes::from_static(b"ab"), false, Some(2), false);
    assert_eq!(frames(&mut p), vec![(true, 1, 2)]);
    p.auto_fragment_size = 1300;
    p.send_message(repeat(b"*", 65536), false, None, false);
    assert_eq!(frames(&mut p).len(), 51);
}

#[test]
fn read_buffer_is_sized_for_the_frame_but_not_for_a_claim() {
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    // A 1 MiB binary frame announced: room for all of it.
    p.receive(&[0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    assert!(p.read_buffer().capacity() >= 10 + (1 << 20));
    // A frame claiming 2^40 octets: only the 16 MiB cap is reserved.
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    p.receive(&[0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0]);
    assert!(p.read_buffer().capacity() <= (17 << 20));
    // Reads appended to the buffer are logged, counted and decoded.
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    let buf = p.read_buffer();
    let from = buf.len();
    buf.extend_from_slice(&[0x81, 2, b'h', b'i']);
    p.note_read(from);
    assert_eq!(p.stats.rx_octets.to_json()["4"], 1);
    assert!(matches!(p.next_delivery(), Some(crate::wire::incoming::Delivery::Message(m, false)) if m == "hi"));
}

#[test]
fn an_upgrade_request_is_read_into_room_for_one_read_only() {
    // Ten octets that, read as a frame header, claim 16 MiB and more.
    let mut p = Peer::new(Role::Server);
    let buf = p.head_buffer();
    let from = buf.len();
    buf.extend_from_slice(&[0x00, 127, 0, 0, 0, 0, 1, 0, 0, 0]);
    p.note_read(from);
    assert!(p.head_buffer().capacity() < 1 << 20, "{}", p.head_buffer().capacity());
}

#[test]
fn repeated_payload_is_built_and_masked_in_place() {
    let mut p = Peer::new(Role::Client);
    p.send_frame(FrameSpec::new(2, &b"xyz"[..]).repeat_to(70_000));
    let wire: Vec<u8> = p.out.drain(..).flat_map(|u| u.data.to_vec()).collect();
    // 2 + 8 octets of header (64-bit length), 4 of mask key, then the payload.
    assert_eq!(&wire[..2], &[0x82, 0xff]);
    assert_eq!(u64::from_be_bytes(wire[2..10].try_into().unwrap()), 70_000);
    let key: [u8; 4] = wire[10..14].try_into().unwrap();
    let mut payload = wire[14..].to_vec();
    apply_mask(&mut payload, key, 0);
    assert_eq!(payload, repeat(b"xyz", 70_000));
}

#[test]
fn repeat_builds_the_payload() {
    assert_eq!(repeat(b"abc", 7), Bytes::from_static(b"abcabca"));
    assert_eq!(repeat(b"abc", 2), Bytes::from_static(b"ab"));
    assert_eq!(repeat(b"abc", 0), Bytes::new());
    let long = repeat(b"xyz", 1000);
    assert!(long.chunks(3).all(|c| b"xyz".starts_with(c)), "{long:?}");
}

#[test]
fn chops_and_syncs_queue_in_order() {
    let mut p = Peer::new(Role::Client);
    p.send_data(Bytes::from_static(b"direct"), false, None);
    p.send_data(Bytes::from_static(b"abcde"), false, Some(2));
    p.send_data(Bytes::from_static(b"after"), false, None);
    let units: Vec<(Vec<u8>, bool)> = p.out.iter().map(|u| (u.data.to_vec(), u.queued)).collect();
    assert_eq!(units[0], (b"direct".to_vec(), false));
    assert_eq!(units.len(), 5);
    assert!(units[1..].iter().all(|(_, q)| *q), "nothing overtakes queued octets");
}

#[test]
fn a_flood_of_close_frames_while_closing_arms_one_server_drop_timer() {
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    p.send_close_frame(Some(1000), None, false);
    assert_eq!(p.timers.len(), 1, "the close handshake timer");
    p.on_close_frame(Some(1000), None);
    let first = p.timers.clone();
    assert!(matches!(first[..], [(_, Timer::ServerDrop)]), "{first:?}");
    for _ in 0..50_000 {
        p.on_close_frame(None, None);
    }
    // Still the first close's timer: it fires when it did before.
    assert_eq!(p.timers, first);
    assert_eq!(p.state, State::Closing);
    assert!(p.close.was_clean);
}

#[test]
fn timeouts_of_0_arm_no_timer() {
    // Client role: neither the close-handshake timer nor, after the reply,
    // the server-drop timer (the reference arms each only above 0).
    let mut p = Peer::new(Role::Client);
    p.timeouts.close_handshake = Duration::ZERO;
    p.timeouts.server_drop = Duration::ZERO;
    p.state = State::Open;
    p.send_close_frame(Some(1000), None, false);
    assert!(p.timers.is_empty(), "{:?}", p.timers);
    p.on_close_frame(Some(1000), None);
    assert!(p.timers.is_empty(), "{:?}", p.timers);
    assert!((p.close.was_clean, p.state) == (true, State::Closing));
    // One of them at 0 leaves the other armed.
    let mut p = Peer::new(Role::Server);
    p.timeouts.server_drop = Duration::ZERO;
    p.state = State::Open;
    p.send_close_frame(Some(1000), None, false);
    assert!(matches!(p.timers[..], [(_, Timer::CloseHandshake)]), "{:?}", p.timers);
}

#[test]
fn a_recorded_payload_does_not_hold_the_buffer_it_was_cut_from() {
    // A 1 MiB frame and a one-octet pong behind it, in one read buffer.
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    let mut wire = vec![0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0];
    wire.resize(10 + (1 << 20), 0);
    wire.extend_from_slice(&[0x8a, 1, b'x']);
    let buf = p.read_buffer();
    let from = buf.len();
    buf.extend_from_slice(&wire);
    let (start, end) = (buf.as_ptr() as usize, buf.as_ptr() as usize + buf.capacity());
    p.note_read(from);
    assert!(p.next_delivery().is_some());
    let Some(crate::wire::incoming::Delivery::Pong(pong)) = p.next_delivery() else { panic!("the pong") };
    assert!((start..end).contains(&(pong.as_ptr() as usize)), "cut from the read buffer");
    p.record(Event::Pong(pong));
    let Some(Event::Pong(kept)) = p.received.last() else { panic!("recorded") };
    assert_eq!(&kept[..], b"x");
    // Its own storage, outside the megabyte it arrived behind.
    assert!(!(start..end).contains(&(kept.as_ptr() as usize)));
}

/// An incomplete header that breaks a rule fails the connection, and is
/// judged again only when more octets come (then, while closing, TCP is
/// dropped), not whenever something else has the decoder run.
#[test]
fn an_incomplete_bad_header_is_judged_again_only_on_new_octets() {
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    // A masked server frame whose 16-bit length has not arrived.
    p.receive(&[0x81, 0xfe]);
    assert!(p.next_delivery().is_none());
    assert_eq!((p.state, p.close.failed_by_me, p.close.dropped_by_me), (State::Closing, true, false));
    // A timer's turn: nothing new, nothing judged again.
    assert!(p.next_delivery().is_none());
    assert_eq!((p.state, p.close.dropped_by_me), (State::Closing, false));
    // One more octet of the header: judged again, and dropped.
    p.receive(&[0x00]);
    assert!(p.next_delivery().is_none());
    assert!(p.close.dropped_by_me);
}

/// A close whose 7-bit length is 1 fails the connection at its header,
/// before its body arrives.
#[test]
fn a_one_octet_close_body_fails_at_the_header() {
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    p.receive(&[0x88, 0x01]);
    assert!(p.next_delivery().is_none());
    assert_eq!((p.state, p.close.failed_by_me), (State::Closing, true));
}

/// A length with its top bit set fails the connection (1002); as in the
/// reference, what comes next is taken as that frame's payload, not
/// decoded (the peer's close reply included), and TCP is not dropped for it.
#[test]
fn a_frame_past_2_63_swallows_what_follows() {
    let mut p = Peer::new(Role::Client);
    p.state = State::Open;
    p.receive(&[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 5]);
    assert!(p.next_delivery().is_none());
    assert_eq!((p.state, p.close.failed_by_me, p.close.dropped_by_me), (State::Closing, true, false));
    p.receive(&[0x88, 0x02, 0x03, 0xe8]);
    assert!(p.next_delivery().is_none());
    assert_eq!((p.state, p.close.dropped_by_me, p.close.remote_close_code), (State::Closing, false, None));
}
