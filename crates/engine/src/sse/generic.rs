//! Streams of an unknown protocol: each event is restored on its own (no hold-back across
//! events): every string value when the data is JSON, else the data as text.

use std::borrow::Cow;

use serde_json::Value;

use super::framer::Block;
use crate::restore::{restore_text, Escape};

use super::events::{restore_tree, write_event, EventCtx};

pub(crate) fn on_event(block: Block<'_>, text: &str, ctx: &mut EventCtx<'_>) {
    if let Ok(mut value) = serde_json::from_str::<Value>(text) {
        let changed = restore_tree(&mut value, ctx.vault, ctx.spec, ctx.counts);
        write_event(block, &value, changed, ctx.out);
        return;
    }
    match restore_text(text, ctx.vault, ctx.spec, Escape::None, ctx.counts) {
        Cow::Owned(new) => block.write_with_data(&new, ctx.out),
        Cow::Borrowed(_) => ctx.out.extend_from_slice(block.raw()),
    }
}
