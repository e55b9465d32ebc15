//! A streamed reply, chunk by chunk: decode when the upstream compressed it anyway, apply the
//! reply policy to values the exchange did not mask (holding back the last few hundred bytes of
//! each text, see `restore::leaks`), restore what can be restored now, look for a link or the
//! canary in the last few KiB of text and stop the stream when one must not reach the client or
//! the policy says `stop`, and count what the whole text leaked at its end.

use super::guard::Guard;
use crate::config::FilterConfig;
use crate::encoding::{ContentEncoding, DecodeError, StreamDecoder};
use crate::event::{Event, ReplyFindingKind, StreamAnomaly, Unrestored};
use crate::plan::StreamCounts;
use crate::policy::PolicyId;
use crate::protocol::{error_event, Api, ErrorShape};
use crate::reply::{act_on_leaks, scan_leaks, scan_links};
use crate::restore::leaks::{LeakRules, LeakTally};
use crate::restore::Escape;
use crate::sse::{BodyShape, SseRestorer, StreamProtocol, StreamStart};
use crate::vault::Vault;

/// The exchange's reply policy's rules, when it acts on anything.
fn leak_rules<'a>(cfg: &'a FilterConfig, policy: PolicyId, vault: &'a Vault) -> Option<LeakRules<'a>> {
    let reply = &cfg.policy_of(policy).reply;
    reply.acts().then_some(LeakRules { detector: &cfg.detector, policy: reply, vault })
}

/// How much recent stream text a link or canary is looked for in: longer than any link worth
/// writing into a markdown image.
pub const LINK_WINDOW_BYTES: usize = 4096;

/// The reason (and, as `prompt_guard_<reason>`, the error code) of a reply the filter stopped.
pub const REPLY_BLOCKED: &str = "reply_blocked";
/// What the client reads when the reply policy stopped a reply.
pub const REPLY_STOPPED_MESSAGE: &str =
    "prompt-guard stopped this reply: it carried personal data or a secret that this gateway's policy does not let through";

/// What to do with one chunk of a streamed reply.
#[derive(Debug, PartialEq, Eq)]
pub enum StreamStep {
    /// Send these bytes in place of the chunk (the same bytes when nothing changed).
    Emit(Vec<u8>),
    /// The body declared as an event stream is a JSON document (typically an error body): hold
    /// it and restore it whole like a buffered reply, starting with this chunk.
    Rebuffer,
}

/// The state of one streamed reply.
pub struct StreamGuard {
    restorer: SseRestorer,
    /// Present when the upstream compressed the stream anyway.
    decoder: Option<StreamDecoder>,
    shape: ErrorShape,
    /// A decoding error or a removed reply ended the stream: what still arrives is dropped.
    stopped: bool,
    /// The stream saw its end (or was abandoned): nothing more is done.
    ended: bool,
    /// The last few KiB of reply text, where a link being written is looked for.
    window: String,
    /// All reply text (bounded), scanned for leaked secrets and personal data at the end.
    text: String,
    /// Tells an event stream from a JSON document by the body's first bytes.
    start: StreamStart,
    /// What of the restorer's counts went into events already.
    counts: StreamCounts,
    /// The exchange's policy (its reply policy acts on the stream).
    policy: PolicyId,
}

impl StreamGuard {
    /// A stream of `api` in `encoding` (identity when the upstream did not compress it), under
    /// the filter's default policy.
    pub fn new(cfg: &FilterConfig, api: Api, encoding: ContentEncoding) -> StreamGuard {
        StreamGuard::under(cfg, PolicyId::Default, api, encoding)
    }

    /// The same, under the exchange's `policy`.
    pub fn under(cfg: &FilterConfig, policy: PolicyId, api: Api, encoding: ContentEncoding) -> StreamGuard {
        let decoder = (encoding != ContentEncoding::Identity)
            // Inflated in bounded steps, and at most `max_response_bytes` in all.
            .then(|| StreamDecoder::new(encoding).with_limit(cfg.max_response_bytes));
        StreamGuard {
            restorer: SseRestorer::new(StreamProtocol::from(api)),
            decoder,
            shape: api.error_shape(),
            stopped: false,
            ended: false,
            window: String::new(),
            text: String::new(),
            start: StreamStart::default(),
            counts: StreamCounts::default(),
            policy,
        }
    }

    /// Did a decoding error or a removed reply stop the stream?
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Did the stream end (its last chunk, or [`StreamGuard::abandon`])?
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// One chunk; `end` when it is the last. Events go to `emit` as they happen, so a stream cut
    /// later by a reset or an abort has counted what it restored.
    pub fn push(
        &mut self,
        guard: &Guard,
        vault: &Vault,
        chunk: &[u8],
        end: bool,
        emit: &mut dyn FnMut(Event<'static>),
    ) -> StreamStep {
        let cfg = guard.config();
        if self.ended {
            return StreamStep::Emit(chunk.to_vec());
        }
        let leaks = leak_rules(cfg, self.policy, vault);
        // Only the first bytes of the body that are not white space decide (an event stream never
        // starts with `{` or `[`); a later chunk that happens to start so is inside an event.
        let body_shape = if self.decoder.is_none() { self.start.observe(chunk) } else { None };
        if body_shape == Some(BodyShape::JsonDocument) {
            emit(Event::Stream { anomaly: StreamAnomaly::NotSse, count: 1 });
            self.ended = true;
            return StreamStep::Rebuffer;
        }
        let mut out = Vec::with_capacity(chunk.len() + 32);
        if self.stopped {
            // Nothing more after the error event.
        } else if let Some(decoder) = &mut self.decoder {
            // Each inflated step goes to the restorer at once: the decoded chunk is never held whole.
            let restorer = &mut self.restorer;
            let spec = &cfg.restore;
            let mut result = decoder.push_each(chunk, |piece| restorer.push_with(piece, vault, spec, leaks, &mut out));
            if result.is_ok() && end {
                // A gzip stream cut short or with a bad trailer is only seen at its end.
                result = decoder.finish(|piece| restorer.push_with(piece, vault, spec, leaks, &mut out));
            }
            if let Err(e) = result {
                self.restorer.abandon_with(vault, spec, leaks, &mut out);
                let (code, message) = match e {
                    DecodeError::TooLarge { .. } => {
                        emit(Event::Stream { anomaly: StreamAnomaly::InflateLimit, count: 1 });
                        log::warn!("prompt-guard: compressed stream inflated past max_response_bytes; ended");
                        (
                            "prompt_guard_response_too_large",
                            "the upstream stream inflates past the size this gateway inspects; it ends here",
                        )
                    }
                    _ => {
                        emit(Event::Unrestored(Unrestored::CorruptEncoding));
                        ("prompt_guard_corrupt_encoding", "the upstream stream could not be decoded; it ends here")
                    }
                };
                out.extend_from_slice(&error_event(self.shape, code, message));
                self.stopped = true;
            }
        } else {
            self.restorer.push_with(chunk, vault, &cfg.restore, leaks, &mut out);
        }
        self.stop_for_policy(&mut out);
        if !self.stopped && cfg.threats.enabled && self.absorb_text(cfg.max_response_bytes) {
            let found = scan_links(cfg, vault, &self.window);
            if found.must_remove() {
                // What was already sent cannot be taken back; the event that completed the link
                // (or carried the canary) is replaced and the stream ends with an error event.
                out = error_event(
                    self.shape,
                    "prompt_guard_reply_blocked",
                    "prompt-guard stopped this reply: a link in it carried this conversation's data or went to a denied host, or it leaked the system prompt",
                );
                self.stopped = true;
                emit(Event::ReplyFinding { kind: found.stopping_kind(), count: 1 });
                log::warn!("prompt-guard: stream stopped, rules {}", found.rule_ids.join(","));
            }
        }
        if end {
            if !self.stopped {
                self.restorer.finish_with(vault, &cfg.restore, leaks, &mut out);
                self.stop_for_policy(&mut out);
            }
            let stats = self.restorer.stats();
            if stats.truncated {
                emit(Event::Stream { anomaly: StreamAnomaly::Truncated, count: 1 });
            }
            if stats.not_sse {
                emit(Event::Stream { anomaly: StreamAnomaly::NotSse, count: 1 });
            }
            self.ended = true;
        }
        self.report_counts(emit);
        if end {
            self.count_leaks(cfg, vault, emit);
        }
        StreamStep::Emit(out)
    }

    /// A value whose type the reply policy stops was found: what this chunk would send is
    /// replaced by an error event and the stream ends (what went before cannot be taken back,
    /// but the value itself was held back and never sent).
    fn stop_for_policy(&mut self, out: &mut Vec<u8>) {
        if self.stopped || !self.restorer.leak_tally().stop {
            return;
        }
        *out = error_event(self.shape, &format!("prompt_guard_{REPLY_BLOCKED}"), REPLY_STOPPED_MESSAGE);
        self.stopped = true;
        log::warn!("prompt-guard: stream stopped by the reply policy");
    }

    /// The exchange ended without the stream's end (an upstream reset, a client abort): counted
    /// as truncated, with what was held of its text checked for leaks.
    pub fn abandon(&mut self, guard: &Guard, vault: &Vault, emit: &mut dyn FnMut(Event<'static>)) {
        let cfg = guard.config();
        if self.ended {
            return;
        }
        self.ended = true;
        emit(Event::Stream { anomaly: StreamAnomaly::Truncated, count: 1 });
        self.report_counts(emit);
        self.count_leaks(cfg, vault, emit);
    }

    /// Take the text the restorer saw in the last push into the window and the whole-text
    /// record; returns whether a link may have just been completed.
    fn absorb_text(&mut self, limit: usize) -> bool {
        let fresh = self.restorer.take_text();
        if fresh.is_empty() {
            return false;
        }
        if self.text.len() + fresh.len() <= limit {
            self.text.push_str(&fresh);
        }
        self.window.push_str(&fresh);
        if self.window.len() > LINK_WINDOW_BYTES {
            let mut cut = self.window.len() - LINK_WINDOW_BYTES;
            while !self.window.is_char_boundary(cut) {
                cut += 1;
            }
            self.window.drain(..cut);
        }
        true
    }

    /// What the stream restored and missed since the last report.
    fn report_counts(&mut self, emit: &mut dyn FnMut(Event<'static>)) {
        let fresh = self.counts.report(&self.restorer.stats());
        emit(Event::Restored(fresh.restored));
        emit(Event::Misses(fresh.misses));
        emit(Event::Stream { anomaly: StreamAnomaly::OversizedEvent, count: fresh.oversized });
    }

    /// Secrets and personal data in the text the stream carried, by type and what the reply
    /// policy did with them. When the policy acts, its filters saw every value as it passed;
    /// otherwise the whole text is scanned once here (counted, never removed).
    fn count_leaks(&mut self, cfg: &FilterConfig, vault: &Vault, emit: &mut dyn FnMut(Event<'static>)) {
        let reply = &cfg.policy_of(self.policy).reply;
        let (secrets, pii, tally) = if reply.acts() {
            let tally = self.restorer.leak_tally().clone();
            let (secrets, pii) = tally.secrets_and_pii();
            (secrets, pii, tally)
        } else if cfg.threats.enabled {
            let mut buf = Vec::new();
            let leaks = scan_leaks(cfg, reply, &self.text, &mut buf);
            let mut tally = LeakTally::default();
            act_on_leaks(cfg, reply, vault, &self.text, Escape::None, &buf, &mut tally);
            (leaks.secrets, leaks.pii, tally)
        } else {
            (0, 0, LeakTally::default())
        };
        emit(Event::ReplyFinding { kind: ReplyFindingKind::Secret, count: secrets });
        emit(Event::ReplyFinding { kind: ReplyFindingKind::Pii, count: pii });
        for (kind, action, count) in tally.acted {
            emit(Event::ReplyEntity { kind, action, count });
        }
        self.text = String::new();
    }
}
