//! What waits to be written on a connection, and the framing of messages
//! sent as they are: the part of the send side that needs no compressor.
//! [`Sender`](super::Sender) wraps one with an [`Encoder`](super::encoder::Encoder); the tokio front
//! end keeps one behind its writer and compresses with an encoder of its
//! own, outside that writer.
//!
//! Small frames are coalesced into one buffer; a large unmasked payload is
//! queued as its own `Bytes` (no copy) so the front end can hand header and
//! payload to one vectored write. Masked payloads (client role) are copied
//! once, into the buffer where they are masked.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::encoder::{Encoded, Frames, mask_key, saturate_u32};
use super::frame::{FrameHeader, OpCode};
use super::mask::apply_mask;
use super::sender::{PONG_BUDGET, SendError};
use super::{CloseCode, CloseFrame, Role};
use crate::config::Config;
use crate::message::Message;

/// Payloads at least this long are queued by reference instead of copied.
const ZERO_COPY_MIN: usize = 4096;

/// The largest assembly buffer kept as a thread's spare (see [`spare`]);
/// a larger one is freed when it empties.
const SPARE_MAX: usize = 64 * 1024;

/// The most chunk slots a spare's queue keeps; a queue that grew past them
/// (a large message cut into many frames) is freed when it empties.
const SPARE_QUEUE_MAX: usize = 16;

/// What waits to be written: complete chunks, then the buffer where small
/// frames are assembled.
#[derive(Debug, Default)]
pub(super) struct Outgoing {
    /// Complete chunks, in order, before `tail`.
    pub(super) queue: VecDeque<Bytes>,
    /// Where small frames are assembled.
    pub(super) tail: BytesMut,
    /// Set once `tail`'s front moved (a partial write took octets off it,
    /// or its frames were split off into `queue`): its storage's front
    /// then has to be taken back before it is kept as a spare. Most
    /// buffers go out whole and skip that.
    pub(super) moved: bool,
}

/// One spare [`Outgoing`] per thread.
///
/// A connection holds its outgoing state (a box with the chunk queue and
/// the assembly buffer) only while octets wait in it, so that one waiting
/// for the peer holds a null pointer instead of 64 octets of empty
/// handles. Allocating and freeing it for every message would cost heap
/// calls on every echo, though; instead an emptied one waits here, and the
/// next connection on this thread with a frame to assemble takes it. The
/// price: the one connection per thread that holds the spare while its
/// peer does not read holds up to [`SPARE_MAX`] for what may be a few
/// octets (any other gets a buffer of its own size).
mod spare {
    use std::cell::Cell;

    use super::Outgoing;

    thread_local! {
        static OUT: Cell<Option<Box<Outgoing>>> = const { Cell::new(None) };
    }

    /// The thread's spare, empty, or a new one.
    pub(super) fn take() -> Box<Outgoing> {
        OUT.try_with(Cell::take).ok().flatten().unwrap_or_default()
    }

    /// Keeps `out`, emptied, as the thread's spare; its buffer only if it is
    /// at most [`SPARE_MAX`](super::SPARE_MAX).
    pub(super) fn give_back(mut out: Box<Outgoing>) {
        out.queue.clear();
        if out.queue.capacity() > super::SPARE_QUEUE_MAX {
            out.queue = Default::default();
        }
        out.tail.clear();
        // Everything split off it was written and dropped (the queue is
        // empty): the storage is this buffer's alone. Take back what
        // partial writes and splits left in front (no copy: it holds
        // nothing), so that the cap below applies to all of it.
        if std::mem::take(&mut out.moved) {
            let _ = out.tail.try_reclaim(out.tail.capacity() + 1);
        }
        if out.tail.capacity() > super::SPARE_MAX {
            out.tail = Default::default();
        }
        // A spare already there (another connection on this thread had
        // frames waiting meanwhile) is freed.
        let _ = OUT.try_with(|slot| slot.set(Some(out)));
    }
}

/// Octets waiting to be written, with the close and pong bookkeeping.
#[derive(Debug)]
pub(crate) struct Outbox {
    /// What waits to be written; `None` when nothing does (see [`spare`]).
    pub(super) out: Option<Box<Outgoing>>,
    /// Octets waiting in `out`.
    pending: usize,
    /// `Config::send_frame_size`, at least 1 (4 GiB or more: 4 GiB − 1).
    frame_size: u32,
    role: Role,
    close_sent: bool,
    /// Octets of automatic pongs at the very end of `tail`, none of them
    /// taken yet (0: none); see [`Outbox::reply_pong`].
    pong_run: u16,
    /// The last of those pongs, whole and unsent (0: none).
    last_pong: u16,
}

impl Outbox {
    /// An outbox for the given role; `config` supplies the send frame size.
    pub(crate) fn new(role: Role, config: &Config) -> Self {
        Self {
            out: None,
            pending: 0,
            frame_size: saturate_u32(config.send_frame_size.max(1)),
            role,
            close_sent: false,
            pong_run: 0,
            last_pong: 0,
        }
    }

    /// True once a close frame was queued.
    #[must_use]
    pub(crate) fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Octets waiting to be written.
    #[must_use]
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Queues a message as it is (no compression), fragmenting data
    /// messages longer than the send frame size.
    pub(crate) fn send_plain(&mut self, message: Message) -> Result<(), SendError> {
        if self.close_sent {
            return Err(SendError::AlreadyClosed);
        }
        match message {
            Message::Text(t) => self.send_data(OpCode::Text, t.into_bytes()),
            Message::Binary(b) => self.send_data(OpCode::Binary, b),
            Message::Ping(p) => self.send_control(OpCode::Ping, p)?,
            Message::Pong(p) => self.send_control(OpCode::Pong, p)?,
            Message::Close(frame) => self.send_close(frame.as_ref())?,
        }
        Ok(())
    }

    /// Queues a close frame, the last frame this sender will write.
    pub(crate) fn send_close(&mut self, frame: Option<&CloseFrame>) -> Result<(), SendError> {
        if self.close_sent {
            return Err(SendError::AlreadyClosed);
        }
        let payload = match frame {
            None => Bytes::new(),
            Some(f) if !f.code.is_sendable() => return Err(SendError::InvalidCloseCode(f.code.0)),
            Some(f) => f.to_payload(),
        };
        self.send_control(OpCode::Close, payload)?;
        self.close_sent = true;
        Ok(())
    }

    /// Answers a ping (RFC 6455 §5.5.2) unless a close frame already went out
    /// (§5.5.1: nothing follows a close).
    ///
    /// A peer may send pings faster than we can write. Unsent automatic
    /// pongs queue up to [`PONG_BUDGET`] octets; past that each new one
    /// replaces the last, so a ping flood against a socket that cannot be
    /// written holds about a kilobyte of pongs, not millions of them
    /// (RFC 6455 §5.5.3: answering only the most recent ping is allowed).
    pub(crate) fn reply_pong(&mut self, payload: Bytes) {
        if self.close_sent {
            return;
        }
        let mut run = usize::from(self.pong_run);
        let last = usize::from(self.last_pong);
        if let Some(out) = self.out.as_mut().filter(|_| run >= PONG_BUDGET && last > 0) {
            // The last pong is whole at the end of the buffer: drop it.
            out.tail.truncate(out.tail.len() - last);
            self.pending -= last;
            run -= last;
        }
        let before = self.pending;
        // A received ping is at most 125 octets, so this cannot fail.
        let _ = self.send_control(OpCode::Pong, payload);
        // A pong frame is at most 131 octets and the run stays within
        // PONG_BUDGET plus one pong: both fit 16 bits.
        let last = self.pending - before;
        self.last_pong = last as u16;
        self.pong_run = (run + last) as u16;
    }

    /// Answers a received close (RFC 6455 §5.5.1) by echoing its status code,
    /// unless we already sent our own close.
    pub(crate) fn reply_close(&mut self, received: Option<&CloseFrame>) {
        if !self.close_sent {
            let echo = received.map(|f| CloseFrame { code: f.code, reason: String::new() });
            // A received code passed validation, so it is sendable.
            let _ = self.send_close(echo.as_ref());
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): sends a close with `code` and
    /// `reason` unless a close already went out.
    pub(crate) fn fail(&mut self, code: CloseCode, reason: &str) {
        if !self.close_sent {
            let _ = self.send_close(Some(&CloseFrame::new(code, reason)));
        }
    }

    /// Queues an uncompressed data message: one frame, or frames of the send
    /// frame size.
    fn send_data(&mut self, opcode: OpCode, payload: Bytes) {
        if payload.len() <= self.frame_size as usize {
            // Most messages: one frame, written without the frame iterator.
            self.write_frame(FrameHeader::new(opcode, payload.len() as u64), payload);
            return;
        }
        for (header, payload) in Frames::plain(opcode, payload, self.frame_size as usize, self.role) {
            self.write_raw(&header, &payload);
        }
    }

    /// Queues a message encoded ahead of time by an [`Encoder`](super::encoder::Encoder), after
    /// everything queued before it.
    ///
    /// # Errors
    /// [`SendError::AlreadyClosed`] once a close frame was queued.
    pub(crate) fn push_encoded(&mut self, encoded: Encoded) -> Result<(), SendError> {
        if self.close_sent {
            return Err(SendError::AlreadyClosed);
        }
        if encoded.len == 0 {
            // Nothing to write: take no buffer for it.
            return Ok(());
        }
        (self.pong_run, self.last_pong) = (0, 0);
        let out = self.out.get_or_insert_with(spare::take);
        if !out.tail.is_empty() {
            out.queue.push_back(out.tail.split().freeze());
            out.moved = true;
        }
        self.pending += encoded.len;
        out.queue.extend(encoded.chunks);
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: Bytes) -> Result<(), SendError> {
        // RFC 6455 §5.5: control frames carry at most 125 octets.
        if payload.len() > 125 {
            return Err(SendError::ControlTooLong(payload.len()));
        }
        self.write_frame(FrameHeader::new(opcode, payload.len() as u64), payload);
        Ok(())
    }

    /// Writes one frame, masking it in the client role (RFC 6455 §5.3, with a
    /// fresh key from the thread's CSPRNG for every frame).
    fn write_frame(&mut self, mut header: FrameHeader, payload: Bytes) {
        header.mask = mask_key(self.role);
        self.write_raw(&header, &payload);
    }

    /// Writes `header` and `payload` exactly as given, masking the payload if
    /// the header has a key. The header's length is not checked against the
    /// payload: this is the fuzzer's door to malformed frames. Not part of
    /// the supported API.
    pub(crate) fn write_raw(&mut self, header: &FrameHeader, payload: &Bytes) {
        (self.pong_run, self.last_pong) = (0, 0);
        if header.mask.is_none() && payload.len() < 126 && header.payload_len == payload.len() as u64 {
            // The common small unmasked frame (a server's): a two-octet header.
            self.write_short(header, payload);
            return;
        }
        let (head, n) = header.encode();
        // One reservation for all this frame copies into the tail: growing
        // it per piece cost a reallocation on most small frames.
        let copied = if header.mask.is_none() && payload.len() >= ZERO_COPY_MIN { 0 } else { payload.len() };
        let out = self.out.get_or_insert_with(spare::take);
        out.tail.reserve(n + copied);
        out.tail.put_slice(&head[..n]);
        self.pending += n + payload.len();
        if let Some(key) = header.mask {
            let start = out.tail.len();
            out.tail.put_slice(payload);
            apply_mask(&mut out.tail[start..], key, 0);
        } else if payload.len() >= ZERO_COPY_MIN {
            out.queue.push_back(out.tail.split().freeze());
            out.moved = true;
            out.queue.push_back(payload.clone());
        } else {
            out.tail.put_slice(payload);
        }
    }

    /// [`Outbox::write_raw`] for an unmasked frame of at most 125 octets
    /// whose header states its true length (RFC 6455 §5.2: the 7-bit length).
    fn write_short(&mut self, header: &FrameHeader, payload: &[u8]) {
        // One reservation: growing per piece cost a reallocation on most
        // small frames.
        let tail = &mut self.out.get_or_insert_with(spare::take).tail;
        tail.reserve(2 + payload.len());
        tail.put_slice(&[header.first_octet(), payload.len() as u8]);
        tail.put_slice(payload);
        self.pending += 2 + payload.len();
    }

    /// Writes octets as they are (no framing): for a fuzzer's raw writes.
    /// Not part of the supported API.
    pub(crate) fn write_octets(&mut self, octets: &[u8]) {
        if octets.is_empty() {
            // Nothing to write: take no buffer for it.
            return;
        }
        (self.pong_run, self.last_pong) = (0, 0);
        self.out.get_or_insert_with(spare::take).tail.put_slice(octets);
        self.pending += octets.len();
    }

    /// The pending octets when they are one contiguous chunk (small frames
    /// assembled together, or one large payload alone): a plain write then
    /// takes them, without gathering slots for a vectored one.
    #[must_use]
    pub(crate) fn single_chunk(&self) -> Option<&[u8]> {
        let out = self.out.as_deref()?;
        match (out.queue.len(), out.tail.is_empty()) {
            (0, false) => Some(&out.tail),
            (1, true) => out.queue.front().map(|b| &b[..]),
            _ => None,
        }
    }

    /// Fills `dst` with the pending chunks, in order, for a vectored write;
    /// returns how many slots were used.
    pub(crate) fn chunks<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let Some(out) = self.out.as_deref() else { return 0 };
        let tail = (!out.tail.is_empty()).then_some(&out.tail[..]);
        let sources = out.queue.iter().map(|b| &b[..]).chain(tail);
        let mut n = 0;
        for (slot, chunk) in dst.iter_mut().zip(sources) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }

    /// Marks `n` octets as written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        self.pending -= n;
        let Some(out) = self.out.as_mut() else { return };
        if self.pending == 0 {
            // All out: give the box back, so a connection that waits holds
            // none (the next frame borrows the thread's spare).
            (self.pong_run, self.last_pong) = (0, 0);
            if let Some(out) = self.out.take() {
                spare::give_back(out);
            }
            return;
        }
        while n > 0 {
            let Some(front) = out.queue.front_mut() else {
                break;
            };
            if n < front.len() {
                front.advance(n);
                return;
            }
            n -= front.len();
            out.queue.pop_front();
        }
        out.tail.advance(n);
        out.moved = true;
        // Once any of it went out, a pong must go out whole.
        if out.tail.len() < usize::from(self.pong_run) {
            self.pong_run = out.tail.len() as u16;
        }
        if out.tail.len() < usize::from(self.last_pong) {
            self.last_pong = 0;
        }
    }

    /// Takes every pending octet as one buffer (copying if need be); for
    /// tests and simple integrations.
    pub(crate) fn take_bytes(&mut self) -> Vec<u8> {
        let mut octets = Vec::with_capacity(self.pending);
        if let Some(out) = self.out.take() {
            for chunk in &out.queue {
                octets.extend_from_slice(chunk);
            }
            octets.extend_from_slice(&out.tail);
            spare::give_back(out);
        }
        self.pending = 0;
        (self.pong_run, self.last_pong) = (0, 0);
        octets
    }
}
