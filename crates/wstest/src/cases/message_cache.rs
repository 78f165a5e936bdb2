//! Compressed messages shared between the compression cases of one run.
//!
//! Every compression case starts at the beginning of its corpus with a new
//! compressor, so the cases with the same corpus and message length send
//! the same messages *and* the same compressed octets, given the same
//! window and context mode: rows 11–18 of each 12.x/13.x group repeat the
//! lengths of rows 6–10 (only the framing differs, and it is applied after
//! compression), and 12.1 and all of 13.x use the same JSON corpus.
//! Compressing each message once per run instead of once per case takes
//! most of wstest's own CPU time off the compression cases, which leaves
//! the machine to the server under test. The octets on the wire are the
//! same either way.
//!
//! Without context takeover a message's octets depend only on the message,
//! so any case may take any message from the cache. With it they depend on
//! the messages before, so a case either reads a sequence another case
//! completed, from the first message to the last, or compresses every
//! message itself (and adds them when it is the one filling the sequence).
//!
//! Memory: a sequence is dropped as soon as no case left in the run uses its
//! corpus and length (in a fuzzing server, whose clients choose what to run,
//! when the server stops), and the whole cache holds at most [`MAX_BYTES`];
//! past that, messages are compressed per case as without it.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

use super::corpus::Corpus;

/// The most compressed octets the cache holds at once.
pub const MAX_BYTES: usize = 192 << 20;

/// A message sequence: corpus and message length (octets or code points).
type Sequence = (Corpus, usize);

/// How a sequence was compressed: window bits, and whether each message was
/// compressed on its own.
pub type Mode = (u8, bool);

#[derive(Debug, Default)]
struct Inner {
    /// Cases of the run not finished yet, per sequence.
    pending: HashMap<Sequence, usize>,
    /// The compressed messages of a sequence, in order, per mode.
    stored: HashMap<(Sequence, Mode), Vec<Bytes>>,
    /// Octets held in `stored`.
    bytes: usize,
}

/// The run's shared compressed messages.
#[derive(Debug, Default)]
pub struct MessageCache {
    inner: Mutex<Inner>,
}

impl MessageCache {
    /// A cache for a run whose compression cases use these sequences (one
    /// entry per case and server).
    #[must_use]
    pub fn new(uses: impl IntoIterator<Item = (Corpus, usize)>) -> Self {
        let mut inner = Inner::default();
        for sequence in uses {
            *inner.pending.entry(sequence).or_default() += 1;
        }
        Self { inner: Mutex::new(inner) }
    }

    /// A cache for a server whose clients pick their cases: the sequences of
    /// these cases are kept for as long as the server runs (within
    /// [`MAX_BYTES`]), however many clients run them.
    #[must_use]
    pub fn kept(sequences: impl IntoIterator<Item = (Corpus, usize)>) -> Self {
        let pending = sequences.into_iter().map(|s| (s, usize::MAX)).collect();
        Self { inner: Mutex::new(Inner { pending, ..Inner::default() }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Message `index` of `sequence` compressed in `mode`, if another case
    /// made it already.
    #[must_use]
    pub fn get(&self, sequence: Sequence, mode: Mode, index: usize) -> Option<Bytes> {
        self.lock().stored.get(&(sequence, mode)).and_then(|v| v.get(index)).cloned()
    }

    /// The cache holds the first `count` messages of `sequence` in `mode`.
    #[must_use]
    pub fn holds(&self, sequence: Sequence, mode: Mode, count: usize) -> bool {
        self.lock().stored.get(&(sequence, mode)).is_some_and(|v| v.len() >= count)
    }

    /// Keeps message `index` of `sequence`, when it is the next one of its
    /// sequence, a case still to finish will use it, and there is room.
    pub fn put(&self, sequence: Sequence, mode: Mode, index: usize, compressed: &Bytes) {
        let mut inner = self.lock();
        if inner.pending.get(&sequence).copied().unwrap_or(0) == 0 || inner.bytes + compressed.len() > MAX_BYTES {
            return;
        }
        let list = inner.stored.entry((sequence, mode)).or_default();
        if list.len() == index {
            list.push(compressed.clone());
            inner.bytes += compressed.len();
        }
    }

    /// One case of `sequence` has finished; its messages are dropped once
    /// no case left needs them.
    pub fn case_done(&self, sequence: Sequence) {
        let mut inner = self.lock();
        let Some(left) = inner.pending.get_mut(&sequence) else { return };
        *left = left.saturating_sub(1);
        if *left == 0 {
            inner.pending.remove(&sequence);
            let mut freed = 0;
            inner.stored.retain(|(s, _), list| {
                let keep = *s != sequence;
                if !keep {
                    freed += list.iter().map(Bytes::len).sum::<usize>();
                }
                keep
            });
            inner.bytes -= freed;
        }
    }

    /// Octets held now.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_kept_in_order_while_a_case_needs_them() {
        let json = (Corpus::ALL[0], 16);
        let cache = MessageCache::new([json, json]);
        let m = Bytes::from_static(b"abc");
        // Out of order: not kept (the list must hold messages 0, 1, 2…).
        let fresh = (15, true);
        cache.put(json, fresh, 1, &m);
        assert_eq!(cache.get(json, fresh, 1), None);
        cache.put(json, fresh, 0, &m);
        assert_eq!(cache.get(json, fresh, 0), Some(m.clone()));
        assert!(cache.holds(json, fresh, 1) && !cache.holds(json, fresh, 2));
        // Another window or context mode is another sequence of octets.
        assert_eq!(cache.get(json, (9, true), 0), None);
        assert_eq!(cache.get(json, (15, false), 0), None);
        cache.case_done(json);
        assert_eq!(cache.get(json, fresh, 0), Some(m.clone()));
        cache.case_done(json);
        assert_eq!((cache.get(json, fresh, 0), cache.bytes()), (None, 0));
        // A sequence no case of the run uses is never kept.
        cache.put((Corpus::ALL[1], 16), fresh, 0, &m);
        assert_eq!(cache.bytes(), 0);
    }

    /// What the two modes rest on: without context takeover a message's
    /// octets do not depend on what the connection sent before; with it
    /// they do, but the same messages from a new compressor give the same
    /// octets.
    #[test]
    fn a_message_compressed_on_its_own_is_the_same_in_every_connection() {
        use crate::wire::deflate::{Agreement, Deflate};
        let data = Corpus::ALL[0].bytes();
        let (first, second) = (&data[..4096], &data[4096..8192]);
        for bits in [9, 15] {
            let fresh =
                Agreement { client_no_context_takeover: true, client_max_window_bits: bits, ..Agreement::default() };
            let mut busy = Deflate::new(fresh, autostrada::Role::Client);
            assert_eq!(busy.compression(), (bits, true));
            busy.compress(first);
            let mut new = Deflate::new(fresh, autostrada::Role::Client);
            assert_eq!(busy.compress(second), new.compress(second));
        }
        let mut keeps = Deflate::new(Agreement::default(), autostrada::Role::Client);
        assert_eq!(keeps.compression(), (15, false));
        let mut again = Deflate::new(Agreement::default(), autostrada::Role::Client);
        let a = (keeps.compress(first), keeps.compress(first));
        let b = (again.compress(first), again.compress(first));
        assert_ne!(a.0, a.1);
        assert_eq!(a, b);
    }
}
