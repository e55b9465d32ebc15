//! The buffered restore. Input: `[8-byte chunking seed][text]`. Asserted: no panic; for both
//! escapes, restoring the text piece by piece (cut at arbitrary places) gives exactly the one-shot
//! result and the same counts, and never holds back more than the longest token; the reservation
//! scan and the whole-reply guard run on it (as a text and as a JSON string) without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use prompt_guard_engine::exchange::guard_reply;
use prompt_guard_engine::restore::{
    max_token_len, placeholder_lookalikes, restore_text, Escape, RestoreCounts, StreamingTextRestorer,
};
use prompt_guard_fuzz::{chunks, default_config, seed_and_body, spec, vault};

fuzz_target!(|data: &[u8]| {
    let (seed, body) = seed_and_body(data);
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let vault = vault();
    let spec = spec();
    // Cut on character boundaries only: the restorer is handed decoded strings.
    let mut pieces = Vec::new();
    let mut at = 0;
    for c in chunks(body, seed) {
        let mut end = (at + c.len()).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if end > at {
            pieces.push(&text[at..end]);
            at = end;
        }
    }
    for escape in [Escape::None, Escape::JsonString] {
        let mut one_counts = RestoreCounts::default();
        let one = restore_text(text, &vault, &spec, escape, &mut one_counts);
        let mut r = StreamingTextRestorer::new(escape);
        let mut out = String::new();
        let mut counts = RestoreCounts::default();
        for p in &pieces {
            r.push(p, &vault, &spec, &mut counts, &mut out);
            assert!(r.held().len() <= max_token_len(&spec.grammar), "held back more than a token");
        }
        r.finish(&vault, &spec, &mut counts, &mut out);
        assert_eq!(out, one.as_ref(), "streamed restore differs from one-shot ({escape:?})");
        assert_eq!(counts, one_counts);
    }
    placeholder_lookalikes(text, &spec, |_, _| {});
    let cfg = default_config();
    let _ = guard_reply(cfg, body, &vault);
    let _ = guard_reply(cfg, serde_json::Value::String(text.to_owned()).to_string().as_bytes(), &vault);
});
