//! wstest's frame decoder (the fuzzer's own receiving side, in both roles,
//! with permessage-deflate or not) on arbitrary octets in arbitrary chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else { return };
    wstest::wire::incoming::decode_for_fuzzing(control, rest);
});
