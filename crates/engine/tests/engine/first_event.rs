//! Engine tests: the first-event decision (issue 12, item 6). A body declared as an event stream is
//! taken for a JSON document only by the first bytes of its body that are not white space, never
//! by where a network chunk inside the first event starts. Over every cut point of the first event
//! of every fixture stream (`tests/fixtures/sse`, provenance in its README), and over 7-byte
//! chunks, the decision is "event stream" and the restored output equals the one-shot output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prompt_guard_engine::sse::{BodyShape, Frame, SseFramer, SseRestorer, StreamProtocol, StreamStart};

// The placeholder grammar and vault of the stream tests: the same fixtures are restored here.
use super::stream::{spec, vault};

/// Every fixture stream with the protocol its file name says.
fn fixtures() -> Vec<(String, StreamProtocol, Vec<u8>)> {
    let dir = format!("{}/tests/fixtures/sse", concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".sse") {
            continue;
        }
        let protocol = if name.starts_with("anthropic") {
            StreamProtocol::AnthropicMessages
        } else if name.starts_with("openai_responses") {
            StreamProtocol::OpenAiResponses
        } else if name.starts_with("openai_completions") {
            StreamProtocol::OpenAiCompletions
        } else if name.starts_with("openai_chat") {
            StreamProtocol::OpenAiChat
        } else {
            StreamProtocol::Generic
        };
        found.push((name, protocol, std::fs::read(&path).unwrap()));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(found.len() >= 6, "fixture streams missing in {dir}");
    found
}

/// Where the first event ends (the offset just past its blank line).
fn first_event_end(input: &[u8]) -> usize {
    let mut framer = SseFramer::default();
    let mut offset = 0;
    let mut end = None;
    framer.push(input, |frame| match frame {
        Frame::Raw(b) => offset += b.len(),
        Frame::Event(block) => {
            offset += block.raw().len();
            end.get_or_insert(offset);
        }
    });
    end.expect("a fixture stream has an event")
}

/// What the glue does with a declared event stream cut into `parts`: the shape decided by the
/// first chunk that carries something other than white space, then the restored output.
fn run(protocol: StreamProtocol, parts: &[&[u8]]) -> (Option<BodyShape>, Vec<u8>) {
    let (v, s) = (vault(), spec());
    let mut start = StreamStart::default();
    let mut shape = None;
    let mut restorer = SseRestorer::new(protocol);
    let mut out = Vec::new();
    for part in parts {
        if let Some(decided) = start.observe(part) {
            assert!(shape.is_none(), "decided twice");
            shape = Some(decided);
        }
        restorer.push(part, &v, &s, &mut out);
    }
    restorer.finish(&v, &s, &mut out);
    (shape, out)
}

#[test]
fn every_cut_of_the_first_event_is_an_event_stream_restored_like_one_shot() {
    for (name, protocol, input) in fixtures() {
        let (shape, one_shot) = run(protocol, &[&input]);
        assert_eq!(shape, Some(BodyShape::EventStream), "{name}");
        let end = first_event_end(&input);
        for cut in 0..=end {
            let (shape, out) = run(protocol, &[&input[..cut], &input[cut..]]);
            assert_eq!(shape, Some(BodyShape::EventStream), "{name}: cut at {cut}");
            assert_eq!(out, one_shot, "{name}: cut at {cut}");
        }
        // Two cuts inside the first event, the second at every point after the first.
        for first in (0..end).step_by(17) {
            for second in (first..=end).step_by(3) {
                let parts = [&input[..first], &input[first..second], &input[second..]];
                let (shape, out) = run(protocol, &parts);
                assert_eq!(shape, Some(BodyShape::EventStream), "{name}: cuts at {first}, {second}");
                assert_eq!(out, one_shot, "{name}: cuts at {first}, {second}");
            }
        }
        // The case: 7-byte chunks, and keep-alives before the first event.
        let parts: Vec<&[u8]> = input.chunks(7).collect();
        let (shape, out) = run(protocol, &parts);
        assert_eq!(shape, Some(BodyShape::EventStream), "{name}: 7-byte chunks");
        assert_eq!(out, one_shot, "{name}: 7-byte chunks");
        let with_beats = [&b"\n\n: ping\n\n"[..], &input].concat();
        let (shape, out) = run(protocol, &[&with_beats[..3], &with_beats[3..12], &with_beats[12..]]);
        assert_eq!(shape, Some(BodyShape::EventStream), "{name}: keep-alives first");
        assert_eq!(out, [&b"\n\n: ping\n\n"[..], &one_shot].concat(), "{name}: keep-alives first");
    }
}

#[test]
fn a_json_document_is_told_by_its_first_bytes_only() {
    let body = b"  \n{\"error\":{\"message\":\"bad\"}}";
    for cut in 0..=body.len() {
        let mut start = StreamStart::default();
        let shapes: Vec<_> = [&body[..cut], &body[cut..]].iter().filter_map(|p| start.observe(p)).collect();
        assert_eq!(shapes, vec![BodyShape::JsonDocument], "cut at {cut}");
    }
    let mut start = StreamStart::default();
    assert_eq!(start.observe(b"\r\n"), None);
    assert!(!start.is_decided());
    assert_eq!(start.observe(b"data: {}"), Some(BodyShape::EventStream));
    assert_eq!(start.observe(b"{\"a\":1}"), None);
}
