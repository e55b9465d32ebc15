//! `make train`: train the learned attack model and write its weights into the engine's source
//! (`crates/engine/src/threat/model/weights.bin`), with the inputs it was trained on and their
//! hashes (`inputs.txt` beside it). The LLM client libraries' docstrings are read from the
//! project's `eval/llm_docs`. Seeded and single-threaded: the same inputs give the same
//! bytes.
//!
//! Usage: `train [DIR [DEV_DIR [OUT_DIR]]]`: DIR holds `injection/` (default `../shared/eval`),
//! DEV_DIR the developer-traffic corpus (default `eval/dev_traffic`), OUT_DIR where the weights go.
//!
//! `train --cost (model | rules | both) N` instead scores a fixed 1 KB benign prompt N times with
//! the committed model, the default rules, or the rules with the model on, for callgrind:
//! `valgrind --tool=callgrind target/release/train --cost model 1000` and 2000, and the
//! difference over 1000 is the instructions per 1 KB (see `docs/detection.md`).

#[allow(dead_code)] // `role` is read by the eval, which shares this module.
mod data;

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use prompt_guard_engine::threat::model::train::{fit, threshold, Example, Settings};
use prompt_guard_engine::threat::normalise::normalise;

/// Score the reference 1 KB prompt N times (see the module's documentation).
fn cost(what: &str, n: usize) {
    use prompt_guard_engine::config::threats::ThreatsConfig;
    use prompt_guard_engine::threat::model::Model;
    use prompt_guard_engine::threat::Source;
    let sentence = "The quarterly report shows that revenue grew in most regions while costs stayed flat. \
                    Please summarise the main drivers and list the risks the team should watch next quarter. ";
    let text: String = sentence.repeat(1024 / sentence.len() + 1).chars().take(1024).collect();
    let (Some(model), Ok(compiled)) = (Model::compiled(), ThreatsConfig::default().compile()) else {
        eprintln!("train: the committed model or the default rules do not load");
        std::process::exit(1);
    };
    let scanner = compiled.scanner.with_learned_model(what == "both");
    let mut sink = 0.0f32;
    for _ in 0..n {
        let text = std::hint::black_box(text.as_str());
        sink += match what {
            "model" => model.score(&normalise(text).words),
            _ => compiled.policy.decide(&scanner.scan(text, Source::User)).score,
        };
    }
    std::hint::black_box(sink);
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--cost") {
        let what = std::env::args().nth(2).unwrap_or_default();
        let n = std::env::args().nth(3).and_then(|n| n.parse().ok()).unwrap_or(1000);
        cost(&what, n);
        return;
    }
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let arg = |n: usize| std::env::args().nth(n).map(PathBuf::from);
    let dir = arg(1).unwrap_or_else(|| PathBuf::from("../shared/eval"));
    let dev_dir = arg(2).unwrap_or_else(|| root.join("eval").join("dev_traffic"));
    let out_dir = arg(3).unwrap_or_else(|| root.join("crates/engine/src/threat/model"));
    let start = Instant::now();
    let mut texts = Vec::new();
    let mut manifest =
        String::from("# The learned model's training inputs: file, rows, FNV-1a-64 of the file's bytes\n");
    for name in data::TRAINING_FILES {
        let path = dir.join("injection").join(format!("{name}.jsonl"));
        let (Ok(bytes), Some(rows)) = (fs::read(&path), data::read_injection(&path)) else {
            eprintln!("train: cannot read {}", path.display());
            std::process::exit(2);
        };
        let _ = writeln!(manifest, "injection/{name}.jsonl {} {:016x}", rows.len(), data::file_hash(&bytes));
        texts.extend(rows);
    }
    let docs_path = data::llm_docs_path();
    let (Ok(bytes), Some(rows)) = (fs::read(&docs_path), data::read_injection(&docs_path)) else {
        eprintln!("train: cannot read {}", docs_path.display());
        std::process::exit(2);
    };
    let _ = writeln!(manifest, "llm_docs/llm_docs.jsonl {} {:016x}", rows.len(), data::file_hash(&bytes));
    texts.extend(rows);
    let Some(dev) = data::read_dev(&dev_dir) else {
        eprintln!("train: cannot read {}", dev_dir.display());
        std::process::exit(2);
    };
    let dev_hash = dev.iter().fold(0u64, |h, t| h.rotate_left(5) ^ data::file_hash(t.text.as_bytes()));
    let _ = writeln!(manifest, "dev_traffic (half A trained on) {} {dev_hash:016x}", dev.len());
    texts.extend(dev);
    let examples: Vec<Example> = texts
        .iter()
        .filter(|t| data::trainable(t))
        .map(|t| Example::new(&normalise(&t.text).words, t.attack, data::group_of(t)))
        .collect();
    let refs: Vec<&Example> = examples.iter().collect();
    let settings = Settings::default();
    let t = threshold(&refs, settings);
    let model = fit(&refs, settings);
    let bytes = model.to_bytes(t);
    let attacks = examples.iter().filter(|e| e.label).count();
    let _ = writeln!(
        manifest,
        "# {} examples ({attacks} attacks), threshold {t:.4}, weights FNV-1a-64 {:016x}",
        examples.len(),
        data::file_hash(&bytes)
    );
    if fs::write(out_dir.join("weights.bin"), &bytes).is_err()
        || fs::write(out_dir.join("inputs.txt"), &manifest).is_err()
    {
        eprintln!("train: cannot write into {}", out_dir.display());
        std::process::exit(1);
    }
    print!("{manifest}");
    println!("trained in {:.1} s", start.elapsed().as_secs_f64());
}
