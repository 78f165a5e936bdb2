//! Close codes and close frame payloads (RFC 6455 §5.5.1, §7.4).

use bytes::{BufMut, Bytes, BytesMut};

use super::utf8;

/// A close status code (RFC 6455 §7.4).
///
/// ```
/// use autostrada::proto::CloseCode;
///
/// assert!(CloseCode::NORMAL.is_sendable());
/// assert!(CloseCode(4000).is_sendable()); // private use
/// assert!(!CloseCode(1005).is_sendable()); // "no status": only ever reported locally
/// assert!(!CloseCode(2999).is_valid_on_wire()); // reserved for extensions, unassigned
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigated away).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection closed without a close frame (never sent on the wire).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: message data did not match its type (e.g. invalid UTF-8 in text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a policy was violated.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message or frame exceeded a size limit.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client needed an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting (IANA registry).
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later (IANA registry).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway got a bad response upstream (IANA registry).
    pub const BAD_GATEWAY: Self = Self(1014);

    /// RFC 6455 §7.4.1/§7.4.2 plus the IANA registry: the codes that may appear
    /// in a close frame. 1000–1003 and 1007–1014 are defined; 1004 is reserved;
    /// 1005, 1006 and 1015 are for local reporting only; the rest of 1000–2999
    /// is reserved for future standards; 3000–3999 are registered, 4000–4999
    /// private. Anything else is a protocol error when received.
    #[must_use]
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Whether we may put this code in a close frame we send (the same set as
    /// [`is_valid_on_wire`](Self::is_valid_on_wire)).
    #[must_use]
    pub fn is_sendable(self) -> bool {
        self.is_valid_on_wire()
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The payload of a close frame that carried a status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, UTF-8, at most 123 octets on the wire.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with a code and reason. The reason is cut (at a character
    /// boundary) to the 123 octets a control frame leaves for it.
    #[must_use]
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > MAX_REASON_LEN {
            let mut end = MAX_REASON_LEN;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        Self { code, reason }
    }

    /// The wire payload: the code in network order, then the reason.
    #[must_use]
    pub fn to_payload(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(2 + self.reason.len());
        out.put_u16(self.code.0);
        out.put_slice(self.reason.as_bytes());
        out.freeze()
    }
}

/// RFC 6455 §5.5: a control payload is at most 125 octets, two of them the code.
pub const MAX_REASON_LEN: usize = 123;

/// Why a received close payload was refused, with the code to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosePayloadError {
    /// One octet: too short to hold a code (RFC 6455 §5.5.1). Answer 1002.
    Truncated,
    /// A code that may not appear on the wire (RFC 6455 §7.4). Answer 1002.
    InvalidCode(u16),
    /// The reason is not UTF-8 (RFC 6455 §5.5.1). Answer 1007.
    InvalidReason,
}

impl ClosePayloadError {
    /// The close code to fail the connection with.
    #[must_use]
    pub fn close_code(self) -> CloseCode {
        match self {
            Self::Truncated | Self::InvalidCode(_) => CloseCode::PROTOCOL_ERROR,
            Self::InvalidReason => CloseCode::INVALID_PAYLOAD,
        }
    }
}

impl std::fmt::Display for ClosePayloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated => f.write_str("close frame payload of 1 octet (a code needs 2)"),
            Self::InvalidCode(c) => write!(f, "close code {c} may not be sent on the wire"),
            Self::InvalidReason => f.write_str("close reason is not valid UTF-8"),
        }
    }
}

/// Parses a received close payload. `Ok(None)` is a close without a code
/// (reported as 1005).
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, ClosePayloadError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ClosePayloadError::Truncated),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid_on_wire() {
                return Err(ClosePayloadError::InvalidCode(code.0));
            }
            utf8::validate(reason).map_err(|_| ClosePayloadError::InvalidReason)?;
            let reason = String::from_utf8_lossy(reason).into_owned();
            Ok(Some(CloseFrame { code, reason }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_class() {
        let cases: &[(u16, bool)] = &[
            (0, false),
            (999, false),
            (1000, true),
            (1001, true),
            (1002, true),
            (1003, true),
            (1004, false),
            (1005, false),
            (1006, false),
            (1007, true),
            (1011, true),
            (1012, true),
            (1014, true),
            (1015, false),
            (1016, false),
            (1100, false),
            (2000, false),
            (2999, false),
            (3000, true),
            (3999, true),
            (4000, true),
            (4999, true),
            (5000, false),
            (65535, false),
        ];
        for &(code, ok) in cases {
            assert_eq!(CloseCode(code).is_valid_on_wire(), ok, "code {code}");
            let payload = code.to_be_bytes();
            assert_eq!(parse_close_payload(&payload).is_ok(), ok, "payload for {code}");
        }
    }

    #[test]
    fn payload_shapes() {
        assert_eq!(parse_close_payload(b""), Ok(None));
        assert_eq!(parse_close_payload(b"a"), Err(ClosePayloadError::Truncated));
        let f = parse_close_payload(b"\x03\xe8bye").unwrap().unwrap();
        assert_eq!((f.code, f.reason.as_str()), (CloseCode::NORMAL, "bye"));
        let bad = parse_close_payload(b"\x03\xe8\xce\xba\xed\xa0\x80").unwrap_err();
        assert_eq!(bad.close_code(), CloseCode::INVALID_PAYLOAD);
        assert_eq!(CloseFrame::new(CloseCode::NORMAL, "bye").to_payload(), &b"\x03\xe8bye"[..]);
    }

    #[test]
    fn long_reasons_are_cut_at_a_char_boundary() {
        let f = CloseFrame::new(CloseCode::NORMAL, "é".repeat(100));
        assert!(f.reason.len() <= MAX_REASON_LEN);
        assert_eq!(f.reason.len(), 122);
        assert!(f.to_payload().len() <= 125);
    }
}
