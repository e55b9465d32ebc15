//! Anthropic Messages request shape.

use serde_json::Value;

use super::{every_string, role_source, text_or_parts, TextFn};
use crate::engine::threat::Source;

/// `/v1/messages`: `system` (string or text blocks) and `messages[].content` (string or blocks:
/// text, tool_use input, tool_result content, plain-text documents). Thinking blocks are signed
/// by the provider and are never changed.
pub fn messages(body: &mut Value, f: &mut TextFn<'_>) -> bool {
    let mut changed = text_or_parts(body.get_mut("system"), Source::System, f);
    let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) else {
        return changed;
    };
    for m in messages {
        let source = role_source(m.get("role").and_then(Value::as_str));
        match m.get_mut("content") {
            Some(Value::String(s)) => changed |= f(s, source),
            Some(Value::Array(blocks)) => {
                for block in blocks {
                    changed |= content_block(block, source, f);
                }
            }
            _ => {}
        }
    }
    changed
}

fn content_block(block: &mut Value, source: Source, f: &mut TextFn<'_>) -> bool {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => match block.get_mut("text") {
            Some(Value::String(s)) => f(s, source),
            _ => false,
        },
        "tool_use" => match block.get_mut("input") {
            Some(input) => every_string(input, Source::Assistant, f),
            None => false,
        },
        "tool_result" => text_or_parts(block.get_mut("content"), Source::Tool, f),
        "document" => {
            let is_text = block.get("source").and_then(|s| s.get("type")).and_then(Value::as_str) == Some("text");
            match block.get_mut("source").and_then(|s| s.get_mut("data")) {
                Some(Value::String(s)) if is_text => f(s, Source::Document),
                _ => false,
            }
        }
        _ => false,
    }
}
