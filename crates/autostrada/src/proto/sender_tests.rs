use super::*;
use crate::proto::Receiver;

fn roundtrip(role: Role, config: &Config, messages: Vec<Message>) -> Vec<Message> {
    let mut tx = Sender::new(role, config);
    for m in messages {
        tx.send(m).unwrap();
    }
    let peer = if role == Role::Client { Role::Server } else { Role::Client };
    let mut rx = Receiver::new(peer, config);
    rx.receive_data(&tx.take_bytes());
    std::iter::from_fn(|| rx.next_message().unwrap()).collect()
}

#[test]
fn both_roles_roundtrip() {
    let big = Bytes::from(vec![0x5a; 100_000]);
    let msgs = vec![
        Message::text("Hello"),
        Message::binary(big.clone()),
        Message::Ping("p".into()),
        Message::text(""),
        Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "bye"))),
    ];
    for role in [Role::Client, Role::Server] {
        assert_eq!(roundtrip(role, &Config::default(), msgs.clone()), msgs, "{role:?}");
    }
}

#[test]
fn auto_fragmentation() {
    let config = Config { send_frame_size: 4, ..Config::default() };
    let mut tx = Sender::new(Role::Server, &config);
    tx.send(Message::text("abcdefghij")).unwrap();
    assert_eq!(tx.take_bytes(), b"\x01\x04abcd\x00\x04efgh\x80\x02ij");
    // Reassembled by a receiver into the one message.
    assert_eq!(roundtrip(Role::Client, &config, vec![Message::text("abcdefghij")]), vec![Message::text("abcdefghij")]);
}

#[test]
fn client_frames_are_masked_with_fresh_keys() {
    let mut tx = Sender::new(Role::Client, &Config::default());
    tx.send(Message::text("Hello")).unwrap();
    tx.send(Message::text("Hello")).unwrap();
    let wire = tx.take_bytes();
    assert_eq!(wire.len(), 22);
    assert_eq!(&wire[..2], b"\x81\x85");
    assert_ne!(&wire[2..6], &wire[13..17], "two frames shared a masking key");
}

#[test]
fn nothing_after_close() {
    let mut tx = Sender::new(Role::Server, &Config::default());
    tx.send(Message::Close(None)).unwrap();
    assert_eq!(tx.send(Message::text("late")), Err(SendError::AlreadyClosed));
    tx.reply_pong(Bytes::from_static(b"x"));
    tx.reply_close(None);
    tx.fail(CloseCode::PROTOCOL_ERROR, "x");
    assert_eq!(tx.take_bytes(), b"\x88\x00");
}

#[test]
fn control_rules() {
    let mut tx = Sender::new(Role::Server, &Config::default());
    assert_eq!(tx.send(Message::Ping(vec![0; 126].into())), Err(SendError::ControlTooLong(126)));
    let bad = CloseFrame { code: CloseCode(1005), reason: String::new() };
    assert_eq!(tx.send(Message::Close(Some(bad))), Err(SendError::InvalidCloseCode(1005)));
    assert!(!tx.close_sent());
}

#[test]
fn vectored_chunks_and_partial_writes() {
    let mut tx = Sender::new(Role::Server, &Config::default());
    tx.send(Message::text("a")).unwrap();
    tx.send(Message::binary(vec![1u8; 5000])).unwrap();
    tx.send(Message::text("b")).unwrap();
    let total = tx.pending();
    assert_eq!(total, 3 + 4 + 5000 + 3);
    let mut slots = [IoSlice::new(&[]); 8];
    let n = tx.chunks(&mut slots);
    assert_eq!(n, 3, "header run, zero-copy payload, tail");
    let flat: Vec<u8> = slots[..n].iter().flat_map(|s| s.iter().copied()).collect();
    // Write it out in awkward pieces.
    let mut written = Vec::new();
    while tx.pending() > 0 {
        let mut slots = [IoSlice::new(&[]); 8];
        let n = tx.chunks(&mut slots);
        let step = 7.min(slots[0].len());
        written.extend_from_slice(&slots[0][..step]);
        let _ = n;
        tx.advance(step);
    }
    assert_eq!(written, flat);
}

fn deflating(role: Role, threshold: usize, frame_size: usize) -> Sender {
    let mut config = Config { send_frame_size: frame_size, ..Config::default() };
    config.deflate = Some(crate::proto::deflate::DeflateConfig { threshold, ..Default::default() });
    let mut tx = Sender::new(role, &config);
    tx.set_deflate(Some(crate::proto::deflate::DeflateParams::default()));
    tx
}

fn headers(wire: &[u8]) -> Vec<FrameHeader> {
    let mut out = Vec::new();
    let mut rest = wire;
    while let Some(p) = FrameHeader::parse(rest) {
        out.push(p.header);
        rest = &rest[p.header_len + p.header.payload_len as usize..];
    }
    out
}

#[test]
fn rsv1_on_the_first_frame_only_and_never_on_control_frames() {
    let mut tx = deflating(Role::Server, 0, 8);
    tx.send(Message::text("compress me, compress me, compress me please ".repeat(20))).unwrap();
    tx.send(Message::Ping("p".into())).unwrap();
    let h = headers(&tx.take_bytes());
    assert!(h.len() > 3, "fragmented after compression");
    assert_eq!(h[0].rsv, 0b100);
    assert!(h[1..].iter().all(|f| f.rsv == 0));
    assert_eq!(h.last().unwrap().opcode, OpCode::Ping);
}

#[test]
fn threshold_and_opt_out_send_plain_frames() {
    let mut tx = deflating(Role::Server, 10, 1 << 20);
    tx.send(Message::text("tiny")).unwrap();
    tx.send_uncompressed(Message::text("already compressed, say")).unwrap();
    tx.send(Message::text("long enough to compress")).unwrap();
    let h = headers(&tx.take_bytes());
    assert_eq!(h.iter().map(|f| f.rsv).collect::<Vec<_>>(), vec![0, 0, 0b100]);
}

#[test]
fn deflated_messages_round_trip_between_roles() {
    let mut tx = deflating(Role::Client, 0, 100);
    let config = Config { deflate: Some(crate::proto::deflate::DeflateConfig::default()), ..Config::default() };
    let mut rx = Receiver::new(Role::Server, &config);
    rx.set_deflate(Some(crate::proto::deflate::DeflateParams::default()));
    let msgs = vec![
        Message::text("Ünïcödé ".repeat(300)),
        Message::binary(vec![7u8; 5000]),
        Message::text(""),
        Message::binary(Bytes::new()),
    ];
    for m in &msgs {
        tx.send(m.clone()).unwrap();
    }
    rx.receive_data(&tx.take_bytes());
    let got: Vec<Message> = std::iter::from_fn(|| rx.next_message().unwrap()).collect();
    assert_eq!(got, msgs);
}

#[test]
fn unsent_automatic_pongs_stay_within_their_budget() {
    for role in [Role::Server, Role::Client] {
        let mut tx = Sender::new(role, &Config::default());
        let frame = if role == Role::Server { 2 + 4 } else { 2 + 4 + 4 };
        for i in 0..1_000_000u32 {
            tx.reply_pong(Bytes::from(i.to_be_bytes().to_vec()));
        }
        assert!(tx.pending() <= super::PONG_BUDGET + frame, "a million pings left {} octets", tx.pending());
        let wire = tx.take_bytes();
        if role == Role::Server {
            assert_eq!(&wire[wire.len() - 4..], 999_999u32.to_be_bytes(), "the newest ping is answered");
        }
    }
}

#[test]
fn a_burst_of_pings_gets_every_pong_in_order() {
    let mut tx = Sender::new(Role::Server, &Config::default());
    for i in 0..10 {
        tx.reply_pong(Bytes::from(format!("payload-{i}")));
    }
    let wire = tx.take_bytes();
    assert_eq!(wire.len(), 10 * 11);
    assert_eq!(&wire[99..], b"\x8a\x09payload-9");
}

#[test]
fn a_pong_partly_written_or_followed_by_data_is_kept() {
    let mut tx = Sender::new(Role::Server, &Config::default());
    let fill = Bytes::from(vec![0u8; 125]);
    for _ in 0..9 {
        tx.reply_pong(fill.clone());
    }
    // 9 × 127 octets: the budget is spent; the next pong replaces the last.
    tx.reply_pong(Bytes::from_static(b"one"));
    assert_eq!(tx.pending(), 8 * 127 + 5);
    tx.advance(8 * 127 + 1);
    tx.reply_pong(Bytes::from_static(b"two"));
    assert_eq!(tx.take_bytes(), b"\x03one\x8a\x03two");
    for _ in 0..9 {
        tx.reply_pong(fill.clone());
    }
    tx.send(Message::text("data")).unwrap();
    tx.reply_pong(Bytes::from_static(b"two"));
    tx.reply_pong(Bytes::from_static(b"three"));
    assert!(tx.take_bytes().ends_with(b"\x81\x04data\x8a\x03two\x8a\x05three"));
}

/// Sends `message` compressed with `window_bits` under a handshake that
/// agreed on 15 bits; returns the wire size and checks a 15-bit receiver
/// inflates it back.
fn compressed_size(window_bits: u8, message: &[u8]) -> usize {
    let deflate = crate::proto::deflate::DeflateConfig { window_bits, ..Default::default() };
    let config = Config { deflate: Some(deflate), ..Config::default() };
    let mut tx = Sender::new(Role::Server, &config);
    tx.set_deflate(Some(crate::proto::deflate::DeflateParams::default()));
    tx.send(Message::Binary(Bytes::copy_from_slice(message))).unwrap();
    let wire = tx.take_bytes();
    let mut rx = crate::proto::Receiver::new(Role::Client, &Config::default());
    rx.set_deflate(Some(crate::proto::deflate::DeflateParams::default()));
    rx.receive_data(&wire);
    match rx.next_message().unwrap() {
        Some(Message::Binary(b)) => assert_eq!(&b[..], message),
        other => panic!("expected the message back, got {other:?}"),
    }
    wire.len()
}

#[test]
fn the_compression_window_is_ours_to_shrink_below_what_was_agreed() {
    // 8 KiB of noise, twice: only a window over 8 KiB sees the repeat.
    let mut noise = vec![0u8; 8 << 10];
    let mut x: u32 = 0x2545_f491;
    for b in &mut noise {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let message = [noise.clone(), noise].concat();
    let wide = compressed_size(15, &message);
    let default_window = compressed_size(crate::proto::deflate::DeflateConfig::default().window_bits, &message);
    assert!(wide < 9 << 10, "a 32 KiB window finds the repeat: {wide} octets");
    assert!(default_window > 16 << 10, "a 4 KiB window cannot: {default_window} octets");
}

#[test]
fn an_emptied_assembly_buffer_waits_for_the_next_frame_on_this_thread() {
    let mut a = Sender::new(Role::Server, &Config::default());
    let mut b = Sender::new(Role::Server, &Config::default());
    a.send(Message::binary(&b"first"[..])).unwrap();
    let storage = a.single_chunk().unwrap().as_ptr();
    // b queues while a still holds the thread's buffer: b gets its own.
    b.send(Message::binary(&b"second"[..])).unwrap();
    assert_ne!(b.single_chunk().unwrap().as_ptr(), storage);
    a.advance(a.pending());
    assert!(a.outbox.out.is_none(), "a drained sender holds no buffer");
    // The next frame on this thread takes a's storage, whole.
    a.send(Message::text("third")).unwrap();
    assert_eq!(a.single_chunk().unwrap().as_ptr(), storage);
    assert_eq!(a.take_bytes(), b"\x81\x05third");
    assert_eq!(b.take_bytes(), b"\x82\x06second");
}

#[test]
fn a_buffer_written_out_in_pieces_is_lent_again_with_all_its_room() {
    let mut tx = Sender::new(Role::Server, &Config::default());
    tx.send(Message::binary(vec![7u8; 100])).unwrap();
    let room = tx.outbox.out.as_ref().unwrap().tail.capacity();
    tx.advance(30);
    tx.advance(tx.pending());
    tx.send(Message::binary(vec![8u8; 100])).unwrap();
    let now = tx.outbox.out.as_ref().unwrap().tail.capacity();
    assert!(now >= room, "{now} < {room}");
    let wire = tx.take_bytes();
    assert_eq!(&wire[..2], b"\x82\x64");
    assert!(wire[2..].iter().all(|&b| b == 8));
}

#[test]
fn a_buffer_past_the_spare_cap_is_not_kept_however_it_went_out() {
    let mut tx = Sender::new(Role::Server, &Config::default());
    // Small frames are copied into one buffer: about 70 KiB of them.
    for _ in 0..20 {
        tx.send(Message::binary(vec![1u8; 3500])).unwrap();
    }
    let storage = tx.outbox.out.as_ref().unwrap().tail.capacity();
    assert!(storage > 64 << 10);
    // Out in two writes: what is left of the buffer after the first is
    // under the cap, the storage behind it is not.
    let first = tx.pending() - 100;
    assert!(storage - first < 64 << 10);
    tx.advance(first);
    tx.advance(tx.pending());
    tx.send(Message::binary(vec![2u8; 10])).unwrap();
    // Room for 64 KiB exists only in the oversized storage.
    let tail = &mut tx.outbox.out.as_mut().unwrap().tail;
    assert!(!tail.try_reclaim(64 << 10), "the oversized buffer was kept");
    assert_eq!(tx.take_bytes(), [&b"\x82\x0a"[..], &[2u8; 10]].concat());
}
