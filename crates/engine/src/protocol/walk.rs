//! Mask by default, skip by knowledge: every string of a request body is visited, at any depth
//! and in any field, except the values the providers' APIs define as not being user text. A field
//! an API adds tomorrow is visited without a code change; what is known is only what must NOT be
//! touched (ids, enums, signatures, base64 media) and which source a text stands for (which the
//! threat scanner uses).
//!
//! The knowledge is shared by every endpoint of both providers: the same object shapes (messages
//! with a `role`, typed content blocks and items) recur in chat, responses, conversations,
//! assistants, batches and Anthropic messages, so one table serves them all.
//!
//! Inside a free-form subtree (`metadata`, tool call input, JSON schemas, prompt variables, JSON
//! carried in a string) nothing is skipped: there a key named `type` or `id` is the user's, not
//! the API's, and the keys themselves are visited as text.

use serde_json::Value;

use super::{Api, Field, TextFn};
use crate::threat::Source;

/// Keys whose string values (or lists of strings) an API defines as identifiers, enums or opaque
/// provider data. Only consulted outside free-form subtrees.
const SKIPPED_KEYS: &[&str] = &[
    // every object
    "type",
    "role",
    "model",
    "id",
    "object",
    "status",
    // ids that link a request to earlier ones: changing one breaks the exchange
    "tool_call_id",
    "tool_use_id",
    "call_id",
    "previous_response_id",
    "response_id",
    "file_id",
    "file_ids",
    "input_file_id",
    "output_file_id",
    "error_file_id",
    "assistant_id",
    "thread_id",
    "run_id",
    "vector_store_ids",
    "container_id",
    // signed or encrypted provider output: must come back byte for byte
    "signature",
    "encrypted_content",
    // enums and formats
    "media_type",
    "mime_type",
    "detail",
    "format",
    "service_tier",
    "reasoning_effort",
    "effort",
    "verbosity",
    "truncation",
    "voice",
    "modalities",
    "include",
    "finish_reason",
    "stop_reason",
    "purpose",
    "completion_window",
    "endpoint",
    "method",
    "encoding_format",
];

/// Keys whose whole value is free-form: the user's own structure, visited without skips.
const FREE_FORM_KEYS: &[&str] = &["metadata", "parameters", "input_schema", "schema", "variables", "arguments"];

/// Object types whose `input` is free-form (a tool call's arguments as an object).
const TOOL_INPUT_TYPES: &[&str] = &["tool_use", "server_tool_use", "mcp_tool_use"];

/// Object types that carry what a tool or an outside service returned.
const TOOL_OUTPUT_TYPES: &[&str] = &[
    "tool_result",
    "function_call_output",
    "custom_tool_call_output",
    "local_shell_call_output",
    "shell_call_output",
    "computer_call_output",
    "apply_patch_call_output",
    "mcp_call",
    "mcp_tool_result",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
];

/// Object types that carry documents the application inserted.
const DOCUMENT_TYPES: &[&str] = &["document", "search_result", "web_search_result", "input_file"];

/// Object types the model produced (its calls and reasoning summaries).
const MODEL_OUTPUT_TYPES: &[&str] = &[
    "function_call",
    "custom_tool_call",
    "tool_use",
    "server_tool_use",
    "mcp_tool_use",
    "web_search_call",
    "file_search_call",
    "local_shell_call",
    "shell_call",
    "computer_call",
    "apply_patch_call",
    "code_interpreter_call",
    "image_generation_call",
    "reasoning",
];

/// Content the provider signed (Anthropic extended thinking): never changed in either direction,
/// or the provider rejects the next turn. The filter never restores into it, so it only ever
/// holds what the provider itself wrote.
pub fn is_signed_block(map: &serde_json::Map<String, Value>) -> bool {
    matches!(map.get("type").and_then(Value::as_str), Some("thinking" | "redacted_thinking"))
}

/// Top-level keys that hold the operator's instructions.
const SYSTEM_KEYS: &[&str] = &["system", "instructions"];
/// Top-level keys that hold the user's text (or a list of messages and items, whose roles then
/// decide) on the known APIs. Every other top-level field is the application's configuration
/// (`tools`, `metadata`, `stop`, `user`, ...): masked like everything else, and scanned for threats
/// as the operator's text.
const USER_KEYS: &[&str] = &["messages", "input", "prompt", "suffix", "content", "requests", "items", "body", "params"];

/// How deep JSON documents inside strings are followed (a tool result holding JSON whose strings
/// hold JSON again); deeper strings are visited as text.
const MAX_JSON_IN_STRING: u8 = 2;
/// How deep the walk descends; deeper values are visited as text only where they are strings
/// reached by then (serde_json itself refuses documents nested deeper than 128).
const MAX_DEPTH: u16 = 128;

#[derive(Clone, Copy)]
struct Ctx {
    source: Source,
    /// Inside a free-form subtree: nothing is skipped.
    free: bool,
    /// At the top level of a request object (where `system`, `messages`, ... have their meaning).
    top: bool,
    json_level: u8,
    depth: u16,
}

/// Visit every text of a parsed request body that may carry user data. Returns whether any changed.
pub fn visit(api: Api, body: &mut Value, f: &mut TextFn<'_>) -> bool {
    if api == Api::PassThrough {
        return false;
    }
    let generic = api == Api::Generic;
    let ctx = Ctx {
        source: if generic { Source::User } else { Source::System },
        free: generic,
        top: !generic,
        json_level: 0,
        depth: 0,
    };
    value(body, None, ctx, f)
}

fn value(v: &mut Value, key: Option<&str>, ctx: Ctx, f: &mut TextFn<'_>) -> bool {
    if ctx.depth > MAX_DEPTH {
        return false;
    }
    match v {
        Value::String(s) => string(s, key, ctx, f),
        Value::Array(items) => {
            let inner = Ctx { depth: ctx.depth + 1, ..ctx };
            items.iter_mut().fold(false, |c, item| value(item, key, inner, f) | c)
        }
        Value::Object(map) => object(map, key, ctx, f),
        _ => false,
    }
}

fn object(map: &mut serde_json::Map<String, Value>, key: Option<&str>, ctx: Ctx, f: &mut TextFn<'_>) -> bool {
    let mut ctx = Ctx { depth: ctx.depth + 1, ..ctx };
    let mut free_input = false;
    let mut base64_data = false;
    if !ctx.free {
        if is_signed_block(map) {
            return false;
        }
        let ty = map.get("type").and_then(Value::as_str).unwrap_or("");
        if let Some(role) = map.get("role").and_then(Value::as_str) {
            ctx.source = super::role_source(Some(role));
        } else if TOOL_OUTPUT_TYPES.contains(&ty) {
            ctx.source = Source::Tool;
        } else if DOCUMENT_TYPES.contains(&ty) {
            ctx.source = Source::Document;
        } else if MODEL_OUTPUT_TYPES.contains(&ty) {
            ctx.source = Source::Assistant;
        }
        free_input = TOOL_INPUT_TYPES.contains(&ty);
        // `{"type": "base64", "media_type": ..., "data": ...}` and OpenAI's `input_audio.data`.
        base64_data = ty == "base64" || key == Some("input_audio");
    }
    let top = ctx.top;
    let mut changed = false;
    // `{"name": "DB_PASSWORD", "value": "..."}` (environment lists, settings tables): in the
    // user's own structure the value is labelled by its name.
    let pair_name = if ctx.free { pair_label(map) } else { None };
    for (k, child) in map.iter_mut() {
        let k = k.as_str();
        if let (Some(name), Value::String(s), "value" | "Value") = (pair_name.as_deref(), &mut *child, k) {
            changed |= string(s, Some(name), ctx, f);
            continue;
        }
        let mut inner = Ctx { top: false, ..ctx };
        if !ctx.free {
            if SKIPPED_KEYS.contains(&k) && is_strings(child) {
                continue;
            }
            if base64_data && k == "data" {
                continue;
            }
            if FREE_FORM_KEYS.contains(&k) || (free_input && k == "input") {
                inner.free = true;
            }
            if top && SYSTEM_KEYS.contains(&k) {
                inner.source = Source::System;
            } else if top && USER_KEYS.contains(&k) {
                inner.source = Source::User;
            } else if SYSTEM_KEYS.contains(&k) {
                // A nested request (a batch's `params`): its system prompt is the operator's too.
                inner.source = Source::System;
            }
            if k == "params" || k == "body" {
                // A whole request inside a batch: its top level has the usual meaning.
                inner.top = true;
            }
        }
        changed |= value(child, Some(k), inner, f);
    }
    if ctx.free {
        changed |= keys(map, ctx.source, f);
    }
    changed
}

/// The name of a name and value pair object: its `name` (or `key`) when it has a string
/// `value` beside it.
fn pair_label(map: &serde_json::Map<String, Value>) -> Option<String> {
    let value = map.get("value").or_else(|| map.get("Value"))?;
    if !value.is_string() {
        return None;
    }
    ["name", "Name", "key", "Key"].iter().find_map(|k| map.get(*k).and_then(Value::as_str)).map(str::to_owned)
}

/// The keys of a free-form object are the user's text too (`"metadata": {"jane@example.com":
/// "vip"}`). A key whose masked form is already a key of the object keeps its name: renaming it
/// would overwrite that entry (only a request that holds both a value and its placeholder as keys
/// gets there).
fn keys(map: &mut serde_json::Map<String, Value>, source: Source, f: &mut TextFn<'_>) -> bool {
    rename_keys(map, |k| {
        let mut new = k.to_owned();
        f(&mut new, Field::text(source)).then_some(new)
    })
}

/// Rename the keys of `map` for which `rename` gives a new name, keeping their order. A new name
/// that is already a key, or equal to the old one, is not taken. Returns whether any key changed.
pub fn rename_keys(map: &mut serde_json::Map<String, Value>, mut rename: impl FnMut(&str) -> Option<String>) -> bool {
    let mut renamed: Vec<(String, String)> = Vec::new();
    for k in map.keys() {
        if let Some(new) = rename(k).filter(|new| new != k && !map.contains_key(new)) {
            renamed.push((k.clone(), new));
        }
    }
    if renamed.is_empty() {
        return false;
    }
    let old = std::mem::take(map);
    for (k, v) in old {
        let name = match renamed.iter().position(|(from, _)| *from == k) {
            Some(i) => renamed.swap_remove(i).1,
            None => k,
        };
        map.insert(name, v);
    }
    true
}

/// A string value, or a list of string values (an enum list such as `modalities`).
fn is_strings(v: &Value) -> bool {
    match v {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    }
}

fn string(s: &mut String, key: Option<&str>, ctx: Ctx, f: &mut TextFn<'_>) -> bool {
    if is_base64_media(s, key) {
        return false;
    }
    if ctx.json_level < MAX_JSON_IN_STRING && super::json::looks_like_document(s) {
        if let Ok(mut doc) = super::json::parse_strict(s) {
            if doc.is_object() || doc.is_array() {
                let inner = Ctx { free: true, top: false, json_level: ctx.json_level + 1, ..ctx };
                if value(&mut doc, None, inner, f) {
                    *s = doc.to_string();
                    return true;
                }
                return false;
            }
        }
    }
    // Inside the user's own structure a key names its value (`{"api_key": "..."}`); the API's
    // own keys (`content`, `text`) say nothing about what a text holds.
    let key = if ctx.free { key } else { None };
    f(s, Field { source: ctx.source, key })
}

/// Shortest blob taken for base64 media: shorter values are visited (they could be anything).
const MIN_BASE64_MEDIA: usize = 64;

/// Base64 media: a `data:` URL with a base64 payload, or a long base64 blob under a key that
/// carries file or audio data. Media is not text the detectors can read, and rewriting any part
/// of it would corrupt it; it is not inspected (the README says so).
fn is_base64_media(s: &str, key: Option<&str>) -> bool {
    if let Some(rest) = s.strip_prefix("data:") {
        let header = rest.split(',').next().unwrap_or("");
        return header.len() < rest.len() && header.ends_with(";base64");
    }
    matches!(key, Some("data" | "file_data" | "b64_json"))
        && s.len() >= MIN_BASE64_MEDIA
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_' | b'\n' | b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every visited text with its source, in order.
    fn visited(api: Api, body: &Value) -> Vec<(String, Source)> {
        let mut body = body.clone();
        let mut seen = Vec::new();
        visit(api, &mut body, &mut |s, field| {
            seen.push((s.clone(), field.source));
            false
        });
        seen
    }

    fn texts(api: Api, body: &Value) -> Vec<String> {
        visited(api, body).into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn unknown_fields_are_visited_and_known_ids_are_not() {
        let body = json!({
            "model": "gpt-4o",
            "user": "u-alice@example.com",
            "future_field": {"nested": ["a new text"]},
            "messages": [{"role": "user", "name": "Alice", "content": "hi", "id": "msg_1"}],
            "stop": ["END"],
            "service_tier": "auto"
        });
        let seen = texts(Api::OpenAiChat, &body);
        assert_eq!(seen, ["u-alice@example.com", "a new text", "Alice", "hi", "END"]);
    }

    #[test]
    fn sources_follow_roles_and_block_types() {
        let body = json!({
            "system": "be brief",
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "question"},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}, "title": "T"},
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "tool said"}
                ]},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"type": "q", "id": "x"}}]}
            ],
            "metadata": {"user_id": "u1"}
        });
        let seen = visited(Api::AnthropicMessages, &body);
        let expect = [
            ("be brief", Source::System),
            ("question", Source::User),
            ("doc", Source::Document),
            ("T", Source::Document),
            ("tool said", Source::Tool),
            ("f", Source::Assistant),
            ("q", Source::Assistant),
            ("x", Source::Assistant),
            ("type", Source::Assistant),
            ("id", Source::Assistant),
            ("u1", Source::System),
            ("user_id", Source::System),
        ];
        let seen: Vec<(&str, Source)> = seen.iter().map(|(s, src)| (s.as_str(), *src)).collect();
        assert_eq!(seen, expect);
    }

    #[test]
    fn signed_blocks_and_media_are_never_visited() {
        let img = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
        let body = json!({"messages": [{"role": "assistant", "content": [
            {"type": "thinking", "thinking": "secret thought", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": img}},
            {"type": "text", "text": "visible"}
        ]}, {"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{img}")}},
            {"type": "input_audio", "input_audio": {"data": img, "format": "wav"}}
        ]}]});
        assert_eq!(texts(Api::AnthropicMessages, &body), ["visible"]);
    }

    #[test]
    fn json_in_strings_is_visited_as_decoded_text_and_rewritten_only_when_changed() {
        let mut body = json!({"messages": [{"role": "assistant", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"to\": \"a\\nb\", \"type\": \"t\"}"}}
        ]}]});
        let seen = texts(Api::OpenAiChat, &body);
        assert_eq!(seen, ["f", "a\nb", "t", "to", "type"]);
        let before = body.to_string();
        assert!(!visit(Api::OpenAiChat, &mut body, &mut |_, _| false));
        assert_eq!(body.to_string(), before);
        assert!(visit(Api::OpenAiChat, &mut body, &mut |s, _| {
            let hit = s == "t";
            if hit {
                *s = "[X_1]".into();
            }
            hit
        }));
        let args = body["messages"][0]["tool_calls"][0]["function"]["arguments"].as_str().unwrap_or("");
        assert_eq!(args, r#"{"to":"a\nb","type":"[X_1]"}"#);
    }

    #[test]
    fn free_form_subtrees_skip_nothing() {
        let body = json!({"tools": [{"type": "function", "function": {"name": "lookup", "description": "d",
            "parameters": {"type": "object", "properties": {"id": {"type": "string", "enum": ["e1"]}}}}}],
            "metadata": {"type": "mine"}});
        assert_eq!(
            texts(Api::OpenAiChat, &body),
            ["lookup", "d", "object", "string", "e1", "type", "enum", "id", "type", "properties", "mine", "type"]
        );
        let mut meta = json!({"metadata": {"jane@example.com": "vip", "b": "x", "[K_1]": 1, "k": 2}});
        assert!(visit(Api::OpenAiChat, &mut meta, &mut |s, _| {
            let new = match s.as_str() {
                "jane@example.com" => "[EMAIL_1]",
                "k" => "[K_1]",
                _ => return false,
            };
            *s = new.to_owned();
            true
        }));
        assert_eq!(meta.to_string(), r#"{"metadata":{"[EMAIL_1]":"vip","b":"x","[K_1]":1,"k":2}}"#);
    }

    /// docs/masking.md is the skip list: every key the walker skips or frees is named there, and
    /// every key named in its skip table is one the walker skips.
    #[test]
    fn the_documented_skip_list_is_the_code() {
        let doc = include_str!("../../../../docs/masking.md");
        let table: Vec<&str> = doc
            .lines()
            .skip_while(|l| !l.starts_with("## What is not masked"))
            .take_while(|l| !l.starts_with("Also never changed"))
            .filter(|l| l.starts_with("| ") && !l.starts_with("| kind"))
            .flat_map(|l| l.split('`').skip(1).step_by(2))
            .collect();
        let mut documented = table.clone();
        documented.sort_unstable();
        let mut skipped = SKIPPED_KEYS.to_vec();
        skipped.sort_unstable();
        assert_eq!(documented, skipped);
        for key in FREE_FORM_KEYS.iter().chain(TOOL_INPUT_TYPES) {
            assert!(doc.contains(&format!("`{key}`")), "{key} is not in docs/masking.md");
        }
        for api in Api::ALL {
            assert!(doc.contains(&format!("`{}`", api.name())), "{} is not in docs/masking.md", api.name());
        }
    }

    #[test]
    fn generic_bodies_visit_every_string_as_user_text() {
        let body = json!({"type": "x", "id": "y", "a": [{"b": "z"}]});
        let seen = visited(Api::Generic, &body);
        assert!(seen.iter().all(|(_, s)| *s == Source::User));
        assert_eq!(seen.len(), 7, "three values and four keys");
        assert!(texts(Api::PassThrough, &body).is_empty());
    }
}
