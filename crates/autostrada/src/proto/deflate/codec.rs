//! Compressing and inflating messages (RFC 7692 §7.2), with inflation
//! bounded by the message size limit.

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// RFC 7692 §7.2.1: a sync-flushed message ends in these octets, which are
/// stripped before sending and appended again before inflating.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Output grows by at most this much per step, so a small input cannot
/// make one allocation larger than the limit allows.
const STEP: usize = 64 * 1024;

/// Compresses outgoing messages.
///
/// The zlib state (about 180 KiB at a 12-bit window, 300 KiB at 15: the
/// window and its hash chains, zlib-rs's fixed 128 KiB hash table, pending
/// output) is made on the first message. Without context
/// takeover it is dropped after every message, so a connection that waits
/// holds none; each message then pays for a fresh state.
pub struct Compressor {
    /// Boxed: flate2's stream struct is ~150 octets, kept out of every
    /// connection's state until compression is in use.
    inner: Option<Box<Compress>>,
    level: u32,
    window_bits: u8,
    reset_each_message: bool,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").field("reset_each_message", &self.reset_each_message).finish_non_exhaustive()
    }
}

impl Compressor {
    /// A raw-deflate compressor with `window_bits` (9–15; clamped) and `level` (0–9).
    #[must_use]
    pub fn new(level: u32, window_bits: u8, reset_each_message: bool) -> Self {
        Self { inner: None, level: level.min(9), window_bits: window_bits.clamp(9, 15), reset_each_message }
    }

    /// Compresses one whole message (RFC 7692 §7.2.1): deflate, sync flush,
    /// strip the trailing `00 00 ff ff`.
    pub fn compress(&mut self, data: &[u8]) -> Bytes {
        let (level, bits) = (self.level, self.window_bits);
        let inner = self
            .inner
            .get_or_insert_with(|| Box::new(Compress::new_with_window_bits(Compression::new(level), false, bits)));
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start_in = inner.total_in();
        loop {
            let consumed = (inner.total_in() - start_in) as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            // Errors only arise from misuse of the stream, which this type prevents.
            let _ = inner.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync);
            let done = (inner.total_in() - start_in) as usize == data.len();
            // A sync flush is complete once it left spare room in the output.
            if done && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        // A flush with nothing new to flush may emit nothing at all; the
        // peer still needs a block to end the message on (RFC 7692 §7.2.3.6:
        // an empty stored block, a single 0x00 once the tail is stripped).
        if out.is_empty() {
            out.push(0x00);
        }
        if self.reset_each_message {
            // No context to keep: let the zlib state go until the next message.
            self.inner = None;
        }
        Bytes::from(out)
    }
}

/// Why a compressed message could not be inflated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InflateError {
    /// It inflates past the size limit (close with 1009).
    TooLarge(usize),
    /// It is not valid deflate data (close with 1007).
    Corrupt(String),
}

impl std::fmt::Display for InflateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge(max) => write!(f, "compressed message inflates past the limit of {max} octets"),
            Self::Corrupt(e) => write!(f, "compressed message is not valid deflate data: {e}"),
        }
    }
}

impl std::error::Error for InflateError {}

/// Inflates incoming messages, never past a limit.
///
/// The zlib state (a 32 KiB window and about 7 KiB besides) is made on the
/// first compressed message and, when the peer resets its context after
/// every message, dropped after each one.
pub struct Decompressor {
    /// Boxed, as [`Compressor`]'s.
    inner: Option<Box<Decompress>>,
    reset_each_message: bool,
    /// Where the current message stands after a DEFLATE block with BFINAL
    /// set (RFC 7692 §7.2.3.4).
    after_final: AfterFinal,
}

/// What has been seen of a message since its deflate stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFinal {
    /// The stream has not ended in this message.
    No,
    /// It ended; nothing followed yet.
    Ended,
    /// It ended and the single `00` octet RFC 7692 §7.2.3.4 puts after the
    /// final block followed.
    Padded,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor").field("reset_each_message", &self.reset_each_message).finish_non_exhaustive()
    }
}

impl Decompressor {
    /// A raw-deflate decompressor. It always keeps a 15-bit window, which
    /// reads data compressed with any smaller one.
    #[must_use]
    pub fn new(reset_each_message: bool) -> Self {
        Self { inner: None, reset_each_message, after_final: AfterFinal::No }
    }

    /// Inflates `input` (one frame's payload of a compressed message),
    /// appending to `out`, which may hold at most `limit` octets. Stops at
    /// once, having produced at most the limit, when the message is larger.
    pub fn inflate(&mut self, input: &[u8], out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        if self.after_final != AfterFinal::No {
            return self.after_final_block(input);
        }
        let inner = self.inner.get_or_insert_with(|| Box::new(Decompress::new_with_window_bits(false, 15)));
        let start_in = inner.total_in();
        // Start near what the input is likely to give and double while the
        // output keeps filling the chunk.
        let mut step = input.len().saturating_mul(4).clamp(1024, STEP);
        let mut chunk = Vec::new();
        loop {
            let consumed = (inner.total_in() - start_in) as usize;
            // Room for at most one octet past the limit: enough to notice it
            // (`usize::MAX` is "no limit" and must not wrap to none).
            let room = limit.saturating_add(1).saturating_sub(out.len()).min(step);
            if room == 0 {
                return Err(InflateError::TooLarge(limit));
            }
            let before = out.len();
            // Uninitialised room: inflate writes what it produces, nothing is zeroed first.
            chunk.clear();
            chunk.reserve_exact(room);
            let out_start = inner.total_out();
            let status = inner
                .decompress_vec(&input[consumed..], &mut chunk, FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let produced = (inner.total_out() - out_start) as usize;
            out.extend_from_slice(&chunk[..produced]);
            if out.len() > limit {
                out.truncate(limit);
                return Err(InflateError::TooLarge(limit));
            }
            let all_in = (inner.total_in() - start_in) as usize == input.len();
            match status {
                // RFC 7692 §7.2.3.4: a sender may end a message with a final
                // block. Its stream is over: the next message starts a new
                // one (see `finish`), and only the padding may follow here.
                Status::StreamEnd => {
                    self.after_final = AfterFinal::Ended;
                    let rest = (inner.total_in() - start_in) as usize;
                    return self.after_final_block(&input[rest..]);
                }
                _ if all_in && produced < room => return Ok(()),
                Status::BufError if produced == 0 && out.len() == before && all_in => return Ok(()),
                _ => step = (step * 2).min(STEP),
            }
        }
    }

    /// Ends a message: inflates the stripped tail (RFC 7692 §7.2.2) and
    /// resets the window if the peer does not keep its context.
    pub fn finish(&mut self, out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        if self.after_final != AfterFinal::No {
            // The stream ended inside this message: the tail would only
            // complete the empty stored block the padding began. Whatever
            // the context-takeover mode, the peer's next message is a new
            // stream, so the next one is read from a fresh state.
            self.after_final = AfterFinal::No;
            self.inner = None;
            return Ok(());
        }
        self.inflate(&TAIL, out, limit)?;
        if self.reset_each_message {
            // No context to keep: let the zlib state go until the next message.
            self.inner = None;
        }
        Ok(())
    }

    /// Checks what a message carries after its final block: nothing, or
    /// the one `00` octet of padding. Anything else cannot be valid (a
    /// second stream inside one message would be read as garbage, or lost).
    fn after_final_block(&mut self, rest: &[u8]) -> Result<(), InflateError> {
        for &octet in rest {
            self.after_final = match (self.after_final, octet) {
                (AfterFinal::Ended, 0x00) => AfterFinal::Padded,
                _ => {
                    return Err(InflateError::Corrupt(
                        "data follows the final deflate block of the message (RFC 7692 §7.2.3.4 allows one 00 octet)"
                            .into(),
                    ));
                }
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
        assert_eq!(out.len(), 1 << 20);
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
}
