use super::*;
use crate::proto::frame::LengthForm;

/// Encodes a frame as a client would (masked), or as a server (unmasked).
fn frame(role_of_sender: Role, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mask = (role_of_sender == Role::Client).then_some([0xa1, 0xb2, 0xc3, 0xd4]);
    let h = FrameHeader { fin, rsv, opcode, mask, payload_len: payload.len() as u64 };
    let (head, n) = h.encode();
    let mut out = head[..n].to_vec();
    let mut body = payload.to_vec();
    if let Some(key) = mask {
        apply_mask(&mut body, key, 0);
    }
    out.extend_from_slice(&body);
    out
}

fn server() -> Receiver {
    Receiver::new(Role::Server, &Config::default())
}

fn feed(rx: &mut Receiver, wire: &[u8]) -> Result<Vec<Message>, ProtocolError> {
    rx.receive_data(wire);
    let mut out = Vec::new();
    while let Some(m) = rx.next_message()? {
        out.push(m);
    }
    Ok(out)
}

fn c(fin: bool, opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    frame(Role::Client, fin, 0, opcode, payload)
}

#[test]
fn single_and_fragmented_messages() {
    let mut rx = server();
    let mut wire = c(true, OpCode::Text, b"Hello");
    wire.extend(c(false, OpCode::Binary, b"ab"));
    wire.extend(c(true, OpCode::Ping, b"p"));
    wire.extend(c(false, OpCode::Continuation, b"cd"));
    wire.extend(c(true, OpCode::Continuation, b""));
    let got = feed(&mut rx, &wire).unwrap();
    assert_eq!(got, vec![Message::text("Hello"), Message::Ping("p".into()), Message::binary(&b"abcd"[..])]);
}

#[test]
fn byte_by_byte_equals_whole() {
    let mut wire = c(false, OpCode::Text, "κόσ".as_bytes());
    wire.extend(c(true, OpCode::Continuation, "με".as_bytes()));
    wire.extend(c(true, OpCode::Binary, &[7u8; 300]));
    wire.extend(c(true, OpCode::Close, b"\x03\xe8"));
    let whole = feed(&mut server(), &wire).unwrap();
    let mut rx = server();
    let mut pieces = Vec::new();
    for b in &wire {
        pieces.extend(feed(&mut rx, std::slice::from_ref(b)).unwrap());
    }
    assert_eq!(whole, pieces);
    assert_eq!(whole[0], Message::text("κόσμε"));
    assert!(rx.is_finished());
}

fn error_of(wire: &[u8]) -> ProtocolError {
    feed(&mut server(), wire).unwrap_err()
}

#[test]
fn rfc_violations_fail_with_the_right_code() {
    let cases: Vec<(Vec<u8>, CloseCode)> = vec![
        (frame(Role::Client, true, 0b100, OpCode::Text, b"x"), CloseCode::PROTOCOL_ERROR),
        (c(true, OpCode::Reserved(3), b""), CloseCode::PROTOCOL_ERROR),
        (c(true, OpCode::Reserved(0xb), b""), CloseCode::PROTOCOL_ERROR),
        (c(false, OpCode::Ping, b""), CloseCode::PROTOCOL_ERROR),
        (c(true, OpCode::Ping, &[0; 126]), CloseCode::PROTOCOL_ERROR),
        (frame(Role::Server, true, 0, OpCode::Text, b"unmasked"), CloseCode::PROTOCOL_ERROR),
        (c(true, OpCode::Continuation, b"x"), CloseCode::PROTOCOL_ERROR),
        ([c(false, OpCode::Text, b"a"), c(true, OpCode::Text, b"b")].concat(), CloseCode::PROTOCOL_ERROR),
        (c(true, OpCode::Text, b"\xce\xba\xed\xa0\x80"), CloseCode::INVALID_PAYLOAD),
        (c(true, OpCode::Text, b"ends mid \xe2\x82"), CloseCode::INVALID_PAYLOAD),
        (c(true, OpCode::Close, b"a"), CloseCode::PROTOCOL_ERROR),
        (c(true, OpCode::Close, b"\x03\xed"), CloseCode::PROTOCOL_ERROR),
        (c(true, OpCode::Close, b"\x03\xe8\xff"), CloseCode::INVALID_PAYLOAD),
    ];
    for (wire, code) in cases {
        assert_eq!(error_of(&wire).close_code(), code, "{wire:02x?}");
    }
}

#[test]
fn masking_rules_per_role() {
    let mut client = Receiver::new(Role::Client, &Config::default());
    assert_eq!(
        feed(&mut client, &frame(Role::Server, true, 0, OpCode::Text, b"ok")).unwrap(),
        vec![Message::text("ok")]
    );
    let mut client = Receiver::new(Role::Client, &Config::default());
    assert_eq!(
        feed(&mut client, &c(true, OpCode::Text, b"masked")).unwrap_err(),
        ProtocolError::Masking { masked: true }
    );
}

#[test]
fn non_minimal_and_huge_lengths_fail() {
    let h = FrameHeader { mask: Some([0; 4]), ..FrameHeader::new(OpCode::Text, 3) };
    let (head, n) = h.encode_with(LengthForm::Extended16);
    assert_eq!(error_of(&head[..n]), ProtocolError::BadLength);
    let h = FrameHeader { mask: Some([0; 4]), ..FrameHeader::new(OpCode::Binary, u64::MAX) };
    let (head, n) = h.encode();
    assert_eq!(error_of(&head[..n]), ProtocolError::BadLength);
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_complete() {
    let mut rx = server();
    let wire =
        c(true, OpCode::Text, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80 and much more text");
    // Header + the valid prefix: fine so far.
    assert_eq!(feed(&mut rx, &wire[..6 + 11]), Ok(vec![]));
    // The first impossible octet is enough.
    assert_eq!(feed(&mut rx, &wire[17..19]), Err(ProtocolError::InvalidUtf8));
    // Afterwards nothing more is read.
    assert_eq!(feed(&mut rx, &wire[19..]), Ok(vec![]));
}

#[test]
fn limits() {
    let config = Config { max_frame_size: 10, max_message_size: 15, max_fragments: 3, ..Config::default() };
    let mut rx = Receiver::new(Role::Server, &config);
    assert!(matches!(feed(&mut rx, &c(true, OpCode::Binary, &[0; 11])), Err(ProtocolError::FrameTooLarge { .. })));
    let mut rx = Receiver::new(Role::Server, &config);
    let wire = [c(false, OpCode::Binary, &[0; 10]), c(true, OpCode::Continuation, &[0; 6])].concat();
    assert_eq!(feed(&mut rx, &wire), Err(ProtocolError::MessageTooLarge { max: 15 }));
    let mut rx = Receiver::new(Role::Server, &config);
    let wire = [
        c(false, OpCode::Text, b"a"),
        c(false, OpCode::Continuation, b"b"),
        c(false, OpCode::Continuation, b"c"),
        c(true, OpCode::Continuation, b"d"),
    ]
    .concat();
    assert_eq!(feed(&mut rx, &wire), Err(ProtocolError::TooManyFragments { max: 3 }));
    assert_eq!(ProtocolError::TooManyFragments { max: 3 }.close_code(), CloseCode::MESSAGE_TOO_BIG);
    // A frame declared larger than the limit fails on its header alone.
    let mut rx = Receiver::new(Role::Server, &config);
    let header = &c(true, OpCode::Binary, &[0; 11])[..6];
    assert!(feed(&mut rx, header).is_err());
}

#[test]
fn nothing_is_read_after_close() {
    let mut rx = server();
    let wire = [c(true, OpCode::Close, b""), c(true, OpCode::Text, b"late")].concat();
    assert_eq!(feed(&mut rx, &wire).unwrap(), vec![Message::Close(None)]);
}

fn deflate_server() -> Receiver {
    let config = Config { deflate: Some(crate::proto::deflate::DeflateConfig::default()), ..Config::default() };
    let mut rx = Receiver::new(Role::Server, &config);
    rx.set_deflate(Some(crate::proto::deflate::DeflateParams::default()));
    rx
}

#[test]
fn rsv1_rules_with_deflate() {
    let z = crate::proto::deflate::Compressor::new(6, 15, false).compress(b"Hello");
    // RSV1 on a first data frame: a compressed message.
    let mut rx = deflate_server();
    assert_eq!(
        feed(&mut rx, &frame(Role::Client, true, 0b100, OpCode::Text, &z)).unwrap(),
        vec![Message::text("Hello")]
    );
    // Uncompressed messages still pass.
    assert_eq!(feed(&mut rx, &c(true, OpCode::Binary, b"raw")).unwrap(), vec![Message::binary(&b"raw"[..])]);
    // RSV1 on a continuation, on a control frame, or without deflate: 1002.
    let mut rx = deflate_server();
    let wire = [
        frame(Role::Client, false, 0b100, OpCode::Text, &z[..2]),
        frame(Role::Client, true, 0b100, OpCode::Continuation, &z[2..]),
    ]
    .concat();
    assert_eq!(feed(&mut rx, &wire), Err(ProtocolError::ReservedBits(0b100)));
    assert_eq!(
        feed(&mut deflate_server(), &frame(Role::Client, true, 0b100, OpCode::Ping, b"")),
        Err(ProtocolError::ReservedBits(0b100))
    );
    assert_eq!(
        feed(&mut server(), &frame(Role::Client, true, 0b100, OpCode::Text, &z)),
        Err(ProtocolError::ReservedBits(0b100))
    );
    assert_eq!(
        feed(&mut deflate_server(), &frame(Role::Client, true, 0b010, OpCode::Text, b"x")),
        Err(ProtocolError::ReservedBits(0b010))
    );
}

#[test]
fn compressed_garbage_and_bad_text_fail_with_1007() {
    let e = feed(&mut deflate_server(), &frame(Role::Client, true, 0b100, OpCode::Binary, &[0xff; 16])).unwrap_err();
    assert_eq!(e.close_code(), CloseCode::INVALID_PAYLOAD);
    let z = crate::proto::deflate::Compressor::new(6, 15, false).compress(b"\xce\xba\xed\xa0\x80");
    assert_eq!(
        feed(&mut deflate_server(), &frame(Role::Client, true, 0b100, OpCode::Text, &z)),
        Err(ProtocolError::InvalidUtf8)
    );
}

/// The report behind this: after a message ending in a final deflate block,
/// the next compressed message came out empty.
#[test]
fn a_message_after_a_final_deflate_block_is_not_lost() {
    const HELLO_FINAL: [u8; 8] = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    let world = crate::proto::deflate::Compressor::new(6, 15, true).compress(b"World");
    let mut wire = frame(Role::Client, true, 0b100, OpCode::Text, &HELLO_FINAL);
    wire.extend(frame(Role::Client, true, 0b100, OpCode::Text, &world));
    // And once more split: the final block in one frame, its padding in a continuation.
    wire.extend(frame(Role::Client, false, 0b100, OpCode::Text, &HELLO_FINAL[..7]));
    wire.extend(frame(Role::Client, true, 0, OpCode::Continuation, &HELLO_FINAL[7..]));
    wire.extend(frame(Role::Client, true, 0b100, OpCode::Text, &world));
    let texts: Vec<Bytes> =
        feed(&mut deflate_server(), &wire).unwrap().into_iter().map(Message::into_payload).collect();
    assert_eq!(texts, [&b"Hello"[..], b"World", b"Hello", b"World"]);
    // A second stream glued after the final block cannot be read: 1007.
    let mut glued = HELLO_FINAL[..7].to_vec();
    glued.extend_from_slice(&world);
    let e = feed(&mut deflate_server(), &frame(Role::Client, true, 0b100, OpCode::Text, &glued)).unwrap_err();
    assert_eq!(e.close_code(), CloseCode::INVALID_PAYLOAD);
}

/// A compressed message that inflated to near the limit cannot then park a
/// large compressed frame beside it: what it inflated to and the frame
/// still arriving count together (before, only the octets on the wire did,
/// so one connection could hold about twice `max_message_size`).
#[test]
fn a_compressed_message_counts_what_it_inflated_to_against_the_next_frame() {
    let config = Config {
        max_message_size: 1000,
        deflate: Some(crate::proto::deflate::DeflateConfig::default()),
        ..Config::default()
    };
    let start = || {
        let mut rx = Receiver::new(Role::Server, &config);
        rx.set_deflate(Some(crate::proto::deflate::DeflateParams::default()));
        let mut z = crate::proto::deflate::Compressor::new(6, 15, false);
        // Mid-message, the sync flush's empty block stays (RFC 7692 §7.2.1
        // strips it from the end of a message only).
        let first = [&z.compress(&[0; 900])[..], &[0, 0, 0xff, 0xff]].concat();
        assert!(first.len() < 50, "900 zeros deflate to a few octets");
        assert_eq!(feed(&mut rx, &frame(Role::Client, false, 0b100, OpCode::Binary, &first)), Ok(vec![]));
        (rx, z)
    };
    // A continuation that would fit beside the compressed octets but not
    // beside the inflated ones fails on its header alone.
    let (mut rx, _) = start();
    let header = &c(true, OpCode::Continuation, &[0; 200])[..8];
    assert_eq!(feed(&mut rx, header), Err(ProtocolError::MessageTooLarge { max: 1000 }));
    // One that fits beside them completes the message.
    let (mut rx, mut z) = start();
    let rest = z.compress(&[0; 50]);
    let done = feed(&mut rx, &c(true, OpCode::Continuation, &rest)).unwrap();
    assert_eq!(done, vec![Message::binary(vec![0; 950])]);
}

/// A fragmented message's buffer grows by doubling only up to the limit:
/// 70 fragments of 1000 octets under a 100,000-octet limit hold at most
/// 100,000 octets of storage, not the 128,000 doubling would reach.
#[test]
fn a_fragmented_message_holds_no_storage_past_the_limit() {
    let config = Config { max_message_size: 100_000, ..Config::default() };
    let mut rx = Receiver::new(Role::Server, &config);
    let mut wire = c(false, OpCode::Binary, &[7; 1000]);
    for _ in 1..70 {
        wire.extend(c(false, OpCode::Continuation, &[7; 1000]));
    }
    assert_eq!(feed(&mut rx, &wire), Ok(vec![]));
    let held = rx.message.as_ref().unwrap().data.capacity();
    assert!(held <= 100_000, "{held} octets held for 70,000");
    let done = feed(&mut rx, &c(true, OpCode::Continuation, &[7; 30_000])).unwrap();
    assert_eq!(done, vec![Message::binary(vec![7; 100_000])]);
}

/// After a close frame, or a broken rule, what the peer goes on sending is
/// discarded as it is fed in (RFC 6455 §1.4), and what was buffered behind
/// the close is dropped: a sans-IO user that feeds a hostile peer's octets
/// while waiting for its TCP to close holds none of them.
#[test]
fn octets_after_a_close_or_a_violation_are_not_kept() {
    let mut wire = c(true, OpCode::Close, &1000u16.to_be_bytes());
    wire.extend(c(true, OpCode::Binary, &[7; 4096]));
    let mut rx = server();
    let got = feed(&mut rx, &wire).unwrap();
    assert!(matches!(got.as_slice(), [Message::Close(_)]), "{got:?}");
    assert!(rx.is_finished() && rx.buf.is_empty());
    for _ in 0..64 {
        assert!(feed(&mut rx, &[0u8; 64 * 1024]).unwrap().is_empty());
    }
    assert!(rx.buf.is_empty(), "{} octets kept after the close", rx.buf.len());
    // An unmasked frame from a client breaks the rule; what follows goes too.
    let mut rx = server();
    let mut wire = frame(Role::Server, true, 0, OpCode::Text, b"unmasked");
    wire.extend(c(true, OpCode::Text, b"later"));
    assert!(feed(&mut rx, &wire).is_err());
    assert!(feed(&mut rx, &[1u8; 10_000]).unwrap().is_empty());
    assert!(rx.buf.is_empty(), "{} octets kept after the violation", rx.buf.len());
}
