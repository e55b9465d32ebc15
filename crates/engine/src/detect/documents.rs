//! Documents and devices: passport numbers and the machine-readable zone of a passport, US
//! driver's licence numbers, vehicle identification numbers, IMEI numbers and MAC addresses.
//!
//! The MRZ (ICAO Doc 9303) and VINs (ISO 3779, North American check digit) carry check digits;
//! IMEIs a Luhn digit that passes one fifteen-digit number in ten, so they need their word or
//! their printed grouping. Passport and licence numbers are whatever each state issues (US
//! states alone have dozens of formats): a general shape of letters and digits covers them, and
//! only their words before them make them one.

use super::ids::{format_score, Proposal, Token, CONFIRMED, FORMATTED};
use super::validate::luhn_ok;
use crate::entity::BuiltinKind as K;

/// The kinds of this family.
pub const KINDS: &[K] = &[K::Passport, K::Mrz, K::UsDriverLicense, K::Vin, K::Imei, K::MacAddress];

const PASSPORT_WORDS: &[&str] = &[
    "passport",
    "passport no",
    "passport number",
    "passport #",
    "pasaporte",
    "passeport",
    "reisepass",
    "passaporto",
    "paspoort",
];
const LICENSE_WORDS: &[&str] = &[
    "driver license",
    "driver s license",
    "drivers license",
    "driver licence",
    "driver s licence",
    "driving licence",
    "driving license",
    "dl",
    "dl no",
    "license number",
    "licence number",
    "license no",
    "licence no",
    "lic no",
];
const VIN_WORDS: &[&str] = &["vin", "vehicle identification", "chassis number", "chassis no"];
const IMEI_WORDS: &[&str] = &["imei", "imei number", "imei no", "device id"];

/// Identifiers read beyond their token (`00:1A:2B:3C:4D:5E`, an MRZ line padded with `<`):
/// asked before a token glued to its neighbours is refused.
pub fn classify_extended(t: &Token<'_>) -> Option<Proposal> {
    mac_address(t).or_else(|| mac_dotted(t)).or_else(|| mrz(t))
}

/// Propose at most one document or device identifier for the token.
pub fn classify(t: &Token<'_>) -> Option<Proposal> {
    let b = t.bytes();
    if b.len() == 17 && t.letters > 0 {
        if let Some(p) = vin(t) {
            return Some(p);
        }
    }
    if t.numeric() && t.digits == 15 {
        if let Some(p) = imei(t) {
            return Some(p);
        }
    }
    let words_near = |words: &[&str]| t.words_within(words, 32).is_some();
    if document_shape(t, 6, 9) && words_near(PASSPORT_WORDS) {
        return Some((t.start, t.end, K::Passport, CONFIRMED - 0.06));
    }
    if document_shape(t, 5, 16) && words_near(LICENSE_WORDS) {
        return Some((t.start, t.end, K::UsDriverLicense, CONFIRMED - 0.06));
    }
    None
}

/// Letters and digits (dashes between), `min..=max` of them without the dashes, at least four
/// digits, no space: the common shape of passport and licence numbers.
fn document_shape(t: &Token<'_>, min: usize, max: usize) -> bool {
    let n = t.digits + t.letters;
    (min..=max).contains(&n) && t.digits >= 4 && !t.value.contains([' ', '.', '/'])
}

/// ISO 3779 VIN: seventeen characters without I, O and Q; the ninth is the check digit (North
/// America): transliterated values weighted 8, 7, 6, 5, 4, 3, 2, 10, 0, 9, ..., 2, mod 11 (10
/// written X). A VIN without a valid check digit (elsewhere it is optional) needs its word.
fn vin(t: &Token<'_>) -> Option<Proposal> {
    let b = t.bytes();
    let upper = b.iter().all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !b"IOQ".contains(c)));
    if !upper || t.digits < 4 {
        return None;
    }
    let with_words = t.after_words(VIN_WORDS);
    if vin_check_ok(b) {
        let score = if with_words { CONFIRMED } else { format_score(t, FORMATTED) };
        return Some((t.start, t.end, K::Vin, score));
    }
    with_words.then_some((t.start, t.end, K::Vin, CONFIRMED - 0.1))
}

pub fn vin_check_ok(b: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'H' => u32::from(c - b'A') + 1,
            b'J'..=b'R' => [1, 2, 3, 4, 5, 0, 7, 0, 9].get(usize::from(c - b'J')).copied()?,
            b'S'..=b'Z' => u32::from(c - b'S') + 2,
            _ => return None,
        })
    };
    if b.len() != 17 {
        return false;
    }
    let mut sum = 0;
    for (&c, w) in b.iter().zip(WEIGHTS) {
        let Some(v) = value(c) else { return false };
        sum += v * w;
    }
    let check = match sum % 11 {
        10 => b'X',
        r => b'0' + r as u8,
    };
    b.get(8) == Some(&check)
}

/// IMEI: fifteen digits with a Luhn check digit, after its word, or printed `AA-BBBBBB-CCCCCC-D`.
fn imei(t: &Token<'_>) -> Option<Proposal> {
    let mut d = [0u8; 15];
    super::ids::digit_values(t.value, &mut d);
    if !luhn_ok(&d) {
        return None;
    }
    if t.after_words(IMEI_WORDS) {
        return Some((t.start, t.end, K::Imei, CONFIRMED));
    }
    let grouped = t.groups::<4>().is_some_and(|(g, n)| n == 4 && g == [2, 6, 6, 1]);
    grouped.then_some((t.start, t.end, K::Imei, format_score(t, FORMATTED)))
}

/// A MAC address (IEEE EUI-48) written as six hex pairs joined by `:` or `-`, found from any of
/// its pairs: the all-zero and broadcast addresses identify nothing.
fn mac_address(t: &Token<'_>) -> Option<Proposal> {
    let text = t.text.as_bytes();
    let hex_pair = |i: usize| text.get(i..i + 2).is_some_and(|p| p.iter().all(u8::is_ascii_hexdigit));
    // The token is a pair (`1A`), or a dashed run of pairs (`00-1A-2B-3C-4D-5E`).
    if !hex_pair(t.start) {
        return None;
    }
    let sep = match text.get(t.start + 2) {
        Some(&c @ (b':' | b'-')) => c,
        _ => {
            // The last pair of a colon form: its separator is before it.
            match t.start.checked_sub(1).and_then(|i| text.get(i)) {
                Some(b':') => b':',
                _ => return None,
            }
        }
    };
    // Walk back over earlier pairs.
    let mut start = t.start;
    for _ in 0..5 {
        match start.checked_sub(3) {
            Some(s) if hex_pair(s) && text.get(s + 2) == Some(&sep) => start = s,
            _ => break,
        }
    }
    let end = start + 17;
    let candidate = text.get(start..end)?;
    let shaped = candidate
        .chunks(3)
        .all(|c| c.len() >= 2 && c.iter().take(2).all(u8::is_ascii_hexdigit) && c.get(2).is_none_or(|&s| s == sep));
    let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || *c == sep || *c == b'_');
    if !shaped || edge(start.checked_sub(1).and_then(|i| text.get(i))) || edge(text.get(end)) {
        return None;
    }
    let hex: Vec<u8> = candidate.iter().copied().filter(u8::is_ascii_hexdigit).collect();
    let uniform = hex.iter().all(|c| c.eq_ignore_ascii_case(hex.first().unwrap_or(&b'0')));
    if uniform && hex.first().is_some_and(|c| matches!(c, b'0' | b'f' | b'F')) {
        return None;
    }
    // One case of letters, as every tool prints them.
    let mixed = hex.iter().any(u8::is_ascii_lowercase) && hex.iter().any(u8::is_ascii_uppercase);
    (!mixed).then_some((start, end, K::MacAddress, FORMATTED))
}

/// Cisco's dotted MAC form: three groups of four hex digits (`001a.2b3c.4d5e`) with at least
/// one letter, found from any group with a digit.
fn mac_dotted(t: &Token<'_>) -> Option<Proposal> {
    let text = t.text.as_bytes();
    let shaped = |start: usize| {
        text.get(start..start + 14).is_some_and(|b| {
            b.iter().enumerate().all(|(i, c)| if i == 4 || i == 9 { *c == b'.' } else { c.is_ascii_hexdigit() })
        })
    };
    let start = [0, 5, 10].into_iter().filter_map(|back| t.start.checked_sub(back)).find(|&s| shaped(s))?;
    let end = start + 14;
    let edge = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    // Twelve decimal digits in dotted fours are a number more often than an address.
    let letter = text.get(start..end).is_some_and(|b| b.iter().any(u8::is_ascii_alphabetic));
    if !letter || edge(start.checked_sub(1).and_then(|i| text.get(i))) || edge(text.get(end)) {
        return None;
    }
    Some((start, end, K::MacAddress, FORMATTED))
}

/// Length of a TD3 (passport) MRZ line.
const MRZ_LINE: usize = 44;

/// The second line of a passport's machine-readable zone (ICAO 9303 TD3, 44 characters of
/// `A-Z0-9<`) with valid check digits for the document number, birth date, expiry date,
/// personal number and the composite; the name line above it is included when present.
fn mrz(t: &Token<'_>) -> Option<Proposal> {
    if t.value.len() < 9 {
        return None;
    }
    let text = t.text.as_bytes();
    // The line is 44 bytes: its ends are looked for no further than that (a text without line
    // breaks must not be walked to its start for every token).
    let back_from = t.start.saturating_sub(MRZ_LINE + 1);
    let line_start = match text.get(back_from..t.start)?.iter().rposition(|&c| c == b'\n') {
        Some(i) => back_from + i + 1,
        None if back_from == 0 => 0,
        None => return None,
    };
    let ahead = text.get(t.start..(line_start + MRZ_LINE + 1).min(text.len()))?;
    let line_end = ahead.iter().position(|&c| c == b'\n' || c == b'\r').map_or(t.start + ahead.len(), |i| t.start + i);
    let line = text.get(line_start..line_end)?;
    if line.len() != MRZ_LINE || !line.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'<') {
        return None;
    }
    if !td3_line2_ok(line) {
        return None;
    }
    // The name line: 44 characters starting with `P`, right above.
    let mut start = line_start;
    if let Some(prev_end) = line_start.checked_sub(1) {
        let prev_end = if prev_end > 0 && text.get(prev_end - 1) == Some(&b'\r') { prev_end - 1 } else { prev_end };
        if let Some(prev_start) = prev_end.checked_sub(44) {
            let prev = text.get(prev_start..prev_end)?;
            let boundary = prev_start == 0 || text.get(prev_start - 1) == Some(&b'\n');
            if boundary && prev.first() == Some(&b'P') && prev.iter().all(|c| c.is_ascii_uppercase() || *c == b'<') {
                start = prev_start;
            }
        }
    }
    Some((start, line_end, K::Mrz, CONFIRMED))
}

/// ICAO 9303 check digit: values (digits, A=10..Z=35, `<`=0) weighted 7, 3, 1, mod 10.
pub fn icao_check(field: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &c) in field.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some(b'0' + (sum % 10) as u8)
}

pub fn td3_line2_ok(l: &[u8]) -> bool {
    let field_ok = |from: usize, to: usize, check: usize| {
        let Some(&c) = l.get(check) else { return false };
        let Some(field) = l.get(from..to) else { return false };
        // An empty optional field may have `<` for its check digit.
        icao_check(field) == Some(c) || (c == b'<' && field.iter().all(|&x| x == b'<'))
    };
    let composite: Vec<u8> =
        [l.get(0..10), l.get(13..20), l.get(21..43)].into_iter().flatten().flatten().copied().collect();
    l.len() == 44
        && field_ok(0, 9, 9)
        && field_ok(13, 19, 19)
        && field_ok(21, 27, 27)
        && field_ok(28, 42, 42)
        && icao_check(&composite) == l.get(43).copied()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn check_digits() {
        // ICAO Doc 9303 part 4's specimen passport (Anna Eriksson, Utopia).
        assert!(td3_line2_ok(b"L898902C36UTO7408122F1204159ZE184226B<<<<<10"));
        assert!(!td3_line2_ok(b"L898902C36UTO7408122F1204159ZE184226B<<<<<11"));
        // A widely published example VIN, and it with its check digit changed.
        assert!(vin_check_ok(b"1M8GDM9AXKP042788"));
        assert!(!vin_check_ok(b"1M8GDM9A1KP042788"));
    }
}
