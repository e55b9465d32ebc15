//! What the filter holds of a reply, decided when the reply's headers arrive, and what it counts
//! of a stream as it flows. Plain functions the glue calls, so the decisions are tested natively.
//!
//! A reply is held (buffered whole, or framed event by event when streamed) only when something
//! needs its text:
//!
//! - **restoring**: this exchange issued placeholders and replies are restored;
//! - **reply checks** (threat scanning on): links to outside hosts and the canary, which must be
//!   removed before the client sees them, so the text has to be held until it is judged. Leak
//!   counting (secrets or personal data the request did not carry) only counts: it reads what is
//!   held for the checks above and is never a reason to hold a reply on its own.
//!
//! Embeddings replies return vectors, no text: they carry neither a placeholder nor anything a
//! reply check reads, so they always pass through unheld, whatever their size (600 vectors of
//! 1536 floats are 11 MB). Moderations replies carry no text either, but they are small and some
//! compatible servers echo the input, so they are held like any other reply.

use super::protocol::Api;
use super::sse::StreamStats;

/// What the filter does with a reply's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyHandling {
    /// Forwarded as it comes, never held.
    PassThrough,
    /// Held (buffered or framed) for restoring and reply checks.
    Inspect,
}

/// Does a reply of this API carry text (the model's, or an echo of the request's)?
pub fn reply_carries_text(api: Api) -> bool {
    !matches!(api, Api::OpenAiEmbeddings | Api::PassThrough)
}

/// How to handle a reply: `restores` when this exchange issued placeholders and replies are
/// restored, `reply_checks` when threat scanning (links, canary) is on.
pub fn reply_handling(api: Api, restores: bool, reply_checks: bool) -> ReplyHandling {
    if reply_carries_text(api) && (restores || reply_checks) {
        ReplyHandling::Inspect
    } else {
        ReplyHandling::PassThrough
    }
}

/// Counts of a stream reported so far: each report adds only what is new, so counters move as
/// the stream flows and a stream cut by a reset or an abort has counted what it restored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamCounts {
    pub restored: u64,
    pub misses: u64,
    pub oversized: u64,
}

impl StreamCounts {
    /// What `stats` adds to the counts already reported; remembers them as reported.
    pub fn report(&mut self, stats: &StreamStats) -> StreamCounts {
        let fresh = StreamCounts {
            restored: stats.restored.saturating_sub(self.restored),
            misses: stats.misses.saturating_sub(self.misses),
            oversized: stats.oversized.saturating_sub(self.oversized),
        };
        self.restored = self.restored.max(stats.restored);
        self.misses = self.misses.max(stats.misses);
        self.oversized = self.oversized.max(stats.oversized);
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_free_replies_always_pass_and_text_replies_are_held_only_when_needed() {
        for api in Api::ALL {
            for restores in [false, true] {
                for checks in [false, true] {
                    let got = reply_handling(api, restores, checks);
                    let held = matches!(got, ReplyHandling::Inspect);
                    match api {
                        Api::OpenAiEmbeddings | Api::PassThrough => assert!(!held, "{api:?}"),
                        _ => assert_eq!(held, restores || checks, "{api:?} {restores} {checks}"),
                    }
                }
            }
        }
    }

    #[test]
    fn stream_counts_report_only_what_is_new() {
        let mut counts = StreamCounts::default();
        let mut stats = StreamStats { restored: 2, misses: 1, ..StreamStats::default() };
        assert_eq!(counts.report(&stats), StreamCounts { restored: 2, misses: 1, oversized: 0 });
        assert_eq!(counts.report(&stats), StreamCounts::default());
        stats.restored = 5;
        stats.oversized = 1;
        assert_eq!(counts.report(&stats), StreamCounts { restored: 3, misses: 0, oversized: 1 });
    }
}
