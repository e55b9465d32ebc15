//! One generated request: endpoint, path (sometimes in an odd but equivalent spelling), body,
//! and what was planted in it.

use serde_json::Value as Json;

use super::rng::Rng;
use super::text::{Keep, Plant, Planter};
use super::{anthropic, openai};

/// Every endpoint the generator covers, with its relative weight.
pub const ENDPOINTS: &[(&str, usize)] = &[
    ("chat", 18),
    ("azure-chat", 3),
    ("completions", 4),
    ("embeddings", 4),
    ("moderations", 3),
    ("responses", 14),
    ("responses-input-tokens", 3),
    ("conversations", 3),
    ("conversation-items", 3),
    ("threads", 3),
    ("thread-messages", 3),
    ("threads-runs", 2),
    ("thread-runs", 2),
    ("assistants", 2),
    ("batches", 2),
    ("files-batch-jsonl", 3),
    ("anthropic-messages", 18),
    ("anthropic-count-tokens", 3),
    ("anthropic-batches", 3),
];

/// Which conversation protocol a case speaks (for echo replies and next turns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Chat,
    Completions,
    Responses,
    Anthropic,
    Other,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub seed: u64,
    pub endpoint: &'static str,
    pub family: Family,
    pub path: String,
    /// `canonical` or the odd spelling used (`upper`, `pct-2f`, `matrix`, ...).
    pub path_form: &'static str,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The body as JSON (None for multipart).
    pub doc: Option<Json>,
    pub stream: bool,
    pub plants: Vec<Plant>,
    pub keeps: Vec<Keep>,
}

pub const MULTIPART_BOUNDARY: &str = "----leakgen7MA4YWxkTrZu0gW";

fn canonical_path(endpoint: &str, p: &mut Planter) -> String {
    let id = p.hex(24);
    match endpoint {
        "chat" => "/v1/chat/completions".into(),
        "azure-chat" => {
            let d = *p.rng.pick(&["gpt-4o-prod", "chat-eu", "gpt4o"]);
            let v = *p.rng.pick(&["2024-10-21", "2025-04-01-preview", "2024-06-01"]);
            format!("/openai/deployments/{d}/chat/completions?api-version={v}")
        }
        "completions" => "/v1/completions".into(),
        "embeddings" => "/v1/embeddings".into(),
        "moderations" => "/v1/moderations".into(),
        "responses" => "/v1/responses".into(),
        "responses-input-tokens" => "/v1/responses/input_tokens".into(),
        "conversations" => "/v1/conversations".into(),
        "conversation-items" => format!("/v1/conversations/conv_{id}/items"),
        "threads" => "/v1/threads".into(),
        "thread-messages" => format!("/v1/threads/thread_{id}/messages"),
        "threads-runs" => "/v1/threads/runs".into(),
        "thread-runs" => format!("/v1/threads/thread_{id}/runs"),
        "assistants" => "/v1/assistants".into(),
        "batches" => "/v1/batches".into(),
        "files-batch-jsonl" => "/v1/files".into(),
        "anthropic-messages" => "/v1/messages".into(),
        "anthropic-count-tokens" => "/v1/messages/count_tokens".into(),
        _ => "/v1/messages/batches".into(),
    }
}

/// An equivalent spelling of `path` (the query string, if any, is kept as is).
pub fn odd_path(rng: &mut Rng, path: &str) -> (String, &'static str) {
    let (p, q) = match path.split_once('?') {
        Some((p, q)) => (p.to_owned(), format!("?{q}")),
        None => (path.to_owned(), String::new()),
    };
    let slashes: Vec<usize> = p.match_indices('/').map(|(i, _)| i).filter(|&i| i > 0).collect();
    let at = slashes.get(rng.below(slashes.len())).copied().unwrap_or(0);
    let (new, form) = match rng.below(8) {
        0 => (p.to_uppercase(), "upper"),
        1 if at > 0 => (format!("{}%2F{}", &p[..at], &p[at + 1..]), "pct-2f"),
        2 if at > 0 => (format!("{};x=1{}", &p[..at], &p[at..]), "matrix"),
        3 if at > 0 => (format!("{}/{}", &p[..at], &p[at..]), "double-slash"),
        4 => (format!("{p}/"), "trailing-slash"),
        5 => (format!("{p}%2F"), "trailing-pct-2f"),
        6 if at > 0 => (format!("{}/.{}", &p[..at], &p[at..]), "dot-segment"),
        _ if at > 0 => (format!("{}/x/..{}", &p[..at], &p[at..]), "dot-dot-segment"),
        _ => (format!("{p}/"), "trailing-slash"),
    };
    (format!("{new}{q}"), form)
}

fn pick_endpoint(rng: &mut Rng) -> &'static str {
    let total: usize = ENDPOINTS.iter().map(|e| e.1).sum();
    let mut n = rng.below(total);
    for &(name, w) in ENDPOINTS {
        if n < w {
            return name;
        }
        n -= w;
    }
    "chat"
}

fn family(endpoint: &str) -> Family {
    match endpoint {
        "chat" | "azure-chat" => Family::Chat,
        "completions" => Family::Completions,
        "responses" => Family::Responses,
        "anthropic-messages" => Family::Anthropic,
        _ => Family::Other,
    }
}

/// The body of a batch input file upload (multipart/form-data, purpose=batch).
fn multipart(lines: &[String]) -> Vec<u8> {
    let b = MULTIPART_BOUNDARY;
    let mut s = String::new();
    s.push_str(&format!("--{b}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"));
    s.push_str(&format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch_input.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n"
    ));
    for l in lines {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str(&format!("\r\n--{b}--\r\n"));
    s.into_bytes()
}

fn build(endpoint: &'static str, p: &mut Planter, stream: bool) -> (Option<Json>, Vec<u8>, String) {
    let doc = match endpoint {
        "chat" | "azure-chat" => openai::chat(p, stream),
        "completions" => openai::completions(p, stream),
        "embeddings" => openai::embeddings(p),
        "moderations" => openai::moderations(p),
        "responses" => openai::responses(p, stream, false),
        "responses-input-tokens" => openai::responses(p, false, true),
        "conversations" => openai::conversation(p),
        "conversation-items" => openai::conversation_items(p),
        "threads" => openai::threads(p),
        "thread-messages" => openai::thread_messages(p),
        "threads-runs" => openai::thread_runs(p, false),
        "thread-runs" => openai::thread_runs(p, true),
        "assistants" => openai::assistants(p),
        "batches" => openai::batches(p),
        "files-batch-jsonl" => {
            let lines = openai::batch_lines(p);
            let ct = format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}");
            return (None, multipart(&lines), ct);
        }
        "anthropic-messages" => anthropic::params(p, stream, false),
        "anthropic-count-tokens" => anthropic::params(p, false, true),
        _ => anthropic::batches(p),
    };
    let body = doc.to_string().into_bytes();
    (Some(doc), body, "application/json".to_owned())
}

/// The case for `seed`: the same seed always gives the same case.
pub fn case(seed: u64) -> Case {
    let mut rng = Rng::new(seed);
    let endpoint = pick_endpoint(&mut rng);
    let fam = family(endpoint);
    let stream =
        matches!(fam, Family::Chat | Family::Completions | Family::Responses | Family::Anthropic) && rng.chance(1, 3);
    // Draw again (same endpoint) until at least one value is planted.
    let mut attempt = 0u64;
    loop {
        let mut p = Planter::new(Rng::new(seed ^ attempt.wrapping_mul(0x9E37_79B9_7F4A_7C15)), endpoint);
        if attempt > 0 {
            p.density = 90;
        }
        let canonical = canonical_path(endpoint, &mut p);
        let (path, path_form) =
            if p.rng.chance(1, 6) { odd_path(&mut p.rng, &canonical) } else { (canonical, "canonical") };
        let (doc, body, content_type) = build(endpoint, &mut p, stream);
        attempt += 1;
        if p.plants.is_empty() && attempt < 16 {
            continue;
        }
        return Case {
            seed,
            endpoint,
            family: fam,
            path,
            path_form,
            content_type,
            body,
            doc,
            stream,
            plants: p.plants,
            keeps: p.keeps,
        };
    }
}
