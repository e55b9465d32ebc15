//! Policy per route and tenant: one configuration, two teams. A route prefix names a policy, a
//! trusted header names one (and beats the route), the default covers the rest; the exchange
//! masks, applies the reply policy and shows the policy's name under the policy it selected; a
//! header naming no configured policy is refused in the API's own error shape.
//!
//! Values: 4111 1111 1111 1111 is a card number the card networks publish for testing; the
//! addresses are at example.com (RFC 2606).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use prompt_guard_engine::encoding::ContentEncoding;
use prompt_guard_engine::event::{Event, Label};
use prompt_guard_engine::exchange::{
    BodyDecision, Exchange, Guard, Refusal, ReplyDecision, ReplyHead, RequestPlan, Sessions, POLICY_HEADER,
    REJECTED_HEADER,
};
use prompt_guard_engine::policy::PolicyId;
use serde_json::{json, Value};

use prompt_guard_engine::store::{SharedData, StoreError};

use crate::support::{Headers, NoStore};

const CARD: &str = "4111 1111 1111 1111";
const EMAIL: &str = "ann.lee@example.com";
/// An address the model writes that the client never sent.
const OTHER: &str = "bo.king@example.com";

const CONFIG: &str = r#"{
    "policy_header": "x-prompt-guard-policy-select",
    "policies": {
        "payments": {"preset": "pci_dss"},
        "support": {"preset": "default", "reply": {"default": "redact"}}
    },
    "routes": [{"prefix": "/payments", "policy": "payments"}]
}"#;

fn guard() -> Guard {
    Guard::from_json(CONFIG.as_bytes()).unwrap()
}

fn headers(path: &str, selected: Option<&str>) -> Headers {
    let mut map = HashMap::from([(":path", path.to_owned()), ("content-type", "application/json".to_owned())]);
    if let Some(name) = selected {
        map.insert("x-prompt-guard-policy-select", name.to_owned());
    }
    Headers(map)
}

/// What went upstream, the exchange, and the policy events of the request.
fn request(g: &Guard, path: &str, selected: Option<&str>) -> (String, Exchange, Vec<Event<'static>>) {
    let body = json!({"model": "m", "messages": [{"role": "user", "content":
        format!("Charge card {CARD} and send the receipt to {EMAIL}.")}]})
    .to_string();
    let mut ex = Exchange::new(g);
    let mut events = Vec::new();
    let mut keep = |e: Event<'_>| match e {
        Event::UnderPolicy(p) => events.push(Event::UnderPolicy(p)),
        Event::MaskedUnder { policy, count } => events.push(Event::MaskedUnder { policy, count }),
        _ => {}
    };
    let plan = ex.request_headers(g, &headers(path, selected), true, &mut keep).unwrap();
    assert_eq!(plan, RequestPlan::Inspect);
    let sessions = Sessions { data: &NoStore, now_secs: None };
    let BodyDecision::Forward(Some(sent)) = ex.request_body(g, body.as_bytes(), &sessions, &mut keep) else {
        panic!("the request was not masked")
    };
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    (sent["messages"][0]["content"].as_str().unwrap().to_owned(), ex, events)
}

/// The reply's added headers and the text the client reads of a reply quoting the placeholders
/// and an address the client never sent.
fn reply(g: &Guard, ex: &mut Exchange, quoted: &str) -> (HashMap<&'static str, String>, String) {
    let head = ReplyHead { end_of_stream: false, content_type: Some("application/json"), content_encoding: None };
    let (added, _) = ex.reply_headers(g, head, &mut |_| {});
    let body = json!({"id": "c", "object": "chat.completion", "choices": [{"index": 0,
        "message": {"role": "assistant", "content": format!("Done: {quoted}. Copy to {OTHER}.")}}]});
    let text = match ex.reply_body(g, body.to_string().as_bytes(), ContentEncoding::Identity, &mut |_| {}) {
        ReplyDecision::Forward(Some(b)) => {
            let v: Value = serde_json::from_slice(&b).unwrap();
            v["choices"][0]["message"]["content"].as_str().unwrap().to_owned()
        }
        other => panic!("{other:?}"),
    };
    (added.into_iter().collect(), text)
}

#[test]
fn a_route_selects_its_policy_and_other_routes_keep_the_default() {
    let g = guard();
    let payments = g.config().policy_id("payments").unwrap();
    // Under pci_dss the card keeps its first six and last four; the address is a placeholder.
    let (sent, mut ex, events) = request(&g, "/payments/v1/chat/completions", None);
    assert!(!sent.contains(CARD) && sent.contains("4111 11** **** 1111"), "{sent}");
    assert!(sent.contains("[EMAIL_1]") && !sent.contains("[CREDIT_CARD_1]"), "{sent}");
    assert_eq!(ex.policy(), payments);
    assert_eq!(events, [Event::UnderPolicy(payments), Event::MaskedUnder { policy: payments, count: 2 }]);
    let (added, text) = reply(&g, &mut ex, "[EMAIL_1]");
    assert_eq!(added.get(POLICY_HEADER).map(String::as_str), Some("payments"));
    assert!(text.contains(EMAIL) && text.contains(OTHER), "{text}");

    // The default policy: both values become placeholders, and come back.
    let (sent, mut ex, events) = request(&g, "/v1/chat/completions", None);
    assert!(sent.contains("[CREDIT_CARD_1]") && sent.contains("[EMAIL_1]"), "{sent}");
    assert_eq!(events[0], Event::UnderPolicy(PolicyId::Default));
    let (added, text) = reply(&g, &mut ex, "[CREDIT_CARD_1] [EMAIL_1]");
    assert_eq!(added.get(POLICY_HEADER).map(String::as_str), Some("default"));
    assert!(text.contains(CARD) && text.contains(EMAIL), "{text}");
}

#[test]
fn the_trusted_header_beats_the_route_and_its_reply_policy_applies() {
    let g = guard();
    let support = g.config().policy_id("support").unwrap();
    let (sent, mut ex, _) = request(&g, "/payments/v1/chat/completions", Some("support"));
    assert!(sent.contains("[CREDIT_CARD_1]") && sent.contains("[EMAIL_1]"), "{sent}");
    assert_eq!(ex.policy(), support);
    let (added, text) = reply(&g, &mut ex, "[EMAIL_1]");
    assert_eq!(added.get(POLICY_HEADER).map(String::as_str), Some("support"));
    // support's reply policy redacts what the exchange did not mask; the client's own value
    // comes back.
    assert!(text.contains(EMAIL) && !text.contains(OTHER) && text.contains("[REDACTED"), "{text}");
    // `default` names the filter's own policy.
    let (sent, ex, _) = request(&g, "/payments/v1/chat/completions", Some("default"));
    assert!(sent.contains("[CREDIT_CARD_1]"), "{sent}");
    assert_eq!(ex.policy(), PolicyId::Default);
}

#[test]
fn a_header_naming_no_policy_is_refused_in_the_api_shape() {
    let g = guard();
    for api_path in ["/v1/chat/completions", "/v1/messages"] {
        let mut ex = Exchange::new(&g);
        let mut rejected = Vec::new();
        let plan = ex
            .request_headers(&g, &headers(api_path, Some("payment")), true, &mut |e| {
                if let Event::Rejected(r) = e {
                    rejected.push(r);
                }
            })
            .unwrap();
        let RequestPlan::Refuse(Refusal::Answer(reply)) = plan else { panic!("{plan:?}") };
        assert_eq!(reply.status, 403);
        assert_eq!(rejected.iter().map(|r| r.label()).collect::<Vec<_>>(), ["unknown_policy"]);
        let added: HashMap<_, _> = reply.headers.iter().cloned().collect();
        assert_eq!(added.get(REJECTED_HEADER).map(String::as_str), Some("unknown_policy"));
        assert!(!added.contains_key(POLICY_HEADER));
        let body: Value = serde_json::from_slice(&reply.body).unwrap();
        assert!(body["error"].is_object(), "{body}");
        assert!(!String::from_utf8_lossy(&reply.body).contains("payment\""), "the value is not echoed");
    }
}

#[test]
fn a_refusal_under_a_selected_policy_names_it() {
    let g = guard();
    let mut ex = Exchange::new(&g);
    let plan = ex.request_headers(&g, &headers("/payments/v1/chat/completions", None), true, &mut |_| {}).unwrap();
    assert_eq!(plan, RequestPlan::Inspect);
    let sessions = Sessions { data: &NoStore, now_secs: None };
    let BodyDecision::Refuse(Refusal::Answer(reply)) = ex.request_body(&g, b"{not json", &sessions, &mut |_| {}) else {
        panic!("malformed JSON went on")
    };
    let added: HashMap<_, _> = reply.headers.iter().cloned().collect();
    assert_eq!(added.get(POLICY_HEADER).map(String::as_str), Some("payments"));
}

/// The shipped two-team example: `/payments` runs under pci_dss, the `research` header value under
/// secrets_only, anything else under the default.
#[test]
fn the_two_teams_example_selects_as_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/policies/two-teams.json");
    let cfg = prompt_guard_engine::config::FilterConfig::from_json(&std::fs::read(path).unwrap()).unwrap();
    let header = cfg.policy_header.clone().unwrap();
    assert_eq!(header, "x-prompt-guard-policy-select");
    let name =
        |path: &str, value: Option<&str>| cfg.select_policy(path, value).map(|id| cfg.policy_name(id).to_owned());
    assert_eq!(name("/payments/v1/chat/completions", None).unwrap(), "payments");
    assert_eq!(name("/v1/chat/completions", Some("research")).unwrap(), "research");
    assert_eq!(name("/payments/v1/messages", Some("research")).unwrap(), "research");
    assert_eq!(name("/v1/messages", None).unwrap(), "default");
    assert!(name("/v1/messages", Some("marketing")).is_err());
    assert_eq!(cfg.policy("payments").unwrap().preset, prompt_guard_engine::policy::Preset::PciDss);
    assert_eq!(cfg.policy("research").unwrap().preset, prompt_guard_engine::policy::Preset::SecretsOnly);
}

/// Shared data that records every write, to show what a session record holds.
#[derive(Default)]
struct RecordingStore(std::cell::RefCell<HashMap<String, Vec<u8>>>);

impl SharedData for RecordingStore {
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, StoreError> {
        Ok(self.0.borrow().get(key).map(|v| (v.clone(), 1)))
    }
    fn set(&self, key: &str, value: &[u8], _cas: Option<u32>) -> Result<(), StoreError> {
        self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }
}

/// Sensitive authentication data on the payments route (pci_dss): track data, the PIN and the
/// verification code are redacted upstream, kept in no vault and in no session record; the card
/// number shows its first six and last four and is not saved either. Track layout from ISO/IEC
/// 7813 around the published test card number; the PIN and code were written for this test.
#[test]
fn the_payments_route_keeps_no_sensitive_authentication_data() {
    let g = Guard::from_json_with_env(
        br#"{"session": {"identity_header": "x-user"}, "policies": {"payments": {"preset": "pci_dss"}},
             "routes": [{"prefix": "/payments", "policy": "payments"}]}"#,
        &crate::support::test_env,
    )
    .unwrap();
    let track2 = ";4111111111111111=25121015432112345678?";
    let track1 = "%B4111111111111111^DOE/JANE^2512101000000000000000?";
    let text = format!("Reader: {track2} and {track1}. Card {CARD}, CVV 737, PIN: 4821. Mail {EMAIL}.");
    let body = json!({"model": "m", "messages": [{"role": "user", "content": text}]}).to_string();
    let mut map = HashMap::from([
        (":path", "/payments/v1/chat/completions".to_owned()),
        ("content-type", "application/json".to_owned()),
    ]);
    map.insert("x-user", "cashier-7".to_owned());
    let mut ex = Exchange::new(&g);
    assert_eq!(ex.request_headers(&g, &Headers(map), true, &mut |_| {}).unwrap(), RequestPlan::Inspect);
    let store = RecordingStore::default();
    let sessions = Sessions { data: &store, now_secs: Some(1_000) };
    let BodyDecision::Forward(Some(sent)) = ex.request_body(&g, body.as_bytes(), &sessions, &mut |_| {}) else {
        panic!("the request was not masked")
    };
    let sent = String::from_utf8(sent).unwrap();
    for value in [track2, track1, "4111111111111111", CARD, "737", "4821", EMAIL] {
        assert!(!sent.contains(value), "{value} went upstream: {sent}");
    }
    assert_eq!(sent.matches("[REDACTED]").count(), 4, "{sent}");
    assert!(sent.contains("4111 11** **** 1111") && sent.contains("[EMAIL_1]"), "{sent}");
    // Only the address is kept for restoring, and only it reaches the session record.
    assert_eq!(ex.vault().len(), 1);
    let saved: Vec<u8> = store.0.borrow().values().flatten().copied().collect();
    assert!(!saved.is_empty(), "no session record was written");
    let saved = String::from_utf8_lossy(&saved);
    for value in ["4111111111111111", "4111 1111", "737", "4821", "DOE/JANE"] {
        assert!(!saved.contains(value), "{value} in the session record");
    }
}
