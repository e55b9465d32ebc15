//! Evaluation over the project's developer-traffic corpus (`eval/dev_traffic/*.jsonl`): ordinary
//! texts a coding or support assistant receives, all benign. Each row is scanned in the role it
//! arrives in (`meta.role`: `user` or `tool`) with the default configuration, and the blocked
//! and flagged rates are reported per category and overall against the false-alarm budget
//! (at most 0.1% blocked and 1% flagged or blocked). `PG_EVAL_SHOW=devfp` lists the rows that
//! were flagged or blocked on stderr.
//!
//! The corpus is split deterministically into two halves by a hash of each text (`half_of`):
//! rules are tuned looking at half A only (`PG_EVAL_HALF=A` restricts the table and the listing
//! to it) and half B is the held-out figure. The totals of both halves are always printed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use prompt_guard_engine::config::threats::ThreatsConfig;
use prompt_guard_engine::threat::{Action, Source};

/// Budget: blocked and flagged-or-blocked rows, in per mille of all rows.
pub const MAX_BLOCKED_PER_MILLE: usize = 1;
pub const MAX_FLAGGED_PER_MILLE: usize = 10;

#[derive(Default, Clone, Copy)]
struct Tally {
    rows: usize,
    tool: usize,
    flagged: usize,
    blocked: usize,
}

impl Tally {
    fn count(&mut self, source: Source, action: Action) {
        self.rows += 1;
        self.tool += usize::from(source == Source::Tool);
        self.flagged += usize::from(action == Action::Flag);
        self.blocked += usize::from(action == Action::Block);
    }
}

/// One of the two halves of the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    A,
    B,
}

/// The half a text belongs to: the parity of its 64-bit FNV-1a hash, stable across runs,
/// platforms and row order.
fn half_of(text: &str) -> Half {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    if hash & 1 == 0 {
        Half::A
    } else {
        Half::B
    }
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        return "-".to_string();
    }
    #[allow(clippy::cast_precision_loss)]
    let p = 100.0 * n as f64 / d as f64;
    format!("{p:.2}%")
}

/// Print the developer-traffic table; false when the data could not be read or is over budget.
pub fn run(dir: &Path) -> bool {
    let Ok(compiled) = ThreatsConfig::default().compile() else {
        eprintln!("eval: the default threats configuration does not compile");
        return false;
    };
    let Some(files) = crate::jsonl_files(dir) else { return false };
    let show = std::env::var("PG_EVAL_SHOW").unwrap_or_default() == "devfp";
    let only = match std::env::var("PG_EVAL_HALF").unwrap_or_default().as_str() {
        "A" | "a" => Some(Half::A),
        "B" | "b" => Some(Half::B),
        _ => None,
    };
    let mut halves = [Tally::default(); 2];
    let mut per_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for path in &files {
        let Ok(data) = fs::read_to_string(path) else {
            eprintln!("eval: cannot read {}", path.display());
            return false;
        };
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                eprintln!("eval: cannot parse a row of {}", path.display());
                return false;
            };
            let text = v.get("text").and_then(|t| t.as_str()).unwrap_or("");
            let meta = v.get("meta");
            let category = meta.and_then(|m| m.get("dev_category")).and_then(|c| c.as_str()).unwrap_or("?");
            let role = meta.and_then(|m| m.get("role")).and_then(|r| r.as_str()).unwrap_or("user");
            let source = if role == "tool" { Source::Tool } else { Source::User };
            let verdict = compiled.policy.decide(&compiled.scanner.scan(text, source));
            let half = half_of(text);
            halves[usize::from(half == Half::B)].count(source, verdict.action);
            if only.is_some_and(|h| h != half) {
                continue;
            }
            per_category.entry(category.to_string()).or_default().count(source, verdict.action);
            total.count(source, verdict.action);
            if show && verdict.action != Action::Allow {
                let id = v.get("id").and_then(|i| i.as_str()).unwrap_or("");
                let preview: String = text.chars().take(240).collect::<String>().replace('\n', "\\n");
                eprintln!(
                    "{id}\t{role}\t{:?}\t{:.2}\t{:?}\t{preview}",
                    verdict.action, verdict.score, verdict.rule_ids
                );
            }
        }
    }
    let scope = match only {
        Some(Half::A) => ", half A only",
        Some(Half::B) => ", half B only",
        None => "",
    };
    println!(
        "\n## Developer traffic (eval/dev_traffic{scope}, all benign; budget: <= 0.1% blocked, <= 1% flagged or blocked)"
    );
    println!(
        "\n| category | rows | as tool output | flagged | blocked | flagged rate | blocked rate | flagged or blocked |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let row = |name: &str, t: &Tally| {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            t.rows,
            t.tool,
            t.flagged,
            t.blocked,
            pct(t.flagged, t.rows),
            pct(t.blocked, t.rows),
            pct(t.flagged + t.blocked, t.rows)
        );
    };
    for (name, t) in &per_category {
        row(name, t);
    }
    row("**all**", &total);
    for (name, t) in [("A (tuned on)", &halves[0]), ("B (held out)", &halves[1])] {
        println!(
            "\nhalf {name}: {} rows, flagged or blocked {} ({}), blocked {} ({})",
            t.rows,
            t.flagged + t.blocked,
            pct(t.flagged + t.blocked, t.rows),
            t.blocked,
            pct(t.blocked, t.rows)
        );
    }
    let within = total.rows > 0
        && total.blocked * 1000 <= total.rows * MAX_BLOCKED_PER_MILLE
        && (total.flagged + total.blocked) * 1000 <= total.rows * MAX_FLAGGED_PER_MILLE;
    println!("\ndeveloper traffic within the false-alarm budget: {}", if within { "yes" } else { "NO" });
    true
}
