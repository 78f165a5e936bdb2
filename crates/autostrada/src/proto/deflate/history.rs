//! The tail of a deflate stream's uncompressed data: what a fresh zlib
//! state must be primed with to carry on where the stream left off.
//!
//! With context takeover (RFC 7692 §7.2.3) a message may refer back to
//! octets of earlier ones, but never further back than the window. Keeping
//! those octets is enough to rebuild either side's zlib state at the next
//! message, so a waiting connection need not keep the state itself.

/// The last octets of a stream, at most `cap` of them.
///
/// Grows with what the stream carried (a connection that exchanged one
/// short message holds that many octets), then turns into a ring of `cap`:
/// pushing `abc` then `def` into a history of 4 leaves `cdef`.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    buf: Vec<u8>,
    /// Where the oldest octet is once `buf` is full (a ring); 0 before.
    start: usize,
    cap: usize,
}

impl History {
    /// An empty history that keeps at most `cap` octets.
    #[must_use]
    pub(crate) fn new(cap: usize) -> Self {
        Self { buf: Vec::new(), start: 0, cap }
    }

    /// The most octets it keeps: the window it stands for.
    #[must_use]
    pub(crate) fn window(&self) -> usize {
        self.cap
    }

    /// The octets allocated for it.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Whether it holds nothing.
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forgets everything (the stream ended; the next one starts afresh).
    pub(crate) fn clear(&mut self) {
        self.buf = Vec::new();
        self.start = 0;
    }

    /// Appends `data`, dropping the oldest octets beyond the cap.
    pub(crate) fn push(&mut self, mut data: &[u8]) {
        if data.len() >= self.cap {
            // Only the newest `cap` octets matter.
            self.buf.clear();
            self.start = 0;
            data = &data[data.len() - self.cap..];
        }
        let free = self.cap - self.buf.len();
        if free > 0 {
            // Still growing: allocate in doubling steps, never past the cap.
            let take = free.min(data.len());
            let want = self.buf.len() + take;
            if want > self.buf.capacity() {
                let target = want.max(self.buf.len() * 2).min(self.cap);
                self.buf.reserve_exact(target - self.buf.len());
            }
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        // Full: overwrite the oldest octets, wrapping round the end.
        while !data.is_empty() {
            let run = (self.cap - self.start).min(data.len());
            self.buf[self.start..self.start + run].copy_from_slice(&data[..run]);
            self.start = (self.start + run) % self.cap.max(1);
            data = &data[run..];
        }
    }

    /// The octets held, oldest first, as one slice (rotates the ring in place).
    pub(crate) fn make_contiguous(&mut self) -> &[u8] {
        if self.start != 0 {
            self.buf.rotate_left(self.start);
            self.start = 0;
        }
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::History;

    /// Pushes every split of a stream and checks the tail against a plain copy.
    #[test]
    fn keeps_exactly_the_last_cap_octets() {
        let stream: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
        for cap in [1, 5, 16, 64, 300] {
            for piece in [1, 3, 16, 17, 64, 200] {
                let mut h = History::new(cap);
                let mut seen = Vec::new();
                for chunk in stream.chunks(piece) {
                    h.push(chunk);
                    seen.extend_from_slice(chunk);
                    let tail = &seen[seen.len().saturating_sub(cap)..];
                    assert_eq!(h.make_contiguous(), tail, "cap {cap}, pieces of {piece}");
                    assert!(h.buf.capacity() <= cap, "grew past the cap");
                }
            }
        }
    }

    #[test]
    fn clear_starts_over() {
        let mut h = History::new(4);
        h.push(b"abcdef");
        h.clear();
        assert!(h.is_empty());
        h.push(b"xy");
        assert_eq!(h.make_contiguous(), b"xy");
    }
}
