//! The API's errors, in one JSON shape: `{"error": {"type", "code", "message"}}`, `code` being
//! `prompt_guard_<reason>` as on the filter's other refusals (and the `x-prompt-guard-rejected`
//! header). A message never holds request text, a mapping's content or a key.

use serde_json::json;

use super::ids::MappingRefusal;
use crate::event::{ApiOutcome, Label};
use crate::exchange::{Rejection, REJECTED_HEADER};
use crate::store::StoreError;

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The body, as the proxy path would refuse it (too large, not JSON, an attack, ...).
    Request(Rejection),
    /// Not a call of this endpoint; `field` names the JSON path at fault (never its value).
    InvalidCall {
        field: String,
        problem: String,
    },
    /// Anything but `POST`.
    MethodNotAllowed,
    /// The call names a policy other than the one its trusted policy header assigns.
    PolicyMismatch,
    Mapping(MappingRefusal),
    /// A stateful mapping over the largest record (stateless mode carries any size).
    MappingTooLarge,
    /// The reply policy stops this output (a value it forbids that was never masked).
    OutputStopped,
    /// Shared data failed a stateful call.
    Store(StoreError),
    /// The host gave no randomness or time, or the cipher failed.
    Internal,
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Request(r) => r.status(),
            ApiError::InvalidCall { .. } => 400,
            ApiError::MethodNotAllowed => 405,
            ApiError::PolicyMismatch => 403,
            ApiError::Mapping(m) => match m {
                MappingRefusal::Malformed | MappingRefusal::Tampered | MappingRefusal::UnknownKey => 400,
                MappingRefusal::OtherIdentity => 403,
                MappingRefusal::NotFound => 404,
                MappingRefusal::Expired => 410,
            },
            ApiError::MappingTooLarge => 413,
            ApiError::OutputStopped => 422,
            ApiError::Store(_) => 503,
            ApiError::Internal => 500,
        }
    }

    /// The error's `type`: the family a client branches on.
    pub fn kind(&self) -> &'static str {
        self.outcome().label()
    }

    /// The error's `type` as the outcome its audit record and metric carry.
    pub fn outcome(&self) -> ApiOutcome {
        match self {
            ApiError::Request(Rejection::Threat { .. }) | ApiError::OutputStopped => ApiOutcome::Blocked,
            ApiError::Request(Rejection::TooLarge { .. }) | ApiError::MappingTooLarge => ApiOutcome::TooLarge,
            ApiError::Request(Rejection::UnsupportedContentType { .. } | Rejection::UnsupportedEncoding { .. }) => {
                ApiOutcome::UnsupportedMediaType
            }
            ApiError::Request(Rejection::UnknownPolicy) | ApiError::PolicyMismatch => ApiOutcome::Policy,
            ApiError::Request(_) | ApiError::InvalidCall { .. } => ApiOutcome::InvalidRequest,
            ApiError::MethodNotAllowed => ApiOutcome::MethodNotAllowed,
            ApiError::Mapping(_) => ApiOutcome::Mapping,
            ApiError::Store(_) => ApiOutcome::Unavailable,
            ApiError::Internal => ApiOutcome::Internal,
        }
    }

    /// The machine-readable reason (the code's suffix and the rejection header's value).
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::Request(r) => r.reason(),
            ApiError::InvalidCall { .. } => "invalid_call",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PolicyMismatch => "policy_mismatch",
            ApiError::Mapping(m) => match m {
                MappingRefusal::Malformed => "mapping_malformed",
                MappingRefusal::UnknownKey => "mapping_unknown_key",
                MappingRefusal::Tampered => "mapping_tampered",
                MappingRefusal::OtherIdentity => "mapping_other_identity",
                MappingRefusal::Expired => "mapping_expired",
                MappingRefusal::NotFound => "mapping_not_found",
            },
            ApiError::MappingTooLarge => "mapping_too_large",
            ApiError::OutputStopped => "output_blocked",
            ApiError::Store(_) => "store_unavailable",
            ApiError::Internal => "internal",
        }
    }

    pub fn message(&self) -> String {
        match self {
            ApiError::Request(r) => r.to_string(),
            ApiError::InvalidCall { field, problem } if field.is_empty() => problem.clone(),
            ApiError::InvalidCall { field, problem } => format!("{field}: {problem}"),
            ApiError::MethodNotAllowed => "this endpoint takes POST only".to_owned(),
            ApiError::PolicyMismatch => "the call names a policy other than the one this caller is assigned".to_owned(),
            ApiError::Mapping(m) => match m {
                MappingRefusal::Malformed => "mappingId is not a mapping id this gateway issues",
                MappingRefusal::UnknownKey => "mappingId was sealed with a key this gateway does not hold",
                MappingRefusal::Tampered => "mappingId was altered and restores nothing",
                MappingRefusal::OtherIdentity => "mappingId was issued to another caller and restores nothing",
                MappingRefusal::Expired => "mappingId has expired and restores nothing",
                MappingRefusal::NotFound => "mappingId names no mapping held by this gateway",
            }
            .to_owned(),
            ApiError::MappingTooLarge => {
                "the mapping is larger than a stored mapping may be; use the stateless mode".to_owned()
            }
            ApiError::OutputStopped => "the output holds a value the policy does not let through".to_owned(),
            ApiError::Store(_) => "the mapping store is unavailable; try again".to_owned(),
            ApiError::Internal => "the gateway could not complete this call".to_owned(),
        }
    }

    /// The error document.
    pub fn body(&self) -> Vec<u8> {
        let doc = json!({"error": {
            "type": self.kind(),
            "code": format!("prompt_guard_{}", self.reason()),
            "message": self.message(),
        }});
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    /// The headers of the error reply.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers =
            vec![("content-type", "application/json".to_owned()), (REJECTED_HEADER, self.reason().to_owned())];
        if let ApiError::Request(Rejection::Threat { verdict }) = self {
            headers.extend(crate::exchange::verdict_headers(verdict));
        }
        headers
    }
}
