//! What the filter answers in place of the upstream, and when a request the filter cannot read
//! goes on uninspected instead (`fail_open`).

use super::Rejection;
use crate::config::FilterConfig;
use crate::event::{Event, Label, Reason};
use crate::protocol::{error_body, Api};
use crate::threat::Verdict;

/// Response header: how many values were masked in the request.
pub const MASKED_HEADER: &str = "x-prompt-guard-masked";
/// Response header: the name of the policy the exchange ran under (`default`: the filter's own).
pub const POLICY_HEADER: &str = "x-prompt-guard-policy";
/// Response header: the request was forwarded uninspected, and why.
pub const FAIL_OPEN_HEADER: &str = "x-prompt-guard-fail-open";
/// Response header on our own error replies: the rejection reason.
pub const REJECTED_HEADER: &str = "x-prompt-guard-rejected";
/// Response headers of a flagged or blocked request: overall score, categories, rule ids.
pub const SCORE_HEADER: &str = "x-prompt-guard-score";
pub const CATEGORIES_HEADER: &str = "x-prompt-guard-categories";
pub const RULES_HEADER: &str = "x-prompt-guard-rules";

/// The verdict headers: what was found, never the text it was found in.
pub fn verdict_headers(verdict: &Verdict) -> [(&'static str, String); 3] {
    let categories: Vec<&str> = verdict.categories.iter().map(|c| c.name()).collect();
    [
        (SCORE_HEADER, format!("{:.2}", verdict.score)),
        (CATEGORIES_HEADER, categories.join(",")),
        (RULES_HEADER, verdict.rule_ids.join(",")),
    ]
}

/// Our own reply, sent in place of the upstream's: an error in the API's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalReply {
    pub status: u16,
    /// The `x-prompt-guard-rejected` value and the error code's suffix.
    pub reason: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl LocalReply {
    /// An error reply for `api`'s clients: code `prompt_guard_<reason>`, a message without body text.
    pub fn error(api: Api, status: u16, reason: &'static str, message: &str) -> LocalReply {
        let body = error_body(api.error_shape(), status, &format!("prompt_guard_{reason}"), message);
        let headers = vec![("content-type", "application/json".to_owned()), (REJECTED_HEADER, reason.to_owned())];
        LocalReply { status, reason, headers, body }
    }
}

/// A request that does not go on as the filter would send it.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Answered locally: nothing goes upstream.
    Answer(LocalReply),
    /// Forwarded uninspected (the configuration says `fail_open`): nothing was masked, so nothing
    /// may be restored either.
    FailOpen(Reason),
}

impl Refusal {
    /// What to do about `rejection` of a request to `api`. Only a body the filter could not
    /// read may fail open; a body that was read is never forwarded with values in clear.
    pub fn decide(cfg: &FilterConfig, api: Api, rejection: &Rejection, emit: &mut dyn FnMut(Event<'_>)) -> Refusal {
        if rejection.fails_open() && cfg.fail_open {
            emit(Event::FailOpen(rejection.kind()));
            return Refusal::FailOpen(rejection.kind());
        }
        if let Rejection::Threat { verdict } = rejection {
            count_verdict(verdict, emit);
        }
        emit(Event::Rejected(rejection.kind()));
        let mut reply = LocalReply::error(api, rejection.status(), rejection.reason(), &rejection.to_string());
        if let Rejection::Threat { verdict } = rejection {
            reply.headers.extend(verdict_headers(verdict));
        }
        Refusal::Answer(reply)
    }

    /// The host failed the filter while it read the request: refused (500), or forwarded
    /// uninspected under `fail_open`.
    pub fn host_failure(cfg: &FilterConfig, api: Api, emit: &mut dyn FnMut(Event<'_>)) -> Refusal {
        if cfg.fail_open {
            emit(Event::FailOpen(Reason::Internal));
            return Refusal::FailOpen(Reason::Internal);
        }
        emit(Event::Rejected(Reason::Internal));
        Refusal::Answer(LocalReply::error(
            api,
            500,
            Reason::Internal.label(),
            "the gateway could not inspect this request",
        ))
    }
}

/// One verdict event per category the verdict names.
pub fn count_verdict(verdict: &Verdict, emit: &mut dyn FnMut(Event<'_>)) {
    for category in &verdict.categories {
        emit(Event::Verdict { category: *category, action: verdict.action });
    }
}
