//! Per-position streaming restorers (one per choice field, content block or output part).

/// Most reply text kept for scanning between two `take_text` calls (the glue drains it after
/// every chunk, so this only bounds a pathological single chunk).
const MAX_TAP_BYTES: usize = 256 * 1024;

use crate::restore::leaks::{act_on_findings, StreamingLeakFilter};
use crate::restore::{restore_text, Escape, StreamingTextRestorer};

use super::events::EventCtx;

/// More positions than any real reply has; past it a new position is restored one event at a time
/// (no hold-back), so a hostile stream cannot grow the state without bound.
pub(crate) const MAX_POSITIONS: usize = 256;

/// One position's state: the reply policy's filter (when the policy acts) feeding the restorer.
#[derive(Debug)]
struct Slot<K> {
    key: K,
    leaks: Option<StreamingLeakFilter>,
    restorer: StreamingTextRestorer,
}

#[derive(Debug)]
pub(crate) struct Positions<K> {
    slots: Vec<Slot<K>>,
}

impl<K> Default for Positions<K> {
    fn default() -> Self {
        Positions { slots: Vec::new() }
    }
}

impl<K: PartialEq + Copy> Positions<K> {
    /// Restore the next piece of text at `key`: `Some(new text)` if it differs from `text`.
    pub fn restore(&mut self, key: K, escape: Escape, text: &str, ctx: &mut EventCtx<'_>) -> Option<String> {
        if ctx.tap.len() < MAX_TAP_BYTES {
            ctx.tap.push_str(text);
        }
        let slot = match self.slots.iter().position(|s| s.key == key) {
            Some(i) => self.slots.get_mut(i),
            None if self.slots.len() < MAX_POSITIONS => {
                // Plain text positions may carry JSON text (structured output): the restorer
                // decides from how the text begins.
                let restorer = match escape {
                    Escape::None => StreamingTextRestorer::plain_or_json(),
                    Escape::JsonString => StreamingTextRestorer::new(escape),
                };
                let leaks = ctx.leaks.is_some().then(|| StreamingLeakFilter::new(escape));
                self.slots.push(Slot { key, leaks, restorer });
                self.slots.last_mut()
            }
            None => None,
        };
        let new = match slot {
            Some(slot) => {
                let mut out = String::with_capacity(text.len() + slot.restorer.held().len());
                match (&mut slot.leaks, ctx.leaks) {
                    (Some(filter), Some(rules)) => {
                        let mut decided = String::with_capacity(text.len() + filter.held().len());
                        filter.push(text, &rules, ctx.tally, &mut decided);
                        slot.restorer.push(&decided, ctx.vault, ctx.spec, ctx.counts, &mut out);
                    }
                    _ => slot.restorer.push(text, ctx.vault, ctx.spec, ctx.counts, &mut out),
                }
                out
            }
            None => {
                // Past the position cap: one event at a time, without hold-back.
                let acted = ctx.leaks.and_then(|rules| {
                    let mut found = Vec::new();
                    rules.detector.detect(text, &mut found);
                    act_on_findings(text, &found, &rules, escape, ctx.tally)
                });
                let text = acted.as_deref().unwrap_or(text);
                restore_text(text, ctx.vault, ctx.spec, escape, ctx.counts).into_owned()
            }
        };
        (new != text).then_some(new)
    }

    /// End the positions `ends` selects; returns each one's released text (only non-empty ones).
    pub fn end(&mut self, ends: impl Fn(&K) -> bool, ctx: &mut EventCtx<'_>) -> Vec<(K, String)> {
        let mut released = Vec::new();
        self.slots.retain_mut(|slot| {
            if !ends(&slot.key) {
                return true;
            }
            let mut out = String::new();
            if let (Some(filter), Some(rules)) = (&mut slot.leaks, ctx.leaks) {
                let mut decided = String::new();
                filter.finish(&rules, ctx.tally, &mut decided);
                slot.restorer.push(&decided, ctx.vault, ctx.spec, ctx.counts, &mut out);
            }
            slot.restorer.finish(ctx.vault, ctx.spec, ctx.counts, &mut out);
            if !out.is_empty() {
                released.push((slot.key, out));
            }
            false
        });
        released
    }
}
