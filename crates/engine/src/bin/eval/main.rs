//! `make eval`: measure detection quality on labeled public data (native, no Envoy).
//!
//! Usage: `eval [DIR [DEV_DIR]]` where DIR holds `pii/` and `injection/` (default `../shared/eval`)
//! and DEV_DIR the project's developer-traffic corpus (default `eval/dev_traffic` of this crate).

mod devtraffic;
mod injection;
mod learned;
mod pii;

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
    ok &= pii::run(&dir.join("pii"));
    ok &= pii::dev_traffic_names(&dev_dir);
    ok &= injection::run(&dir.join("injection"));
    ok &= devtraffic::run(&dev_dir);
    if std::env::var("PG_EVAL_LEARNED").as_deref() != Ok("0") {
        ok &= learned::run(&dir.join("injection"), &dev_dir);
    }
    if !ok {
        std::process::exit(1);
    }
}
