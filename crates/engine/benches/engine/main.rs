//! Engine benchmarks (`make bench`): what the filter costs per request, natively, through the
//! same public entry points the Envoy glue calls (`guard_request`, `guard_reply`), so work
//! merged behind them (detectors, threat scanning, the streaming restorer) is measured as it lands.
//!
//! Groups (MB/s from `Throughput::Bytes` of the body each one reads):
//! - `config_compile`: `FilterConfig::from_json` of the defaults and of a configuration with
//!   custom patterns (done once per VM at configure time; target < 20 ms);
//! - `json_baseline`: parse and re-serialise the request with no inspection, the floor any
//!   structural rewrite pays;
//! - `guard_request`: scan and mask one request body with the default configuration;
//! - `guard_reply`: restore one buffered reply, with the vault its request produces;
//! - `restore_stream`: restore one streamed (SSE) reply;
//! - `exchange`: both, the whole engine cost of one request;
//! - `audit_record`: the audit record of one exchange (request masked, buffered reply restored)
//!   built from its trail and written as JSON, as the glue does at the end of the reply and
//!   again when the stream is logged;
//! - `reply_policy_response`, `reply_policy_stream`: `guard_reply` and the streamed restore with a
//!   reply policy that acts on every type (`policy.reply: {"default": "redact"}`): what holding
//!   back, scanning and acting on values the exchange did not mask add to `guard_reply` and
//!   `restore_stream`.
//!
//! Before the timed groups it prints allocations per request for each fixture (a counting global
//! allocator) and what was masked against what the fixture planted; with `--bench` it also writes
//! them to `bench-results/engine-allocs.json` for `scripts/bench_engine_summary.py`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod alloc_count;
mod fixtures;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_reply, guard_request, Guard};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::restore::leaks::LeakRules;
use prompt_guard_engine::sse::{SseRestorer, StreamProtocol};
use prompt_guard_engine::vault::Vault;

use alloc_count::{measure, AllocCounts, CountingAllocator};
use fixtures::Fixture;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// A configuration a team would plausibly write: internal identifiers as custom patterns (some
/// with context words), an allow list, one entity switched off, an explicit route.
const CUSTOM_CONFIG: &str = r#"{
  "max_body_bytes": 4194304,
  "placeholder_template": "[{TYPE}_{N}]",
  "entities": {"IP_ADDRESS": false},
  "custom_patterns": [
    {"name": "EMPLOYEE_ID", "regex": "\\bEMP-[0-9]{6}\\b", "context": ["employee", "staff", "badge"]},
    {"name": "PROJECT_CODE", "regex": "\\bPRJ-[A-Z]{3}-[0-9]{4}\\b"},
    {"name": "TICKET", "regex": "\\b(?:INC|REQ|CHG)[0-9]{7}\\b", "context": ["ticket", "incident"]},
    {"name": "CUSTOMER_NO", "regex": "\\bC[0-9]{8}\\b", "context": ["customer", "account"]},
    {"name": "INTERNAL_HOST", "regex": "\\b[a-z0-9-]+\\.corp\\.example\\.internal\\b"}
  ],
  "allow_list": ["support@example.com", "+1 202-555-0100"],
  "routes": [{"prefix": "/llm/", "api": "openai_chat"}]
}"#;

fn default_config() -> FilterConfig {
    FilterConfig::from_json(b"{}").expect("the default configuration compiles")
}

/// One request through the engine as the glue does it: a fresh vault, then `guard_request`.
fn guard(cfg: &FilterConfig, body: &[u8]) -> Vault {
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let outcome = guard_request(cfg, Api::OpenAiChat, body, true, &mut vault, MemoScope::NONE);
    black_box(outcome.expect("every fixture is a valid OpenAI chat request"));
    vault
}

/// Restore of a streamed reply as the glue does it: the event stream fed to the streaming
/// restorer in the chunk size Envoy delivers from a socket read (up to 16 KiB; 4 KiB here, a
/// little pessimistic), output collected per chunk.
fn restore_stream(cfg: &FilterConfig, body: &[u8], vault: &Vault) {
    let leaks =
        cfg.policy.reply.acts().then_some(LeakRules { detector: &cfg.detector, policy: &cfg.policy.reply, vault });
    let mut restorer = SseRestorer::new(StreamProtocol::OpenAiChat);
    let mut out = Vec::with_capacity(4096 + 256);
    for chunk in body.chunks(4096) {
        out.clear();
        restorer.push_with(chunk, vault, &cfg.restore, leaks, &mut out);
        black_box(&out);
    }
    out.clear();
    restorer.finish_with(vault, &cfg.restore, leaks, &mut out);
    black_box(&out);
}

fn bench_config(c: &mut Criterion) {
    let mut group = c.benchmark_group("config_compile");
    group.bench_function("defaults", |b| b.iter(|| FilterConfig::from_json(black_box(b"{}")).unwrap()));
    group.bench_function("custom_patterns", |b| {
        b.iter(|| FilterConfig::from_json(black_box(CUSTOM_CONFIG.as_bytes())).unwrap())
    });
    group.finish();
}

fn bench_json_baseline(c: &mut Criterion, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("json_baseline");
    for f in fixtures {
        group.throughput(Throughput::Bytes(f.request.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), &f.request, |b, body| {
            b.iter(|| {
                let doc: serde_json::Value = serde_json::from_slice(black_box(body)).unwrap();
                doc.to_string()
            })
        });
    }
    group.finish();
}

fn bench_guard(c: &mut Criterion, cfg: &FilterConfig, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("guard_request");
    for f in fixtures {
        group.throughput(Throughput::Bytes(f.request.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), &f.request, |b, body| {
            b.iter(|| guard(cfg, black_box(body)))
        });
    }
    group.finish();
}

/// The fixture's conversation with one more user turn that no request had before.
fn next_turn(body: &[u8], n: u64) -> Vec<u8> {
    let mut doc: serde_json::Value = serde_json::from_slice(body).expect("fixtures are JSON");
    if let Some(messages) = doc.get_mut("messages").and_then(serde_json::Value::as_array_mut) {
        messages.push(
            serde_json::json!({"role": "user", "content": format!("Turn {n}: and what about the second point?")}),
        );
    }
    serde_json::to_vec(&doc).expect("a Value serialises")
}

/// A conversation's next turn with the scan memo on: the history was scanned by an earlier
/// request of the same caller, the new turn was not (building the body is not timed).
fn bench_next_turn(c: &mut Criterion, cfg: &FilterConfig, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("guard_next_turn");
    let guard = Guard::new(FilterConfig::from_json(b"{}").expect("the default configuration compiles"));
    let scope = guard.memo().scope(b"authorization:Bearer bench");
    for f in fixtures.iter().filter(|f| matches!(f.name.as_str(), "multiturn_16k" | "long_context_128k")) {
        let mut vault = Vault::with_capacity(cfg.max_entities);
        black_box(guard_request(cfg, Api::OpenAiChat, &f.request, true, &mut vault, scope).ok());
        let mut n = 0u64;
        group.throughput(Throughput::Bytes(f.request.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), &f.request, |b, body| {
            b.iter_batched(
                || {
                    n += 1;
                    next_turn(body, n)
                },
                |turn| {
                    let mut vault = Vault::with_capacity(cfg.max_entities);
                    black_box(guard_request(cfg, Api::OpenAiChat, &turn, true, &mut vault, scope).ok())
                },
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn bench_restore(c: &mut Criterion, cfg: &FilterConfig, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("restore_response");
    for f in fixtures {
        let vault = f.planted_vault(cfg);
        group.throughput(Throughput::Bytes(f.reply.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), &f.reply, |b, reply| {
            b.iter(|| guard_reply(cfg, black_box(reply), &vault))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("restore_stream");
    for f in fixtures {
        let Some(sse) = &f.reply_sse else { continue };
        let vault = f.planted_vault(cfg);
        group.throughput(Throughput::Bytes(sse.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), sse, |b, sse| {
            b.iter(|| restore_stream(cfg, black_box(sse), &vault))
        });
    }
    group.finish();
}

fn bench_reply_policy(c: &mut Criterion, fixtures: &[Fixture]) {
    let cfg = FilterConfig::from_json(br#"{"policy": {"reply": {"default": "redact"}}}"#).unwrap();
    let mut group = c.benchmark_group("reply_policy_response");
    for f in fixtures {
        let vault = f.planted_vault(&cfg);
        group.throughput(Throughput::Bytes(f.reply.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), &f.reply, |b, reply| {
            b.iter(|| guard_reply(&cfg, black_box(reply), &vault))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("reply_policy_stream");
    for f in fixtures {
        let Some(sse) = &f.reply_sse else { continue };
        let vault = f.planted_vault(&cfg);
        group.throughput(Throughput::Bytes(sse.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), sse, |b, sse| {
            b.iter(|| restore_stream(&cfg, black_box(sse), &vault))
        });
    }
    group.finish();
}

/// Request headers for the audit benchmark: a path, a credential and a request id.
struct AuditHeaders;

impl prompt_guard_engine::exchange::RequestHeaders for AuditHeaders {
    type Error = std::convert::Infallible;
    fn get(&self, name: &str) -> Result<Option<String>, Self::Error> {
        Ok(match name {
            ":path" => Some("/v1/chat/completions".to_owned()),
            "content-type" => Some("application/json".to_owned()),
            "authorization" => Some("Bearer sk-bench-caller".to_owned()),
            "x-request-id" => Some("5f0c9a1e-1b7d-4c55-9a1e-0c2f6d3b8e41".to_owned()),
            _ => None,
        })
    }
}

fn bench_audit_record(c: &mut Criterion, fixtures: &[Fixture]) {
    use prompt_guard_engine::exchange::{AuditTrail, Exchange, HostFacts, Sessions};
    let key = "bench-hash-key-of-at-least-thirty-two-bytes".to_owned();
    let g = Guard::from_json_with_env(b"{}", &|n| (n == "PG_HASH_KEY").then(|| key.clone())).unwrap();
    let mut group = c.benchmark_group("audit_record");
    let facts =
        HostFacts { reply_seen: true, answered_locally: false, reply_complete: true, request_us: 1, reply_us: 1 };
    for f in fixtures {
        let mut ex = Exchange::new(&g);
        let mut trail = AuditTrail::default();
        ex.request_headers(&g, &AuditHeaders, true, &mut |e| trail.observe(&e)).unwrap();
        let sessions = Sessions { data: &NoSharedData, now_secs: None };
        ex.request_body(&g, &f.request, &sessions, &mut |e| trail.observe(&e));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), &(), |b, ()| {
            b.iter(|| black_box(trail.record(&g, &ex, &facts).to_json()))
        });
    }
    group.finish();
}

/// Shared data that holds nothing (no session in the audit benchmark).
struct NoSharedData;

impl prompt_guard_engine::store::SharedData for NoSharedData {
    fn get(&self, _key: &str) -> Result<Option<(Vec<u8>, u32)>, prompt_guard_engine::store::StoreError> {
        Ok(None)
    }
    fn set(&self, _key: &str, _value: &[u8], _cas: Option<u32>) -> Result<(), prompt_guard_engine::store::StoreError> {
        Ok(())
    }
}

fn bench_exchange(c: &mut Criterion, cfg: &FilterConfig, fixtures: &[Fixture]) {
    let mut group = c.benchmark_group("exchange");
    for f in fixtures {
        group.throughput(Throughput::Bytes((f.request.len() + f.reply.len()) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(&f.name), f, |b, f| {
            b.iter(|| {
                let vault = guard(cfg, black_box(&f.request));
                guard_reply(cfg, black_box(&f.reply), &vault)
            })
        });
    }
    group.finish();
}

/// Allocations and outcomes of one request and its reply, per fixture.
struct AllocRow {
    name: String,
    request_bytes: usize,
    planted: u64,
    masked: u32,
    guard: AllocCounts,
    quoted: usize,
    restored: u64,
    restore: AllocCounts,
}

fn alloc_rows(cfg: &FilterConfig, fixtures: &[Fixture]) -> Vec<AllocRow> {
    fixtures
        .iter()
        .map(|f| {
            // Once unmeasured, so lazily built statics (regex caches, hash seeds) are not counted.
            drop(guard(cfg, &f.request));
            let (masked, guard_counts) = measure(|| {
                let mut vault = Vault::with_capacity(cfg.max_entities);
                let outcome = guard_request(cfg, Api::OpenAiChat, &f.request, true, &mut vault, MemoScope::NONE);
                outcome.map(|o| o.masked.total()).unwrap_or(0)
            });
            let vault = f.planted_vault(cfg);
            drop(guard_reply(cfg, &f.reply, &vault));
            let (restored, restore_counts) = measure(|| guard_reply(cfg, &f.reply, &vault).restore.restored);
            // The vault holds every planted value, so every placeholder the reply quotes must come back.
            assert_eq!(restored, f.quoted_placeholders() as u64, "{}: placeholders restored", f.name);
            AllocRow {
                name: f.name.clone(),
                request_bytes: f.request.len(),
                planted: f.occurrences,
                masked,
                guard: guard_counts,
                quoted: f.quoted_placeholders(),
                restored,
                restore: restore_counts,
            }
        })
        .collect()
}

fn print_alloc_rows(rows: &[AllocRow]) {
    println!("\nAllocations per request (default configuration; counting global allocator)\n");
    println!("| fixture | request bytes | values planted | masked | guard_request allocs (reallocs) | bytes | reply placeholders | restored | restore allocs (reallocs) | bytes |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} ({}) | {} |",
            r.name,
            r.request_bytes,
            r.planted,
            r.masked,
            r.guard.allocations,
            r.guard.reallocations,
            r.guard.bytes,
            r.quoted,
            r.restored,
            r.restore.allocations,
            r.restore.reallocations,
            r.restore.bytes
        );
    }
    println!();
}

fn write_alloc_rows(rows: &[AllocRow]) {
    let items: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "fixture": r.name, "request_bytes": r.request_bytes, "planted": r.planted, "masked": r.masked,
                "guard_allocations": r.guard.allocations, "guard_reallocations": r.guard.reallocations,
                "guard_bytes": r.guard.bytes, "reply_placeholders": r.quoted, "restored": r.restored,
                "restore_allocations": r.restore.allocations, "restore_reallocations": r.restore.reallocations,
                "restore_bytes": r.restore.bytes,
            })
        })
        .collect();
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("bench-results");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("engine-allocs.json"), serde_json::to_vec_pretty(&items).unwrap()));
    if let Err(e) = written {
        eprintln!("could not write bench-results/engine-allocs.json: {e}");
    }
}

fn main() {
    let cfg = default_config();
    let fixtures = fixtures::load();
    let rows = alloc_rows(&cfg, &fixtures);
    print_alloc_rows(&rows);
    // Only a real benchmark run records results; `cargo test --all-targets` runs each benchmark
    // once as a smoke test and must not overwrite them.
    if std::env::args().any(|a| a == "--bench") {
        write_alloc_rows(&rows);
    }

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();
    bench_config(&mut c);
    bench_json_baseline(&mut c, &fixtures);
    bench_guard(&mut c, &cfg, &fixtures);
    bench_next_turn(&mut c, &cfg, &fixtures);
    bench_restore(&mut c, &cfg, &fixtures);
    bench_reply_policy(&mut c, &fixtures);
    bench_exchange(&mut c, &cfg, &fixtures);
    bench_audit_record(&mut c, &fixtures);
    c.final_summary();
}
