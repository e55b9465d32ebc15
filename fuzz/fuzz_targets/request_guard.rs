//! The request guard, per API and body framing. Input: `[API byte][framing byte][body]` (the
//! first byte picks one of the APIs, the second JSON, text, form or multipart). Asserted: no
//! panic; for JSON and text bodies that go on, restoring the forwarded body with this exchange's
//! vault (what the reply restorer does to the masked strings, keys included) gives back exactly
//! the strings the client sent.
//!
//! The configuration is the default with control characters allowed (stripping them changes
//! the text on purpose, which this property would otherwise read as a failure).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_request_as, BodyKind};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::restore::{restore_text, Escape, RestoreCounts, RestoreSpec};
use prompt_guard_engine::vault::Vault;
use serde_json::{Map, Value};

fn config() -> &'static FilterConfig {
    static CFG: OnceLock<FilterConfig> = OnceLock::new();
    CFG.get_or_init(|| FilterConfig::from_json(br#"{"threats":{"control_chars":"allow"}}"#).unwrap())
}

fn restore(s: &str, vault: &Vault, spec: &RestoreSpec) -> String {
    restore_text(s, vault, spec, Escape::None, &mut RestoreCounts::default()).into_owned()
}

fn restore_value(v: &Value, vault: &Vault, spec: &RestoreSpec) -> Value {
    match v {
        Value::String(s) => Value::String(restore(s, vault, spec)),
        Value::Array(a) => Value::Array(a.iter().map(|x| restore_value(x, vault, spec)).collect()),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                out.insert(restore(k, vault, spec), restore_value(x, vault, spec));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Equal, where a string that holds JSON text may differ in the text's layout: the masker reads
/// JSON nested in a string as JSON and writes it back compact (a choice, not a loss).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            x == y
                || match (serde_json::from_str::<Value>(x), serde_json::from_str::<Value>(y)) {
                    (Ok(px), Ok(py)) => (px.is_object() || px.is_array()) && same(&px, &py),
                    _ => false,
                }
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((kp, p), (kq, q))| kp == kq && same(p, q))
        }
        _ => a == b,
    }
}

/// Where two texts first differ, with some context (for the failure message).
fn first_difference(a: &str, b: &str) -> String {
    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let around = |s: &str| {
        let mut lo = at.saturating_sub(40);
        while !s.is_char_boundary(lo) {
            lo -= 1;
        }
        s[lo..].chars().take(100).collect::<String>()
    };
    format!("at byte {at}:\n  sent:     {:?}\n  restored: {:?}", around(a), around(b))
}

/// The text with every run of digits and number separators that holds at least seven digits
/// replaced by `#`. Numeric values (phone numbers, cards) are masked in every spelling the
/// request carries (`mask::Spreader`: with or without the country code, other separators), all
/// under the placeholder of the first, so a reply gets the first spelling back: by design.
fn numbers_as_one(s: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().filter(char::is_ascii_digit).count() >= 7 {
            out.push('#');
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() || " +-()./".contains(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

const MULTIPART: &str = "multipart/form-data; boundary=XyZ";

fuzz_target!(init: { config(); }, |data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let api = Api::ALL[usize::from(data[0]) % Api::ALL.len()];
    let kind = match data[1] % 4 {
        0 => BodyKind::Json,
        1 => BodyKind::Text,
        2 => BodyKind::Form,
        _ => BodyKind::Multipart { content_type: MULTIPART },
    };
    let body = &data[2..];
    let cfg = config();
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let Ok(outcome) = guard_request_as(cfg, api, body, kind, &mut vault, MemoScope::NONE) else {
        return;
    };
    let Some(forwarded) = outcome.body else {
        return;
    };
    let spec = &cfg.restore;
    match kind {
        BodyKind::Json => {
            let Ok(sent) = serde_json::from_slice::<Value>(body) else {
                return;
            };
            let masked: Value = serde_json::from_slice(&forwarded).expect("forwarded body is not JSON");
            let back = restore_value(&masked, &vault, spec);
            if !same(&back, &sent) {
                let (b, s) = (numbers_as_one(&back.to_string()), numbers_as_one(&sent.to_string()));
                assert!(b == s, "restore(mask(x)) != x {}", first_difference(&s, &b));
            }
        }
        BodyKind::Text => {
            let sent = std::str::from_utf8(body).unwrap();
            let masked = std::str::from_utf8(&forwarded).expect("forwarded text is not UTF-8");
            let back = restore(masked, &vault, spec);
            let same_text = numbers_as_one(&back) == numbers_as_one(sent)
                || matches!((serde_json::from_str::<Value>(&back), serde_json::from_str::<Value>(sent)),
                    (Ok(p), Ok(q)) if (q.is_object() || q.is_array()) && same(&p, &q));
            assert!(same_text, "restore(mask(x)) != x {}", first_difference(sent, &back));
        }
        _ => {}
    }
});
