//! Financial identifiers beyond cards and IBANs: US ABA routing numbers, SWIFT/BIC codes, bank
//! account numbers, crypto wallet addresses (Bitcoin base58check and bech32/bech32m, Ethereum
//! with its EIP-55 mixed-case checksum), a card's verification code and expiry date, its PIN, and
//! the magnetic stripe's track data.
//!
//! A routing number's checksum passes one nine-digit number in ten, so it needs its words; an
//! account number has no check at all and is only what its words say. A wallet address carries
//! a real checksum (four bytes of double SHA-256, a BCH code, or EIP-55's case pattern), so it
//! is masked alone; an Ethereum address written in one case has no checksum and needs wallet
//! words. Verification codes and expiry dates are three or four digits and a month: only their
//! labels (`CVV`, `exp.`) make them a card's. A PIN is four to twelve digits and is found only
//! right after `PIN` written as the acronym (upper case) or `PIN code` / `PIN number`: "pin" in
//! its other senses (a chip's pins, a pinned message) is lower case or not next to a number.
//! Track data has a fixed grammar (ISO/IEC 7813): track 1 `%B<PAN>^<NAME>^<YYMM><service
//! code><discretionary>?`, track 2 `;<PAN>=<YYMM><service code><discretionary>?`, with a
//! Luhn-valid PAN and a real month; the sentinels are optional (logs often drop them).

use super::ids::{format_score, Proposal, Token, CONFIRMED, FORMATTED};
use super::validate::luhn_ok;
use crate::entity::BuiltinKind as K;
use sha2::{Digest, Sha256};
use sha3::Keccak256;

/// The kinds of this family.
pub const KINDS: &[K] = &[
    K::AbaRouting,
    K::SwiftBic,
    K::BankAccount,
    K::CryptoWallet,
    K::CardCvv,
    K::CardExpiry,
    K::CardTrackData,
    K::CardPin,
];

/// Score of track data: above a card number's, so the whole track wins over the PAN inside it.
const TRACK: f32 = 0.99;
/// Longest track 1 and track 2 (ISO/IEC 7813), sentinels included.
const TRACK1_MAX: usize = 79;
const TRACK2_MAX: usize = 40;
/// Longest cardholder name field of track 1, and the shortest (ISO/IEC 7813).
const TRACK1_NAME: std::ops::RangeInclusive<usize> = 2..=26;
/// Separators between a PIN label and its digits.
const PIN_GAP: &[u8] = b" \t:#-.";

const ROUTING_WORDS: &[&str] = &["routing", "aba", "rtn", "routing number", "routing no", "transit number", "ach"];
const SWIFT_WORDS: &[&str] = &["swift", "bic", "swift code", "swift bic", "bic code"];
const ACCOUNT_WORDS: &[&str] = &[
    "account number",
    "account no",
    "account #",
    "acct",
    "acct no",
    "a c",
    "bank account",
    "checking account",
    "savings account",
    "kontonummer",
    "numéro de compte",
    "número de cuenta",
    "conta",
];
const WALLET_WORDS: &[&str] =
    &["wallet", "address", "eth", "ethereum", "btc", "bitcoin", "send to", "metamask", "usdt"];
const CVV_WORDS: &[&str] = &["cvv", "cvv2", "cvc", "cvc2", "cid", "security code", "card verification", "csc"];
const EXPIRY_WORDS: &[&str] = &[
    "exp",
    "expiry",
    "expires",
    "expiration",
    "expiration date",
    "valid thru",
    "valid through",
    "good thru",
    "gültig bis",
];
/// ISO 3166 country codes of the BICs most often seen (a BIC with a digit in its location code
/// and one of these is masked without words; others need `SWIFT`/`BIC` before them).
const BIC_COUNTRIES: &[&[u8; 2]] = &[
    b"US", b"GB", b"DE", b"FR", b"IT", b"ES", b"NL", b"BE", b"CH", b"AT", b"IE", b"PT", b"LU", b"SE", b"NO", b"DK",
    b"FI", b"PL", b"CZ", b"HU", b"RO", b"GR", b"CA", b"MX", b"BR", b"AR", b"CL", b"CO", b"IN", b"CN", b"HK", b"JP",
    b"KR", b"SG", b"AU", b"NZ", b"ZA", b"AE", b"SA", b"TR", b"IL", b"RU", b"UA", b"TW", b"TH", b"MY", b"ID", b"PH",
];

/// Identifiers read beyond their token (track data: the PAN's token is glued to `=` or `^`).
pub fn classify_extended(t: &Token<'_>) -> Option<Proposal> {
    match t.text.as_bytes().get(t.end)? {
        b'=' => track2(t),
        b'^' => track1(t),
        _ => None,
    }
}

/// A primary account number as the stripe holds it: 12 to 19 digits, Luhn-valid.
fn pan_ok(pan: &[u8]) -> bool {
    if !(12..=19).contains(&pan.len()) || !pan.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let digits: Vec<u8> = pan.iter().map(|c| c - b'0').collect();
    luhn_ok(&digits)
}

/// `YYMM` and a three-digit service code at the start of `b`, with a real month.
fn expiry_and_service(b: &[u8]) -> bool {
    let Some(head) = b.get(..7) else { return false };
    let month = |hi: u8, lo: u8| (hi - b'0') * 10 + (lo - b'0');
    head.iter().all(u8::is_ascii_digit) && matches!(head, [_, _, m1, m2, ..] if (1..=12).contains(&month(*m1, *m2)))
}

/// Digits from `at`, at most up to `limit`, then an end sentinel `?` if one follows: the end.
fn digits_then_sentinel(text: &[u8], at: usize, limit: usize) -> usize {
    let mut end = at;
    while end < limit && text.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if end < limit && text.get(end) == Some(&b'?') {
        end += 1;
    }
    end
}

/// Track 2: `;PAN=YYMM SSS discretionary?`, the token being the PAN.
fn track2(t: &Token<'_>) -> Option<Proposal> {
    let text = t.text.as_bytes();
    if !pan_ok(t.bytes()) {
        return None;
    }
    let start = if t.start > 0 && text.get(t.start - 1) == Some(&b';') { t.start - 1 } else { t.start };
    let data = t.end + 1;
    if !expiry_and_service(text.get(data..)?) {
        return None;
    }
    let end = digits_then_sentinel(text, data, (start + TRACK2_MAX).min(text.len()));
    Some((start, end, K::CardTrackData, TRACK))
}

/// Track 1: `%B PAN ^ NAME ^ YYMM SSS discretionary ?`, the token being `B` and the PAN.
fn track1(t: &Token<'_>) -> Option<Proposal> {
    let text = t.text.as_bytes();
    let pan = t.bytes().strip_prefix(b"B")?;
    if !pan_ok(pan) {
        return None;
    }
    let start = if t.start > 0 && text.get(t.start - 1) == Some(&b'%') { t.start - 1 } else { t.start };
    let limit = (start + TRACK1_MAX).min(text.len());
    let name_start = t.end + 1;
    let name_len = text.get(name_start..limit)?.iter().position(|&c| c == b'^')?;
    let name = text.get(name_start..name_start + name_len)?;
    if !TRACK1_NAME.contains(&name_len) || !name.iter().all(|c| (b' '..=b'~').contains(c) && !b"%?".contains(c)) {
        return None;
    }
    let data = name_start + name_len + 1;
    if !expiry_and_service(text.get(data..limit)?) {
        return None;
    }
    Some((start, digits_then_sentinel(text, data, limit), K::CardTrackData, TRACK))
}

/// Whether a PIN label ends right before `start`: `PIN` as written (upper case), or `PIN code`,
/// `PIN number`, `PIN no` in any case, then only separators (and perhaps `is`).
fn pin_labelled(text: &[u8], start: usize) -> bool {
    let window = text.get(start.saturating_sub(32)..start).unwrap_or(&[]);
    let mut words = window.split(|c| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).rev();
    // The label is followed by at least one separator, and nothing else but `is`.
    let gap = window.iter().rev().take_while(|c| !c.is_ascii_alphanumeric()).count();
    if gap == 0 || !window.iter().rev().take(gap).all(|c| PIN_GAP.contains(c)) {
        return false;
    }
    let mut last = words.next();
    if last.is_some_and(|w| w.eq_ignore_ascii_case(b"is")) {
        // `PIN is 1234`: the word before `is` must end where `is` starts, but one space.
        last = words.next();
    }
    match last {
        Some(b"PIN") => true,
        Some(w) if [&b"code"[..], b"number", b"no"].iter().any(|x| w.eq_ignore_ascii_case(x)) => {
            words.next().is_some_and(|p| p.eq_ignore_ascii_case(b"pin"))
        }
        _ => false,
    }
}

/// Propose at most one financial identifier for the token.
pub fn classify(t: &Token<'_>) -> Option<Proposal> {
    let b = t.bytes();
    if t.numeric() {
        return numeric(t);
    }
    match b.len() {
        8 | 11 if t.digits >= 1 => swift(t),
        26..=35 if b.first().is_some_and(|c| matches!(c, b'1' | b'3')) => base58_address(t),
        42 if b.starts_with(b"0x") || b.starts_with(b"0X") => ethereum(t),
        42 | 62 => bech32_address(t),
        _ => None,
    }
}

fn numeric(t: &Token<'_>) -> Option<Proposal> {
    let b = t.bytes();
    let span = |kind, score: f32| Some((t.start, t.end, kind, score));
    // Verification code: three or four digits right after its label.
    if (3..=4).contains(&b.len()) && t.digits == b.len() && t.words_within(CVV_WORDS, 16).is_some() {
        return span(K::CardCvv, CONFIRMED);
    }
    // PIN: four to twelve digits right after its label.
    if (4..=12).contains(&b.len()) && t.digits == b.len() && pin_labelled(t.text.as_bytes(), t.start) {
        return span(K::CardPin, CONFIRMED);
    }
    // Expiry: MM/YY or MM/YYYY after its label.
    if let Some((m, y)) = t.value.split_once('/') {
        let month_ok = m.len() <= 2 && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m));
        let year_ok = (y.len() == 2 || y.len() == 4) && y.bytes().all(|c| c.is_ascii_digit());
        if month_ok && year_ok && t.words_within(EXPIRY_WORDS, 24).is_some() {
            return span(K::CardExpiry, CONFIRMED);
        }
    }
    if t.digits == 9 && t.separator().is_none() && aba_ok(b) && t.after_words(ROUTING_WORDS) {
        return span(K::AbaRouting, CONFIRMED);
    }
    let grouped = matches!(t.separator(), None | Some(b'-') | Some(b' '));
    if (6..=17).contains(&t.digits) && grouped && t.words_within(ACCOUNT_WORDS, 32).is_some() {
        return span(K::BankAccount, CONFIRMED - 0.1);
    }
    None
}

/// ABA routing number: the first two digits in 00-12, 21-32, 61-72 or 80; weights 3, 7, 1
/// repeated, sum a multiple of 10.
pub fn aba_ok(b: &[u8]) -> bool {
    if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let v = |i: usize| b.get(i).map_or(0, |c| u32::from(c - b'0'));
    let prefix = v(0) * 10 + v(1);
    let sum = 3 * (v(0) + v(3) + v(6)) + 7 * (v(1) + v(4) + v(7)) + v(2) + v(5) + v(8);
    matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80) && sum % 10 == 0 && !b.iter().all(|&c| c == b'0')
}

/// SWIFT/BIC (ISO 9362): four letters (the institution), a country code, two letters or digits
/// (the location), optionally three more (the branch). Only codes with a digit reach here (the
/// token scan starts at digits); with `SWIFT`/`BIC` words, or a known country code, in upper case.
fn swift(t: &Token<'_>) -> Option<Proposal> {
    let b = t.bytes();
    let upper_alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let shape = b.iter().take(6).all(u8::is_ascii_uppercase) && b.iter().skip(6).all(upper_alnum);
    if !shape {
        return None;
    }
    if t.after_words(SWIFT_WORDS) {
        return Some((t.start, t.end, K::SwiftBic, CONFIRMED));
    }
    let country = b.get(4..6)?;
    let known = BIC_COUNTRIES.iter().any(|c| c.as_slice() == country);
    // A location code's digit and a known country: `NWBKGB2L`, `CHASUS33`.
    let location_digit = b.get(6..8).is_some_and(|l| l.iter().any(u8::is_ascii_digit));
    (known && location_digit).then_some((t.start, t.end, K::SwiftBic, format_score(t, FORMATTED - 0.15)))
}

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// A legacy Bitcoin address (`1...` P2PKH, `3...` P2SH): base58 of a version byte, 20 bytes of
/// hash and the first four bytes of the double SHA-256 of those 21.
fn base58_address(t: &Token<'_>) -> Option<Proposal> {
    base58check_ok(t.bytes()).then_some((t.start, t.end, K::CryptoWallet, CONFIRMED))
}

pub fn base58check_ok(b: &[u8]) -> bool {
    // Decode into 25 bytes, big-endian; anything longer is not an address.
    let mut out = [0u8; 25];
    for &c in b {
        let Some(mut carry) = BASE58.iter().position(|&x| x == c).map(|v| v as u32) else { return false };
        for byte in out.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return false;
        }
    }
    // Leading `1`s stand for leading zero bytes.
    let ones = b.iter().take_while(|&&c| c == b'1').count();
    let zeros = out.iter().take_while(|&&x| x == 0).count();
    if ones != zeros {
        return false;
    }
    let (Some(payload), Some(check)) = (out.get(..21), out.get(21..)) else { return false };
    if !matches!(payload.first(), Some(0x00 | 0x05)) {
        return false;
    }
    // Bitcoin's base58check: the first four bytes of SHA-256 applied twice.
    let digest = Sha256::digest(Sha256::digest(payload));
    digest.get(..4) == Some(check)
}

/// A SegWit Bitcoin address: `bc1` and a bech32 (version 0) or bech32m (later versions)
/// checksum, in one case.
fn bech32_address(t: &Token<'_>) -> Option<Proposal> {
    bech32_ok(t.value).then_some((t.start, t.end, K::CryptoWallet, CONFIRMED))
}

pub fn bech32_ok(s: &str) -> bool {
    const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower = s.to_ascii_lowercase();
    if lower != s && s.to_ascii_uppercase() != s {
        return false;
    }
    let Some(data) = lower.strip_prefix("bc1") else { return false };
    let mut values = Vec::with_capacity(data.len());
    for c in data.bytes() {
        let Some(v) = CHARSET.iter().position(|&x| x == c) else { return false };
        values.push(v as u32);
    }
    let polymod = |values: &[u32]| {
        const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
        let mut chk = 1u32;
        for &v in values {
            let top = chk >> 25;
            chk = (chk & 0x1ff_ffff) << 5 ^ v;
            for (i, g) in GEN.iter().enumerate() {
                if (top >> i) & 1 == 1 {
                    chk ^= g;
                }
            }
        }
        chk
    };
    // Human-readable part `bc` expanded: high bits, 0, low bits.
    let mut all = vec![3, 3, 0, 2, 3];
    all.extend_from_slice(&values);
    let check = polymod(&all);
    match values.first() {
        Some(0) => check == 1,
        Some(1..=16) => check == 0x2bc8_30a3,
        _ => false,
    }
}

/// An Ethereum address: `0x` and 40 hex digits. Mixed case must pass EIP-55 (a letter is upper
/// case exactly where the Keccak-256 of the lower-case address has a nibble of 8 or more);
/// one case needs wallet words.
fn ethereum(t: &Token<'_>) -> Option<Proposal> {
    let hex = t.value.get(2..)?;
    if hex.len() != 40 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let has_upper = hex.bytes().any(|c| c.is_ascii_uppercase());
    let has_lower = hex.bytes().any(|c| c.is_ascii_lowercase());
    if has_upper && has_lower {
        return eip55_ok(hex).then_some((t.start, t.end, K::CryptoWallet, CONFIRMED));
    }
    t.after_words(WALLET_WORDS).then_some((t.start, t.end, K::CryptoWallet, CONFIRMED - 0.1))
}

pub fn eip55_ok(hex: &str) -> bool {
    let lower = hex.to_ascii_lowercase();
    // EIP-55: Keccak-256 with the original submission's padding (not SHA3-256).
    let hash = Keccak256::digest(lower.as_bytes());
    hex.bytes().enumerate().all(|(i, c)| {
        let nibble = hash.get(i / 2).map_or(0, |h| if i % 2 == 0 { h >> 4 } else { h & 0x0f });
        !c.is_ascii_alphabetic() || c.is_ascii_uppercase() == (nibble >= 8)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn routing_numbers() {
        // Published routing numbers of large US banks (public directory data).
        assert!(aba_ok(b"021000021"));
        assert!(aba_ok(b"011000015"));
        assert!(!aba_ok(b"021000022"));
        assert!(!aba_ok(b"991000021"));
    }

    #[test]
    fn wallet_checksums() {
        // The genesis block's address, a widely published bech32 example, a bech32m one.
        assert!(base58check_ok(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"));
        assert!(!base58check_ok(b"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"));
        assert!(bech32_ok("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(bech32_ok("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"));
        assert!(!bech32_ok("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"));
        assert!(!bech32_ok("bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(bech32_ok("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"));
        // EIP-55's own examples.
        assert!(eip55_ok("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
        assert!(eip55_ok("fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"));
        assert!(!eip55_ok("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
    }
}
