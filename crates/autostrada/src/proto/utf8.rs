//! Incremental UTF-8 validation for text messages (RFC 6455 §8.1).
//!
//! A text message arrives in frames, and a frame arrives in reads; a code
//! point may be split across either. [`Utf8Validator`] is fed the pieces in
//! order, carries at most three octets of an unfinished code point between
//! calls, and reports an error as soon as an octet makes the text invalid —
//! not at the end of the frame or message — so a peer sending garbage is
//! stopped early (the reference suite's cases 6.4.1–6.4.4 check exactly this).
//!
//! The work is done by `simdutf8`'s `compat` API, which tells a truncated
//! sequence at the end of the input (possibly valid once more octets arrive)
//! from one that can never become valid.
//!
//! ```
//! use autostrada::proto::Utf8Validator;
//!
//! let euro = "€".as_bytes(); // e2 82 ac
//! let mut v = Utf8Validator::new();
//! v.feed(&euro[..1]).unwrap();
//! v.feed(&euro[1..]).unwrap();
//! assert!(v.finish().is_ok());
//!
//! let mut v = Utf8Validator::new();
//! assert!(v.feed(&[0xce, 0xba, 0xf4, 0x90]).is_err()); // U+110000 and above can never be valid
//! ```

use simdutf8::compat::from_utf8;

/// Invalid UTF-8 in a text message or close reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

impl std::fmt::Display for InvalidUtf8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid UTF-8 in text")
    }
}

impl std::error::Error for InvalidUtf8 {}

/// Validates a stream of octets as UTF-8, piece by piece.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// The octets of a code point that the last piece left unfinished.
    partial: [u8; 4],
    /// How many octets of `partial` are in use (0–3); a `u8` keeps the
    /// validator, held by every connection, at five octets.
    partial_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a text.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates the next piece. Fails as soon as the text so far cannot be
    /// the prefix of valid UTF-8.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        let carried = usize::from(self.partial_len);
        if carried > 0 {
            // Complete the carried code point with up to 3 octets of `input`.
            let take = (4 - carried).min(input.len());
            let mut joined = self.partial;
            joined[carried..carried + take].copy_from_slice(&input[..take]);
            let joined = &joined[..carried + take];
            let completed = match from_utf8(joined) {
                Ok(_) => joined.len(),
                Err(e) if e.valid_up_to() > 0 => e.valid_up_to(),
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {
                    // Still unfinished: the input was too short to finish it.
                    self.partial[..joined.len()].copy_from_slice(joined);
                    self.partial_len = joined.len() as u8;
                    return Ok(());
                }
            };
            input = &input[completed - carried..];
            self.partial_len = 0;
        }
        match from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                let tail = &input[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                // At most 3: a longer tail would hold a whole code point.
                self.partial_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Ends the text: fails if a code point is left unfinished. Resets the
    /// validator for the next text.
    pub fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let unfinished = self.partial_len != 0;
        self.partial_len = 0;
        if unfinished { Err(InvalidUtf8) } else { Ok(()) }
    }

    /// Forgets any carried octets.
    pub fn reset(&mut self) {
        self.partial_len = 0;
    }
}

/// Validates a complete text in one go.
pub fn validate(text: &[u8]) -> Result<(), InvalidUtf8> {
    simdutf8::basic::from_utf8(text).map(|_| ()).map_err(|_| InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `data` cut at `cuts`; returns whether the validator accepted it,
    /// and checks that a failure happens no later than the piece holding the
    /// first bad octet.
    fn run(data: &[u8], cuts: &[usize]) -> bool {
        let mut v = Utf8Validator::new();
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(data.len())).collect();
        cuts.push(0);
        cuts.push(data.len());
        cuts.sort_unstable();
        let std_err = std::str::from_utf8(data).err();
        for w in cuts.windows(2) {
            if v.feed(&data[w[0]..w[1]]).is_err() {
                let e = std_err.expect("validator rejected valid UTF-8");
                // Fail-fast: the failing piece must reach the first invalid octet.
                assert!(w[1] > e.valid_up_to(), "failed before any invalid octet");
                return false;
            }
            if let Some(e) = std_err
                && let Some(bad) = e.error_len()
            {
                assert!(w[1] <= e.valid_up_to() + bad, "missed an invalid sequence in {:?}", &data[w[0]..w[1]]);
            }
        }
        v.finish().is_ok()
    }

    #[test]
    fn reference_suite_6_4_sequences() {
        // 6.4.1: valid prefix, then a code point above U+10FFFF.
        let mut v = Utf8Validator::new();
        v.feed(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5").unwrap();
        assert!(v.feed(b"\xf4\x90\x80\x80").is_err());
        // The same bad lead octets fail on their own, before the rest arrives.
        let mut v = Utf8Validator::new();
        v.feed(b"\xce\xba").unwrap();
        assert!(v.feed(b"\xf4").is_ok());
        assert!(v.feed(b"\x90").is_err());
    }

    #[test]
    fn surrogates_and_overlongs_rejected() {
        for bad in [&b"\xed\xa0\x80"[..], b"\xc0\xaf", b"\xe0\x80\xaf", b"\xff", b"\x80"] {
            assert!(!run(bad, &[1, 2]), "{bad:?}");
        }
    }

    #[test]
    fn truncated_text_fails_at_finish() {
        let mut v = Utf8Validator::new();
        v.feed(b"ok \xe2\x82").unwrap();
        assert!(v.finish().is_err());
        // finish() resets: the validator is reusable.
        v.feed(b"fine").unwrap();
        assert!(v.finish().is_ok());
    }

    proptest! {
        #[test]
        fn agrees_with_std_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..64), cuts in proptest::collection::vec(0usize..64, 0..8)) {
            prop_assert_eq!(run(&data, &cuts), std::str::from_utf8(&data).is_ok());
        }

        #[test]
        fn agrees_with_std_on_mostly_valid_text(s in "\\PC{0,40}", noise in proptest::collection::vec(any::<u8>(), 0..3), at in 0usize..200, cuts in proptest::collection::vec(0usize..200, 0..8)) {
            let mut data = s.into_bytes();
            let at = at.min(data.len());
            data.splice(at..at, noise);
            prop_assert_eq!(run(&data, &cuts), std::str::from_utf8(&data).is_ok());
        }
    }
}
