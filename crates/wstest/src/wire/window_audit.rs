//! Which back-references of a peer's compressed message the reference's
//! inflater would refuse, when the agreed window is smaller than 32 KiB.
//!
//! RFC 7692 §7.1.2.1 / §7.1.2.2: a peer that agreed to `*_max_window_bits=N`
//! must not refer back more than 2^N octets. The reference inflates with
//! zlib opened for exactly that window and hands it each read's share of a
//! frame's payload (the whole frame, when it came in one read) in one
//! `decompress` call, whose output buffer starts at 16 KiB and doubles
//! whenever it fills; we inflate in the same calls
//! (`incoming/compressed.rs`). zlib resolves a back-reference from the output of the
//! current `inflate()` call plus the last 2^N octets of what came before it;
//! anything further back is "invalid distance too far back", and the
//! reference's connection dies with it. So a peer that ignores the window
//! passes while its messages fit in one output buffer and fails once a
//! reference crosses a buffer boundary (rows of 32 KiB and more in 13.x),
//! or a read boundary (a frame trickled in small writes).
//!
//! zlib-rs keeps a 32 KiB window whatever it is told, so our main inflater
//! cannot say this. [`WindowAudit`] replays each call with `miniz_oxide` on
//! an explicit output buffer: the stream's last 32 KiB of true output, with
//! every octet older than zlib's window at that call's start inverted, then
//! room for the chunk. A reference the reference's zlib would refuse reads
//! an inverted octet, so the replayed chunk differs from the true output;
//! every allowed reference reads true octets, so it matches.

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// The largest distance deflate can express (RFC 1951 §3.2.5).
const DEFLATE_WINDOW: usize = 32 * 1024;

/// The reference's first output buffer per `decompress` call (Python 2.7's
/// zlib module starts at 16 KiB and doubles it while inflate fills it).
const FIRST_CHUNK: usize = 16 * 1024;

/// Replays the reference's inflate calls for one direction of a
/// connection whose agreed window is below 32 KiB.
pub struct WindowAudit {
    state: Box<DecompressorOxide>,
    /// zlib's window: 2^bits octets.
    window: usize,
    /// The stream's last (up to) 32 KiB of true output.
    history: Vec<u8>,
    /// Octets the stream has put out since it (re)started.
    total: usize,
    /// Compressed octets handed over but not yet taken by the replay.
    pending: Vec<u8>,
    /// The replay's output buffer: poisoned history, then the chunk.
    buf: Vec<u8>,
    /// `buf` still holds the poisoned history of the stream as it stands:
    /// the last call put nothing out, so neither the history nor the
    /// window changed (a peer sending empty blocks one per frame would
    /// otherwise cost a rebuild of up to 48 KiB per frame).
    built: bool,
    /// Times the history was laid out in `buf`.
    #[cfg(test)]
    rebuilds: usize,
}

impl std::fmt::Debug for WindowAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WindowAudit").field("window", &self.window).finish_non_exhaustive()
    }
}

impl WindowAudit {
    /// An audit for a `bits`-bit window (8–15), or `None` when the window
    /// is the full 32 KiB (15, or 0 for "none agreed"): then no valid
    /// distance can be too far.
    #[must_use]
    pub fn new(bits: u8) -> Option<Self> {
        let window = if bits == 0 { DEFLATE_WINDOW } else { 1usize << bits.clamp(8, 15) };
        (window < DEFLATE_WINDOW).then(|| Self {
            state: Box::default(),
            window,
            history: Vec::new(),
            total: 0,
            pending: Vec::new(),
            buf: Vec::new(),
            built: false,
            #[cfg(test)]
            rebuilds: 0,
        })
    }

    /// Starts a new stream: the reference opens a fresh inflater for each
    /// message when the peer does not keep its context (with context
    /// takeover it keeps one for the connection, and so do we).
    pub fn restart(&mut self) {
        self.state.init();
        self.history.clear();
        self.total = 0;
        self.pending.clear();
        self.built = false;
    }

    /// Replays one `decompress` call: `data` went in, `truth` is what the
    /// true inflater put out for it.
    ///
    /// # Errors
    /// A back-reference beyond the agreed window, as the reference's zlib
    /// would report it; or data the replay cannot decode at all.
    pub fn check(&mut self, data: &[u8], truth: &[u8]) -> Result<(), String> {
        self.pending.extend_from_slice(data);
        let mut done = 0;
        let mut room = FIRST_CHUNK;
        loop {
            let prefix = self.history.len();
            if !self.built {
                // zlib's window at the start of this inflate() call.
                let valid = self.window.min(self.total);
                self.buf.clear();
                self.buf.extend_from_slice(&self.history);
                for b in &mut self.buf[..prefix - valid.min(prefix)] {
                    *b = !*b;
                }
                #[cfg(test)]
                {
                    self.rebuilds += 1;
                }
            }
            // The chunk's room: zeros after a rebuild; otherwise as the last
            // call left it, with nothing written (decompress writes only
            // what it puts out), and the room of a call that put nothing
            // out is the first one's, as here.
            self.buf.resize(prefix + room, 0);
            let flags =
                inflate_flags::TINFL_FLAG_HAS_MORE_INPUT | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
            let (status, taken, written) = decompress(&mut self.state, &self.pending, &mut self.buf, prefix, flags);
            self.built = written == 0;
            self.pending.drain(..taken.min(self.pending.len()));
            let out = &self.buf[prefix..prefix + written];
            let expected = truth.get(done..done + written);
            if expected != Some(out) {
                let at = expected.map_or(truth.len(), |e| e.iter().zip(out).take_while(|(a, b)| a == b).count());
                return Err(format!(
                    "the peer's compressed data refers back past the agreed {}-octet window (at octet {} of its \
                     inflate output), which the reference's zlib refuses: invalid distance too far back",
                    self.window,
                    self.total + at,
                ));
            }
            self.remember(done, written, truth);
            done += written;
            match status {
                // The buffer filled: the reference doubles it and calls again.
                TINFLStatus::HasMoreOutput => room = done.max(FIRST_CHUNK),
                TINFLStatus::NeedsMoreInput | TINFLStatus::Done => return Ok(()),
                other => return Err(format!("the peer's compressed data is invalid ({other:?})")),
            }
        }
    }

    /// Keeps the last 32 KiB of output as the next call's history.
    fn remember(&mut self, from: usize, len: usize, truth: &[u8]) {
        self.history.extend_from_slice(&truth[from..from + len]);
        let excess = self.history.len().saturating_sub(DEFLATE_WINDOW);
        self.history.drain(..excess);
        self.total += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    /// JSON-like text whose repeats lie kilobytes apart.
    fn records(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut x: u32 = 7;
        while out.len() < len {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let rec = format!("{{\"id\":{},\"user\":\"u{}\",\"tag\":\"t{}\"}},", x % 997, (x >> 8) % 61, (x >> 3) % 5);
            out.extend_from_slice(rec.as_bytes());
        }
        out.truncate(len);
        out
    }

    fn deflate(data: &[u8], bits: u8) -> Vec<u8> {
        let mut c = Compress::new_with_window_bits(Compression::new(6), false, bits);
        let mut out = Vec::with_capacity(data.len() + 1024);
        c.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        out
    }

    #[test]
    fn a_full_window_needs_no_audit() {
        assert!(WindowAudit::new(15).is_none());
        assert!(WindowAudit::new(0).is_none(), "0 means no window was agreed: the default 15");
        assert!(WindowAudit::new(9).is_some());
    }

    #[test]
    fn references_within_one_output_buffer_pass_as_they_do_in_zlib() {
        // 16 KiB inflates in the reference's first buffer: every distance
        // resolves from that call's own output, whatever the window.
        let data = records(16 * 1024);
        let mut audit = WindowAudit::new(9).unwrap();
        audit.check(&deflate(&data, 15), &data).unwrap();
    }

    #[test]
    fn a_reference_across_a_buffer_boundary_past_the_window_fails() {
        let data = records(32 * 1024);
        let mut audit = WindowAudit::new(9).unwrap();
        let err = audit.check(&deflate(&data, 15), &data).unwrap_err();
        assert!(err.contains("512-octet window"), "{err}");
    }

    #[test]
    fn a_peer_that_keeps_to_the_window_passes_at_any_size() {
        for bits in [9, 10, 12] {
            let data = records(100 * 1024);
            let mut audit = WindowAudit::new(bits).unwrap();
            audit.check(&deflate(&data, bits), &data).unwrap();
        }
    }

    #[test]
    fn empty_blocks_one_per_call_do_not_rebuild_the_history() {
        // A message, then 100k frames each holding an empty stored block
        // (five octets, nothing out), then a message that refers back into
        // the first one, kilobytes away: past a 512-octet window, within a
        // 4 KiB one. Each message fits one output buffer.
        let data = records(16 * 1024);
        let mut c = Compress::new_with_window_bits(Compression::new(6), false, 12);
        let mut part = |d: &[u8]| {
            let mut out = Vec::with_capacity(d.len() + 1024);
            c.compress_vec(d, &mut out, FlushCompress::Sync).unwrap();
            out
        };
        let (first, second) = (part(&data[..8 * 1024]), part(&data[8 * 1024..]));
        for (bits, passes) in [(12, true), (9, false)] {
            let mut audit = WindowAudit::new(bits).unwrap();
            audit.check(&first, &data[..8 * 1024]).unwrap();
            let before = audit.rebuilds;
            for _ in 0..100_000 {
                audit.check(&[0x00, 0x00, 0x00, 0xff, 0xff], &[]).unwrap();
            }
            assert!(audit.rebuilds <= before + 1, "{} rebuilds", audit.rebuilds - before);
            // The history laid out before them still judges the next call.
            assert_eq!(audit.check(&second, &data[8 * 1024..]).is_ok(), passes, "{bits} bits");
        }
    }

    #[test]
    fn each_frame_is_a_call_of_its_own() {
        // Two frames of one stream: the second frame's references into the
        // first must stay within the window, since the call boundary lies
        // between them.
        let data = records(4096);
        let z = deflate(&data, 15);
        let (a, b) = z.split_at(z.len() / 2);
        let mut audit = WindowAudit::new(9).unwrap();
        let mut inflated = Vec::new();
        let mut d = flate2::Decompress::new(false);
        let mut run = |part: &[u8]| {
            let before = inflated.len();
            inflated.reserve(64 * 1024);
            d.decompress_vec(part, &mut inflated, flate2::FlushDecompress::Sync).unwrap();
            inflated[before..].to_vec()
        };
        let first = run(a);
        let second = run(b);
        audit.check(a, &first).unwrap();
        assert!(audit.check(b, &second).is_err());
        // A 4 KiB window covers the whole message: both frames pass.
        let mut keeps = WindowAudit::new(12).unwrap();
        keeps.check(a, &first).unwrap();
        keeps.check(b, &second).unwrap();
    }
}
