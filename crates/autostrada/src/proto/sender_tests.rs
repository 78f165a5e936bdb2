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
