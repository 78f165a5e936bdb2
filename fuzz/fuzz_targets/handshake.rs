//! The opening handshake's parsers: a request (server side, then its
//! checks) and a response (client side), on arbitrary octets.
#![no_main]

use autostrada::proto::handshake::{self, HandshakeLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = HandshakeLimits::default();
    if let Ok(Some((request, n))) = handshake::parse_request(data, &limits) {
        assert!(n <= data.len());
        let _ = handshake::check_request(&request);
        let _ = handshake::extensions(request.headers());
        let _ = handshake::offered_protocols(&request);
    }
    if let Ok(Some((response, n))) = handshake::parse_response(data, &limits) {
        assert!(n <= data.len());
        let _ = handshake::extensions(response.headers());
    }
});
