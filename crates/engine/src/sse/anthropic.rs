//! Anthropic Messages streams: `content_block_delta` events carry `text_delta.text` or
//! `input_json_delta.partial_json` (JSON text, restored JSON-escaped) for the content block
//! `index`. `thinking_delta` (and `signature_delta`) pass unchanged: extended thinking is signed
//! by the provider and sent back by the client on the next turn, so an original restored into it
//! would either break the signature or reach the provider; the client sees placeholders there. `message_start` and `content_block_start` may carry initial
//! text and are restored one-shot; `ping`, `message_delta` (usage, stop_reason) and unknown
//! events pass unchanged.
//!
//! Held-back text of a block is released in a synthetic `content_block_delta` for that block,
//! written just before its `content_block_stop` (or before `message_stop`, or at the end of body).

use serde_json::Value;

use super::framer::Block;
use crate::restore::Escape;

use super::events::{act_on_tree, index_of, restore_tree, write_event, write_synthetic, EventCtx};
use super::positions::Positions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    InputJson,
}

impl Kind {
    fn from_delta_type(t: &str) -> Option<Kind> {
        match t {
            "text_delta" => Some(Kind::Text),
            "input_json_delta" => Some(Kind::InputJson),
            _ => None,
        }
    }
    fn delta_type(self) -> &'static str {
        match self {
            Kind::Text => "text_delta",
            Kind::InputJson => "input_json_delta",
        }
    }
    fn field(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::InputJson => "partial_json",
        }
    }
    fn escape(self) -> Escape {
        match self {
            Kind::InputJson => Escape::JsonString,
            Kind::Text => Escape::None,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct AnthropicStream {
    positions: Positions<(u32, Kind)>,
}

impl AnthropicStream {
    pub fn on_event(&mut self, block: Block<'_>, text: &str, ctx: &mut EventCtx<'_>) {
        let Ok(mut event) = serde_json::from_str::<Value>(text) else {
            ctx.out.extend_from_slice(block.raw());
            return;
        };
        let ty = event.get("type").and_then(Value::as_str).unwrap_or("").to_owned();
        let index = index_of(&event, "index").unwrap_or(0);
        match ty.as_str() {
            "content_block_delta" => {
                let changed = self.restore_delta(index, &mut event, ctx);
                write_event(block, &event, changed, ctx.out);
            }
            "content_block_stop" => {
                self.release(|k| k.0 == index, ctx);
                ctx.out.extend_from_slice(block.raw());
            }
            "message_stop" => {
                self.release(|_| true, ctx);
                ctx.out.extend_from_slice(block.raw());
            }
            "message_start" | "content_block_start" | "message_delta" => {
                let acted = act_on_tree(&mut event, ctx);
                let changed = restore_tree(&mut event, ctx.vault, ctx.spec, ctx.counts);
                write_event(block, &event, acted | changed, ctx.out);
            }
            "error" => {
                // The stream ends here: held text goes out first, and the error's message (which
                // may quote the request) is restored like any text.
                self.release(|_| true, ctx);
                let changed = restore_tree(&mut event, ctx.vault, ctx.spec, ctx.counts);
                write_event(block, &event, changed, ctx.out);
            }
            _ => ctx.out.extend_from_slice(block.raw()),
        }
    }

    /// End of body: release what is still held. True if anything was.
    pub fn finish(&mut self, ctx: &mut EventCtx<'_>) -> bool {
        self.release(|_| true, ctx)
    }

    fn restore_delta(&mut self, index: u32, event: &mut Value, ctx: &mut EventCtx<'_>) -> bool {
        let Some(delta) = event.get_mut("delta") else {
            return false;
        };
        let Some(kind) = delta.get("type").and_then(Value::as_str).and_then(Kind::from_delta_type) else {
            return false;
        };
        let Some(Value::String(s)) = delta.get_mut(kind.field()) else {
            return false;
        };
        match self.positions.restore((index, kind), kind.escape(), s, ctx) {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        }
    }

    fn release(&mut self, ends: impl Fn(&(u32, Kind)) -> bool, ctx: &mut EventCtx<'_>) -> bool {
        let released = self.positions.end(ends, ctx);
        let any = !released.is_empty();
        for ((index, kind), held) in released {
            let mut delta = serde_json::Map::new();
            delta.insert("type".to_owned(), Value::from(kind.delta_type()));
            delta.insert(kind.field().to_owned(), Value::String(held));
            let event = serde_json::json!({ "type": "content_block_delta", "index": index, "delta": delta });
            write_synthetic(Some("content_block_delta"), &event, ctx);
        }
        any
    }
}
