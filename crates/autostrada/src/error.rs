//! The front end's error type.

use crate::proto::handshake::HandshakeError;
use crate::proto::{ProtocolError, SendError};

/// What went wrong on a connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed.
    Io(std::io::Error),
    /// The opening handshake failed.
    Handshake(HandshakeError),
    /// The opening handshake did not finish within `Config::handshake_timeout`.
    HandshakeTimeout,
    /// The server answered the upgrade with another status than 101 — a 401
    /// with `WWW-Authenticate`, a 429 with `Retry-After`, a redirect: its
    /// status, headers and body (at most the first
    /// [`MAX_REFUSAL_BODY`](crate::client::MAX_REFUSAL_BODY) octets, and
    /// what arrived before the body fell silent for
    /// [`REFUSAL_BODY_SILENCE`](crate::client::REFUSAL_BODY_SILENCE) or
    /// took longer than [`REFUSAL_BODY_TIME`](crate::client::REFUSAL_BODY_TIME)).
    Refused(Box<http::Response<bytes::Bytes>>),
    /// `wss://` could not be set up: no trust anchors (enable a `rustls-*`
    /// feature or pass a `Connector`), a certificate the server refused or
    /// we did not trust, a TLS handshake that failed. The text says which.
    Tls(String),
    /// The proxy could not be reached, refused the tunnel, or spoke
    /// something unexpected; the text says which.
    Proxy(String),
    /// The peer broke the protocol; we sent a close frame with the matching code.
    Protocol(ProtocolError),
    /// A message could not be sent.
    Send(SendError),
    /// The peer dropped TCP without a closing handshake (reported as 1006).
    ConnectionReset,
    /// We sent a close frame and the peer did not answer within
    /// `Config::close_timeout`; the connection was dropped.
    CloseTimeout,
    /// The peer sent nothing within `Config::pong_timeout` of a keepalive
    /// ping: we sent a close frame (1011) and stopped waiting for it.
    KeepaliveTimeout,
    /// No data message passed either way for `Config::idle_timeout`: we
    /// closed the connection (1000, "idle timeout").
    IdleTimeout,
    /// A data message took longer than `Config::message_timeout` to
    /// arrive: we closed the connection (1008, "message timeout").
    MessageTimeout,
    /// The connection ended before the pong a [`Pong`](crate::Pong) waited
    /// for arrived (or too many newer pings were queued).
    NoPong,
    /// The connection has ended (the read half reported how): nothing more
    /// can be sent.
    ConnectionClosed,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "I/O error: {e}"),
            Self::Handshake(e) => write!(f, "WebSocket handshake failed: {e}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Proxy(e) => write!(f, "proxy: {e}"),
            Self::Refused(response) => {
                let status = response.status();
                write!(
                    f,
                    "server refused the WebSocket upgrade: {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                )?;
                let body = String::from_utf8_lossy(response.body());
                let line = body.lines().next().unwrap_or("").trim();
                if !line.is_empty() {
                    // The server's words go to logs: no control characters.
                    let cut: String = line.chars().filter(|c| !c.is_control()).take(200).collect();
                    write!(f, " ({cut})")?;
                }
                Ok(())
            }
            Self::HandshakeTimeout => {
                f.write_str("WebSocket handshake timed out; raise Config::handshake_timeout for slow peers")
            }
            Self::Protocol(e) => write!(
                f,
                "peer broke the WebSocket protocol: {e} (connection failed with close code {})",
                e.close_code()
            ),
            Self::Send(e) => write!(f, "cannot send: {e}"),
            Self::ConnectionReset => f.write_str("peer closed the TCP connection without a closing handshake"),
            Self::CloseTimeout => {
                f.write_str("peer did not answer our close frame in time; raise Config::close_timeout for slow peers")
            }
            Self::KeepaliveTimeout => f.write_str(
                "peer sent nothing after a keepalive ping; raise Config::pong_timeout for slow links or peers",
            ),
            Self::IdleTimeout => {
                f.write_str("no message either way for Config::idle_timeout; the connection was closed")
            }
            Self::MessageTimeout => f.write_str(
                "a message took longer than Config::message_timeout to arrive; the connection was closed (raise it for large messages on slow links)",
            ),
            Self::NoPong => f.write_str("the connection ended before the ping was answered"),
            Self::ConnectionClosed => {
                f.write_str("the connection has ended (the read half reported why); nothing more can be sent")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Send(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<SendError> for Error {
    fn from(e: SendError) -> Self {
        Self::Send(e)
    }
}
