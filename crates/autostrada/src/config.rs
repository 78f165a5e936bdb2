//! Connection settings: limits, buffering, timeouts.

use std::time::Duration;

use crate::proto::deflate::DeflateConfig;
use crate::proto::handshake::HandshakeLimits;

/// Settings for one connection, shared by both roles.
///
/// Every limit exists so that a peer cannot make us hold more memory or
/// time than you chose. The defaults suit a general-purpose server; each
/// field documents its default and what raising or lowering it costs.
///
/// ```
/// use autostrada::Config;
///
/// let mut config = Config::default();
/// config.max_message_size = 1 << 20; // 1 MiB messages are plenty here
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of one received frame. Default 16 MiB. A larger frame
    /// fails the connection with 1009. Memory for a frame grows as its octets
    /// arrive, never on the peer's say-so alone.
    pub max_frame_size: usize,
    /// Largest received message, all fragments together. Default 64 MiB. A
    /// larger one fails the connection with 1009. This is the most memory one
    /// connection's reader can hold.
    pub max_message_size: usize,
    /// Most frames in one received message. Default 131 072, enough for a
    /// 4 MiB message in 64-octet fragments (the reference suite's 9.3.1). A
    /// lower value protects CPU against floods of tiny fragments; exceeding it
    /// fails the connection with 1009.
    pub max_fragments: usize,
    /// Auto-fragmentation on send: messages longer than this go out in frames
    /// of at most this many octets. Default 4 MiB. Smaller frames let control
    /// frames interleave sooner and suit peers with small frame limits; larger
    /// ones cost fewer headers.
    pub send_frame_size: usize,
    /// The writer flushes by itself once this many octets are buffered, even
    /// if you only `feed` messages. Default 64 KiB. Higher batches more small
    /// messages into one system call at the price of memory and latency.
    pub flush_threshold: usize,
    /// Octets read from the socket per read when no frame asks for more.
    /// Default 8 KiB. A connection with nothing buffered reads into a stack
    /// scratch of at most 8 KiB and keeps only what arrived, so an idle
    /// connection holds no read buffer whatever this is. Reads into a large
    /// frame grow with what has arrived, up to 1 MiB per read; values above
    /// 1 MiB count as 1 MiB.
    pub read_buffer_size: usize,
    /// How long to wait for the peer's part of the closing handshake (its
    /// close reply; for a client, the server dropping TCP) before dropping
    /// the connection ourselves. Default 5 s.
    pub close_timeout: Duration,
    /// How long the opening handshake may take. Default 10 s.
    pub handshake_timeout: Duration,
    /// Size bounds on the opening handshake's HTTP head.
    pub handshake_limits: HandshakeLimits,
    /// permessage-deflate (RFC 7692): `None` (the default) neither offers
    /// nor accepts it. With it, a client offers and a server accepts
    /// compression. Each direction then costs a zlib stream (about 256 KiB
    /// for a 15-bit window); inflated messages stay bounded by
    /// [`max_message_size`](Self::max_message_size).
    pub deflate: Option<DeflateConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 131_072,
            send_frame_size: 4 << 20,
            flush_threshold: 64 << 10,
            read_buffer_size: 8 << 10,
            close_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(10),
            handshake_limits: HandshakeLimits::default(),
            deflate: None,
        }
    }
}
