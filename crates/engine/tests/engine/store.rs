//! Session store through the engine: a stateful API (OpenAI Responses with
//! `previous_response_id`) sends only the new turn, yet placeholders stay stable across
//! exchanges and a later reply restores what an earlier request masked — for the same identity only.
//! Request and reply shapes follow OpenAI's documented Responses API; the values were written for
//! this project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::HashMap;

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_reply, guard_request, BodyDecision, Exchange, Guard, RequestPlan, Sessions};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::store::{SessionSettings, SessionStore, SharedData, StoreError};
use prompt_guard_engine::vault::Vault;
use serde_json::{json, Value};

use crate::support::{test_env, Headers};

/// Shared data with Envoy's CAS rule: each write gets a new token; a stale token is refused.
#[derive(Default)]
struct InMemorySharedData {
    values: RefCell<HashMap<String, (Vec<u8>, u32)>>,
    last_cas: RefCell<u32>,
}

impl SharedData for InMemorySharedData {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        Ok(self.values.borrow().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), StoreError> {
        let mut values = self.values.borrow_mut();
        if let (Some(want), Some((_, have))) = (cas, values.get(key)) {
            if want != *have {
                return Err(StoreError::CasMismatch);
            }
        }
        let mut last = self.last_cas.borrow_mut();
        *last += 1;
        values.insert(key.to_owned(), (value.to_vec(), *last));
        Ok(())
    }
}

const SETTINGS: SessionSettings = SessionSettings { ttl_seconds: 3600, max_entries: 256, max_sessions: 1024 };

/// One exchange as the filter runs it: load the session, mask the request, save, restore the reply.
fn exchange(data: &InMemorySharedData, who: &str, now: u64, request: &str, reply: &str) -> (String, String) {
    let cfg = FilterConfig::from_json_with_env(b"{}", &test_env).unwrap();
    let store = SessionStore::new(data, &SETTINGS, &cfg.keys);
    let mut vault = Vault::with_capacity(1024);
    store.load_into(who, now, &cfg.restore.grammar, &mut vault).unwrap();
    let out = guard_request(&cfg, Api::OpenAiResponses, request.as_bytes(), true, &mut vault, MemoScope::NONE).unwrap();
    let sent = String::from_utf8(out.body.unwrap_or_else(|| request.as_bytes().to_vec())).unwrap();
    store.save(who, now, &vault).unwrap();
    let back = guard_reply(&cfg, reply.as_bytes(), &vault);
    let restored = String::from_utf8(back.body.unwrap_or_else(|| reply.as_bytes().to_vec())).unwrap();
    (sent, restored)
}

fn reply(text: &str) -> String {
    format!(
        r#"{{"id":"resp_2","output":[{{"type":"message","role":"assistant","content":[{{"type":"output_text","text":"{text}"}}]}}]}}"#
    )
}

#[test]
fn stateful_api_keeps_placeholders_across_exchanges() {
    let data = InMemorySharedData::default();
    let (sent, _) = exchange(
        &data,
        "tenant-a/user-1",
        1000,
        r#"{"model":"gpt-4.1","input":"Write to ann.lee@example.com about the invoice"}"#,
        &reply("Sure."),
    );
    assert!(sent.contains("[EMAIL_1]") && !sent.contains("ann.lee@example.com"), "{sent}");

    // Only the new turn is sent; the reply mentions a placeholder from the first exchange.
    let (sent, restored) = exchange(
        &data,
        "tenant-a/user-1",
        1060,
        r#"{"model":"gpt-4.1","previous_response_id":"resp_1","input":"Copy bob.ray@example.com and ann.lee@example.com"}"#,
        &reply("Drafted for [EMAIL_1], cc [EMAIL_2]."),
    );
    assert!(sent.contains("Copy [EMAIL_2] and [EMAIL_1]"), "{sent}");
    assert!(restored.contains("Drafted for ann.lee@example.com, cc bob.ray@example.com."), "{restored}");
}

#[test]
fn another_identity_never_gets_the_session_restored() {
    let data = InMemorySharedData::default();
    exchange(
        &data,
        "tenant-a/user-1",
        1000,
        r#"{"model":"gpt-4.1","input":"Write to ann.lee@example.com"}"#,
        &reply("Sure."),
    );
    let (_, restored) = exchange(
        &data,
        "tenant-a/user-2",
        1010,
        r#"{"model":"gpt-4.1","previous_response_id":"resp_1","input":"Who was that?"}"#,
        &reply("It was [EMAIL_1]."),
    );
    assert!(restored.contains("It was [EMAIL_1]."), "{restored}");
    assert!(!restored.contains("ann.lee@example.com"));
}

#[test]
fn expired_session_is_forgotten() {
    let data = InMemorySharedData::default();
    exchange(&data, "u", 1000, r#"{"model":"m","input":"ann.lee@example.com"}"#, &reply("ok"));
    let (sent, restored) = exchange(
        &data,
        "u",
        1000 + SETTINGS.ttl_seconds,
        r#"{"model":"m","input":"bob.ray@example.com"}"#,
        &reply("[EMAIL_1]"),
    );
    assert!(sent.contains("[EMAIL_1]"), "{sent}");
    assert!(restored.contains("bob.ray@example.com") && !restored.contains("ann.lee"), "{restored}");
}

/// One guarded exchange through the engine's `Exchange` (as the filter drives it) for `who`,
/// with the given host environment; returns what went upstream and the events it emitted.
fn guarded(
    data: &InMemorySharedData,
    env: &dyn Fn(&str) -> Option<String>,
    who: &str,
    now: u64,
    text: &str,
) -> (String, Vec<String>) {
    let config = br#"{"session": {"identity_header": "x-user"}, "threats": {"enabled": false}}"#;
    let g = Guard::from_json_with_env(config, env).unwrap();
    let body = json!({"model": "m", "input": text}).to_string();
    let map = HashMap::from([
        (":path", "/v1/responses".to_owned()),
        ("content-type", "application/json".to_owned()),
        ("x-user", who.to_owned()),
    ]);
    let mut events = Vec::new();
    let mut ex = Exchange::new(&g);
    assert_eq!(ex.request_headers(&g, &Headers(map), true, &mut |_| {}).unwrap(), RequestPlan::Inspect);
    let sessions = Sessions { data, now_secs: Some(now) };
    let decision = ex.request_body(&g, body.as_bytes(), &sessions, &mut |e| events.push(format!("{e:?}")));
    let BodyDecision::Forward(Some(sent)) = decision else { panic!("the request was not masked") };
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    (sent["input"].as_str().unwrap_or_default().to_owned(), events)
}

/// The environment after a rotation of the seal key: a new key, the old one as previous.
fn rotated_env(name: &str) -> Option<String> {
    match name {
        "PG_SEAL_KEY" => Some("9999999999999999999999999999999999999999999999999999999999999999".to_owned()),
        "PG_SEAL_KEY_PREVIOUS" => test_env("PG_SEAL_KEY"),
        _ => test_env(name),
    }
}

/// The rotation finished: the old key removed.
fn new_key_only_env(name: &str) -> Option<String> {
    (name != "PG_SEAL_KEY_PREVIOUS").then(|| rotated_env(name)).flatten()
}

#[test]
fn a_rotation_keeps_sessions_and_a_removed_key_drops_them_counted() {
    let data = InMemorySharedData::default();
    let (sent, events) = guarded(&data, &test_env, "tenant-a/user-1", 1000, "Write to ann.lee@example.com");
    assert_eq!(sent, "Write to [EMAIL_1]");
    assert!(!events.iter().any(|e| e.contains("SealedUnopened")), "{events:?}");
    // New key current, old key previous: the session opens, numbering continues.
    let (sent, events) =
        guarded(&data, &rotated_env, "tenant-a/user-1", 1010, "And bob.ray@example.com, ann.lee@example.com");
    assert_eq!(sent, "And [EMAIL_2], [EMAIL_1]");
    assert!(!events.iter().any(|e| e.contains("SealedUnopened")), "{events:?}");
    // That exchange re-sealed the record under the new key: the new key alone opens it.
    let (sent, _) = guarded(&data, &new_key_only_env, "tenant-a/user-1", 1020, "bob.ray@example.com");
    assert_eq!(sent, "[EMAIL_2]");

    // A session last written under the old key, read after the old key was removed: absent,
    // counted, and the exchange goes on (numbering starts afresh).
    let stale = InMemorySharedData::default();
    guarded(&stale, &test_env, "tenant-a/user-1", 1000, "Write to ann.lee@example.com");
    let (sent, events) = guarded(&stale, &new_key_only_env, "tenant-a/user-1", 1010, "bob.ray@example.com");
    assert_eq!(sent, "[EMAIL_1]");
    assert_eq!(events.iter().filter(|e| e.as_str() == "SealedUnopened(UnknownKey)").count(), 1, "{events:?}");
}

#[test]
fn a_session_without_keys_in_the_environment_is_a_configuration_error() {
    let config = br#"{"session": {"identity_header": "x-user"}}"#;
    let e = FilterConfig::from_json(config).unwrap_err();
    assert_eq!(e.field, "keys.encrypt");
    assert!(e.problem.contains("PG_SEAL_KEY") && e.problem.contains("session"), "{e}");
    let seal_only = |name: &str| (name == "PG_SEAL_KEY").then(|| test_env(name)).flatten();
    let e = FilterConfig::from_json_with_env(config, &seal_only).unwrap_err();
    assert_eq!(e.field, "keys.hash");
    assert!(e.problem.contains("PG_HASH_KEY"), "{e}");
    assert!(FilterConfig::from_json_with_env(config, &test_env).is_ok());
}
