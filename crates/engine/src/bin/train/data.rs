//! The learned model's data: the labeled texts of the attack data directory and of the
//! developer-traffic corpus, read the same way by `train` and by `eval`.
//!
//! Training sources (none of them reserved for independent evaluation): the prompt-attack and
//! benign files named in `TRAINING_FILES`, the LLM client libraries' docstrings
//! (`eval/llm_docs`, benign) and half A of the developer-traffic corpus (half B is held out). `harmful_request` rows are plain harmful requests, not injections: never trained on.

use std::fs;
use std::path::Path;

use prompt_guard_engine::threat::Source;

/// The attack-data files (stems) the model is trained on. The web payload files are left to
/// the rules.
pub const TRAINING_FILES: [&str; 6] =
    ["garak", "pyrit_jailbreak_templates", "bipia", "notinject", "xstest", "benign_self_instruct_dev"];

/// The name of the developer-traffic corpus as a source.
pub const DEV_TRAFFIC: &str = "dev_traffic";

/// The name of the LLM client libraries' docstrings as a source (`eval/llm_docs/llm_docs.jsonl`,
/// built by `scripts/build_llm_docs_corpus.py`).
pub const LLM_DOCS: &str = "llm_docs";

/// The LLM client libraries' docstrings, in the project's `eval/llm_docs`.
pub fn llm_docs_path() -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("eval").join(LLM_DOCS).join("llm_docs.jsonl")
}

/// One labeled text.
#[derive(Debug, Clone)]
pub struct Text {
    pub text: String,
    pub attack: bool,
    pub category: String,
    /// File stem, or `dev_traffic`.
    pub source: String,
    pub role: Source,
    /// Developer traffic in the held-out half.
    pub half_b: bool,
}

impl Text {
    /// A plain harmful request: reported apart, never trained on.
    pub fn harmful(&self) -> bool {
        self.category.starts_with("harmful_request")
    }
}

/// The half of the developer-traffic corpus a text belongs to: B when the 64-bit FNV-1a hash of
/// the text is odd (stable across runs, platforms and row order).
pub fn in_half_b(text: &str) -> bool {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    hash & 1 == 1
}

/// FNV-1a of a file's bytes: pins the training inputs.
pub fn file_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Read one attack-data file (`{"text","label","category","meta"}` lines).
pub fn read_injection(path: &Path) -> Option<Vec<Text>> {
    let source = path.file_stem()?.to_string_lossy().into_owned();
    let data = fs::read_to_string(path).ok()?;
    let mut out = Vec::new();
    for line in data.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        // Where the text arrives, as in the rules' eval (`eval/injection.rs`): BIPIA contexts and
        // its attack instructions given alone are document text.
        let category = v.get("category")?.as_str()?.to_string();
        let is_context = v.get("meta").and_then(|m| m.get("task")).is_some()
            || category.starts_with("indirect_injection_instruction");
        out.push(Text {
            text: v.get("text")?.as_str()?.to_string(),
            attack: v.get("label")?.as_u64()? == 1,
            category,
            source: source.clone(),
            role: if is_context { Source::Document } else { Source::User },
            half_b: false,
        });
    }
    Some(out)
}

/// Read the developer-traffic corpus (every `*.jsonl` of the directory, sorted by name).
pub fn read_dev(dir: &Path) -> Option<Vec<Text>> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let data = fs::read_to_string(&path).ok()?;
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            let text = v.get("text")?.as_str()?.to_string();
            let meta = v.get("meta");
            let category = meta.and_then(|m| m.get("dev_category")).and_then(|c| c.as_str()).unwrap_or("?");
            let role = meta.and_then(|m| m.get("role")).and_then(|r| r.as_str()).unwrap_or("user");
            out.push(Text {
                half_b: in_half_b(&text),
                text,
                attack: false,
                category: format!("benign:dev_{category}"),
                source: DEV_TRAFFIC.to_string(),
                role: if role == "tool" { Source::Tool } else { Source::User },
            });
        }
    }
    Some(out)
}

/// Whether a text may be trained on at all (a training source, not harmful, not held-out
/// developer traffic).
pub fn trainable(t: &Text) -> bool {
    !t.harmful()
        && !t.half_b
        && (t.source == DEV_TRAFFIC || t.source == LLM_DOCS || TRAINING_FILES.contains(&t.source.as_str()))
}

/// The training group of a text: its source and label (every group weighs the same).
pub fn group_of(t: &Text) -> usize {
    let source = TRAINING_FILES.iter().position(|s| *s == t.source).unwrap_or(if t.source == LLM_DOCS {
        TRAINING_FILES.len() + 1
    } else {
        TRAINING_FILES.len()
    });
    2 * source + usize::from(t.attack)
}
