//! Masking: replace each finding in a text by what the policy's strategy for its kind makes of
//! it (a placeholder from the exchange's vault by default, see `policy`), then (`Spreader`) every
//! other occurrence of a masked value, whatever its context.

use std::collections::HashMap;

use super::detect::Detector;
use super::entity::{EntityKind, Finding};
use super::placeholder::PlaceholderGrammar;
use super::policy::{render, synthetic, Keyring, Policy, Strategy};
use super::vault::{Vault, VaultFull};

/// How many values of each label were masked (occurrences, not distinct values).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MaskReport {
    counts: Vec<(String, u32)>,
}

impl MaskReport {
    pub fn add(&mut self, label: &str) {
        self.add_n(label, 1);
    }
    fn add_n(&mut self, label: &str, n: u32) {
        match self.counts.iter_mut().find(|(l, _)| l == label) {
            Some((_, count)) => *count += n,
            None => self.counts.push((label.to_owned(), n)),
        }
    }
    pub fn total(&self) -> u32 {
        self.counts.iter().map(|(_, n)| n).sum()
    }
    pub fn by_label(&self) -> impl Iterator<Item = (&str, u32)> {
        self.counts.iter().map(|(l, n)| (l.as_str(), *n))
    }
}

/// The working state for masking the texts of one request.
pub struct Masker<'a> {
    pub detector: &'a Detector,
    pub grammar: &'a PlaceholderGrammar,
    pub policy: &'a Policy,
    pub keys: &'a Keyring,
    /// Reused across the texts of one request to avoid an allocation per text.
    findings: Vec<Finding>,
    pub report: MaskReport,
    /// Values replaced irreversibly in this request: (original, replacement, label), so the
    /// spreader replaces their other occurrences too. Lives as long as the request's masking
    /// and is never put in the vault.
    irreversible: Vec<IrreversibleValue>,
}

/// A value an irreversible strategy replaced in this request (see [`Masker::irreversible`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrreversibleValue {
    pub original: String,
    pub replacement: String,
    pub label: String,
}

impl<'a> Masker<'a> {
    pub fn new(detector: &'a Detector, grammar: &'a PlaceholderGrammar, policy: &'a Policy, keys: &'a Keyring) -> Self {
        Masker {
            detector,
            grammar,
            policy,
            keys,
            findings: Vec::new(),
            report: MaskReport::default(),
            irreversible: Vec::new(),
        }
    }

    /// The values replaced irreversibly so far in this request.
    pub fn irreversible(&self) -> &[IrreversibleValue] {
        &self.irreversible
    }

    /// Mask `text` in place; returns whether it changed.
    pub fn mask(&mut self, text: &mut String, vault: &mut Vault) -> Result<bool, VaultFull> {
        self.mask_field(None, text, vault)
    }

    /// Mask `text`, the value of `key` in the user's own structure (see
    /// [`Detector::detect_field`]), in place; returns whether it changed.
    pub fn mask_field(&mut self, key: Option<&str>, text: &mut String, vault: &mut Vault) -> Result<bool, VaultFull> {
        self.findings.clear();
        match key {
            Some(key) => self.detector.detect_field(key, text, &mut self.findings),
            None => self.detector.detect(text, &mut self.findings),
        }
        self.apply(text, vault)
    }

    /// Mask `text` in place with findings made earlier for the same text (remembered from an
    /// earlier request); returns whether it changed.
    pub fn mask_found(&mut self, text: &mut String, found: Vec<Finding>, vault: &mut Vault) -> Result<bool, VaultFull> {
        self.findings = found;
        self.apply(text, vault)
    }

    /// The findings of the text masked last.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    fn apply(&mut self, text: &mut String, vault: &mut Vault) -> Result<bool, VaultFull> {
        if self.findings.is_empty() {
            return Ok(false);
        }
        let mut out = String::with_capacity(text.len() + 16 * self.findings.len());
        let mut last = 0;
        let mut changed = false;
        for f in &self.findings {
            // Findings are sorted and disjoint; one that is not (or not on char boundaries)
            // is skipped rather than trusted.
            let (Some(before), Some(value)) = (text.get(last..f.start), text.get(f.start..f.end)) else {
                continue;
            };
            let label = self.detector.label(f.kind);
            let strategy = self.policy.strategy(f.kind);
            if strategy.is_reversible() && !self.policy.may_save(f.kind) {
                vault.never_save(label);
            }
            out.push_str(before);
            last = f.end;
            match strategy {
                Strategy::Keep => {
                    out.push_str(value);
                    continue;
                }
                Strategy::Placeholder => out.push_str(vault.placeholder_for(self.grammar, label, value)?),
                Strategy::Synthetic => {
                    let fake = match f.kind {
                        EntityKind::Builtin(kind) => vault.synthetic_for(label, value, |n| synthetic::fake(kind, n))?,
                        EntityKind::Custom(_) => None,
                    };
                    match fake {
                        Some(fake) => out.push_str(fake),
                        // A type without fakes (or out of them) gets a placeholder.
                        None => out.push_str(vault.placeholder_for(self.grammar, label, value)?),
                    }
                }
                irreversible => {
                    let replacement = self.irreversible_form(irreversible, f.kind, label, value);
                    out.push_str(&replacement);
                    if value.chars().count() >= MIN_SPREAD_CHARS
                        && !self.irreversible.iter().any(|v| v.original == value)
                    {
                        self.irreversible.push(IrreversibleValue {
                            original: value.to_owned(),
                            replacement,
                            label: label.to_owned(),
                        });
                    }
                }
            }
            changed = true;
            self.report.add(label);
        }
        if !changed {
            return Ok(false);
        }
        out.push_str(text.get(last..).unwrap_or(""));
        *text = out;
        Ok(true)
    }

    /// What an irreversible strategy makes of a value. A strategy whose key is missing (the
    /// configuration refuses that, so only a caller that built a policy by hand can get here)
    /// redacts.
    fn irreversible_form(&self, strategy: Strategy, kind: EntityKind, label: &str, value: &str) -> String {
        let style = self.policy.redact_style;
        match strategy {
            Strategy::Mask => render::mask(value),
            Strategy::Partial => render::partial(kind, value),
            Strategy::Generalize => render::generalize(kind, label, value, style),
            Strategy::Hash => match self.keys.hash_key() {
                Some(key) => key.pseudonym(label, value),
                None => render::redact(label, style),
            },
            Strategy::Encrypt => match self.keys.seal_key().and_then(|key| key.token(label, value)) {
                Some(token) => token,
                None => render::redact(label, style),
            },
            _ => render::redact(label, style),
        }
    }
}

/// Shortest value, in characters, that [`Spreader`] masks wherever it occurs. Memorised secrets
/// must be at least 8 characters under NIST SP 800-63B and every identifier the detectors know is
/// longer than 6 (an IPv4 address is at least 7), so every value worth spreading is; shorter
/// strings (`1234`, `2024`, `admin`) occur in ordinary text by chance, and spreading them would
/// mask unrelated words and numbers of a long document. A shorter value is still masked where a
/// detector finds it.
pub const MIN_SPREAD_CHARS: usize = 6;

/// Once masked, masked everywhere: finds every occurrence of the vault's values in a text, on
/// token boundaries, and puts the value's placeholder there. This catches what detection alone
/// misses: a password repeated without its `password=` context, a value the client resends in
/// an assistant turn (the reply it was shown, restored), a value of the session's earlier turns.
pub struct Spreader {
    /// The values as they were written.
    finder: ValueFinder,
    /// Pattern index -> (placeholder, label).
    targets: Vec<(String, String)>,
    /// Numeric values by their digits alone -> index into `targets`: `4111 1111 1111 1111` is
    /// also masked as `4111-1111-1111-1111` or `4111111111111111`.
    by_digits: HashMap<String, usize>,
}

/// Fewest digits a numeric value needs to be matched by its digits alone, whatever its
/// separators: a phone number without its country code is the shortest worth it (7 digits of a
/// local number); shorter runs are ordinary numbers.
pub const MIN_SPREAD_DIGITS: usize = 7;

/// Most space-separated groups one written number is made of (`+49 30 1234 5678`: 4; a card in
/// groups of four: 4; an IBAN-like grouping of a long account number: up to 8).
const MAX_PIECES: usize = 8;

/// Separators people put between the digits of one number.
fn is_digit_separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'+')
}

/// The digits of a value made only of digits and separators (`+1 (415) 555-0134`), when it has
/// enough of them; `None` for anything else (an address, a token, a dotted IP address).
fn numeric_form(label: &str, value: &str) -> Option<String> {
    // Non-ASCII punctuation around the digits (full-width brackets, no-break spaces) is the
    // value's spelling, not a different value.
    let separator = |c: char| if c.is_ascii() { is_digit_separator(c as u8) } else { !c.is_alphanumeric() };
    if label == "IP_ADDRESS" || !value.chars().all(|c| c.is_ascii_digit() || separator(c)) {
        return None;
    }
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= MIN_SPREAD_DIGITS).then_some(digits)
}

/// Most levels of JSON string escaping a value is looked for in: a JSON document carried as a
/// string inside another (a log line's payload) that is itself pasted as a string literal.
const MAX_ESCAPE_LEVELS: usize = 3;

/// The other spellings of a value as it is written at another level of escaping: a value
/// masked inside a JSON string of the text (`"pass\\word"`, or `\\\"` twice escaped) is the
/// same value written plainly (`pass\word`), and a value masked plainly is the same value in
/// a JSON string, once or twice escaped; a percent-encoded value (`jane%40example.com`) is the
/// same value decoded. Each spelling other than `original` and long enough is given once.
fn other_spellings(original: &str, mut add: impl FnMut(String)) {
    let mut seen: Vec<String> = vec![original.to_owned()];
    let mut push = |s: String, seen: &mut Vec<String>| {
        if s.chars().count() >= MIN_SPREAD_CHARS && !seen.contains(&s) {
            seen.push(s.clone());
            add(s);
        }
    };
    if original.contains('%') {
        if let Some(decoded) = percent_decoded(original) {
            push(decoded, &mut seen);
        }
    }
    let escapable = |s: &str| s.contains(['\\', '"']) || s.chars().any(char::is_control);
    if !escapable(original) {
        return;
    }
    // Down to the plainest spelling, then up again from it.
    let mut plain = original.to_owned();
    for _ in 0..MAX_ESCAPE_LEVELS {
        match serde_json::from_str::<String>(&format!("\"{plain}\"")) {
            Ok(down) if down != plain => {
                push(down.clone(), &mut seen);
                plain = down;
            }
            _ => break,
        }
    }
    let mut up = plain;
    for _ in 0..MAX_ESCAPE_LEVELS {
        let Ok(quoted) = serde_json::to_string(&up) else { break };
        let escaped = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("").to_owned();
        if escaped == up {
            break;
        }
        push(escaped.clone(), &mut seen);
        up = escaped;
    }
}

/// `s` with its `%XX` escapes decoded (and `+` as a space), when it holds at least one and the
/// result is UTF-8.
fn percent_decoded(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let hex = |j: usize| b.get(j).and_then(|c| char::from(*c).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut escapes = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h << 4 | l).ok()?);
                escapes += 1;
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if escapes == 0 {
        return None;
    }
    String::from_utf8(out).ok()
}

impl Spreader {
    /// `None` when the vault (and `irreversible`) hold no value long enough to spread.
    pub fn new(vault: &Vault, irreversible: &[IrreversibleValue]) -> Option<Spreader> {
        let mut patterns = Vec::new();
        let mut targets = Vec::new();
        let mut by_digits = HashMap::new();
        // Numeric values are found by their digits (which covers the spelling they came in), so
        // only the others go into the finder: fewer values to build it from.
        let mut pattern_targets = Vec::new();
        let mut unescaped: Vec<(String, usize)> = Vec::new();
        let values = vault
            .entries()
            .iter()
            .chain(vault.synthetic_entries())
            .map(|e| (&e.original, &e.placeholder, &e.label))
            .chain(irreversible.iter().map(|v| (&v.original, &v.replacement, &v.label)));
        for (original, replacement, label) in values {
            if original.chars().count() < MIN_SPREAD_CHARS {
                continue;
            }
            targets.push((replacement.clone(), label.clone()));
            match numeric_form(label, original) {
                Some(digits) => {
                    let target = targets.len() - 1;
                    // A phone written with its country code is also the same phone without it,
                    // alone or after a trunk `0` (`+44 20 7946 0958`, `020 7946 0958`).
                    if label == "PHONE" && original.trim_start().starts_with('+') {
                        for cc in 1..=3 {
                            if let Some(national) = digits.get(cc..).filter(|n| n.len() >= 9) {
                                by_digits.entry(national.to_owned()).or_insert(target);
                                by_digits.entry(format!("0{national}")).or_insert(target);
                            }
                        }
                    }
                    by_digits.entry(digits).or_insert(target);
                }
                None => {
                    patterns.push(original.as_str());
                    pattern_targets.push(targets.len() - 1);
                    other_spellings(original, |other| unescaped.push((other, targets.len() - 1)));
                }
            }
        }
        if targets.is_empty() {
            return None;
        }
        for (plain, target) in &unescaped {
            patterns.push(plain.as_str());
            pattern_targets.push(*target);
        }
        let finder = ValueFinder::new(&patterns, pattern_targets);
        Some(Spreader { finder, targets, by_digits })
    }

    /// Replace every occurrence in `text` (as written, then numeric values in any spelling);
    /// returns whether it changed.
    pub fn apply(&self, text: &mut String, report: &mut MaskReport) -> bool {
        let exact = self.apply_exact(text, report);
        let numeric = !self.by_digits.is_empty() && self.apply_numeric(text, report);
        exact || numeric
    }

    fn apply_numeric(&self, text: &mut String, report: &mut MaskReport) -> bool {
        let bytes = text.as_bytes();
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            // A run of digits and separators, ending on a digit; an opening `+` or `(` before it
            // belongs to it.
            let mut start = i;
            while start > 0 && matches!(bytes[start - 1], b'+' | b'(') {
                start -= 1;
            }
            let mut end = i;
            let mut j = i;
            let mut digits = 0;
            while j < bytes.len() && (bytes[j].is_ascii_digit() || is_digit_separator(bytes[j])) {
                if bytes[j].is_ascii_digit() {
                    end = j + 1;
                    digits += 1;
                }
                j += 1;
            }
            if digits >= MIN_SPREAD_DIGITS {
                self.numeric_hits(text, start, end, &mut hits);
            }
            i = j.max(i + 1);
        }
        if hits.is_empty() {
            return false;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end, target) in hits {
            let Some((placeholder, label)) = self.targets.get(target) else { continue };
            out.push_str(text.get(last..start).unwrap_or(""));
            out.push_str(placeholder);
            report.add(label);
            last = end;
        }
        out.push_str(text.get(last..).unwrap_or(""));
        *text = out;
        true
    }

    /// The run `start..end` as a whole, or else the longest stretches of its space-separated
    /// pieces (at most [`MAX_PIECES`] together) whose digits are those of a masked numeric value:
    /// `+1 415 555 0134 2024` holds the phone and a year.
    fn numeric_hits(&self, text: &str, start: usize, end: usize, hits: &mut Vec<(usize, usize, usize)>) {
        let run = text.get(start..end).unwrap_or("");
        let digits_of = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        if let Some(&t) = self.by_digits.get(&digits_of(run)) {
            hits.push((start, end, t));
            return;
        }
        if !run.contains(' ') {
            return;
        }
        let mut pieces: Vec<(usize, &str)> = Vec::new();
        let mut offset = start;
        for piece in run.split(' ') {
            if !piece.is_empty() {
                pieces.push((offset, piece));
            }
            offset += piece.len() + 1;
        }
        let mut i = 0;
        while i < pieces.len() {
            let mut digits = String::new();
            let mut best = None;
            for (j, (_, piece)) in pieces.iter().enumerate().skip(i).take(MAX_PIECES) {
                digits.extend(piece.chars().filter(char::is_ascii_digit));
                if digits.len() >= MIN_SPREAD_DIGITS {
                    if let Some(&t) = self.by_digits.get(&digits) {
                        best = Some((j, t));
                    }
                }
            }
            match best {
                Some((j, t)) => {
                    let (first_at, first) = pieces[i];
                    let (last_at, last) = pieces[j];
                    let lead = first.len()
                        - first.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '+' && c != '(').len();
                    let trail = last.len() - last.trim_end_matches(|c: char| !c.is_ascii_digit()).len();
                    hits.push((first_at + lead, last_at + last.len() - trail, t));
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }

    fn apply_exact(&self, text: &mut String, report: &mut MaskReport) -> bool {
        let mut out: Option<String> = None;
        let mut last = 0;
        for (start, end, pattern) in self.finder.find_all(text) {
            if start < last || !on_token_boundaries(text, start, end) {
                continue;
            }
            let Some((placeholder, label)) = self.targets.get(pattern) else { continue };
            let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buf.push_str(text.get(last..start).unwrap_or(""));
            buf.push_str(placeholder);
            report.add(label);
            last = end;
        }
        match out {
            Some(mut buf) => {
                buf.push_str(text.get(last..).unwrap_or(""));
                *text = buf;
                true
            }
            None => false,
        }
    }
}

/// Finds the vault's values in a text: at each position the longest value that starts there,
/// leftmost first. Built for every request that masked something, so its construction counts as
/// much as its search. Hand-written rather than an Aho-Corasick automaton, measured with
/// callgrind on the bench fixtures: the automaton's construction alone cost more than scanning a
/// 1 KB request (130-170 k instructions for four values), and its search over 128 KB cost about
/// 37 instructions a byte as a non-contiguous NFA, more to build as a DFA. Here each value is
/// indexed by its first four bytes: a filter of their hashes (about 64 bits a value) rejects almost every
/// position with a few instructions, and only positions that pass compare bytes.
struct ValueFinder {
    patterns: Vec<Vec<u8>>,
    /// Pattern index -> index into the spreader's targets.
    targets: Vec<usize>,
    filter: Vec<u64>,
    /// Bits in `filter` less one (a power of two less one).
    filter_mask: usize,
    /// First four bytes -> patterns that start with them, longest first.
    by_gram: HashMap<u32, Vec<usize>>,
}

/// Bits in the filter: about 64 per value (a position passes it by chance about once in 64
/// divided by the number of values), within these bounds.
const MIN_FILTER_BITS: usize = 1 << 10;
const MAX_FILTER_BITS: usize = 1 << 16;

fn gram_hash(gram: u32, mask: usize) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> 16) as usize & mask
}

impl ValueFinder {
    /// Every pattern must be at least four bytes long (values are at least [`MIN_SPREAD_CHARS`]).
    fn new(patterns: &[&str], targets: Vec<usize>) -> ValueFinder {
        let bits = (patterns.len() * 64).next_power_of_two().clamp(MIN_FILTER_BITS, MAX_FILTER_BITS);
        let filter_mask = bits - 1;
        let mut filter = vec![0u64; bits / 64];
        let mut by_gram: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, p) in patterns.iter().enumerate() {
            let Some(gram) = p.as_bytes().first_chunk::<4>().map(|g| u32::from_le_bytes(*g)) else { continue };
            let h = gram_hash(gram, filter_mask);
            if let Some(word) = filter.get_mut(h / 64) {
                *word |= 1 << (h % 64);
            }
            by_gram.entry(gram).or_default().push(i);
        }
        for list in by_gram.values_mut() {
            list.sort_by_key(|&i| std::cmp::Reverse(patterns.get(i).map_or(0, |p| p.len())));
        }
        let patterns = patterns.iter().map(|p| p.as_bytes().to_vec()).collect();
        ValueFinder { patterns, targets, filter, filter_mask, by_gram }
    }

    /// Every occurrence as (start, end, target), by start, the longest first at one start; the
    /// caller skips those overlapping one it took and those off token boundaries.
    fn find_all(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let bytes = text.as_bytes();
        let mut hits = Vec::new();
        if self.patterns.is_empty() || bytes.len() < 4 {
            return hits;
        }
        for (at, window) in bytes.windows(4).enumerate() {
            let gram = u32::from_le_bytes([window[0], window[1], window[2], window[3]]);
            let h = gram_hash(gram, self.filter_mask);
            if self.filter.get(h / 64).is_none_or(|w| w & (1 << (h % 64)) == 0) {
                continue;
            }
            let Some(candidates) = self.by_gram.get(&gram) else { continue };
            for &i in candidates {
                let Some(p) = self.patterns.get(i) else { continue };
                if bytes.get(at..at + p.len()) == Some(p.as_slice()) {
                    hits.push((at, at + p.len(), self.targets.get(i).copied().unwrap_or(usize::MAX)));
                }
            }
        }
        hits
    }
}

/// A value that starts (ends) with a letter or digit must not continue a word or number on that
/// side: `Hunter2xQ9z!` is not masked inside `xHunter2xQ9z!`, nor `536904411` inside `15369044112`.
fn on_token_boundaries(text: &str, start: usize, end: usize) -> bool {
    let value = text.get(start..end).unwrap_or("");
    let word = |c: char| c.is_alphanumeric();
    // In percent-encoded text a `%XX` escape before the value is a character of its own (the
    // value was found decoded, after a character of another script).
    let escape_before = value.contains('%')
        && text.get(..start).is_some_and(|b| {
            let b = b.as_bytes();
            b.len() >= 3 && b[b.len() - 3] == b'%' && b[b.len() - 2..].iter().all(u8::is_ascii_hexdigit)
        });
    let before_ok = escape_before
        || !value.chars().next().is_some_and(word)
        || !text.get(..start).unwrap_or("").chars().next_back().is_some_and(word);
    let after_ok =
        !value.chars().next_back().is_some_and(word) || !text.get(end..).unwrap_or("").chars().next().is_some_and(word);
    before_ok && after_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placeholder::PlaceholderGrammar;

    fn spread(vault: &Vault, text: &str) -> (String, u32) {
        let mut report = MaskReport::default();
        let mut s = text.to_owned();
        if let Some(sp) = Spreader::new(vault, &[]) {
            sp.apply(&mut s, &mut report);
        }
        (s, report.total())
    }

    #[test]
    fn values_are_masked_wherever_they_recur_on_token_boundaries() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        v.placeholder_for(&g, "SECRET", "Hunter2xQ9z!").unwrap();
        v.placeholder_for(&g, "US_SSN", "536904411").unwrap();
        v.placeholder_for(&g, "SECRET", "abc12").unwrap();
        let (out, n) = spread(&v, "I'll log in with Hunter2xQ9z! and record 536904411; abc12 stays");
        assert_eq!(out, "I'll log in with [SECRET_1] and record [US_SSN_1]; abc12 stays");
        assert_eq!(n, 2);
        let (out, n) = spread(&v, "x15369044112 xHunter2xQ9z! _536904411_ (Hunter2xQ9z!)");
        assert_eq!(out, "x15369044112 xHunter2xQ9z! _[US_SSN_1]_ ([SECRET_1])");
        assert_eq!(n, 2);
    }

    #[test]
    fn values_are_masked_at_every_level_of_escaping() {
        let g = PlaceholderGrammar::default();
        // Found plainly, repeated inside a JSON string once and twice escaped; found twice
        // escaped (JSON in JSON in text), repeated plainly; found percent-encoded, repeated
        // decoded.
        let mut v = Vault::with_capacity(10);
        v.placeholder_for(&g, "SECRET", "pa\"ss\\wd9Q").unwrap();
        v.placeholder_for(&g, "SECRET", "Zq\\\\\\\"x7Lm!").unwrap();
        v.placeholder_for(&g, "EMAIL", "jane%40example.com").unwrap();
        let text = "a pa\\\"ss\\\\wd9Q b pa\\\\\\\"ss\\\\\\\\wd9Q c Zq\\\"x7Lm! d jane@example.com e pa\"ss\\wd9Q";
        let (out, n) = spread(&v, text);
        assert_eq!(out, "a [SECRET_1] b [SECRET_1] c [SECRET_2] d [EMAIL_1] e [SECRET_1]");
        assert_eq!(n, 5);
    }

    #[test]
    fn numeric_values_are_masked_in_any_spelling() {
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        v.placeholder_for(&g, "CREDIT_CARD", "4111 1111 1111 1111").unwrap();
        v.placeholder_for(&g, "PHONE", "+1 (415) 555-0134").unwrap();
        v.placeholder_for(&g, "IP_ADDRESS", "203.0.113.42").unwrap();
        let (out, n) =
            spread(&v, "card 4111111111111111, 4111-1111-1111-1111; call 14155550134 or +1 415 555 0134 2024");
        assert_eq!(out, "card [CREDIT_CARD_1], [CREDIT_CARD_1]; call [PHONE_1] or [PHONE_1] 2024");
        assert_eq!(n, 4);
        let (out, _) = spread(&v, "national (415) 555-0134 too");
        assert_eq!(out, "national [PHONE_1] too");
        let (out, n) = spread(&v, "ip 203011342 stays, 41111111111111112 too");
        assert_eq!((out.as_str(), n), ("ip 203011342 stays, 41111111111111112 too", 0));
    }

    #[test]
    fn the_longest_value_at_a_position_wins_among_many() {
        let g = PlaceholderGrammar::default();
        let mut few = Vault::with_capacity(100);
        let mut many = Vault::with_capacity(100);
        for v in [&mut few, &mut many] {
            v.placeholder_for(&g, "SECRET", "alpha-secret-1").unwrap();
            v.placeholder_for(&g, "SECRET", "alpha-secret-12").unwrap();
        }
        for i in 0..40 {
            many.placeholder_for(&g, "EMAIL", &format!("user{i}@example.com")).unwrap();
        }
        let text = "x alpha-secret-12 alpha-secret-1, alpha-secret-123 user3@example.com";
        let (a, _) = spread(&few, text);
        assert_eq!(a, "x [SECRET_2] [SECRET_1], alpha-secret-123 user3@example.com");
        let (b, _) = spread(&many, text);
        assert_eq!(b, "x [SECRET_2] [SECRET_1], alpha-secret-123 [EMAIL_4]");
    }

    #[test]
    fn an_empty_or_short_vault_spreads_nothing() {
        assert!(Spreader::new(&Vault::with_capacity(1), &[]).is_none());
        let g = PlaceholderGrammar::default();
        let mut v = Vault::with_capacity(10);
        v.placeholder_for(&g, "SECRET", "12345").unwrap();
        assert!(Spreader::new(&v, &[]).is_none());
    }
}
