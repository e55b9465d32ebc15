//! Training the suffix model: counts of every symbol after its three predecessors and after its
//! one predecessor, turned into quantised costs. Deterministic: the same texts in the same order
//! give the same bytes. Used by `make train-suffix` (the `train_suffix` binary) and by `make eval`.
//!
//! Order 3 (PPM method C): a symbol seen `n` times after a context seen `total` times with
//! `distinct` different successors costs `-log2(n / (total + distinct))`; the escape costs
//! `-log2(distinct / (total + distinct))`, then the order-1 cost, `-log2((n + 1/2) / (total +
//! SYMBOLS / 2))`. Pairs seen once are left to the escape (they would fill the table with
//! noise); contexts seen once have no stored escape.

use std::collections::HashMap;

use super::{key, serialise, shift, slots, symbols, Thresholds, COST_UNIT, ESCAPE, SLOTS, START, SYMBOLS};

/// The counts of a training corpus.
#[derive(Debug, Clone)]
pub struct Counts {
    order3: HashMap<u32, u32>,
    order1: Vec<u32>,
}

impl Default for Counts {
    fn default() -> Self {
        Counts { order3: HashMap::new(), order1: vec![0; SYMBOLS * SYMBOLS] }
    }
}

/// A pair's count from which it is stored.
pub const MIN_PAIR_COUNT: u32 = 2;

fn quantise(bits: f64) -> u8 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let c = (bits * f64::from(COST_UNIT)).round().clamp(1.0, 255.0) as u8;
    c
}

impl Counts {
    /// Count one text.
    pub fn add(&mut self, text: &str) {
        let mut context = START;
        symbols(text, |s| {
            *self.order3.entry(key(context, s)).or_insert(0) += 1;
            let last = (context & 0x3f) as usize;
            if let Some(c) = self.order1.get_mut(last * SYMBOLS + usize::from(s)) {
                *c += 1;
            }
            context = shift(context, s);
        });
    }

    /// The quantised model with these thresholds.
    pub fn model(&self, thresholds: Thresholds) -> Vec<u8> {
        let mut order1 = vec![0u8; SYMBOLS * SYMBOLS];
        for last in 0..SYMBOLS {
            let row = self.order1.get(last * SYMBOLS..(last + 1) * SYMBOLS).unwrap_or(&[]);
            let total: u32 = row.iter().sum();
            for (next, &n) in row.iter().enumerate() {
                let p = (f64::from(n) + 0.5) / (f64::from(total) + SYMBOLS as f64 / 2.0);
                if let Some(c) = order1.get_mut(last * SYMBOLS + next) {
                    *c = quantise(-p.log2());
                }
            }
        }
        // Per context: total and distinct successors.
        let mut contexts: HashMap<u32, (u32, u32)> = HashMap::new();
        for (&k, &n) in &self.order3 {
            let e = contexts.entry(k >> 6).or_insert((0, 0));
            e.0 += n;
            e.1 += 1;
        }
        // (count, key, cost) of every entry to store; the most frequent are placed first.
        let mut entries: Vec<(u32, u32, u8)> = Vec::new();
        for (&k, &n) in &self.order3 {
            if n < MIN_PAIR_COUNT {
                continue;
            }
            let (total, distinct) = contexts.get(&(k >> 6)).copied().unwrap_or((n, 1));
            entries.push((n, k, quantise(-(f64::from(n) / f64::from(total + distinct)).log2())));
        }
        for (&context, &(total, distinct)) in &contexts {
            if total < 2 {
                continue;
            }
            let p = f64::from(distinct) / f64::from(total + distinct);
            entries.push((total, key(context, ESCAPE), quantise(-p.log2())));
        }
        entries.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut table = vec![0u8; 2 * SLOTS];
        for (_, k, cost) in entries {
            let (a, b, check) = slots(k);
            for i in [a, b] {
                if table.get(2 * i + 1) == Some(&0) {
                    if let Some(pair) = table.get_mut(2 * i..2 * i + 2) {
                        pair.copy_from_slice(&[check, cost]);
                    }
                    break;
                }
            }
        }
        serialise(thresholds, 255, &order1, &table)
    }
}

/// The share of each benign group the detector may flag when its threshold is chosen.
pub const BENIGN_BUDGET: f64 = 0.003;
