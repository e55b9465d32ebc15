//! Identifiers: national, health, financial and document numbers, found in one pass over the
//! text's digits.
//!
//! Every identifier handled here holds at least one ASCII digit, so the scan jumps from digit to
//! digit (`scan::next_digit`, eight bytes at a time) and reads the token around each one: runs
//! of ASCII letters and digits joined by a `-` (`MRN-123456`, `1EG4-TE5-MK73`), or digit runs
//! joined by `.`, `/` or one space (`123.456.789-09`, `943 476 5919`, `03/15/1985`). A token is
//! handed to each family (`national`, `health`, `finance`, `documents`) once; a family decides from its length and shape
//! in a few comparisons whether it could be one of its identifiers, and only then runs the
//! validator (checksum, check letter, date) and reads the words before it. Prose without digits
//! costs the digit scan alone; prose numbers (`2019`, `3 dogs`) are refused by their length.
//!
//! Confidence: a checksum that passes by chance once in ten or eleven, on a shape that phone
//! numbers and order numbers also have, is not enough: such identifiers need their own words
//! before them ("NHS", "SIN", "BSN"). Distinctive printed forms (`123.456.789-09` for a CPF,
//! a codice fiscale's sixteen letters and digits) are masked on their own.

use super::scan::next_digit;
use super::{devices, documents, finance, health, national, vat};
use crate::entity::BuiltinKind;

/// How far back (bytes) the words that name an identifier are looked for.
const WINDOW_BEFORE: usize = 40;
/// Longest token read (a machine-readable passport line is 44 bytes; nothing handled is longer).
const MAX_TOKEN: usize = 64;

/// Score of an identifier confirmed by its validator and by its own words before it: above a
/// phone number's best (0.95), since the words name this identifier and the digits pass its
/// check, where a phone has neither.
pub const CONFIRMED: f32 = 0.96;
/// Score of a validated identifier in a distinctive printed form, without words.
pub const FORMATTED: f32 = 0.8;
/// Score of a validated identifier whose shape is uncommon but not unique, without words.
pub const SHAPED: f32 = 0.65;

/// A candidate token: `text[start..end]`, with counts read during the scan.
#[derive(Debug)]
pub struct Token<'t> {
    pub text: &'t str,
    pub start: usize,
    pub end: usize,
    pub value: &'t str,
    pub digits: usize,
    pub letters: usize,
    /// The words before the token, folded once for every family's word lists.
    before: std::cell::OnceCell<Folded>,
}

impl<'t> Token<'t> {
    /// Only digits and separators (no letter).
    pub fn numeric(&self) -> bool {
        self.letters == 0
    }

    /// The token's bytes.
    pub fn bytes(&self) -> &'t [u8] {
        self.value.as_bytes()
    }

    /// Lengths of its digit runs, when it is numeric and has at most `N` runs.
    pub fn groups<const N: usize>(&self) -> Option<([usize; N], usize)> {
        let mut out = [0usize; N];
        let mut n = 0;
        let mut in_run = false;
        for &b in self.bytes() {
            if b.is_ascii_digit() {
                if !in_run {
                    if n == N {
                        return None;
                    }
                    n += 1;
                    in_run = true;
                }
                if let Some(slot) = out.get_mut(n - 1) {
                    *slot += 1;
                }
            } else {
                in_run = false;
            }
        }
        Some((out, n))
    }

    /// The separators between its runs, when all of them are the same byte (`None` for a
    /// token of one run, `Some(0)` for mixed separators).
    pub fn separator(&self) -> Option<u8> {
        let mut sep = None;
        for &b in self.bytes().iter().filter(|b| !b.is_ascii_alphanumeric()) {
            match sep {
                None => sep = Some(b),
                Some(s) if s != b => return Some(0),
                _ => {}
            }
        }
        sep
    }

    /// Whether one of `phrases` ends shortly before the token (see `said_before`).
    pub fn after_words(&self, phrases: &[&str]) -> bool {
        self.words_within(phrases, WINDOW_BEFORE).is_some()
    }

    /// Whether one of `phrases` starts within `window` bytes before the token, and how near the
    /// nearest one is (see `last_said_before`).
    pub fn words_within(&self, phrases: &[&str], window: usize) -> Option<usize> {
        self.before.get_or_init(|| Folded::before(self.text, self.start)).nearest(phrases, window)
    }
}

/// The digits of `s` as values, into `out`; how many (at most `out.len()`; more are dropped
/// and the count says so by exceeding it).
pub fn digit_values(s: &str, out: &mut [u8]) -> usize {
    let mut n = 0;
    for b in s.bytes().filter(u8::is_ascii_digit) {
        if let Some(slot) = out.get_mut(n) {
            *slot = b - b'0';
        }
        n += 1;
    }
    n
}

/// A finding proposed by a family: span, kind, score.
pub type Proposal = (usize, usize, BuiltinKind, f32);

/// Which identifier kinds are enabled, as bits of their position in `BuiltinKind::ALL`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Enabled(u128);

impl Enabled {
    pub fn new(kinds: &[BuiltinKind]) -> Enabled {
        let bits = kinds
            .iter()
            .filter(|k| is_identifier(**k))
            .filter_map(|k| BuiltinKind::ALL.iter().position(|a| a == k))
            .fold(0u128, |acc, i| acc | 1u128.checked_shl(i as u32).unwrap_or(0));
        Enabled(bits)
    }

    pub fn any(self) -> bool {
        self.0 != 0
    }

    pub fn has(self, kind: BuiltinKind) -> bool {
        BuiltinKind::ALL
            .iter()
            .position(|a| *a == kind)
            .is_some_and(|i| self.0 & 1u128.checked_shl(i as u32).unwrap_or(0) != 0)
    }
}

/// The kinds this module finds.
pub fn is_identifier(kind: BuiltinKind) -> bool {
    [national::KINDS, health::KINDS, finance::KINDS, documents::KINDS, vat::KINDS, devices::KINDS]
        .iter()
        .any(|family| family.contains(&kind))
}

/// Every identifier finding in `text`, appended to `out` (overlaps are resolved by the caller).
pub fn find(text: &str, enabled: Enabled, out: &mut Vec<Proposal>) {
    if !enabled.any() {
        return;
    }
    let mut push = |p: Option<Proposal>| {
        if let Some(p) = p.filter(|p| enabled.has(p.2)) {
            out.push(p);
        }
    };
    // End of the last identifier read beyond its token: its other tokens are not read again.
    let mut covered = 0;
    for_each_token(text, |t| {
        if t.start < covered {
            return;
        }
        if let Some(p) = documents::classify_extended(&t).or_else(|| finance::classify_extended(&t)) {
            covered = p.1;
            push(Some(p));
            return;
        }
        if glued(text, t.start, t.end) {
            return;
        }
        push(national::classify(&t));
        push(health::classify(&t));
        push(finance::classify(&t));
        push(documents::classify(&t));
        push(vat::classify(&t));
        push(devices::classify(&t));
    });
}

/// Whether `prev`, `joiner`, `next` may continue one token: `-` between letters or digits,
/// `.`, `/` or a space between digits.
fn joins(prev: u8, joiner: u8, next: u8) -> bool {
    match joiner {
        b'-' => prev.is_ascii_alphanumeric() && next.is_ascii_alphanumeric(),
        b'.' | b'/' | b' ' => prev.is_ascii_digit() && next.is_ascii_digit(),
        _ => false,
    }
}

/// Call `f` with every token that holds a digit, left to right, each once.
///
/// A number's separators continue it only while it stays a number written one way: `.`, `/`
/// and spaces only between digit runs of a token without letters, and a space only in a token
/// grouped by spaces alone (`943 476 5919`), so that numbers written side by side in prose
/// (`on 03/15/1985 12 tablets`) stay apart. Linear: every byte is read a bounded number of
/// times (by the digit scan or the token's extension, the run after a separator once more to
/// see that it is all digits, and the letters before a token once going back).
pub fn for_each_token<'t>(text: &'t str, mut f: impl FnMut(Token<'t>)) {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let digit_run_at = |i: usize| {
        let run = b.get(i..).unwrap_or(&[]);
        let len = run.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        len > 0 && run.iter().take(len).all(u8::is_ascii_digit)
    };
    let mut pos = 0;
    while let Some(d) = next_digit(b, pos) {
        // Back over letters and dashes only: the bytes from `pos` to `d` hold no digit.
        let mut start = d;
        loop {
            if start > pos && at(start - 1).is_ascii_alphanumeric() {
                start -= 1;
            } else if start >= pos + 2 && at(start - 1) == b'-' && joins(at(start - 2), b'-', at(start)) {
                start -= 2;
            } else {
                break;
            }
        }
        let mut letters = b.get(start..d).is_some_and(|s| !s.is_empty());
        let (mut spaced, mut punctuated) = (false, false);
        let mut end = d;
        loop {
            let c = at(end);
            if c.is_ascii_alphanumeric() {
                letters |= c.is_ascii_alphabetic();
                end += 1;
                continue;
            }
            if end == 0 || !joins(at(end - 1), c, at(end + 1)) {
                break;
            }
            let numeric_join = match c {
                b'-' if !letters && spaced => false,
                b'-' => {
                    punctuated |= !letters;
                    end += 1;
                    continue;
                }
                b' ' => !letters && !punctuated && digit_run_at(end + 1),
                _ => !letters && !spaced && digit_run_at(end + 1),
            };
            if !numeric_join {
                break;
            }
            spaced |= c == b' ';
            punctuated |= c != b' ';
            end += 1;
        }
        pos = end.max(d + 1);
        if end - start > MAX_TOKEN {
            continue;
        }
        let Some(value) = text.get(start..end) else { continue };
        let digits = value.bytes().filter(u8::is_ascii_digit).count();
        let letters = value.bytes().filter(u8::is_ascii_alphabetic).count();
        f(Token { text, start, end, value, digits, letters, before: std::cell::OnceCell::new() });
    }
}

/// Whether the token continues a longer one through a character that is not a joiner here
/// (`v1.2.3` read from `2`, `user_123`, `a@123`): then it is a fragment of something else, not
/// an identifier. A colon before is a label's (`DOB:1985-03-15`), not glue.
pub fn glued(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let glue = |c: u8| matches!(c, b'.' | b'-' | b'/' | b'_' | b'@' | b':' | b'#' | b'=' | b'+' | b'\\' | b'&');
    let word = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c >= 0x80);
    let before = start.checked_sub(1).and_then(|i| b.get(i)).copied();
    let after = b.get(end).copied();
    let glued_before =
        before.is_some_and(|c| {
            c >= 0x80 && text.get(..start).and_then(|s| s.chars().next_back()).is_some_and(char::is_alphanumeric)
        }) || (before.is_some_and(glue) && word(start.checked_sub(2).and_then(|i| b.get(i))) && before != Some(b':'));
    let glued_after = after.is_some_and(|c| {
        c >= 0x80 && text.get(end..).and_then(|s| s.chars().next()).is_some_and(char::is_alphanumeric)
    }) || (after.is_some_and(glue) && word(b.get(end + 1)));
    glued_before || glued_after
}

/// Whether one of `phrases` ends within `WINDOW_BEFORE` bytes before `start`, as whole words,
/// ASCII case folded. A phrase is lower-case words separated by single spaces; in the text any
/// run of characters other than letters and digits separates words (`Date-of-birth:`, `NHS
/// no.`, `patient_id`).
pub fn said_before(text: &str, start: usize, phrases: &[&str]) -> bool {
    last_said_before(text, start, phrases).is_some()
}

/// Like `said_before`, with how near the nearest phrase is: a larger answer is nearer to
/// `start` (to choose between two lists when both occur in the window).
pub fn last_said_before(text: &str, start: usize, phrases: &[&str]) -> Option<usize> {
    Folded::before(text, start).nearest(phrases, WINDOW_BEFORE)
}

/// The `WINDOW_BEFORE` bytes before a position, folded: lower case, one space for each run of
/// other characters than letters and digits, a space at both ends; with where each folded byte
/// was and where each word starts. Built once per candidate and asked for every word list.
#[derive(Debug)]
pub struct Folded {
    buf: [u8; WINDOW_BEFORE + 2],
    len: usize,
    /// For each word start in `buf`: its index there and its distance (bytes) before the
    /// position in the text.
    words: [(u8, u8); WINDOW_BEFORE / 2 + 1],
    word_count: usize,
}

impl Folded {
    pub fn before(text: &str, start: usize) -> Folded {
        let from = start.saturating_sub(WINDOW_BEFORE);
        let window = text.as_bytes().get(from..start).unwrap_or(&[]);
        let mut f =
            Folded { buf: [b' '; WINDOW_BEFORE + 2], len: 1, words: [(0, 0); WINDOW_BEFORE / 2 + 1], word_count: 0 };
        for (i, &c) in window.iter().enumerate() {
            let word_byte = c.is_ascii_alphanumeric() || c >= 0x80;
            let last_space = f.buf.get(f.len - 1) == Some(&b' ');
            if !word_byte && last_space {
                continue;
            }
            if word_byte && last_space {
                if let Some(slot) = f.words.get_mut(f.word_count) {
                    // Both fit in a byte: `WINDOW_BEFORE` is below 256.
                    *slot = (f.len as u8, (window.len() - i) as u8);
                    f.word_count += 1;
                }
            }
            if let Some(slot) = f.buf.get_mut(f.len) {
                *slot = if word_byte { c.to_ascii_lowercase() } else { b' ' };
                f.len += 1;
            }
        }
        if f.buf.get(f.len - 1) != Some(&b' ') {
            f.len = (f.len + 1).min(f.buf.len());
        }
        f
    }

    /// The nearest phrase of `phrases` that starts within `window` bytes: the folded index of
    /// its end (larger is nearer).
    pub fn nearest(&self, phrases: &[&str], window: usize) -> Option<usize> {
        let folded = self.buf.get(..self.len).unwrap_or(&[]);
        let mut best = None;
        for &(at, distance) in self.words.get(..self.word_count).unwrap_or(&[]).iter().rev() {
            if usize::from(distance) > window {
                break;
            }
            let at = usize::from(at);
            let rest = folded.get(at..).unwrap_or(&[]);
            let first = rest.first().copied();
            // The first byte settles nearly every phrase without a comparison call.
            let end = phrases
                .iter()
                .map(|p| p.as_bytes())
                .filter(|p| p.first().copied() == first && rest.starts_with(p) && rest.get(p.len()) == Some(&b' '))
                .map(|p| at + p.len())
                .max();
            if end.is_some() {
                best = end;
                break;
            }
        }
        best
    }
}

/// Words before a number that say it identifies an order, a version, a ticket: format-only
/// identifiers next to them are not personal.
pub const NOT_PERSONAL: &[&str] = &[
    "order",
    "invoice",
    "tracking",
    "version",
    "build",
    "release",
    "ticket",
    "sku",
    "part",
    "model",
    "isbn",
    "issn",
    "transaction",
    "commit",
    "line",
    "page",
    "ref",
    "reference",
];

/// A format-only score, lowered next to words that say the number is not personal.
pub fn format_score(t: &Token<'_>, score: f32) -> f32 {
    if t.after_words(NOT_PERSONAL) {
        score - 0.35
    } else {
        score
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn tokens(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_token(text, |t| out.push(t.value));
        out
    }

    #[test]
    fn tokens_join_digits_through_number_punctuation_and_words_through_dashes() {
        assert_eq!(
            tokens("MRN: MRN-123456, CPF 123.456.789-09, tel 943 476 5919; v1.2.3 at 2019 1EG4-TE5-MK73."),
            ["MRN-123456", "123.456.789-09", "943 476 5919", "v1", "2.3", "2019", "1EG4-TE5-MK73"]
        );
        assert_eq!(tokens("no digits here - at all"), Vec::<&str>::new());
        assert_eq!(tokens("a-1-b 1 2 x9"), ["a-1-b", "1 2", "x9"]);
        assert_eq!(tokens("on 03/15/1985 12 tablets, 2019 1EG4"), ["03/15/1985", "12", "2019", "1EG4"]);
        assert_eq!(tokens("943 476-5919 and 12.3 4"), ["943 476", "5919", "12.3", "4"]);
    }

    #[test]
    fn fragments_are_glued() {
        let t = "v1.2.3 and user_1234 and 12345 and (12345)";
        let at = |s: &str| t.find(s).unwrap();
        assert!(glued(t, at("2.3"), at("2.3") + 3));
        assert!(glued(t, at("1234 "), at("1234 ") + 4));
        assert!(!glued(t, at("12345 "), at("12345 ") + 5));
        assert!(!glued(t, at("12345)"), at("12345)") + 5));
    }

    #[test]
    fn words_before_are_whole_words_in_any_case() {
        let t = "Date-of-Birth: 1985";
        assert!(said_before(t, t.len() - 4, &["date of birth"]));
        assert!(!said_before(t, t.len() - 4, &["birth date"]));
        let t = "the snhs 1234";
        assert!(!said_before(t, t.len() - 4, &["nhs"]));
        let t = "NHS no. 1234";
        assert!(said_before(t, t.len() - 4, &["nhs"]));
        assert!(said_before(t, t.len() - 4, &["nhs no"]));
        // Far away words do not count.
        let t = format!("NHS {} 1234", "x".repeat(60));
        assert!(!said_before(&t, t.len() - 4, &["nhs"]));
    }

    #[test]
    fn token_groups_and_separators() {
        let mut seen = Vec::new();
        for_each_token("123.456.789-09 943 476 5919x", |t| seen.push((t.groups::<4>(), t.separator())));
        assert_eq!(seen[0], (Some(([3, 3, 3, 2], 4)), Some(0)));
        assert_eq!(seen[1], (Some(([3, 3, 0, 0], 2)), Some(b' ')));
    }
}
