//! Synthetic values: a format-valid fake of the same type, numbered like placeholders (the
//! `n`-th distinct value of a type in the exchange gets fake `n`), so the same conversation gets
//! the same fakes turn after turn on any replica, and a fake says nothing about its original.
//! Every fake comes from a range reserved for examples or tests, so it can never be someone's
//! real value.

use crate::entity::BuiltinKind;

/// The `n`-th fake (from 1) of `kind`, or `None` when the kind has no generator or its range is
/// used up (the value then gets a placeholder).
pub fn fake(kind: BuiltinKind, n: u32) -> Option<String> {
    if n == 0 {
        return None;
    }
    let i = n - 1;
    match kind {
        // RFC 2606 reserves example.com.
        BuiltinKind::Email => Some(format!("user{n}@example.com")),
        // 555-0100 to 555-0199 are fictional in every NANP area code; the area code moves on
        // after a hundred.
        BuiltinKind::Phone => Some(format!("+1 {} 555 01{:02}", 201 + i / 100, i % 100)).filter(|_| i < 100 * 700),
        BuiltinKind::CreditCard => Some(test_card(i)),
        BuiltinKind::Iban => Some(test_iban(i)),
        // RFC 5737's three documentation networks.
        BuiltinKind::IpAddress => match i {
            0..=253 => Some(format!("192.0.2.{}", i + 1)),
            254..=507 => Some(format!("198.51.100.{}", i - 253)),
            508..=761 => Some(format!("203.0.113.{}", i - 507)),
            _ => None,
        },
        // The Social Security Administration reserves 987-65-4320 to 987-65-4329 for advertising.
        BuiltinKind::UsSsn => (i < 10).then(|| format!("987-65-432{i}")),
        // RFC 7042 reserves 00-00-5E-00-53-00 to -FF for documentation.
        BuiltinKind::MacAddress => (i < 256).then(|| format!("00:00:5E:00:53:{i:02X}")),
        BuiltinKind::Person => {
            let first = FIRST_NAMES.get(i as usize % FIRST_NAMES.len())?;
            let last = LAST_NAMES.get(i as usize / FIRST_NAMES.len())?;
            Some(format!("{first} {last}"))
        }
        BuiltinKind::Address => Some(format!("{} Example Street, Anytown", 100 + i)),
        _ => None,
    }
}

/// Given names and the surnames of placeholder people (`Jane Doe`, `Richard Roe`) in common use.
const FIRST_NAMES: [&str; 8] = ["Alex", "Jamie", "Robin", "Sam", "Casey", "Morgan", "Taylor", "Jordan"];
const LAST_NAMES: [&str; 4] = ["Doe", "Roe", "Moe", "Poe"];

/// A Visa-shaped 16-digit number on the `400000` test range, Luhn-valid.
fn test_card(i: u32) -> String {
    let body = format!("400000{:09}", i);
    let check = luhn_check_digit(&body);
    let digits = format!("{body}{check}");
    let groups: Vec<&str> = (0..4).filter_map(|g| digits.get(g * 4..g * 4 + 4)).collect();
    groups.join(" ")
}

/// The digit that makes `body` followed by it pass the Luhn check.
pub fn luhn_check_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(pos, b)| {
            let d = u32::from(b - b'0');
            if pos % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A British IBAN (`GBkk TEST 0000 00nn nnnn nn`) with valid ISO 7064 mod-97 check digits, on a
/// bank code no bank has.
fn test_iban(i: u32) -> String {
    let bban = format!("TEST000000{:08}", i);
    let check = 98 - mod97(&format!("{bban}GB00"));
    let iban = format!("GB{check:02}{bban}");
    let groups: Vec<&str> = (0..iban.len()).step_by(4).filter_map(|g| iban.get(g..(g + 4).min(iban.len()))).collect();
    groups.join(" ")
}

/// The ISO 13616 remainder: letters as two-digit numbers (A = 10), the whole mod 97.
pub fn mod97(s: &str) -> u32 {
    s.bytes().fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b.to_ascii_uppercase() - b'A') + 10) % 97
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fakes_are_valid_of_their_type() {
        for n in [1, 2, 57, 1000] {
            let card: String = fake(BuiltinKind::CreditCard, n).unwrap().chars().filter(char::is_ascii_digit).collect();
            assert_eq!(card.len(), 16);
            assert_eq!(luhn_check_digit(&card[..15]), u32::from(card.as_bytes()[15] - b'0'));
            let iban: String = fake(BuiltinKind::Iban, n).unwrap().chars().filter(|c| *c != ' ').collect();
            assert_eq!(mod97(&format!("{}{}", &iban[4..], &iban[..4])), 1, "{iban}");
        }
        assert_eq!(fake(BuiltinKind::Email, 3).unwrap(), "user3@example.com");
        assert_eq!(fake(BuiltinKind::Phone, 1).unwrap(), "+1 201 555 0100");
        assert_eq!(fake(BuiltinKind::Phone, 101).unwrap(), "+1 202 555 0100");
        assert_eq!(fake(BuiltinKind::IpAddress, 255).unwrap(), "198.51.100.1");
        assert_eq!(fake(BuiltinKind::UsSsn, 11), None);
        assert_eq!(fake(BuiltinKind::Jwt, 1), None);
    }

    #[test]
    fn fakes_are_distinct() {
        let names: std::collections::HashSet<String> = (1..=32).filter_map(|n| fake(BuiltinKind::Person, n)).collect();
        assert_eq!(names.len(), 32);
        assert_eq!(fake(BuiltinKind::Person, 33), None);
    }
}

/// Finds an exchange's fakes in reply text, whole and on word boundaries (`192.0.2.1` is not a
/// fake inside `192.0.2.15`), and knows which tails of a streamed piece could still become one.
#[derive(Debug, Clone)]
pub struct FakeIndex {
    finder: aho_corasick::AhoCorasick,
    /// Every proper prefix of every fake: a streamed piece that ends in one is held back.
    prefixes: std::collections::HashSet<String>,
    max_len: usize,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Whether a fake ending at `end` ends a word: `None` when the bytes that decide have not
/// arrived. A `.`, `-`, `@` or `:` followed by a word character continues the value
/// (`192.0.2.1.5`, `user1@example.com.au`); at the end of a sentence it does not.
fn ends_word(bytes: &[u8], end: usize, last: bool) -> Option<bool> {
    match bytes.get(end) {
        None => last.then_some(true),
        Some(&b) if is_word(b) => Some(false),
        Some(b'.' | b'-' | b'@' | b':') => match bytes.get(end + 1) {
            None => last.then_some(true),
            Some(&next) => Some(!is_word(next)),
        },
        Some(_) => Some(true),
    }
}

impl FakeIndex {
    /// `None` for no fakes.
    pub fn new<'a>(fakes: impl Iterator<Item = &'a str> + Clone) -> Option<FakeIndex> {
        // Most exchanges issue no fake: build nothing for them (an empty automaton still costs
        // its construction on every request).
        fakes.clone().next()?;
        let finder = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(fakes.clone())
            .ok()?;
        let mut prefixes = std::collections::HashSet::new();
        let mut max_len = 0;
        for fake in fakes {
            max_len = max_len.max(fake.len());
            for (i, _) in fake.char_indices().skip(1) {
                prefixes.insert(fake[..i].to_owned());
            }
        }
        (max_len > 0).then_some(FakeIndex { finder, prefixes, max_len })
    }

    /// Append `pending` to `out` with every fake replaced by `write(pattern index, out)`, which
    /// returns whether it wrote. `prev` is the byte before `pending` (0 at the start). Unless
    /// `last`, a tail that could still become a fake is not consumed: returns how many bytes were.
    pub fn replace(
        &self,
        pending: &str,
        prev: u8,
        last: bool,
        mut write: impl FnMut(usize, &mut String) -> bool,
        out: &mut String,
    ) -> usize {
        let bytes = pending.as_bytes();
        let mut hold = if last { pending.len() } else { self.partial_tail(pending) };
        let mut pos = 0;
        for m in self.finder.find_iter(pending) {
            if m.start() >= hold {
                break;
            }
            let before = if m.start() == 0 { prev } else { bytes.get(m.start() - 1).copied().unwrap_or(0) };
            if is_word(before) {
                continue;
            }
            match ends_word(bytes, m.end(), last) {
                None => {
                    hold = hold.min(m.start());
                    break;
                }
                Some(false) => continue,
                Some(true) => {}
            }
            out.push_str(pending.get(pos..m.start()).unwrap_or(""));
            if write(m.pattern().as_usize(), out) {
                pos = m.end();
            } else {
                out.push_str(pending.get(m.start()..m.end()).unwrap_or(""));
                pos = m.end();
            }
        }
        let end = hold.max(pos);
        out.push_str(pending.get(pos..end).unwrap_or(""));
        end
    }

    /// Where the longest tail of `text` that is a proper prefix of a fake begins (`text.len()`
    /// when none is).
    fn partial_tail(&self, text: &str) -> usize {
        let from = text.len().saturating_sub(self.max_len.saturating_sub(1));
        (from..text.len())
            .filter(|&h| text.is_char_boundary(h))
            .find(|&h| text.get(h..).is_some_and(|tail| self.prefixes.contains(tail)))
            .unwrap_or(text.len())
    }
}

#[cfg(test)]
mod index_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run(index: &FakeIndex, pieces: &[&str]) -> String {
        let originals = ["ORIG-A", "ORIG-B"];
        let mut out = String::new();
        let mut held = String::new();
        let mut prev = 0u8;
        for (i, piece) in pieces.iter().enumerate() {
            held.push_str(piece);
            let last = i + 1 == pieces.len();
            let consumed = index.replace(
                &held,
                prev,
                last,
                |p, out| {
                    out.push_str(originals[p]);
                    true
                },
                &mut out,
            );
            if consumed > 0 {
                prev = held.as_bytes()[consumed - 1];
            }
            held.drain(..consumed);
        }
        assert!(held.is_empty());
        out
    }

    #[test]
    fn fakes_are_replaced_whole_on_word_boundaries_in_any_chunking() {
        let index = FakeIndex::new(["192.0.2.1", "user1@example.com"].into_iter()).unwrap();
        let text = "at 192.0.2.1, not 192.0.2.15 or 192.0.2.1.5; mail user1@example.com. xuser1@example.com";
        let want = "at ORIG-A, not 192.0.2.15 or 192.0.2.1.5; mail ORIG-B. xuser1@example.com";
        assert_eq!(run(&index, &[text]), want);
        for cut in 1..text.len() {
            assert_eq!(run(&index, &[&text[..cut], &text[cut..]]), want, "cut at {cut}");
        }
        let bytes: Vec<String> = text.chars().map(String::from).collect();
        let pieces: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(run(&index, &pieces), want);
    }
}
