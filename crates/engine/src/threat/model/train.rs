//! Training the learned model: logistic regression by seeded stochastic gradient descent over
//! the features of `super::features`, deterministic for a given input order and seed. Used by
//! `make train` (the `train` binary) and by `make eval` (leave-one-source-out models).

use super::{features_of_kind, serialise, Kind, BUCKETS};

/// One training or test text: its features (bucket, count / sqrt(number of features)), label and
/// group (a source and label: every group weighs the same in training).
#[derive(Debug, Clone)]
pub struct Example {
    pub features: Vec<(u32, f32)>,
    pub label: bool,
    pub group: usize,
}

impl Example {
    /// Featurise a words view.
    pub fn new(words: &str, label: bool, group: usize) -> Example {
        Example::of_kinds(words, label, group, &[Kind::Chars, Kind::Words])
    }

    /// Featurise with only some kinds of features (an ablation; the module uses every kind).
    pub fn of_kinds(words: &str, label: bool, group: usize, kinds: &[Kind]) -> Example {
        let mut buckets: Vec<u32> = Vec::new();
        let mut n = 0u32;
        features_of_kind(words, |i, kind| {
            if kinds.contains(&kind) {
                buckets.push(i as u32);
                n += 1;
            }
        });
        buckets.sort_unstable();
        let mut out: Vec<(u32, f32)> = Vec::new();
        #[allow(clippy::cast_precision_loss)]
        let norm = 1.0 / (n.max(1) as f32).sqrt();
        for b in buckets {
            match out.last_mut() {
                Some((last, v)) if *last == b => *v += norm,
                _ => out.push((b, norm)),
            }
        }
        Example { features: out, label, group }
    }
}

/// Hyper-parameters, fixed: nothing is tuned on a test source.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub epochs: u32,
    pub learning_rate: f32,
    pub l2: f32,
    pub seed: u64,
    /// The share of each benign group the model may flag alone when its threshold is chosen.
    pub budget: f32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { epochs: 10, learning_rate: 0.3, l2: 1e-5, seed: 0x5eed_0016, budget: BENIGN_BUDGET }
    }
}

/// A trained model in full precision.
#[derive(Debug, Clone)]
pub struct Trained {
    pub weights: Vec<f32>,
    pub bias: f32,
}

impl Trained {
    pub fn score(&self, ex: &Example) -> f32 {
        self.bias
            + ex.features.iter().map(|&(i, v)| self.weights.get(i as usize).copied().unwrap_or(0.0) * v).sum::<f32>()
    }

    /// Quantise to i16 with one scale and write the weights file.
    pub fn to_bytes(&self, threshold: f32) -> Vec<u8> {
        let max = self.weights.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / f32::from(i16::MAX) } else { 1.0 };
        #[allow(clippy::cast_possible_truncation)]
        let q: Vec<i16> = self.weights.iter().map(|w| (w / scale).round().clamp(-32767.0, 32767.0) as i16).collect();
        serialise(scale, self.bias, threshold, &q)
    }
}

/// splitmix64: the seeded generator of the shuffles.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fit on `examples` (every group weighs the same in total).
pub fn fit(examples: &[&Example], settings: Settings) -> Trained {
    let groups = examples.iter().map(|e| e.group + 1).max().unwrap_or(0);
    let mut sizes = vec![0usize; groups];
    for e in examples {
        if let Some(s) = sizes.get_mut(e.group) {
            *s += 1;
        }
    }
    let present = sizes.iter().filter(|&&s| s > 0).count().max(1);
    #[allow(clippy::cast_precision_loss)]
    let group_weight: Vec<f32> =
        sizes.iter().map(|&s| if s == 0 { 0.0 } else { examples.len() as f32 / (present as f32 * s as f32) }).collect();
    let mut weights = vec![0.0f32; BUCKETS];
    let mut bias = 0.0f32;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut state = settings.seed;
    for epoch in 0..settings.epochs {
        // Fisher-Yates with the seeded generator.
        for i in (1..order.len()).rev() {
            #[allow(clippy::cast_possible_truncation)]
            let j = (next(&mut state) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        #[allow(clippy::cast_precision_loss)]
        let lr = settings.learning_rate / (1.0 + epoch as f32);
        for &k in &order {
            let Some(ex) = examples.get(k) else { continue };
            let margin = bias
                + ex.features.iter().map(|&(i, v)| weights.get(i as usize).copied().unwrap_or(0.0) * v).sum::<f32>();
            let p = 1.0 / (1.0 + (-margin).exp());
            let y = if ex.label { 1.0 } else { 0.0 };
            let g = (p - y) * group_weight.get(ex.group).copied().unwrap_or(1.0);
            for &(i, v) in &ex.features {
                if let Some(w) = weights.get_mut(i as usize) {
                    *w -= lr * (g * v + settings.l2 * *w);
                }
            }
            bias -= lr * g * 0.1;
        }
    }
    Trained { weights, bias }
}

/// The share of each benign group the model may flag alone when its threshold is chosen.
pub const BENIGN_BUDGET: f32 = 0.005;

/// Choose the threshold on benign data: two-fold cross-fitted scores of the training examples
/// (each half scored by a model trained on the other), and for each benign group the score that
/// at most `BENIGN_BUDGET` of it reaches; the threshold is the highest of these.
pub fn threshold(examples: &[&Example], settings: Settings) -> f32 {
    let (a, b): (Vec<&Example>, Vec<&Example>) = {
        let mut state = settings.seed ^ 0xf01d;
        let mut a = Vec::new();
        let mut b = Vec::new();
        for &e in examples {
            if next(&mut state) & 1 == 0 {
                a.push(e);
            } else {
                b.push(e);
            }
        }
        (a, b)
    };
    let on_a = fit(&b, settings);
    let on_b = fit(&a, settings);
    let mut per_group: std::collections::BTreeMap<usize, Vec<f32>> = std::collections::BTreeMap::new();
    for (model, part) in [(&on_a, &a), (&on_b, &b)] {
        for e in part.iter().filter(|e| !e.label) {
            per_group.entry(e.group).or_default().push(model.score(e));
        }
    }
    let mut t = f32::MIN;
    for scores in per_group.values_mut() {
        scores.sort_by(|x, y| y.total_cmp(x));
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let allowed = (scores.len() as f32 * settings.budget).floor() as usize;
        if let Some(&s) = scores.get(allowed) {
            t = t.max(s + 1e-3);
        }
    }
    if t == f32::MIN {
        0.0
    } else {
        t
    }
}
