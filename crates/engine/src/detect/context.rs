//! Context: the words just before a candidate, used to raise or lower its confidence, and the
//! characters at its edges, used to refuse candidates that are part of a longer token.

/// How far back (in bytes) context words are looked for.
pub const WINDOW_BEFORE: usize = 48;
/// How far forward (in bytes) context words are looked for.
pub const WINDOW_AFTER: usize = 24;

/// Words near a phone-shaped number that make it more likely a phone number.
pub const PHONE_WORDS: &[&str] = &[
    "phone",
    "tel",
    "telephone",
    "mobile",
    "cell",
    "call",
    "fax",
    "contact",
    "whatsapp",
    "number",
    "reach",
    "dial",
    "téléphone",
    "telefon",
    "handy",
    "portable",
    "landline",
    "ph",
    "mob",
    "office",
    "desk",
    "home",
    "work",
    "sms",
    "text",
    "texts",
    "messages",
    "answering",
    "tél",
    "tlf",
    // Other languages of the countries in the phone fixtures.
    "teléfono",
    "telefono",
    "telefone",
    "móvil",
    "movil",
    "celular",
    "cellulare",
    "cellphone",
    "komórka",
    "komorka",
    "gsm",
    "natel",
    "mobil",
    "mobiel",
    "tfno",
    "puhelin",
];
/// Words that mark a number as an identifier of something other than a person.
pub const NOT_PERSONAL_WORDS: &[&str] = &[
    "order",
    "invoice",
    "tracking",
    "version",
    "ver",
    "build",
    "release",
    "serial",
    "ref",
    "reference",
    "ticket",
    "isbn",
    "issn",
    "patent",
    "case",
    "transaction",
    "txn",
    "po",
    "sku",
    "part",
    "model",
    "id",
    "no",
    "license",
    "licence",
    "passport",
    "account",
    "routing",
];
pub const SSN_WORDS: &[&str] = &["ssn", "ssns", "social", "security", "ssa", "ss#", "ss"];
pub const CARD_WORDS: &[&str] =
    &["card", "credit", "debit", "visa", "mastercard", "amex", "discover", "cc", "pan", "payment", "jcb", "diners"];
pub const AWS_WORDS: &[&str] = &["aws", "secret", "secretaccesskey", "aws_secret_access_key", "secret_access_key"];
/// Words after which a dotted quad is a version or a document section, not an address.
pub const VERSION_WORDS: &[&str] = &[
    "version",
    "ver",
    "v",
    "release",
    "build",
    "firmware",
    "os",
    "ios",
    "android",
    "section",
    "chapter",
    "clause",
    "paragraph",
    "article",
    "step",
    "rule",
    "sec",
    "figure",
    "table",
    "oid",
];

/// The largest char boundary at or below `i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary at or above `i` (clamped to the text length).
fn ceil_boundary(text: &str, mut i: usize) -> usize {
    if i >= text.len() {
        return text.len();
    }
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Whether one of `words` (lower case) appears as a whole word in `window`, compared
/// ASCII-case-insensitively; `_` separates words so `db_password` contains `password`.
/// Works on bytes: non-ASCII bytes count as word bytes, so `téléphone` stays one word.
fn window_has(window: &str, words: &[&str]) -> bool {
    window
        .as_bytes()
        .split(|&b| !(b.is_ascii_alphanumeric() || b >= 0x80 || b == b'#'))
        .filter(|w| !w.is_empty() && w.len() <= 24)
        .any(|w| words.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(w)))
}

/// A set of the built-in word lists, as bits: which lists the words of a window belong to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WordLists(u8);

impl WordLists {
    pub const PHONE: WordLists = WordLists(1);
    pub const NOT_PERSONAL: WordLists = WordLists(1 << 1);
    pub const SSN: WordLists = WordLists(1 << 2);
    pub const CARD: WordLists = WordLists(1 << 3);
    pub const AWS: WordLists = WordLists(1 << 4);

    fn has(self, list: WordLists) -> bool {
        self.0 & list.0 != 0
    }
}

/// Longest word compared with the lists (longer words are skipped, as in `window_has`).
const MAX_WORD: usize = 24;

/// A word of at most `MAX_WORD` bytes, ASCII-lower-cased and packed into integers, so that
/// comparing two words is three integer comparisons rather than a `memcmp` call.
type PackedWord = [u64; 3];

fn pack_lower(w: &[u8]) -> PackedWord {
    // Fixed-size copy and case fold: the compiler turns both into a few vector instructions.
    let mut buf = [0u8; MAX_WORD];
    let n = w.len().min(MAX_WORD);
    if let (Some(dst), Some(src)) = (buf.get_mut(..n), w.get(..n)) {
        dst.copy_from_slice(src);
    }
    for b in buf.iter_mut() {
        *b |= u8::from(b.is_ascii_uppercase()) << 5;
    }
    let word = |i: usize| {
        let mut part = [0u8; 8];
        if let Some(src) = buf.get(i * 8..i * 8 + 8) {
            part.copy_from_slice(src);
        }
        u64::from_le_bytes(part)
    };
    [word(0), word(1), word(2)]
}

/// The built-in list words, built once.
struct ListWords {
    /// Grouped by byte length, each with the lists it is in. Grouping by length makes most
    /// window words (long words) cost no comparison at all.
    by_len: Vec<Vec<(PackedWord, WordLists)>>,
    /// A bit per `screen_slot` of some list word: a word whose slot bit is clear is in no list,
    /// which settles nearly every word of a text without packing it.
    screen: [u64; SCREEN_WORDS],
}

const SCREEN_WORDS: usize = 64;

/// A hash of a word's length and its first, second and last bytes (case-folded), into the
/// screen's bits.
fn screen_slot(w: &[u8]) -> usize {
    let byte = |b: Option<&u8>| usize::from(b.map_or(0, u8::to_ascii_lowercase));
    let h = w.len().wrapping_mul(0x9E37)
        ^ byte(w.first()).wrapping_mul(0x85EB)
        ^ byte(w.get(1)).wrapping_mul(0xC2B2)
        ^ byte(w.last()).wrapping_mul(0x27D4);
    (h ^ (h >> 7)) % (SCREEN_WORDS * 64)
}

/// Every context word list with its flag (one table for the index and its tests).
const WORD_LISTS: [(&[&str], WordLists); 5] = [
    (PHONE_WORDS, WordLists::PHONE),
    (NOT_PERSONAL_WORDS, WordLists::NOT_PERSONAL),
    (SSN_WORDS, WordLists::SSN),
    (CARD_WORDS, WordLists::CARD),
    (AWS_WORDS, WordLists::AWS),
];

fn list_words() -> &'static ListWords {
    static TABLE: std::sync::OnceLock<ListWords> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = ListWords { by_len: vec![Vec::new(); MAX_WORD + 1], screen: [0; SCREEN_WORDS] };
        let lists = WORD_LISTS;
        for (words, list) in lists {
            for w in words.iter().map(|w| w.as_bytes()) {
                let Some(slot) = table.by_len.get_mut(w.len()) else { continue };
                let key = pack_lower(w);
                match slot.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, lists)) => lists.0 |= list.0,
                    None => slot.push((key, list)),
                }
                let bit = screen_slot(w);
                if let Some(bits) = table.screen.get_mut(bit / 64) {
                    *bits |= 1 << (bit % 64);
                }
            }
        }
        table
    })
}

/// Whether a byte belongs to a word (as `window_has` splits words).
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b == b'#'
}

/// The lists one word belongs to, compared after ASCII lower-casing (list words are lower case).
fn word_lists(w: &[u8]) -> WordLists {
    // No list word starts with a digit; numbers are most of the words near a candidate.
    if w.first().is_none_or(u8::is_ascii_digit) {
        return WordLists::default();
    }
    let table = list_words();
    let bit = screen_slot(w);
    if table.screen.get(bit / 64).is_none_or(|bits| bits & (1 << (bit % 64)) == 0) {
        return WordLists::default();
    }
    let Some(candidates) = table.by_len.get(w.len()).filter(|c| !c.is_empty()) else {
        return WordLists::default();
    };
    let key = pack_lower(w);
    let mut found = WordLists::default();
    for (k, lists) in candidates {
        if *k == key {
            found.0 |= lists.0;
        }
    }
    found
}

/// The lists that the words of `window` belong to, in one scan. Words are split exactly as in
/// `window_has`.
fn window_lists(window: &[u8]) -> WordLists {
    window.split(|&b| !word_byte(b)).fold(WordLists::default(), |acc, w| WordLists(acc.0 | word_lists(w).0))
}

/// The context words of one text, for all its candidates. Each candidate's windows are read
/// directly until that would have read as many bytes as the text has; then the list words of
/// the whole text are indexed once, and a window is answered from the index plus its two edge
/// words (which the window may cut short, so they are read directly). Dense texts (a candidate
/// every few dozen bytes, with overlapping windows) read each byte at most about twice instead
/// of three times or more; texts with a few candidates never pay for an index. (The switch was
/// at an eighth of the text before: callgrind counted 10% more instructions per 1 KB chat
/// request and 6% more per 16 KB conversation that way, and 2.5% more even on the dense
/// fixture, since reading a window directly costs less per byte than indexing.)
pub struct ContextWords<'t> {
    text: &'t str,
    /// Window bytes read directly so far; past the text's length, the index is built.
    read: std::cell::Cell<usize>,
    /// Whole words of the text that are in some list: (start, end, lists), sorted by start.
    index: std::cell::OnceCell<Vec<(usize, usize, WordLists)>>,
}

impl<'t> ContextWords<'t> {
    pub fn new(text: &'t str) -> ContextWords<'t> {
        ContextWords { text, read: std::cell::Cell::new(0), index: std::cell::OnceCell::new() }
    }

    /// The same, answering every window from the index (to test that both ways agree).
    #[cfg(test)]
    fn indexed(text: &'t str) -> ContextWords<'t> {
        let words = ContextWords::new(text);
        words.read.set(usize::MAX);
        words
    }

    /// The lists of the words in `text[from..to]` (both on char boundaries).
    fn lists_in(&self, from: usize, to: usize) -> WordLists {
        let window = self.text.as_bytes().get(from..to).unwrap_or(&[]);
        let read = self.read.get().saturating_add(window.len());
        if read <= self.text.len() {
            self.read.set(read);
            return window_lists(window);
        }
        let index = self.index.get_or_init(|| index_words(self.text.as_bytes()));
        // The edge words: whole or cut, they are words of the window.
        let first_end = window.iter().position(|&b| !word_byte(b)).unwrap_or(window.len());
        let last_start = window.iter().rposition(|&b| !word_byte(b)).map_or(0, |i| i + 1);
        let mut found = WordLists(
            word_lists(window.get(..first_end).unwrap_or(&[])).0
                | word_lists(window.get(last_start..).unwrap_or(&[])).0,
        );
        // Every whole word of the text inside the window is a word of the window, and vice versa.
        let first = index.partition_point(|&(s, _, _)| s < from);
        for &(_, e, lists) in index.get(first..).unwrap_or(&[]).iter().take_while(|&&(s, _, _)| s < to) {
            if e <= to {
                found.0 |= lists.0;
            }
        }
        found
    }
}

/// The words of `bytes` that are in some list, with their lists.
fn index_words(bytes: &[u8]) -> Vec<(usize, usize, WordLists)> {
    let mut index = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes.get(i).is_some_and(|&b| word_byte(b)) {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(|&b| word_byte(b)) {
            i += 1;
        }
        let lists = word_lists(bytes.get(start..i).unwrap_or(&[]));
        if lists != WordLists::default() {
            index.push((start, i, lists));
        }
    }
    index
}

/// Which built-in word lists occur near a candidate: the window before it always, the window
/// after it on request. One scan per window answers every list, so a candidate checked against
/// several lists (phone words, then words that mark an order number) reads its context once.
#[derive(Debug, Clone, Copy)]
pub struct Nearby {
    before: WordLists,
    after: WordLists,
}

impl Nearby {
    pub fn scan(words: &ContextWords<'_>, start: usize, end: usize, with_after: bool) -> Nearby {
        let text = words.text;
        let from = floor_boundary(text, start.saturating_sub(WINDOW_BEFORE));
        let before = words.lists_in(from, start);
        let after = if with_after {
            let to = ceil_boundary(text, end.saturating_add(WINDOW_AFTER));
            words.lists_in(end, to)
        } else {
            WordLists::default()
        };
        Nearby { before, after }
    }

    /// A word of `list` occurs before the candidate (as `near(.., false)`).
    pub fn before(&self, list: WordLists) -> bool {
        self.before.has(list)
    }

    /// A word of `list` occurs before or after the candidate (as `near(.., true)`); the window
    /// after counts only if it was scanned.
    pub fn around(&self, list: WordLists) -> bool {
        self.before.has(list) || self.after.has(list)
    }
}

/// Whether one of `words` occurs shortly before `start` (or, with `after`, shortly after `end`).
pub fn near(text: &str, start: usize, end: usize, words: &[&str], after: bool) -> bool {
    let from = floor_boundary(text, start.saturating_sub(WINDOW_BEFORE));
    let before = text.get(from..start).unwrap_or("");
    if window_has(before, words) {
        return true;
    }
    if after {
        let to = ceil_boundary(text, end.saturating_add(WINDOW_AFTER));
        return window_has(text.get(end..to).unwrap_or(""), words);
    }
    false
}

/// The last word (letters only, as written) that ends within a few bytes before `start`.
/// Borrowed, not allocated: it is asked for every dotted-quad candidate.
pub fn word_just_before(text: &str, start: usize) -> &str {
    let from = floor_boundary(text, start.saturating_sub(16));
    let before = text.get(from..start).unwrap_or("");
    let trimmed = before.trim_end_matches(|c: char| c.is_whitespace() || c == ':' || c == '.' || c == '#');
    let word_start = trimmed.char_indices().rev().take_while(|(_, c)| c.is_alphabetic()).last().map(|(i, _)| i);
    word_start.and_then(|i| trimmed.get(i..)).unwrap_or("")
}

/// The byte before `i`, if any.
pub fn byte_before(text: &str, i: usize) -> Option<u8> {
    i.checked_sub(1).and_then(|j| text.as_bytes().get(j).copied())
}

/// The byte at `i`, if any.
pub fn byte_at(text: &str, i: usize) -> Option<u8> {
    text.as_bytes().get(i).copied()
}

/// Whether a letter or digit (of any script) touches the span `[start, end)` on either side.
/// An underscore joins the span to a word (`user_a@b.c`, `id_4111...`) only when a letter or
/// digit is on its other side: underscores between the span and a space, punctuation or the
/// text's edge are markdown emphasis (`_x_`, `__x__`).
///
/// Scripts written without spaces between words (Chinese, Japanese, Thai) put numbers and
/// addresses right next to their letters (`卡号4242...`): those letters do not glue.
pub fn touches_word(text: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() && !unspaced_script(c);
    // An escape written out as raw text (`\n`, `\t`, `\r` before the value) is a separator.
    let escaped = |s: &str| s.ends_with("\\n") || s.ends_with("\\t") || s.ends_with("\\r");
    let before = text.get(..start).filter(|s| !escaped(s)).and_then(|s| s.trim_end_matches('_').chars().next_back());
    let after = text.get(end..).and_then(|s| s.trim_start_matches('_').chars().next());
    before.is_some_and(word) || after.is_some_and(word)
}

/// Whether underscores right before `start` (`after == false`) or right after `end` (`after ==
/// true`) join the span to a word: only when a letter or digit is on their other side. Between
/// the span and a space, punctuation or the text's edge they are markdown emphasis (`_x_`).
pub fn underscore_glues(text: &str, at: usize, after: bool) -> bool {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    if after {
        let rest = text.get(at..).unwrap_or("");
        rest.starts_with('_') && word(rest.trim_start_matches('_').chars().next())
    } else {
        let head = text.get(..at).unwrap_or("");
        head.ends_with('_') && word(head.trim_end_matches('_').chars().next_back())
    }
}

/// Letters of scripts written without spaces between words: CJK ideographs, kana, Thai, Lao,
/// Khmer, Myanmar.
pub fn unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}' | '\u{1000}'..='\u{109F}' | '\u{1780}'..='\u{17FF}'
        | '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3FFFF}')
}

/// Whether the span is glued to a longer number: a digit, or `.`/`-`/`/`/`,` then a digit.
pub fn inside_longer_number(text: &str, start: usize, end: usize) -> bool {
    let b = text.as_bytes();
    let joiner = |c: u8| matches!(c, b'.' | b'-' | b'/' | b',' | b':');
    let before = byte_before(text, start);
    if before.is_some_and(|c| c.is_ascii_digit()) {
        return true;
    }
    if before.is_some_and(joiner) && start >= 2 && b.get(start - 2).is_some_and(u8::is_ascii_digit) {
        return true;
    }
    let after = byte_at(text, end);
    if after.is_some_and(|c| c.is_ascii_digit()) {
        return true;
    }
    after.is_some_and(joiner) && b.get(end + 1).is_some_and(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn near_finds_whole_words_only() {
        let t = "Order number: 555-123-4567";
        assert!(near(t, 14, t.len(), NOT_PERSONAL_WORDS, false));
        let t = "The disorder 555-123-4567";
        assert!(!near(t, 13, t.len(), NOT_PERSONAL_WORDS, false));
    }

    #[test]
    fn no_list_word_starts_with_a_digit() {
        for w in PHONE_WORDS.iter().chain(NOT_PERSONAL_WORDS).chain(SSN_WORDS).chain(CARD_WORDS).chain(AWS_WORDS) {
            assert!(!w.starts_with(|c: char| c.is_ascii_digit()), "{w}");
        }
    }

    /// `Nearby` must answer exactly as `near` does with each list.
    #[test]
    fn nearby_agrees_with_near_for_every_list() {
        let texts = [
            "Order number: 555-123-4567 phone",
            "The disorder 555-123-4567 tel",
            "Téléphone: 01 23 45 67 89, tél 2",
            "my SSN# is 536-90-4399 and visa CARD 4111",
            "AWS_SECRET_ACCESS_KEY=abc Mastercard payment ss# x",
            "ééééééééééééééééééééééééééééé phone 1",
            "no words of interest here at all 12345",
            "tel5551234 phonebook#phone  ,, call:x SSN__ssn cardcard card",
            "x#ss# ss #ss",
        ];
        let lists = WORD_LISTS;
        for t in texts {
            for start in (0..=t.len()).filter(|&i| t.is_char_boundary(i)) {
                for end in (start..=t.len()).filter(|&i| t.is_char_boundary(i)).step_by(5) {
                    for ctx in [ContextWords::new(t), ContextWords::indexed(t)] {
                        let nb = Nearby::scan(&ctx, start, end, true);
                        let only_before = Nearby::scan(&ctx, start, end, false);
                        for (words, list) in lists {
                            assert_eq!(nb.around(list), near(t, start, end, words, true), "{t:?} {start} {end}");
                            assert_eq!(only_before.before(list), near(t, start, end, words, false), "{t:?} {start}");
                            assert_eq!(nb.before(list), only_before.before(list));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn windows_respect_char_boundaries() {
        let t = "ééééééééééééééééééééééééééééé phone 1";
        assert!(near(t, t.len() - 1, t.len(), PHONE_WORDS, true));
        assert_eq!(word_just_before("Version 1.2", 8), "Version");
        assert_eq!(word_just_before("é v1.2", 4), "v");
        assert_eq!(word_just_before("  1.2", 2), "");
    }
}
