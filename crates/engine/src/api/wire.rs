//! The call documents, in the `@veily/llm-guard` client's shapes (docs/api.md):
//!
//! - anonymize: `{"prompt": "..."}` or `{"request": {...}}` (a whole request body of `api`, by
//!   default read from its shape), with optional `policy` and `ttl` (seconds, at most the
//!   configured `api.ttl_seconds`);
//! - restore: `{"mappingId": "...", "output": "..."}`; the client's `encryptResponse: false` is
//!   accepted, `true` is refused (transit encryption is TLS's job here).
//!
//! Unknown fields are refused, naming the field, never its value.

use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use crate::protocol::Api;

pub const TTL_PROBLEM: &str = "must be between 1 and the gateway's api.ttl_seconds";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnonymize {
    prompt: Option<String>,
    #[serde(alias = "body")]
    request: Option<Value>,
    api: Option<Api>,
    policy: Option<String>,
    ttl: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRestore {
    mapping_id: String,
    output: String,
    encrypt_response: Option<bool>,
}

/// What is anonymized.
#[derive(Debug)]
pub enum Input {
    Prompt(String),
    Request { api: Api, body: Value },
}

#[derive(Debug)]
pub struct AnonymizeCall {
    pub input: Input,
    pub policy: Option<String>,
    pub ttl: Option<u64>,
}

#[derive(Debug)]
pub struct RestoreCall {
    pub mapping_id: String,
    pub output: String,
}

/// Deserialize `doc`, turning serde's complaint into the field's path and a fixed problem (serde
/// quotes values in its messages; a value may be personal data).
fn read<T: for<'de> Deserialize<'de>>(doc: Value, problem: &'static str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path == "?" { String::new() } else { path };
        let inner = e.inner().to_string();
        // These two name fields only, never a value.
        let problem = if inner.starts_with("missing field") || inner.starts_with("unknown field") {
            inner.split(" at line ").next().unwrap_or_default().to_owned()
        } else {
            problem.to_owned()
        };
        ApiError::InvalidCall { field, problem }
    })
}

/// The API of a request body given without `api`: Anthropic's Messages when it carries what
/// only they have (`max_tokens` beside a top-level `system`, or `anthropic_version`), OpenAI's
/// Responses for `input`, OpenAI's Chat Completions for `messages`, else generic JSON.
fn api_of(body: &Value) -> Api {
    let has = |k: &str| body.get(k).is_some();
    if has("anthropic_version") || (has("messages") && has("max_tokens") && has("system")) {
        Api::AnthropicMessages
    } else if has("input") {
        Api::OpenAiResponses
    } else if has("messages") {
        Api::OpenAiChat
    } else {
        Api::Generic
    }
}

impl AnonymizeCall {
    pub fn read(doc: Value) -> Result<AnonymizeCall, ApiError> {
        let raw: RawAnonymize =
            read(doc, "must be a string (prompt, policy), an object (request), an API name (api) or seconds (ttl)")?;
        let input = match (raw.prompt, raw.request) {
            (Some(p), None) => {
                if raw.api.is_some() {
                    return Err(ApiError::InvalidCall {
                        field: "api".into(),
                        problem: "goes with request, not prompt".into(),
                    });
                }
                Input::Prompt(p)
            }
            (None, Some(body)) => {
                if !body.is_object() {
                    return Err(ApiError::InvalidCall {
                        field: "request".into(),
                        problem: "must be a JSON object".into(),
                    });
                }
                let api = raw.api.unwrap_or_else(|| api_of(&body));
                if api == Api::PassThrough {
                    return Err(ApiError::InvalidCall {
                        field: "api".into(),
                        problem: "must be an API that is masked".into(),
                    });
                }
                Input::Request { api, body }
            }
            _ => {
                return Err(ApiError::InvalidCall {
                    field: String::new(),
                    problem: "an anonymize call carries exactly one of prompt and request".into(),
                })
            }
        };
        if raw.policy.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(ApiError::InvalidCall { field: "policy".into(), problem: "must name a policy".into() });
        }
        Ok(AnonymizeCall { input, policy: raw.policy, ttl: raw.ttl })
    }
}

impl RestoreCall {
    pub fn read(doc: Value) -> Result<RestoreCall, ApiError> {
        let raw: RawRestore = read(doc, "mappingId and output must be strings, encryptResponse a boolean")?;
        if raw.encrypt_response == Some(true) {
            return Err(ApiError::InvalidCall {
                field: "encryptResponse".into(),
                problem: "is not supported: the output travels over the connection's TLS".into(),
            });
        }
        if raw.mapping_id.len() > super::ids::MAX_ID_BYTES {
            return Err(ApiError::InvalidCall {
                field: "mappingId".into(),
                problem: "is longer than any id issued".into(),
            });
        }
        Ok(RestoreCall { mapping_id: raw.mapping_id, output: raw.output })
    }
}
