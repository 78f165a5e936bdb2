//! The connection state machine in both roles, with and without
//! permessage-deflate, fed arbitrary octets in arbitrary chunks: it never
//! panics, and a message it hands over stays within the configured limits.
//!
//! Input: one control octet (role, deflate, context takeover), then chunk
//! lengths and octets interleaved: each chunk is one length octet followed
//! by that many octets.
#![no_main]

use autostrada::proto::deflate::DeflateParams;
use autostrada::proto::{Connection, Role};
use autostrada::{Config, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, mut rest)) = data.split_first() else { return };
    let role = if control & 1 == 0 { Role::Server } else { Role::Client };
    let mut config = Config::default();
    config.max_message_size = 1 << 16;
    config.max_frame_size = 1 << 15;
    config.max_fragments = 64;
    let deflate = (control & 2 != 0).then(|| DeflateParams {
        server_no_context_takeover: control & 4 != 0,
        client_no_context_takeover: control & 8 != 0,
        server_max_window_bits: 9 + (control >> 4) % 7,
        client_max_window_bits: 15,
    });
    let mut conn = Connection::with_deflate(role, &config, deflate);
    while let Some((&len, tail)) = rest.split_first() {
        let take = usize::from(len).min(tail.len());
        conn.receive_data(&tail[..take]);
        rest = &tail[take..];
        loop {
            match conn.next_message() {
                Ok(Some(m)) => {
                    if let Message::Text(_) | Message::Binary(_) = &m {
                        assert!(m.len() <= config.max_message_size);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        let _ = conn.sender().take_bytes();
    }
});
