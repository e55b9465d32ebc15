//! The placeholder grammar: `prefix LABEL middle NUMBER suffix`, e.g. `[EMAIL_3]`.
//!
//! The grammar has a bounded length so that a streaming restorer only ever needs to hold back a
//! short trailing prefix of a possible placeholder. Labels are upper-case ASCII letters, digits and
//! `_`, starting with a letter; numbers are 1 to 6 decimal digits without a leading zero.

use std::fmt;

/// Longest label accepted in a placeholder.
pub const MAX_LABEL_LEN: usize = 32;
/// Longest number accepted in a placeholder (so at most 999 999 placeholders of one kind).
pub const MAX_NUMBER_DIGITS: usize = 6;
/// Longest literal part (prefix, middle or suffix) of a template.
pub const MAX_LITERAL_LEN: usize = 8;

/// Why a placeholder template was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    MissingField { field: &'static str },
    WrongOrder,
    BadLiteral { part: &'static str, reason: &'static str },
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::MissingField { field } => {
                write!(f, "must contain {field} exactly once")
            }
            TemplateError::WrongOrder => f.write_str("{TYPE} must come before {N}"),
            TemplateError::BadLiteral { part, reason } => write!(f, "the {part} {reason}"),
        }
    }
}

/// A compiled placeholder template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceholderGrammar {
    prefix: String,
    middle: String,
    suffix: String,
}

/// A placeholder recognised in text: its label and number, and its byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recognised<'a> {
    pub label: &'a str,
    pub number: u32,
    pub len: usize,
}

impl Default for PlaceholderGrammar {
    fn default() -> Self {
        PlaceholderGrammar { prefix: "[".to_owned(), middle: "_".to_owned(), suffix: "]".to_owned() }
    }
}

/// Characters that may never appear in a template literal: they would either be confused with a
/// label or number, or need escaping in JSON and so change length between the decoded and the wire
/// form of a string.
fn literal_char_ok(c: char) -> bool {
    c.is_ascii_graphic() && !c.is_ascii_alphanumeric() && c != '"' && c != '\\'
}

impl PlaceholderGrammar {
    pub const DEFAULT_TEMPLATE: &'static str = "[{TYPE}_{N}]";

    /// Parse a template such as `[{TYPE}_{N}]` or `<<{TYPE}#{N}>>`.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let t = template.find("{TYPE}").ok_or(TemplateError::MissingField { field: "{TYPE}" })?;
        let n = template.find("{N}").ok_or(TemplateError::MissingField { field: "{N}" })?;
        if template.matches("{TYPE}").count() != 1 {
            return Err(TemplateError::MissingField { field: "{TYPE}" });
        }
        if template.matches("{N}").count() != 1 {
            return Err(TemplateError::MissingField { field: "{N}" });
        }
        if n < t {
            return Err(TemplateError::WrongOrder);
        }
        let prefix = &template[..t];
        let middle = &template[t + "{TYPE}".len()..n];
        let suffix = &template[n + "{N}".len()..];
        for (part, lit) in [("prefix", prefix), ("separator", middle), ("suffix", suffix)] {
            if lit.is_empty() {
                return Err(TemplateError::BadLiteral { part, reason: "must not be empty" });
            }
            if lit.len() > MAX_LITERAL_LEN {
                return Err(TemplateError::BadLiteral { part, reason: "is longer than 8 bytes" });
            }
            if !lit.chars().all(literal_char_ok) {
                return Err(TemplateError::BadLiteral {
                    part,
                    reason: "may only hold ASCII punctuation other than '\"' and '\\'",
                });
            }
        }
        if middle.contains('_') && middle != "_" {
            return Err(TemplateError::BadLiteral { part: "separator", reason: "may be '_' alone or hold no '_'" });
        }
        if suffix.starts_with('_') {
            return Err(TemplateError::BadLiteral { part: "suffix", reason: "must not start with '_'" });
        }
        Ok(PlaceholderGrammar { prefix: prefix.to_owned(), middle: middle.to_owned(), suffix: suffix.to_owned() })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    pub fn middle(&self) -> &str {
        &self.middle
    }
    pub fn suffix(&self) -> &str {
        &self.suffix
    }

    /// The longest placeholder this grammar can produce or recognise, in bytes.
    pub fn max_len(&self) -> usize {
        self.prefix.len() + MAX_LABEL_LEN + self.middle.len() + MAX_NUMBER_DIGITS + self.suffix.len()
    }

    /// Write the placeholder for `label` and `number`.
    pub fn render(&self, label: &str, number: u32) -> String {
        let mut s = String::with_capacity(self.max_len());
        s.push_str(&self.prefix);
        s.push_str(label);
        s.push_str(&self.middle);
        s.push_str(itoa_u32(number).as_str());
        s.push_str(&self.suffix);
        s
    }

    /// Recognise an exact placeholder at the start of `text`.
    pub fn recognise<'a>(&self, text: &'a str) -> Option<Recognised<'a>> {
        let rest = text.strip_prefix(self.prefix.as_str())?;
        let bytes = rest.as_bytes();
        // The body is label + middle + digits; scan the longest run of body characters.
        let mut i = 0;
        let limit = MAX_LABEL_LEN + self.middle.len() + MAX_NUMBER_DIGITS;
        while i < bytes.len() && i <= limit {
            let b = bytes[i];
            let in_body =
                b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || self.middle.as_bytes().contains(&b);
            if !in_body {
                break;
            }
            i += 1;
        }
        // Try every end of body (shortest first never matters: the suffix holds no body char,
        // except for a middle that shares characters, so search from the longest).
        let mut end = i;
        loop {
            if let Some(r) = self.split_body(&rest[..end]) {
                if rest[end..].starts_with(self.suffix.as_str()) {
                    return Some(Recognised {
                        label: r.0,
                        number: r.1,
                        len: self.prefix.len() + end + self.suffix.len(),
                    });
                }
            }
            if end == 0 {
                return None;
            }
            end -= 1;
        }
    }

    /// Split `LABEL middle DIGITS` into its label and number.
    fn split_body<'a>(&self, body: &'a str) -> Option<(&'a str, u32)> {
        let at = body.rfind(self.middle.as_str())?;
        let label = &body[..at];
        let digits = &body[at + self.middle.len()..];
        if !is_label(label) || digits.is_empty() || digits.len() > MAX_NUMBER_DIGITS {
            return None;
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return None;
        }
        let number = digits.parse().ok()?;
        Some((label, number))
    }

    /// Could `tail` (a suffix of the text seen so far) still grow into a placeholder? Used by the
    /// streaming restorer to decide how much to hold back. Only checks the shape, never the vault.
    pub fn could_start(&self, tail: &str) -> bool {
        if tail.len() >= self.max_len() {
            return false;
        }
        if tail.len() <= self.prefix.len() {
            return self.prefix.starts_with(tail);
        }
        let Some(rest) = tail.strip_prefix(self.prefix.as_str()) else {
            return false;
        };
        // Everything after the prefix must be body characters, optionally followed by a proper
        // prefix of the suffix.
        let body_end = rest
            .bytes()
            .position(|b| {
                !(b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || self.middle.as_bytes().contains(&b))
            })
            .unwrap_or(rest.len());
        let after = &rest[body_end..];
        if after.is_empty() {
            return rest.as_bytes().first().is_none_or(|b| b.is_ascii_uppercase());
        }
        after.len() < self.suffix.len() && self.suffix.starts_with(after)
    }
}

/// A label: upper-case ASCII letter, then letters, digits or `_`, at most [`MAX_LABEL_LEN`].
pub fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_LABEL_LEN
        && b[0].is_ascii_uppercase()
        && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_')
}

/// Small allocation-free integer formatting for placeholder numbers.
struct Digits {
    buf: [u8; 10],
    start: usize,
}
impl Digits {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or("0")
    }
}
fn itoa_u32(mut n: u32) -> Digits {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    Digits { buf, start: i }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_template_renders_and_recognises() {
        let g = PlaceholderGrammar::default();
        assert_eq!(g.render("CREDIT_CARD", 12), "[CREDIT_CARD_12]");
        let r = g.recognise("[CREDIT_CARD_12] rest").unwrap();
        assert_eq!((r.label, r.number, r.len), ("CREDIT_CARD", 12, 16));
        assert!(g.recognise("[EMAIL_0]").is_none());
        assert!(g.recognise("[EMAIL_01]").is_none());
        assert!(g.recognise("[email_1]").is_none());
        assert!(g.recognise("[EMAIL_1").is_none());
        assert!(g.recognise("[_1]").is_none());
        assert!(g.recognise("[EMAIL_1234567]").is_none());
    }

    #[test]
    fn custom_template() {
        let g = PlaceholderGrammar::parse("<<{TYPE}#{N}>>").unwrap();
        assert_eq!(g.render("IBAN", 2), "<<IBAN#2>>");
        assert_eq!(g.recognise("<<IBAN#2>>!").unwrap().len, 10);
        assert!(g.could_start("<<IB"));
        assert!(g.could_start("<<IBAN#2>"));
        assert!(!g.could_start("<<IBAN#2>!"));
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(PlaceholderGrammar::parse("{TYPE}_{N}").is_err());
        assert!(PlaceholderGrammar::parse("[{N}_{TYPE}]").is_err());
        assert!(PlaceholderGrammar::parse("[{TYPE}{N}]").is_err());
        assert!(PlaceholderGrammar::parse("[{TYPE}_{N}a]").is_err());
        assert!(PlaceholderGrammar::parse("\"{TYPE}_{N}\"").is_err());
        assert!(PlaceholderGrammar::parse("[{TYPE}_{N}]{N}").is_err());
    }

    #[test]
    fn could_start_tracks_prefixes_only() {
        let g = PlaceholderGrammar::default();
        for t in ["[", "[E", "[EMAIL", "[EMAIL_", "[EMAIL_1", "[EMAIL_12"] {
            assert!(g.could_start(t), "{t}");
        }
        for t in ["a", "[e", "[EMAIL_1]", "[EMAIL 1", "[1"] {
            assert!(!g.could_start(t), "{t}");
        }
    }
}
