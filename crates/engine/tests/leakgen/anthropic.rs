//! Anthropic request shapes, from the public Messages API reference: system as a string or text
//! blocks, user blocks (text, base64 and URL images, documents with text, base64 and content
//! sources and their title/context, search results, tool results with string, block and
//! document content), assistant blocks (text with citations, tool_use, thinking and
//! redacted_thinking with signatures, server_tool_use, web_search_tool_result), tools,
//! metadata.user_id, stop sequences; count_tokens and message batches use the same body.

use serde_json::{json, Map, Value as Json};

use super::text::Planter;
use super::values;

const MODELS: &[&str] = &["claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"];

fn text_block(p: &mut Planter, f: &str) -> Json {
    let mut b = json!({"type": "text", "text": p.text(&format!("{f}[text].text"))});
    if p.rng.chance(1, 6) {
        b["cache_control"] = json!({"type": "ephemeral"});
    }
    b
}

fn document(p: &mut Planter, f: &str) -> Json {
    let f = format!("{f}[document]");
    let source = match p.rng.below(3) {
        0 => json!({"type": "text", "media_type": "text/plain", "data": p.text(&format!("{f}.source.data"))}),
        1 => {
            json!({"type": "base64", "media_type": "application/pdf", "data": p.base64_data(&format!("{f}.source.data(base64)"))})
        }
        _ => {
            json!({"type": "content", "content": [{"type": "text", "text": p.text(&format!("{f}.source.content[text].text"))}]})
        }
    };
    let mut d = json!({"type": "document", "source": source});
    if p.rng.chance(1, 2) {
        d["title"] = json!(p.short(&format!("{f}.title")));
    }
    if p.rng.chance(1, 2) {
        d["context"] = json!(p.text(&format!("{f}.context")));
    }
    if p.rng.chance(1, 2) {
        d["citations"] = json!({"enabled": true});
    }
    d
}

fn search_result(p: &mut Planter, f: &str) -> Json {
    let f = format!("{f}[search_result]");
    json!({"type": "search_result", "source": format!("https://kb.{}.org/articles/{}", values::name(&mut p.rng), p.rng.digits(4)),
           "title": p.short(&format!("{f}.title")),
           "content": [{"type": "text", "text": p.text(&format!("{f}.content[text].text"))}],
           "citations": {"enabled": true}})
}

fn image(p: &mut Planter, f: &str) -> Json {
    if p.rng.chance(2, 3) {
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": p.base64_data(&format!("{f}[image].source.data"))}})
    } else {
        json!({"type": "image", "source": {"type": "url", "url": format!("https://img.{}.net/{}.png", values::name(&mut p.rng), p.hex(8))}})
    }
}

fn user_blocks(p: &mut Planter, f: &str) -> Vec<Json> {
    let n = p.rng.range(1, 3);
    (0..n)
        .map(|_| match p.rng.below(6) {
            0 => image(p, f),
            1 => document(p, f),
            2 => search_result(p, f),
            _ => text_block(p, f),
        })
        .collect()
}

fn tool_result(p: &mut Planter, id: &str, f: &str) -> Json {
    let f = format!("{f}[tool_result]");
    let content = match p.rng.below(5) {
        0 => json!(p.text(&format!("{f}.content(string)"))),
        1 => json!(p.json_text(&format!("{f}.content(json)"))),
        2 => json!([text_block(p, &format!("{f}.content")), search_result(p, &format!("{f}.content"))]),
        3 => json!([document(p, &format!("{f}.content"))]),
        _ => json!([text_block(p, &format!("{f}.content")), image(p, &format!("{f}.content"))]),
    };
    let mut r = json!({"type": "tool_result", "tool_use_id": id, "content": content});
    if p.rng.chance(1, 8) {
        r["is_error"] = json!(true);
    }
    r
}

/// A thinking block as the model produced it: kept byte for byte, values included.
fn thinking(p: &mut Planter, f: &str) -> Json {
    let v = values::value(&mut p.rng).text;
    let t = format!("The user mentioned {v}; I should answer briefly and check the earlier notes.");
    let t = p.keep("thinking", &format!("{f}[thinking].thinking"), t);
    json!({"type": "thinking", "thinking": t, "signature": p.signature(&format!("{f}[thinking].signature"))})
}

fn assistant_blocks(p: &mut Planter, f: &str, tool_ids: &mut Vec<String>) -> Vec<Json> {
    let mut blocks = Vec::new();
    if p.rng.chance(1, 3) {
        blocks.push(thinking(p, f));
    } else if p.rng.chance(1, 8) {
        let data = p.base64_data(&format!("{f}[redacted_thinking].data"));
        blocks.push(json!({"type": "redacted_thinking", "data": data}));
    }
    let mut t = json!({"type": "text", "text": p.text(&format!("{f}[text].text"))});
    if p.rng.chance(1, 4) {
        let cited = p.text(&format!("{f}[text].citations[].cited_text"));
        let end = cited.chars().count();
        t["citations"] = json!([{"type": "char_location", "cited_text": cited, "document_index": 0,
                                 "document_title": p.short(&format!("{f}[text].citations[].document_title")),
                                 "start_char_index": 0, "end_char_index": end}]);
    }
    blocks.push(t);
    match p.rng.below(4) {
        0 => {
            let id = p.id("toolu_");
            let id = p.keep("id", &format!("{f}[tool_use].id"), id);
            blocks.push(json!({"type": "tool_use", "id": id, "name": "send_note", "input": p.object(&format!("{f}[tool_use].input"))}));
            tool_ids.push(id);
        }
        1 => {
            let id = p.id("srvtoolu_");
            blocks.push(json!({"type": "server_tool_use", "id": id, "name": "web_search",
                               "input": {"query": p.text(&format!("{f}[server_tool_use].input.query"))}}));
            let enc = p.rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 100);
            let enc =
                p.keep("encrypted_content", &format!("{f}[web_search_tool_result].content[].encrypted_content"), enc);
            blocks.push(json!({"type": "web_search_tool_result", "tool_use_id": id, "content": [{
                "type": "web_search_result", "url": format!("https://news.{}.com/{}", values::name(&mut p.rng), p.hex(6)),
                "title": p.short(&format!("{f}[web_search_tool_result].content[].title")),
                "encrypted_content": enc, "page_age": "2 days ago"}]}));
        }
        _ => {}
    }
    blocks
}

pub fn messages(p: &mut Planter) -> Vec<Json> {
    let mut msgs = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for _ in 0..p.rng.range(0, 2) {
        let mut blocks: Vec<Json> =
            std::mem::take(&mut pending).iter().map(|id| tool_result(p, id, "messages[user].content")).collect();
        let content = if blocks.is_empty() && p.rng.chance(1, 2) {
            json!(p.text("messages[user].content(string)"))
        } else {
            blocks.extend(user_blocks(p, "messages[user].content"));
            Json::Array(blocks)
        };
        msgs.push(json!({"role": "user", "content": content}));
        let content = if p.rng.chance(1, 4) {
            json!(p.text("messages[assistant].content(string)"))
        } else {
            Json::Array(assistant_blocks(p, "messages[assistant].content", &mut pending))
        };
        msgs.push(json!({"role": "assistant", "content": content}));
    }
    let mut blocks: Vec<Json> =
        std::mem::take(&mut pending).iter().map(|id| tool_result(p, id, "messages[user].content")).collect();
    let content = if blocks.is_empty() && p.rng.chance(1, 2) {
        json!(p.text("messages[user].content(string)"))
    } else {
        blocks.extend(user_blocks(p, "messages[user].content"));
        Json::Array(blocks)
    };
    msgs.push(json!({"role": "user", "content": content}));
    msgs
}

pub fn params(p: &mut Planter, stream: bool, count_only: bool) -> Json {
    let mut b = Map::new();
    b.insert("model".into(), json!(*p.rng.pick(MODELS)));
    if !count_only {
        b.insert("max_tokens".into(), json!(1024));
    }
    match p.rng.below(3) {
        0 => {
            b.insert("system".into(), json!(p.text("system(string)")));
        }
        1 => {
            let blocks = vec![text_block(p, "system")];
            b.insert("system".into(), Json::Array(blocks));
        }
        _ => {}
    }
    b.insert("messages".into(), Json::Array(messages(p)));
    if p.rng.chance(1, 3) {
        let mut tools = vec![json!({"name": "send_note", "description": p.text("tools[].description"),
                                    "input_schema": p.schema("tools[].input_schema")})];
        if p.rng.chance(1, 3) {
            tools.push(json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3,
                              "user_location": {"type": "approximate", "city": p.short("tools[web_search].user_location.city"), "country": "US"}}));
        }
        b.insert("tools".into(), Json::Array(tools));
    }
    if !count_only {
        if p.rng.chance(1, 4) {
            b.insert("metadata".into(), json!({"user_id": p.short("metadata.user_id")}));
        }
        if p.rng.chance(1, 5) {
            b.insert("stop_sequences".into(), json!([p.short("stop_sequences[]")]));
        }
        if stream {
            b.insert("stream".into(), json!(true));
        }
    }
    Json::Object(b)
}

pub fn batches(p: &mut Planter) -> Json {
    let n = p.rng.range(1, 3);
    let reqs: Vec<Json> =
        (0..n).map(|i| json!({"custom_id": format!("req-{}", i + 1), "params": params(p, false, false)})).collect();
    json!({"requests": reqs})
}
