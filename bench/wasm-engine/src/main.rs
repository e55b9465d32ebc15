//! Times the engine's request path on the benchmark fixtures inside a wasm runtime: the same
//! `guard_request` the filter calls, with the default configuration, so the figures are what the
//! engine costs inside Envoy's V8 before Envoy's own work. Usage: `make bench-wasm`; the
//! optional argument keeps the fixtures whose names contain it. Profile with
//! `node --cpu-prof bench/wasm-engine/run.mjs <wasm>` (the module keeps its name section).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// Counts live and peak heap bytes: the peak is what the VM's linear memory grows to (a wasm
/// memory never shrinks), the live bytes after configuring are what the configuration keeps.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: f64 = 1048576.0;

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::guard_request;
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::vault::Vault;

const FIXTURES: &[(&str, &[u8])] = &[
    ("chat_1k", include_bytes!("../../../crates/engine/benches/fixtures/chat_1k.request.json")),
    ("multiturn_16k", include_bytes!("../../../crates/engine/benches/fixtures/multiturn_16k.request.json")),
    ("no_findings_64k", include_bytes!("../../../crates/engine/benches/fixtures/no_findings_64k.request.json")),
    ("dense_16k", include_bytes!("../../../crates/engine/benches/fixtures/dense_16k.request.json")),
];

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    // A second argument replaces the default configuration (JSON), e.g. to time a variant.
    let config = std::env::args().nth(2).unwrap_or_else(|| "{}".to_string());
    let started = Instant::now();
    let Ok(cfg) = FilterConfig::from_json(config.as_bytes()) else {
        eprintln!("the configuration does not compile");
        std::process::exit(1);
    };
    println!("| stage | fixture | body bytes | time per body | MB/s |");
    println!("|---|---|---:|---:|---:|");
    println!("| config compile | defaults | - | {:.1} ms | - |", started.elapsed().as_secs_f64() * 1e3);
    let (live, peak) = (LIVE.load(Ordering::Relaxed) as f64 / MIB, PEAK.load(Ordering::Relaxed) as f64 / MIB);
    println!("| heap after configuring (peak while configuring) | - | - | {live:.1} MiB ({peak:.1} MiB) | - |");
    for (name, body) in FIXTURES {
        if !name.contains(filter.as_str()) {
            continue;
        }
        // Enough iterations for about half a second per fixture.
        let iterations = (4_000_000 / body.len()).clamp(20, 2000);
        for _ in 0..3 {
            once(&cfg, body);
        }
        let t = Instant::now();
        for _ in 0..iterations {
            once(&cfg, body);
        }
        let per = t.elapsed().as_secs_f64() / iterations as f64;
        println!(
            "| guard_request | {name} | {} | {:.1} µs | {:.1} MB/s |",
            body.len(),
            per * 1e6,
            body.len() as f64 / per / 1e6
        );
    }
    println!("| heap peak over the run | - | - | {:.1} MiB | - |", PEAK.load(Ordering::Relaxed) as f64 / MIB);
}

fn once(cfg: &FilterConfig, body: &[u8]) {
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let outcome = guard_request(cfg, Api::OpenAiChat, body, true, &mut vault, MemoScope::NONE);
    if outcome.is_err() {
        eprintln!("a fixture was refused");
        std::process::exit(1);
    }
    black_box(outcome.ok());
}
