//! `make eval`: measure detection quality on labeled public data (native, no Envoy).
//!
//! Usage: `eval [DIR]` where DIR holds `pii/` and `injection/` (default `../shared/eval`).

mod injection;
mod pii;

use std::path::PathBuf;

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("../shared/eval"));
    if !dir.is_dir() {
        eprintln!("eval: no data directory at {}", dir.display());
        std::process::exit(2);
    }
    let mut ok = true;
    ok &= pii::run(&dir.join("pii"));
    ok &= injection::run(&dir.join("injection"));
    if !ok {
        std::process::exit(1);
    }
}
