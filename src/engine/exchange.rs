//! One exchange, request then reply: what the filter decides about a body, independent of the
//! host that carries it.

use std::fmt;

use serde_json::Value;

use super::entity::Finding;
use super::mask::{MaskReport, Masker};
use super::memo::{MemoScope, Remembered};
use super::reply::{removal_notice, scan_all, ReplyFindings};
use super::threat::{check_hygiene, Action, HygieneViolation, Source, ThreatReport, Verdict};
use super::protocol::{inject_canary, visit_request, Api};
use super::restore::{restore_text, Escape, RestoreCounts};
use super::vault::Vault;
use crate::config::FilterConfig;

/// Why a request or reply is refused. Messages never contain body text.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    TooLarge { limit: usize },
    InvalidUtf8 { offset: usize },
    MalformedJson { line: usize, column: usize },
    NotAnObject,
    UnsupportedContentType { content_type: String },
    UnsupportedEncoding { encoding: String },
    /// A compressed body that did not decode.
    CorruptEncoding { encoding: String },
    TooManyEntities { capacity: usize },
    PromptTooLong { chars: usize, limit: usize },
    ControlCharacters { count: usize },
    /// A prompt attack above the block threshold. Carries rule ids and categories, never text.
    Threat { verdict: Verdict },
}

impl Rejection {
    pub const fn status(&self) -> u16 {
        match self {
            Rejection::TooLarge { .. } => 413,
            Rejection::UnsupportedContentType { .. } | Rejection::UnsupportedEncoding { .. } => 415,
            Rejection::Threat { .. } => 403,
            _ => 400,
        }
    }

    /// A short name for metrics, headers and error codes.
    pub const fn reason(&self) -> &'static str {
        match self {
            Rejection::TooLarge { .. } => "body_too_large",
            Rejection::InvalidUtf8 { .. } => "invalid_utf8",
            Rejection::MalformedJson { .. } | Rejection::NotAnObject => "malformed_json",
            Rejection::UnsupportedContentType { .. } => "unsupported_content_type",
            Rejection::UnsupportedEncoding { .. } => "unsupported_encoding",
            Rejection::CorruptEncoding { .. } => "corrupt_encoding",
            Rejection::TooManyEntities { .. } => "too_many_entities",
            Rejection::PromptTooLong { .. } => "prompt_too_long",
            Rejection::ControlCharacters { .. } => "control_characters",
            Rejection::Threat { .. } => "threat",
        }
    }

    /// A refusal the operator asked for (an attack, forbidden characters), as opposed to a body
    /// the filter could not inspect. `fail_open` never lets these through.
    pub const fn is_policy(&self) -> bool {
        matches!(self, Rejection::Threat { .. } | Rejection::ControlCharacters { .. })
    }

    /// Every reason, to declare metrics up front.
    pub const REASONS: [&'static str; 11] = [
        "body_too_large",
        "invalid_utf8",
        "malformed_json",
        "unsupported_content_type",
        "unsupported_encoding",
        "corrupt_encoding",
        "too_many_entities",
        "prompt_too_long",
        "control_characters",
        "threat",
        "internal",
    ];
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::TooLarge { limit } => write!(f, "request body is larger than the {limit} bytes this gateway inspects"),
            Rejection::InvalidUtf8 { offset } => write!(f, "request body is not valid UTF-8 (byte {offset})"),
            Rejection::MalformedJson { line, column } => {
                write!(f, "request body is not valid JSON (line {line}, column {column})")
            }
            Rejection::NotAnObject => f.write_str("request body must be a JSON object"),
            Rejection::UnsupportedContentType { content_type } => {
                write!(f, "content type '{content_type}' cannot be inspected on this route; send application/json")
            }
            Rejection::UnsupportedEncoding { encoding } => {
                write!(f, "content encoding '{encoding}' cannot be inspected; send identity or gzip")
            }
            Rejection::CorruptEncoding { encoding } => write!(f, "body does not decode as '{encoding}'"),
            Rejection::TooManyEntities { capacity } => {
                write!(f, "request holds more than {capacity} sensitive values, the most this gateway masks")
            }
            Rejection::PromptTooLong { chars, limit } => {
                write!(f, "a message of {chars} characters is longer than the {limit} this gateway accepts")
            }
            Rejection::ControlCharacters { count } => {
                write!(f, "request text contains {count} control characters or terminal escape sequences")
            }
            Rejection::Threat { verdict } => {
                let categories: Vec<&str> = verdict.categories.iter().map(|c| c.name()).collect();
                write!(
                    f,
                    "request blocked by prompt-guard: {} (rules {})",
                    categories.join(", "),
                    verdict.rule_ids.join(", ")
                )
            }
        }
    }
}

/// What was decided about a request that may go on.
#[derive(Debug, Default)]
pub struct RequestOutcome {
    /// The rewritten body; `None` when the original bytes go on unchanged.
    pub body: Option<Vec<u8>>,
    pub masked: MaskReport,
    /// Set when the request goes on flagged (never for a block: that is a [`Rejection`]).
    pub flagged: Option<Verdict>,
    /// Texts whose findings were remembered from an earlier request (see `memo`).
    pub memo_hits: u32,
}

impl From<HygieneViolation> for Rejection {
    fn from(v: HygieneViolation) -> Rejection {
        match v {
            HygieneViolation::TooLong { chars, limit } => Rejection::PromptTooLong { chars, limit },
            HygieneViolation::ControlCharacters { count } => Rejection::ControlCharacters { count },
        }
    }
}

/// Input hygiene, threat scanning and masking of one text, in that order: the scanner sees the
/// text as the client wrote it (less stripped control characters), the upstream sees it masked.
struct TextGuard<'a> {
    cfg: &'a FilterConfig,
    masker: Masker<'a>,
    report: ThreatReport,
    failure: Option<Rejection>,
    scope: MemoScope,
    memo_hits: u32,
}

impl<'a> TextGuard<'a> {
    fn new(cfg: &'a FilterConfig, scope: MemoScope) -> Self {
        TextGuard {
            cfg,
            masker: Masker::new(&cfg.detector, &cfg.restore.grammar),
            report: ThreatReport::default(),
            failure: None,
            scope,
            memo_hits: 0,
        }
    }

    /// Guard one text in place; returns whether it changed. After a failure, does nothing.
    fn guard(&mut self, text: &mut String, source: Source, vault: &mut Vault) -> bool {
        if self.failure.is_some() {
            return false;
        }
        let threats = &self.cfg.threats;
        let mut changed = false;
        if threats.enabled {
            match check_hygiene(text, &threats.hygiene) {
                Ok(std::borrow::Cow::Borrowed(_)) => {}
                Ok(std::borrow::Cow::Owned(clean)) => {
                    *text = clean;
                    changed = true;
                }
                Err(v) => {
                    self.failure = Some(v.into());
                    return false;
                }
            }
        }
        // A text an earlier request of the same caller carried was scanned then: what was found
        // is used again (see `memo`), and only the masking, which is this request's, runs.
        let memo = &self.cfg.memo;
        let key = memo.key(self.scope, source, text);
        let masked = match key.as_ref().and_then(|k| memo.get(k)) {
            Some(known) => {
                self.memo_hits += 1;
                self.report.merge(known.report);
                self.masker.mask_found(text, known.findings, vault)
            }
            None => {
                let report = if threats.enabled && threats.scanner.scans(source) {
                    threats.scanner.scan(text, source)
                } else {
                    ThreatReport::default()
                };
                let masked = self.masker.mask(text, vault);
                if let Some(key) = key {
                    memo.put(key, Remembered { findings: self.masker.findings().to_vec(), report: report.clone() });
                }
                self.report.merge(report);
                masked
            }
        };
        match masked {
            Ok(masked) => changed | masked,
            Err(full) => {
                self.failure = Some(Rejection::TooManyEntities { capacity: full.capacity });
                false
            }
        }
    }

    /// The outcome once every text was guarded.
    fn finish(self, body: Option<Vec<u8>>) -> Result<RequestOutcome, Rejection> {
        if let Some(failure) = self.failure {
            return Err(failure);
        }
        let mut flagged = None;
        if self.cfg.threats.enabled && !self.report.is_clean() {
            let verdict = self.cfg.threats.policy.decide(&self.report);
            match verdict.action {
                Action::Block => return Err(Rejection::Threat { verdict }),
                Action::Flag => flagged = Some(verdict),
                Action::Allow => {}
            }
        }
        Ok(RequestOutcome { body, masked: self.masker.report, flagged, memo_hits: self.memo_hits })
    }
}

/// Is the body JSON, by its declared content type? A missing type is tried as JSON.
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    match content_type {
        None => true,
        Some(ct) => {
            let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json") || media.is_empty()
        }
    }
}

/// Inspect and mask a whole request body.
pub fn guard_request(
    cfg: &FilterConfig,
    api: Api,
    body: &[u8],
    json: bool,
    vault: &mut Vault,
    scope: MemoScope,
) -> Result<RequestOutcome, Rejection> {
    if body.len() > cfg.max_body_bytes {
        return Err(Rejection::TooLarge { limit: cfg.max_body_bytes });
    }
    let text = std::str::from_utf8(body).map_err(|e| Rejection::InvalidUtf8 { offset: e.valid_up_to() })?;
    let grammar = &cfg.restore.grammar;
    let mut guard = TextGuard::new(cfg, scope);
    if !json {
        // A text body on a generic route: the whole body is one user text.
        vault.reserve_existing(grammar, text);
        let mut owned = text.to_owned();
        let changed = guard.guard(&mut owned, Source::User, vault);
        return guard.finish(changed.then(|| owned.into_bytes()));
    }
    let mut doc: Value = serde_json::from_str(text)
        .map_err(|e| Rejection::MalformedJson { line: e.line(), column: e.column() })?;
    if api != Api::Generic && !doc.is_object() {
        return Err(Rejection::NotAnObject);
    }
    // First pass: reserve placeholder-looking text anywhere in the request, so numbering never
    // collides with it whichever text comes first.
    visit_request(api, &mut doc, &mut |s, _| {
        vault.reserve_existing(grammar, s);
        false
    });
    let mut changed = visit_request(api, &mut doc, &mut |s, source| guard.guard(s, source, vault));
    if let (true, Some(canary)) = (cfg.threats.enabled, cfg.threats.canary.as_deref()) {
        // After masking, so the marker itself is never masked or scanned as user text.
        changed |= inject_canary(api, &mut doc, canary);
    }
    let body = changed.then(|| doc.to_string().into_bytes());
    guard.finish(body)
}

/// What was done to a whole reply.
#[derive(Debug, Default)]
pub struct ReplyOutcome {
    /// The new body, or `None` when it goes on unchanged.
    pub body: Option<Vec<u8>>,
    pub restore: RestoreCounts,
    pub findings: ReplyFindings,
    /// The body is not UTF-8: it was neither inspected nor restored.
    pub not_utf8: bool,
}

/// Inspect a whole reply body and restore this exchange's placeholders in it. JSON is handled
/// string by string (a string that carries a link to an outside host or the canary is replaced
/// by a notice); anything else as one text.
pub fn guard_reply(cfg: &FilterConfig, body: &[u8], vault: &Vault) -> ReplyOutcome {
    let mut outcome = ReplyOutcome::default();
    let Ok(text) = std::str::from_utf8(body) else {
        outcome.not_utf8 = true;
        return outcome;
    };
    let mut buf = Vec::new();
    match serde_json::from_str::<Value>(text) {
        Ok(mut doc) => {
            let changed = guard_value(&mut doc, None, cfg, vault, &mut outcome, &mut buf);
            outcome.body = changed.then(|| doc.to_string().into_bytes());
        }
        Err(_) => {
            let mut s = text.to_owned();
            if guard_string(&mut s, Escape::None, cfg, vault, &mut outcome, &mut buf) {
                outcome.body = Some(s.into_bytes());
            }
        }
    }
    outcome
}

/// One reply string: inspect, then restore (or replace by a notice). Returns whether it changed.
fn guard_string(
    s: &mut String,
    escape: Escape,
    cfg: &FilterConfig,
    vault: &Vault,
    outcome: &mut ReplyOutcome,
    buf: &mut Vec<Finding>,
) -> bool {
    let found = scan_all(cfg, s, buf);
    if found.must_remove() {
        *s = removal_notice(&found);
        outcome.findings.add(found);
        return true;
    }
    outcome.findings.add(found);
    if vault.is_empty() && !s.contains(cfg.restore.grammar.prefix()) {
        return false;
    }
    match restore_text(s, vault, &cfg.restore, escape, &mut outcome.restore) {
        std::borrow::Cow::Owned(new) => {
            *s = new;
            true
        }
        std::borrow::Cow::Borrowed(_) => false,
    }
}

/// Fields whose string value is itself JSON text: an original restored there must be escaped.
fn holds_json_text(key: Option<&str>) -> bool {
    matches!(key, Some("arguments") | Some("partial_json"))
}

fn guard_value(
    v: &mut Value,
    key: Option<&str>,
    cfg: &FilterConfig,
    vault: &Vault,
    outcome: &mut ReplyOutcome,
    buf: &mut Vec<Finding>,
) -> bool {
    match v {
        Value::String(s) => {
            let escape = if holds_json_text(key) { Escape::JsonString } else { Escape::None };
            guard_string(s, escape, cfg, vault, outcome, buf)
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, i| guard_value(i, key, cfg, vault, outcome, buf) | c),
        Value::Object(map) => map
            .iter_mut()
            .fold(false, |c, (k, i)| guard_value(i, Some(k.as_str()), cfg, vault, outcome, buf) | c),
        _ => false,
    }
}
