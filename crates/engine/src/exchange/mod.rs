//! One exchange, request then reply: what the filter decides about a body, independent of the
//! host that carries it.

pub mod audit;
mod flow;
mod guard;
mod refusal;
mod reply_plan;
mod streaming;

pub use audit::{AuditRecord, AuditTrail, HostFacts, AUDIT_PROPERTY, TYPES_HEADER};
pub use flow::{
    BodyDecision, Exchange, ReplyDecision, ReplyMode, RequestHeaders, RequestPlan, Sessions, CALLER_HEADERS,
};
pub use guard::Guard;
pub use refusal::{
    count_verdict, verdict_headers, LocalReply, Refusal, CATEGORIES_HEADER, FAIL_OPEN_HEADER, MASKED_HEADER,
    POLICY_HEADER, REJECTED_HEADER, RULES_HEADER, SCORE_HEADER,
};
pub use reply_plan::{buffered_over_limit, is_event_stream, plan_reply, ReplyHead, ReplyPlan};
pub use streaming::{StreamGuard, StreamStep, LINK_WINDOW_BYTES};

use std::fmt;

use serde_json::Value;

use super::encoding::DecodeError;
use super::entity::Finding;
use super::event::{Label, Reason};
use super::mask::{MaskReport, Masker, Spreader};
use super::memo::{MemoScope, Remembered};
use super::protocol::form;
use super::protocol::json::{self, parse_strict, JsonError};
use super::protocol::multipart::{self, Multipart, MultipartError};
use super::protocol::{inject_canary, is_signed_block, rename_keys, visit_request, Api, Field, TextFn};
use super::reply::{act_on_leaks, removal_notice, scan_all_under, PromptPrint, ReplyFindings};
use super::restore::leaks::LeakTally;
use super::restore::{placeholder_lookalikes, restore_text, Escape, RestoreCounts};
use super::sse::{restore_tree, StreamProtocol};
use super::threat::{check_hygiene, Action, HygieneViolation, Source, ThreatReport, Verdict};
use super::vault::Vault;
use crate::config::FilterConfig;
use crate::policy::{Policy, ReplyPolicy};

/// Why a request or reply is refused. Messages never contain body text.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    TooLarge {
        limit: usize,
    },
    InvalidUtf8 {
        offset: usize,
    },
    MalformedJson {
        line: usize,
        column: usize,
    },
    /// A key repeated in one JSON object: the filter and the provider could read different bodies.
    DuplicateKey,
    NotAnObject,
    /// A multipart body whose framing could not be read.
    MalformedMultipart,
    UnsupportedContentType {
        content_type: String,
    },
    UnsupportedEncoding {
        encoding: String,
    },
    /// A compressed body that did not decode.
    CorruptEncoding {
        encoding: String,
    },
    TooManyEntities {
        capacity: usize,
    },
    PromptTooLong {
        chars: usize,
        limit: usize,
    },
    ControlCharacters {
        count: usize,
    },
    /// A prompt attack above the block threshold. Carries rule ids and categories, never text.
    Threat {
        verdict: Verdict,
    },
    /// The trusted policy header names a policy this configuration does not have: no policy is
    /// assumed (the default may be weaker than the one the caller's tenant was given).
    UnknownPolicy,
}

impl Rejection {
    pub const fn status(&self) -> u16 {
        match self {
            Rejection::TooLarge { .. } => 413,
            Rejection::UnsupportedContentType { .. } | Rejection::UnsupportedEncoding { .. } => 415,
            Rejection::Threat { .. } | Rejection::UnknownPolicy => 403,
            _ => 400,
        }
    }

    /// Why, as a typed label (metrics, the rejection header, error codes).
    pub const fn kind(&self) -> Reason {
        match self {
            Rejection::TooLarge { .. } => Reason::BodyTooLarge,
            Rejection::InvalidUtf8 { .. } => Reason::InvalidUtf8,
            Rejection::MalformedJson { .. } | Rejection::NotAnObject => Reason::MalformedJson,
            Rejection::DuplicateKey => Reason::DuplicateKey,
            Rejection::MalformedMultipart => Reason::MalformedMultipart,
            Rejection::UnsupportedContentType { .. } => Reason::UnsupportedContentType,
            Rejection::UnsupportedEncoding { .. } => Reason::UnsupportedEncoding,
            Rejection::CorruptEncoding { .. } => Reason::CorruptEncoding,
            Rejection::TooManyEntities { .. } => Reason::TooManyEntities,
            Rejection::PromptTooLong { .. } => Reason::PromptTooLong,
            Rejection::ControlCharacters { .. } => Reason::ControlCharacters,
            Rejection::Threat { .. } => Reason::Threat,
            Rejection::UnknownPolicy => Reason::UnknownPolicy,
        }
    }

    /// A short name for metrics, headers and error codes.
    pub fn reason(&self) -> &'static str {
        self.kind().label()
    }

    /// A body the filter could not read (too large, not UTF-8, not JSON, an encoding or content
    /// type it cannot decode): the only refusals `fail_open` may turn into forwarding the body
    /// uninspected. A body that was read is never forwarded with values in clear: too many values,
    /// a text over the length limit, a duplicate key, an attack or forbidden characters are
    /// refused in either mode.
    pub const fn fails_open(&self) -> bool {
        matches!(
            self,
            Rejection::TooLarge { .. }
                | Rejection::InvalidUtf8 { .. }
                | Rejection::MalformedJson { .. }
                | Rejection::NotAnObject
                | Rejection::MalformedMultipart
                | Rejection::UnsupportedContentType { .. }
                | Rejection::UnsupportedEncoding { .. }
                | Rejection::CorruptEncoding { .. }
        )
    }

    /// Every reason, to declare metrics up front (with `internal`, a host failure).
    pub const REASONS: &'static [Reason] = <Reason as Label>::ALL;
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::TooLarge { limit } => {
                write!(f, "request body is larger than the {limit} bytes this gateway inspects")
            }
            Rejection::InvalidUtf8 { offset } => write!(f, "request body is not valid UTF-8 (byte {offset})"),
            Rejection::MalformedJson { line, column } => {
                write!(f, "request body is not valid JSON (line {line}, column {column})")
            }
            Rejection::NotAnObject => f.write_str("request body must be a JSON object"),
            Rejection::DuplicateKey => {
                f.write_str("request body repeats a key inside one JSON object; send each key once")
            }
            Rejection::MalformedMultipart => f.write_str("request body is not readable multipart/form-data"),
            Rejection::UnsupportedContentType { content_type } => {
                write!(f, "content of type '{content_type}' cannot be inspected on this route")
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
            Rejection::UnknownPolicy => {
                f.write_str("the policy this request was assigned is not configured on this gateway")
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

impl From<DecodeError> for Rejection {
    fn from(e: DecodeError) -> Rejection {
        match e {
            DecodeError::Unsupported { encoding } => Rejection::UnsupportedEncoding { encoding },
            DecodeError::Corrupt { encoding } => Rejection::CorruptEncoding { encoding: encoding.to_owned() },
            DecodeError::TooLarge { limit } => Rejection::TooLarge { limit },
        }
    }
}

/// The event dialect a streamed reply of this API speaks.
impl From<Api> for StreamProtocol {
    fn from(api: Api) -> StreamProtocol {
        match api {
            Api::OpenAiChat => StreamProtocol::OpenAiChat,
            Api::OpenAiResponses => StreamProtocol::OpenAiResponses,
            Api::OpenAiCompletions => StreamProtocol::OpenAiCompletions,
            Api::AnthropicMessages => StreamProtocol::AnthropicMessages,
            Api::OpenAiEmbeddings
            | Api::OpenAiModerations
            | Api::OpenAiConversations
            | Api::OpenAiAssistants
            | Api::OpenAiBatches
            | Api::OpenAiFiles
            | Api::AnthropicBatches
            | Api::Generic
            | Api::PassThrough => StreamProtocol::Generic,
        }
    }
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
    scope: MemoScope<'a>,
    memo_hits: u32,
}

impl<'a> TextGuard<'a> {
    fn new(cfg: &'a FilterConfig, policy: &'a Policy, scope: MemoScope<'a>) -> Self {
        TextGuard {
            cfg,
            masker: Masker::new(&cfg.detector, &cfg.restore.grammar, policy, &cfg.keys),
            report: ThreatReport::default(),
            failure: None,
            scope,
            memo_hits: 0,
        }
    }

    /// Guard one text in place; returns whether it changed. After a failure, does nothing.
    fn guard(&mut self, text: &mut String, field: Field<'_>, vault: &mut Vault) -> bool {
        let source = field.source;
        if self.failure.is_some() {
            return false;
        }
        let threats = &self.cfg.threats;
        let mut changed = false;
        // Input hygiene runs whether or not threat scanning is on: it is about what may be
        // forwarded at all.
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
        // A text an earlier request of the same caller carried was scanned then: what was found
        // is used again (see `memo`), and only the masking, which is this request's, runs.
        let memo = self.scope;
        // A value read with its key is not remembered: its findings depend on the key.
        let key = if field.key.is_some() { None } else { memo.key(source, text) };
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
                let masked = self.masker.mask_field(field.key, text, vault);
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

/// How a request body is framed, from its declared content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind<'a> {
    Json,
    /// Any other text: one user text.
    Text,
    /// `multipart/*` (file uploads): each part on its own (see [`guard_request_as`]).
    Multipart {
        content_type: &'a str,
    },
    /// `application/x-www-form-urlencoded`: each name and value, decoded.
    Form,
}

impl<'a> BodyKind<'a> {
    pub fn from_content_type(content_type: Option<&'a str>) -> BodyKind<'a> {
        match content_type {
            Some(ct) if multipart::is_multipart(Some(ct)) => BodyKind::Multipart { content_type: ct },
            ct if form::is_form(ct) => BodyKind::Form,
            ct if is_json_content_type(ct) => BodyKind::Json,
            _ => BodyKind::Text,
        }
    }
}

/// Inspect and mask a whole request body, JSON (`json`) or text.
pub fn guard_request(
    cfg: &FilterConfig,
    api: Api,
    body: &[u8],
    json: bool,
    vault: &mut Vault,
    scope: MemoScope<'_>,
) -> Result<RequestOutcome, Rejection> {
    guard_request_as(cfg, api, body, if json { BodyKind::Json } else { BodyKind::Text }, vault, scope)
}

/// One piece of a request that is inspected on its own: the JSON body, a text body, a part of a
/// multipart upload or one line of a JSONL file in it.
enum Unit {
    Json {
        doc: Value,
        api: Api,
        changed: bool,
    },
    Text {
        text: String,
        changed: bool,
    },
    /// A value filed under a name (a form field): read with its name, as a JSON value with its key.
    Labelled {
        label: String,
        text: String,
        changed: bool,
    },
}

impl Unit {
    fn json(text: &str, api: Api) -> Result<Unit, Rejection> {
        let doc = parse_strict(text).map_err(|e| match e {
            JsonError::Malformed { line, column } => Rejection::MalformedJson { line, column },
            JsonError::DuplicateKey => Rejection::DuplicateKey,
        })?;
        Ok(Unit::Json { doc, api, changed: false })
    }

    /// Visit every text of this unit; remembers whether any changed.
    fn visit(&mut self, f: &mut TextFn<'_>) {
        match self {
            Unit::Json { doc, api, changed } => *changed |= visit_request(*api, doc, f),
            Unit::Text { text, changed } => *changed |= f(text, Field::text(Source::User)),
            Unit::Labelled { label, text, changed } => {
                *changed |= f(text, Field { source: Source::User, key: Some(label.as_str()) });
            }
        }
    }

    fn changed(&self) -> bool {
        match self {
            Unit::Json { changed, .. } | Unit::Text { changed, .. } | Unit::Labelled { changed, .. } => *changed,
        }
    }

    /// The unit's bytes, written into a buffer sized from `hint` (see [`json::to_vec_sized`]).
    fn to_bytes(&self, hint: usize) -> Vec<u8> {
        match self {
            Unit::Json { doc, .. } => json::to_vec_sized(doc, hint),
            Unit::Text { text, .. } | Unit::Labelled { text, .. } => text.clone().into_bytes(),
        }
    }

    fn to_text(&self) -> String {
        match self {
            Unit::Json { doc, .. } => doc.to_string(),
            Unit::Text { text, .. } | Unit::Labelled { text, .. } => text.clone(),
        }
    }
}

/// Reserve, guard, then spread over every unit of a request, in three passes, so that numbering
/// never collides with placeholder-looking text anywhere in it and a value found in any unit is
/// masked in every unit.
fn guard_units(guard: &mut TextGuard<'_>, units: &mut [Unit], vault: &mut Vault) {
    let spec = &guard.cfg.restore;
    for unit in units.iter_mut() {
        unit.visit(&mut |s, _| {
            placeholder_lookalikes(s, spec, |label, number| vault.reserve(label, number));
            false
        });
    }
    for unit in units.iter_mut() {
        unit.visit(&mut |s, field| guard.guard(s, field, vault));
    }
    if guard.failure.is_some() {
        return;
    }
    // Last pass: spread the vault's values, and note what the model is shown for the reply's link
    // checks (only when replies are inspected).
    let spreader = Spreader::new(vault, guard.masker.irreversible());
    let mut print = guard.cfg.threats.enabled.then(PromptPrint::default);
    if spreader.is_some() || print.is_some() {
        let report = &mut guard.masker.report;
        for unit in units.iter_mut() {
            unit.visit(&mut |s, _| {
                let changed = spreader.as_ref().is_some_and(|sp| sp.apply(s, report));
                if let Some(p) = print.as_mut() {
                    p.add_text(s);
                }
                changed
            });
        }
    }
    if let Some(mut print) = print {
        print.seal();
        vault.set_prompt_print(print);
    }
    vault.seal_synthetic();
}

/// Inspect and mask a whole request body of the given framing, under the filter's default policy.
pub fn guard_request_as(
    cfg: &FilterConfig,
    api: Api,
    body: &[u8],
    kind: BodyKind<'_>,
    vault: &mut Vault,
    scope: MemoScope<'_>,
) -> Result<RequestOutcome, Rejection> {
    guard_request_under(cfg, &cfg.policy, api, body, kind, vault, scope)
}

/// Inspect and mask a whole request body of the given framing under `policy` (the exchange's,
/// see `FilterConfig::select_policy`).
pub fn guard_request_under(
    cfg: &FilterConfig,
    policy: &Policy,
    api: Api,
    body: &[u8],
    kind: BodyKind<'_>,
    vault: &mut Vault,
    scope: MemoScope<'_>,
) -> Result<RequestOutcome, Rejection> {
    if body.len() > cfg.max_body_bytes {
        return Err(Rejection::TooLarge { limit: cfg.max_body_bytes });
    }
    if let BodyKind::Multipart { content_type } = kind {
        return guard_multipart(cfg, policy, api, body, content_type, vault, scope);
    }
    let text = std::str::from_utf8(body).map_err(|e| Rejection::InvalidUtf8 { offset: e.valid_up_to() })?;
    let mut guard = TextGuard::new(cfg, policy, scope);
    if kind == BodyKind::Form {
        let mut pairs = form::parse(text);
        let mut units: Vec<Unit> = pairs
            .iter()
            .flat_map(|p| {
                [
                    Unit::Text { text: p.name.clone(), changed: false },
                    Unit::Labelled { label: p.name.clone(), text: p.value.clone(), changed: false },
                ]
            })
            .collect();
        guard_units(&mut guard, &mut units, vault);
        if !units.iter().any(Unit::changed) {
            return guard.finish(None);
        }
        for (pair, unit) in pairs.iter_mut().zip(units.chunks(2)) {
            if let [Unit::Text { text: name, .. }, Unit::Labelled { text: value, .. }] = unit {
                pair.name.clone_from(name);
                pair.value.clone_from(value);
            }
        }
        return guard.finish(Some(form::serialize(&pairs).into_bytes()));
    }
    let as_text = || Unit::Text { text: text.to_owned(), changed: false };
    let mut unit = match kind {
        BodyKind::Json => match Unit::json(text, api) {
            Ok(unit) => unit,
            // On a generic route a body that is not JSON after all is text, and masked as such.
            Err(Rejection::MalformedJson { .. }) if api == Api::Generic => as_text(),
            Err(rejection) => return Err(rejection),
        },
        _ => as_text(),
    };
    if let Unit::Json { doc, .. } = &unit {
        if api != Api::Generic && !doc.is_object() {
            return Err(Rejection::NotAnObject);
        }
    }
    guard_units(&mut guard, std::slice::from_mut(&mut unit), vault);
    if let (Unit::Json { doc, changed, .. }, true, Some(canary)) =
        (&mut unit, cfg.threats.enabled, cfg.threats.canary.as_deref())
    {
        // After masking, so the marker itself is never masked or scanned as user text.
        *changed |= inject_canary(api, doc, canary);
    }
    let body = unit.changed().then(|| unit.to_bytes(text.len()));
    guard.finish(body)
}

/// Media a multipart part may carry that the filter passes as it is, like base64 media in JSON:
/// not text the detectors can read, and rewriting it would corrupt it.
fn is_media(media_type: &str) -> bool {
    ["image/", "audio/", "video/"].iter().any(|p| media_type.starts_with(p))
}

/// A multipart upload: media parts pass; every other part must be text. A text part whose
/// non-empty lines are all JSON (a batch input file) is guarded line by line as requests, any
/// other text part as one user text. A part that is neither media nor text cannot be inspected.
fn guard_multipart(
    cfg: &FilterConfig,
    policy: &Policy,
    api: Api,
    body: &[u8],
    content_type: &str,
    vault: &mut Vault,
    scope: MemoScope<'_>,
) -> Result<RequestOutcome, Rejection> {
    let mut form = Multipart::parse(body, content_type).map_err(|_: MultipartError| Rejection::MalformedMultipart)?;
    // Per part: the units that make it up, each with the line ending that follows it (JSONL).
    let mut layout: Vec<Option<Vec<(usize, &str)>>> = Vec::with_capacity(form.parts.len());
    let mut units = Vec::new();
    // What each unit was, written back as it came when nothing in it changed.
    let mut originals: Vec<&str> = Vec::new();
    let line_api = if api == Api::OpenAiFiles { Api::OpenAiBatches } else { api };
    for part in &form.parts {
        let media = part.media_type();
        if is_media(&media) {
            layout.push(None);
            continue;
        }
        let text = std::str::from_utf8(&part.content)
            .map_err(|_| Rejection::UnsupportedContentType { content_type: media.chars().take(60).collect() })?;
        let jsonl = text.contains('{')
            && text.lines().all(|l| {
                let l = l.trim();
                l.is_empty() || (l.starts_with('{') && l.ends_with('}'))
            });
        let mut pieces = Vec::new();
        if jsonl {
            for line in text.split_inclusive('\n') {
                let content = line.trim_end_matches(['\n', '\r']);
                let unit = if content.trim().is_empty() {
                    Unit::Text { text: String::new(), changed: false }
                } else {
                    Unit::json(content, line_api)?
                };
                units.push(unit);
                originals.push(content);
                pieces.push((units.len() - 1, &line[content.len()..]));
            }
        } else {
            units.push(Unit::Text { text: text.to_owned(), changed: false });
            originals.push(text);
            pieces.push((units.len() - 1, ""));
        }
        layout.push(Some(pieces));
    }
    let mut guard = TextGuard::new(cfg, policy, scope);
    guard_units(&mut guard, &mut units, vault);
    // The new content of each part that changed (read from the parts, so written after).
    let rewritten: Vec<Option<Vec<u8>>> = layout
        .iter()
        .map(|pieces| {
            let pieces = pieces.as_ref()?;
            if !pieces.iter().any(|(i, _)| units.get(*i).is_some_and(Unit::changed)) {
                return None;
            }
            let mut content = String::new();
            for (i, end) in pieces {
                match units.get(*i) {
                    Some(unit) if unit.changed() => content.push_str(&unit.to_text()),
                    _ => content.push_str(originals.get(*i).copied().unwrap_or("")),
                }
                content.push_str(end);
            }
            Some(content.into_bytes())
        })
        .collect();
    let mut changed = false;
    for (part, new) in form.parts.iter_mut().zip(rewritten) {
        if let Some(new) = new {
            part.content = new;
            changed = true;
        }
    }
    guard.finish(changed.then(|| form.to_bytes()))
}

/// What was done to a whole reply.
#[derive(Debug, Default)]
pub struct ReplyOutcome {
    /// The new body, or `None` when it goes on unchanged.
    pub body: Option<Vec<u8>>,
    pub restore: RestoreCounts,
    pub findings: ReplyFindings,
    /// Values the exchange did not mask, by type and what the reply policy did with them.
    pub leaks: LeakTally,
    /// The body is not UTF-8: it was neither inspected nor restored.
    pub not_utf8: bool,
}

impl ReplyOutcome {
    /// The events that count what the reply's check did: restored placeholders, misses, findings
    /// by kind and what the reply policy did with values the exchange did not mask.
    pub fn emit_counts(&self, emit: &mut dyn FnMut(super::event::Event<'_>)) {
        use super::event::Event;
        emit(Event::Restored(self.restore.restored));
        emit(Event::Misses(self.restore.misses));
        for (kind, count) in self.findings.by_kind() {
            emit(Event::ReplyFinding { kind, count });
        }
        for &(kind, action, count) in &self.leaks.acted {
            emit(Event::ReplyEntity { kind, action, count });
        }
    }
}

/// Inspect a whole reply body and restore this exchange's placeholders in it. JSON is handled
/// string by string (a string that carries a link to an outside host or the canary is replaced
/// by a notice); anything else as one text. Under the filter's default policy.
pub fn guard_reply(cfg: &FilterConfig, body: &[u8], vault: &Vault) -> ReplyOutcome {
    guard_reply_under(cfg, &cfg.policy, body, vault)
}

/// The same under the exchange's `policy` (its reply policy acts on what the exchange did not
/// mask).
pub fn guard_reply_under(cfg: &FilterConfig, policy: &Policy, body: &[u8], vault: &Vault) -> ReplyOutcome {
    let on = ReplyCheck { cfg, reply: &policy.reply, vault };
    let mut outcome = ReplyOutcome::default();
    let Ok(text) = std::str::from_utf8(body) else {
        outcome.not_utf8 = true;
        return outcome;
    };
    let mut buf = Vec::new();
    match serde_json::from_str::<Value>(text) {
        Ok(mut doc) => {
            let changed = match doc.as_object_mut() {
                Some(map) => map.iter_mut().fold(false, |c, (k, v)| {
                    let changed = if ECHOED_REQUEST_FIELDS.contains(&k.as_str()) {
                        // The API's copy of what the client sent: restored, never judged as
                        // the model's output (the canary sits there by design).
                        restore_tree(v, vault, &cfg.restore, &mut outcome.restore)
                    } else {
                        guard_value(v, Some(k.as_str()), &on, &mut outcome, &mut buf)
                    };
                    changed | c
                }),
                None => guard_value(&mut doc, None, &on, &mut outcome, &mut buf),
            };
            outcome.body = changed.then(|| json::to_vec_sized(&doc, body.len()));
        }
        Err(_) => {
            let mut s = text.to_owned();
            if guard_string(&mut s, Escape::None, &on, &mut outcome, &mut buf) {
                outcome.body = Some(s.into_bytes());
            }
        }
    }
    outcome
}

/// What a reply is checked with: the configuration, the exchange's reply policy, its vault.
struct ReplyCheck<'a> {
    cfg: &'a FilterConfig,
    reply: &'a ReplyPolicy,
    vault: &'a Vault,
}

/// One reply string: inspect, then restore (or replace by a notice). Returns whether it changed.
fn guard_string(
    s: &mut String,
    escape: Escape,
    on: &ReplyCheck<'_>,
    outcome: &mut ReplyOutcome,
    buf: &mut Vec<Finding>,
) -> bool {
    let (cfg, vault) = (on.cfg, on.vault);
    let found = scan_all_under(cfg, on.reply, vault, s, buf);
    if found.must_remove() {
        *s = removal_notice(&found);
        outcome.findings.add(found);
        return true;
    }
    outcome.findings.add(found);
    // Values the exchange did not mask meet the reply policy before placeholders and fakes are
    // restored (a fake of this exchange is ours and passes the policy).
    let acted = act_on_leaks(cfg, on.reply, vault, s, escape, buf, &mut outcome.leaks).map(|new| *s = new).is_some();
    let synthetic = vault.restore_synthetic(s, escape, &mut outcome.restore.restored);
    let changed = acted || synthetic.is_some();
    if let Some(restored) = synthetic {
        *s = restored;
    }
    if vault.is_empty() && !s.contains(cfg.restore.grammar.prefix()) {
        return changed;
    }
    match restore_text(s, vault, &cfg.restore, escape, &mut outcome.restore) {
        std::borrow::Cow::Owned(new) => {
            *s = new;
            true
        }
        std::borrow::Cow::Borrowed(_) => changed,
    }
}

/// Top-level reply fields in which the API echoes the request (the Responses API returns the
/// request's `instructions` in every reply): restored, not scanned as model output.
const ECHOED_REQUEST_FIELDS: &[&str] = &["instructions"];

/// Fields whose string value is itself JSON text: an original restored there must be escaped.
fn holds_json_text(key: Option<&str>) -> bool {
    matches!(key, Some("arguments") | Some("partial_json"))
}

fn guard_value(
    v: &mut Value,
    key: Option<&str>,
    on: &ReplyCheck<'_>,
    outcome: &mut ReplyOutcome,
    buf: &mut Vec<Finding>,
) -> bool {
    let (cfg, vault) = (on.cfg, on.vault);
    match v {
        Value::String(s) => {
            // An original restored into JSON text (tool arguments, structured output, a reply
            // whose content is a JSON document) is escaped for the string it lands in, so the
            // client can still parse it.
            let escape = if holds_json_text(key) || (!vault.is_empty() && json::is_document(s)) {
                Escape::JsonString
            } else {
                Escape::None
            };
            guard_string(s, escape, on, outcome, buf)
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, i| guard_value(i, key, on, outcome, buf) | c),
        // Signed content (extended thinking) goes back to the provider as it came: never restored.
        Value::Object(map) if is_signed_block(map) => false,
        Value::Object(map) => {
            let values = map.iter_mut().fold(false, |c, (k, i)| guard_value(i, Some(k.as_str()), on, outcome, buf) | c);
            values | restore_keys(map, cfg, vault, &mut outcome.restore)
        }
        _ => false,
    }
}

/// Keys masked in the request (a free-form object's keys, see `protocol::walk`) come back in
/// replies that echo the object (a created batch's or thread's `metadata`): restored like values.
/// A restored key that would collide with a key already there stays as it is.
fn restore_keys(
    map: &mut serde_json::Map<String, Value>,
    cfg: &FilterConfig,
    vault: &Vault,
    counts: &mut RestoreCounts,
) -> bool {
    if vault.is_empty() {
        return false;
    }
    let prefix = cfg.restore.grammar.prefix();
    rename_keys(map, |k| {
        if !k.contains(prefix) {
            return None;
        }
        match restore_text(k, vault, &cfg.restore, Escape::None, counts) {
            std::borrow::Cow::Owned(new) => Some(new),
            std::borrow::Cow::Borrowed(_) => None,
        }
    })
}
