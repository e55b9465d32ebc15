//! Reply inspection: what a reply carries that it should not. Markdown links and images that
//! would send this conversation's data out (or go to a denied host), the system-prompt canary,
//! and secrets or personal data the request did not carry.
//!
//! Replies are inspected before placeholders are restored, so the originals this exchange masked
//! are never mistaken for a leak, and a link that embeds a placeholder is removed before an
//! original could be restored into it.

use super::entity::{EntityKind, Finding};
use super::restore::leaks::{act_on_findings, LeakRules, LeakTally};
use super::restore::{placeholder_lookalikes, Escape, RestoreSpec};
use super::threat::decode::{base64_text, hex_text, percent_decoded};
use super::threat::reply::{split_url, LinkAction, LinkView, ReplyRule};
use super::vault::Vault;
use crate::config::FilterConfig;
use crate::event::ReplyFindingKind;
use crate::policy::ReplyPolicy;

/// Counts of what one reply (or one part of it) carried.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplyFindings {
    /// Links and images removed: they carried this conversation's data or went to a denied host.
    pub exfiltration_links: u64,
    /// Links to hosts that are not allowed whose query looks like data: reported, not removed.
    pub links_reported: u64,
    pub canary_leaks: u64,
    pub secrets: u64,
    pub pii: u64,
    pub rule_ids: Vec<&'static str>,
}

impl ReplyFindings {
    /// Findings that must not reach the client: the part carrying them is removed.
    pub fn must_remove(&self) -> bool {
        self.exfiltration_links > 0 || self.canary_leaks > 0
    }

    pub fn add(&mut self, other: ReplyFindings) {
        self.exfiltration_links += other.exfiltration_links;
        self.links_reported += other.links_reported;
        self.canary_leaks += other.canary_leaks;
        self.secrets += other.secrets;
        self.pii += other.pii;
        for id in other.rule_ids {
            if !self.rule_ids.contains(&id) {
                self.rule_ids.push(id);
            }
        }
    }

    /// `(kind, count)` pairs, one per kind.
    pub fn by_kind(&self) -> [(ReplyFindingKind, u64); 5] {
        [
            (ReplyFindingKind::ExfiltrationLink, self.exfiltration_links),
            (ReplyFindingKind::LinkReported, self.links_reported),
            (ReplyFindingKind::CanaryLeak, self.canary_leaks),
            (ReplyFindingKind::Secret, self.secrets),
            (ReplyFindingKind::Pii, self.pii),
        ]
    }

    /// The kind that stopped a stream: the canary when it leaked, else an exfiltration link.
    pub fn stopping_kind(&self) -> ReplyFindingKind {
        if self.canary_leaks > 0 {
            ReplyFindingKind::CanaryLeak
        } else {
            ReplyFindingKind::ExfiltrationLink
        }
    }
}

/// What replaces a reply text that carried this conversation's data in a link or the canary.
pub fn removal_notice(findings: &ReplyFindings) -> String {
    format!("[prompt-guard removed this content: {}]", findings.rule_ids.join(", "))
}

/// Links and the canary only: cheap enough to run on a sliding window of a stream.
pub fn scan_links(cfg: &FilterConfig, vault: &Vault, text: &str) -> ReplyFindings {
    let mut found = ReplyFindings::default();
    if !cfg.threats.enabled {
        return found;
    }
    let mut carries =
        |link: &LinkView<'_>| carries_conversation(link, vault, &cfg.restore, cfg.threats.canary.as_deref());
    for f in cfg.threats.reply.scan(text, &mut carries) {
        match (f.rule, f.action) {
            (ReplyRule::Canary, _) => found.canary_leaks += 1,
            (_, LinkAction::Remove) => found.exfiltration_links += 1,
            (_, LinkAction::Report) => found.links_reported += 1,
        }
        if !found.rule_ids.contains(&f.rule.id()) {
            found.rule_ids.push(f.rule.id());
        }
    }
    found
}

/// Secrets and personal data in reply text (placeholders not yet restored, so everything found
/// here was not masked from this exchange's request).
/// Runs when threat scanning is on, or when the reply policy acts on what it finds.
pub fn scan_leaks(cfg: &FilterConfig, reply: &ReplyPolicy, text: &str, buf: &mut Vec<Finding>) -> ReplyFindings {
    let mut found = ReplyFindings::default();
    buf.clear();
    if !cfg.threats.enabled && !reply.acts() {
        return found;
    }
    cfg.detector.detect(text, buf);
    for f in buf.iter() {
        match f.kind {
            EntityKind::Builtin(kind) if kind.is_secret() => found.secrets += 1,
            _ => found.pii += 1,
        }
    }
    found
}

/// The exchange's reply policy (`reply`) on one reply text whose leak findings [`scan_leaks`] left in
/// `found`: every value is counted in `tally` by type and action, and `Some(new text)` comes back
/// when one was redacted or masked. The client's own originals pass (see `restore::leaks`).
pub fn act_on_leaks(
    cfg: &FilterConfig,
    reply: &ReplyPolicy,
    vault: &Vault,
    text: &str,
    escape: Escape,
    found: &[Finding],
    tally: &mut LeakTally,
) -> Option<String> {
    let rules = LeakRules { detector: &cfg.detector, policy: reply, vault };
    act_on_findings(text, found, &rules, escape, tally)
}

/// Everything: links, canary, secrets and personal data (under the filter's default policy).
pub fn scan_all(cfg: &FilterConfig, vault: &Vault, text: &str, buf: &mut Vec<Finding>) -> ReplyFindings {
    scan_all_under(cfg, &cfg.policy.reply, vault, text, buf)
}

/// Everything, under the exchange's reply policy `reply`.
pub fn scan_all_under(
    cfg: &FilterConfig,
    reply: &ReplyPolicy,
    vault: &Vault,
    text: &str,
    buf: &mut Vec<Finding>,
) -> ReplyFindings {
    let mut found = scan_links(cfg, vault, text);
    found.add(scan_leaks(cfg, reply, text, buf));
    found
}

/// An encoded run in a link (base64 or hex) must decode to at least this many characters of text
/// to count as a blob of conversation data: shorter ones are ids, and random tokens (signed URLs,
/// commit hashes) do not decode to text at all.
const MIN_BLOB_TEXT_CHARS: usize = 24;
/// Shortest vault original looked for verbatim in a link (as `Spreader`'s limit in `mask`).
const MIN_ORIGINAL_CHARS: usize = 6;

/// Whether a link carries data of this exchange: one of its placeholders (in any form the
/// restorer would read, so the original would be restored into the URL) or synthetic values,
/// one of its originals, the canary, an encoded blob of text, or a run of the prompt's words
/// (see [`PromptPrint`]).
/// The URL is percent-decoded (twice, `+` as space) first.
fn carries_conversation(link: &LinkView<'_>, vault: &Vault, spec: &RestoreSpec, canary: Option<&str>) -> bool {
    // The user's own clickable link, quoted back as the request held it, placeholders and all:
    // the values restored into it are the ones the client put there, and nothing is sent unless
    // someone clicks it. Its other data (the canary, an encoded blob, the prompt's words) still
    // counts, a denied host is still refused by its host, and an image, fetched without a click,
    // is held to every check even when the request held it.
    let own = !link.image && vault.prompt_print().holds_link(link.host, link.rest);
    let decoded = percent_decoded(link.rest);
    let url = decoded.as_deref().unwrap_or(link.rest);
    let mut placeholder = false;
    placeholder_lookalikes(url, spec, |label, number| {
        placeholder |= vault.lookup_parts(&spec.grammar, label, number).is_some();
    });
    let values = placeholder
        || vault.entries().iter().any(|e| e.original.len() >= MIN_ORIGINAL_CHARS && url.contains(e.original.as_str()))
        // A synthetic value would be restored into the URL like a placeholder.
        || vault.synthetic_entries().iter().any(|e| url.contains(e.placeholder.as_str()));
    (values && !own)
        || canary.is_some_and(|c| !c.is_empty() && url.contains(c))
        || url
            .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_')))
            .filter(|run| run.len() >= MIN_BLOB_TEXT_CHARS)
            .any(|run| {
                base64_text(run).or_else(|| hex_text(run)).is_some_and(|t| t.chars().count() >= MIN_BLOB_TEXT_CHARS)
            })
        || vault.prompt_print().repeats(url, if link.image { IMAGE_RUN_WORDS } else { LINK_RUN_WORDS })
}

/// Words in a row of the prompt that an image URL must repeat to carry the prompt's text. An
/// image is fetched without a click, so a few words are enough.
const IMAGE_RUN_WORDS: usize = 4;
/// The same for a clickable link: search links often repeat a short question word for word, so
/// only a long run counts.
const LINK_RUN_WORDS: usize = 12;
/// Words hashed together; the shortest run that can be recognised.
const PRINT_WORDS: usize = IMAGE_RUN_WORDS;
/// At most this many word windows are kept per exchange: past it, later text of a very long
/// request is not recognised in links (its placeholders and originals still are).
const MAX_PRINT_WINDOWS: usize = 1 << 15;

/// What the model was shown, as 32-bit fingerprints of every run of [`PRINT_WORDS`] words
/// (lower-cased, split at anything that is not a letter or digit), so that a reply link repeating
/// the prompt's text can be recognised without keeping the text. Once sealed, the fingerprints
/// sit in an open-addressing table at most half full (8 bytes per window; 256 KiB at the cap).
/// With at most 2^15 windows, a window that is not the prompt's matches one by chance about once
/// in 2^17 tries, and a link needs a run of them. A table, not a sorted list: sorting the windows
/// of a 16 KiB conversation cost more than hashing them (`make bench-instructions`).
#[derive(Debug, Default, Clone)]
pub struct PromptPrint {
    /// Fingerprints as collected (before `seal`), or the table (after); 0 marks an empty slot.
    slots: Vec<u32>,
    sealed: bool,
    /// Hashes of the links the request itself holds (host and the rest, as forwarded: masked).
    links: Vec<u64>,
}

/// At most this many links of a request are remembered (see [`PromptPrint::holds_link`]).
const MAX_PRINT_LINKS: usize = 1024;

/// FNV-1a over a link's lower-case host and the rest of it.
fn link_hash(host: &str, rest: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in host.bytes().map(|b| b.to_ascii_lowercase()).chain([0]).chain(rest.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The links of a text (`http://` and `https://`), as host and the rest, cut as the reply's
/// bare URLs are (`threat::reply`): at white space, a quote, a parenthesis, an angle bracket or a
/// backtick, without trailing sentence punctuation, brackets kept when one opens in the URL.
fn links_of(text: &str, mut each: impl FnMut(&str, &str) -> bool) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(p) = memchr::memmem::find(bytes.get(at..).unwrap_or(&[]), b"://").map(|p| at + p) {
        at = p + 3;
        let (start, len) = crate::threat::reply::url_run(bytes, p);
        at = at.max(start + len);
        let url = text.get(start..start + len).unwrap_or("").trim_end_matches(['.', ',', ';', ':', '!', '?']);
        let url = if url.contains('[') { url } else { url.trim_end_matches(']') };
        if let Some((host, rest)) = split_url(url) {
            if !each(&host, rest) {
                return;
            }
        }
    }
}

impl PromptPrint {
    /// Add one text of the request (as forwarded: masked).
    pub fn add_text(&mut self, text: &str) {
        if self.sealed || self.slots.len() >= MAX_PRINT_WINDOWS {
            return;
        }
        // A link the request itself holds is remembered whole: the model quoting it back carries
        // nothing the client did not already hold in that link.
        let links = &mut self.links;
        links_of(text, |host, rest| {
            links.push(link_hash(host, rest));
            links.len() < MAX_PRINT_LINKS
        });
        // URLs in the prompt are left out: a reply that repeats a link the user gave is not
        // carrying the prompt's words (its placeholders and originals are still looked for).
        for prose in outside_urls(text) {
            let slots = &mut self.slots;
            each_window(prose, |h| {
                slots.push(fingerprint(h));
                slots.len() < MAX_PRINT_WINDOWS
            });
        }
    }

    /// Build the look-up table; done once the request is read.
    pub fn seal(&mut self) {
        if self.sealed {
            return;
        }
        self.sealed = true;
        if self.slots.is_empty() {
            return;
        }
        let size = (self.slots.len() * 2).next_power_of_two();
        let mut table = vec![0u32; size];
        for &fp in &self.slots {
            let mut i = slot_of(fp, size);
            loop {
                match table.get_mut(i) {
                    Some(slot) if *slot == 0 => {
                        *slot = fp;
                        break;
                    }
                    Some(slot) if *slot == fp => break,
                    Some(_) => i = (i + 1) & (size - 1),
                    None => break,
                }
            }
        }
        self.slots = table;
    }

    fn contains(&self, fp: u32) -> bool {
        let size = self.slots.len();
        let mut i = slot_of(fp, size);
        loop {
            match self.slots.get(i) {
                Some(&slot) if slot == fp => return true,
                Some(&slot) if slot != 0 => i = (i + 1) & (size - 1),
                _ => return false,
            }
        }
    }

    /// Whether `text` repeats at least `words` words in a row of the prompt.
    /// Whether the request held this very link (host and the rest, as the reply writes it
    /// before placeholders are restored).
    pub fn holds_link(&self, host: &str, rest: &str) -> bool {
        !self.links.is_empty() && self.links.contains(&link_hash(host, rest))
    }

    pub fn repeats(&self, text: &str, words: usize) -> bool {
        if self.slots.is_empty() || !self.sealed {
            return false;
        }
        let need = words.saturating_sub(PRINT_WORDS) + 1;
        let mut in_a_row = 0;
        let mut found = false;
        each_window(text, |h| {
            in_a_row = if self.contains(fingerprint(h)) { in_a_row + 1 } else { 0 };
            found = in_a_row >= need;
            !found
        });
        found
    }
}

/// A window's 32-bit fingerprint, never 0 (the table's empty mark).
fn fingerprint(h: u64) -> u32 {
    let folded = (h ^ (h >> 32)) as u32;
    folded.max(1)
}

/// Where a fingerprint's probe starts in a table of `size` slots (a power of two).
fn slot_of(fp: u32, size: usize) -> usize {
    (fp.wrapping_mul(0x9E37_79B1) as usize) & (size.max(1) - 1)
}

/// The pieces of `text` between URLs: from `http://` or `https://` (or, for another scheme, from
/// its `://`) to white space or a closing bracket, parenthesis, angle bracket or quote.
fn outside_urls(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        let scheme_end = memchr::memchr_iter(b':', bytes).find(|&c| bytes.get(c + 1..c + 3) == Some(b"//"));
        let Some(start) = scheme_end.and_then(|colon| {
            let before = rest.get(..colon)?;
            let scheme = before.len() - before.trim_end_matches(|c: char| c.is_ascii_alphanumeric()).len();
            let s = colon - scheme;
            matches!(rest.get(s..colon).map(str::to_ascii_lowercase).as_deref(), Some("http" | "https"))
                .then_some(s)
                .or(Some(colon))
        }) else {
            return Some(std::mem::take(&mut rest));
        };
        let prose = rest.get(..start).unwrap_or("");
        let url = rest.get(start..).unwrap_or("");
        let end =
            url.find(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '>' | '"' | '\'')).unwrap_or(url.len());
        rest = url.get(end.max(3)..).unwrap_or("");
        Some(prose)
    })
}

/// A byte as it counts in a word (ASCII letters lower-cased, digits and non-ASCII bytes as they
/// are), or 0 where it ends one: one load per byte instead of range tests.
static WORD_BYTE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphanumeric() || c >= 0x80 { c.to_ascii_lowercase() } else { 0 };
        b += 1;
    }
    table
};

/// Calls `f` with the hash of every window of [`PRINT_WORDS`] consecutive words, in order, while
/// it returns true. One pass over the bytes: ASCII letters and digits are lower-cased, every
/// non-ASCII byte counts as part of a word (so non-ASCII text is compared as written), anything
/// else ends a word. FNV-1a per word.
fn each_window(text: &str, mut f: impl FnMut(u64) -> bool) {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut ring = [0u64; PRINT_WORDS];
    let mut count = 0usize;
    let mut word = OFFSET;
    let mut in_word = false;
    let mut end_word = |word: u64, ring: &mut [u64; PRINT_WORDS], count: &mut usize| -> bool {
        if let Some(slot) = ring.get_mut(*count % PRINT_WORDS) {
            *slot = word;
        }
        *count += 1;
        if *count < PRINT_WORDS {
            return true;
        }
        // Oldest word first, so the window's hash depends on the order of its words.
        let mut h = OFFSET;
        for i in 0..PRINT_WORDS {
            let w = ring.get((*count + i) % PRINT_WORDS).copied().unwrap_or(0);
            h = (h ^ w).wrapping_mul(PRIME).rotate_left(17);
        }
        f(h)
    };
    for &b in text.as_bytes() {
        let folded = WORD_BYTE[usize::from(b)];
        if folded != 0 {
            word = (word ^ u64::from(folded)).wrapping_mul(PRIME);
            in_word = true;
        } else if in_word {
            if !end_word(word, &mut ring, &mut count) {
                return;
            }
            word = OFFSET;
            in_word = false;
        }
    }
    if in_word {
        end_word(word, &mut ring, &mut count);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_requests_own_links_are_remembered_as_written() {
        let mut p = PromptPrint::default();
        p.add_text("Why does https://App.example.net/cb?host_ip=[IP_ADDRESS_1]&page=2. fail, and (see http://docs.example.org/x)?");
        p.seal();
        assert!(p.holds_link("app.example.net", "/cb?host_ip=[IP_ADDRESS_1]&page=2"));
        assert!(p.holds_link("docs.example.org", "/x"));
        // Another query, another host, another placeholder: not the request's link.
        assert!(!p.holds_link("app.example.net", "/cb?host_ip=[IP_ADDRESS_1]&page=3"));
        assert!(!p.holds_link("evil.example.com", "/cb?host_ip=[IP_ADDRESS_1]&page=2"));
        assert!(!p.holds_link("app.example.net", "/cb?host_ip=[IP_ADDRESS_2]&page=2"));
        assert!(!PromptPrint::default().holds_link("app.example.net", "/x"));
    }

    use super::*;

    fn print(text: &str) -> PromptPrint {
        let mut p = PromptPrint::default();
        p.add_text(text);
        p.seal();
        p
    }

    #[test]
    fn a_run_of_the_prompts_words_is_recognised_in_any_case_and_spelling() {
        let p = print("Summarise the quarterly revenue figures for the Lisbon office, please.");
        assert!(p.repeats("/i.png?d=QUARTERLY+revenue+figures+for", 4));
        assert!(p.repeats("/log/the-quarterly-revenue-figures", 4));
        // Three words are not a run; words out of order are not one either.
        assert!(!p.repeats("/i.png?d=quarterly+revenue+figures", 4));
        assert!(!p.repeats("/i.png?d=figures+revenue+quarterly+the", 4));
        // A clickable link needs twelve words in a row.
        assert!(!p.repeats("/search?q=summarise+the+quarterly+revenue+figures+for+the+lisbon", 12));
    }

    #[test]
    fn links_the_user_wrote_are_not_prompt_words() {
        let p = print("see https://files.example.net/quarterly/revenue/figures/lisbon.png and tell me what it shows");
        assert!(!p.repeats("/quarterly/revenue/figures/lisbon.png", 4));
        assert!(p.repeats("/x?t=tell+me+what+it+shows", 4));
    }

    #[test]
    fn an_empty_or_unsealed_print_recognises_nothing() {
        assert!(!PromptPrint::default().repeats("a b c d e f", 4));
        let mut p = PromptPrint::default();
        p.add_text("one two three four five");
        assert!(!p.repeats("one two three four", 4));
        p.seal();
        assert!(p.repeats("one two three four", 4));
    }
}
