//! permessage-deflate (RFC 7692): negotiation ([`negotiate`]) and the
//! per-message compressor and decompressor ([`codec`]).
//!
//! Off unless [`Config::deflate`](crate::Config::deflate) is set. With it,
//! a server accepts the first offer it can honour and a client offers
//! [`DeflateConfig`]'s parameters; the negotiated [`DeflateParams`] then
//! drive both sides of the connection.

pub mod codec;
mod history;
pub mod negotiate;
mod streams;

pub use codec::{Compressor, Decompressor, InflateError};
pub(crate) use history::History;
pub use negotiate::{DeflateConfig, DeflateError, DeflateParams};
