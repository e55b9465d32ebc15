//! The scanner: compiles the rule table once, then scans texts through their normalised views
//! and decoded segments.

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA as LiteralDfa;
use aho_corasick::{MatchKind, StartKind};
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson::{self, WhichCaptures};
use regex_automata::util::pool::Pool;
use regex_automata::{Anchored, Input};
use regex_syntax::hir::Hir;
use std::sync::OnceLock;

use super::decode::{decoded_segments_of, Encoding, CIPHER_CUES};
use super::gate::{GateEntry, GATE};
use super::markup::conventional_script_includes;
use super::minified::minified_script;
use super::normalise::{normalise, HiddenChars};
use super::operator::OperatorRules;
use super::rules::{all_rules, expand, Rule, View};
use super::score::ThreatReport;
use super::sqli::{is_sql_keyword, scan_sqli};
use super::{Category, Source};

/// Scanned once when the configuration is compiled (`ThreatScanner::warmed_up`): sentences of
/// the kind every request holds (written for this project), whose common words and marks are
/// the gate literals an ordinary first request would otherwise build its rules' automata for.
const WARM_UP: &str = "Could you please summarise the report and list what the team should do next? \
    If something is not clear, tell me your assumptions. We would like to know about the new plan for all \
    customers before the meeting on Thursday.";

/// Decoded segments inside decoded segments are followed this deep, no deeper.
const MAX_DECODE_DEPTH: u8 = 2;
/// Weight of indirect-injection rules in text the user wrote (full weight in tool results and
/// documents): "answer in Spanish" is an instruction to the model only when it hides in data.
const INDIRECT_WEIGHT_IN_MESSAGES: f32 = 0.3;
/// Weight factor of payload evidence in a text about code (see `CodeContext`): its one
/// strongest payload rule, at this factor, stays under the flag threshold on its own.
const ABOUT_CODE_PAYLOAD_FACTOR: f32 = 0.5;
/// Compiled regex size limit: the table is fixed, this only guards against a runaway pattern.
const REGEX_SIZE_LIMIT: usize = 64 << 20;
/// Lazy DFA cache of each rule's automaton. Anchored checks of a few words visit few states;
/// the bound keeps the rule table's memory per VM small.
const HYBRID_CACHE_BYTES: usize = 256 << 10;

/// Anchored searches per gated rule and text before one unanchored search from the next hit
/// decides the rule (see `CompiledView::scan`): keeps a scan linear in the text.
const MAX_ANCHORED_TRIES: u8 = 32;

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
#[derive(Debug)]
pub struct ThreatScanner {
    settings: ThreatSettings,
    /// `PG-II-010` as a searcher of its sentences (see `about_the_document`).
    imperative: LazySearcher,
    /// `PG-EX-002` as a searcher of its matches (see `secrets_only_described`).
    secrets: LazySearcher,
    /// `PG-DL-006` as a searcher of its matches (see `labels_open_lines`).
    role_label: LazySearcher,
    words: CompiledView,
    /// The plain and payload rules: both read the plain view, so one gate pass serves both.
    plain: CompiledView,
    /// The learned attack model (`model`), off by default (see `with_learned_model`); None when off.
    learned: Option<super::model::Model<'static>>,
    /// The adversarial-suffix detector (`suffix`), off by default (`suffix::ON_BY_DEFAULT`); None when off.
    suffix: Option<super::suffix::SuffixModel<'static>>,
    /// The operator's rules and allowed phrases (`threats.custom_rules`, `threats.allow_phrases`).
    operator: OperatorRules,
}

/// One view's rules, found in one pass.
///
/// Almost every rule's matches start with one of a few literals (extracted from its pattern when
/// the table is compiled: `ignore`, `you are`, `<script`...). One Aho-Corasick pass over the text
/// reports where such literals occur, and only there is the rule's own automaton run, anchored at
/// that position: the cost is the gate's pass plus a few bytes of verification per literal hit,
/// instead of one pass over the whole text per rule (a benign text has many hits of common
/// literals like `all`, but each is settled within a word or two). Rules whose matches have no
/// literal prefix search the whole text, unanchored.
///
/// The automata are byte-oriented (the views are folded to ASCII; a character the folding left
/// alone is a run of bytes no rule names), which keeps them small and their lazy DFA caches
/// shared across texts.
struct CompiledView {
    /// The rules, and each one's lazy DFA (same order), built the first time the rule is needed
    /// (see `CompiledView::dfa`).
    rules: Vec<&'static Rule>,
    dfas: Vec<OnceLock<Option<RuleDfa>>>,
    /// One cache slot per DFA, taken as a set for each scan and filled when the rule first runs.
    /// (A VM runs one request at a time, so the pool holds one set; natively each thread that
    /// scans gets its own.)
    caches: Pool<Vec<Option<Cache>>, CacheFactory>,
    /// The literal gate (None: no rule has literal prefixes): an Aho-Corasick DFA, walked by
    /// `gate_hits` one transition per byte.
    gate: Option<LiteralDfa>,
    /// For each gate literal, the rules whose matches may start with it.
    gate_rules: Vec<Vec<u16>>,
    /// Rules the gate cannot speak for.
    ungated: Vec<usize>,
}

type CacheFactory = Box<dyn Fn() -> Vec<Option<Cache>> + Send + Sync>;

fn cache_factory(rules: usize) -> CacheFactory {
    Box::new(move || (0..rules).map(|_| None).collect())
}

impl std::fmt::Debug for CompiledView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledView").field("rules", &self.rules.len()).field("ungated", &self.ungated).finish()
    }
}

/// Gate literals are cut to this length: the anchored automaton checks the rest, and shorter
/// literals make a smaller gate (the extracted sets are cross products of a rule's alternations).
/// Measured (callgrind, default rules): 6 bytes instead of 8 make both gate automata 2.9 MiB ->
/// 1.9 MiB per VM and configuring 9% cheaper, for 1% more instructions per scan (a few more
/// literal hits that the anchored check turns down); 5 bytes would cost 3%.
const MAX_GATE_LITERAL: usize = 6;

/// Literals that every match of `pattern` starts with, or None when there is no usable finite
/// set.
fn required_prefixes(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(hir);
    let literals = seq.literals()?;
    // A literal that is empty or one letter, digit or space would stop the gate at most bytes of
    // a text; one punctuation byte (`<`, `$`, `(`) is rare in prose and settles fast.
    let too_common = |l: &[u8]| match l {
        [] => true,
        [b] => b.is_ascii_alphanumeric() || b.is_ascii_whitespace(),
        _ => false,
    };
    if literals.is_empty() || literals.iter().any(|l| too_common(l.as_bytes())) {
        return None;
    }
    // The views have no white space but single spaces: a literal with a tab or a line break
    // (from a `\s` in the pattern) can never occur, and is left out.
    let mut out: Vec<Vec<u8>> = literals
        .iter()
        .map(|l| l.as_bytes())
        .filter(|l| !l.iter().any(|&b| matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r')))
        .map(|l| l[..l.len().min(MAX_GATE_LITERAL)].to_vec())
        .collect();
    out.sort();
    out.dedup();
    // A literal that extends another adds no position the shorter one does not report.
    let mut kept: Vec<Vec<u8>> = Vec::with_capacity(out.len());
    for lit in out {
        if !kept.iter().any(|k| lit.starts_with(k)) {
            kept.push(lit);
        }
    }
    Some(kept)
}

/// A rule's pattern, parsed once for both the gate's literals and the automaton. Byte-oriented:
/// no Unicode classes or boundaries.
fn parse_rule(pattern: &str) -> Result<Hir, String> {
    regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(pattern).map_err(|e| e.to_string())
}

/// A rule's forward lazy DFA: no captures, no reverse automaton, no prefilter (the gate is the
/// prefilter). Without Unicode classes or boundaries it has no quit bytes, and it is told never
/// to give up, so a search cannot fail.
fn compile_rule(hir: &Hir) -> Result<DFA, String> {
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .utf8(false)
                .shrink(false)
                .which_captures(WhichCaptures::None)
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT)),
        )
        .build_from_hir(hir)
        .map_err(|e| e.to_string())?;
    DFA::builder()
        .configure(DFA::config().cache_capacity(HYBRID_CACHE_BYTES).minimum_cache_clear_count(None))
        .build_from_nfa(nfa)
        .map_err(|e| e.to_string())
}

/// A rule's automaton, and whether every match of the rule starts with `\b` (see
/// `starts_at_word_boundary`).
struct RuleDfa {
    dfa: DFA,
    at_word_boundary: bool,
}

fn build_rule(hir: &Hir) -> Result<RuleDfa, String> {
    Ok(RuleDfa { dfa: compile_rule(hir)?, at_word_boundary: starts_at_word_boundary(hir) })
}

/// Whether every match of `hir` starts with an ASCII word boundary (`\b` or `\b{start}` first in
/// each branch): such a rule cannot match at a position that is not one.
fn starts_at_word_boundary(hir: &Hir) -> bool {
    use regex_syntax::hir::{HirKind, Look};
    match hir.kind() {
        HirKind::Look(Look::WordAscii | Look::WordStartAscii) => true,
        HirKind::Concat(parts) => parts.first().is_some_and(starts_at_word_boundary),
        HirKind::Capture(c) => starts_at_word_boundary(&c.sub),
        HirKind::Alternation(branches) => branches.iter().all(starts_at_word_boundary),
        _ => false,
    }
}

/// Whether an ASCII word boundary (as the rules' `\b` reads it: letters, digits and `_` are word
/// bytes) stands before `bytes[at]`.
fn word_boundary(bytes: &[u8], at: usize) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let before = at.checked_sub(1).and_then(|p| bytes.get(p)).is_some_and(word);
    before != bytes.get(at).is_some_and(word)
}

/// Whether `dfa` matches `input` (which may be anchored). A search error cannot happen with the
/// configuration above; were it to, the rule would count as not matching.
fn dfa_matches(dfa: &DFA, cache: &mut Cache, input: &Input<'_>) -> bool {
    matches!(dfa.try_search_fwd(cache, input), Ok(Some(_)))
}

/// The literal gate over `literals`: every occurrence reported (standard match semantics, as
/// `gate_hits` needs), searched from anywhere in the text, no prefilter (`gate_hits` walks the
/// transitions itself).
fn build_gate<P: AsRef<[u8]>>(literals: &[P]) -> Result<LiteralDfa, aho_corasick::BuildError> {
    LiteralDfa::builder()
        .match_kind(MatchKind::Standard)
        .start_kind(StartKind::Unanchored)
        .prefilter(false)
        .build(literals)
}

/// Calls `hit(literal, start)` for every occurrence of every gate literal in `bytes`, overlapping
/// ones included. The same as the crate's overlapping iterator, as a plain loop over the DFA's
/// transitions: a state past `is_special` is rare (a match, or the start state), so most bytes
/// cost one table lookup. (The iterator keeps its state in a struct and returns one match per
/// call, which cost 3x the instructions per byte.)
fn gate_hits(gate: &LiteralDfa, bytes: &[u8], mut hit: impl FnMut(usize, usize)) {
    // An unanchored start state always exists: the gate is built with `StartKind::Unanchored`.
    let Ok(mut sid) = gate.start_state(aho_corasick::Anchored::No) else { return };
    for (at, &b) in bytes.iter().enumerate() {
        sid = gate.next_state(aho_corasick::Anchored::No, sid, b);
        if gate.is_special(sid) && gate.is_match(sid) {
            for k in 0..gate.match_len(sid) {
                let literal = gate.match_pattern(sid, k);
                hit(literal.as_usize(), at + 1 - gate.pattern_len(literal));
            }
        }
    }
}

impl CompiledView {
    /// The gate is built from the literals `gate::GATE` lists for each rule (computed from the
    /// patterns when the table was generated), so configuring parses no rule whose entry is
    /// current; a rule's automaton is built the first time the gate reports one of its literals
    /// (see `dfa`). Measured with `make bench-instructions`: parsing and compiling every rule
    /// was about 100 M instructions of each configuration compile, and most rules never run on
    /// ordinary traffic. A rule whose entry is missing or stale (its pattern changed since the
    /// table was generated; a test keeps the committed table current) is parsed here instead.
    ///
    /// `markers`: literals of no rule whose presence `scan` reports (the gate finds them for free).
    fn new(views: &[View], name: &'static str, markers: &[&[u8]]) -> Result<CompiledView, RuleTableError> {
        let mut rules = Vec::new();
        let mut dfas = Vec::new();
        let mut literal_rules: std::collections::BTreeMap<Vec<u8>, Vec<u16>> = std::collections::BTreeMap::new();
        let mut ungated = Vec::new();
        let table: std::collections::BTreeMap<&str, &GateEntry> = GATE.iter().map(|e| (e.0, e)).collect();
        for (i, rule) in all_rules().filter(|r| views.contains(&r.view)).enumerate() {
            let problem = |e: String| RuleTableError { view: name, problem: format!("{}: {e}", rule.id) };
            let index =
                u16::try_from(i).ok().filter(|&i| i != MARKER).ok_or_else(|| problem("too many rules".into()))?;
            let prefixes = match table.get(rule.id) {
                Some((_, fingerprint, literals)) if *fingerprint == pattern_fingerprint(rule.pattern) => {
                    dfas.push(OnceLock::new());
                    literals.map(|ls| ls.iter().map(|l| l.to_vec()).collect())
                }
                _ => {
                    let hir = parse_rule(&expand(rule.pattern)).map_err(problem)?;
                    dfas.push(OnceLock::from(Some(build_rule(&hir).map_err(problem)?)));
                    required_prefixes(&hir)
                }
            };
            rules.push(rule);
            match prefixes {
                Some(prefixes) => {
                    for p in prefixes {
                        literal_rules.entry(p).or_default().push(index);
                    }
                }
                None => ungated.push(i),
            }
        }
        for m in markers {
            literal_rules.entry(m.to_vec()).or_default().push(MARKER);
        }
        let (literals, gate_rules): (Vec<Vec<u8>>, Vec<Vec<u16>>) = literal_rules.into_iter().unzip();
        let gate = if literals.is_empty() {
            None
        } else {
            Some(
                build_gate(&literals)
                    .map_err(|e| RuleTableError { view: name, problem: format!("literal gate: {e}") })?,
            )
        };
        let caches = Pool::new(cache_factory(rules.len()));
        Ok(CompiledView { rules, dfas, caches, gate, gate_rules, ungated })
    }

    /// Rule `i`'s automaton, built on first use. The built-in patterns all compile (a test
    /// builds every one); were one not to, the rule would count as never matching.
    fn dfa(&self, i: usize) -> Option<&RuleDfa> {
        let rule = self.rules.get(i)?;
        self.dfas
            .get(i)?
            .get_or_init(|| parse_rule(&expand(rule.pattern)).ok().and_then(|hir| build_rule(&hir).ok()))
            .as_ref()
    }

    /// Whether rule `i`, already built, can only match where a word begins or ends: then a hit
    /// inside a word (`ai` in "explain") needs no search.
    fn needs_word_boundary(&self, i: usize) -> bool {
        self.dfas.get(i).and_then(OnceLock::get).is_some_and(|d| d.as_ref().is_some_and(|d| d.at_word_boundary))
    }

    /// Whether rule `i` matches `input`, with the scan's cache set `caches`.
    fn rule_matches(&self, i: usize, caches: &mut [Option<Cache>], input: &Input<'_>) -> bool {
        let (Some(RuleDfa { dfa, .. }), Some(slot)) = (self.dfa(i), caches.get_mut(i)) else { return false };
        let cache = slot.get_or_insert_with(|| Cache::new(dfa));
        dfa_matches(dfa, cache, input)
    }

    /// Returns whether the gate met one of the view's markers.
    fn scan(&self, text: &str, source: Source, code: &mut CodeContext<'_>, report: &mut ThreatReport) -> bool {
        let mut marked = false;
        if text.is_empty() {
            return marked;
        }
        let mut matched = vec![false; self.rules.len()];
        let mut caches = self.caches.get();
        let bytes = text.as_bytes();
        for &i in &self.ungated {
            if let Some(m) = matched.get_mut(i) {
                *m = self.rule_matches(i, &mut caches, &Input::new(bytes).earliest(true));
            }
        }
        if let Some(gate) = &self.gate {
            // Anchored searches from each hit, up to MAX_ANCHORED_TRIES per rule; then one
            // unanchored search from the next hit to the end decides the rule for every later
            // hit (each of its matches starts at one of its literals, so at a hit). An anchored
            // search may read to the end of the text (`(?:\.){2,}/` on a run of dots), so
            // without the cap a text of n hits cost n searches of up to n bytes each.
            let mut tries = vec![0u8; self.rules.len()];
            gate_hits(gate, bytes, |literal, start| {
                let Some(candidates) = self.gate_rules.get(literal) else { return };
                for &i in candidates {
                    if i == MARKER {
                        marked = true;
                        continue;
                    }
                    let i = usize::from(i);
                    if matched[i] || tries.get(i).is_none_or(|&t| t > MAX_ANCHORED_TRIES) {
                        continue;
                    }
                    // No match of this rule starts here (nor is it a try).
                    if !word_boundary(bytes, start) && self.needs_word_boundary(i) {
                        continue;
                    }
                    if let Some(t) = tries.get_mut(i) {
                        *t += 1;
                        let at = Input::new(bytes).range(start..).earliest(true);
                        let at = if *t > MAX_ANCHORED_TRIES { at } else { at.anchored(Anchored::Yes) };
                        matched[i] = self.rule_matches(i, &mut caches, &at);
                    }
                }
            });
        }
        drop(caches);
        // Naming a model (`PG-JB-017`) is context for an attack on the model, not evidence on its
        // own or beside markup, SQL or shell hints (API reference pages name the vendor in
        // every path): it counts only when a rule about the model (override, jailbreak,
        // extraction, exfiltration, role tags, indirect instructions) fires in the same text.
        for (rule, _) in self.rules.iter().zip(&matched).filter(|(_, m)| **m) {
            if rule.id == MODEL_NAMED {
                code.model_named = Some((rule.category, rule.weight));
                continue;
            }
            // Machine payloads (markup, SQL, shell, paths, server-side code) read from the text:
            // in a text about code they are the code being discussed (see `CodeContext`).
            if rule.view != View::Words && rule.category.is_payload() {
                code.offer(rule.id, rule.category, rule.weight, report);
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
            if rule.id == IMPERATIVE_IN_DATA {
                code.imperative = Some((rule.category, rule.weight));
                continue;
            }
            if rule.id == ROLE_LABEL {
                code.role_label = Some((rule.category, rule.weight));
                continue;
            }
            if rule.id == SECRETS_ASKED_FOR {
                code.secrets = Some((rule.category, rule.weight));
                continue;
            }
            report.add(rule.id, rule.category, rule.weight);
        }
        marked
    }
}

/// In a gate literal's list of rules, a marker literal (see `CompiledView::new`).
const MARKER: u16 = u16::MAX;

/// The words view's markers: the cue words of ROT13 and reversed text (`decode::CIPHER_CUES`),
/// with the space after or before them. A text that holds a cue (` gur `) holds its word as a word
/// of its own in the words view, so one of the two occurs there, unless the word is the view's
/// only one (then the decoder, which needs two such words, finds nothing anyway).
fn cipher_markers() -> Vec<&'static [u8]> {
    CIPHER_CUES
        .iter()
        .flat_map(|cue| [cue.get(1..).unwrap_or_default(), cue.get(..cue.len() - 1).unwrap_or_default()])
        .collect()
}

/// The rule that fires on an imperative sentence inside data (`PG-II-010`).
/// Ids of the obfuscation rules decided by code (listed in `threat::catalogue`).
pub mod id {
    /// Invisible characters.
    pub const INVISIBLE_CHARACTERS: &str = "PG-OB-001";
    /// Bidirectional control characters.
    pub const BIDI_CONTROLS: &str = "PG-OB-002";
    /// Unicode tag characters.
    pub const TAG_CHARACTERS: &str = "PG-OB-003";
    /// An encoded segment whose decoded text matches more rules.
    pub const ENCODED_SEGMENT: &str = "PG-OB-010";
}

const IMPERATIVE_IN_DATA: &str = "PG-II-010";
/// Weight factor of that rule when every imperative sentence it finds is about the document's own
/// subject: documentation tells its reader what to do with the thing it documents ("Run the dump
/// in parallel … This option may reduce …"); an injected instruction changes the task and shares
/// nothing with the text around it. Under the flag threshold alone, it still adds up.
const SAME_SUBJECT_IMPERATIVE_FACTOR: f32 = 0.8;

/// Whether every imperative sentence that `imperative` finds in `plain` is about the subject of the
/// text around it: one of its content words (four letters or more, not a common word, a plural
/// read as its singular) occurs in the text outside the sentence, or it names a command-line
/// option (`--slot`): a manual's sentence, whose subject is the program it documents, even
/// alone. Any other single sentence has no text around it and is not. Linear: one pass counts
/// the words, one pass per sentence looks them up.
fn about_the_document(imperative: &regex::bytes::Regex, plain: &str) -> bool {
    let mut counts: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    for w in content_words(plain) {
        *counts.entry(w).or_default() += 1;
    }
    let mut sentences = 0usize;
    let mut at = 0;
    // A match takes the `. ` that the next sentence's match opens with: each search starts
    // again two bytes before the last match ended.
    while let Some(m) = imperative.find_at(plain.as_bytes(), at) {
        sentences += 1;
        at = m.end().saturating_sub(2).max(m.start() + 1);
        let Some(sentence) = plain.get(m.range()) else { return false };
        let mut inside: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        for w in content_words(sentence) {
            *inside.entry(w).or_default() += 1;
        }
        let shares_a_word = inside.iter().any(|(w, n)| counts.get(w).is_some_and(|total| total > n));
        if !shares_a_word && !names_an_option(sentence) {
            return false;
        }
    }
    sentences > 0
}

/// Whether a sentence names a long command-line option: `--` and a letter after a space.
fn names_an_option(sentence: &str) -> bool {
    sentence.as_bytes().windows(4).any(|w| w[0] == b' ' && w[1] == b'-' && w[2] == b'-' && w[3].is_ascii_lowercase())
}

/// The content words of a text: runs of letters of four or more, not common words, a final `s`
/// dropped.
fn content_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() >= 4 && !COMMON_WORDS.contains(w))
        .map(|w| w.strip_suffix('s').filter(|s| s.len() >= 4).unwrap_or(w))
}

/// Words of four letters or more that any text uses, whatever its subject.
#[rustfmt::skip]
const COMMON_WORDS: [&str; 64] = [
    "this", "that", "these", "those", "with", "from", "into", "your", "yours", "have", "will", "would",
    "should", "could", "about", "which", "their", "there", "what", "when", "where", "each", "also", "more",
    "only", "some", "than", "then", "them", "they", "such", "other", "following", "using", "used", "make",
    "like", "just", "please", "must", "good", "great", "best", "first", "last", "time", "year", "many",
    "most", "very", "well", "here", "want", "need", "know", "take", "give", "people", "work", "over",
    "after", "before", "because", "same",
];

/// The rule that fires when a text names a model or its vendor.
const MODEL_NAMED: &str = "PG-JB-017";

/// A rule of the table as a searcher of its matches, for the rules whose weight depends on
/// where they match (`PG-II-010`, `PG-EX-002`, `PG-DL-006`). Built the first time its rule
/// fires, like the rules' automata (most texts never need one).
#[derive(Debug)]
struct LazySearcher {
    id: &'static str,
    regex: OnceLock<Option<regex::bytes::Regex>>,
}

impl LazySearcher {
    fn new(id: &'static str) -> LazySearcher {
        LazySearcher { id, regex: OnceLock::new() }
    }

    /// The searcher; None only if the rule were missing or did not compile, which the unit
    /// tests rule out for the built-in table.
    fn get(&self) -> Option<&regex::bytes::Regex> {
        self.regex.get_or_init(|| searcher(self.id).ok()).as_ref()
    }
}

fn searcher(id: &str) -> Result<regex::bytes::Regex, String> {
    let pattern = all_rules().find(|r| r.id == id).map(|r| expand(r.pattern)).ok_or_else(|| format!("{id} missing"))?;
    regex::bytes::RegexBuilder::new(&pattern)
        .unicode(false)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("{id}: {e}"))
}

/// FNV-1a, 64 bit, of a rule's pattern: tells whether `gate::GATE`'s entry for the rule was
/// generated from the pattern the rule has now. Defined by its constants alone, so the
/// generated table and every build agree.
fn pattern_fingerprint(pattern: &str) -> u64 {
    pattern.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// The text of `threat/gate.rs`: for every rule, its id, the fingerprint of its pattern and the
/// literals its matches start with (`None`: the gate cannot speak for it). The catalogue test
/// compares it with the committed file and rewrites it with `UPDATE_RULES_DOC=1`.
pub(crate) fn gate_table_source() -> Result<String, RuleTableError> {
    use std::fmt::Write as _;
    let mut out = String::from(
        "//! Generated from the rule tables by `UPDATE_RULES_DOC=1 cargo test -p prompt-guard-engine --test engine\n\
         //! catalogue`; do not edit by hand. For each rule: its id, the FNV-1a fingerprint of its pattern, and the\n\
         //! literals every match starts with (None: the rule runs on every text). Read by `CompiledView::new`, so\n\
         //! configuring does not parse the rules.\n\n\
         /// One rule's entry.\n\
         pub type GateEntry = (&'static str, u64, Option<&'static [&'static [u8]]>);\n\n\
         #[rustfmt::skip]\n\
         pub const GATE: &[GateEntry] = &[\n",
    );
    for rule in all_rules() {
        let hir = parse_rule(&expand(rule.pattern))
            .map_err(|e| RuleTableError { view: "gate", problem: format!("{}: {e}", rule.id) })?;
        let literals = match required_prefixes(&hir) {
            None => "None".to_owned(),
            Some(ls) => {
                let quoted: Vec<String> = ls
                    .iter()
                    .map(|l| {
                        format!(
                            "b\"{}\"",
                            l.iter().flat_map(|&b| std::ascii::escape_default(b)).map(char::from).collect::<String>()
                        )
                    })
                    .collect();
                format!("Some(&[{}])", quoted.join(", "))
            }
        };
        let _ = writeln!(out, "    (\"{}\", 0x{:016x}, {literals}),", rule.id, pattern_fingerprint(rule.pattern));
    }
    out.push_str("];\n");
    Ok(out)
}

/// The rule that fires when a text names secrets with a verb that asks for them (`PG-EX-002`).
const SECRETS_ASKED_FOR: &str = "PG-EX-002";
/// Weight factor of that rule when every match describes what something does with secrets
/// ("sidecars that fetch secrets", "attackers can steal cookies", "never print passwords")
/// instead of asking for them: under the flag threshold alone, it still adds up.
const DESCRIBED_SECRETS_FACTOR: f32 = 0.5;

/// Words before a verb that make it a description or advice, not a request: a relative pronoun,
/// a modal, a subject other than the reader, a negation.
#[rustfmt::skip]
const DESCRIBING_WORDS: [&str; 18] = [
    "that", "which", "who", "can", "could", "may", "might", "would", "attacker", "attackers", "they", "it",
    "not", "never", "dont", "avoid", "cannot", "also",
];

/// Whether every match of `secrets` in the words view `words` follows one of `DESCRIBING_WORDS`.
/// Linear: one search over the text, one look back per match.
fn secrets_only_described(secrets: &regex::bytes::Regex, words: &str) -> bool {
    let mut matches = 0usize;
    for m in secrets.find_iter(words.as_bytes()) {
        matches += 1;
        let before = words.get(..m.start()).unwrap_or("").trim_end();
        let previous = before.rsplit(' ').next().unwrap_or("");
        if !DESCRIBING_WORDS.contains(&previous) {
            return false;
        }
    }
    matches > 0
}

/// The rule that fires on a role label (`PG-DL-006`).
const ROLE_LABEL: &str = "PG-DL-006";

/// Whether one of the role labels `role_label` finds in the plain view is a label where a line of
/// a forged transcript opens: at the start of the text, in brackets (`[system message]:`), or
/// after a word or a mark that is not "the", `{`, `(` or `,` ("out of the system:" is a noun
/// ending a sentence, `{ admin: true` a key of an object literal). Linear: one search, one look
/// back per match.
fn labels_open_lines(role_label: &regex::bytes::Regex, plain: &str) -> bool {
    role_label.find_iter(plain.as_bytes()).any(|m| {
        let label = plain.get(m.start()..m.end()).unwrap_or("").trim_start();
        let before = plain.get(..m.start()).unwrap_or("");
        if before.is_empty() || label.starts_with('[') {
            return true;
        }
        let previous = before.rsplit(' ').next().unwrap_or("");
        !(previous == "the" || previous.ends_with(['{', '(', ',']))
    })
}

impl ThreatScanner {
    pub fn new(settings: &ThreatSettings) -> Result<ThreatScanner, RuleTableError> {
        let active = !settings.scan_roles.is_empty();
        let markers = cipher_markers();
        Ok(ThreatScanner {
            settings: settings.clone(),
            imperative: LazySearcher::new(IMPERATIVE_IN_DATA),
            secrets: LazySearcher::new(SECRETS_ASKED_FOR),
            role_label: LazySearcher::new(ROLE_LABEL),
            // A scanner that scans no source (threat scanning switched off) compiles no rules.
            words: CompiledView::new(
                if active { &[View::Words] } else { &[] },
                "words",
                if active { &markers } else { &[] },
            )?,
            plain: CompiledView::new(if active { &[View::Plain, View::Payload] } else { &[] }, "plain", &[])?,
            learned: None,
            suffix: if super::suffix::ON_BY_DEFAULT { super::suffix::SuffixModel::compiled() } else { None },
            operator: OperatorRules::default(),
        })
    }

    /// The same scanner with the learned model on or off. A scanner built here has it off; the
    /// configuration turns it on by default (`threats.learned_model`).
    pub fn with_learned_model(mut self, on: bool) -> ThreatScanner {
        self.learned = if on { super::model::Model::compiled() } else { None };
        self
    }

    /// The same scanner with the adversarial-suffix detector on or off. Off by default: measured,
    /// it does not yet separate suffixes from benign text within the budgets (`docs/quality.md`).
    pub fn with_suffix_detector(mut self, on: bool) -> ThreatScanner {
        self.suffix = if on { super::suffix::SuffixModel::compiled() } else { None };
        self
    }

    /// The same scanner after one scan of `WARM_UP`, which builds the automata of the rules whose
    /// literals ordinary requests hold (and the scan's cache set), so that the first request
    /// after configuring does not pay for them (measured with `make bench-instructions`).
    pub fn warmed_up(self) -> ThreatScanner {
        if let Some(&source) = self.settings.scan_roles.first() {
            drop(self.scan(WARM_UP, source));
        }
        self
    }

    /// The same scanner with the operator's rules and allowed phrases.
    pub fn with_operator_rules(mut self, operator: OperatorRules) -> ThreatScanner {
        self.operator = operator;
        self
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
            // Phrases the operator allows are not read, wherever they stand.
            let allowed = self.operator.without_allowed(text);
            if let Some((id, category, weight)) =
                self.scan_layer(allowed.as_deref().unwrap_or(text), source, 0, None, &mut report)
            {
                report.add(id, category, weight * ABOUT_CODE_PAYLOAD_FACTOR);
            }
            // The learned model weighs in last, on the rules' whole report (see `model`).
            if let Some(model) = &self.learned {
                model.add_evidence(allowed.as_deref().unwrap_or(text), source, &mut report);
            }
        }
        report
    }

    /// `about_code`: for a decoded text, whether the text it was decoded from is about code (see
    /// `CodeContext`); a decoded text is read the same way (SQL percent-encoded into a parameter
    /// is a value, a shell-escaped snippet in a page about code is code).
    ///
    /// Returns the strongest payload evidence of a text about code, not yet added: a decoded
    /// segment's evidence competes with that of the text it was decoded from (the snippet and
    /// its percent-decoded form are one example, not two), and the outermost caller adds it at
    /// `ABOUT_CODE_PAYLOAD_FACTOR`.
    fn scan_layer(
        &self,
        text: &str,
        source: Source,
        depth: u8,
        about_code: Option<bool>,
        report: &mut ThreatReport,
    ) -> Option<Payload> {
        let n = normalise(text);
        if depth == 0 {
            add_hidden_signals(n.hidden, report);
            // A suffix is appended to a person's request; tool output and documents are data.
            if let (Some(suffix), Source::User) = (&self.suffix, source) {
                suffix.add_evidence(text, report);
            }
        }
        let mut code = CodeContext::new(text, &n.plain, about_code);
        let cipher_cue = self.words.scan(&n.words, source, &mut code, report);
        self.plain.scan(&n.plain, source, &mut code, report);
        self.operator.scan(&n, report);
        if let Some((category, weight)) = code.model_named {
            let about_the_model =
                |id: &str| id != MODEL_NAMED && Category::of_rule(id).is_some_and(Category::is_about_the_model);
            if report.rule_ids().any(about_the_model) {
                report.add(MODEL_NAMED, category, weight);
            }
        }
        if let Some((category, weight)) = code.role_label {
            if self.role_label.get().is_some_and(|r| labels_open_lines(r, &n.plain)) {
                report.add(ROLE_LABEL, category, weight);
            }
        }
        if let Some((category, weight)) = code.secrets {
            let factor = if self.secrets.get().is_some_and(|r| secrets_only_described(r, &n.words)) {
                DESCRIBED_SECRETS_FACTOR
            } else {
                1.0
            };
            report.add(SECRETS_ASKED_FOR, category, weight * factor);
        }
        if let Some((category, weight)) = code.imperative {
            let factor = if self.imperative.get().is_some_and(|r| about_the_document(r, &n.plain)) {
                SAME_SUBJECT_IMPERATIVE_FACTOR
            } else {
                1.0
            };
            report.add(IMPERATIVE_IN_DATA, category, weight * factor);
        }
        let mut sql = ThreatReport::default();
        let mut broken_out = ThreatReport::default();
        scan_sqli(&n.plain, depth == 0, &mut sql, &mut broken_out);
        for (id, category, weight) in sql.hits() {
            code.offer(id, category, weight, report);
        }
        // A value broken out of mid-sentence ("look up the user named ' OR 1=1; --") is a
        // payload whatever surrounds it.
        report.merge(broken_out);
        if depth >= MAX_DECODE_DEPTH {
            return code.strongest;
        }
        let segments = decoded_segments_of(text, cipher_cue);
        let inner_about_code = (!segments.is_empty()).then(|| code.about_code());
        for segment in segments {
            let mut inner = ThreatReport::default();
            let held = self.scan_layer(&segment.text, source, depth + 1, inner_about_code, &mut inner);
            // Hiding an attack in an encoding is evidence of intent on its own, when the decoded
            // text says something the text as written does not (a shell-escaped `\*` in a
            // snippet that already shows its markup hides nothing).
            let seen = |id: &str| report.rule_ids().any(|s| s == id) || code.strongest.is_some_and(|(s, _, _)| s == id);
            let hidden = inner.rule_ids().chain(held.map(|(id, _, _)| id)).any(|id| !seen(id));
            if hidden && segment.encoding == Encoding::Concealing {
                report.add(id::ENCODED_SEGMENT, Category::Obfuscation, 0.3);
            }
            report.merge(inner);
            if let Some((id, category, weight)) = held {
                code.hold(id, category, weight);
            }
        }
        code.strongest
    }
}

/// A payload rule's evidence: its id, category and weight.
type Payload = (&'static str, Category, f32);

/// Whether a text is about code rather than a value that carries a payload, and the payload
/// evidence found in it.
///
/// An injection payload is a value: short, one line, and it breaks out of the place it was put
/// (a quote, a comment, a tautology after a literal, a statement stacked after a value). Text a
/// person writes about code is not: a question or a sentence around a snippet ("Why doesn't my
/// `<script>` render?"), a paragraph that names a command, a multi-line program, markup page,
/// diff or query, markup written as authors write it (see `markup`), or a minified script (see
/// `minified`). In such a text the SQL, markup, shell, path and server-side code rules find
/// the code under discussion, so only the strongest of them counts, at half its weight: alone it
/// stays under the flag threshold, and beside an attack of another kind it still adds up.
/// Elsewhere (a bare value) every payload rule counts in full.
///
/// Decided on the first payload hit, since most texts have none.
struct CodeContext<'a> {
    raw: &'a str,
    plain: &'a str,
    about_code: Option<bool>,
    strongest: Option<Payload>,
    /// `PG-JB-017` matched (its category and weight), for `scan_layer` to weigh.
    model_named: Option<(Category, f32)>,
    /// `PG-II-010` matched in data (its category and weight), for `scan_layer` to weigh.
    imperative: Option<(Category, f32)>,
    /// `PG-EX-002` matched (its category and weight), for `scan_layer` to weigh.
    secrets: Option<(Category, f32)>,
    /// `PG-DL-006` matched (its category and weight), for `scan_layer` to confirm.
    role_label: Option<(Category, f32)>,
}

impl<'a> CodeContext<'a> {
    /// `decided`: the answer for a decoded text, which is that of the text it was decoded from.
    fn new(raw: &'a str, plain: &'a str, decided: Option<bool>) -> CodeContext<'a> {
        CodeContext {
            raw,
            plain,
            about_code: decided,
            strongest: None,
            model_named: None,
            imperative: None,
            secrets: None,
            role_label: None,
        }
    }

    fn about_code(&mut self) -> bool {
        let (raw, plain) = (self.raw, self.plain);
        *self.about_code.get_or_insert_with(|| {
            reads_as_prose(plain)
                || sentence_lead(plain)
                || code_document(raw)
                || conventional_script_includes(raw)
                || minified_script(raw)
                || discusses_an_attack(plain)
        })
    }

    /// A payload rule fired: counted now in a bare value, held back (see `scan_layer`) in text
    /// about code.
    fn offer(&mut self, id: &'static str, category: Category, weight: f32, report: &mut ThreatReport) {
        if !self.about_code() {
            report.add(id, category, weight);
        } else {
            self.hold(id, category, weight);
        }
    }

    /// Keep the strongest payload evidence of a text about code.
    fn hold(&mut self, id: &'static str, category: Category, weight: f32) {
        if self.strongest.is_none_or(|(_, _, w)| weight > w) {
            self.strongest = Some((id, category, weight));
        }
    }
}

/// Whether the text presents what it quotes as an example of an attack: security prose and
/// code comments write "for example:", "e.g.", "Example:", "an attacker could send …" or
/// label a snippet "// Example Attack". The payload in such a text is discussed, not performed,
/// and is weighed as code written about code (a value broken out of mid-sentence still counts
/// in full, see `scan_layer`). Linear: one search per marker.
fn discusses_an_attack(plain: &str) -> bool {
    DISCUSSION_MARKERS.iter().any(|m| plain.contains(m))
}

/// Phrases with which a text introduces an example or speaks of an attacker (plain view).
const DISCUSSION_MARKERS: [&str; 8] =
    ["for example", "e.g.", "example:", "example attack", "an attacker", "the attacker", "attackers", "such as"];

/// Whether the text opens as a sentence: its first three chunks are words (letters, perhaps an
/// apostrophe inside and punctuation after), at least two of them not SQL keywords ("Why
/// doesn't my", "Write a migration:", "Explain UNION vs"), or a word that is not one and then
/// inline code ("Turn `rm` into"). A value that carries a payload opens
/// with the value or the payload ("admin' or", "<img src", "select id from").
fn sentence_lead(plain: &str) -> bool {
    let mut ordinary = 0;
    let mut first_ordinary = false;
    let mut code_after_first = false;
    for (i, chunk) in plain.split(' ').take(3).enumerate() {
        let word = chunk.trim_end_matches(['.', ',', ':', ';', '?', '!']);
        // Inline code in a sentence ("Launch `nohup` in background mode") names the code it
        // is about, after the verb or subject that opens the sentence.
        if i > 0 && inline_code(word) {
            code_after_first = true;
            continue;
        }
        let mut parts = word.split('\'');
        let letters = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphabetic());
        let is_word = parts.next().is_some_and(letters) && parts.all(letters) && word.split('\'').count() <= 2;
        if !is_word {
            return false;
        }
        let plain_word = !is_sql_keyword(word);
        first_ordinary |= i == 0 && plain_word;
        ordinary += usize::from(plain_word);
    }
    ordinary >= 2 || (code_after_first && first_ordinary)
}

/// A Markdown inline code span standing as one chunk of a sentence: `` `name` `` with a short
/// name inside and no space.
fn inline_code(chunk: &str) -> bool {
    chunk
        .strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .is_some_and(|inner| (1..=40).contains(&inner.len()) && !inner.contains('`'))
}

/// Whether the text is a console transcript (a prompt and a command, or a statement, then
/// output), or a multi-line program, markup page, query, diff or log: at least three non-blank
/// lines, most of them shaped like code (indented, a diff, list, comment or markup line, or
/// ending in a bracket, a brace, a semicolon, a comma, a colon, a tag, a code span or a `...`
/// elision), or two lines both shaped like code and neither markup (a tag split over two lines
/// is a payload's trick). A request with its headers and form fields is lines of names and
/// values, not code.
fn code_document(raw: &str) -> bool {
    let mut lines = 0usize;
    let mut code = 0usize;
    let mut transcript = false;
    // A header or form field line, or markup: two such lines are not a listing.
    let mut fields = false;
    for line in raw.lines().take(400) {
        let trimmed = line.trim_end();
        if trimmed.trim_start().is_empty() {
            continue;
        }
        lines += 1;
        // A transcript opens with a prompt and a command; what follows is its output.
        if lines == 1 {
            transcript = line.starts_with("$ ") || line.starts_with(">>> ");
        } else {
            // So does a statement followed by what the program answered: a server's message
            // (`ERROR:  …`), a result table's rule or row count, a traceback.
            transcript |= program_output(trimmed);
        }
        // Indented, or a diff, list, comment, markup, quote or table line (a `-` only before a
        // space: multipart boundaries are runs of it).
        // A console transcript's prompts (`$ `, Python's `>>> ` and `... `) mark code too.
        let indented = line.starts_with([' ', '\t', '+', '@', '#', '/', '*', '<', '>', '|', '`'])
            || line.starts_with("- ")
            || line.starts_with("-\t")
            || line.starts_with("$ ")
            || line.starts_with("...");
        // A line that ends a Markdown code span (a list of snippets, `1. \`el.innerHTML = x;\``).
        let ends_like_code =
            trimmed.ends_with(['{', '}', '(', ')', '[', ']', ';', ',', ':', '>', '`']) || trimmed.ends_with(" ...");
        code += usize::from(indented || ends_like_code);
        fields |= header_field(trimmed) || line.trim_start().starts_with('<');
    }
    (transcript && lines >= 2) || (lines >= 3 && code * 2 >= lines) || (lines == 2 && code == 2 && !fields)
}

/// Whether a line is a header or form field: a name of letters, digits and `-`, a colon and
/// a space (`Cookie: …`, `X-Forwarded-For: …`).
fn header_field(line: &str) -> bool {
    line.split_once(": ")
        .is_some_and(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Whether a line is what a database shell or an interpreter prints back: a PostgreSQL
/// message (`ERROR:`, `NOTICE:`, … then two spaces), a result table's rule (`-----+----`) or row
/// count (`(3 rows)`), or the first line of a Python traceback.
fn program_output(line: &str) -> bool {
    const MESSAGES: [&str; 7] = ["ERROR:  ", "WARNING:  ", "NOTICE:  ", "LOG:  ", "DETAIL:  ", "HINT:  ", "INFO:  "];
    let rule = line.len() >= 3 && line.trim_start().bytes().all(|b| b == b'-' || b == b'+');
    let count = line.trim_start().strip_prefix('(').and_then(|r| r.strip_suffix(" rows)").or(r.strip_suffix(" row)")));
    rule || MESSAGES.iter().any(|m| line.starts_with(m))
        || count.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        || line.starts_with("Traceback (most recent call last):")
}

/// Whether a text reads as sentences: at least six chunks of letters only that are not SQL
/// keywords, two thirds of all chunks, and English function words among them (a list of
/// column names is words too, but no sentence). A payload is mostly symbols, paths, operators
/// and keywords; a question about a shell command is mostly words.
fn reads_as_prose(plain: &str) -> bool {
    let mut chunks = 0usize;
    let mut words = 0usize;
    let mut function_words = 0usize;
    for chunk in plain.split(' ').take(400) {
        chunks += 1;
        let core =
            chunk.trim_matches(|c: char| matches!(c, '.' | ',' | '?' | '!' | ':' | ';' | '(' | ')' | '"' | '\''));
        function_words += usize::from(FUNCTION_WORDS.contains(&core));
        if core.len() >= 2 && core.chars().all(char::is_alphabetic) && !is_sql_keyword(core) {
            words += 1;
        }
    }
    words >= 6 && words * 3 >= chunks * 2 && function_words >= 2
}

/// English words that sentences are made with and lists of names are not (none of them a SQL
/// keyword).
const FUNCTION_WORDS: [&str; 30] = [
    "the", "a", "an", "of", "to", "it", "this", "that", "for", "how", "what", "why", "do", "does", "can", "my", "you",
    "i", "we", "your", "be", "was", "are", "but", "so", "should", "would", "there", "with", "which",
];

fn add_hidden_signals(hidden: HiddenChars, report: &mut ThreatReport) {
    if hidden.invisible > 0 {
        // A stray zero-width joiner is common in emoji and Indic text; many are not.
        let weight = if hidden.invisible >= 8 { 0.4 } else { 0.15 };
        report.add(id::INVISIBLE_CHARACTERS, Category::Obfuscation, weight);
    }
    if hidden.bidi > 0 {
        report.add(id::BIDI_CONTROLS, Category::Obfuscation, 0.35);
    }
    if hidden.tags > 0 {
        report.add(id::TAG_CHARACTERS, Category::Obfuscation, 0.6);
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
        // The automata are built on first use: build every one here, and every searcher.
        for view in [&s.as_ref().unwrap().words, &s.as_ref().unwrap().plain] {
            for (i, rule) in view.rules.iter().enumerate() {
                assert!(view.dfa(i).is_some(), "{} does not compile", rule.id);
            }
        }
        for id in [IMPERATIVE_IN_DATA, SECRETS_ASKED_FOR, ROLE_LABEL] {
            assert!(searcher(id).is_ok(), "{id}");
        }
    }

    /// A rule that needs a word boundary where its match starts never matches anchored at a
    /// position that is not one: the scan skips such hits without changing any result.
    #[test]
    fn rules_at_word_boundaries_do_not_match_inside_words() {
        let s = ThreatScanner::new(&ThreatSettings::default()).unwrap();
        let texts = [
            "explain it again, maintain the chatbots: ignoreall previousinstructions now",
            "mainassistant said: youare now dan. pleaseshow the system prompt; onerror=alert(1)",
            "the_model xai llm_agent 'or'1'='1 <scriptx> reveal_your_rules unsafe",
        ];
        let mut boundary_rules = 0;
        for view in [&s.words, &s.plain] {
            for i in 0..view.rules.len() {
                let Some(RuleDfa { dfa, at_word_boundary }) = view.dfa(i) else { continue };
                if !at_word_boundary {
                    continue;
                }
                boundary_rules += 1;
                let mut cache = Cache::new(dfa);
                for text in texts {
                    let n = normalise(text);
                    for t in [n.words.as_bytes(), n.plain.as_bytes()] {
                        for at in (0..t.len()).filter(|&at| !word_boundary(t, at)) {
                            let input = Input::new(t).range(at..).earliest(true).anchored(Anchored::Yes);
                            assert!(!dfa_matches(dfa, &mut cache, &input), "{} at {at} of {t:?}", view.rules[i].id);
                        }
                    }
                }
            }
        }
        assert!(boundary_rules > 10, "{boundary_rules}");
    }

    /// The committed gate table is current: configuring parses no rule (a stale entry would be
    /// parsed at every configuration, correct but slow).
    #[test]
    fn configuring_reads_every_rule_from_the_gate_table() {
        let s = ThreatScanner::new(&ThreatSettings::default()).unwrap();
        for view in [&s.words, &s.plain] {
            let built: Vec<&str> =
                view.rules.iter().zip(&view.dfas).filter(|(_, d)| d.get().is_some()).map(|(r, _)| r.id).collect();
            assert!(built.is_empty(), "rules parsed at configuration (gate.rs stale?): {built:?}");
        }
    }

    /// A rule without literal prefixes is searched over the whole text on every scan: only the
    /// sentence rule `PG-II-010` is (a rule that must look at the byte before its match lists
    /// that byte in small classes, see `PG-CI-002`, or is confirmed in code, see `PG-DL-006`).
    #[test]
    fn every_rule_but_the_sentence_rule_is_gated_by_literals() {
        let s = ThreatScanner::new(&ThreatSettings::default()).unwrap();
        let ungated: Vec<&str> =
            [&s.words, &s.plain].iter().flat_map(|v| v.ungated.iter().map(|&i| v.rules[i].id)).collect();
        assert_eq!(ungated, [IMPERATIVE_IN_DATA]);
    }

    /// Every literal occurrence the crate's overlapping iterator reports, as (literal, start).
    fn iterator_hits(literals: &[&str], text: &str) -> Vec<(usize, usize)> {
        let ac = aho_corasick::AhoCorasick::new(literals).unwrap();
        let mut hits: Vec<(usize, usize)> =
            ac.find_overlapping_iter(text).map(|m| (m.pattern().as_usize(), m.start())).collect();
        hits.sort_unstable();
        hits
    }

    fn loop_hits(literals: &[&str], text: &str) -> Vec<(usize, usize)> {
        let gate = build_gate(literals).unwrap();
        let mut hits = Vec::new();
        gate_hits(&gate, text.as_bytes(), |l, at| hits.push((l, at)));
        hits.sort_unstable();
        hits
    }

    /// Literals that overlap, nest and share prefixes and suffixes.
    const LITERALS: [&str; 10] = ["ignore", "ign", "gnore all", "all", "ll", "<script", "you are", "e a", "a", "<"];

    #[test]
    fn gate_loop_reports_what_the_overlapping_iterator_reports() {
        for text in ["", "a", "ignore all previous", "you are all ignored <script> ignore", "aaaa", "llama all"] {
            assert_eq!(loop_hits(&LITERALS, text), iterator_hits(&LITERALS, text), "{text:?}");
        }
        assert_eq!(loop_hits(&LITERALS, "ignore all").len(), 7);
    }

    proptest::proptest! {
        #[test]
        fn gate_loop_agrees_with_the_iterator_on_any_text(text in "[aeilnorsgu <>ct]{0,80}") {
            proptest::prop_assert_eq!(loop_hits(&LITERALS, &text), iterator_hits(&LITERALS, &text));
        }
    }
}
