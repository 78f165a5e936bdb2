//! The frame header codec (RFC 6455 §5.2), deliberately lenient.
//!
//! [`FrameHeader::parse`] accepts *any* header a peer can put on the wire —
//! reserved bits, reserved opcodes, fragmented or oversized control frames,
//! non-minimal length encodings, a 64-bit length with its top bit set — and
//! [`FrameHeader::encode`] writes any of them too. The conformance suite needs
//! exactly that; the strict checks of RFC 6455 live one layer up, in
//! [`crate::proto::Receiver`].
//!
//! ```
//! use autostrada::proto::{FrameHeader, OpCode};
//!
//! // RFC 6455 §5.7: a single-frame unmasked text message "Hello".
//! let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
//! let parsed = FrameHeader::parse(&wire).unwrap();
//! assert_eq!(parsed.header.opcode, OpCode::Text);
//! assert_eq!(parsed.header.payload_len, 5);
//! assert_eq!(&wire[parsed.header_len..], b"Hello");
//! ```

/// The largest header: 2 fixed octets, 8 octets of length, 4 of masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// A frame opcode (RFC 6455 §5.2, 4 bits), including the reserved values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: continues a fragmented message.
    Continuation,
    /// `0x1`: the first frame of a text message.
    Text,
    /// `0x2`: the first frame of a binary message.
    Binary,
    /// `0x8`: connection close.
    Close,
    /// `0x9`: ping.
    Ping,
    /// `0xA`: pong.
    Pong,
    /// Any of the reserved values `0x3..=0x7` (data) and `0xB..=0xF` (control).
    Reserved(u8),
}

impl OpCode {
    /// Decodes the low 4 bits of `bits`.
    #[must_use]
    pub fn from_bits(bits: u8) -> Self {
        match bits & 0x0f {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xa => Self::Pong,
            other => Self::Reserved(other),
        }
    }

    /// The 4-bit wire value.
    #[must_use]
    pub fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xa,
            Self::Reserved(b) => b & 0x0f,
        }
    }

    /// RFC 6455 §5.5: opcodes with the high bit set (`0x8..=0xF`) are control frames.
    #[must_use]
    pub fn is_control(self) -> bool {
        self.bits() & 0x08 != 0
    }

    /// True for the reserved opcodes, which no extension of ours defines.
    #[must_use]
    pub fn is_reserved(self) -> bool {
        matches!(self, Self::Reserved(_))
    }
}

/// A frame header exactly as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1, RSV2, RSV3 as the three low bits (`0b100` is RSV1).
    pub rsv: u8,
    /// The opcode, reserved values included.
    pub opcode: OpCode,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The declared payload length. It need not match the bytes that follow:
    /// a fuzzer may lie.
    pub payload_len: u64,
}

/// How the payload length is written (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthForm {
    /// The shortest form for the length (what the RFC requires).
    Minimal,
    /// 7-bit form (lengths up to 125).
    Short,
    /// `126` followed by a 16-bit length.
    Extended16,
    /// `127` followed by a 64-bit length.
    Extended64,
}

/// The result of [`FrameHeader::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedHeader {
    /// The header.
    pub header: FrameHeader,
    /// How many octets the header took.
    pub header_len: usize,
    /// How the length was encoded on the wire.
    pub length_form: LengthForm,
}

impl ParsedHeader {
    /// RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
    #[must_use]
    pub fn length_is_minimal(&self) -> bool {
        let len = self.header.payload_len;
        match self.length_form {
            LengthForm::Short | LengthForm::Minimal => true,
            LengthForm::Extended16 => len > 125,
            LengthForm::Extended64 => len > 0xffff,
        }
    }
}

impl FrameHeader {
    /// A final, unmasked frame with no reserved bits set.
    #[must_use]
    pub fn new(opcode: OpCode, payload_len: u64) -> Self {
        Self { fin: true, rsv: 0, opcode, mask: None, payload_len }
    }

    /// Parses a header from the front of `buf`.
    ///
    /// Returns `None` when `buf` does not yet hold the whole header. Never
    /// fails: every bit pattern is a header; judging it is the caller's job.
    #[must_use]
    pub fn parse(buf: &[u8]) -> Option<ParsedHeader> {
        let &[b0, b1, ref rest @ ..] = buf else {
            return None;
        };
        let masked = b1 & 0x80 != 0;
        let (payload_len, len_octets, length_form) = match b1 & 0x7f {
            126 => {
                let ext: [u8; 2] = rest.get(..2)?.try_into().ok()?;
                (u64::from(u16::from_be_bytes(ext)), 2, LengthForm::Extended16)
            }
            127 => {
                let ext: [u8; 8] = rest.get(..8)?.try_into().ok()?;
                (u64::from_be_bytes(ext), 8, LengthForm::Extended64)
            }
            short => (u64::from(short), 0, LengthForm::Short),
        };
        let mask = if masked { Some(rest.get(len_octets..len_octets + 4)?.try_into().ok()?) } else { None };
        let header = FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x07,
            opcode: OpCode::from_bits(b0),
            mask,
            payload_len,
        };
        Some(ParsedHeader { header, header_len: 2 + len_octets + if masked { 4 } else { 0 }, length_form })
    }

    /// The number of octets [`encode`](Self::encode) writes with the minimal length form.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let len_octets = match self.payload_len {
            0..=125 => 0,
            126..=0xffff => 2,
            _ => 8,
        };
        2 + len_octets + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header with the minimal length form; returns the octets and their count.
    #[must_use]
    pub fn encode(&self) -> ([u8; MAX_HEADER_LEN], usize) {
        self.encode_with(LengthForm::Minimal)
    }

    /// The header's first octet: FIN, the RSV bits and the opcode (RFC 6455 §5.2).
    #[must_use]
    pub fn first_octet(&self) -> u8 {
        (u8::from(self.fin) << 7) | ((self.rsv & 0x07) << 4) | self.opcode.bits()
    }

    /// Writes the header with a chosen length form, which may be non-minimal
    /// (a fuzzer's tool). A length too large for the chosen form is truncated
    /// to that form's bits, exactly as a careless peer would write it.
    #[must_use]
    pub fn encode_with(&self, form: LengthForm) -> ([u8; MAX_HEADER_LEN], usize) {
        let mut out = [0u8; MAX_HEADER_LEN];
        out[0] = self.first_octet();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let form = match form {
            LengthForm::Minimal => match self.payload_len {
                0..=125 => LengthForm::Short,
                126..=0xffff => LengthForm::Extended16,
                _ => LengthForm::Extended64,
            },
            other => other,
        };
        let mut n = 2;
        match form {
            LengthForm::Short | LengthForm::Minimal => {
                out[1] = mask_bit | (self.payload_len as u8 & 0x7f);
            }
            LengthForm::Extended16 => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
                n = 4;
            }
            LengthForm::Extended64 => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&self.payload_len.to_be_bytes());
                n = 10;
            }
        }
        if let Some(key) = self.mask {
            out[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        (out, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(h: FrameHeader) -> ParsedHeader {
        let (buf, n) = h.encode();
        assert_eq!(n, h.encoded_len());
        let p = FrameHeader::parse(&buf[..n]).expect("complete header");
        assert_eq!(p.header, h);
        assert_eq!(p.header_len, n);
        assert!(p.length_is_minimal());
        // Any shorter prefix is incomplete, never misparsed.
        for cut in 0..n {
            assert!(FrameHeader::parse(&buf[..cut]).is_none(), "prefix {cut} of {n}");
        }
        p
    }

    #[test]
    fn rfc_5_7_examples() {
        // Unmasked "Hello".
        let p = FrameHeader::parse(&[0x81, 0x05, 0x48, 0x65]).unwrap();
        assert!(p.header.fin && p.header.mask.is_none());
        assert_eq!((p.header.opcode, p.header.payload_len, p.header_len), (OpCode::Text, 5, 2));
        // Masked "Hello".
        let p = FrameHeader::parse(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f]).unwrap();
        assert_eq!(p.header.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(p.header_len, 6);
        // Fragmented unmasked text: "Hel" then "lo".
        let first = FrameHeader::parse(&[0x01, 0x03]).unwrap().header;
        let last = FrameHeader::parse(&[0x80, 0x02]).unwrap().header;
        assert!(!first.fin && first.opcode == OpCode::Text);
        assert!(last.fin && last.opcode == OpCode::Continuation);
        // Unmasked ping "Hello" and masked pong "Hello".
        assert_eq!(FrameHeader::parse(&[0x89, 0x05]).unwrap().header.opcode, OpCode::Ping);
        let pong = FrameHeader::parse(&[0x8a, 0x85, 1, 2, 3, 4]).unwrap().header;
        assert_eq!(pong.opcode, OpCode::Pong);
        // 256 bytes binary in one unmasked frame: 16-bit length.
        let p = FrameHeader::parse(&[0x82, 0x7e, 0x01, 0x00]).unwrap();
        assert_eq!((p.header.payload_len, p.header_len), (256, 4));
        // 64 KiB binary in one unmasked frame: 64-bit length.
        let p = FrameHeader::parse(&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]).unwrap();
        assert_eq!((p.header.payload_len, p.header_len), (65536, 10));
    }

    #[test]
    fn length_boundaries() {
        for (len, header_len) in [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10), (u64::MAX, 10)] {
            let p = roundtrip(FrameHeader::new(OpCode::Binary, len));
            assert_eq!(p.header_len, header_len, "length {len}");
            let masked = FrameHeader { mask: Some([9, 8, 7, 6]), ..FrameHeader::new(OpCode::Text, len) };
            assert_eq!(roundtrip(masked).header_len, header_len + 4);
        }
    }

    #[test]
    fn anything_goes_at_this_layer() {
        let h = FrameHeader { fin: false, rsv: 0b111, opcode: OpCode::Reserved(0xb), mask: None, payload_len: 300 };
        roundtrip(h);
        assert!(OpCode::Reserved(0xb).is_control() && OpCode::Reserved(0xb).is_reserved());
        assert!(!OpCode::Reserved(0x3).is_control());
    }

    #[test]
    fn non_minimal_lengths_are_written_and_detected() {
        let h = FrameHeader::new(OpCode::Text, 5);
        let (buf, n) = h.encode_with(LengthForm::Extended64);
        let p = FrameHeader::parse(&buf[..n]).unwrap();
        assert_eq!((p.header.payload_len, n), (5, 10));
        assert!(!p.length_is_minimal());
        let (buf, n) = h.encode_with(LengthForm::Extended16);
        assert!(!FrameHeader::parse(&buf[..n]).unwrap().length_is_minimal());
    }

    proptest::proptest! {
        #[test]
        fn any_header_roundtrips(fin: bool, rsv in 0u8..8, op in 0u8..16, mask: Option<[u8; 4]>, len: u64) {
            let h = FrameHeader { fin, rsv, opcode: OpCode::from_bits(op), mask, payload_len: len };
            roundtrip(h);
        }

        #[test]
        fn parse_never_panics_and_respects_its_length(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20)) {
            if let Some(p) = FrameHeader::parse(&bytes) {
                proptest::prop_assert!(p.header_len <= bytes.len());
                let (again, n) = p.header.encode_with(p.length_form);
                proptest::prop_assert_eq!(&again[..n], &bytes[..n]);
            }
        }
    }

    #[test]
    fn opcode_bits_roundtrip() {
        for bits in 0..16u8 {
            assert_eq!(OpCode::from_bits(bits).bits(), bits);
        }
    }
}
