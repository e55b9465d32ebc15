//! The prose check: whether a text reads as sentences rather than as SQL.

use super::lexer::*;

/// Whether the text reads as sentences: most whitespace-separated chunks are ordinary words
/// (letters, perhaps with trailing punctuation) that are not SQL keywords. Decided on chunks,
/// not tokens, because prose punctuation ("(CNN) --") would otherwise look like SQL.
pub(super) fn is_prose(view: &str) -> bool {
    let mut chunks = 0usize;
    let mut words = 0usize;
    for chunk in view.as_bytes().split(|&b| b == b' ') {
        // Trimming ASCII punctuation keeps the chunk a whole UTF-8 sequence, and takes away no
        // letter or digit, so the core has those the chunk has.
        let core = trim_bytes(chunk, b".,?!:;", b"(\"");
        let core = trim_bytes(core, b")\"", b"");
        let classes = core.iter().fold(0u8, |acc, &b| acc | PROSE_CLASS[usize::from(b)]);
        // Chunks without letters or digits (table rules `|`, dashes, brackets) say nothing either way.
        if classes & (LETTER | DIGIT | HIGH) == 0 {
            continue;
        }
        chunks += 1;
        // An apostrophe inside a word ("don't") is prose; a quote at either end is a literal.
        let quoted = core.first() == Some(&b'\'') || core.last() == Some(&b'\'');
        let letters = classes & (DIGIT | OTHER) == 0;
        // Keywords are ASCII letters only: other words need no lookup.
        if core.len() >= 2 && letters && !quoted && (classes != LETTER || keyword_bytes(core) == Kw::Ident) {
            words += 1;
        }
        if chunks == MAX_PROSE_CHUNKS {
            break;
        }
    }
    words >= 8 && words * 2 > chunks
}

/// Chunks `is_prose` reads at most.
pub(super) const MAX_PROSE_CHUNKS: usize = 400;

// Byte classes of `is_prose`, OR-ed over a chunk in one pass.
pub(super) const LETTER: u8 = 1;
pub(super) const DIGIT: u8 = 2;
pub(super) const APOSTROPHE: u8 = 4;
pub(super) const HIGH: u8 = 8;
pub(super) const OTHER: u8 = 16;
pub(super) static PROSE_CLASS: [u8; 256] = byte_table!(|c| if c.is_ascii_alphabetic() {
    LETTER
} else if c.is_ascii_digit() {
    DIGIT
} else if c == b'\'' {
    APOSTROPHE
} else if c >= 0x80 {
    HIGH
} else {
    OTHER
});

/// `chunk` without any of `end` at its end, then without any of `start` at its start.
pub(super) fn trim_bytes<'a>(chunk: &'a [u8], end: &[u8], start: &[u8]) -> &'a [u8] {
    let mut c = chunk;
    while let [rest @ .., last] = c {
        if !end.contains(last) {
            break;
        }
        c = rest;
    }
    while let [first, rest @ ..] = c {
        if !start.contains(first) {
            break;
        }
        c = rest;
    }
    c
}
