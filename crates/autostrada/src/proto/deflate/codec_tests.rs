//! Tests of the compressor and decompressor: round trips, limits, final
//! blocks, and streams lent between connections on one thread.

use super::*;

fn roundtrip(msgs: &[&[u8]], reset: bool, bits: u8) {
    let mut c = Compressor::new(6, bits, reset);
    let mut d = Decompressor::new(reset);
    for m in msgs {
        let z = c.compress(m);
        let mut out = BytesMut::new();
        // Feed in awkward pieces, as frames would arrive.
        for piece in z.chunks(7) {
            d.inflate(piece, &mut out, 1 << 20).unwrap();
        }
        d.finish(&mut out, 1 << 20).unwrap();
        assert_eq!(&out[..], *m);
    }
}

#[test]
fn roundtrips_with_and_without_context() {
    let text = b"Hello, hello, hello, compression world! ".repeat(50);
    let msgs: Vec<&[u8]> = vec![&text, b"", b"x", &text, &[0u8; 100_000]];
    for reset in [false, true] {
        for bits in [9, 12, 15] {
            roundtrip(&msgs, reset, bits);
        }
    }
}

#[test]
fn context_takeover_shrinks_repeats() {
    let text = b"a fairly unique sentence that will repeat exactly once more".repeat(2);
    let mut keep = Compressor::new(6, 15, false);
    let mut reset = Compressor::new(6, 15, true);
    let (k1, r1) = (keep.compress(&text), reset.compress(&text));
    let (k2, r2) = (keep.compress(&text), reset.compress(&text));
    assert_eq!(k1.len(), r1.len());
    assert!(k2.len() < r2.len(), "the second message should refer back to the first");
}

#[test]
fn inflation_stops_at_the_limit() {
    let bomb = Compressor::new(9, 15, false).compress(&vec![0u8; 10 << 20]);
    assert!(bomb.len() < 20_000);
    let mut d = Decompressor::new(false);
    let mut out = BytesMut::new();
    assert_eq!(d.inflate(&bomb, &mut out, 1 << 20), Err(InflateError::TooLarge(1 << 20)));
    // What would pass the limit is refused, not appended.
    assert!(out.len() <= 1 << 20, "{}", out.len());
    assert!(out.capacity() <= 1 << 20, "{}", out.capacity());
}

/// A message inflating to just over half the limit, or to the limit and
/// past it, never leaves its buffer's storage above the limit: growth by
/// doubling is capped there, and what would pass it is never taken in.
#[test]
fn the_inflated_message_never_holds_storage_past_the_limit() {
    let limit = 1 << 20;
    for size in [limit / 2 + 1, limit - 1, limit, 10 << 20] {
        let z = Compressor::new(9, 15, false).compress(&vec![0u8; size]);
        let mut d = Decompressor::new(false);
        let mut out = BytesMut::new();
        let _ = d.inflate(&z, &mut out, limit).and_then(|()| d.finish(&mut out, limit));
        if size <= limit {
            assert_eq!(out.len(), size);
        } else {
            assert!(out.len() <= limit, "{size}: {} octets kept", out.len());
        }
        assert!(out.capacity() <= limit, "{size}: {} octets held", out.capacity());
    }
}

/// RFC 7692 §7.2.3.4's example: "Hello" in a block with BFINAL set,
/// then the `00` octet that lets the usual tail complete a stored block.
const HELLO_FINAL: [u8; 8] = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];

fn message(d: &mut Decompressor, frames: &[&[u8]]) -> Result<BytesMut, InflateError> {
    let mut out = BytesMut::new();
    for f in frames {
        d.inflate(f, &mut out, 1 << 20)?;
    }
    d.finish(&mut out, 1 << 20)?;
    Ok(out)
}

#[test]
fn a_final_block_ends_the_stream_and_the_next_message_starts_a_new_one() {
    for reset in [false, true] {
        let mut d = Decompressor::new(reset);
        assert_eq!(&message(&mut d, &[&HELLO_FINAL]).unwrap()[..], b"Hello");
        // The peer's next message is a fresh raw-deflate stream, sync-flushed.
        let world = Compressor::new(6, 15, true).compress(b"World");
        assert_eq!(&message(&mut d, &[&world]).unwrap()[..], b"World");
        // A final block split across frames, padding in a frame of its own.
        assert_eq!(
            &message(&mut d, &[&HELLO_FINAL[..3], &HELLO_FINAL[3..7], &HELLO_FINAL[7..]]).unwrap()[..],
            b"Hello"
        );
        // Without the padding octet the message is still unambiguous.
        assert_eq!(&message(&mut d, &[&HELLO_FINAL[..7]]).unwrap()[..], b"Hello");
        assert_eq!(&message(&mut d, &[&HELLO_FINAL]).unwrap()[..], b"Hello");
    }
}

#[test]
fn data_after_a_final_block_is_corrupt() {
    let mut d = Decompressor::new(false);
    let mut two = HELLO_FINAL[..7].to_vec();
    two.extend_from_slice(&HELLO_FINAL[..7]);
    assert!(matches!(message(&mut d, &[&two]), Err(InflateError::Corrupt(_))));
    let mut d = Decompressor::new(false);
    assert!(matches!(message(&mut d, &[&HELLO_FINAL, &[0x00]]), Err(InflateError::Corrupt(_))));
}

#[test]
fn garbage_is_corrupt() {
    let mut d = Decompressor::new(false);
    let mut out = BytesMut::new();
    assert!(matches!(d.inflate(&[0xff; 32], &mut out, 1 << 20), Err(InflateError::Corrupt(_))));
}

/// A small deterministic generator for the lending tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One direction of one connection: the sender's compressor, the
/// receiver's decompressor, what was sent so far, and a message being
/// inflated frame by frame.
struct Link {
    c: Compressor,
    d: Decompressor,
    sent: Vec<Vec<u8>>,
    pending: Option<(Vec<u8>, Vec<Bytes>, BytesMut)>,
}

/// A message that repeats parts of earlier ones, near and far back, so
/// that it only inflates right with the context restored.
fn next_message(rng: &mut Rng, sent: &[Vec<u8>]) -> Vec<u8> {
    let len = [0, 1, 40, 700, 3000, 9000, 40_000][rng.below(7)];
    let mut m = Vec::with_capacity(len);
    while m.len() < len {
        if !sent.is_empty() && rng.below(3) > 0 {
            let old = &sent[sent.len() - 1 - rng.below(sent.len().min(4))];
            if !old.is_empty() {
                let at = rng.below(old.len());
                let n = (old.len() - at).min(len - m.len()).min(300);
                m.extend_from_slice(&old[at..at + n]);
                continue;
            }
        }
        let word = format!("{{\"id\":{},\"v\":\"{}\"}},", rng.below(1000), rng.below(50));
        m.extend_from_slice(word.as_bytes());
    }
    m.truncate(len);
    m
}

/// Many connections on one thread, messages interleaved frame by frame:
/// each borrows the thread's streams in turn (and finds them used by
/// another connection most of the time), whatever mix of window sizes,
/// levels, context takeover and kept state the connections have.
#[test]
fn connections_sharing_a_threads_streams_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut links: Vec<Link> = (0..8)
        .map(|i| {
            let bits = [9, 12, 15, 10][i % 4];
            let reset = i == 5;
            // The sender keeps its state on some links, as a peer that is
            // not us would: our decompressor must not care.
            let c = Compressor::new([1, 6, 9][i % 3], bits, reset).keep_state(i % 3 == 1);
            let d = Decompressor::new(reset).peer_window_bits(bits).keep_state(i == 7);
            Link { c, d, sent: Vec::new(), pending: None }
        })
        .collect();
    for _ in 0..4000 {
        let l = &mut links[rng.below(8)];
        if l.pending.is_none() {
            let m = next_message(&mut rng, &l.sent);
            let z = l.c.compress(&m);
            let frame = (z.len() / (1 + rng.below(8))).max(1);
            let frames = z.chunks(frame).map(Bytes::copy_from_slice).rev().collect();
            l.pending = Some((m, frames, BytesMut::new()));
        }
        // One frame of this link's message, then another link may go.
        let (m, frames, out) = l.pending.as_mut().unwrap();
        match frames.pop() {
            Some(f) => l.d.inflate(&f, out, 1 << 20).unwrap(),
            None => {
                l.d.finish(out, 1 << 20).unwrap();
                assert_eq!(&out[..], &m[..]);
                let (m, _, _) = l.pending.take().unwrap();
                l.sent.push(m);
            }
        }
    }
    let done: Vec<usize> = links.iter().map(|l| l.sent.len()).collect();
    assert!(done.iter().all(|&n| n > 10), "every link should have finished messages: {done:?}");
}

/// A compressor whose thread stream another connection used in between
/// is primed with its own window again: a repeat still shrinks to a
/// back-reference.
#[test]
fn a_borrowed_stream_keeps_the_context() {
    let record = b"{\"id\":1234,\"name\":\"Margaret\",\"city\":\"Genova\",\"tags\":[\"t1\",\"t2\"]}".repeat(4);
    let mut ours = Compressor::new(6, 12, false);
    let mut other = Compressor::new(6, 12, false);
    let first = ours.compress(&record);
    other.compress(b"something else entirely, to take the thread's stream");
    let again = ours.compress(&record);
    assert!(again.len() < first.len() / 4, "{} octets the second time vs {}", again.len(), first.len());
    assert!(ours.held.is_none(), "the stream goes back to the thread");
}

/// Between messages a connection keeps only what was exchanged (up to the
/// window), not a zlib stream.
#[test]
fn a_waiting_connection_holds_only_its_windows() {
    let mut c = Compressor::new(6, 12, false);
    let mut d = Decompressor::new(false);
    let mut out = BytesMut::new();
    d.inflate(&c.compress(&[b'a'; 64]), &mut out, 1 << 20).unwrap();
    d.finish(&mut out, 1 << 20).unwrap();
    assert!(c.held.is_none() && d.inner.is_none());
    assert!(c.history.capacity() <= 64 && d.history.capacity() <= 64);
    let big = vec![7u8; 100_000];
    let mut out = BytesMut::new();
    d.inflate(&c.compress(&big), &mut out, 1 << 20).unwrap();
    d.finish(&mut out, 1 << 20).unwrap();
    assert_eq!((c.history.capacity(), d.history.capacity()), (1 << 11, 1 << 15));
    // No context either way: nothing at all.
    let (mut c, mut d) = (Compressor::new(6, 15, true), Decompressor::new(true));
    d.inflate(&c.compress(&big), &mut BytesMut::new(), 1 << 20).unwrap();
    assert_eq!((c.history.capacity(), d.history.capacity()), (0, 0));
}

/// A connection's task moves between worker threads: a stream it gave back
/// on one thread still waits there while the connection carries on on
/// another. Back on the first, it must not take that older stream as its
/// own. Checked against a peer whose streams never move.
#[test]
fn a_connection_moving_between_threads_never_takes_an_older_stream() {
    use std::sync::mpsc;
    type Job = Box<dyn FnOnce() + Send>;
    let workers: Vec<mpsc::Sender<Job>> = (0..2)
        .map(|_| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::spawn(move || rx.into_iter().for_each(|job| job()));
            tx
        })
        .collect();
    let (mut ours_c, mut ours_d) = (Compressor::new(6, 12, false), Decompressor::new(false).peer_window_bits(12));
    let mut their_c = Compressor::new(6, 12, false).keep_state(true);
    let mut their_d = Decompressor::new(false).keep_state(true);
    let mut rng = Rng(0x0dd_ba11);
    let mut sent: Vec<Vec<u8>> = Vec::new();
    for i in 0..60 {
        let m = next_message(&mut rng, &sent);
        let from_them = their_c.compress(&m);
        let (tx, rx) = mpsc::channel();
        let job_m = m.clone();
        // A, B, A, A, B, B, ...: each thread's spare is often an older one of ours.
        workers[[0, 1, 0, 0, 1, 1][i % 6]]
            .send(Box::new(move || {
                let to_them = ours_c.compress(&job_m);
                let mut inflated = BytesMut::new();
                let read = ours_d
                    .inflate(&from_them, &mut inflated, 1 << 20)
                    .and_then(|()| ours_d.finish(&mut inflated, 1 << 20));
                tx.send((ours_c, ours_d, to_them, read.map(|()| inflated))).unwrap();
            }))
            .unwrap();
        let (c, d, to_them, inflated) = rx.recv().unwrap();
        (ours_c, ours_d) = (c, d);
        let inflated = inflated.map(|b| b.to_vec());
        assert!(inflated.as_ref() == Ok(&m), "our inflater, message {i}: {:?}", inflated.map(|b| b.len()));
        let mut out = BytesMut::new();
        their_d.inflate(&to_them, &mut out, 1 << 20).unwrap();
        their_d.finish(&mut out, 1 << 20).unwrap();
        assert!(out[..] == m[..], "our compressor, message {i}: {} octets inflated, {} sent", out.len(), m.len());
        sent.push(m);
    }
}

/// A peer that agreed to a 9-bit window but compresses with 15 bits:
/// whether its message refers back past the window into the previous
/// message gets one answer, refused, whether the thread's inflater was
/// left alone since that message or another connection used it in
/// between (it was read in the first case and refused in the second).
/// References inside the message itself, up to 32 KiB back, are read.
#[test]
fn over_reaching_the_agreed_window_is_refused_whoever_used_the_thread() {
    let first: Vec<u8> = {
        let mut rng = Rng(7);
        (0..4096).map(|_| rng.below(256) as u8).collect()
    };
    // 3,000 octets back: past 512, inside 32 KiB.
    let reach_back = first[1000..1600].to_vec();
    // Within one message: a 600-octet run, then the same run again.
    let mut own = reach_back.clone();
    own.extend_from_slice(&reach_back);
    for other_in_between in [false, true] {
        let mut theirs = Compressor::new(6, 15, false);
        let mut ours = Decompressor::new(false).peer_window_bits(9);
        let mut out = BytesMut::new();
        ours.inflate(&theirs.compress(&first), &mut out, 1 << 20).unwrap();
        ours.finish(&mut out, 1 << 20).unwrap();
        assert_eq!(&out[..], &first[..]);
        if other_in_between {
            let mut other = Decompressor::new(false);
            let mut o = BytesMut::new();
            other.inflate(&Compressor::new(6, 15, false).compress(b"another connection"), &mut o, 1 << 20).unwrap();
            other.finish(&mut o, 1 << 20).unwrap();
        }
        let mut out = BytesMut::new();
        let reaching = theirs.compress(&reach_back);
        let refused = ours.inflate(&reaching, &mut out, 1 << 20).and_then(|()| ours.finish(&mut out, 1 << 20));
        assert!(matches!(refused, Err(InflateError::Corrupt(_))), "other in between {other_in_between}: {refused:?}");
        // A fresh peer and connection: a message that repeats itself 600 octets back.
        let mut ours = Decompressor::new(false).peer_window_bits(9);
        let mut out = BytesMut::new();
        ours.inflate(&Compressor::new(6, 15, false).compress(&own), &mut out, 1 << 20).unwrap();
        ours.finish(&mut out, 1 << 20).unwrap();
        assert_eq!(&out[..], &own[..]);
    }
}
