//! # Autostrada
//!
//! A strict, fast WebSocket library (RFC 6455) for tokio, client and server.
//!
//! - [`proto`]: the sans-IO core — frame codec, masking, UTF-8, close codes,
//!   opening handshake, connection state machine. Usable without tokio.
//! - The tokio front end: [`ServerBuilder`] / [`accept`], [`ClientBuilder`] /
//!   [`connect`], and [`WebSocket`], a `Stream` of [`Message`]s and a `Sink`
//!   for them, which splits into owned halves for two tasks.
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

pub mod config;
pub mod error;
pub mod message;
pub mod proto;

pub use config::Config;
pub use error::Error;
pub use message::{Message, Utf8Bytes};
pub use proto::{CloseCode, CloseFrame, Role};

pub mod client;
pub mod server;
pub mod stream;
mod writer;

pub use client::{ClientBuilder, connect};
pub use server::{ServerBuilder, accept};
pub use stream::{ReadHalf, WebSocket};
pub use writer::WriteHalf;
