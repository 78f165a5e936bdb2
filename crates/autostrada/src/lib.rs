//! # Autostrada
//!
//! A strict, fast WebSocket library (RFC 6455) for tokio, client and server.
//!
//! - [`proto`]: the sans-IO core — frame codec, masking, UTF-8, close codes,
//!   opening handshake, connection state machine. Usable without tokio.
//! - The tokio front end: [`ServerBuilder`] / [`accept`], [`ClientBuilder`] /
//!   [`connect`], and [`WebSocket`], a `Stream` of [`Message`]s and a `Sink`
//!   for them, which splits into owned halves for two tasks.
//! - `hyper` (feature `hyper`): WebSockets inside a hyper 1.x or axum
//!   server, negotiated by the same code as [`ServerBuilder`]; with
//!   `hyper-http2`, over HTTP/2 as well (RFC 8441).
//! - [`tls`]: `wss://` with rustls, behind the `rustls`,
//!   `rustls-webpki-roots` and `rustls-native-roots` features.
//!
//! ```no_run
//! use autostrada::{Message, connect};
//! use futures_util::{SinkExt, StreamExt};
//!
//! # async fn run() -> Result<(), autostrada::Error> {
//! let (mut ws, _response) = connect("ws://127.0.0.1:9001/").await?;
//! ws.send(Message::text("hello")).await?;
//! while let Some(message) = ws.next().await {
//!     println!("{:?}", message?);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Strict by default: invalid UTF-8 fails a text message as soon as the bad
//! octet arrives, the client checks `Sec-WebSocket-Accept`, pongs and close
//! replies go out without your help, and every peer-controlled allocation is
//! bounded by [`Config`].

// Without the `tokio` feature the front end the crate docs link to is not built.
#![cfg_attr(not(feature = "tokio"), allow(rustdoc::broken_intra_doc_links))]

pub mod config;
pub mod error;
pub mod message;
pub mod proto;

pub use config::Config;
pub use error::Error;
pub use message::{Message, Utf8Bytes};
pub use proto::deflate::{DeflateConfig, DeflateParams};
pub use proto::handshake::{HandshakeError, HandshakeLimits};
pub use proto::{CloseCode, CloseFrame, InvalidUtf8, ProtocolError, Role, SendError};

/// The `bytes` crate's shared buffer, which binary messages carry.
pub use bytes::Bytes;
/// The `http` crate, whose request and response types the handshake uses.
pub use http;

#[cfg(feature = "tokio")]
pub mod client;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "tokio")]
mod keepalive;
#[cfg(feature = "tokio")]
pub mod ping;
#[cfg(feature = "tokio")]
pub mod proxy;
#[cfg(feature = "tokio")]
pub mod read;
#[cfg(feature = "tokio")]
mod read_buffer;
#[cfg(feature = "tokio")]
mod reader;
#[cfg(feature = "tokio")]
pub mod request;
#[cfg(feature = "tokio")]
pub mod send;
#[cfg(feature = "tokio")]
pub mod server;
#[cfg(feature = "tokio")]
mod shared;
#[cfg(feature = "tokio")]
pub mod stream;
#[cfg(feature = "tokio")]
pub mod tls;
#[cfg(feature = "tokio")]
pub mod upgrade;
#[cfg(feature = "tokio")]
mod writer;

#[cfg(feature = "tokio")]
pub use client::{ClientBuilder, Connecting, connect};
#[cfg(feature = "tokio")]
pub use ping::Pong;
#[cfg(feature = "tokio")]
pub use proxy::{Proxy, ProxyKind};
#[cfg(feature = "tokio")]
pub use read::{RecvHalf, ReuniteError};
#[cfg(feature = "tokio")]
pub use request::IntoClientRequest;
#[cfg(feature = "tokio")]
pub use send::SendHalf;
#[cfg(feature = "tokio")]
pub use server::{ServerBuilder, accept};
#[cfg(feature = "tokio")]
pub use stream::{StreamRef, WebSocket};
#[cfg(feature = "tokio")]
pub use tls::{Connector, MaybeTlsStream};
#[cfg(feature = "tokio")]
pub use upgrade::{Accept, Upgrade};

/// The rustls this crate builds on (feature `rustls`), for
/// [`Connector`]'s root stores, certificates and configurations.
#[cfg(feature = "rustls")]
pub use rustls;
/// The tokio-rustls this crate builds on (feature `rustls`): a server wraps
/// its TCP streams with `tokio_rustls::TlsAcceptor` before
/// [`accept`].
#[cfg(feature = "rustls")]
pub use tokio_rustls;

/// The repository README's examples, compiled and run as doc tests.
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../../../README.md")]
struct ReadmeExamples;

/// This crate's README (the one crates.io shows), compiled as doc tests.
#[cfg(all(doctest, feature = "tokio"))]
#[doc = include_str!("../README.md")]
struct CrateReadmeExamples;
