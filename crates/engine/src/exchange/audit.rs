//! The audit record of one guarded exchange: who (a keyed hash of the caller), where (route,
//! policy, API), what was found and done (entity counts by type and strategy, the threat
//! verdict, refusals and fail-open with their reasons, what the reply restored, removed or
//! stopped) and what it cost (the filter's own time). Labels, counts, rule ids and scores only:
//! never a value, an original, a placeholder or a fragment of a prompt or reply.
//!
//! The host feeds the same [`Event`]s it counts as metrics into an [`AuditTrail`], and asks it
//! for the record at the end of the exchange with what only the host knows ([`HostFacts`]). The
//! filter hands the record's JSON to Envoy as filter state ([`AUDIT_PROPERTY`]), where the access
//! log prints it (docs/observability.md).

use std::collections::BTreeMap;

use serde::Serialize;

use super::flow::{Exchange, ReplyMode, RequestHeaders, CALLER_HEADERS};
use super::guard::Guard;
use crate::api::{ApiAudit, MappingMode};
use crate::config::FilterConfig;
use crate::entity::{BuiltinKind, EntityKind};
use crate::event::{ApiOutcome, Event, Label, Reason, ReplyFindingKind, Unrestored};
use crate::keys::{KeyUse, Keyring};
use crate::mask::MaskReport;
use crate::policy::ReplyAction;
use crate::threat::Verdict;

/// The property the filter sets (proxy-wasm `set_property`); Envoy stores it as the filter
/// state object `wasm.prompt_guard_audit`.
pub const AUDIT_PROPERTY: &str = "prompt_guard_audit";
/// Version of the record's shape: raised when a field changes meaning or goes.
pub const AUDIT_VERSION: u32 = 1;
/// Response header: the types masked in the request with their counts, `CREDIT_CARD=1,EMAIL=2`.
pub const TYPES_HEADER: &str = "x-prompt-guard-types";
/// Longest request id taken into the record.
const MAX_REQUEST_ID: usize = 128;

/// What the exchange learns for its record from the request's headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditIds {
    /// `x-request-id` (Envoy sets it), when it has the shape of an id.
    pub request_id: Option<String>,
    /// The configured route that covers the path (its prefix), never the path itself.
    pub route: Option<String>,
    /// The caller's identity under the hash key (see [`caller_hash`]).
    pub caller: Option<String>,
}

impl AuditIds {
    /// Read from the request headers; nothing when the record is off.
    pub fn read<H: RequestHeaders>(cfg: &FilterConfig, path: &str, headers: &H) -> Result<AuditIds, H::Error> {
        if !cfg.audit.enabled {
            return Ok(AuditIds::default());
        }
        let request_id = headers.get("x-request-id")?.filter(|id| is_id(id));
        let route = cfg.route_prefix(path).map(str::to_owned);
        let caller = if cfg.keys.has(KeyUse::Hash) {
            caller_identity(cfg, headers)?.and_then(|identity| caller_hash(&cfg.keys, &identity))
        } else {
            None
        };
        Ok(AuditIds { request_id, route, caller })
    }
}

/// An id as Envoy and tracing systems write them (UUIDs, hex, base64url): anything else a
/// client put in the header stays out of the record.
fn is_id(value: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Who is calling: the trusted session header when configured and present, else the first
/// credential header present. Only ever hashed.
fn caller_identity<H: RequestHeaders>(cfg: &FilterConfig, headers: &H) -> Result<Option<String>, H::Error> {
    if let Some(session) = &cfg.session {
        if let Some(v) = headers.get(&session.identity_header)?.filter(|v| !v.trim().is_empty()) {
            return Ok(Some(format!("session:{v}")));
        }
    }
    for name in CALLER_HEADERS {
        if let Some(value) = headers.get(name)?.filter(|v| !v.trim().is_empty()) {
            return Ok(Some(format!("{name}:{value}")));
        }
    }
    Ok(None)
}

/// The keyed-hash domain of the record's caller (see `keys`).
pub const CALLER_DOMAIN: &str = "audit.identity";

/// 16 hex digits of the keyed hash of `identity` under the hash key, in the domain
/// [`CALLER_DOMAIN`]; `None` without a hash key.
pub fn caller_hash(keys: &Keyring, identity: &str) -> Option<String> {
    let digest = keys.keyed_hash(CALLER_DOMAIN, identity.as_bytes()).ok()?;
    Some(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
}

/// What the client was sent in place of a reply, or how the reply went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// No reply reached the filter (the client or the upstream went away first).
    None,
    /// Our own reply (a refusal, or a 502 in place of an unreadable reply).
    Local,
    /// Forwarded as it came (not a JSON or event-stream reply, or restoring is off).
    Passed,
    /// Held whole, restored and checked.
    Buffered,
    /// Server-sent events, restored as they flowed.
    Streamed,
}

/// What the host knows about the exchange that the engine does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFacts {
    /// The reply's headers reached the filter.
    pub reply_seen: bool,
    /// The filter answered locally.
    pub answered_locally: bool,
    /// The reply reached its end (headers or body with end of stream, or trailers).
    pub reply_complete: bool,
    /// Time the filter's callbacks spent, per half, in microseconds.
    pub request_us: u64,
    pub reply_us: u64,
}

/// One thing the filter did, in the record's `actions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// Values were masked in the request.
    Masked,
    /// A threat verdict flagged the request; it went on.
    Flagged,
    /// The request was answered locally (see `refused`).
    Refused,
    /// The request went on uninspected under `fail_open` (see `fail_open`).
    FailOpen,
    /// Placeholders were restored in the reply.
    Restored,
    /// Reply content was removed (a link carrying the conversation's data, the canary).
    ReplyContentRemoved,
    /// Values in the reply that the request did not carry were redacted or masked.
    ReplyValuesMasked,
    /// The reply was stopped (by the reply policy, or a removed link in a stream).
    ReplyStopped,
}

/// The threat verdict of a flagged or blocked request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreatRecord {
    pub action: &'static str,
    /// The overall score, to two decimals.
    pub score: f64,
    pub categories: Vec<&'static str>,
    pub rules: Vec<&'static str>,
}

impl From<&Verdict> for ThreatRecord {
    fn from(v: &Verdict) -> ThreatRecord {
        ThreatRecord {
            action: v.action.name(),
            score: (f64::from(v.score) * 100.0).round() / 100.0,
            categories: v.categories.iter().map(|c| c.name()).collect(),
            rules: v.rule_ids.clone(),
        }
    }
}

/// Values in the reply the request did not carry, of one type, and what the reply policy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyEntityRecord {
    #[serde(rename = "type")]
    pub kind: String,
    pub action: &'static str,
    pub count: u64,
}

/// The reply half of the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplyRecord {
    pub mode: ReplyKind,
    /// The reply reached its end (false: the client or the upstream went away).
    pub complete: bool,
    /// Placeholders (and synthetic values) restored to the originals.
    pub restored: u64,
    /// Placeholder-shaped tokens this exchange did not issue (left as they were).
    pub unknown_placeholders: u64,
    /// Links and images removed from the reply.
    pub links_removed: u64,
    /// What the reply carried that the request did not, by kind.
    pub findings: BTreeMap<&'static str, u64>,
    pub entities: Vec<ReplyEntityRecord>,
    /// Why the reply went out without its placeholders restored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unrestored: Option<&'static str>,
    pub stream_anomalies: BTreeMap<&'static str, u64>,
}

/// The filter's own time on the exchange, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FilterTime {
    pub request_us: u64,
    pub reply_us: u64,
}

/// A call to the filter's own API (`api` names the operation): how it ended and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiCallRecord {
    /// The mapping mode: configured (anonymize) or of the presented id (restore).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    /// `ok`, or the error's `type`.
    pub outcome: &'static str,
    /// Values replaced by placeholders (anonymize).
    pub replaced: u64,
    /// Placeholders restored to their originals (restore).
    pub restored: u64,
    /// The types replaced, sorted.
    pub types: Vec<String>,
}

/// One guarded exchange, as the access log prints it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The API the path speaks (`openai_chat`, `anthropic_messages`, `generic`, ...).
    pub api: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Left out when the trusted policy header named no configured policy (refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// 16 hex digits of a keyed hash of the caller; absent without a hash key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    pub actions: Vec<AuditAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_open: Option<&'static str>,
    /// Values masked in the request (occurrences).
    pub masked: u64,
    /// The same by type.
    pub entities: BTreeMap<String, u64>,
    /// The same by the strategy the exchange's policy applied.
    pub strategies: BTreeMap<&'static str, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat: Option<ThreatRecord>,
    /// Texts whose findings came from the scan memo.
    pub memo_hits: u64,
    pub reply: ReplyRecord,
    pub filter_time: FilterTime,
    /// Only on a call to the filter's own API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_call: Option<ApiCallRecord>,
}

impl AuditRecord {
    /// The record as one line of JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// What an exchange's events said, gathered for its record.
#[derive(Debug, Default)]
pub struct AuditTrail {
    memo_hits: u64,
    rejected: Option<Reason>,
    fail_open: Option<Reason>,
    restored: u64,
    misses: u64,
    unrestored: Option<Unrestored>,
    anomalies: BTreeMap<&'static str, u64>,
    findings: BTreeMap<&'static str, u64>,
    links_removed: u64,
    reply_entities: Vec<(EntityKind, ReplyAction, u64)>,
    /// Values masked by type, as the events said (an API call has no exchange to ask).
    masked: BTreeMap<String, u64>,
}

fn add<K: Ord>(map: &mut BTreeMap<K, u64>, key: K, count: u64) {
    if count > 0 {
        *map.entry(key).or_default() += count;
    }
}

impl AuditTrail {
    /// Take in one event (the host calls this with every event it counts).
    pub fn observe(&mut self, event: &Event<'_>) {
        match *event {
            Event::MemoHits(n) => self.memo_hits += n,
            Event::Masked { label, count } => add(&mut self.masked, label.to_owned(), count),
            Event::Rejected(reason) => self.rejected = Some(reason),
            Event::FailOpen(reason) => self.fail_open = Some(reason),
            Event::Restored(n) => self.restored += n,
            Event::Misses(n) => self.misses += n,
            Event::Unrestored(why) => self.unrestored = Some(why),
            Event::Stream { anomaly, count } => add(&mut self.anomalies, anomaly.label(), count),
            Event::ReplyFinding { kind, count } => {
                if kind == ReplyFindingKind::ExfiltrationLink {
                    self.links_removed += count;
                }
                add(&mut self.findings, kind.label(), count);
            }
            Event::ReplyEntity { kind, action, count } if count > 0 => {
                match self.reply_entities.iter_mut().find(|(k, a, _)| *k == kind && *a == action) {
                    Some((_, _, n)) => *n += count,
                    None => self.reply_entities.push((kind, action, count)),
                }
            }
            _ => {}
        }
    }

    fn reply_record(&self, cfg: &FilterConfig, mode: ReplyKind, complete: bool) -> ReplyRecord {
        ReplyRecord {
            mode,
            complete,
            restored: self.restored,
            unknown_placeholders: self.misses,
            links_removed: self.links_removed,
            findings: self.findings.clone(),
            entities: self
                .reply_entities
                .iter()
                .map(|&(kind, action, count)| ReplyEntityRecord {
                    kind: label_of(cfg, kind).to_owned(),
                    action: action.label(),
                    count,
                })
                .collect(),
            unrestored: self.unrestored.map(Unrestored::label),
            stream_anomalies: self.anomalies.clone(),
        }
    }

    /// The record of a call to the filter's own API, answered locally: `api` is the operation,
    /// `api_call` how it ended; the counts are its events'.
    pub fn api_record(&self, guard: &Guard, call: &ApiAudit, host: &HostFacts) -> AuditRecord {
        let cfg = guard.config();
        let policy = call.policy.map(|id| cfg.policy_of(id));
        let mut strategies = BTreeMap::new();
        for (label, &n) in &self.masked {
            if let (Some(kind), Some(policy)) = (kind_of(cfg, label), policy) {
                add(&mut strategies, policy.strategy(kind).name(), n);
            }
        }
        let masked: u64 = self.masked.values().sum();
        let mut actions = Vec::new();
        if masked > 0 {
            actions.push(AuditAction::Masked);
        }
        if call.verdict.as_ref().is_some_and(|v| v.action == crate::threat::Action::Flag) {
            actions.push(AuditAction::Flagged);
        }
        if call.outcome != ApiOutcome::Ok {
            actions.push(AuditAction::Refused);
        }
        if self.restored > 0 {
            actions.push(AuditAction::Restored);
        }
        if self.reply_entities.iter().any(|(_, a, _)| matches!(a, ReplyAction::Redact | ReplyAction::Mask)) {
            actions.push(AuditAction::ReplyValuesMasked);
        }
        if self.reply_entities.iter().any(|(_, a, _)| *a == ReplyAction::Stop) {
            actions.push(AuditAction::ReplyStopped);
        }
        AuditRecord {
            version: AUDIT_VERSION,
            request_id: call.ids.request_id.clone(),
            api: call.operation.label(),
            route: None,
            policy: call.policy.map(|id| cfg.policy_name(id).to_owned()),
            caller: call.ids.caller.clone(),
            actions,
            refused: call.reason,
            fail_open: None,
            masked,
            entities: self.masked.clone(),
            strategies,
            threat: call.verdict.as_ref().map(ThreatRecord::from),
            memo_hits: self.memo_hits,
            reply: self.reply_record(cfg, ReplyKind::Local, true),
            filter_time: FilterTime { request_us: host.request_us, reply_us: host.reply_us },
            api_call: Some(ApiCallRecord {
                mode: call.mode.map(MappingMode::name),
                outcome: call.outcome.label(),
                replaced: masked,
                restored: self.restored,
                types: self.masked.keys().cloned().collect(),
            }),
        }
    }

    /// The record of `exchange` as it stands, with what the host knows.
    pub fn record(&self, guard: &Guard, exchange: &Exchange, host: &HostFacts) -> AuditRecord {
        let cfg = guard.config();
        let ids = exchange.audit_ids();
        let policy = cfg.policy_of(exchange.policy());
        let masked_types = exchange.masked_types();
        let mut entities = BTreeMap::new();
        let mut strategies = BTreeMap::new();
        for (label, n) in masked_types.by_label() {
            add(&mut entities, label.to_owned(), u64::from(n));
            if let Some(kind) = kind_of(cfg, label) {
                add(&mut strategies, policy.strategy(kind).name(), u64::from(n));
            }
        }
        let verdict = exchange.verdict();
        let mut actions = Vec::new();
        let masked = u64::from(masked_types.total());
        if masked > 0 {
            actions.push(AuditAction::Masked);
        }
        if verdict.is_some_and(|v| v.action == crate::threat::Action::Flag) {
            actions.push(AuditAction::Flagged);
        }
        if self.rejected.is_some() {
            actions.push(AuditAction::Refused);
        }
        if self.fail_open.is_some() {
            actions.push(AuditAction::FailOpen);
        }
        if self.restored > 0 {
            actions.push(AuditAction::Restored);
        }
        let removed =
            self.links_removed + self.findings.get(ReplyFindingKind::CanaryLeak.label()).copied().unwrap_or(0);
        if removed > 0 {
            actions.push(AuditAction::ReplyContentRemoved);
        }
        if self.reply_entities.iter().any(|(_, a, _)| matches!(a, ReplyAction::Redact | ReplyAction::Mask)) {
            actions.push(AuditAction::ReplyValuesMasked);
        }
        let stream_stopped = exchange.reply_mode() == ReplyMode::Stream && removed > 0;
        if stream_stopped || self.reply_entities.iter().any(|(_, a, _)| *a == ReplyAction::Stop) {
            actions.push(AuditAction::ReplyStopped);
        }
        let mode = if host.answered_locally {
            ReplyKind::Local
        } else if !host.reply_seen {
            ReplyKind::None
        } else {
            match exchange.reply_mode() {
                ReplyMode::Pass => ReplyKind::Passed,
                ReplyMode::Buffered(_) => ReplyKind::Buffered,
                ReplyMode::Stream => ReplyKind::Streamed,
            }
        };
        let reply = self.reply_record(cfg, mode, host.reply_complete || host.answered_locally);
        AuditRecord {
            version: AUDIT_VERSION,
            request_id: ids.request_id.clone(),
            api: exchange.api().name(),
            route: ids.route.clone(),
            policy: (self.rejected != Some(Reason::UnknownPolicy))
                .then(|| cfg.policy_name(exchange.policy()).to_owned()),
            caller: ids.caller.clone(),
            actions,
            refused: self.rejected.map(Reason::label),
            fail_open: self.fail_open.map(Reason::label),
            masked,
            entities,
            strategies,
            threat: verdict.map(ThreatRecord::from),
            memo_hits: self.memo_hits,
            reply,
            filter_time: FilterTime { request_us: host.request_us, reply_us: host.reply_us },
            api_call: None,
        }
    }
}

/// The entity kind a masked label names: a built-in, or a custom pattern by its place.
fn kind_of(cfg: &FilterConfig, label: &str) -> Option<EntityKind> {
    if let Some(kind) = BuiltinKind::from_label(label) {
        return Some(EntityKind::Builtin(kind));
    }
    let custom = cfg.restore.known_labels.iter().skip(BuiltinKind::ALL.len()).position(|l| l == label)?;
    u16::try_from(custom).ok().map(EntityKind::Custom)
}

/// The label of an entity kind (a custom pattern's name from the configuration).
fn label_of(cfg: &FilterConfig, kind: EntityKind) -> &str {
    match kind {
        EntityKind::Builtin(k) => k.label(),
        EntityKind::Custom(i) => {
            cfg.restore.known_labels.get(BuiltinKind::ALL.len() + usize::from(i)).map_or("CUSTOM", String::as_str)
        }
    }
}

/// The `x-prompt-guard-types` value: each type masked in the request with its count, sorted by
/// type; `None` when nothing was masked (the header is then left out).
pub fn types_header(report: &MaskReport) -> Option<String> {
    let mut types: Vec<(&str, u32)> = report.by_label().filter(|(_, n)| *n > 0).collect();
    if types.is_empty() {
        return None;
    }
    types.sort_unstable();
    let parts: Vec<String> = types.iter().map(|(label, n)| format!("{label}={n}")).collect();
    Some(parts.join(","))
}
