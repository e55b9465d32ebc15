//! Adversarial suffixes: a character-level language model of ordinary text, and the tail of a
//! prompt that is far outside it while the request before it is not.
//!
//! Optimisation-based suffixes (token soups of punctuation, markup, word fragments and odd
//! tokens appended to a plain request) look like nothing a person writes. The model is an
//! order-3 character model (the next symbol given the three before it, with an order-1 fallback)
//! counted on public benign text: prose, code, logs, markup, SQL, shell and non-English text
//! (`train`, run by `make train-suffix`). The text is read as written, one symbol per character:
//! ASCII letters folded to lower case, accented Latin letters to their base letter, digits one
//! symbol, a whitespace run one space or one line break, each ASCII punctuation mark its own
//! symbol, every other character one shared symbol.
//!
//! Each symbol costs its surprise (`-log2 p`, in sixteenths of a bit). A run without a space
//! longer than `DATA_RUN` (base64, hashes, URLs, minified code) is data: its symbols cost at most
//! the data cap. A split point within the last `MAX_SUFFIX` symbols is a candidate when the text
//! before it is ordinary (mean cost at most the prefix threshold, at least `MIN_PREFIX` symbols,
//! and the split's own line ordinary for at least `MIN_LINE_PREFIX` symbols: a suffix is
//! appended to the request) and at least `MIN_SUFFIX` symbols on one line follow it. The
//! statistic is the largest contrast (the tail's mean cost minus the prefix's); at or above the
//! trained threshold it is evidence `PG-JB-910`. One pass over the text, a fixed ring of
//! `MAX_SUFFIX` sums, then at most `MAX_SUFFIX` candidates: linear time, constant memory.
//!
//! Measured (`make eval`, the suffix section) it does not separate generated suffixes from
//! benign text within the false-alarm budgets (shell lines and SQL after a sentence,
//! non-English messages), so the scanner runs it only when asked
//! (`ThreatScanner::with_suffix_detector`; `ON_BY_DEFAULT`).
//!
//! The table: the cost of every (context, symbol) pair seen at least twice in training, and
//! each context's escape cost, in `1 << BITS` hashed slots of (check byte, cost byte); a pair
//! not found costs its context's escape plus the order-1 cost. About 260 KiB, compiled in.

pub mod train;

use super::model_file::Format;
use super::score::ThreatReport;
use super::Category;

/// The rule id the detector reports.
pub const ID: &str = "PG-JB-910";
/// Its category: an adversarial suffix is a jailbreak technique.
pub const CATEGORY: Category = Category::Jailbreak;
/// Whether the default scanner runs the detector (`ThreatScanner::with_suffix_detector`).
pub const ON_BY_DEFAULT: bool = false;
/// The weight at the threshold: enough to flag alone.
pub const MIN_WEIGHT: f32 = 0.55;
/// The highest weight the detector gives alone: under the default block threshold (0.85).
pub const MAX_WEIGHT: f32 = 0.84;

/// The number of symbols (see `symbol`).
pub const SYMBOLS: usize = 62;
/// The space symbol.
pub const SPACE: u8 = 27;
/// The symbol of every character that is neither ASCII nor an accented Latin letter.
pub const OTHER: u8 = 60;
/// The line-break symbol.
pub const NEWLINE: u8 = 61;
/// The escape pseudo-symbol of a context (stored like a symbol).
pub const ESCAPE: u8 = 62;
/// log2 of the number of slots.
pub const BITS: u32 = 17;
/// The number of slots (two bytes each).
pub const SLOTS: usize = 1 << BITS;
/// The longest suffix considered, in symbols.
pub const MAX_SUFFIX: usize = 256;
/// The symbols of its own line a request has before its suffix (a suffix is appended to the
/// request, not pasted on a line of its own).
pub const MIN_LINE_PREFIX: usize = 8;
/// The shortest suffix considered, in symbols.
pub const MIN_SUFFIX: usize = 32;
/// Ordinary symbols a request has before its suffix.
pub const MIN_PREFIX: usize = 16;
/// The longest run without a space that is costed in full; a longer run is data, and every
/// symbol of it costs at most the data cap.
pub const DATA_RUN: usize = 20;
/// Costs are in sixteenths of a bit.
pub const COST_UNIT: f32 = 16.0;

/// The committed model (`make train-suffix` writes it).
static MODEL: &[u8] = include_bytes!("model.bin");

/// The file's header: after it come four u16 (the contrast and prefix thresholds, the data cap
/// and the largest cost stored), the order-1 costs and the slots.
#[allow(clippy::cast_possible_truncation)]
const FORMAT: Format = Format { magic: *b"PGSF", version: 1, bits: BITS as u8 };
const ORDER1: usize = SYMBOLS * SYMBOLS;

/// The symbol of a byte; None for UTF-8 continuation bytes (a character is one symbol).
#[inline]
pub const fn symbol(b: u8) -> Option<u8> {
    Some(match b {
        b'a'..=b'z' => b - b'a',
        b'A'..=b'Z' => b - b'A',
        b'0'..=b'9' => 26,
        0x21..=0x2f => 28 + (b - 0x21),
        0x3a..=0x40 => 43 + (b - 0x3a),
        0x5b..=0x60 => 50 + (b - 0x5b),
        0x7b..=0x7e => 56 + (b - 0x7b),
        0x80..=0xbf => return None,
        0xc0..=0xff => OTHER,
        b'\n' | b'\r' => NEWLINE,
        _ => SPACE,
    })
}

/// The key of a symbol after a context of three (each below 64).
#[inline]
pub const fn key(context: u32, next: u8) -> u32 {
    (context << 6) | next as u32
}

/// The context after `next`: the last three symbols.
#[inline]
pub const fn shift(context: u32, next: u8) -> u32 {
    ((context << 6) | next as u32) & 0x3_ffff
}

/// The context at the start of a text: three spaces.
pub const START: u32 = ((SPACE as u32) << 12) | ((SPACE as u32) << 6) | SPACE as u32;

/// The two slots a key may sit in, and its check byte.
#[inline]
pub const fn slots(key: u32) -> (usize, usize, u8) {
    let h = (key as u64 ^ 0x2545_f491_4f6c_dd1d).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let i = (h >> (64 - BITS)) as usize;
    (i, i ^ 1, (h >> 8) as u8)
}

/// The base letters of U+00C0..U+017F (Latin-1 Supplement letters and Latin Extended-A), `.`
/// for the two signs among them: accented Latin text reads as the words it is.
const LATIN: &[u8; 192] = b"aaaaaaaceeeeiiiidnooooo.ouuuuytsaaaaaaaceeeeiiiidnooooo.ouuuuyty\
aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiiijjkkklllllllllln\
nnnnnnnnoooooooorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// Call `f` with every symbol of `text` in order: a whitespace run is one line break if it holds
/// one, else one space; accented Latin letters are their base letter.
#[inline]
pub fn symbols(text: &str, mut f: impl FnMut(u8)) {
    // The pending whitespace: none, a space or a line break.
    let mut pending: Option<u8> = None;
    let mut started = false;
    // The lead byte of a character of U+00C0..U+017F, until its second byte.
    let mut lead = 0u8;
    for &b in text.as_bytes() {
        let s = if lead != 0 {
            let at = usize::from(lead - 0xc3) * 64 + usize::from(b & 0x3f);
            lead = 0;
            LATIN.get(at).copied().and_then(symbol).unwrap_or(OTHER)
        } else if (0xc3..=0xc5).contains(&b) {
            lead = b;
            continue;
        } else {
            match symbol(b) {
                Some(s) => s,
                None => continue,
            }
        };
        if s == SPACE || s == NEWLINE {
            pending = Some(if s == NEWLINE || pending == Some(NEWLINE) { NEWLINE } else { SPACE });
            continue;
        }
        if let Some(w) = pending.take() {
            if started {
                f(w);
            }
        }
        started = true;
        f(s);
    }
}

/// The trained thresholds, in cost units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// The contrast (tail minus prefix mean cost) from which a tail is evidence.
    pub contrast: u16,
    /// The highest mean cost of an ordinary prefix.
    pub prefix: u16,
    /// The most a data symbol costs.
    pub data_cap: u16,
}

/// The candidate tail of one text with the largest contrast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// The tail's mean cost, in bits per symbol.
    pub tail_bits: f32,
    /// The mean cost of the text before it, in bits per symbol.
    pub prefix_bits: f32,
}

impl Finding {
    /// How much costlier the suffix is than the request before it, in bits per symbol: the
    /// detector's statistic.
    pub fn contrast(self) -> f32 {
        self.tail_bits - self.prefix_bits
    }
}

/// The compiled model: thresholds, order-1 costs and the hashed order-3 slots.
#[derive(Debug, Clone, Copy)]
pub struct SuffixModel<'a> {
    pub thresholds: Thresholds,
    order1: &'a [u8],
    slots: &'a [u8],
}

impl<'a> SuffixModel<'a> {
    /// Read a model file; None when it is not one (wrong magic, version or length).
    pub fn parse(bytes: &'a [u8]) -> Option<SuffixModel<'a>> {
        let mut fields = FORMAT.read(bytes)?;
        let thresholds = Thresholds { contrast: fields.u16()?, prefix: fields.u16()?, data_cap: fields.u16()? };
        let _max_cost = fields.u16()?;
        let order1 = fields.bytes(ORDER1)?;
        let slots = fields.rest_of_len(2 * SLOTS)?;
        Some(SuffixModel { thresholds, order1, slots })
    }

    /// The compiled-in model (None if the committed file is not a model: no evidence then).
    pub fn compiled() -> Option<SuffixModel<'static>> {
        SuffixModel::parse(MODEL)
    }

    #[inline]
    fn stored(&self, key: u32) -> Option<u8> {
        let (a, b, check) = slots(key);
        for i in [a, b] {
            if let Some(&[c, cost]) = self.slots.get(2 * i..2 * i + 2) {
                if c == check && cost != 0 {
                    return Some(cost);
                }
            }
        }
        None
    }

    /// The cost of `next` after `context`, in cost units.
    #[inline]
    pub fn cost(&self, context: u32, next: u8) -> u32 {
        if let Some(c) = self.stored(key(context, next)) {
            return u32::from(c);
        }
        let escape = self.stored(key(context, ESCAPE)).map_or(0, u32::from);
        let last = (context & 0x3f) as usize;
        escape + self.order1.get(last * SYMBOLS + usize::from(next)).map_or(255, |&c| u32::from(c))
    }

    /// Call `f` with every symbol of `text` and its cost; the symbols of a run without a space
    /// longer than `DATA_RUN` cost at most the data cap (the run is held until it ends or is
    /// that long: a fixed buffer).
    #[inline]
    pub fn costs(&self, text: &str, mut f: impl FnMut(u8, u32)) {
        let mut context = START;
        let cap = u32::from(self.thresholds.data_cap);
        let mut run = [(0u8, 0u32); DATA_RUN];
        let mut held = 0usize;
        let mut data = false;
        symbols(text, |s| {
            let c = self.cost(context, s);
            context = shift(context, s);
            if s == SPACE || s == NEWLINE {
                for &(hs, hc) in run.iter().take(held) {
                    f(hs, hc);
                }
                held = 0;
                data = false;
                f(s, c);
            } else if data {
                f(s, c.min(cap));
            } else if held < DATA_RUN {
                if let Some(slot) = run.get_mut(held) {
                    *slot = (s, c);
                }
                held += 1;
            } else {
                for &(hs, hc) in run.iter().take(held) {
                    f(hs, hc.min(cap));
                }
                held = 0;
                data = true;
                f(s, c.min(cap));
            }
        });
        for &(hs, hc) in run.iter().take(held) {
            f(hs, hc);
        }
    }

    /// The mean cost of the symbols of `text`, in bits (0 for an empty text).
    pub fn mean_bits(&self, text: &str) -> f32 {
        let (mut n, mut total) = (0u64, 0u64);
        self.costs(text, |_, c| {
            n += 1;
            total += u64::from(c);
        });
        #[allow(clippy::cast_precision_loss)]
        let mean = if n == 0 { 0.0 } else { total as f32 / (n as f32 * COST_UNIT) };
        mean
    }

    /// The costliest tail of `text` that may be a suffix, whatever its cost: a split point
    /// within the last `MAX_SUFFIX` symbols leaving at least `MIN_SUFFIX` symbols on one line
    /// after it and at least `MIN_PREFIX` before it whose mean cost is at most the prefix
    /// threshold; the tail with the highest mean cost.
    pub fn top(&self, text: &str) -> Option<Finding> {
        // The cost of the symbols before each of the last MAX_SUFFIX positions.
        let mut before = [0u64; MAX_SUFFIX];
        let mut n = 0usize;
        let mut total = 0u64;
        // One past the last line break, and the cost of the symbols before it.
        let mut line_start = 0usize;
        let mut line_start_total = 0u64;
        self.costs(text, |s, c| {
            if let Some(slot) = before.get_mut(n % MAX_SUFFIX) {
                *slot = total;
            }
            total += u64::from(c);
            n += 1;
            if s == NEWLINE {
                line_start = n;
                line_start_total = total;
            }
        });
        let prefix_limit = u64::from(self.thresholds.prefix);
        let first = MIN_PREFIX.max(line_start + MIN_LINE_PREFIX).max(n.saturating_sub(MAX_SUFFIX - 1));
        let mut best: Option<Finding> = None;
        for split in first..=n.saturating_sub(MIN_SUFFIX) {
            let prefix = before.get(split % MAX_SUFFIX).copied().unwrap_or(u64::MAX);
            // The request's own line before the split must be ordinary too.
            let on_line = prefix.saturating_sub(line_start_total);
            if prefix > prefix_limit * split as u64 || on_line > prefix_limit * (split - line_start) as u64 {
                continue;
            }
            #[allow(clippy::cast_precision_loss)]
            let f = Finding {
                tail_bits: (total - prefix) as f32 / ((n - split) as f32 * COST_UNIT),
                prefix_bits: prefix as f32 / (split as f32 * COST_UNIT),
            };
            if best.is_none_or(|b| f.contrast() > b.contrast()) {
                best = Some(f);
            }
        }
        best
    }

    /// The tail of `text` that is evidence, if any: the `top` tail at or above the threshold.
    pub fn scan(&self, text: &str) -> Option<Finding> {
        self.top(text).filter(|f| f.contrast() * COST_UNIT >= f32::from(self.thresholds.contrast))
    }

    /// The evidence weight of a finding: `MIN_WEIGHT` at the threshold, rising with each bit per
    /// symbol above it, at most `MAX_WEIGHT`.
    pub fn weight_of(&self, finding: Finding) -> f32 {
        let above = finding.contrast() - f32::from(self.thresholds.contrast) / COST_UNIT;
        (MIN_WEIGHT + 0.15 * above.max(0.0)).min(MAX_WEIGHT)
    }

    /// Add the detector's evidence about `text` to `report`.
    pub fn add_evidence(&self, text: &str, report: &mut ThreatReport) {
        if let Some(f) = self.scan(text) {
            report.add(ID, CATEGORY, self.weight_of(f));
        }
    }
}

/// Write a model file.
pub fn serialise(thresholds: Thresholds, max_cost: u16, order1: &[u8], slots: &[u8]) -> Vec<u8> {
    FORMAT
        .writer(2 * 4 + order1.len() + slots.len())
        .u16(thresholds.contrast)
        .u16(thresholds.prefix)
        .u16(thresholds.data_cap)
        .u16(max_cost)
        .bytes(order1)
        .bytes(slots)
        .finish()
}
