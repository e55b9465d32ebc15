//! The HTTP context: one exchange. It gathers headers and bodies, asks the engine, writes the
//! result and returns an action.

use std::rc::Rc;

use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use super::host::{self, Direction, HostError};
use super::metrics::{verdict_key, Metrics};
use super::quirks::{BufferedBodySize, ContentLengthRemoval, HeadersGoOn, TrailersEndStream};
use super::shared_data::EnvoySharedData;
use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::encoding::{ContentEncoding, DecodeError, StreamDecoder};
use prompt_guard_engine::exchange::{guard_reply, guard_request_as, is_json_content_type, BodyKind, Rejection};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::plan::{reply_handling, ReplyHandling, StreamCounts};
use prompt_guard_engine::protocol::{error_body, error_event, Api};
use prompt_guard_engine::reply::{scan_leaks, scan_links, ReplyFindings};
use prompt_guard_engine::sse::{BodyShape, StreamStart};
use prompt_guard_engine::stream::{SseRestorer, StreamProtocol};
use prompt_guard_engine::threat::Verdict;
use prompt_guard_engine::vault::Vault;
use prompt_guard_engine::store::SessionStore;

/// Request headers that carry the caller's credential (OpenAI, Anthropic, Azure OpenAI), in
/// the order they are looked for.
const CALLER_HEADERS: [&str; 3] = ["authorization", "x-api-key", "api-key"];

/// Response header: how many values were masked in the request.
pub const MASKED_HEADER: &str = "x-prompt-guard-masked";
/// Response header: the request was forwarded uninspected, and why.
pub const FAIL_OPEN_HEADER: &str = "x-prompt-guard-fail-open";
/// Response header on our own error replies: the rejection reason.
pub const REJECTED_HEADER: &str = "x-prompt-guard-rejected";
/// Response headers of a flagged or blocked request: overall score, categories, rule ids.
pub const SCORE_HEADER: &str = "x-prompt-guard-score";
pub const CATEGORIES_HEADER: &str = "x-prompt-guard-categories";
pub const RULES_HEADER: &str = "x-prompt-guard-rules";

/// The verdict headers: what was found, never the text it was found in.
fn verdict_headers(verdict: &Verdict) -> [(&'static str, String); 3] {
    let categories: Vec<&str> = verdict.categories.iter().map(|c| c.name()).collect();
    [
        (SCORE_HEADER, format!("{:.2}", verdict.score)),
        (CATEGORIES_HEADER, categories.join(",")),
        (RULES_HEADER, verdict.rule_ids.join(",")),
    ]
}

/// What the filter does with the reply.
enum ReplyMode {
    /// Nothing to do: forwarded as it comes.
    PassThrough,
    /// Buffer to the end, decode, restore, replace.
    Buffered { encoding: ContentEncoding },
    /// Server-sent events: restored as they flow, chunk by chunk.
    Stream(Box<LiveStream>),
}

/// The state of one streamed reply.
struct LiveStream {
    restorer: SseRestorer,
    /// Present when the upstream compressed the stream anyway.
    decoder: Option<StreamDecoder>,
    /// A decoding error or a removed reply ended the stream: what still arrives is dropped.
    failed: bool,
    /// The last few KiB of reply text, where a link being written is looked for.
    window: String,
    /// All reply text (bounded), scanned for leaked secrets and personal data at the end.
    text: String,
    /// Tells an event stream from a JSON document by the body's first bytes.
    start: StreamStart,
    /// What of the restorer's counts went into the metrics already.
    counts: StreamCounts,
}

/// How much recent stream text a link or canary is looked for in: longer than any link worth
/// writing into a markdown image.
const LINK_WINDOW_BYTES: usize = 4096;

impl LiveStream {
    fn new(restorer: SseRestorer, decoder: Option<StreamDecoder>) -> Self {
        LiveStream {
            restorer,
            decoder,
            failed: false,
            window: String::new(),
            text: String::new(),
            start: StreamStart::default(),
            counts: StreamCounts::default(),
        }
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
}

fn stream_protocol(api: Api) -> StreamProtocol {
    match api {
        Api::OpenaiChat => StreamProtocol::OpenAiChat,
        Api::OpenaiResponses => StreamProtocol::OpenAiResponses,
        Api::OpenaiCompletions => StreamProtocol::OpenAiCompletions,
        Api::AnthropicMessages => StreamProtocol::AnthropicMessages,
        Api::OpenaiEmbeddings
        | Api::OpenaiModerations
        | Api::OpenaiConversations
        | Api::OpenaiAssistants
        | Api::OpenaiBatches
        | Api::OpenaiFiles
        | Api::AnthropicBatches
        | Api::Generic
        | Api::PassThrough => StreamProtocol::Generic,
    }
}

pub struct GuardedExchange {
    cfg: Rc<FilterConfig>,
    metrics: Rc<Metrics>,
    api: Api,
    /// The request's declared content type (decides JSON, text or multipart).
    content_type: Option<String>,
    request_encoding: ContentEncoding,
    vault: Vault,
    masked: u32,
    fail_open_reason: Option<&'static str>,
    /// The session this exchange belongs to (from the configured trusted header), if any.
    session: Option<String>,
    /// Whose remembered scan results this request may use (see `engine::memo`).
    memo_scope: MemoScope,
    /// The request went on flagged: its verdict goes into the reply's headers.
    flagged: Option<Verdict>,
    /// The reply is our own local reply: not to be inspected.
    answered_locally: bool,
    request_size: BufferedBodySize,
    request_end: TrailersEndStream,
    reply: ReplyMode,
    reply_size: BufferedBodySize,
    reply_end: TrailersEndStream,
    /// The reply's headers reached the filter (and it was not our own local reply).
    reply_seen: bool,
    /// Host time spent per phase, recorded at the end of the exchange.
    spent: Spent,
}

impl GuardedExchange {
    pub fn new(cfg: Rc<FilterConfig>, metrics: Rc<Metrics>) -> Self {
        let capacity = cfg.max_entities;
        GuardedExchange {
            cfg,
            metrics,
            api: Api::PassThrough,
            content_type: None,
            request_encoding: ContentEncoding::Identity,
            vault: Vault::with_capacity(capacity),
            masked: 0,
            fail_open_reason: None,
            session: None,
            memo_scope: MemoScope::NONE,
            flagged: None,
            answered_locally: false,
            request_size: BufferedBodySize::default(),
            request_end: TrailersEndStream::default(),
            reply: ReplyMode::PassThrough,
            reply_size: BufferedBodySize::default(),
            reply_end: TrailersEndStream::default(),
            reply_seen: false,
            spent: Spent::default(),
        }
    }

    /// Refuse the request with an error in the API's shape, or forward it uninspected when the
    /// configuration says `fail_open`.
    fn reject(&mut self, rejection: &Rejection) -> Action {
        if let Rejection::Threat { verdict } = rejection {
            self.count_verdict(verdict);
            self.metrics.rejections.add(rejection.reason(), 1);
            let extra = verdict_headers(verdict);
            return self.answer_locally(rejection.status(), rejection.reason(), &rejection.to_string(), &extra);
        }
        if !rejection.fails_open() {
            self.metrics.rejections.add(rejection.reason(), 1);
            return self.answer_locally(rejection.status(), rejection.reason(), &rejection.to_string(), &[]);
        }
        self.refuse(rejection.status(), rejection.reason(), &rejection.to_string())
    }

    fn count_reply_findings(&self, findings: &ReplyFindings) {
        for (kind, n) in findings.by_kind() {
            self.metrics.reply_findings.add(kind, n);
        }
        if findings.must_remove() {
            // Rule ids only: never the link, its host's data or the reply text.
            log::warn!("prompt-guard: reply content removed, rules {}", findings.rule_ids.join(","));
        }
    }

    fn count_verdict(&self, verdict: &Verdict) {
        for category in &verdict.categories {
            self.metrics.threat_verdicts.add(&verdict_key(*category, verdict.action), 1);
        }
    }

    /// A request that cannot be inspected: refused, or forwarded uninspected when the
    /// configuration says `fail_open`.
    fn refuse(&mut self, status: u16, reason: &'static str, message: &str) -> Action {
        if self.cfg.fail_open {
            self.metrics.fail_open.add(reason, 1);
            self.fail_open_reason = Some(reason);
            // Nothing was masked in what goes upstream, so nothing may be restored.
            self.vault = Vault::with_capacity(self.cfg.max_entities);
            self.masked = 0;
            self.request_end.complete_once();
            return Action::Continue;
        }
        self.metrics.rejections.add(reason, 1);
        self.answer_locally(status, reason, message, &[])
    }

    fn answer_locally(&mut self, status: u16, reason: &'static str, message: &str, extra: &[(&str, String)]) -> Action {
        self.answered_locally = true;
        let body = error_body(self.api.error_shape(), status, &format!("prompt_guard_{reason}"), message);
        let mut headers = vec![("content-type", "application/json"), (REJECTED_HEADER, reason)];
        headers.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        if let Err(e) = host::send_response(status, &headers, &body) {
            log::error!("prompt-guard: {e}");
        }
        Action::Pause
    }

    fn host_failed(&mut self, e: HostError) -> Action {
        log::error!("prompt-guard: {e}");
        self.refuse(500, "internal", "the gateway could not inspect this request")
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
        let decoded = match self.request_encoding.decode(&raw, self.cfg.max_body_bytes) {
            Ok(d) => d,
            Err(e) => return self.reject(&decode_rejection(e)),
        };
        let cfg = Rc::clone(&self.cfg);
        self.load_session();
        let kind = BodyKind::from_content_type(self.content_type.as_deref());
        match guard_request_as(&cfg, self.api, &decoded, kind, &mut self.vault, self.memo_scope) {
            Ok(outcome) => {
                self.save_session();
                self.masked = outcome.masked.total();
                self.metrics.scan_memo_hits.add(u64::from(outcome.memo_hits));
                if self.masked > 0 {
                    self.metrics.requests_with_findings.inc();
                }
                for (label, n) in outcome.masked.by_label() {
                    self.metrics.entities_masked.add(label, u64::from(n));
                }
                if let Some(verdict) = outcome.flagged {
                    self.count_verdict(&verdict);
                    self.flagged = Some(verdict);
                }
                // A compressed request goes on in its declared encoding: the headers that say
                // so have already left.
                if let Some(body) = outcome.body.map(|b| self.request_encoding.encode(b)) {
                    if let Err(e) = self.write_request_body(&body) {
                        return self.host_failed(e);
                    }
                }
                Action::Continue
            }
            Err(rejection) => self.reject(&rejection),
        }
    }

    /// Put the session's earlier mappings into the vault before masking. A store problem costs
    /// only continuity (new values get new numbers), so it is logged and the exchange goes on.
    fn load_session(&mut self) {
        let (Some(identity), Some(session)) = (&self.session, &self.cfg.session) else { return };
        let Ok(now) = host::now_secs() else { return };
        let store = SessionStore::new(&EnvoySharedData, &session.store);
        if let Err(e) = store.load_into(identity, now, &self.cfg.restore.grammar, &mut self.vault) {
            log::warn!("prompt-guard: session mappings not loaded: {e}");
        }
    }

    fn save_session(&self) {
        let (Some(identity), Some(session)) = (&self.session, &self.cfg.session) else { return };
        let Ok(now) = host::now_secs() else { return };
        let store = SessionStore::new(&EnvoySharedData, &session.store);
        if let Err(e) = store.save(identity, now, &self.vault) {
            log::warn!("prompt-guard: session mappings not saved: {e}");
        }
    }

    fn write_request_body(&self, body: &[u8]) -> Result<(), HostError> {
        host::replace_body(Direction::Request, self.request_size.seen, body)
    }

    /// The whole buffered reply is here.
    fn finish_reply(&mut self, encoding: ContentEncoding) -> Action {
        if !self.reply_end.complete_once() {
            return Action::Continue;
        }
        let raw = match host::body(Direction::Response, self.reply_size.seen) {
            Ok(raw) => raw,
            Err(e) => {
                log::error!("prompt-guard: {e}");
                return self.answer_locally(502, "internal", "the gateway could not read the upstream reply", &[]);
            }
        };
        let decoded = match encoding.decode(&raw, self.cfg.max_response_bytes) {
            Ok(d) => d,
            Err(_) => {
                self.metrics.responses_unrestored.add("corrupt_encoding", 1);
                return self.answer_locally(502, "corrupt_encoding", "the upstream reply could not be decoded", &[]);
            }
        };
        let outcome = guard_reply(&self.cfg, &decoded, &self.vault);
        if outcome.not_utf8 {
            // Forwarded as it is: neither inspected nor restored (placeholders stay visible).
            self.metrics.responses_unrestored.add("not_utf8", 1);
        }
        self.metrics.placeholders_restored.add(outcome.restore.restored);
        self.metrics.restore_misses.add(outcome.restore.misses);
        self.count_reply_findings(&outcome.findings);
        let replacement = match outcome.body {
            Some(body) => Some(body),
            // Decoded (owned) bytes go on uncompressed: the encoding header was removed.
            None if encoding != ContentEncoding::Identity => Some(decoded.into_owned()),
            None => None,
        };
        if let Some(body) = replacement {
            if let Err(e) = host::replace_body(Direction::Response, self.reply_size.seen, &body) {
                log::error!("prompt-guard: {e}");
            }
        }
        Action::Continue
    }

    fn start_reply(&mut self, end_of_stream: bool) -> Result<Action, HostError> {
        host::set_header(Direction::Response, MASKED_HEADER, &self.masked.to_string())?;
        if let Some(reason) = self.fail_open_reason {
            host::set_header(Direction::Response, FAIL_OPEN_HEADER, reason)?;
        }
        if let Some(verdict) = &self.flagged {
            for (name, value) in verdict_headers(verdict) {
                host::set_header(Direction::Response, name, &value)?;
            }
        }
        let restores = !self.vault.is_empty() && self.cfg.restore_responses;
        if !restores {
            // Nothing of ours can be in the reply: forget the vault so only inspection remains.
            self.vault.forget_values();
        }
        // Held only when something needs the text (see `engine::plan`): an embeddings reply, or
        // any reply with nothing to restore and no reply check, passes whatever its size.
        if end_of_stream || reply_handling(self.api, restores, self.cfg.threats.enabled) == ReplyHandling::PassThrough {
            return Ok(Action::Continue);
        }
        let content_type = host::header(Direction::Response, "content-type")?;
        let encoding = host::header(Direction::Response, "content-encoding")?;
        let is_stream = content_type
            .as_deref()
            .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("text/event-stream"));
        let encoding = match ContentEncoding::parse(encoding.as_deref()) {
            Ok(e) => e,
            Err(_) => {
                self.metrics.responses_unrestored.add("unsupported_encoding", 1);
                return Ok(self.answer_locally(
                    502,
                    "unsupported_encoding",
                    "the upstream reply uses a content encoding the gateway cannot read",
                    &[],
                ));
            }
        };
        ContentLengthRemoval::apply(Direction::Response)?;
        if is_stream {
            let decoder = if encoding == ContentEncoding::Identity {
                None
            } else {
                host::remove_header(Direction::Response, "content-encoding")?;
                // Inflated in bounded steps, and at most `max_response_bytes` in all.
                Some(StreamDecoder::new(encoding).with_limit(self.cfg.max_response_bytes))
            };
            let restorer = SseRestorer::new(stream_protocol(self.api));
            self.reply = ReplyMode::Stream(Box::new(LiveStream::new(restorer, decoder)));
            return Ok(Action::Continue);
        }
        if encoding != ContentEncoding::Identity {
            host::remove_header(Direction::Response, "content-encoding")?;
        }
        self.reply = ReplyMode::Buffered { encoding };
        Ok(HeadersGoOn::ACTION)
    }
}

/// Add what the stream restored and missed since the last report.
fn report_stream_counts(metrics: &Metrics, live: &mut LiveStream) {
    let fresh = live.counts.report(&live.restorer.stats());
    metrics.placeholders_restored.add(fresh.restored);
    metrics.restore_misses.add(fresh.misses);
    metrics.stream_anomalies.add("oversized_event", fresh.oversized);
}

/// Secrets and personal data in the text the stream carried (counted, never removed).
fn count_stream_leaks(cfg: &FilterConfig, metrics: &Metrics, live: &mut LiveStream) {
    if cfg.threats.enabled {
        let mut buf = Vec::new();
        let leaks = scan_leaks(cfg, &live.text, &mut buf);
        metrics.reply_findings.add("secret", leaks.secrets);
        metrics.reply_findings.add("pii", leaks.pii);
    }
    live.text = String::new();
}

fn decode_rejection(e: DecodeError) -> Rejection {
    match e {
        DecodeError::Unsupported { encoding } => Rejection::UnsupportedEncoding { encoding },
        DecodeError::Corrupt { encoding } => Rejection::CorruptEncoding { encoding: encoding.to_owned() },
        DecodeError::TooLarge { limit } => Rejection::TooLarge { limit },
    }
}

impl Context for GuardedExchange {}

/// Which half of the exchange a callback works on, for the processing-time histograms.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Request,
    Reply,
}

/// Host time this exchange's callbacks spent working, per phase, in nanoseconds.
#[derive(Debug, Default)]
struct Spent {
    request_ns: u64,
    reply_ns: u64,
}

impl GuardedExchange {
    /// Run one callback's work and add the host time it took to its phase.
    fn timed(&mut self, phase: Phase, work: impl FnOnce(&mut Self) -> Action) -> Action {
        let started = host::now_nanos().ok();
        let action = work(self);
        if let (Some(started), Ok(ended)) = (started, host::now_nanos()) {
            let ns = ended.saturating_sub(started);
            match phase {
                Phase::Request => self.spent.request_ns = self.spent.request_ns.saturating_add(ns),
                Phase::Reply => self.spent.reply_ns = self.spent.reply_ns.saturating_add(ns),
            }
        }
        action
    }

    /// Record the time spent, once per exchange: the request's when it was inspected, the reply's
    /// when the filter looked at it (not for our own local replies).
    fn record_time_spent(&self) {
        if self.api == Api::PassThrough {
            return;
        }
        self.metrics.request_processing_us.record(self.spent.request_ns / 1_000);
        if self.reply_seen && !self.answered_locally {
            self.metrics.reply_processing_us.record(self.spent.reply_ns / 1_000);
        }
    }
}

impl HttpContext for GuardedExchange {
    fn on_http_request_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Request, |x| x.request_headers(num_headers, end_of_stream))
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Request, |x| x.request_body(body_size, end_of_stream))
    }

    fn on_http_request_trailers(&mut self, num_trailers: usize) -> Action {
        self.timed(Phase::Request, |x| x.request_trailers(num_trailers))
    }

    fn on_http_response_headers(&mut self, num_headers: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Reply, |x| x.response_headers(num_headers, end_of_stream))
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        self.timed(Phase::Reply, |x| x.response_body(body_size, end_of_stream))
    }

    fn on_http_response_trailers(&mut self, num_trailers: usize) -> Action {
        self.timed(Phase::Reply, |x| x.response_trailers(num_trailers))
    }

    /// The exchange is over, however it ended.
    fn on_log(&mut self) {
        self.timed(Phase::Reply, |x| {
            x.end();
            Action::Continue
        });
        self.record_time_spent();
        self.metrics.wasm_memory_bytes.set(host::wasm_memory_bytes());
    }
}

impl GuardedExchange {
    fn request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let path = match host::header(Direction::Request, ":path") {
            Ok(p) => p.unwrap_or_default(),
            Err(e) => return self.host_failed(e),
        };
        self.api = self.cfg.classify(&path);
        if self.api == Api::PassThrough || end_of_stream {
            // No body: nothing to inspect, so nothing to restore either.
            self.api = Api::PassThrough;
            return Action::Continue;
        }
        self.metrics.requests_inspected.inc();
        match self.inspect_request_headers() {
            Ok(action) => action,
            Err(e) => self.host_failed(e),
        }
    }

    fn request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.api == Api::PassThrough || self.request_end.is_done() {
            return Action::Continue;
        }
        self.request_size.record(body_size);
        if body_size > self.cfg.max_body_bytes {
            return self.reject(&Rejection::TooLarge { limit: self.cfg.max_body_bytes });
        }
        if !end_of_stream {
            return Action::Pause;
        }
        self.finish_request()
    }

    fn request_trailers(&mut self, _num_trailers: usize) -> Action {
        if self.api == Api::PassThrough || self.request_end.is_done() {
            return Action::Continue;
        }
        self.finish_request()
    }

    fn response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if self.api == Api::PassThrough || self.answered_locally {
            return Action::Continue;
        }
        self.reply_seen = true;
        match self.start_reply(end_of_stream) {
            Ok(action) => action,
            Err(e) => {
                log::error!("prompt-guard: {e}");
                Action::Continue
            }
        }
    }

    fn response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        match self.reply {
            ReplyMode::PassThrough => Action::Continue,
            ReplyMode::Stream(_) => self.stream_chunk(body_size, end_of_stream),
            ReplyMode::Buffered { encoding } => {
                if self.reply_end.is_done() {
                    return Action::Continue;
                }
                self.reply_size.record(body_size);
                if body_size > self.cfg.max_response_bytes {
                    self.reply_end.complete_once();
                    self.metrics.responses_unrestored.add("too_large", 1);
                    if encoding != ContentEncoding::Identity {
                        return self.answer_locally(
                            502,
                            "body_too_large",
                            "the upstream reply is too large to inspect",
                            &[],
                        );
                    }
                    // Forwarded as it is: placeholders stay visible, nothing leaks.
                    return Action::Continue;
                }
                if !end_of_stream {
                    return Action::Pause;
                }
                self.finish_reply(encoding)
            }
        }
    }

    /// The exchange is over, however it ended. A stream that never saw its end (an upstream reset,
    /// a client abort) is counted as truncated, with what was held of its text checked for leaks;
    /// its restore counts went into the metrics as the stream flowed.
    fn end(&mut self) {
        if let ReplyMode::Stream(live) = &mut self.reply {
            if self.reply_end.complete_once() {
                self.metrics.stream_anomalies.add("truncated", 1);
                report_stream_counts(&self.metrics, live);
                count_stream_leaks(&self.cfg, &self.metrics, live);
            }
        }
        // Drop what this exchange held before reading the VM's size.
        self.reply = ReplyMode::PassThrough;
        self.vault = Vault::with_capacity(0);
    }

    fn response_trailers(&mut self, _num_trailers: usize) -> Action {
        match self.reply {
            ReplyMode::Buffered { encoding } if !self.reply_end.is_done() => self.finish_reply(encoding),
            // The stream ended with trailers: its last body callback did not say so. What is
            // still held back (at most a partial placeholder) can only be written into the body
            // buffer if the host still has one; otherwise it is counted as truncated.
            ReplyMode::Stream(_) => self.stream_chunk(0, true),
            _ => Action::Continue,
        }
    }
}

impl GuardedExchange {
    /// One chunk of a streamed reply: decode if needed, restore what can be restored now,
    /// replace the chunk with the result, let it go.
    fn stream_chunk(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if self.reply_end.is_done() {
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
        let shape = self.api.error_shape();
        let ReplyMode::Stream(live) = &mut self.reply else {
            return Action::Continue;
        };
        // Only the first bytes of the body that are not white space decide (an event stream never
        // starts with `{` or `[`); a later chunk that happens to start so is inside an event.
        let body_shape = if live.decoder.is_none() { live.start.observe(&chunk) } else { None };
        if body_shape == Some(BodyShape::JsonDocument) {
            // Declared as an event stream but is a JSON document (typically an error body):
            // restore it whole like any buffered reply instead of passing it through.
            self.metrics.stream_anomalies.add("not_sse", 1);
            self.reply = ReplyMode::Buffered { encoding: ContentEncoding::Identity };
            self.reply_size.record(body_size);
            return if end_of_stream { self.finish_reply(ContentEncoding::Identity) } else { Action::Pause };
        }
        let mut out = Vec::with_capacity(chunk.len() + 32);
        if live.failed {
            // Nothing more after the error event.
        } else if let Some(decoder) = &mut live.decoder {
            // Each inflated step goes to the restorer at once: the decoded chunk is never held whole.
            let restorer = &mut live.restorer;
            let (vault, spec) = (&self.vault, &self.cfg.restore);
            if let Err(e) = decoder.push_each(&chunk, |piece| restorer.push(piece, vault, spec, &mut out)) {
                live.restorer.abandon(&self.vault, &self.cfg.restore, &mut out);
                let (code, message) = match e {
                    DecodeError::TooLarge { .. } => {
                        self.metrics.stream_anomalies.add("inflate_limit", 1);
                        log::warn!("prompt-guard: compressed stream inflated past max_response_bytes; ended");
                        (
                            "prompt_guard_response_too_large",
                            "the upstream stream inflates past the size this gateway inspects; it ends here",
                        )
                    }
                    _ => {
                        self.metrics.responses_unrestored.add("corrupt_encoding", 1);
                        ("prompt_guard_corrupt_encoding", "the upstream stream could not be decoded; it ends here")
                    }
                };
                out.extend_from_slice(&error_event(shape, code, message));
                live.failed = true;
            }
        } else {
            live.restorer.push(&chunk, &self.vault, &self.cfg.restore, &mut out);
        }
        if !live.failed && self.cfg.threats.enabled && live.absorb_text(self.cfg.max_response_bytes) {
            let found = scan_links(&self.cfg, &self.vault, &live.window);
            if found.must_remove() {
                // What was already sent cannot be taken back; the event that completed the link
                // (or carried the canary) is replaced and the stream ends with an error event.
                out = error_event(
                    shape,
                    "prompt_guard_reply_blocked",
                    "prompt-guard stopped this reply: a link in it carried this conversation's data or went to a denied host, or it leaked the system prompt",
                );
                live.failed = true;
                self.metrics
                    .reply_findings
                    .add(if found.canary_leaks > 0 { "canary_leak" } else { "exfiltration_link" }, 1);
                log::warn!("prompt-guard: stream stopped, rules {}", found.rule_ids.join(","));
            }
        }
        if end_of_stream {
            if !live.failed {
                live.restorer.finish(&self.vault, &self.cfg.restore, &mut out);
            }
            let stats = live.restorer.stats();
            if stats.truncated {
                self.metrics.stream_anomalies.add("truncated", 1);
            }
            if stats.not_sse {
                self.metrics.stream_anomalies.add("not_sse", 1);
            }
            self.reply_end.complete_once();
        }
        // Counted as they happen: a stream cut later by a reset or an abort keeps these.
        report_stream_counts(&self.metrics, live);
        if end_of_stream {
            count_stream_leaks(&self.cfg, &self.metrics, live);
        }
        if out != chunk {
            if let Err(e) = host::replace_body(Direction::Response, body_size, &out) {
                log::error!("prompt-guard: {e}");
            }
        }
        Action::Continue
    }

    /// Who is calling, for scoping the scan memo: the trusted session header when configured,
    /// else the first credential header present (empty when there is none). Only ever hashed.
    fn caller(&self) -> Result<String, HostError> {
        if let Some(session) = &self.session {
            return Ok(format!("session:{session}"));
        }
        for name in CALLER_HEADERS {
            if let Some(value) = host::header(Direction::Request, name)? {
                return Ok(format!("{name}:{value}"));
            }
        }
        Ok(String::new())
    }

    fn inspect_request_headers(&mut self) -> Result<Action, HostError> {
        if let Some(session) = &self.cfg.session {
            self.session = host::header(Direction::Request, &session.identity_header)?.filter(|v| !v.trim().is_empty());
        }
        if self.cfg.memo.is_on() {
            self.memo_scope = self.cfg.memo.scope(self.caller()?.as_bytes());
        }
        let encoding = host::header(Direction::Request, "content-encoding")?;
        self.request_encoding = match ContentEncoding::parse(encoding.as_deref()) {
            Ok(e) => e,
            Err(e) => return Ok(self.reject(&decode_rejection(e))),
        };
        let content_type = host::header(Direction::Request, "content-type")?;
        let json = is_json_content_type(content_type.as_deref());
        if self.api.requires_json() && !json {
            let content_type = content_type.unwrap_or_default().chars().take(60).collect();
            return Ok(self.reject(&Rejection::UnsupportedContentType { content_type }));
        }
        self.content_type = content_type;
        let declared = host::header(Direction::Request, "content-length")?.and_then(|v| v.trim().parse::<usize>().ok());
        if declared.is_some_and(|n| n > self.cfg.max_body_bytes) {
            return Ok(self.reject(&Rejection::TooLarge { limit: self.cfg.max_body_bytes }));
        }
        ContentLengthRemoval::apply(Direction::Request)?;
        // The reply must come back readable: ask the upstream for no compression.
        host::remove_header(Direction::Request, "accept-encoding")?;
        Ok(HeadersGoOn::ACTION)
    }
}
