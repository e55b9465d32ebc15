//! Reply inspection: what a reply carries that it should not. Markdown links and images that
//! would send data to a host the operator did not allow, the system-prompt canary, and secrets or
//! personal data the request did not carry.
//!
//! Replies are inspected before placeholders are restored, so the originals this exchange masked
//! are never mistaken for a leak, and a link that embeds a placeholder is removed before an
//! original could be restored into it.

use super::entity::{EntityKind, Finding};
use crate::config::FilterConfig;

/// Counts of what one reply (or one part of it) carried.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplyFindings {
    pub exfiltration_links: u64,
    pub canary_leaks: u64,
    pub secrets: u64,
    pub pii: u64,
    pub rule_ids: Vec<&'static str>,
}

impl ReplyFindings {
    /// Findings that must not reach the client: the part carrying them is removed.
    pub fn must_remove(&self) -> bool {
        self.exfiltration_links > 0 || self.canary_leaks > 0
    }

    pub fn add(&mut self, other: ReplyFindings) {
        self.exfiltration_links += other.exfiltration_links;
        self.canary_leaks += other.canary_leaks;
        self.secrets += other.secrets;
        self.pii += other.pii;
        for id in other.rule_ids {
            if !self.rule_ids.contains(&id) {
                self.rule_ids.push(id);
            }
        }
    }

    /// `(metric kind, count)` pairs.
    pub fn by_kind(&self) -> [(&'static str, u64); 4] {
        [
            ("exfiltration_link", self.exfiltration_links),
            ("canary_leak", self.canary_leaks),
            ("secret", self.secrets),
            ("pii", self.pii),
        ]
    }
}

/// What replaces a reply text that carried a link to an outside host or the canary.
pub fn removal_notice(findings: &ReplyFindings) -> String {
    format!("[prompt-guard removed this content: {}]", findings.rule_ids.join(", "))
}

/// Links and the canary only: cheap enough to run on a sliding window of a stream.
pub fn scan_links(cfg: &FilterConfig, text: &str) -> ReplyFindings {
    let mut found = ReplyFindings::default();
    if !cfg.threats.enabled {
        return found;
    }
    for f in cfg.threats.reply.scan(text) {
        if f.rule_id == CANARY_RULE {
            found.canary_leaks += 1;
        } else {
            found.exfiltration_links += 1;
        }
        if !found.rule_ids.contains(&f.rule_id) {
            found.rule_ids.push(f.rule_id);
        }
    }
    found
}

/// The reply scanner's rule id for a canary appearing in a reply.
const CANARY_RULE: &str = "PG-RP-001";

/// Secrets and personal data in reply text (placeholders not yet restored, so everything found
/// here was not masked from this exchange's request).
pub fn scan_leaks(cfg: &FilterConfig, text: &str, buf: &mut Vec<Finding>) -> ReplyFindings {
    let mut found = ReplyFindings::default();
    if !cfg.threats.enabled {
        return found;
    }
    buf.clear();
    cfg.detector.detect(text, buf);
    for f in buf.iter() {
        match f.kind {
            EntityKind::Builtin(kind) if kind.is_secret() => found.secrets += 1,
            _ => found.pii += 1,
        }
    }
    found
}

/// Everything: links, canary, secrets and personal data.
pub fn scan_all(cfg: &FilterConfig, text: &str, buf: &mut Vec<Finding>) -> ReplyFindings {
    let mut found = scan_links(cfg, text);
    found.add(scan_leaks(cfg, text, buf));
    found
}
