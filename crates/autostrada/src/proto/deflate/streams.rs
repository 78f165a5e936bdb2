//! Where zlib streams wait between messages: one spare compressor and one
//! spare inflater per thread, lent to whichever connection on that thread
//! has a message to handle.
//!
//! A zlib-rs compressor costs ~180 KiB (its hash table alone is 128 KiB,
//! whatever the window) and an inflater ~40 KiB. Kept per connection, that
//! is what a peer makes us hold by opening connections and sending one
//! compressed message on each. Lent per message instead, a connection keeps
//! only its windows ([`History`](super::History)); the stream it borrows
//! still holds its own state if no other connection used it since (the
//! lender remembers who used it last), and is otherwise reset and primed
//! from the window.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::{Compress, Compression, Decompress};

/// Who used a spare stream last; 0 is nobody (a fresh or reset-needing stream).
pub(super) type Owner = u64;

/// A stream no connection may take as its own: it must be reset first.
pub(super) const NOBODY: Owner = 0;

static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

/// A new owner identity, never [`NOBODY`] and never reused.
pub(super) fn new_owner() -> Owner {
    NEXT_OWNER.fetch_add(1, Ordering::Relaxed)
}

/// A spare compressor and the settings it was made with.
struct SpareDeflate {
    stream: Box<Compress>,
    owner: Owner,
    level: u32,
    bits: u8,
}

thread_local! {
    static DEFLATE: Cell<Option<SpareDeflate>> = const { Cell::new(None) };
    static INFLATE: Cell<Option<(Box<Decompress>, Owner)>> = const { Cell::new(None) };
}

/// A raw-deflate compressor with `level` and `bits` for `owner`, and whether
/// it is exactly as `owner` left it (else it is fresh: no context).
pub(super) fn borrow_deflate(owner: Owner, level: u32, bits: u8) -> (Box<Compress>, bool) {
    // During thread teardown the spare is gone: make a fresh stream.
    match DEFLATE.try_with(Cell::take).ok().flatten() {
        Some(mut s) if s.level == level && s.bits == bits => {
            if s.owner == owner && owner != NOBODY {
                return (s.stream, true);
            }
            s.stream.reset();
            (s.stream, false)
        }
        _ => (Box::new(Compress::new_with_window_bits(Compression::new(level), false, bits)), false),
    }
}

/// Gives a compressor back as this thread's spare; `owner` is who may take
/// it back as is ([`NOBODY`] when its state is not worth keeping).
pub(super) fn return_deflate(stream: Box<Compress>, owner: Owner, level: u32, bits: u8) {
    let spare = SpareDeflate { stream, owner, level, bits };
    // During thread teardown there is no spare slot: the stream is dropped.
    let _ = DEFLATE.try_with(|slot| slot.set(Some(spare)));
}

/// A raw inflater with a 15-bit window (reads any smaller one) for `owner`,
/// and whether it is exactly as `owner` left it (else it is fresh).
pub(super) fn borrow_inflate(owner: Owner) -> (Box<Decompress>, bool) {
    match INFLATE.try_with(Cell::take).ok().flatten() {
        Some((stream, by)) if by == owner && owner != NOBODY => (stream, true),
        Some((mut stream, _)) => {
            stream.reset(false);
            (stream, false)
        }
        None => (Box::new(Decompress::new_with_window_bits(false, 15)), false),
    }
}

/// Gives an inflater back as this thread's spare (see [`return_deflate`]).
pub(super) fn return_inflate(stream: Box<Decompress>, owner: Owner) {
    let _ = INFLATE.try_with(|slot| slot.set(Some((stream, owner))));
}
