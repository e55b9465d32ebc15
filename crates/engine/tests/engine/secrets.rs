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

/// A small deterministic generator for test values (never real keys).
struct Lcg(u64);

impl Lcg {
    fn pick(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| {
                self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                char::from(alphabet[((self.0 >> 33) as usize) % alphabet.len()])
            })
            .collect()
    }
}

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const LOWER_HEX: &[u8] = b"0123456789abcdef";

/// Google API keys: with the header of issued keys (`AIzaSy`) a key is masked anywhere; without
/// it only under a key's name or next to a credential word; in the wrong case or glued to a
/// longer run of letters and digits never.
#[test]
fn google_keys_by_header_label_case_and_boundary() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let mut rng = Lcg(0x600d);
    for _ in 0..200 {
        let issued = format!("AIzaSy{}", rng.pick(URL_SAFE, 33));
        // Another fifth character than `S` (made-up values fill the 35 at random).
        let fifth = rng.pick(b"ABCDEFGHIJKLMNOPQRTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 1);
        let other = format!("AIza{fifth}{}", rng.pick(URL_SAFE, 34));
        assert_eq!(secrets_in(&detector, &format!("tiles from {issued} today")), [issued.as_str()]);
        assert!(secrets_in(&detector, &format!("trace {other} today")).is_empty(), "{other}");
        for labelled in
            [format!("GOOGLE_MAPS_KEY={other}"), format!("the api key {other}"), format!("\"apiKey\": \"{other}\"")]
        {
            assert_eq!(secrets_in(&detector, &labelled), [other.as_str()], "{labelled}");
        }
        let upper = issued.to_ascii_uppercase();
        assert!(secrets_in(&detector, &format!("id {upper} x")).is_empty(), "{upper}");
        let glued = format!("{}{issued}", rng.pick(b"abcdefghijklmnopqrstuvwxyz0123456789", 6));
        assert!(secrets_in(&detector, &format!("blob {glued} x")).is_empty(), "{glued}");
    }
}

/// Under a name that names Cisco Meraki (40 lower-case hex digits) or Mailchimp (32 lower-case
/// hex digits, `-us` and a data centre's number), a value is a key only in the vendor's format;
/// the same values under other names, and passwords under the vendor's name, stay masked.
#[test]
fn vendor_named_keys_follow_the_vendors_format() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let mut rng = Lcg(0xfeed);
    for i in 0..100 {
        let key = rng.pick(LOWER_HEX, 40);
        let name = ["meraki_api_key", "MERAKI_API_KEY", "merakiApiKey", "cisco-meraki-api-key"][i % 4];
        assert_eq!(secrets_in(&detector, &format!("{name}: {key}")), [key.as_str()], "{name}");
        // One letter in the other case (or a digit turned into a capital) breaks the format.
        let mut mixed = key.clone().into_bytes();
        let at = (i * 7) % 40;
        mixed[at] = if mixed[at].is_ascii_digit() { b'E' } else { mixed[at].to_ascii_uppercase() };
        let mixed = String::from_utf8(mixed).unwrap();
        assert!(secrets_in(&detector, &format!("{name}: {mixed}")).is_empty(), "{mixed}");
        let longer = format!("{key}{}", rng.pick(LOWER_HEX, 8 + i % 24));
        assert!(secrets_in(&detector, &format!("meraki_token = {longer}")).is_empty(), "{longer}");
        // Mask by default: no vendor named, or a password whatever the vendor.
        assert_eq!(secrets_in(&detector, &format!("api_key: {mixed}")), [mixed.as_str()]);
        assert_eq!(secrets_in(&detector, &format!("meraki_password: {mixed}")), [mixed.as_str()]);

        let dc = 1 + i % 20;
        let chimp = format!("{}-us{dc}", rng.pick(LOWER_HEX, 32));
        assert_eq!(secrets_in(&detector, &format!("mailchimp_key = {chimp}")), [chimp.as_str()]);
        assert!(secrets_in(&detector, &format!("mailchimp_token: {key}")).is_empty(), "{key}");
    }
}

/// A dotted code path under a secret's key is code when it opens a call or a composite literal.
#[test]
fn code_paths_opening_a_call_under_secret_keys_stay() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    for text in [
        "\"client_secret\": testutil.Fixture{Kind: 1},",
        "client_secret = vault.ReadSecret(path)",
        "secret: conf.Load()",
    ] {
        assert!(secrets_in(&detector, text).is_empty(), "{text}");
    }
    // A value with a dot that is not followed by a call stays a secret.
    assert_eq!(secrets_in(&detector, "client_secret: Tq8.vWz3kLm9Rx2"), ["Tq8.vWz3kLm9Rx2"]);
}

/// A token that carries no sign of issue (a GitHub token whose checksum fails) is masked where a
/// name it is assigned to labels it as a credential, whatever the name's spelling.
#[test]
fn names_with_a_credential_part_label_unissued_tokens() {
    let detector = Detector::new(&DetectSettings::default()).unwrap();
    let mut rng = Lcg(0xc0de);
    let alnum = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for i in 0..50 {
        // 36 random characters: the last six are not the CRC-32 of the first 30 (1 in 2^32).
        let token = format!("ghp_{}", rng.pick(alnum, 36));
        let name = ["GITHUB_TOKEN", "ciGithubToken", "gh-pat", "DEPLOY_AUTH"][i % 4];
        assert_eq!(secrets_in(&detector, &format!("{name}={token}")), [token.as_str()], "{name}");
        assert!(secrets_in(&detector, &format!("build {token} done")).is_empty(), "{token}");
    }
}
