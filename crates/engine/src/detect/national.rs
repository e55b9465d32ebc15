//! National identifiers: tax, social security and citizen numbers of the US, UK, Canada,
//! Australia, India, Brazil, Germany, France, Spain, Italy, the Netherlands, Poland and Sweden.
//!
//! Each is confirmed by the check its issuer publishes (mod 11, Luhn, Verhoeff, ISO 7064, a
//! check letter). Where the check passes by chance often (one in ten or eleven) and the shape is
//! one that phone, order or account numbers also have, the identifier's own words must stand
//! before it (`NHS`, `SIN`, `BSN`, `PESEL`, ...). Printed forms no other number has
//! (`123.456.789-09`, `11.222.333/0001-81`, a codice fiscale) are masked alone.

use super::ids::{digit_values, format_score, Proposal, Token, CONFIRMED, FORMATTED, SHAPED};
use super::validate::luhn_ok;
use crate::entity::BuiltinKind as K;

/// The kinds of this family.
pub const KINDS: &[K] = &[
    K::UsItin,
    K::UkNino,
    K::UkNhs,
    K::CaSin,
    K::AuTfn,
    K::AuMedicare,
    K::InAadhaar,
    K::InPan,
    K::BrCpf,
    K::BrCnpj,
    K::DeTaxId,
    K::FrNir,
    K::EsNif,
    K::EsNie,
    K::ItFiscalCode,
    K::NlBsn,
    K::PlPesel,
    K::SePersonnummer,
];

const ITIN_WORDS: &[&str] = &["itin", "taxpayer identification", "individual taxpayer", "tax id", "tin"];
const NINO_WORDS: &[&str] = &["nino", "national insurance", "ni number", "ni no", "insurance number"];
const NHS_WORDS: &[&str] = &["nhs", "nhs number", "nhs no", "health service"];
const SIN_WORDS: &[&str] = &["sin", "social insurance", "assurance sociale", "nas"];
const TFN_WORDS: &[&str] = &["tfn", "tax file"];
const MEDICARE_WORDS: &[&str] = &["medicare"];
const AADHAAR_WORDS: &[&str] = &["aadhaar", "aadhar", "uidai", "uid", "आधार"];
const PAN_WORDS: &[&str] = &["pan", "permanent account", "income tax"];
const CPF_WORDS: &[&str] = &["cpf"];
const CNPJ_WORDS: &[&str] = &["cnpj"];
const STEUER_WORDS: &[&str] = &[
    "steuer id",
    "steuerid",
    "steueridentifikationsnummer",
    "identifikationsnummer",
    "steuer identifikationsnummer",
    "idnr",
    "tax id",
    "tin",
];
const NIR_WORDS: &[&str] =
    &["nir", "sécurité sociale", "securite sociale", "sécu", "secu", "insee", "social security", "numéro de sécurité"];
const DNI_WORDS: &[&str] = &["dni", "nif", "documento nacional", "documento de identidad"];
const NIE_WORDS: &[&str] = &["nie", "nif", "extranjero", "foreigner identity"];
const BSN_WORDS: &[&str] = &["bsn", "burgerservicenummer", "sofinummer", "sofi"];
const PESEL_WORDS: &[&str] = &["pesel"];
const PERSONNUMMER_WORDS: &[&str] =
    &["personnummer", "personnr", "pnr", "samordningsnummer", "personal identity number"];

/// Propose at most one national identifier for the token.
pub fn classify(t: &Token<'_>) -> Option<Proposal> {
    if t.numeric() {
        numeric(t)
    } else {
        alphanumeric(t)
    }
}

fn numeric(t: &Token<'_>) -> Option<Proposal> {
    let (groups, n) = t.groups::<8>()?;
    let groups = groups.get(..n)?;
    let sep = t.separator();
    let mut d = [0u8; 16];
    if t.digits > d.len() {
        return None;
    }
    digit_values(t.value, &mut d);
    let d = d.get(..t.digits)?;
    let with_words = |words: &[&str]| t.after_words(words);
    let span = |kind, score: f32| Some((t.start, t.end, kind, score));
    match t.digits {
        9 => {
            // ITIN: the dashed form alone (an SSN never starts with 9), others with words.
            if groups == [3, 2, 4] && itin_ok(d) {
                if with_words(ITIN_WORDS) {
                    return span(K::UsItin, CONFIRMED);
                }
                if sep == Some(b'-') {
                    return span(K::UsItin, format_score(t, FORMATTED));
                }
            }
            if groups == [9] && itin_ok(d) && with_words(ITIN_WORDS) {
                return span(K::UsItin, CONFIRMED);
            }
            let plain = groups == [9] || (groups == [3, 3, 3] && matches!(sep, Some(b' ' | b'-' | b'.')));
            let dotted_bsn = groups == [4, 2, 3] && sep == Some(b'.');
            if !(plain || dotted_bsn) {
                return uk_nino_spaced(t);
            }
            if sin_ok(d) && with_words(SIN_WORDS) {
                return span(K::CaSin, CONFIRMED);
            }
            if tfn_ok(d) && with_words(TFN_WORDS) {
                return span(K::AuTfn, CONFIRMED);
            }
            if bsn_ok(d) && with_words(BSN_WORDS) {
                return span(K::NlBsn, CONFIRMED);
            }
            None
        }
        10 => {
            let nhs_shape = groups == [10] || (groups == [3, 3, 4] && matches!(sep, Some(b' ' | b'-')));
            if nhs_shape && nhs_ok(d) && with_words(NHS_WORDS) {
                return span(K::UkNhs, CONFIRMED);
            }
            let medicare_shape = groups == [10] || (groups == [4, 5, 1] && sep == Some(b' '));
            if medicare_shape && au_medicare_ok(d) && with_words(MEDICARE_WORDS) {
                return span(K::AuMedicare, CONFIRMED);
            }
            let swedish = groups == [6, 4] && sep == Some(b'-') || groups == [10];
            if swedish && personnummer_ok(d) {
                if with_words(PERSONNUMMER_WORDS) {
                    return span(K::SePersonnummer, CONFIRMED);
                }
                if groups == [6, 4] {
                    return span(K::SePersonnummer, format_score(t, SHAPED));
                }
            }
            None
        }
        11 => {
            if cpf_ok(d) {
                let b = t.bytes();
                let formatted = groups == [3, 3, 3, 2]
                    && b.get(3) == Some(&b'.')
                    && b.get(7) == Some(&b'.')
                    && b.get(11) == Some(&b'-');
                if formatted {
                    return span(K::BrCpf, format_score(t, FORMATTED));
                }
                if groups == [11] && with_words(CPF_WORDS) {
                    return span(K::BrCpf, CONFIRMED);
                }
            }
            let steuer_shape = groups == [11] || (groups == [2, 3, 3, 3] && sep == Some(b' '));
            if steuer_shape && steuer_id_ok(d) && with_words(STEUER_WORDS) {
                return span(K::DeTaxId, CONFIRMED);
            }
            if groups == [11] && pesel_ok(d) && with_words(PESEL_WORDS) {
                return span(K::PlPesel, CONFIRMED);
            }
            None
        }
        12 => {
            let aadhaar_shape = groups == [12] || (groups == [4, 4, 4] && matches!(sep, Some(b' ' | b'-')));
            if aadhaar_shape && aadhaar_ok(d) && with_words(AADHAAR_WORDS) {
                return span(K::InAadhaar, CONFIRMED);
            }
            let swedish = (groups == [8, 4] && sep == Some(b'-')) || groups == [12];
            if swedish && d.first().is_some_and(|&c| c == 1 || c == 2) {
                let short = d.get(2..)?;
                if personnummer_ok(short) {
                    if with_words(PERSONNUMMER_WORDS) {
                        return span(K::SePersonnummer, CONFIRMED);
                    }
                    if groups == [8, 4] {
                        return span(K::SePersonnummer, format_score(t, FORMATTED));
                    }
                }
            }
            None
        }
        14 => {
            if !cnpj_ok(d) {
                return None;
            }
            let b = t.bytes();
            let formatted = groups == [2, 3, 3, 4, 2]
                && b.get(2) == Some(&b'.')
                && b.get(6) == Some(&b'.')
                && b.get(10) == Some(&b'/')
                && b.get(15) == Some(&b'-');
            if formatted {
                return span(K::BrCnpj, format_score(t, FORMATTED));
            }
            (groups == [14] && with_words(CNPJ_WORDS)).then_some((t.start, t.end, K::BrCnpj, CONFIRMED))
        }
        15 => {
            if !nir_ok(d) {
                return None;
            }
            if groups == [1, 2, 2, 2, 3, 3, 2] && sep == Some(b' ') {
                return span(K::FrNir, format_score(t, FORMATTED));
            }
            (groups == [15] && with_words(NIR_WORDS)).then_some((t.start, t.end, K::FrNir, CONFIRMED))
        }
        _ => uk_nino_spaced(t),
    }
}

fn alphanumeric(t: &Token<'_>) -> Option<Proposal> {
    let b = t.bytes();
    let span = |kind, score: f32| Some((t.start, t.end, kind, score));
    let upper_or_digit = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    match b.len() {
        9 if t.digits == 6 && t.letters == 3 => {
            if !nino_ok(b) {
                return None;
            }
            if t.after_words(NINO_WORDS) {
                return span(K::UkNino, CONFIRMED);
            }
            span(K::UkNino, format_score(t, SHAPED))
        }
        9 | 10 if t.letters == 1 || (t.letters == 2 && matches!(b.first(), Some(b'X' | b'Y' | b'Z'))) => {
            // DNI (`12345678Z`, `12345678-Z`) or NIE (`X1234567L`).
            let compact: Vec<u8> = b.iter().copied().filter(|c| *c != b'-').collect();
            if compact.len() != 9 || !compact.iter().all(upper_or_digit) {
                return None;
            }
            let (kind, words) = match compact.first() {
                Some(b'X' | b'Y' | b'Z') => (K::EsNie, NIE_WORDS),
                _ => (K::EsNif, DNI_WORDS),
            };
            if !spanish_letter_ok(&compact) {
                return None;
            }
            if t.after_words(words) {
                return span(kind, CONFIRMED);
            }
            span(kind, format_score(t, SHAPED))
        }
        10 if t.digits == 4 && t.letters == 6 => {
            if !pan_ok(b) {
                return None;
            }
            if t.after_words(PAN_WORDS) {
                return span(K::InPan, CONFIRMED);
            }
            span(K::InPan, format_score(t, SHAPED))
        }
        16 if t.letters >= 9 && b.iter().all(upper_or_digit) => {
            codice_fiscale_ok(b).then_some((t.start, t.end, K::ItFiscalCode, format_score(t, FORMATTED)))
        }
        _ => None,
    }
}

/// `AB 12 34 56 C`: the digit pairs of a spaced National Insurance number, with the prefix
/// letters before and the suffix letter after them.
fn uk_nino_spaced(t: &Token<'_>) -> Option<Proposal> {
    if t.value.len() != 8 || t.separator() != Some(b' ') || t.groups::<3>().map(|g| g.0) != Some([2, 2, 2]) {
        return None;
    }
    let text = t.text.as_bytes();
    let start = t.start.checked_sub(3)?;
    let end = t.end + 2;
    let head = text.get(start..t.start)?;
    let tail = text.get(t.end..end)?;
    let boundary_before = start == 0 || !text.get(start - 1).is_some_and(u8::is_ascii_alphanumeric);
    let boundary_after = !text.get(end).is_some_and(u8::is_ascii_alphanumeric);
    if head.get(2) != Some(&b' ') || tail.first() != Some(&b' ') || !boundary_before || !boundary_after {
        return None;
    }
    let mut compact = [0u8; 9];
    compact[..2].copy_from_slice(head.get(..2)?);
    let digits: Vec<u8> = t.bytes().iter().copied().filter(u8::is_ascii_digit).collect();
    compact[2..8].copy_from_slice(digits.get(..6)?);
    compact[8] = *tail.get(1)?;
    if !nino_ok(&compact) {
        return None;
    }
    let score = if super::ids::said_before(t.text, start, NINO_WORDS) { CONFIRMED } else { FORMATTED };
    Some((start, end, K::UkNino, score))
}

/// IRS: 9XX-XX-XXXX with the middle group in 50-65, 70-88, 90-92 or 94-99.
pub fn itin_ok(d: &[u8]) -> bool {
    let middle = d.get(3).zip(d.get(4)).map(|(a, b)| a * 10 + b);
    d.first() == Some(&9) && middle.is_some_and(|m| matches!(m, 50..=65 | 70..=88 | 90..=92 | 94..=99))
}

/// HMRC: two prefix letters (first not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V; not
/// BG, GB, KN, NK, NT, TN, ZZ), six digits, a suffix A-D.
pub fn nino_ok(b: &[u8]) -> bool {
    let [p1, p2, rest @ ..] = b else { return false };
    let (Some(suffix), Some(digits)) = (rest.last(), rest.get(..6)) else { return false };
    rest.len() == 7
        && p1.is_ascii_uppercase()
        && p2.is_ascii_uppercase()
        && !b"DFIQUV".contains(p1)
        && !b"DFIOQUV".contains(p2)
        && ![*b"BG", *b"GB", *b"KN", *b"NK", *b"NT", *b"TN", *b"ZZ"].contains(&[*p1, *p2])
        && digits.iter().all(u8::is_ascii_digit)
        && b"ABCD".contains(suffix)
}

/// NHS: weights 10..2 over nine digits; check = 11 - sum mod 11 (11 -> 0, 10 invalid).
pub fn nhs_ok(d: &[u8]) -> bool {
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d.iter().take(9).zip((2..=10u32).rev()).map(|(&x, w)| u32::from(x) * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    d.get(9).is_some_and(|&c| u32::from(c) == check)
}

/// Canada SIN: Luhn; the first digit is not 8 (business numbers). (0 is not issued to people,
/// but the government's own worked example, 046 454 286, starts with it.)
pub fn sin_ok(d: &[u8]) -> bool {
    d.len() == 9 && d.first() != Some(&8) && luhn_ok(d)
}

/// Australia TFN: weights 1, 4, 3, 7, 5, 8, 6, 9, 10; the sum is a multiple of 11.
pub fn tfn_ok(d: &[u8]) -> bool {
    const W: [u32; 9] = [1, 4, 3, 7, 5, 8, 6, 9, 10];
    d.len() == 9 && !d.iter().all(|&x| x == 0) && d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum::<u32>() % 11 == 0
}

/// Australia Medicare card: first digit 2-6, ninth digit = weights 1, 3, 7, 9, 1, 3, 7, 9 over
/// the first eight, mod 10; the tenth is the issue number (not 0).
pub fn au_medicare_ok(d: &[u8]) -> bool {
    const W: [u32; 8] = [1, 3, 7, 9, 1, 3, 7, 9];
    let sum: u32 = d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum();
    d.len() == 10
        && d.first().is_some_and(|&c| (2..=6).contains(&c))
        && d.get(8).is_some_and(|&c| u32::from(c) == sum % 10)
        && d.get(9).is_some_and(|&c| c != 0)
}

/// Aadhaar: twelve digits, the first 2-9, Verhoeff check digit.
pub fn aadhaar_ok(d: &[u8]) -> bool {
    d.len() == 12 && d.first().is_some_and(|&c| c >= 2) && verhoeff_ok(d)
}

/// The Verhoeff check (dihedral group D5): the checksum over all digits, check digit included,
/// is 0.
pub fn verhoeff_ok(d: &[u8]) -> bool {
    const MUL: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const PERM: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 8, 7, 6, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        let p = PERM.get(i % 8).and_then(|row| row.get(usize::from(x))).copied().unwrap_or(0);
        c = MUL.get(usize::from(c)).and_then(|row| row.get(usize::from(p))).copied().unwrap_or(0);
    }
    c == 0
}

/// India PAN: five letters, four digits, a letter; the fourth letter is the holder's type
/// (P person, C company, H undivided family, F firm, A association, T trust, B body of
/// individuals, L local authority, J juridical person, G government).
pub fn pan_ok(b: &[u8]) -> bool {
    b.len() == 10
        && b.iter().take(5).all(u8::is_ascii_uppercase)
        && b.get(5..9).is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && b.get(9).is_some_and(u8::is_ascii_uppercase)
        && b.get(3).is_some_and(|c| b"PCHFATBLJG".contains(c))
}

/// Brazil CPF: two mod-11 check digits; not eleven equal digits.
pub fn cpf_ok(d: &[u8]) -> bool {
    if d.len() != 11 || d.iter().all(|&x| Some(&x) == d.first()) {
        return false;
    }
    let check = |n: usize| {
        let sum: u32 = d.iter().take(n).enumerate().map(|(i, &x)| u32::from(x) * (n as u32 + 1 - i as u32)).sum();
        (sum * 10 % 11 % 10) as u8
    };
    d.get(9) == Some(&check(9)) && d.get(10) == Some(&check(10))
}

/// Brazil CNPJ: two mod-11 check digits with weights 5..2,9..2 and 6..2,9..2.
pub fn cnpj_ok(d: &[u8]) -> bool {
    const W1: [u32; 12] = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    const W2: [u32; 13] = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    if d.len() != 14 || d.iter().all(|&x| Some(&x) == d.first()) {
        return false;
    }
    let check = |w: &[u32]| {
        let r = d.iter().zip(w).map(|(&x, &w)| u32::from(x) * w).sum::<u32>() % 11;
        if r < 2 {
            0
        } else {
            (11 - r) as u8
        }
    };
    d.get(12) == Some(&check(&W1)) && d.get(13) == Some(&check(&W2))
}

/// Germany Steuer-ID: eleven digits, the first not 0; in the first ten one digit occurs twice
/// or three times and the others at most once; ISO 7064 MOD 11,10 check digit.
pub fn steuer_id_ok(d: &[u8]) -> bool {
    if d.len() != 11 || d.first() == Some(&0) {
        return false;
    }
    let mut counts = [0u8; 10];
    for &x in d.iter().take(10) {
        if let Some(c) = counts.get_mut(usize::from(x)) {
            *c += 1;
        }
    }
    let repeated = counts.iter().filter(|&&c| c >= 2).count();
    if repeated != 1 || counts.iter().any(|&c| c > 3) {
        return false;
    }
    let mut product = 10u32;
    for &x in d.iter().take(10) {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = sum * 2 % 11;
    }
    let check = match 11 - product {
        10 => 0,
        c => c,
    };
    d.get(10).is_some_and(|&c| u32::from(c) == check)
}

/// France NIR: sex digit 1, 2 (or 3, 4, 7, 8 for provisional numbers), month 01-12 (or 20-99
/// where the month is unknown), then the key: 97 - (first thirteen digits mod 97).
pub fn nir_ok(d: &[u8]) -> bool {
    if d.len() != 15 || !d.first().is_some_and(|c| matches!(c, 1 | 2 | 3 | 4 | 7 | 8)) {
        return false;
    }
    let month = d.get(3).zip(d.get(4)).map(|(a, b)| a * 10 + b);
    if !month.is_some_and(|m| (1..=12).contains(&m) || m >= 20) {
        return false;
    }
    let n = d.iter().take(13).fold(0u64, |acc, &x| (acc * 10 + u64::from(x)) % 97);
    let key = d.get(13).zip(d.get(14)).map(|(a, b)| u64::from(a * 10 + b));
    key == Some(97 - n)
}

/// Spain DNI/NIF (eight digits and a letter) and NIE (X, Y or Z, seven digits and a letter):
/// the letter is `TRWAGMYFPDXBNJZSQVHLCKE` at the number mod 23 (X, Y, Z count as 0, 1, 2).
pub fn spanish_letter_ok(b: &[u8]) -> bool {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let [head @ .., letter] = b else { return false };
    if head.len() != 8 {
        return false;
    }
    let mut n = 0u32;
    for (i, &c) in head.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'X' if i == 0 => 0,
            b'Y' if i == 0 => 1,
            b'Z' if i == 0 => 2,
            _ => return false,
        };
        n = n * 10 + v;
    }
    LETTERS.get((n % 23) as usize) == Some(letter)
}

/// Italy codice fiscale: six letters, two year digits, a month letter, two day digits, a
/// letter and three digits (the municipality), a check letter; digits may be replaced by the
/// letters LMNPQRSTUV (omocodia). The check letter is the mod-26 sum of the odd and even
/// position values of the Agenzia delle Entrate's tables.
pub fn codice_fiscale_ok(b: &[u8]) -> bool {
    const ODD: [u8; 26] =
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
    const OMOCODIA: &[u8] = b"LMNPQRSTUV";
    if b.len() != 16 {
        return false;
    }
    let letter_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_uppercase);
    let digit_at = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_digit() || OMOCODIA.contains(c));
    let shape = (0..6).all(letter_at)
        && [6, 7, 9, 10, 12, 13, 14].into_iter().all(digit_at)
        && b.get(8).is_some_and(|c| b"ABCDEHLMPRST".contains(c))
        && letter_at(11)
        && letter_at(15);
    if !shape {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in b.iter().take(15).enumerate() {
        let index = if c.is_ascii_digit() { c - b'0' } else { c - b'A' };
        // Positions are counted from 1: odd positions are even indices.
        let value = if i % 2 == 0 { ODD.get(usize::from(index)).copied().unwrap_or(0) } else { index };
        sum += u32::from(value);
    }
    b.get(15).is_some_and(|&c| u32::from(c - b'A') == sum % 26)
}

/// Netherlands BSN: the 11-proof, weights 9..2 and -1; not all zeros.
pub fn bsn_ok(d: &[u8]) -> bool {
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum: i32 = d.iter().take(8).zip((2..=9i32).rev()).map(|(&x, w)| i32::from(x) * w).sum();
    let last = d.get(8).map_or(0, |&x| i32::from(x));
    (sum - last) % 11 == 0
}

/// Poland PESEL: weights 1, 3, 7, 9 repeated; check = (10 - sum mod 10) mod 10; the first six
/// digits are a date (the month carries the century: +80 1800s, +0 1900s, +20 2000s, +40, +60).
pub fn pesel_ok(d: &[u8]) -> bool {
    const W: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    if d.len() != 11 {
        return false;
    }
    let sum: u32 = d.iter().zip(W).map(|(&x, w)| u32::from(x) * w).sum();
    let pair = |i: usize| d.get(i).zip(d.get(i + 1)).map_or(0, |(a, b)| u32::from(a * 10 + b));
    let month = pair(2) % 20;
    let day = pair(4);
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && d.get(10).is_some_and(|&c| u32::from(c) == (10 - sum % 10) % 10)
}

/// Sweden personnummer (ten digits YYMMDDNNNC): a date (the day plus 60 for a
/// samordningsnummer) and Luhn over the ten digits.
pub fn personnummer_ok(d: &[u8]) -> bool {
    if d.len() != 10 {
        return false;
    }
    let pair = |i: usize| d.get(i).zip(d.get(i + 1)).map_or(0, |(a, b)| u32::from(a * 10 + b));
    let (month, day) = (pair(2), pair(4));
    let day = if day > 60 { day - 60 } else { day };
    (1..=12).contains(&month) && (1..=31).contains(&day) && luhn_ok(d)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
    }

    /// Each validator accepts its issuer's documented example and refuses it with its check
    /// digit changed (the ninth of a Medicare number; the tenth is the issue number).
    #[test]
    fn validators_accept_documented_examples_and_refuse_one_digit_off() {
        type Validator = fn(&[u8]) -> bool;
        let cases: [(&str, Validator, usize); 11] = [
            ("943 476 5919", nhs_ok, 9),
            ("046 454 286", sin_ok, 8),
            ("123 456 782", tfn_ok, 8),
            ("2123 45670 1", au_medicare_ok, 8),
            ("2341 2341 2346", aadhaar_ok, 11),
            ("123.456.789-09", cpf_ok, 10),
            ("11.222.333/0001-81", cnpj_ok, 13),
            ("86095742719", steuer_id_ok, 10),
            ("111222333", bsn_ok, 8),
            ("44051401359", pesel_ok, 10),
            ("811218-9876", personnummer_ok, 9),
        ];
        for (s, ok, check) in cases {
            let mut d = digits(s);
            assert!(ok(&d), "{s}");
            d[check] = (d[check] + 1) % 10;
            assert!(!ok(&d), "{s} one off");
        }
        assert!(nir_ok(&digits("2 69 05 49 588 157 80")));
        assert!(!nir_ok(&digits("2 69 05 49 588 157 81")));
    }

    #[test]
    fn letter_checks() {
        assert!(spanish_letter_ok(b"12345678Z"));
        assert!(!spanish_letter_ok(b"12345678A"));
        assert!(spanish_letter_ok(b"X1234567L"));
        assert!(codice_fiscale_ok(b"RSSMRA85T10A562S"));
        assert!(!codice_fiscale_ok(b"RSSMRA85T10A562T"));
        assert!(pan_ok(b"ABCPE1234F"));
        assert!(!pan_ok(b"ABCDE1234F"));
        assert!(nino_ok(b"AB123456C"));
        assert!(!nino_ok(b"QQ123456C"));
        assert!(!nino_ok(b"GB123456A"));
        assert!(itin_ok(&digits("912-70-1234")));
        assert!(!itin_ok(&digits("912-93-1234")));
    }
}
