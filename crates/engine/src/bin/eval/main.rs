//! `make eval`: measure detection quality on labeled public data (native, no Envoy).
//!
//! Usage: `eval [DIR [DEV_DIR]]` where DIR holds `pii/` and `injection/` (default `../shared/eval`)
//! and DEV_DIR the project's developer-traffic corpus (default `eval/dev_traffic` of this crate).
//! `PG_EVAL_ONLY=suffix` prints only the adversarial-suffix section (`eval/suffix`),
//! `PG_EVAL_ONLY=learned` only the learned model's section.

mod devtraffic;
mod injection;
mod learned;
mod pii;
mod suffix;

use std::path::PathBuf;

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("../shared/eval"));
    if !dir.is_dir() {
        eprintln!("eval: no data directory at {}", dir.display());
        std::process::exit(2);
    }
    let dev_dir = std::env::args().nth(2).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("eval").join("dev_traffic")
    });
    let mut ok = true;
    let suffix_dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("eval").join("suffix");
    if std::env::var("PG_EVAL_ONLY").as_deref() == Ok("suffix") {
        let ok = suffix::run(&dir.join("injection"), &dev_dir, &suffix_dir);
        std::process::exit(if ok { 0 } else { 1 });
    }
    if std::env::var("PG_EVAL_ONLY").as_deref() == Ok("learned") {
        let ok = learned::run(&dir.join("injection"), &dev_dir);
        std::process::exit(if ok { 0 } else { 1 });
    }
    ok &= pii::run(&dir.join("pii"));
    ok &= pii::dev_traffic_names(&dev_dir);
    ok &= injection::run(&dir.join("injection"));
    ok &= devtraffic::run(&dev_dir);
    if std::env::var("PG_EVAL_LEARNED").as_deref() != Ok("0") {
        ok &= learned::run(&dir.join("injection"), &dev_dir);
    }
    ok &= suffix::run(&dir.join("injection"), &dev_dir, &suffix_dir);
    if !ok {
        std::process::exit(1);
    }
}

/// The `.jsonl` files of a data directory, sorted; `None` (said on stderr) when it cannot be read.
fn jsonl_files(dir: &std::path::Path) -> Option<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("eval: cannot read {}", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    Some(files)
}
