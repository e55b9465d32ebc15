//! Engine tests: streaming restore (SSE framing, per-protocol restorers, drift).
//!
//! The central property: for every fixture stream (see `tests/fixtures/sse/README.md` for their
//! provenance), whatever way the bytes are cut into network chunks, the output is the same, and
//! the restored text of each stream position equals the one-shot restore of that position's
//! whole text.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;

use prompt_guard_engine::placeholder::PlaceholderGrammar;
use prompt_guard_engine::restore::{
    max_token_len, restore_text, Escape, RestoreCounts, RestoreSpec, StreamingTextRestorer,
};
use prompt_guard_engine::sse::{Frame, SseFramer, SseRestorer, StreamProtocol, StreamStats};
use prompt_guard_engine::vault::Vault;

pub(crate) fn spec() -> RestoreSpec {
    RestoreSpec {
        grammar: PlaceholderGrammar::default(),
        known_labels: ["EMAIL", "PHONE", "SECRET", "IBAN"].map(String::from).to_vec(),
    }
}

pub(crate) fn vault() -> Vault {
    let g = PlaceholderGrammar::default();
    let mut v = Vault::with_capacity(16);
    v.placeholder_for(&g, "EMAIL", "ann@example.com").unwrap();
    v.placeholder_for(&g, "EMAIL", "bob@example.org").unwrap();
    v.placeholder_for(&g, "PHONE", "+49 151 1234567").unwrap();
    v.placeholder_for(&g, "SECRET", "p\"w\\d").unwrap();
    v
}

struct Fixture {
    file: &'static str,
    protocol: StreamProtocol,
    /// Restored text of selected positions, written out by hand from the fixture's deltas.
    expect: &'static [(&'static str, &'static str)],
    restored: u64,
    misses: u64,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "openai_chat_split_placeholders.sse",
        protocol: StreamProtocol::OpenAiChat,
        expect: &[
            (
                "c0.content",
                "Sure! Write to ann@example.com or bob@example.org. Call +49 151 1234567ann@example.com today. \
                 See [the docs](https://example.com/docs) and [EMAIL is missing. Unknown [EMAIL_9] stays; \
                 [TODO_1] too. Ends with [",
            ),
            ("c1.content", "Reach me at bob@example.org."),
        ],
        restored: 5,
        misses: 1,
    },
    Fixture {
        file: "openai_chat_tools_drift_crlf.sse",
        protocol: StreamProtocol::OpenAiChat,
        expect: &[
            ("c0.reasoning_content", "The user ann@example.com wants a reply."),
            ("c0.content", "I'll email ann@example.com and bob@example.org now."),
            ("c0.tool0", r#"{"to":"ann@example.com","pw":"p\"w\\d"}"#),
        ],
        restored: 5,
        misses: 0,
    },
    Fixture {
        file: "openai_completions_cr.sse",
        protocol: StreamProtocol::OpenAiCompletions,
        expect: &[("c0.text", "Dear +49 151 1234567, your mail ann@example.com is set.")],
        restored: 2,
        misses: 0,
    },
    Fixture {
        file: "anthropic_messages.sse",
        protocol: StreamProtocol::AnthropicMessages,
        expect: &[
            (
                "b0.text",
                "Hello! I'll contact ann@example.com and bob@example.org. Also ann@example.com and \
                 ann@example.com. A link [x](y). Last [",
            ),
            ("b1.partial_json", r#"{"email": "bob@example.org", "pw": "p\"w\\d"}"#),
        ],
        restored: 6,
        misses: 0,
    },
    Fixture {
        file: "openai_responses.sse",
        protocol: StreamProtocol::OpenAiResponses,
        expect: &[
            (
                "o0.0.output_text",
                "Your account [IBAN_1] is linked to ann@example.com. Adjacent: ann@example.combob@example.org. Trailing [EMA",
            ),
            (
                "o0.0.output_text.done",
                "Your account [IBAN_1] is linked to ann@example.com. Adjacent: ann@example.combob@example.org. Trailing [EMA",
            ),
            ("o1.0.function_call_arguments", r#"{"email":"bob@example.org","pw":"p\"w\\d"}"#),
        ],
        restored: 5,
        misses: 1,
    },
    Fixture {
        file: "anthropic_no_placeholders.sse",
        protocol: StreamProtocol::AnthropicMessages,
        expect: &[("b0.text", "hello there, the weather is nice today. Héllo wörld ✓")],
        restored: 0,
        misses: 0,
    },
];

fn load(file: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/sse/{file}", concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Run a restorer over `parts` (one push each) and return the output and stats.
fn run(protocol: StreamProtocol, parts: &[&[u8]]) -> (Vec<u8>, StreamStats) {
    let (v, s) = (vault(), spec());
    let mut r = SseRestorer::new(protocol);
    let mut out = Vec::new();
    for p in parts {
        r.push(p, &v, &s, &mut out);
    }
    r.finish(&v, &s, &mut out);
    (out, r.stats())
}

/// Cut `input` at `cuts` (sorted, within bounds) and run.
fn run_cut(protocol: StreamProtocol, input: &[u8], cuts: &[usize]) -> (Vec<u8>, StreamStats) {
    let mut parts = Vec::new();
    let mut from = 0;
    for &c in cuts {
        parts.push(&input[from..c]);
        from = c;
    }
    parts.push(&input[from..]);
    run(protocol, &parts)
}

/// Every complete event in `bytes`: (event type, data).
fn events(bytes: &[u8]) -> Vec<(Option<String>, String)> {
    let mut framer = SseFramer::default();
    let mut found = Vec::new();
    let mut on = |f: Frame<'_>| {
        if let Frame::Event(block) = f {
            let mut data = Vec::new();
            if block.data_into(&mut data) {
                let ty = block.event_type().map(|t| String::from_utf8(t.to_vec()).unwrap());
                found.push((ty, String::from_utf8(data).unwrap()));
            }
        }
    };
    framer.push(bytes, &mut on);
    framer.finish(&mut on);
    found
}

/// The text of each stream position, concatenated over the events (what a client would show).
fn texts(protocol: StreamProtocol, bytes: &[u8]) -> BTreeMap<String, String> {
    let mut t: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |k: String, s: &Value| {
        if let Some(s) = s.as_str() {
            t.entry(k).or_default().push_str(s);
        }
    };
    for (_, data) in events(bytes) {
        let Ok(v) = serde_json::from_str::<Value>(&data) else {
            continue;
        };
        match protocol {
            StreamProtocol::OpenAiChat | StreamProtocol::OpenAiCompletions => {
                for c in v["choices"].as_array().into_iter().flatten() {
                    let i = &c["index"];
                    add(format!("c{i}.text"), &c["text"]);
                    for f in ["content", "reasoning_content"] {
                        add(format!("c{i}.{f}"), &c["delta"][f]);
                    }
                    for tc in c["delta"]["tool_calls"].as_array().into_iter().flatten() {
                        add(format!("c{i}.tool{}", tc["index"]), &tc["function"]["arguments"]);
                    }
                }
            }
            StreamProtocol::AnthropicMessages => {
                if v["type"] == "content_block_delta" {
                    let i = &v["index"];
                    for f in ["text", "partial_json", "thinking"] {
                        add(format!("b{i}.{f}"), &v["delta"][f]);
                    }
                }
            }
            StreamProtocol::OpenAiResponses => {
                let ty = v["type"].as_str().unwrap_or("").to_owned();
                let pos = format!("o{}.{}", v["output_index"], v["content_index"].as_u64().unwrap_or(0));
                if let Some(part) = ty.strip_prefix("response.").and_then(|r| r.strip_suffix(".delta")) {
                    add(format!("{pos}.{part}"), &v["delta"]);
                }
                if ty == "response.output_text.done" {
                    add(format!("{pos}.output_text.done"), &v["text"]);
                }
                if ty == "response.function_call_arguments.done" {
                    add(format!("{pos}.function_call_arguments.done"), &v["arguments"]);
                }
            }
            StreamProtocol::Generic => {}
        }
    }
    t
}

fn escape_of(position: &str) -> Escape {
    if ["tool", "partial_json", "function_call_arguments"].iter().any(|k| position.contains(k)) {
        Escape::JsonString
    } else {
        Escape::None
    }
}

/// The reference: each position's whole input text restored one-shot.
fn one_shot_texts(protocol: StreamProtocol, input: &[u8]) -> BTreeMap<String, String> {
    let (v, s) = (vault(), spec());
    texts(protocol, input)
        .into_iter()
        .map(|(k, raw)| {
            let restored = restore_text(&raw, &v, &s, escape_of(&k), &mut RestoreCounts::default()).into_owned();
            (k, restored)
        })
        .collect()
}

#[test]
fn whole_stream_restores_like_one_shot() {
    for f in FIXTURES {
        let input = load(f.file);
        let (out, stats) = run(f.protocol, &[&input]);
        let want = one_shot_texts(f.protocol, &input);
        assert_eq!(texts(f.protocol, &out), want, "{}", f.file);
        for (pos, text) in f.expect {
            assert_eq!(want.get(*pos).map(String::as_str), Some(*text), "{} {pos}", f.file);
        }
        assert_eq!((stats.restored, stats.misses), (f.restored, f.misses), "{}", f.file);
        assert!(!stats.truncated && !stats.not_sse, "{}: {stats:?}", f.file);
        // Events without text to restore (usage, ping, [DONE], message_delta, comments) pass byte for byte.
        for marker in ["[DONE]", "\"usage\":{\"output_tokens\"", "\"type\":\"ping\"", "keep-alive"] {
            let needle = marker.as_bytes();
            let count_in = input.windows(needle.len()).filter(|w| *w == needle).count();
            let count_out = out.windows(needle.len()).filter(|w| *w == needle).count();
            assert_eq!(count_in, count_out, "{} {marker}", f.file);
        }
    }
}

#[test]
fn stream_without_placeholders_is_byte_identical() {
    let input = load("anthropic_no_placeholders.sse");
    let (out, stats) = run(StreamProtocol::AnthropicMessages, &[&input]);
    assert_eq!(out, input);
    assert_eq!(stats.synthetic_events, 0);
}

#[test]
fn every_single_cut_gives_the_same_output() {
    for f in FIXTURES {
        let input = load(f.file);
        let whole = run(f.protocol, &[&input]);
        for cut in 0..=input.len() {
            let got = run_cut(f.protocol, &input, &[cut]);
            assert!(got == whole, "{} cut at {cut}", f.file);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_multi_cuts_give_the_same_output(which in 0..FIXTURES.len(), raw_cuts in prop::collection::vec(any::<prop::sample::Index>(), 1..24)) {
        let f = &FIXTURES[which];
        let input = load(f.file);
        let mut cuts: Vec<usize> = raw_cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        let whole = run(f.protocol, &[&input]);
        let got = run_cut(f.protocol, &input, &cuts);
        prop_assert!(got == whole, "{} cuts {:?}", f.file, cuts);
    }

    #[test]
    fn streaming_text_matches_one_shot(
        pieces in prop::collection::vec(prop::sample::select(vec![
            "[EMAIL_1]", "[email_2]", "\\[EMAIL\\_1\\]", "\\\\[EMAIL\\\\_2\\\\]", "EMAIL_1]", "[EMAIL_2", "[PHONE_1]",
            "[SECRET_1]", "[IBAN_1]", "[", "]", "EMAIL", "email", "_", "1", "2", "\\", " ", "a", "é", "(", ")", "\n",
        ]), 0..40),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        json_text in any::<bool>(),
    ) {
        let text: String = pieces.concat();
        let escape = if json_text { Escape::JsonString } else { Escape::None };
        let (v, s) = (vault(), spec());
        let mut want_counts = RestoreCounts::default();
        let want = restore_text(&text, &v, &s, escape, &mut want_counts).into_owned();
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(text.len() + 1)).filter(|&c| text.is_char_boundary(c)).collect();
        at.sort_unstable();
        let mut r = StreamingTextRestorer::new(escape);
        let (mut out, mut counts) = (String::new(), RestoreCounts::default());
        let mut from = 0;
        for c in at.into_iter().chain([text.len()]) {
            r.push(&text[from..c], &v, &s, &mut counts, &mut out);
            prop_assert!(r.held().len() <= max_token_len(&s.grammar));
            from = c;
        }
        r.finish(&v, &s, &mut counts, &mut out);
        prop_assert_eq!(out, want);
        prop_assert_eq!(counts, want_counts);
    }
}

fn anthropic_delta(text: &str) -> String {
    let v =
        serde_json::json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}});
    format!("event: content_block_delta\ndata: {v}\n\n")
}

#[test]
fn text_that_cannot_start_a_placeholder_is_forwarded_in_the_same_push() {
    let (v, s) = (vault(), spec());
    let mut r = SseRestorer::new(StreamProtocol::AnthropicMessages);
    let mut out = Vec::new();
    r.push(anthropic_delta("hello there, [EMA").as_bytes(), &v, &s, &mut out);
    let first = String::from_utf8(std::mem::take(&mut out)).unwrap();
    assert!(first.contains("\"text\":\"hello there, \""), "{first}");
    assert!(!first.contains("[EMA"));
    r.push(anthropic_delta("IL_1] bye").as_bytes(), &v, &s, &mut out);
    let second = String::from_utf8(std::mem::take(&mut out)).unwrap();
    assert!(second.contains("\"text\":\"ann@example.com bye\""), "{second}");

    // Byte by byte: the event goes out with the push of the byte that completes it.
    let event = anthropic_delta("plain words, nothing held. ");
    let bytes = event.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        r.push(std::slice::from_ref(b), &v, &s, &mut out);
        if i + 1 < bytes.len() {
            assert!(out.is_empty(), "byte {i}");
        }
    }
    assert_eq!(out, bytes, "unchanged event forwarded byte for byte");
}

#[test]
fn end_of_stream_mid_event_is_forwarded_raw_and_counted() {
    let input = load("openai_chat_split_placeholders.sse");
    let cut = input.len() - 40;
    let (out, stats) = run(StreamProtocol::OpenAiChat, &[&input[..cut]]);
    assert!(stats.truncated);
    assert!(out.ends_with(&input[cut - 20..cut]), "the unfinished event's bytes are forwarded as they are");
}

#[test]
fn end_of_stream_mid_placeholder_releases_held_text() {
    let chunk = |c: &str| {
        format!("data: {}\n\n", serde_json::json!({"id": "x", "choices": [{"index": 0, "delta": {"content": c}}]}))
    };
    let input = chunk("write to ann at [EMAIL_");
    let (out, stats) = run(StreamProtocol::OpenAiChat, &[input.as_bytes()]);
    let t = texts(StreamProtocol::OpenAiChat, &out);
    assert_eq!(t["c0.content"], "write to ann at [EMAIL_");
    assert!(stats.truncated);
    assert_eq!(stats.synthetic_events, 1);
}

#[test]
fn json_error_declared_as_sse_passes_through() {
    for body in [
        &b"{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}"[..],
        &b"upstream connect error or disconnect/reset before headers"[..],
    ] {
        let (out, stats) = run(StreamProtocol::OpenAiChat, &[&body[..5], &body[5..]]);
        assert_eq!(out, body);
        assert!(stats.not_sse, "{stats:?}");
        assert_eq!(stats.events, 0);
    }
}

#[test]
fn oversized_event_passes_through_and_is_counted() {
    let (v, s) = (vault(), spec());
    let big = format!("data: {}\n\ndata: {{\"x\":\"[EMAIL_1]\"}}\n\n", "y".repeat(300));
    let mut r = SseRestorer::new(StreamProtocol::Generic).with_max_event(128);
    let mut out = Vec::new();
    for c in big.as_bytes().chunks(50) {
        r.push(c, &v, &s, &mut out);
    }
    r.finish(&v, &s, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(out.starts_with(&format!("data: {}\n\n", "y".repeat(300))));
    assert!(out.ends_with("data: {\"x\":\"ann@example.com\"}\n\n"), "{out}");
    assert_eq!(r.stats().oversized, 1);
}

#[test]
fn generic_mode_restores_json_strings_and_raw_text() {
    let input = "id: 1\ndata: {\"msg\":\"hi [EMAIL_1]\",\"n\":1.50,\"list\":[\"[PHONE_1]\"]}\n\n\
                 data: plain [EMAIL_2] text\ndata: second line\n\n\
                 data: {\"untouched\":true}\n\n";
    let (out, stats) = run(StreamProtocol::Generic, &[input.as_bytes()]);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(
        out,
        "id: 1\ndata: {\"msg\":\"hi ann@example.com\",\"n\":1.50,\"list\":[\"+49 151 1234567\"]}\n\n\
         data: plain bob@example.org text\ndata: second line\n\n\
         data: {\"untouched\":true}\n\n"
    );
    assert_eq!(stats.restored, 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Hostile or malformed streams: whatever the bytes, the restorer never panics and the output
    /// does not depend on how the bytes were cut.
    #[test]
    fn arbitrary_bytes_give_the_same_output_for_any_cut(
        pieces in prop::collection::vec(prop::sample::select(vec![
            &b"data: "[..], b"data:", b"event: content_block_delta", b"\n", b"\r", b"\r\n", b": c",
            b"{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"", b"\"}}]}",
            b"{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"",
            b"\"}}", b"[EMAIL_1]", b"[EMA", b"IL_2]", b"email_1]", b"\xC3\xA9", b"\xC3", b"\xFF", b"[DONE]", b"{", b" ",
        ]), 0..48),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        which in 0..5usize,
    ) {
        let protocol = [
            StreamProtocol::OpenAiChat,
            StreamProtocol::OpenAiResponses,
            StreamProtocol::OpenAiCompletions,
            StreamProtocol::AnthropicMessages,
            StreamProtocol::Generic,
        ][which];
        let input: Vec<u8> = pieces.concat();
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        at.sort_unstable();
        let whole = run(protocol, &[&input]);
        let got = run_cut(protocol, &input, &at);
        prop_assert!(got == whole, "cuts {:?}", at);
    }
}

/// Throughput of the whole streaming path (framing, JSON, restore). Run on demand:
/// `cargo test --release --test engine stream_throughput -- --ignored --nocapture`.
#[test]
#[ignore]
fn stream_throughput() {
    let (v, s) = (vault(), spec());
    let input = load("openai_chat_split_placeholders.sse");
    let rounds = 2000;
    let mut total = 0usize;
    let mut events = 0u64;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        let mut r = SseRestorer::new(StreamProtocol::OpenAiChat);
        let mut out = Vec::with_capacity(input.len() + 256);
        for c in input.chunks(64) {
            r.push(c, &v, &s, &mut out);
        }
        r.finish(&v, &s, &mut out);
        total += out.len();
        events += r.stats().events;
    }
    let secs = start.elapsed().as_secs_f64();
    let mb = (input.len() * rounds) as f64 / 1e6;
    println!(
        "{mb:.1} MB in {secs:.3} s = {:.1} MB/s ({} events/s); out {total} bytes",
        mb / secs,
        (events as f64 / secs) as u64
    );
}

#[test]
fn held_text_is_released_where_the_position_ends() {
    // Chat: into the finish chunk's delta.
    let (out, stats) = run(StreamProtocol::OpenAiChat, &[&load("openai_chat_split_placeholders.sse")]);
    let evs = events(&out);
    let finish = evs.iter().find(|(_, d)| d.contains("\"finish_reason\":\"stop\"")).unwrap();
    assert!(finish.1.contains("\"delta\":{\"content\":\"[\"}"), "{}", finish.1);
    assert_eq!(stats.synthetic_events, 0);

    // Anthropic: a synthetic content_block_delta right before content_block_stop of that block.
    let (out, stats) = run(StreamProtocol::AnthropicMessages, &[&load("anthropic_messages.sse")]);
    let evs = events(&out);
    let stop = evs.iter().position(|(t, _)| t.as_deref() == Some("content_block_stop")).unwrap();
    assert_eq!(evs[stop - 1].0.as_deref(), Some("content_block_delta"));
    assert_eq!(evs[stop - 1].1, r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"["}}"#);
    assert_eq!(stats.synthetic_events, 1);

    // Responses: a copy of the part's first delta event, right before output_text.done.
    let (out, stats) = run(StreamProtocol::OpenAiResponses, &[&load("openai_responses.sse")]);
    let evs = events(&out);
    let done = evs.iter().position(|(t, _)| t.as_deref() == Some("response.output_text.done")).unwrap();
    let synthetic: Value = serde_json::from_str(&evs[done - 1].1).unwrap();
    assert_eq!(evs[done - 1].0.as_deref(), Some("response.output_text.delta"));
    assert_eq!(synthetic["delta"], "[EMA");
    assert_eq!(synthetic["item_id"], "msg_67ccd2bf17f0");
    assert_eq!(stats.synthetic_events, 1);
}

#[test]
fn unresolvable_drifted_tokens_stay_visible_and_count_as_misses() {
    let chunk =
        |c: &str| format!("data: {}\n\n", serde_json::json!({"choices": [{"index": 0, "delta": {"content": c}}]}));
    let input =
        [chunk("a [email_"), chunk("7] b EMAIL_8] c \\[PHONE\\_2\\] d [TODO_1]"), "data: [DONE]\n\n".to_owned()]
            .concat();
    let (out, stats) = run(StreamProtocol::OpenAiChat, &[input.as_bytes()]);
    let t = texts(StreamProtocol::OpenAiChat, &out);
    assert_eq!(t["c0.content"], "a [email_7] b EMAIL_8] c \\[PHONE\\_2\\] d [TODO_1]");
    assert_eq!((stats.restored, stats.misses), (0, 3));
}
