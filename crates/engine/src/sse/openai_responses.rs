//! OpenAI Responses API streams: typed events (`event: response.output_text.delta` with
//! `data: {"type": ..., "item_id", "output_index", "content_index", "delta"}`), where the deltas
//! of `output_text`, `refusal`, `reasoning_text`, `reasoning_summary_text` and
//! `function_call_arguments` (JSON text, restored JSON-escaped) are restored incrementally per
//! output part. Summary events (`*.done` with the full `text`/`arguments`, `content_part.done`,
//! `output_item.done`, `response.completed` with the whole response) are restored one-shot; their
//! restores are not counted again, since the deltas already were.
//!
//! Held-back text of a part is released in a synthetic delta event, a copy of that part's first
//! delta event (same `item_id`, indices and, if present, `sequence_number`) with the held text,
//! written just before the event that ends the part.

use serde_json::Value;

use super::framer::Block;
use crate::restore::{Escape, RestoreCounts};

use super::events::{act_on_repeated_tree, index_of, restore_tree, write_event, write_synthetic, EventCtx};
use super::positions::{Positions, MAX_POSITIONS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    OutputText,
    Refusal,
    ReasoningText,
    ReasoningSummary,
    FunctionArguments,
}

impl Part {
    const ALL: [Part; 5] =
        [Part::OutputText, Part::Refusal, Part::ReasoningText, Part::ReasoningSummary, Part::FunctionArguments];

    fn name(self) -> &'static str {
        match self {
            Part::OutputText => "output_text",
            Part::Refusal => "refusal",
            Part::ReasoningText => "reasoning_text",
            Part::ReasoningSummary => "reasoning_summary_text",
            Part::FunctionArguments => "function_call_arguments",
        }
    }

    /// The part an event type such as `response.output_text.delta` is about, and whether it is
    /// its delta (else its done event).
    fn of_event(ty: &str) -> Option<(Part, bool)> {
        let rest = ty.strip_prefix("response.")?;
        Part::ALL.into_iter().find_map(|p| {
            let tail = rest.strip_prefix(p.name())?;
            match tail {
                ".delta" => Some((p, true)),
                ".done" => Some((p, false)),
                _ => None,
            }
        })
    }

    fn escape(self) -> Escape {
        match self {
            Part::FunctionArguments => Escape::JsonString,
            _ => Escape::None,
        }
    }

    /// Which index names the sub-position inside an output item.
    fn sub_index(self, event: &Value) -> u32 {
        match self {
            Part::ReasoningSummary => index_of(event, "summary_index").unwrap_or(0),
            Part::FunctionArguments => 0,
            _ => index_of(event, "content_index").unwrap_or(0),
        }
    }
}

type Key = (u32, u32, Part);

#[derive(Debug, Default)]
pub(crate) struct ResponsesStream {
    positions: Positions<Key>,
    /// The first delta event of each open part: the shape of its synthetic delta.
    templates: Vec<(Key, Value)>,
}

impl ResponsesStream {
    pub fn on_event(&mut self, block: Block<'_>, text: &str, ctx: &mut EventCtx<'_>) {
        let Ok(mut event) = serde_json::from_str::<Value>(text) else {
            ctx.out.extend_from_slice(block.raw());
            return;
        };
        let ty = match event.get("type").and_then(Value::as_str) {
            Some(t) => t.to_owned(),
            None => block.event_type().and_then(|t| std::str::from_utf8(t).ok()).unwrap_or("").to_owned(),
        };
        let output_index = index_of(&event, "output_index").unwrap_or(0);
        match Part::of_event(&ty) {
            Some((part, true)) => {
                let key = (output_index, part.sub_index(&event), part);
                let changed = self.restore_delta(key, &mut event, ctx);
                write_event(block, &event, changed, ctx.out);
                return;
            }
            Some((part, false)) => {
                let key = (output_index, part.sub_index(&event), part);
                self.release(|k| *k == key, ctx);
            }
            None => match ty.as_str() {
                "response.content_part.done" => {
                    let content = index_of(&event, "content_index").unwrap_or(0);
                    self.release(|k| k.0 == output_index && k.1 == content, ctx);
                }
                "response.output_item.done" => {
                    self.release(|k| k.0 == output_index, ctx);
                }
                "response.completed" | "response.incomplete" | "response.failed" | "error" => {
                    self.release(|_| true, ctx);
                }
                _ => {}
            },
        }
        // Whole-text events repeat what the deltas carried: restore them, but count once.
        let acted = act_on_repeated_tree(&mut event, ctx);
        let mut recount = RestoreCounts::default();
        let changed = restore_tree(&mut event, ctx.vault, ctx.spec, &mut recount);
        write_event(block, &event, acted | changed, ctx.out);
    }

    /// End of body: release what is still held. True if anything was.
    pub fn finish(&mut self, ctx: &mut EventCtx<'_>) -> bool {
        self.release(|_| true, ctx)
    }

    fn restore_delta(&mut self, key: Key, event: &mut Value, ctx: &mut EventCtx<'_>) -> bool {
        if self.templates.len() < MAX_POSITIONS && !self.templates.iter().any(|(k, _)| *k == key) {
            self.templates.push((key, event.clone()));
        }
        let Some(Value::String(s)) = event.get_mut("delta") else {
            return false;
        };
        match self.positions.restore(key, key.2.escape(), s, ctx) {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        }
    }

    fn release(&mut self, ends: impl Fn(&Key) -> bool, ctx: &mut EventCtx<'_>) -> bool {
        let released = self.positions.end(&ends, ctx);
        let any = !released.is_empty();
        for (key, held) in released {
            let Some((_, template)) = self.templates.iter().find(|(k, _)| *k == key) else {
                continue;
            };
            let mut event = template.clone();
            if let Some(map) = event.as_object_mut() {
                map.insert("delta".to_owned(), Value::String(held));
            }
            let ty = format!("response.{}.delta", key.2.name());
            write_synthetic(Some(&ty), &event, ctx);
        }
        self.templates.retain(|(k, _)| !ends(k));
        any
    }
}
