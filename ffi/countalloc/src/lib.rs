//! A global allocator that counts allocations, for tests that check a hot path allocates
//! nothing per frame. It forwards to the system allocator; the `unsafe` of `GlobalAlloc` is why
//! it lives under `ffi/`.
//!
//! Install it in a test binary with `#[global_allocator] static A: Counting = Counting;`, then
//! read [`allocations`] before and after the stretch to check. Only Rust allocations are seen:
//! C libraries (x264, libxcb) allocate with their own `malloc`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Counts every `alloc`, `alloc_zeroed` and growing `realloc`, in the whole process.
pub struct Counting;

// SAFETY: every call forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees hold; the counters are atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as received (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: forwarded as received.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as received.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            count(new_size - layout.size());
        }
        // SAFETY: forwarded as received.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(bytes: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

/// Allocations so far in this process (with [`Counting`] installed).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Bytes asked for so far (growth only, for `realloc`).
pub fn bytes() -> u64 {
    BYTES.load(Ordering::Relaxed)
}
