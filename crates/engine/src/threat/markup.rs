//! Markup written as HTML authors write it. A script include in documentation (`<script
//! src="main.js" defer></script>`) is the same element an injected one is, so the markup rules
//! find it; what sets it apart is that it is conventional: a lower-case tag, standard attributes
//! with double-quoted values, a source that is a path or an http(s) address, no code inside, and
//! its closing tag. Payloads built to slip past filters break these conventions (case, `/` for a
//! space, unquoted or entity-encoded values, `data:` and `javascript:` sources, backslashes,
//! template markers), and any inline code is judged by the rules as it is.

/// Elements read, at most: a page of includes is a few dozen.
const MAX_ELEMENTS: usize = 64;

/// Attributes a script element takes in the HTML standard.
const SCRIPT_ATTRIBUTES: [&str; 12] = [
    "src",
    "type",
    "async",
    "defer",
    "charset",
    "crossorigin",
    "integrity",
    "nomodule",
    "referrerpolicy",
    "nonce",
    "id",
    "fetchpriority",
];

/// Whether the whole text is script elements written conventionally, each without code (an
/// include or an empty placeholder), separated by white space only.
pub(super) fn conventional_script_includes(raw: &str) -> bool {
    let mut rest = raw.trim();
    let mut elements = 0usize;
    while !rest.is_empty() {
        if elements == MAX_ELEMENTS {
            return false;
        }
        let Some(after) = conventional_script(rest) else { return false };
        elements += 1;
        rest = after.trim_start();
    }
    elements > 0
}

/// One conventional, code-free script element at the start of `text`: what follows it.
fn conventional_script(text: &str) -> Option<&str> {
    let mut rest = text.strip_prefix("<script")?;
    loop {
        if let Some(after) = rest.strip_prefix('>') {
            let body_end = after.find("</script>")?;
            let body = after.get(..body_end)?;
            return body.trim().is_empty().then(|| after.get(body_end + "</script>".len()..)).flatten();
        }
        rest = rest.strip_prefix(' ')?;
        let name_len = rest.bytes().take_while(|b| b.is_ascii_lowercase() || *b == b'-').count();
        let name = rest.get(..name_len)?;
        if !SCRIPT_ATTRIBUTES.contains(&name) {
            return None;
        }
        rest = rest.get(name_len..)?;
        if let Some(value_and_more) = rest.strip_prefix("=\"") {
            let end = value_and_more.find('"')?;
            let value = value_and_more.get(..end)?;
            if !plain_value(name, value) {
                return None;
            }
            rest = value_and_more.get(end + 1..)?;
        }
    }
}

/// An attribute value an author writes: no markup, escapes, entities or encodings, and for the
/// source a relative path or an http(s) address (not `//host`, `data:` or `javascript:`).
fn plain_value(name: &str, value: &str) -> bool {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'\\' | b'%' | b'`' | b'\'' | b'('));
    if !plain {
        return false;
    }
    match name {
        "src" => {
            let scheme = value.split_once(':').map(|(s, _)| s);
            match scheme {
                Some(s) => (s == "https" || s == "http") && value.get(s.len()..).is_some_and(|r| r.starts_with("://")),
                None => !value.starts_with("//"),
            }
        }
        "type" => matches!(value, "text/javascript" | "module" | "application/javascript"),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Includes written for this test in the style of web framework and library documentation.
    #[test]
    fn conventional_includes_and_filter_evasions() {
        for text in [
            "<script src=\"app.js\"></script>",
            "<script src=\"/static/js/vendor.min.js\" defer></script>",
            "<script type=\"module\" src=\"./components/index.js\"></script>",
            "<script src=\"https://unpkg.com/htmx.org@1.9.12\" integrity=\"sha384-abc\" crossorigin=\"anonymous\"></script>",
            "<script>\n\n</script>",
            "<script src=\"a.js\"></script>\n<script src=\"b.js\" async></script>",
        ] {
            assert!(conventional_script_includes(text), "{text}");
        }
        for text in [
            "<script>alert(1)</script>",
            "<SCRIPT SRC=\"https://example.com/x.js\"></SCRIPT>",
            "<script/src=\"https://example.com/x.js\"></script>",
            "<script src=https://example.com/x.js></script>",
            "<script src=\"//example.com/x.js\"></script>",
            "<script src=\"data:text/javascript,alert(1)\"></script>",
            "<script src=\"javascript:alert(1)\"></script>",
            "<script src=\"\\\\example.com\\x.js\"></script>",
            "<script src=\"%25(js)s\"></script>",
            "<script x src=\"a.js\"></script>",
            "<script src=\"a.js\" onload=\"go()\"></script>",
            "<script src=\"a.js\">",
            "see <script src=\"a.js\"></script>",
            "",
        ] {
            assert!(!conventional_script_includes(text), "{text}");
        }
    }
}
