//! The committed benchmark bodies (`benches/fixtures/`, written by its `generate.py`) and what
//! was planted in each, so the restore benchmarks can build the vault a request produces.

use std::fs;
use std::path::{Path, PathBuf};

use prompt_guard_engine::config::FilterConfig;
use prompt_guard_engine::vault::Vault;
use serde_json::Value;

/// One request body with its replies.
pub struct Fixture {
    pub name: String,
    pub request: Vec<u8>,
    /// A buffered chat.completion quoting some of the request's placeholders.
    pub reply: Vec<u8>,
    /// The same reply streamed as chat.completion.chunk events, where the fixture has one.
    pub reply_sse: Option<Vec<u8>>,
    /// (label, original) in first-occurrence order: the vault numbering of the request.
    pub planted: Vec<(String, String)>,
    /// Planted occurrences, counting repeats of the same value.
    pub occurrences: u64,
}

impl Fixture {
    /// The vault masking this request would produce if every planted value were found: the
    /// restore benchmarks use it so that they measure restoring whatever the detectors find.
    pub fn planted_vault(&self, cfg: &FilterConfig) -> Vault {
        let mut vault = Vault::with_capacity(cfg.max_entities.max(self.planted.len()));
        for (label, original) in &self.planted {
            vault
                .placeholder_for(&cfg.restore.grammar, label, original)
                .expect("the vault was sized for every planted value");
        }
        vault
    }

    /// How many placeholders of the default grammar the buffered reply quotes.
    pub fn quoted_placeholders(&self) -> usize {
        let text = String::from_utf8_lossy(&self.reply);
        self.planted_vault_placeholders().iter().map(|p| text.matches(p.as_str()).count()).sum()
    }

    fn planted_vault_placeholders(&self) -> Vec<String> {
        let mut counters: Vec<(String, u32)> = Vec::new();
        self.planted
            .iter()
            .map(|(label, _)| {
                let n = match counters.iter_mut().find(|(l, _)| l == label) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        counters.push((label.clone(), 1));
                        1
                    }
                };
                format!("[{label}_{n}]")
            })
            .collect()
    }
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join("fixtures")
}

fn read(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()))
}

/// Every fixture, in the manifest's order.
pub fn load() -> Vec<Fixture> {
    let manifest: Value = serde_json::from_slice(&read("manifest.json")).expect("manifest.json is JSON");
    let entries = manifest["fixtures"].as_object().expect("manifest has a fixtures object");
    entries
        .iter()
        .map(|(name, entry)| {
            let planted = entry["planted"]
                .as_array()
                .expect("planted is a list")
                .iter()
                .map(|pair| {
                    let label = pair[0].as_str().expect("label").to_owned();
                    let value = pair[1].as_str().expect("value").to_owned();
                    (label, value)
                })
                .collect();
            let sse = dir().join(format!("{name}.reply.sse"));
            Fixture {
                name: name.clone(),
                request: read(&format!("{name}.request.json")),
                reply: read(&format!("{name}.reply.json")),
                reply_sse: sse.exists().then(|| read(&format!("{name}.reply.sse"))),
                planted,
                occurrences: entry["occurrences"].as_u64().unwrap_or(0),
            }
        })
        .collect()
}
