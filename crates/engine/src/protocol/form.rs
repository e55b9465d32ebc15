//! `application/x-www-form-urlencoded` bodies (the URL Standard's `application/x-www-form-urlencoded`
//! parser and serializer): names and values are read decoded (`+` is a space, `%XX` a byte), so
//! `jane%40example.com` is seen as the address it is, and written back percent-encoded. A pair that
//! did not change is written back exactly as it came.

/// One `name=value` pair: decoded text, and the raw bytes it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub name: String,
    pub value: String,
    raw: String,
    has_value: bool,
}

/// Split a form body into its pairs (empty pieces between `&` are kept as they are).
pub fn parse(body: &str) -> Vec<Pair> {
    body.split('&')
        .map(|raw| {
            let (name, value, has_value) = match raw.split_once('=') {
                Some((n, v)) => (n, v, true),
                None => (raw, "", false),
            };
            Pair { name: decode(name), value: decode(value), raw: raw.to_owned(), has_value }
        })
        .collect()
}

/// Join pairs again: each pair whose decoded text still reads as it came is written as it came.
pub fn serialize(pairs: &[Pair]) -> String {
    let mut out = String::new();
    for (i, p) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (name, value) = match p.raw.split_once('=') {
            Some((n, v)) => (n, v),
            None => (p.raw.as_str(), ""),
        };
        if decode(name) == p.name && decode(value) == p.value {
            out.push_str(&p.raw);
            continue;
        }
        encode_into(&p.name, &mut out);
        if p.has_value || !p.value.is_empty() {
            out.push('=');
            encode_into(&p.value, &mut out);
        }
    }
    out
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn encode_into(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

/// Is this content type a form?
pub fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        ct.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_read_decoded_and_unchanged_ones_written_as_they_came() {
        let body = "q=mail+jane%40example.com&flag&empty=&x=%7e";
        let mut pairs = parse(body);
        assert_eq!(pairs[0].value, "mail jane@example.com");
        assert_eq!(pairs[1].name, "flag");
        assert_eq!(serialize(&pairs), body);
        pairs[0].value = "mail [EMAIL_1]".to_owned();
        assert_eq!(serialize(&pairs), "q=mail+%5BEMAIL_1%5D&flag&empty=&x=%7e");
        assert_eq!(parse(&serialize(&pairs))[0].value, "mail [EMAIL_1]");
    }

    #[test]
    fn broken_escapes_are_kept() {
        let pairs = parse("a=%zz%4&b=%e2%82");
        assert_eq!(pairs[0].value, "%zz%4");
        assert!(is_form(Some("application/x-www-form-urlencoded; charset=utf-8")));
        assert!(!is_form(Some("application/json")));
    }
}
