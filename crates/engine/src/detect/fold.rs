//! The folded view of a text for detection: full-width forms (`４１１１`, `ａｌｉｃｅ＠ｃｏｎｔｏｓｏ．ｏｒｇ`),
//! mathematical alphanumerics and the ideographic space become their ASCII counterparts, and
//! zero-width and bidi controls are dropped, so that a value written with them is found like
//! its plain spelling. Every byte of the view knows the original character it came from, so a
//! finding maps back to the original bytes of the value, the invisible ones inside it included.
//!
//! An `@` or `.` spelled out in brackets (`jane (at) example (dot) com`) becomes the character
//! it stands for, so the address is found and its whole written form is masked.
//!
//! The view exists only for texts that hold such characters: ASCII texts (most of them) are
//! recognised by one vectorised check and cost nothing more.

use unicode_normalization::UnicodeNormalization;

use crate::threat::normalise::is_hidden;

/// A folded view and, per view byte, the original span of the character it came from.
pub struct FoldedView {
    pub text: String,
    /// `starts[i]`: start of the original character of view byte `i`.
    starts: Vec<usize>,
    /// `ends[i]`: end of the original character of view byte `i`.
    ends: Vec<usize>,
}

/// What one character becomes in the view: dropped, an ASCII character, or kept as it is.
fn fold(c: char) -> Option<Option<char>> {
    if is_hidden(c) {
        return Some(None);
    }
    match c {
        // Full-width ASCII variants are ASCII shifted by a fixed offset.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).map(Some),
        // The ideographic space, and the no-break and narrow spaces that typesetting and
        // word processors put between the groups of a number (`+49 151 …`, `4111 1111 …`).
        '\u{3000}' | '\u{00A0}' | '\u{2007}' | '\u{2009}' | '\u{202F}' => Some(Some(' ')),
        // Mathematical alphanumerics (bold, italic, double-struck, monospace ... letters and
        // digits): their compatibility form is one ASCII letter or digit.
        '\u{1D400}'..='\u{1D7FF}' => {
            let mut n = std::iter::once(c).nfkc();
            match (n.next(), n.next()) {
                (Some(a), None) if a.is_ascii_alphanumeric() => Some(Some(a)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// An address's `@` or `.` written out in brackets, as people do to hide it from harvesters:
/// `jane (at) example (dot) com`, `jane[at]example.com`. Returns the token's end and the
/// character it stands for, when one starts at `at` (spaces around it belong to it).
fn spelled_out(text: &str, at: usize) -> Option<(usize, char)> {
    let bytes = text.as_bytes();
    let mut i = at;
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    let close = match bytes.get(i)? {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        _ => return None,
    };
    i += 1;
    let rest = bytes.get(i..)?;
    let (word, c) = if rest.len() >= 3 && rest[..2].eq_ignore_ascii_case(b"at") && rest[2] == close {
        (2, '@')
    } else if rest.len() >= 4 && rest[..3].eq_ignore_ascii_case(b"dot") && rest[3] == close {
        (3, '.')
    } else {
        return None;
    };
    i += word + 1;
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    Some((i, c))
}

/// Whether `text` may hold a spelled-out `@` (a quick test before the character walk).
fn may_spell_out(text: &str) -> bool {
    memchr::memchr3(b'(', b'[', b'{', text.as_bytes()).is_some()
        && text.as_bytes().windows(3).any(|w| w[0..2].eq_ignore_ascii_case(b"at") && matches!(w[2], b')' | b']' | b'}'))
}

/// The folded view of `text`, or `None` when folding would change nothing (always for ASCII
/// without a spelled-out `@`).
pub fn folded_view(text: &str) -> Option<FoldedView> {
    let spelled = may_spell_out(text);
    if !spelled && (text.is_ascii() || !text.chars().any(|c| fold(c).is_some())) {
        return None;
    }
    let mut view = String::with_capacity(text.len());
    let mut starts = Vec::with_capacity(text.len());
    let mut ends = Vec::with_capacity(text.len());
    let mut skip_to = 0;
    for (at, c) in text.char_indices() {
        if at < skip_to {
            continue;
        }
        if spelled && matches!(c, ' ' | '(' | '[' | '{') {
            if let Some((end, stands_for)) = spelled_out(text, at) {
                view.push(stands_for);
                starts.push(at);
                ends.push(end);
                skip_to = end;
                continue;
            }
        }
        let end = at + c.len_utf8();
        let out = match fold(c) {
            Some(None) => continue,
            Some(Some(a)) => a,
            None => c,
        };
        view.push(out);
        for _ in 0..out.len_utf8() {
            starts.push(at);
            ends.push(end);
        }
    }
    Some(FoldedView { text: view, starts, ends })
}

impl FoldedView {
    /// The original span of the view span `[start, end)` (non-empty, on char boundaries of the
    /// view): from the start of its first character to the end of its last.
    pub fn original(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let s = *self.starts.get(start)?;
        let e = *self.ends.get(end.checked_sub(1)?)?;
        Some((s, e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn ascii_and_plain_unicode_build_no_view() {
        assert!(folded_view("card 4111 1111 1111 1111").is_none());
        assert!(folded_view("Grüße, jürgen@example.de — 卡号").is_none());
    }

    #[test]
    fn spelled_out_at_and_dot_become_the_characters() {
        let text = "Write to jane.doe (at) example.com or bob[AT]example {dot} org, look (at this)";
        let v = folded_view(text).unwrap();
        assert_eq!(v.text, "Write to jane.doe@example.com or bob@example.org, look (at this)");
        let at = v.text.find("jane").unwrap();
        let (s, e) = v.original(at, at + "jane.doe@example.com".len()).unwrap();
        assert_eq!(&text[s..e], "jane.doe (at) example.com");
        assert!(folded_view("we met (briefly) at noon [see notes]").is_none());
    }

    #[test]
    fn folds_and_maps_back_to_original_bytes() {
        let text = "x ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｏｒｇ 41\u{200B}11 𝟒𝟐";
        let v = folded_view(text).unwrap();
        assert_eq!(v.text, "x alice@example.org 4111 42");
        let at = v.text.find("alice").unwrap();
        let (s, e) = v.original(at, at + "alice@example.org".len()).unwrap();
        assert_eq!(&text[s..e], "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｏｒｇ");
        // The zero-width space inside the number is inside the original span.
        let at = v.text.find("4111").unwrap();
        let (s, e) = v.original(at, at + 4).unwrap();
        assert_eq!(&text[s..e], "41\u{200B}11");
        let at = v.text.find("42").unwrap();
        let (s, e) = v.original(at, at + 2).unwrap();
        assert_eq!(&text[s..e], "𝟒𝟐");
    }
}
