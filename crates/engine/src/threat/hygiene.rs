//! Input hygiene before anything else looks at a text: a size limit, and control characters and
//! terminal escape sequences (ANSI CSI and OSC), which can hide text from a human reading logs or
//! a terminal and have no business in a prompt.

use std::borrow::Cow;

/// What to do with control characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlChars {
    /// Remove them (and whole escape sequences) from the forwarded text.
    #[default]
    Strip,
    /// Refuse the request.
    Reject,
    /// Leave them alone.
    Allow,
}

impl ControlChars {
    pub const fn name(self) -> &'static str {
        match self {
            ControlChars::Strip => "strip",
            ControlChars::Reject => "reject",
            ControlChars::Allow => "allow",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HygieneSettings {
    /// Longest text accepted, in characters (Unicode scalar values).
    pub max_prompt_chars: usize,
    pub control_chars: ControlChars,
}

impl Default for HygieneSettings {
    fn default() -> Self {
        // No limit of its own by default: `max_body_bytes` already bounds every text, and long-context
        // prompts are normal. Operators who want a per-message cap set one.
        HygieneSettings { max_prompt_chars: usize::MAX, control_chars: ControlChars::Strip }
    }
}

/// Why a text was refused. Carries counts, never the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HygieneViolation {
    TooLong { chars: usize, limit: usize },
    ControlCharacters { count: usize },
}

impl HygieneViolation {
    pub const fn name(self) -> &'static str {
        match self {
            HygieneViolation::TooLong { .. } => "too_long",
            HygieneViolation::ControlCharacters { .. } => "control_characters",
        }
    }
}

impl std::fmt::Display for HygieneViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HygieneViolation::TooLong { chars, limit } => {
                write!(f, "text of {chars} characters exceeds the limit of {limit}")
            }
            HygieneViolation::ControlCharacters { count } => write!(f, "text contains {count} control characters"),
        }
    }
}

impl std::error::Error for HygieneViolation {}

/// Check `text`; on success return it, with control characters stripped when so configured
/// (borrowed when nothing changed).
pub fn check_hygiene<'a>(text: &'a str, settings: &HygieneSettings) -> Result<Cow<'a, str>, HygieneViolation> {
    // Cheap upper bound first: a text with fewer bytes than the limit has fewer characters.
    if text.len() > settings.max_prompt_chars {
        let chars = text.chars().count();
        if chars > settings.max_prompt_chars {
            return Err(HygieneViolation::TooLong { chars, limit: settings.max_prompt_chars });
        }
    }
    if settings.control_chars == ControlChars::Allow || !may_hold_control(text.as_bytes()) {
        return Ok(Cow::Borrowed(text));
    }
    let count = text.chars().filter(|&c| is_unwanted_control(c)).count();
    if count == 0 {
        return Ok(Cow::Borrowed(text));
    }
    match settings.control_chars {
        ControlChars::Reject => Err(HygieneViolation::ControlCharacters { count }),
        _ => Ok(Cow::Owned(strip_controls(text))),
    }
}

/// Whether `bytes` may hold an unwanted control character, read on bytes: a C0 control other
/// than tab, line feed and carriage return, DEL, or a C1 control (U+0080..U+009F, encoded as
/// 0xC2 0x80..0x9F). Almost every text has none, and this is settled without decoding it.
fn may_hold_control(bytes: &[u8]) -> bool {
    // Chunked and without early exit so that the compiler vectorises the common case: no
    // candidate byte at all.
    let candidate = |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f || b == 0xc2;
    if !bytes.chunks(64).any(|c| c.iter().fold(false, |seen, &b| seen | candidate(b))) {
        return false;
    }
    // 0xC2 leads a C1 control only before 0x80..0x9F.
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| candidate(b) && (b != 0xc2 || bytes.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n))))
}

/// C0 and C1 controls other than tab, line feed and carriage return, plus DEL.
fn is_unwanted_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Remove control characters, dropping whole ANSI sequences: CSI (`ESC [` params final byte)
/// and OSC (`ESC ]` ... BEL or `ESC \`), so no parameter bytes are left behind as text.
fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' | '\u{9b}' | '\u{9d}' => {
                let kind = if c == '\u{1b}' {
                    chars.next_if(|n| *n == '[' || *n == ']')
                } else {
                    Some(if c == '\u{9b}' { '[' } else { ']' })
                };
                match kind {
                    Some('[') => {
                        // Parameter and intermediate bytes, then one final byte in @..~.
                        for n in chars.by_ref() {
                            if ('@'..='~').contains(&n) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        while let Some(n) = chars.next() {
                            if n == '\u{7}' || n == '\u{9c}' {
                                break;
                            }
                            if n == '\u{1b}' && chars.next_if_eq(&'\\').is_some() {
                                break;
                            }
                        }
                    }
                    _ => {
                        // Other two-character escapes (ESC c, ESC 7...): drop the next char too.
                        chars.next_if(|n| ('@'..='~').contains(n));
                    }
                }
            }
            c if is_unwanted_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        // The byte test agrees with decoding every character, for any text (controls, C1
        // controls, their UTF-8 neighbours and other multi-byte characters included).
        #[test]
        fn byte_test_agrees_with_characters(text in "[a\\x00-\\x1f\\x7f\\u{80}-\\u{a0}\\u{100}\\u{c280}é\\t\\n\\r]{0,40}") {
            let by_chars = text.chars().any(is_unwanted_control);
            prop_assert_eq!(may_hold_control(text.as_bytes()), by_chars);
        }
    }

    #[test]
    fn strips_csi_and_osc_sequences() {
        let s = HygieneSettings::default();
        let out = check_hygiene("a\u{1b}[31mred\u{1b}[0m\u{1b}]0;title\u{7}b\u{0}", &s);
        assert_eq!(out.as_deref(), Ok("aredb"));
    }

    #[test]
    fn rejects_and_limits() {
        let s = HygieneSettings { max_prompt_chars: 3, control_chars: ControlChars::Reject };
        assert_eq!(check_hygiene("abcd", &s), Err(HygieneViolation::TooLong { chars: 4, limit: 3 }));
        assert_eq!(check_hygiene("a\u{7}", &s), Err(HygieneViolation::ControlCharacters { count: 1 }));
        assert_eq!(check_hygiene("a\tb", &s).as_deref(), Ok("a\tb"));
    }
}
