//! The HTTP context: translates the host's callbacks into calls on the engine's `Exchange`,
//! writes its decisions back and returns an action. Nothing is decided here.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::host::{self, Direction, HostError};
use super::metrics::Metrics;
use super::quirks::{self, BufferedBodySize, ContentLengthRemoval, HeadersGoOn, TrailersEndStream};
use super::random::HostRandom;
use super::shared_data::EnvoySharedData;
use super::timing::{Phase, Spent, Started};
use prompt_guard_engine::api::{ApiAudit, ApiCall, ApiHost, ApiReply};
use prompt_guard_engine::encoding::ContentEncoding;
use prompt_guard_engine::event::Event;
use prompt_guard_engine::exchange::{
    AuditTrail, BodyDecision, Exchange, Guard, HostFacts, LocalReply, Refusal, ReplyDecision, ReplyHead, ReplyMode,
    ReplyPlan, RequestPlan, Sessions, StreamStep, AUDIT_PROPERTY,
};

pub struct GuardedExchange {
    guard: Rc<Guard>,
    metrics: Rc<Metrics>,
    exchange: Exchange,
    /// A call to the filter's own API (`api`): answered here, never forwarded.
    api_call: Option<ApiCall>,
    /// What an answered API call did, for its audit record.
    api_audit: Option<ApiAudit>,
    /// The reply is our own local reply: not to be inspected.
    answered_locally: bool,
    request_size: BufferedBodySize,
    request_end: TrailersEndStream,
    reply_size: BufferedBodySize,
    reply_end: TrailersEndStream,
    /// The reply's headers reached the filter (and it was not our own local reply).
    reply_seen: bool,
    /// Host time spent per phase, recorded at the end of the exchange.
    spent: Spent,
    /// What the exchange's events said, for its audit record.
    audit: AuditTrail,
    /// The reply reached its end.
    reply_complete: bool,
}

/// Count an event and note it for the audit record.
fn note(metrics: &Metrics, audit: &mut AuditTrail, event: &Event<'_>) {
    metrics.count(event);
    audit.observe(event);
}

impl GuardedExchange {
    pub fn new(guard: Rc<Guard>, metrics: Rc<Metrics>) -> Self {
        let exchange = Exchange::new(&guard);
        GuardedExchange {
            guard,
            metrics,
            exchange,
            api_call: None,
            api_audit: None,
            answered_locally: false,
            request_size: BufferedBodySize::default(),
            request_end: TrailersEndStream::default(),
            reply_size: BufferedBodySize::default(),
            reply_end: TrailersEndStream::default(),
            reply_seen: false,
            spent: Spent::default(),
            audit: AuditTrail::default(),
            reply_complete: false,
        }
    }

    /// Hand the exchange's audit record to the host as it stands: at the end of the reply (our
    /// own included) and again when the stream is logged, so the access log finds it whichever
    /// comes first and however the exchange ended.
    fn publish_audit(&self) {
        if !(self.exchange.is_guarded() || self.api_audit.is_some()) || !self.guard.config().audit.enabled {
            return;
        }
        let (request_us, reply_us) = self.spent.micros();
        let facts = HostFacts {
            reply_seen: self.reply_seen,
            answered_locally: self.answered_locally,
            reply_complete: self.reply_complete,
            request_us,
            reply_us,
        };
        let record = match &self.api_audit {
            Some(call) => self.audit.api_record(&self.guard, call, &facts),
            None => self.audit.record(&self.guard, &self.exchange, &facts),
        };
        if let Err(e) = host::set_property(AUDIT_PROPERTY, &record.to_json()) {
            log::warn!("prompt-guard: audit record not handed to the host: {e}");
        }
    }

    /// The reply reached its end.
    fn reply_ended(&mut self) {
        self.reply_complete = true;
        self.publish_audit();
    }

    /// Run one callback's work and add the host time it took to its phase.
    fn timed(&mut self, phase: Phase, work: impl FnOnce(&mut Self) -> Action) -> Action {
        let started = Started::now();
        let action = work(self);
        self.spent.add(phase, started);
        action
    }

    fn refused(&mut self, refusal: Refusal) -> Action {
        match refusal {
            Refusal::Answer(reply) => self.answer(&reply),
            Refusal::FailOpen(_) => {
                self.request_end.complete_once();
                Action::Continue
            }
        }
    }

    fn answer(&mut self, reply: &LocalReply) -> Action {
        self.answered_locally = true;
        self.publish_audit();
        host::answer(reply);
        Action::Pause
    }

    fn host_failed(&mut self, e: HostError) -> Action {
        log::error!("prompt-guard: {e}");
        let refusal = self.exchange.host_failure(&self.guard, &mut |e| note(&self.metrics, &mut self.audit, &e));
        self.refused(refusal)
    }

    fn request_headers(&mut self, end_of_stream: bool) -> Action {
        match ApiCall::start(&self.guard, &host::RequestHeaderMap) {
            Ok(Some(call)) => return self.api_headers(call, end_of_stream),
            Ok(None) => {}
            Err(e) => return self.host_failed(e),
        }
        let plan = self.exchange.request_headers(&self.guard, &host::RequestHeaderMap, !end_of_stream, &mut |e| {
            note(&self.metrics, &mut self.audit, &e)
        });
        match plan {
            Ok(RequestPlan::PassThrough) => Action::Continue,
            Ok(RequestPlan::Inspect) => {
                quirks::hold_request().map_or_else(|e| self.host_failed(e), |()| HeadersGoOn::ACTION)
            }
            Ok(RequestPlan::Refuse(refusal)) => self.refused(refusal),
            Err(e) => self.host_failed(e),
        }
    }

    /// An API call's headers: refused from them, or its body held. The headers go on like an
    /// inspected request's (see `HeadersGoOn`); the buffer filter after this one keeps them from
    /// the router until the body is complete, and the call is answered before that.
    fn api_headers(&mut self, call: ApiCall, end_of_stream: bool) -> Action {
        let early = call.refuse_early(&self.guard, !end_of_stream, &mut |e| note(&self.metrics, &mut self.audit, &e));
        self.api_call = Some(call);
        match early {
            Some(reply) => self.answer_api(reply),
            None => HeadersGoOn::ACTION,
        }
    }

    fn answer_api(&mut self, reply: ApiReply) -> Action {
        self.request_end.complete_once();
        self.api_audit = Some(reply.audit);
        let reply = LocalReply { status: reply.status, reason: "api", headers: reply.headers, body: reply.body };
        self.answer(&reply)
    }

    /// Part of an API call's body: held until it is complete, then answered.
    fn api_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.request_end.is_done() {
            return Action::Pause;
        }
        self.request_size.record(body_size);
        let Some(call) = &self.api_call else { return Action::Pause };
        let (metrics, audit) = (&self.metrics, &mut self.audit);
        match call.body_held(&self.guard, body_size, &mut |e| note(metrics, audit, &e)) {
            Some(reply) => self.answer_api(reply),
            None if end_of_stream => self.finish_api(),
            None => Action::Pause,
        }
    }

    /// The whole body of an API call is here: answer it.
    fn finish_api(&mut self) -> Action {
        if self.request_end.is_done() {
            return Action::Pause;
        }
        let Some(call) = self.api_call.take() else { return Action::Pause };
        let raw = match host::body(Direction::Request, self.request_size.seen) {
            Ok(raw) => raw,
            Err(e) => {
                log::error!("prompt-guard: {e}");
                let reply = call.internal(&mut |e| note(&self.metrics, &mut self.audit, &e));
                return self.answer_api(reply);
            }
        };
        let host = ApiHost { data: &EnvoySharedData, random: &HostRandom, now_secs: host::now_secs().ok() };
        let reply = call.finish(&self.guard, &raw, &host, &mut |e| note(&self.metrics, &mut self.audit, &e));
        self.answer_api(reply)
    }

    fn request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.api_call.is_some() {
            return self.api_body(body_size, end_of_stream);
        }
        if !self.exchange.is_guarded() || self.request_end.is_done() {
            return Action::Continue;
        }
        self.request_size.record(body_size);
        match self.exchange.request_body_held(&self.guard, body_size, &mut |e| note(&self.metrics, &mut self.audit, &e))
        {
            Some(refusal) => self.refused(refusal),
            None if end_of_stream => self.finish_request(),
            None => Action::Pause,
        }
    }

    /// The whole request body is here (end of stream or trailers).
    fn finish_request(&mut self) -> Action {
        if !self.request_end.complete_once() {
            return Action::Continue;
        }
        let raw = match host::body(Direction::Request, self.request_size.seen) {
            Ok(raw) => raw,
            Err(e) => return self.host_failed(e),
        };
        let sessions = Sessions { data: &EnvoySharedData, now_secs: host::now_secs().ok() };
        match self
            .exchange
            .request_body(&self.guard, &raw, &sessions, &mut |e| note(&self.metrics, &mut self.audit, &e))
        {
            BodyDecision::Forward(None) => Action::Continue,
            BodyDecision::Forward(Some(body)) => host::replace_body(Direction::Request, self.request_size.seen, &body)
                .map_or_else(|e| self.host_failed(e), |()| Action::Continue),
            BodyDecision::Refuse(refusal) => self.refused(refusal),
        }
    }

    fn response_headers(&mut self, end_of_stream: bool) -> Action {
        if !self.exchange.is_guarded() || self.answered_locally {
            return Action::Continue;
        }
        self.reply_seen = true;
        self.start_reply(end_of_stream).unwrap_or_else(|e| {
            log::error!("prompt-guard: {e}");
            self.exchange.pass_reply();
            Action::Continue
        })
    }

    fn start_reply(&mut self, end_of_stream: bool) -> Result<Action, HostError> {
        let content_type = host::header(Direction::Response, "content-type")?;
        let content_encoding = host::header(Direction::Response, "content-encoding")?;
        let head = ReplyHead {
            end_of_stream,
            content_type: content_type.as_deref(),
            content_encoding: content_encoding.as_deref(),
        };
        let (headers, plan) =
            self.exchange.reply_headers(&self.guard, head, &mut |e| note(&self.metrics, &mut self.audit, &e));
        host::set_headers(Direction::Response, &headers)?;
        let encoding = match plan {
            ReplyPlan::Pass => return Ok(Action::Continue),
            ReplyPlan::Answer(reply) => return Ok(self.answer(&reply)),
            ReplyPlan::Buffer { encoding } | ReplyPlan::Stream { encoding } => encoding,
        };
        ContentLengthRemoval::apply(Direction::Response)?;
        if encoding != ContentEncoding::Identity {
            host::remove_header(Direction::Response, "content-encoding")?;
        }
        Ok(if matches!(plan, ReplyPlan::Stream { .. }) { Action::Continue } else { HeadersGoOn::ACTION })
    }

    fn response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let encoding = match self.exchange.reply_mode() {
            ReplyMode::Pass => return Action::Continue,
            ReplyMode::Stream => return self.stream_chunk(body_size, end_of_stream),
            ReplyMode::Buffered(_) if self.reply_end.is_done() => return Action::Continue,
            ReplyMode::Buffered(encoding) => encoding,
        };
        self.reply_size.record(body_size);
        let held = self
            .exchange
            .reply_body_held(&self.guard, encoding, body_size, &mut |e| note(&self.metrics, &mut self.audit, &e));
        match held {
            Err(answer) => {
                self.reply_end.complete_once();
                answer.map_or(Action::Continue, |reply| self.answer(&reply))
            }
            Ok(()) if end_of_stream => self.finish_reply(encoding),
            Ok(()) => Action::Pause,
        }
    }

    /// The whole buffered reply is here.
    fn finish_reply(&mut self, encoding: ContentEncoding) -> Action {
        if !self.reply_end.complete_once() {
            return Action::Continue;
        }
        let Ok(raw) =
            host::body(Direction::Response, self.reply_size.seen).inspect_err(|e| log::error!("prompt-guard: {e}"))
        else {
            let reply = self.exchange.reply_unreadable();
            return self.answer(&reply);
        };
        match self.exchange.reply_body(&self.guard, &raw, encoding, &mut |e| note(&self.metrics, &mut self.audit, &e)) {
            ReplyDecision::Forward(None) => Action::Continue,
            ReplyDecision::Forward(Some(body)) => {
                if let Err(e) = host::replace_body(Direction::Response, self.reply_size.seen, &body) {
                    log::error!("prompt-guard: {e}");
                }
                Action::Continue
            }
            ReplyDecision::Answer(reply) => self.answer(&reply),
        }
    }

    /// One chunk of a streamed reply: the engine says what to send in its place.
    fn stream_chunk(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.exchange.stream_ended() {
            return Action::Continue;
        }
        let chunk = match host::body_or_empty(Direction::Response, body_size) {
            Ok(c) => c,
            Err(e) => {
                log::error!("prompt-guard: {e}");
                return Action::Continue;
            }
        };
        let (metrics, audit) = (&self.metrics, &mut self.audit);
        match self.exchange.stream_chunk(&self.guard, &chunk, end_of_stream, &mut |e| note(metrics, audit, &e)) {
            StreamStep::Rebuffer => {
                self.reply_size.record(body_size);
                if end_of_stream {
                    self.finish_reply(ContentEncoding::Identity)
                } else {
                    Action::Pause
                }
            }
            StreamStep::Emit(out) => {
                host::replace_body_if_changed(Direction::Response, body_size, &chunk, &out);
                Action::Continue
            }
        }
    }

    /// The exchange is over, however it ended; what it held is dropped before the VM's size is
    /// read.
    fn end(&mut self) {
        self.exchange.abandon_stream(&self.guard, &mut |e| note(&self.metrics, &mut self.audit, &e));
        self.publish_audit();
        self.exchange.end();
    }
}

impl Context for GuardedExchange {}

impl HttpContext for GuardedExchange {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Request, |x| x.request_headers(end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Request, |x| x.request_body(body_size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        self.timed(Phase::Request, |x| {
            if x.api_call.is_some() {
                return x.finish_api();
            }
            if !x.exchange.is_guarded() || x.request_end.is_done() {
                return Action::Continue;
            }
            x.finish_request()
        })
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let action = self.timed(Phase::Reply, |x| x.response_headers(end_of_stream));
        if end_of_stream {
            self.reply_ended();
        }
        action
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let action = self.timed(Phase::Reply, |x| x.response_body(body_size, end_of_stream));
        if end_of_stream {
            self.reply_ended();
        }
        action
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        let action = self.timed(Phase::Reply, |x| match x.exchange.reply_mode() {
            ReplyMode::Buffered(encoding) if !x.reply_end.is_done() => x.finish_reply(encoding),
            // The stream ended with trailers: its last body callback did not say so. What is
            // still held back (at most a partial placeholder) can only be written into the body
            // buffer if the host still has one; otherwise it is counted as truncated.
            ReplyMode::Stream => x.stream_chunk(0, true),
            _ => Action::Continue,
        });
        self.reply_ended();
        action
    }

    fn on_log(&mut self) {
        self.timed(Phase::Reply, |x| {
            x.end();
            Action::Continue
        });
        if self.exchange.is_guarded() {
            self.spent.record(&self.metrics, self.reply_seen && !self.answered_locally);
        }
        self.metrics.wasm_memory_bytes.set(host::wasm_memory_bytes());
    }
}
