//! The sans-IO core: frames, masking, UTF-8, close codes, the opening
//! handshake and the connection state machine. No tokio, no sockets, no
//! clocks: octets in, events out; messages in, octets out.
//!
//! The frame codec ([`frame`]) is lenient and serves both this library and
//! the `wstest` fuzzer; the strict checks of RFC 6455 are in [`Receiver`].

pub mod close;
pub mod connection;
pub mod deflate;
pub mod encoder;
pub mod frame;
mod growth;
pub mod handshake;
pub mod mask;
pub(crate) mod outbox;
pub mod receiver;
pub mod sender;
pub mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use connection::{Connection, auto_reply};
pub use encoder::{Encoded, Encoder};
pub use frame::{FrameHeader, LengthForm, OpCode, ParsedHeader};
pub use mask::apply_mask;
#[cfg(feature = "tokio")]
pub(crate) use receiver::SPLIT_MIN;
pub use receiver::{ProtocolError, Receiver};
pub use sender::{PONG_BUDGET, SendError, Sender};
pub use utf8::{InvalidUtf8, Utf8Validator};

/// Which end of the connection we are. It decides masking (RFC 6455 §5.1)
/// and who closes TCP (§7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We opened the connection: we mask, the server closes TCP.
    Client,
    /// We accepted it: we never mask, we close TCP first.
    Server,
}
