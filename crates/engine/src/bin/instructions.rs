//! `make bench-instructions`: the workload whose instructions callgrind counts (native, no Envoy).
//!
//! Usage: `instructions config N` compiles the default configuration N times;
//! `instructions FIXTURE N` scans and masks `benches/fixtures/FIXTURE.request.json` N times, every
//! text new (no scan memo), each time with a fresh vault; `instructions first:FIXTURE N` compiles
//! the configuration and scans the fixture once, N times (the first request after configuring
//! also builds the automata of the rules it needs); `instructions threat:reference N` runs the threat
//! pipeline alone (scan + decide, as the eval times it) on the eval's reference 1 KB benign English
//! prompt N times, and `instructions threat:FIXTURE N` on the user texts of the fixture;
//! `first:threat:WHAT` compiles the configuration before each. `scripts/count_instructions.py` runs it
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
use prompt_guard_engine::threat::Source;
use prompt_guard_engine::vault::Vault;

/// The eval's reference 1 KB benign English prompt (`eval`'s injection report times it).
fn reference_prompt() -> String {
    let sentence = "The quarterly report shows that revenue grew in most regions while costs stayed flat. \
                    Please summarise the main drivers and list the risks the team should watch next quarter. ";
    sentence.repeat(1024 / sentence.len() + 1).chars().take(1024).collect()
}

/// The contents of the `user` messages of a chat request body.
fn user_texts(body: &[u8]) -> Vec<String> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else { return Vec::new() };
    let messages = json.get("messages").and_then(|m| m.as_array()).cloned().unwrap_or_default();
    messages
        .iter()
        .filter(|m| m.get("role").and_then(|r| r.as_str()) == Some("user"))
        .filter_map(|m| m.get("content").and_then(|c| c.as_str()).map(str::to_owned))
        .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures").join(format!("{name}.request.json"));
    match std::fs::read(&path) {
        Ok(body) => body,
        Err(e) => {
            eprintln!("instructions: cannot read {}: {e}", path.display());
            exit(2);
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(what), Some(n)) = (args.next(), args.next().and_then(|n| n.parse::<usize>().ok())) else {
        eprintln!("usage: instructions (config | [first:]FIXTURE | [first:]threat:(reference | FIXTURE)) N");
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
    if let Some(texts) = what.strip_prefix("threat:") {
        let texts = if texts == "reference" { vec![reference_prompt()] } else { user_texts(&fixture(texts)) };
        if texts.is_empty() {
            eprintln!("instructions: {what} has no user text");
            exit(2);
        }
        for _ in 0..n {
            if first {
                cfg = compile();
            }
            for text in &texts {
                let report = cfg.threats.scanner.scan(black_box(text), Source::User);
                black_box(cfg.threats.policy.decide(&report));
            }
        }
        return;
    }
    let body = fixture(&what);
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
