//! Restoring placeholders in reply text: one-shot for buffered replies ([`restore_text`]) and
//! incremental for streamed text ([`StreamingTextRestorer`]).
//!
//! Both run the same left-to-right scanner, so a text restored piece by piece gives exactly the
//! one-shot result: the scanner decides each candidate token from the bytes of that token alone
//! (plus the one byte before it), and when a text ends before a candidate is decided the
//! streaming restorer holds back only that candidate (at most [`drift::max_token_len`] bytes).
//! Drifted spellings of a placeholder (case, markdown escapes, one missing bracket) are read by
//! [`drift`] and restored only when the vault issued that label and number.

mod drift;
pub mod leaks;

use std::borrow::Cow;

use super::placeholder::PlaceholderGrammar;
use super::vault::Vault;
use drift::Match;

pub use drift::max_token_len;

/// How an original must be written where its placeholder stood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Plain text (a decoded JSON string, a text body).
    None,
    /// Inside a JSON string literal held in a string (tool call `arguments`, `partial_json`):
    /// the original is JSON-escaped, without quotes.
    JsonString,
}

/// What a restore did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RestoreCounts {
    /// Placeholders replaced by their originals.
    pub restored: u64,
    /// Placeholder-shaped tokens with a known label that this exchange did not issue.
    pub misses: u64,
}

impl RestoreCounts {
    pub fn add(&mut self, other: RestoreCounts) {
        self.restored += other.restored;
        self.misses += other.misses;
    }
}

/// Everything a restorer needs besides the vault: the grammar and which labels are ours.
#[derive(Debug, Clone)]
pub struct RestoreSpec {
    pub grammar: PlaceholderGrammar,
    /// Labels this filter can issue; a placeholder-shaped token with another label is not ours
    /// and is neither restored nor counted.
    pub known_labels: Vec<String>,
}

impl RestoreSpec {
    pub fn is_known_label(&self, label: &str) -> bool {
        self.known_labels.iter().any(|l| l == label)
    }
}

/// Append `original` to `out`, escaped as `escape` says.
pub fn push_escaped(out: &mut String, original: &str, escape: Escape) {
    match escape {
        Escape::None => out.push_str(original),
        Escape::JsonString => {
            let quoted = serde_json::Value::String(original.to_owned()).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
}

/// Replace every placeholder of this exchange in `text`, including drifted spellings the vault can
/// resolve. Borrowed when nothing changed.
pub fn restore_text<'a>(
    text: &'a str,
    vault: &Vault,
    spec: &RestoreSpec,
    escape: Escape,
    counts: &mut RestoreCounts,
) -> Cow<'a, str> {
    if vault.is_empty() && spec.known_labels.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = None;
    let scanner = Scanner { vault, spec, escape };
    scanner.scan(text, 0, true, counts, &mut out);
    match out {
        Some(o) => Cow::Owned(o),
        None => Cow::Borrowed(text),
    }
}

/// Every token in `text` that the restorer would read as a placeholder, exactly or drifted (any
/// case, escaped, a bracket missing): `f(label, number)` for each. A request's text that reads so
/// must be reserved, or a reply could turn the user's own `[email_1]` into someone's value.
pub fn placeholder_lookalikes(text: &str, spec: &RestoreSpec, mut f: impl FnMut(&str, u32)) {
    let bytes = text.as_bytes();
    let grammar = &spec.grammar;
    let marker = drift::escape_marker(false);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let before = if i == 0 { 0 } else { bytes.get(i - 1).copied().unwrap_or(0) };
        if !drift::may_begin(b, before, grammar) {
            i += 1;
            continue;
        }
        let rest = bytes.get(i..).unwrap_or(&[]);
        match drift::match_at(rest, before, marker, true, spec) {
            Match::Token(t) => {
                f(t.label.as_str(), t.number);
                i += t.len.max(1);
            }
            _ => match text.get(i..).and_then(|r| grammar.recognise(r)) {
                Some(r) => {
                    f(r.label, r.number);
                    i += r.len.max(1);
                }
                None => i += 1,
            },
        }
    }
}

/// The shared left-to-right scanner.
struct Scanner<'s> {
    vault: &'s Vault,
    spec: &'s RestoreSpec,
    escape: Escape,
}

impl Scanner<'_> {
    /// Restore `text` into `out` (allocated on the first replacement if `None`; if `Some`, every
    /// consumed byte is appended). `prev` is the byte before `text`. Unless `last`, stops before a
    /// candidate token the text ends inside and returns how many bytes were consumed.
    fn scan(&self, text: &str, prev: u8, last: bool, counts: &mut RestoreCounts, out: &mut Option<String>) -> usize {
        let bytes = text.as_bytes();
        let grammar = &self.spec.grammar;
        let marker = drift::escape_marker(self.escape == Escape::JsonString);
        let mut copied = 0;
        let mut i = 0;
        let mut consumed = bytes.len();
        while let Some(&b) = bytes.get(i) {
            let before = if i == 0 { prev } else { bytes.get(i - 1).copied().unwrap_or(0) };
            if !drift::may_begin(b, before, grammar) {
                i += 1;
                continue;
            }
            let rest = bytes.get(i..).unwrap_or(&[]);
            let (label, number, len) = match drift::match_at(rest, before, marker, last, self.spec) {
                Match::NeedMore => {
                    consumed = i;
                    break;
                }
                Match::Token(t) => (t.label, t.number, t.len),
                Match::No => {
                    // Templates whose suffix begins with separator bytes are only read exactly.
                    match text.get(i..).and_then(|r| grammar.recognise(r)) {
                        Some(r) => (drift::Label::new(r.label.as_bytes()), r.number, r.len),
                        None => {
                            i += 1;
                            continue;
                        }
                    }
                }
            };
            match self.vault.lookup_parts(grammar, label.as_str(), number) {
                Some(entry) => {
                    let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
                    o.push_str(text.get(copied..i).unwrap_or(""));
                    push_escaped(o, &entry.original, self.escape);
                    copied = i + len;
                    counts.restored += 1;
                }
                None => {
                    if self.spec.is_known_label(label.as_str()) {
                        counts.misses += 1;
                    }
                }
            }
            i += len;
        }
        if let Some(o) = out.as_mut() {
            o.push_str(text.get(copied..consumed).unwrap_or(""));
        }
        consumed
    }
}

/// Restores one streamed text (one choice's content, one content block, one tool call's
/// arguments) piece by piece. Text that cannot begin a placeholder is returned by the same
/// [`push`](Self::push); only a trailing candidate is held back until the next piece decides it.
#[derive(Debug, Clone)]
pub struct StreamingTextRestorer {
    held: String,
    /// The last byte already passed on (tokens without an opening bracket must start a word).
    prev: u8,
    escape: Escape,
    /// The escape is not known yet: it is decided by how the text begins (see [`json_text_start`]).
    undecided: bool,
    /// Restored text that could still become one of the exchange's synthetic values, and the
    /// byte passed on before it (see `Vault::restore_synthetic_stream`).
    fake_held: String,
    fake_prev: u8,
}

impl StreamingTextRestorer {
    pub fn new(escape: Escape) -> Self {
        StreamingTextRestorer {
            held: String::new(),
            prev: 0,
            escape,
            undecided: false,
            fake_held: String::new(),
            fake_prev: 0,
        }
    }

    /// A restorer for text that may itself be JSON (a structured-output reply, a JSON content
    /// string): if it begins like a JSON object or array, originals are JSON-escaped for the
    /// strings they land in, so the client can still parse the whole text; otherwise plain. The
    /// buffered path decides the same by parsing the whole text (`json::is_document`).
    pub fn plain_or_json() -> Self {
        StreamingTextRestorer { undecided: true, ..StreamingTextRestorer::new(Escape::None) }
    }

    pub fn escape(&self) -> Escape {
        self.escape
    }

    /// The text currently held back (never longer than [`max_token_len`]).
    pub fn held(&self) -> &str {
        &self.held
    }

    /// Restore the next piece, appending what is decided to `out`.
    pub fn push(
        &mut self,
        text: &str,
        vault: &Vault,
        spec: &RestoreSpec,
        counts: &mut RestoreCounts,
        out: &mut String,
    ) {
        self.run(text, false, vault, spec, counts, out);
    }

    /// The text is complete: append everything still held back, restored as far as possible.
    pub fn finish(&mut self, vault: &Vault, spec: &RestoreSpec, counts: &mut RestoreCounts, out: &mut String) {
        self.run("", true, vault, spec, counts, out);
    }

    fn run(
        &mut self,
        text: &str,
        last: bool,
        vault: &Vault,
        spec: &RestoreSpec,
        counts: &mut RestoreCounts,
        out: &mut String,
    ) {
        let mut pending = std::mem::take(&mut self.held);
        pending.push_str(text);
        if self.undecided {
            match json_text_start(&pending, last) {
                TextStart::Unknown { blank } => {
                    // White space cannot begin a placeholder: it goes on now (a stream that only
                    // sends white space is not held). The rest is a bracket or two, held.
                    let (ws, rest) = pending.split_at(blank.min(pending.len()));
                    out.push_str(ws);
                    if !ws.is_empty() {
                        self.prev = b' ';
                    }
                    self.held = rest.to_owned();
                    return;
                }
                TextStart::Json => self.escape = Escape::JsonString,
                TextStart::Plain => {}
            }
            self.undecided = false;
        }
        let scanner = Scanner { vault, spec, escape: self.escape };
        let start = out.len();
        let mut sink = Some(std::mem::take(out));
        let consumed = scanner.scan(&pending, self.prev, last, counts, &mut sink);
        *out = sink.unwrap_or_default();
        if !vault.synthetic_entries().is_empty() {
            // Synthetic values are restored from what the placeholder pass decided.
            let mut fakes = std::mem::take(&mut self.fake_held);
            fakes.push_str(out.get(start..).unwrap_or(""));
            out.truncate(start);
            let done =
                vault.restore_synthetic_stream(&fakes, self.fake_prev, last, self.escape, &mut counts.restored, out);
            if done > 0 {
                self.fake_prev = fakes.as_bytes().get(done - 1).copied().unwrap_or(self.fake_prev);
            }
            self.fake_held = fakes.get(done..).unwrap_or("").to_owned();
        }
        if consumed > 0 {
            self.prev = pending.as_bytes().get(consumed - 1).copied().unwrap_or(self.prev);
        }
        pending.drain(..consumed.min(pending.len()));
        self.held = pending;
    }
}

/// How a text that may be JSON begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextStart {
    /// Not known yet: `blank` leading bytes are white space, and what follows (if anything) is an
    /// opening bracket whose next character has not arrived.
    Unknown {
        blank: usize,
    },
    /// An object (`{` then `"` or `}`) or an array (`[` then `{`, `[`, `"` or `]`), after optional
    /// white space: JSON text. An array of numbers or literals holds no strings, so nothing of
    /// ours can be restored into it and it needs no decision.
    Json,
    Plain,
}

fn json_text_start(text: &str, last: bool) -> TextStart {
    let bytes = text.as_bytes();
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let blank = bytes.iter().take_while(|b| is_ws(b)).count();
    let unknown = if last { TextStart::Plain } else { TextStart::Unknown { blank } };
    let Some(&open) = bytes.get(blank) else { return unknown };
    if open != b'{' && open != b'[' {
        return TextStart::Plain;
    }
    let rest = bytes.get(blank + 1..).unwrap_or(&[]);
    match rest.iter().find(|b| !is_ws(b)) {
        None if rest.len() > 64 => TextStart::Plain,
        None => unknown,
        Some(b'"') => TextStart::Json,
        Some(b'}') if open == b'{' => TextStart::Json,
        Some(b'{' | b'[' | b']') if open == b'[' => TextStart::Json,
        Some(_) => TextStart::Plain,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn spec() -> RestoreSpec {
        RestoreSpec { grammar: PlaceholderGrammar::default(), known_labels: vec!["EMAIL".into(), "SECRET".into()] }
    }

    #[test]
    fn restores_only_what_the_vault_issued() {
        let s = spec();
        let mut v = Vault::with_capacity(8);
        v.placeholder_for(&s.grammar, "EMAIL", "ann@example.com").unwrap();
        let mut c = RestoreCounts::default();
        let out = restore_text("to [EMAIL_1], not [EMAIL_2] nor [TODO_1]", &v, &s, Escape::None, &mut c);
        assert_eq!(out, "to ann@example.com, not [EMAIL_2] nor [TODO_1]");
        assert_eq!(c, RestoreCounts { restored: 1, misses: 1 });
    }

    #[test]
    fn drifted_spellings_restore_only_when_issued() {
        let s = spec();
        let mut v = Vault::with_capacity(8);
        v.placeholder_for(&s.grammar, "EMAIL", "ann@example.com").unwrap();
        let mut c = RestoreCounts::default();
        let text = r"a [email_1] b \[EMAIL\_1\] c EMAIL_1] d [EMAIL_1. e [Email_2] f [link](x)";
        let out = restore_text(text, &v, &s, Escape::None, &mut c);
        assert_eq!(
            out,
            "a ann@example.com b ann@example.com c ann@example.com d ann@example.com. e [Email_2] f [link](x)"
        );
        assert_eq!(c, RestoreCounts { restored: 4, misses: 1 });
    }

    #[test]
    fn streaming_pieces_give_the_one_shot_result() {
        let s = spec();
        let mut v = Vault::with_capacity(8);
        v.placeholder_for(&s.grammar, "EMAIL", "ann@example.com").unwrap();
        let text = "Hi [EMAIL_1][EMAIL_1], see [x](y) or \\[email\\_1\\] EMAIL_1] [EMAIL_1 [";
        let mut want_c = RestoreCounts::default();
        let want = restore_text(text, &v, &s, Escape::None, &mut want_c).into_owned();
        for a in 0..=text.len() {
            for b in a..=text.len() {
                let (Some(p1), Some(p2), Some(p3)) = (text.get(..a), text.get(a..b), text.get(b..)) else {
                    continue;
                };
                let mut r = StreamingTextRestorer::new(Escape::None);
                let (mut out, mut c) = (String::new(), RestoreCounts::default());
                for p in [p1, p2, p3] {
                    r.push(p, &v, &s, &mut c, &mut out);
                    assert!(r.held().len() <= max_token_len(&s.grammar));
                }
                r.finish(&v, &s, &mut c, &mut out);
                assert_eq!(out, want, "cut at {a},{b}");
                assert_eq!(c, want_c, "cut at {a},{b}");
            }
        }
    }

    #[test]
    fn json_string_escape() {
        let s = spec();
        let mut v = Vault::with_capacity(8);
        v.placeholder_for(&s.grammar, "SECRET", "p\"w\\d").unwrap();
        let mut c = RestoreCounts::default();
        let out = restore_text(r#"{"pw":"[SECRET_1]"}"#, &v, &s, Escape::JsonString, &mut c);
        assert_eq!(out, r#"{"pw":"p\"w\\d"}"#);
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["pw"], "p\"w\\d");
    }
}
