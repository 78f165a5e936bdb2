//! Where zlib streams wait between messages: one spare compressor and one
//! spare inflater per thread, lent to whichever connection on that thread
//! has a message to handle.
//!
//! A zlib-rs compressor costs ~180 KiB (its hash table alone is 128 KiB,
//! whatever the window) and an inflater ~40 KiB. Kept per connection, that
//! is what a peer makes us hold by opening connections and sending one
//! compressed message on each. Lent per message instead, a connection keeps
//! only its windows ([`History`](super::History)). The stream it borrows
//! is taken as it is when it is the one this connection gave back last and
//! nobody used it since (see [`Ticket`]); otherwise it is reset and primed
//! from the windows. A stream stays with its connection while a message is
//! half inflated (a fragmented message), so a peer that leaves messages
//! unfinished still makes us hold an inflater per connection until they end.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::{Compress, Compression, Decompress};

/// Who may take a spare stream back as it is: a connection's identity and
/// how many streams it has given back so far. A connection's task moves
/// between worker threads, so a stream it gave back earlier may still wait
/// on another thread; only the one it gave back last carries its current
/// ticket, and only that one holds the state its window describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ticket {
    owner: u64,
    round: u64,
}

impl Ticket {
    /// For a stream no connection may take as its own: it must be reset first.
    pub(super) const NOBODY: Self = Self { owner: 0, round: 0 };

    /// A new connection's first ticket (its owner never [`Ticket::NOBODY`]'s, never reused).
    pub(super) fn new() -> Self {
        static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);
        Self { owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed), round: 0 }
    }

    /// Moves to the next round and returns it: the ticket to give a stream
    /// back with, which every earlier stream of this connection now lacks.
    fn next(&mut self) -> Self {
        self.round += 1;
        *self
    }

    /// The ticket to give a stream back with after a message: the next
    /// round when the connection keeps its context (it may take the stream
    /// back as is), [`Ticket::NOBODY`] when it does not (whoever takes the
    /// stream next resets it).
    pub(super) fn after_message(&mut self, keeps_context: bool) -> Self {
        if keeps_context { self.next() } else { Self::NOBODY }
    }

    /// Whether a spare given back with `self` is `holder`'s, as is.
    fn admits(self, holder: Self) -> bool {
        self == holder && holder.owner != 0
    }
}

/// A spare compressor and the settings it was made with.
struct SpareDeflate {
    stream: Box<Compress>,
    ticket: Ticket,
    level: u32,
    bits: u8,
}

thread_local! {
    static DEFLATE: Cell<Option<SpareDeflate>> = const { Cell::new(None) };
    static INFLATE: Cell<Option<(Box<Decompress>, Ticket)>> = const { Cell::new(None) };
}

/// A raw-deflate compressor with `level` and `bits` for the holder of
/// `ticket`, and whether it is exactly as the holder left it (else it is
/// fresh: no context).
pub(super) fn borrow_deflate(ticket: Ticket, level: u32, bits: u8) -> (Box<Compress>, bool) {
    // During thread teardown the spare is gone: make a fresh stream.
    match DEFLATE.try_with(Cell::take).ok().flatten() {
        Some(mut s) if s.level == level && s.bits == bits => {
            if s.ticket.admits(ticket) {
                return (s.stream, true);
            }
            s.stream.reset();
            (s.stream, false)
        }
        _ => (Box::new(Compress::new_with_window_bits(Compression::new(level), false, bits)), false),
    }
}

/// Gives a compressor back as this thread's spare; the holder of `ticket`
/// may take it back as is ([`Ticket::NOBODY`] when its state is not worth keeping).
pub(super) fn return_deflate(stream: Box<Compress>, ticket: Ticket, level: u32, bits: u8) {
    let spare = SpareDeflate { stream, ticket, level, bits };
    // During thread teardown there is no spare slot: the stream is dropped.
    let _ = DEFLATE.try_with(|slot| slot.set(Some(spare)));
}

/// A raw inflater with a 15-bit window (reads any smaller one) for the
/// holder of `ticket`, and whether it is exactly as the holder left it
/// (else it is fresh).
pub(super) fn borrow_inflate(ticket: Ticket) -> (Box<Decompress>, bool) {
    match INFLATE.try_with(Cell::take).ok().flatten() {
        Some((stream, by)) if by.admits(ticket) => (stream, true),
        Some((mut stream, _)) => {
            stream.reset(false);
            (stream, false)
        }
        None => (Box::new(Decompress::new_with_window_bits(false, 15)), false),
    }
}

/// Gives an inflater back as this thread's spare (see [`return_deflate`]).
pub(super) fn return_inflate(stream: Box<Decompress>, ticket: Ticket) {
    let _ = INFLATE.try_with(|slot| slot.set(Some((stream, ticket))));
}
