//! Session store through the engine: a stateful API (OpenAI Responses with
//! `previous_response_id`) sends only the new turn, yet placeholders stay stable across
//! exchanges and a later reply restores what an earlier request masked — for the same identity only.
//! Request and reply shapes follow OpenAI's documented Responses API; the values were written for
//! this project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::collections::HashMap;

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_reply, guard_request};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::store::{SessionSettings, SessionStore, SharedData, StoreError};
use prompt_guard_engine::vault::Vault;

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
    let cfg = FilterConfig::from_json(b"{}").unwrap();
    let store = SessionStore::new(data, &SETTINGS);
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
