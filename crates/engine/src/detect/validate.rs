//! Checksums and structural rules that turn a regex candidate into a finding: Luhn and issuer
//! ranges for payment cards, the IBAN registry lengths and mod-97, SSN allocation rules, IP
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

/// IBAN lengths per country, from the SWIFT IBAN registry.
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The registered IBAN length for a country code (upper-case ASCII), if the country uses IBAN.
pub fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS.iter().find(|(c, _)| c.as_slice() == country).map(|&(_, n)| n)
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
