//! The messages the load generator sends: deterministic, so every subject
//! echoes the same octets.

use bytes::Bytes;
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::cells::Kind;

/// A payload of `size` octets of `kind`. Text and JSON-like payloads are
/// valid UTF-8 of exactly `size` octets.
#[must_use]
pub fn make(kind: Kind, size: usize) -> Bytes {
    let mut rng = StdRng::seed_from_u64(0x5eed_0fa5_7057_4a00);
    match kind {
        Kind::Binary => {
            let mut v = vec![0u8; size];
            rng.fill(&mut v[..]);
            Bytes::from(v)
        }
        Kind::Text => Bytes::from(fit(size, |out| {
            // Latin, Greek, CJK and an emoji: one- to four-octet sequences.
            const WORDS: [&str; 8] = ["autostrada ", "Straße ", "λόγος ", "道路 ", "🚗 ", "vía ", "путь ", "route "];
            out.push_str(WORDS[rng.random_range(0..WORDS.len())]);
        })),
        Kind::Deflate => Bytes::from(fit(size, |out| json_record(&mut rng, out))),
    }
}

/// One record of an API response as services send them: repeated keys,
/// varying numbers and names (compresses about 4:1 with zlib's defaults).
fn json_record(rng: &mut StdRng, out: &mut String) {
    const NAMES: [&str; 6] = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret"];
    const CITIES: [&str; 5] = ["Torino", "Milano", "Bologna", "Napoli", "Genova"];
    let id: u32 = rng.random_range(1..1_000_000);
    let score: f32 = rng.random_range(0.0..100.0);
    let active = rng.random_bool(0.5);
    out.push_str(&format!(
        "{{\"id\":{id},\"name\":\"{}\",\"city\":\"{}\",\"score\":{score:.3},\"active\":{active},\"tags\":[\"t{}\",\"t{}\"]}},",
        NAMES[rng.random_range(0..NAMES.len())],
        CITIES[rng.random_range(0..CITIES.len())],
        rng.random_range(0..50),
        rng.random_range(0..50),
    ));
}

/// Calls `more` until at least `size` octets are there, then cuts back to
/// exactly `size` on a character boundary and pads with spaces.
fn fit(size: usize, mut more: impl FnMut(&mut String)) -> Vec<u8> {
    let mut out = String::with_capacity(size + 128);
    while out.len() < size {
        more(&mut out);
    }
    let mut end = size;
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    while out.len() < size {
        out.push(' ');
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_the_exact_size_and_text_is_utf8() {
        for kind in [Kind::Binary, Kind::Text, Kind::Deflate] {
            for size in [1, 3, 20, 1024, 65_536] {
                let p = make(kind, size);
                assert_eq!(p.len(), size, "{kind:?} {size}");
                if kind != Kind::Binary {
                    assert!(std::str::from_utf8(&p).is_ok(), "{kind:?} {size}");
                }
            }
        }
        assert_eq!(make(Kind::Text, 4096), make(Kind::Text, 4096), "deterministic");
    }
}
