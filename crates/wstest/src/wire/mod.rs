//! The raw wire peer: a WebSocket endpoint that can send any frame, chop
//! and sync writes, run the reference fuzzer's timers and closing
//! handshake, and record everything it saw. It knows no case: cases drive
//! it through [`Handler`] and read its records.

pub mod driver;
pub mod frame_spec;
pub mod incoming;
pub mod log;
pub mod peer;

pub use driver::{ClientOptions, Handler, Session, run_client};
pub use frame_spec::{FrameSpec, repeat};
pub use peer::{CloseStatus, Event, Peer, State};
