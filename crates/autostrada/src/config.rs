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
/// Set fields directly, or chain the `with_*` setters:
///
/// ```
/// use std::time::Duration;
/// use autostrada::{Config, DeflateConfig};
///
/// let mut config = Config::default();
/// config.max_message_size = 1 << 20; // 1 MiB messages are plenty here
///
/// let config = Config::default()
///     .with_max_message_size(1 << 20)
///     .with_ping_interval(Duration::from_secs(30))
///     .with_idle_timeout(Duration::from_secs(300))
///     .with_deflate(DeflateConfig::default());
/// assert_eq!(config.pong_timeout, Duration::from_secs(10));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of one received frame. Default 16 MiB. A larger frame
    /// fails the connection with 1009. Memory for a frame grows as its octets
    /// arrive, never on the peer's say-so alone. Values of 4 GiB or more count
    /// as 4 GiB − 1 octets (2³² − 1), the most this limit holds.
    pub max_frame_size: usize,
    /// Largest received message, all fragments together. Default 64 MiB. A
    /// larger one fails the connection with 1009. This is the most memory one
    /// connection's reader can hold for a message; with permessage-deflate,
    /// also the compressed frame being inflated (at most
    /// [`max_frame_size`](Self::max_frame_size)) and one 64 KiB inflate step.
    /// Values of 4 GiB or more count as 4 GiB − 1 octets (2³² − 1):
    /// `usize::MAX` is no longer "unlimited".
    ///
    /// With compression a peer reaches the limit cheaply (deflate shrinks
    /// zeros about a thousandfold: some 64 KB on the wire for 64 MiB held),
    /// and a message it begins and never ends is held until the connection
    /// closes. Servers open to the public should lower this to the largest
    /// message they expect and set [`idle_timeout`](Self::idle_timeout).
    pub max_message_size: usize,
    /// Most frames in one received message. Default 131 072, enough for a
    /// 4 MiB message in 64-octet fragments (the reference suite's 9.3.1). A
    /// lower value protects CPU against floods of tiny fragments; exceeding it
    /// fails the connection with 1009. Values past 2³² − 1 count as 2³² − 1.
    pub max_fragments: usize,
    /// Auto-fragmentation on send: messages longer than this go out in frames
    /// of at most this many octets. Default 4 MiB. Smaller frames let control
    /// frames interleave sooner and suit peers with small frame limits; larger
    /// ones cost fewer headers. Values of 4 GiB or more count as 4 GiB − 1.
    pub send_frame_size: usize,
    /// The writer flushes by itself once this many octets are buffered, even
    /// if you only `feed` messages. Default 64 KiB. Higher batches more small
    /// messages into one system call at the price of memory and latency.
    /// Values of 4 GiB or more count as 4 GiB − 1.
    pub flush_threshold: usize,
    /// Octets read from the socket per read when no frame asks for more.
    /// Default 8 KiB. A connection with nothing buffered reads into a stack
    /// scratch of at most 8 KiB and keeps only what arrived, so an idle
    /// connection holds no read buffer whatever this is. Reads into a large
    /// frame grow with what has arrived, up to 1 MiB per read; values above
    /// 1 MiB count as 1 MiB. A read that fills all it asked for doubles the
    /// next (up to 128 KiB, or this size if larger); once the reads of a
    /// message (or a batch of them) brought more than 8 KiB, the next read
    /// is sized for that much and goes into a buffer the worker thread
    /// shares among its connections while they read, so that each such
    /// message takes one read.
    pub read_buffer_size: usize,
    /// How long to wait for the peer's part of the closing handshake (its
    /// close reply; for a client, the server dropping TCP) before dropping
    /// the connection ourselves. Default 5 s. When the peer closed first,
    /// it is also how long our reply may wait for the peer to read: a peer
    /// that stopped reading gets it no further, and the stream then yields
    /// an `Error::Io` of kind `TimedOut` instead of the peer's close. It counts in whole
    /// milliseconds (a fraction rounds up); 2³² − 1 ms (about 49.7 days)
    /// or more (`Duration::MAX`, say) waits for ever.
    pub close_timeout: Duration,
    /// How long a write may wait while the peer takes none of our octets
    /// (its TCP window stays shut: it does not read) before the send, flush
    /// or close waiting on it fails with an I/O error of kind `TimedOut`.
    /// Default 60 s; `None` waits forever (it counts in whole
    /// milliseconds, from 1 ms to about 49 days). The clock restarts
    /// whenever the stream takes any octet, so a slow reader is never cut
    /// off, only one that stopped (over TLS, the stream takes octets into
    /// its record buffer, so one flush of that buffer, at most a few tens
    /// of KiB, must go out within the timeout). After the timeout the
    /// connection is broken for writing (a frame may be half out): every
    /// later send fails the same way, and the stream of received messages
    /// ends with the same error (also when the stalled writes were only
    /// the library's own replies, pongs to a peer that pings and never
    /// reads); drop it.
    /// Without it, a peer that never reads holds the connection and
    /// everything queued on it for as long as the application waits on a
    /// send — the read half's timers (close, keepalive, idle) do not run
    /// while an unsplit socket waits in `send` or `feed`. Shorter frees
    /// such connections sooner; longer tolerates peers that stop reading
    /// on purpose for a while (back-pressure on their side).
    pub write_timeout: Option<Duration>,
    /// How long the opening handshake may take. Default 10 s. A server has
    /// this long to read the request, and again to write its answer (the
    /// 101 or a refusal) once the application has decided; a client, to
    /// connect, send its request and read the answer.
    pub handshake_timeout: Duration,
    /// Keepalive: when nothing has arrived from the peer for a whole
    /// interval, send a ping. Default `None` (off). A peer that then sends
    /// nothing for [`pong_timeout`](Self::pong_timeout) is dropped: the
    /// stream yields [`Error::KeepaliveTimeout`](crate::Error::KeepaliveTimeout)
    /// after a close frame with 1011, without waiting for its answer. A
    /// silent peer is thus found between `interval + pong_timeout` and
    /// `2 × interval + pong_timeout` after it was last heard. Shorter
    /// intervals find dead peers (and keep NAT mappings) sooner at the cost
    /// of a small frame each way per interval.
    pub ping_interval: Option<Duration>,
    /// How long a keepalive ping may go unanswered (nothing at all
    /// received). Default 10 s; only used with
    /// [`ping_interval`](Self::ping_interval).
    pub pong_timeout: Duration,
    /// Close the connection when no data message passed in either direction
    /// for this long. Default `None` (never). Pings and pongs do not count.
    /// The stream then yields [`Error::IdleTimeout`](crate::Error::IdleTimeout)
    /// after a close frame (1000, "idle timeout") went out, and ends once
    /// the peer closes TCP (or after `close_timeout`). Received messages
    /// restart the clock exactly; sent ones are noticed when it runs out,
    /// so a connection that only sends may live up to twice this long. A
    /// received message still arriving keeps the connection open while its
    /// octets keep coming; a peer that begins one and then sends no more
    /// of it is idle within twice this long, whatever pings and pongs it
    /// sends meanwhile.
    pub idle_timeout: Option<Duration>,
    /// How long one received data message may take to arrive, counted from
    /// the first time the reader has to wait for more of it (its first
    /// octets in, the rest not yet there) to its last octet. Default `None`
    /// (no limit). When it runs out the connection is closed with 1008
    /// (policy violation, "message timeout") and the stream yields
    /// [`Error::MessageTimeout`](crate::Error::MessageTimeout); the peer
    /// then has `close_timeout` to answer.
    ///
    /// This is the deadline [`idle_timeout`](Self::idle_timeout) is not: a
    /// peer that trickles a message an octet at a time is never idle, and
    /// holds what it sent so far (with permessage-deflate, up to
    /// [`max_message_size`](Self::max_message_size) inflated from some
    /// 64 KB) for as long as it keeps trickling. Public servers should set
    /// it to what their largest message may take on the slowest link they
    /// serve; too short cuts off large messages from slow but honest
    /// peers. Pings, pongs and a message that arrives without the reader
    /// waiting in its middle are never timed. Like the idle and keepalive
    /// timeouts, it judges the peer, not the application: octets that
    /// reached the socket before the deadline count even when the
    /// application reads them later.
    pub message_timeout: Option<Duration>,
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
            write_timeout: Some(Duration::from_secs(60)),
            handshake_timeout: Duration::from_secs(10),
            ping_interval: None,
            pong_timeout: Duration::from_secs(10),
            idle_timeout: None,
            message_timeout: None,
            handshake_limits: HandshakeLimits::default(),
            deflate: None,
        }
    }
}

/// Chained setters, one per field, each documented on its field.
impl Config {
    /// Sets [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub fn with_max_frame_size(mut self, octets: usize) -> Self {
        self.max_frame_size = octets;
        self
    }

    /// Sets [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub fn with_max_message_size(mut self, octets: usize) -> Self {
        self.max_message_size = octets;
        self
    }

    /// Sets [`max_fragments`](Self::max_fragments).
    #[must_use]
    pub fn with_max_fragments(mut self, frames: usize) -> Self {
        self.max_fragments = frames;
        self
    }

    /// Sets [`send_frame_size`](Self::send_frame_size).
    #[must_use]
    pub fn with_send_frame_size(mut self, octets: usize) -> Self {
        self.send_frame_size = octets;
        self
    }

    /// Sets [`flush_threshold`](Self::flush_threshold).
    #[must_use]
    pub fn with_flush_threshold(mut self, octets: usize) -> Self {
        self.flush_threshold = octets;
        self
    }

    /// Sets [`read_buffer_size`](Self::read_buffer_size).
    #[must_use]
    pub fn with_read_buffer_size(mut self, octets: usize) -> Self {
        self.read_buffer_size = octets;
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sets [`write_timeout`](Self::write_timeout).
    #[must_use]
    pub fn with_write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Sets [`handshake_timeout`](Self::handshake_timeout).
    #[must_use]
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Turns keepalive on: [`ping_interval`](Self::ping_interval).
    #[must_use]
    pub fn with_ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = Some(interval);
        self
    }

    /// Sets [`pong_timeout`](Self::pong_timeout).
    #[must_use]
    pub fn with_pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Sets [`message_timeout`](Self::message_timeout).
    #[must_use]
    pub fn with_message_timeout(mut self, timeout: Duration) -> Self {
        self.message_timeout = Some(timeout);
        self
    }

    /// Sets [`handshake_limits`](Self::handshake_limits).
    #[must_use]
    pub fn with_handshake_limits(mut self, limits: HandshakeLimits) -> Self {
        self.handshake_limits = limits;
        self
    }

    /// Offers (client) or accepts (server) permessage-deflate:
    /// [`deflate`](Self::deflate).
    #[must_use]
    pub fn with_deflate(mut self, deflate: DeflateConfig) -> Self {
        self.deflate = Some(deflate);
        self
    }
}
