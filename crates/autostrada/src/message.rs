//! Messages: what the application sends and receives.

use bytes::Bytes;

use crate::proto::{CloseFrame, InvalidUtf8, utf8};

/// Octets known to be valid UTF-8: the payload of a text message, shared
/// without copying.
///
/// Validated once, when it is built (the receiver validates as frames
/// arrive); after that it derefs to `str` in O(1), without copying.
///
/// ```
/// use autostrada::Utf8Bytes;
///
/// let text = Utf8Bytes::from("grüße");
/// assert!(text.starts_with("grü")); // any `str` method, through Deref
/// assert_eq!(text.len(), 7); // octets
/// assert!(Utf8Bytes::from_bytes(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Utf8Bytes(Bytes);

/// Hashes as the `str` it holds, so that `Borrow<str>` lookups work.
impl std::hash::Hash for Utf8Bytes {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Utf8Bytes {
    /// Checks `bytes` and wraps them.
    pub fn from_bytes(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        utf8::validate(&bytes)?;
        Ok(Self(bytes))
    }

    /// Wraps octets the caller has already validated (the receiver's path).
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        Self(bytes)
    }

    /// The text, in O(1).
    #[must_use]
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor of `Utf8Bytes` holds valid UTF-8:
        // `from_bytes` validates, `from_validated` takes octets the receiver
        // validated, the `From` impls take `String` / `&str`, and the octets
        // are never changed afterwards (`Bytes` is immutable). Validating
        // again here cost a pass over the whole text on every call.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }

    /// The underlying octets.
    #[must_use]
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Gives up the UTF-8 guarantee for the octets.
    #[must_use]
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in octets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty text.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Utf8Bytes {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl TryFrom<Bytes> for Utf8Bytes {
    type Error = InvalidUtf8;

    fn try_from(bytes: Bytes) -> Result<Self, InvalidUtf8> {
        Self::from_bytes(bytes)
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Bytes {
        text.0
    }
}

impl std::fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Self(Bytes::from_static(s.as_bytes()))
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

/// A WebSocket message (RFC 6455 §5.6, §5.5).
///
/// ```
/// use autostrada::Message;
///
/// let m = Message::text("héllo");
/// assert_eq!(m.as_text(), Some("héllo"));
/// let b = Message::binary(vec![1, 2, 3]);
/// assert_eq!(b.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message: UTF-8, validated on receipt.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 octets). Received pings are answered for you;
    /// you see them for information.
    Ping(Bytes),
    /// A pong (at most 125 octets).
    Pong(Bytes),
    /// A close frame; `None` when it carried no status code. Received closes
    /// are answered for you.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(Utf8Bytes::from(s.into()))
    }

    /// A binary message.
    pub fn binary(b: impl Into<Bytes>) -> Self {
        Self::Binary(b.into())
    }

    /// The text, for a text message.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t.as_str()),
            _ => None,
        }
    }

    /// The payload octets (a close frame's as on the wire).
    #[must_use]
    pub fn into_payload(self) -> Bytes {
        match self {
            Self::Text(t) => t.into_bytes(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Close(Some(f)) => f.to_payload(),
            Self::Close(None) => Bytes::new(),
        }
    }

    /// Payload length in octets.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Self::Text(t) => t.len(),
            Self::Binary(b) | Self::Ping(b) | Self::Pong(b) => b.len(),
            Self::Close(Some(f)) => 2 + f.reason.len(),
            Self::Close(None) => 0,
        }
    }

    /// True when the payload is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for text and binary messages.
    #[must_use]
    pub fn is_data(&self) -> bool {
        matches!(self, Self::Text(_) | Self::Binary(_))
    }
}
