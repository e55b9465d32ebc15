//! What the fuzz targets share: how fuzz bytes become a network chunking, the vault and restore
//! spec the stream targets restore against, and the streaming-equals-one-shot check.
//!
//! Most targets read their input as `[8 bytes of chunking seed][body]`, so the fuzzer controls
//! both the bytes and where the network cuts them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::placeholder::PlaceholderGrammar;
use prompt_guard_engine::restore::RestoreSpec;
use prompt_guard_engine::sse::{SseRestorer, StreamProtocol, StreamStats};
use prompt_guard_engine::vault::Vault;

/// Split fuzz input into the chunking seed and the body.
pub fn seed_and_body(data: &[u8]) -> (u64, &[u8]) {
    if data.len() < 8 {
        return (0, data);
    }
    let (seed, body) = data.split_at(8);
    (u64::from_le_bytes(seed.try_into().unwrap()), body)
}

/// Cut `body` into network chunks decided by `seed`: the low byte picks the scale (one byte at a
/// time, a few bytes, up to 64, up to 2048), the rest drives a xorshift generator.
pub fn chunks(body: &[u8], seed: u64) -> Vec<&[u8]> {
    let max = match seed & 3 {
        0 => 1,
        1 => 8,
        2 => 64,
        _ => 2048,
    };
    let mut state = seed | 1;
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state % max + 1) as usize;
        let (head, tail) = rest.split_at(n.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

/// The labels the stream fixtures use.
pub fn spec() -> RestoreSpec {
    RestoreSpec {
        grammar: PlaceholderGrammar::default(),
        known_labels: ["EMAIL", "PHONE", "SECRET", "IBAN"].map(String::from).to_vec(),
    }
}

/// A vault like the one a masked request leaves: two e-mails, a phone number and a secret that
/// needs JSON escaping (quote and backslash).
pub fn vault() -> Vault {
    let g = PlaceholderGrammar::default();
    let mut v = Vault::with_capacity(16);
    for (label, original) in [
        ("EMAIL", "ann@example.com"),
        ("EMAIL", "bob@example.org"),
        ("PHONE", "+49 151 1234567"),
        ("SECRET", "p\"w\\d\n</x>"),
    ] {
        v.placeholder_for(&g, label, original).unwrap();
    }
    v
}

/// The default configuration, compiled once per process (compiling costs milliseconds).
pub fn default_config() -> &'static FilterConfig {
    static CFG: OnceLock<FilterConfig> = OnceLock::new();
    CFG.get_or_init(|| FilterConfig::from_json(b"").unwrap())
}

/// Restore one stream fed as `pieces`; returns the bytes sent on and the stream's statistics.
pub fn restore_stream(protocol: StreamProtocol, pieces: &[&[u8]], max_event: Option<usize>) -> (Vec<u8>, StreamStats) {
    let vault = vault();
    let spec = spec();
    let mut r = SseRestorer::new(protocol);
    if let Some(cap) = max_event {
        r = r.with_max_event(cap);
    }
    let mut out = Vec::new();
    for piece in pieces {
        r.push(piece, &vault, &spec, &mut out);
        let _ = r.take_text();
    }
    r.finish(&vault, &spec, &mut out);
    (out, r.stats())
}

/// The streaming restorers' contract: whatever the chunking, the output and the statistics are
/// those of the whole body fed at once. With a small event cap only "no panic" is required (when
/// an event outgrows the cap depends on the chunking by design).
pub fn check_stream(protocol: StreamProtocol, data: &[u8]) {
    let (seed, body) = seed_and_body(data);
    let pieces = chunks(body, seed);
    let (whole, whole_stats) = restore_stream(protocol, &[body], None);
    let (cut, cut_stats) = restore_stream(protocol, &pieces, None);
    assert_eq!(whole_stats, cut_stats, "statistics depend on the chunking");
    assert!(whole == cut, "output depends on the chunking");
    let cap = 16 + (seed >> 56) as usize;
    let _ = restore_stream(protocol, &pieces, Some(cap));
}
