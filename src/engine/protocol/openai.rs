//! OpenAI request shapes: chat completions, completions, embeddings, responses.

use serde_json::Value;

use super::{json_document, role_source, text_or_parts, TextFn};
use crate::engine::threat::Source;

/// `/v1/chat/completions`: `messages[].content` (string or parts), assistant tool call and
/// legacy function call arguments, tool messages.
pub fn chat(body: &mut Value, f: &mut TextFn<'_>) -> bool {
    let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) else {
        return false;
    };
    let mut changed = false;
    for m in messages {
        let source = role_source(m.get("role").and_then(Value::as_str));
        changed |= text_or_parts(m.get_mut("content"), source, f);
        if let Some(calls) = m.get_mut("tool_calls").and_then(Value::as_array_mut) {
            for call in calls {
                if let Some(args) = call.get_mut("function").and_then(|c| c.get_mut("arguments")) {
                    changed |= json_document(args, source, f);
                }
            }
        }
        // Field by field: a JSON pointer allocates to unescape each of its segments.
        if let Some(args) = m.get_mut("function_call").and_then(|c| c.get_mut("arguments")) {
            changed |= json_document(args, source, f);
        }
    }
    changed
}

/// `/v1/completions` `prompt` and `/v1/embeddings` `input`: a string or an array of strings
/// (token arrays are numbers and left alone).
pub fn prompt_field(body: &mut Value, field: &str, f: &mut TextFn<'_>) -> bool {
    match body.get_mut(field) {
        Some(Value::String(s)) => f(s, Source::User),
        Some(Value::Array(items)) => items.iter_mut().fold(false, |c, i| {
            let changed = match i {
                Value::String(s) => f(s, Source::User),
                _ => false,
            };
            changed | c
        }),
        _ => false,
    }
}

/// `/v1/responses`: `instructions`, and `input` as a string or a list of items (messages with
/// string or part content, function calls and their outputs).
pub fn responses(body: &mut Value, f: &mut TextFn<'_>) -> bool {
    let mut changed = false;
    if let Some(Value::String(s)) = body.get_mut("instructions") {
        changed |= f(s, Source::System);
    }
    match body.get_mut("input") {
        Some(Value::String(s)) => changed |= f(s, Source::User),
        Some(Value::Array(items)) => {
            for item in items {
                changed |= response_item(item, f);
            }
        }
        _ => {}
    }
    changed
}

fn response_item(item: &mut Value, f: &mut TextFn<'_>) -> bool {
    let kind = item.get("type").and_then(Value::as_str).unwrap_or("message");
    match kind {
        "function_call" | "custom_tool_call" => match item.get_mut("arguments") {
            Some(args) => json_document(args, Source::Assistant, f),
            None => false,
        },
        "function_call_output" | "custom_tool_call_output" => text_or_parts(item.get_mut("output"), Source::Tool, f),
        "message" => {
            let source = role_source(item.get("role").and_then(Value::as_str));
            text_or_parts(item.get_mut("content"), source, f)
        }
        // Reasoning items, images, files and other items carry no user text we may change.
        _ => false,
    }
}
