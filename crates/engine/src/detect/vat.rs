//! EU VAT identification numbers: the two-letter prefix of the member state (`EL` for Greece) and
//! the state's national format, glued (`DE136695976`) or after one space (`FR 40 303265045`).
//!
//! The large states' numbers carry a check (their tax administrations' published rules, as the
//! European Commission's VIES documents them): Germany ISO 7064 MOD 11,10; France the key
//! `(12 + 3 × (SIREN mod 97)) mod 97`; Italy Luhn over eleven digits; Spain the DNI/NIE letter
//! (mod 23) or the CIF control digit or letter; the Netherlands the 11-proof (weights 9..2, -1)
//! or, for the numbers issued since 2020, ISO 7064 mod 97 over the whole `NL…B..`; Belgium
//! `97 - (first eight digits mod 97)`; Poland weights 6,5,7,2,3,4,5,6,7 mod 11; Austria the
//! `ATU` digit (weights 1,2 with digit sums, plus 4, mod 10); Sweden Luhn over the
//! organisation number and the suffix `01`; also Croatia (ISO 7064 MOD 11,10), Portugal (weights
//! 9..2 mod 11), Denmark (weights 2,7,6,5,4,3,2,1 mod 11) and Slovakia (divisible by 11).
//! Such a number with its check is masked alone (format score, higher after VAT words); one
//! failing its check is not a VAT number. The other states' numbers have a format only and are
//! masked after VAT words (`VAT`, `USt-IdNr`, `TVA`, `IVA`, `BTW`, `NIP`, `moms`, ...).

use super::ids::{format_score, Proposal, Token, CONFIRMED, FORMATTED};
use super::validate::luhn_ok;
use crate::entity::BuiltinKind as K;

/// The kinds of this family.
pub const KINDS: &[K] = &[K::VatNumber];

/// Longest national part (without separators) of any member state.
const MAX_BODY: usize = 14;

const VAT_WORDS: &[&str] = &[
    "vat",
    "vat no",
    "vat number",
    "vat id",
    "vat reg",
    "vat registration",
    "vatin",
    "ust idnr",
    "ust id",
    "ustid",
    "ustidnr",
    "umsatzsteuer identifikationsnummer",
    "tva",
    "n tva",
    "iva",
    "partita iva",
    "p iva",
    "btw",
    "btw nummer",
    "btw nr",
    "nip",
    "moms",
    "momsnr",
    "momsregistreringsnummer",
    "uid",
    "uid nr",
    "alv",
    "dph",
    "ddv",
    "pvm",
    "pvn",
    "fpa",
    "afa",
    "cvr",
];

/// Country, national part: the prefix with its check or format.
enum Check {
    /// A published check over the national part.
    Checked(fn(&[u8]) -> bool),
    /// Format only: needs its words.
    Format(fn(&[u8]) -> bool),
}

fn rule(country: &[u8]) -> Option<Check> {
    use Check::{Checked, Format};
    Some(match country {
        b"AT" => Checked(at_ok),
        b"BE" => Checked(be_ok),
        b"DE" => Checked(de_ok),
        b"DK" => Checked(dk_ok),
        b"ES" => Checked(es_ok),
        b"FR" => Checked(fr_ok),
        b"HR" => Checked(hr_ok),
        b"IT" => Checked(it_ok),
        b"NL" => Checked(nl_ok),
        b"PL" => Checked(pl_ok),
        b"PT" => Checked(pt_ok),
        b"SE" => Checked(se_ok),
        b"SK" => Checked(sk_ok),
        b"BG" => Format(|b| digits(b, 9..=10)),
        b"CY" => Format(|b| b.len() == 9 && all_digits(b.get(..8)) && b.get(8).is_some_and(u8::is_ascii_uppercase)),
        b"CZ" => Format(|b| digits(b, 8..=10)),
        b"LT" => Format(|b| digits(b, 9..=9) || digits(b, 12..=12)),
        b"FI" | b"HU" | b"LU" | b"MT" | b"SI" => Format(|b| digits(b, 8..=8)),
        b"EE" | b"EL" => Format(|b| digits(b, 9..=9)),
        b"IE" => Format(ie_shape),
        b"LV" => Format(|b| digits(b, 11..=11)),
        b"RO" => Format(|b| digits(b, 6..=10)),
        _ => return None,
    })
}

fn all_digits(b: Option<&[u8]>) -> bool {
    b.is_some_and(|b| b.iter().all(u8::is_ascii_digit))
}

fn digits(b: &[u8], len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&b.len()) && b.iter().all(u8::is_ascii_digit)
}

fn value(b: &[u8], i: usize) -> u32 {
    b.get(i).map_or(0, |c| u32::from(c.wrapping_sub(b'0')))
}

/// ISO 7064 MOD 11,10 over all but the last digit, which is the check.
fn mod11_10(b: &[u8]) -> bool {
    let Some((&last, head)) = b.split_last() else { return false };
    let mut p = 10;
    for &c in head {
        let mut s = (u32::from(c - b'0') + p) % 10;
        if s == 0 {
            s = 10;
        }
        p = (2 * s) % 11;
    }
    let check = (11 - p) % 10;
    u32::from(last - b'0') == check
}

fn de_ok(b: &[u8]) -> bool {
    digits(b, 9..=9) && b.first() != Some(&b'0') && mod11_10(b)
}

fn hr_ok(b: &[u8]) -> bool {
    digits(b, 11..=11) && mod11_10(b)
}

fn fr_ok(b: &[u8]) -> bool {
    // Two key characters (digits, or letters other than I and O) and the nine-digit SIREN.
    let (Some(key), Some(siren)) = (b.get(..2), b.get(2..)) else { return false };
    if !digits(siren, 9..=9)
        || !key.iter().all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !b"IO".contains(c)))
    {
        return false;
    }
    if !key.iter().all(u8::is_ascii_digit) {
        // The letter keys of newer numbers have no published check: the SIREN's Luhn only.
        let d: Vec<u8> = siren.iter().map(|c| c - b'0').collect();
        return luhn_ok(&d);
    }
    let n = siren.iter().fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0'));
    u64::from(value(key, 0) * 10 + value(key, 1)) == (12 + 3 * (n % 97)) % 97
}

fn it_ok(b: &[u8]) -> bool {
    if !digits(b, 11..=11) || b.iter().take(7).all(|&c| c == b'0') {
        return false;
    }
    let d: Vec<u8> = b.iter().map(|c| c - b'0').collect();
    luhn_ok(&d)
}

fn es_ok(b: &[u8]) -> bool {
    const DNI: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let (Some(&first), Some(&last), Some(mid)) = (b.first(), b.get(8), b.get(1..8)) else { return false };
    if b.len() != 9 || !mid.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let number = |lead: u32| mid.iter().fold(lead, |acc, c| acc * 10 + u32::from(c - b'0'));
    match first {
        b'0'..=b'9' => DNI.get((number(u32::from(first - b'0')) % 23) as usize) == Some(&last),
        b'X' | b'Y' | b'Z' => DNI.get((number(u32::from(first - b'X')) % 23) as usize) == Some(&last),
        b'K' | b'L' | b'M' => DNI.get((number(0) % 23) as usize) == Some(&last),
        b'A'..=b'H' | b'J' | b'N' | b'P' | b'Q' | b'R' | b'S' | b'U' | b'V' | b'W' => {
            // CIF: digits in odd places doubled (digit sum), even places as they are.
            let sum: u32 = mid
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let d = u32::from(c - b'0');
                    if i % 2 == 0 {
                        (2 * d) / 10 + (2 * d) % 10
                    } else {
                        d
                    }
                })
                .sum();
            let control = (10 - sum % 10) % 10;
            last == b'0' + control as u8 || b"JABCDEFGHI".get(control as usize) == Some(&last)
        }
        _ => false,
    }
}

fn nl_ok(b: &[u8]) -> bool {
    let (Some(number), Some(b'B'), Some(suffix)) = (b.get(..9), b.get(9), b.get(10..)) else { return false };
    if !digits(number, 9..=9) || !digits(suffix, 2..=2) {
        return false;
    }
    // Before 2020: the 11-proof of the fiscal number.
    let sum: i32 =
        number.iter().enumerate().map(|(i, c)| i32::from(c - b'0') * if i == 8 { -1 } else { 9 - i as i32 }).sum();
    if sum % 11 == 0 && sum != 0 {
        return true;
    }
    // Since 2020: ISO 7064 mod 97 over `NL`, the number, `B` and the suffix, letters as 10-35.
    let mut rem = 0u32;
    for &c in b"NL".iter().chain(b) {
        if c.is_ascii_uppercase() {
            let v = u32::from(c - b'A') + 10;
            rem = (rem * 100 + v) % 97;
        } else {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        }
    }
    rem == 1
}

fn be_ok(b: &[u8]) -> bool {
    if !digits(b, 10..=10) || !matches!(b.first(), Some(b'0' | b'1')) {
        return false;
    }
    let n = b.iter().take(8).fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'));
    97 - n % 97 == value(b, 8) * 10 + value(b, 9)
}

fn pl_ok(b: &[u8]) -> bool {
    const W: [u32; 9] = [6, 5, 7, 2, 3, 4, 5, 6, 7];
    if !digits(b, 10..=10) {
        return false;
    }
    let sum: u32 = W.iter().enumerate().map(|(i, w)| w * value(b, i)).sum();
    sum % 11 != 10 && sum % 11 == value(b, 9)
}

fn at_ok(b: &[u8]) -> bool {
    let (Some(b'U'), Some(d)) = (b.first(), b.get(1..)) else { return false };
    if !digits(d, 8..=8) {
        return false;
    }
    let s: u32 = (0..7)
        .map(|i| {
            let v = value(d, i);
            if i % 2 == 1 {
                (2 * v) / 10 + (2 * v) % 10
            } else {
                v
            }
        })
        .sum();
    (10 - (s + 4) % 10) % 10 == value(d, 7)
}

fn se_ok(b: &[u8]) -> bool {
    if !digits(b, 12..=12) || b.get(10..) != Some(b"01") {
        return false;
    }
    let d: Vec<u8> = b.iter().take(10).map(|c| c - b'0').collect();
    luhn_ok(&d)
}

fn pt_ok(b: &[u8]) -> bool {
    if !digits(b, 9..=9) {
        return false;
    }
    let sum: u32 = (0..8).map(|i| value(b, i) * (9 - i as u32)).sum();
    let c = 11 - sum % 11;
    (if c >= 10 { 0 } else { c }) == value(b, 8)
}

fn dk_ok(b: &[u8]) -> bool {
    const W: [u32; 8] = [2, 7, 6, 5, 4, 3, 2, 1];
    digits(b, 8..=8)
        && b.first() != Some(&b'0')
        && W.iter().enumerate().map(|(i, w)| w * value(b, i)).sum::<u32>() % 11 == 0
}

fn sk_ok(b: &[u8]) -> bool {
    digits(b, 10..=10)
        && b.first() != Some(&b'0')
        && b.iter().fold(0u64, |acc, c| (acc * 10 + u64::from(c - b'0')) % 11) == 0
}

/// Ireland: seven digits and one or two letters, or the old form digit, letter, five digits, letter.
fn ie_shape(b: &[u8]) -> bool {
    let new = all_digits(b.get(..7)) && (8..=9).contains(&b.len()) && b.iter().skip(7).all(u8::is_ascii_uppercase);
    let old = b.len() == 8
        && b.first().is_some_and(u8::is_ascii_digit)
        && b.get(1).is_some_and(|c| c.is_ascii_uppercase() || b"+*".contains(c))
        && all_digits(b.get(2..7))
        && b.get(7).is_some_and(u8::is_ascii_uppercase);
    new || old
}

/// Propose a VAT number for the token: its own two-letter prefix (`DE136695976`), or a prefix
/// and one space before a numeric token (`DE 136695976`).
pub fn classify(t: &Token<'_>) -> Option<Proposal> {
    let text = t.text.as_bytes();
    let b = t.bytes();
    let upper2 = |p: &[u8]| p.len() == 2 && p.iter().all(u8::is_ascii_uppercase);
    let (start, country, rest) = match b.get(..2) {
        Some(p) if upper2(p) => (t.start, p, b.get(2..)?),
        _ if t.numeric() && t.start >= 3 => {
            let p = text.get(t.start - 3..t.start - 1)?;
            let free = t.start == 3 || !text.get(t.start - 4).is_some_and(|c| c.is_ascii_alphanumeric());
            if !(upper2(p) && text.get(t.start - 1) == Some(&b' ') && free) {
                return None;
            }
            (t.start - 3, p, b)
        }
        _ => return None,
    };
    let check = rule(country)?;
    // The national part without its separators.
    let mut body = [0u8; MAX_BODY];
    let mut n = 0;
    for &c in rest.iter().filter(|c| !matches!(c, b' ' | b'.' | b'-')) {
        if !(c.is_ascii_digit() || c.is_ascii_uppercase() || b"+*".contains(&c)) {
            return None;
        }
        *body.get_mut(n)? = c;
        n += 1;
    }
    let body = body.get(..n)?;
    let words = t.words_within(VAT_WORDS, 32).is_some() || (start < t.start && said_right_before(t.text, start));
    match check {
        Check::Checked(ok) if ok(body) => {
            Some((start, t.end, K::VatNumber, if words { CONFIRMED } else { format_score(t, FORMATTED) }))
        }
        Check::Format(ok) if words && ok(body) => Some((start, t.end, K::VatNumber, CONFIRMED - 0.1)),
        _ => None,
    }
}

/// VAT words before a prefix that stands apart from the token (`USt-IdNr. DE 136695976`).
fn said_right_before(text: &str, start: usize) -> bool {
    super::ids::Folded::before(text, start).nearest(VAT_WORDS, 32).is_some()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn checks_of_the_large_states() {
        assert!(de_ok(b"136695976"));
        assert!(!de_ok(b"136695977"));
        assert!(fr_ok(b"40303265045"));
        assert!(!fr_ok(b"41303265045"));
        assert!(it_ok(b"00743110157"));
        assert!(!it_ok(b"00743110158"));
        assert!(be_ok(b"0403019261"));
        assert!(!be_ok(b"0403019262"));
        assert!(pl_ok(b"1234563218"));
        assert!(!pl_ok(b"1234563219"));
        assert!(at_ok(b"U10223006"));
        assert!(!at_ok(b"U10223007"));
        assert!(se_ok(b"556036079301"));
        assert!(!se_ok(b"556036079401"));
        assert!(nl_ok(b"004495445B01"));
        assert!(!nl_ok(b"004495446B01"));
        assert!(es_ok(b"A28015865"));
        assert!(es_ok(b"12345678Z"));
        assert!(!es_ok(b"12345678A"));
    }
}
