//! Phone number shapes. A candidate (digits with spaces, dashes, dots, slashes and parentheses)
//! is split into digit groups and accepted only if its grouping is one that people write phone
//! numbers in: E.164 with `+`, NANP `(212) 555-0123`, French pairs, the trunk-`0` national forms
//! of the UK, Germany and India, and Indian 5+5 mobiles. Bare digit runs, dates (`2024-01-31`),
//! versions and dotted quads have other groupings and are refused here.

/// A candidate split into digit groups.
#[derive(Debug, Default)]
struct Groups<'a> {
    plus: bool,
    /// Digit groups, with the byte offset (in the candidate) just past each one.
    groups: Vec<(&'a str, usize)>,
    /// The first group was written in parentheses.
    paren_first: bool,
    /// Separator bytes seen between groups (ignoring parentheses).
    seps: Vec<u8>,
    /// Two separators in a row (other than around parentheses), e.g. `1--2`.
    messy: bool,
}

fn split(candidate: &str) -> Groups<'_> {
    let b = candidate.as_bytes();
    let mut g = Groups::default();
    let mut i = 0;
    let mut sep_run = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(b' ');
        if c.is_ascii_digit() {
            let s = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if let Some(d) = candidate.get(s..i) {
                if g.groups.is_empty() && s > 0 && b.get(s - 1) == Some(&b'(') {
                    g.paren_first = true;
                }
                g.groups.push((d, i));
            }
            sep_run = 0;
            continue;
        }
        match c {
            b'+' if g.groups.is_empty() => g.plus = true,
            b'(' | b')' => {}
            _ => {
                g.seps.push(c);
                sep_run += 1;
                if sep_run > 1 && !(c == b' ' && b.get(i.wrapping_sub(1)) == Some(&b'-'))
                    && !(c == b'-' && b.get(i.wrapping_sub(1)) == Some(&b' '))
                {
                    g.messy = true;
                }
            }
        }
        i += 1;
    }
    g
}

/// Whether a digit string starts with one of `firsts`.
fn starts(d: &str, firsts: &[u8]) -> bool {
    d.as_bytes().first().is_some_and(|c| firsts.contains(c))
}

/// How a candidate qualified as a phone number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PhoneShape {
    /// `+` and a plausible international length.
    International,
    /// A separated national format (NANP, FR, UK/DE/IN trunk-0, IN mobile).
    National,
    /// A plain digit run or short local number: a phone only when the context says so.
    NeedsContext,
}

fn classify(lens: &[usize], ds: &[&str], plus: bool, paren_first: bool, total: usize) -> Option<PhoneShape> {
    let first = ds.first().copied().unwrap_or("");
    if plus {
        // E.164: at most 15 digits; country codes are 1-3 digits, so a longer first group is
        // only fine for the compact form.
        let ok = (8..=15).contains(&total) && (lens.len() == 1 || (first.len() <= 4 && lens.iter().all(|&l| l <= 10)));
        return ok.then_some(PhoneShape::International);
    }
    if first.starts_with("00") && first.len() <= 5 && lens.len() >= 3 && (10..=15).contains(&total) {
        return Some(PhoneShape::International);
    }
    let nanp = |area: &str, exch: &str| starts(area, b"23456789") && starts(exch, b"23456789");
    match (lens, ds) {
        ([3, 3, 4], [a, e, _]) if nanp(a, e) => return Some(PhoneShape::National),
        ([1, 3, 3, 4], ["1", a, e, _]) if nanp(a, e) => return Some(PhoneShape::National),
        ([2, 2, 2, 2, 2], _) if first.starts_with('0') && first != "00" => return Some(PhoneShape::National),
        ([5, 5], [m, _]) if starts(m, b"6789") => return Some(PhoneShape::National),
        ([3, 4], _) if !paren_first && !first.starts_with('0') => return Some(PhoneShape::NeedsContext),
        ([10] | [11], [d]) => {
            let nanp10 = d.len() == 10 && starts(d, b"23456789") && d.get(3..).is_some_and(|e| starts(e, b"23456789"));
            let trunk = d.starts_with('0') && !d.starts_with("00");
            let nanp11 = d.len() == 11 && d.starts_with('1');
            let in_mobile = d.len() == 10 && starts(d, b"6789");
            return (nanp10 || trunk || nanp11 || in_mobile).then_some(PhoneShape::NeedsContext);
        }
        _ => {}
    }
    // Trunk-prefix national numbers (UK 020 7946 0958, DE 030 12345678, IN 022 2345 6789):
    // an area code of 3-5 digits starting with one 0, then one to three groups of 2+ digits.
    let trunk_area = first.starts_with('0') && !first.starts_with("00") && (3..=5).contains(&first.len());
    let rest_ok = lens.iter().skip(1).all(|&l| l >= 2) && (2..=4).contains(&lens.len());
    if trunk_area && rest_ok && (9..=12).contains(&total) {
        return Some(PhoneShape::National);
    }
    None
}

/// Check a candidate; returns the accepted length (a prefix of the candidate: trailing groups
/// that spoil the shape are dropped) and its shape.
pub fn check(candidate: &str) -> Option<(usize, PhoneShape)> {
    let g = split(candidate);
    if g.messy {
        return None;
    }
    // One separator style per number, except spaces mixed with dashes or parentheses; a slash
    // only after a German-style area code.
    let has = |c: u8| g.seps.contains(&c);
    if has(b'.') && (has(b'-') || has(b'/')) {
        return None;
    }
    let mut n = g.groups.len();
    while n >= 1 {
        let groups = g.groups.get(..n).unwrap_or(&[]);
        let ds: Vec<&str> = groups.iter().map(|(d, _)| *d).collect();
        let lens: Vec<usize> = ds.iter().map(|d| d.len()).collect();
        let total: usize = lens.iter().sum();
        if has(b'/') && !ds.first().is_some_and(|d| d.starts_with('0')) && !g.plus {
            return None;
        }
        if let Some(shape) = classify(&lens, &ds, g.plus, g.paren_first, total) {
            let end = groups.last().map(|&(_, e)| e).unwrap_or(0);
            // A closing parenthesis right after the last group belongs to the number's form
            // only when it opened inside; never extend past digits.
            return Some((end, shape));
        }
        n -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn accepts_common_national_and_international_forms() {
        for p in [
            "+1 212 555 0123", "(212) 555-0123", "212-555-0123", "212.555.0123", "+44 20 7946 0958", "020 7946 0958",
            "030 12345678", "089/1234567", "01 23 45 67 89", "+33 1 23 45 67 89", "+91 98765 43210", "98765 43210",
            "+4915112345678", "0049 30 1234567",
        ] {
            let (len, shape) = check(p).unwrap_or_else(|| panic!("{p}"));
            assert_eq!(len, p.len(), "{p}");
            assert_ne!(shape, PhoneShape::NeedsContext, "{p}");
        }
    }

    #[test]
    fn refuses_dates_versions_and_quads() {
        for p in ["2024-01-31", "31.01.2024", "192.168.10.12", "10.2.3.4", "1234-5678-9012", "12/31/2024"] {
            assert_eq!(check(p), None, "{p}");
        }
        assert_eq!(check("2125550123").map(|x| x.1), Some(PhoneShape::NeedsContext));
    }

    #[test]
    fn drops_a_trailing_group_that_spoils_the_shape() {
        assert_eq!(check("212-555-0123 2024").map(|x| x.0), Some(12));
    }
}
