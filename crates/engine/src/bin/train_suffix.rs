//! `make train-suffix`: train the adversarial-suffix model (`threat::suffix`) and write it into the
//! engine's source (`crates/engine/src/threat/suffix/model.bin`), with its inputs and their hashes
//! (`inputs.txt` beside it). Deterministic: the same inputs give the same bytes.
//!
//! Usage: `train_suffix [DIR [DEV_DIR [SUFFIX_DIR [OUT_DIR]]]]`: DIR holds `injection/` (default
//! `../shared/eval`), DEV_DIR the developer-traffic corpus (default `eval/dev_traffic`),
//! SUFFIX_DIR the suffix data (default `eval/suffix`).
//!
//! Training text, all benign: half A of the developer-traffic corpus, the even half (FNV-1a
//! parity) of the self-instruct prompts and of the BIPIA benign contexts, and the non-English
//! messages of `train_nonenglish.jsonl`. The thresholds are chosen on the same groups, each
//! half scored by a model counted on the other half:
//! - `prefix`: the 95th percentile of the mean cost of a self-instruct prompt (ordinary requests);
//! - `data_cap`: the same figure (a data symbol costs what an ordinary one may);
//! - `contrast`: the lowest contrast (a tail's mean cost minus its request's, see
//!   `threat::suffix`) that at most `BENIGN_BUDGET` of the texts of every group reach.
//!
//! `train_suffix --profile FILE...` prints quantiles of the contrast of each file's texts under
//! the committed model (`SHOW=1` adds the tails of the highest); `train_suffix --cost N` runs the
//! detector N times over a fixed 1 KB prompt, for callgrind (`docs/performance.md`).

#[allow(dead_code)]
#[path = "train/data.rs"]
mod data;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use prompt_guard_engine::threat::suffix::train::{Counts, BENIGN_BUDGET};
use prompt_guard_engine::threat::suffix::{SuffixModel, Thresholds, COST_UNIT};

/// One training text and its group.
struct Sample {
    text: String,
    group: String,
}

/// The training texts and the manifest lines of their files.
fn samples(dir: &Path, dev_dir: &Path, suffix_dir: &Path, manifest: &mut String) -> Option<Vec<Sample>> {
    let mut out = Vec::new();
    for name in ["benign_self_instruct_dev", "bipia"] {
        let path = dir.join("injection").join(format!("{name}.jsonl"));
        let bytes = fs::read(&path).ok()?;
        let rows = data::read_injection(&path)?;
        let _ = writeln!(manifest, "injection/{name}.jsonl {} {:016x}", rows.len(), data::file_hash(&bytes));
        out.extend(
            rows.into_iter()
                .filter(|t| !t.attack && !data::in_half_b(&t.text))
                .map(|t| Sample { text: t.text, group: name.to_string() }),
        );
    }
    let dev = data::read_dev(dev_dir)?;
    let dev_hash = dev.iter().fold(0u64, |h, t| h.rotate_left(5) ^ data::file_hash(t.text.as_bytes()));
    let _ = writeln!(manifest, "dev_traffic (half A trained on) {} {dev_hash:016x}", dev.len());
    out.extend(dev.into_iter().filter(|t| !t.half_b).map(|t| Sample { text: t.text, group: t.category }));
    let path = suffix_dir.join("train_nonenglish.jsonl");
    let bytes = fs::read(&path).ok()?;
    let rows = data::read_injection(&path)?;
    let _ = writeln!(manifest, "suffix/train_nonenglish.jsonl {} {:016x}", rows.len(), data::file_hash(&bytes));
    out.extend(rows.into_iter().map(|t| Sample { text: t.text, group: "nonenglish".to_string() }));
    Some(out)
}

/// The `q` quantile of `values` (sorted in place).
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((values.len() as f64 - 1.0) * q).round() as usize;
    values.get(i).copied().unwrap_or(0.0)
}

/// How many times a non-English text counts: there is far less of it than of English.
const NON_ENGLISH_WEIGHT: usize = 2;

fn add(counts: &mut Counts, s: &Sample) {
    let times = if s.group == "nonenglish" { NON_ENGLISH_WEIGHT } else { 1 };
    for _ in 0..times {
        counts.add(&s.text);
    }
}

/// A model counted on the samples of one half (by the parity of a second hash bit).
fn half_model(all: &[Sample], half: u64, thresholds: Thresholds) -> Vec<u8> {
    let mut counts = Counts::default();
    for s in all.iter().filter(|s| (data::file_hash(s.text.as_bytes()) >> 1) & 1 == half) {
        add(&mut counts, s);
    }
    counts.model(thresholds)
}

/// Score every sample with the model counted on the other half.
fn cross_fitted<T>(
    all: &[Sample],
    thresholds: Thresholds,
    mut f: impl FnMut(&Sample, &SuffixModel<'_>) -> T,
) -> Vec<T> {
    let models = [half_model(all, 1, thresholds), half_model(all, 0, thresholds)];
    let mut out = Vec::with_capacity(all.len());
    for s in all {
        let half = ((data::file_hash(s.text.as_bytes()) >> 1) & 1) as usize;
        let Some(model) = models.get(half).and_then(|b| SuffixModel::parse(b)) else { continue };
        out.push(f(s, &model));
    }
    out
}

/// `train_suffix --profile FILE...`: per file, the 10th, 25th, 50th, 75th, 90th and 99th
/// percentiles of the texts' contrast under the committed model.
fn profile_files(paths: &[String]) {
    let Some(model) = SuffixModel::compiled() else { return };
    for p in paths {
        let Some(rows) = data::read_injection(Path::new(p)) else { continue };
        let mut tops: Vec<f64> =
            rows.iter().map(|r| model.top(&r.text).map_or(0.0, |f| f64::from(f.contrast()))).collect();
        let qs: Vec<String> =
            [0.1, 0.25, 0.5, 0.75, 0.9, 0.99].iter().map(|&q| format!("{:.2}", quantile(&mut tops, q))).collect();
        println!("{p}: {}", qs.join(" "));
        if std::env::var("SHOW").is_ok() {
            let mut scored: Vec<(f32, &str)> =
                rows.iter().map(|r| (model.top(&r.text).map_or(0.0, |f| f.contrast()), r.text.as_str())).collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (s, t) in scored.iter().take(6) {
                let tail: String = t.chars().rev().take(150).collect::<Vec<_>>().into_iter().rev().collect();
                println!("  {s:.2} {tail:?}");
            }
        }
    }
}

/// Run the committed detector N times over a fixed 1 KB prompt (see the module doc).
fn cost(n: usize) {
    let sentence = "The quarterly report shows that revenue grew in most regions while costs stayed flat. \
                    Please summarise the main drivers and list the risks the team should watch next quarter. ";
    let text: String = sentence.repeat(1024 / sentence.len() + 1).chars().take(1024).collect();
    let Some(model) = SuffixModel::compiled() else {
        eprintln!("train_suffix: the committed model does not load");
        std::process::exit(1);
    };
    let mut found = 0usize;
    for _ in 0..n {
        found += usize::from(model.scan(std::hint::black_box(text.as_str())).is_some());
    }
    std::hint::black_box(found);
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--cost") {
        cost(std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(1000));
        return;
    }
    if std::env::args().nth(1).as_deref() == Some("--profile") {
        profile_files(&std::env::args().skip(2).collect::<Vec<_>>());
        return;
    }
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let arg = |n: usize| std::env::args().nth(n).map(PathBuf::from);
    let dir = arg(1).unwrap_or_else(|| PathBuf::from("../shared/eval"));
    let dev_dir = arg(2).unwrap_or_else(|| root.join("eval").join("dev_traffic"));
    let suffix_dir = arg(3).unwrap_or_else(|| root.join("eval").join("suffix"));
    let out_dir = arg(4).unwrap_or_else(|| root.join("crates/engine/src/threat/suffix"));
    let mut manifest =
        String::from("# The suffix model's training inputs: file, rows, FNV-1a-64 of the file's bytes\n");
    let Some(all) = samples(&dir, &dev_dir, &suffix_dir, &mut manifest) else {
        eprintln!("train_suffix: cannot read the training data");
        std::process::exit(2);
    };
    let open = Thresholds { contrast: u16::MAX, prefix: u16::MAX, data_cap: u16::MAX };
    // The prefix threshold: ordinary requests' mean cost.
    let mut means: Vec<f64> =
        cross_fitted(&all, open, |s, m| (s.group.clone(), f64::from(m.mean_bits(&s.text) * COST_UNIT)))
            .into_iter()
            .filter(|(g, _)| g == "benign_self_instruct_dev")
            .map(|(_, mean)| mean)
            .collect();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let prefix = quantile(&mut means, 0.95).ceil() as u16;
    let capped = Thresholds { contrast: u16::MAX, prefix, data_cap: prefix };
    // The contrast threshold: per group, the contrast at most BENIGN_BUDGET of it reaches.
    let mut per_group: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (group, top) in cross_fitted(&all, capped, |s, m| {
        (s.group.clone(), m.top(&s.text).map_or(0.0, |f| f64::from(f.contrast() * COST_UNIT)))
    }) {
        per_group.entry(group).or_default().push(top);
    }
    let mut contrast = 0.0f64;
    let _ = writeln!(manifest, "# group: texts, contrast reached by the budget (bits per symbol)");
    for (group, tops) in &mut per_group {
        let q = quantile(tops, 1.0 - BENIGN_BUDGET);
        let _ = writeln!(manifest, "# {group}: {} {:.3}", tops.len(), q / f64::from(COST_UNIT));
        contrast = contrast.max(q);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let thresholds = Thresholds { contrast: contrast.ceil() as u16 + 1, prefix, data_cap: prefix };
    let mut counts = Counts::default();
    for s in &all {
        add(&mut counts, s);
    }
    let bytes = counts.model(thresholds);
    let _ = writeln!(
        manifest,
        "# {} texts; thresholds (bits per symbol): contrast {:.3}, prefix {:.3}, data cap {:.3}; model FNV-1a-64 {:016x}",
        all.len(),
        f32::from(thresholds.contrast) / COST_UNIT,
        f32::from(thresholds.prefix) / COST_UNIT,
        f32::from(thresholds.data_cap) / COST_UNIT,
        data::file_hash(&bytes)
    );
    if fs::write(out_dir.join("model.bin"), &bytes).is_err()
        || fs::write(out_dir.join("inputs.txt"), &manifest).is_err()
    {
        eprintln!("train_suffix: cannot write into {}", out_dir.display());
        std::process::exit(1);
    }
    print!("{manifest}");
}
