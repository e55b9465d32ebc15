//! Person names (`PERSON`), found in one pass over the text's words.
//!
//! A filter that masked every capitalised word would break the product, so a name needs a
//! reason beyond its capital letter:
//! - a cue that says a name follows: an honorific (`Mr.`, `Dr`, `Prof.`), a label (`Patient:`,
//!   `Name:`, `my name is`, `signed by`), a name-like JSON key (`"full_name": "..."`): then one to
//!   three capitalised words are the name, whatever they are;
//! - a weaker cue (`Dear`, `Hi`, `Hello`, a signature line after `Regards,` or `Thanks,`): the
//!   first word must be a listed given name or surname;
//! - no cue: a listed given name followed by a listed surname (`Grace Hopper`), each
//!   capitalised and neither a common function word.
//!
//! The lists (`crates/engine/data/`, see its README) are the 1990 US Census given names and
//! the 5,000 most frequent surnames, sorted, searched by binary search over the bytes of the
//! embedded file: no table is built at start-up. Only capitalised words are looked up.

use crate::entity::BuiltinKind;

use super::ids::Proposal;

/// The census given names (male and female), upper case, sorted, one per line.
const GIVEN: &str = include_str!("../../data/given_names.txt");
/// The 5,000 most frequent census surnames, upper case, sorted, one per line.
const SURNAMES: &str = include_str!("../../data/surnames.txt");

/// Score of a name after a strong cue (honorific, label, key).
const CUED: f32 = 0.85;
/// Score of a listed given name and surname with no cue.
const PAIRED: f32 = 0.7;
/// Longest word looked up (longer capitalised words are not names in the lists).
const MAX_WORD: usize = 20;
/// Most words in one name.
const MAX_NAME_WORDS: usize = 3;

/// A word of the text: ASCII letters and digits, bytes of other scripts, and `'` or `-` inside.
#[derive(Debug, Clone, Copy)]
pub struct Word {
    pub start: usize,
    pub end: usize,
}

/// The text's words, in order (linear, one pass).
#[cfg(test)]
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    words_into(text, &mut out);
    out
}

/// Longest piece of text whose words are listed at once: the word list of a piece stays small
/// (a few hundred words, reused from piece to piece), so a long text costs the same per byte
/// as a short one and never one large allocation.
pub const PIECE: usize = 4096;

/// The text cut into pieces of at most `PIECE` bytes, each with its offset: cut after the last
/// line break of the window, else after its last space, else at a character boundary. A name
/// or address is never split at a line break it does not hold; one cut at a space in a text
/// without line breaks for 4 KiB can split one.
pub fn pieces(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = text.get(at..).filter(|r| !r.is_empty())?;
        let len = if rest.len() <= PIECE {
            rest.len()
        } else {
            let mut limit = PIECE;
            while !rest.is_char_boundary(limit) {
                limit -= 1;
            }
            let window = rest.as_bytes().get(..limit).unwrap_or(&[]);
            window
                .iter()
                .rposition(|&c| c == b'\n')
                .or_else(|| window.iter().rposition(|&c| c == b' '))
                .map_or(limit, |p| p + 1)
        };
        let piece = rest.get(..len)?;
        let start = at;
        at += len.max(1);
        Some((start, piece))
    })
}

/// Append the words of `text` to `out`.
pub fn words_into(text: &str, out: &mut Vec<Word>) {
    let b = text.as_bytes();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c >= 0x80;

    let mut i = 0;
    while i < b.len() {
        if !b.get(i).is_some_and(|&c| is_word(c)) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() {
            match b.get(i) {
                Some(&c) if is_word(c) => i += 1,
                // `O'Brien`, `Smith-Jones`; digits around a dash stay apart (`90210-1234`).
                Some(b'\'' | b'-')
                    if b.get(i + 1).is_some_and(|&c| is_word(c) && !c.is_ascii_digit())
                        && b.get(i.wrapping_sub(1)).is_some_and(|c| !c.is_ascii_digit())
                        && i > start =>
                {
                    i += 1
                }
                _ => break,
            }
        }
        out.push(Word { start, end: i });
    }
}

/// Whether `word` (any case) is a line of the sorted upper-case `list`.
fn listed(list: &str, word: &str) -> bool {
    let mut key = [0u8; MAX_WORD];
    let w = word.as_bytes();
    if w.len() > MAX_WORD || w.len() < 2 {
        return false;
    }
    for (k, c) in key.iter_mut().zip(w) {
        *k = c.to_ascii_uppercase();
    }
    let key = key.get(..w.len()).unwrap_or(&[]);
    let hay = list.as_bytes();
    // Binary search over byte offsets, each probe moved back to the start of its line.
    let (mut lo, mut hi) = (0usize, hay.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let line_start = hay.get(..mid).and_then(|h| h.iter().rposition(|&c| c == b'\n')).map_or(0, |p| p + 1);
        let line_start = line_start.max(lo);
        let line_end = hay
            .get(line_start..)
            .and_then(|h| h.iter().position(|&c| c == b'\n'))
            .map_or(hay.len(), |p| line_start + p);
        let line = hay.get(line_start..line_end).unwrap_or(&[]);
        match line.cmp(key) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = line_end + 1,
            std::cmp::Ordering::Greater => hi = line_start,
        }
    }
    false
}

pub fn is_given_name(word: &str) -> bool {
    listed(GIVEN, word)
}

pub fn is_surname(word: &str) -> bool {
    listed(SURNAMES, word)
}

/// Capitalised function words and sentence openers that the lists also hold or that follow
/// cues without being names (`Dear Sir`, `Hi Team`, `Patient: None`).
const NOT_NAMES: &[&str] = &[
    "The",
    "A",
    "An",
    "I",
    "It",
    "This",
    "That",
    "We",
    "You",
    "He",
    "She",
    "They",
    "My",
    "Our",
    "Your",
    "His",
    "Her",
    "Their",
    "Sir",
    "Madam",
    "All",
    "Team",
    "Everyone",
    "There",
    "Here",
    "None",
    "Null",
    "Unknown",
    "Name",
    "Patient",
    "Customer",
    "Client",
    "User",
    "Admin",
    "Doctor",
    "Please",
    "Thanks",
    "Thank",
    "Hello",
    "Hi",
    "Dear",
    "New",
    "Old",
    "Great",
    "Royal",
    "Saint",
    "St",
    "Regards",
    "Best",
    "Yes",
    "No",
    "Not",
    "And",
    "Or",
    "But",
    "If",
    "When",
    "What",
    "Who",
    "How",
    "Why",
    "Where",
    "Is",
    "Are",
    "Was",
    "Will",
    "Can",
    "May",
    "June",
    "April",
    "August",
    "January",
    "Monday",
    "Friday",
    "Sunday",
    "Christian",
    "Bill",
    "Mark",
    "Page",
    "Rich",
    "Long",
    "Young",
    "Grant",
    "Art",
    "Guy",
    "Major",
    "Chance",
    "Love",
    "Hope",
    "Joy",
    "Faith",
    "Summer",
    "Winter",
    "Ray",
    "Lane",
    "Street",
    "Avenue",
    "Road",
    "Park",
    "Hall",
    "Center",
    "House",
    "Field",
    "Street",
    "Post",
    "Price",
    "Case",
    "Bank",
    "Mount",
    "Lake",
    "Island",
    "Beach",
];

/// The capitalised shape of a name word: an upper-case ASCII letter, then lower-case letters
/// (or other scripts' bytes), `'`, `-`, or an inner capital (`McDonald`, `O'Brien`).
fn capitalised(w: &str) -> bool {
    let b = w.as_bytes();
    let Some((&first, rest)) = b.split_first() else { return false };
    first.is_ascii_uppercase()
        && !rest.is_empty()
        && rest.len() < MAX_WORD
        && rest.iter().all(|&c| c.is_ascii_alphabetic() || c >= 0x80 || c == b'\'' || c == b'-')
        && rest.iter().filter(|c| c.is_ascii_uppercase()).count() <= 1
        && rest.first().is_some_and(|&c| !c.is_ascii_uppercase() || b.len() <= 3 && c != b'\'')
        && !rest.last().is_some_and(u8::is_ascii_uppercase)
}

fn not_name(w: &str) -> bool {
    NOT_NAMES.contains(&w)
}

/// How strongly the words before a position announce a name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cue {
    Strong,
    Weak,
}

/// Honorifics (any case, optional `.` after).
const HONORIFICS: &[&str] =
    &["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sr", "sra", "herr", "frau", "mme", "mlle", "m"];
/// Labels (before `:` or `=`) that only a person's name follows: a strong cue.
const PERSON_LABELS: &[&str] = &[
    "patient",
    "fullname",
    "full_name",
    "first_name",
    "last_name",
    "firstname",
    "lastname",
    "surname",
    "given_name",
    "family_name",
    "patient_name",
    "customer_name",
    "contact_name",
    "physician",
    "insured",
    "guarantor",
    "beneficiary",
    "cardholder",
    "emergency_contact",
    "next_of_kin",
    "attn",
];
/// Labels that name people but also projects, jobs and products (`name: Typing` in a CI file):
/// a weak cue, so the first word must be a listed name.
const OTHER_LABELS: &[&str] = &[
    "name",
    "attention",
    "author",
    "employee",
    "customer",
    "client",
    "applicant",
    "member",
    "recipient",
    "sender",
    "signed",
    "signature",
    "provider",
    "nurse",
    "doctor",
    "witness",
    "owner",
    "passenger",
    "guest",
    "tenant",
    "landlord",
];
/// Greetings and sign-offs: a weak cue.
const GREETINGS: &[&str] = &["dear", "hi", "hello", "hey", "regards", "thanks", "sincerely", "cheers", "best", "cc"];

/// The cue that the words `ws[..at]` end with, if any: the text between the last such word and
/// the candidate holds only the cue's punctuation.
fn cue_before(text: &str, ws: &[Word], at: usize) -> Option<Cue> {
    let cand = ws.get(at)?;
    let prev = ws.get(at.checked_sub(1)?)?;
    let word = text.get(prev.start..prev.end)?;
    let gap = text.get(prev.end..cand.start)?;
    let lower_is = |list: &[&str]| list.iter().any(|l| l.eq_ignore_ascii_case(word));
    if lower_is(HONORIFICS) && matches!(gap, " " | ". " | ".") && (word.len() > 1 || gap == ". ") {
        return Some(Cue::Strong);
    }
    let labelled = {
        let g = gap.trim_matches(|c: char| c == ' ' || c == '"' || c == '\'' || c == '*');
        matches!(g, ":" | "=" | ":\t")
    };
    if labelled && lower_is(PERSON_LABELS) {
        return Some(Cue::Strong);
    }
    if labelled && lower_is(OTHER_LABELS) {
        return Some(Cue::Weak);
    }
    // "my name is", "I am" / "I'm" (weak), "this is" (weak), "named", "called" (weak).
    if gap == " " && word.eq_ignore_ascii_case("is") {
        let w2 = ws.get(at.checked_sub(2)?).and_then(|w| text.get(w.start..w.end)).unwrap_or("");
        if w2.eq_ignore_ascii_case("name") {
            return Some(Cue::Strong);
        }
        if w2.eq_ignore_ascii_case("this") {
            return Some(Cue::Weak);
        }
    }
    if gap == " " && ["named", "called", "am", "i'm", "im"].iter().any(|l| l.eq_ignore_ascii_case(word)) {
        return Some(Cue::Weak);
    }
    let greeting_gap = matches!(gap, " " | ",\n" | ", \n" | ",\n\n" | ",\r\n" | "\n" | " - " | ", " | ",");
    if greeting_gap && lower_is(GREETINGS) {
        return Some(Cue::Weak);
    }
    None
}

/// Append the names in `text` (with its `words`) to `out`.
pub fn find(text: &str, ws: &[Word], out: &mut Vec<Proposal>) {
    let word = |i: usize| ws.get(i).and_then(|w| text.get(w.start..w.end)).unwrap_or("");
    let mut i = 0;
    while i < ws.len() {
        let w = word(i);
        if !capitalised(w) {
            i += 1;
            continue;
        }
        let cue = cue_before(text, ws, i);
        let first_listed = || is_given_name(w) || is_surname(w);
        let accepted = match cue {
            Some(Cue::Strong) => !not_name(w),
            Some(Cue::Weak) => !not_name(w) && first_listed(),
            None => false,
        };
        if accepted {
            // Up to MAX_NAME_WORDS capitalised words joined by one space (or an initial's `. `).
            let mut last = i;
            while last + 1 < ws.len() && last + 1 - i < MAX_NAME_WORDS {
                let (Some(a), Some(b)) = (ws.get(last), ws.get(last + 1)) else { break };
                let gap = text.get(a.end..b.start).unwrap_or("");
                let next = word(last + 1);
                let initial = next.len() == 1 && next.as_bytes().first().is_some_and(u8::is_ascii_uppercase);
                if !matches!(gap, " " | ". ") || !(capitalised(next) || initial) || not_name(next) {
                    break;
                }
                // A following word must itself be listed after a weak cue.
                if cue == Some(Cue::Weak) && !initial && !(is_surname(next) || is_given_name(next)) {
                    break;
                }
                last += 1;
            }
            // A trailing initial is not part of the name (`Dr. Smith A` is rare; `Mr. X.` ends).
            while last > i && word(last).len() == 1 {
                last -= 1;
            }
            if let (Some(a), Some(b)) = (ws.get(i), ws.get(last)) {
                let score = if cue == Some(Cue::Strong) { CUED } else { PAIRED + 0.1 };
                out.push((a.start, b.end, BuiltinKind::Person, score));
            }
            i = last + 1;
            continue;
        }
        // No cue: a listed given name, an optional middle name or initial, a listed surname;
        // not after an article (`the Jensen novel`, `The Princess Royal`: titles and things).
        let after_article = i > 0 && matches!(word(i - 1), "the" | "The" | "a" | "an" | "A" | "An");
        if !after_article && !not_name(w) && is_given_name(w) {
            let mut j = i + 1;
            let gap_ok = |a: usize, b: usize| {
                let (Some(x), Some(y)) = (ws.get(a), ws.get(b)) else { return false };
                matches!(text.get(x.end..y.start), Some(" " | ". "))
            };
            let next = word(j);
            let initial = next.len() == 1 && next.as_bytes().first().is_some_and(u8::is_ascii_uppercase);
            if gap_ok(i, j) && (initial || (capitalised(next) && is_given_name(next) && !not_name(next))) {
                let after = word(j + 1);
                if gap_ok(j, j + 1) && capitalised(after) && is_surname(after) && !not_name(after) {
                    j += 1;
                }
            }
            let last_word = word(j);
            // Glued to an address or handle (`jo_smith`, `Joaquin Suarez 2906`: a street and number).
            let glued_after = ws.get(j).is_some_and(|x| {
                let rest = text.as_bytes().get(x.end..).unwrap_or(&[]);
                matches!(rest, [b'@' | b'_', ..]) || matches!(rest, [b' ', d, ..] if d.is_ascii_digit())
            });
            if j > i
                && gap_ok(i.max(j - 1), j)
                && capitalised(last_word)
                && is_surname(last_word)
                && !not_name(last_word)
                && !glued_after
            {
                if let (Some(a), Some(b)) = (ws.get(i), ws.get(j)) {
                    out.push((a.start, b.end, BuiltinKind::Person, PAIRED));
                }
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn names(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        find(text, &words(text), &mut out);
        out.iter().map(|p| &text[p.0..p.1]).collect()
    }

    #[test]
    fn the_lists_are_sorted_and_searchable() {
        for list in [GIVEN, SURNAMES] {
            let lines: Vec<&str> = list.lines().collect();
            assert!(lines.windows(2).all(|w| w[0] < w[1]));
            for l in &lines {
                assert!(listed(list, l), "{l}");
                assert!(listed(list, &l.to_ascii_lowercase()), "{l}");
            }
        }
        assert!(is_given_name("Mary") && is_surname("Smith"));
        assert!(!is_given_name("Kubernetes") && !is_surname("Kubernetes"));
    }

    #[test]
    fn pieces_cover_the_text_in_order_within_the_limit() {
        for text in ["", "short", &"é word\n".repeat(2000), &"x".repeat(3 * PIECE + 7), &"ab ".repeat(5000)] {
            let mut joined = String::new();
            for (offset, piece) in pieces(text) {
                assert_eq!(offset, joined.len());
                assert!(!piece.is_empty() && piece.len() <= PIECE);
                joined.push_str(piece);
            }
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn cues_and_pairs() {
        assert_eq!(names("Patient: John Smith, DOB"), ["John Smith"]);
        assert_eq!(names("Dear Dr. Okonkwo-Adeyemi, thanks"), ["Okonkwo-Adeyemi"]);
        assert_eq!(names("my name is Zyxa Qorvath and"), ["Zyxa Qorvath"]);
        assert_eq!(names("I met Grace Hopper yesterday"), ["Grace Hopper"]);
        assert_eq!(names("Best regards,\nLinda"), ["Linda"]);
        assert_eq!(names(r#"{"full_name": "Ada Lovelace"}"#), ["Ada Lovelace"]);
    }

    #[test]
    fn capitalised_words_alone_are_not_names() {
        for t in [
            "The Quick Brown Fox",
            "Dear Sir or Madam",
            "Hi Team, the Docker Compose file",
            "Use React Router with Next",
            "Kubernetes Pod Security Standards",
            "New York City Hall",
        ] {
            assert!(names(t).is_empty(), "{t}: {:?}", names(t));
        }
    }
}
