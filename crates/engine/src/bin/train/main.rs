//! `make train`: train the learned attack model and write its weights into the engine's source
//! (`crates/engine/src/threat/model/weights.bin`), with the inputs it was trained on and their
//! hashes (`inputs.txt` beside it). Seeded and single-threaded: the same inputs give the same
//! bytes.
//!
//! Usage: `train [DIR [DEV_DIR [OUT_DIR]]]`: DIR holds `injection/` (default `../shared/eval`),
//! DEV_DIR the developer-traffic corpus (default `eval/dev_traffic`), OUT_DIR where the weights go.

#[allow(dead_code)] // `role` is read by the eval, which shares this module.
mod data;

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use prompt_guard_engine::threat::model::train::{fit, threshold, Example, Settings};
use prompt_guard_engine::threat::normalise::normalise;

fn main() {
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
