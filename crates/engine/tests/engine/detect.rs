//! Engine tests: detect. The fixtures in `tests/fixtures/pii/` specify the detector's behaviour
//! case by case (each with its provenance); the tests below them pin the public API's contract.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use prompt_guard_engine::detect::{CustomPattern, DetectBuildError, DetectSettings, Detector};
use prompt_guard_engine::entity::{BuiltinKind, EntityKind, Finding};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    /// The label this case is about.
    #[serde(rename = "type")]
    kind: String,
    text: String,
    /// Exact values that must be found with that label, in order; empty for a negative case.
    expect: Vec<String>,
    source: String,
}

fn fixture(name: &str) -> Vec<Case> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("tests/fixtures/pii").join(name);
    let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    data.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1)))
        .collect()
}

fn detect(detector: &Detector, text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    detector.detect(text, &mut out);
    out
}

/// Byte spans of `values` in `text`, each searched after the previous one.
fn spans_of(text: &str, values: &[String]) -> Vec<(usize, usize)> {
    let mut from = 0;
    values
        .iter()
        .map(|v| {
            let at = text[from..].find(v.as_str()).unwrap_or_else(|| panic!("{v:?} not in {text:?}")) + from;
            from = at + v.len();
            (at, at + v.len())
        })
        .collect()
}

/// Run one fixture file with default settings; returns (positives, negatives) after asserting
/// every case, reporting all failures at once.
fn run_fixture(name: &str) -> (usize, usize) {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let mut failures = Vec::new();
    let (mut positives, mut negatives) = (0, 0);
    for case in fixture(name) {
        assert!(!case.source.is_empty(), "{name}: case without provenance: {:?}", case.text);
        assert!(BuiltinKind::from_label(&case.kind).is_some(), "{name}: unknown type {}", case.kind);
        let found = detect(&detector, &case.text);
        let got: Vec<(usize, usize)> =
            found.iter().filter(|f| detector.label(f.kind) == case.kind).map(|f| (f.start, f.end)).collect();
        let want = spans_of(&case.text, &case.expect);
        if case.expect.is_empty() {
            negatives += 1;
        } else {
            positives += 1;
        }
        if got != want {
            let shown: Vec<&str> = got.iter().map(|&(s, e)| &case.text[s..e]).collect();
            failures.push(format!("{} {:?}: want {:?}, got {:?}", case.kind, case.text, case.expect, shown));
        }
    }
    println!("{name}: {positives} positive, {negatives} negative cases");
    assert!(failures.is_empty(), "{name}: {} failing cases:\n{}", failures.len(), failures.join("\n"));
    (positives, negatives)
}

macro_rules! fixture_test {
    ($test:ident, $file:literal, $min:literal) => {
        #[test]
        fn $test() {
            let (positives, negatives) = run_fixture($file);
            assert!(positives >= $min && negatives >= $min, "{}: too few cases", $file);
        }
    };
}

fixture_test!(fixtures_email, "email.jsonl", 15);
fixture_test!(fixtures_phone, "phone.jsonl", 15);
fixture_test!(fixtures_phone_countries, "phone_countries.jsonl", 5);
fixture_test!(fixtures_names, "names.jsonl", 8);
fixture_test!(fixtures_address, "address.jsonl", 8);
fixture_test!(fixtures_us_ssn, "us_ssn.jsonl", 15);
fixture_test!(fixtures_credit_card, "credit_card.jsonl", 15);
fixture_test!(fixtures_iban, "iban.jsonl", 15);
fixture_test!(fixtures_ip_address, "ip_address.jsonl", 15);
fixture_test!(fixtures_secrets, "secrets.jsonl", 15);
fixture_test!(fixtures_national, "national.jsonl", 30);
fixture_test!(fixtures_health, "health.jsonl", 15);
fixture_test!(fixtures_finance, "finance.jsonl", 12);
fixture_test!(fixtures_documents, "documents.jsonl", 12);

fn sorted_and_disjoint(found: &[Finding]) -> bool {
    found.windows(2).all(|w| w[0].end <= w[1].start)
}

#[test]
fn findings_are_sorted_disjoint_and_on_char_boundaries() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let text = "Grüße — mail jürgen@example.de or jurgen@example.de, ☎ +49 30 1234567, \
                card 4242 4242 4242 4242, IBAN DE89 3704 0044 0532 0130 00, ip 192.0.2.7 ✓";
    let found = detect(&detector, text);
    assert!(sorted_and_disjoint(&found), "{found:?}");
    for f in &found {
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
    }
    let labels: Vec<&str> = found.iter().map(|f| detector.label(f.kind)).collect();
    assert_eq!(labels, ["EMAIL", "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "IP_ADDRESS"]);
}

#[test]
fn overlapping_candidates_keep_the_more_specific_kind() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    // Both the JWT rule and the `token=` assignment rule see this value: the JWT wins.
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMTIz";
    let found = detect(&detector, &format!("token={jwt}"));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, EntityKind::Builtin(BuiltinKind::Jwt));
}

#[test]
fn appends_to_existing_findings() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let sentinel = Finding { start: 0, end: 0, kind: EntityKind::Builtin(BuiltinKind::Email), score: 1.0 };
    let mut out = vec![sentinel];
    detector.detect("a@example.com", &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0], sentinel);
}

#[test]
fn allow_list_and_enabled_switches() {
    let settings = DetectSettings {
        allow_list: vec!["support@example.com".to_string()],
        enabled: vec![BuiltinKind::Email],
        ..DetectSettings::default()
    };
    let detector = Detector::new(&settings).unwrap();
    let text = "support@example.com, jane@example.com, 192.0.2.1";
    let found = detect(&detector, text);
    let values: Vec<&str> = found.iter().map(|f| &text[f.start..f.end]).collect();
    assert_eq!(values, ["jane@example.com"]);
    // An allowed address in another case is the same address; other values stay exact.
    let text = "Support@Example.COM, SUPPORT@example.com, jane@example.com";
    let found = detect(&detector, text);
    let values: Vec<&str> = found.iter().map(|f| &text[f.start..f.end]).collect();
    assert_eq!(values, ["jane@example.com"]);
}

#[test]
fn custom_patterns_with_and_without_context() {
    let settings = DetectSettings {
        custom: vec![
            CustomPattern { label: "EMPLOYEE_ID".into(), regex: r"EMP-\d{6}".into(), context: vec![] },
            CustomPattern { label: "CASE_NO".into(), regex: r"\b\d{7}\b".into(), context: vec!["case".into()] },
        ],
        ..DetectSettings::default()
    };
    let detector = Detector::new(&settings).unwrap();
    // The second seven-digit number is far from any context word, so it is not a case number.
    let text = "EMP-123456 opened Case 7654321. The rest of this message talks about other things \
                entirely, and much later mentions 1234567 on its own.";
    let found = detect(&detector, text);
    let got: Vec<(&str, &str)> = found.iter().map(|f| (detector.label(f.kind), &text[f.start..f.end])).collect();
    assert_eq!(got, [("EMPLOYEE_ID", "EMP-123456"), ("CASE_NO", "7654321")]);
}

#[test]
fn bad_custom_regex_is_reported_with_its_index() {
    let settings = DetectSettings {
        custom: vec![
            CustomPattern { label: "OK".into(), regex: "ok".into(), context: vec![] },
            CustomPattern { label: "BAD".into(), regex: "(unclosed".into(), context: vec![] },
        ],
        ..DetectSettings::default()
    };
    match Detector::new(&settings) {
        Err(DetectBuildError::BadCustomRegex { index, message }) => {
            assert_eq!(index, 1);
            assert!(!message.is_empty());
        }
        other => panic!("expected BadCustomRegex, got {other:?}"),
    }
    // A regex whose compiled form exceeds the size limit is refused too.
    let huge = DetectSettings {
        custom: vec![CustomPattern {
            label: "HUGE".into(),
            regex: r"\w{1000}\w{1000}\w{1000}".into(),
            context: vec![],
        }],
        ..DetectSettings::default()
    };
    assert!(matches!(Detector::new(&huge), Err(DetectBuildError::BadCustomRegex { index: 0, .. })));
}

#[test]
fn ordinary_technical_text_has_no_findings() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let text = "Commit 3f786850e387550fdab836ed7e6dc881de23001b bumped serde to 1.0.229 and \
                regex to v1.13.1 (release 2024-01-31). Request id 123e4567-e89b-12d3-a456-426614174000 \
                took 1234 ms; sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855. \
                See section 3.1.4 and the max_tokens: 4096 setting; bind to 0.0.0.0:8080.";
    let found = detect(&detector, text);
    let values: Vec<&str> = found.iter().map(|f| &text[f.start..f.end]).collect();
    assert!(found.is_empty(), "{values:?}");
}

#[test]
fn hostile_inputs_do_not_panic() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let long_digits = "9".repeat(10_000);
    let inputs = [
        "",
        "@",
        "+",
        "-----BEGIN RSA PRIVATE KEY-----",
        "password=",
        "::::::::",
        "1.1.1.1.1.1.1.1",
        "é@é.é",
        "ssn 123-45-678é",
        "GB82 WEST 1234 5698 7654 3",
        &long_digits,
        "eyJ.eyJ.",
        "Bearer ",
        "http://a:b@",
    ];
    for input in inputs {
        let found = detect(&detector, input);
        assert!(sorted_and_disjoint(&found));
    }
}

/// Time per byte of detecting `unit` repeated `n` times, the best of several runs (the
/// machine may be busy with other work).
fn nanos_per_byte(detector: &Detector, unit: &str, n: usize) -> f64 {
    let text = unit.repeat(n);
    let mut best = f64::MAX;
    for _ in 0..7 {
        let elapsed = crate::linear::time_of(|| {
            std::hint::black_box(detect(detector, &text));
        });
        best = best.min(elapsed.as_nanos() as f64 / text.len() as f64);
    }
    best
}

/// Key-block detection is linear: repeated headers (each block cut short by the next one) cost
/// the same per byte at four times the size. A walk per header to the end of the text made
/// 5,000 headers take seconds. The ratio of two sizes is measured, not a wall clock, so a slow
/// or busy machine does not fail it; a quadratic walk gives a ratio near 4.
#[test]
fn key_block_detection_is_linear_in_repeated_headers() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    for unit in [
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n",
        "-----BEGIN RSA PRIVATE KEY-----\\nProc-Type: 4,ENCRYPTED\\n\\n",
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPrivate-Lines: 1\nAAAAIE5Y2gdq\n",
    ] {
        // A busy machine can slow one measurement: a linear walk passes in one of three tries, a
        // quadratic one (ratio near 4) in none.
        let ratios: Vec<f64> =
            (0..3).map(|_| nanos_per_byte(&detector, unit, 4_000) / nanos_per_byte(&detector, unit, 1_000)).collect();
        assert!(ratios.iter().any(|r| *r < 2.5), "{unit:?}: ns/byte ratios at 4,000 vs 1,000 copies {ratios:?}");
    }
}
