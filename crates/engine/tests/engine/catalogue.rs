//! The rule catalogue: ids unique and well formed, every id the source names is listed, and
//! `docs/rules.md` is the generated text (`UPDATE_RULES_DOC=1` rewrites it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use prompt_guard_engine::threat::catalogue::{entries, gate_table, markdown, well_formed, Family, CODE_RULES};

fn engine_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `PG-XX-NNN` written in the threat sources' code (the catalogue itself left out).
fn ids_in_source() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        let Ok(read) = std::fs::read_dir(dir) else { return };
        for entry in read.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("catalogue.rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                // Code only: a comment may name a retired id.
                for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    for (at, _) in line.match_indices("PG-") {
                        if let Some(id) = line.get(at..at + 9) {
                            let next = line.as_bytes().get(at + 9);
                            if well_formed(id) && !next.is_some_and(u8::is_ascii_alphanumeric) {
                                out.insert(id.to_owned());
                            }
                        }
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&engine_dir().join("src/threat"), &mut out);
    out
}

#[test]
fn catalogue_ids_are_unique_well_formed_and_in_their_family() {
    let all = entries();
    let mut seen = BTreeSet::new();
    for e in &all {
        assert!(well_formed(e.id), "malformed id {}", e.id);
        assert!(seen.insert(e.id), "{} is listed twice", e.id);
        assert_eq!(&e.id[3..5], e.family.prefix(), "{} is in family {}", e.id, e.family.name());
        assert!(!e.about.trim().is_empty(), "{} says nothing of what it matches", e.id);
        assert!(!e.about.contains('\n'), "{}: one line", e.id);
    }
    assert!(all.iter().any(|e| e.family == Family::Reply));
    for bad in ["PG-SQ-01", "PG-sq-001", "PG-SQ-0011", "XX-SQ-001", "PG-SQ_001"] {
        assert!(!well_formed(bad), "{bad}");
    }
}

#[test]
fn catalogue_lists_every_id_the_source_names_and_no_other() {
    let listed: BTreeSet<String> = entries().iter().map(|e| e.id.to_owned()).collect();
    let named = ids_in_source();
    let missing: Vec<_> = named.difference(&listed).collect();
    assert!(missing.is_empty(), "rule ids in the source but not in the catalogue: {missing:?}");
    // A code rule the code no longer reports is a stale line.
    let stale: Vec<_> = CODE_RULES.iter().map(|e| e.id).filter(|id| !named.contains(*id)).collect();
    assert!(stale.is_empty(), "catalogue lines for ids no code reports: {stale:?}");
}

#[test]
fn catalogue_doc_is_generated() {
    let path = engine_dir().join("../../docs/rules.md");
    let generated = markdown();
    if std::env::var_os("UPDATE_RULES_DOC").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "docs/rules.md differs from the rule tables; run UPDATE_RULES_DOC=1 cargo test -p prompt-guard-engine --test engine catalogue"
    );
}

/// The gate literals the scanner reads instead of parsing every rule when it is configured are
/// the ones the rule tables give now.
#[test]
fn catalogue_gate_table_is_generated() {
    let path = engine_dir().join("src/threat/gate.rs");
    let generated = gate_table().expect("every rule parses");
    if std::env::var_os("UPDATE_RULES_DOC").is_some() {
        std::fs::write(&path, &generated).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == generated,
        "src/threat/gate.rs differs from the rule tables; run UPDATE_RULES_DOC=1 cargo test -p prompt-guard-engine --test engine catalogue"
    );
}
