//! The write side of the state machine: messages in, octets out. A
//! [`Sender`] is an [`Encoder`] (compression, fragmentation, masking keys)
//! in front of an outbox (`outbox.rs`: the octets waiting, and the close
//! and pong bookkeeping).

use std::io::IoSlice;

use bytes::Bytes;

use super::deflate::DeflateParams;
use super::encoder::{Encoded, Encoder};
use super::frame::{FrameHeader, OpCode};
use super::outbox::Outbox;
use super::{CloseCode, CloseFrame, Role};
use crate::config::Config;
use crate::message::Message;

/// Octets of automatic pongs that may wait unsent before a new pong
/// replaces the last one instead of queueing behind it. Enough for a burst
/// of pings answered one by one (the conformance suite sends ten at once).
pub const PONG_BUDGET: usize = 1024;

// The outbox counts pongs in 16 bits: the budget plus one pong frame must fit.
const _: () = assert!(PONG_BUDGET + 131 <= u16::MAX as usize);

/// Why a message could not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent: RFC 6455 §5.5.1 forbids data after it.
    AlreadyClosed,
    /// A ping, pong or close payload over 125 octets (RFC 6455 §5.5).
    ControlTooLong(usize),
    /// A close code that may not be sent (RFC 6455 §7.4); use 1000, 1001,
    /// 1002, 1003, 1007–1014 or 3000–4999.
    InvalidCloseCode(u16),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::AlreadyClosed => f.write_str("a close frame was already sent; nothing may follow it"),
            Self::ControlTooLong(n) => {
                write!(f, "control frame payload of {n} octets; the limit is 125")
            }
            Self::InvalidCloseCode(c) => {
                write!(f, "close code {c} may not be sent; use 1000-1003, 1007-1014 or 3000-4999")
            }
        }
    }
}

impl std::error::Error for SendError {}

/// The write side of a connection (sans-IO): queue messages, take octets.
///
/// ```
/// use autostrada::proto::{Role, Sender};
/// use autostrada::{Config, Message};
///
/// let mut tx = Sender::new(Role::Server, &Config::default());
/// tx.send(Message::text("Hello")).unwrap();
/// assert_eq!(tx.take_bytes(), b"\x81\x05Hello");
/// ```
#[derive(Debug)]
pub struct Sender {
    /// Compression, fragmentation and masking keys.
    enc: Encoder,
    /// The octets waiting, and the close and pong bookkeeping.
    pub(super) outbox: Outbox,
}

impl Sender {
    /// A sender for the given role; `config` supplies the send frame size.
    #[must_use]
    pub fn new(role: Role, config: &Config) -> Self {
        Self { enc: Encoder::new(role, config), outbox: Outbox::new(role, config) }
    }

    /// Compresses data messages as negotiated (RFC 7692); `None` sends them as they are.
    pub fn set_deflate(&mut self, params: Option<DeflateParams>) {
        self.enc.set_deflate(params);
    }

    /// True once a close frame was queued.
    #[must_use]
    pub fn close_sent(&self) -> bool {
        self.outbox.close_sent()
    }

    /// Octets waiting to be written.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.outbox.pending()
    }

    /// Queues a message, fragmenting data messages longer than the send frame size.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        if self.outbox.close_sent() {
            return Err(SendError::AlreadyClosed);
        }
        // RFC 7692 §6: the whole message is compressed, then fragmented.
        let (opcode, payload) = match message {
            Message::Text(t) if self.enc.compresses(t.len()) => (OpCode::Text, t.into_bytes()),
            Message::Binary(b) if self.enc.compresses(b.len()) => (OpCode::Binary, b),
            other => return self.outbox.send_plain(other),
        };
        for (header, payload) in self.enc.frames(opcode, payload, true) {
            self.outbox.write_raw(&header, &payload);
        }
        Ok(())
    }

    /// Queues a message without compressing it, even with permessage-deflate
    /// negotiated (for data that is already compressed, say).
    pub fn send_uncompressed(&mut self, message: Message) -> Result<(), SendError> {
        self.outbox.send_plain(message)
    }

    /// Queues a close frame, the last frame this sender will write.
    pub fn send_close(&mut self, frame: Option<&CloseFrame>) -> Result<(), SendError> {
        self.outbox.send_close(frame)
    }

    /// Answers a ping (RFC 6455 §5.5.2) unless a close frame already went out
    /// (§5.5.1: nothing follows a close).
    ///
    /// A peer may send pings faster than we can write. Unsent automatic
    /// pongs queue up to [`PONG_BUDGET`] octets; past that each new one
    /// replaces the last, so a ping flood against a socket that cannot be
    /// written holds about a kilobyte of pongs, not millions of them
    /// (RFC 6455 §5.5.3: answering only the most recent ping is allowed).
    pub fn reply_pong(&mut self, payload: Bytes) {
        self.outbox.reply_pong(payload);
    }

    /// Answers a received close (RFC 6455 §5.5.1) by echoing its status code,
    /// unless we already sent our own close.
    pub fn reply_close(&mut self, received: Option<&CloseFrame>) {
        self.outbox.reply_close(received);
    }

    /// Fails the connection (RFC 6455 §7.1.7): sends a close with `code` and
    /// `reason` unless a close already went out.
    pub fn fail(&mut self, code: CloseCode, reason: &str) {
        self.outbox.fail(code, reason);
    }

    /// Queues a message encoded ahead of time by an [`Encoder`], after
    /// everything queued before it.
    ///
    /// # Errors
    /// [`SendError::AlreadyClosed`] once a close frame was queued.
    pub fn push_encoded(&mut self, encoded: Encoded) -> Result<(), SendError> {
        self.outbox.push_encoded(encoded)
    }

    /// Writes `header` and `payload` exactly as given, masking the payload if
    /// the header has a key. The header's length is not checked against the
    /// payload: this is the fuzzer's door to malformed frames. Not part of
    /// the supported API.
    #[doc(hidden)]
    pub fn write_raw(&mut self, header: &FrameHeader, payload: &Bytes) {
        self.outbox.write_raw(header, payload);
    }

    /// Writes octets as they are (no framing): for a fuzzer's raw writes.
    /// Not part of the supported API.
    #[doc(hidden)]
    pub fn write_octets(&mut self, octets: &[u8]) {
        self.outbox.write_octets(octets);
    }

    /// The pending octets when they are one contiguous chunk (small frames
    /// assembled together, or one large payload alone): a plain write then
    /// takes them, without gathering slots for a vectored one.
    #[must_use]
    pub fn single_chunk(&self) -> Option<&[u8]> {
        self.outbox.single_chunk()
    }

    /// Fills `dst` with the pending chunks, in order, for a vectored write;
    /// returns how many slots were used.
    pub fn chunks<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        self.outbox.chunks(dst)
    }

    /// Marks `n` octets as written.
    pub fn advance(&mut self, n: usize) {
        self.outbox.advance(n);
    }

    /// Takes every pending octet as one buffer (copying if need be); for
    /// tests and simple integrations.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        self.outbox.take_bytes()
    }
}

#[cfg(test)]
#[path = "sender_tests.rs"]
mod tests;
