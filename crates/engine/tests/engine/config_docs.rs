//! One source for the configuration reference: every key the configuration model accepts has a
//! row in `docs/configuration.md`, and every documented key is accepted.
//!
//! The accepted keys are read from the model itself: every section refuses unknown fields, and
//! serde's refusal lists the fields it expects.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use prompt_guard_engine::config::FilterConfig;

/// A key no section has, to make each section list the ones it has.
const PROBE: &str = "probe_key_nobody_writes";

/// The fields a section accepts, from the refusal of a document that sets `PROBE` in it.
/// `wrap` puts a JSON object body into the section.
fn fields(wrap: impl Fn(&str) -> String) -> Vec<String> {
    let doc = wrap(&format!(r#""{PROBE}": 1"#));
    let Err(e) = FilterConfig::from_json(doc.as_bytes()) else { panic!("{doc} was accepted") };
    // "expected `a`", "expected `a` or `b`", "expected one of `a`, `b`, `c`".
    let listed = e.problem.split_once("expected ").map(|(_, l)| l).unwrap_or_default();
    let listed = listed.split(" at line ").next().unwrap_or_default();
    let out: Vec<String> = listed.split('`').skip(1).step_by(2).map(str::to_owned).collect();
    assert!(!out.is_empty(), "no field list in the refusal of {doc}: {e}");
    out
}

/// The keys in the first column of the table under `| key | type | default | meaning |`, and
/// each row's type column.
fn documented() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("| key | type |") {
            in_table = true;
            continue;
        }
        if in_table {
            if !line.starts_with('|') {
                break;
            }
            let cells: Vec<&str> = line.split(" | ").collect();
            if let [first, kind, ..] = cells.as_slice() {
                let key = first.trim_start_matches('|').trim().trim_matches('`');
                if !key.starts_with('-') {
                    rows.push((key.to_owned(), (*kind).to_owned()));
                }
            }
        }
    }
    rows
}

#[test]
fn every_accepted_config_key_is_documented_and_every_documented_key_accepted() {
    let mut accepted = BTreeSet::new();
    for f in fields(|body| format!("{{{body}}}")) {
        accepted.insert(f);
    }
    for f in fields(|body| format!(r#"{{"threats": {{{body}}}}}"#)) {
        accepted.insert(format!("threats.{f}"));
    }
    for f in fields(|body| format!(r#"{{"threats": {{"reply": {{{body}}}}}}}"#)) {
        accepted.insert(format!("threats.reply.{f}"));
    }
    for f in fields(|body| format!(r#"{{"session": {{"identity_header": "x-user", {body}}}}}"#)) {
        accepted.insert(format!("session.{f}"));
    }
    for section in ["audit", "response_headers"] {
        for f in fields(|body| format!(r#"{{"{section}": {{{body}}}}}"#)) {
            accepted.insert(format!("{section}.{f}"));
        }
    }
    for f in fields(|body| format!(r#"{{"api": {{{body}}}}}"#)) {
        accepted.insert(format!("api.{f}"));
    }
    // Sections documented through their keys need no row of their own.
    let sections = ["threats", "threats.reply", "api"];
    let rows = documented();
    assert!(rows.len() > 20, "the configuration table was not found in docs/configuration.md");
    let documented: BTreeSet<String> = rows.iter().map(|(k, _)| k.clone()).collect();
    let missing: Vec<_> =
        accepted.iter().filter(|k| !documented.contains(*k) && !sections.contains(&k.as_str())).collect();
    assert!(missing.is_empty(), "accepted but not in docs/configuration.md: {missing:?}");
    let unknown: Vec<_> = documented.difference(&accepted).collect();
    assert!(unknown.is_empty(), "in docs/configuration.md but not accepted: {unknown:?}");

    // Lists of objects are documented in their row's type column as `{field, ...}`.
    let lists = [
        ("custom_patterns", fields(|body| format!(r#"{{"custom_patterns": [{{{body}}}]}}"#))),
        ("routes", fields(|body| format!(r#"{{"routes": [{{{body}}}]}}"#))),
        ("threats.custom_rules", fields(|body| format!(r#"{{"threats": {{"custom_rules": [{{{body}}}]}}}}"#))),
    ];
    for (key, subfields) in lists {
        let kind = rows.iter().find(|(k, _)| k == key).map(|(_, t)| t.as_str()).unwrap_or_default();
        let braces = kind.split_once('{').and_then(|(_, r)| r.split_once('}')).map(|(l, _)| l).unwrap_or_default();
        let written: BTreeSet<&str> = braces.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        let model: BTreeSet<&str> = subfields.iter().map(String::as_str).collect();
        assert_eq!(written, model, "the fields of {key} in docs/configuration.md");
    }
}
