//! OpenAI request shapes, from the public API reference: Chat Completions (all roles, string and
//! part content, tool calls and tool messages, refusals, tools, response_format, prediction,
//! web_search_options), Completions, Embeddings, Moderations, Responses (every input item type
//! below, instructions, prompt variables, text.format, tools), input token counts,
//! Conversations, Assistants threads and messages, Batches, and the batch input file.

use serde_json::{json, Map, Value as Json};

use super::text::Planter;

const CHAT_MODELS: &[&str] = &["gpt-4o", "gpt-4.1-mini", "gpt-5", "o3"];

fn content_parts(p: &mut Planter, f: &str, user: bool) -> Json {
    let n = p.rng.range(1, 3);
    let mut parts = Vec::new();
    for _ in 0..n {
        let part = match if user { p.rng.below(6) } else { 0 } {
            3 => json!({"type": "image_url", "image_url": {
                "url": format!("data:image/png;base64,{}", p.base64_data(&format!("{f}[image_url].url"))), "detail": "low"}}),
            4 => json!({"type": "input_audio", "input_audio": {
                "data": p.base64_data(&format!("{f}[input_audio].data")), "format": "wav"}}),
            5 => json!({"type": "file", "file": {
                "file_data": format!("data:application/pdf;base64,{}", p.base64_data(&format!("{f}[file].file_data"))),
                "filename": "notes.pdf"}}),
            _ => json!({"type": "text", "text": p.text(&format!("{f}[text].text"))}),
        };
        parts.push(part);
    }
    Json::Array(parts)
}

fn content(p: &mut Planter, f: &str, user: bool) -> Json {
    if p.rng.chance(1, 2) {
        Json::String(p.text(&format!("{f}(string)")))
    } else {
        content_parts(p, f, user)
    }
}

fn tool_call(p: &mut Planter, f: &str) -> Json {
    let id = p.id("call_");
    let id = p.keep("id", &format!("{f}.id"), id);
    json!({"id": id, "type": "function", "function": {"name": "send_note", "arguments": p.json_text(&format!("{f}.function.arguments"))}})
}

/// A chat history: optional system or developer message, earlier turns (with tool loops and
/// refusals), then the user's message.
pub fn chat_messages(p: &mut Planter) -> Vec<Json> {
    let mut msgs = Vec::new();
    if p.rng.chance(2, 3) {
        let role = *p.rng.pick(&["system", "developer"]);
        let mut m = json!({"role": role, "content": content(p, &format!("messages[{role}].content"), false)});
        if p.rng.chance(1, 5) {
            m["name"] = json!("policy_bot");
        }
        msgs.push(m);
    }
    for _ in 0..p.rng.below(3) {
        let mut u = json!({"role": "user", "content": content(p, "messages[user].content", true)});
        if p.rng.chance(1, 4) {
            u["name"] = json!("customer_01");
        }
        msgs.push(u);
        match p.rng.below(4) {
            0 => {
                let calls: Vec<Json> =
                    (0..p.rng.range(1, 2)).map(|_| tool_call(p, "messages[assistant].tool_calls[]")).collect();
                let ids: Vec<String> = calls.iter().map(|c| c["id"].as_str().unwrap_or_default().to_owned()).collect();
                msgs.push(json!({"role": "assistant", "content": null, "tool_calls": calls}));
                for id in ids {
                    let c = match p.rng.below(3) {
                        0 => Json::String(p.json_text("messages[tool].content(json)")),
                        1 => json!([{"type": "text", "text": p.text("messages[tool].content[text].text")}]),
                        _ => Json::String(p.text("messages[tool].content(string)")),
                    };
                    msgs.push(json!({"role": "tool", "tool_call_id": id, "content": c}));
                }
            }
            1 => msgs
                .push(json!({"role": "assistant", "content": null, "refusal": p.text("messages[assistant].refusal")})),
            2 => msgs.push(json!({"role": "assistant", "content": [
                {"type": "text", "text": p.text("messages[assistant].content[text].text")},
                {"type": "refusal", "refusal": p.text("messages[assistant].content[refusal].refusal")}]})),
            _ => msgs.push(json!({"role": "assistant", "content": p.text("messages[assistant].content(string)")})),
        }
    }
    msgs.push(json!({"role": "user", "content": content(p, "messages[user].content", true)}));
    msgs
}

fn chat_tools(p: &mut Planter) -> Json {
    json!([{"type": "function", "function": {
        "name": "send_note",
        "description": p.text("tools[].function.description"),
        "parameters": p.schema("tools[].function.parameters"),
        "strict": false}}])
}

pub fn chat(p: &mut Planter, stream: bool) -> Json {
    let mut b = Map::new();
    b.insert("model".into(), json!(*p.rng.pick(CHAT_MODELS)));
    b.insert("messages".into(), Json::Array(chat_messages(p)));
    if p.rng.chance(1, 3) {
        b.insert("tools".into(), chat_tools(p));
        b.insert("tool_choice".into(), json!("auto"));
    }
    if p.rng.chance(1, 4) {
        b.insert(
            "response_format".into(),
            json!({"type": "json_schema", "json_schema": {"name": "reply", "description": p.text("response_format.json_schema.description"),
                   "schema": p.schema("response_format.json_schema.schema"), "strict": true}}),
        );
    }
    if p.rng.chance(1, 5) {
        let c = if p.rng.chance(1, 2) {
            Json::String(p.text("prediction.content(string)"))
        } else {
            json!([{"type": "text", "text": p.text("prediction.content[text].text")}])
        };
        b.insert("prediction".into(), json!({"type": "content", "content": c}));
    }
    if p.rng.chance(1, 4) {
        b.insert("user".into(), json!(p.short("user")));
    }
    if p.rng.chance(1, 4) {
        b.insert("safety_identifier".into(), json!(p.short("safety_identifier")));
    }
    if p.rng.chance(1, 4) {
        b.insert("metadata".into(), p.metadata("metadata"));
        b.insert("store".into(), json!(true));
    }
    if p.rng.chance(1, 5) {
        let stop = if p.rng.chance(1, 2) { json!(p.short("stop(string)")) } else { json!([p.short("stop[]"), "\n\n"]) };
        b.insert("stop".into(), stop);
    }
    if p.rng.chance(1, 6) {
        b.insert(
            "web_search_options".into(),
            json!({"search_context_size": "low", "user_location": {"type": "approximate", "approximate": {
                "city": p.short("web_search_options.user_location.approximate.city"),
                "region": p.short("web_search_options.user_location.approximate.region"),
                "country": "US", "timezone": "America/Chicago"}}}),
        );
    }
    b.insert("temperature".into(), json!(0.2));
    if stream {
        b.insert("stream".into(), json!(true));
        b.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Json::Object(b)
}

pub fn completions(p: &mut Planter, stream: bool) -> Json {
    let prompt = if p.rng.chance(2, 3) {
        json!(p.text("prompt(string)"))
    } else {
        json!([p.text("prompt[]"), p.text("prompt[]")])
    };
    let mut b = json!({"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 64});
    if p.rng.chance(1, 3) {
        b["suffix"] = json!(p.text("suffix"));
    }
    if p.rng.chance(1, 4) {
        b["user"] = json!(p.short("user"));
    }
    if p.rng.chance(1, 5) {
        b["stop"] = json!([p.short("stop[]")]);
    }
    if stream {
        b["stream"] = json!(true);
    }
    b
}

pub fn embeddings(p: &mut Planter) -> Json {
    let input = if p.rng.chance(1, 2) {
        json!(p.text("input(string)"))
    } else {
        let n = p.rng.range(2, 4);
        Json::Array((0..n).map(|_| json!(p.text("input[]"))).collect())
    };
    let mut b = json!({"model": "text-embedding-3-small", "input": input, "encoding_format": "float"});
    if p.rng.chance(1, 4) {
        b["user"] = json!(p.short("user"));
    }
    b
}

pub fn moderations(p: &mut Planter) -> Json {
    let input = match p.rng.below(3) {
        0 => json!(p.text("input(string)")),
        1 => json!([p.text("input[]"), p.text("input[]")]),
        _ => json!([
            {"type": "text", "text": p.text("input[text].text")},
            {"type": "image_url", "image_url": {"url": format!("data:image/jpeg;base64,{}", p.base64_data("input[image_url].url"))}}
        ]),
    };
    json!({"model": "omni-moderation-latest", "input": input})
}

fn responses_message(p: &mut Planter, role: &str) -> Json {
    let f = format!("input[message:{role}].content");
    let c = if role == "assistant" {
        let mut parts =
            vec![json!({"type": "output_text", "text": p.text(&format!("{f}[output_text].text")), "annotations": []})];
        if p.rng.chance(1, 4) {
            parts.push(json!({"type": "refusal", "refusal": p.text(&format!("{f}[refusal].refusal"))}));
        }
        let id = p.id("msg_");
        return json!({"type": "message", "id": id, "role": "assistant", "status": "completed", "content": parts});
    } else if p.rng.chance(1, 2) {
        Json::String(p.text(&format!("{f}(string)")))
    } else {
        let mut parts = vec![json!({"type": "input_text", "text": p.text(&format!("{f}[input_text].text"))})];
        if role == "user" && p.rng.chance(1, 3) {
            parts.push(json!({"type": "input_image", "detail": "auto", "image_url":
                format!("data:image/png;base64,{}", p.base64_data(&format!("{f}[input_image].image_url")))}));
        }
        if role == "user" && p.rng.chance(1, 5) {
            parts.push(json!({"type": "input_file", "filename": "report.pdf", "file_data":
                format!("data:application/pdf;base64,{}", p.base64_data(&format!("{f}[input_file].file_data")))}));
        }
        Json::Array(parts)
    };
    if p.rng.chance(1, 2) {
        json!({"type": "message", "role": role, "content": c})
    } else {
        json!({"role": role, "content": c})
    }
}

/// One tool-related or other non-message input item of the Responses API.
fn responses_item(p: &mut Planter) -> Vec<Json> {
    let kind = p.rng.below(9);
    let call_id = p.id("call_");
    let call_id = if kind <= 3 { p.keep("id", "input[*].call_id", call_id) } else { call_id };
    match kind {
        0 => {
            let call = json!({"type": "function_call", "id": p.id("fc_"), "call_id": call_id, "name": "send_note",
                   "arguments": p.json_text("input[function_call].arguments")});
            let output = match p.rng.below(3) {
                0 => json!(p.json_text("input[function_call_output].output(json)")),
                1 => json!(p.text("input[function_call_output].output(string)")),
                _ => {
                    json!([{"type": "input_text", "text": p.text("input[function_call_output].output[input_text].text")}])
                }
            };
            vec![call, json!({"type": "function_call_output", "call_id": call_id, "output": output})]
        }
        1 => vec![
            json!({"type": "custom_tool_call", "id": p.id("ctc_"), "call_id": call_id, "name": "run_sql",
                   "input": p.text("input[custom_tool_call].input")}),
            json!({"type": "custom_tool_call_output", "call_id": call_id,
                   "output": p.text("input[custom_tool_call_output].output")}),
        ],
        2 => vec![
            json!({"type": "local_shell_call", "id": p.id("lsh_"), "call_id": call_id, "status": "completed",
                   "action": {"type": "exec", "command": ["bash", "-lc", p.short("input[local_shell_call].action.command[]")],
                              "env": {"CONTACT": p.short("input[local_shell_call].action.env.*")}}}),
            json!({"type": "local_shell_call_output", "id": p.id("lsho_"), "output": p.text("input[local_shell_call_output].output")}),
        ],
        3 => vec![
            json!({"type": "shell_call", "call_id": call_id, "status": "completed",
                   "action": {"commands": [p.short("input[shell_call].action.commands[]")]}}),
            json!({"type": "shell_call_output", "call_id": call_id, "output": [{
                "stdout": p.text("input[shell_call_output].output[].stdout"),
                "stderr": p.text("input[shell_call_output].output[].stderr"),
                "outcome": {"type": "exit", "exit_code": 0}}]}),
        ],
        4 => {
            let output = if p.rng.chance(1, 2) {
                p.text("input[mcp_call].output")
            } else {
                p.json_text("input[mcp_call].output(json)")
            };
            vec![json!({"type": "mcp_call", "id": p.id("mcp_"), "server_label": "crm", "name": "lookup_customer",
                        "arguments": p.json_text("input[mcp_call].arguments"), "output": output})]
        }
        5 => {
            let enc = p.rng.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 120);
            let enc = p.keep("encrypted_content", "input[reasoning].encrypted_content", format!("gAAAAA{enc}"));
            vec![json!({"type": "reasoning", "id": p.id("rs_"), "encrypted_content": enc,
                        "summary": [{"type": "summary_text", "text": p.text("input[reasoning].summary[].text")}]})]
        }
        6 => vec![json!({"type": "web_search_call", "id": p.id("ws_"), "status": "completed",
                         "action": {"type": "search", "query": p.text("input[web_search_call].action.query")}})],
        7 => vec![responses_message(p, "assistant")],
        _ => {
            let role = *p.rng.pick(&["system", "developer"]);
            vec![responses_message(p, role)]
        }
    }
}

pub fn responses_items(p: &mut Planter) -> Vec<Json> {
    let mut items = Vec::new();
    if p.rng.chance(1, 3) {
        let role = *p.rng.pick(&["system", "developer"]);
        items.push(responses_message(p, role));
    }
    for _ in 0..p.rng.range(0, 3) {
        items.push(responses_message(p, "user"));
        items.extend(responses_item(p));
    }
    items.push(responses_message(p, "user"));
    items
}

fn responses_tools(p: &mut Planter) -> Json {
    let mut tools =
        vec![json!({"type": "function", "name": "send_note", "description": p.text("tools[function].description"),
                                "parameters": p.schema("tools[function].parameters"), "strict": false})];
    if p.rng.chance(1, 2) {
        tools.push(json!({"type": "custom", "name": "run_sql", "description": p.text("tools[custom].description")}));
    }
    if p.rng.chance(1, 3) {
        tools.push(json!({"type": "web_search", "user_location": {"type": "approximate",
            "city": p.short("tools[web_search].user_location.city"), "country": "GB"}}));
    }
    Json::Array(tools)
}

pub fn responses(p: &mut Planter, stream: bool, count_only: bool) -> Json {
    let mut b = Map::new();
    b.insert("model".into(), json!(*p.rng.pick(CHAT_MODELS)));
    let input = if p.rng.chance(1, 3) { json!(p.text("input(string)")) } else { Json::Array(responses_items(p)) };
    b.insert("input".into(), input);
    match p.rng.below(4) {
        0 => {
            b.insert("instructions".into(), json!(p.text("instructions(string)")));
        }
        1 => {
            b.insert(
                "instructions".into(),
                json!([{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": p.text("instructions[].content[input_text].text")}]}]),
            );
        }
        _ => {}
    }
    if p.rng.chance(1, 4) {
        let detail = if p.rng.chance(1, 2) {
            json!(p.text("prompt.variables.*"))
        } else {
            json!({"type": "input_text", "text": p.text("prompt.variables.*.text")})
        };
        b.insert(
            "prompt".into(),
            json!({"id": format!("pmpt_{}", p.hex(32)), "version": "2", "variables": {"customer": p.short("prompt.variables.*"), "details": detail}}),
        );
    }
    if p.rng.chance(1, 4) {
        b.insert(
            "text".into(),
            json!({"format": {"type": "json_schema", "name": "reply", "description": p.text("text.format.description"),
                              "schema": p.schema("text.format.schema"), "strict": true}}),
        );
    }
    if p.rng.chance(1, 3) {
        b.insert("tools".into(), responses_tools(p));
    }
    if !count_only {
        if p.rng.chance(1, 4) {
            b.insert("metadata".into(), p.metadata("metadata"));
        }
        if p.rng.chance(1, 4) {
            b.insert("user".into(), json!(p.short("user")));
        }
        if p.rng.chance(1, 4) {
            b.insert("safety_identifier".into(), json!(p.short("safety_identifier")));
        }
        if p.rng.chance(1, 5) {
            let id = format!("resp_{}", p.hex(40));
            b.insert("previous_response_id".into(), json!(p.keep("id", "previous_response_id", id)));
        }
        b.insert("store".into(), json!(p.rng.chance(1, 2)));
        if stream {
            b.insert("stream".into(), json!(true));
        }
    }
    Json::Object(b)
}

pub fn conversation(p: &mut Planter) -> Json {
    let mut b = json!({"items": responses_items(p)});
    if p.rng.chance(1, 2) {
        b["metadata"] = p.metadata("metadata");
    }
    b
}

pub fn conversation_items(p: &mut Planter) -> Json {
    json!({"items": responses_items(p)})
}

fn thread_message(p: &mut Planter, f: &str) -> Json {
    let content = if p.rng.chance(1, 2) {
        json!(p.text(&format!("{f}.content(string)")))
    } else {
        json!([{"type": "text", "text": p.text(&format!("{f}.content[text].text"))}])
    };
    let mut m = json!({"role": "user", "content": content});
    if p.rng.chance(1, 3) {
        m["metadata"] = p.metadata(&format!("{f}.metadata"));
    }
    m
}

pub fn threads(p: &mut Planter) -> Json {
    let n = p.rng.range(1, 3);
    let msgs: Vec<Json> = (0..n).map(|_| thread_message(p, "messages[]")).collect();
    let mut b = json!({"messages": msgs});
    if p.rng.chance(1, 3) {
        b["metadata"] = p.metadata("metadata");
    }
    b
}

pub fn thread_messages(p: &mut Planter) -> Json {
    thread_message(p, "message")
}

pub fn thread_runs(p: &mut Planter, on_thread: bool) -> Json {
    let asst = format!("asst_{}", p.hex(24));
    let mut b = json!({"assistant_id": asst});
    if p.rng.chance(1, 2) {
        b["instructions"] = json!(p.text("instructions"));
    }
    if on_thread {
        b["additional_instructions"] = json!(p.text("additional_instructions"));
        b["additional_messages"] = json!([thread_message(p, "additional_messages[]")]);
    } else {
        b["thread"] = json!({"messages": [thread_message(p, "thread.messages[]")]});
    }
    b
}

pub fn assistants(p: &mut Planter) -> Json {
    json!({"model": "gpt-4o", "name": "Helpdesk", "description": p.text("description"), "instructions": p.text("instructions"),
           "tools": [{"type": "function", "function": {"name": "send_note", "description": p.text("tools[].function.description"),
                      "parameters": p.schema("tools[].function.parameters")}}],
           "metadata": p.metadata("metadata")})
}

pub fn batches(p: &mut Planter) -> Json {
    let file = format!("file-{}", p.hex(24));
    json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": p.metadata("metadata")})
}

/// Batch input lines (JSONL), each a chat request.
pub fn batch_lines(p: &mut Planter) -> Vec<String> {
    let n = p.rng.range(1, 3);
    (0..n)
        .map(|i| {
            let body = json!({"model": "gpt-4o-mini", "messages": chat_messages(p), "max_tokens": 200});
            json!({"custom_id": format!("request-{}", i + 1), "method": "POST", "url": "/v1/chat/completions", "body": body})
                .to_string()
        })
        .collect()
}
