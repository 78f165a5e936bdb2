//! permessage-deflate: negotiation of arbitrary offers and answers in both
//! roles, and the inflater on arbitrary data, which never passes its limit.
//!
//! Input: the first half as an extension header value, the second as
//! compressed data in chunks (a length octet before each).
#![no_main]

use autostrada::proto::deflate::negotiate::parse_extensions;
use autostrada::proto::deflate::{Decompressor, DeflateConfig, InflateError};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (header, compressed) = data.split_at(data.len() / 2);
    let header = String::from_utf8_lossy(header);
    let extensions = parse_extensions([header.as_ref()]);
    let config = DeflateConfig::default();
    let _ = config.accept(&extensions);
    let _ = config.check_response(&extensions);
    const LIMIT: usize = 1 << 16;
    for reset in [false, true] {
        let mut d = Decompressor::new(reset);
        let mut out = BytesMut::new();
        let mut rest = compressed;
        while let Some((&len, tail)) = rest.split_first() {
            let take = usize::from(len).min(tail.len());
            match d.inflate(&tail[..take], &mut out, LIMIT) {
                Ok(()) => {}
                Err(InflateError::TooLarge(_) | InflateError::Corrupt(_)) => break,
            }
            assert!(out.len() <= LIMIT);
            rest = &tail[take..];
            if len % 3 == 0 {
                if d.finish(&mut out, LIMIT).is_err() {
                    break;
                }
                out.clear();
            }
        }
    }
});
