//! wstest's spec parsers (fuzzingclient and fuzzingserver) on arbitrary
//! text: a clear error or a spec, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = wstest::spec::parse_client(text, None);
    let _ = wstest::spec::parse_server(text, None);
    let _ = wstest::spec::parse_client(text, Some("ws://127.0.0.1:9001"));
});
