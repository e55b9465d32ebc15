//! Whole-text byte scans that decide where candidate regexes run: number islands, IBAN starts,
//! colon pairs. They run on every text, so they jump from digit to digit with a vectorised
//! search instead of classifying every byte.

use super::patterns::{island_byte, MIN_ISLAND_DIGITS};

/// The position of the first ASCII digit at or after `from`.
///
/// Eight bytes at a time: after `x = word ^ 0x30..30`, a byte is a digit exactly when it is
/// below 10, and `(x - 0x0A..0A) & !x & 0x80..80` flags bytes below 10. Borrows can flag bytes
/// after a real one, never before it, so the lowest flag is exact.
pub fn next_digit(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let rest = bytes.get(from..)?;
    let mut chunks = rest.chunks_exact(8);
    let mut base = from;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ (ONES * 0x30);
        let flags = x.wrapping_sub(ONES * 10) & !x & (ONES * 0x80);
        if flags != 0 {
            return Some(base + (flags.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks.remainder().iter().position(u8::is_ascii_digit).map(|i| base + i)
}

/// A maximal run of number bytes (digits and number punctuation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Island {
    pub start: usize,
    pub end: usize,
    pub digits: usize,
    /// Longest run of consecutive digits.
    pub longest_run: usize,
    /// At least four digits and three dots: could hold an IPv4 address.
    pub dotted: bool,
}

/// The number islands of a text. Island bytes are ASCII, so the ranges are on char boundaries.
/// Islands too small for any rule are not returned. Runs of island bytes without a digit (the
/// spaces of prose) hold nothing, so the scan starts each island at a digit and extends it
/// back and forth.
pub fn number_islands(bytes: &[u8]) -> Vec<Island> {
    let mut islands = Vec::new();
    // Invariant: `bytes[done - 1]`, if any, is not an island byte, or ends the last island.
    let mut done = 0;
    while let Some(digit) = next_digit(bytes, done) {
        let mut start = digit;
        while start > done && bytes.get(start - 1).is_some_and(|&b| island_byte(b)) {
            start -= 1;
        }
        // The bytes before the first digit hold no digit, but may hold dots.
        let mut dots = bytes.get(start..digit).map_or(0, |lead| lead.iter().filter(|&&b| b == b'.').count());
        let (mut digits, mut run, mut longest_run) = (0, 0, 0);
        let mut end = digit;
        while let Some(&b) = bytes.get(end) {
            if !island_byte(b) {
                break;
            }
            if b.is_ascii_digit() {
                digits += 1;
                run += 1;
                longest_run = longest_run.max(run);
            } else {
                run = 0;
                dots += usize::from(b == b'.');
            }
            end += 1;
        }
        let dotted = digits >= 4 && dots >= 3;
        if digits >= MIN_ISLAND_DIGITS || dotted {
            islands.push(Island { start, end, digits, longest_run, dotted });
        }
        // `bytes[end]` is not an island byte; an island never starts inside this one.
        done = end + 1;
    }
    islands
}

/// Where an IBAN may start: two ASCII letters and two ASCII digits, not preceded by a letter,
/// digit or `_` of any script (a candidate glued to a word is refused by the IBAN check).
pub fn iban_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let bytes = text.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(d) = next_digit(bytes, from) {
            // Only the first digit of a run can follow the two letters: skip the rest of it.
            from = d + 1;
            while bytes.get(from).is_some_and(u8::is_ascii_digit) {
                from += 1;
            }
            let Some(start) = d.checked_sub(2) else { continue };
            let shape = bytes.get(start).is_some_and(u8::is_ascii_alphabetic)
                && bytes.get(start + 1).is_some_and(u8::is_ascii_alphabetic)
                && bytes.get(d + 1).is_some_and(u8::is_ascii_digit);
            if !shape {
                continue;
            }
            let glued = text.get(..start).and_then(|t| t.chars().next_back()).is_some_and(char::is_alphanumeric)
                || super::context::underscore_glues(text, start, false);
            if !glued {
                return Some(start);
            }
        }
        None
    })
}

/// A fixed-length pattern of byte classes: what a regex without alternation or repetition
/// ranges (`[0-9]{3}[- .][0-9]{2}[- .][0-9]{4}`) matches. Its leftmost-first matches are
/// simply the leftmost positions where every class fits, taken without overlap.
#[derive(Debug, Clone, Copy)]
pub struct FixedShape(&'static [ByteClass]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteClass {
    Digit,
    /// `[- .]`
    SsnSeparator,
}

impl ByteClass {
    fn fits(self, b: u8) -> bool {
        match self {
            ByteClass::Digit => b.is_ascii_digit(),
            ByteClass::SsnSeparator => matches!(b, b'-' | b' ' | b'.'),
        }
    }
}

use ByteClass::{Digit as D, SsnSeparator as S};

impl FixedShape {
    /// The `SsnSeparated` rule's regex, `[0-9]{3}[- .][0-9]{2}[- .][0-9]{4}`.
    pub const SSN_SEPARATED: FixedShape = FixedShape(&[D, D, D, S, D, D, S, D, D, D, D]);
    /// The `SsnBare` rule's regex, `[0-9]{9}`.
    pub const SSN_BARE: FixedShape = FixedShape(&[D, D, D, D, D, D, D, D, D]);

    pub fn len(self) -> usize {
        self.0.len()
    }

    /// Start offsets of the non-overlapping leftmost matches in `hay`.
    pub fn find_iter(self, hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            while at + self.0.len() <= hay.len() {
                let fits =
                    hay.get(at..at + self.0.len()).is_some_and(|w| w.iter().zip(self.0).all(|(&b, c)| c.fits(b)));
                if fits {
                    let start = at;
                    at += self.0.len();
                    return Some(start);
                }
                at += 1;
            }
            None
        })
    }
}

/// In one pass over the colons and dashes: whether two colons occur at most five bytes apart
/// (`a:b:c`, `::`, as in every IPv6 address), and whether a URL scheme separator (`://`) or a
/// curl user option (`-u `, `--user`) occurs. (Four substring searches before; without SIMD, as
/// in wasm, each was a pass of its own.)
pub fn colons_and_user_options(b: &[u8]) -> (bool, bool) {
    let mut last_colon: Option<usize> = None;
    let (mut pair, mut user) = (false, false);
    for i in memchr::memchr2_iter(b':', b'-', b) {
        let rest = b.get(i + 1..).unwrap_or(&[]);
        if b.get(i) == Some(&b':') {
            pair |= last_colon.is_some_and(|l| i - l <= 5);
            last_colon = Some(i);
            user |= rest.starts_with(b"//");
        } else {
            user |= rest.starts_with(b"u ") || rest.starts_with(b"-user");
        }
        if pair && user {
            break;
        }
    }
    (pair, user)
}

/// The largest char boundary at or below `i`.
pub fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    proptest::proptest! {
        #[test]
        fn colon_and_user_scan_matches_substring_searches(text in "[a-z :/u\\-]{0,40}") {
            let colons: Vec<usize> = text.match_indices(':').map(|(i, _)| i).collect();
            let pair = colons.windows(2).any(|w| w[1] - w[0] <= 5);
            let user = text.contains("://") || text.contains("-u ") || text.contains("--user");
            proptest::prop_assert_eq!(colons_and_user_options(text.as_bytes()), (pair, user));
        }
    }

    /// The straightforward byte-by-byte definition the fast scan must agree with.
    fn islands_reference(bytes: &[u8]) -> Vec<Island> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !island_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            let (mut digits, mut dots, mut run, mut longest_run) = (0, 0, 0, 0);
            while i < bytes.len() && island_byte(bytes[i]) {
                if bytes[i].is_ascii_digit() {
                    digits += 1;
                    run += 1;
                    longest_run = longest_run.max(run);
                } else {
                    run = 0;
                }
                dots += usize::from(bytes[i] == b'.');
                i += 1;
            }
            let dotted = digits >= 4 && dots >= 3;
            if digits >= MIN_ISLAND_DIGITS || dotted {
                out.push(Island { start, end: i, digits, longest_run, dotted });
            }
        }
        out
    }

    #[test]
    fn islands_match_the_byte_by_byte_definition() {
        let texts = [
            "call 212-555-0123 or (020) 7946 0958; ip . . 10.1.2.3, card 4111 1111 1111 1111",
            "1234567",
            "x 1.2.3.4.",
            "... 12.34.56.78 and 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5",
            "no digits at all in this text, only words",
            "",
            "999999999999999999999999999999999999999999999999999999999999999999999",
        ];
        for t in texts {
            assert_eq!(number_islands(t.as_bytes()), islands_reference(t.as_bytes()), "{t:?}");
        }
    }

    #[test]
    fn iban_starts_are_word_starts_with_country_and_check_digits() {
        let t = "DE89 3704, xGB82 WEST, éFR76 1, a_NL91 2, (BE68 5, 1ab23, ab1, _IT60 x";
        let starts: Vec<&str> = iban_starts(t).map(|i| &t[i..i + 4]).collect();
        assert_eq!(starts, ["DE89", "BE68", "IT60"]);
    }

    /// The byte matchers must find exactly what the rules' regexes find, on any island text.
    #[test]
    fn fixed_shapes_match_their_rule_regexes() {
        use super::super::patterns::{Check, RULES};
        use proptest::prelude::*;
        let regex_of = |check: Check| {
            let r = RULES.iter().find(|r| r.check == check).unwrap();
            regex::Regex::new(r.regex).unwrap()
        };
        let cases = [
            (FixedShape::SSN_SEPARATED, regex_of(Check::SsnSeparated)),
            (FixedShape::SSN_BARE, regex_of(Check::SsnBare)),
        ];
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config::with_cases(4000));
        runner
            .run(&"[0-9 .\\-/()+]{0,40}", |hay| {
                for (shape, re) in &cases {
                    let want: Vec<usize> = re.find_iter(&hay).map(|m| m.start()).collect();
                    let got: Vec<usize> = shape.find_iter(hay.as_bytes()).collect();
                    prop_assert_eq!(got, want, "{:?}", hay);
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(FixedShape::SSN_SEPARATED.find_iter(b"x 536-90-4399 123 45 67890").collect::<Vec<_>>(), [2, 14]);
    }

    #[test]
    fn next_digit_agrees_with_a_plain_search_on_every_byte() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).chain(b"abc9".iter().copied()).collect();
        for from in 0..=bytes.len() + 1 {
            let want = bytes.get(from..).and_then(|r| r.iter().position(u8::is_ascii_digit)).map(|i| from + i);
            assert_eq!(next_digit(&bytes, from), want, "{from}");
        }
        // Every single-byte value as the only candidate, at every offset within a word.
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut t = vec![b'x'; 24];
                t[at] = b;
                assert_eq!(next_digit(&t, 0), b.is_ascii_digit().then_some(at), "{b} {at}");
            }
        }
    }

    #[test]
    fn next_digit_crosses_blocks() {
        let mut t = vec![b'a'; 100];
        t[70] = b'7';
        assert_eq!(next_digit(&t, 0), Some(70));
        assert_eq!(next_digit(&t, 71), None);
        assert_eq!(next_digit(&t, 500), None);
    }
}
