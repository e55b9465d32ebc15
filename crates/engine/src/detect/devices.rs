//! Licence plates and device serial numbers: context only.
//!
//! Neither has a check digit or a shape of its own (a plate is a few letters and digits in each
//! state's grouping, a serial whatever the maker prints), so a value is one only right after its
//! cue: `licence plate`, `Kennzeichen`, `immatriculation`, `registration` for a plate; `serial
//! number`, `S/N`, `SN` for a serial, with nothing between but separators (`:`, `#`, `-`) and
//! perhaps `is`. A plate is read across its groups (`AB12 CDE`, `B-MW 1234`): four to eight
//! upper-case letters and digits, at least one of each, in at most three groups. A serial is
//! one token of five to twenty-four letters and digits with a digit; all digits only from seven.

use super::ids::{Proposal, Token, CONFIRMED};
use crate::entity::BuiltinKind as K;

/// The kinds of this family.
pub const KINDS: &[K] = &[K::LicensePlate, K::DeviceSerial];

/// Score of a context-only value right after its cue.
const CUED: f32 = CONFIRMED - 0.08;
/// How far back the cue may start (bytes).
const CUE_WINDOW: usize = 40;
/// Bytes allowed between a cue and its value.
const GAP: &[u8] = b" \t:#-.=";

const PLATE_CUES: &[&str] = &[
    "licence plate",
    "license plate",
    "licence plate number",
    "license plate number",
    "licence plate no",
    "license plate no",
    "plate",
    "plate number",
    "plate no",
    "number plate",
    "registration",
    "registration number",
    "registration no",
    "vehicle registration",
    "reg no",
    "car reg",
    "kennzeichen",
    "kfz kennzeichen",
    "immatriculation",
    "plaque d immatriculation",
    "kenteken",
    "targa",
    "matrícula",
    "matricula",
    "rejestracja",
];
const SERIAL_CUES: &[&str] = &[
    "serial",
    "serial number",
    "serial no",
    "serial nr",
    "serial num",
    "s n",
    "sn",
    "seriennummer",
    "numéro de série",
    "numero de serie",
    "número de serie",
    "numero di serie",
    "serienummer",
];
/// The first words of the cues, to settle most tokens with the folded words shared by the
/// families before the exact reading.
const FIRST_WORDS: &[&str] = &[
    "licence",
    "license",
    "plate",
    "number",
    "registration",
    "vehicle",
    "reg",
    "car",
    "kennzeichen",
    "kfz",
    "immatriculation",
    "plaque",
    "kenteken",
    "targa",
    "matrícula",
    "matricula",
    "rejestracja",
    "serial",
    "s",
    "sn",
    "seriennummer",
    "numéro",
    "numero",
    "número",
    "serienummer",
];

/// Propose a plate or a serial for the token.
pub fn classify(t: &Token<'_>) -> Option<Proposal> {
    // Shapes first (a few comparisons), so that most numbers never read the words before them.
    if !serial_shaped(t) && !plate_shaped(t) {
        return None;
    }
    t.words_within(FIRST_WORDS, CUE_WINDOW)?;
    serial(t).or_else(|| plate(t))
}

fn serial_shaped(t: &Token<'_>) -> bool {
    let n = t.digits + t.letters;
    let shaped = if t.letters > 0 { (5..=24).contains(&n) } else { (7..=20).contains(&n) };
    shaped && !t.value.contains([' ', '.', '/'])
}

/// Upper-case letters, digits and dashes, with a letter in the token or a group next to it.
fn plate_shaped(t: &Token<'_>) -> bool {
    let text = t.text.as_bytes();
    let upper = |i: Option<usize>| i.and_then(|i| text.get(i)).is_some_and(u8::is_ascii_uppercase);
    let apart = |i: Option<usize>| i.and_then(|i| text.get(i)).is_some_and(|c| matches!(c, b' ' | b'-'));
    let letter_near = t.letters > 0
        || (apart(t.start.checked_sub(1)) && upper(t.start.checked_sub(2)))
        || (apart(Some(t.end)) && upper(Some(t.end + 1)));
    letter_near && t.digits + t.letters <= 8 && t.bytes().iter().all(|&c| plate_byte(c) || c == b'-')
}

fn serial(t: &Token<'_>) -> Option<Proposal> {
    if !serial_shaped(t) || !cue_right_before(t.text, t.start, SERIAL_CUES) {
        return None;
    }
    Some((t.start, t.end, K::DeviceSerial, CUED))
}

/// Upper-case letters and digits.
fn plate_byte(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn plate(t: &Token<'_>) -> Option<Proposal> {
    let text = t.text.as_bytes();
    if !t.bytes().iter().all(|&c| plate_byte(c) || c == b'-') {
        return None;
    }
    let mut alnum = t.digits + t.letters;
    let mut groups = t.bytes().split(|&c| c == b'-').count();
    let word_edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c >= 0x80);
    // Earlier groups: ` ` or `-`, then upper-case letters and digits standing alone.
    let mut start = t.start;
    while start >= 2 && text.get(start - 1).is_some_and(|c| matches!(c, b' ' | b'-')) {
        let end = start - 1;
        let len = text.get(..end)?.iter().rev().take_while(|&&c| plate_byte(c)).count();
        let from = end - len;
        if len == 0 || word_edge(from.checked_sub(1).and_then(|i| text.get(i))) || alnum + len > 8 || groups == 3 {
            break;
        }
        alnum += len;
        groups += 1;
        start = from;
    }
    // Later groups.
    let mut end = t.end;
    while text.get(end).is_some_and(|c| matches!(c, b' ' | b'-')) {
        let len = text.get(end + 1..)?.iter().take_while(|&&c| plate_byte(c)).count();
        let to = end + 1 + len;
        if len == 0 || word_edge(text.get(to)) || alnum + len > 8 || groups == 3 {
            break;
        }
        alnum += len;
        groups += 1;
        end = to;
    }
    let value = text.get(start..end)?;
    let letters = value.iter().any(u8::is_ascii_uppercase);
    if !(4..=8).contains(&alnum) || !letters || !cue_right_before(t.text, start, PLATE_CUES) {
        return None;
    }
    Some((start, end, K::LicensePlate, CUED))
}

/// Whether one of `cues` ends right before `start`: then only `GAP` bytes, perhaps with `is`
/// between. Words are compared ASCII case folded, any run of other bytes than letters and
/// digits separating them (`S/N` reads `s n`).
fn cue_right_before(text: &str, start: usize, cues: &[&str]) -> bool {
    let from = start.saturating_sub(CUE_WINDOW);
    let Some(window) = text.as_bytes().get(from..start) else { return false };
    let word_byte = |c: &u8| c.is_ascii_alphanumeric() || *c >= 0x80;
    let gap = window.iter().rev().take_while(|c| !word_byte(c)).count();
    if gap == 0 || !window.iter().rev().take(gap).all(|c| GAP.contains(c)) {
        return false;
    }
    let mut words: Vec<&[u8]> = window.split(|c| !word_byte(c)).filter(|w| !w.is_empty()).collect();
    // The first word may be cut by the window: it is not read.
    if from > 0 && window.first().is_some_and(word_byte) && !words.is_empty() {
        words.remove(0);
    }
    if words.last().is_some_and(|w| w.eq_ignore_ascii_case(b"is")) {
        words.pop();
    }
    cues.iter().any(|cue| {
        let parts: Vec<&str> = cue.split(' ').collect();
        parts.len() <= words.len()
            && words
                .iter()
                .rev()
                .zip(parts.iter().rev())
                .all(|(w, p)| w.eq_ignore_ascii_case(p.as_bytes()) || lower_eq(w, p))
    })
}

/// Case-insensitive equality that also folds the non-ASCII letters of the cues (`Numéro`).
fn lower_eq(w: &[u8], p: &str) -> bool {
    std::str::from_utf8(w).is_ok_and(|w| w.to_lowercase() == p)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn cues_must_stand_right_before() {
        let t = "S/N: ABC12345";
        assert!(cue_right_before(t, 5, SERIAL_CUES));
        let t = "serial port at ABC12345";
        assert!(!cue_right_before(t, 15, SERIAL_CUES));
        let t = "license plate is AB12";
        assert!(cue_right_before(t, 17, PLATE_CUES));
    }
}
