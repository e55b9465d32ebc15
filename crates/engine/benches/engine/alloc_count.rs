//! A global allocator that counts, so the benchmark can report allocations per request: in a
//! wasm VM every allocation is a call into the module's own allocator, and a request that
//! allocates per character or per finding shows up here long before it shows up in Envoy.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static REALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Forwards to the system allocator and counts calls and requested bytes.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; counting has
// no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        REALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size.saturating_sub(layout.size()) as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

/// Allocation activity over one piece of work.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocCounts {
    pub allocations: u64,
    /// Growths of an existing block (a `Vec` or `String` that outgrew its capacity).
    pub reallocations: u64,
    /// Bytes requested, counting only the growth of a reallocation.
    pub bytes: u64,
}

fn now() -> AllocCounts {
    AllocCounts {
        allocations: ALLOCATIONS.load(Ordering::Relaxed),
        reallocations: REALLOCATIONS.load(Ordering::Relaxed),
        bytes: BYTES.load(Ordering::Relaxed),
    }
}

/// Run `work` and return its result with the allocations it made. The benchmark is
/// single-threaded, so the process-wide counters see only this work.
pub fn measure<R>(work: impl FnOnce() -> R) -> (R, AllocCounts) {
    let before = now();
    let result = work();
    let after = now();
    let counts = AllocCounts {
        allocations: after.allocations - before.allocations,
        reallocations: after.reallocations - before.reallocations,
        bytes: after.bytes - before.bytes,
    };
    (result, counts)
}
