//! Compressing what the fuzzer sends and inflating what it receives under
//! an [`Agreement`] reached in `deflate.rs`, with zlib's default level and
//! memory level as the reference uses, and the reference's reading of
//! windows and context takeover.

use autostrada::proto::Role;
use autostrada::proto::deflate::Compressor;
use bytes::{Bytes, BytesMut};
use flate2::{Decompress, FlushDecompress, Status};

use super::Agreement;
use crate::wire::window_audit::WindowAudit;

/// zlib's default compression level, which the reference uses.
const LEVEL: u32 = 6;

/// A message inflates to at most this many octets (far above the
/// suite's largest compressed message, 128 KiB); past it the connection
/// is failed rather than our memory spent.
pub const MAX_INFLATED: usize = 64 << 20;

/// RFC 7692 §7.2.2: the octets a sender strips from the end of each
/// compressed message, put back before inflating it.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Inflates the peer's messages the way the reference's zlib does. While
/// context is kept, the reference inflates every message of a connection
/// with one zlib stream (one `decompressobj`, made once): whatever state a
/// message leaves the stream in — a stored block whose length the tail
/// began, a block not yet ended — is where the next message starts. So is
/// ours: one stream, reset only where no context is kept. zlib-rs resolves
/// any distance up to 32 KiB whatever window it is told, so a window below
/// that is held to the reference's rule (at most `2^bits` octets back,
/// into this message or earlier ones) by a [`WindowAudit`] of every
/// inflate call.
struct Inflater {
    inner: Decompress,
    /// Messages refer back into earlier ones (no `*_no_context_takeover`).
    keep_context: bool,
    /// Where a message's octets are inflated before they join the message.
    scratch: Vec<u8>,
    /// A message is being inflated.
    in_message: bool,
    /// The peer's deflate stream has ended: a block marked final (BFINAL)
    /// was inflated. The reference keeps one zlib stream for all messages
    /// when context is kept, and an ended zlib stream takes no more input:
    /// the rest of that message, and every later message, inflate to
    /// nothing. Without context takeover the next message starts afresh.
    ended: bool,
    /// The reference's window rule, when the window is below 32 KiB.
    audit: Option<WindowAudit>,
}

/// Output grows by at most this much per step.
const STEP: usize = 64 * 1024;

impl Inflater {
    fn new(bits: u8, keep_context: bool) -> Self {
        Self {
            inner: Decompress::new_with_window_bits(false, 15),
            keep_context,
            scratch: Vec::with_capacity(STEP),
            in_message: false,
            ended: false,
            audit: WindowAudit::new(bits),
        }
    }

    /// Inflates `data` onto `out` (which holds the message so far), never
    /// past [`MAX_INFLATED`].
    fn inflate(&mut self, data: &[u8], out: &mut BytesMut) -> Result<(), String> {
        if !self.in_message {
            self.in_message = true;
            if !self.keep_context {
                self.ended = false;
                self.audit.as_mut().map(WindowAudit::restart);
                self.inner.reset(false);
            }
        }
        if self.ended {
            return Ok(());
        }
        let before = out.len();
        self.inflate_call(data, out)?;
        match self.audit.as_mut() {
            Some(audit) => audit.check(data, &out[before..]),
            None => Ok(()),
        }
    }

    /// Inflates `data` onto `out` in steps of at most [`STEP`].
    fn inflate_call(&mut self, data: &[u8], out: &mut BytesMut) -> Result<(), String> {
        let start = self.inner.total_in();
        loop {
            let consumed = usize::try_from(self.inner.total_in() - start).unwrap_or(usize::MAX);
            self.scratch.clear();
            let room = (MAX_INFLATED + 1).saturating_sub(out.len()).min(STEP);
            if room == 0 {
                return Err(format!("a compressed message inflates past {MAX_INFLATED} octets"));
            }
            self.scratch.reserve(room);
            let status = self
                .inner
                .decompress_vec(&data[consumed.min(data.len())..], &mut self.scratch, FlushDecompress::Sync)
                .map_err(|e| {
                    format!("the peer's compressed data is invalid: {}", e.message().unwrap_or("inflate error"))
                })?;
            out.extend_from_slice(&self.scratch);
            let taken = usize::try_from(self.inner.total_in() - start).unwrap_or(usize::MAX);
            let all_in = taken >= data.len();
            let filled = self.scratch.len() == self.scratch.capacity();
            match status {
                Status::StreamEnd => {
                    self.ended = true;
                    return Ok(());
                }
                _ if all_in && !filled => return Ok(()),
                // No step may take nothing and give nothing: that would loop forever.
                _ if self.scratch.is_empty() && taken == consumed => {
                    return if all_in { Ok(()) } else { Err("the peer's compressed data does not progress".into()) };
                }
                _ => {}
            }
        }
    }

    /// Ends the message held in `out`: inflates the stripped tail.
    /// Whatever the tail itself inflates to (its four octets, when the
    /// peer's data stopped inside a stored block) joins the stream's window
    /// but not the message: the reference drops the output of its tail call.
    fn finish(&mut self, out: &mut BytesMut) -> Result<(), String> {
        let end = out.len();
        self.inflate(&TAIL, out)?;
        self.in_message = false;
        out.truncate(end);
        Ok(())
    }
}

/// The compressor and inflater of one connection.
pub struct Deflate {
    /// What was agreed.
    pub agreement: Agreement,
    compressor: Compressor,
    inflater: Inflater,
    /// How we compress: our window bits, and whether each message is
    /// compressed on its own (no context takeover in our direction).
    ours: (u8, bool),
}

impl std::fmt::Debug for Deflate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflate").field("agreement", &self.agreement).finish_non_exhaustive()
    }
}

fn bits_or_default(bits: u8) -> u8 {
    if bits == 0 { 15 } else { bits }
}

impl Deflate {
    /// Compression for `role` under `agreement`: we compress with our
    /// direction's window and reset per message if our direction keeps no
    /// context; we inflate with the peer's.
    #[must_use]
    pub fn new(agreement: Agreement, role: Role) -> Self {
        let a = agreement;
        let (ours, theirs) = match role {
            Role::Client => (
                (a.client_max_window_bits, a.client_no_context_takeover),
                (a.server_max_window_bits, a.server_no_context_takeover),
            ),
            Role::Server => (
                (a.server_max_window_bits, a.server_no_context_takeover),
                (a.client_max_window_bits, a.client_no_context_takeover),
            ),
        };
        Self {
            agreement,
            compressor: Compressor::new(LEVEL, bits_or_default(ours.0), ours.1).keep_state(true),
            inflater: Inflater::new(bits_or_default(theirs.0), !theirs.1),
            ours: (bits_or_default(ours.0), ours.1),
        }
    }

    /// How our messages are compressed: window bits, and whether each one
    /// is compressed on its own (then its octets depend only on the
    /// message; otherwise on every message before it as well).
    #[must_use]
    pub fn compression(&self) -> (u8, bool) {
        self.ours
    }

    /// Compresses one whole message (sync flush, the 4-octet tail stripped).
    pub fn compress(&mut self, data: &[u8]) -> Bytes {
        self.compressor.compress(data)
    }

    /// Inflates one frame's payload of a compressed message onto `out`,
    /// which holds the message so far.
    ///
    /// # Errors
    /// Corrupt data, a reference past the agreed window, or a message past
    /// [`MAX_INFLATED`]; the text says which.
    pub fn inflate(&mut self, data: &[u8], out: &mut BytesMut) -> Result<(), String> {
        self.inflater.inflate(data, out)
    }

    /// Ends a compressed message, held whole in `out`.
    ///
    /// # Errors
    /// As [`inflate`](Self::inflate).
    pub fn finish(&mut self, out: &mut BytesMut) -> Result<(), String> {
        self.inflater.finish(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_past_the_agreed_window_fails() {
        // The peer agreed to a 512-octet window but compresses with 32 KiB:
        // a later message that repeats an early one refers too far back.
        let agreement = Agreement { server_max_window_bits: 9, ..Agreement::default() };
        let mut ours = Deflate::new(agreement, Role::Client);
        let mut theirs = Compressor::new(6, 15, false);
        let first: Vec<u8> = (0..2000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let mut out = BytesMut::new();
        ours.inflate(&theirs.compress(&first), &mut out).unwrap();
        ours.finish(&mut out).unwrap();
        assert_eq!(&out[..], &first[..]);
        let mut out = BytesMut::new();
        let again = ours.inflate(&theirs.compress(&first[..100]), &mut out).and_then(|()| ours.finish(&mut out));
        assert!(again.unwrap_err().contains("too far back"));
        // Within the window, context is kept.
        let mut ours = Deflate::new(Agreement { server_max_window_bits: 12, ..agreement }, Role::Client);
        let mut theirs = Compressor::new(6, 12, false);
        for _ in 0..3 {
            let mut out = BytesMut::new();
            ours.inflate(&theirs.compress(&first), &mut out).unwrap();
            ours.finish(&mut out).unwrap();
            assert_eq!(&out[..], &first[..]);
        }
    }

    #[test]
    fn a_finished_stream_takes_nothing_more_while_context_is_kept() {
        // Each message a whole deflate stream, its last block final.
        let whole = |m: &[u8]| miniz_oxide::deflate::compress_to_vec(m, 6);
        let inflate = |d: &mut Deflate, m: &[u8]| {
            let mut out = BytesMut::new();
            d.inflate(&whole(m), &mut out).and_then(|()| d.finish(&mut out)).unwrap();
            out
        };
        let mut kept = Deflate::new(Agreement::default(), Role::Client);
        assert_eq!(&inflate(&mut kept, b"first")[..], b"first");
        assert!(inflate(&mut kept, b"second").is_empty());
        let fresh = Agreement { server_no_context_takeover: true, ..Agreement::default() };
        let mut fresh = Deflate::new(fresh, Role::Client);
        assert_eq!(&inflate(&mut fresh, b"first")[..], b"first");
        assert_eq!(&inflate(&mut fresh, b"second")[..], b"second");
    }

    #[test]
    fn what_the_tail_inflates_to_is_no_part_of_the_message() {
        // A stored block cut four octets short: the tail completes it.
        let whole = miniz_oxide::deflate::compress_to_vec(b"0123456789abcdef", 0);
        let fresh = Agreement { server_no_context_takeover: true, ..Agreement::default() };
        let mut ours = Deflate::new(fresh, Role::Client);
        let mut out = BytesMut::new();
        ours.inflate(&whole[..whole.len() - 4], &mut out).and_then(|()| ours.finish(&mut out)).unwrap();
        assert_eq!(&out[..], b"0123456789ab");
    }

    #[test]
    fn both_roles_roundtrip() {
        let agreement =
            Agreement { client_no_context_takeover: true, client_max_window_bits: 9, ..Agreement::default() };
        let mut client = Deflate::new(agreement, Role::Client);
        let mut server = Deflate::new(agreement, Role::Server);
        for msg in [&b"hello hello hello"[..], b"", &[7u8; 5000]] {
            let z = client.compress(msg);
            let mut out = BytesMut::new();
            server.inflate(&z, &mut out).unwrap();
            server.finish(&mut out).unwrap();
            assert_eq!(&out[..], msg);
        }
    }
}
