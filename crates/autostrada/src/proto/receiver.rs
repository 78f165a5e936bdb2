//! The read side of the state machine: octets in, messages out, with every
//! check RFC 6455 asks of a receiver.
//!
//! Buffer hops: the socket reads into the receiver's buffer (the tokio
//! front end reads into it in place; sans-IO callers copy in with
//! [`Receiver::receive_data`]); a frame's
//! payload is unmasked and (for text) validated in place as its octets
//! arrive; a single-frame message is then split off that buffer without a
//! copy; fragments of a longer message are copied once into the message
//! buffer.

use bytes::{Buf, Bytes, BytesMut};

use super::close::{ClosePayloadError, parse_close_payload};
use super::deflate::{Decompressor, DeflateParams, InflateError};
use super::encoder::saturate_u32;
use super::frame::{FrameHeader, OpCode};
use super::growth;
use super::mask::apply_mask;
use super::utf8::Utf8Validator;
use super::{CloseCode, Role};
use crate::config::Config;
use crate::message::{Message, Utf8Bytes};

/// A protocol violation by the peer. The connection is failed with
/// [`close_code`](Self::close_code) and the message as reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// RSV bits set without an extension that defines them (RFC 6455 §5.2).
    ReservedBits(u8),
    /// An opcode RFC 6455 reserves (§5.2).
    ReservedOpcode(u8),
    /// A control frame without FIN (§5.5).
    FragmentedControl,
    /// A control frame longer than 125 octets (§5.5).
    ControlTooLong(u64),
    /// A client frame without a mask, or a server frame with one (§5.1).
    Masking {
        /// Whether the frame was masked.
        masked: bool,
    },
    /// A 64-bit length with the top bit set, or a non-minimal length (§5.2).
    BadLength,
    /// A continuation frame with no message to continue (§5.4).
    UnexpectedContinuation,
    /// A new data frame while a fragmented message is unfinished (§5.4).
    ExpectedContinuation,
    /// A frame larger than [`Config::max_frame_size`].
    FrameTooLarge {
        /// The declared payload length.
        len: u64,
        /// The limit.
        max: usize,
    },
    /// A message larger than [`Config::max_message_size`].
    MessageTooLarge {
        /// The limit.
        max: usize,
    },
    /// More fragments than [`Config::max_fragments`].
    TooManyFragments {
        /// The limit.
        max: usize,
    },
    /// A text message that is not UTF-8 (§8.1).
    InvalidUtf8,
    /// A malformed close frame payload (§5.5.1).
    InvalidClose(ClosePayloadError),
    /// A compressed message that is not valid deflate data (RFC 7692 §7.2.2).
    BadCompression(String),
}

impl ProtocolError {
    /// The close code to fail the connection with (RFC 6455 §7.4.1).
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } | Self::TooManyFragments { .. } => {
                CloseCode::MESSAGE_TOO_BIG
            }
            Self::InvalidUtf8 | Self::BadCompression(_) => CloseCode::INVALID_PAYLOAD,
            Self::InvalidClose(e) => e.close_code(),
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ReservedBits(r) => {
                write!(f, "reserved bits {r:#05b} set with no extension negotiated")
            }
            Self::ReservedOpcode(o) => write!(f, "reserved opcode {o:#x}"),
            Self::FragmentedControl => f.write_str("fragmented control frame"),
            Self::ControlTooLong(n) => write!(f, "control frame of {n} octets (limit 125)"),
            Self::Masking { masked: false } => f.write_str("unmasked frame from a client"),
            Self::Masking { masked: true } => f.write_str("masked frame from a server"),
            Self::BadLength => f.write_str("invalid payload length encoding"),
            Self::UnexpectedContinuation => f.write_str("continuation frame without a message to continue"),
            Self::ExpectedContinuation => f.write_str("new data frame inside a fragmented message"),
            Self::FrameTooLarge { len, max } => {
                write!(f, "frame of {len} octets exceeds the limit of {max}")
            }
            Self::MessageTooLarge { max } => write!(f, "message exceeds the limit of {max} octets"),
            Self::TooManyFragments { max } => write!(f, "message has more than {max} fragments"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8 in text message"),
            Self::InvalidClose(e) => write!(f, "{e}"),
            Self::BadCompression(e) => write!(f, "invalid compressed message: {e}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Frames of at least this many octets are split off the receive buffer,
/// never handed over with it (see `Receiver::decode`).
pub(crate) const SPLIT_MIN: usize = 4096;

/// A frame whose header is parsed and whose payload is (partly) in the buffer.
/// Its length is the header's (checked to fit `usize` and the limits).
#[derive(Debug)]
struct InFrame {
    header: FrameHeader,
    /// Payload octets at the front of the buffer already unmasked and
    /// validated: at most the frame's length, which `check_header` bounds by
    /// the frame limit, a `u32` (four octets here keep `InFrame` at 32).
    checked: u32,
    /// Whether the payload is text to validate as it arrives.
    text: bool,
}

impl InFrame {
    /// The payload's length.
    #[inline]
    fn len(&self) -> usize {
        // `check_header` refused lengths past the frame limit, a `usize`.
        self.header.payload_len as usize
    }
}

/// A fragmented message being assembled.
#[derive(Debug)]
struct InMessage {
    text: bool,
    /// The octets so far (inflated, for a compressed message).
    data: BytesMut,
    fragments: usize,
    /// RSV1 on the first frame: the payload is deflate data (RFC 7692 §6).
    compressed: bool,
    /// Octets received on the wire so far (the compressed size).
    wire_len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// A close frame was received: nothing more is read.
    CloseReceived,
    /// The peer broke the protocol: nothing more is read.
    Failed,
}

/// The read side of a connection (sans-IO): feed it octets, take messages.
///
/// ```
/// use autostrada::proto::{Receiver, Role};
/// use autostrada::{Config, Message};
///
/// let mut rx = Receiver::new(Role::Client, &Config::default());
/// rx.receive_data(&[0x81, 0x05, b'H', b'e']); // half a frame
/// assert_eq!(rx.next_message(), Ok(None));
/// rx.receive_data(b"llo");
/// assert_eq!(rx.next_message(), Ok(Some(Message::text("Hello"))));
/// ```
#[derive(Debug)]
pub struct Receiver {
    role: Role,
    /// The three limits from `Config`, in 32 bits (values of 4 GiB or
    /// more count as 4 GiB − 1), so that they share eight octets with the flags below.
    max_frame_size: u32,
    max_message_size: u32,
    max_fragments: u32,
    buf: BytesMut,
    frame: Option<InFrame>,
    /// Boxed: only a fragmented or compressed message needs it, and an idle
    /// connection then carries one pointer instead of the assembly state.
    message: Option<Box<InMessage>>,
    utf8: Utf8Validator,
    state: State,
    /// Set when permessage-deflate was negotiated (boxed, as the encoder's compressor).
    inflater: Option<Box<Decompressor>>,
    /// `DeflateConfig::keep_zlib_state`.
    keep_zlib_state: bool,
    /// The permessage-deflate parameters in force (four octets, in what
    /// would be padding).
    deflate: Option<DeflateParams>,
}

impl Receiver {
    /// A receiver for the given role; `config` supplies the limits.
    #[must_use]
    pub fn new(role: Role, config: &Config) -> Self {
        Self {
            role,
            max_frame_size: saturate_u32(config.max_frame_size),
            max_message_size: saturate_u32(config.max_message_size),
            max_fragments: saturate_u32(config.max_fragments),
            buf: BytesMut::new(),
            frame: None,
            message: None,
            utf8: Utf8Validator::new(),
            state: State::Open,
            inflater: None,
            keep_zlib_state: config.deflate.as_ref().is_some_and(|d| d.keep_zlib_state),
            deflate: None,
        }
    }

    /// Accepts compressed messages as negotiated (RFC 7692); `None` refuses
    /// RSV1 like any other reserved bit.
    pub fn set_deflate(&mut self, params: Option<DeflateParams>) {
        self.deflate = params;
        self.inflater = params.map(|p| {
            let (bits, resets) = p.receiving(self.role);
            Box::new(Decompressor::new(resets).peer_window_bits(bits).keep_state(self.keep_zlib_state))
        });
    }

    /// The permessage-deflate parameters set with
    /// [`set_deflate`](Self::set_deflate), if any.
    #[must_use]
    pub fn deflate(&self) -> Option<DeflateParams> {
        self.deflate
    }

    /// Appends received octets (copying). Once a close frame was received
    /// or the peer broke the protocol ([`is_finished`](Self::is_finished)),
    /// they are discarded: RFC 6455 §1.4 has an endpoint that received a
    /// close ignore what follows it, and a peer that goes on sending must
    /// not grow our buffer while we wait for its TCP to close.
    pub fn receive_data(&mut self, data: &[u8]) {
        if self.state == State::Open {
            self.buf.extend_from_slice(data);
        }
    }

    /// The buffer received octets go into, for the tokio front end to read
    /// from the socket straight into it. Crate-private on purpose: the
    /// octets of a text frame already validated as UTF-8 (and unmasked) sit
    /// in this buffer, and a caller that changed or removed them would hand
    /// out a `Text` message that is not UTF-8. Callers may only append, or
    /// swap an empty buffer for another empty one.
    #[cfg(feature = "tokio")]
    pub(crate) fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// How many more octets the current frame needs (0 when between frames).
    /// A reader may size its next read by it.
    #[must_use]
    pub fn frame_remaining(&self) -> usize {
        self.frame.as_ref().map_or(0, |f| f.len().saturating_sub(self.buf.len()))
    }

    /// True while a data message is partly received: a fragmented message
    /// has begun, or a data frame's payload is still arriving.
    #[must_use]
    pub fn in_data_message(&self) -> bool {
        self.message.is_some() || self.frame.as_ref().is_some_and(|f| !f.header.opcode.is_control())
    }

    /// Payload octets of the data message in progress received so far
    /// (fragments done and the current data frame's arrived part; 0
    /// between messages). It only grows while one message arrives, so a
    /// reader can tell a message that is still arriving from one whose
    /// sender went quiet, whatever control frames come meanwhile.
    #[must_use]
    pub fn data_progress(&self) -> usize {
        let done = self.message.as_ref().map_or(0, |m| m.wire_len);
        let current =
            self.frame.as_ref().filter(|f| !f.header.opcode.is_control()).map_or(0, |f| f.len().min(self.buf.len()));
        done + current
    }

    /// True once a close frame was received or the peer broke the protocol:
    /// the receiver reads nothing more.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.state != State::Open
    }

    /// The next complete message, `Ok(None)` when more octets are needed.
    ///
    /// After a [`Message::Close`] or an error, returns `Ok(None)` for good.
    #[inline]
    pub fn next_message(&mut self) -> Result<Option<Message>, ProtocolError> {
        self.next_message_copying_below(0)
    }

    /// [`Receiver::next_message`], copying payloads shorter than
    /// `copy_below` octets into storage of their own rather than splitting
    /// them off the buffer. A payload split off shares the buffer's
    /// storage and keeps all of it alive while the message is held: a
    /// reader that reads into a large buffer passes a fraction of its size,
    /// so that a held message never keeps more than that many times its own.
    #[inline]
    pub(crate) fn next_message_copying_below(&mut self, copy_below: usize) -> Result<Option<Message>, ProtocolError> {
        // Nothing buffered, nothing to decode: a frame whose header was read
        // has payload still to come (one with none completes at once), and
        // a new header needs two octets. The common case between reads,
        // answered without a call.
        if self.state != State::Open || self.buf.is_empty() {
            return Ok(None);
        }
        self.next_decoded(copy_below)
    }

    /// [`Receiver::next_message`] on a buffer that holds something.
    #[inline(never)]
    fn next_decoded(&mut self, copy_below: usize) -> Result<Option<Message>, ProtocolError> {
        let result = self.decode(copy_below);
        match &result {
            // Nothing buffered is read any more (the storage stays, for a
            // front end that lends it to give back).
            Err(_) => {
                self.state = State::Failed;
                self.buf.clear();
            }
            Ok(Some(Message::Close(_))) => {
                self.state = State::CloseReceived;
                self.buf.clear();
            }
            Ok(_) => {}
        }
        result
    }

    fn decode(&mut self, copy_below: usize) -> Result<Option<Message>, ProtocolError> {
        loop {
            if self.frame.is_none() {
                let Some(parsed) = FrameHeader::parse(&self.buf) else {
                    return Ok(None);
                };
                if !parsed.length_is_minimal() {
                    return Err(ProtocolError::BadLength);
                }
                let frame = self.check_header(parsed.header)?;
                self.buf.advance(parsed.header_len);
                self.frame = Some(frame);
            }
            let Some(frame) = self.frame.as_mut() else {
                return Ok(None);
            };
            let len = frame.len();
            let avail = self.buf.len().min(len);
            let checked = frame.checked as usize;
            if avail > checked {
                let fresh = &mut self.buf[checked..avail];
                if let Some(key) = frame.header.mask {
                    apply_mask(fresh, key, checked);
                }
                // RFC 6455 §8.1 + fail fast: validate text as it arrives, not
                // when the frame or message is complete.
                if frame.text {
                    self.utf8.feed(fresh).map_err(|_| ProtocolError::InvalidUtf8)?;
                }
                // avail <= len, which fits 32 bits (see `checked`).
                frame.checked = avail as u32;
            }
            if avail < len {
                return Ok(None);
            }
            let header = frame.header;
            // Only a payload that reaches the application as it is: the
            // fragments and compressed frames of a message are copied into
            // its own buffer anyway.
            let as_is = header.opcode.is_control()
                || (header.fin && header.rsv & 0b100 == 0 && header.opcode != OpCode::Continuation);
            let payload = if len < copy_below && as_is {
                // Small for the storage it arrived in: copied, so that
                // holding it does not hold the storage (see
                // `next_message_copying_below`).
                let payload = Bytes::copy_from_slice(&self.buf[..len]);
                self.buf.advance(len);
                payload
            } else if len == self.buf.len() && self.buf.len() == self.buf.capacity() && len < SPLIT_MIN {
                // A small frame that is all the buffer holds, and the buffer
                // is exactly full (a read that brought one whole frame):
                // hand the buffer over as it is. Splitting would allocate
                // shared ownership of it, for nothing left to share. A
                // larger one is split off, so that whoever filled the buffer
                // can take its storage back once the message is dropped.
                std::mem::take(&mut self.buf).freeze()
            } else {
                self.buf.split_to(len).freeze()
            };
            self.frame = None;
            if let Some(message) = self.complete_frame(header, payload)? {
                return Ok(Some(message));
            }
        }
    }

    /// Applies RFC 6455's rules to a header before its payload is read.
    fn check_header(&mut self, h: FrameHeader) -> Result<InFrame, ProtocolError> {
        // §5.2: RSV bits must be 0 unless an extension defines them. RFC 7692
        // §6: with permessage-deflate, RSV1 marks the first frame of a
        // compressed message — never a continuation or control frame.
        let first_data = matches!(h.opcode, OpCode::Text | OpCode::Binary);
        let allowed = if self.inflater.is_some() && first_data { 0b100 } else { 0 };
        if h.rsv & !allowed != 0 {
            return Err(ProtocolError::ReservedBits(h.rsv));
        }
        let compressed = h.rsv & 0b100 != 0;
        // §5.2: reserved opcodes must fail the connection.
        if let OpCode::Reserved(bits) = h.opcode {
            return Err(ProtocolError::ReservedOpcode(bits));
        }
        // §5.1: clients mask every frame, servers none.
        let must_be_masked = self.role == Role::Server;
        if h.mask.is_some() != must_be_masked {
            return Err(ProtocolError::Masking { masked: h.mask.is_some() });
        }
        // §5.2: the most significant bit of a 64-bit length must be 0.
        if h.payload_len > i64::MAX as u64 {
            return Err(ProtocolError::BadLength);
        }
        if h.opcode.is_control() {
            // §5.5: control frames are never fragmented and carry at most 125 octets.
            if !h.fin {
                return Err(ProtocolError::FragmentedControl);
            }
            if h.payload_len > 125 {
                return Err(ProtocolError::ControlTooLong(h.payload_len));
            }
            return Ok(InFrame { header: h, checked: 0, text: false });
        }
        if h.payload_len > u64::from(self.max_frame_size) {
            return Err(ProtocolError::FrameTooLarge { len: h.payload_len, max: self.max_frame_size as usize });
        }
        let len = h.payload_len as usize;
        let text = match (h.opcode, &mut self.message) {
            // §5.4: a continuation needs a message in progress, and a new
            // message may not start inside one.
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(m)) => {
                m.fragments += 1;
                if m.fragments > self.max_fragments as usize {
                    return Err(ProtocolError::TooManyFragments { max: self.max_fragments as usize });
                }
                // What the message holds so far and this frame's payload
                // together: for a compressed message, the larger of what
                // came on the wire and what it inflated to, so that the
                // inflated octets and the next compressed frame never
                // occupy more than the limit between them.
                let so_far = if m.compressed { m.wire_len.max(m.data.len()) } else { m.data.len() };
                if so_far.saturating_add(len) > self.max_message_size as usize {
                    return Err(ProtocolError::MessageTooLarge { max: self.max_message_size as usize });
                }
                m.text && !m.compressed
            }
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (opcode, None) => {
                if len > self.max_message_size as usize {
                    return Err(ProtocolError::MessageTooLarge { max: self.max_message_size as usize });
                }
                opcode == OpCode::Text && !compressed
            }
        };
        Ok(InFrame { header: h, checked: 0, text })
    }

    /// Turns a complete frame into a message, or folds it into the one being assembled.
    fn complete_frame(&mut self, h: FrameHeader, payload: Bytes) -> Result<Option<Message>, ProtocolError> {
        let message = match h.opcode {
            OpCode::Ping => Message::Ping(payload),
            OpCode::Pong => Message::Pong(payload),
            OpCode::Close => Message::Close(parse_close_payload(&payload).map_err(ProtocolError::InvalidClose)?),
            OpCode::Text | OpCode::Binary | OpCode::Continuation => return self.data_frame(h, payload),
            OpCode::Reserved(bits) => return Err(ProtocolError::ReservedOpcode(bits)),
        };
        Ok(Some(message))
    }

    /// Folds a data frame into the message it belongs to; returns the
    /// message once complete.
    fn data_frame(&mut self, h: FrameHeader, payload: Bytes) -> Result<Option<Message>, ProtocolError> {
        let first = h.opcode != OpCode::Continuation;
        let compressed = first && h.rsv & 0b100 != 0;
        if first && h.fin && !compressed {
            // The common case: one frame, no copy.
            return self.finish_data(h.opcode == OpCode::Text, payload).map(Some);
        }
        if first {
            let text = h.opcode == OpCode::Text;
            self.message =
                Some(Box::new(InMessage { text, data: BytesMut::new(), fragments: 1, compressed, wire_len: 0 }));
        }
        let Some(m) = self.message.as_mut() else { return Err(ProtocolError::UnexpectedContinuation) };
        m.wire_len += payload.len();
        if m.compressed {
            let Some(inflater) = self.inflater.as_mut() else { return Err(ProtocolError::ReservedBits(0b100)) };
            let limit = self.max_message_size as usize;
            let start = m.data.len();
            let inflated = inflater.inflate(&payload, &mut m.data, limit);
            let inflated = inflated.and_then(|()| if h.fin { inflater.finish(&mut m.data, limit) } else { Ok(()) });
            inflated.map_err(|e| match e {
                // The limit applies to the inflated size: a small message that
                // inflates past it is refused having produced at most the limit.
                InflateError::TooLarge(max) => ProtocolError::MessageTooLarge { max },
                InflateError::Corrupt(why) => ProtocolError::BadCompression(why),
            })?;
            // Fail fast on the inflated text too.
            if m.text {
                self.utf8.feed(&m.data[start..]).map_err(|_| ProtocolError::InvalidUtf8)?;
            }
        } else {
            growth::grow_within(&mut m.data, payload.len(), self.max_message_size as usize);
            m.data.extend_from_slice(&payload);
        }
        if !h.fin {
            return Ok(None);
        }
        let Some(m) = self.message.take() else { return Ok(None) };
        self.finish_data(m.text, m.data.freeze()).map(Some)
    }

    fn finish_data(&mut self, text: bool, data: Bytes) -> Result<Message, ProtocolError> {
        if text {
            // §8.1: a text message may not end inside a code point.
            self.utf8.finish().map_err(|_| ProtocolError::InvalidUtf8)?;
            Ok(Message::Text(Utf8Bytes::from_validated(data)))
        } else {
            Ok(Message::Binary(data))
        }
    }
}

#[cfg(test)]
#[path = "receiver_tests.rs"]
mod tests;
