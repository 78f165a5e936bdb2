//! Filling the receive buffer from the socket: how much each read asks
//! for, where it reads into (the stack scratch, the connection's own
//! storage or the thread's spare buffer), and when that storage goes back
//! to the thread. The rest of the read side is in `reader.rs`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{MAX_READ_AHEAD, Reader};
use crate::read_buffer;
use crate::shared::{Access, Link};
use crate::writer::Side;

/// The stack scratch a connection with nothing buffered reads into (at most
/// `read_buffer_size` of it).
const IDLE_READ: usize = 8 * 1024;

/// The most a read asks for while the socket keeps filling every read (see
/// [`Reader::poll_fill`]): one system call then takes in several messages.
/// Above 64 KiB, so that a 64 KiB message and its header fit one read.
const MAX_BURST_READ: usize = 128 * 1024;

/// A message split off a lent buffer shares its storage, and holds all of
/// it while the application holds the message: payloads shorter than
/// `1/HOLD_RATIO` of the storage (rounded up to a power of two) are copied
/// out instead (see `Receiver::next_message_copying_below`), so that a held
/// message keeps at most this many times its own size (twice that when the
/// buffer grew around a front it had already consumed, which the reader
/// cannot see). Without it, a few octets that arrived behind a megabyte
/// frame kept the megabyte. The copies are small (at most 1/16 of the
/// storage, which is at most about 2 MiB unless a frame needs more), and a
/// buffer this connection sized for itself (under `LEND_MIN`) is split as
/// before.
const HOLD_RATIO: usize = 32;

/// Reads into a buffer ask for an eighth more than they expect (`1/8`):
/// enough that a read bringing all that is there comes back short.
const READ_SLACK: usize = 8;

/// The length (header and payload) of the frame `buf` begins with, once
/// its header has arrived.
fn first_frame_len(buf: &[u8]) -> Option<usize> {
    let parsed = crate::proto::FrameHeader::parse(buf)?;
    usize::try_from(parsed.header.payload_len).ok()?.checked_add(parsed.header_len)
}

/// How much room to make for the `remaining` octets of a frame of which
/// `arrived` have come: all of them, but never more than what arrived (or
/// a read of the burst's size) nor [`MAX_READ_AHEAD`]. The buffer grows in
/// step with the data, never on the length a header merely claims: a
/// 10-octet header must not cost a megabyte.
fn frame_room(remaining: usize, arrived: usize, burst: usize) -> usize {
    remaining.min(arrived.max(burst)).min(MAX_READ_AHEAD)
}

/// The writer, for a read: with `push_large`, after pushing out a queue of
/// at least `flush_threshold` octets (see [`Reader::poll_fill`]), under
/// the same lock.
fn lock_for_read<'l, S: AsyncWrite + Unpin, W: Access<S>>(
    link: &'l mut Link<'_, S, W>,
    cx: &Context<'_>,
    push_large: bool,
) -> W::Guard<'l> {
    let mut w = link.writer.lock();
    if push_large && w.at_flush_threshold() {
        // Both halves may wait on the write: the combined waker.
        w.poll_io(Side::Reader, cx, |w, cx| {
            // A pending or failed write is seen again by the next send or poll.
            let _ = w.poll_write_out(cx);
        });
    }
    w
}

/// The next read's size and what the current run of reads brought, in one
/// word. A connection's state is part of its task, which tokio allocates
/// in steps of 128 octets: four more octets here once cost every idle
/// connection 128 (wsbench's memory row, 0.97 → 1.16 KiB).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadSizing(u32);

impl ReadSizing {
    /// The low bits hold the burst: what the next read asks for when no
    /// frame asks for more. It starts at `read_buffer_size`, doubles after
    /// every read that filled all it asked for, and after a short read is
    /// sized for what the socket held when that was more than the scratch
    /// holds, else back to `read_buffer_size`. At most `MAX_READ_AHEAD`
    /// (2²⁰): 21 bits.
    const BURST_BITS: u32 = 21;
    /// The high 11 bits hold the run in units of this many octets, rounded
    /// up: what the reads since the socket was last drained brought, also
    /// what was decoded between them. It saturates at 2047 units (about
    /// 128 KiB), which already asks for `MAX_BURST_READ`.
    const RUN_UNIT: usize = 64;

    /// A first burst of `burst` octets (at most `MAX_READ_AHEAD`), no run.
    pub(crate) fn new(burst: usize) -> Self {
        Self::with(burst, 0)
    }

    fn with(burst: usize, run: usize) -> Self {
        debug_assert!(burst <= MAX_READ_AHEAD);
        let units = run.div_ceil(Self::RUN_UNIT).min((1 << (32 - Self::BURST_BITS)) - 1);
        Self(burst as u32 | (units as u32) << Self::BURST_BITS)
    }

    /// What the next read asks for when no frame asks for more.
    pub(crate) fn burst(self) -> usize {
        (self.0 & ((1 << Self::BURST_BITS) - 1)) as usize
    }

    /// What the reads since the socket was last drained brought (rounded
    /// up to 64 octets, saturating near 128 KiB).
    fn run(self) -> usize {
        (self.0 >> Self::BURST_BITS) as usize * Self::RUN_UNIT
    }
}

impl Reader {
    /// Reads more octets into the receiver. `Ok(0)` is end of stream.
    ///
    /// A connection that waits holds no read buffer: with nothing buffered
    /// it reads into a scratch array on the stack and keeps only what
    /// arrived, and a buffer left empty when the socket has nothing more is
    /// given back once the writes are out ([`release_buffer`](Self::release_buffer)).
    /// Idle connections then cost their state, not a buffer each. A
    /// connection whose last reads buffered more than the scratch holds
    /// reads straight into its own emptied storage, once no message shares
    /// it, or into the thread's spare buffer when it is free: a stream of
    /// 16 KiB messages then costs one read each, not two, and no copy out
    /// of the scratch.
    ///
    /// With `push_large`, a queue of at least `flush_threshold` octets (a
    /// large echo `feed` queued) is pushed out first, under the same lock
    /// as the read: it leaves as the socket takes it instead of waiting
    /// until this side has read a whole further message, so data keeps
    /// moving both ways. Smaller queues wait for the read to come up empty,
    /// and leave together.
    pub(super) fn poll_fill<S: AsyncRead + AsyncWrite + Unpin, W: Access<S>>(
        &mut self,
        link: &mut Link<'_, S, W>,
        cx: &mut Context<'_>,
        push_large: bool,
    ) -> Poll<io::Result<usize>> {
        let mut w = lock_for_read(link, cx, push_large);
        let (burst, read_buffer_size) = (self.sizing.burst(), self.read_buffer_size as usize);
        let bursting = burst > read_buffer_size && burst > IDLE_READ;
        // The room a read between frames needs: the burst less its slack
        // (what the last reads buffered, when they came back short), or a
        // scratch's worth.
        let want = if bursting { burst - burst / (READ_SLACK + 1) } else { burst.min(IDLE_READ) };
        let buf = self.rx.buffer_mut();
        // Between frames, read into this connection's own storage once the
        // messages split off it are gone (`reclaim` takes its room back only
        // then, and allocates nothing) and it is no more than twice the read,
        // so that a small message does not pin a large storage; else, when
        // the last reads brought more than the scratch holds, into the
        // thread's spare if it is free (the drained buffer makes way); else
        // into the stack scratch, keeping only what arrives. Never into the
        // rest of storage a message still shares: a large frame read there
        // would be copied out whole once it outgrew it.
        let mut use_scratch = false;
        let mut lent_storage = None;
        let reuse_own = |buf: &mut BytesMut| read_buffer::reclaim(buf) && read_buffer::fits(buf.capacity(), want);
        if buf.is_empty() && !(self.lent && reuse_own(buf)) {
            match if bursting { read_buffer::take_spare(want) } else { None } {
                Some(spare) => {
                    lent_storage = Some(spare.capacity());
                    read_buffer::give_back(std::mem::replace(buf, spare));
                }
                None => use_scratch = true,
            }
        }
        if let Some(storage) = lent_storage {
            self.lend(storage);
        }
        if use_scratch {
            // The payload still to come of a frame whose header was read
            // earlier (the buffer is empty: none of it has arrived yet).
            let in_frame = self.rx.frame_remaining();
            // Uninitialised: the read writes what it fills, nothing is cleared first.
            let mut scratch = [std::mem::MaybeUninit::<u8>::uninit(); IDLE_READ];
            let asked = burst.min(IDLE_READ);
            let mut read = tokio::io::ReadBuf::uninit(&mut scratch[..asked]);
            let polled = Pin::new(&mut w.io).poll_read(cx, &mut read);
            drop(w);
            let got = read.filled().len();
            self.note_read(polled.is_pending(), got, asked, got);
            // Nothing arrived: the drained buffer stays until the writes are
            // out (`release_buffer`), when its storage may be free to keep.
            ready!(polled)?;
            let got = read.filled();
            // One allocation, exact unless the read filled the scratch with
            // part of a larger frame: then room for its rest too, as far as
            // what arrived (see `frame_room`), so that the next read need not
            // move what arrived. A short read (a small message) skips this.
            let room = if got.len() < asked {
                0
            } else {
                let total = if in_frame > 0 { Some(in_frame) } else { first_frame_len(got) };
                total.map_or(0, |total| frame_room(total - got.len().min(total), got.len(), got.len()))
            };
            // The storage the last messages were split from, kept if they are gone.
            self.release_buffer();
            *self.rx.buffer_mut() = if got.len() + room < read_buffer::LEND_MIN {
                BytesMut::from(got)
            } else {
                // A large read, or a frame larger than the scratch: the
                // thread's spare buffer, which the next large read can
                // take back once the messages split off it are dropped.
                // For a frame's rest, an eighth more: the read that completes
                // the frame then comes back short, telling the socket is
                // drained (see `note_read`), and the next one fits the same storage.
                let need = got.len() + room;
                let mut buf = read_buffer::take(if room > 0 { need + need / READ_SLACK } else { need });
                self.lend(buf.capacity());
                buf.extend_from_slice(got);
                buf
            };
            return Poll::Ready(Ok(got.len()));
        }
        // Read ahead into a large frame in step with what has arrived (the
        // buffer at most doubles per read), never on the length its header
        // merely claims: a 10-octet header must not cost a megabyte.
        let arrived = self.rx.buffer_mut().len();
        let remaining = self.rx.frame_remaining();
        let rest = frame_room(remaining, arrived, burst);
        let buf = self.rx.buffer_mut();
        // Room for the rest of the frame (as far as `frame_room` allows) or,
        // between frames, for a read of the burst's size. A buffer that
        // already has the room is not grown (growing would move what it holds).
        let room = buf.capacity() - buf.len();
        if if rest == 0 { room < want } else { room < rest } {
            buf.reserve(rest.max(burst));
            // `lend` below, once the read is done with the buffer.
            self.lent = true;
            // The storage from the buffer's front on: a front already
            // consumed that the growth kept is not counted, which makes
            // the threshold at most twice too low (growth at least doubles).
            lent_storage = Some(buf.capacity());
        }
        // A read stops 8 KiB, or a burst's read (at most 128 KiB), past the
        // end of the frame it completes. What it brings of the next frame stays behind in
        // storage the finished message shares, and making room for the rest
        // of that frame means copying it into new storage: up to a megabyte
        // per message, before, when a grown buffer read on.
        let limit = remaining.saturating_add(IDLE_READ).max(burst.min(MAX_BURST_READ));
        let asked = (buf.capacity() - buf.len()).min(limit);
        let polled = tokio_util::io::poll_read_buf(Pin::new(&mut w.io), cx, &mut (&mut *buf).limit(limit));
        drop(w);
        let got = match &polled {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        // Keep what arrived at its own size, and give the large buffer
        // back, when the socket went quiet on a partial frame after a burst
        // (an empty buffer waits for `release_buffer`) and the storage is
        // more than twice what that frame needs, or when a small read
        // landed in a large buffer (a connection that last saw large reads):
        // a waiting connection then holds in proportion to the frame it
        // waits on, however large a flood of small messages before it made
        // the reads, and a message the application holds pins no large buffer.
        let copy_out = if polled.is_pending() {
            // What arrived of the frame and what is still to come of it
            // (this read, if any, counted once: `remaining` was before it).
            let frame_needs = (arrived + remaining).max(buf.len()).max(read_buffer_size);
            !buf.is_empty()
                && (buf.capacity() > 2 * frame_needs || (buf.len() < read_buffer_size && asked > read_buffer_size))
        } else {
            self.lent && arrived == 0 && got > 0 && got < read_buffer::LEND_MIN
        };
        if let Some(storage) = lent_storage {
            self.lend(storage);
        }
        if copy_out {
            let buf = self.rx.buffer_mut();
            let own = BytesMut::from(&buf[..]);
            read_buffer::give_back(std::mem::replace(buf, own));
            self.unlend();
        }
        let buffered = self.rx.buffer_mut().len();
        self.note_read(polled.is_pending(), got, asked, buffered);
        polled
    }

    /// Gives an emptied read buffer's storage back to the thread (see
    /// [`read_buffer`]), so that a waiting connection holds none. Called
    /// once the queued writes have gone out: the messages split off the
    /// buffer that were echoed are gone by then, and the storage is free to
    /// keep; one still held elsewhere keeps it instead.
    pub(super) fn release_buffer(&mut self) {
        if !self.lent {
            return;
        }
        let buf = self.rx.buffer_mut();
        if buf.is_empty() {
            read_buffer::give_back(std::mem::take(buf));
            self.unlend();
        }
    }

    /// The read buffer is now storage of `storage` octets to give back to
    /// the thread once it empties; payloads small beside it are copied out
    /// of it (see [`HOLD_RATIO`]).
    fn lend(&mut self, storage: usize) {
        self.lent = true;
        // The fraction, rounded up to a power of two: a message at least
        // that long is split off.
        self.copy_below_log2 = match storage / HOLD_RATIO {
            0 => 0,
            n => n.next_power_of_two().ilog2() as u8,
        };
    }

    /// The read buffer is this connection's own again (or none).
    fn unlend(&mut self) {
        self.lent = false;
        self.copy_below_log2 = 0;
    }

    /// Sizes the next read from how this one went: a read that filled all
    /// it asked for leaves more in the socket, so the next asks for twice
    /// as much (read directly into the buffer, without the stack scratch).
    /// A short read means the socket is drained: if what it held (this read
    /// and the full ones before it since it was last drained, also what was
    /// decoded between them; at least what is `buffered` now) is more than
    /// the scratch holds, the next read asks for an eighth more than that, so
    /// that a peer sending messages larger than the scratch gets each one in
    /// a single read that comes back short (the runtime then knows the
    /// socket is empty without a further system call); otherwise the next
    /// read is a scratch read again. An empty socket says nothing of what
    /// comes next and changes nothing.
    fn note_read(&mut self, pending: bool, got: usize, asked: usize, buffered: usize) {
        if got > 0
            && let Some(t) = self.timers()
        {
            t.heard(got);
        }
        if pending {
            return;
        }
        let read_buffer_size = self.read_buffer_size as usize;
        // What the socket held this time: every read since it was last
        // found drained, including what was decoded between them.
        let run = self.sizing.run() + got;
        let full = got >= asked && got > 0;
        let brought = got.max(buffered).max(run);
        // At most `MAX_READ_AHEAD` (`read_buffer_size` is clamped to it).
        let burst = if full {
            (self.sizing.burst() * 2).min(MAX_BURST_READ).max(read_buffer_size)
        } else if got > 0 && brought > IDLE_READ {
            (brought + brought / READ_SLACK).min(MAX_BURST_READ).max(read_buffer_size)
        } else {
            read_buffer_size
        };
        self.sizing = ReadSizing::with(burst, if full { run } else { 0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_sizing_holds_a_burst_and_a_run_in_one_word() {
        for burst in [1, 8 << 10, MAX_BURST_READ, MAX_READ_AHEAD] {
            for run in [0, 1, 64, 65, 16_500, 100_000] {
                let s = ReadSizing::with(burst, run);
                assert_eq!(s.burst(), burst);
                // Rounded up to 64 octets.
                assert!(s.run() >= run && s.run() < run + 64, "{run} kept as {}", s.run());
            }
        }
        // A run past ~128 KiB saturates: it asks for MAX_BURST_READ anyway.
        let s = ReadSizing::with(MAX_READ_AHEAD, 10 << 20);
        assert_eq!(s.burst(), MAX_READ_AHEAD);
        assert_eq!(s.run(), 2047 * 64);
        assert!(s.run() + s.run() / READ_SLACK >= MAX_BURST_READ);
    }
}
