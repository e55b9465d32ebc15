//! The leak property over the engine: for generated valid requests of every endpoint shape (see
//! `tests/leakgen`), no planted value reaches the upstream, in the raw bytes or in any decoded
//! string (JSON inside strings decoded recursively); every look-alike, id, signature and media
//! payload arrives unchanged; a valid request is not refused; and over two turns (the echo reply
//! restored, then sent back as history, tool loops and thinking round trips included) the same
//! holds and the client gets back every original the echo carried.
//!
//! `LEAKGEN_CASES=N` runs N cases (default 10,000; `make leakgen-long` runs 200,000) on
//! `LEAKGEN_THREADS` threads (default: the cores, at most 4),
//! `LEAKGEN_SEED=S` changes the base seed, `LEAKGEN_REPORT=path` writes the full tables
//! (planted and leaked per endpoint, field, kind, format, wrapping, Unicode form, position).
//! On failure the summary names the base seed and, per leak group, one case seed and a body
//! shrunk to what still leaks.

#[path = "../leakgen/mod.rs"]
mod leakgen;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Instant;

use serde_json::{json, Value as Json};

use leakgen::case::{case, Case, Family};
use leakgen::check::{leaks, lost, shape_of, strings, Leak, Located};
use leakgen::rng::Rng;
use leakgen::text::{Keep, Plant, Planter};
use leakgen::turns::{echo_reply, last_user_text, next_turn, thinking_keep, Echo};
use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::exchange::{guard_reply, guard_request_as, is_json_content_type, BodyKind, Rejection};
use prompt_guard_engine::memo::MemoScope;
use prompt_guard_engine::protocol::Api;
use prompt_guard_engine::vault::Vault;

const DEFAULT_CASES: usize = 10_000;
const DEFAULT_SEED: u64 = 0x1EA6_0000;

/// Refusals of valid requests that the design documents (none with the default configuration).
const DOCUMENTED_REFUSALS: &[&str] = &[];

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            let v = v.trim();
            v.strip_prefix("0x").map_or_else(|| v.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
        })
        .unwrap_or(default)
}

/// `LEAKGEN_ONLY=seed`: run that one case and print every body on the way.
fn debug() -> bool {
    std::env::var("LEAKGEN_ONLY").is_ok()
}

/// Forward a body through the engine as the filter would on `path`.
fn forward(cfg: &FilterConfig, path: &str, content_type: &str, body: &[u8]) -> (Result<Vec<u8>, Rejection>, Vault) {
    let api = cfg.classify(path);
    let mut vault = Vault::with_capacity(cfg.max_entities);
    // As the filter's glue does: a pass-through route is not inspected, and a JSON API refuses
    // other content types.
    if api == Api::PassThrough {
        return (Ok(body.to_vec()), vault);
    }
    let json = is_json_content_type(Some(content_type));
    if api.requires_json() && !json {
        let content_type = content_type.chars().take(60).collect();
        return (Err(Rejection::UnsupportedContentType { content_type }), vault);
    }
    let kind = BodyKind::from_content_type(Some(content_type));
    let out = guard_request_as(cfg, api, body, kind, &mut vault, MemoScope::NONE)
        .map(|o| o.body.unwrap_or_else(|| body.to_vec()));
    if debug() {
        eprintln!(
            "--- POST {path} ({})\n{}\n--- forwarded\n{}",
            api.name(),
            String::from_utf8_lossy(body),
            out.as_ref().map_or_else(|r| format!("refused: {r}"), |b| String::from_utf8_lossy(b).into_owned())
        );
    }
    (out, vault)
}

/// Whether a text holds a placeholder (`[EMAIL_1]`): the filter scanned and masked in it.
fn has_placeholder(s: &str) -> bool {
    s.match_indices('[').any(|(i, _)| {
        let rest = &s[i + 1..];
        let label: String = rest.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
        let after = &rest[label.len()..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        label.len() >= 3 && label.ends_with('_') && digits > 0 && after[digits..].starts_with(']')
    })
}

/// One leak group's first example, for the shrunk reproduction.
#[derive(Debug, Clone)]
struct Example {
    seed: u64,
    turn: u8,
    path: String,
    content_type: String,
    body: Vec<u8>,
    needle: String,
    snippet: String,
    field: String,
    /// Everything planted in that body, so that shrinking keeps the leak charged to this plant.
    plants: Vec<Plant>,
}

#[derive(Default)]
struct Tally {
    cases: usize,
    turn2: usize,
    planted: BTreeMap<String, usize>,
    leaked: BTreeMap<String, usize>,
    lost: BTreeMap<String, usize>,
    refused: BTreeMap<String, usize>,
    not_restored: BTreeMap<String, usize>,
    first_seed: BTreeMap<String, u64>,
    examples: BTreeMap<String, Example>,
    group_count: BTreeMap<String, usize>,
    control: HashMap<String, bool>,
    leak_total: usize,
    plant_total: usize,
}

impl Tally {
    /// Add another worker's counts (examples and first seeds: the lowest seed wins, so the
    /// report does not depend on how the cases were split).
    fn merge(&mut self, o: Tally) {
        self.cases += o.cases;
        self.turn2 += o.turn2;
        self.leak_total += o.leak_total;
        self.plant_total += o.plant_total;
        for (mine, theirs) in [
            (&mut self.planted, o.planted),
            (&mut self.leaked, o.leaked),
            (&mut self.lost, o.lost),
            (&mut self.refused, o.refused),
            (&mut self.not_restored, o.not_restored),
            (&mut self.group_count, o.group_count),
        ] {
            for (k, n) in theirs {
                *mine.entry(k).or_default() += n;
            }
        }
        for (k, seed) in o.first_seed {
            let e = self.first_seed.entry(k).or_insert(seed);
            *e = (*e).min(seed);
        }
        for (k, ex) in o.examples {
            match self.examples.get(&k) {
                Some(have) if have.seed <= ex.seed => {}
                _ => {
                    self.examples.insert(k, ex);
                }
            }
        }
    }
}

fn bump(map: &mut BTreeMap<String, usize>, key: String) {
    *map.entry(key).or_default() += 1;
}

/// The dimensions a plant is counted under.
fn dims(p: &Plant) -> Vec<String> {
    let endpoint = p.field.split(':').next().unwrap_or("");
    let mut dims = vec![
        format!("kind|{}", p.kind),
        format!("format|{} {}", p.kind, p.format),
        format!("wrap|{}", p.wrap),
        format!("form|{}", p.form),
        format!("position|{}", p.position),
        format!("endpoint|{endpoint}"),
        format!("field|{}", p.field),
    ];
    if p.wrap == "none" && p.form == "ascii" {
        dims.push(format!("plain|{} {} ({})", p.kind, p.format, p.position));
    }
    dims
}

impl Tally {
    /// Does the detector find this snippet in a plain chat user message? Tells a format the
    /// detector misses from a field the adapters do not scan.
    fn detector_finds(&mut self, cfg: &FilterConfig, p: &Plant, needle: &str) -> bool {
        if let Some(&known) = self.control.get(&p.snippet) {
            return known;
        }
        let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": p.snippet}]}).to_string();
        let (out, _) = forward(cfg, "/v1/chat/completions", "application/json", body.as_bytes());
        let found = match out {
            Ok(fwd) => {
                leaks(&fwd, &strings(&fwd), std::slice::from_ref(p)).is_empty()
                    && !String::from_utf8_lossy(&fwd).contains(needle)
            }
            Err(_) => false,
        };
        self.control.insert(p.snippet.clone(), found);
        found
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        cfg: &FilterConfig,
        c: &Case,
        turn: u8,
        path: &str,
        body: &[u8],
        located: &[Located],
        plants: &[Plant],
        found: &[Leak],
    ) {
        for p in plants {
            self.plant_total += 1;
            for d in dims(p) {
                bump(&mut self.planted, d);
            }
        }
        for l in found {
            self.leak_total += 1;
            let scanned = located.iter().any(|s| s.path == l.found_at && has_placeholder(&s.text));
            let cause = match (self.detector_finds(cfg, &l.plant, &l.needle), scanned) {
                (false, _) => "detector",
                (true, true) => "context",
                (true, false) => "field",
            };
            for d in dims(&l.plant) {
                bump(&mut self.leaked, format!("{d}|{cause}"));
            }
            bump(
                &mut self.leaked,
                format!("found-at|{} {}|{cause}", l.plant.field.split(':').next().unwrap_or(""), shape_of(&l.found_at)),
            );
            bump(&mut self.leaked, format!("path-form|{}|{cause}", c.path_form));
            let group = if cause == "field" {
                format!("field: {} (survived at {})", l.plant.field, shape_of(&l.found_at))
            } else if cause == "context" {
                format!(
                    "context: {} {} wrap={} position={} in {}",
                    l.plant.kind,
                    l.plant.format,
                    l.plant.wrap,
                    l.plant.position,
                    shape_of(&l.found_at)
                )
            } else {
                format!(
                    "detector: {} {} wrap={} form={} position={}",
                    l.plant.kind, l.plant.format, l.plant.wrap, l.plant.form, l.plant.position
                )
            };
            bump(&mut self.group_count, group.clone());
            self.examples.entry(group).or_insert_with(|| Example {
                seed: c.seed,
                turn,
                path: path.to_owned(),
                content_type: c.content_type.clone(),
                body: body.to_vec(),
                needle: l.needle.clone(),
                snippet: l.plant.snippet.clone(),
                field: l.plant.field.clone(),
                plants: plants.to_vec(),
            });
        }
    }

    fn record_lost(&mut self, lost: &[&Keep], seed: u64) {
        for k in lost {
            let key = format!("{} at {}", k.kind, k.field);
            self.first_seed.entry(key.clone()).or_insert(seed);
            bump(&mut self.lost, key);
        }
    }
}

/// Remove members and elements of the body while the needle still survives, then shorten the
/// string that holds it to the plant's snippet: what is left is a small reproduction.
fn shrink(cfg: &FilterConfig, ex: &Example) -> String {
    let survives = |body: &[u8]| match forward(cfg, &ex.path, &ex.content_type, body).0 {
        Ok(fwd) => leaks(&fwd, &strings(&fwd), &ex.plants)
            .iter()
            .any(|l| l.plant.snippet == ex.snippet && l.plant.field == ex.field),
        Err(_) => false,
    };
    let Ok(mut doc) = serde_json::from_slice::<Json>(&ex.body) else {
        // A text body (a batch file upload): the line that holds the value.
        let text = String::from_utf8_lossy(&ex.body).into_owned();
        let line = text.lines().find(|l| l.contains(&ex.needle)).unwrap_or("");
        return format!("(line of the uploaded file) {}", line.chars().take(600).collect::<String>());
    };
    const KEEP: &[&str] = &[
        "model",
        "role",
        "type",
        "messages",
        "input",
        "max_tokens",
        "tool_call_id",
        "tool_use_id",
        "call_id",
        "requests",
        "params",
        "items",
        "source",
        "media_type",
    ];
    for _ in 0..3 {
        let mut changed = false;
        let mut pointers = Vec::new();
        pointers_of(&doc, String::new(), &mut pointers);
        for ptr in pointers {
            let last = ptr.rsplit('/').next().unwrap_or("");
            if KEEP.contains(&last) {
                continue;
            }
            let mut trial = doc.clone();
            if remove_at(&mut trial, &ptr) && survives(trial.to_string().as_bytes()) {
                doc = trial;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // The string holding the needle, reduced to the snippet.
    let mut ptrs = Vec::new();
    pointers_of(&doc, String::new(), &mut ptrs);
    for ptr in ptrs {
        if let Some(Json::String(s)) = doc.pointer(&ptr) {
            if s.contains(&ex.needle) && s.len() > ex.snippet.len() && s.contains(&ex.snippet) {
                let mut trial = doc.clone();
                if let Some(slot) = trial.pointer_mut(&ptr) {
                    *slot = json!(ex.snippet);
                }
                if survives(trial.to_string().as_bytes()) {
                    doc = trial;
                }
            }
        }
    }
    doc.to_string().chars().take(900).collect()
}

fn pointers_of(v: &Json, at: String, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, i) in m {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers_of(i, p, out);
            }
        }
        Json::Array(a) => {
            for (n, i) in a.iter().enumerate() {
                let p = format!("{at}/{n}");
                out.push(p.clone());
                pointers_of(i, p, out);
            }
        }
        _ => {}
    }
}

fn remove_at(doc: &mut Json, ptr: &str) -> bool {
    let Some((parent, last)) = ptr.rsplit_once('/') else { return false };
    let last = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Json::Object(m)) => m.shift_remove(&last).is_some(),
        Some(Json::Array(a)) => match last.parse::<usize>() {
            Ok(i) if i < a.len() && a.len() > 1 => {
                a.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// One case, one or two turns.
fn run_case(cfg: &FilterConfig, c: &Case, t: &mut Tally) {
    t.cases += 1;
    let (out, vault) = forward(cfg, &c.path, &c.content_type, &c.body);
    let fwd = match out {
        Ok(fwd) => fwd,
        Err(r) => {
            if !DOCUMENTED_REFUSALS.contains(&r.reason()) {
                let key = format!("{} {} ({})", c.endpoint, r.reason(), r);
                t.first_seed.entry(key.clone()).or_insert(c.seed);
                bump(&mut t.refused, key);
            }
            return;
        }
    };
    let located = strings(&fwd);
    let found = leaks(&fwd, &located, &c.plants);
    t.record(cfg, c, 1, &c.path, &c.body, &located, &c.plants, &found);
    t.record_lost(&lost(&located, &c.keeps), c.seed);

    // A second turn for conversational endpoints, every other case.
    let Some(first) = c.doc.as_ref() else { return };
    let mut rng = Rng::new(c.seed ^ 0x7475_726E_3200);
    if c.family == Family::Other || !rng.chance(1, 2) {
        return;
    }
    let Ok(upstream_saw) = serde_json::from_slice::<Json>(&fwd) else { return };
    let echo = match (c.family, rng.below(4)) {
        (Family::Completions, _) => Echo::Text,
        (Family::Anthropic, 2) => Echo::Thinking,
        (_, 1) => Echo::ToolCall,
        (_, 3) => Echo::Json,
        _ => Echo::Text,
    };
    let signature = format!("Eq{}", rng.chars(leakgen::rng::BASE64, 96));
    let reply = echo_reply(c.family, &upstream_saw, echo, &signature);
    let reply_bytes = reply.to_string().into_bytes();
    let outcome = guard_reply(cfg, &reply_bytes, &vault);
    let restored_bytes = outcome.body.unwrap_or(reply_bytes);
    if debug() {
        eprintln!("--- echo reply\n{reply}\n--- restored\n{}", String::from_utf8_lossy(&restored_bytes));
    }
    let Ok(restored) = serde_json::from_slice::<Json>(&restored_bytes) else { return };
    // The client gets back every original the echo carried.
    let said = last_user_text(c.family, first);
    let got: String = strings(&restored_bytes).into_iter().map(|l| l.text + "\n").collect();
    if !got.contains("[prompt-guard removed") {
        for p in c.plants.iter().filter(|p| said.contains(&p.snippet)) {
            {
                if !got.contains(p.snippet.as_str()) && !found.iter().any(|l| l.plant.snippet == p.snippet) {
                    let key = format!("{} {} {:?} {}", c.endpoint, p.kind, echo, p.wrap);
                    t.first_seed.entry(key.clone()).or_insert(c.seed);
                    bump(&mut t.not_restored, key);
                }
            }
        }
    }
    let mut p2 = Planter::new(rng.fork(), &format!("{}#2", c.endpoint));
    p2.density = 60;
    let Some(doc2) = next_turn(c.family, first, &restored, &mut p2) else { return };
    t.turn2 += 1;
    let body2 = doc2.to_string().into_bytes();
    let (out2, _) = forward(cfg, &c.path, &c.content_type, &body2);
    let fwd2 = match out2 {
        Ok(f) => f,
        Err(r) => {
            let key = format!("{}#2 {} ({})", c.endpoint, r.reason(), r);
            t.first_seed.entry(key.clone()).or_insert(c.seed);
            bump(&mut t.refused, key);
            return;
        }
    };
    // Turn 1's values that turn 1 masked must stay masked when they come back as history.
    let mut plants2: Vec<Plant> = c
        .plants
        .iter()
        .filter(|p| !found.iter().any(|l| l.plant.snippet == p.snippet || p.needles.contains(&l.needle)))
        .map(|p| Plant {
            field: format!("{}#2-history:{}", c.endpoint, p.field.split_once(':').map_or("", |x| x.1)),
            ..p.clone()
        })
        .collect();
    plants2.extend(p2.plants.iter().cloned());
    let mut keeps2: Vec<Keep> = c.keeps.clone();
    keeps2.extend(p2.keeps.iter().cloned());
    if echo == Echo::Thinking {
        keeps2.extend(thinking_keep(&reply));
    }
    let located2 = strings(&fwd2);
    let found2 = leaks(&fwd2, &located2, &plants2);
    t.record(cfg, c, 2, &c.path, &body2, &located2, &plants2, &found2);
    t.record_lost(&lost(&located2, &keeps2), c.seed);
}

fn table(
    out: &mut String,
    title: &str,
    planted: &BTreeMap<String, usize>,
    leaked: &BTreeMap<String, usize>,
    prefix: &str,
    limit: usize,
) {
    let mut rows: Vec<(String, usize, usize, usize, usize)> = planted
        .iter()
        .filter_map(|(k, &n)| k.strip_prefix(prefix).map(|key| (key.to_owned(), n)))
        .map(|(key, n)| {
            let get = |cause: &str| leaked.get(&format!("{prefix}{key}|{cause}")).copied().unwrap_or(0);
            (key.clone(), n, get("field"), get("context"), get("detector"))
        })
        .filter(|r| r.2 + r.3 + r.4 > 0 || limit == usize::MAX)
        .collect();
    rows.sort_by(|a, b| (b.2 + b.3 + b.4).cmp(&(a.2 + a.3 + a.4)).then(a.0.cmp(&b.0)));
    let _ = writeln!(
        out,
        "\n### {title}\n\n| {} | planted | leaked: field not scanned | leaked: missed in its context | leaked: format not detected |\n|---|---:|---:|---:|---:|",
        prefix.trim_end_matches('|')
    );
    for (key, n, f, c, d) in rows.iter().take(limit) {
        let _ = writeln!(out, "| {key} | {n} | {f} | {c} | {d} |");
    }
    if rows.len() > limit {
        let _ = writeln!(out, "| ... {} more rows (LEAKGEN_REPORT=path for all) | | | | |", rows.len() - limit);
    }
}

fn simple(out: &mut String, title: &str, m: &BTreeMap<String, usize>, limit: usize) {
    if m.is_empty() {
        return;
    }
    let mut rows: Vec<(&String, &usize)> = m.iter().collect();
    rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let _ = writeln!(out, "\n### {title}\n");
    for (k, n) in rows.iter().take(limit) {
        let _ = writeln!(out, "- {n} x {k}");
    }
    if rows.len() > limit {
        let _ = writeln!(out, "- ... {} more", rows.len() - limit);
    }
}

fn report(t: &Tally, cfg: &FilterConfig, seed: u64, limit: usize, repros: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "leakgen: base seed {seed:#x}, {} cases ({} with a second turn), {} values planted, {} leaked",
        t.cases, t.turn2, t.plant_total, t.leak_total
    );
    let _ = writeln!(
        out,
        "Causes: field not scanned = the snippet alone in a chat user message is masked, but the string it \
         survived in was not masked at all; missed in its context = that string was masked elsewhere (holds a \
         placeholder) but not this value; format not detected = the snippet alone in a chat user message \
         is not masked either."
    );
    table(&mut out, "by kind", &t.planted, &t.leaked, "kind|", limit.max(16));
    table(&mut out, "by kind and format", &t.planted, &t.leaked, "format|", limit);
    table(
        &mut out,
        "by kind, format and position, written plainly (no wrapping, ASCII)",
        &t.planted,
        &t.leaked,
        "plain|",
        limit,
    );
    table(&mut out, "by endpoint", &t.planted, &t.leaked, "endpoint|", limit.max(24));
    table(&mut out, "by field", &t.planted, &t.leaked, "field|", limit);
    table(&mut out, "by wrapping", &t.planted, &t.leaked, "wrap|", limit);
    table(&mut out, "by Unicode form", &t.planted, &t.leaked, "form|", limit);
    table(&mut out, "by position", &t.planted, &t.leaked, "position|", limit);
    let found_at: BTreeMap<String, usize> = t
        .leaked
        .iter()
        .filter(|(k, _)| k.starts_with("found-at|") || k.starts_with("path-form|"))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    simple(&mut out, "where leaked values survived (endpoint, path in the forwarded body, cause)", &found_at, limit);
    let with_seed = |m: &BTreeMap<String, usize>| -> BTreeMap<String, usize> {
        m.iter()
            .map(|(k, n)| (format!("{k} (first seed {:#x})", t.first_seed.get(k).copied().unwrap_or(0)), *n))
            .collect()
    };
    simple(&mut out, "refused valid requests", &with_seed(&t.refused), limit);
    simple(
        &mut out,
        "kept strings lost or changed (look-alikes, ids, signatures, media, thinking)",
        &with_seed(&t.lost),
        limit,
    );
    let not_restored: BTreeMap<String, usize> = t
        .not_restored
        .iter()
        .map(|(k, n)| (format!("{k} (first seed {:#x})", t.first_seed.get(k).copied().unwrap_or(0)), *n))
        .collect();
    simple(&mut out, "originals the echo carried that the client did not get back", &not_restored, limit);
    if repros > 0 && !t.examples.is_empty() {
        let _ = writeln!(out, "\n### reproductions (one per leak group, shrunk; {} groups)\n", t.examples.len());
        let mut groups: Vec<(&String, &Example)> = t.examples.iter().collect();
        groups.sort_by_key(|(g, _)| std::cmp::Reverse(t.group_count.get(*g).copied().unwrap_or(0)));
        for (group, ex) in groups.into_iter().take(repros) {
            let n = t.group_count.get(group).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "- {n} x {group}\n  seed {:#x}, turn {}, POST {}\n  `{}`",
                ex.seed,
                ex.turn,
                ex.path,
                shrink(cfg, ex)
            );
        }
    }
    out
}

#[test]
fn no_planted_value_reaches_the_upstream() {
    let n = env_num("LEAKGEN_CASES", DEFAULT_CASES as u64) as usize;
    let seed = env_num("LEAKGEN_SEED", DEFAULT_SEED);
    let cfg = FilterConfig::from_json(b"{}").unwrap();
    let mut t = Tally::default();
    let start = Instant::now();
    if debug() {
        let only = env_num("LEAKGEN_ONLY", 0);
        run_case(&cfg, &case(only), &mut t);
        eprintln!("{}", report(&t, &cfg, only, 50, 0));
        return;
    }
    // Cases are independent: spread them over the cores (LEAKGEN_THREADS to choose).
    let threads =
        env_num("LEAKGEN_THREADS", std::thread::available_parallelism().map_or(1, |n| n.get()).min(4) as u64).max(1);
    let parts: Vec<Tally> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|w| {
                let cfg = &cfg;
                scope.spawn(move || {
                    let mut part = Tally::default();
                    let mut i = w;
                    while i < n as u64 {
                        run_case(cfg, &case(seed.wrapping_add(i)), &mut part);
                        i += threads;
                    }
                    part
                })
            })
            .collect();
        workers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for part in parts {
        t.merge(part);
    }
    let elapsed = start.elapsed();
    eprintln!("leakgen: {} cases in {:.1} s", t.cases, elapsed.as_secs_f64());
    if let Ok(path) = std::env::var("LEAKGEN_REPORT") {
        let full = report(&t, &cfg, seed, usize::MAX, usize::MAX);
        std::fs::write(&path, full).unwrap();
    }
    let failed = t.leak_total > 0 || !t.refused.is_empty() || !t.lost.is_empty() || !t.not_restored.is_empty();
    assert!(!failed, "\n{}", report(&t, &cfg, seed, 25, 20));
}
