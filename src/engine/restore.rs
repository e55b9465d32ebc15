//! Restoring placeholders in reply text (one-shot, for buffered replies).

use std::borrow::Cow;

use super::placeholder::PlaceholderGrammar;
use super::vault::Vault;

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

/// Replace every placeholder of this exchange in `text`. Borrowed when nothing changed.
pub fn restore_text<'a>(
    text: &'a str,
    vault: &Vault,
    spec: &RestoreSpec,
    escape: Escape,
    counts: &mut RestoreCounts,
) -> Cow<'a, str> {
    let prefix = spec.grammar.prefix();
    if vault.is_empty() && spec.known_labels.is_empty() || !text.contains(prefix) {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut from = 0;
    while let Some(pos) = text[from..].find(prefix) {
        let at = from + pos;
        let Some(r) = spec.grammar.recognise(&text[at..]) else {
            from = at + prefix.len();
            continue;
        };
        let token = &text[at..at + r.len];
        match vault.lookup(token) {
            Some(entry) => {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
                o.push_str(&text[copied..at]);
                push_escaped(o, &entry.original, escape);
                copied = at + r.len;
                counts.restored += 1;
            }
            None => {
                if spec.is_known_label(r.label) {
                    counts.misses += 1;
                }
            }
        }
        from = at + r.len;
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
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
