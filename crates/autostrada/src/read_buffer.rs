//! One spare read buffer per thread, lent to the connection on that thread
//! that has a large frame (or a burst) to read.
//!
//! A connection that waits holds no read buffer (see
//! [`RecvHalf`](crate::RecvHalf)): a small frame is read into a scratch on
//! the stack and copied out at its own size. A frame larger than that
//! scratch needs a buffer that lives across reads, and allocating one per
//! frame cost a large `malloc` and `free` per message — for frames of a
//! megabyte, fresh pages every time, which the kernel has to fault in.
//!
//! So when a connection's buffer empties, its storage waits here, and the
//! next connection on this thread that needs a buffer takes it. Messages
//! are split off that storage without a copy; storage that a message the
//! application still holds shares is not kept (the message keeps it, as it
//! would have kept its own allocation), so a spare is never shared. The
//! read half gives its buffer back after pushing out its queued writes, so
//! that the messages it echoed are gone by then and the storage is free.
//!
//! A spare is lent only for a read of at least half its size, so lending
//! it never makes a connection hold more than twice what it asked for (and
//! a read asks for at most twice what has arrived, see `frame_room` in
//! `read.rs`, or a little more than the last reads brought). A read that
//! borrowed it and brought fewer than [`LEND_MIN`] octets has them copied
//! out at their own size and gives it back at once. A message split off a
//! spare keeps the whole storage alive for as long as it is held, so only
//! messages of at least 1/32 of the storage are split off it; smaller ones
//! are copied out (`HOLD_RATIO` in `reader.rs`).

use std::cell::Cell;

use bytes::BytesMut;

/// The largest storage kept as a thread's spare; larger storage is freed
/// when it empties. A 1 MiB frame is read into storage of about this size
/// (the buffer grows with the frame, and a growth step may overshoot).
pub(crate) const SPARE_MAX: usize = (2 << 20) + (64 << 10);

/// Reads of fewer octets than this are copied out of the stack scratch at
/// their own size instead of borrowing the spare.
pub(crate) const LEND_MIN: usize = crate::proto::SPLIT_MIN;

thread_local! {
    static SPARE: Cell<Option<BytesMut>> = const { Cell::new(None) };
}

/// An empty buffer with room for at least `need` octets: the thread's
/// spare when it is no more than twice that large (a connection then never
/// holds more than twice what it asked for), else a new one of `need`
/// (the spare stays).
pub(crate) fn take(need: usize) -> BytesMut {
    take_spare(need).unwrap_or_else(|| BytesMut::with_capacity(need))
}

/// The thread's spare, if it has room for `need` octets and is no more than
/// twice that large; `None` (allocating nothing) otherwise, and the spare
/// stays for a read it fits.
pub(crate) fn take_spare(need: usize) -> Option<BytesMut> {
    let spare = SPARE.try_with(Cell::take).ok().flatten()?;
    if fits(spare.capacity(), need) {
        return Some(spare);
    }
    let _ = SPARE.try_with(|slot| slot.set(Some(spare)));
    None
}

/// Whether storage of `capacity` octets is lent for a read of `need`: it
/// holds the read, and is no more than twice as large.
pub(crate) fn fits(capacity: usize, need: usize) -> bool {
    capacity >= need && capacity / 2 <= need
}

/// Takes back all the storage behind an emptied buffer, if no message
/// split off it still holds a part: true then (its capacity is now the
/// whole storage); false, with nothing changed, while one does, or when
/// nothing was ever taken from its front. Allocates nothing.
pub(crate) fn reclaim(buf: &mut BytesMut) -> bool {
    debug_assert!(buf.is_empty());
    // Asking for one octet more than the handle's own room makes `bytes`
    // look at the whole storage, which it reclaims only when unshared.
    buf.try_reclaim(buf.capacity() + 1)
}

/// Keeps an emptied buffer's storage as the thread's spare (replacing any
/// spare already there), unless a message split off it still holds part of
/// it (the message keeps the storage; a spare is never shared), it is
/// smaller than [`LEND_MIN`] or larger than [`SPARE_MAX`].
pub(crate) fn give_back(buf: BytesMut) {
    let Ok(mut buf) = buf.freeze().try_into_mut() else { return };
    buf.clear();
    // Its whole storage, front included (unshared, as `try_into_mut` showed).
    reclaim(&mut buf);
    // Storage too small to lend would only push out a better spare.
    if buf.capacity() < LEND_MIN || buf.capacity() > SPARE_MAX {
        return;
    }
    let _ = SPARE.try_with(|slot| slot.set(Some(buf)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_spare_is_lent_again_with_all_its_room() {
        let mut buf = take(16 << 10);
        buf.extend_from_slice(&[1u8; 16 << 10]);
        let storage = buf.as_ptr();
        let message = buf.split_to(10 << 10).freeze();
        give_back(buf);
        drop(message);
        // The message is gone: the same storage, from its start.
        let buf = take(16 << 10);
        assert_eq!(buf.as_ptr(), storage);
        assert!(buf.capacity() >= 16 << 10);
    }

    #[test]
    fn a_spare_a_held_message_shares_is_not_written_over() {
        let mut buf = take(8 << 10);
        buf.extend_from_slice(&[7u8; 8 << 10]);
        let message = buf.split_to(8 << 10).freeze();
        give_back(buf);
        let mut next = take(8 << 10);
        next.extend_from_slice(&[9u8; 8 << 10]);
        assert!(message.iter().all(|&b| b == 7), "the held message is intact");
        assert_ne!(next.as_ptr(), message.as_ptr());
    }

    #[test]
    fn storage_a_held_message_shares_is_never_kept() {
        let mut buf = take(32 << 10);
        buf.extend_from_slice(&[5u8; 8 << 10]);
        let message = buf.split_to(8 << 10).freeze();
        // 24 KiB of room left behind the message: still not a spare.
        give_back(buf);
        assert!(SPARE.with(Cell::take).is_none(), "a spare shared with a held message");
        drop(message);
    }

    #[test]
    fn a_spare_is_lent_only_for_at_least_half_its_size() {
        give_back(BytesMut::with_capacity(64 << 10));
        let small = take(16 << 10);
        assert_eq!(small.capacity(), 16 << 10, "a new buffer, sized for the read");
        let large = take(40 << 10);
        assert!(large.capacity() >= 64 << 10, "the spare, kept for a larger read");
    }

    #[test]
    fn take_spare_lends_only_a_fitting_spare_and_allocates_nothing() {
        let _ = SPARE.with(Cell::take);
        assert!(take_spare(16 << 10).is_none(), "no spare, no buffer");
        give_back(BytesMut::with_capacity(64 << 10));
        assert!(take_spare(16 << 10).is_none(), "too large for this read");
        assert!(take_spare(40 << 10).is_some_and(|b| b.capacity() >= 64 << 10), "kept for a larger one");
    }

    #[test]
    fn storage_too_small_to_lend_does_not_replace_a_spare() {
        give_back(BytesMut::with_capacity(64 << 10));
        give_back(BytesMut::with_capacity(LEND_MIN - 1));
        assert!(take_spare(64 << 10).is_some(), "the larger spare stayed");
    }

    #[test]
    fn storage_is_reclaimed_only_once_no_message_shares_it() {
        let mut buf = BytesMut::with_capacity(32 << 10);
        buf.extend_from_slice(&[3u8; 16 << 10]);
        let message = buf.split_to(16 << 10).freeze();
        assert!(buf.capacity() >= 16 << 10, "room left behind the message");
        assert!(!reclaim(&mut buf), "the message still holds the storage");
        drop(message);
        assert!(reclaim(&mut buf));
        assert!(buf.capacity() >= 32 << 10, "the whole storage");
    }

    #[test]
    fn storage_over_the_cap_is_not_kept() {
        let buf = BytesMut::with_capacity(SPARE_MAX + 1);
        give_back(buf);
        assert_eq!(SPARE.with(Cell::take).map(|b| b.capacity()), None);
        give_back(BytesMut::with_capacity(4096));
        assert!(SPARE.with(Cell::take).is_some_and(|b| b.capacity() >= 4096));
    }
}
