//! Acting on personal data and secrets a reply carries that its exchange did not mask: the
//! operator's [`ReplyPolicy`] says, per type, whether a value passes, is redacted, is masked or
//! stops the reply.
//!
//! Runs on reply text before placeholders are restored, so a value of the client's that comes
//! back as its placeholder is never seen here (it is restored afterwards, whatever the policy);
//! a value found verbatim that the vault holds as an original is the client's too and passes.
//!
//! [`act_on_findings`] is the one-shot form (buffered replies, with the findings reply scanning
//! already made); [`StreamingLeakFilter`] the streamed one, holding back the last
//! [`HOLD_BACK_BYTES`] of a position's text so a value split across events is still caught whole.

use crate::detect::Detector;
use crate::entity::{EntityKind, Finding};
use crate::policy::reply::{ReplyAction, ReplyPolicy};
use crate::restore::Escape;
use crate::vault::Vault;

/// Text of a stream position held back until the detector has seen what follows it. A value no
/// longer than this is caught whole wherever the stream splits it; longer values (a PEM private
/// key block) are acted on only for what is still held when they are found.
pub const HOLD_BACK_BYTES: usize = 256;
/// Held text is scanned once this much more than the hold-back has gathered, so a stream of
/// small deltas is scanned in steps rather than once per delta.
pub const STEP_BYTES: usize = 128;
/// Most text one position holds while a value keeps growing (a PEM private key block is found
/// header first and grows to its footer): past it, what is found so far is acted on and released,
/// so a hostile stream cannot make the filter hold or rescan without bound.
pub const MAX_HELD_BYTES: usize = 16 * 1024;
/// Text already released that is scanned again in front of the held text, so context words
/// ("SSN:", "card number") that raise a value's confidence are seen as in one-shot scanning.
pub const CONTEXT_BYTES: usize = 256;

/// What the policy acts with: the detector, the policy and the exchange's vault (the client's
/// own originals pass).
#[derive(Clone, Copy)]
pub struct LeakRules<'a> {
    pub detector: &'a Detector,
    pub policy: &'a ReplyPolicy,
    pub vault: &'a Vault,
}

/// What was found and done: a count per type and action, and whether a value stops the reply.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LeakTally {
    pub acted: Vec<(EntityKind, ReplyAction, u64)>,
    /// A value whose action is [`ReplyAction::Stop`] was found.
    pub stop: bool,
}

impl LeakTally {
    fn count(&mut self, kind: EntityKind, action: ReplyAction) {
        match self.acted.iter_mut().find(|(k, a, _)| *k == kind && *a == action) {
            Some((_, _, n)) => *n += 1,
            None => self.acted.push((kind, action, 1)),
        }
        self.stop |= action == ReplyAction::Stop;
    }

    pub fn add(&mut self, other: &LeakTally) {
        for &(kind, action, n) in &other.acted {
            match self.acted.iter_mut().find(|(k, a, _)| *k == kind && *a == action) {
                Some((_, _, m)) => *m += n,
                None => self.acted.push((kind, action, n)),
            }
        }
        self.stop |= other.stop;
    }

    /// Values found, secrets and the rest: what reply scanning reports as leaks.
    pub fn secrets_and_pii(&self) -> (u64, u64) {
        self.acted.iter().fold((0, 0), |(s, p), (kind, _, n)| match kind {
            EntityKind::Builtin(b) if b.is_secret() => (s + n, p),
            _ => (s, p + n),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.acted.is_empty()
    }
}

/// Apply the policy to `findings` of `text` (sorted by start, not overlapping, as the detector
/// gives them). `Some(new text)` when a value was replaced. A value that stops the reply is also
/// redacted, so no caller can forward it by mistake.
pub fn act_on_findings(
    text: &str,
    findings: &[Finding],
    rules: &LeakRules<'_>,
    escape: Escape,
    tally: &mut LeakTally,
) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    // A value the vault holds as an original was the client's (masked in its request or
    // session); a synthetic fake this exchange issued is ours and is restored after the policy
    // has run. The client's own values, looked up once per finding (not compared with every entry).
    let own: std::collections::HashSet<&str> = if findings.is_empty() {
        std::collections::HashSet::new()
    } else {
        let synthetic = rules.vault.synthetic_entries().iter().map(|e| e.placeholder.as_str());
        rules.vault.entries().iter().map(|e| e.original.as_str()).chain(synthetic).collect()
    };
    for f in findings {
        let Some(value) = text.get(f.start..f.end) else { continue };
        if f.start < copied || own.contains(value) {
            continue;
        }
        let action = rules.policy.action(f.kind);
        tally.count(f.kind, action);
        if action == ReplyAction::Pass || !safe_to_replace(text, f.start, f.end, escape) {
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 32));
        o.push_str(text.get(copied..f.start).unwrap_or(""));
        match action {
            ReplyAction::Mask => push_masked(o, value, escape),
            _ => push_redaction(o, rules.detector.label(f.kind)),
        }
        copied = f.end;
    }
    let mut o = out?;
    o.push_str(text.get(copied..).unwrap_or(""));
    Some(o)
}

/// What a redacted value becomes.
pub fn redaction(label: &str) -> String {
    let mut s = String::new();
    push_redaction(&mut s, label);
    s
}

fn push_redaction(out: &mut String, label: &str) {
    out.push_str("[REDACTED:");
    out.push_str(label);
    out.push(']');
}

/// Letters and digits become `*`; everything else stays. In JSON-escaped text an escape
/// sequence (`\n`, `\u00e9`) is kept whole so the text still parses.
fn push_masked(out: &mut String, value: &str, escape: Escape) {
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if escape == Escape::JsonString && c == '\\' {
            out.push(c);
            match chars.next() {
                Some('u') => {
                    out.push('u');
                    out.extend(chars.by_ref().take(4));
                }
                Some(e) => out.push(e),
                None => {}
            }
        } else if c.is_alphanumeric() {
            out.push('*');
        } else {
            out.push(c);
        }
    }
}

/// In JSON-escaped text a value must not begin right after, or end right on, a backslash: the
/// replacement would split an escape sequence and the text would no longer parse.
fn safe_to_replace(text: &str, start: usize, end: usize, escape: Escape) -> bool {
    if escape != Escape::JsonString {
        return true;
    }
    let bytes = text.as_bytes();
    let odd_backslashes_before =
        |at: usize| bytes.get(..at).unwrap_or(&[]).iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1;
    !odd_backslashes_before(start) && !odd_backslashes_before(end)
}

/// Applies the policy to one streamed text (a chat choice's content, a tool call's arguments, a
/// content block) piece by piece, holding back the last [`HOLD_BACK_BYTES`] until what follows
/// them is known. Its output goes on to the placeholder restorer.
#[derive(Debug, Clone)]
pub struct StreamingLeakFilter {
    held: String,
    /// The last [`CONTEXT_BYTES`] (or so) already released, as they arrived.
    context: String,
    escape: Escape,
    findings: Vec<Finding>,
    /// The held length at which the next scan runs. It grows by half of what stays held, so a
    /// value that keeps the text held is rescanned a logarithmic number of times, not once per
    /// delta (the scanning stays linear in the text).
    next_scan: usize,
}

impl StreamingLeakFilter {
    pub fn new(escape: Escape) -> Self {
        StreamingLeakFilter {
            held: String::new(),
            context: String::new(),
            escape,
            findings: Vec::new(),
            next_scan: HOLD_BACK_BYTES + STEP_BYTES,
        }
    }

    /// The text currently held back.
    pub fn held(&self) -> &str {
        &self.held
    }

    /// The next piece; what is decided is appended to `out`.
    pub fn push(&mut self, text: &str, rules: &LeakRules<'_>, tally: &mut LeakTally, out: &mut String) {
        self.held.push_str(text);
        if self.held.len() >= self.next_scan {
            self.release(false, rules, tally, out);
        }
    }

    /// The text is complete: everything held is decided and appended to `out`.
    pub fn finish(&mut self, rules: &LeakRules<'_>, tally: &mut LeakTally, out: &mut String) {
        if !self.held.is_empty() {
            self.release(true, rules, tally, out);
        }
    }

    fn release(&mut self, last: bool, rules: &LeakRules<'_>, tally: &mut LeakTally, out: &mut String) {
        let lead = self.context.len();
        let mut scan = String::with_capacity(lead + self.held.len());
        scan.push_str(&self.context);
        scan.push_str(&self.held);
        self.findings.clear();
        rules.detector.detect(&scan, &mut self.findings);
        // Findings in the held text only (those starting in the context were decided already).
        let mut own: Vec<Finding> = self
            .findings
            .iter()
            .filter(|f| f.start >= lead)
            .map(|f| Finding { start: f.start - lead, end: f.end - lead, ..*f })
            .collect();
        let mut cut =
            if last { self.held.len() } else { floor_boundary(&self.held, self.held.len() - HOLD_BACK_BYTES) };
        if !last {
            // A value running over the cut is decided next time, whole; unless the position holds
            // too much already: then its part before the cut is acted on now.
            if let Some(f) = own.iter_mut().find(|f| f.start < cut && f.end > cut) {
                if self.held.len() > MAX_HELD_BYTES {
                    f.end = cut;
                } else {
                    cut = f.start;
                }
            }
            // Never between a backslash and the character it escapes.
            while cut > 0 && self.held.as_bytes().get(cut - 1) == Some(&b'\\') {
                cut -= 1;
            }
        }
        own.retain(|f| f.end <= cut);
        let part = self.held.get(..cut).unwrap_or("");
        match act_on_findings(part, &own, rules, self.escape, tally) {
            Some(changed) => out.push_str(&changed),
            None => out.push_str(part),
        }
        self.context.push_str(part);
        if self.context.len() > CONTEXT_BYTES {
            let from = ceil_boundary(&self.context, self.context.len() - CONTEXT_BYTES);
            self.context.drain(..from);
        }
        self.held.drain(..cut);
        self.next_scan = (self.held.len() + (self.held.len() / 2).max(STEP_BYTES)).max(HOLD_BACK_BYTES + STEP_BYTES);
    }
}

fn floor_boundary(s: &str, mut at: usize) -> usize {
    while at > 0 && !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(s: &str, mut at: usize) -> usize {
    while at < s.len() && !s.is_char_boundary(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::config::FilterConfig;

    fn cfg(policy: &str) -> FilterConfig {
        FilterConfig::from_json(format!(r#"{{"policy": {{"reply": {policy}}}}}"#).as_bytes()).unwrap()
    }

    fn one_shot(cfg: &FilterConfig, vault: &Vault, text: &str, escape: Escape) -> (String, LeakTally) {
        let rules = LeakRules { detector: &cfg.detector, policy: &cfg.policy.reply, vault };
        let mut found = Vec::new();
        cfg.detector.detect(text, &mut found);
        let mut tally = LeakTally::default();
        let out = act_on_findings(text, &found, &rules, escape, &mut tally).unwrap_or_else(|| text.to_owned());
        (out, tally)
    }

    const RECORD: &str = "Customer on file: card 4242 4242 4242 4242, SSN 536-90-4411, mail jane.doe@example.com.";

    #[test]
    fn each_action_does_what_it_says() {
        let c = cfg(r#"{"CREDIT_CARD": "mask", "US_SSN": "redact", "EMAIL": "pass"}"#);
        let v = Vault::with_capacity(4);
        let (out, tally) = one_shot(&c, &v, RECORD, Escape::None);
        assert_eq!(
            out,
            "Customer on file: card **** **** **** ****, SSN [REDACTED:US_SSN], mail jane.doe@example.com."
        );
        assert!(!tally.stop);
        assert_eq!(tally.secrets_and_pii(), (0, 3));
        let (out, tally) = one_shot(&cfg(r#"{"US_SSN": "stop"}"#), &v, RECORD, Escape::None);
        assert!(tally.stop);
        assert!(!out.contains("536-90-4411"), "{out}");
    }

    #[test]
    fn the_clients_own_values_pass() {
        let c = cfg(r#"{"default": "redact"}"#);
        let mut v = Vault::with_capacity(4);
        v.placeholder_for(&c.restore.grammar, "EMAIL", "jane.doe@example.com").unwrap();
        let (out, tally) = one_shot(&c, &v, RECORD, Escape::None);
        assert!(out.contains("jane.doe@example.com"), "{out}");
        assert!(!out.contains("4242"), "{out}");
        assert_eq!(tally.secrets_and_pii(), (0, 2));
    }

    #[test]
    fn masking_json_escaped_text_keeps_it_parseable() {
        let c = cfg(r#"{"default": "mask"}"#);
        let v = Vault::with_capacity(4);
        let inner = serde_json::json!({ "note": "card 4242 4242 4242 4242\nSSN 536-90-4411" }).to_string();
        let escaped = serde_json::Value::String(inner).to_string();
        let escaped = &escaped[1..escaped.len() - 1];
        let (out, _) = one_shot(&c, &v, escaped, Escape::JsonString);
        let outer: String = serde_json::from_str(&format!("\"{out}\"")).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&outer).unwrap();
        assert!(!doc["note"].as_str().unwrap().contains("4242"), "{doc}");
    }

    #[test]
    fn a_value_longer_than_the_hold_back_is_held_whole_up_to_the_cap() {
        let c = cfg(r#"{"PRIVATE_KEY": "redact"}"#);
        let v = Vault::with_capacity(4);
        let rules = LeakRules { detector: &c.detector, policy: &c.policy.reply, vault: &v };
        // Key material made here: base64 symbols from a fixed linear congruential sequence.
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x: u32 = 12345;
        let mut body = String::new();
        for i in 0..40 * 64 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            body.push(char::from(B64[((x >> 16) % 64) as usize]));
            if i % 64 == 63 {
                body.push('\n');
            }
        }
        let text = format!(
            "Here it is:\n-----BEGIN OPENSSH PRIVATE KEY-----\n{body}-----END OPENSSH PRIVATE KEY-----\nKeep it safe."
        );
        let (want, _) = one_shot(&c, &v, &text, Escape::None);
        assert!(want.contains("[REDACTED:PRIVATE_KEY]") && !want.contains("BEGIN"), "{want}");
        let mut f = StreamingLeakFilter::new(Escape::None);
        let (mut out, mut tally) = (String::new(), LeakTally::default());
        let chars: Vec<char> = text.chars().collect();
        for piece in chars.chunks(4) {
            f.push(&piece.iter().collect::<String>(), &rules, &mut tally, &mut out);
        }
        f.finish(&rules, &mut tally, &mut out);
        assert_eq!(out, want);

        // A block that never ends is released once the position holds the most it may.
        let endless = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}", body.repeat(16));
        let mut f = StreamingLeakFilter::new(Escape::None);
        let (mut out, mut tally) = (String::new(), LeakTally::default());
        for piece in endless.as_bytes().chunks(64) {
            f.push(std::str::from_utf8(piece).unwrap(), &rules, &mut tally, &mut out);
            assert!(f.held().len() <= MAX_HELD_BYTES + 64 + STEP_BYTES + MAX_HELD_BYTES / 2);
        }
        assert!(!out.is_empty() && !out.contains("BEGIN"), "{}", &out[..64.min(out.len())]);
    }

    /// Every split of the text into three pieces gives the one-shot result.
    #[test]
    fn streaming_gives_the_one_shot_result_at_every_split() {
        let c = cfg(r#"{"CREDIT_CARD": "mask", "US_SSN": "redact", "EMAIL": "redact"}"#);
        let v = Vault::with_capacity(4);
        let rules = LeakRules { detector: &c.detector, policy: &c.policy.reply, vault: &v };
        // Long enough that the hold-back releases text mid-stream, with values near the cuts.
        let filler = "The account was reviewed in the last quarter and nothing unusual was noted there. ";
        let text = format!("{filler}{filler}{filler}{RECORD} {filler}{filler}{RECORD}");
        let (want, want_tally) = one_shot(&c, &v, &text, Escape::None);
        let step = 7;
        for a in (0..=text.len()).step_by(step) {
            for b in (a..=text.len()).step_by(step * 5) {
                let (Some(p1), Some(p2), Some(p3)) = (text.get(..a), text.get(a..b), text.get(b..)) else {
                    continue;
                };
                let mut f = StreamingLeakFilter::new(Escape::None);
                let (mut out, mut tally) = (String::new(), LeakTally::default());
                for p in [p1, p2, p3] {
                    f.push(p, &rules, &mut tally, &mut out);
                    assert!(f.held().len() < HOLD_BACK_BYTES + STEP_BYTES + p.len());
                }
                f.finish(&rules, &mut tally, &mut out);
                assert_eq!(out, want, "cut at {a},{b}");
                assert_eq!(tally.secrets_and_pii(), want_tally.secrets_and_pii(), "cut at {a},{b}");
            }
        }
    }
}
