//! The configuration compiler: arbitrary bytes as the filter's JSON configuration (seeds: the
//! shipped example configurations and a few written for this target). Asserted: an error or a
//! configuration, never a panic; a compiled configuration classifies paths without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prompt_guard_engine::config::FilterConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(cfg) = FilterConfig::from_json(data) {
        for path in ["/v1/chat/completions", "/v1/messages?beta=true", "/", "/%2e%2e/v1//responses"] {
            let _ = cfg.classify(path);
        }
    }
});
