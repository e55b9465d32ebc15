//! The learned attack model: a logistic regression over hashed character 3-, 4- and 5-grams and
//! word unigrams and bigrams of the words view (`normalise`), compiled in as quantised weights.
//!
//! The featuriser below is the only one: the trainer (`train`, run by `make train`) calls it on
//! the training texts, the scanner calls it on every scanned text, so the two cannot disagree.
//! It is one pass over the view's bytes with no allocation: the last five bytes sit in a shift
//! register, each n-gram ending at a byte is hashed with one multiplication, and each word's hash
//! is built as its bytes go by.
//!
//! The score is `bias + scale * sum(weights of the features) / sqrt(number of features)`; above
//! the threshold the trainer chose on benign data, the model reports evidence `PG-JB-900` in the
//! jailbreak category with the weight `sigmoid(score - threshold)` capped under the block
//! threshold. It is explained by its rule id only (hashed buckets cannot name the n-grams that
//! fired).
//!
//! The model corroborates, it does not accuse alone: it is asked only about a text in which the
//! rules found evidence of an attack on the model (a category that is neither a web payload nor
//! obfuscation; `corroborates`), however weak. Measured leave one source out, the model alone
//! flags 2 to 10% of benign sources it was not trained on (text about prompts and models reads
//! like the attacks it learned), while beside the rules' own evidence it adds under one point
//! (`docs/quality.md`). Ordinary traffic, where the rules find nothing, costs it nothing: the
//! text is not even featurised.

pub mod train;

use super::model_file::Format;
use super::normalise::normalise;
use super::score::ThreatReport;
use super::{Category, Source};

/// The rule id the model reports.
pub const ID: &str = "PG-JB-900";
/// Its category.
pub const CATEGORY: Category = Category::Jailbreak;
/// The highest weight the model gives alone: under the default block threshold (0.85).
pub const MAX_WEIGHT: f32 = 0.84;

/// log2 of the number of hash buckets.
pub const BITS: u32 = 16;
/// The number of hash buckets (one weight each).
pub const BUCKETS: usize = 1 << BITS;

/// The committed weights (`make train` writes them).
static WEIGHTS: &[u8] = include_bytes!("weights.bin");

/// The file's header: after it come scale, bias and threshold as f32, then the weights.
#[allow(clippy::cast_possible_truncation)]
const FORMAT: Format = Format { magic: *b"PGLM", version: 1, bits: BITS as u8 };

/// Multiplier of the bucket hash (the 64-bit golden ratio: Fibonacci hashing).
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;
/// Per-kind salts so that a 3-gram, a word and a bigram with equal bits land apart.
const SALT_GRAM: [u64; 6] = [0, 0, 0, 0x5bd1_e995_0000_0003, 0x1b87_3593_0000_0004, 0xcc9e_2d51_0000_0005];
const SALT_WORD: u64 = 0x85eb_ca6b_c2b2_ae35;
const SALT_BIGRAM: u64 = 0xc2b2_ae3d_27d4_eb4f;

#[inline]
fn bucket(x: u64, salt: u64) -> usize {
    // The top BITS bits of the product: < BUCKETS by construction.
    ((x ^ salt).wrapping_mul(MIX) >> (64 - BITS)) as usize
}

/// What a feature is: the trainer's ablations leave kinds out (the module uses every kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A character 3-, 4- or 5-gram.
    Chars,
    /// A word or a pair of words.
    Words,
}

/// Call `f` with the bucket of every feature of `words` (the words view of a text), repeats
/// included; returns how many there were.
#[inline]
pub fn features(words: &str, mut f: impl FnMut(usize)) -> u32 {
    features_of_kind(words, |b, _| f(b))
}

/// `features`, with each feature's kind.
#[inline]
pub fn features_of_kind(words: &str, mut f: impl FnMut(usize, Kind)) -> u32 {
    let mut count = 0u32;
    // The view with one space before and after: n-grams see word starts and ends.
    let mut reg: u64 = u64::from(b' ');
    let mut seen: u32 = 1;
    let mut word: u64 = 0xcbf2_9ce4_8422_2325;
    let mut in_word = false;
    let mut prev_word: Option<u64> = None;
    for &b in words.as_bytes().iter().chain(std::iter::once(&b' ')) {
        reg = (reg << 8) | u64::from(b);
        seen += 1;
        for n in 3..=5usize {
            if seen as usize >= n {
                let gram = reg & ((1u64 << (8 * n)) - 1);
                f(bucket(gram, SALT_GRAM.get(n).copied().unwrap_or(0)), Kind::Chars);
                count += 1;
            }
        }
        if b == b' ' {
            if in_word {
                f(bucket(word, SALT_WORD), Kind::Words);
                count += 1;
                if let Some(p) = prev_word {
                    f(bucket(p.rotate_left(31) ^ word, SALT_BIGRAM), Kind::Words);
                    count += 1;
                }
                prev_word = Some(word);
            }
            word = 0xcbf2_9ce4_8422_2325;
            in_word = false;
        } else {
            word = (word ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            in_word = true;
        }
    }
    count
}

/// Quantised weights and their calibration.
#[derive(Debug, Clone, Copy)]
pub struct Model<'a> {
    scale: f32,
    bias: f32,
    /// The score from which the model reports evidence (chosen on benign data).
    pub threshold: f32,
    /// BUCKETS little-endian i16.
    weights: &'a [u8],
}

impl<'a> Model<'a> {
    /// Read a weights file; None when it is not one (wrong magic, version or length).
    pub fn parse(bytes: &'a [u8]) -> Option<Model<'a>> {
        let mut fields = FORMAT.read(bytes)?;
        let (scale, bias, threshold) = (fields.f32()?, fields.f32()?, fields.f32()?);
        let weights = fields.rest_of_len(BUCKETS * 2)?;
        Some(Model { scale, bias, threshold, weights })
    }

    /// The compiled-in model (None if the committed file is not a model: no evidence then).
    pub fn compiled() -> Option<Model<'static>> {
        Model::parse(WEIGHTS)
    }

    #[inline]
    fn weight(&self, i: usize) -> i32 {
        match self.weights.get(2 * i..2 * i + 2) {
            Some(&[lo, hi]) => i32::from(i16::from_le_bytes([lo, hi])),
            _ => 0,
        }
    }

    /// The model's score of a words view (a log-odds; comparable to `threshold`).
    pub fn score(&self, words: &str) -> f32 {
        let mut sum: i64 = 0;
        let n = features(words, |i| sum += i64::from(self.weight(i)));
        if n == 0 {
            return self.bias;
        }
        #[allow(clippy::cast_precision_loss)]
        let s = self.bias + self.scale * sum as f32 / (n as f32).sqrt();
        s
    }

    /// The evidence weight of a score: none under the threshold, else the logistic of the
    /// distance above it (0.5 at the threshold), at most `MAX_WEIGHT`.
    pub fn weight_of(&self, score: f32) -> Option<f32> {
        if score < self.threshold {
            return None;
        }
        Some((1.0 / (1.0 + (self.threshold - score).exp())).min(MAX_WEIGHT))
    }

    /// Add the model's evidence about `text` (from `source`) to the rules' `report` of it, when
    /// the rules found evidence it may corroborate (`corroborates`).
    pub fn add_evidence(&self, text: &str, source: Source, report: &mut ThreatReport) {
        if !corroborates(report, source) {
            return;
        }
        if let Some(w) = self.weight_of(self.score(&normalise(text).words)) {
            report.add(ID, CATEGORY, w);
        }
    }
}

/// Whether the rules' report of a text from `source` lets the model speak: some evidence, however
/// weak, in a category of attacks on the model (neither a web payload nor obfuscation, which the
/// model was not trained to judge). Indirect-injection phrasing counts only in data (a tool
/// result, a document): in the user's own message it is a request the user may make ("add a
/// summary at the end of your answer"), weighed low and never added up, and the model must not
/// turn it into a flag.
pub fn corroborates(report: &ThreatReport, source: Source) -> bool {
    Category::ALL.into_iter().any(|c| {
        c.is_about_the_model() && (c != Category::IndirectInjection || source.is_data()) && report.score(c) > 0.0
    })
}

/// Write a weights file.
pub fn serialise(scale: f32, bias: f32, threshold: f32, weights: &[i16]) -> Vec<u8> {
    let mut out = FORMAT.writer(4 * 3 + 2 * weights.len()).f32(scale).f32(bias).f32(threshold);
    for w in weights {
        out = out.bytes(&w.to_le_bytes());
    }
    out.finish()
}
