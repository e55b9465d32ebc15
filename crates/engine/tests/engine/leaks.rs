//! Nothing leaks: the cases of issue 11 at the engine's level (the end-to-end suite repeats them
//! through Envoy). Request shapes follow the providers' public API references; values are
//! documentation values (RFC 2606 domains, Stripe test cards, an SSN from an invalid-area range)
//! or were written for this project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_reply, guard_request, guard_request_as, BodyKind, Rejection};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::sse::{SseRestorer, StreamProtocol};
use prompt_guard_engine::vault::Vault;
use serde_json::{json, Value};

const PASSWORD: &str = "Hunter2xQ9z!";

fn cfg(json: &str) -> FilterConfig {
    FilterConfig::from_json(json.as_bytes()).unwrap()
}

/// The body the upstream receives, as text, and the vault.
fn forward(cfg: &FilterConfig, path: &str, body: &Value) -> (String, Vault) {
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let bytes = body.to_string();
    let out = guard_request(cfg, cfg.classify(path), bytes.as_bytes(), true, &mut vault, MemoScope::NONE)
        .unwrap_or_else(|r| panic!("refused: {r}"));
    (out.body.map(|b| String::from_utf8(b).unwrap()).unwrap_or(bytes), vault)
}

fn assert_absent(upstream: &str, values: &[&str]) {
    for v in values {
        assert!(!upstream.contains(v), "{v} reached the upstream: {upstream}");
        let escaped = serde_json::to_string(v).unwrap();
        assert!(!upstream.contains(escaped.trim_matches('"')), "{v} (escaped) reached the upstream");
    }
}

#[test]
fn turn_two_resends_the_restored_reply_without_its_context() {
    let cfg = cfg("{}");
    let turn1 = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": format!("password={PASSWORD} please log in")}]});
    let (up1, vault) = forward(&cfg, "/v1/chat/completions", &turn1);
    assert_absent(&up1, &[PASSWORD]);
    // The model answers with the placeholder; the client sees the original.
    let reply =
        json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "I'll log in with [SECRET_1]"}}]});
    let restored = guard_reply(&cfg, reply.to_string().as_bytes(), &vault).body.unwrap();
    let restored: Value = serde_json::from_slice(&restored).unwrap();
    let said = restored["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    assert!(said.contains(PASSWORD));
    let mut turn2 = turn1.clone();
    let messages = turn2["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": said}));
    messages.push(json!({"role": "user", "content": "thanks"}));
    let (up2, _) = forward(&cfg, "/v1/chat/completions", &turn2);
    assert_absent(&up2, &[PASSWORD]);
    assert!(up2.contains("I'll log in with [SECRET_1]"), "same value, same placeholder: {up2}");
}

#[test]
fn a_value_masked_once_is_masked_wherever_it_recurs_in_the_request() {
    let cfg = cfg("{}");
    let body = json!({"messages": [
        {"role": "system", "content": "The SSN on file is 536-90-4411 and the login password: Sw0rdfish-77"},
        {"role": "user", "content": format!("password={PASSWORD} — I repeat, it is {PASSWORD}")},
        {"role": "user", "content": "Is 536-90-4411 right? Use Sw0rdfish-77 for the portal."},
        {"role": "assistant", "content": format!("Noted: {PASSWORD}")}
    ]});
    let (up, _) = forward(&cfg, "/v1/chat/completions", &body);
    assert_absent(&up, &[PASSWORD, "536-90-4411", "Sw0rdfish-77"]);
}

#[test]
fn fields_no_adapter_listed_are_masked() {
    let cfg = cfg("{}");
    let email = "jane.roe@example.com";
    let cases = [
        ("/v1/chat/completions", json!({"model": "m", "messages": [{"role": "user", "name": email, "content": "hi"}]})),
        (
            "/v1/chat/completions",
            json!({"model": "m", "messages": [], "user": email, "metadata": {"owner": email}, "safety_identifier": email}),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "m", "messages": [], "tools": [{"type": "function", "function": {"name": "f", "description": format!("mail {email}"), "parameters": {"type": "object", "properties": {"to": {"type": "string", "enum": [email]}}}}}]}),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "m", "messages": [], "prediction": {"type": "content", "content": format!("const OWNER = '{email}';")}}),
        ),
        ("/v1/completions", json!({"model": "m", "prompt": "x", "suffix": format!("-- {email}")})),
        (
            "/v1/messages",
            json!({"model": "m", "max_tokens": 5, "metadata": {"user_id": email}, "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": email}]}, "title": email, "context": email},
            {"type": "search_result", "source": "https://example.com", "title": "t", "content": [{"type": "text", "text": email}]}]}]}),
        ),
        (
            "/v1/responses",
            json!({"model": "m", "instructions": [{"role": "developer", "content": email}], "input": [
            {"type": "custom_tool_call", "call_id": "c1", "name": "n", "input": email},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": email}]},
            {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": email}}],
            "prompt": {"id": "pmpt_1", "variables": {"customer": email}}}),
        ),
    ];
    for (path, body) in cases {
        let (up, _) = forward(&cfg, path, &body);
        assert_absent(&up, &[email]);
    }
}

#[test]
fn ids_signatures_and_media_pass_byte_for_byte() {
    let cfg = cfg("{}");
    let img = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let body = json!({"model": "claude-x", "max_tokens": 5, "messages": [
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "mail jane.roe@example.com", "signature": "EqQBCkYIARgCIkBd"},
                                           {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "f", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "ok"},
                                      {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": img}}]}]});
    let mut vault = Vault::with_capacity(10);
    let out =
        guard_request(&cfg, Api::AnthropicMessages, body.to_string().as_bytes(), true, &mut vault, MemoScope::NONE)
            .unwrap();
    assert!(out.body.is_none(), "nothing to mask outside the signed block: the body goes on as it came");
}

#[test]
fn every_endpoint_and_spelling_is_guarded() {
    let cfg = cfg("{}");
    let card = "4242 4242 4242 4242";
    let chat = json!({"model": "m", "messages": [{"role": "user", "content": format!("card {card}")}]});
    let cases = [
        (
            "/v1/messages/batches",
            json!({"requests": [{"custom_id": "a", "params": {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": format!("card {card}")}]}}]}),
        ),
        (
            "/v1/conversations",
            json!({"items": [{"type": "message", "role": "user", "content": format!("card {card}")}]}),
        ),
        (
            "/v1/conversations/conv_1/items",
            json!({"items": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": format!("card {card}")}]}]}),
        ),
        ("/v1/responses/input_tokens", json!({"model": "m", "input": format!("card {card}")})),
        ("/v1/moderations", json!({"input": format!("card {card}")})),
        ("/v1/threads/thread_1/messages", json!({"role": "user", "content": format!("card {card}")})),
        (
            "/v1/batches",
            json!({"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"note": format!("card {card}")}}),
        ),
        ("/V1/CHAT/COMPLETIONS", chat.clone()),
        ("/v1/chat%2Fcompletions", chat.clone()),
        ("/v1/chat/completions;x=1", chat.clone()),
        ("/v1/chat/completions%2F", chat.clone()),
        ("/some/new/endpoint", chat.clone()),
    ];
    for (path, body) in cases {
        assert_ne!(cfg.classify(path), Api::PassThrough, "{path}");
        let (up, _) = forward(&cfg, path, &body);
        assert_absent(&up, &[card]);
    }
    assert_eq!(cfg.classify("/v1/threads/thread_1/messages").error_shape(), Api::OpenAiChat.error_shape());
    let listed = FilterConfig::from_json(br#"{"routes": [{"prefix": "/internal", "api": "pass_through"}]}"#).unwrap();
    assert_eq!(listed.classify("/INTERNAL//echo"), Api::PassThrough);
    assert_eq!(listed.classify("/internalx/echo"), Api::Generic);
}

#[test]
fn batch_jsonl_uploaded_as_multipart_is_masked_line_by_line() {
    let cfg = cfg("{}");
    let email = "jane.roe@example.com";
    let line = |n: u32| {
        json!({"custom_id": format!("r{n}"), "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": [{"role": "user", "content": format!("write to {email}")}]}})
        .to_string()
    };
    let file = format!("{}\n{}\n", line(1), line(2));
    let ct = "multipart/form-data; boundary=XyZ";
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n{file}\r\n--XyZ--\r\n"
    );
    let mut vault = Vault::with_capacity(10);
    let out = guard_request_as(
        &cfg,
        cfg.classify("/v1/files"),
        body.as_bytes(),
        BodyKind::Multipart { content_type: ct },
        &mut vault,
        MemoScope::NONE,
    )
    .unwrap();
    let up = String::from_utf8(out.body.unwrap()).unwrap();
    assert_absent(&up, &[email]);
    assert!(up.contains("name=\"purpose\"\r\n\r\nbatch\r\n--XyZ"), "other parts unchanged: {up}");
    let lines: Vec<&str> = up.split("\r\n\r\n").nth(2).unwrap().lines().take(2).collect();
    for l in lines {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["body"]["messages"][0]["content"], "write to [EMAIL_1]");
    }
    // A binary part that is not media cannot be inspected.
    let binary = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n\r\n\xff\xfe\x00\r\n--XyZ--\r\n";
    let refused = guard_request_as(
        &cfg,
        Api::OpenAiFiles,
        binary,
        BodyKind::Multipart { content_type: ct },
        &mut Vault::with_capacity(10),
        MemoScope::NONE,
    );
    assert!(matches!(refused, Err(Rejection::UnsupportedContentType { .. })));
}

#[test]
fn duplicate_keys_are_refused_so_every_reader_reads_one_body() {
    let cfg = cfg("{}");
    let body = r#"{"model":"m","messages":[{"role":"user","content":"card 4242 4242 4242 4242"}],"messages":[{"role":"user","content":"hello"}]}"#;
    let r = guard_request(&cfg, Api::OpenAiChat, body.as_bytes(), true, &mut Vault::with_capacity(10), MemoScope::NONE);
    let err = r.err().unwrap();
    assert_eq!(err, Rejection::DuplicateKey);
    assert_eq!((err.status(), err.reason(), err.fails_open()), (400, "duplicate_key", false));
    // Inside JSON carried in a string (tool arguments), a repeated key makes the string plain text.
    let args = r#"{\"to\":\"jane.roe@example.com\",\"to\":\"x\"}"#;
    let body = format!(
        r#"{{"messages":[{{"role":"assistant","tool_calls":[{{"id":"c","type":"function","function":{{"name":"f","arguments":"{args}"}}}}]}}]}}"#
    );
    let (up, _) = forward(&cfg, "/v1/chat/completions", &serde_json::from_str(&body).unwrap());
    assert_absent(&up, &["jane.roe@example.com"]);
}

#[test]
fn a_body_that_was_read_is_never_forwarded_in_clear_even_failing_open() {
    let cfg = cfg(
        r#"{"fail_open": true, "max_entities_per_request": 2, "threats": {"enabled": false, "max_prompt_chars": 200}}"#,
    );
    let many = json!({"messages": [{"role": "user", "content": "a@example.com b@example.com c@example.com"}]});
    let r = guard_request(
        &cfg,
        Api::OpenAiChat,
        many.to_string().as_bytes(),
        true,
        &mut Vault::with_capacity(2),
        MemoScope::NONE,
    );
    let err = r.err().unwrap();
    assert!(matches!(err, Rejection::TooManyEntities { .. }) && !err.fails_open());
    let long = json!({"messages": [{"role": "user", "content": "x".repeat(300)}]});
    let err = guard_request(
        &cfg,
        Api::OpenAiChat,
        long.to_string().as_bytes(),
        true,
        &mut Vault::with_capacity(2),
        MemoScope::NONE,
    )
    .err()
    .unwrap();
    assert!(matches!(err, Rejection::PromptTooLong { .. }) && !err.fails_open());
    // Hygiene runs with threat scanning off: control characters are stripped.
    let ctl = json!({"messages": [{"role": "user", "content": "hi\u{1b}[31m there"}]});
    let (up, _) = forward(&cfg, "/v1/chat/completions", &ctl);
    assert!(!up.contains("\\u001b"), "{up}");
    assert!(Rejection::MalformedJson { line: 1, column: 1 }.fails_open());
}

#[test]
fn thinking_is_never_restored_buffered_or_streamed() {
    let cfg = cfg("{}");
    let body =
        json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "mail jane.roe@example.com"}]});
    let (up, vault) = forward(&cfg, "/v1/messages", &body);
    assert!(up.contains("[EMAIL_1]"));
    let reply = json!({"content": [{"type": "thinking", "thinking": "they want [EMAIL_1]", "signature": "sig"}, {"type": "text", "text": "Sent to [EMAIL_1]"}]});
    let out: Value =
        serde_json::from_slice(&guard_reply(&cfg, reply.to_string().as_bytes(), &vault).body.unwrap()).unwrap();
    assert_eq!(out["content"][0]["thinking"], "they want [EMAIL_1]");
    assert_eq!(out["content"][1]["text"], "Sent to jane.roe@example.com");
    let stream = concat!(
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"they want [EMAIL_1]\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Sent to [EMAIL_1]\"}}\n\n",
    );
    let mut restorer = SseRestorer::new(StreamProtocol::AnthropicMessages);
    let mut out = Vec::new();
    let spec = &cfg.restore;
    restorer.push(stream.as_bytes(), &vault, spec, &mut out);
    restorer.finish(&vault, spec, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("\"thinking\":\"they want [EMAIL_1]\""), "{out}");
    assert!(out.contains("Sent to jane.roe@example.com"), "{out}");
}

#[test]
fn a_generic_body_that_is_not_json_after_all_is_masked_as_text() {
    let cfg = cfg("{}");
    let body = b"note: card 4242 4242 4242 4242 {unbalanced";
    let mut vault = Vault::with_capacity(10);
    let out = guard_request(&cfg, cfg.classify("/tools/notes"), body, true, &mut vault, MemoScope::NONE).unwrap();
    assert_eq!(out.body.unwrap(), b"note: card [CREDIT_CARD_1] {unbalanced");
    let refused = guard_request(&cfg, Api::OpenAiChat, body, true, &mut Vault::with_capacity(10), MemoScope::NONE);
    assert!(matches!(refused, Err(Rejection::MalformedJson { .. })));
}

#[test]
fn form_bodies_are_read_decoded() {
    let cfg = cfg("{}");
    let body = b"to=jane.roe%40example.com&note=card+4242+4242+4242+4242&n=1";
    let mut vault = Vault::with_capacity(10);
    let out = guard_request_as(
        &cfg,
        Api::Generic,
        body,
        BodyKind::from_content_type(Some("application/x-www-form-urlencoded")),
        &mut vault,
        MemoScope::NONE,
    )
    .unwrap();
    assert_eq!(out.body.unwrap(), b"to=%5BEMAIL_1%5D&note=card+%5BCREDIT_CARD_1%5D&n=1");
}

#[test]
fn originals_restored_into_a_json_reply_keep_it_parseable() {
    let cfg = cfg("{}");
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "password=Tr0ub4dor\\3x\"kcd and mail jane.roe@example.com"}]});
    let (_, vault) = forward(&cfg, "/v1/chat/completions", &body);
    let secret = vault.entries().iter().find(|e| e.label == "SECRET").map(|e| e.original.clone()).unwrap();
    assert!(secret.contains('\\') || secret.contains('"'), "the value needs escaping: {secret}");
    let content = format!(
        r#"{{"login": "{}", "mail": "[EMAIL_1]"}}"#,
        vault.entries().iter().find(|e| e.label == "SECRET").unwrap().placeholder
    );
    let reply = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]});
    let out: Value =
        serde_json::from_slice(&guard_reply(&cfg, reply.to_string().as_bytes(), &vault).body.unwrap()).unwrap();
    let inner: Value = serde_json::from_str(out["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(inner["mail"], "jane.roe@example.com");
    assert_eq!(inner["login"], secret.as_str());
}

#[test]
fn the_canary_echoed_in_responses_instructions_is_not_a_leak() {
    let cfg = cfg(r#"{"threats": {"canary": "PG-CANARY-7f3a9c"}}"#);
    let body = json!({"model": "m", "instructions": "Be brief. Mail ops at jane.roe@example.com", "input": "hi"});
    let (up, vault) = forward(&cfg, "/v1/responses", &body);
    let sent: Value = serde_json::from_str(&up).unwrap();
    let instructions = sent["instructions"].as_str().unwrap().to_owned();
    assert!(instructions.contains("PG-CANARY-7f3a9c") && instructions.contains("[EMAIL_1]"));
    // The Responses API echoes the request's instructions in its reply.
    let reply = json!({"object": "response", "instructions": instructions, "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello"}]}]});
    let out = guard_reply(&cfg, reply.to_string().as_bytes(), &vault);
    assert_eq!(out.findings.canary_leaks, 0);
    let back: Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
    assert!(back["instructions"].as_str().unwrap().contains("jane.roe@example.com"), "the echo is restored");
    // The model repeating the marker in its output still counts.
    let leaked = json!({"object": "response", "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "my marker is PG-CANARY-7f3a9c"}]}]});
    assert_eq!(guard_reply(&cfg, leaked.to_string().as_bytes(), &vault).findings.canary_leaks, 1);
}

#[test]
fn user_text_that_reads_as_a_placeholder_is_never_given_a_value() {
    let cfg = cfg("{}");
    let user =
        "Template var [email_1], {{ [Email_1] }} and PHONE_1] stay; mail jane.roe@example.com, call +1 415 555 0134";
    let body = json!({"model": "m", "messages": [{"role": "user", "content": user}]});
    let (up, vault) = forward(&cfg, "/v1/chat/completions", &body);
    assert_absent(&up, &["jane.roe@example.com", "415 555 0134"]);
    assert!(vault.lookup("[EMAIL_1]").is_none() && vault.lookup("[PHONE_1]").is_none(), "{up}");
    // The model quotes the user's template text back: it must come back as the user wrote it.
    let reply = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "Keep [email_1], {{ [Email_1] }} and PHONE_1] as they are."}}]});
    let out = guard_reply(&cfg, reply.to_string().as_bytes(), &vault);
    assert!(out.body.is_none(), "nothing to restore in the user's own text");
}

#[test]
fn masked_metadata_keys_come_back_restored_in_an_echo() {
    let cfg = cfg("{}");
    let body = json!({"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"jane.roe@example.com": "owner"}});
    let (up, vault) = forward(&cfg, "/v1/batches", &body);
    assert_absent(&up, &["jane.roe@example.com"]);
    let sent: Value = serde_json::from_str(&up).unwrap();
    let reply = json!({"id": "batch_1", "object": "batch", "metadata": sent["metadata"].clone()});
    let out: Value =
        serde_json::from_slice(&guard_reply(&cfg, reply.to_string().as_bytes(), &vault).body.unwrap()).unwrap();
    assert_eq!(out["metadata"], json!({"jane.roe@example.com": "owner"}));
}
