//! Payload masking (RFC 6455 §5.3).
//!
//! Every octet `i` of a masked payload is XORed with `key[i % 4]`. Masking and
//! unmasking are the same operation. [`apply_mask`] takes the offset of the
//! slice within the payload so a frame can be unmasked in pieces as it
//! arrives.
//!
//! The fast path works a machine word (8 octets) at a time on plain safe
//! code, which the compiler turns into SIMD on targets that have it; on
//! x86-64 CPUs with AVX-512 or AVX2 (checked at run time) the same loop runs
//! in a build for that extension, four or two times as wide. The scalar
//! path handles the ragged tail and is the reference the fast paths are
//! tested against.
//!
//! ```
//! use autostrada::proto::apply_mask;
//!
//! let key = [0x37, 0xfa, 0x21, 0x3d];
//! let mut data = *b"Hello";
//! apply_mask(&mut data, key, 0);
//! assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]); // RFC 6455 §5.7
//! // Unmask in two pieces: the second starts at payload offset 2.
//! let (a, b) = data.split_at_mut(2);
//! apply_mask(a, key, 0);
//! apply_mask(b, key, 2);
//! assert_eq!(&data, b"Hello");
//! ```

/// XORs `buf` with the masking `key`, where `buf` starts `offset` octets into the payload.
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    if buf.len() < 16 {
        apply_mask_scalar(buf, key);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= AVX512_MIN && has_avx512_without_downclocking() {
        // SAFETY: `apply_mask_avx512` requires AVX-512F and nothing else,
        // and the CPU was just found to have it (and VBMI2).
        unsafe { apply_mask_avx512(buf, key) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if buf.len() >= AVX2_MIN && std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `apply_mask_avx2` requires AVX2 and nothing else, and the
        // CPU was just found to have it.
        unsafe { apply_mask_avx2(buf, key) };
        return;
    }
    apply_mask_words(buf, key);
}

/// Payloads at least this long take the AVX2 build of the word loop where
/// the CPU has AVX2.
#[cfg(target_arch = "x86_64")]
const AVX2_MIN: usize = 64;

/// Payloads at least this long take the AVX-512 build of the word loop
/// where the CPU has AVX-512F (below it, a 64-octet vector would mostly
/// leave the tail to the scalar loop).
#[cfg(target_arch = "x86_64")]
const AVX512_MIN: usize = 256;

/// Whether the CPU has AVX-512F and is of a generation that does not
/// lower its clock for light 512-bit work. Skylake-SP, Cascade Lake and
/// Cooper Lake do, for a while after any 512-bit instruction, which would
/// slow everything else on that core (TLS, the application) for the sake
/// of one unmasking; they lack AVX-512 VBMI2, which Ice Lake and later
/// Intel cores and AMD's Zen 4 and later have, so that is the test.
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx512_without_downclocking() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vbmi2")
}

/// The word loop compiled for AVX-512F: 64 octets per XOR. Unmasking is
/// one load, one XOR and one store per vector, the lightest kind of
/// AVX-512 work (used only where that costs no clock speed, see
/// [`has_avx512_without_downclocking`]). Measured against the AVX2 build interleaved on a
/// 2-core Xeon, pinned, median of 15 rounds, time ÷ AVX2's: 1 KiB 0.65,
/// 4 KiB 0.54, 16 KiB 0.69, 64 KiB 0.91, 1 MiB 0.94 (past the caches
/// both wait on memory).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn apply_mask_avx512(buf: &mut [u8], key: [u8; 4]) {
    apply_mask_words(buf, key);
}

/// The word loop compiled for AVX2, which the compiler vectorises 32 octets
/// wide where the baseline x86-64 build is held to 16 (SSE2). The CPU is
/// checked at run time (`is_x86_feature_detected!` caches its answer).
/// Measured interleaved on a 2-core Xeon (median of 15 rounds each):
/// 16 KiB 376 → 290 ns, 64 KiB 2.5 → 1.6 µs, 1 MiB 30 → 25 µs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn apply_mask_avx2(buf: &mut [u8], key: [u8; 4]) {
    apply_mask_words(buf, key);
}

/// The key as seen from `offset` octets into the payload.
#[inline]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let r = offset % 4;
    [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]]
}

/// One octet at a time; `key[0]` applies to `buf[0]`.
#[inline]
fn apply_mask_scalar(buf: &mut [u8], key: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// Eight octets at a time, then the scalar path for the remaining 0–7.
/// Inlined into each caller, so that the AVX2 build gets its own copy.
#[inline(always)]
fn apply_mask_words(buf: &mut [u8], key: [u8; 4]) {
    let word = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut chunks = buf.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut octets = [0u8; 8];
        octets.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(octets) ^ word).to_ne_bytes());
    }
    // Chunks are multiples of 8 octets, so the tail starts at key phase 0.
    apply_mask_scalar(chunks.into_remainder(), key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    proptest! {
        #[test]
        fn matches_naive(data in proptest::collection::vec(any::<u8>(), 0..300), key: [u8; 4], offset in 0usize..16) {
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask(&mut fast, key, offset);
            naive(&mut slow, key, offset);
            prop_assert_eq!(&fast, &slow);
        }

        #[test]
        fn portable_words_match_naive(data in proptest::collection::vec(any::<u8>(), 0..1100), key: [u8; 4]) {
            // The path CPUs without AVX2 take, whatever this one has.
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask_words(&mut fast, key);
            naive(&mut slow, key, 0);
            prop_assert_eq!(fast, slow);
        }

        #[test]
        fn long_payloads_match_naive(data in proptest::collection::vec(any::<u8>(), 0..5000), key: [u8; 4], offset in 0usize..8) {
            // Long enough for every wide path this CPU has (AVX-512, AVX2).
            let mut fast = data.clone();
            let mut slow = data.clone();
            apply_mask(&mut fast, key, offset);
            naive(&mut slow, key, offset);
            prop_assert_eq!(&fast, &slow);
        }

        #[test]
        #[cfg(target_arch = "x86_64")]
        fn every_wide_build_matches_naive(data in proptest::collection::vec(any::<u8>(), 0..5000), key: [u8; 4]) {
            // Each build this CPU can run, whichever `apply_mask` picks.
            let mut slow = data.clone();
            naive(&mut slow, key, 0);
            if std::arch::is_x86_feature_detected!("avx2") {
                let mut fast = data.clone();
                // SAFETY: the CPU has AVX2.
                unsafe { apply_mask_avx2(&mut fast, key) };
                prop_assert_eq!(&fast, &slow);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                let mut fast = data.clone();
                // SAFETY: the CPU has AVX-512F.
                unsafe { apply_mask_avx512(&mut fast, key) };
                prop_assert_eq!(&fast, &slow);
            }
        }

        #[test]
        fn pieces_equal_whole(data in proptest::collection::vec(any::<u8>(), 0..300), key: [u8; 4], cuts in proptest::collection::vec(0usize..300, 0..6)) {
            let mut whole = data.clone();
            apply_mask(&mut whole, key, 0);
            let mut pieces = data.clone();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.push(0);
            cuts.push(data.len());
            cuts.sort_unstable();
            for w in cuts.windows(2) {
                apply_mask(&mut pieces[w[0]..w[1]], key, w[0]);
            }
            prop_assert_eq!(whole, pieces);
        }
    }
}
