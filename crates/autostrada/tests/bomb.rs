//! A decompression bomb costs the limit, not the bomb: 1 KiB-ish of
//! deflate data that would inflate to 1 GiB, against a 1 MiB message limit,
//! is refused with 1009 while the process never holds more than a few
//! megabytes. Memory is measured with a counting global allocator.

use std::sync::atomic::Ordering;

use autostrada::Config;
use autostrada::proto::deflate::{Compressor, DeflateConfig, DeflateParams};
use autostrada::proto::{CloseCode, FrameHeader, OpCode, ProtocolError, Receiver, Role, apply_mask};

#[path = "common/counting.rs"]
mod counting;

use counting::{CURRENT, PEAK};

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// The tests that read the peak take turns, so that one's allocations do
/// not show in another's peak.
static PEAK_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Deflate data for `len` zero octets, built in 1 MiB steps so that making
/// the bomb does not itself cost a gigabyte.
fn bomb(len: usize) -> Vec<u8> {
    let mut c = flate2::Compress::new_with_window_bits(flate2::Compression::best(), false, 15);
    let zeros = vec![0u8; 1 << 20];
    let mut out = Vec::with_capacity(1 << 20);
    let mut left = len;
    while left > 0 {
        let step = &zeros[..left.min(zeros.len())];
        let before = c.total_in();
        while c.total_in() - before < step.len() as u64 {
            let done = (c.total_in() - before) as usize;
            out.reserve(4096);
            c.compress_vec(&step[done..], &mut out, flate2::FlushCompress::None).unwrap();
        }
        left -= step.len();
    }
    out.reserve(4096);
    c.compress_vec(&[], &mut out, flate2::FlushCompress::Sync).unwrap();
    out.truncate(out.len() - 4); // strip 00 00 ff ff (RFC 7692 §7.2.1)
    out
}

/// One masked, compressed binary frame carrying `payload`, as a client sends it.
fn compressed_frame(payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let header = FrameHeader {
        fin: true,
        rsv: 0b100,
        opcode: OpCode::Binary,
        mask: Some(key),
        payload_len: payload.len() as u64,
    };
    let (head, n) = header.encode();
    let mut wire = head[..n].to_vec();
    let start = wire.len();
    wire.extend_from_slice(payload);
    apply_mask(&mut wire[start..], key, 0);
    wire
}

/// A message that inflates past the limit, by one octet or by a lot, costs
/// the limit once (and what growing to it costs: a copy of half of it at
/// most), never a second buffer of the limit's size: the inflated octets
/// beyond the limit are never taken in.
#[test]
fn a_message_past_the_limit_never_holds_twice_the_limit() {
    let _turn = PEAK_TURN.lock().unwrap_or_else(|e| e.into_inner());
    let limit = 16 << 20;
    for len in [limit + 1, limit + (1 << 20), 256 << 20] {
        let mut config = Config::default();
        config.max_message_size = limit;
        config.max_frame_size = limit;
        config.deflate = Some(DeflateConfig::default());
        let mut rx = Receiver::new(Role::Server, &config);
        rx.set_deflate(Some(DeflateParams::default()));
        let wire = compressed_frame(&bomb(len));
        let baseline = CURRENT.load(Ordering::Relaxed);
        PEAK.store(baseline, Ordering::Relaxed);
        rx.receive_data(&wire);
        // Not `unwrap_err`: an `Ok` would print megabytes.
        let refused = rx.next_message().err();
        assert_eq!(refused, Some(ProtocolError::MessageTooLarge { max: limit }), "{len} octets inflated");
        let grown = PEAK.load(Ordering::Relaxed) - baseline;
        eprintln!(
            "{len} octets inflated against a {limit}-octet limit: peak {:.2}x the limit",
            grown as f64 / limit as f64
        );
        // The wire octets copied in, zlib's state, the limit, half of it
        // while growing: well under 1.6 times the limit.
        assert!(
            grown < limit * 8 / 5,
            "{len} octets inflated: the peak grew by {grown} ({:.2}x the limit)",
            grown as f64 / limit as f64
        );
    }
}

#[test]
fn a_gigabyte_bomb_costs_the_limit() {
    let _turn = PEAK_TURN.lock().unwrap_or_else(|e| e.into_inner());
    let payload = bomb(1 << 30);
    assert!(payload.len() < 1_100_000, "the bomb itself is {} octets", payload.len());
    let mut config = Config::default();
    config.max_message_size = 1 << 20;
    config.max_frame_size = 4 << 20;
    config.deflate = Some(DeflateConfig::default());
    let mut rx = Receiver::new(Role::Server, &config);
    rx.set_deflate(Some(DeflateParams::default()));
    let wire = compressed_frame(&payload);
    drop(payload);

    let baseline = CURRENT.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);
    rx.receive_data(&wire);
    let err = rx.next_message().unwrap_err();
    assert_eq!(err, ProtocolError::MessageTooLarge { max: 1 << 20 });
    assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);
    let grown = PEAK.load(Ordering::Relaxed) - baseline;
    // The copied wire octets (~1 MiB), the inflated limit (1 MiB), zlib's
    // state: a few MiB at most, never the gigabyte.
    assert!(grown < 8 << 20, "peak grew by {grown} octets");
}

#[test]
fn compressed_messages_round_trip_through_the_state_machine() {
    let mut config = Config::default();
    config.deflate = Some(DeflateConfig::default());
    let params = DeflateParams { client_no_context_takeover: true, ..DeflateParams::default() };
    let mut c = Compressor::new(6, 15, true);
    let text = "κόσμε ".repeat(1000);
    let z = c.compress(text.as_bytes());
    let mut rx = Receiver::new(Role::Client, &config);
    rx.set_deflate(Some(params));
    // Fragmented: RSV1 on the first frame only.
    let (a, b) = z.split_at(z.len() / 2);
    for (i, (part, fin)) in [(a, false), (b, true)].into_iter().enumerate() {
        let op = if i == 0 { OpCode::Text } else { OpCode::Continuation };
        let rsv = if i == 0 { 0b100 } else { 0 };
        let h = FrameHeader { fin, rsv, opcode: op, mask: None, payload_len: part.len() as u64 };
        let (head, n) = h.encode();
        rx.receive_data(&head[..n]);
        rx.receive_data(part);
    }
    assert_eq!(rx.next_message().unwrap(), Some(autostrada::Message::text(text)));
}
