//! Evaluation over injection data: every `*.jsonl` in the directory, scanned with the default
//! configuration, reported per file and per top-level category as markdown tables.
//!
//! Rows are scanned as user messages, except where the attack arrives inside data: BIPIA
//! contexts (rows that carry a `task` in their meta) and BIPIA's attack instructions given alone
//! (`indirect_injection_instruction`: the sentence an attacker plants in a page, an e-mail or a
//! tool result, before it is inserted into one) are documents the application inserted. `harmful_request` rows are plain harmful
//! requests, not injections: they are reported apart and count neither as attacks nor as benign.
//! Set `PG_EVAL_SHOW=miss`, `fp` or `slow` (optionally `PG_EVAL_FILE=name`) to list the
//! misses, false positives or texts slower than 1 ms on stderr while working on rules.
//!
//! CRS regression "negatives" are tests that one CRS rule must not fire; some of them are
//! attacks that another CRS rule (or no CRS rule at that paranoia level) is meant to catch. They
//! keep their label 0 in every table; the rows listed in `CRS_NEGATIVES_THAT_ARE_ATTACKS`, each
//! reviewed by hand with its reason, are also reported on a separate line, with the CRS benign
//! false-positive rate computed without them. No rule was tuned to these rows.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;
use std::time::Instant;

use prompt_guard_engine::config::threats::ThreatsConfig;
use prompt_guard_engine::threat::{Action, Source, ThreatReport};

/// CRS negatives reviewed as attacks for another rule: (row id, why it is an attack).
const CRS_NEGATIVES_THAT_ARE_ATTACKS: &[(&str, &str)] = &[
    ("crs-932207-4-0", "`;ls -al` chained onto a Referer value"),
    ("crs-932230-1-0", "system() running a wget/curl download chain"),
    ("crs-932230-2-0", "lwp-download and wget chained with `;`"),
    ("crs-932230-9-0", "system() running a download chain"),
    ("crs-932230-10-0", "system() running a download chain"),
    ("crs-932230-11-0", "system() running a download chain"),
    ("crs-932230-12-0", "system() running a download chain"),
    ("crs-932230-14-0", "SSI `#exec cmd` reading /etc/shadow"),
    ("crs-932230-15-0", "newline then `cat /etc/passwd;`"),
    ("crs-932230-16-0", "shellshock prefix then bash -c curl"),
    ("crs-932230-18-0", "SSI `#exec cmd` reading /etc/shadow"),
    ("crs-932230-19-0", "SSI `#exec cmd` reading /etc/shadow"),
    ("crs-932230-20-0", "newline then `cat /etc/passwd;`"),
    ("crs-932230-21-0", "newline then `cat /etc/passwd;`"),
    ("crs-932230-23-0", "shellshock prefix then bash -c"),
    ("crs-932230-26-0", "backtick substitution of `/bin/cat /etc/passwd`"),
    ("crs-932230-27-0", "two backtick command substitutions"),
    ("crs-932230-42-0", "`;vi -c:!pwd` runs a shell command"),
    ("crs-932230-43-0", "`;vim -c:!pwd` runs a shell command"),
    ("crs-932230-46-0", "`;cat` of a file chained onto a value"),
    ("crs-932236-9-0", "`;vi -c:!pwd` runs a shell command"),
    ("crs-932250-2-0", "`;tar` archiving /etc chained onto a value"),
    ("crs-932260-1-0", "`bash -c` with a command string"),
    ("crs-932260-2-0", "Bash /dev/tcp connection (reverse shell building block)"),
    ("crs-932260-3-0", "`;tar` archiving /etc chained onto a value"),
    ("crs-932260-17-0", "`find -exec curl`: find running a download"),
    ("crs-933100-81-0", "PHP-like tag calling system('id')"),
    (
        "crs-933131-1-0",
        "`$_SERVER['test']` read in a parameter: the same text is crs-933130-4-0, labelled an attack for CRS 933130",
    ),
    ("crs-934170-2-0", "PHP data:// stream wrapper carrying base64 content"),
    ("crs-941100-5-0", "script element with setTimeout and a javascript: URL"),
    ("crs-941140-14-0", "CSS url(javascript:alert(1))"),
    ("crs-942160-12-0", "benchmark() timing probe with comment obfuscation"),
    ("crs-942350-9-0", "string break-out then stacked INSERT"),
    ("crs-942360-29-0", "Oracle DBMS_LDAP.INIT out-of-band sub-select joined with ||"),
    ("crs-942360-30-0", "pg_sleep() time-based blind injection"),
    ("crs-942360-31-0", "UNION ALL SELECT NULL,NULL,CONCAT(...) probe"),
    ("crs-942522-5-0", "`'or'1`: string break-out tautology (CRS leaves it to another rule)"),
    ("crs-944100-11-0", "java.lang.Runtime as an XML element name (XStream gadget shape)"),
    ("crs-944100-15-0", "java.lang.ProcessBuilder as an XML element name (XStream gadget shape)"),
];

struct Row {
    text: String,
    label: u8,
    category: String,
    source: Source,
    id: String,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    rows: usize,
    attacks: usize,
    detected: usize,
    blocked: usize,
    benign: usize,
    false_positives: usize,
    harmful: usize,
    harmful_flagged: usize,
}

impl Tally {
    fn count(&mut self, row: &Row, action: Action) {
        let hit = action != Action::Allow;
        self.rows += 1;
        if row.category.starts_with("harmful_request") {
            self.harmful += 1;
            self.harmful_flagged += usize::from(hit);
        } else if row.label == 1 {
            self.attacks += 1;
            self.detected += usize::from(hit);
            self.blocked += usize::from(action == Action::Block);
        } else {
            self.benign += 1;
            self.false_positives += usize::from(hit);
        }
    }
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

fn print_table(title: &str, rows: &BTreeMap<String, Tally>) {
    println!("\n### {title}\n");
    println!("| name | rows | attacks | detected | blocked | recall | benign | false pos. | FP rate |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (name, t) in rows {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} | {} |",
            t.rows,
            t.attacks,
            t.detected,
            t.blocked,
            pct(t.detected, t.attacks),
            t.benign,
            t.false_positives,
            pct(t.false_positives, t.benign)
        );
    }
}

fn read_rows(path: &Path) -> Option<Vec<Row>> {
    let data = fs::read_to_string(path).ok()?;
    let mut rows = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let category = v.get("category")?.as_str()?.to_string();
        let is_context = v.get("meta").and_then(|m| m.get("task")).is_some()
            || category.starts_with("indirect_injection_instruction");
        rows.push(Row {
            text: v.get("text")?.as_str()?.to_string(),
            label: u8::try_from(v.get("label")?.as_u64()?).ok()?,
            source: if is_context { Source::Document } else { Source::User },
            id: v.get("id").and_then(|i| i.as_str()).unwrap_or("").to_string(),
            category,
        });
    }
    Some(rows)
}

/// The category's top level; benign rows keep their second level, which names the benign set.
fn top_level(category: &str) -> String {
    let mut parts = category.split(':');
    let first = parts.next().unwrap_or("");
    match first {
        "benign" | "harmful_request" => format!("{first}:{}", parts.next().unwrap_or("")),
        _ => first.to_string(),
    }
}

/// Print the quality table; false when the data could not be read.
pub fn run(dir: &Path) -> bool {
    let Ok(compiled) = ThreatsConfig::default().compile() else {
        eprintln!("eval: the default threats configuration does not compile");
        return false;
    };
    let Some(files) = crate::jsonl_files(dir) else { return false };
    let show = std::env::var("PG_EVAL_SHOW").unwrap_or_default();
    let show_file = std::env::var("PG_EVAL_FILE").unwrap_or_default();

    let mut per_file: BTreeMap<String, Tally> = BTreeMap::new();
    let mut per_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut pooled = Tally::default();
    let mut pooled_seen: HashSet<String> = HashSet::new();
    let mut times_ns: Vec<u128> = Vec::new();
    // CRS benign rows: all of them, and the reviewed attacks among them.
    let mut crs_benign = Tally::default();
    let mut crs_reviewed = Tally::default();
    let mut ok = true;

    for path in &files {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(rows) = read_rows(path) else {
            eprintln!("eval: cannot parse {}", path.display());
            ok = false;
            continue;
        };
        let pool = name.starts_with("garak") || name.starts_with("pyrit");
        for row in &rows {
            let start = Instant::now();
            let report: ThreatReport = compiled.scanner.scan(&row.text, row.source);
            let verdict = compiled.policy.decide(&report);
            let elapsed = start.elapsed().as_nanos();
            times_ns.push(elapsed);
            if show == "slow" && elapsed > 1_000_000 {
                eprintln!("{}\t{} bytes\t{} µs\tascii={}", row.id, row.text.len(), elapsed / 1000, row.text.is_ascii());
            }
            per_file.entry(name.clone()).or_default().count(row, verdict.action);
            // Web payload categories exist in two corpora with different styles: keep them apart.
            let key = if name.starts_with("web_") {
                format!("{} ({name})", top_level(&row.category))
            } else {
                top_level(&row.category)
            };
            per_category.entry(key).or_default().count(row, verdict.action);
            if name == "web_crs_regression" && row.label == 0 {
                if CRS_NEGATIVES_THAT_ARE_ATTACKS.iter().any(|(id, _)| *id == row.id) {
                    crs_reviewed.count(row, verdict.action);
                } else {
                    crs_benign.count(row, verdict.action);
                }
            }
            if pool && pooled_seen.insert(row.text.clone()) {
                pooled.count(row, verdict.action);
            }
            let wanted = match show.as_str() {
                "miss" => row.label == 1 && verdict.action == Action::Allow && !row.category.starts_with("harmful"),
                "fp" => row.label == 0 && verdict.action != Action::Allow,
                _ => false,
            };
            if wanted && (show_file.is_empty() || name == show_file) {
                let preview: String = row.text.chars().take(240).collect::<String>().replace('\n', " ");
                eprintln!("{}\t{}\t{:.2}\t{:?}\t{}", row.id, row.category, verdict.score, verdict.rule_ids, preview);
            }
        }
    }

    println!("\n## Injection and payload detection (default policy: flag >= 0.5, block >= 0.85)");
    print_table("Per file", &per_file);
    let mut pooled_table = BTreeMap::new();
    pooled_table.insert("garak + pyrit, deduplicated by text".to_string(), pooled);
    print_table("Jailbreak pool", &pooled_table);
    let (harmful, harmful_flagged): (usize, usize) =
        per_file.values().fold((0, 0), |(h, f), t| (h + t.harmful, f + t.harmful_flagged));
    print_table("Per top-level category", &per_category);
    println!(
        "\nharmful_request rows (plain harmful requests, not injections; not counted above): {harmful}, flagged or blocked: {harmful_flagged} ({})",
        pct(harmful_flagged, harmful)
    );
    println!(
        "\nCRS negatives reviewed as attacks for another rule (listed with reasons in the eval source, labels unchanged above): {} rows, flagged or blocked: {}. CRS benign rows without them: {} rows, false positives {} ({}).",
        crs_reviewed.benign,
        crs_reviewed.false_positives,
        crs_benign.benign,
        crs_benign.false_positives,
        pct(crs_benign.false_positives, crs_benign.benign)
    );
    times_ns.sort_unstable();
    if !times_ns.is_empty() {
        let mean = times_ns.iter().sum::<u128>() / times_ns.len() as u128;
        let p99 = times_ns.get(times_ns.len() * 99 / 100).copied().unwrap_or(0);
        println!(
            "\nscan + decide time per text over {} texts: mean {:.1} µs, p99 {:.1} µs (build profile: {})",
            times_ns.len(),
            mean as f64 / 1000.0,
            p99 as f64 / 1000.0,
            if cfg!(debug_assertions) { "debug" } else { "release" }
        );
    }
    print_reference_timing(&compiled);
    ok
}

/// Time one fixed 1 KB benign prompt (written for this project), the size the speed target
/// names, so the number does not depend on the mix of lengths in the data.
fn print_reference_timing(compiled: &prompt_guard_engine::config::threats::CompiledThreats) {
    let sentence = "The quarterly report shows that revenue grew in most regions while costs stayed flat. \
                    Please summarise the main drivers and list the risks the team should watch next quarter. ";
    let mut text = String::new();
    while text.len() < 1024 {
        text.push_str(sentence);
    }
    let text: String = text.chars().take(1024).collect();
    let rounds = 2000u32;
    for _ in 0..50 {
        let _ = compiled.scanner.scan(&text, Source::User);
    }
    let start = Instant::now();
    for _ in 0..rounds {
        let report = compiled.scanner.scan(&text, Source::User);
        let _ = compiled.policy.decide(&report);
    }
    let per = start.elapsed() / rounds;
    println!("reference 1 KB benign English prompt: {:.1} µs per scan + decide", per.as_nanos() as f64 / 1000.0);
}
