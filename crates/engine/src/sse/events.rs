//! What every protocol restorer shares: the per-event context, writing an event back (raw when
//! unchanged, re-serialised when changed), synthetic events, and one-shot restore of a JSON tree.

use serde_json::Value;

use super::framer::Block;
use crate::restore::leaks::{act_on_findings, LeakRules, LeakTally};
use crate::restore::{restore_text, Escape, RestoreCounts, RestoreSpec};
use crate::vault::Vault;

/// Everything a protocol restorer needs while handling one event.
pub(crate) struct EventCtx<'a> {
    pub vault: &'a Vault,
    pub spec: &'a RestoreSpec,
    pub counts: &'a mut RestoreCounts,
    /// Line end for synthetic events.
    pub eol: &'a [u8],
    pub out: &'a mut Vec<u8>,
    /// Count of synthetic events written.
    pub synthetic: &'a mut u64,
    /// The reply text as it arrived (placeholders not yet restored), for reply scanning.
    pub tap: &'a mut String,
    /// The reply policy, when it acts on values the exchange did not mask (`restore::leaks`).
    pub leaks: Option<LeakRules<'a>>,
    pub tally: &'a mut LeakTally,
}

/// The line end the event uses (its first one), so synthetic events look like their neighbours.
pub(crate) fn line_end_of(raw: &[u8]) -> &'static [u8] {
    match raw.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(at) if raw.get(at) == Some(&b'\n') => b"\n",
        Some(at) if raw.get(at + 1) == Some(&b'\n') => b"\r\n",
        Some(_) => b"\r",
        None => b"\n",
    }
}

/// Forward the event: byte for byte when `changed` is false, else with its data re-serialised.
pub(crate) fn write_event(block: Block<'_>, value: &Value, changed: bool, out: &mut Vec<u8>) {
    if !changed {
        out.extend_from_slice(block.raw());
        return;
    }
    match serde_json::to_string(value) {
        Ok(data) => block.write_with_data(&data, out),
        Err(_) => out.extend_from_slice(block.raw()),
    }
}

/// Write an event of our own (to release held-back text), with an optional `event:` line.
pub(crate) fn write_synthetic(event_type: Option<&str>, value: &Value, ctx: &mut EventCtx<'_>) {
    let Ok(data) = serde_json::to_string(value) else {
        return;
    };
    if let Some(t) = event_type {
        ctx.out.extend_from_slice(b"event: ");
        ctx.out.extend_from_slice(t.as_bytes());
        ctx.out.extend_from_slice(ctx.eol);
    }
    ctx.out.extend_from_slice(b"data: ");
    ctx.out.extend_from_slice(data.as_bytes());
    ctx.out.extend_from_slice(ctx.eol);
    ctx.out.extend_from_slice(ctx.eol);
    *ctx.synthetic += 1;
}

/// Keys whose string value is JSON text (tool-call arguments): originals go in JSON-escaped.
fn escape_for_key(key: Option<&str>) -> Escape {
    match key {
        Some("arguments" | "partial_json") => Escape::JsonString,
        _ => Escape::None,
    }
}

/// Restore every string value in `value` one-shot; true if anything changed.
pub(crate) fn restore_tree(value: &mut Value, vault: &Vault, spec: &RestoreSpec, counts: &mut RestoreCounts) -> bool {
    restore_node(value, None, vault, spec, counts, 0)
}

/// JSON nesting we descend into; deeper values are left alone rather than recursing without bound.
const MAX_DEPTH: usize = 64;

fn restore_node(
    value: &mut Value,
    key: Option<&str>,
    vault: &Vault,
    spec: &RestoreSpec,
    counts: &mut RestoreCounts,
    depth: usize,
) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match value {
        Value::String(s) => {
            let restored = restore_text(s, vault, spec, escape_for_key(key), counts);
            if let std::borrow::Cow::Owned(new) = restored {
                *s = new;
                true
            } else {
                false
            }
        }
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= restore_node(item, key, vault, spec, counts, depth + 1);
            }
            changed
        }
        // Signed content (extended thinking) goes back to the provider as it came: never restored.
        Value::Object(map) if crate::protocol::is_signed_block(map) => false,
        Value::Object(map) => {
            let mut changed = false;
            for (k, v) in map.iter_mut() {
                changed |= restore_node(v, Some(k.as_str()), vault, spec, counts, depth + 1);
            }
            changed
        }
        _ => false,
    }
}

/// The reply policy, when it acts, on every string value of `value` one-shot (signed content
/// left alone); true if anything changed.
pub(crate) fn act_on_tree(value: &mut Value, ctx: &mut EventCtx<'_>) -> bool {
    let Some(rules) = ctx.leaks else { return false };
    let mut found = Vec::new();
    act_on_node(value, None, &rules, ctx.tally, &mut found, 0)
}

/// [`act_on_tree`] for an event that repeats text the stream's deltas carried (a Responses
/// `*.done` or `response.completed`): acted on the same way, counted once (by the deltas), but a
/// value that stops the reply stops it here too.
pub(crate) fn act_on_repeated_tree(value: &mut Value, ctx: &mut EventCtx<'_>) -> bool {
    let Some(rules) = ctx.leaks else { return false };
    let mut scratch = LeakTally::default();
    let changed = act_on_node(value, None, &rules, &mut scratch, &mut Vec::new(), 0);
    ctx.tally.stop |= scratch.stop;
    changed
}

fn act_on_node(
    value: &mut Value,
    key: Option<&str>,
    rules: &LeakRules<'_>,
    tally: &mut LeakTally,
    found: &mut Vec<crate::entity::Finding>,
    depth: usize,
) -> bool {
    // The Responses API echoes the request's `instructions`: the client's text, not the model's.
    if depth > MAX_DEPTH || key == Some("instructions") {
        return false;
    }
    match value {
        Value::String(s) => {
            found.clear();
            rules.detector.detect(s, found);
            match act_on_findings(s, found, rules, escape_for_key(key), tally) {
                Some(new) => {
                    *s = new;
                    true
                }
                None => false,
            }
        }
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= act_on_node(item, key, rules, tally, found, depth + 1);
            }
            changed
        }
        Value::Object(map) if crate::protocol::is_signed_block(map) => false,
        Value::Object(map) => {
            let mut changed = false;
            for (k, v) in map.iter_mut() {
                changed |= act_on_node(v, Some(k.as_str()), rules, tally, found, depth + 1);
            }
            changed
        }
        _ => false,
    }
}

/// A non-negative integer field (`index`, `output_index`), saturated into `u32`.
pub(crate) fn index_of(value: &Value, key: &str) -> Option<u32> {
    value.get(key).and_then(Value::as_u64).map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}
