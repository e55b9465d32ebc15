//! Error bodies in the shape each API's clients parse, so an SDK raises its usual typed error.

use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{"error":{"message","type","param","code"}}`
    OpenAi,
    /// `{"type":"error","error":{"type","message"}}`
    Anthropic,
}

/// The JSON error body for `status`, with our machine-readable `code` and a human `message`.
/// The message never contains request text.
pub fn error_body(shape: ErrorShape, status: u16, code: &str, message: &str) -> Vec<u8> {
    let v = match shape {
        ErrorShape::OpenAi => {
            let kind = if status >= 500 { "server_error" } else { "invalid_request_error" };
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
        }
        ErrorShape::Anthropic => {
            let kind = match status {
                403 => "permission_error",
                413 => "request_too_large",
                s if s >= 500 => "api_error",
                _ => "invalid_request_error",
            };
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
    };
    v.to_string().into_bytes()
}
