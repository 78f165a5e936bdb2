//! Compressing and inflating messages (RFC 7692 §7.2), with inflation
//! bounded by the message size limit.

use bytes::{Bytes, BytesMut};
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

use super::History;
use super::streams::{self, Ticket};
use crate::proto::growth::grow_within;

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
/// output) is borrowed from the thread for each message and given back
/// after it (each thread keeps one spare); between messages the compressor
/// keeps only the newest half of the window its context takeover refers to
/// (at most 2^(window_bits − 1) octets), which primes a stream that another
/// connection used meanwhile. [`keep_state`](Self::keep_state) keeps the
/// whole state instead, which saves rebuilding it when another connection
/// used the thread's stream in between.
pub struct Compressor {
    /// The stream kept between messages, with [`keep_state`](Self::keep_state) only.
    held: Option<Box<Compress>>,
    keep_state: bool,
    /// The uncompressed octets the next message may refer back to (empty
    /// without context takeover or with `keep_state`).
    history: History,
    ticket: Ticket,
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
        let window_bits = window_bits.clamp(9, 15);
        Self {
            held: None,
            keep_state: false,
            // The newer half of the window: priming with it costs ~4 µs less
            // than with all of it (no window slide straight after) and loses
            // ~3% of ratio on JSON-like text (measured at 1 KiB and 4 KiB).
            history: History::new(1 << (window_bits - 1)),
            ticket: Ticket::new(),
            level: level.min(9),
            window_bits,
            reset_each_message,
        }
    }

    /// Keeps this compressor's zlib state between messages instead of its
    /// window alone: ~180 KiB per connection for ~6 µs less per small message
    /// (the cost of priming a stream with a 2 KiB window). Default false.
    #[must_use]
    pub fn keep_state(mut self, keep: bool) -> Self {
        self.keep_state = keep;
        self
    }

    /// Compresses one whole message (RFC 7692 §7.2.1): deflate, sync flush,
    /// strip the trailing `00 00 ff ff`.
    pub fn compress(&mut self, data: &[u8]) -> Bytes {
        let (level, bits) = (self.level, self.window_bits);
        let mut stream = match self.held.take() {
            Some(stream) => stream,
            None => {
                let (mut stream, intact) = streams::borrow_deflate(self.ticket, level, bits);
                if !intact && !self.history.is_empty() {
                    // RFC 7692 §7.2.3: with context takeover the message may
                    // refer to earlier ones. Should priming fail, the stream
                    // merely refers to nothing before this message: still valid.
                    let _ = stream.set_dictionary(self.history.make_contiguous());
                }
                stream
            }
        };
        let out = deflate_sync(&mut stream, data);
        let keeps_context = !self.reset_each_message;
        if keeps_context && self.keep_state {
            self.held = Some(stream);
        } else {
            if keeps_context {
                self.history.push(data);
            }
            streams::return_deflate(stream, self.ticket.after_message(keeps_context), level, bits);
        }
        Bytes::from(out)
    }
}

/// Deflates all of `data` with a sync flush and strips the flush's tail.
fn deflate_sync(stream: &mut Compress, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    let start_in = stream.total_in();
    loop {
        let consumed = (stream.total_in() - start_in) as usize;
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(1024));
        }
        // Errors only arise from misuse of the stream, which this type prevents.
        let _ = stream.compress_vec(&data[consumed..], &mut out, FlushCompress::Sync);
        let done = (stream.total_in() - start_in) as usize == data.len();
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
    out
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
/// The zlib state (a 32 KiB window and about 7 KiB besides) is borrowed
/// from the thread at the start of each compressed message and given back
/// at its end, as [`Compressor`]'s is; between messages the decompressor
/// keeps only what the peer's next message may refer back to (at most
/// 2^window_bits octets of what it inflated), and nothing when the peer
/// resets its context after every message.
pub struct Decompressor {
    /// The stream of the message being inflated (and, with
    /// [`keep_state`](Self::keep_state), between messages too).
    inner: Option<Box<Decompress>>,
    keep_state: bool,
    /// What the peer's compressor may refer back to: the newest inflated octets.
    history: History,
    ticket: Ticket,
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
    /// A raw-deflate decompressor. Its stream always has a 15-bit window,
    /// which reads data compressed with any smaller one.
    #[must_use]
    pub fn new(reset_each_message: bool) -> Self {
        Self {
            inner: None,
            keep_state: false,
            history: History::new(1 << 15),
            ticket: Ticket::new(),
            reset_each_message,
            after_final: AfterFinal::No,
        }
    }

    /// The window (8–15 bits) the peer compresses with, as agreed: only that
    /// much of what it sent is kept between messages, and a message that
    /// refers further back into earlier ones is refused (as corrupt). Within
    /// a message, references up to 32 KiB back are read. With
    /// [`keep_state`](Self::keep_state) the stream keeps 32 KiB across
    /// messages too, and so reads such references. Default 15.
    #[must_use]
    pub fn peer_window_bits(mut self, bits: u8) -> Self {
        // zlib compresses with 9 bits when asked for 8; keeping 9 costs nothing.
        self.history = History::new(1 << bits.clamp(9, 15));
        self
    }

    /// Keeps the zlib state between messages instead of the window alone
    /// (~40 KiB per connection for ~1 µs less per message). Default false.
    #[must_use]
    pub fn keep_state(mut self, keep: bool) -> Self {
        self.keep_state = keep;
        self
    }

    /// The stream for a message that starts now, primed with what the
    /// peer's compressor may still refer to.
    fn stream(&mut self) -> Result<Box<Decompress>, InflateError> {
        if let Some(stream) = self.inner.take() {
            return Ok(stream);
        }
        let (mut stream, intact) = streams::borrow_inflate(self.ticket);
        if !intact && !self.history.is_empty() {
            // RFC 7692 §7.2.3: the message may refer back into earlier ones;
            // without them it cannot be read.
            stream
                .set_dictionary(self.history.make_contiguous())
                .map_err(|e| InflateError::Corrupt(format!("cannot restore the inflate window: {e}")))?;
        }
        Ok(stream)
    }

    /// Whether inflated octets must be kept for the next message.
    fn tracks_history(&self) -> bool {
        !self.reset_each_message && !self.keep_state
    }

    /// Inflates `input` (one frame's payload of a compressed message),
    /// appending to `out`, which may hold at most `limit` octets. Stops at
    /// once, having produced at most the limit, when the message is larger.
    pub fn inflate(&mut self, input: &[u8], out: &mut BytesMut, limit: usize) -> Result<(), InflateError> {
        if self.after_final != AfterFinal::No {
            return self.after_final_block(input);
        }
        let stream = self.stream()?;
        let track = self.tracks_history();
        let inner = self.inner.insert(stream);
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
            // Uninitialised room: inflate writes what it produces, nothing
            // is zeroed first. Exactly `room` of it, since inflate fills all
            // the spare capacity it finds: a chunk grown by earlier steps is
            // replaced when the room shrinks near the limit, so that no
            // more than one octet past the limit is ever taken in (and
            // `out` never grows past it).
            if chunk.capacity() > room {
                chunk = Vec::with_capacity(room);
            } else {
                chunk.clear();
                chunk.reserve_exact(room);
            }
            let out_start = inner.total_out();
            let status = inner
                .decompress_vec(&input[consumed..], &mut chunk, FlushDecompress::Sync)
                .map_err(|e| InflateError::Corrupt(e.to_string()))?;
            let produced = (inner.total_out() - out_start) as usize;
            // Past the limit: refused before `out` takes any of it, which
            // would mean storage for more than the limit (and, growing to
            // it, a copy beside the old storage: twice the limit at once).
            if out.len() + produced > limit {
                return Err(InflateError::TooLarge(limit));
            }
            grow_within(out, produced, limit);
            out.extend_from_slice(&chunk[..produced]);
            if track {
                self.history.push(&chunk[..produced]);
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
            self.history.clear();
            if let Some(stream) = self.inner.take() {
                streams::return_inflate(stream, Ticket::NOBODY);
            }
            return Ok(());
        }
        self.inflate(&TAIL, out, limit)?;
        if self.keep_state && !self.reset_each_message {
            return Ok(());
        }
        if let Some(stream) = self.inner.take() {
            // A stream is taken back as it is only with the full window: it
            // remembers 32 KiB, and a peer that agreed to a smaller window
            // but refers further back into earlier messages would be read
            // while the stream stayed on this thread and refused once
            // another connection had used it. Restored from the agreed
            // window every time, such a message is refused every time
            // (RFC 7692 §7.1.2: distances stay within the agreed window).
            let full_window = self.history.window() >= 1 << 15;
            streams::return_inflate(stream, self.ticket.after_message(!self.reset_each_message && full_window));
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
#[path = "codec_tests.rs"]
mod tests;
