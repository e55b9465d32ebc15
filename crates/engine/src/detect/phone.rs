//! Phone number shapes. A candidate (digits with spaces, dashes, dots, slashes and parentheses)
//! is split into digit groups and accepted only if its grouping is one that people write phone
//! numbers in: E.164 with `+`, NANP `(212) 555-0123`, French pairs, the trunk-`0` national forms
//! of the UK, Germany and India, and Indian 5+5 mobiles. Bare digit runs, dates (`2024-01-31`),
//! versions and dotted quads have other groupings and are refused here.

/// Most groups (and separators) a candidate can have: the candidate regex matches at most 30
/// bytes, so at most 15 digit groups; candidates with more are refused.
const MAX_GROUPS: usize = 32;

/// A candidate split into digit groups, each with its byte range in the candidate. Fixed-size
/// arrays, not vectors: every phone-shaped number in a text goes through here.
#[derive(Debug)]
struct Groups<'a> {
    plus: bool,
    groups: [(&'a str, usize, usize); MAX_GROUPS],
    count: usize,
    /// Separator bytes seen between groups (ignoring parentheses).
    seps: [u8; MAX_GROUPS],
    sep_count: usize,
    /// Two separators in a row (other than a space next to a dash or parenthesis), e.g. `1--2`.
    messy: bool,
}

impl<'a> Groups<'a> {
    fn groups(&self) -> &[(&'a str, usize, usize)] {
        self.groups.get(..self.count).unwrap_or(&[])
    }

    fn has_sep(&self, c: u8) -> bool {
        self.seps.get(..self.sep_count).unwrap_or(&[]).contains(&c)
    }
}

/// Split a candidate; `None` if it has more groups or separators than `MAX_GROUPS`.
fn split(candidate: &str) -> Option<Groups<'_>> {
    let b = candidate.as_bytes();
    let mut g = Groups {
        plus: false,
        groups: [("", 0, 0); MAX_GROUPS],
        count: 0,
        seps: [0; MAX_GROUPS],
        sep_count: 0,
        messy: false,
    };
    let mut i = 0;
    let mut prev_sep: Option<u8> = None;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_digit() {
            let s = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if let Some(d) = candidate.get(s..i) {
                *g.groups.get_mut(g.count)? = (d, s, i);
                g.count += 1;
            }
            prev_sep = None;
            continue;
        }
        match c {
            b'+' if g.count == 0 => g.plus = true,
            b'(' | b')' => {}
            _ => {
                *g.seps.get_mut(g.sep_count)? = c;
                g.sep_count += 1;
                if prev_sep.is_some_and(|p| !(p == b' ' || c == b' ')) || prev_sep == Some(c) {
                    g.messy = true;
                }
                prev_sep = Some(c);
            }
        }
        i += 1;
    }
    Some(g)
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
    /// A plain digit run, or short groups that many countries use: a phone only when the
    /// context says so.
    NeedsContext,
}

/// Groupings that are dates or times in common notations, never phone numbers.
fn date_like(ds: &[&str]) -> bool {
    let v = |d: &str| d.parse::<u32>().unwrap_or(0);
    match ds {
        [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => {
            (1..=12).contains(&v(m)) && (1..=31).contains(&v(d))
        }
        [a, b, y] if y.len() == 4 && a.len() <= 2 && b.len() <= 2 => {
            (1..=31).contains(&v(a)) && (1..=31).contains(&v(b))
        }
        _ => false,
    }
}

/// `starts_candidate`: the groups begin the candidate (none was dropped before them).
fn classify(ds: &[&str], plus: bool, paren_first: bool, dotted: bool, starts_candidate: bool) -> Option<PhoneShape> {
    // Phone numbers have at most a handful of groups; longer runs are something else.
    if ds.len() > 8 {
        return None;
    }
    let mut lens_buf = [0usize; 8];
    for (slot, d) in lens_buf.iter_mut().zip(ds) {
        *slot = d.len();
    }
    let lens = lens_buf.get(..ds.len()).unwrap_or(&[]);
    let total: usize = lens.iter().sum();
    let first = ds.first().copied().unwrap_or("");
    if plus {
        // E.164: at most 15 digits; the first group holds the 1-3 digit country code, maybe
        // with the start of the national number.
        let ok = (8..=15).contains(&total) && (lens.len() == 1 || (first.len() <= 6 && lens.iter().all(|&l| l <= 10)));
        return ok.then_some(PhoneShape::International);
    }
    if first.starts_with("00") && first.len() <= 5 && lens.len() >= 3 && (10..=15).contains(&total) {
        return Some(PhoneShape::International);
    }
    if date_like(ds) {
        return None;
    }
    match (lens, ds) {
        ([3, 3, 4], [a, _, _]) if !a.starts_with('0') => return Some(PhoneShape::National),
        ([1, 3, 3, 4], ["1", a, _, _]) if !a.starts_with('0') => return Some(PhoneShape::National),
        ([2, 2, 2, 2, 2], _) if first.starts_with('0') && first != "00" => return Some(PhoneShape::National),
        ([5, 5], [m, _]) if starts(m, b"6789") => return Some(PhoneShape::National),
        // Indian mobiles dialled with the trunk 0: `098765 43210`.
        ([6, 5], [m, _]) if m.starts_with('0') && starts(m.get(1..).unwrap_or(""), b"6789") => {
            return Some(PhoneShape::National)
        }
        ([10] | [11], [d]) => {
            let nanp10 = d.len() == 10 && starts(d, b"23456789");
            let trunk = d.starts_with('0') && !d.starts_with("00");
            let nanp11 = d.len() == 11 && d.starts_with('1');
            let in_mobile = d.len() == 10 && starts(d, b"6789");
            return (nanp10 || trunk || nanp11 || in_mobile).then_some(PhoneShape::NeedsContext);
        }
        _ => {}
    }
    // Trunk-prefix national numbers (UK 020 7946 0958, DE 030 12345678, IN 022 2345 6789):
    // an area code of 3-5 digits starting with one 0, then one to three groups of 3+ digits.
    let trunk_area = first.starts_with('0') && !first.starts_with("00") && (3..=5).contains(&first.len());
    let rest_ok = lens.iter().skip(1).all(|&l| l >= 3) && (2..=4).contains(&lens.len());
    if trunk_area && rest_ok && (9..=12).contains(&total) {
        return Some(PhoneShape::National);
    }
    // Trunk-prefix numbers in short groups, the national forms of most of Europe, Japan and
    // Australia (CH 079 123 45 67, BE 0470 12 34 56, SE 08-123 456 78, JP 03-1234-5678,
    // AU (02) 5550 1234): a 2-5 digit area or mobile prefix with one trunk 0, then two to four
    // groups of 2-4 digits; 9-11 digits in all (ITU-T E.164 national plans: national significant
    // numbers of 8-10 digits after the trunk 0).
    // Only when the candidate starts there (a group dropped before it belongs to another code:
    // `1Z 999 AA1 0123 4567 84`), and never in the 3-2-4 shape of a US SSN.
    let short_rest = lens.iter().skip(1).all(|&l| (2..=4).contains(&l)) && (3..=5).contains(&lens.len());
    let ssn_shape = lens == [3, 2, 4];
    if starts_candidate && trunk_area_short(first) && short_rest && !ssn_shape && (9..=11).contains(&total) && !dotted {
        return Some(PhoneShape::National);
    }
    // A bracketed 2-3 digit area code, then a 4-5 digit and a 4 digit group (BR (11) 91234-5678,
    // AU (02) 5550 1234).
    if starts_candidate && paren_first && matches!(lens, [2..=3, 4..=5, 4]) {
        return Some(PhoneShape::National);
    }
    // Short groups of 2-4 digits (Nordic 12 34 56 78, AU (08) 8747 6301, local 555 0123):
    // common, but so are other grouped numbers, so only with phone words nearby.
    let short_groups =
        (2..=5).contains(&lens.len()) && lens.iter().all(|&l| (2..=4).contains(&l)) || (paren_first && lens.len() >= 2);
    // Dotted short groups are IP addresses, versions and section numbers far more often.
    // Three or more groups of four are how account and card numbers are printed.
    let account_like = lens.len() >= 3 && lens.iter().all(|&l| l == 4);
    // A short prefix and one long group (NO/DK mobile 99 668472, FI 040 1234567): the same.
    let prefix_and_long = matches!(lens, [2..=4, 5..=8]) && (8..=11).contains(&total);
    if (short_groups || prefix_and_long) && !dotted && !account_like && (7..=12).contains(&total) {
        return Some(PhoneShape::NeedsContext);
    }
    None
}

/// A trunk-prefixed area or mobile code of 2-5 digits: one leading 0, not the `00` of an
/// international call.
fn trunk_area_short(first: &str) -> bool {
    first.starts_with('0') && !first.starts_with("00") && (2..=5).contains(&first.len())
}

/// Check a candidate; returns the accepted byte range (start offset and length in the
/// candidate) and its shape. Leading or trailing groups that spoil the shape are dropped, so a
/// year or a count written next to a number does not hide it.
pub fn check(candidate: &str) -> Option<(usize, usize, PhoneShape)> {
    let g = split(candidate)?;
    if g.messy {
        return None;
    }
    let has = |c: u8| g.has_sep(c);
    if has(b'.') && (has(b'-') || has(b'/')) {
        return None;
    }
    let n = g.count;
    let mut all = [""; MAX_GROUPS];
    for (slot, &(d, _, _)) in all.iter_mut().zip(g.groups()) {
        *slot = d;
    }
    let rank = |shape: PhoneShape| match shape {
        PhoneShape::International => 3,
        PhoneShape::National => 2,
        PhoneShape::NeedsContext => 1,
    };
    let mut best: Option<(usize, usize, PhoneShape)> = None;
    for from in 0..n {
        for to in (from + 1..=n).rev() {
            let groups = g.groups().get(from..to).unwrap_or(&[]);
            let ds = all.get(from..to).unwrap_or(&[]);
            let (_, first_start, _) = *groups.first()?;
            let (_, _, last_end) = *groups.last()?;
            // A slash only after a German-style area code.
            if has(b'/') && !g.plus && !ds.first().is_some_and(|d| d.starts_with('0')) {
                continue;
            }
            let paren_first = first_start > 0 && candidate.as_bytes().get(first_start - 1) == Some(&b'(');
            let plus = g.plus && from == 0;
            if let Some(shape) = classify(ds, plus, paren_first, has(b'.'), from == 0) {
                let begin = if from == 0 {
                    0
                } else if paren_first {
                    first_start - 1
                } else {
                    first_start
                };
                // Best shape wins; among equals the earliest, then the longest (loop order).
                if best.is_none_or(|(_, _, b)| rank(shape) > rank(b)) {
                    best = Some((begin, last_end - begin, shape));
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn accepts_common_national_and_international_forms() {
        for p in [
            "+1 212 555 0123",
            "(212) 555-0123",
            "212-555-0123",
            "212.555.0123",
            "+44 20 7946 0958",
            "020 7946 0958",
            "030 12345678",
            "089/1234567",
            "01 23 45 67 89",
            "+33 1 23 45 67 89",
            "+91 98765 43210",
            "98765 43210",
            "+4915112345678",
            "0049 30 1234567",
        ] {
            let (from, len, shape) = check(p).unwrap_or_else(|| panic!("{p}"));
            assert_eq!((from, len), (0, p.len()), "{p}");
            assert_ne!(shape, PhoneShape::NeedsContext, "{p}");
        }
    }

    #[test]
    fn refuses_dates_versions_and_quads() {
        for p in ["2024-01-31", "31.01.2024", "192.168.10.12", "10.2.3.4", "12/31/2024", "1.2.3"] {
            assert_eq!(check(p), None, "{p}");
        }
        // Account-style grouping is at most a weak candidate that needs phone words.
        assert!(check("1234-5678-9012").is_none_or(|x| x.2 == PhoneShape::NeedsContext));
        assert_eq!(check("2125550123").map(|x| x.2), Some(PhoneShape::NeedsContext));
    }

    #[test]
    fn more_groups_than_a_candidate_can_have_are_refused_not_truncated() {
        let long = "1 ".repeat(40);
        assert_eq!(check(&long), None);
    }

    #[test]
    fn drops_a_trailing_group_that_spoils_the_shape() {
        assert_eq!(check("212-555-0123 2024").map(|x| (x.0, x.1)), Some((0, 12)));
        assert_eq!(check("2024 212-555-0123").map(|x| (x.0, x.1)), Some((5, 12)));
    }
}
