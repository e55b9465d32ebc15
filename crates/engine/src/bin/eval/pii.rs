//! Evaluation over PII data: precision and recall per file and per label, with the detector's
//! default settings. A prediction is correct when it overlaps a gold span of the same label.
//!
//! Set `EVAL_SHOW_ERRORS=1` to print each miss and false alarm, or `PG_EVAL_SHOW=miss` or `fp`
//! for one of them (these are public evaluation texts, never user data).
//!
//! Some gitleaks must-not-match texts are complete keys of a live format, negatives only for the
//! one gitleaks rule they were written for (which skips them by their literal value, or for a
//! reason of its own). They keep their label in every table; the rows listed in
//! `GITLEAKS_NEGATIVES_THAT_ARE_KEYS`, each reviewed by hand with its format (which the eval checks
//! on the row's text) and its reason, are also reported
//! on a separate line, with the false-positive rate computed without them. No rule was tuned to
//! these rows, and no rule knows their values.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use prompt_guard_engine::detect::{DetectSettings, Detector};
use prompt_guard_engine::entity::{BuiltinKind, EntityKind, Finding};
use serde_json::Value;

/// gitleaks must-not-match rows reviewed as complete keys of a live format: (row id, the format,
/// why). The eval checks that each row's text holds a complete token of the format (prefix,
/// length, alphabet); the rest of the reason can be checked in the gitleaks rule.
const GITLEAKS_NEGATIVES_THAT_ARE_KEYS: &[(&str, LiveFormat, &str)] = &[
    ("gitleaks-gcp-api-key-fps-1811-5", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-6", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-7", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-8", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-10", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-11", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-12", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-13", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-14", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-15", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-16", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-17", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-18", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    ("gitleaks-gcp-api-key-fps-1811-19", LiveFormat::GoogleApiKey, GOOGLE_SDK_KEY),
    (
        "gitleaks-mailchimp-api-key-fps-692-0",
        LiveFormat::MailchimpKey,
        "a complete Mailchimp key; gitleaks comments the row as a false negative of its own (its \
         pattern does not reach a value after `(token:`)",
    ),
    (
        "gitleaks-generic-api-key-fps-5389-46",
        LiveFormat::Hex32,
        "32 hex digits under `apiKey`, the form of an Algolia search key; the generic rule skips it \
         by its literal value (a stop word: one package index's public search key)",
    ),
    (
        "gitleaks-curl-auth-header-fps-4524-8",
        LiveFormat::Jwt,
        "a complete JWT; the same value is a must-match row of the same rule (without `Basic`) and \
         gitleaks's jwt rule matches it; a negative only because the rule wants base64 after `Basic`",
    ),
];

/// Why the Google API keys above are reviewed as keys.
const GOOGLE_SDK_KEY: &str = "a complete Google API key with the header of issued keys; the \
     gcp-api-key rule allow-lists it by its literal value (one SDK's published example keys)";

/// A live key format a reviewed row holds a complete token of.
#[derive(Debug, Clone, Copy)]
enum LiveFormat {
    /// `AIzaSy` and 33 URL-safe base64 characters.
    GoogleApiKey,
    /// 32 lower-case hex digits, `-us` and a data centre's number of one or two digits.
    MailchimpKey,
    /// 32 lower-case hex digits.
    Hex32,
    /// Three base64url parts, the first a JSON header that names its `alg`.
    Jwt,
}

impl LiveFormat {
    /// Whether a word of `text` (split at anything but letters, digits, `-`, `_` and `.`) is a
    /// whole token of this format.
    fn complete_in(self, text: &str) -> bool {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).any(|w| self.is(w))
    }

    fn is(self, w: &str) -> bool {
        use base64::Engine as _;
        let lower_hex = |s: &str| s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        let url_safe = |s: &str| s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'));
        match self {
            LiveFormat::GoogleApiKey => w.len() == 39 && w.strip_prefix("AIzaSy").is_some_and(url_safe),
            LiveFormat::MailchimpKey => w.split_once("-us").is_some_and(|(key, dc)| {
                key.len() == 32
                    && lower_hex(key)
                    && (1..=2).contains(&dc.len())
                    && dc.bytes().all(|c| c.is_ascii_digit())
            }),
            LiveFormat::Hex32 => w.len() == 32 && lower_hex(w),
            LiveFormat::Jwt => {
                let parts: Vec<&str> = w.split('.').collect();
                let [header, payload, signature] = parts.as_slice() else { return false };
                let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).ok();
                let header: Option<Value> = header.and_then(|h| serde_json::from_slice(&h).ok());
                header.is_some_and(|h| h.get("alg").is_some_and(Value::is_string))
                    && [payload, signature].iter().all(|p| !p.is_empty() && url_safe(p))
            }
        }
    }
}

/// Which errors to list while scoring (`EVAL_SHOW_ERRORS=1`: both; `PG_EVAL_SHOW=miss` or `fp`).
#[derive(Debug, Clone, Copy)]
struct Show {
    misses: bool,
    false_positives: bool,
}

impl Show {
    fn from_env() -> Show {
        let all = std::env::var_os("EVAL_SHOW_ERRORS").is_some();
        let which = std::env::var("PG_EVAL_SHOW").unwrap_or_default();
        Show { misses: all || which == "miss", false_positives: all || which == "fp" }
    }
}

/// The evaluation labels our detector produces.
const DETECTED: [&str; 17] = [
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN",
    "IP_ADDRESS",
    "API_KEY",
    "CRYPTO",
    "US_DRIVER_LICENSE",
    "US_PASSPORT",
    "US_BANK_NUMBER",
    "ID_NUMBER",
    "AGE",
    "DATE_TIME",
    "PERSON",
    "ADDRESS",
    "ZIP_CODE",
];

/// Our kind as an evaluation label: every secret kind counts as `API_KEY`, national, tax and
/// health-insurance numbers as `ID_NUMBER`, dates of birth and other personal dates as
/// `DATE_TIME`. Kinds the data has no label for (SWIFT codes, card security codes and expiry
/// dates, MRZ lines, VINs, IMEIs, MAC addresses, record numbers) are not scored.
fn eval_label(kind: EntityKind) -> &'static str {
    use BuiltinKind as K;
    match kind {
        EntityKind::Builtin(K::Email) => "EMAIL",
        EntityKind::Builtin(K::Phone) => "PHONE",
        EntityKind::Builtin(K::CreditCard) => "CREDIT_CARD",
        EntityKind::Builtin(K::UsSsn) => "US_SSN",
        EntityKind::Builtin(K::Iban) => "IBAN",
        EntityKind::Builtin(K::IpAddress) => "IP_ADDRESS",
        EntityKind::Builtin(K::CryptoWallet) => "CRYPTO",
        EntityKind::Builtin(K::UsDriverLicense) => "US_DRIVER_LICENSE",
        EntityKind::Builtin(K::Passport) => "US_PASSPORT",
        EntityKind::Builtin(K::BankAccount) => "US_BANK_NUMBER",
        EntityKind::Builtin(K::Age) => "AGE",
        EntityKind::Builtin(K::Person) => "PERSON",
        EntityKind::Builtin(K::Address) => "ADDRESS",
        EntityKind::Builtin(K::Postcode) => "ZIP_CODE",
        EntityKind::Builtin(K::DateOfBirth | K::PersonalDate) => "DATE_TIME",
        EntityKind::Builtin(
            K::UsItin
            | K::UkNino
            | K::UkNhs
            | K::CaSin
            | K::AuTfn
            | K::AuMedicare
            | K::InAadhaar
            | K::InPan
            | K::BrCpf
            | K::BrCnpj
            | K::DeTaxId
            | K::FrNir
            | K::EsNif
            | K::EsNie
            | K::ItFiscalCode
            | K::NlBsn
            | K::PlPesel
            | K::SePersonnummer
            | K::UsNpi
            | K::UsDea
            | K::UsMbi
            | K::AbaRouting
            | K::HealthPlanId,
        ) => "ID_NUMBER",
        EntityKind::Builtin(k) if k.is_secret() => "API_KEY",
        EntityKind::Builtin(_) => "OTHER",
        EntityKind::Custom(_) => "API_KEY",
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
    /// Predictions that overlap a gold span of their label (precision's numerator).
    pred_ok: usize,
    /// Texts scored for this label that hold no value of it, and how many of them got a finding
    /// of it anyway (the false-positive rate per text).
    neg_texts: usize,
    neg_flagged: usize,
}

/// Byte offset of each code point index (plus one past the end), to convert gold offsets.
fn byte_offsets(text: &str) -> Vec<usize> {
    let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    v.push(text.len());
    v
}

struct Gold {
    start: usize,
    end: usize,
    label: String,
}

fn parse_row(line: &str) -> Option<(String, Vec<Gold>, Option<String>, String)> {
    let row: Value = serde_json::from_str(line).ok()?;
    let text = row.get("text")?.as_str()?.to_string();
    let offsets = byte_offsets(&text);
    let mut gold = Vec::new();
    for s in row.get("spans")?.as_array()? {
        let cs = usize::try_from(s.get("start")?.as_u64()?).ok()?;
        let ce = usize::try_from(s.get("end")?.as_u64()?).ok()?;
        let label = s.get("label")?.as_str()?.to_string();
        gold.push(Gold { start: *offsets.get(cs)?, end: *offsets.get(ce)?, label });
    }
    let annotated = row.get("meta").and_then(|m| m.get("annotated_entity")).and_then(Value::as_str).map(String::from);
    let id = row.get("id").and_then(Value::as_str).unwrap_or("").to_string();
    Some((text, gold, annotated, id))
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// gitleaks must-not-match texts, split into the reviewed keys and the others.
#[derive(Default, Clone, Copy)]
struct ReviewedSplit {
    reviewed: usize,
    reviewed_flagged: usize,
    /// Reviewed rows whose text holds no complete token of the stated format.
    reviewed_unchecked: usize,
    others: usize,
    others_flagged: usize,
}

/// What one file scored: counts per label, the gold labels we do not detect, (gitleaks cases)
/// how many must-not-match texts were flagged, per gitleaks rule the text was written for, and
/// the must-not-match texts split by review.
type FileScore = (BTreeMap<&'static str, Counts>, Vec<String>, BTreeMap<String, usize>, ReviewedSplit);

fn score_file(path: &Path, detector: &Detector, show: Show) -> Option<FileScore> {
    let data = fs::read_to_string(path).ok()?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    // presidio_unit_cases annotates one type per text; gitleaks_rule_cases annotates only
    // secrets (its e-mail addresses and IPs are unlabeled, so they cannot be scored there).
    let per_type = name.starts_with("presidio_unit_cases");
    let secrets_only = name.starts_with("gitleaks");
    let mut counts: BTreeMap<&'static str, Counts> = DETECTED.iter().map(|&l| (l, Counts::default())).collect();
    let mut other_labels: Vec<String> = Vec::new();
    let mut found: Vec<Finding> = Vec::new();
    let mut flagged_by_rule: BTreeMap<String, usize> = BTreeMap::new();
    let mut split = ReviewedSplit::default();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let (text, gold, annotated, id) = parse_row(line)?;
        found.clear();
        detector.detect(&text, &mut found);
        for g in &gold {
            if !DETECTED.contains(&g.label.as_str()) && !other_labels.contains(&g.label) {
                other_labels.push(g.label.clone());
            }
        }
        for &label in &DETECTED {
            if (per_type && annotated.as_deref() != Some(label)) || (secrets_only && label != "API_KEY") {
                continue;
            }
            let c = counts.entry(label).or_default();
            let golds: Vec<(usize, usize)> =
                gold.iter().filter(|g| g.label == label).map(|g| (g.start, g.end)).collect();
            let preds: Vec<(usize, usize)> =
                found.iter().filter(|f| eval_label(f.kind) == label).map(|f| (f.start, f.end)).collect();
            if golds.is_empty() {
                c.neg_texts += 1;
                c.neg_flagged += usize::from(!preds.is_empty());
                // Ids read `gitleaks-<rule>-fps-<n>-<case>`.
                let rule = id.strip_prefix("gitleaks-").and_then(|r| r.rsplit_once("-fps-")).map(|(r, _)| r);
                if let Some(rule) = rule.filter(|_| secrets_only && !preds.is_empty()) {
                    *flagged_by_rule.entry(rule.to_string()).or_default() += 1;
                }
                if secrets_only {
                    let flagged = usize::from(!preds.is_empty());
                    if let Some((_, format, _)) = GITLEAKS_NEGATIVES_THAT_ARE_KEYS.iter().find(|(r, _, _)| *r == id) {
                        split.reviewed += 1;
                        split.reviewed_flagged += flagged;
                        split.reviewed_unchecked += usize::from(!format.complete_in(&text));
                    } else {
                        split.others += 1;
                        split.others_flagged += flagged;
                    }
                }
            }
            for &g in &golds {
                if preds.iter().any(|&p| overlaps(p, g)) {
                    c.tp += 1;
                } else {
                    c.fn_ += 1;
                    if show.misses {
                        println!("  FN {label} {id}: {:?} in {:?}", text.get(g.0..g.1).unwrap_or(""), text);
                    }
                }
            }
            for &p in &preds {
                if golds.iter().any(|&g| overlaps(p, g)) {
                    c.pred_ok += 1;
                } else {
                    c.fp += 1;
                    if show.false_positives {
                        let reviewed = GITLEAKS_NEGATIVES_THAT_ARE_KEYS.iter().any(|(r, _, _)| *r == id);
                        let tag = if reviewed { " (reviewed as a complete key)" } else { "" };
                        println!("  FP {label} {id}{tag}: {:?} in {:?}", text.get(p.0..p.1).unwrap_or(""), text);
                    }
                }
            }
        }
    }
    other_labels.sort();
    Some((counts, other_labels, flagged_by_rule, split))
}

fn ratio(num: usize, den: usize) -> String {
    if den == 0 {
        "-".to_string()
    } else {
        format!("{:.3}", num as f64 / den as f64)
    }
}

/// Print the quality table; false when the data could not be read.
pub fn run(dir: &Path) -> bool {
    let Ok(detector) = Detector::new(&DetectSettings::default()) else {
        eprintln!("eval: the default detector did not build");
        return false;
    };
    let show = Show::from_env();
    let Some(files) = crate::jsonl_files(dir) else { return false };
    let mut ok = true;
    println!("# PII detection (default settings; span match = overlap with the same label)\n");
    println!("presidio_unit_cases: only each text's annotated type is scored; gitleaks_rule_cases: only API_KEY.\n");
    for path in files {
        let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let Some((counts, others, flagged_by_rule, split)) = score_file(&path, &detector, show) else {
            eprintln!("eval: cannot parse {}", path.display());
            ok = false;
            continue;
        };
        println!("## {name}\n");
        println!("| label | TP | FP | FN | precision | recall | texts without it | of those flagged | FP rate |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        let secrets_only = name.starts_with("gitleaks");
        for (label, c) in &counts {
            // Rows that were not scored in this file (gitleaks: everything but API_KEY).
            if secrets_only && *label != "API_KEY" {
                continue;
            }
            let precision = ratio(c.pred_ok, c.pred_ok + c.fp);
            let recall = ratio(c.tp, c.tp + c.fn_);
            let fp_rate = ratio(c.neg_flagged, c.neg_texts);
            println!(
                "| {label} | {} | {} | {} | {precision} | {recall} | {} | {} | {fp_rate} |",
                c.tp, c.fp, c.fn_, c.neg_texts, c.neg_flagged
            );
        }
        if !others.is_empty() {
            println!("\nnot detected by design: {}", others.join(", "));
        }
        if !flagged_by_rule.is_empty() {
            let rules: Vec<String> = flagged_by_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
            println!(
                "\nflagged must-not-match texts, by the gitleaks rule they were written for: {}",
                rules.join(", ")
            );
        }
        if secrets_only {
            if split.reviewed != GITLEAKS_NEGATIVES_THAT_ARE_KEYS.len() {
                eprintln!(
                    "eval: {} of the {} reviewed gitleaks rows are not must-not-match rows of this file",
                    GITLEAKS_NEGATIVES_THAT_ARE_KEYS.len() - split.reviewed.min(GITLEAKS_NEGATIVES_THAT_ARE_KEYS.len()),
                    GITLEAKS_NEGATIVES_THAT_ARE_KEYS.len()
                );
                ok = false;
            }
            if split.reviewed_unchecked > 0 {
                eprintln!(
                    "eval: {} reviewed gitleaks rows hold no complete token of their stated format",
                    split.reviewed_unchecked
                );
                ok = false;
            }
            println!(
                "\nmust-not-match texts reviewed as complete live-format keys (listed with reasons in the eval source, labels unchanged above): {} rows, flagged: {}. Must-not-match texts without them: {} rows, flagged {} (FP rate {}).",
                split.reviewed,
                split.reviewed_flagged,
                split.others,
                split.others_flagged,
                ratio(split.others_flagged, split.others)
            );
        }
        println!();
    }
    ok
}

/// How many developer-traffic texts (all free of personal data) get a `PERSON`, `ADDRESS`,
/// `POSTCODE`, `CARD_PIN` or `CARD_TRACK_DATA` finding: the false alarms of the word- and
/// context-based detectors on ordinary text (code mentions pins, logs carry `=` and `^`). Set
/// `EVAL_SHOW_ERRORS=1` to print each one.
pub fn dev_traffic_names(dev_dir: &Path) -> bool {
    let Ok(detector) = Detector::new(&DetectSettings::default()) else { return false };
    let show = std::env::var_os("EVAL_SHOW_ERRORS").is_some();
    let Some(files) = crate::jsonl_files(dev_dir) else { return false };
    // Every label is counted: the corpus holds no personal data and no live secrets, so any
    // finding is a false positive (hashes, UUIDs and example keys must stay as they are).
    let kinds = BuiltinKind::ALL;
    let always = [
        BuiltinKind::Person,
        BuiltinKind::Address,
        BuiltinKind::Postcode,
        BuiltinKind::CardPin,
        BuiltinKind::CardTrackData,
    ];
    let mut rows = 0usize;
    let mut flagged = vec![0usize; kinds.len()];
    let mut found = Vec::new();
    for path in &files {
        let Ok(data) = fs::read_to_string(path) else { return false };
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let Some(text) =
                serde_json::from_str::<Value>(line).ok().and_then(|v| v.get("text")?.as_str().map(String::from))
            else {
                continue;
            };
            rows += 1;
            found.clear();
            detector.detect(&text, &mut found);
            for (slot, &kind) in flagged.iter_mut().zip(kinds.iter()) {
                let hits: Vec<&str> = found
                    .iter()
                    .filter(|f| f.kind == EntityKind::Builtin(kind))
                    .filter_map(|f| text.get(f.start..f.end))
                    .collect();
                if !hits.is_empty() {
                    *slot += 1;
                    if show {
                        println!("  dev {}: {hits:?}", kind.label());
                    }
                }
            }
        }
    }
    println!("## Findings on developer traffic (eval/dev_traffic, no personal data, no live secrets)\n");
    println!("Names, addresses and card data always; other labels when found at all.\n");
    println!("| label | texts | texts with a finding | rate |");
    println!("|---|---:|---:|---:|");
    for (kind, &n) in kinds.iter().zip(&flagged) {
        if n > 0 || always.contains(kind) {
            println!("| {} | {rows} | {n} | {} |", kind.label(), ratio(n, rows));
        }
    }
    println!();
    true
}

#[cfg(test)]
mod tests {
    use super::LiveFormat;

    /// The format check behind a reviewed row accepts whole tokens of the format and refuses
    /// near misses (values constructed here, not taken from the data).
    #[test]
    fn live_formats_take_whole_tokens_only() {
        let google = "AIzaSyQ3m-Vt8Lx_2Rk9Wd4Hp7Zc1Nb6Jf0Gs5E";
        assert!(LiveFormat::GoogleApiKey.complete_in(&format!("key: \"{google}\"")));
        assert!(!LiveFormat::GoogleApiKey.complete_in(&format!("{google}x")));
        assert!(!LiveFormat::GoogleApiKey.complete_in(&google.replacen("Sy", "Qy", 1)));
        let chimp = "0f3a9c2e7b1d4f6a8c0e2b4d6f8a1c3e-us21";
        assert!(LiveFormat::MailchimpKey.complete_in(&format!("token: {chimp})")));
        assert!(!LiveFormat::MailchimpKey.complete_in(&chimp.replacen("-us", "-eu", 1)));
        assert!(LiveFormat::Hex32.complete_in("k:\"0f3a9c2e7b1d4f6a8c0e2b4d6f8a1c3e\""));
        assert!(!LiveFormat::Hex32.complete_in("0f3a9c2e7b1d4f6a8c0e2b4d6f8a1c3e7"));
        // {"alg":"none"} . {"n":1} . signature
        assert!(LiveFormat::Jwt.complete_in("Basic eyJhbGciOiJub25lIn0.eyJuIjoxfQ.c2lnbmF0dXJl"));
        assert!(!LiveFormat::Jwt.complete_in("Basic eyJub3QiOiJhIGhlYWRlciJ9.eyJuIjoxfQ.c2lnbmF0dXJl"));
    }
}
