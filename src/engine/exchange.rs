//! One exchange, request then reply: what the filter decides about a body, independent of the
//! host that carries it.

use std::fmt;

use serde_json::Value;

use super::mask::{MaskReport, Masker};
use super::protocol::{visit_request, Api};
use super::restore::{restore_text, Escape, RestoreCounts};
use super::vault::Vault;
use crate::config::FilterConfig;

/// Why a request or reply is refused. Messages never contain body text.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    TooLarge { limit: usize },
    InvalidUtf8 { offset: usize },
    MalformedJson { line: usize, column: usize },
    NotAnObject,
    UnsupportedContentType { content_type: String },
    UnsupportedEncoding { encoding: String },
    /// A compressed body that did not decode.
    CorruptEncoding { encoding: String },
    TooManyEntities { capacity: usize },
}

impl Rejection {
    pub const fn status(&self) -> u16 {
        match self {
            Rejection::TooLarge { .. } => 413,
            Rejection::UnsupportedContentType { .. } | Rejection::UnsupportedEncoding { .. } => 415,
            _ => 400,
        }
    }

    /// A short name for metrics, headers and error codes.
    pub const fn reason(&self) -> &'static str {
        match self {
            Rejection::TooLarge { .. } => "body_too_large",
            Rejection::InvalidUtf8 { .. } => "invalid_utf8",
            Rejection::MalformedJson { .. } | Rejection::NotAnObject => "malformed_json",
            Rejection::UnsupportedContentType { .. } => "unsupported_content_type",
            Rejection::UnsupportedEncoding { .. } => "unsupported_encoding",
            Rejection::CorruptEncoding { .. } => "corrupt_encoding",
            Rejection::TooManyEntities { .. } => "too_many_entities",
        }
    }

    /// Every reason, to declare metrics up front.
    pub const REASONS: [&'static str; 8] = [
        "body_too_large",
        "invalid_utf8",
        "malformed_json",
        "unsupported_content_type",
        "unsupported_encoding",
        "corrupt_encoding",
        "too_many_entities",
        "internal",
    ];
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::TooLarge { limit } => write!(f, "request body is larger than the {limit} bytes this gateway inspects"),
            Rejection::InvalidUtf8 { offset } => write!(f, "request body is not valid UTF-8 (byte {offset})"),
            Rejection::MalformedJson { line, column } => {
                write!(f, "request body is not valid JSON (line {line}, column {column})")
            }
            Rejection::NotAnObject => f.write_str("request body must be a JSON object"),
            Rejection::UnsupportedContentType { content_type } => {
                write!(f, "content type '{content_type}' cannot be inspected on this route; send application/json")
            }
            Rejection::UnsupportedEncoding { encoding } => {
                write!(f, "content encoding '{encoding}' cannot be inspected; send identity or gzip")
            }
            Rejection::CorruptEncoding { encoding } => write!(f, "body does not decode as '{encoding}'"),
            Rejection::TooManyEntities { capacity } => {
                write!(f, "request holds more than {capacity} sensitive values, the most this gateway masks")
            }
        }
    }
}

/// What was decided about a request that may go on.
#[derive(Debug, Default)]
pub struct RequestOutcome {
    /// The rewritten body; `None` when the original bytes go on unchanged.
    pub body: Option<Vec<u8>>,
    pub masked: MaskReport,
}

/// Is the body JSON, by its declared content type? A missing type is tried as JSON.
pub fn is_json_content_type(content_type: Option<&str>) -> bool {
    match content_type {
        None => true,
        Some(ct) => {
            let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json") || media.is_empty()
        }
    }
}

/// Inspect and mask a whole request body.
pub fn guard_request(
    cfg: &FilterConfig,
    api: Api,
    body: &[u8],
    json: bool,
    vault: &mut Vault,
) -> Result<RequestOutcome, Rejection> {
    if body.len() > cfg.max_body_bytes {
        return Err(Rejection::TooLarge { limit: cfg.max_body_bytes });
    }
    let text = std::str::from_utf8(body).map_err(|e| Rejection::InvalidUtf8 { offset: e.valid_up_to() })?;
    let grammar = &cfg.restore.grammar;
    let mut masker = Masker::new(&cfg.detector, grammar);
    if !json {
        // A text body on a generic route: the whole body is one text.
        vault.reserve_existing(grammar, text);
        let mut owned = text.to_owned();
        let changed = masker
            .mask(&mut owned, vault)
            .map_err(|full| Rejection::TooManyEntities { capacity: full.capacity })?;
        let body = changed.then(|| owned.into_bytes());
        return Ok(RequestOutcome { body, masked: masker.report });
    }
    let mut doc: Value = serde_json::from_str(text)
        .map_err(|e| Rejection::MalformedJson { line: e.line(), column: e.column() })?;
    if api != Api::Generic && !doc.is_object() {
        return Err(Rejection::NotAnObject);
    }
    // First pass: reserve placeholder-looking text anywhere in the request, so numbering never
    // collides with it whichever text comes first.
    visit_request(api, &mut doc, &mut |s, _| {
        vault.reserve_existing(grammar, s);
        false
    });
    let mut full = None;
    let changed = visit_request(api, &mut doc, &mut |s, _source| match masker.mask(s, vault) {
        Ok(changed) => changed,
        Err(e) => {
            full = Some(e);
            false
        }
    });
    if let Some(e) = full {
        return Err(Rejection::TooManyEntities { capacity: e.capacity });
    }
    let body = changed.then(|| doc.to_string().into_bytes());
    Ok(RequestOutcome { body, masked: masker.report })
}

/// Restore this exchange's placeholders in a whole reply body. Returns the new body, or `None`
/// when nothing changed. JSON is restored string by string; anything else as text.
pub fn restore_response(cfg: &FilterConfig, body: &[u8], vault: &Vault) -> (Option<Vec<u8>>, RestoreCounts) {
    let mut counts = RestoreCounts::default();
    let Ok(text) = std::str::from_utf8(body) else {
        return (None, counts);
    };
    if !text.contains(cfg.restore.grammar.prefix()) {
        return (None, counts);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(mut doc) => {
            let changed = restore_value(&mut doc, None, cfg, vault, &mut counts);
            (changed.then(|| doc.to_string().into_bytes()), counts)
        }
        Err(_) => match restore_text(text, vault, &cfg.restore, Escape::None, &mut counts) {
            std::borrow::Cow::Owned(s) => (Some(s.into_bytes()), counts),
            std::borrow::Cow::Borrowed(_) => (None, counts),
        },
    }
}

/// Fields whose string value is itself JSON text: an original restored there must be escaped.
fn holds_json_text(key: Option<&str>) -> bool {
    matches!(key, Some("arguments") | Some("partial_json"))
}

fn restore_value(v: &mut Value, key: Option<&str>, cfg: &FilterConfig, vault: &Vault, counts: &mut RestoreCounts) -> bool {
    match v {
        Value::String(s) => {
            let escape = if holds_json_text(key) { Escape::JsonString } else { Escape::None };
            match restore_text(s, vault, &cfg.restore, escape, counts) {
                std::borrow::Cow::Owned(new) => {
                    *s = new;
                    true
                }
                std::borrow::Cow::Borrowed(_) => false,
            }
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, i| restore_value(i, key, cfg, vault, counts) | c),
        Value::Object(map) => map
            .iter_mut()
            .fold(false, |c, (k, i)| restore_value(i, Some(k.as_str()), cfg, vault, counts) | c),
        _ => false,
    }
}
