//! Every configuration shipped in `examples/` compiles in the filter's own configuration code,
//! so the examples cannot drift from what the filter accepts.

use std::fs;
use std::path::Path;

use prompt_guard_engine::config::FilterConfig;

#[test]
fn every_example_configuration_compiles() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let bytes = fs::read(&path).unwrap();
            // With the keys a deployment sets in the environment (a session needs them).
            if let Err(e) = FilterConfig::from_json_with_env(&bytes, &crate::support::test_env) {
                panic!("{} does not compile: {e}", path.display());
            }
            seen += 1;
        }
    }
    assert!(seen >= 2, "expected the shipped example configurations, found {seen}");
}

#[test]
fn the_full_example_sets_what_it_says() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples/full-config.json");
    let cfg = FilterConfig::from_json_with_env(&fs::read(path).unwrap(), &crate::support::test_env).unwrap();
    assert!(!cfg.labels.iter().any(|l| l == "IP_ADDRESS"));
    assert!(cfg.labels.iter().any(|l| l == "EMPLOYEE_ID"));
    assert_eq!(cfg.session.as_ref().map(|s| s.identity_header.as_str()), Some("x-authenticated-user"));
    assert_eq!(cfg.threats.canary.as_deref(), Some("pg-canary-5c1d8e7a"));
    assert_eq!(cfg.api.as_ref().and_then(|a| a.identity_header.as_deref()), Some("x-authenticated-user"));
}
