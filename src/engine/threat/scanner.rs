//! The scanner: compiles the rule table once, then scans texts through their normalised views
//! and decoded segments.

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexBuilder};

use super::decode::{decoded_segments, Encoding};
use super::normalise::{normalise, HiddenChars};
use super::rules::{all_rules, expand, Rule, View};
use super::score::ThreatReport;
use super::web::scan_sqli;
use super::{Category, Source};

/// Decoded segments inside decoded segments are followed this deep, no deeper.
const MAX_DECODE_DEPTH: u8 = 2;
/// Weight of indirect-injection rules in text the user wrote (full weight in tool results and
/// documents): "answer in Spanish" is an instruction to the model only when it hides in data.
const INDIRECT_WEIGHT_IN_MESSAGES: f32 = 0.3;
/// Weight factor of payload rules in prose: one payload rule alone stays under the flag
/// threshold there, two categories together still add up.
const PROSE_PAYLOAD_FACTOR: f32 = 0.5;
/// Compiled regex size limit: the table is fixed, this only guards against a runaway pattern.
const REGEX_SIZE_LIMIT: usize = 64 << 20;

/// What the scanner looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatSettings {
    /// Sources whose texts are scanned; the others yield an empty report.
    pub scan_roles: Vec<Source>,
}

impl Default for ThreatSettings {
    fn default() -> Self {
        // Where attacks come in: what users write and what tools and documents bring. The system
        // prompt is the operator's own text, and earlier assistant turns are the model's own
        // output (whatever it was steered by was scanned where it came in), so neither is
        // scanned by default: on a long conversation that halves the work of every turn.
        ThreatSettings { scan_roles: vec![Source::User, Source::Tool, Source::Document] }
    }
}

/// The rule table failed to compile (a bug in the table, caught by the unit tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTableError {
    pub view: &'static str,
    pub problem: String,
}

impl std::fmt::Display for RuleTableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "threat rule table ({} view) does not compile: {}", self.view, self.problem)
    }
}

impl std::error::Error for RuleTableError {}

/// Scans texts for attacks. Build once per configuration; `scan` takes `&self`.
#[derive(Debug, Clone)]
pub struct ThreatScanner {
    settings: ThreatSettings,
    words: CompiledView,
    plain: CompiledView,
    payload: CompiledView,
}

/// One view's rules. Each rule is its own regex rather than one `RegexSet`: a set over every
/// rule makes the lazy DFA track all partial matches at once (its states multiply and stop
/// being reused between texts), while single regexes start with a literal prefilter that skips
/// most of a benign text. Measured on 1 KB prompts: two to three times faster.
///
/// Running each regex's own prefilter is still one pass over the text per rule, which grows with
/// the rule table; so one Aho-Corasick pass over the literals every match of a rule must start
/// with (extracted from the rule's pattern) first decides which rules can match at all, and only
/// those run. Rules without such literals always run.
#[derive(Debug, Clone)]
struct CompiledView {
    /// Each regex with its rule.
    rules: Vec<(Regex, &'static Rule)>,
    /// One pass over the text finds the rules that can match (None: no gated rule).
    gate: Option<AhoCorasick>,
    /// The rule index of each gate pattern.
    gate_rule: Vec<usize>,
    /// Rules the gate cannot speak for.
    ungated: Vec<usize>,
}

/// Shortest literal worth gating on: shorter ones occur in most texts anyway.
const MIN_GATE_LITERAL: usize = 3;

/// Literals (lower-cased) that every match of `pattern` starts with, or None when there is no
/// usable finite set.
fn required_prefixes(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().len() < MIN_GATE_LITERAL) {
        return None;
    }
    let mut out: Vec<Vec<u8>> = literals.iter().map(|l| l.as_bytes().to_ascii_lowercase()).collect();
    out.sort();
    out.dedup();
    Some(out)
}

impl CompiledView {
    fn new(view: View, name: &'static str) -> Result<CompiledView, RuleTableError> {
        let mut rules = Vec::new();
        for rule in all_rules().filter(|r| r.view == view) {
            let regex = RegexBuilder::new(&expand(rule.pattern))
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| RuleTableError { view: name, problem: format!("{}: {e}", rule.id) })?;
            rules.push((regex, rule));
        }
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut gate_rule = Vec::new();
        let mut ungated = Vec::new();
        for (i, (_, rule)) in rules.iter().enumerate() {
            match required_prefixes(&expand(rule.pattern)) {
                Some(prefixes) => {
                    gate_rule.extend(std::iter::repeat_n(i, prefixes.len()));
                    literals.extend(prefixes);
                }
                None => ungated.push(i),
            }
        }
        let gate = if literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&literals)
                    .map_err(|e| RuleTableError { view: name, problem: format!("literal gate: {e}") })?,
            )
        };
        Ok(CompiledView { rules, gate, gate_rule, ungated })
    }

    fn scan(&self, text: &str, source: Source, report: &mut ThreatReport) {
        if text.is_empty() {
            return;
        }
        // Whether the text reads as sentences (payload rules count for less there); decided on
        // the first payload hit, since most texts have none.
        let mut prose: Option<bool> = None;
        let mut candidate = vec![false; self.rules.len()];
        for &i in &self.ungated {
            candidate[i] = true;
        }
        if let Some(gate) = &self.gate {
            for m in gate.find_overlapping_iter(text) {
                if let Some(&i) = self.gate_rule.get(m.pattern().as_usize()) {
                    candidate[i] = true;
                }
            }
        }
        for ((regex, rule), _) in self.rules.iter().zip(&candidate).filter(|(_, c)| **c) {
            if !regex.is_match(text) {
                continue;
            }
            if rule.view == View::Payload {
                let in_prose = *prose.get_or_insert_with(|| reads_as_sentences(text));
                report.add(rule.id, rule.category, if in_prose { rule.weight * PROSE_PAYLOAD_FACTOR } else { rule.weight });
                continue;
            }
            if rule.category == Category::IndirectInjection && !source.is_data() {
                // Structural rules (a sentence shape, a code call) say nothing in a message the
                // user wrote; phrase rules say a little, and do not add up.
                if rule.view == View::Words {
                    report.add_strongest(rule.id, rule.category, rule.weight * INDIRECT_WEIGHT_IN_MESSAGES);
                }
                continue;
            }
            report.add(rule.id, rule.category, rule.weight);
        }
    }
}

impl ThreatScanner {
    pub fn new(settings: &ThreatSettings) -> Result<ThreatScanner, RuleTableError> {
        Ok(ThreatScanner {
            settings: settings.clone(),
            words: CompiledView::new(View::Words, "words")?,
            plain: CompiledView::new(View::Plain, "plain")?,
            payload: CompiledView::new(View::Payload, "payload")?,
        })
    }

    pub fn settings(&self) -> &ThreatSettings {
        &self.settings
    }

    /// Whether texts from `source` are scanned at all.
    pub fn scans(&self, source: Source) -> bool {
        self.settings.scan_roles.contains(&source)
    }

    /// Scan one text. The text itself is not kept or logged.
    pub fn scan(&self, text: &str, source: Source) -> ThreatReport {
        let mut report = ThreatReport::default();
        if self.scans(source) {
            self.scan_layer(text, source, 0, &mut report);
        }
        report
    }

    fn scan_layer(&self, text: &str, source: Source, depth: u8, report: &mut ThreatReport) {
        let n = normalise(text);
        if depth == 0 {
            add_hidden_signals(n.hidden, report);
        }
        self.words.scan(&n.words, source, report);
        self.plain.scan(&n.plain, source, report);
        self.payload.scan(&n.plain, source, report);
        scan_sqli(&n.plain, report);
        if depth >= MAX_DECODE_DEPTH {
            return;
        }
        for segment in decoded_segments(text) {
            let mut inner = ThreatReport::default();
            self.scan_layer(&segment.text, source, depth + 1, &mut inner);
            if !inner.is_clean() && segment.encoding == Encoding::Concealing {
                // Hiding an attack in an encoding is evidence of intent on its own.
                report.add("PG-OB-010", Category::Obfuscation, 0.3);
            }
            report.merge(inner);
        }
    }
}

/// Whether a text reads as sentences: at least six chunks of letters only (SQL keywords count,
/// they are English words too), two thirds of all chunks. A payload is mostly symbols, paths
/// and operators; a question about a shell command is mostly words.
fn reads_as_sentences(plain: &str) -> bool {
    let mut chunks = 0usize;
    let mut words = 0usize;
    for chunk in plain.split(' ').take(400) {
        chunks += 1;
        let core = chunk.trim_matches(|c: char| matches!(c, '.' | ',' | '?' | '!' | ':' | ';' | '(' | ')' | '"' | '\''));
        if core.len() >= 2 && core.chars().all(char::is_alphabetic) {
            words += 1;
        }
    }
    words >= 6 && words * 3 >= chunks * 2
}

fn add_hidden_signals(hidden: HiddenChars, report: &mut ThreatReport) {
    if hidden.invisible > 0 {
        // A stray zero-width joiner is common in emoji and Indic text; many are not.
        let weight = if hidden.invisible >= 8 { 0.4 } else { 0.15 };
        report.add("PG-OB-001", Category::Obfuscation, weight);
    }
    if hidden.bidi > 0 {
        report.add("PG-OB-002", Category::Obfuscation, 0.35);
    }
    if hidden.tags > 0 {
        report.add("PG-OB-003", Category::Obfuscation, 0.6);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rule_table_compiles_and_ids_are_unique_and_well_formed() {
        let s = ThreatScanner::new(&ThreatSettings::default());
        assert!(s.is_ok(), "{:?}", s.err());
        let mut ids: Vec<&str> = all_rules().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule id");
        for r in all_rules() {
            assert_eq!(Category::of_rule(r.id), Some(r.category), "{} has the wrong prefix", r.id);
            assert!(r.weight > 0.0 && r.weight < 1.0, "{}", r.id);
        }
    }
}
