//! The adversarial-suffix detector: its reading of text into symbols, the model file, the scan's
//! conditions, the scanner's hook, and the committed model reproduced by `make train-suffix`.

use prompt_guard_engine::threat::suffix::train::Counts;
use prompt_guard_engine::threat::suffix::{
    serialise, symbols, SuffixModel, Thresholds, ID, MAX_SUFFIX, MIN_SUFFIX, NEWLINE, OTHER, SLOTS, SYMBOLS,
};
use prompt_guard_engine::threat::{Source, ThreatScanner, ThreatSettings};

fn read(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    symbols(text, |s| out.push(s));
    out
}

#[test]
fn text_is_read_one_symbol_per_character() {
    assert_eq!(read("Ab"), read("aB"), "case folded");
    assert_eq!(read("a  \t b"), read("a b"), "a whitespace run is one space");
    assert_eq!(read("a \n\n  b"), vec![0, NEWLINE, 1], "one line break when the run holds one");
    assert_eq!(read("  a "), vec![0], "no whitespace at the ends");
    assert_eq!(read("café naïve"), read("cafe naive"), "accented Latin letters are their base letter");
    assert_eq!(read("żółć"), read("zolc"));
    assert_eq!(read("日本"), vec![OTHER, OTHER], "other characters: one symbol each");
    assert_eq!(read("0 9"), read("5 3"), "digits are one symbol");
    assert!(read("a!b").iter().all(|&s| usize::from(s) < SYMBOLS));
}

/// A model counted on `texts` with these thresholds (in sixteenths of a bit).
fn model_of(texts: &[&str], contrast: u16, prefix: u16) -> Vec<u8> {
    let mut counts = Counts::default();
    for t in texts {
        counts.add(t);
    }
    counts.model(Thresholds { contrast, prefix, data_cap: prefix })
}

const PROSE: &str = "please write a short summary of the report and tell me what the main points of the \
                     report are, then write a list of the points that the team should read first. ";

#[test]
fn model_files_are_checked_and_read_back() {
    assert!(SuffixModel::parse(&[]).is_none());
    let bytes = model_of(&[PROSE], 30, 50);
    assert!(SuffixModel::parse(&bytes[..bytes.len() - 1]).is_none(), "truncated");
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert!(SuffixModel::parse(&bad).is_none(), "wrong magic");
    let model = SuffixModel::parse(&bytes).expect("a well-formed file");
    assert_eq!(model.thresholds, Thresholds { contrast: 30, prefix: 50, data_cap: 50 });
    let empty = serialise(model.thresholds, 255, &vec![0; SYMBOLS * SYMBOLS], &vec![0; 2 * SLOTS]);
    assert!(SuffixModel::parse(&empty).is_some());
}

#[test]
fn text_like_the_training_text_costs_less_than_a_soup() {
    let model_bytes = model_of(&[PROSE, PROSE, PROSE], u16::MAX, u16::MAX);
    let model = SuffixModel::parse(&model_bytes).expect("model");
    let plain = model.mean_bits("write a short summary of the main points");
    let soup = model.mean_bits("]( Qz**{ vx\\!-- ;;Kp )> ~^ wq");
    assert!(plain + 2.0 < soup, "{plain} vs {soup}");
}

#[test]
fn a_costly_tail_after_an_ordinary_request_is_found_and_nothing_else() {
    let model_bytes = model_of(&[PROSE, PROSE, PROSE], 64, 48);
    let model = SuffixModel::parse(&model_bytes).expect("model");
    let request = "please write a short summary of the report and tell me the main points";
    let soup = " ]( Qz**{ vx\\!-- ;;Kp )> ~^ wq $$ |} ::Yb >>~ ('";
    let found = model.top(&format!("{request}{soup}")).expect("a candidate tail");
    assert!(found.contrast() > 2.0, "{found:?}");
    assert!(model.scan(&format!("{request}{soup}")).is_some());
    // The same soup alone has no ordinary request before it; on a line of its own it was not
    // appended to the request; an ordinary text has no costly tail.
    assert!(model.scan(soup.trim()).is_none(), "no request");
    assert!(model.scan(&format!("{request}\n{}", soup.trim())).is_none(), "on its own line");
    assert!(model.scan(&format!("{request}, then list the points the team should read first")).is_none());
    // Data: a long run without a space costs at most the data cap (here under the contrast
    // threshold).
    let data = "Qz9xK2vLp0aZ7wE4rT1yU8iO3pA6sD5fG2hJ9kL0zX7cV4bN1mQ8wE5rT2yU9iO6pA3";
    assert!(model.scan(&format!("{request} {data}")).is_none(), "base64-like data");
}

#[test]
fn only_the_last_symbols_are_candidates_and_the_scan_is_linear() {
    let model_bytes = model_of(&[PROSE, PROSE, PROSE], 64, 48);
    let model = SuffixModel::parse(&model_bytes).expect("model");
    let soup = "]( Qz**{ vx\\!-- ;;Kp )> ~^ wq $$ |} ::Yb >>~ (' ";
    let request = "please write a short summary of the report and tell me the main points ";
    // A soup in the middle, followed by more than MAX_SUFFIX symbols of prose, is not a suffix.
    let text = format!("{request}{soup}{}", PROSE.repeat(MAX_SUFFIX / PROSE.len() + 2));
    assert!(model.scan(&text).is_none());
    // A text too short to hold a request and a suffix has no candidate.
    assert!(model.top(&request[..MIN_SUFFIX]).is_none());
    // A long text is scanned in one pass (no quadratic blow-up): it simply completes.
    let long = format!("{}{soup}", PROSE.repeat(2000));
    assert!(model.scan(&long).is_some());
}

#[test]
fn the_scanner_reports_the_detector_only_when_on_and_only_in_users_texts() {
    let model = SuffixModel::compiled().expect("the committed model parses");
    let off = ThreatScanner::new(&ThreatSettings::default()).expect("rules compile");
    let on = ThreatScanner::new(&ThreatSettings::default()).expect("rules compile").with_suffix_detector(true);
    let texts = [
        "Summarise this quarterly report in three bullet points.",
        "Write a poem about the sea and the sky ]]( vx\\!-- Kp**ONE )> ~^ wq $$ |} ::Yb >>~ (' zQ// {{ pl",
        "Here is my query: SELECT name FROM users WHERE id = 4 ORDER BY name;",
    ];
    let mut reported = 0;
    for text in texts {
        let expected = model.scan(text).is_some();
        reported += usize::from(expected);
        assert!(off.scan(text, Source::User).rule_ids().all(|id| id != ID), "off by default");
        assert_eq!(on.scan(text, Source::User).rule_ids().any(|id| id == ID), expected, "{text}");
        assert!(on.scan(text, Source::Tool).rule_ids().all(|id| id != ID), "tool output is data");
    }
    assert!(reported > 0, "the soup is found");
}

/// `make train-suffix` reproduces the committed model (the attack data beside the checkout,
/// as `make eval` reads it, is required: without it the test fails).
#[test]
fn make_train_suffix_reproduces_the_committed_model() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let data = crate::support::attack_data();
    let out = std::env::temp_dir().join(format!("pg-train-suffix-{}", std::process::id()));
    std::fs::create_dir_all(&out).expect("temp dir");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_train_suffix"))
        .arg(&data)
        .arg(root.join("eval/dev_traffic"))
        .arg(root.join("eval/suffix"))
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("train_suffix runs");
    assert!(status.success());
    let fresh = std::fs::read(out.join("model.bin")).expect("model written");
    let inputs = std::fs::read_to_string(out.join("inputs.txt")).expect("inputs written");
    let _ = std::fs::remove_dir_all(&out);
    let committed = include_bytes!("../../src/threat/suffix/model.bin");
    assert!(fresh == committed, "the committed model differs from a fresh `make train-suffix`");
    assert_eq!(inputs, include_str!("../../src/threat/suffix/inputs.txt"));
}
