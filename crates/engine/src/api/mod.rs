//! Anonymize and restore as an API the filter serves itself (`api` in the configuration):
//! `POST /v1/anonymize` masks a prompt (or a whole OpenAI/Anthropic request body) exactly as the
//! proxy path masks a request, and answers with the safe text and a mapping id; `POST
//! /v1/restore` puts the originals back into a model's output with that id. Nothing of either
//! call goes upstream: the glue answers from the request body callback (docs/api.md).
//!
//! - [`ApiCall`]: one call, from its headers ([`ApiCall::start`]) to its answer
//!   ([`ApiCall::finish`]), driven like an `Exchange`.
//! - `wire`: the request and response documents, in the `@veily/llm-guard` client's shapes.
//! - `mapping`: what a call leaves to restore; `ids`: stateless ids (the sealed mapping itself)
//!   and stateful ids; `stored`: stateful mappings, sealed, in shared data. Both seal with the
//!   filter's keyring (`keys`).
//! - `error`: every refusal, in one JSON shape.

mod error;
mod ids;
mod mapping;
pub mod settings;
mod stored;
mod wire;

pub use error::ApiError;
pub use ids::{MappingRefusal, STATEFUL_PREFIX, STATELESS_PREFIX};
pub use mapping::{Mapping, MappingEntry, Stand};
pub use settings::{ApiSettings, Endpoint, MappingMode, RawApi};
pub use stored::{INDEX_KEY, SWEEP_BATCH};

use serde_json::{json, Value};

use crate::encoding::ContentEncoding;
use crate::event::{ApiOperation, ApiOutcome, Event};
use crate::exchange::audit::AuditIds;
use crate::exchange::Guard;
use crate::exchange::{
    count_verdict, guard_reply_under, guard_request_under, is_json_content_type, verdict_headers, BodyKind, Rejection,
    RequestHeaders, POLICY_HEADER,
};
use crate::policy::PolicyId;
use crate::protocol::json::{parse_strict, JsonError};
use crate::protocol::Api;
use crate::store::SharedData;
use crate::threat::Verdict;
use crate::vault::Vault;
use stored::{MappingStore, SaveFailure, StoredRefusal};
use wire::{AnonymizeCall, Input, RestoreCall};

/// Where the host's randomness comes from (the names of stateful mappings).
pub trait Randomness {
    /// Fill `buf`; false when the host has none to give.
    fn fill(&self, buf: &mut [u8]) -> bool;
}

/// What a call needs of the host beyond its headers and body.
pub struct ApiHost<'a, S: SharedData, R: Randomness> {
    pub data: &'a S,
    pub random: &'a R,
    /// Unix seconds; `None` when the host could not tell.
    pub now_secs: Option<u64>,
}

/// The filter's answer to a call.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiReply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// What the call did, for its audit record.
    pub audit: ApiAudit,
}

/// What a call did, for its audit record: labels, counts come from its events. Never a value, a
/// mapping id or a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiAudit {
    pub operation: ApiOperation,
    pub outcome: ApiOutcome,
    /// The error's reason (`mapping_expired`, ...), when refused.
    pub reason: Option<&'static str>,
    /// The mapping mode: the configured one for anonymize, the presented id's for restore;
    /// `None` when the call was refused before that was known.
    pub mode: Option<MappingMode>,
    /// The policy the call ran under, once known.
    pub policy: Option<PolicyId>,
    /// The threat verdict that flagged or blocked an anonymize call.
    pub verdict: Option<Verdict>,
    pub ids: AuditIds,
}

/// A successful call's document and extra headers.
type Answered = (Value, Vec<(&'static str, String)>);

/// What a call learns on its way, kept for its record whichever way it ends.
#[derive(Debug, Default)]
struct Notes {
    mode: Option<MappingMode>,
    policy: Option<PolicyId>,
    verdict: Option<Verdict>,
}

/// One call to the API, from its request headers on.
#[derive(Debug)]
pub struct ApiCall {
    endpoint: Endpoint,
    path: String,
    method: String,
    content_type: Option<String>,
    encoding: Option<String>,
    declared_length: Option<usize>,
    identity: Option<String>,
    policy_header: Option<String>,
    audit_ids: AuditIds,
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl ApiCall {
    /// The call a request is, from its headers; `None` when the API is off or the path is not
    /// one of its endpoints (the request is then an ordinary exchange).
    pub fn start<H: RequestHeaders>(guard: &Guard, headers: &H) -> Result<Option<ApiCall>, H::Error> {
        let cfg = guard.config();
        let Some(api) = &cfg.api else { return Ok(None) };
        let path = headers.get(":path")?.unwrap_or_default();
        let Some(endpoint) = api.endpoint(&path) else { return Ok(None) };
        let identity = match &api.identity_header {
            Some(name) => present(headers.get(name)?),
            None => None,
        };
        let policy_header = match &cfg.policy_header {
            Some(name) => present(headers.get(name)?),
            None => None,
        };
        let mut audit_ids = AuditIds::read(cfg, &path, headers)?;
        if let (Some(id), true) = (&identity, cfg.audit.enabled) {
            audit_ids.caller = crate::exchange::audit::caller_hash(&cfg.keys, &format!("api:{id}"));
        }
        Ok(Some(ApiCall {
            audit_ids,
            endpoint,
            path,
            method: headers.get(":method")?.unwrap_or_default(),
            content_type: headers.get("content-type")?,
            encoding: headers.get("content-encoding")?,
            declared_length: headers.get("content-length")?.and_then(|v| v.trim().parse().ok()),
            identity,
            policy_header,
        }))
    }

    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    fn operation(&self) -> ApiOperation {
        match self.endpoint {
            Endpoint::Anonymize => ApiOperation::Anonymize,
            Endpoint::Restore => ApiOperation::Restore,
        }
    }

    /// The call's answer: its record, and its count.
    fn answered(
        &self,
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
        error: Option<&ApiError>,
        notes: Notes,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> ApiReply {
        let outcome = error.map_or(ApiOutcome::Ok, ApiError::outcome);
        let operation = self.operation();
        emit(Event::ApiCall { operation, outcome });
        let audit = ApiAudit {
            operation,
            outcome,
            reason: error.map(ApiError::reason),
            mode: notes.mode,
            policy: notes.policy,
            verdict: notes.verdict,
            ids: self.audit_ids.clone(),
        };
        ApiReply { status, headers, body, audit }
    }

    fn success(
        &self,
        doc: &Value,
        mut headers: Vec<(&'static str, String)>,
        notes: Notes,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> ApiReply {
        headers.insert(0, ("content-type", "application/json".to_owned()));
        let body = serde_json::to_vec(doc).unwrap_or_default();
        self.answered(200, headers, body, None, notes, emit)
    }

    fn refusal(&self, e: &ApiError, mut notes: Notes, emit: &mut dyn FnMut(Event<'_>)) -> ApiReply {
        if let ApiError::Request(rejection) = e {
            if let Rejection::Threat { verdict } = rejection {
                count_verdict(verdict, emit);
                notes.verdict = Some(verdict.clone());
            }
            emit(Event::Rejected(rejection.kind()));
        }
        self.answered(e.status(), e.headers(), e.body(), Some(e), notes, emit)
    }

    /// The host failed the call (its body could not be read).
    pub fn internal(&self, emit: &mut dyn FnMut(Event<'_>)) -> ApiReply {
        self.refusal(&ApiError::Internal, Notes::default(), emit)
    }

    /// A refusal decided from the headers alone (method, content type and encoding, declared
    /// length, no body); `None`: hold the body.
    pub fn refuse_early(&self, guard: &Guard, has_body: bool, emit: &mut dyn FnMut(Event<'_>)) -> Option<ApiReply> {
        let cfg = guard.config();
        let error = if !self.method.eq_ignore_ascii_case("POST") {
            ApiError::MethodNotAllowed
        } else if !is_json_content_type(self.content_type.as_deref()) {
            let content_type = self.content_type.as_deref().unwrap_or_default().chars().take(60).collect();
            ApiError::Request(Rejection::UnsupportedContentType { content_type })
        } else if let Err(e) = ContentEncoding::parse(self.encoding.as_deref()) {
            ApiError::Request(Rejection::from(e))
        } else if self.declared_length.is_some_and(|n| n > cfg.max_body_bytes) {
            ApiError::Request(Rejection::TooLarge { limit: cfg.max_body_bytes })
        } else if !has_body {
            ApiError::InvalidCall { field: String::new(), problem: "the call has no body".into() }
        } else {
            return None;
        };
        Some(self.refusal(&error, Notes::default(), emit))
    }

    /// Part of the body is held: `Some` when it is already over the limit.
    pub fn body_held(&self, guard: &Guard, held: usize, emit: &mut dyn FnMut(Event<'_>)) -> Option<ApiReply> {
        let limit = guard.config().max_body_bytes;
        (held > limit).then(|| self.refusal(&ApiError::Request(Rejection::TooLarge { limit }), Notes::default(), emit))
    }

    /// The whole body is here: the answer.
    pub fn finish<S: SharedData, R: Randomness>(
        &self,
        guard: &Guard,
        raw: &[u8],
        host: &ApiHost<'_, S, R>,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> ApiReply {
        let mut notes = Notes::default();
        let result = match self.endpoint {
            Endpoint::Anonymize => self.anonymize(guard, raw, host, &mut notes, emit),
            Endpoint::Restore => self.restore(guard, raw, host, &mut notes, emit),
        };
        match result {
            Ok((doc, headers)) => self.success(&doc, headers, notes, emit),
            Err(e) => self.refusal(&e, notes, emit),
        }
    }

    /// The call's JSON document (decoded, UTF-8, strict JSON, an object), as the proxy path reads
    /// a request.
    fn document(&self, guard: &Guard, raw: &[u8]) -> Result<Value, ApiError> {
        let cfg = guard.config();
        let encoding = ContentEncoding::parse(self.encoding.as_deref()).map_err(|e| ApiError::Request(e.into()))?;
        let body = encoding.decode(raw, cfg.max_body_bytes).map_err(|e| ApiError::Request(e.into()))?;
        if body.len() > cfg.max_body_bytes {
            return Err(ApiError::Request(Rejection::TooLarge { limit: cfg.max_body_bytes }));
        }
        let text = std::str::from_utf8(&body)
            .map_err(|e| ApiError::Request(Rejection::InvalidUtf8 { offset: e.valid_up_to() }))?;
        let doc = parse_strict(text).map_err(|e| {
            ApiError::Request(match e {
                JsonError::Malformed { line, column } => Rejection::MalformedJson { line, column },
                JsonError::DuplicateKey => Rejection::DuplicateKey,
            })
        })?;
        if !doc.is_object() {
            return Err(ApiError::Request(Rejection::NotAnObject));
        }
        Ok(doc)
    }

    /// The policy of an anonymize call: the trusted policy header when present (a call naming
    /// another is refused), else the call's `policy`, else the route's.
    fn policy(&self, guard: &Guard, named: Option<&str>) -> Result<PolicyId, ApiError> {
        let cfg = guard.config();
        match (&self.policy_header, named) {
            (Some(assigned), Some(named)) if assigned.trim() != named => Err(ApiError::PolicyMismatch),
            (_, Some(named)) => cfg.policy_id(named).ok_or(ApiError::Request(Rejection::UnknownPolicy)),
            (header, None) => cfg
                .select_policy(&self.path, header.as_deref())
                .map_err(|_| ApiError::Request(Rejection::UnknownPolicy)),
        }
    }

    fn anonymize<S: SharedData, R: Randomness>(
        &self,
        guard: &Guard,
        raw: &[u8],
        host: &ApiHost<'_, S, R>,
        notes: &mut Notes,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> Result<Answered, ApiError> {
        let cfg = guard.config();
        let settings = cfg.api.as_ref().ok_or(ApiError::Internal)?;
        let keys = &cfg.keys;
        let call = AnonymizeCall::read(self.document(guard, raw)?)?;
        let ttl = match call.ttl {
            None => settings.ttl_seconds,
            Some(t) if (1..=settings.ttl_seconds).contains(&t) => t,
            Some(_) => return Err(ApiError::InvalidCall { field: "ttl".into(), problem: wire::TTL_PROBLEM.into() }),
        };
        let policy_id = self.policy(guard, call.policy.as_deref())?;
        let policy = cfg.policy_of(policy_id);
        notes.policy = Some(policy_id);
        notes.mode = Some(settings.mode);
        emit(Event::UnderPolicy(policy_id));
        let mut vault = Vault::with_capacity(cfg.max_entities);
        let scope = guard.memo().scope_of(None);
        let (api, kind, bytes) = match &call.input {
            Input::Prompt(p) => (Api::Generic, BodyKind::Text, p.as_bytes().to_vec()),
            Input::Request { api, body } => (*api, BodyKind::Json, serde_json::to_vec(body).unwrap_or_default()),
        };
        let outcome =
            guard_request_under(cfg, policy, api, &bytes, kind, &mut vault, scope).map_err(ApiError::Request)?;
        let masked = outcome.masked.total();
        emit(Event::MaskedUnder { policy: policy_id, count: u64::from(masked) });
        for (label, n) in outcome.masked.by_label() {
            emit(Event::Masked { label, count: u64::from(n) });
        }
        let safe = match (&call.input, outcome.body) {
            (Input::Prompt(p), None) => Value::String(p.clone()),
            (Input::Prompt(_), Some(b)) => Value::String(String::from_utf8(b).map_err(|_| ApiError::Internal)?),
            (Input::Request { body, .. }, None) => body.clone(),
            (Input::Request { .. }, Some(b)) => serde_json::from_slice(&b).map_err(|_| ApiError::Internal)?,
        };
        let now = host.now_secs.ok_or(ApiError::Internal)?;
        let expiry = now.saturating_add(ttl);
        let mapping = Mapping::of_vault(cfg.policy_name(policy_id), &vault);
        let identity = self.identity.as_deref();
        let mapping_id = match settings.mode {
            MappingMode::Stateless => {
                ids::seal_stateless(keys, &mapping, expiry, identity).ok_or(ApiError::Internal)?
            }
            MappingMode::Stateful => {
                let mut name = [0u8; 16];
                if !host.random.fill(&mut name) {
                    return Err(ApiError::Internal);
                }
                let store = MappingStore {
                    data: host.data,
                    keys,
                    max_mappings: settings.max_mappings,
                    max_stored_bytes: settings.max_stored_bytes,
                };
                store.save(&name, &mapping, expiry, identity, now).map_err(|e| match e {
                    SaveFailure::TooLarge => ApiError::MappingTooLarge,
                    SaveFailure::NoKey => ApiError::Internal,
                    SaveFailure::Store(s) => ApiError::Store(s),
                })?;
                ids::stateful_id(&name)
            }
        };
        let types: Vec<&str> = outcome.masked.by_label().map(|(l, _)| l).collect();
        let safe_field = match call.input {
            Input::Prompt(_) => "safePrompt",
            Input::Request { .. } => "safeRequest",
        };
        let mut doc = serde_json::Map::new();
        doc.insert(safe_field.to_owned(), safe);
        doc.insert("mappingId".to_owned(), Value::String(mapping_id));
        doc.insert("stats".to_owned(), json!({"replaced": masked, "types": types}));
        doc.insert("expiresAt".to_owned(), json!(expiry));
        doc.insert("mode".to_owned(), json!(settings.mode.name()));
        let mut headers = vec![(POLICY_HEADER, cfg.policy_name(policy_id).to_owned())];
        if let Some(verdict) = &outcome.flagged {
            count_verdict(verdict, emit);
            headers.extend(verdict_headers(verdict));
            notes.verdict = Some(verdict.clone());
        }
        Ok((Value::Object(doc), headers))
    }

    fn restore<S: SharedData, R: Randomness>(
        &self,
        guard: &Guard,
        raw: &[u8],
        host: &ApiHost<'_, S, R>,
        notes: &mut Notes,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> Result<Answered, ApiError> {
        let cfg = guard.config();
        let settings = cfg.api.as_ref().ok_or(ApiError::Internal)?;
        let keys = &cfg.keys;
        let call = RestoreCall::read(self.document(guard, raw)?)?;
        let now = host.now_secs.ok_or(ApiError::Internal)?;
        let identity = self.identity.as_deref();
        let mapping = if call.mapping_id.starts_with(STATELESS_PREFIX) {
            notes.mode = Some(MappingMode::Stateless);
            ids::open_stateless(keys, &call.mapping_id, identity, now).map_err(ApiError::Mapping)?
        } else {
            let name = ids::stateful_name(&call.mapping_id).ok_or(ApiError::Mapping(MappingRefusal::Malformed))?;
            notes.mode = Some(MappingMode::Stateful);
            let store = MappingStore {
                data: host.data,
                keys,
                max_mappings: settings.max_mappings,
                max_stored_bytes: settings.max_stored_bytes,
            };
            store.load(&name, identity, now).map_err(|e| match e {
                StoredRefusal::Mapping(m) => ApiError::Mapping(m),
                StoredRefusal::Store(s) => ApiError::Store(s),
            })?
        };
        // The policy the mapping was made under decides what the output may carry (the default
        // when it is no longer configured).
        let policy_id = cfg.policy_id(&mapping.policy).unwrap_or_default();
        notes.policy = Some(policy_id);
        let vault = mapping.to_vault(&cfg.restore.grammar);
        // The output as the one string of a reply document, so it is checked and restored as
        // a reply's text is (escaping included when the output is itself JSON text).
        let wrapped = serde_json::to_vec(&json!({ "output": call.output })).unwrap_or_default();
        let outcome = guard_reply_under(cfg, cfg.policy_of(policy_id), &wrapped, &vault);
        outcome.emit_counts(emit);
        if outcome.leaks.stop {
            return Err(ApiError::OutputStopped);
        }
        let output = match outcome.body {
            None => call.output,
            Some(body) => serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|mut v| v.get_mut("output").map(Value::take))
                .and_then(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .ok_or(ApiError::Internal)?,
        };
        let doc = json!({
            "output": output,
            "stats": {"restored": outcome.restore.restored, "unknown": outcome.restore.misses},
        });
        Ok((doc, vec![(POLICY_HEADER, cfg.policy_name(policy_id).to_owned())]))
    }
}

/// Clear expired stateful mappings from shared data, for the periodic tick (at most
/// [`SWEEP_BATCH`] per call; a save also drops them). Returns how many were cleared.
pub fn sweep_expired<S: SharedData>(
    data: &S,
    settings: &ApiSettings,
    keys: &crate::keys::Keyring,
    now: u64,
) -> Result<usize, crate::store::StoreError> {
    MappingStore { data, keys, max_mappings: settings.max_mappings, max_stored_bytes: settings.max_stored_bytes }
        .sweep(now)
}
