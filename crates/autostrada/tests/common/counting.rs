//! A global allocator that counts the bytes live now and at peak, for tests
//! that bound memory. Include with `#[path = "common/counting.rs"] mod
//! counting;` and declare `#[global_allocator] static A: counting::Counting
//! = counting::Counting;` in one test file.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Forwards to the system allocator, counting.
pub struct Counting;

/// Bytes allocated and not yet freed.
pub static CURRENT: AtomicUsize = AtomicUsize::new(0);
/// The highest `CURRENT` has been (reset it by storing the current value).
pub static PEAK: AtomicUsize = AtomicUsize::new(0);
/// How many allocations of at least [`LARGE_MIN`] octets were made.
pub static LARGE: AtomicUsize = AtomicUsize::new(0);
/// What counts as a large allocation for [`LARGE`].
pub const LARGE_MIN: usize = 4096;

// SAFETY: every call forwards to the system allocator unchanged; the
// counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        if layout.size() >= LARGE_MIN {
            LARGE.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    /// Forwarded as a reallocation, as the system allocator sees it (one
    /// that can grow a block in place, or remap a large one, never holds
    /// the old and the new at once), and counted by its change in size; a
    /// growth to at least `LARGE_MIN` counts as a large allocation.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        if new_size >= LARGE_MIN && new_size > layout.size() {
            LARGE.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
