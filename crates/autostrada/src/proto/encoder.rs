//! Data messages into frames: compression (RFC 7692), fragmentation and, in
//! the client role, masking keys. [`Sender`](super::Sender) uses one to queue
//! messages; the tokio front end keeps its own in the write half, so a large
//! message is compressed and masked into an [`Encoded`] before the writer
//! (which the read half shares for pongs and closes) is locked.

use bytes::{BufMut, Bytes, BytesMut};

use super::Role;
use super::deflate::{Compressor, DeflateParams};
use super::frame::{FrameHeader, OpCode};
use super::mask::apply_mask;
use crate::config::Config;
use crate::message::Message;

/// Masked payloads from this size on are encoded apart by the tokio front
/// end (see [`Encoder::encodes_apart`]); smaller ones cost less to mask than
/// an allocation of their own.
pub const ENCODE_APART_MIN: usize = 4096;

/// Turns data messages into frames.
///
/// ```
/// use autostrada::proto::{Encoder, Role, Sender};
/// use autostrada::{Config, Message};
///
/// let mut encoder = Encoder::new(Role::Server, &Config::default());
/// let encoded = encoder.encode(Message::text("Hello")).unwrap();
/// let mut tx = Sender::new(Role::Server, &Config::default());
/// tx.push_encoded(encoded).unwrap();
/// assert_eq!(tx.take_bytes(), b"\x81\x05Hello");
/// ```
#[derive(Debug)]
pub struct Encoder {
    pub(crate) role: Role,
    /// `Config::send_frame_size`, at least 1; four octets, as every
    /// connection carries two encoders (values of 4 GiB or more count as 4 GiB − 1).
    frame_size: u32,
    /// Set when permessage-deflate was negotiated. Boxed: a connection
    /// without compression carries one pointer for it.
    compressor: Option<Box<Compressor>>,
    /// Data messages shorter than this go out uncompressed (4 GiB or more:
    /// 4 GiB − 1, as for `frame_size`).
    threshold: u32,
    level: u32,
    /// The most window bits our compressor uses (`DeflateConfig::window_bits`).
    window_bits: u8,
    /// `DeflateConfig::keep_zlib_state`.
    keep_zlib_state: bool,
}

impl Encoder {
    /// An encoder for `role`; `config` supplies the send frame size and the
    /// compression level and threshold.
    #[must_use]
    pub fn new(role: Role, config: &Config) -> Self {
        Self {
            role,
            frame_size: saturate_u32(config.send_frame_size.max(1)),
            compressor: None,
            threshold: config.deflate.as_ref().map_or(0, |d| saturate_u32(d.threshold)),
            level: config.deflate.as_ref().map_or(6, |d| d.level),
            window_bits: config.deflate.as_ref().map_or(15, |d| d.window_bits),
            keep_zlib_state: config.deflate.as_ref().is_some_and(|d| d.keep_zlib_state),
        }
    }

    /// Compresses data messages as negotiated (RFC 7692); `None` sends them
    /// as they are, and so does an agreed 8-bit window for our messages
    /// (zlib's smallest raw window is 9 bits; RFC 7692 §6 lets any message
    /// go uncompressed).
    pub fn set_deflate(&mut self, params: Option<DeflateParams>) {
        self.compressor = params.filter(|p| p.sending(self.role).0 >= 9).map(|p| {
            let (agreed, reset) = p.sending(self.role);
            // RFC 7692 §7.1.2: the agreed bits bound our window; a smaller
            // one needs no announcing.
            Box::new(Compressor::new(self.level, agreed.min(self.window_bits), reset).keep_state(self.keep_zlib_state))
        });
    }

    /// Whether a data message of `len` octets would be compressed.
    #[must_use]
    pub fn compresses(&self, len: usize) -> bool {
        self.compressor.is_some() && len >= self.threshold as usize
    }

    /// Whether a data message of `len` octets costs enough to encode apart
    /// (with [`Encoder::encode`]) rather than straight into a sender's
    /// buffer: it will be compressed, or, in the client role, masked into a
    /// copy of at least [`ENCODE_APART_MIN`] octets.
    #[must_use]
    pub fn encodes_apart(&self, len: usize) -> bool {
        self.compresses(len) || (self.role == Role::Client && len >= ENCODE_APART_MIN)
    }

    /// The frames of a data message, in order: compressed if negotiated and
    /// `may_compress`, then fragmented at the send frame size, with a fresh
    /// masking key per frame in the client role. Compression happens here;
    /// the iterator only cuts the result into frames.
    pub(crate) fn frames(&mut self, opcode: OpCode, payload: Bytes, may_compress: bool) -> Frames {
        // RFC 7692 §6: compress the whole message, set RSV1 on its first frame
        // only, then fragment the compressed octets.
        let (rest, rsv) = match self.compressor.as_mut() {
            Some(c) if may_compress && payload.len() >= self.threshold as usize => (c.compress(&payload), 0b100),
            _ => (payload, 0),
        };
        Frames { rest: Some(rest), opcode, rsv, frame_size: self.frame_size as usize, role: self.role }
    }

    /// Encodes a text or binary message into wire octets ready to queue with
    /// [`Sender::push_encoded`](super::Sender::push_encoded); any other
    /// message is handed back (send it with `Sender::send`).
    ///
    /// # Errors
    /// The message itself, when it is not a data message.
    pub fn encode(&mut self, message: Message) -> Result<Encoded, Message> {
        let (opcode, payload) = match message {
            Message::Text(t) => (OpCode::Text, t.into_bytes()),
            Message::Binary(b) => (OpCode::Binary, b),
            other => return Err(other),
        };
        let mut out = Encoded::default();
        for (header, payload) in self.frames(opcode, payload, true) {
            out.push(&header, payload);
        }
        Ok(out)
    }
}

/// `n`, or `u32::MAX` when larger.
pub(crate) fn saturate_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A fresh masking key in the client role (RFC 6455 §5.3: from a strong
/// source, new for every frame); none in the server role.
#[inline]
pub(crate) fn mask_key(role: Role) -> Option<[u8; 4]> {
    if role == Role::Client { Some(fresh_key()) } else { None }
}

/// A key from the thread's CSPRNG.
#[inline(never)]
fn fresh_key() -> [u8; 4] {
    rand::random()
}

/// The frames of one message, cut from its (compressed) payload.
#[derive(Debug)]
pub(crate) struct Frames {
    /// What is left to cut; `None` once the last frame went.
    rest: Option<Bytes>,
    opcode: OpCode,
    rsv: u8,
    frame_size: usize,
    role: Role,
}

impl Frames {
    /// The frames of a payload sent as it is: cut at `frame_size`, with a
    /// fresh masking key per frame in the client role.
    pub(crate) fn plain(opcode: OpCode, payload: Bytes, frame_size: usize, role: Role) -> Self {
        Self { rest: Some(payload), opcode, rsv: 0, frame_size, role }
    }
}

impl Iterator for Frames {
    type Item = (FrameHeader, Bytes);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest.as_mut()?;
        // The whole of what is left when it fits: no split (splitting a
        // buffer's only handle costs a shared-ownership allocation).
        let chunk = if rest.len() <= self.frame_size { std::mem::take(rest) } else { rest.split_to(self.frame_size) };
        let fin = rest.is_empty();
        let mut header = FrameHeader { fin, rsv: self.rsv, ..FrameHeader::new(self.opcode, chunk.len() as u64) };
        header.mask = mask_key(self.role);
        // Continuation frames carry no RSV1 (RFC 7692 §6.1).
        (self.opcode, self.rsv) = (OpCode::Continuation, 0);
        if fin {
            self.rest = None;
        }
        Some((header, chunk))
    }
}

/// A message encoded ahead of time: its frames' octets, in order.
#[derive(Debug, Default)]
pub struct Encoded {
    pub(crate) chunks: Vec<Bytes>,
    pub(crate) len: usize,
}

impl Encoded {
    /// Octets in all.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there is nothing to write (never, for an encoded message).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn push(&mut self, header: &FrameHeader, payload: Bytes) {
        let (head, n) = header.encode();
        self.len += n + payload.len();
        match header.mask {
            Some(key) => {
                // Masked into a copy: the caller's payload stays as it was.
                let mut frame = BytesMut::with_capacity(n + payload.len());
                frame.put_slice(&head[..n]);
                frame.put_slice(&payload);
                apply_mask(&mut frame[n..], key, 0);
                self.chunks.push(frame.freeze());
            }
            None => {
                self.chunks.push(Bytes::copy_from_slice(&head[..n]));
                if !payload.is_empty() {
                    self.chunks.push(payload);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Receiver, Sender};

    fn config(frame: usize) -> Config {
        Config { send_frame_size: frame, deflate: Some(Default::default()), ..Config::default() }
    }

    fn messages() -> Vec<Message> {
        let big: String = (0..20_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        vec![
            Message::text(""),
            Message::text("hello"),
            Message::binary(vec![9u8; 5000]),
            Message::text(big),
            Message::binary(Vec::<u8>::new()),
        ]
    }

    /// A client whose server chose an 8-bit window for it (zlib cannot
    /// compress with one) sends its messages uncompressed; a server's
    /// messages to it are compressed as agreed.
    #[test]
    fn an_eight_bit_window_for_our_messages_sends_them_uncompressed() {
        let params = DeflateParams { client_max_window_bits: 8, ..DeflateParams::default() };
        let mut client = Encoder::new(Role::Client, &config(1 << 20));
        client.set_deflate(Some(params));
        assert!(!client.compresses(5000));
        let mut server = Encoder::new(Role::Server, &config(1 << 20));
        server.set_deflate(Some(params));
        assert!(server.compresses(5000));
    }

    /// Every message through `Sender::send`, and through `Encoder::encode` +
    /// `push_encoded` with small messages in between, decoded by a peer.
    fn both_ways(role: Role, deflate: bool, frame: usize) -> (Vec<Message>, Vec<Message>) {
        let cfg = config(frame);
        let params = deflate.then(DeflateParams::default);
        let decode = |octets: Vec<u8>| {
            let peer = if role == Role::Server { Role::Client } else { Role::Server };
            let mut rx = Receiver::new(peer, &Config { max_frame_size: 1 << 20, ..cfg.clone() });
            rx.set_deflate(params);
            rx.receive_data(&octets);
            let mut out = Vec::new();
            while let Ok(Some(m)) = rx.next_message() {
                out.push(m);
            }
            out
        };
        let mut tx = Sender::new(role, &cfg);
        tx.set_deflate(params);
        for m in messages() {
            tx.send(m).unwrap();
        }
        let direct = decode(tx.take_bytes());
        let mut tx = Sender::new(role, &cfg);
        let mut enc = Encoder::new(role, &cfg);
        enc.set_deflate(params);
        for (i, m) in messages().into_iter().enumerate() {
            // Alternate: straight into the buffer (uncompressed when
            // deflate is on, as the front end does below the threshold only), or encoded apart.
            if i % 2 == 0 && !deflate {
                tx.send(m).unwrap();
            } else {
                tx.push_encoded(enc.encode(m).unwrap()).unwrap();
            }
        }
        (direct, decode(tx.take_bytes()))
    }

    #[test]
    fn encoded_apart_decodes_to_the_same_messages_in_both_roles() {
        for role in [Role::Server, Role::Client] {
            for deflate in [false, true] {
                for frame in [1 << 20, 1000] {
                    let (direct, apart) = both_ways(role, deflate, frame);
                    assert_eq!(direct.len(), messages().len(), "{role:?} deflate {deflate} frame {frame}");
                    assert_eq!(direct, apart, "{role:?} deflate {deflate} frame {frame}");
                }
            }
        }
    }

    #[test]
    fn server_frames_are_the_octets_sender_writes() {
        let cfg = Config::default();
        let mut tx = Sender::new(Role::Server, &cfg);
        tx.send(Message::binary(vec![1u8; 6000])).unwrap();
        let mut apart = Sender::new(Role::Server, &cfg);
        apart.push_encoded(Encoder::new(Role::Server, &cfg).encode(Message::binary(vec![1u8; 6000])).unwrap()).unwrap();
        assert_eq!(tx.take_bytes(), apart.take_bytes());
    }

    #[test]
    fn nothing_encoded_goes_after_a_close_and_control_messages_are_handed_back() {
        let cfg = Config::default();
        let mut enc = Encoder::new(Role::Client, &cfg);
        assert!(matches!(enc.encode(Message::Ping(Bytes::new())), Err(Message::Ping(_))));
        let mut tx = Sender::new(Role::Client, &cfg);
        tx.send_close(None).unwrap();
        let e = tx.push_encoded(enc.encode(Message::text("late")).unwrap()).unwrap_err();
        assert_eq!(e, super::super::SendError::AlreadyClosed);
    }

    #[test]
    fn only_costly_messages_are_encoded_apart() {
        let cfg = Config::default();
        let server = Encoder::new(Role::Server, &cfg);
        assert!(!server.encodes_apart(1 << 20), "a server's large payload is queued by reference");
        let client = Encoder::new(Role::Client, &cfg);
        assert!(!client.encodes_apart(ENCODE_APART_MIN - 1) && client.encodes_apart(ENCODE_APART_MIN));
        let mut deflating = Encoder::new(Role::Server, &config(1 << 20));
        deflating.set_deflate(Some(DeflateParams::default()));
        assert!(deflating.encodes_apart(10));
    }
}

#[cfg(test)]
mod rsv_tests {
    //! RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only.
    use super::*;

    #[test]
    fn a_compressed_message_has_rsv1_on_its_first_frame_only() {
        let cfg = Config { send_frame_size: 16, ..Config::default() };
        for role in [Role::Server, Role::Client] {
            let mut enc = Encoder::new(role, &cfg);
            enc.set_deflate(Some(DeflateParams { server_no_context_takeover: true, ..DeflateParams::default() }));
            // Compresses to a few octets: one frame, final, RSV1 set.
            let e = enc.encode(Message::text("x".repeat(200))).unwrap();
            assert_eq!(e.chunks[0][0], 0xC1, "{role:?}");
            // Random octets do not compress: fragments, RSV1 on the first only.
            let noise: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
            let e = enc.encode(Message::binary(noise)).unwrap();
            let firsts: Vec<u8> = match role {
                // Header and payload are separate chunks when unmasked.
                Role::Server => e.chunks.iter().step_by(2).map(|c| c[0]).collect(),
                Role::Client => e.chunks.iter().map(|c| c[0]).collect(),
            };
            assert_eq!(firsts[0], 0x42, "{role:?}");
            assert!(firsts[1..firsts.len() - 1].iter().all(|&b| b == 0x00), "{role:?} {firsts:x?}");
            assert_eq!(firsts[firsts.len() - 1], 0x80, "{role:?}");
        }
    }
}
