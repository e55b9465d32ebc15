//! Recognising placeholders the way models actually write them back.
//!
//! Models copy `[EMAIL_1]` faithfully most of the time, but not always: they change the letter case
//! (`[email_1]`), escape markdown punctuation (`\[EMAIL\_1\]`), or drop one bracket (`EMAIL_1]`,
//! `[EMAIL_1.`). [`match_at`] accepts those variants and reports the label (upper-cased) and the
//! number; whether the vault issued that pair is the caller's decision, so a drifted token is
//! only ever restored to a value this exchange masked.
//!
//! The matcher is written for incremental use: when the text ends before the token is decided it
//! answers [`Match::NeedMore`] (unless the text is final), and the longest span it ever needs is
//! [`max_token_len`], which bounds what a streaming restorer holds back.

use crate::placeholder::{is_label, PlaceholderGrammar, MAX_LABEL_LEN, MAX_LITERAL_LEN, MAX_NUMBER_DIGITS};

use super::RestoreSpec;

/// Canonical body bytes (label + separator + digits) a token may hold.
const MAX_BODY: usize = MAX_LABEL_LEN + MAX_LITERAL_LEN + MAX_NUMBER_DIGITS;

/// The result of trying to read a placeholder at one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Match {
    /// A placeholder-shaped token of `len` raw bytes.
    Token(Token),
    /// Nothing placeholder-shaped starts here.
    No,
    /// The text ends before the token is decided.
    NeedMore,
}

/// A token read from text: its canonical label (upper case), number and raw byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub label: Label,
    pub number: u32,
    pub len: usize,
}

/// A label held without allocating (labels are at most [`MAX_LABEL_LEN`] ASCII bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Label {
    buf: [u8; MAX_LABEL_LEN],
    len: usize,
}

impl Label {
    pub fn new(label: &[u8]) -> Self {
        let mut buf = [0u8; MAX_LABEL_LEN];
        let len = label.len().min(MAX_LABEL_LEN);
        for (dst, src) in buf.iter_mut().zip(label) {
            *dst = *src;
        }
        Label { buf, len }
    }

    pub fn as_str(&self) -> &str {
        self.buf.get(..self.len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }
}

/// The markdown escape as it appears in the text being restored: a backslash in plain text, an
/// escaped backslash inside JSON text held in a string (tool-call arguments).
pub(crate) fn escape_marker(json_text: bool) -> &'static [u8] {
    if json_text {
        b"\\\\"
    } else {
        b"\\"
    }
}

/// The most raw bytes one (drifted) token can span: every literal byte and every `_` may carry a
/// two-byte escape marker.
pub fn max_token_len(grammar: &PlaceholderGrammar) -> usize {
    3 * grammar.max_len()
}

/// Bytes that may begin a token: the first byte of the prefix or of the escape marker, or an
/// upper-case letter at a word start (a token whose opening bracket was dropped).
pub(crate) fn may_begin(b: u8, prev: u8, grammar: &PlaceholderGrammar) -> bool {
    grammar.prefix().as_bytes().first() == Some(&b) || b == b'\\' || (b.is_ascii_uppercase() && !is_word_byte(prev))
}

/// Bytes that continue a word: a token without its opening bracket must not start inside a word,
/// or `USER_EMAIL_1]` would read as `EMAIL_1]`.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'\\'
}

/// Outcome of reading a literal (prefix, separator, suffix) whose bytes may each be escaped.
enum Lit {
    Full(usize),
    Partial,
    No,
}

fn read_literal(t: &[u8], mut i: usize, literal: &[u8], marker: &[u8]) -> Lit {
    for &want in literal {
        match read_escapable(t, i, want, marker) {
            Lit::Full(next) => i = next,
            other => return other,
        }
    }
    Lit::Full(i)
}

/// Read one byte `want` at `i`, optionally preceded by the escape marker.
fn read_escapable(t: &[u8], i: usize, want: u8, marker: &[u8]) -> Lit {
    let rest = t.get(i..).unwrap_or(&[]);
    if rest.first() == Some(&want) {
        return Lit::Full(i + 1);
    }
    if !want.is_ascii_punctuation() {
        return if rest.is_empty() { Lit::Partial } else { Lit::No };
    }
    let m = marker.len().min(rest.len());
    if rest.get(..m) != marker.get(..m) {
        return Lit::No;
    }
    match rest.get(marker.len()) {
        None => Lit::Partial,
        Some(&b) if b == want => Lit::Full(i + marker.len() + 1),
        Some(_) => Lit::No,
    }
}

/// Read a placeholder (exact or drifted) at the start of `t`.
///
/// `prev` is the byte before `t` (0 at the start of a text), `marker` the escape marker, and
/// `last` says `t` runs to the end of the text (nothing more will arrive).
pub(crate) fn match_at(t: &[u8], prev: u8, marker: &[u8], last: bool, spec: &RestoreSpec) -> Match {
    read_parts(t, prev, marker, spec, last)
}

fn read_parts(t: &[u8], prev: u8, marker: &[u8], spec: &RestoreSpec, at_end: bool) -> Match {
    let grammar = &spec.grammar;
    let need_more = if at_end { Match::No } else { Match::NeedMore };
    let (has_prefix, prefix_end) = match read_literal(t, 0, grammar.prefix().as_bytes(), marker) {
        Lit::Full(next) => (true, next),
        Lit::Partial => return need_more,
        Lit::No => {
            if !t.first().is_some_and(u8::is_ascii_uppercase) || is_word_byte(prev) {
                return Match::No;
            }
            (false, 0)
        }
    };
    let mut i = prefix_end;
    let middle = grammar.middle().as_bytes();
    let mut body = [0u8; MAX_BODY];
    let mut body_len = 0;
    let mut lowered = false;
    // Read body units: letters (upper-cased), digits, and '_' or separator bytes (each maybe escaped).
    loop {
        let Some(&b) = t.get(i) else {
            if at_end {
                break;
            }
            return if has_prefix || bare_body_viable(body.get(..body_len).unwrap_or(&[]), spec) {
                Match::NeedMore
            } else {
                Match::No
            };
        };
        let (unit, next) = if b.is_ascii_alphanumeric() {
            if !has_prefix && b.is_ascii_lowercase() {
                // Two drifts at once (no bracket and lower case) is too weak a signal.
                break;
            }
            lowered |= b.is_ascii_lowercase();
            (b.to_ascii_uppercase(), i + 1)
        } else if b == b'_' || middle.contains(&b) {
            (b, i + 1)
        } else if b == b'\\' {
            match t.get(i..) {
                Some(rest) if rest.len() < marker.len() + 1 && marker.starts_with(rest) => {
                    if at_end {
                        break;
                    }
                    return need_more;
                }
                Some(rest) if rest.starts_with(marker) => match rest.get(marker.len()) {
                    Some(&e) if e == b'_' || middle.contains(&e) => (e, i + marker.len() + 1),
                    _ => break,
                },
                _ => break,
            }
        } else {
            break;
        };
        let Some(slot) = body.get_mut(body_len) else {
            return Match::No;
        };
        *slot = unit;
        body_len += 1;
        i = next;
    }
    let body = body.get(..body_len).unwrap_or(&[]);
    let (has_suffix, end) = match read_literal(t, i, grammar.suffix().as_bytes(), marker) {
        Lit::Full(next) => (true, next),
        Lit::Partial if !at_end => return Match::NeedMore,
        Lit::Partial | Lit::No => (false, i),
    };
    // Markdown escapes both brackets or neither: `\[EMAIL_1]` is a backslash the user wrote before
    // a placeholder (the token starts after it), `\[EMAIL\_1\]` is an escaped placeholder.
    let prefix_escaped = has_prefix && prefix_end > grammar.prefix().len();
    let suffix_escaped = has_suffix && end - i > grammar.suffix().len();
    if has_prefix && has_suffix && prefix_escaped != suffix_escaped {
        return Match::No;
    }
    if !has_suffix && (!has_prefix || lowered) {
        // A bare word, or a lower-cased token missing its closing bracket: too weak to restore.
        return Match::No;
    }
    let Some((label, number)) = split_body(body, middle) else {
        return Match::No;
    };
    if !has_prefix && !spec.is_known_label(label_str(label)) {
        // A bare `WORD_1]` is only read as a placeholder for labels we issue.
        return Match::No;
    }
    Match::Token(Token { label: Label::new(label), number, len: end })
}

fn label_str(label: &[u8]) -> &str {
    std::str::from_utf8(label).unwrap_or("")
}

/// Split a canonical body at its last separator into a valid label and number.
fn split_body<'b>(body: &'b [u8], middle: &[u8]) -> Option<(&'b [u8], u32)> {
    let at = body.windows(middle.len()).rposition(|w| w == middle)?;
    let label = body.get(..at)?;
    let digits = body.get(at + middle.len()..)?;
    if !is_label(label_str(label)) || digits.is_empty() || digits.len() > MAX_NUMBER_DIGITS {
        return None;
    }
    if !digits.iter().all(u8::is_ascii_digit) || digits.first() == Some(&b'0') {
        return None;
    }
    label_str(digits).parse().ok().map(|n| (label, n))
}

/// Could a bare body read so far (no opening bracket) still become `KNOWN_LABEL middle DIGITS`?
/// Keeps the hold-back for bracket-less tokens to words that start like one of our labels.
fn bare_body_viable(body: &[u8], spec: &RestoreSpec) -> bool {
    let middle = spec.grammar.middle().as_bytes();
    spec.known_labels.iter().any(|label| {
        let l = label.as_bytes();
        if body.len() <= l.len() {
            return l.starts_with(body);
        }
        let Some(rest) = body.strip_prefix(l) else {
            return false;
        };
        let m = middle.len().min(rest.len());
        if rest.get(..m) != middle.get(..m) {
            return false;
        }
        rest.get(middle.len()..).is_none_or(|d| d.len() <= MAX_NUMBER_DIGITS && d.iter().all(u8::is_ascii_digit))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn spec() -> RestoreSpec {
        RestoreSpec { grammar: PlaceholderGrammar::default(), known_labels: vec!["EMAIL".into(), "IBAN".into()] }
    }

    fn read(t: &str, last: bool) -> Option<(String, u32, usize)> {
        match match_at(t.as_bytes(), b' ', b"\\", last, &spec()) {
            Match::Token(tok) => Some((tok.label.as_str().to_owned(), tok.number, tok.len)),
            _ => None,
        }
    }

    #[test]
    fn drifted_forms_are_read() {
        assert_eq!(read("[EMAIL_1] x", true), Some(("EMAIL".into(), 1, 9)));
        assert_eq!(read("[email_1] x", true), Some(("EMAIL".into(), 1, 9)));
        assert_eq!(read("[Email_12]", true), Some(("EMAIL".into(), 12, 10)));
        assert_eq!(read(r"\[EMAIL\_1\] x", true), Some(("EMAIL".into(), 1, 12)));
        assert_eq!(read(r"[EMAIL\_1]", true), Some(("EMAIL".into(), 1, 10)));
        assert_eq!(read("EMAIL_1] x", true), Some(("EMAIL".into(), 1, 8)));
        assert_eq!(read("[EMAIL_1.", true), Some(("EMAIL".into(), 1, 8)));
        assert_eq!(read("[EMAIL_1", true), Some(("EMAIL".into(), 1, 8)));
    }

    #[test]
    fn look_alikes_are_not_read() {
        for t in [
            "[text](url)",
            "[EMAIL is",
            "EMAIL_1 x",
            "TODO_1]",
            "email_1]",
            "[email_1 x",
            "[EMAIL_01]",
            "[EMAIL_1a]",
            "[",
            "[]",
        ] {
            assert_eq!(read(t, true), None, "{t}");
        }
    }

    #[test]
    fn unfinished_tokens_ask_for_more() {
        for t in ["[", "[EM", "[EMAIL_1", "\\", "\\[EMAIL\\", "EMAIL_", "IB", "[EMAIL_1\\"] {
            assert_eq!(match_at(t.as_bytes(), b' ', b"\\", false, &spec()), Match::NeedMore, "{t}");
        }
        for t in ["Hello", "EMAILX", "x"] {
            assert_eq!(match_at(t.as_bytes(), b' ', b"\\", false, &spec()), Match::No, "{t}");
        }
    }

    #[test]
    fn json_text_marker() {
        let t = br"\\[EMAIL\\_1\\]";
        match match_at(t, b' ', escape_marker(true), true, &spec()) {
            Match::Token(tok) => assert_eq!((tok.label.as_str(), tok.number, tok.len), ("EMAIL", 1, t.len())),
            other => panic!("{other:?}"),
        }
    }
}
