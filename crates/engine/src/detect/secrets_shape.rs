//! Token shapes: how the secret catalogue finds vendor tokens without a regex.
//!
//! A vendor token is a fixed literal (the anchor: `ghp_`, `AccountKey=`, Azure's `Q~`) with runs
//! of the vendor's alphabet around it, of documented lengths. One Aho-Corasick automaton over the
//! anchors of every shape finds the candidates, and each hit is walked out: the parts after the
//! anchor forwards, the parts before it backwards. Nothing is compiled per format, so the
//! catalogue costs the configuration compile one small automaton instead of a regex per format
//! (counted repetitions such as `{186}` made each of those a large automaton), and a request one
//! pass over a text that holds some token prefix instead of a regex search per format.
//!
//! The walk is greedy and never backtracks. That finds exactly what the equivalent regex finds
//! (`Shape::regex`, which a test compares) because every shape is deterministic: no run may be
//! followed by a part that can start with a byte of the run's class, unless the run has a fixed
//! length (`Shape::is_deterministic`, checked for every shape by a test).

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// A set of ASCII bytes: the alphabet of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Class(u128);

impl Class {
    /// The bytes of `spec`, written like a regex class body without brackets: single bytes and
    /// ranges `a-z`; a `-` first or last stands for itself.
    pub const fn of(spec: &str) -> Class {
        let s = spec.as_bytes();
        let mut bits = 0u128;
        let mut i = 0;
        while i < s.len() {
            if i + 2 < s.len() && s[i + 1] == b'-' {
                let mut c = s[i];
                while c <= s[i + 2] {
                    bits |= 1u128 << c;
                    c += 1;
                }
                i += 3;
            } else {
                bits |= 1u128 << s[i];
                i += 1;
            }
        }
        Class(bits)
    }

    pub fn has(self, b: u8) -> bool {
        b < 128 && (self.0 >> b) & 1 == 1
    }

    /// The class as a regex class (`[...]`), for `Shape::regex`.
    #[cfg(test)]
    fn regex(self) -> String {
        let mut out = String::from("[");
        for b in 0u8..128 {
            if self.has(b) {
                if b.is_ascii_alphanumeric() {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("\\x{b:02X}"));
                }
            }
        }
        out.push(']');
        out
    }
}

/// No upper bound on a run's length.
pub const UNBOUNDED: u16 = u16::MAX;

/// One part of a shape.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// Between `min` and `max` bytes of the class, as many as there are (greedy).
    Run(Class, u16, u16),
    /// One of these literals (the first that is there).
    OneOf(&'static [&'static str]),
    /// These parts, or nothing when they are not all there.
    Optional(&'static [Part]),
}

pub const fn run(class: Class, min: u16, max: u16) -> Part {
    Part::Run(class, min, max)
}

pub const fn exactly(class: Class, n: u16) -> Part {
    Part::Run(class, n, n)
}

/// How a token looks around its anchor.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// The literals the token is found by; each is a whole alternative (`dckr_pat_`, `dckr_oat_`).
    pub anchors: &'static [&'static str],
    /// Whether the anchor is part of the value (`ghp_...`), or a label before it (`AccountKey=`).
    pub anchor_in_value: bool,
    /// Parts right before the anchor, in text order (walked backwards from it).
    pub before: &'static [Part],
    /// Parts right after the anchor.
    pub after: &'static [Part],
}

impl Shape {
    /// A token that starts with one of `anchors`.
    pub const fn starting(anchors: &'static [&'static str], after: &'static [Part]) -> Shape {
        Shape { anchors, anchor_in_value: true, before: &[], after }
    }

    /// A value right after a label (`AccountKey=`), the label not part of it.
    pub const fn labelled(anchors: &'static [&'static str], after: &'static [Part]) -> Shape {
        Shape { anchors, anchor_in_value: false, before: &[], after }
    }

    /// A token with an inner marker (`Q~`, `:AA`, `.atlasv1.`): parts before and after it.
    pub const fn around(anchors: &'static [&'static str], before: &'static [Part], after: &'static [Part]) -> Shape {
        Shape { anchors, anchor_in_value: true, before, after }
    }

    /// The value's span, when the anchor found at `[at, at + len)` is one of this shape's.
    pub fn walk(&self, text: &[u8], at: usize, len: usize) -> Option<(usize, usize)> {
        let mut start = at;
        for part in self.before.iter().rev() {
            start = back(text, start, part)?;
        }
        let mut end = at + len;
        for part in self.after {
            end = forward(text, end, part)?;
        }
        let start = if self.anchor_in_value { start } else { at + len };
        Some((start, end))
    }
}

/// The equivalent regex and the determinism check (tests only: the search itself needs neither).
#[cfg(test)]
impl Shape {
    /// The regex this shape stands for: the value is capture group 1.
    pub fn regex(&self) -> String {
        let anchors = self.anchors.iter().map(|a| regex_syntax::escape(a)).collect::<Vec<_>>().join("|");
        let before: String = self.before.iter().map(part_regex).collect();
        let after: String = self.after.iter().map(part_regex).collect();
        if self.anchor_in_value {
            format!("({before}(?:{anchors}){after})")
        } else {
            format!("(?:{anchors})({after})")
        }
    }

    /// Whether the greedy walk finds what the regex finds: a run of variable length is never
    /// followed (or, before the anchor, preceded) by a part that may start (end) with a byte of
    /// its class.
    pub fn is_deterministic(&self) -> bool {
        sequence_ok(self.after) && sequence_ok_backwards(self.before, self.anchors)
    }
}

#[cfg(test)]
fn part_regex(part: &Part) -> String {
    match part {
        Part::Run(class, min, max) if *max == UNBOUNDED => format!("{}{{{min},}}", class.regex()),
        Part::Run(class, min, max) => format!("{}{{{min},{max}}}", class.regex()),
        Part::OneOf(lits) => {
            format!("(?:{})", lits.iter().map(|l| regex_syntax::escape(l)).collect::<Vec<_>>().join("|"))
        }
        Part::Optional(parts) => format!("(?:{})?", parts.iter().map(part_regex).collect::<String>()),
    }
}

#[cfg(test)]
/// The bytes a part may start with (or end with, `last`); `None` when it may be empty.
fn edge_bytes(part: &Part, last: bool) -> (Vec<u8>, bool) {
    match part {
        Part::Run(class, min, _) => ((0u8..128).filter(|&b| class.has(b)).collect(), *min == 0),
        Part::OneOf(lits) => {
            let pick = |l: &&str| if last { l.bytes().next_back() } else { l.bytes().next() };
            (lits.iter().filter_map(pick).collect(), lits.iter().any(|l| l.is_empty()))
        }
        Part::Optional(parts) => {
            let p = if last { parts.last() } else { parts.first() };
            (p.map(|p| edge_bytes(p, last).0).unwrap_or_default(), true)
        }
    }
}

#[cfg(test)]
fn sequence_ok(parts: &[Part]) -> bool {
    for (i, part) in parts.iter().enumerate() {
        if let Part::Optional(inner) = part {
            if !sequence_ok(inner) {
                return false;
            }
        }
        let Part::Run(class, min, max) = part else { continue };
        if min == max {
            continue;
        }
        // Every byte that may come next: the following parts up to the first that cannot be empty.
        for next in parts.iter().skip(i + 1) {
            let (bytes, may_be_empty) = edge_bytes(next, false);
            if bytes.iter().any(|&b| class.has(b)) {
                return false;
            }
            if !may_be_empty {
                break;
            }
        }
    }
    true
}

#[cfg(test)]
fn sequence_ok_backwards(parts: &[Part], anchors: &[&str]) -> bool {
    for (i, part) in parts.iter().enumerate().rev() {
        let Part::Run(class, min, max) = part else { continue };
        if min == max {
            continue;
        }
        // What may come before this run (walking backwards): earlier parts.
        for prev in parts.iter().take(i).rev() {
            let (bytes, may_be_empty) = edge_bytes(prev, true);
            if bytes.iter().any(|&b| class.has(b)) {
                return false;
            }
            if !may_be_empty {
                break;
            }
        }
        // A variable run first in `before` is bounded by whatever precedes the token; the anchor
        // follows it and must not start with a byte of its class.
        if i + 1 == parts.len() && anchors.iter().any(|a| a.bytes().next().is_some_and(|b| class.has(b))) {
            return false;
        }
    }
    true
}

/// Walk `part` forwards from `at`; the end, if it is there.
fn forward(text: &[u8], at: usize, part: &Part) -> Option<usize> {
    match part {
        Part::Run(class, min, max) => {
            let n = text.get(at..)?.iter().take(usize::from(*max)).take_while(|&&b| class.has(b)).count();
            (n >= usize::from(*min)).then_some(at + n)
        }
        Part::OneOf(lits) => {
            let rest = text.get(at..)?;
            lits.iter().find(|l| rest.starts_with(l.as_bytes())).map(|l| at + l.len())
        }
        Part::Optional(parts) => {
            let mut end = at;
            for p in parts.iter() {
                match forward(text, end, p) {
                    Some(e) => end = e,
                    None => return Some(at),
                }
            }
            Some(end)
        }
    }
}

/// Walk `part` backwards from `at` (the part ends there); its start, if it is there.
fn back(text: &[u8], at: usize, part: &Part) -> Option<usize> {
    match part {
        Part::Run(class, min, max) => {
            let n = text.get(..at)?.iter().rev().take(usize::from(*max)).take_while(|&&b| class.has(b)).count();
            (n >= usize::from(*min)).then_some(at - n)
        }
        Part::OneOf(lits) => {
            let head = text.get(..at)?;
            lits.iter().find(|l| head.ends_with(l.as_bytes())).map(|l| at - l.len())
        }
        Part::Optional(parts) => {
            let mut start = at;
            for p in parts.iter().rev() {
                match back(text, start, p) {
                    Some(s) => start = s,
                    None => return Some(at),
                }
            }
            Some(start)
        }
    }
}

/// The compiled search: every anchor, each with the shapes it starts.
#[derive(Debug)]
pub struct ShapeScan {
    search: AnchorSearch,
    literals: Vec<&'static str>,
    /// Per anchor (index into `literals`): (owner index, shape) pairs.
    owners: Vec<Vec<(usize, Shape)>>,
}

/// Where the anchors occur.
///
/// Natively, a packed SIMD searcher (Teddy) over the anchors of three bytes or more reports
/// each position where one starts (and the anchors that share that start with it are compared
/// there), and a vectorised substring search finds each shorter one (`SK`, `Q~`): a two-byte
/// anchor in the packed set made its screen fire at every `S`. Where SIMD is missing (wasm) the
/// packed searcher does not build, and a contiguous NFA reports every overlapping occurrence
/// (cheap to build; a DFA cost the configuration compile 3 M instructions). Both give the same
/// answers (a test compares them).
#[derive(Debug)]
enum AnchorSearch {
    Packed {
        searcher: aho_corasick::packed::Searcher,
        /// The packed pattern ids' anchors (indexes into `literals`).
        long: Vec<usize>,
        /// Per anchor: the other anchors that may start where it does (one is a prefix of the other).
        same_start: Vec<Vec<usize>>,
        /// The short anchors, each with its finder.
        short: Vec<(usize, memchr::memmem::Finder<'static>)>,
    },
    Automaton(AhoCorasick),
}

/// Anchors shorter than this are searched on their own natively.
const PACKED_MIN: usize = 3;

impl ShapeScan {
    /// A scan over `shapes`, each tagged with its owner's index (a catalogue format). `None`
    /// when there is nothing to find (or, which does not happen for these literals, the
    /// automaton does not build).
    pub fn new(shapes: impl Iterator<Item = (usize, Shape)>) -> Option<ShapeScan> {
        let mut literals: Vec<&'static str> = Vec::new();
        let mut owners: Vec<Vec<(usize, Shape)>> = Vec::new();
        for (owner, shape) in shapes {
            for &anchor in shape.anchors {
                match literals.iter().position(|l| *l == anchor) {
                    Some(i) => owners.get_mut(i)?.push((owner, shape)),
                    None => {
                        literals.push(anchor);
                        owners.push(vec![(owner, shape)]);
                    }
                }
            }
        }
        if literals.is_empty() {
            return None;
        }
        let search = match ShapeScan::packed(&literals) {
            Some(p) => p,
            None => AnchorSearch::Automaton(ShapeScan::automaton(&literals)?),
        };
        Some(ShapeScan { search, literals, owners })
    }

    fn packed(literals: &[&'static str]) -> Option<AnchorSearch> {
        let long: Vec<usize> =
            (0..literals.len()).filter(|&i| literals.get(i).is_some_and(|l| l.len() >= PACKED_MIN)).collect();
        let searcher = aho_corasick::packed::Config::new()
            .heuristic_pattern_limits(false)
            .builder()
            .extend(long.iter().filter_map(|&i| literals.get(i)))
            .build()?;
        let same_start = literals
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let related = |(j, b): &(usize, &&str)| *j != i && (a.starts_with(**b) || b.starts_with(*a));
                literals.iter().enumerate().filter(related).map(|(j, _)| j).collect()
            })
            .collect();
        let short = literals
            .iter()
            .enumerate()
            .filter(|(_, l)| l.len() < PACKED_MIN)
            .map(|(i, l)| (i, memchr::memmem::Finder::new(l.as_bytes())))
            .collect();
        Some(AnchorSearch::Packed { searcher, long, same_start, short })
    }

    /// A contiguous NFA: cheap to build, and every overlapping occurrence is reported.
    fn automaton(literals: &[&'static str]) -> Option<AhoCorasick> {
        AhoCorasick::builder().kind(Some(AhoCorasickKind::ContiguousNFA)).build(literals).ok()
    }

    /// The same scan with the automaton search, as in wasm (for tests).
    #[cfg(test)]
    pub fn as_automaton(&self) -> Option<ShapeScan> {
        let search = AnchorSearch::Automaton(ShapeScan::automaton(&self.literals)?);
        Some(ShapeScan { search, literals: self.literals.clone(), owners: self.owners.clone() })
    }

    /// Call `found(owner, start, end)` for every shape that walks out from an anchor in `text`.
    pub fn find(&self, text: &str, mut found: impl FnMut(usize, usize, usize)) {
        let bytes = text.as_bytes();
        let mut walk = |anchor: usize, at: usize| {
            let Some(owners) = self.owners.get(anchor) else { return };
            let len = self.literals.get(anchor).map_or(0, |l| l.len());
            for (owner, shape) in owners {
                if let Some((start, end)) = shape.walk(bytes, at, len) {
                    // Spans are on char boundaries: every part is ASCII.
                    if text.is_char_boundary(start) && text.is_char_boundary(end) {
                        found(*owner, start, end);
                    }
                }
            }
        };
        match &self.search {
            AnchorSearch::Automaton(ac) => {
                for m in ac.find_overlapping_iter(text) {
                    walk(m.pattern().as_usize(), m.start());
                }
            }
            AnchorSearch::Packed { searcher, long, same_start, short } => {
                let mut from = 0;
                while from < bytes.len() {
                    let Some(m) = searcher.find_in(bytes, aho_corasick::Span::from(from..bytes.len())) else { break };
                    let at = m.start();
                    if let Some(&anchor) = long.get(m.pattern().as_usize()) {
                        walk(anchor, at);
                        let rest = bytes.get(at..).unwrap_or(&[]);
                        for &other in same_start.get(anchor).map_or(&[][..], Vec::as_slice) {
                            let lit = self.literals.get(other).map_or(&b""[..], |l| l.as_bytes());
                            if !lit.is_empty() && rest.starts_with(lit) {
                                walk(other, at);
                            }
                        }
                    }
                    from = at + 1;
                }
                for (anchor, finder) in short {
                    for at in finder.find_iter(bytes) {
                        // A short anchor that starts a long one was walked with it.
                        let shadowed = same_start.get(*anchor).is_some_and(|others| {
                            others.iter().any(|&o| {
                                let lit = self.literals.get(o).map_or(&b""[..], |l| l.as_bytes());
                                lit.len() >= PACKED_MIN && bytes.get(at..).is_some_and(|r| r.starts_with(lit))
                            })
                        });
                        if !shadowed {
                            walk(*anchor, at);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const HEX: Class = Class::of("a-f0-9");
    const DIGIT: Class = Class::of("0-9");

    /// The packed search (native) and the automaton (wasm) find the same anchors, overlapping,
    /// nested and short ones included.
    #[test]
    fn packed_and_automaton_anchor_searches_agree() {
        static AFTER: [Part; 1] = [run(HEX, 2, UNBOUNDED)];
        static SHAPES: [Shape; 5] = [
            Shape::starting(&["ab_", "ab_cd_"], &AFTER),
            Shape::starting(&["b_c"], &AFTER),
            Shape::starting(&["d_"], &AFTER),
            Shape::starting(&["d_d_"], &AFTER),
            Shape::starting(&["Q"], &AFTER),
        ];
        let scan = ShapeScan::new(SHAPES.iter().copied().enumerate()).unwrap();
        let automaton = scan.as_automaton().unwrap();
        for text in ["ab_cd_ef", "xab_ab_12 d_ff b_cafe", "ab_", "", "d_d_d_00", "éab_fe", "QQa0 d_d_ee"] {
            let run = |s: &ShapeScan| {
                let mut out = Vec::new();
                s.find(text, |o, a, b| out.push((o, a, b)));
                out.sort_unstable();
                out
            };
            assert_eq!(run(&scan), run(&automaton), "{text:?}");
        }
    }

    #[test]
    fn classes_hold_their_ranges_and_a_trailing_dash() {
        let c = Class::of("A-Za-z0-9_-");
        for b in b"AZaz09_-" {
            assert!(c.has(*b), "{}", char::from(*b));
        }
        for b in b"=+/. ~" {
            assert!(!c.has(*b), "{}", char::from(*b));
        }
        assert!(!c.has(0xC3));
    }

    #[test]
    fn walks_before_and_after_the_anchor() {
        static AFTER: [Part; 1] = [exactly(HEX, 4)];
        static BEFORE: [Part; 1] = [run(DIGIT, 2, 3)];
        let shape = Shape::around(&[":AA"], &BEFORE, &AFTER);
        let text = b"x 1234:AAbeef.";
        assert_eq!(shape.walk(text, 6, 3), Some((3, 13)));
        assert_eq!(shape.walk(b"1:AAbeef", 1, 3), None);
        let label = Shape::labelled(&["K="], &AFTER);
        assert_eq!(label.walk(b"K=abcd", 0, 2), Some((2, 6)));
    }

    #[test]
    fn optional_parts_are_all_or_nothing() {
        static TAIL: [Part; 2] = [Part::OneOf(&["-"]), run(DIGIT, 1, UNBOUNDED)];
        static AFTER: [Part; 2] = [exactly(HEX, 2), Part::Optional(&TAIL)];
        let shape = Shape::starting(&["d"], &AFTER);
        assert_eq!(shape.walk(b"dab-12 ", 0, 1), Some((0, 6)));
        assert_eq!(shape.walk(b"dab- ", 0, 1), Some((0, 3)));
        assert_eq!(shape.regex(), "((?:d)[0123456789abcdef]{2,2}(?:(?:\\-)[0123456789]{1,})?)");
    }

    #[test]
    fn a_run_followed_by_its_own_bytes_is_not_deterministic() {
        static AFTER: [Part; 2] = [run(HEX, 2, 4), Part::OneOf(&["a"])];
        assert!(!Shape::starting(&["x"], &AFTER).is_deterministic());
        static FIXED: [Part; 2] = [exactly(HEX, 4), Part::OneOf(&["a"])];
        assert!(Shape::starting(&["x"], &FIXED).is_deterministic());
    }
}
