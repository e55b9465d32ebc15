//! `leakgen --seed S --count N`: prints N generated requests (from seed S on) as JSON lines, for
//! the end-to-end leak test (`tests/e2e/test_leakgen.py`). Each line holds the request (path,
//! content type, body), what was planted where (with the strings that must not reach the
//! upstream) and what must arrive unchanged. The generator itself is `tests/leakgen`, shared with
//! the native leak test.

#[path = "../../tests/leakgen/mod.rs"]
mod leakgen;

use std::io::Write as _;
use std::process::exit;

use serde_json::json;

use leakgen::case::{case, Family};

fn usage() -> ! {
    eprintln!("usage: leakgen [--seed S] [--count N]   (S decimal or 0x-hex)");
    exit(2);
}

fn number(v: Option<String>) -> u64 {
    let Some(v) = v else { usage() };
    let parsed = match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    };
    parsed.unwrap_or_else(|| usage())
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Chat => "chat",
        Family::Completions => "completions",
        Family::Responses => "responses",
        Family::Anthropic => "anthropic",
        Family::Other => "other",
    }
}

fn main() {
    let mut seed = 0x1EA6_E2E0u64;
    let mut count = 100u64;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seed" => seed = number(args.next()),
            "--count" => count = number(args.next()),
            _ => usage(),
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for i in 0..count {
        let c = case(seed.wrapping_add(i));
        let plants: Vec<_> = c
            .plants
            .iter()
            .map(|p| {
                json!({"kind": p.kind, "format": p.format, "wrap": p.wrap, "form": p.form, "position": p.position,
                       "field": p.field, "snippet": p.snippet, "needles": p.needles})
            })
            .collect();
        let keeps: Vec<_> = c.keeps.iter().map(|k| json!({"kind": k.kind, "field": k.field, "text": k.text})).collect();
        let line = json!({
            "seed": c.seed, "endpoint": c.endpoint, "family": family_name(c.family), "path": c.path,
            "path_form": c.path_form, "content_type": c.content_type, "stream": c.stream,
            "body": String::from_utf8_lossy(&c.body), "plants": plants, "keeps": keeps,
        });
        if writeln!(out, "{line}").is_err() {
            exit(1);
        }
    }
}
