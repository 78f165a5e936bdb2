//! The frame header parser: never panics, and what it parses encodes back
//! to the same octets when its length form was minimal.
#![no_main]

use autostrada::proto::FrameHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(parsed) = FrameHeader::parse(data) {
        assert!(parsed.header_len <= data.len());
        if parsed.length_is_minimal() {
            let (head, n) = parsed.header.encode();
            assert_eq!(&head[..n], &data[..parsed.header_len]);
        }
    }
});
