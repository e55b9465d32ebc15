//! OpenAI chat completions (and legacy completions) streams: `data: {chunk}` events whose
//! `choices[]` carry `delta.content`, `delta.reasoning_content` / `delta.reasoning`,
//! `delta.tool_calls[].function.arguments` (JSON text, restored JSON-escaped) or, for legacy
//! completions, `text`; the stream ends with `data: [DONE]`.
//!
//! Held-back text of a choice is released into that choice's finish chunk (the one that sets
//! `finish_reason`), adding the field to its delta if needed. Text still held at `[DONE]` or at
//! the end of the body goes out in one synthetic chunk per choice, shaped like the stream's first
//! chunk (same `id`, `object`, `model`, ...), just before `[DONE]`.

use serde_json::{Map, Value};

use super::framer::Block;
use crate::restore::Escape;

use super::events::{index_of, restore_tree, write_event, write_synthetic, EventCtx};
use super::positions::Positions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// `delta.content`, or `text` for legacy completions.
    Content,
    ReasoningContent,
    Reasoning,
    /// `delta.tool_calls[index].function.arguments`.
    ToolArguments(u32),
}

type Key = (u32, Field);

#[derive(Debug)]
pub(crate) struct ChatStream {
    legacy: bool,
    positions: Positions<Key>,
    /// The first chunk without its choices: the shape of synthetic chunks.
    template: Option<Value>,
}

impl ChatStream {
    pub fn new(legacy: bool) -> Self {
        ChatStream { legacy, positions: Positions::default(), template: None }
    }

    pub fn on_event(&mut self, block: Block<'_>, text: &str, ctx: &mut EventCtx<'_>) {
        if text.trim() == "[DONE]" {
            self.release_all(ctx);
            ctx.out.extend_from_slice(block.raw());
            return;
        }
        let Ok(mut chunk) = serde_json::from_str::<Value>(text) else {
            ctx.out.extend_from_slice(block.raw());
            return;
        };
        let mut changed = false;
        if let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) {
            for (pos, choice) in choices.iter_mut().enumerate() {
                let idx = index_of(choice, "index").unwrap_or(u32::try_from(pos).unwrap_or(u32::MAX));
                changed |= self.restore_choice(idx, choice, ctx);
                let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
                if finished {
                    for (key, held) in self.positions.end(|k| k.0 == idx, ctx) {
                        self.put_released(choice, key.1, held);
                        changed = true;
                    }
                }
            }
            if self.template.is_none() {
                let mut t = chunk.clone();
                if let Some(map) = t.as_object_mut() {
                    map.insert("choices".to_owned(), Value::Array(Vec::new()));
                    map.remove("usage");
                }
                self.template = Some(t);
            }
        }
        if chunk.get("error").is_some() {
            // An error object mid-stream ends it: held text goes out first, and the error's
            // message (which may quote the request) is restored like any text.
            self.release_all(ctx);
            changed |= restore_tree(&mut chunk, ctx.vault, ctx.spec, ctx.counts);
        }
        write_event(block, &chunk, changed, ctx.out);
    }

    /// End of body: release what is still held. True if anything was.
    pub fn finish(&mut self, ctx: &mut EventCtx<'_>) -> bool {
        self.release_all(ctx)
    }

    fn restore_choice(&mut self, idx: u32, choice: &mut Value, ctx: &mut EventCtx<'_>) -> bool {
        if self.legacy {
            return self.restore_field(choice, "text", (idx, Field::Content), Escape::None, ctx);
        }
        let Some(delta) = choice.get_mut("delta") else {
            return false;
        };
        let mut changed = self.restore_field(delta, "content", (idx, Field::Content), Escape::None, ctx);
        changed |= self.restore_field(delta, "reasoning_content", (idx, Field::ReasoningContent), Escape::None, ctx);
        changed |= self.restore_field(delta, "reasoning", (idx, Field::Reasoning), Escape::None, ctx);
        if let Some(calls) = delta.get_mut("tool_calls").and_then(Value::as_array_mut) {
            for (pos, call) in calls.iter_mut().enumerate() {
                let call_idx = index_of(call, "index").unwrap_or(u32::try_from(pos).unwrap_or(u32::MAX));
                if let Some(function) = call.get_mut("function") {
                    let key = (idx, Field::ToolArguments(call_idx));
                    changed |= self.restore_field(function, "arguments", key, Escape::JsonString, ctx);
                }
            }
        }
        changed
    }

    fn restore_field(
        &mut self,
        parent: &mut Value,
        name: &str,
        key: Key,
        escape: Escape,
        ctx: &mut EventCtx<'_>,
    ) -> bool {
        let Some(Value::String(s)) = parent.get_mut(name) else {
            return false;
        };
        match self.positions.restore(key, escape, s, ctx) {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        }
    }

    /// Put released text at the end of its field in `choice`, creating the field if needed.
    fn put_released(&self, choice: &mut Value, field: Field, held: String) {
        let Some(choice) = choice.as_object_mut() else {
            return;
        };
        if self.legacy {
            append_string(choice, "text", held);
            return;
        }
        let delta = choice.entry("delta").or_insert_with(|| Value::Object(Map::new()));
        let Some(delta) = delta.as_object_mut() else {
            return;
        };
        match field {
            Field::Content => append_string(delta, "content", held),
            Field::ReasoningContent => append_string(delta, "reasoning_content", held),
            Field::Reasoning => append_string(delta, "reasoning", held),
            Field::ToolArguments(call_idx) => {
                let calls = delta.entry("tool_calls").or_insert_with(|| Value::Array(Vec::new()));
                let Some(calls) = calls.as_array_mut() else {
                    return;
                };
                let existing = calls.iter_mut().find(|c| index_of(c, "index") == Some(call_idx));
                match existing.and_then(|c| c.get_mut("function")).and_then(Value::as_object_mut) {
                    Some(function) => append_string(function, "arguments", held),
                    None => calls.push(serde_json::json!({ "index": call_idx, "function": { "arguments": held } })),
                }
            }
        }
    }

    /// Release every open position in synthetic chunks, one per choice. True if any was written.
    fn release_all(&mut self, ctx: &mut EventCtx<'_>) -> bool {
        let released = self.positions.end(|_| true, ctx);
        if released.is_empty() {
            return false;
        }
        let mut choices: Vec<Value> = Vec::new();
        for ((idx, field), held) in released {
            let at = match choices.iter().position(|c| index_of(c, "index") == Some(idx)) {
                Some(at) => at,
                None => {
                    choices.push(if self.legacy {
                        serde_json::json!({ "index": idx, "text": "", "finish_reason": null })
                    } else {
                        serde_json::json!({ "index": idx, "delta": {}, "finish_reason": null })
                    });
                    choices.len() - 1
                }
            };
            if let Some(choice) = choices.get_mut(at) {
                self.put_released(choice, field, held);
            }
        }
        for choice in choices {
            let mut chunk = self.template.clone().unwrap_or_else(|| Value::Object(Map::new()));
            if let Some(map) = chunk.as_object_mut() {
                map.insert("choices".to_owned(), Value::Array(vec![choice]));
            }
            write_synthetic(None, &chunk, ctx);
        }
        true
    }
}

fn append_string(map: &mut Map<String, Value>, key: &str, text: String) {
    match map.get_mut(key) {
        Some(Value::String(s)) => s.push_str(&text),
        _ => {
            map.insert(key.to_owned(), Value::String(text));
        }
    }
}
