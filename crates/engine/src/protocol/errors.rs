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

/// An SSE event that tells a streaming client the stream failed, in the API's own error event
/// format (OpenAI sends an `error` object as a data event; Anthropic an `event: error`).
pub fn error_event(shape: ErrorShape, code: &str, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match shape {
        ErrorShape::OpenAi => {
            let v = json!({"error": {"message": message, "type": "server_error", "param": null, "code": code}});
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(v.to_string().as_bytes());
        }
        ErrorShape::Anthropic => {
            let v = json!({"type": "error", "error": {"type": "api_error", "message": message}});
            out.extend_from_slice(b"event: error\ndata: ");
            out.extend_from_slice(v.to_string().as_bytes());
        }
    }
    out.extend_from_slice(b"\n\n");
    out
}
