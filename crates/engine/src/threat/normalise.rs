//! The normalised views a text is scanned through. The forwarded text is never changed; these
//! views exist only so that rules see through the usual disguises: compatibility forms
//! (fullwidth, ligatures), accents, invisible and bidi controls, look-alike letters from other
//! scripts, leetspeak and letters spaced apart.

use unicode_normalization::UnicodeNormalization;

/// Counts of characters that are invisible to a reader but not to a model. Their presence is
/// itself a signal of smuggling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HiddenChars {
    /// Zero-width spaces and joiners, soft hyphens, word joiners, byte-order marks.
    pub invisible: u32,
    /// Bidi embeddings, overrides and isolates (text that renders in another order).
    pub bidi: u32,
    /// Unicode tag characters (U+E0000 block), which can spell hidden ASCII.
    pub tags: u32,
}

/// Two views of one text.
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    /// NFKD without combining marks, hidden characters removed, look-alikes folded to ASCII,
    /// lower case, whitespace runs collapsed to one space. Punctuation is kept: payload and
    /// delimiter rules need it.
    pub plain: String,
    /// `plain` reduced to words: leetspeak folded, punctuation turned into spaces, letters spaced
    /// apart rejoined, one space between words. Natural-language rules read this view.
    pub words: String,
    pub hidden: HiddenChars,
}

/// Build both views of `text`.
pub fn normalise(text: &str) -> Normalised {
    let mut hidden = HiddenChars::default();
    // Whitespace is kept one-for-one here: runs of it separate words in spaced-out text.
    let mut folded = String::with_capacity(text.len());
    if text.is_ascii() {
        // ASCII is its own NFKD form and has no hidden or look-alike characters: the views are
        // built on bytes, in two passes.
        let folded: Vec<u8> = text
            .bytes()
            .map(|b| if b.is_ascii_whitespace() || b.is_ascii_control() { b' ' } else { b.to_ascii_lowercase() })
            .collect();
        let plain = collapse_spaces_ascii(&folded);
        let words = words_view_ascii(&folded);
        return Normalised { plain, words, hidden };
    }
    // ASCII characters are their own NFKD form and pass as in the ASCII path; every other
    // character is decomposed on its own. (Whole-text NFKD also reorders runs of combining
    // marks across characters; the marks that matter here are dropped, so the views agree.)
    for c in text.chars() {
        if c.is_ascii() {
            folded.push(if c.is_ascii_whitespace() || c.is_ascii_control() { ' ' } else { c.to_ascii_lowercase() });
            continue;
        }
        for d in std::iter::once(c).nfkd() {
            fold_char(d, &mut folded, &mut hidden);
        }
    }
    if folded.is_ascii() {
        // Accented Latin text folds to ASCII: its views are built on bytes too.
        let plain = collapse_spaces_ascii(folded.as_bytes());
        let words = words_view_ascii(folded.as_bytes());
        return Normalised { plain, words, hidden };
    }
    let plain = collapse_spaces(&folded);
    let words = words_view(&folded);
    Normalised { plain, words, hidden }
}

/// One decomposed character into the folded text: combining marks dropped, hidden characters
/// counted and dropped, white space and controls made spaces, look-alikes folded.
fn fold_char(c: char, folded: &mut String, hidden: &mut HiddenChars) {
    if is_combining_mark(c) {
        return;
    }
    match classify_hidden(c) {
        Some(Hidden::Invisible) => hidden.invisible += 1,
        Some(Hidden::Bidi) => hidden.bidi += 1,
        Some(Hidden::Tag) => hidden.tags += 1,
        None if c.is_whitespace() || c.is_control() => folded.push(' '),
        None => push_folded(folded, c),
    }
}

/// One character folded as the views fold it (decomposed, marks dropped, look-alikes folded):
/// rule patterns written in other scripts are folded with it so that they read like the views.
pub(crate) fn folded_char(c: char) -> String {
    let mut out = String::new();
    let mut hidden = HiddenChars::default();
    for d in std::iter::once(c).nfkd() {
        fold_char(d, &mut out, &mut hidden);
    }
    out
}

fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// `collapse_spaces` of an ASCII text.
///
/// Without a branch per byte: every byte is written at the end of the output, which grows by
/// one unless the byte is a space after a space (or at the start); a last space is cut off.
fn collapse_spaces_ascii(folded: &[u8]) -> String {
    let mut out = vec![0u8; folded.len()];
    let mut len = 0usize;
    let mut after_space = true;
    for &b in folded {
        let space = b == b' ';
        if let Some(slot) = out.get_mut(len) {
            *slot = b;
        }
        len += usize::from(!(space && after_space));
        after_space = space;
    }
    if after_space {
        len = len.saturating_sub(1);
    }
    out.truncate(len);
    // ASCII in, ASCII out: the check cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

/// Whether `c` is invisible to a reader (zero-width, joiner, BOM, variation selector, tag) or
/// a bidi control: what the detectors' folded view drops. (Additive helper; threat scanning
/// keeps using `classify_hidden`.)
pub(crate) fn is_hidden(c: char) -> bool {
    classify_hidden(c).is_some()
}

enum Hidden {
    Invisible,
    Bidi,
    Tag,
}

fn classify_hidden(c: char) -> Option<Hidden> {
    match c {
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200D}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FEFF}'
        | '\u{FE00}'..='\u{FE0F}' => Some(Hidden::Invisible),
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some(Hidden::Bidi),
        '\u{E0000}'..='\u{E007F}' => Some(Hidden::Tag),
        _ => None,
    }
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}')
}

/// Lower-case `c` and fold letters that look like ASCII (or are an accent-free spelling of it).
fn push_folded(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for lower in c.to_lowercase() {
        match confusable(lower) {
            Some(ascii) => out.push_str(ascii),
            None => out.push(lower),
        }
    }
}

/// Look-alike letters from Cyrillic and Greek, plus Latin letters NFKD does not decompose.
fn confusable(c: char) -> Option<&'static str> {
    Some(match c {
        'а' | 'α' => "a",
        'в' | 'β' | 'ь' => "b",
        'с' | 'ς' | 'ϲ' => "c",
        'ԁ' | 'đ' | 'ð' => "d",
        'е' | 'ё' | 'ε' | 'є' => "e",
        'ɡ' => "g",
        'һ' | 'н' => "h",
        'і' | 'ї' | 'ι' | 'ı' | 'ӏ' => "i",
        'ј' => "j",
        'к' | 'κ' => "k",
        'ł' => "l",
        'м' => "m",
        'п' | 'η' => "n",
        'о' | 'ο' | 'σ' | 'ø' => "o",
        'р' | 'ρ' => "p",
        'ԛ' => "q",
        'г' => "r",
        'ѕ' => "s",
        'т' | 'τ' => "t",
        'υ' | 'μ' => "u",
        'ν' => "v",
        'ԝ' | 'ω' | 'ш' => "w",
        'х' | 'χ' => "x",
        'у' | 'γ' => "y",
        // Typographic quotes: some SQL collations treat them as quotes, and payloads use them.
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{2033}' => "\"",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

/// Leetspeak digit or symbol inside a word, and the letter it stands for.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        _ => return None,
    })
}

/// A token's byte span in the folded text.
type Span = (usize, usize);

/// Splits a folded text into words as it is read. Tokens are maximal runs of letters, digits,
/// inner apostrophes and leet symbols between letters. Single-character tokens one separator
/// apart are held back while they run: three or more are one spelled-out word ("i g n o r e"),
/// fewer are words of their own; every other token is a word of its own. Both views use it:
/// they differ only in what a character is.
#[derive(Default)]
struct WordSplitter {
    start: Option<usize>,
    /// Separator characters since the last token ended.
    gap: usize,
    run: Vec<Span>,
}

impl WordSplitter {
    /// The character at byte `i` is (or is not) part of a token. `single` tells a token of one
    /// character; `word` receives each finished word as the spans of its tokens.
    #[inline(always)]
    fn step(&mut self, i: usize, in_token: bool, single: impl Fn(Span) -> bool, word: &mut impl FnMut(&[Span])) {
        if in_token {
            if self.start.is_none() {
                self.start = Some(i);
            }
            return;
        }
        if let Some(s) = self.start.take() {
            self.token((s, i), single, word);
        }
        self.gap += 1;
    }

    /// The text ends at byte `len`.
    fn finish(&mut self, len: usize, single: impl Fn(Span) -> bool, word: &mut impl FnMut(&[Span])) {
        if let Some(s) = self.start.take() {
            self.token((s, len), single, word);
        }
        self.flush(word);
    }

    fn token(&mut self, span: Span, single: impl Fn(Span) -> bool, word: &mut impl FnMut(&[Span])) {
        let one = single(span);
        if !(one && (self.run.is_empty() || self.gap == 1)) {
            self.flush(word);
        }
        if one {
            self.run.push(span);
        } else {
            word(&[span]);
        }
        self.gap = 0;
    }

    /// The held-back single characters: one word when three or more, else a word each.
    fn flush(&mut self, word: &mut impl FnMut(&[Span])) {
        if self.run.len() >= 3 {
            word(&self.run);
        } else {
            for span in &self.run {
                word(std::slice::from_ref(span));
            }
        }
        self.run.clear();
    }
}

/// The `_` and `.` bytes of `folded` that join the parts of a code identifier into one word.
///
/// Program text names things in snake case and dotted paths: `copy.deepcopy(initial_message)`
/// read as words is "copy deepcopy initial message", an extraction request. An identifier
/// (a run of letters, digits, `_` and `.` with a `_` or `.` between its letters) is read as one
/// word when it stands where code puts names: called or indexed (`(`, `[` after it), an
/// argument or an element (`,`, `)` or `]` after it, `(` or `[` before it), or one side of an
/// assignment (`=` after or before it, spaces allowed). A name that opens a line of a template
/// or a configuration (`CONTENT_FILTER: DISABLED`) or stands between spaces is read word by
/// word, as before. None when the text has no such identifier (most texts).
fn code_identifier_joins(folded: &[u8]) -> Option<Vec<bool>> {
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.';
    let mut joins: Option<Vec<bool>> = None;
    let mut from = 0;
    // Only runs that hold a `_` or a `.` can be such names: found with one fast search, each run
    // read once (the next search starts where the run ends).
    while let Some(found) = folded.get(from..).and_then(|rest| memchr::memchr2(b'_', b'.', rest)) {
        let at = from + found;
        let start = folded.get(..at).and_then(|b| b.iter().rposition(|c| !ident(c))).map_or(0, |p| p + 1);
        let end = folded.get(at..).and_then(|b| b.iter().position(|c| !ident(c))).map_or(folded.len(), |p| at + p);
        from = end.max(at + 1);
        let run = folded.get(start..end).unwrap_or(&[]);
        // The identifier proper: leading and trailing `_` and `.` are not joins (`__init__`,
        // a full stop).
        let lead = run.iter().take_while(|b| !b.is_ascii_alphanumeric()).count();
        let trail = run.iter().rev().take_while(|b| !b.is_ascii_alphanumeric()).count();
        let core = run.get(lead..run.len().saturating_sub(trail)).unwrap_or(&[]);
        if !core.iter().any(|&b| b == b'_' || b == b'.') || core.windows(2).any(|w| w == b"..") {
            continue;
        }
        let next = folded.get(end).copied();
        let next_solid = folded.get(end..).and_then(|r| r.iter().find(|&&b| b != b' ')).copied();
        let prev = start.checked_sub(1).and_then(|p| folded.get(p)).copied();
        let prev_solid = folded.get(..start).and_then(|r| r.iter().rev().find(|&&b| b != b' ')).copied();
        let in_code = matches!(next, Some(b'(' | b'[' | b')' | b']' | b','))
            || next_solid == Some(b'=')
            || matches!(prev, Some(b'(' | b'['))
            || prev_solid == Some(b'=');
        if !in_code {
            continue;
        }
        let marks = joins.get_or_insert_with(|| vec![false; folded.len()]);
        let core_start = start + lead;
        for (k, &b) in core.iter().enumerate() {
            if b == b'_' || b == b'.' {
                if let Some(m) = marks.get_mut(core_start + k) {
                    *m = true;
                }
            }
        }
    }
    joins
}

/// Reduce `folded` to words separated by one space.
fn words_view(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    let mut emit = |spans: &[Span]| {
        if !out.is_empty() {
            out.push(' ');
        }
        for &(a, b) in spans {
            push_word(&mut out, folded.get(a..b).unwrap_or(""));
        }
    };
    let single = |(a, b): Span| folded.get(a..b).is_some_and(|t| t.chars().count() == 1);
    let joins = code_identifier_joins(folded.as_bytes());
    let joined = |i: usize| joins.as_ref().is_some_and(|j| j.get(i).copied().unwrap_or(false));
    let mut splitter = WordSplitter::default();
    let mut prev: Option<char> = None;
    let mut iter = folded.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let next = iter.peek().map(|&(_, n)| n);
        let inner_symbol = u8::try_from(c).is_ok_and(is_inner_symbol)
            && prev.is_some_and(char::is_alphabetic)
            && next.is_some_and(char::is_alphabetic);
        splitter.step(i, c.is_alphanumeric() || inner_symbol || joined(i), single, &mut emit);
        prev = Some(c);
    }
    splitter.finish(folded.len(), single, &mut emit);
    out
}

/// `words_view` of an ASCII text, on bytes: the same tokens, gaps, spelled-out words and leet
/// folding (a property test holds the two to the same output).
fn words_view_ascii(folded: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(folded.len());
    let mut emit = |spans: &[Span]| {
        if !out.is_empty() {
            out.push(b' ');
        }
        for &(a, b) in spans {
            push_word_ascii(&mut out, folded.get(a..b).unwrap_or(&[]));
        }
    };
    let single = |(a, b): Span| b - a == 1;
    let joins = code_identifier_joins(folded);
    let joined = |i: usize| joins.as_ref().is_some_and(|j| j.get(i).copied().unwrap_or(false));
    let mut splitter = WordSplitter::default();
    for (i, &b) in folded.iter().enumerate() {
        let in_token = match WORD_CLASS[usize::from(b)] {
            ALNUM => true,
            _ if joined(i) => true,
            // `@ $ ! | '` inside a word ("p@ss", "don't") belong to it.
            INNER => {
                i.checked_sub(1).and_then(|p| folded.get(p)).is_some_and(u8::is_ascii_alphabetic)
                    && folded.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
            }
            _ => false,
        };
        splitter.step(i, in_token, single, &mut emit);
    }
    splitter.finish(folded.len(), single, &mut emit);
    // ASCII in, ASCII out: the check cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

const ALNUM: u8 = 1;
const INNER: u8 = 2;

/// `@ $ ! | '`: part of a word when between letters ("p@ss", "don't").
const fn is_inner_symbol(b: u8) -> bool {
    matches!(b, b'@' | b'$' | b'!' | b'|' | b'\'')
}

/// Per byte: part of a word (`ALNUM`), part of one between letters (`INNER`), or a separator.
static WORD_CLASS: [u8; 256] = byte_table!(|c| if c.is_ascii_alphanumeric() {
    ALNUM
} else if is_inner_symbol(c) {
    INNER
} else {
    0
});

/// `push_word` of an ASCII token.
fn push_word_ascii(out: &mut Vec<u8>, token: &[u8]) {
    let letters = token.iter().filter(|b| b.is_ascii_alphabetic()).count();
    if letters == token.len() {
        out.extend_from_slice(token);
        return;
    }
    let leets = token.iter().filter(|&&b| leet(char::from(b)).is_some()).count();
    let fold = letters >= 2 && leets > 0 && letters >= leets && !std::str::from_utf8(token).is_ok_and(is_quantity);
    for &b in token {
        if b == b'\'' {
            continue;
        }
        // A `.` inside a token joins a dotted code name (see `code_identifier_joins`).
        let b = if b == b'.' { b'_' } else { b };
        let c = char::from(b);
        let folded = if fold && !b.is_ascii_alphabetic() { leet(c).unwrap_or(c) } else { c };
        // `leet` maps to ASCII letters.
        out.push(u8::try_from(folded).unwrap_or(b));
    }
}

/// Numbers with a unit or ordinal suffix ("7pm", "3rd", "4k", "10kg") are not leetspeak.
fn is_quantity(token: &str) -> bool {
    let suffix = token.trim_start_matches(|c: char| c.is_ascii_digit());
    suffix.len() < token.len()
        && matches!(
            suffix,
            "st" | "nd"
                | "rd"
                | "th"
                | "am"
                | "pm"
                | "k"
                | "m"
                | "g"
                | "kg"
                | "km"
                | "cm"
                | "mm"
                | "ml"
                | "gb"
                | "mb"
                | "kb"
                | "tb"
                | "px"
                | "s"
                | "h"
                | "d"
                | "x"
                | "fps"
                | "hz"
                | "khz"
                | "mhz"
                | "ghz"
                | "v"
                | "w"
                | "kw"
                | "p"
                | "bit"
                | "ms"
                | "min"
                | "mp"
        )
}

/// Append one token: apostrophes dropped ("don't" reads "dont"), leetspeak folded when the
/// token is mostly letters ("1gn0r3" -> "ignore"); numbers stay numbers.
fn push_word(out: &mut String, token: &str) {
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    let leets = token.chars().filter(|&c| leet(c).is_some()).count();
    let fold = letters >= 2 && leets > 0 && letters >= leets && !is_quantity(token);
    for c in token.chars() {
        if c == '\'' {
            continue;
        }
        let c = if c == '.' { '_' } else { c };
        out.push(if fold && !c.is_alphabetic() { leet(c).unwrap_or(c) } else { c });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general views of an ASCII text (the path every non-ASCII text takes).
    fn general_views(text: &str) -> (String, String) {
        let folded: String = text
            .chars()
            .map(|c| if c.is_ascii_whitespace() || c.is_ascii_control() { ' ' } else { c.to_ascii_lowercase() })
            .collect();
        (collapse_spaces(&folded), words_view(&folded))
    }

    /// The views as whole-text NFKD gives them (the definition the per-character path keeps).
    fn reference_views(text: &str) -> (String, String, HiddenChars) {
        let mut hidden = HiddenChars::default();
        let mut folded = String::new();
        for c in text.nfkd() {
            fold_char(c, &mut folded, &mut hidden);
        }
        (collapse_spaces(&folded), words_view(&folded), hidden)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn per_character_nfkd_matches_whole_text_nfkd(
            text in "([a-zA-Z0-9 .,'!@$]|é|È|ß|ﬁ|Ｉ|ｇ|а|о|е|і|\u{200B}|\u{202E}|\u{0301}|\u{0308}|\u{00A0}|\u{3000}|ø|Å|ñ|\u{E0041}|\u{2019}|\u{201C}|x\u{0327}\u{0301}){0,40}"
        ) {
            let n = normalise(&text);
            let (plain, words, hidden) = reference_views(&text);
            proptest::prop_assert_eq!(n.plain, plain);
            proptest::prop_assert_eq!(n.words, words);
            proptest::prop_assert_eq!(n.hidden, hidden);
        }

        /// Any printable ASCII with controls, and word-like texts with leet symbols and spaced
        /// letters (where the spelled-out and leet rules fire).
        #[test]
        fn ascii_views_match_the_general_views(
            text in "[ -~\t\n\x00-\x1f]{0,80}|([a-z0-9@$!|' ]{1,3}[ .,]{0,2}){0,30}"
        ) {
            let n = normalise(&text);
            let (plain, words) = general_views(&text);
            proptest::prop_assert_eq!(n.plain, plain);
            proptest::prop_assert_eq!(n.words, words);
        }
    }

    #[test]
    fn folds_fullwidth_and_accents() {
        let n = normalise("ＩＧＮＯＲＥ précédentes");
        assert_eq!(n.words, "ignore precedentes");
    }

    #[test]
    fn numbers_are_not_leet() {
        assert_eq!(normalise("call 2023 at 10").words, "call 2023 at 10");
    }

    #[test]
    fn spaced_words_keep_boundaries() {
        assert_eq!(normalise("i g n o r e  a l l  rules").words, "ignore all rules");
    }
}
