//! Streams of an unknown protocol: each event is restored on its own (no hold-back across
//! events): every string value when the data is JSON, else the data as text. The reply policy,
//! when it acts, runs on each event's strings the same way (a value split across two events of
//! an unknown protocol is not recognised).

use std::borrow::Cow;

use serde_json::Value;

use super::framer::Block;
use crate::restore::{restore_text, Escape};

use super::events::{act_on_tree, restore_tree, write_event, EventCtx};
use crate::restore::leaks::act_on_findings;

pub(crate) fn on_event(block: Block<'_>, text: &str, ctx: &mut EventCtx<'_>) {
    if let Ok(mut value) = serde_json::from_str::<Value>(text) {
        let acted = act_on_tree(&mut value, ctx);
        let changed = restore_tree(&mut value, ctx.vault, ctx.spec, ctx.counts);
        write_event(block, &value, acted | changed, ctx.out);
        return;
    }
    let acted = ctx.leaks.and_then(|rules| {
        let mut found = Vec::new();
        rules.detector.detect(text, &mut found);
        act_on_findings(text, &found, &rules, Escape::None, ctx.tally)
    });
    let text_now = acted.as_deref().unwrap_or(text);
    match restore_text(text_now, ctx.vault, ctx.spec, Escape::None, ctx.counts) {
        Cow::Owned(new) => block.write_with_data(&new, ctx.out),
        Cow::Borrowed(_) if acted.is_some() => block.write_with_data(text_now, ctx.out),
        Cow::Borrowed(_) => ctx.out.extend_from_slice(block.raw()),
    }
}
