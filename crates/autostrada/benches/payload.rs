//! The per-octet work on a received payload, timed per size: unmasking
//! (`apply_mask`, RFC 6455 §5.3) and validating text (`Utf8Validator`,
//! §8.1). Both run once over every octet a server receives, so for large
//! messages they are most of the library's own CPU (the rest is the
//! kernel's copies).
//!
//! ```text
//! cargo bench -p autostrada --bench payload
//! cargo bench -p autostrada --bench payload -- --save-baseline before   # then, after a change:
//! cargo bench -p autostrada --bench payload -- --baseline before
//! ```
//!
//! The sizes span one 125-octet control payload to a 1 MiB message; 16 and
//! 64 KiB fit the core's private caches, 1 MiB does not on most machines.

use std::hint::black_box;

use autostrada::proto::{Utf8Validator, apply_mask};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [usize; 6] = [125, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 1 << 20];

fn mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply_mask");
    for size in SIZES {
        let mut buf = vec![0x5au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        // Offset 1: a piece that starts mid-key, as reads of a frame do.
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| apply_mask(black_box(&mut buf), [0x37, 0xfa, 0x21, 0x3d], 1));
        });
    }
    group.finish();
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8_validate");
    // Mostly ASCII with a two-, three- and four-octet code point per line.
    let line = "{\"user\":\"zoë\",\"text\":\"€ per 🚀\",\"n\":12345}\n";
    for size in SIZES {
        let text: Vec<u8> = line.bytes().cycle().take(size).collect();
        // Cut at a code point boundary so the whole piece is valid.
        let end = (0..=text.len()).rev().find(|&i| std::str::from_utf8(&text[..i]).is_ok()).unwrap_or(0);
        let text = &text[..end];
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(text)).unwrap();
                v.finish().unwrap();
            });
        });
    }
    group.finish();
}

criterion_group!(benches, mask, utf8);
criterion_main!(benches);
