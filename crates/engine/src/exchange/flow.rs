//! One exchange, request then reply, driven by what the host hands over and answering with
//! typed decisions. The host reads and writes headers and bodies; everything decided about them
//! is decided here.

use super::audit::{types_header, AuditIds, TYPES_HEADER};
use super::guard::Guard;
use super::refusal::{verdict_headers, LocalReply, Refusal, FAIL_OPEN_HEADER, MASKED_HEADER, POLICY_HEADER};
use super::reply_plan::{buffered_over_limit, plan_reply, ReplyHead, ReplyPlan};
use super::streaming::{StreamGuard, StreamStep, REPLY_BLOCKED, REPLY_STOPPED_MESSAGE};
use super::{guard_reply_under, guard_request_under, is_json_content_type, BodyKind, Rejection};
use crate::config::FilterConfig;
use crate::encoding::ContentEncoding;
use crate::event::{Event, Label, Reason, Unrestored};
use crate::mask::MaskReport;
use crate::memo::CallerId;
use crate::policy::PolicyId;
use crate::protocol::{error_body, Api};
use crate::store::{SessionStore, SharedData, StoreError};
use crate::threat::Verdict;
use crate::vault::Vault;

/// Request headers that carry the caller's credential (OpenAI, Anthropic, Azure OpenAI), in
/// the order they are looked for.
pub const CALLER_HEADERS: [&str; 3] = ["authorization", "x-api-key", "api-key"];

/// Where the exchange reads request headers from. The host's reads can fail; the error is the
/// host's and goes back to it.
pub trait RequestHeaders {
    type Error;
    fn get(&self, name: &str) -> Result<Option<String>, Self::Error>;
}

/// What to do with a request once its headers are here.
#[derive(Debug, PartialEq)]
pub enum RequestPlan {
    /// Not a guarded route, or no body: forwarded as it is, the reply too.
    PassThrough,
    /// Hold the body for inspection. The request's `content-length` goes (the body may change)
    /// and so does `accept-encoding` (the reply must come back readable).
    Inspect,
    /// Refused from the headers alone, or forwarded uninspected (`fail_open`).
    Refuse(Refusal),
}

/// What to do with a request once its whole body is here.
#[derive(Debug, PartialEq)]
pub enum BodyDecision {
    /// Forward this body in place of the original (`None`: the original bytes go on).
    Forward(Option<Vec<u8>>),
    Refuse(Refusal),
}

/// What to do with a whole buffered reply.
#[derive(Debug, PartialEq)]
pub enum ReplyDecision {
    /// Send this body in place of the upstream's (`None`: the upstream's bytes go on).
    Forward(Option<Vec<u8>>),
    /// Our own 502 in place of the reply.
    Answer(LocalReply),
}

/// What the exchange does with the reply's body, once the reply's headers are here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Forwarded as it comes.
    Pass,
    /// Held to the end, then decoded from this encoding, restored and replaced.
    Buffered(ContentEncoding),
    /// Server-sent events, restored as they flow (see [`Exchange::stream_chunk`]).
    Stream,
}

/// The session store and the time, when the host has them (a session keeps its placeholders
/// across exchanges; a store problem costs only continuity, so it is logged and the exchange
/// goes on).
pub struct Sessions<'a, S: SharedData> {
    pub data: &'a S,
    pub now_secs: Option<u64>,
}

/// One request and its reply.
pub struct Exchange {
    api: Api,
    /// The request's declared content type (decides JSON, text or multipart).
    content_type: Option<String>,
    request_encoding: ContentEncoding,
    vault: Vault,
    masked: u32,
    fail_open: Option<Reason>,
    /// The session this exchange belongs to (from the configured trusted header), if any.
    session: Option<String>,
    /// Whose remembered scan results this request may use (see `memo`).
    caller: Option<CallerId>,
    /// The request went on flagged: its verdict goes into the reply's headers.
    flagged: Option<Verdict>,
    /// The policy the exchange runs under, once selected from its headers (guarded requests).
    policy: Option<PolicyId>,
    reply: ReplyMode,
    /// The streamed reply's state, while the reply is streamed.
    stream: Option<Box<StreamGuard>>,
    /// Request id, route and caller hash for the audit record.
    ids: AuditIds,
    /// What was masked in the request, by type (the types header, the audit record).
    masked_types: MaskReport,
    /// The verdict that blocked the request (a flagged one is `flagged`).
    blocked: Option<Verdict>,
}

impl Exchange {
    pub fn new(guard: &Guard) -> Exchange {
        Exchange {
            api: Api::PassThrough,
            content_type: None,
            request_encoding: ContentEncoding::Identity,
            vault: Vault::with_capacity(guard.config().max_entities),
            masked: 0,
            fail_open: None,
            session: None,
            caller: None,
            flagged: None,
            policy: None,
            reply: ReplyMode::Pass,
            stream: None,
            ids: AuditIds::default(),
            masked_types: MaskReport::default(),
            blocked: None,
        }
    }

    /// Request id, route and caller hash, for the audit record.
    pub fn audit_ids(&self) -> &AuditIds {
        &self.ids
    }

    /// What was masked in the request, by type.
    pub fn masked_types(&self) -> &MaskReport {
        &self.masked_types
    }

    /// The threat verdict that flagged or blocked the request, if any.
    pub fn verdict(&self) -> Option<&Verdict> {
        self.flagged.as_ref().or(self.blocked.as_ref())
    }

    /// The policy the exchange runs under (the default until one is selected).
    pub fn policy(&self) -> PolicyId {
        self.policy.unwrap_or_default()
    }

    pub fn api(&self) -> Api {
        self.api
    }

    /// Is the request guarded (inspected, refused or failed open), as opposed to passed through?
    pub fn is_guarded(&self) -> bool {
        self.api != Api::PassThrough
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// The request's headers: route, content type, encoding and declared length, session and
    /// caller. `has_body` is false when the headers end the request.
    pub fn request_headers<H: RequestHeaders>(
        &mut self,
        guard: &Guard,
        headers: &H,
        has_body: bool,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> Result<RequestPlan, H::Error> {
        let cfg = guard.config();
        let path = headers.get(":path")?.unwrap_or_default();
        self.api = cfg.classify(&path);
        if self.api == Api::PassThrough || !has_body {
            // No body: nothing to inspect, so nothing to restore either.
            self.api = Api::PassThrough;
            return Ok(RequestPlan::PassThrough);
        }
        emit(Event::Inspected);
        self.ids = AuditIds::read(cfg, &path, headers)?;
        // The policy first: every later decision, a refusal included, is made and shown under it.
        let header = match &cfg.policy_header {
            Some(name) => headers.get(name)?,
            None => None,
        };
        match cfg.select_policy(&path, header.as_deref()) {
            Ok(id) => {
                self.policy = Some(id);
                emit(Event::UnderPolicy(id));
            }
            Err(_) => {
                // Never the header's value in the log: it came from a token's claim.
                log::warn!("prompt-guard: request refused, its policy header names no configured policy");
                return Ok(RequestPlan::Refuse(self.refuse(cfg, &Rejection::UnknownPolicy, emit)));
            }
        }
        if let Some(session) = &cfg.session {
            self.session = headers.get(&session.identity_header)?.filter(|v| !v.trim().is_empty());
        }
        if guard.memo().is_on() {
            self.caller = guard.memo().caller(self.caller_identity(headers)?.as_bytes());
        }
        self.request_encoding = match ContentEncoding::parse(headers.get("content-encoding")?.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(RequestPlan::Refuse(self.refuse(cfg, &Rejection::from(e), emit))),
        };
        let content_type = headers.get("content-type")?;
        if self.api.requires_json() && !is_json_content_type(content_type.as_deref()) {
            let content_type = content_type.unwrap_or_default().chars().take(60).collect();
            let rejection = Rejection::UnsupportedContentType { content_type };
            return Ok(RequestPlan::Refuse(self.refuse(cfg, &rejection, emit)));
        }
        self.content_type = content_type;
        let declared = headers.get("content-length")?.and_then(|v| v.trim().parse::<usize>().ok());
        if declared.is_some_and(|n| n > cfg.max_body_bytes) {
            let rejection = Rejection::TooLarge { limit: cfg.max_body_bytes };
            return Ok(RequestPlan::Refuse(self.refuse(cfg, &rejection, emit)));
        }
        Ok(RequestPlan::Inspect)
    }

    /// Who is calling, for scoping the scan memo: the trusted session header when configured,
    /// else the first credential header present (empty when there is none). Only ever hashed.
    fn caller_identity<H: RequestHeaders>(&self, headers: &H) -> Result<String, H::Error> {
        if let Some(session) = &self.session {
            return Ok(format!("session:{session}"));
        }
        for name in CALLER_HEADERS {
            if let Some(value) = headers.get(name)? {
                return Ok(format!("{name}:{value}"));
            }
        }
        Ok(String::new())
    }

    /// Part of the request body is held: `Some` when it is already over the limit.
    pub fn request_body_held(
        &mut self,
        guard: &Guard,
        held_bytes: usize,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> Option<Refusal> {
        let cfg = guard.config();
        (held_bytes > cfg.max_body_bytes)
            .then(|| self.refuse(cfg, &Rejection::TooLarge { limit: cfg.max_body_bytes }, emit))
    }

    /// The whole request body: decode, load the session, inspect and mask, save the session.
    pub fn request_body<S: SharedData>(
        &mut self,
        guard: &Guard,
        raw: &[u8],
        sessions: &Sessions<'_, S>,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> BodyDecision {
        let cfg = guard.config();
        let decoded = match self.request_encoding.decode(raw, cfg.max_body_bytes) {
            Ok(d) => d,
            Err(e) => return BodyDecision::Refuse(self.refuse(cfg, &Rejection::from(e), emit)),
        };
        self.load_session(cfg, sessions, emit);
        let kind = BodyKind::from_content_type(self.content_type.as_deref());
        let policy = cfg.policy_of(self.policy());
        let scope = guard.memo().scope_of(self.caller);
        match guard_request_under(cfg, policy, self.api, &decoded, kind, &mut self.vault, scope) {
            Ok(outcome) => {
                self.save_session(cfg, sessions);
                self.masked = outcome.masked.total();
                emit(Event::MaskedUnder { policy: self.policy(), count: u64::from(self.masked) });
                emit(Event::MemoHits(u64::from(outcome.memo_hits)));
                if self.masked > 0 {
                    emit(Event::WithFindings);
                }
                for (label, n) in outcome.masked.by_label() {
                    emit(Event::Masked { label, count: u64::from(n) });
                }
                if let Some(verdict) = outcome.flagged {
                    super::count_verdict(&verdict, emit);
                    self.flagged = Some(verdict);
                }
                self.masked_types = outcome.masked;
                // A compressed request goes on in its declared encoding: the headers that say
                // so have already left.
                BodyDecision::Forward(outcome.body.map(|b| self.request_encoding.encode(b)))
            }
            Err(rejection) => BodyDecision::Refuse(self.refuse(cfg, &rejection, emit)),
        }
    }

    /// The host failed the filter while it handled the request.
    pub fn host_failure(&mut self, guard: &Guard, emit: &mut dyn FnMut(Event<'_>)) -> Refusal {
        let cfg = guard.config();
        let refusal = Refusal::host_failure(cfg, self.api, emit);
        self.settle(cfg, &refusal);
        refusal
    }

    fn refuse(&mut self, cfg: &FilterConfig, rejection: &Rejection, emit: &mut dyn FnMut(Event<'_>)) -> Refusal {
        let mut refusal = Refusal::decide(cfg, self.api, rejection, emit);
        if let (Refusal::Answer(_), Rejection::Threat { verdict }) = (&refusal, rejection) {
            self.blocked = Some(verdict.clone());
        }
        if let (Refusal::Answer(reply), Some(id)) = (&mut refusal, self.policy) {
            reply.headers.push((POLICY_HEADER, cfg.policy_name(id).to_owned()));
        }
        self.settle(cfg, &refusal);
        refusal
    }

    /// After a refusal: a request forwarded uninspected had nothing masked in what went
    /// upstream, so nothing may be restored.
    fn settle(&mut self, cfg: &FilterConfig, refusal: &Refusal) {
        if let Refusal::FailOpen(reason) = refusal {
            self.fail_open = Some(*reason);
            self.vault = Vault::with_capacity(cfg.max_entities);
            self.masked = 0;
            self.masked_types = MaskReport::default();
        }
    }

    /// The reply's headers: the headers to add to it, and what to do with its body.
    pub fn reply_headers(
        &mut self,
        guard: &Guard,
        head: ReplyHead<'_>,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> (Vec<(&'static str, String)>, ReplyPlan) {
        let cfg = guard.config();
        let mut headers =
            vec![(MASKED_HEADER, self.masked.to_string()), (POLICY_HEADER, cfg.policy_name(self.policy()).to_owned())];
        if let Some(reason) = self.fail_open {
            headers.push((FAIL_OPEN_HEADER, reason.label().to_owned()));
        }
        if let Some(verdict) = &self.flagged {
            headers.extend(verdict_headers(verdict));
        }
        if let Some(types) = cfg.response_headers.types.then(|| types_header(&self.masked_types)).flatten() {
            headers.push((TYPES_HEADER, types));
        }
        let plan = plan_reply(cfg, &cfg.policy_of(self.policy()).reply, self.api, &mut self.vault, head, emit);
        match plan {
            ReplyPlan::Buffer { encoding } => self.reply = ReplyMode::Buffered(encoding),
            ReplyPlan::Stream { encoding } => {
                self.stream = Some(Box::new(self.stream(guard, encoding)));
                self.reply = ReplyMode::Stream;
            }
            ReplyPlan::Pass | ReplyPlan::Answer(_) => self.reply = ReplyMode::Pass,
        }
        (headers, plan)
    }

    /// The host could not carry out the reply plan (its headers could not be changed): the
    /// reply's body goes on as it comes.
    pub fn pass_reply(&mut self) {
        self.stream = None;
        self.reply = ReplyMode::Pass;
    }

    /// What is done with the reply's body (set by [`Exchange::reply_headers`]).
    pub fn reply_mode(&self) -> ReplyMode {
        self.reply
    }

    /// The streamed reply has seen its end (or there is none): later chunks go on as they are.
    pub fn stream_ended(&self) -> bool {
        self.stream.as_ref().is_none_or(|s| s.ended())
    }

    /// One chunk of the streamed reply; `end` when it is the last. A stream that turns out to
    /// be a JSON document is held from this chunk on like a buffered reply in no encoding.
    pub fn stream_chunk(
        &mut self,
        guard: &Guard,
        chunk: &[u8],
        end: bool,
        emit: &mut dyn FnMut(Event<'static>),
    ) -> StreamStep {
        let Some(stream) = self.stream.as_mut() else {
            return StreamStep::Emit(chunk.to_vec());
        };
        let step = stream.push(guard, &self.vault, chunk, end, emit);
        if step == StreamStep::Rebuffer {
            self.stream = None;
            self.reply = ReplyMode::Buffered(ContentEncoding::Identity);
        }
        step
    }

    /// The exchange ended, however: a stream that never saw its end (an upstream reset, a
    /// client abort) is counted as truncated and its text checked for leaks.
    pub fn abandon_stream(&mut self, guard: &Guard, emit: &mut dyn FnMut(Event<'static>)) {
        if let Some(stream) = self.stream.as_mut() {
            stream.abandon(guard, &self.vault, emit);
        }
    }

    /// A streamed reply in `encoding`.
    pub fn stream(&self, guard: &Guard, encoding: ContentEncoding) -> StreamGuard {
        let cfg = guard.config();
        StreamGuard::under(cfg, self.policy(), self.api, encoding)
    }

    /// A buffered reply held `held_bytes` so far: `Err` when it is over the limit, with our own
    /// 502 when it cannot go on as it is.
    pub fn reply_body_held(
        &self,
        guard: &Guard,
        encoding: ContentEncoding,
        held_bytes: usize,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Option<LocalReply>> {
        let cfg = guard.config();
        if held_bytes > cfg.max_response_bytes {
            return Err(buffered_over_limit(self.api, encoding, emit));
        }
        Ok(())
    }

    /// The whole buffered reply in `encoding`: decode, restore, check.
    pub fn reply_body(
        &self,
        guard: &Guard,
        raw: &[u8],
        encoding: ContentEncoding,
        emit: &mut dyn FnMut(Event<'_>),
    ) -> ReplyDecision {
        let cfg = guard.config();
        let Ok(decoded) = encoding.decode(raw, cfg.max_response_bytes) else {
            emit(Event::Unrestored(Unrestored::CorruptEncoding));
            return ReplyDecision::Answer(LocalReply::error(
                self.api,
                502,
                Unrestored::CorruptEncoding.label(),
                "the upstream reply could not be decoded",
            ));
        };
        let outcome = guard_reply_under(cfg, cfg.policy_of(self.policy()), &decoded, &self.vault);
        if outcome.not_utf8 {
            // Forwarded as it is: neither inspected nor restored (placeholders stay visible).
            emit(Event::Unrestored(Unrestored::NotUtf8));
        }
        outcome.emit_counts(emit);
        if outcome.leaks.stop {
            // The reply's status and headers have already left (the host sends them before the
            // body is read), so the body becomes the API's error document under that status.
            // Never the value, its type or the reply text in the log: the counters have the type.
            log::warn!("prompt-guard: reply stopped by the reply policy");
            return ReplyDecision::Forward(Some(error_body(
                self.api.error_shape(),
                502,
                &format!("prompt_guard_{REPLY_BLOCKED}"),
                REPLY_STOPPED_MESSAGE,
            )));
        }
        if outcome.findings.must_remove() {
            // Rule ids only: never the link, its host's data or the reply text.
            log::warn!("prompt-guard: reply content removed, rules {}", outcome.findings.rule_ids.join(","));
        }
        ReplyDecision::Forward(match outcome.body {
            Some(body) => Some(body),
            // Decoded (owned) bytes go on uncompressed: the encoding header was removed.
            None if encoding != ContentEncoding::Identity => Some(decoded.into_owned()),
            None => None,
        })
    }

    /// The host could not read the reply.
    pub fn reply_unreadable(&self) -> LocalReply {
        LocalReply::error(self.api, 502, Reason::Internal.label(), "the gateway could not read the upstream reply")
    }

    /// The exchange is over: what it held is dropped.
    pub fn end(&mut self) {
        self.stream = None;
        self.reply = ReplyMode::Pass;
        self.vault = Vault::with_capacity(0);
    }

    fn load_session<S: SharedData>(
        &mut self,
        cfg: &FilterConfig,
        sessions: &Sessions<'_, S>,
        emit: &mut dyn FnMut(Event<'_>),
    ) {
        let (Some(identity), Some(session), Some(now)) = (&self.session, &cfg.session, sessions.now_secs) else {
            return;
        };
        let store = SessionStore::new(sessions.data, &session.store, &cfg.keys);
        match store.load_into(identity, now, &cfg.restore.grammar, &mut self.vault) {
            Ok(_) => {}
            // Absent as far as the exchange goes; the save replaces it.
            Err(StoreError::Unopened { reason }) => emit(Event::SealedUnopened(reason.into())),
            Err(e) => log::warn!("prompt-guard: session mappings not loaded: {e}"),
        }
    }

    fn save_session<S: SharedData>(&self, cfg: &FilterConfig, sessions: &Sessions<'_, S>) {
        let (Some(identity), Some(session), Some(now)) = (&self.session, &cfg.session, sessions.now_secs) else {
            return;
        };
        let store = SessionStore::new(sessions.data, &session.store, &cfg.keys);
        if let Err(e) = store.save(identity, now, &self.vault) {
            log::warn!("prompt-guard: session mappings not saved: {e}");
        }
    }
}
