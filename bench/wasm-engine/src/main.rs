//! Times the engine's request path on the benchmark fixtures inside a wasm runtime: the same
//! `guard_request` the filter calls, with the default configuration, so the figures are what the
//! engine costs inside Envoy's V8 before Envoy's own work. Usage: `make bench-wasm`; the
//! optional argument keeps the fixtures whose names contain it. Profile with
//! `node --cpu-prof bench/wasm-engine/run.mjs <wasm>` (the module keeps its name section).

use std::hint::black_box;
use std::time::Instant;

use prompt_guard::config::FilterConfig;
use prompt_guard::engine::exchange::guard_request;
use prompt_guard::engine::memo::MemoScope;
use prompt_guard::engine::protocol::Api;
use prompt_guard::engine::vault::Vault;

const FIXTURES: &[(&str, &[u8])] = &[
    ("chat_1k", include_bytes!("../../../benches/fixtures/chat_1k.request.json")),
    ("multiturn_16k", include_bytes!("../../../benches/fixtures/multiturn_16k.request.json")),
    ("no_findings_64k", include_bytes!("../../../benches/fixtures/no_findings_64k.request.json")),
    ("dense_16k", include_bytes!("../../../benches/fixtures/dense_16k.request.json")),
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
        println!("| guard_request | {name} | {} | {:.1} µs | {:.1} MB/s |", body.len(), per * 1e6, body.len() as f64 / per / 1e6);
    }
}

fn once(cfg: &FilterConfig, body: &[u8]) {
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let outcome = guard_request(cfg, Api::OpenaiChat, body, true, &mut vault, MemoScope::NONE);
    if outcome.is_err() {
        eprintln!("a fixture was refused");
        std::process::exit(1);
    }
    black_box(outcome.ok());
}
