//! The reply policy (`policy.reply`): personal data and secrets in a reply that the exchange did
//! not mask pass, are redacted, masked, or stop the reply, per type; buffered and streamed, in
//! text and in tool-call arguments, for OpenAI chat and Anthropic Messages. A streamed reply gives
//! the buffered result whatever the chunking, and the client's own value always comes back.
//!
//! Values: 4242 4242 4242 4242 is Stripe's documented test card; 536-90-4411 and the password were
//! written for this project (the SSN structurally valid, not anyone's); addresses are at
//! example.com (RFC 2606). Reply shapes follow the providers' public API references.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use prompt_guard_engine::encoding::ContentEncoding;
use prompt_guard_engine::entity::{BuiltinKind, EntityKind};
use prompt_guard_engine::event::Event;
use prompt_guard_engine::exchange::{
    BodyDecision, Exchange, Guard, ReplyDecision, ReplyHead, ReplyPlan, RequestPlan, Sessions, StreamStep,
};
use prompt_guard_engine::policy::reply::ReplyAction;
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::support::{Headers, NoStore};

const CHAT: &str = "/v1/chat/completions";
const MESSAGES: &str = "/v1/messages";
/// The client's own address: masked in the request, quoted back by the model as its placeholder
/// and once verbatim.
const EMAIL: &str = "jane.doe@example.com";
const CARD: &str = "4242 4242 4242 4242";
const SSN: &str = "536-90-4411";
const PASSWORD: &str = "Hunter2xQ9z!";

/// What the model writes: the client's address, then a customer record the client never sent.
fn reply_text() -> String {
    format!(
        "Thanks, I will write to [EMAIL_1] ({EMAIL}) today. Here is the record you asked about, word for word \
         from the archive so you can check it against your own copy before the meeting. Customer on file: \
         card {CARD}, SSN {SSN}, and the portal login is password = {PASSWORD} which should be rotated. \
         Let me know if anything else in the archive needs to be looked at again."
    )
}

/// Tool-call arguments (JSON text) that carry the card and the SSN.
fn tool_args() -> String {
    json!({"customer": {"card": CARD, "note": format!("SSN {SSN} on file")}, "reply_to": "[EMAIL_1]"}).to_string()
}

const POLICY: &str = r#"{"default": "pass", "CREDIT_CARD": "redact", "US_SSN": "mask", "secrets": "redact"}"#;

fn guard(extra: &str, policy: &str) -> Guard {
    Guard::from_json(format!(r#"{{{extra} "policy": {{"reply": {policy}}}}}"#).as_bytes()).unwrap()
}

/// An exchange whose request (the client's address, asking for the record) has been forwarded.
fn after_request(cfg: &Guard, path: &str) -> Exchange {
    let headers = Headers(HashMap::from([(":path", path.to_owned()), ("content-type", "application/json".to_owned())]));
    let body = json!({"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content":
        format!("Please write to me at {EMAIL} with the customer record.")}]})
    .to_string();
    let mut ex = Exchange::new(cfg);
    let plan = ex.request_headers(cfg, &headers, true, &mut |_| {}).unwrap();
    assert_eq!(plan, RequestPlan::Inspect);
    let sessions = Sessions { data: &NoStore, now_secs: None };
    let BodyDecision::Forward(Some(forwarded)) = ex.request_body(cfg, body.as_bytes(), &sessions, &mut |_| {}) else {
        panic!("the request was not masked")
    };
    let forwarded = String::from_utf8(forwarded).unwrap();
    assert!(forwarded.contains("[EMAIL_1]") && !forwarded.contains(EMAIL), "{forwarded}");
    ex
}

fn chat_reply() -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
            "content": reply_text(),
            "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": "lookup", "arguments": tool_args()}}]}}]})
}

fn messages_reply() -> Value {
    let input: Value = serde_json::from_str(&tool_args()).unwrap();
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "stop_reason": "tool_use",
        "content": [{"type": "text", "text": reply_text()},
                    {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": input}]})
}

/// What the client reads of a reply: the text, and the tool input as JSON.
#[derive(Debug, PartialEq)]
struct Seen {
    text: String,
    tool: Value,
}

fn seen_buffered(path: &str, body: &Value) -> Seen {
    if path == CHAT {
        let message = &body["choices"][0]["message"];
        Seen {
            text: message["content"].as_str().unwrap().to_owned(),
            tool: serde_json::from_str(message["tool_calls"][0]["function"]["arguments"].as_str().unwrap()).unwrap(),
        }
    } else {
        Seen {
            text: body["content"][0]["text"].as_str().unwrap().to_owned(),
            tool: body["content"][1]["input"].clone(),
        }
    }
}

/// The buffered reply through the exchange: what the client gets, and the events.
fn buffered(cfg: &Guard, path: &str) -> (ReplyDecision, Vec<Event<'static>>) {
    let mut ex = after_request(cfg, path);
    let head = ReplyHead { end_of_stream: false, content_type: Some("application/json"), content_encoding: None };
    let (_, plan) = ex.reply_headers(cfg, head, &mut |_| {});
    assert_eq!(plan, ReplyPlan::Buffer { encoding: ContentEncoding::Identity });
    let body = if path == CHAT { chat_reply() } else { messages_reply() };
    let mut events = Vec::new();
    let decision = ex.reply_body(cfg, body.to_string().as_bytes(), ContentEncoding::Identity, &mut |e| {
        if let Event::ReplyEntity { kind, action, count } = e {
            events.push(Event::ReplyEntity { kind, action, count });
        }
    });
    (decision, events)
}

fn forwarded(decision: ReplyDecision) -> Value {
    match decision {
        ReplyDecision::Forward(Some(body)) => serde_json::from_slice(&body).unwrap(),
        other => panic!("{other:?}"),
    }
}

/// Text cut in pieces of at most 4 characters, as the mock upstream streams it: every value is
/// split across events.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect()).collect()
}

fn sse(event: Option<&str>, data: &Value) -> String {
    match event {
        Some(e) => format!("event: {e}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// The reply as the upstream streams it.
fn stream_bytes(path: &str) -> Vec<u8> {
    let mut out = String::new();
    if path == CHAT {
        let chunk = |delta: Value, finish: Value| {
            json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        };
        out += &sse(None, &chunk(json!({"role": "assistant", "content": ""}), Value::Null));
        for p in pieces(&reply_text()) {
            out += &sse(None, &chunk(json!({"content": p}), Value::Null));
        }
        out += &sse(
            None,
            &chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "lookup", "arguments": ""}}]}),
                Value::Null,
            ),
        );
        for p in pieces(&tool_args()) {
            out += &sse(None, &chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}), Value::Null));
        }
        out += &sse(None, &chunk(json!({}), json!("tool_calls")));
        out += "data: [DONE]\n\n";
    } else {
        out += &sse(
            Some("message_start"),
            &json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                "model": "m", "content": [], "stop_reason": null}}),
        );
        out += &sse(
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        );
        for p in pieces(&reply_text()) {
            out += &sse(
                Some("content_block_delta"),
                &json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}),
            );
        }
        out += &sse(Some("content_block_stop"), &json!({"type": "content_block_stop", "index": 0}));
        out += &sse(
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": 1,
                "content_block": {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}}),
        );
        for p in pieces(&tool_args()) {
            out += &sse(
                Some("content_block_delta"),
                &json!({"type": "content_block_delta", "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": p}}),
            );
        }
        out += &sse(Some("content_block_stop"), &json!({"type": "content_block_stop", "index": 1}));
        out += &sse(Some("message_delta"), &json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}}));
        out += &sse(Some("message_stop"), &json!({"type": "message_stop"}));
    }
    out.into_bytes()
}

/// The streamed reply through the exchange, cut at `cuts`: the bytes the client gets and the
/// reply-entity events.
fn streamed(cfg: &Guard, path: &str, cuts: &[usize]) -> (String, Vec<Event<'static>>) {
    let mut ex = after_request(cfg, path);
    let head = ReplyHead { end_of_stream: false, content_type: Some("text/event-stream"), content_encoding: None };
    let (_, plan) = ex.reply_headers(cfg, head, &mut |_| {});
    assert_eq!(plan, ReplyPlan::Stream { encoding: ContentEncoding::Identity });
    let bytes = stream_bytes(path);
    let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    bounds.push(0);
    bounds.push(bytes.len());
    bounds.sort_unstable();
    bounds.dedup();
    let (mut out, mut events) = (Vec::new(), Vec::new());
    for w in bounds.windows(2) {
        let end = w[1] == bytes.len();
        let step = ex.stream_chunk(cfg, &bytes[w[0]..w[1]], end, &mut |e| {
            if matches!(e, Event::ReplyEntity { .. }) {
                events.push(e);
            }
        });
        let StreamStep::Emit(piece) = step else { panic!("not a stream") };
        out.extend(piece);
    }
    (String::from_utf8(out).unwrap(), events)
}

/// What the client reads of a streamed reply: the text deltas and the tool input deltas, joined.
fn seen_streamed(path: &str, body: &str) -> Seen {
    let (mut text, mut args) = (String::new(), String::new());
    for block in body.split("\n\n") {
        let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
        let Ok(v) = serde_json::from_str::<Value>(data) else { continue };
        if path == CHAT {
            let delta = &v["choices"][0]["delta"];
            text += delta["content"].as_str().unwrap_or("");
            args += delta["tool_calls"][0]["function"]["arguments"].as_str().unwrap_or("");
        } else {
            let delta = &v["delta"];
            text += delta["text"].as_str().unwrap_or("");
            args += delta["partial_json"].as_str().unwrap_or("");
        }
    }
    Seen { text, tool: serde_json::from_str(&args).unwrap_or(Value::Null) }
}

fn count(events: &[Event<'_>], kind: BuiltinKind, action: ReplyAction) -> u64 {
    events
        .iter()
        .map(|e| match *e {
            Event::ReplyEntity { kind: k, action: a, count } if k == EntityKind::Builtin(kind) && a == action => count,
            _ => 0,
        })
        .sum()
}

fn assert_policy_applied(seen: &Seen, case: &str) {
    let text = &seen.text;
    assert!(text.contains(&format!("I will write to {EMAIL} ({EMAIL})")), "{case}: {text}");
    assert!(text.contains("card [REDACTED:CREDIT_CARD], SSN ***-**-****,"), "{case}: {text}");
    assert!(!text.contains(PASSWORD) && text.contains("[REDACTED:SECRET]"), "{case}: {text}");
    assert_eq!(seen.tool["customer"]["card"], "[REDACTED:CREDIT_CARD]", "{case}");
    assert_eq!(seen.tool["customer"]["note"], "SSN ***-**-**** on file", "{case}");
    assert_eq!(seen.tool["reply_to"], EMAIL, "{case}");
}

#[test]
fn buffered_replies_are_redacted_and_masked_per_type_in_text_and_tool_arguments() {
    let cfg = guard("", POLICY);
    for path in [CHAT, MESSAGES] {
        let (decision, events) = buffered(&cfg, path);
        let seen = seen_buffered(path, &forwarded(decision));
        assert_policy_applied(&seen, path);
        assert_eq!(count(&events, BuiltinKind::CreditCard, ReplyAction::Redact), 2, "{path}: {events:?}");
        assert_eq!(count(&events, BuiltinKind::UsSsn, ReplyAction::Mask), 2, "{path}: {events:?}");
        assert_eq!(count(&events, BuiltinKind::SecretAssignment, ReplyAction::Redact), 1, "{path}: {events:?}");
        // The client's own address is neither acted on nor counted as a leak.
        assert_eq!(count(&events, BuiltinKind::Email, ReplyAction::Pass), 0, "{path}: {events:?}");
    }
}

#[test]
fn with_every_type_passing_replies_are_forwarded_as_before_and_counted() {
    let cfg = guard("", r#"{"default": "pass"}"#);
    for path in [CHAT, MESSAGES] {
        let (decision, events) = buffered(&cfg, path);
        let seen = seen_buffered(path, &forwarded(decision));
        assert!(seen.text.contains(CARD) && seen.text.contains(SSN) && seen.text.contains(PASSWORD), "{path}");
        assert_eq!(count(&events, BuiltinKind::CreditCard, ReplyAction::Pass), 2, "{path}: {events:?}");
        let (body, events) = streamed(&cfg, path, &[]);
        assert!(seen_streamed(path, &body).text.contains(CARD), "{path}");
        assert_eq!(count(&events, BuiltinKind::UsSsn, ReplyAction::Pass), 2, "{path}: {events:?}");
    }
}

/// The reply's status has left with its headers before the body is read: the body becomes the
/// API's error document.
#[test]
fn a_stopped_buffered_reply_is_replaced_by_an_error_in_the_apis_shape() {
    let cfg = guard("", r#"{"US_SSN": "stop", "CREDIT_CARD": "redact"}"#);
    for path in [CHAT, MESSAGES] {
        let (decision, events) = buffered(&cfg, path);
        let body = forwarded(decision);
        let text = body.to_string();
        assert!(!text.contains(SSN) && !text.contains(CARD) && !text.contains("4242"), "{path}: {text}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("prompt-guard stopped this reply"), "{text}");
        if path == MESSAGES {
            assert_eq!(body["type"], "error", "{text}");
        } else {
            assert_eq!(body["error"]["code"], "prompt_guard_reply_blocked", "{text}");
        }
        assert_eq!(count(&events, BuiltinKind::UsSsn, ReplyAction::Stop), 2, "{path}: {events:?}");
    }
}

#[test]
fn replies_are_held_when_the_policy_acts_even_with_threat_scanning_off() {
    let json = ReplyHead { end_of_stream: false, content_type: Some("application/json"), content_encoding: None };
    for (policy, held) in [(r#"{"default": "pass"}"#, false), (r#"{"secrets": "redact"}"#, true)] {
        let cfg = guard(r#""threats": {"enabled": false}, "restore_responses": false,"#, policy);
        let mut ex = after_request(&cfg, CHAT);
        let (_, plan) = ex.reply_headers(&cfg, json, &mut |_| {});
        assert_eq!(plan != ReplyPlan::Pass, held, "{policy}: {plan:?}");
    }
}

/// A cut every 7 bytes of the stream (each value is also split across events: 4 characters a
/// delta) gives the buffered result; the property tests below cut anywhere, many times.
#[test]
fn a_streamed_chat_reply_gives_the_buffered_result_at_cuts_all_through_it() {
    let cfg = guard("", POLICY);
    let want = seen_buffered(CHAT, &forwarded(buffered(&cfg, CHAT).0));
    let len = stream_bytes(CHAT).len();
    for cut in (0..=len).step_by(7) {
        let (body, events) = streamed(&cfg, CHAT, &[cut]);
        assert_eq!(seen_streamed(CHAT, &body), want, "cut at {cut}");
        assert_eq!(count(&events, BuiltinKind::CreditCard, ReplyAction::Redact), 2, "cut at {cut}");
    }
}

fn stop_case(path: &str, cuts: &[usize]) {
    let cfg = guard("", r#"{"US_SSN": "stop"}"#);
    let (body, events) = streamed(&cfg, path, cuts);
    // The error event's message in either API's shape (OpenAI's also carries the code).
    let stopped = "prompt-guard stopped this reply";
    assert!(body.contains(stopped), "{path} {cuts:?}: {body}");
    assert_eq!(body.contains("prompt_guard_reply_blocked"), path == CHAT, "{path} {cuts:?}: {body}");
    let seen = seen_streamed(path, &body);
    // What the client got is the text before the SSN, restored; no digit of the SSN.
    let whole = reply_text().replace("[EMAIL_1]", EMAIL);
    let before = &whole[..whole.find(SSN).unwrap()];
    assert!(before.starts_with(&seen.text), "{path} {cuts:?}: {}", seen.text);
    assert!(!body.contains("536-") && !body.contains("4411"), "{path} {cuts:?}");
    assert!(count(&events, BuiltinKind::UsSsn, ReplyAction::Stop) >= 1, "{path} {cuts:?}: {events:?}");
    // The error is the stream's last event.
    let last = body.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last.contains(stopped), "{path} {cuts:?}: {last}");
}

#[test]
fn a_stopped_stream_ends_with_an_error_event_before_any_of_the_value() {
    for path in [CHAT, MESSAGES] {
        stop_case(path, &[]);
    }
}

#[test]
fn the_clients_own_values_pass_a_policy_that_redacts_everything() {
    let cfg = guard("", r#"{"default": "redact"}"#);
    for path in [CHAT, MESSAGES] {
        let seen = seen_buffered(path, &forwarded(buffered(&cfg, path).0));
        assert!(seen.text.contains(&format!("I will write to {EMAIL} ({EMAIL})")), "{path}: {}", seen.text);
        assert!(!seen.text.contains(CARD) && !seen.text.contains(SSN), "{path}: {}", seen.text);
        assert_eq!(seen.tool["reply_to"], EMAIL, "{path}");
        let (body, _) = streamed(&cfg, path, &[]);
        assert_eq!(seen_streamed(path, &body), seen, "{path}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Any chunking of either API's stream gives the buffered result.
    #[test]
    fn any_chunking_of_a_stream_gives_the_buffered_result(
        anthropic in any::<bool>(),
        cuts in prop::collection::vec(0usize..8000, 0..24),
    ) {
        let path = if anthropic { MESSAGES } else { CHAT };
        let cfg = guard("", POLICY);
        let want = seen_buffered(path, &forwarded(buffered(&cfg, path).0));
        let (body, events) = streamed(&cfg, path, &cuts);
        let seen = seen_streamed(path, &body);
        assert_policy_applied(&seen, path);
        prop_assert_eq!(seen, want);
        prop_assert_eq!(count(&events, BuiltinKind::UsSsn, ReplyAction::Mask), 2);
    }

    #[test]
    fn any_chunking_of_a_stopped_stream_sends_none_of_the_value(
        anthropic in any::<bool>(),
        cuts in prop::collection::vec(0usize..8000, 0..24),
    ) {
        stop_case(if anthropic { MESSAGES } else { CHAT }, &cuts);
    }
}

/// The Responses API repeats the whole text in `response.output_text.done` and
/// `response.completed`: the policy acts there too (counted once, by the deltas).
#[test]
fn a_responses_stream_acts_on_deltas_and_on_the_events_that_repeat_the_text() {
    let cfg = guard("", POLICY);
    let path = "/v1/responses";
    let mut ex = after_request(&cfg, path);
    let head = ReplyHead { end_of_stream: false, content_type: Some("text/event-stream"), content_encoding: None };
    let _ = ex.reply_headers(&cfg, head, &mut |_| {});
    let text = reply_text();
    let ids = json!({"item_id": "msg_1", "output_index": 0, "content_index": 0});
    let with = |ty: &str, extra: Value| {
        let mut v = ids.clone();
        v["type"] = json!(ty);
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        sse(Some(ty), &v)
    };
    let mut body = sse(
        Some("response.created"),
        &json!({"type": "response.created", "response": {"id": "resp_1", "output": [], "instructions": null}}),
    );
    for p in pieces(&text) {
        body += &with("response.output_text.delta", json!({"delta": p}));
    }
    body += &with("response.output_text.done", json!({"text": text}));
    body += &sse(
        Some("response.completed"),
        &json!({"type": "response.completed", "response": {"id": "resp_1", "status": "completed",
            "output": [{"type": "message", "id": "msg_1", "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}]}]}}),
    );
    let mut events = Vec::new();
    let StreamStep::Emit(out) = ex.stream_chunk(&cfg, body.as_bytes(), true, &mut |e| {
        if matches!(e, Event::ReplyEntity { .. }) {
            events.push(e);
        }
    }) else {
        panic!("not a stream")
    };
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains("4242") && !out.contains(SSN) && !out.contains(PASSWORD), "{out}");
    let mut deltas = String::new();
    let mut whole = Vec::new();
    for block in out.split("\n\n") {
        let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
        let v: Value = serde_json::from_str(data).unwrap();
        match v["type"].as_str() {
            Some("response.output_text.delta") => deltas += v["delta"].as_str().unwrap(),
            Some("response.output_text.done") => whole.push(v["text"].as_str().unwrap().to_owned()),
            Some("response.completed") => {
                whole.push(v["response"]["output"][0]["content"][0]["text"].as_str().unwrap().to_owned())
            }
            _ => {}
        }
    }
    assert_eq!(whole.len(), 2);
    for w in &whole {
        assert_eq!(w, &deltas);
    }
    assert_policy_applied(
        &Seen {
            text: deltas,
            tool: json!({"customer": {"card": "[REDACTED:CREDIT_CARD]",
        "note": "SSN ***-**-**** on file"}, "reply_to": EMAIL}),
        },
        path,
    );
    assert_eq!(count(&events, BuiltinKind::CreditCard, ReplyAction::Redact), 1, "{events:?}");
}

/// An unknown API's stream is acted on one event at a time.
#[test]
fn a_generic_stream_is_acted_on_event_by_event() {
    let cfg = guard("", POLICY);
    let mut ex = after_request(&cfg, "/internal/llm/generate");
    let head = ReplyHead { end_of_stream: false, content_type: Some("text/event-stream"), content_encoding: None };
    let (_, plan) = ex.reply_headers(&cfg, head, &mut |_| {});
    assert_eq!(plan, ReplyPlan::Stream { encoding: ContentEncoding::Identity });
    let body = format!("data: {}\n\ndata: card {CARD} and [EMAIL_1]\n\n", json!({"text": reply_text()}));
    let StreamStep::Emit(out) = ex.stream_chunk(&cfg, body.as_bytes(), true, &mut |_| {}) else { panic!() };
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains("4242") && out.contains(EMAIL), "{out}");
    assert!(out.contains("data: card [REDACTED:CREDIT_CARD] and jane.doe@example.com\n\n"), "{out}");
}

/// A synthetic fake the exchange issued is its own: a reply policy that redacts every type leaves
/// it to be restored, buffered and streamed, while a value the client never sent is redacted.
#[test]
fn a_synthetic_fake_is_restored_not_acted_on() {
    let cfg =
        Guard::from_json(br#"{"policy": {"strategies": {"EMAIL": "synthetic"}, "reply": {"default": "redact"}}}"#)
            .unwrap();
    let headers = Headers(HashMap::from([(":path", CHAT.to_owned()), ("content-type", "application/json".to_owned())]));
    let body = json!({"model": "m", "messages": [{"role": "user", "content":
        format!("Please write to me at {EMAIL} about the order.")}]})
    .to_string();
    let start = |cfg: &Guard| {
        let mut ex = Exchange::new(cfg);
        ex.request_headers(cfg, &headers, true, &mut |_| {}).unwrap();
        let sessions = Sessions { data: &NoStore, now_secs: None };
        let BodyDecision::Forward(Some(forwarded)) = ex.request_body(cfg, body.as_bytes(), &sessions, &mut |_| {})
        else {
            panic!("the request was not masked")
        };
        let sent: Value = serde_json::from_slice(&forwarded).unwrap();
        let content = sent["messages"][0]["content"].as_str().unwrap().to_owned();
        assert!(!content.contains(EMAIL), "{content}");
        let fake = content.split_whitespace().find(|w| w.contains('@')).unwrap().to_owned();
        (ex, fake)
    };
    let text = |fake: &str| format!("I will write to {fake} today; the card on file is {CARD}.");
    let expected = format!("I will write to {EMAIL} today; the card on file is [REDACTED:CREDIT_CARD].");

    let (mut ex, fake) = start(&cfg);
    let head = ReplyHead { end_of_stream: false, content_type: Some("application/json"), content_encoding: None };
    ex.reply_headers(&cfg, head, &mut |_| {});
    let reply = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0,
        "finish_reason": "stop", "message": {"role": "assistant", "content": text(&fake)}}]});
    let got = forwarded(ex.reply_body(&cfg, reply.to_string().as_bytes(), ContentEncoding::Identity, &mut |_| {}));
    assert_eq!(got["choices"][0]["message"]["content"], expected);

    let (mut ex, fake) = start(&cfg);
    let head = ReplyHead { end_of_stream: false, content_type: Some("text/event-stream"), content_encoding: None };
    ex.reply_headers(&cfg, head, &mut |_| {});
    let mut bytes = String::new();
    for piece in pieces(&text(&fake)) {
        let delta = json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]});
        bytes.push_str(&sse(None, &delta));
    }
    bytes.push_str("data: [DONE]\n\n");
    let mut out = Vec::new();
    let raw = bytes.as_bytes();
    for (i, chunk) in raw.chunks(7).enumerate() {
        let end = (i + 1) * 7 >= raw.len();
        let StreamStep::Emit(piece) = ex.stream_chunk(&cfg, chunk, end, &mut |_| {}) else { panic!("not a stream") };
        out.extend(piece);
    }
    assert_eq!(seen_streamed(CHAT, &String::from_utf8(out).unwrap()).text, expected);
}
