//! Postal addresses (`ADDRESS`) and postcodes (`POSTCODE`), read from the text's words (the
//! same word list as `names`, one pass).
//!
//! An address is anchored on its street word, which nothing else in ordinary text pairs with a
//! house number:
//! - US/UK/IE/AU/CA: a house number, one to four capitalised words, a street type (`Street`,
//!   `Ave`, `Road`, ...): `1600 Pennsylvania Avenue`;
//! - DE/AT/CH/NL/SE/PL: a word ending in a street suffix (`-straße`, `-strasse`, `-straat`,
//!   `-weg`, `-gasse`, `-gatan`, ...), then a house number: `Hauptstraße 5`;
//! - FR/ES/IT/PT/BE: a house number, then `rue`/`avenue`/`boulevard`, or a street word (`Calle`,
//!   `Via`, `Rua`, ...) before the name and then the number: `12 rue de la Paix`,
//!   `Calle Mayor 10`, `Via Roma 10`.
//!
//! The line then extends over what follows it in the usual forms: a unit (`Apt 4B`, `Suite
//! 200`), a city and a US state with a ZIP code (`Springfield, IL 62701`), or a European
//! postcode and city (`10115 Berlin`, `1012 AB Amsterdam`).
//!
//! Postcodes alone: UK postcodes by their shape (`SW1A 1AA`: outward code, space, digit and two
//! letters; the letters of the inward code exclude C, I, K, M, O, V per Royal Mail's rules), and
//! five-digit ZIP codes after a state code or a word that names them (`ZIP`, `postcode`, `PLZ`).
//! Bare five-digit numbers are not masked.

use super::ids::Proposal;
use super::names::Word;
use crate::entity::BuiltinKind;

/// Score of an address line anchored on a street word and a house number.
const ADDRESS: f32 = 0.85;
/// Score of a UK postcode (distinctive shape) or a labelled ZIP code.
const POSTCODE: f32 = 0.8;

/// English street types (any case; an optional `.` after the abbreviations).
const STREET_TYPES: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "av",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "lane",
    "ln",
    "drive",
    "dr",
    "court",
    "ct",
    "way",
    "place",
    "pl",
    "terrace",
    "ter",
    "circle",
    "cir",
    "parkway",
    "pkwy",
    "highway",
    "hwy",
    "square",
    "sq",
    "trail",
    "trl",
    "crescent",
    "cres",
    "close",
    "grove",
    "mews",
    "alley",
    "plaza",
    "pike",
];
/// Street words that come before the street's name (FR/ES/IT/PT/NL/BE).
const STREET_FIRST: &[&str] = &[
    "rue",
    "avenue",
    "boulevard",
    "bd",
    "chemin",
    "impasse",
    "allée",
    "quai",
    "calle",
    "avenida",
    "avda",
    "paseo",
    "plaza",
    "via",
    "viale",
    "piazza",
    "corso",
    "largo",
    "rua",
    "travessa",
    "praça",
    "ulica",
    "ul",
];
/// Street words written after the street's name and before the number (HU, CZ, GR, RO).
const STREET_AFTER: &[&str] = &["tér", "utca", "út", "körút", "str", "ulice", "náměstí", "odos", "strada"];
/// Endings of one-word street names (DE/AT/CH/NL/SE/DK/PL).
const STREET_SUFFIXES: &[&str] = &[
    "straße", "strasse", "str", "weg", "gasse", "platz", "allee", "ring", "damm", "ufer", "straat", "gracht", "laan",
    "plein", "kade", "singel", "gatan", "vägen", "gade", "vej", "gata", "vegen", "veien", "katu", "tie", "kuja",
    "vænget", "utca",
];
/// Two-letter US state and territory codes (USPS).
const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR",
    "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "GU", "VI",
];
/// Words that name a postcode just before it.
const POSTCODE_WORDS: &[&str] = &["zip", "zipcode", "postcode", "postal", "plz", "cp", "cap"];
/// Words whose number is a heading or a count, never a house number (`Step 2 Main Way`).
const NUMBERED_THINGS: &[&str] = &[
    "step", "chapter", "section", "part", "version", "page", "figure", "table", "item", "phase", "level", "stage",
    "day", "week", "round", "lesson", "episode", "season", "issue", "pr", "line", "rule", "no", "number", "v",
];
/// Unit words after a street line.
const UNIT_WORDS: &[&str] = &["apt", "apartment", "suite", "ste", "unit", "floor", "fl", "room", "flat", "bldg"];

fn any_eq(list: &[&str], w: &str) -> bool {
    list.iter().any(|l| l.eq_ignore_ascii_case(w))
}

fn digits(w: &str) -> bool {
    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit())
}

/// A house number: 1-6 digits, maybe with one letter (`221B`, `12a`).
fn house_number(w: &str) -> bool {
    let b = w.as_bytes();
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=6).contains(&n) && b.len() <= n + 1 && b.get(n).is_none_or(u8::is_ascii_alphabetic) && b.first() != Some(&b'0')
}

fn capitalised(w: &str) -> bool {
    w.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
}

/// Lower-case particles inside street names (`rue de la Paix`, `Calle de Alcalá`).
fn particle(w: &str) -> bool {
    matches!(
        w,
        "de" | "la"
            | "le"
            | "les"
            | "du"
            | "des"
            | "del"
            | "della"
            | "di"
            | "da"
            | "do"
            | "dos"
            | "van"
            | "der"
            | "den"
            | "d'"
            | "y"
            | "e"
            | "l"
    )
}

fn street_suffixed(w: &str) -> bool {
    if w.len() <= 5 || w.len() > 40 || !capitalised(w) {
        return false;
    }
    let lower = w.to_lowercase();
    STREET_SUFFIXES.iter().any(|s| lower.ends_with(s) && lower.len() > s.len() + 2)
}

/// UK outward code: A9, A9A, A99, AA9, AA9A, AA99.
fn uk_outward(w: &str) -> bool {
    let b = w.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let rest = b.get(letters..).unwrap_or(&[]);
    (1..=2).contains(&letters)
        && match rest {
            [d] => d.is_ascii_digit(),
            [d, e] => d.is_ascii_digit() && (e.is_ascii_digit() || e.is_ascii_uppercase()),
            _ => false,
        }
}

/// Canadian postal code `A9A 9A9` (Canada Post: no D, F, I, O, Q, U; no W or Z first).
fn ca_postcode(a: &str, b: &str) -> bool {
    let letter = |c: &u8| c.is_ascii_uppercase() && !b"DFIOQU".contains(c);
    matches!(a.as_bytes(), [x, d, y] if letter(x) && !b"WZ".contains(x) && d.is_ascii_digit() && letter(y))
        && matches!(b.as_bytes(), [d, y, e] if d.is_ascii_digit() && letter(y) && e.is_ascii_digit())
}

/// UK inward code: a digit and two letters other than C, I, K, M, O, V.
fn uk_inward(w: &str) -> bool {
    let ok = |c: &u8| c.is_ascii_uppercase() && !b"CIKMOV".contains(c);
    matches!(w.as_bytes(), [d, a, b] if d.is_ascii_digit() && ok(a) && ok(b))
}

/// Append the addresses and postcodes in `text` (with its `words`) to `out`.
pub fn find(text: &str, ws: &[Word], want_address: bool, want_postcode: bool, out: &mut Vec<Proposal>) {
    let word = |i: usize| ws.get(i).and_then(|w| text.get(w.start..w.end)).unwrap_or("");
    let gap = |i: usize| match (ws.get(i), ws.get(i + 1)) {
        (Some(a), Some(b)) => text.get(a.end..b.start).unwrap_or(""),
        _ => "",
    };
    // Words `a..=b` joined by a space (or `. `/`, ` where `commas` allows).
    let spaced = |i: usize| matches!(gap(i), " " | ". ");
    let mut covered = 0usize;
    let mut i = 0;
    while i < ws.len() {
        let w = word(i);
        if i < covered {
            i += 1;
            continue;
        }
        if want_address {
            if let Some((first, last)) = street_line(ws.len(), &word, &spaced, i) {
                let last = extend(&word, &gap, ws.len(), last);
                if let (Some(a), Some(b)) = (ws.get(first), ws.get(last)) {
                    let end = if text.as_bytes().get(b.end) == Some(&b'.') && word(last).len() <= 4 {
                        b.end + 1
                    } else {
                        b.end
                    };
                    out.push((a.start, end, BuiltinKind::Address, ADDRESS));
                }
                covered = last + 1;
                i = last + 1;
                continue;
            }
        }
        if want_postcode {
            if gap(i) == " " && (uk_outward(w) && uk_inward(word(i + 1)) || ca_postcode(w, word(i + 1))) {
                if let (Some(a), Some(b)) = (ws.get(i), ws.get(i + 1)) {
                    out.push((a.start, b.end, BuiltinKind::Postcode, POSTCODE));
                }
                i += 2;
                continue;
            }
            if (4..=6).contains(&w.len()) && digits(w) && i > 0 {
                let prev = word(i - 1);
                let g = gap(i - 1);
                let state = w.len() == 5 && US_STATES.contains(&prev) && matches!(g, " " | ", ");
                // `ZIP: 12345`, `postal code 1012`, `my zip code is 35350`.
                let mut k = i - 1;
                if prev.eq_ignore_ascii_case("is") && k > 0 {
                    k -= 1;
                }
                let mut label = word(k);
                if label.eq_ignore_ascii_case("code") && k > 0 {
                    label = word(k - 1);
                }
                let named = any_eq(POSTCODE_WORDS, label) && matches!(g.trim(), "" | ":" | "#");
                if state || named {
                    let mut end = ws.get(i).map_or(0, |x| x.end);
                    // ZIP+4, or the Swedish and Czech `394 13`.
                    let next = word(i + 1);
                    if w.len() == 5 && gap(i) == "-" && next.len() == 4 && digits(next) {
                        end = ws.get(i + 1).map_or(end, |x| x.end);
                    }
                    if let Some(a) = ws.get(i) {
                        out.push((a.start, end, BuiltinKind::Postcode, POSTCODE));
                    }
                }
            }
            if named_split_postcode(&word, &gap, i) {
                if let (Some(a), Some(b)) = (ws.get(i), ws.get(i + 1)) {
                    out.push((a.start, b.end, BuiltinKind::Postcode, POSTCODE));
                }
                i += 2;
                continue;
            }
        }
        i += 1;
    }
}

/// A postcode written `394 13` (SE, CZ, SK, GR) right after a word that names it.
fn named_split_postcode<'t>(word: &impl Fn(usize) -> &'t str, gap: &impl Fn(usize) -> &'t str, i: usize) -> bool {
    let (w, next) = (word(i), word(i + 1));
    w.len() == 3
        && next.len() == 2
        && digits(w)
        && digits(next)
        && gap(i) == " "
        && i > 0
        && any_eq(POSTCODE_WORDS, word(i - 1))
        && matches!(gap(i - 1).trim(), "" | ":")
}

/// The street line starting at word `i`: its first and last word.
fn street_line<'t>(
    n: usize,
    word: &impl Fn(usize) -> &'t str,
    spaced: &impl Fn(usize) -> bool,
    i: usize,
) -> Option<(usize, usize)> {
    let w = word(i);
    // `Hauptstraße 5`, `Kalverstraat 92`.
    if street_suffixed(w) && spaced(i) && house_number(word(i + 1)) {
        return Some((i, i + 1));
    }
    // `Calle Mayor 10`, `Via Roma 10`, `Rua das Flores 25`.
    if capitalised(w) && any_eq(STREET_FIRST, w) && spaced(i) {
        let mut j = i + 1;
        while j < n
            && j - i <= 5
            && spaced(j - 1)
            && (capitalised(word(j)) || particle(word(j)))
            && !house_number(word(j))
        {
            j += 1;
        }
        if j > i + 1 && spaced(j - 1) && house_number(word(j)) && capitalised(word(j - 1)) {
            return Some((i, j));
        }
    }
    // `Erzsébet tér 19`, `Király u. 15`, `Eleftheriou Venizelou str 12`: the name, then the
    // street word, then the number.
    if capitalised(w) && !any_eq(STREET_TYPES, w) {
        let mut j = i + 1;
        while j < n && j - i <= 3 && spaced(j - 1) {
            let wj = word(j);
            if any_eq(STREET_AFTER, wj) && spaced(j) && house_number(word(j + 1)) {
                return Some((i, j + 1));
            }
            if !capitalised(wj) {
                break;
            }
            j += 1;
        }
    }
    if !house_number(w) || !spaced(i) || i.checked_sub(1).is_some_and(|p| any_eq(NUMBERED_THINGS, word(p))) {
        return None;
    }
    // `12 rue de la Paix`, `5 avenue Anatole France`.
    let next = word(i + 1);
    if any_eq(STREET_FIRST, next) && spaced(i + 1) {
        let mut j = i + 2;
        while j < n && j - i <= 6 && (capitalised(word(j)) || particle(word(j))) {
            if !spaced(j) || !(capitalised(word(j + 1)) || particle(word(j + 1))) {
                break;
            }
            j += 1;
        }
        if capitalised(word(j)) {
            return Some((i, j));
        }
    }
    // `1600 Pennsylvania Avenue`, `221B Baker Street`, `10 N. Main St`.
    let mut j = i + 1;
    while j < n && j - i <= 4 {
        let wj = word(j);
        let ordinal = wj.len() >= 3 && wj.bytes().next().is_some_and(|b| b.is_ascii_digit()) && {
            let lower = wj.to_ascii_lowercase();
            ["st", "nd", "rd", "th"].iter().any(|s| lower.ends_with(s))
        };
        if !(capitalised(wj) || ordinal) {
            return None;
        }
        if j > i + 1 && any_eq(STREET_TYPES, wj) {
            return Some((i, j));
        }
        if !spaced(j) {
            return None;
        }
        j += 1;
    }
    None
}

/// Extend a street line over a unit, a city, a state and ZIP code, or a postcode and city.
fn extend<'t>(word: &impl Fn(usize) -> &'t str, gap: &impl Fn(usize) -> &'t str, n: usize, mut last: usize) -> usize {
    let sep = |i: usize| matches!(gap(i), ", " | "," | " " | ". " | "., " | "\n" | ",\n");
    // `, Apt 4B`, `Suite 200`, `#12`.
    if sep(last) && any_eq(UNIT_WORDS, word(last + 1)) && matches!(gap(last + 1), " " | ". " | " #" | ". #") {
        let unit = word(last + 2);
        if unit.len() <= 6 && unit.bytes().any(|b| b.is_ascii_digit()) {
            last += 2;
        }
    }
    // `, 10115 Berlin`, `, 1012 AB Amsterdam`, `, 75002 Paris`.
    let pc = word(last + 1);
    if matches!(gap(last), ", " | " " | ",\n" | "\n" | "., ") && (4..=5).contains(&pc.len()) && digits(pc) {
        let mut j = last + 2;
        if word(j).len() == 2 && word(j).bytes().all(|b| b.is_ascii_uppercase()) && gap(j - 1) == " " {
            j += 1;
        }
        if gap(j - 1) == " " && capitalised(word(j)) {
            return j;
        }
        return last;
    }
    // `, Springfield, IL 62701`, `, New York, NY 10001-1234`.
    if matches!(gap(last), ", " | ",\n" | "\n" | "., ") {
        let mut j = last + 1;
        while j < n && j - last <= 3 && capitalised(word(j)) && !US_STATES.contains(&word(j)) {
            if matches!(gap(j), ", " | " ") && US_STATES.contains(&word(j + 1)) {
                let zip = word(j + 2);
                if gap(j + 1) == " " && zip.len() == 5 && digits(zip) {
                    let plus4 = gap(j + 2) == "-" && word(j + 3).len() == 4 && digits(word(j + 3));
                    return if plus4 { j + 3 } else { j + 2 };
                }
                return j + 1;
            }
            if gap(j) != " " {
                break;
            }
            j += 1;
        }
    }
    last
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::detect::names::words;

    fn found(text: &str) -> Vec<(&str, BuiltinKind)> {
        let mut out = Vec::new();
        find(text, &words(text), true, true, &mut out);
        out.iter().map(|p| (&text[p.0..p.1], p.2)).collect()
    }

    #[test]
    fn street_lines_of_several_countries() {
        let a = BuiltinKind::Address;
        for (text, want) in [
            ("Ship to 1600 Pennsylvania Avenue NW", "1600 Pennsylvania Avenue"),
            ("at 221B Baker Street, London", "221B Baker Street"),
            ("lives at 42 Elm St., Springfield, IL 62704 now", "42 Elm St., Springfield, IL 62704"),
            ("Hauptstraße 5, 10115 Berlin", "Hauptstraße 5, 10115 Berlin"),
            ("Kalverstraat 92, 1012 PH Amsterdam", "Kalverstraat 92, 1012 PH Amsterdam"),
            ("au 12 rue de la Paix, 75002 Paris", "12 rue de la Paix, 75002 Paris"),
            ("en Calle Mayor 10, 28013 Madrid", "Calle Mayor 10, 28013 Madrid"),
            ("in Via Roma 10, 00184 Roma", "Via Roma 10, 00184 Roma"),
        ] {
            assert_eq!(found(text), [(want, a)], "{text}");
        }
    }

    #[test]
    fn postcodes() {
        let p = BuiltinKind::Postcode;
        assert_eq!(found("London SW1A 1AA"), [("SW1A 1AA", p)]);
        assert_eq!(found("ZIP: 90210-1234"), [("90210-1234", p)]);
        assert_eq!(found("Austin, TX 78701"), [("78701", p)]);
        for t in ["we sold 12345 units", "HTTP 2 ABC", "chapter 3 Getting Started", "A4 paper", "Step 3 Next Steps"] {
            assert!(found(t).is_empty(), "{t}: {:?}", found(t));
        }
    }
}
