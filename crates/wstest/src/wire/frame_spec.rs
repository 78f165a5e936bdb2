//! Describing a frame to send, and building repeated payloads.

use bytes::Bytes;

/// What a frame to send looks like; see [`Peer::send_frame`](super::peer::Peer::send_frame).
#[derive(Debug, Clone)]
pub struct FrameSpec {
    /// Opcode, reserved values included.
    pub opcode: u8,
    /// Payload, or the pattern to repeat when `repeat_to` is set.
    pub payload: Bytes,
    /// FIN bit.
    pub fin: bool,
    /// RSV bits.
    pub rsv: u8,
    /// Repeat `payload` up to this many octets.
    pub repeat_to: Option<usize>,
    /// Write the frame's octets in pieces of this size.
    pub chop: Option<usize>,
    /// Write the frame alone.
    pub sync: bool,
}

impl FrameSpec {
    /// A final frame with no RSV bits, written normally.
    pub fn new(opcode: u8, payload: impl Into<Bytes>) -> Self {
        Self { opcode, payload: payload.into(), fin: true, rsv: 0, repeat_to: None, chop: None, sync: false }
    }

    /// Sets FIN.
    #[must_use]
    pub fn fin(mut self, fin: bool) -> Self {
        self.fin = fin;
        self
    }

    /// Sets the RSV bits.
    #[must_use]
    pub fn rsv(mut self, rsv: u8) -> Self {
        self.rsv = rsv;
        self
    }

    /// Repeats the payload to `len` octets.
    #[must_use]
    pub fn repeat_to(mut self, len: usize) -> Self {
        self.repeat_to = Some(len);
        self
    }

    /// Chops the frame's octets into pieces of `n`.
    #[must_use]
    pub fn chop(mut self, n: usize) -> Self {
        self.chop = Some(n);
        self
    }

    /// Writes the frame alone.
    #[must_use]
    pub fn sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }
}

/// `pattern` repeated to `len` octets.
#[must_use]
pub fn repeat(pattern: &[u8], len: usize) -> Bytes {
    let mut out = Vec::with_capacity(len);
    extend_repeated(&mut out, pattern, len);
    Bytes::from(out)
}

/// Appends `pattern` repeated to `len` octets to `out` (nothing if the
/// pattern is empty).
pub(crate) fn extend_repeated(out: &mut Vec<u8>, pattern: &[u8], len: usize) {
    if pattern.is_empty() {
        return;
    }
    let start = out.len();
    let end = start + len;
    out.reserve(len);
    out.extend_from_slice(&pattern[..pattern.len().min(len)]);
    // Doubling: copy what is already filled, so a 16 MiB payload of a
    // one-octet pattern costs ~24 copies, not 16 million.
    while out.len() < end {
        let filled = out.len() - start;
        out.extend_from_within(start..start + filled.min(end - out.len()));
    }
}
