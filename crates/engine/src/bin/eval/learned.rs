//! The learned model measured per source: rules alone, the model alone and both combined, with
//! the model's headline figures leave-one-source-out (for each training source, a model trained
//! without it, and without any text equal to one of its texts, scored on it). The shipped model's
//! figures are beside them: in-sample on the training sources (the developer traffic's half B is
//! held out), out-of-source on the web payload files, which no model is trained on.
//! `harmful_request` rows are reported apart.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use prompt_guard_engine::config::threats::ThreatsConfig;
use prompt_guard_engine::threat::model::train::{fit, threshold, Example, Settings};
use prompt_guard_engine::threat::model::Kind;
use prompt_guard_engine::threat::model::{self, Model};
use prompt_guard_engine::threat::normalise::normalise;
use prompt_guard_engine::threat::{Action, Source, ThreatPolicy, ThreatReport};

#[path = "../train/data.rs"]
#[allow(dead_code)]
mod data;

/// Detections of one group of rows under each way of deciding.
#[derive(Default, Clone, Copy)]
struct Tally {
    attacks: usize,
    benign: usize,
    /// Flagged or blocked: rules, model (LOSO), rules + model (LOSO), model (shipped),
    /// rules + model (shipped), and the LOSO model asked about every text (without the rules'
    /// corroboration the scanner requires).
    hits: [usize; 6],
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "-".to_string()
    } else {
        #[allow(clippy::cast_precision_loss)]
        let p = 100.0 * n as f64 / d as f64;
        format!("{p:.1}%")
    }
}

/// The evidence weight of a float model's score over a threshold, as the shipped model gives it.
fn weight(score: f32, t: f32) -> Option<f32> {
    (score >= t).then(|| (1.0 / (1.0 + (t - score).exp())).min(model::MAX_WEIGHT))
}

fn decide(policy: &ThreatPolicy, rules: &ThreatReport, source: Source, w: Option<f32>) -> (bool, bool) {
    // As in the scanner: the model speaks only beside the rules' evidence of an attack on the model.
    let w = w.filter(|_| model::corroborates(rules, source));
    let model_alone = w.is_some();
    let mut report = rules.clone();
    if let Some(w) = w {
        report.add(model::ID, model::CATEGORY, w);
    }
    (model_alone, policy.decide(&report).action != Action::Allow)
}

/// Print the tables; false when the data could not be read.
pub fn run(dir: &Path, dev_dir: &Path) -> bool {
    let Ok(compiled) = ThreatsConfig::default().compile() else {
        eprintln!("eval: the default threats configuration does not compile");
        return false;
    };
    let policy = compiled.policy;
    let scanner = compiled.scanner.with_learned_model(false);
    let Some(shipped) = Model::compiled() else {
        eprintln!("eval: the committed model weights do not parse");
        return false;
    };
    let Some(files) = crate::jsonl_files(dir) else { return false };
    let mut texts = Vec::new();
    for path in &files {
        let Some(rows) = data::read_injection(path) else {
            eprintln!("eval: cannot parse {}", path.display());
            return false;
        };
        texts.extend(rows);
    }
    let Some(docs) = data::read_injection(&data::llm_docs_path()) else {
        eprintln!("eval: cannot read {}", data::llm_docs_path().display());
        return false;
    };
    texts.extend(docs);
    let Some(dev) = data::read_dev(dev_dir) else {
        eprintln!("eval: cannot read {}", dev_dir.display());
        return false;
    };
    texts.extend(dev);
    let words: Vec<String> = texts.iter().map(|t| normalise(&t.text).words).collect();
    let examples: Vec<Example> =
        texts.iter().zip(&words).map(|(t, w)| Example::new(w, t.attack, data::group_of(t))).collect();

    // Leave-one-source-out scores and thresholds for the training sources.
    let held_sources: Vec<&str> =
        data::TRAINING_FILES.iter().copied().chain([data::LLM_DOCS, data::DEV_TRAFFIC]).collect();
    let (loso, loso_thresholds) = leave_one_source_out(&texts, &examples, &held_sources);

    let mut per_group: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut harmful = Tally::default();
    let mut dev_b = Tally::default();
    for (i, (t, w)) in texts.iter().zip(&words).enumerate() {
        let rules = scanner.scan(&t.text, t.role);
        let rules_hit = policy.decide(&rules).action != Action::Allow;
        let shipped_w = shipped.weight_of(shipped.score(w));
        // Sources no model is trained on are out-of-source for the shipped model too.
        let loso_w = if held_sources.contains(&t.source.as_str()) { loso.get(i).copied().flatten() } else { shipped_w };
        let (m_loso, c_loso) = decide(&policy, &rules, t.role, loso_w);
        let (m_ship, c_ship) = decide(&policy, &rules, t.role, shipped_w);
        let hits = [rules_hit, m_loso, c_loso, m_ship, c_ship, loso_w.is_some()];
        let group = t.category.split(':').next().unwrap_or("").to_string();
        let group = if t.source == data::DEV_TRAFFIC || group == "benign" { t.category.clone() } else { group };
        let mut tallies: Vec<&mut Tally> = Vec::new();
        let mut extra = [Tally::default(); 2];
        if t.harmful() {
            tallies.push(&mut harmful);
        } else {
            if t.half_b {
                tallies.push(&mut dev_b);
            }
            let [a, b] = &mut extra;
            tallies.push(a);
            tallies.push(b);
        }
        for tally in tallies {
            tally.attacks += usize::from(t.attack);
            tally.benign += usize::from(!t.attack);
            for (n, h) in tally.hits.iter_mut().zip(hits) {
                *n += usize::from(h);
            }
        }
        if !t.harmful() {
            let [a, b] = extra;
            add(per_group.entry((t.source.clone(), "(all)".to_string())).or_default(), a);
            add(per_group.entry((t.source.clone(), group)).or_default(), b);
        }
    }

    println!("\n## Learned model (PG-JB-900): rules alone, model alone, rules + model, per source");
    println!(
        "\nRecall on attack rows, flagged-or-blocked rate on benign rows. LOSO: the model trained without that source \
         (threshold chosen on the benign rows of the other sources); shipped: the committed model (in-sample on the \
         training sources except dev_traffic half B; the web files are never trained on, so both columns are out-of-source there). \
         The model speaks only beside the rules' evidence of an attack on the model, as in the scanner; the last column asks \
         the LOSO model about every text."
    );
    println!("\n| source | group | attacks | benign | rules | model LOSO | rules+model LOSO | model shipped | rules+model shipped | model LOSO, every text |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let cell = |t: &Tally, k: usize| -> String {
        let h = t.hits.get(k).copied().unwrap_or(0);
        if t.attacks > 0 && t.benign > 0 {
            // Mixed group: recall and false-positive rate cannot share one count.
            "mixed".to_string()
        } else if t.attacks > 0 {
            pct(h, t.attacks)
        } else {
            format!("FP {} ({h})", pct(h, t.benign))
        }
    };
    for ((source, group), t) in &per_group {
        if group == "(all)" && t.attacks > 0 && t.benign > 0 {
            continue;
        }
        let cells: Vec<String> = (0..6).map(|k| cell(t, k)).collect();
        println!("| {source} | {group} | {} | {} | {} |", t.attacks, t.benign, cells.join(" | "));
    }
    let cells: Vec<String> = (0..6).map(|k| cell(&dev_b, k)).collect();
    println!("| dev_traffic | half B (held out) | 0 | {} | {} |", dev_b.benign, cells.join(" | "));
    let cells: Vec<String> = (0..6).map(|k| pct(harmful.hits.get(k).copied().unwrap_or(0), harmful.attacks)).collect();
    println!("| xstest | harmful_request (not injections; apart) | {} | 0 | {} |", harmful.attacks, cells.join(" | "));
    println!(
        "\nLOSO thresholds (model score): {}",
        loso_thresholds.iter().map(|(s, t)| format!("{s} {t:.2}")).collect::<Vec<_>>().join(", ")
    );
    println!("shipped threshold: {:.2}", shipped.threshold);
    print_cost(&shipped, &scanner, &policy);
    if std::env::var("PG_EVAL_ABLATION").as_deref() == Ok("1") {
        print_ablation(&texts, &words, &examples, &held_sources, &loso);
    }
    true
}

/// For each held-out source, a model trained without it (and without its texts wherever they
/// occur): the evidence weight it gives each of the source's rows, and its threshold.
fn leave_one_source_out(
    texts: &[data::Text],
    examples: &[Example],
    held_sources: &[&str],
) -> (Vec<Option<f32>>, Vec<(String, f32)>) {
    let settings = Settings::default();
    let mut loso: Vec<Option<f32>> = vec![None; texts.len()];
    let mut thresholds = Vec::new();
    for held in held_sources {
        let held_texts: HashSet<&str> = texts.iter().filter(|t| t.source == *held).map(|t| t.text.as_str()).collect();
        let train: Vec<&Example> = texts
            .iter()
            .zip(examples)
            .filter(|(t, _)| t.source != *held && data::trainable(t) && !held_texts.contains(t.text.as_str()))
            .map(|(_, e)| e)
            .collect();
        let t = threshold(&train, settings);
        let m = fit(&train, settings);
        thresholds.push(((*held).to_string(), t));
        for (i, (text, ex)) in texts.iter().zip(examples).enumerate() {
            if text.source == *held {
                if let Some(slot) = loso.get_mut(i) {
                    *slot = weight(m.score(ex), t);
                }
            }
        }
    }
    (loso, thresholds)
}

/// `PG_EVAL_ABLATION=1`: the model alone, leave one source out, with every kind of feature, with
/// character n-grams only and with words and word pairs only. Reported, not used to choose: the
/// module keeps every kind.
fn print_ablation(
    texts: &[data::Text],
    words: &[String],
    examples: &[Example],
    held_sources: &[&str],
    all: &[Option<f32>],
) {
    let variants = [[Kind::Chars].as_slice(), [Kind::Words].as_slice()];
    let mut results: Vec<Vec<Option<f32>>> = vec![all.to_vec()];
    for kinds in variants {
        let ex: Vec<Example> =
            texts.iter().zip(words).map(|(t, w)| Example::of_kinds(w, t.attack, data::group_of(t), kinds)).collect();
        results.push(leave_one_source_out(texts, &ex, held_sources).0);
    }
    let _ = examples;
    println!("\n### Ablation: the model alone, leave one source out, by kind of feature\n");
    println!("| held-out source | attacks | benign | all kinds: recall, FP | character n-grams only | words and pairs only |");
    println!("|---|---:|---:|---:|---:|---:|");
    for held in held_sources {
        let rows: Vec<usize> =
            (0..texts.len()).filter(|&i| texts.get(i).is_some_and(|t| t.source == *held && !t.harmful())).collect();
        let attacks = rows.iter().filter(|&&i| texts.get(i).is_some_and(|t| t.attack)).count();
        let benign = rows.len() - attacks;
        let cells: Vec<String> = results
            .iter()
            .map(|r| {
                let hit = |attack: bool| {
                    rows.iter()
                        .filter(|&&i| texts.get(i).is_some_and(|t| t.attack == attack))
                        .filter(|&&i| r.get(i).copied().flatten().is_some())
                        .count()
                };
                format!("{}, FP {}", pct(hit(true), attacks), pct(hit(false), benign))
            })
            .collect();
        println!("| {held} | {attacks} | {benign} | {} |", cells.join(" | "));
    }
}

/// The model's cost on the fixed 1 KB benign prompt the injection report times, beside the cost
/// of scanning it with the rules: the words view is built by the scan already, so the model adds
/// its featuriser and weight lookups.
fn print_cost(model: &Model<'_>, scanner: &prompt_guard_engine::threat::ThreatScanner, policy: &ThreatPolicy) {
    let sentence = "The quarterly report shows that revenue grew in most regions while costs stayed flat. \
                    Please summarise the main drivers and list the risks the team should watch next quarter. ";
    let text: String = sentence.repeat(1024 / sentence.len() + 1).chars().take(1024).collect();
    let words = normalise(&text).words;
    let rounds = 2000u32;
    let start = std::time::Instant::now();
    let mut sink = 0.0f32;
    for _ in 0..rounds {
        sink += model.score(std::hint::black_box(&words));
    }
    let model_ns = start.elapsed().as_nanos() / u128::from(rounds);
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        let report = scanner.scan(std::hint::black_box(&text), prompt_guard_engine::threat::Source::User);
        sink += policy.decide(&report).score;
    }
    let rules_ns = start.elapsed().as_nanos() / u128::from(rounds);
    std::hint::black_box(sink);
    println!(
        "cost on the reference 1 KB benign prompt: model score {:.1} µs, rules scan + decide {:.1} µs (model off)",
        model_ns as f64 / 1000.0,
        rules_ns as f64 / 1000.0
    );
}

fn add(into: &mut Tally, from: Tally) {
    into.attacks += from.attacks;
    into.benign += from.benign;
    for (a, b) in into.hits.iter_mut().zip(from.hits) {
        *a += b;
    }
}
