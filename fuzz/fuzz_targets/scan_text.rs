//! Every text scanner on arbitrary text: PII and secret detection (with its folded view), the
//! threat scanner (hygiene, decoders, normalisers, rules) for each source, the threat decoders and
//! the normaliser on their own, and the reply link and leak scans. Asserted: no panic; every
//! finding is a non-empty span on character boundaries inside the text.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prompt_guard_engine::reply::{scan_all, scan_links};
use prompt_guard_engine::threat::decode::decoded_segments;
use prompt_guard_engine::threat::normalise::normalise;
use prompt_guard_engine::threat::{check_hygiene, Source};
use prompt_guard_fuzz::{default_config, vault};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();
    let cfg = default_config();
    let mut found = Vec::new();
    cfg.detector.detect(text, &mut found);
    for f in &found {
        assert!(f.start < f.end && f.end <= text.len(), "finding outside the text");
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end), "finding splits a character");
    }
    let _ = check_hygiene(text, &cfg.threats.hygiene);
    for source in [Source::User, Source::Tool] {
        let _ = cfg.threats.scanner.scan(text, source);
    }
    let _ = decoded_segments(text);
    let _ = normalise(text);
    // The reply scans with an exchange's vault, so links are also checked for its values.
    let vault = vault();
    let _ = scan_links(cfg, &vault, text);
    let _ = scan_all(cfg, &vault, text, &mut found);
});
