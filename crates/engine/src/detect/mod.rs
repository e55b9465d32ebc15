//! PII and secret detection: regexes find candidates, validators (Luhn, mod-97, SSN rules, IP
//! parsing) confirm them, context words raise or lower confidence.
//!
//! Layout: `patterns` (candidate regexes and the cheap gates that decide whether a regex runs
//! at all), `scan` (the whole-text byte scans behind those gates), `checks` (candidate ->
//! scored span), `validate` (checksums and parsers), `phone` (phone groupings), `context`
//! (nearby words and token edges), `secrets` (the catalogue of secret formats),
//! `secrets_shape` (how vendor tokens are found without a regex per format) and `columns`
//! (tables whose header names their columns).
//!
//! Speed: texts without candidates are rejected by a few whole-text scans (digits eight bytes
//! at a time, `@`, two close colons, packed SIMD literal searches for token prefixes and secret
//! keywords). Digit rules run only inside "number islands" that hold enough digits for them
//! (SSN shapes by a byte matcher), IBANs only where two letters and two digits start a word,
//! keyword rules only anchored at keyword hits (one set search per hit). Each candidate reads
//! its context once for every word list, and a dense text indexes its context words once.
//! Overlaps are resolved on a byte-coverage bitset. None of this changes a result: each gate is
//! a necessary condition of the rule it guards.
//!
//! Decisions worth knowing (each generalises; none is tuned to a test string):
//! - IP: parsed with `std::net`. Not masked: `0.0.0.0`, `255.x.x.x` netmasks/broadcast, `::`,
//!   `::1` and other IPv6 values with fewer than two groups or no digit (they identify nobody,
//!   and `dead::beef`/`Foo::bar` are code); dotted quads right after "version", "v", "release",
//!   "section" and similar words; parts of longer dotted numbers (`1.2.3.4.5`). A CIDR suffix up
//!   to /32 belongs to the address, a `:port` does not.
//! - Phone: only groupings people write phones in (see `phone`); bare digit runs and short
//!   groups need phone words nearby; "order", "invoice", "tracking", "version", ... outweigh
//!   phone words.
//! - SSN: dashed form alone; spaced and dotted forms are weaker and need "ssn"/"social
//!   security" nearby (dotted) or score just above the threshold (spaced); bare nine digits only
//!   with those words.
//! - Cards: Luhn always; outside the known issuer ranges only with card words nearby.
//! - Secrets: vendor tokens must look random (no `xxxx`, `1234`, `EXAMPLE` stand-ins);
//!   `password=`-style assignments mask only the value and skip references (`${VAR}`, URLs,
//!   `settings.api_key`, `UPPER_NAME`), public keys and prose (`Password: required`).
//! - Structured text: what names a value is its context, as words before it are in prose. A
//!   value of the user's own JSON is read as `"key": "value"` (`detect_field`), a table cell
//!   with its column's header (`columns`), and the assignment rules know the separators of the
//!   common formats (`:`, `=`, XML elements, property lists, table rows, `--option value`,
//!   `name`/`value` pairs). A random value under a name ending in `key` or naming an
//!   authentication or a session is a secret; hex digests, UUIDs, paths and names are not.

mod address;
mod checks;
mod columns;
mod context;
mod devices;
mod documents;
mod finance;
mod fold;
mod health;
mod ids;
mod names;
mod national;
mod patterns;
mod phone;
mod profile;
mod scan;
mod secrets;
mod secrets_shape;
mod urlencoded;
mod validate;
mod vat;

use std::collections::HashSet;

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexBuilder, RegexSet};

use super::entity::{BuiltinKind, EntityKind, Finding};
use patterns::{Check, Gate, KEYWORDS, KEYWORD_WINDOW, MIN_ISLAND_DIGITS, RULES, TOKEN_PREFIXES};
use scan::{colons_and_user_options, floor_char_boundary, iban_starts, number_islands, Island};

/// The ids of the secret formats the detector knows, in catalogue order (the "Secrets" table
/// of the entity documentation lists the same ids).
pub fn secret_format_ids() -> impl Iterator<Item = &'static str> {
    secrets::FORMATS.iter().map(|f| f.id)
}

/// A custom pattern from the configuration, already checked for shape (label syntax).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomPattern {
    /// Upper-case placeholder label, e.g. `EMPLOYEE_ID`.
    pub label: String,
    pub regex: String,
    /// When non-empty, a match counts only if one of these words occurs near it.
    pub context: Vec<String>,
}

/// What the detector should look for.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectSettings {
    pub enabled: Vec<BuiltinKind>,
    pub custom: Vec<CustomPattern>,
    /// Exact values never to mask.
    pub allow_list: Vec<String>,
    /// Findings scoring below this are dropped.
    pub min_score: f32,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            enabled: BuiltinKind::ALL.to_vec(),
            custom: Vec::new(),
            allow_list: Vec::new(),
            min_score: 0.5,
        }
    }
}

/// Why a detector could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetectBuildError {
    /// Custom pattern `index` has a regex that does not compile (or is too large).
    BadCustomRegex { index: usize, message: String },
    /// More custom patterns than a finding can index.
    TooManyCustomPatterns { count: usize },
    /// A built-in pattern failed to compile: a bug in this crate, reported rather than panicking.
    BuiltinRegex { label: &'static str, message: String },
}

impl std::fmt::Display for DetectBuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DetectBuildError::BadCustomRegex { index, message } => {
                write!(f, "custom_patterns[{index}].regex: {message}")
            }
            DetectBuildError::TooManyCustomPatterns { count } => {
                write!(f, "custom_patterns: {count} patterns, at most {} allowed", u16::MAX)
            }
            DetectBuildError::BuiltinRegex { label, message } => write!(f, "built-in pattern {label}: {message}"),
        }
    }
}

/// Limits on a custom regex's compiled size, so configuration cannot make the VM allocate
/// without bound.
const CUSTOM_REGEX_SIZE_LIMIT: usize = 1 << 20;
const CUSTOM_DFA_SIZE_LIMIT: usize = 1 << 20;
/// Longest key [`Detector::detect_field`] reads as the label of its value.
const MAX_FIELD_KEY: usize = 64;
/// Score of a custom pattern match (above the default threshold).
const CUSTOM_SCORE: f32 = 0.85;

#[derive(Debug)]
struct CompiledRule {
    kind: BuiltinKind,
    check: Check,
    gate: Gate,
    regex: Regex,
    /// For `Keyword` rules: the rule's bit in the keyword set's answers.
    keyword_bit: u32,
    /// For `Prefix` rules: the token prefixes (bits of `TOKEN_PREFIXES`) one of which every
    /// match contains; the rule runs only when one of them occurs in the text.
    prefix_bits: u128,
}

#[derive(Debug)]
struct CompiledCustom {
    label: String,
    regex: Regex,
    context: Vec<String>,
}

/// A compiled detector: built once per VM at configure time, used for every request.
#[derive(Debug)]
pub struct Detector {
    rules: Vec<CompiledRule>,
    custom: Vec<CompiledCustom>,
    allow_list: HashSet<String>,
    /// The allow-list's e-mail addresses, lower-cased: an address is matched whatever its case
    /// (domains are case-insensitive, and mail systems treat local parts so in practice).
    allow_list_emails: HashSet<String>,
    min_score: f32,
    /// Finds the secret keywords where `Keyword` rules may start, and whether any literal
    /// prefix of a `Prefix` rule occurs.
    literals: Option<LiteralScan>,
    /// How many keyword spellings there are (the last three are the `aws` gate word's).
    keyword_patterns: usize,
    /// The anchored regexes of all `Keyword` rules: one search per keyword hit says which rules
    /// match there (most hits, like `secretary` or `tokens`, match none). Without it (it never
    /// fails to build) each rule searches at each hit.
    keyword_set: Option<RegexSet>,
    /// The enabled identifier kinds (`ids`: national, health), found in one pass of their own.
    identifiers: ids::Enabled,
    /// The vendor tokens of the secret catalogue, found by their shapes.
    shapes: Option<secrets_shape::ShapeScan>,
    /// The bits of `TOKEN_PREFIXES` one of which every shape's anchor contains: the shape scan
    /// runs only when the literal scan found one of them.
    shape_prefix_bits: u128,
    /// Which of the word-based kinds (`names`, `address`) are enabled.
    person: bool,
    address: bool,
    postcode: bool,
    /// Whether profile handles and person query values (`profile`) are found.
    profile_url: bool,
}

impl Detector {
    pub fn new(settings: &DetectSettings) -> Result<Detector, DetectBuildError> {
        let mut rules = Vec::new();
        let mut keyword_sources: Vec<String> = Vec::new();
        for r in RULES.iter().filter(|r| settings.enabled.contains(&r.kind)) {
            // Keyword and IBAN rules run anchored where their gate says a match may start.
            let anchored = matches!(r.gate, Gate::Keyword | Gate::IbanStart);
            let source = if anchored { format!("^(?:{})", r.regex) } else { r.regex.to_string() };
            let regex = Regex::new(&source)
                .map_err(|e| DetectBuildError::BuiltinRegex { label: r.kind.label(), message: e.to_string() })?;
            let keyword_bit = if r.gate == Gate::Keyword {
                keyword_sources.push(source);
                1u32.checked_shl((keyword_sources.len() - 1) as u32).unwrap_or(0)
            } else {
                0
            };
            let prefix_bits = if r.gate == Gate::Prefix { prefix_dependencies(r.regex) } else { 0 };
            rules.push(CompiledRule { kind: r.kind, check: r.check, gate: r.gate, regex, keyword_bit, prefix_bits });
        }
        // A rule past the 32nd keyword rule has no bit: the set is not used then.
        let keyword_set = if keyword_sources.len() <= 32 { RegexSet::new(&keyword_sources).ok() } else { None };
        if settings.custom.len() > usize::from(u16::MAX) {
            return Err(DetectBuildError::TooManyCustomPatterns { count: settings.custom.len() });
        }
        let mut custom = Vec::with_capacity(settings.custom.len());
        for (index, c) in settings.custom.iter().enumerate() {
            let regex = RegexBuilder::new(&c.regex)
                .size_limit(CUSTOM_REGEX_SIZE_LIMIT)
                .dfa_size_limit(CUSTOM_DFA_SIZE_LIMIT)
                .build()
                .map_err(|e| DetectBuildError::BadCustomRegex { index, message: e.to_string() })?;
            let context = c.context.iter().map(|w| w.to_lowercase()).collect();
            custom.push(CompiledCustom { label: c.label.clone(), regex, context });
        }
        // One pass finds both the keyword-rule anchors and the AWS gate word. The automaton
        // is case-sensitive over the lower, upper and capitalised spellings (which also cover
        // camelCase such as `clientSecret`): a case-insensitive automaton loses the fast
        // literal prefilter and took half of the time spent on clean text.
        let spellings: Vec<String> = KEYWORDS
            .iter()
            .chain(&["aws"])
            .flat_map(|k| {
                let mut capitalised = k.to_string();
                if let Some(first) = capitalised.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                [k.to_string(), k.to_ascii_uppercase(), capitalised]
            })
            .collect();
        let keyword_patterns = spellings.len();
        let literals = LiteralScan::new(&spellings, TOKEN_PREFIXES);
        Ok(Detector {
            rules,
            custom,
            allow_list: settings.allow_list.iter().cloned().collect(),
            allow_list_emails: settings
                .allow_list
                .iter()
                .filter(|v| v.contains('@'))
                .map(|v| v.to_lowercase())
                .collect(),
            min_score: settings.min_score,
            literals,
            keyword_patterns,
            keyword_set,
            identifiers: ids::Enabled::new(&settings.enabled),
            shapes: secrets_shape::ShapeScan::new(secrets::shapes(|k| settings.enabled.contains(&k))),
            shape_prefix_bits: shape_prefix_bits(),
            person: settings.enabled.contains(&BuiltinKind::Person),
            address: settings.enabled.contains(&BuiltinKind::Address),
            postcode: settings.enabled.contains(&BuiltinKind::Postcode),
            profile_url: settings.enabled.contains(&BuiltinKind::ProfileUrl),
        })
    }

    /// Append the findings in `text` to `out`: sorted by start, non-overlapping.
    ///
    /// A text holding full-width or mathematical letters and digits, or invisible and bidi
    /// characters, is searched in its folded view (`fold`), and each finding is mapped back to
    /// the original bytes of its value. Other texts are searched as they are.
    pub fn detect(&self, text: &str, out: &mut Vec<Finding>) {
        let from = out.len();
        match fold::folded_view(text) {
            None => self.detect_in(text, out),
            Some(view) => {
                let mut found = Vec::new();
                self.detect_in(&view.text, &mut found);
                out.extend(found.into_iter().filter_map(|f| {
                    let (start, end) = view.original(f.start, f.end)?;
                    Some(Finding { start, end, ..f })
                }));
            }
        }
        self.detect_cells(text, out, from);
        if urlencoded::may_hold(text.as_bytes()) {
            self.detect_encoded(text, out, from);
        }
    }

    /// The percent-encoded values of query strings and form bodies in the text (`urlencoded`),
    /// each read decoded with its name as its label; what is found is masked over its encoded
    /// bytes. A finding of the text as written that a finding of the decoded reading covers
    /// gives way to it (`jane%40example.com` is one address); one it does not cover wins (a
    /// password with a raw `+`, pasted without encoding, is one value, not two words). `out[from..]` holds this text's findings, sorted; the result
    /// stays sorted and without overlaps.
    fn detect_encoded(&self, text: &str, out: &mut Vec<Finding>, from: usize) {
        let mut found = Vec::new();
        // Each decoded finding, over its encoded bytes.
        let mut extra: Vec<Finding> = Vec::new();
        for pair in urlencoded::encoded_pairs(text.as_bytes()) {
            let (vs, ve) = pair.value;
            let Some((value, map)) = text.get(vs..ve).and_then(|v| urlencoded::decode(v.as_bytes())) else { continue };
            let Some((name, _)) = text.get(pair.name.0..pair.name.1).and_then(|n| urlencoded::decode(n.as_bytes()))
            else {
                continue;
            };
            found.clear();
            self.detect_field(&name, &value, &mut found);
            for f in &found {
                let (Some(&s), Some(&e)) = (map.get(f.start), map.get(f.end)) else { continue };
                extra.push(Finding { start: vs + s, end: vs + e, ..*f });
            }
        }
        if extra.is_empty() {
            return;
        }
        // Both lists are sorted and without overlaps of their own, so the findings as written
        // that a decoded finding overlaps are neighbours, found by one forward walk. A decoded
        // finding wins when it covers every one of them, and they give way; else it gives way.
        let mine = out.split_off(from);
        let mut dropped = vec![false; mine.len()];
        let mut kept: Vec<Finding> = Vec::with_capacity(mine.len() + extra.len());
        let mut j = 0;
        for x in extra {
            while mine.get(j).is_some_and(|f| f.end <= x.start) {
                j += 1;
            }
            let overlapping = mine.get(j..).unwrap_or(&[]).iter().take_while(|f| f.start < x.end);
            let (mut count, mut covers) = (0, true);
            for f in overlapping {
                covers &= x.start <= f.start && f.end <= x.end;
                count += 1;
            }
            if covers {
                dropped.iter_mut().skip(j).take(count).for_each(|d| *d = true);
                kept.push(x);
            }
        }
        kept.extend(mine.into_iter().zip(dropped).filter(|(_, d)| !d).map(|(f, _)| f));
        kept.sort_by_key(|f| f.start);
        out.extend(kept);
    }

    /// The cells of a table whose header names their columns (`columns`), each read with its
    /// column's name as its label, where nothing was found in them already. `out[from..]`
    /// holds this text's findings, sorted; the result stays sorted and without overlaps.
    fn detect_cells(&self, text: &str, out: &mut Vec<Finding>, from: usize) {
        let cells = columns::labelled_cells(text);
        if cells.is_empty() {
            return;
        }
        let mut extra = Vec::new();
        let mut found = Vec::new();
        let mut next = from;
        for cell in cells {
            // Findings are sorted by start and do not overlap, as cells do not: one pass.
            while out.get(next).is_some_and(|f| f.end <= cell.start) {
                next += 1;
            }
            if out.get(next).is_some_and(|f| f.start < cell.end) {
                continue;
            }
            let (Some(label), Some(value)) = (text.get(cell.label.0..cell.label.1), text.get(cell.start..cell.end))
            else {
                continue;
            };
            found.clear();
            self.detect_field(label, value, &mut found);
            extra.extend(found.iter().map(|f| Finding { start: f.start + cell.start, end: f.end + cell.start, ..*f }));
        }
        if !extra.is_empty() {
            out.extend(extra);
            out[from..].sort_by_key(|f| f.start);
        }
    }

    /// Append the findings in `text`, the value of `key` in a structure the user wrote (a JSON
    /// document pasted into a message or returned by a tool, tool call arguments, metadata, a
    /// generic body). The value is read as it stood in that structure, `"key": "value"`, so a key
    /// that names a secret or a kind of value (`api_key`, `password`, `ssn`, `phone`) is its
    /// context exactly as the same words are before a value in prose. Only findings inside the
    /// value are kept; a key too long to be a name (free text used as a key) is not read.
    pub fn detect_field(&self, key: &str, text: &str, out: &mut Vec<Finding>) {
        if key.is_empty() || key.len() > MAX_FIELD_KEY || key.contains(['"', '\n', '\r']) {
            self.detect(text, out);
            return;
        }
        let start = key.len() + 5;
        let end = start + text.len();
        let mut labelled = String::with_capacity(end + 1);
        for piece in ["\"", key, "\": \"", text, "\""] {
            labelled.push_str(piece);
        }
        let mut found = Vec::new();
        self.detect(&labelled, &mut found);
        if found.iter().any(|f| (f.start < start && f.end > start) || (f.start < end && f.end > end)) {
            // A value that runs into its key (a number split across both): the value alone.
            self.detect(text, out);
            return;
        }
        out.extend(found.into_iter().filter(|f| f.start >= start && f.end <= end).map(|f| Finding {
            start: f.start - start,
            end: f.end - start,
            ..f
        }));
    }

    fn detect_in(&self, text: &str, out: &mut Vec<Finding>) {
        let bytes = text.as_bytes();
        // Chunked so that the compiler vectorises the scan.
        let has_digit = bytes.chunks(64).any(|c| c.iter().fold(false, |seen, b| seen | b.is_ascii_digit()));
        let has_at = bytes.contains(&b'@');
        let (colon_pair, user_info) = colons_and_user_options(bytes);
        let islands = if has_digit { number_islands(bytes) } else { Vec::new() };
        let (keyword_hits, prefix_hits) = self.literal_hits(text);
        let words = context::ContextWords::new(text);
        let keyword_windows = self.keyword_windows(text, &keyword_hits);
        let mut found: Vec<Finding> = Vec::new();
        for rule in &self.rules {
            let kind = EntityKind::Builtin(rule.kind);
            let mut push = |hit: Option<checks::Scored>| {
                if let Some((start, end, score)) = hit {
                    found.push(Finding { start, end, kind, score });
                }
            };
            let whole = match rule.gate {
                Gate::Prefix => prefix_hits & rule.prefix_bits != 0,
                Gate::At => has_at,
                Gate::ColonPair => colon_pair,
                Gate::UserInfo => user_info,
                Gate::AwsWord => keyword_hits.iter().any(|&(_, is_aws)| is_aws),
                Gate::NumberIsland | Gate::DottedIsland => {
                    for island in islands.iter().filter(|i| island_may_match(rule.gate, rule.check, i)) {
                        let Some(haystack) = text.get(island.start..island.end) else { continue };
                        // The SSN regexes have one fixed length; a byte matcher finds exactly
                        // their matches without a regex search per island.
                        let fixed = match rule.check {
                            Check::SsnSeparated => Some(scan::FixedShape::SSN_SEPARATED),
                            Check::SsnBare => Some(scan::FixedShape::SSN_BARE),
                            _ => None,
                        };
                        if let Some(shape) = fixed {
                            for at in shape.find_iter(haystack.as_bytes()) {
                                let (s, e) = (island.start + at, island.start + at + shape.len());
                                push(checks::check(rule.check, text, &words, s, e, None));
                            }
                            continue;
                        }
                        for m in rule.regex.find_iter(haystack) {
                            let (s, e) = (island.start + m.start(), island.start + m.end());
                            push(checks::check(rule.check, text, &words, s, e, None));
                        }
                    }
                    false
                }
                Gate::IbanStart => {
                    // As a whole-text search would: a candidate inside the previous match is
                    // not tried again.
                    let mut next_allowed = 0;
                    if has_digit {
                        for at in iban_starts(text) {
                            if at < next_allowed {
                                continue;
                            }
                            let stop = floor_char_boundary(text, at.saturating_add(IBAN_WINDOW));
                            let Some(m) = text.get(at..stop).and_then(|w| rule.regex.find(w)) else { continue };
                            next_allowed = at + m.end();
                            push(checks::check(rule.check, text, &words, at, at + m.end(), None));
                        }
                    }
                    false
                }
                Gate::Keyword => {
                    for &(at, window, rules) in &keyword_windows {
                        if rules & rule.keyword_bit == 0 {
                            continue;
                        }
                        if let Some(caps) = rule.regex.captures(window) {
                            push(self.check_captures(rule.check, text, at, &words, &caps));
                        }
                    }
                    false
                }
            };
            if !whole {
                continue;
            }
            if matches!(rule.check, Check::Assignment | Check::Bearer | Check::Credentials | Check::Vendor(_)) {
                for caps in rule.regex.captures_iter(text) {
                    push(self.check_captures(rule.check, text, 0, &words, &caps));
                }
            } else {
                for m in rule.regex.find_iter(text) {
                    push(checks::check(rule.check, text, &words, m.start(), m.end(), None));
                }
            }
        }
        if let Some(shapes) = self.shapes.as_ref().filter(|_| prefix_hits & self.shape_prefix_bits != 0) {
            shapes.find(text, |format, start, end| {
                let Some(f) = secrets::FORMATS.get(format) else { return };
                let secrets::Finder::Shapes { check, .. } = f.finder else { return };
                if let Some((s, e, score)) = checks::check(check, text, &words, start, end, Some((start, end))) {
                    found.push(Finding { start: s, end: e, kind: EntityKind::Builtin(f.kind), score });
                }
            });
        }
        if has_digit {
            let mut proposals = Vec::new();
            ids::find(text, self.identifiers, &mut proposals);
            found.extend(proposals.into_iter().map(|(start, end, kind, score)| Finding {
                start,
                end,
                kind: EntityKind::Builtin(kind),
                score,
            }));
        }
        if self.person || self.address || self.postcode {
            let mut proposals = Vec::new();
            let mut words = Vec::new();
            for (offset, piece) in names::pieces(text) {
                words.clear();
                proposals.clear();
                names::words_into(piece, &mut words);
                if self.person {
                    names::find(piece, &words, &mut proposals);
                }
                if has_digit && (self.address || self.postcode) {
                    address::find(piece, &words, self.address, self.postcode, &mut proposals);
                }
                found.extend(proposals.iter().map(|&(start, end, kind, score)| Finding {
                    start: offset + start,
                    end: offset + end,
                    kind: EntityKind::Builtin(kind),
                    score,
                }));
            }
        }
        if self.profile_url {
            let mut proposals = Vec::new();
            profile::find(text, &mut proposals);
            found.extend(proposals.into_iter().map(|(start, end, kind, score)| Finding {
                start,
                end,
                kind: EntityKind::Builtin(kind),
                score,
            }));
        }
        self.detect_custom(text, &mut found);
        found.retain(|f| {
            f.score >= self.min_score
                && f.end > f.start
                && (self.allow_list.is_empty() || text.get(f.start..f.end).is_some_and(|v| !self.allowed(v)))
        });
        prefer_whole_secret_values(&mut found);
        out.extend(resolve_overlaps(found, text.len()));
    }

    /// A value on the allow-list: exactly, or an e-mail address in any case.
    fn allowed(&self, value: &str) -> bool {
        self.allow_list.contains(value)
            || (!self.allow_list_emails.is_empty()
                && value.contains('@')
                && self.allow_list_emails.contains(&value.to_lowercase()))
    }

    /// Check a match whose value is capture group 1 (or 2); `base` is where the haystack the
    /// captures refer to starts in `text`.
    fn check_captures(
        &self,
        check: Check,
        text: &str,
        base: usize,
        words: &context::ContextWords<'_>,
        caps: &regex::Captures<'_>,
    ) -> Option<checks::Scored> {
        let all = caps.get(0)?;
        let value = caps.get(1).or_else(|| caps.get(2))?;
        let v = Some((base + value.start(), base + value.end()));
        checks::check(check, text, words, base + all.start(), base + all.end(), v)
    }

    /// The window after each keyword hit where some `Keyword` rule matches, with the bits of
    /// the rules that match there.
    fn keyword_windows<'t>(&self, text: &'t str, hits: &[(usize, bool)]) -> Vec<(usize, &'t str, u32)> {
        let mut windows = Vec::new();
        for &(at, _) in hits {
            let stop = floor_char_boundary(text, at.saturating_add(KEYWORD_WINDOW));
            let Some(window) = text.get(at..stop) else { continue };
            let rules = match &self.keyword_set {
                Some(set) => {
                    set.matches(window).iter().fold(0u32, |bits, i| bits | 1u32.checked_shl(i as u32).unwrap_or(0))
                }
                None => u32::MAX,
            };
            if rules != 0 {
                windows.push((at, window, rules));
            }
        }
        windows
    }

    /// Where secret keywords start (and whether each is the `aws` gate word, the last three
    /// spellings), and whether any token prefix occurs. Without a literal searcher (the
    /// automaton never fails to build for these literals) every `Prefix` rule runs.
    fn literal_hits(&self, text: &str) -> (Vec<(usize, bool)>, u128) {
        let Some(ac) = self.literals.as_ref() else { return (Vec::new(), u128::MAX) };
        let aws_from = self.keyword_patterns.saturating_sub(3);
        let mut keywords = Vec::new();
        let prefixes = ac.scan(text, |start, p| keywords.push((start, p >= aws_from)));
        (keywords, prefixes)
    }

    fn detect_custom(&self, text: &str, found: &mut Vec<Finding>) {
        for (i, c) in self.custom.iter().enumerate() {
            let Ok(index) = u16::try_from(i) else { break };
            for m in c.regex.find_iter(text).filter(|m| !m.is_empty()) {
                let words: Vec<&str> = c.context.iter().map(String::as_str).collect();
                if !words.is_empty() && !context::near(text, m.start(), m.end(), &words, true) {
                    continue;
                }
                found.push(Finding {
                    start: m.start(),
                    end: m.end(),
                    kind: EntityKind::Custom(index),
                    score: CUSTOM_SCORE,
                });
            }
        }
    }

    /// The placeholder label of a finding's kind.
    pub fn label(&self, kind: EntityKind) -> &str {
        match kind {
            EntityKind::Builtin(b) => b.label(),
            EntityKind::Custom(i) => self.custom.get(usize::from(i)).map(|c| c.label.as_str()).unwrap_or("CUSTOM"),
        }
    }
}

/// The multi-literal search for keywords and token prefixes.
///
/// Natively, packed SIMD searchers (Teddy) do it: one over the keyword spellings, whose hits
/// are all needed, and two over the token prefixes, of which only the first hit is needed
/// (any hit sends every `Prefix` rule over the text). Teddy screens on the first three bytes
/// of each pattern; lower-case trigrams (`lin`, `ops`, `ppl`) are common in prose, so the
/// prefixes that start with an upper-case letter or punctuation get their own searcher, whose
/// screen almost never fires, and the lower-case ones are searched shifted (`ShiftedPrefixes`). One automaton over everything took one to two thirds of the
/// time spent on clean text. Where SIMD is missing (wasm) the packed searchers do not build
/// and two automata give the same answers.
#[derive(Debug)]
enum LiteralScan {
    /// Boxed: three searchers are large, and the scan is built once per VM.
    Packed(Box<PackedScan>),
    /// Keyword spellings, then token prefixes: the same answers as the packed searchers.
    Automaton { keywords: AhoCorasick, prefixes: AhoCorasick },
}

impl LiteralScan {
    fn new(keywords: &[String], prefixes: &[&'static str]) -> Option<LiteralScan> {
        let (lower, other): (Vec<&'static str>, Vec<&'static str>) =
            prefixes.iter().partition(|p| p.as_bytes().first().is_some_and(u8::is_ascii_lowercase));
        let packed = packed_searcher(keywords.iter().map(String::as_str))
            .zip(ShiftedPrefixes::new(lower))
            .zip(packed_searcher(other.into_iter()));
        if let Some(((keywords, lower_prefixes), other_prefixes)) = packed {
            return Some(LiteralScan::Packed(Box::new(PackedScan { keywords, other_prefixes, lower_prefixes })));
        }
        LiteralScan::automaton(keywords, prefixes)
    }

    fn automaton(keywords: &[String], prefixes: &[&'static str]) -> Option<LiteralScan> {
        let build = |patterns: Vec<&str>| {
            AhoCorasick::builder().match_kind(aho_corasick::MatchKind::LeftmostFirst).build(patterns).ok()
        };
        let keywords = build(keywords.iter().map(String::as_str).collect())?;
        // Standard semantics: every occurrence of every prefix is reported (overlapping).
        let prefixes = AhoCorasick::builder().build(prefixes.to_vec()).ok()?;
        Some(LiteralScan::Automaton { keywords, prefixes })
    }

    /// Call `keyword(start, index)` for each keyword hit (index into the keyword spellings), and
    /// return which token prefixes occur (bit i: `TOKEN_PREFIXES[i]`). The packed searchers
    /// only say whether any occurs, and then answer "all of them": every `Prefix` rule runs,
    /// as it would have anyway; the automaton (wasm) names them, so only their rules run.
    fn scan(&self, text: &str, mut keyword: impl FnMut(usize, usize)) -> u128 {
        match self {
            LiteralScan::Packed(p) => {
                p.keywords.find_iter(text).for_each(|m| keyword(m.start(), m.pattern().as_usize()));
                let any = p.other_prefixes.find(text).is_some() || p.lower_prefixes.any_in(text.as_bytes());
                if any {
                    u128::MAX
                } else {
                    0
                }
            }
            LiteralScan::Automaton { keywords, prefixes } => {
                keywords.find_iter(text).for_each(|m| keyword(m.start(), m.pattern().as_usize()));
                let mut bits = 0u128;
                for m in prefixes.find_overlapping_iter(text) {
                    bits |= 1u128.checked_shl(m.pattern().as_u32()).unwrap_or(u128::MAX);
                }
                bits
            }
        }
    }
}

/// The bits of `TOKEN_PREFIXES` contained in some anchor of the catalogue's shapes (every
/// anchor contains one: a test says so).
fn shape_prefix_bits() -> u128 {
    let anchors: Vec<&str> = secrets::shapes(|_| true).flat_map(|(_, s)| s.anchors.iter().copied()).collect();
    TOKEN_PREFIXES
        .iter()
        .enumerate()
        .filter(|(_, p)| anchors.iter().any(|a| a.contains(*p)))
        .fold(0u128, |acc, (i, _)| acc | 1u128.checked_shl(i as u32).unwrap_or(0))
}

/// The token prefixes that every match of a `Prefix` rule's `pattern` contains, as bits of
/// `TOKEN_PREFIXES`: a prefix counts when it is contained in a literal every match starts with
/// (or starts with such a literal, when extraction cut it short). When some literal is related
/// to no prefix, or the pattern has no finite literal set, the answer is every prefix: the rule
/// then runs whenever any prefix occurs, as the one-bit gate did.
fn prefix_dependencies(pattern: &str) -> u128 {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else { return u128::MAX };
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let Some(literals) = seq.literals() else { return u128::MAX };
    if literals.is_empty() || TOKEN_PREFIXES.len() > 128 {
        return u128::MAX;
    }
    let mut bits = 0u128;
    for lit in literals {
        let l = lit.as_bytes();
        let related = TOKEN_PREFIXES
            .iter()
            .enumerate()
            .filter(|(_, p)| l.windows(p.len()).any(|w| w == p.as_bytes()) || p.as_bytes().starts_with(l))
            .fold(0u128, |acc, (i, _)| acc | 1u128.checked_shl(i as u32).unwrap_or(0));
        if related == 0 {
            return u128::MAX;
        }
        bits |= related;
    }
    bits
}

type PackedSearcher = aho_corasick::packed::Searcher;

/// Lower-case token prefixes, each searched from its first byte that is not a lower-case
/// letter (`lin_api_` as `in_api_`, `pplx-` as `lx-`): Teddy screens on the first three bytes
/// searched, and a `_`, `-` or `.` among them is rare in prose where `lin` or `ppl` are not.
/// Every hit position is checked against every whole prefix, so the answer is exactly
/// whether some prefix occurs.
#[derive(Debug)]
struct ShiftedPrefixes {
    searcher: PackedSearcher,
    /// Each prefix with how far before its searched part it starts.
    prefixes: Vec<(usize, &'static str)>,
}

impl ShiftedPrefixes {
    fn new(prefixes: Vec<&'static str>) -> Option<ShiftedPrefixes> {
        let shifted: Vec<(usize, &'static str)> = prefixes
            .into_iter()
            .map(|p| {
                let first_other = p.bytes().position(|b| !b.is_ascii_lowercase()).unwrap_or(0);
                (first_other.saturating_sub(2), p)
            })
            .collect();
        let searched = shifted.iter().map(|&(shift, p)| p.get(shift..).unwrap_or(p));
        let searcher = packed_searcher(searched)?;
        Some(ShiftedPrefixes { searcher, prefixes: shifted })
    }

    fn any_in(&self, hay: &[u8]) -> bool {
        let mut from = 0;
        while from < hay.len() {
            let Some(m) = self.searcher.find_in(hay, aho_corasick::Span::from(from..hay.len())) else { return false };
            let at = m.start();
            let whole = |&(shift, p): &(usize, &str)| {
                at.checked_sub(shift).and_then(|s| hay.get(s..)).is_some_and(|h| h.starts_with(p.as_bytes()))
            };
            if self.prefixes.iter().any(whole) {
                return true;
            }
            from = at + 1;
        }
        false
    }
}

#[derive(Debug)]
struct PackedScan {
    keywords: PackedSearcher,
    other_prefixes: PackedSearcher,
    lower_prefixes: ShiftedPrefixes,
}

/// A leftmost-first packed searcher, or `None` where the target has no SIMD for it. The
/// pattern-count heuristic is off: measured on prose, these sets are fast despite their size.
fn packed_searcher<'a>(patterns: impl Iterator<Item = &'a str>) -> Option<PackedSearcher> {
    aho_corasick::packed::Config::new()
        .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
        .heuristic_pattern_limits(false)
        .builder()
        .extend(patterns)
        .build()
}

/// Longest IBAN candidate: country, check digits and up to 36 characters with separators.
const IBAN_WINDOW: usize = 80;

/// Whether a rule's regex could produce a finding inside `island`. Each condition is necessary
/// for the rule's check to accept anything (a card has at least 12 digits, an SSN 9, a bare SSN
/// 9 in a row), so skipping the regex changes no result; it spares dense texts most searches.
fn island_may_match(gate: Gate, check: Check, island: &Island) -> bool {
    match gate {
        Gate::DottedIsland => island.dotted,
        _ if island.digits < MIN_ISLAND_DIGITS => false,
        _ => match check {
            Check::Card => island.digits >= 12,
            Check::SsnSeparated => island.digits >= 9,
            Check::SsnBare => island.longest_run >= 9,
            _ => true,
        },
    }
}

/// Keep the best of overlapping findings (higher score, then longer, then earlier), and return
/// the kept ones sorted by start. A candidate is kept when none of its bytes is covered by a
/// finding kept before it; coverage is a bitset over the text's bytes, so each check costs a
/// few word operations however many findings there are (dense texts have tens of thousands).
/// A secret's value that holds another finding inside it (a password with an `@` in it,
/// `qPVN~Ug*ACk@9.VRZ`, holds what reads as an address) is one value: it outranks what it holds,
/// so the whole value is masked rather than the part that reads as something else. Findings
/// past the secret's end stop each walk, so each secret looks only at what overlaps it.
fn prefer_whole_secret_values(found: &mut [Finding]) {
    let secret = EntityKind::Builtin(BuiltinKind::SecretAssignment);
    if !found.iter().any(|f| f.kind == secret) {
        return;
    }
    found.sort_by_key(|f| f.start);
    for i in 0..found.len() {
        let Some(&s) = found.get(i).filter(|f| f.kind == secret) else { continue };
        let inner = found
            .iter()
            .skip(i + 1)
            .take_while(|f| f.start < s.end)
            .chain(found.iter().take(i).rev().take_while(|f| f.start == s.start))
            .filter(|f| f.kind != secret && s.start <= f.start && f.end <= s.end && f.end - f.start < s.end - s.start)
            .map(|f| f.score)
            .fold(f32::MIN, f32::max);
        if let Some(slot) = found.get_mut(i).filter(|_| inner > s.score) {
            slot.score = inner.min(1.0);
        }
    }
}

fn resolve_overlaps(mut found: Vec<Finding>, text_len: usize) -> Vec<Finding> {
    found.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then((b.end - b.start).cmp(&(a.end - a.start))).then(a.start.cmp(&b.start))
    });
    let mut covered = Coverage::new(text_len);
    let mut kept: Vec<Finding> = found.into_iter().filter(|f| covered.claim(f.start, f.end)).collect();
    kept.sort_by_key(|f| f.start);
    kept
}

/// Which bytes of a text are covered by kept findings, one bit per byte.
struct Coverage {
    words: Vec<u64>,
}

impl Coverage {
    fn new(len: usize) -> Coverage {
        Coverage { words: vec![0; len / 64 + 1] }
    }

    /// Bit masks of `[start, end)` per 64-bit word: (word index, mask).
    fn masks(start: usize, end: usize) -> impl Iterator<Item = (usize, u64)> {
        let (first, last) = (start / 64, end.saturating_sub(1) / 64);
        (first..=last).filter(move |_| end > start).map(move |w| {
            let lo = if w == first { start % 64 } else { 0 };
            let hi = if w == last { (end - 1) % 64 } else { 63 };
            // Bits lo..=hi set.
            let mask = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
            (w, mask)
        })
    }

    /// Cover `[start, end)` if no byte of it is covered yet; whether it was.
    fn claim(&mut self, start: usize, end: usize) -> bool {
        let free = Coverage::masks(start, end).all(|(w, m)| self.words.get(w).is_some_and(|&bits| bits & m == 0));
        if free {
            for (w, m) in Coverage::masks(start, end) {
                if let Some(bits) = self.words.get_mut(w) {
                    *bits |= m;
                }
            }
        }
        free
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The shifted search answers exactly "does some prefix occur", for every prefix, at the
    /// start, middle and end of a text, and overlapping a near miss.
    #[test]
    fn shifted_prefixes_find_every_prefix_and_nothing_else() {
        let lower: Vec<&'static str> =
            TOKEN_PREFIXES.iter().copied().filter(|p| p.as_bytes()[0].is_ascii_lowercase()).collect();
        let Some(shifted) = ShiftedPrefixes::new(lower.clone()) else { return };
        for p in &lower {
            for text in [p.to_string(), format!("the {p}"), format!("x{p}y"), format!("gl{p}"), format!("lin_ap {p}")] {
                assert!(shifted.any_in(text.as_bytes()), "{text:?}");
            }
            // Cut short by one byte, it is not a prefix any more (unless another prefix remains).
            let cut = &p[..p.len() - 1];
            let expected = lower.iter().any(|q| cut.contains(q));
            assert_eq!(shifted.any_in(cut.as_bytes()), expected, "{cut:?}");
        }
        assert!(!shifted.any_in(b"line apply stops door dormant ghost hooks lin_ap in_api_ at- gl_pat-"));
    }

    /// Token and credential patterns have no upper length bound (a bound of 255 or 1024 copies
    /// of a class made the automata several MiB per VM): a token longer than any vendor's is
    /// still masked whole, with no tail left in clear.
    #[test]
    fn long_tokens_are_found_whole() {
        let detector = Detector::new(&DetectSettings::default()).unwrap();
        // Random-looking bodies (a repeated pattern does not read as a secret).
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut state = 0x2545_f491_u32;
        let mut body = |n: usize| -> String {
            (0..n)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    char::from(alphabet[(state >> 16) as usize % alphabet.len()])
                })
                .collect()
        };
        let token = format!("ghp_{}", body(600));
        let bearer = format!("Bearer {}", body(1000));
        for (text, start, end) in [
            (format!("use {token} now"), 4, 4 + token.len()),
            (format!("Authorization: {bearer}"), 22, 15 + bearer.len()),
        ] {
            let mut found = Vec::new();
            detector.detect(&text, &mut found);
            assert!(found.iter().any(|f| f.start == start && f.end == end), "{found:?}");
        }
    }

    /// Native (packed) and wasm (automaton) literal scans must give the same answers.
    #[test]
    fn packed_and_automaton_literal_scans_agree() {
        let detector = Detector::new(&DetectSettings::default()).unwrap();
        let spellings: Vec<String> = KEYWORDS
            .iter()
            .chain(&["aws"])
            .flat_map(|k| [k.to_string(), k.to_ascii_uppercase(), format!("{}{}", k[..1].to_uppercase(), &k[1..])])
            .collect();
        let automaton = LiteralScan::automaton(&spellings, TOKEN_PREFIXES).unwrap();
        let Some(packed) = detector.literals.as_ref() else { return };
        for text in [
            "lin_api_key=abc123 and lin_api_0123456789",
            "my Password: hunter22, the API_KEY=x, Bearer abc, AWS secret",
            "nothing to see in this sentence at all",
            "sk-ant-api03-xyz tokens secretary ghp_abc AKIA hooks.slack.com xoxb-1",
            "PASSWORD_RESET_TOKEN privateKey authorization: Basic dXNlcjpwYXNz",
        ] {
            let run = |scan: &LiteralScan| {
                let mut hits = Vec::new();
                let prefix = scan.scan(text, |at, p| hits.push((at, p)));
                (hits, prefix != 0)
            };
            assert_eq!(run(packed), run(&automaton), "{text:?}");
        }
    }

    /// With the automaton (as in wasm), `Prefix` rules run only when one of their own prefixes
    /// occurs: every fixture text and every bench body must give the same findings as with the
    /// packed scan (or as with the automaton and every prefix rule running).
    #[test]
    fn prefix_rules_gated_per_rule_find_the_same() {
        let packed = Detector::new(&DetectSettings::default()).unwrap();
        let mut gated = Detector::new(&DetectSettings::default()).unwrap();
        let spellings: Vec<String> = KEYWORDS
            .iter()
            .chain(&["aws"])
            .flat_map(|k| [k.to_string(), k.to_ascii_uppercase(), format!("{}{}", k[..1].to_uppercase(), &k[1..])])
            .collect();
        gated.literals = LiteralScan::automaton(&spellings, TOKEN_PREFIXES);
        let mut texts: Vec<String> = Vec::new();
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/pii")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                for line in std::fs::read_to_string(&path).unwrap().lines().filter(|l| !l.trim().is_empty()) {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    texts.push(v["text"].as_str().unwrap().to_string());
                }
            }
        }
        for name in ["chat_1k", "multiturn_16k", "dense_16k", "long_context_128k"] {
            let body = std::fs::read_to_string(format!("benches/fixtures/{name}.request.json")).unwrap();
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            for m in v["messages"].as_array().unwrap() {
                texts.push(m["content"].as_str().unwrap_or_default().to_string());
            }
        }
        assert!(texts.len() > 100);
        let spans = |d: &Detector, t: &str| {
            let mut out = Vec::new();
            d.detect(t, &mut out);
            out.iter().map(|f| (f.start, f.end, f.kind)).collect::<Vec<_>>()
        };
        for t in &texts {
            assert_eq!(spans(&packed, t), spans(&gated, t), "{t:?}");
        }
        // Each prefix rule depends on its own prefixes, not on all of them.
        assert!(gated.rules.iter().filter(|r| r.gate == Gate::Prefix).all(|r| r.prefix_bits != 0));
        assert!(gated.rules.iter().filter(|r| r.gate == Gate::Prefix).any(|r| r.prefix_bits != u128::MAX));
    }

    #[test]
    fn coverage_refuses_any_shared_byte_across_word_edges() {
        let mut c = Coverage::new(300);
        assert!(c.claim(60, 70));
        assert!(!c.claim(69, 80));
        assert!(!c.claim(0, 61));
        assert!(c.claim(70, 200));
        assert!(!c.claim(199, 200));
        assert!(c.claim(200, 201));
        assert!(c.claim(0, 60));
        assert!(c.claim(201, 300));
        assert!(!c.claim(250, 251));
    }

    #[test]
    fn better_findings_win_and_output_is_sorted() {
        let f = |start, end, score| Finding { start, end, kind: EntityKind::Builtin(BuiltinKind::Phone), score };
        let kept = resolve_overlaps(vec![f(10, 20, 0.6), f(15, 30, 0.9), f(0, 5, 0.5), f(30, 31, 0.5)], 31);
        let spans: Vec<(usize, usize)> = kept.iter().map(|k| (k.start, k.end)).collect();
        assert_eq!(spans, [(0, 5), (15, 30), (30, 31)]);
    }
}
