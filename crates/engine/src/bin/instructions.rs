//! `make bench-instructions`: the workload whose instructions callgrind counts (native, no Envoy).
//!
//! Usage: `instructions config N` compiles the default configuration N times;
//! `instructions FIXTURE N` scans and masks `benches/fixtures/FIXTURE.request.json` N times, every
//! text new (no scan memo), each time with a fresh vault; `instructions first:FIXTURE N` compiles
//! the configuration and scans the fixture once, N times (the first request after configuring
//! also builds the automata of the rules it needs). `scripts/count_instructions.py` runs it
//! under callgrind with N and 2N and takes the difference, so that the configuration, reading the
//! fixture and the process's start drop out: what is left is the cost of one request (or one
//! compile) in instructions, which does not move with the machine's load as timings do.
//! `INSTRUCTIONS_CONFIG=FILE` uses that filter configuration instead of the defaults (files in
//! `bench/configs/`).

use std::hint::black_box;
use std::path::Path;
use std::process::exit;

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::guard_request;
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::vault::Vault;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(what), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: instructions (config | FIXTURE | first:FIXTURE) N");
        exit(2);
    };
    let config = match std::env::var_os("INSTRUCTIONS_CONFIG") {
        None => b"{}".to_vec(),
        Some(file) => std::fs::read(&file).unwrap_or_else(|e| {
            eprintln!("instructions: cannot read {}: {e}", Path::new(&file).display());
            exit(2);
        }),
    };
    let compile = || match FilterConfig::from_json(&config) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("instructions: the configuration does not compile: {e}");
            exit(1);
        }
    };
    if what == "config" {
        for _ in 0..n {
            black_box(compile());
        }
        return;
    }
    let (first, what) = match what.strip_prefix("first:") {
        Some(fixture) => (true, fixture.to_owned()),
        None => (false, what),
    };
    let mut cfg = compile();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures").join(format!("{what}.request.json"));
    let body = match std::fs::read(&path) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("instructions: cannot read {}: {e}", path.display());
            exit(2);
        }
    };
    for _ in 0..n {
        if first {
            cfg = compile();
        }
        let mut vault = Vault::with_capacity(cfg.max_entities);
        let outcome = guard_request(&cfg, Api::OpenAiChat, &body, true, &mut vault, MemoScope::NONE);
        if outcome.is_err() {
            eprintln!("instructions: {what} was refused");
            exit(1);
        }
        black_box(outcome.ok());
    }
}
