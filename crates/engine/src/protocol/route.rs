//! Which API a request path speaks: the path is normalised first (so an odd spelling of a known
//! path is still recognised), then matched against the providers' public endpoints by suffix (so
//! gateway prefixes such as `/openai/v1/...` and Azure's `/openai/deployments/{name}/...` work).
//!
//! A path that names no known endpoint is `None` here; the configuration decides what it gets
//! (`unknown_paths`, `generic` by default: every string masked).

use super::Api;

/// How many rounds of percent-decoding a path gets: `%252F` is `%2F` after one round and `/`
/// after two. A path still encoded after that is matched as it is (and so is unknown: generic).
const DECODE_ROUNDS: usize = 3;

/// The path as the upstream is likely to read it: query and fragment cut, percent-escapes
/// decoded (repeatedly, up to [`DECODE_ROUNDS`]), ASCII lower case, matrix parameters (`;x=1`)
/// dropped from every segment, empty and `.` segments removed, `..` applied. Servers differ in
/// which of these they apply; matching the most lenient reading means no spelling of a known
/// endpoint slips past its adapter.
pub fn normalise_path(raw: &str) -> String {
    let path = raw.split(['?', '#']).next().unwrap_or("");
    let mut decoded = path.to_owned();
    for _ in 0..DECODE_ROUNDS {
        match percent_decode(&decoded) {
            Some(next) if next != decoded => decoded = next,
            _ => break,
        }
    }
    // A decoded `?` or `#` is part of the path for the upstream too; it cuts nothing here.
    let mut segments: Vec<String> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        let segment = segment.split(';').next().unwrap_or("").to_ascii_lowercase();
        match segment.as_str() {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Decode `%XX` escapes; `None` when the result is not UTF-8 (the raw path is used then).
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    if !bytes.contains(&b'%') {
        return Some(s.to_owned());
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            if let (Some(h), Some(l)) = (bytes.get(i + 1).and_then(hex), bytes.get(i + 2).and_then(hex)) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The known endpoints that carry text, matched on the normalised path's segments from the end.
/// `*` stands for one segment (an id). The first match wins, so longer patterns come first.
const ENDPOINTS: &[(&[&str], Api)] = &[
    // Anthropic
    (&["messages", "batches"], Api::AnthropicBatches),
    (&["messages", "count_tokens"], Api::AnthropicMessages),
    // OpenAI Assistants (before Anthropic's `/messages`, which the thread paths also end in)
    (&["threads", "*", "messages"], Api::OpenAiAssistants),
    (&["threads", "*", "messages", "*"], Api::OpenAiAssistants),
    (&["threads", "*", "runs"], Api::OpenAiAssistants),
    (&["threads", "runs"], Api::OpenAiAssistants),
    (&["threads", "*"], Api::OpenAiAssistants),
    (&["threads"], Api::OpenAiAssistants),
    (&["assistants", "*"], Api::OpenAiAssistants),
    (&["assistants"], Api::OpenAiAssistants),
    (&["messages"], Api::AnthropicMessages),
    // OpenAI
    (&["chat", "completions"], Api::OpenAiChat),
    (&["completions"], Api::OpenAiCompletions),
    (&["responses", "input_tokens"], Api::OpenAiResponses),
    (&["responses"], Api::OpenAiResponses),
    (&["embeddings"], Api::OpenAiEmbeddings),
    (&["moderations"], Api::OpenAiModerations),
    (&["conversations", "*", "items"], Api::OpenAiConversations),
    (&["conversations", "*"], Api::OpenAiConversations),
    (&["conversations"], Api::OpenAiConversations),
    (&["batches"], Api::OpenAiBatches),
    (&["files"], Api::OpenAiFiles),
    (&["uploads", "*", "parts"], Api::OpenAiFiles),
    (&["uploads"], Api::OpenAiFiles),
];

/// Recognise a known endpoint. `path` may be raw (it is normalised here).
pub fn api_for_path(path: &str) -> Option<Api> {
    let normal = normalise_path(path);
    let segments: Vec<&str> = normal.split('/').filter(|s| !s.is_empty()).collect();
    ENDPOINTS.iter().find(|(pattern, _)| ends_with(&segments, pattern)).map(|(_, api)| *api)
}

fn ends_with(segments: &[&str], pattern: &[&str]) -> bool {
    if segments.len() < pattern.len() {
        return false;
    }
    let tail = &segments[segments.len() - pattern.len()..];
    tail.iter().zip(pattern).all(|(s, p)| *p == "*" || s == p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_odd_spellings() {
        for raw in [
            "/V1/CHAT/COMPLETIONS",
            "/v1/chat%2Fcompletions",
            "/v1/chat%2fcompletions",
            "/v1/chat%252Fcompletions",
            "/v1/chat/completions;x=1",
            "/v1;a=b/chat/completions/",
            "/v1/chat/completions%2F",
            "//v1//chat///completions",
            "/v1/./chat/completions",
            "/v1/models/../chat/completions",
            "/v1/chat/completions?stream=true",
        ] {
            assert_eq!(normalise_path(raw), "/v1/chat/completions", "{raw}");
            assert_eq!(api_for_path(raw), Some(Api::OpenAiChat), "{raw}");
        }
    }

    #[test]
    fn every_text_endpoint_is_known() {
        let cases = [
            ("/v1/chat/completions", Api::OpenAiChat),
            ("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", Api::OpenAiChat),
            ("/v1/completions", Api::OpenAiCompletions),
            ("/v1/responses", Api::OpenAiResponses),
            ("/v1/responses/input_tokens", Api::OpenAiResponses),
            ("/v1/embeddings", Api::OpenAiEmbeddings),
            ("/v1/moderations", Api::OpenAiModerations),
            ("/v1/conversations", Api::OpenAiConversations),
            ("/v1/conversations/conv_123/items", Api::OpenAiConversations),
            ("/v1/threads", Api::OpenAiAssistants),
            ("/v1/threads/thread_abc/messages", Api::OpenAiAssistants),
            ("/v1/threads/thread_abc/runs", Api::OpenAiAssistants),
            ("/v1/threads/runs", Api::OpenAiAssistants),
            ("/v1/assistants", Api::OpenAiAssistants),
            ("/v1/batches", Api::OpenAiBatches),
            ("/v1/files", Api::OpenAiFiles),
            ("/v1/uploads/upload_abc/parts", Api::OpenAiFiles),
            ("/v1/messages", Api::AnthropicMessages),
            ("/v1/messages/count_tokens", Api::AnthropicMessages),
            ("/v1/messages/batches", Api::AnthropicBatches),
        ];
        for (path, api) in cases {
            assert_eq!(api_for_path(path), Some(api), "{path}");
        }
        assert_eq!(api_for_path("/v1/models"), None);
        assert_eq!(api_for_path("/healthz"), None);
        assert_eq!(api_for_path("/"), None);
    }

    #[test]
    fn decoding_is_bounded_and_never_fails() {
        assert_eq!(normalise_path("/a%ZZ/b%"), "/a%zz/b%");
        assert_eq!(normalise_path("/%ff%fe"), "/%ff%fe");
        assert_eq!(normalise_path(""), "/");
        assert_eq!(normalise_path("/../../x"), "/x");
    }
}
