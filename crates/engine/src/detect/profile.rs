//! URLs that identify a person: the handle in a profile path of the common social and code
//! sites, and the value of a query field named for a person.
//!
//! Profile paths: `linkedin.com/in/NAME`, `twitter.com/NAME` and `x.com/NAME`,
//! `facebook.com/NAME`, `instagram.com/NAME` (the first path segment, unless it is one of the
//! site's own pages: `search`, `groups`, `p`, ...), and `github.com/NAME` only as a profile: the
//! segment must end the path (`github.com/NAME`, `github.com/NAME/`, `github.com/NAME?tab=...`),
//! since `github.com/org/repo` names a repository, not a person. Only the handle is masked
//! (`https://linkedin.com/in/[PROFILE_URL_1]`). Query fields: the value after `?` or `&` and a
//! person key (`email`, `user`, `username`, `name`, `phone`, ...), unless it is a template
//! (`{name}`, `$USER`, `%s`, `:name`); an e-mail or phone value is also found by its own
//! detector, whose higher score wins.
//!
//! One pass: a `memmem` search for `.com/` and a `memchr` search for `=`; each hit reads a
//! bounded number of bytes around it.

use crate::entity::BuiltinKind as K;
use memchr::{memchr_iter, memmem};

/// Score of a profile handle (below the identifiers' words-confirmed scores).
const HANDLE: f32 = 0.8;
/// Score of a bare `github.com/NAME` (an organisation's page has the same form).
const GITHUB: f32 = 0.7;
/// Score of a query value under a person key (below an e-mail's or a phone's own finding).
const QUERY: f32 = 0.6;
/// Longest handle or query value read.
const MAX_VALUE: usize = 128;

#[derive(Clone, Copy, PartialEq)]
enum Site {
    LinkedIn,
    Twitter,
    Facebook,
    Instagram,
    GitHub,
}

/// Host names (ending in `.com/`) and their site.
const HOSTS: &[(&[u8], Site)] = &[
    (b"linkedin.com/", Site::LinkedIn),
    (b"twitter.com/", Site::Twitter),
    (b"x.com/", Site::Twitter),
    (b"facebook.com/", Site::Facebook),
    (b"instagram.com/", Site::Instagram),
    (b"github.com/", Site::GitHub),
];

/// First path segments that are the site's own pages, not a person.
const RESERVED: &[&str] = &[
    "search",
    "explore",
    "home",
    "i",
    "intent",
    "share",
    "sharer",
    "sharer.php",
    "hashtag",
    "settings",
    "login",
    "logout",
    "signup",
    "join",
    "messages",
    "notifications",
    "tos",
    "privacy",
    "compose",
    "groups",
    "pages",
    "events",
    "watch",
    "marketplace",
    "help",
    "policies",
    "photo",
    "photo.php",
    "permalink.php",
    "story.php",
    "profile.php",
    "dialog",
    "business",
    "ads",
    "gaming",
    "plugins",
    "tr",
    "p",
    "reel",
    "reels",
    "stories",
    "accounts",
    "direct",
    "about",
    "developer",
    "developers",
    "tv",
    "orgs",
    "organizations",
    "features",
    "pricing",
    "topics",
    "collections",
    "trending",
    "sponsors",
    "apps",
    "new",
    "enterprise",
    "security",
    "site",
    "contact",
    "codespaces",
    "issues",
    "pulls",
    "marketplace",
    "readme",
    "blog",
    "docs",
    "support",
    "customer-stories",
    "team",
    "copilot",
    "user",
    "users",
    "in",
    "company",
    "school",
    "jobs",
    "feed",
    "pub",
    "learning",
    "posts",
    "pulse",
    "status",
    "statuses",
    "download",
    "legal",
    "terms",
    "cookies",
    "ajax",
    "api",
    "v2",
    "oauth",
    "auth",
    "embed",
    "widgets",
    "live",
    "fundraisers",
    "watchparty",
    "media",
    "notes",
    "friends",
    "gists",
    "raw",
];

/// Query keys that name a person or a person's contact.
const PERSON_KEYS: &[&str] = &[
    "email",
    "e-mail",
    "mail",
    "user",
    "username",
    "user_name",
    "login",
    "name",
    "fullname",
    "full_name",
    "first_name",
    "last_name",
    "firstname",
    "lastname",
    "phone",
    "mobile",
    "tel",
];

/// Every profile handle and person query value in `text`.
pub fn find(text: &str, out: &mut Vec<(usize, usize, K, f32)>) {
    let b = text.as_bytes();
    for at in memmem::find_iter(b, b".com/") {
        if let Some(p) = profile_at(b, at + 5) {
            out.push(p);
        }
    }
    for at in memchr_iter(b'=', b) {
        if let Some(p) = query_at(b, at) {
            out.push(p);
        }
    }
    // Spans are on ASCII bytes, so on char boundaries.
    out.retain(|p| text.is_char_boundary(p.0) && text.is_char_boundary(p.1));
}

fn handle_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'%')
}

/// A profile handle starting at `path` (right after `.com/`).
fn profile_at(b: &[u8], path: usize) -> Option<(usize, usize, K, f32)> {
    let head = b.get(..path)?;
    let (host, site) =
        HOSTS.iter().find(|(h, _)| head.len() >= h.len() && head[head.len() - h.len()..].eq_ignore_ascii_case(h))?;
    // The host starts the name (`www.` or another subdomain may come before it).
    let host_start = path - host.len();
    if host_start > 0 && b.get(host_start - 1).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-') {
        return None;
    }
    let mut start = path;
    if *site == Site::LinkedIn {
        let seg = b.get(path..path + 3)?;
        if !seg.eq_ignore_ascii_case(b"in/") {
            return None;
        }
        start = path + 3;
    }
    let len = b.get(start..)?.iter().take(MAX_VALUE + 1).take_while(|&&c| handle_byte(c)).count();
    if len == 0 || len > MAX_VALUE {
        return None;
    }
    let end = start + len;
    let handle = b.get(start..end)?;
    // A trailing dot ends a sentence.
    let (end, handle) = match handle.strip_suffix(b".") {
        Some(h) if !h.is_empty() => (end - 1, h),
        Some(_) => return None,
        None => (end, handle),
    };
    if !handle.iter().any(u8::is_ascii_alphanumeric)
        || RESERVED.iter().any(|r| r.as_bytes().eq_ignore_ascii_case(handle))
    {
        return None;
    }
    let after = b.get(end).copied();
    match site {
        Site::GitHub => {
            // A profile only when the path ends with the name: not `org/repo`.
            let next = b.get(end + 1).copied();
            let deeper = after == Some(b'/') && next.is_some_and(handle_byte);
            if deeper || handle.contains(&b'.') {
                return None;
            }
            Some((start, end, K::ProfileUrl, GITHUB))
        }
        _ => Some((start, end, K::ProfileUrl, HANDLE)),
    }
}

/// The value of a person key ending at `eq` (the `=`), after `?` or `&`.
fn query_at(b: &[u8], eq: usize) -> Option<(usize, usize, K, f32)> {
    let key_len = b
        .get(..eq)?
        .iter()
        .rev()
        .take(12)
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        .count();
    let key_start = eq - key_len;
    if key_len == 0 || !matches!(key_start.checked_sub(1).and_then(|i| b.get(i)), Some(b'?' | b'&')) {
        return None;
    }
    let key = b.get(key_start..eq)?;
    if !PERSON_KEYS.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(key)) {
        return None;
    }
    let start = eq + 1;
    let stop = |c: &u8| {
        matches!(c, b'&' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\' | b')' | b']')
            || c.is_ascii_whitespace()
            || *c < 0x20
    };
    let len = b.get(start..)?.iter().take(MAX_VALUE + 1).take_while(|c| !stop(c)).count();
    if len == 0 || len > MAX_VALUE {
        return None;
    }
    let value = b.get(start..start + len)?;
    let hex = |i: usize| value.get(i).is_some_and(u8::is_ascii_hexdigit);
    let template = match value.first() {
        Some(b'{' | b'$' | b':' | b'[' | b'(' | b'*') => true,
        Some(b'%') => !(hex(1) && hex(2)),
        _ => false,
    };
    if template || !value.iter().any(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some((start, start + len, K::ProfileUrl, QUERY))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.iter().map(|p| &text[p.0..p.1]).collect()
    }

    #[test]
    fn profiles_and_repositories() {
        assert_eq!(found("see https://www.linkedin.com/in/jane-q-example/ now"), ["jane-q-example"]);
        assert_eq!(found("github.com/janeqexample and github.com/rust-lang/rust"), ["janeqexample"]);
        assert_eq!(found("https://x.com/search?q=a and https://x.com/jqexample/status/1"), ["jqexample"]);
        assert_eq!(found("box.com/abc"), Vec::<&str>::new());
        assert_eq!(found("/api?user=jqexample&id=2&name={name}"), ["jqexample"]);
    }
}
