//! Percent-encoded `name=value` pairs written into a text: the query string of a URL
//! (`?email=jane%40example.com&page=2`) or a form body pasted as it was sent
//! (`phone=%2B1+415+555+0134&plan=pro`), as the URL Standard's
//! `application/x-www-form-urlencoded` parser reads them (`+` is a space, `%XX` a byte). The
//! detector reads each such value decoded, with its name as its label, and masks what it finds
//! over the encoded bytes, so that restoring gives back what the user wrote.
//!
//! Linear: each `=` reads back a name of at most [`MAX_NAME`] bytes, and values are read once
//! (an `=` inside a value already read starts nothing).

/// Longest name read before an `=`.
const MAX_NAME: usize = 64;

/// A pair whose value holds an escape or a `+`: the byte ranges of its name and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub name: (usize, usize),
    pub value: (usize, usize),
}

/// Whether `text` may hold an encoded pair at all: an `=` and a `%` or `+`.
pub fn may_hold(bytes: &[u8]) -> bool {
    memchr::memchr2(b'%', b'+', bytes).is_some() && memchr::memchr(b'=', bytes).is_some()
}

fn name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']' | b'%')
}

/// Where a value ends: the next field, a fragment, white space, quotes and the brackets that
/// close a URL written in prose or markup.
fn ends_value(c: u8) -> bool {
    c.is_ascii_whitespace() || matches!(c, b'&' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'`' | b')' | b']' | b'\\')
}

/// The pairs of query strings and form bodies in `text` whose value is encoded, in text order.
/// A pair counts after `?` or `&`, or at the start of a line or word when its value is followed
/// by `&` (a form body).
pub fn encoded_pairs(bytes: &[u8]) -> Vec<Pair> {
    let mut pairs = Vec::new();
    let mut resume = 0;
    for eq in memchr::memchr_iter(b'=', bytes) {
        if eq < resume {
            continue;
        }
        let floor = eq.saturating_sub(MAX_NAME);
        let mut ns = eq;
        while ns > floor && bytes.get(ns - 1).is_some_and(|&c| name_char(c)) {
            ns -= 1;
        }
        let lead = ns.checked_sub(1).and_then(|i| bytes.get(i)).copied();
        if ns == eq || !bytes.get(ns).is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_') {
            continue;
        }
        let vs = eq + 1;
        let mut ve = vs;
        while bytes.get(ve).is_some_and(|&c| !ends_value(c)) {
            ve += 1;
        }
        resume = ve;
        let in_query = matches!(lead, Some(b'?' | b'&'));
        let form_start = matches!(lead, None | Some(b'\n' | b' ' | b'\t' | b'"' | b'\'' | b'`' | b'('))
            && bytes.get(ve) == Some(&b'&');
        if !(in_query || form_start) {
            continue;
        }
        let value = bytes.get(vs..ve).unwrap_or(&[]);
        let escaped = value.windows(3).any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
        if escaped || value.contains(&b'+') {
            pairs.push(Pair { name: (ns, eq), value: (vs, ve) });
        }
    }
    pairs
}

/// `s` decoded (`+` a space, `%XX` a byte; a `%` without two hex digits after it stays), with
/// the offset in `s` of every byte of the result and of its end; `None` when the bytes are not
/// UTF-8.
pub fn decode(s: &[u8]) -> Option<(String, Vec<usize>)> {
    let mut out = Vec::with_capacity(s.len());
    let mut map = Vec::with_capacity(s.len() + 1);
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        map.push(i);
        let hex = |j: usize| s.get(j).and_then(|b| char::from(*b).to_digit(16));
        match c {
            b'+' => out.push(b' '),
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h << 4 | l).ok()?);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(c),
        }
        i += 1;
    }
    map.push(s.len());
    String::from_utf8(out).ok().map(|t| (t, map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(&str, &str)> {
        encoded_pairs(text.as_bytes())
            .into_iter()
            .map(|p| (&text[p.name.0..p.name.1], &text[p.value.0..p.value.1]))
            .collect()
    }

    #[test]
    fn encoded_values_of_query_strings_and_form_bodies() {
        let url = "see https://app.example.net/cb?email=jane%40example.com&page=2&q=a+b#top.";
        assert_eq!(pairs(url), [("email", "jane%40example.com"), ("q", "a+b")]);
        let form = "phone=%2B1+415+555+0134&plan=pro\nname=Jane+Roe&x=1";
        assert_eq!(pairs(form), [("phone", "%2B1+415+555+0134"), ("name", "Jane+Roe")]);
    }

    #[test]
    fn assignments_in_prose_and_code_are_not_pairs() {
        for text in ["x = 1 + 2", "a=b+c;", "let total=price+tax", "100% = all", "k=v%2"] {
            assert!(pairs(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn decoding_maps_back_to_the_encoded_bytes() {
        let (t, map) = decode(b"jane%40ex.com+x%zz").unwrap();
        assert_eq!(t, "jane@ex.com x%zz");
        assert_eq!((map[4], map[5], map[t.len()]), (4, 7, 18));
        assert_eq!(decode(b"%C3%A9t%C3%A9").unwrap().0, "été");
        assert!(decode(b"%FF").is_none());
    }
}
