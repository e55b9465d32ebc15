//! The adversarial-suffix detector (`PG-JB-910`) measured: on the generated suffix attacks and
//! benign classes of `eval/suffix` (built by `scripts/build_suffix_corpus.py`), and on every
//! benign set of the attack data and the developer-traffic corpus.
//!
//! Columns: the detector alone (every row read as a user's text, the strictest reading), and the
//! default pipeline's flagged-or-blocked rate with the detector off and on (each row in its own
//! role: the detector reads only users' texts). `train_nonenglish.jsonl` is training text and
//! is not measured; the developer traffic's half A and the self-instruct and BIPIA even halves
//! were trained on (the `held out` rows are the other halves). Set `PG_EVAL_SHOW=fp` to list the
//! generated benign rows the pipeline flags with the detector off, with their rule ids, on stderr.

use std::path::Path;

use prompt_guard_engine::config::threats::ThreatsConfig;
use prompt_guard_engine::threat::suffix::SuffixModel;
use prompt_guard_engine::threat::{Action, Source, ThreatPolicy, ThreatScanner};

// The same reader as `learned` (its module is private to it).
#[path = "../train/data.rs"]
#[allow(dead_code, clippy::duplicate_mod)]
mod data;

/// Flagged-or-blocked budget of a benign set, in per mille.
const BENIGN_BUDGET_PER_MILLE: usize = 10;

#[derive(Default, Clone, Copy)]
struct Tally {
    rows: usize,
    alone: usize,
    off: usize,
    on: usize,
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        return "-".to_string();
    }
    #[allow(clippy::cast_precision_loss)]
    let p = 100.0 * n as f64 / d as f64;
    format!("{p:.1}%")
}

struct Judges<'a> {
    model: SuffixModel<'a>,
    policy: ThreatPolicy,
    off: ThreatScanner,
    on: ThreatScanner,
    /// List the rows the pipeline flags with the detector off (`PG_EVAL_SHOW=fp`), on stderr.
    show_fp: bool,
}

impl Judges<'_> {
    fn count(&self, tally: &mut Tally, text: &str, role: Source) {
        let flagged = |s: &ThreatScanner| self.policy.decide(&s.scan(text, role)).action != Action::Allow;
        if self.show_fp {
            let verdict = self.policy.decide(&self.off.scan(text, role));
            if verdict.action != Action::Allow {
                let preview: String = text.chars().take(240).collect::<String>().replace('\n', " ");
                eprintln!("{:.2}\t{:?}\t{preview}", verdict.score, verdict.rule_ids);
            }
        }
        tally.rows += 1;
        tally.alone += usize::from(self.model.scan(text).is_some());
        tally.off += usize::from(flagged(&self.off));
        tally.on += usize::from(flagged(&self.on));
    }
}

fn line(name: &str, t: Tally, benign: bool) -> String {
    let over = benign && t.alone * 1000 > t.rows * BENIGN_BUDGET_PER_MILLE;
    format!(
        "| {name} | {} | {} | {} | {}{} |",
        t.rows,
        pct(t.alone, t.rows),
        pct(t.off, t.rows),
        pct(t.on, t.rows),
        if over { " (detector over 1%)" } else { "" }
    )
}

/// Print the tables; false when the data could not be read.
pub fn run(dir: &Path, dev_dir: &Path, suffix_dir: &Path) -> bool {
    let (Ok(compiled), Ok(other), Some(model)) =
        (ThreatsConfig::default().compile(), ThreatsConfig::default().compile(), SuffixModel::compiled())
    else {
        eprintln!("eval: the default threats configuration or the suffix model does not load");
        return false;
    };
    let mut judges = Judges {
        model,
        policy: compiled.policy,
        off: other.scanner.with_suffix_detector(false),
        on: compiled.scanner.with_suffix_detector(true),
        show_fp: false,
    };
    let show_fp = std::env::var("PG_EVAL_SHOW").as_deref() == Ok("fp");
    let header =
        "| set | rows | detector alone | pipeline, detector off | pipeline, detector on |\n|---|---:|---:|---:|---:|";
    println!("\n## Adversarial suffixes (PG-JB-910)\n");
    println!(
        "Contrast threshold {:.2} bits per character (tail minus request), after a request of at most {:.2}.\n",
        f32::from(model.thresholds.contrast) / 16.0,
        f32::from(model.thresholds.prefix) / 16.0
    );
    println!("Generated sets (`eval/suffix`): suffix attacks (recall) and benign classes (false positives).\n");
    println!("{header}");
    let Some(files) = crate::jsonl_files(suffix_dir) else { return false };
    for path in files.iter().filter(|p| !p.ends_with("train_nonenglish.jsonl")) {
        let Some(rows) = data::read_injection(path) else {
            eprintln!("eval: cannot parse {}", path.display());
            return false;
        };
        let mut t = Tally::default();
        let attack = rows.iter().any(|r| r.attack);
        judges.show_fp = show_fp && !attack;
        if judges.show_fp {
            eprintln!("# {}", path.display());
        }
        for r in &rows {
            judges.count(&mut t, &r.text, Source::User);
        }
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        println!("{}", line(&format!("{}{stem}", if attack { "attack: " } else { "" }), t, !attack));
    }
    judges.show_fp = false;
    println!("\nBenign sets of the attack data and the developer traffic (each row in its role).\n");
    println!("{header}");
    let Some(files) = crate::jsonl_files(dir) else { return false };
    for path in &files {
        let Some(rows) = data::read_injection(path) else {
            eprintln!("eval: cannot parse {}", path.display());
            return false;
        };
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let trained = stem == "benign_self_instruct_dev" || stem == "bipia";
        let mut all = Tally::default();
        let mut held = Tally::default();
        for r in rows.iter().filter(|r| !r.attack) {
            judges.count(&mut all, &r.text, r.role);
            if trained && data::in_half_b(&r.text) {
                judges.count(&mut held, &r.text, r.role);
            }
        }
        if all.rows > 0 {
            println!("{}", line(&stem, all, true));
        }
        if trained {
            println!("{}", line(&format!("{stem} (held out)"), held, true));
        }
    }
    let Some(dev) = data::read_dev(dev_dir) else {
        eprintln!("eval: cannot read {}", dev_dir.display());
        return false;
    };
    let mut all = Tally::default();
    let mut held = Tally::default();
    for r in &dev {
        judges.count(&mut all, &r.text, r.role);
        if r.half_b {
            judges.count(&mut held, &r.text, r.role);
        }
    }
    println!("{}", line("dev_traffic", all, true));
    println!("{}", line("dev_traffic (held out: half B)", held, true));
    trade_off(&model, suffix_dir, &dev);
    true
}

/// The detector alone at other thresholds than the trained one: recall on the generated
/// suffixes against the share flagged of each benign set (the developer traffic's users' texts,
/// the generated classes, the non-English test messages).
fn trade_off(model: &SuffixModel<'_>, suffix_dir: &Path, dev: &[data::Text]) {
    let contrast = |t: &str| model.top(t).map_or(f32::MIN, |f| f.contrast());
    let mut attacks = Vec::new();
    let mut classes: Vec<(String, Vec<f32>)> = Vec::new();
    for path in crate::jsonl_files(suffix_dir).unwrap_or_default() {
        if path.ends_with("train_nonenglish.jsonl") {
            continue;
        }
        let rows = data::read_injection(&path).unwrap_or_default();
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if rows.iter().any(|r| r.attack) {
            attacks.extend(rows.iter().map(|r| contrast(&r.text)));
        } else {
            classes.push((stem, rows.iter().map(|r| contrast(&r.text)).collect()));
        }
    }
    let dev_users: Vec<f32> = dev.iter().filter(|r| r.role == Source::User).map(|r| contrast(&r.text)).collect();
    let trained = f32::from(model.thresholds.contrast) / 16.0;
    println!(
        "\nThe detector alone at other thresholds (contrast, bits per character; the trained one is {trained:.2}).\n"
    );
    println!("| threshold | suffix recall | developer traffic, users' texts | worst generated benign class |\n|---:|---:|---:|---|");
    let share = |v: &[f32], t: f32| pct(v.iter().filter(|&&c| c >= t).count(), v.len());
    for t in [1.5f32, 2.0, 2.5, 3.0, trained] {
        let worst = classes
            .iter()
            .max_by_key(|(_, v)| v.iter().filter(|&&c| c >= t).count())
            .map(|(name, v)| format!("{name} {}", share(v, t)))
            .unwrap_or_default();
        println!("| {t:.2} | {} | {} | {worst} |", share(&attacks, t), share(&dev_users, t));
    }
}
