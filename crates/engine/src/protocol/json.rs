//! One reading of a body: JSON with a key repeated in one object is refused, because readers
//! disagree on it (serde_json and most parsers keep the last value, some keep the first, a log
//! may show both). A request whose first `messages` holds a card number and whose second holds
//! "hello" would otherwise be inspected as "hello" and read upstream as the card number.

use std::borrow::Cow;
use std::collections::HashSet;

use serde_json::Value;

/// Why a body is not one unambiguous JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonError {
    Malformed {
        line: usize,
        column: usize,
    },
    /// A key repeated in one object (at any depth). Carries no key text: keys can be data.
    DuplicateKey,
}

/// Parse `text` as JSON, refusing duplicate keys at any depth.
pub fn parse_strict(text: &str) -> Result<Value, JsonError> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| JsonError::Malformed { line: e.line(), column: e.column() })?;
    if has_duplicate_keys(text) {
        return Err(JsonError::DuplicateKey);
    }
    Ok(doc)
}

/// Serialise a document into a buffer sized up front from `hint` (the size the document had as
/// it came), so a large body is written once instead of through doubling reallocations, which
/// hold the old and the new buffer at once (up to three times the body at the peak, and wasm
/// memory never shrinks after it).
pub fn to_vec_sized(doc: &Value, hint: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(hint.saturating_add(hint / 16).saturating_add(256));
    if serde_json::to_writer(&mut out, doc).is_err() {
        // Writing a `Value` into a Vec does not fail; should it ever, the plain path is used.
        out = doc.to_string().into_bytes();
    }
    out
}

/// Is this text a JSON document (an object or a list)? By its first and last characters first, so
/// ordinary text costs two byte comparisons.
pub fn is_document(text: &str) -> bool {
    looks_like_document(text) && serde_json::from_str::<serde::de::IgnoredAny>(text.trim_ascii()).is_ok()
}

/// Does this text open and close like a JSON object or list (white space around allowed)? The
/// two-byte test that comes before any parse.
pub fn looks_like_document(text: &str) -> bool {
    let t = text.trim_ascii().as_bytes();
    matches!((t.first(), t.last()), (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']')))
}

/// One open object or array while scanning.
struct Frame<'a> {
    /// `None` for an array.
    keys: Option<HashSet<Cow<'a, str>>>,
    /// In an object: the next string is a key.
    expect_key: bool,
}

/// Does well-formed JSON `text` repeat a key inside one object? One pass over the bytes; keys
/// are compared decoded (`"a"` and `"\u0061"` are the same key), without allocating unless a key
/// has an escape. Only called on text that parsed.
fn has_duplicate_keys(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => stack.push(Frame { keys: Some(HashSet::new()), expect_key: true }),
            b'[' => stack.push(Frame { keys: None, expect_key: false }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(frame) = stack.last_mut() {
                    frame.expect_key = frame.keys.is_some();
                }
            }
            b'"' => {
                let start = i + 1;
                let mut escaped = false;
                let mut j = start;
                // Find the closing quote: a quote not preceded by an odd run of backslashes.
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => {
                            escaped = true;
                            j += 2;
                            continue;
                        }
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                let end = j.min(bytes.len());
                if let Some(frame) = stack.last_mut() {
                    if frame.expect_key {
                        frame.expect_key = false;
                        let key: Cow<'_, str> = if escaped {
                            match text.get(start - 1..=end).map(serde_json::from_str::<String>) {
                                Some(Ok(k)) => Cow::Owned(k),
                                _ => return true,
                            }
                        } else {
                            Cow::Borrowed(text.get(start..end).unwrap_or(""))
                        };
                        if let Some(keys) = frame.keys.as_mut() {
                            if !keys.insert(key) {
                                return true;
                            }
                        }
                    }
                }
                i = end + 1;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for text in [
            r#"{"messages":[1],"messages":[2]}"#,
            r#"{"a":{"b":1,"c":{"d":1,"d":2}}}"#,
            r#"[{"x":1},{"y":2,"y":3}]"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"k\"":1,"k\u0022":2}"#,
        ] {
            assert_eq!(parse_strict(text), Err(JsonError::DuplicateKey), "{text}");
        }
    }

    #[test]
    fn same_key_in_sibling_objects_and_values_equal_to_keys_are_fine() {
        for text in [
            r#"{"a":{"k":1},"b":{"k":2}}"#,
            r#"[{"k":1},{"k":2}]"#,
            r#"{"k":"k","j":["k","k"],"m":{"k":"}"},"n":"\"{"}"#,
            r#"{"a\\":1,"a":2}"#,
            r#"{}"#,
        ] {
            assert!(parse_strict(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn malformed_json_says_where() {
        assert_eq!(parse_strict("{\n\"a\": }"), Err(JsonError::Malformed { line: 2, column: 6 }));
    }
}
