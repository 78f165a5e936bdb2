//! The raw wire peer: a WebSocket endpoint that can send any frame, chop
//! and sync writes, run the reference fuzzer's timers and closing
//! handshake, and record everything it saw. It knows no case: cases drive
//! it through [`Handler`] and read its records.

pub mod client;
pub mod deflate;
pub mod driver;
pub(crate) mod duplicates;
pub mod extension_header;
pub mod frame_spec;
pub(crate) mod http_head;
pub mod incoming;
pub mod log;
pub mod peer;
pub mod server;
pub mod traffic;
pub mod transport;
pub mod window_audit;
pub mod write_queue;

pub use client::{ClientOptions, run_client};
pub use driver::{DriveOptions, Handler, Session};
pub use frame_spec::{FrameSpec, repeat};
pub use peer::{CloseStatus, Event, Peer, State};
