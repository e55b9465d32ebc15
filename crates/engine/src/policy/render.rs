//! The irreversible strategies that need no key: `mask`, `partial`, `redact` and `generalize`.
//! Each is a function of the value and its kind alone.

use super::RedactStyle;
use crate::entity::{BuiltinKind, EntityKind};

/// What replaces a masked character.
const MASK_CHAR: char = '*';

/// Every letter and digit replaced, separators and length (in characters) kept.
pub fn mask(value: &str) -> String {
    value.chars().map(|c| if c.is_alphanumeric() { MASK_CHAR } else { c }).collect()
}

/// Masks every letter and digit except those `keep(i, n)` says to keep, where `i` counts the
/// letters and digits of `value` from zero and `n` is how many there are.
fn mask_except(value: &str, keep: impl Fn(usize, usize) -> bool) -> String {
    let n = value.chars().filter(|c| c.is_alphanumeric()).count();
    let mut i = 0;
    value
        .chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            let kept = keep(i, n);
            i += 1;
            if kept {
                c
            } else {
                MASK_CHAR
            }
        })
        .collect()
}

/// Fewest letters and digits a value needs before `partial` shows its last four: a shorter one
/// would be mostly shown.
const MIN_CHARS_FOR_LAST_FOUR: usize = 8;

/// What the type's rule keeps visible, the rest masked like [`mask`]:
/// - a card number its first six and last four digits (the most PCI DSS 3.4.1 allows to show);
/// - an e-mail address its domain;
/// - an IBAN its country code and last four;
/// - a name the first letter of each word;
/// - any other value its last four letters or digits, when it has at least eight (a phone
///   number, an account or national number, a key); a shorter one is masked whole.
pub fn partial(kind: EntityKind, value: &str) -> String {
    match kind {
        EntityKind::Builtin(BuiltinKind::CreditCard) => mask_except(value, |i, n| i < 6 || i + 4 >= n),
        EntityKind::Builtin(BuiltinKind::Email) => match value.rfind('@') {
            Some(at) => format!("{}{}", mask(&value[..at]), &value[at..]),
            None => mask(value),
        },
        EntityKind::Builtin(BuiltinKind::Iban) => mask_except(value, |i, n| i < 2 || i + 4 >= n),
        EntityKind::Builtin(BuiltinKind::Person) => {
            let mut first = true;
            value
                .chars()
                .map(|c| {
                    let shown = first && c.is_alphanumeric();
                    first = !c.is_alphanumeric();
                    if shown || !c.is_alphanumeric() {
                        c
                    } else {
                        MASK_CHAR
                    }
                })
                .collect()
        }
        _ => mask_except(value, |i, n| n >= MIN_CHARS_FOR_LAST_FOUR && i + 4 >= n),
    }
}

/// `[REDACTED]` or `[LABEL]`.
pub fn redact(label: &str, style: RedactStyle) -> String {
    match style {
        RedactStyle::Redacted => "[REDACTED]".to_owned(),
        RedactStyle::Label => format!("[{label}]"),
    }
}

/// Three-digit ZIP prefixes whose area held 20,000 people or fewer at the 2000 census: Safe
/// Harbor requires them to be written `000` (45 CFR 164.514(b)(2)(i)(B); the list is the one
/// HHS publishes in its de-identification guidance).
pub const RESTRICTED_ZIP3: [&str; 17] = [
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884", "890",
    "893",
];

/// Oldest age Safe Harbor lets through; older ones are aggregated (164.514(b)(2)(i)(C)).
const MAX_AGE_SHOWN: u32 = 89;

/// Safe Harbor's reductions: a date to its year (`1961`), a US ZIP code to its first three
/// digits (`021**`, or `000**` for a restricted prefix), an age over 89 to `90 or older` (a
/// lower age as written). Anything else, or a value the rule cannot read (a date without a
/// four-digit year, a non-US postcode), is redacted.
pub fn generalize(kind: EntityKind, label: &str, value: &str, style: RedactStyle) -> String {
    let reduced = match kind {
        EntityKind::Builtin(BuiltinKind::DateOfBirth | BuiltinKind::PersonalDate) => year_of(value),
        EntityKind::Builtin(BuiltinKind::Age) => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            match digits.parse::<u32>() {
                Ok(age) if age > MAX_AGE_SHOWN => Some("90 or older".to_owned()),
                Ok(_) => Some(value.to_owned()),
                Err(_) => None,
            }
        }
        EntityKind::Builtin(BuiltinKind::Postcode) => zip3(value),
        _ => None,
    };
    reduced.unwrap_or_else(|| redact(label, style))
}

/// The first four-digit run of a date that reads as a year (1000 to 2999).
fn year_of(value: &str) -> Option<String> {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let run = &value[start..i];
        if run.len() == 4 && (run.starts_with('1') || run.starts_with('2')) {
            return Some(run.to_owned());
        }
    }
    None
}

/// A US ZIP code (`02139` or `02139-4307`) reduced to three digits.
fn zip3(value: &str) -> Option<String> {
    let v = value.trim();
    let five = v.get(..5).filter(|z| z.bytes().all(|c| c.is_ascii_digit()))?;
    let rest = &v[5..];
    let plus4 =
        rest.is_empty() || (rest.len() == 5 && rest.starts_with('-') && rest[1..].bytes().all(|c| c.is_ascii_digit()));
    if !plus4 {
        return None;
    }
    let prefix = &five[..3];
    Some(if RESTRICTED_ZIP3.contains(&prefix) { "000**".to_owned() } else { format!("{prefix}**") })
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn b(k: BuiltinKind) -> EntityKind {
        EntityKind::Builtin(k)
    }

    #[test]
    fn mask_keeps_length_and_separators() {
        assert_eq!(mask("4111 1111-1111 1111"), "**** ****-**** ****");
        assert_eq!(mask("ann.lee@mail.example"), "***.***@****.*******");
    }

    #[test]
    fn partial_keeps_what_each_rule_says() {
        assert_eq!(partial(b(BuiltinKind::CreditCard), "4111 1111 1111 1234"), "4111 11** **** 1234");
        assert_eq!(partial(b(BuiltinKind::Email), "ann.lee@mail.example"), "***.***@mail.example");
        assert_eq!(partial(b(BuiltinKind::Iban), "DE89 3704 0044 0532 0130 00"), "DE** **** **** **** **30 00");
        assert_eq!(partial(b(BuiltinKind::Phone), "+1 415-555-0134"), "+* ***-***-0134");
        assert_eq!(partial(b(BuiltinKind::Person), "Ann Lee"), "A** L**");
        assert_eq!(partial(b(BuiltinKind::UkNino), "AB12"), "****");
    }

    #[test]
    fn redact_styles() {
        assert_eq!(redact("EMAIL", RedactStyle::Redacted), "[REDACTED]");
        assert_eq!(redact("EMAIL", RedactStyle::Label), "[EMAIL]");
    }

    #[test]
    fn safe_harbor_reductions() {
        let s = RedactStyle::Redacted;
        assert_eq!(generalize(b(BuiltinKind::DateOfBirth), "DATE_OF_BIRTH", "03/14/1961", s), "1961");
        assert_eq!(generalize(b(BuiltinKind::PersonalDate), "PERSONAL_DATE", "14 March 2023", s), "2023");
        assert_eq!(generalize(b(BuiltinKind::DateOfBirth), "DATE_OF_BIRTH", "03/14/61", s), "[REDACTED]");
        assert_eq!(generalize(b(BuiltinKind::Age), "AGE", "93", s), "90 or older");
        assert_eq!(generalize(b(BuiltinKind::Age), "AGE", "89", s), "89");
        assert_eq!(generalize(b(BuiltinKind::Postcode), "POSTCODE", "02139-4307", s), "021**");
        assert_eq!(generalize(b(BuiltinKind::Postcode), "POSTCODE", "03601", s), "000**");
        assert_eq!(generalize(b(BuiltinKind::Postcode), "POSTCODE", "SW1A 1AA", s), "[REDACTED]");
        assert_eq!(generalize(b(BuiltinKind::Email), "EMAIL", "a@b.example", RedactStyle::Label), "[EMAIL]");
    }
}
