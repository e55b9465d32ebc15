//! Health identifiers and the personal dates of a record: US NPI and DEA numbers, Medicare
//! beneficiary identifiers, medical record and health plan numbers, dates of birth, admission,
//! discharge and death, ages over 89 (HIPAA's safe-harbour list).
//!
//! NPI and DEA numbers have check digits; the MBI has a format no other number shares. Record
//! and plan numbers are whatever a hospital or insurer issues, so only the words before them
//! say what they are. A date is personal only when its words say so (`DOB:`, `admitted on`):
//! dates in ordinary prose, release notes and logs are never masked.

use super::ids::{Folded, Proposal, Token, CONFIRMED, FORMATTED, SHAPED};
use super::validate::luhn_ok;
use crate::entity::BuiltinKind as K;

/// The kinds of this family.
pub const KINDS: &[K] =
    &[K::UsNpi, K::UsDea, K::UsMbi, K::MedicalRecord, K::HealthPlanId, K::DateOfBirth, K::PersonalDate, K::Age];

const NPI_WORDS: &[&str] = &["npi", "national provider", "provider id", "provider number", "prescriber"];
const DEA_WORDS: &[&str] = &["dea", "dea number", "dea no", "registration number"];
const MBI_WORDS: &[&str] = &["mbi", "medicare", "beneficiary identifier", "medicare number"];
const MRN_WORDS: &[&str] = &[
    "mrn",
    "medical record",
    "medical record number",
    "medical record no",
    "med rec",
    "patient id",
    "patient number",
    "patient no",
    "chart number",
    "chart no",
    "hospital number",
    "case number",
    "encounter",
];
const PLAN_WORDS: &[&str] = &[
    "member id",
    "member number",
    "member no",
    "health plan",
    "beneficiary",
    "beneficiary number",
    "subscriber id",
    "subscriber number",
    "insurance id",
    "policy number",
    "policy no",
    "group number",
    "medicaid",
];
const BIRTH_WORDS: &[&str] = &[
    "dob",
    "d o b",
    "date of birth",
    "birth date",
    "birthdate",
    "birthday",
    "born",
    "born on",
    "geburtsdatum",
    "né",
    "née",
    "fecha de nacimiento",
    "data di nascita",
    "date de naissance",
];
const CARE_DATE_WORDS: &[&str] = &[
    "admitted",
    "admission",
    "admission date",
    "date of admission",
    "discharged",
    "discharge",
    "discharge date",
    "date of discharge",
    "date of death",
    "dod",
    "died",
    "deceased",
    "death",
    "expired",
    "date of service",
    "dos",
];
const AGE_WORDS: &[&str] = &["age", "aged", "ages"];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
];

/// Propose at most one health identifier or personal date for the token.
pub fn classify(t: &Token<'_>) -> Option<Proposal> {
    if t.digits <= 3 {
        return age(t).or_else(|| text_date(t));
    }
    if let Some(p) = numeric_date(t) {
        return Some(p);
    }
    let b = t.bytes();
    if t.numeric() && t.digits == 10 && t.separator().is_none() && npi_ok(b) && t.after_words(NPI_WORDS) {
        return Some((t.start, t.end, K::UsNpi, CONFIRMED));
    }
    if b.len() == 9 && t.digits == 7 && dea_ok(b) {
        let score = if t.after_words(DEA_WORDS) { CONFIRMED } else { super::ids::format_score(t, SHAPED) };
        return Some((t.start, t.end, K::UsDea, score));
    }
    if let Some(p) = mbi(t) {
        return Some(p);
    }
    record_number(t)
}

/// How close (bytes) a date's words must be.
const WORDS_WINDOW: usize = 40;

/// How close (bytes) a record or plan number's words must be: `Medical record number (MRN): `.
const RECORD_WORDS_WINDOW: usize = 32;

/// A medical record number (its words just before it, or an `MRN` prefix of its own) or a
/// health plan number (its words just before it): five digits or more, or four with letters
/// (a bare four-digit number is a year as often as not), at most 20 characters.
fn record_number(t: &Token<'_>) -> Option<Proposal> {
    let enough = t.digits >= 5 || (t.digits == 4 && t.letters > 0);
    if !enough || t.value.len() > 20 || t.value.contains(' ') {
        return None;
    }
    let own_prefix = t.value.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("mrn"));
    let mrn = t.words_within(MRN_WORDS, RECORD_WORDS_WINDOW);
    let plan = t.words_within(PLAN_WORDS, RECORD_WORDS_WINDOW);
    match (mrn, plan) {
        (Some(m), Some(p)) if p > m => Some((t.start, t.end, K::HealthPlanId, CONFIRMED - 0.1)),
        (Some(_), _) => Some((t.start, t.end, K::MedicalRecord, CONFIRMED - 0.1)),
        (None, Some(_)) => Some((t.start, t.end, K::HealthPlanId, CONFIRMED - 0.1)),
        (None, None) if own_prefix && t.letters == 3 => Some((t.start, t.end, K::MedicalRecord, FORMATTED)),
        _ => None,
    }
}

/// US NPI: ten digits starting with 1 or 2; Luhn over `80840` and the ten digits (the card
/// issuer prefix of the health industry, as CMS specifies).
pub fn npi_ok(b: &[u8]) -> bool {
    if b.len() != 10 || !matches!(b.first(), Some(b'1' | b'2')) || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut d = [8, 0, 8, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (slot, &c) in d.iter_mut().skip(5).zip(b) {
        *slot = c - b'0';
    }
    luhn_ok(&d)
}

/// DEA registration number: a registrant-type letter, a letter (the registrant's last name) or
/// 9, seven digits; the last digit is the last digit of d1 + d3 + d5 + 2 x (d2 + d4 + d6).
pub fn dea_ok(b: &[u8]) -> bool {
    let [kind, second, d @ ..] = b else { return false };
    if !b"ABCDEFGHJKLMPRSTUX".contains(kind) || !(second.is_ascii_uppercase() || *second == b'9') {
        return false;
    }
    if d.len() != 7 || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let v = |i: usize| d.get(i).map_or(0, |c| u32::from(c - b'0'));
    let sum = v(0) + v(2) + v(4) + 2 * (v(1) + v(3) + v(5));
    sum % 10 == v(6)
}

/// Medicare Beneficiary Identifier (CMS format): eleven characters, `C A AN N A AN N A A N N`
/// where C is 1-9, A a letter other than S, L, O, I, B, Z, N a digit; printed with or without
/// dashes after the fourth and seventh.
fn mbi(t: &Token<'_>) -> Option<Proposal> {
    let b = t.bytes();
    let dashed = b.len() == 13 && b.get(4) == Some(&b'-') && b.get(8) == Some(&b'-');
    if !(b.len() == 11 || dashed) {
        return None;
    }
    let mut compact = [0u8; 11];
    let mut n = 0;
    for &c in b.iter().filter(|&&c| c != b'-') {
        if let Some(slot) = compact.get_mut(n) {
            *slot = c;
        }
        n += 1;
    }
    if n != 11 || !mbi_ok(&compact) {
        return None;
    }
    let score = if t.after_words(MBI_WORDS) {
        CONFIRMED
    } else if dashed {
        FORMATTED
    } else {
        super::ids::format_score(t, SHAPED)
    };
    Some((t.start, t.end, K::UsMbi, score))
}

pub fn mbi_ok(b: &[u8]) -> bool {
    // Per position: C 1-9, A a letter of the MBI alphabet, X such a letter or a digit, N a digit.
    const SHAPE: &[u8; 11] = b"CAXNAXNAANN";
    let letter = |c: u8| c.is_ascii_uppercase() && !b"SLOIBZ".contains(&c);
    b.len() == 11
        && b.iter().zip(SHAPE).all(|(&c, &s)| match s {
            b'C' => (b'1'..=b'9').contains(&c),
            b'A' => letter(c),
            b'X' => letter(c) || c.is_ascii_digit(),
            _ => c.is_ascii_digit(),
        })
}

/// Which personal date the words before a date name: birth, or admission, discharge, death.
fn date_kind(before: impl Fn(&[&str]) -> Option<usize>) -> Option<K> {
    let birth = before(BIRTH_WORDS);
    let care = before(CARE_DATE_WORDS);
    match (birth, care) {
        (Some(b), Some(c)) if c > b => Some(K::PersonalDate),
        (Some(_), _) => Some(K::DateOfBirth),
        (None, Some(_)) => Some(K::PersonalDate),
        (None, None) => None,
    }
}

/// A numeric date (`1985-03-15`, `03/15/1985`, `15.03.1985`, `3/15/85`) that is a real
/// calendar date, with birth or care words before it.
fn numeric_date(t: &Token<'_>) -> Option<Proposal> {
    if !t.numeric() || t.digits > 8 {
        return None;
    }
    let sep = t.separator()?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    let (g, n) = t.groups::<3>()?;
    if n != 3 {
        return None;
    }
    let mut parts = [0u32; 3];
    for (i, part) in t.value.split(char::from(sep)).enumerate() {
        *parts.get_mut(i)? = part.parse().ok()?;
    }
    let [a, b, c] = parts;
    let valid = match g {
        [4, 1..=2, 1..=2] => year_ok(a) && month_day_ok(b, c),
        [1..=2, 1..=2, 4] => year_ok(c) && (month_day_ok(a, b) || month_day_ok(b, a)),
        [1..=2, 1..=2, 2] => month_day_ok(a, b) || month_day_ok(b, a),
        _ => false,
    };
    if !valid {
        return None;
    }
    date_kind(|words| t.words_within(words, WORDS_WINDOW)).map(|k| (t.start, t.end, k, CONFIRMED))
}

fn year_ok(y: u32) -> bool {
    (1880..=2100).contains(&y)
}

fn month_day_ok(m: u32, d: u32) -> bool {
    (1..=12).contains(&m) && (1..=31).contains(&d)
}

/// A written date: `March 15, 1985`, `Mar. 15 1985`, `15 March 1985`, read from its day.
fn text_date(t: &Token<'_>) -> Option<Proposal> {
    if !t.numeric() || t.digits > 2 || t.value.len() > 2 {
        return None;
    }
    let day: u32 = t.value.parse().ok()?;
    if !(1..=31).contains(&day) {
        return None;
    }
    let text = t.text;
    // Month before the day: `March 15, 1985`.
    let before = text.get(..t.start)?;
    let trimmed = before.strip_suffix(' ')?;
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    let word_start = trimmed.rfind(|c: char| !c.is_ascii_alphabetic()).map_or(0, |i| i + 1);
    let word = trimmed.get(word_start..)?;
    if is_month(word) {
        let year_end = year_after(text, t.end, true)?;
        let before = Folded::before(text, word_start);
        let kind = date_kind(|words| before.nearest(words, WORDS_WINDOW))?;
        return Some((word_start, year_end, kind, CONFIRMED));
    }
    // Month after the day: `15 March 1985`.
    let after = text.get(t.end..)?.strip_prefix(' ')?;
    let len = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
    if !is_month(after.get(..len)?) {
        return None;
    }
    let mut month_end = t.end + 1 + len;
    if text.as_bytes().get(month_end) == Some(&b'.') {
        month_end += 1;
    }
    let year_end = year_after(text, month_end, false)?;
    let kind = date_kind(|words| t.words_within(words, WORDS_WINDOW))?;
    Some((t.start, year_end, kind, CONFIRMED))
}

fn is_month(w: &str) -> bool {
    w.len() >= 3 && MONTHS.iter().any(|m| m.eq_ignore_ascii_case(w))
}

/// The end of a four-digit year right after `at` (`, 1985` when `comma`, or ` 1985`).
fn year_after(text: &str, at: usize, comma: bool) -> Option<usize> {
    let rest = text.get(at..)?;
    let rest2 = if comma { rest.strip_prefix(',').unwrap_or(rest) } else { rest };
    let skipped = rest.len() - rest2.len();
    let digits = rest2.strip_prefix(' ')?;
    let year = digits.get(..4)?;
    let after = digits.as_bytes().get(4);
    (year.bytes().all(|b| b.is_ascii_digit())
        && year.parse::<u32>().is_ok_and(year_ok)
        && !after.is_some_and(u8::is_ascii_alphanumeric))
    .then_some(at + skipped + 1 + 4)
}

/// An age over 89 (HIPAA groups all such ages as 90 or older): `age 92`, `aged: 93`, `age of
/// 94`, `94 years old`, `95-year-old`, `96yo`, `97 y/o`. The age word must be right before the
/// number (a table's `(age 27) | 96` is not an age of 96).
fn age(t: &Token<'_>) -> Option<Proposal> {
    let digits_len = t.value.bytes().take_while(u8::is_ascii_digit).count();
    let n: u32 = t.value.get(..digits_len)?.parse().ok()?;
    if !(90..=130).contains(&n) {
        return None;
    }
    let rest = t.value.get(digits_len..)?.to_ascii_lowercase();
    let after = t.text.get(t.end..).unwrap_or("");
    let after: String = after.chars().take(12).collect::<String>().to_ascii_lowercase();
    let glued_suffix = matches!(rest.as_str(), "-year-old" | "-years-old" | "yo" | "-yr-old" | "yrs" | "y");
    let spoken = rest.is_empty()
        && (after.starts_with(" years old")
            || after.starts_with(" year old")
            || after.starts_with(" years of age")
            || after.starts_with(" y/o")
            || after.starts_with(" yo "));
    let with_word = rest.is_empty() && age_word_right_before(t.text, t.start);
    (glued_suffix || spoken || with_word).then_some((t.start, t.start + digits_len, K::Age, CONFIRMED - 0.1))
}

/// `age`, `aged`, `ages` or `age of` ending right before `start` (spaces and a colon between).
fn age_word_right_before(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or("");
    let trimmed = before.trim_end_matches([' ', ':', '\u{a0}']);
    if trimmed.len() == before.len() {
        return false;
    }
    let trimmed = trimmed.strip_suffix(" of").unwrap_or(trimmed);
    let word_start = trimmed.rfind(|c: char| !c.is_ascii_alphabetic()).map_or(0, |i| i + 1);
    let word = trimmed.get(word_start..).unwrap_or("");
    AGE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn npi_dea_mbi_checks() {
        // CMS's NPI check-digit example.
        assert!(npi_ok(b"1234567893"));
        assert!(!npi_ok(b"1234567890"));
        // Constructed: 1+3+5 + 2*(2+4+6) = 33, check digit 3.
        assert!(dea_ok(b"AB1234563"));
        assert!(!dea_ok(b"AB1234564"));
        assert!(!dea_ok(b"IB1234563"));
        // CMS's MBI format example.
        assert!(mbi_ok(b"1EG4TE5MK73"));
        assert!(!mbi_ok(b"1EG4TE5MK7A"));
        assert!(!mbi_ok(b"1SG4TE5MK73"));
    }
}
