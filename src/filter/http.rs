//! The HTTP context: translates the host's callbacks into calls on the engine's `Exchange`,
//! writes its decisions back and returns an action. Nothing is decided here.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::host::{self, Direction, HostError};
use super::metrics::Metrics;
use super::quirks::{self, BufferedBodySize, ContentLengthRemoval, HeadersGoOn, TrailersEndStream};
use super::shared_data::EnvoySharedData;
use super::timing::{Phase, Spent, Started};
use prompt_guard_engine::encoding::ContentEncoding;
use prompt_guard_engine::exchange::{
    BodyDecision, Exchange, Guard, LocalReply, Refusal, ReplyDecision, ReplyHead, ReplyPlan, RequestPlan, Sessions,
    StreamGuard, StreamStep,
};

/// What the filter does with the reply's body.
enum Reply {
    /// Forwarded as it comes.
    Pass,
    /// Held to the end, then decoded from this encoding, restored and replaced.
    Buffered(ContentEncoding),
    /// Server-sent events, restored as they flow.
    Stream(Box<StreamGuard>),
}

pub struct GuardedExchange {
    guard: Rc<Guard>,
    metrics: Rc<Metrics>,
    exchange: Exchange,
    /// The reply is our own local reply: not to be inspected.
    answered_locally: bool,
    request_size: BufferedBodySize,
    request_end: TrailersEndStream,
    reply: Reply,
    reply_size: BufferedBodySize,
    reply_end: TrailersEndStream,
    /// The reply's headers reached the filter (and it was not our own local reply).
    reply_seen: bool,
    /// Host time spent per phase, recorded at the end of the exchange.
    spent: Spent,
}

impl GuardedExchange {
    pub fn new(guard: Rc<Guard>, metrics: Rc<Metrics>) -> Self {
        let exchange = Exchange::new(&guard);
        GuardedExchange {
            guard,
            metrics,
            exchange,
            answered_locally: false,
            request_size: BufferedBodySize::default(),
            request_end: TrailersEndStream::default(),
            reply: Reply::Pass,
            reply_size: BufferedBodySize::default(),
            reply_end: TrailersEndStream::default(),
            reply_seen: false,
            spent: Spent::default(),
        }
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
        let headers: Vec<(&str, &str)> = reply.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Err(e) = host::send_response(reply.status, &headers, &reply.body) {
            log::error!("prompt-guard: {e}");
        }
        Action::Pause
    }

    fn host_failed(&mut self, e: HostError) -> Action {
        log::error!("prompt-guard: {e}");
        let refusal = self.exchange.host_failure(&self.guard, &mut |e| self.metrics.count(&e));
        self.refused(refusal)
    }

    fn request_headers(&mut self, end_of_stream: bool) -> Action {
        let plan = self
            .exchange
            .request_headers(&self.guard, &host::RequestHeaderMap, !end_of_stream, &mut |e| self.metrics.count(&e));
        match plan {
            Ok(RequestPlan::PassThrough) => Action::Continue,
            Ok(RequestPlan::Inspect) => match quirks::hold_request() {
                Ok(()) => HeadersGoOn::ACTION,
                Err(e) => self.host_failed(e),
            },
            Ok(RequestPlan::Refuse(refusal)) => self.refused(refusal),
            Err(e) => self.host_failed(e),
        }
    }

    fn request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !self.exchange.is_guarded() || self.request_end.is_done() {
            return Action::Continue;
        }
        self.request_size.record(body_size);
        if let Some(refusal) = self.exchange.request_body_held(&self.guard, body_size, &mut |e| self.metrics.count(&e)) {
            return self.refused(refusal);
        }
        if !end_of_stream {
            return Action::Pause;
        }
        self.finish_request()
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
        match self.exchange.request_body(&self.guard, &raw, &sessions, &mut |e| self.metrics.count(&e)) {
            BodyDecision::Forward(None) => Action::Continue,
            BodyDecision::Forward(Some(body)) => {
                match host::replace_body(Direction::Request, self.request_size.seen, &body) {
                    Ok(()) => Action::Continue,
                    Err(e) => self.host_failed(e),
                }
            }
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
        let (headers, plan) = self.exchange.reply_headers(&self.guard, head, &mut |e| self.metrics.count(&e));
        for (name, value) in headers {
            host::set_header(Direction::Response, name, &value)?;
        }
        let encoding = match plan {
            ReplyPlan::Pass => return Ok(Action::Continue),
            ReplyPlan::Answer(reply) => return Ok(self.answer(&reply)),
            ReplyPlan::Buffer { encoding } | ReplyPlan::Stream { encoding } => encoding,
        };
        ContentLengthRemoval::apply(Direction::Response)?;
        if encoding != ContentEncoding::Identity {
            host::remove_header(Direction::Response, "content-encoding")?;
        }
        if matches!(plan, ReplyPlan::Stream { .. }) {
            self.reply = Reply::Stream(Box::new(self.exchange.stream(&self.guard, encoding)));
            return Ok(Action::Continue);
        }
        self.reply = Reply::Buffered(encoding);
        Ok(HeadersGoOn::ACTION)
    }

    fn response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let encoding = match self.reply {
            Reply::Pass => return Action::Continue,
            Reply::Stream(_) => return self.stream_chunk(body_size, end_of_stream),
            Reply::Buffered(encoding) => encoding,
        };
        if self.reply_end.is_done() {
            return Action::Continue;
        }
        self.reply_size.record(body_size);
        let held = self.exchange.reply_body_held(&self.guard, encoding, body_size, &mut |e| self.metrics.count(&e));
        if let Err(answer) = held {
            self.reply_end.complete_once();
            return answer.map_or(Action::Continue, |reply| self.answer(&reply));
        }
        if !end_of_stream {
            return Action::Pause;
        }
        self.finish_reply(encoding)
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
        match self.exchange.reply_body(&self.guard, &raw, encoding, &mut |e| self.metrics.count(&e)) {
            ReplyDecision::Forward(None) => {}
            ReplyDecision::Forward(Some(body)) => {
                if let Err(e) = host::replace_body(Direction::Response, self.reply_size.seen, &body) {
                    log::error!("prompt-guard: {e}");
                }
            }
            ReplyDecision::Answer(reply) => return self.answer(&reply),
        }
        Action::Continue
    }

    /// One chunk of a streamed reply: the engine says what to send in its place.
    fn stream_chunk(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if matches!(&self.reply, Reply::Stream(stream) if stream.ended()) {
            return Action::Continue;
        }
        let chunk = if body_size > 0 {
            match host::body(Direction::Response, body_size) {
                Ok(c) => c,
                Err(e) => {
                    log::error!("prompt-guard: {e}");
                    return Action::Continue;
                }
            }
        } else {
            Vec::new()
        };
        let Reply::Stream(stream) = &mut self.reply else {
            return Action::Continue;
        };
        let metrics = &self.metrics;
        match stream.push(&self.guard, self.exchange.vault(), &chunk, end_of_stream, &mut |e| metrics.count(&e)) {
            StreamStep::Rebuffer => {
                self.reply = Reply::Buffered(ContentEncoding::Identity);
                self.reply_size.record(body_size);
                if end_of_stream {
                    self.finish_reply(ContentEncoding::Identity)
                } else {
                    Action::Pause
                }
            }
            StreamStep::Emit(out) => {
                if out != chunk {
                    if let Err(e) = host::replace_body(Direction::Response, body_size, &out) {
                        log::error!("prompt-guard: {e}");
                    }
                }
                Action::Continue
            }
        }
    }

    /// The exchange is over, however it ended: a stream that never saw its end (an upstream
    /// reset, a client abort) is counted as truncated and its text checked for leaks.
    fn end(&mut self) {
        if let Reply::Stream(stream) = &mut self.reply {
            stream.abandon(&self.guard, &mut |e| self.metrics.count(&e));
        }
        // Drop what this exchange held before reading the VM's size.
        self.reply = Reply::Pass;
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
            if !x.exchange.is_guarded() || x.request_end.is_done() {
                return Action::Continue;
            }
            x.finish_request()
        })
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Reply, |x| x.response_headers(end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Reply, |x| x.response_body(body_size, end_of_stream))
    }

    fn on_http_response_trailers(&mut self, _num_trailers: usize) -> Action {
        self.timed(Phase::Reply, |x| match x.reply {
            Reply::Buffered(encoding) if !x.reply_end.is_done() => x.finish_reply(encoding),
            // The stream ended with trailers: its last body callback did not say so. What is
            // still held back (at most a partial placeholder) can only be written into the body
            // buffer if the host still has one; otherwise it is counted as truncated.
            Reply::Stream(_) => x.stream_chunk(0, true),
            _ => Action::Continue,
        })
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
