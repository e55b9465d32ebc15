//! Checksums and structural rules that turn a regex candidate into a finding: Luhn and issuer
//! ranges for payment cards, the IBAN registry's BBAN formats and mod-97, SSN allocation rules, IP
//! parsing with `std::net`, and the JWT header shape.

use base64::Engine as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The ASCII digits of `s`, ignoring every other byte.
pub fn digits_of(s: &str) -> Vec<u8> {
    s.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect()
}

/// Luhn (ISO/IEC 7812-1 annex B) over decimal digit values.
pub fn luhn_ok(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d);
        if i & 1 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The number formed by the first `n` digits (0 when there are fewer).
fn prefix_value(digits: &[u8], n: usize) -> u32 {
    if digits.len() < n {
        return 0;
    }
    digits.iter().take(n).fold(0u32, |acc, &d| acc * 10 + u32::from(d))
}

/// Whether the digits fall in a published issuer range with a length that issuer uses.
/// Ranges follow the networks' public BIN documentation (Visa 4; Mastercard 51-55 and
/// 2221-2720; Amex 34/37; Discover 6011, 644-649, 65; JCB 3528-3589; Diners 300-305, 36, 38-39;
/// UnionPay 62; Maestro 50, 56-69).
pub fn card_issuer_ok(digits: &[u8]) -> bool {
    let len = digits.len();
    let p1 = prefix_value(digits, 1);
    let p2 = prefix_value(digits, 2);
    let p3 = prefix_value(digits, 3);
    let p4 = prefix_value(digits, 4);
    let visa = p1 == 4 && matches!(len, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16;
    let amex = matches!(p2, 34 | 37) && len == 15;
    let discover = (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65) && (16..=19).contains(&len);
    // JCB also issued 15-digit numbers under 2131 and 1800.
    let jcb = ((3528..=3589).contains(&p4) && (16..=19).contains(&len)) || (matches!(p4, 2131 | 1800) && len == 15);
    let diners = ((300..=305).contains(&p3) || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&len);
    let unionpay = p2 == 62 && (16..=19).contains(&len);
    let maestro = (p2 == 50 || (56..=69).contains(&p2)) && (12..=19).contains(&len);
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro
}

/// Whether a token body looks machine-generated rather than typed by a person as a stand-in:
/// enough distinct characters, no long run of one character (`xxxxxxxx`, `11111111`) and not
/// mostly alphabet or digit sequences (`abcdefgh`, `12345678`).
pub fn looks_random(body: &str) -> bool {
    let b: Vec<u8> = body.bytes().filter(|c| c.is_ascii_alphanumeric()).collect();
    if b.len() < 8 {
        return false;
    }
    let mut seen = [false; 128];
    let mut distinct = 0;
    let mut run = 1;
    let mut longest_run = 1;
    let mut sequential = 0;
    for (i, &c) in b.iter().enumerate() {
        if let Some(slot) = seen.get_mut(usize::from(c)) {
            if !*slot {
                *slot = true;
                distinct += 1;
            }
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|j| b.get(j)) {
            if prev == c {
                run += 1;
                longest_run = longest_run.max(run);
            } else {
                run = 1;
            }
            if c == prev.wrapping_add(1) {
                sequential += 1;
            }
        }
    }
    // A hex body (Slack user tokens, DigitalOcean, Shopify) has only 16 symbols to show: 64
    // random hex digits miss one of them a quarter of the time.
    // A version marker in the body (`dop_v1_` + 64 hex) does not make it any less hex.
    let non_hex = b.iter().filter(|c| !c.is_ascii_hexdigit()).count();
    let most = if non_hex * 16 <= b.len() { 10 } else { 16 };
    // A run of one character is a stand-in's when it is six or more and a quarter of the body
    // or ten characters; shorter runs inside a long random body happen by chance.
    let filler_run = longest_run >= 6 && (longest_run * 4 >= b.len() || longest_run >= 10);
    distinct >= (b.len() / 4).clamp(6, most) && !filler_run && sequential * 3 < b.len()
}

/// The longest run of one byte in `b`.
pub fn longest_run(b: &[u8]) -> usize {
    let (mut longest, mut run) = (0, 0);
    for (i, &c) in b.iter().enumerate() {
        run = if i > 0 && b.get(i - 1) == Some(&c) { run + 1 } else { 1 };
        longest = longest.max(run);
    }
    longest
}

/// The BBAN (the part after the country code and check digits) of each country that uses IBAN,
/// from the SWIFT IBAN registry, in its notation: runs of `n` digits, `a` upper-case letters and
/// `c` letters or digits (the registry's fixed-length `!` marks are implied). The IBAN's length
/// is four plus the BBAN's.
const BBAN_FORMATS: &[(&[u8; 2], &str)] = &[
    (b"AD", "8n12c"),
    (b"AE", "19n"),
    (b"AL", "8n16c"),
    (b"AT", "16n"),
    (b"AZ", "4a20c"),
    (b"BA", "16n"),
    (b"BE", "12n"),
    (b"BG", "4a6n8c"),
    (b"BH", "4a14c"),
    (b"BI", "23n"),
    (b"BR", "23n1a1c"),
    (b"BY", "4c4n16c"),
    (b"CH", "5n12c"),
    (b"CR", "18n"),
    (b"CY", "8n16c"),
    (b"CZ", "20n"),
    (b"DE", "18n"),
    (b"DJ", "23n"),
    (b"DK", "14n"),
    (b"DO", "4c20n"),
    (b"EE", "16n"),
    (b"EG", "25n"),
    (b"ES", "20n"),
    (b"FI", "14n"),
    (b"FK", "2a12n"),
    (b"FO", "14n"),
    (b"FR", "10n11c2n"),
    (b"GB", "4a14n"),
    (b"GE", "2a16n"),
    (b"GI", "4a15c"),
    (b"GL", "14n"),
    (b"GR", "7n16c"),
    (b"GT", "24c"),
    (b"HR", "17n"),
    (b"HU", "24n"),
    (b"IE", "4a14n"),
    (b"IL", "19n"),
    (b"IQ", "4a15n"),
    (b"IS", "22n"),
    (b"IT", "1a10n12c"),
    (b"JO", "4a4n18c"),
    (b"KW", "4a22c"),
    (b"KZ", "3n13c"),
    (b"LB", "4n20c"),
    (b"LC", "4a24c"),
    (b"LI", "5n12c"),
    (b"LT", "16n"),
    (b"LU", "3n13c"),
    (b"LV", "4a13c"),
    (b"LY", "21n"),
    (b"MC", "10n11c2n"),
    (b"MD", "20c"),
    (b"ME", "18n"),
    (b"MK", "3n10c2n"),
    (b"MN", "16n"),
    (b"MR", "23n"),
    (b"MT", "4a5n18c"),
    (b"MU", "4a19n3a"),
    (b"NI", "4a20n"),
    (b"NL", "4a10n"),
    (b"NO", "11n"),
    (b"OM", "3n16c"),
    (b"PK", "4a16c"),
    (b"PL", "24n"),
    (b"PS", "4a21c"),
    (b"PT", "21n"),
    (b"QA", "4a21c"),
    (b"RO", "4a16c"),
    (b"RS", "18n"),
    (b"RU", "14n15c"),
    (b"SA", "2n18c"),
    (b"SC", "4a20n3a"),
    (b"SD", "14n"),
    (b"SE", "20n"),
    (b"SI", "15n"),
    (b"SK", "20n"),
    (b"SM", "1a10n12c"),
    (b"SO", "19n"),
    (b"ST", "21n"),
    (b"SV", "4a20n"),
    (b"TL", "19n"),
    (b"TN", "20n"),
    (b"TR", "6n16c"),
    (b"UA", "6n19c"),
    (b"VA", "18n"),
    (b"VG", "4a16n"),
    (b"XK", "16n"),
    (b"YE", "4a4n18c"),
];

/// The runs of a BBAN format: (count, class byte).
fn bban_runs(format: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let b = format.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let digits = b.get(i..)?.iter().take_while(|c| c.is_ascii_digit()).count();
        let count = b.get(i..i + digits)?.iter().fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'));
        let class = *b.get(i + digits)?;
        i += digits + 1;
        Some((count, class))
    })
}

fn bban_format(country: &[u8]) -> Option<&'static str> {
    BBAN_FORMATS.iter().find(|(c, _)| c.as_slice() == country).map(|&(_, f)| f)
}

/// The registered IBAN length for a country code (upper-case ASCII), if the country uses IBAN.
pub fn iban_length(country: &[u8]) -> Option<usize> {
    bban_format(country).map(|f| 4 + bban_runs(f).map(|(n, _)| n).sum::<usize>())
}

/// Whether a compact upper-case IBAN has its country's BBAN shape (digits where the registry
/// has digits, letters where it has letters) and check digits in the range mod-97 yields
/// (02 to 98). A hex id that passes mod-97 by chance (one in 97) has letters where a bank
/// code or account number has digits.
pub fn iban_shape_ok(compact: &[u8]) -> bool {
    let (Some(country), Some(check), Some(mut bban)) = (compact.get(..2), compact.get(2..4), compact.get(4..)) else {
        return false;
    };
    let Some(format) = bban_format(country) else { return false };
    if !check.iter().all(u8::is_ascii_digit) || !(b"02".as_slice()..=b"98".as_slice()).contains(&check) {
        return false;
    }
    for (count, class) in bban_runs(format) {
        let Some((run, rest)) = bban.split_at_checked(count) else { return false };
        let fits = |c: &u8| match class {
            b'n' => c.is_ascii_digit(),
            b'a' => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit() || c.is_ascii_uppercase(),
        };
        if !run.iter().all(fits) {
            return false;
        }
        bban = rest;
    }
    bban.is_empty()
}

/// ISO 13616 mod-97 check over a compact upper-case IBAN.
pub fn iban_mod97_ok(compact: &[u8]) -> bool {
    if compact.len() < 5 {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem = 0u32;
    for &b in tail.iter().chain(head) {
        match b {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// US SSN allocation rules (SSA): area not 000, 666 or 900-999; group not 00; serial not 0000.
/// Nine identical digits are also refused: they are the classic filler, never issued.
pub fn ssn_ok(digits: &[u8]) -> bool {
    if digits.len() != 9 {
        return false;
    }
    let area = prefix_value(digits, 3);
    let group = digits.get(3..5).map(|g| prefix_value(g, 2)).unwrap_or(0);
    let serial = digits.get(5..9).map(|s| prefix_value(s, 4)).unwrap_or(0);
    let all_same = digits.iter().all(|&d| Some(&d) == digits.first());
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !all_same
}

/// An IPv4 address worth masking: parsed by `std::net` (which refuses leading zeros), and not the
/// unspecified address or a netmask-looking 255.x value, which identify nobody.
pub fn ipv4_ok(s: &str) -> bool {
    match s.parse::<Ipv4Addr>() {
        Ok(ip) => !ip.is_unspecified() && ip.octets()[0] != 255,
        Err(_) => false,
    }
}

/// An IPv6 address worth masking: parsed by `std::net`, with at least two non-empty groups and a
/// decimal digit, so `::1`, `::` and word pairs like `dead::beef` or `Ab::Cd` are left alone.
pub fn ipv6_ok(s: &str) -> bool {
    if s.parse::<Ipv6Addr>().is_err() {
        return false;
    }
    let groups = s.split(':').filter(|g| !g.is_empty()).count();
    groups >= 2 && s.bytes().any(|b| b.is_ascii_digit())
}

/// A JWT (RFC 7519): the first segment decodes as base64url to a JSON object with an `alg` member.
pub fn jwt_header_ok(token: &str) -> bool {
    let header = token.split('.').next().unwrap_or("");
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let Ok(bytes) = engine.decode(header.trim_end_matches('=')) else {
        return false;
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => map.contains_key("alg"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn luhn_accepts_documented_test_cards_and_rejects_one_digit_off() {
        for n in ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"] {
            assert!(luhn_ok(&digits_of(n)), "{n}");
        }
        assert!(!luhn_ok(&digits_of("4111111111111112")));
    }

    #[test]
    fn iban_registry_example_passes_mod97_and_a_typo_fails() {
        assert!(iban_mod97_ok(b"GB82WEST12345698765432"));
        assert!(!iban_mod97_ok(b"GB82WEST12345698765433"));
        assert_eq!(iban_length(b"DE"), Some(22));
        assert_eq!(iban_length(b"US"), None);
    }

    /// Every registry format parses to the registered length (the registry's examples).
    #[test]
    fn bban_formats_give_the_registered_lengths_and_shapes() {
        for (country, length) in [(b"DE", 22), (b"GB", 22), (b"FR", 27), (b"NO", 15), (b"LC", 32), (b"RU", 33)] {
            assert_eq!(iban_length(country), Some(length), "{country:?}");
        }
        for (_, format) in BBAN_FORMATS {
            assert!(bban_runs(format).all(|(n, class)| n > 0 && matches!(class, b'n' | b'a' | b'c')), "{format}");
        }
        for iban in [
            "GB82WEST12345698765432",
            "FR1420041010050500013M02606",
            "IT60X0542811101000000123456",
            "BA391290079401028494",
        ] {
            assert!(iban_shape_ok(iban.as_bytes()), "{iban}");
        }
        // Letters where Bosnia's BBAN has digits; check digits 00 and 99 are never computed.
        for iban in
            ["BA80DF21874247AC8653", "DE00370400440532013000", "DE99370400440532013000", "GB82W3ST12345698765432"]
        {
            assert!(!iban_shape_ok(iban.as_bytes()), "{iban}");
        }
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn_ok(&digits_of("536-90-4399")));
        for bad in ["000-12-3456", "666-12-3456", "912-12-3456", "123-00-4567", "123-45-0000", "111-11-1111"] {
            assert!(!ssn_ok(&digits_of(bad)), "{bad}");
        }
    }

    #[test]
    fn ip_parsing() {
        assert!(ipv4_ok("192.0.2.1"));
        assert!(!ipv4_ok("0.0.0.0"));
        assert!(!ipv4_ok("256.1.1.1"));
        assert!(ipv6_ok("2001:db8::1"));
        assert!(!ipv6_ok("::1"));
        assert!(!ipv6_ok("dead::beef"));
        assert!(!ipv6_ok("12:30:45"));
    }

    #[test]
    fn stand_in_tokens_do_not_look_random() {
        assert!(looks_random("R3fQ9zLk2VbN8mWx4TcY7pHs1JdG6aKe"));
        assert!(!looks_random("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(!looks_random("abcdefghijklmnopqrstuvwxyz1234567"));
        assert!(!looks_random("XXXXXXXXXXX-XXXXXXXX"));
    }

    #[test]
    fn jwt_header_needs_alg() {
        assert!(jwt_header_ok("eyJhbGciOiJIUzI1NiJ9.e30.x"));
        assert!(!jwt_header_ok("eyJmb28iOiJiYXIifQ.e30.x"));
    }
}
