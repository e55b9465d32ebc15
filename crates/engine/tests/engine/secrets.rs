//! Engine tests: the secret formats. Each format of the detector's catalogue has a positive and
//! a negative case in `tests/fixtures/pii/secret_formats.jsonl` (constructed values, never real
//! keys), and the "Secrets" table of `docs/entities.md` lists the same ids as the code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use prompt_guard_engine::detect::{secret_format_ids, DetectSettings, Detector};
use prompt_guard_engine::entity::EntityKind;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn fixtures() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/pii/secret_formats.jsonl")).unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The secret values found in `text`.
fn secrets_in(detector: &Detector, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    detector.detect(text, &mut found);
    found
        .iter()
        .filter(|f| matches!(f.kind, EntityKind::Builtin(k) if k.is_secret()))
        .map(|f| text[f.start..f.end].to_string())
        .collect()
}

/// Every positive case is found with exactly its value; no negative case yields a secret.
#[test]
fn every_secret_format_fixture_holds() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let mut failures = Vec::new();
    for row in fixtures() {
        let text = row["text"].as_str().unwrap();
        let expect: Vec<&str> = row["expect"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let got = secrets_in(&detector, text);
        let ok = if expect.is_empty() { got.is_empty() } else { expect.iter().all(|e| got.iter().any(|g| g == e)) };
        if !ok {
            failures.push(format!("{}: expected {expect:?}, found {got:?} in {text:?}", row["format"]));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// The catalogue, the fixtures (a positive and a negative per format) and the docs' table list
/// the same formats; there are at least sixty.
#[test]
fn secret_formats_table_code_and_fixtures_agree() {
    let code: Vec<&str> = secret_format_ids().collect();
    let code_set: BTreeSet<&str> = code.iter().copied().collect();
    assert_eq!(code.len(), code_set.len(), "duplicate ids in the catalogue");
    assert!(code.len() >= 60, "{} formats", code.len());

    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for row in fixtures() {
        let entry = counts.entry(row["format"].as_str().unwrap().to_string()).or_default();
        if row["expect"].as_array().unwrap().is_empty() {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }
    let fixture_set: BTreeSet<&str> = counts.keys().map(String::as_str).collect();
    assert_eq!(fixture_set, code_set, "fixture formats differ from the catalogue");
    for (id, (p, n)) in &counts {
        assert!(*p >= 1 && *n >= 1, "{id}: {p} positive, {n} negative");
    }

    let doc = std::fs::read_to_string(root().join("docs/entities.md")).unwrap();
    let section = doc.split("\n## Secrets").nth(1).expect("docs/entities.md has a Secrets section");
    let section = section.split("\n## ").next().unwrap();
    let mut table: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    // Rows start with the format id (no backticks: the identifier table's rows have them).
    for line in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| format") && !l.starts_with("|--")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let id = cells[1].to_string();
        let fixtures: Vec<usize> = cells[4].split('/').map(|c| c.trim().parse().unwrap()).collect();
        table.insert(id, (fixtures[0], fixtures[1]));
    }
    assert_eq!(
        table.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        code_set,
        "docs table differs from the catalogue"
    );
    for (id, c) in &table {
        assert_eq!(Some(c), counts.get(id), "{id}: fixture counts in the docs");
    }
}
