//! Conversations over several exchanges, the way a client holds them: the upstream's reply (here
//! a mock-style echo of the last user text, as the end-to-end mock sends) is restored by the
//! filter, and the client's next request carries that restored reply as history, i.e. the
//! originals in clear, without the context they were first found in. Tool loops (the reply is a
//! tool call whose arguments echo the text) and thinking round trips (the reply opens with a
//! signed thinking block that the client must send back byte for byte) are variants.

use serde_json::{json, Value as Json};

use super::case::Family;
use super::text::{Keep, Planter};

pub const REPLY_PREFIX: &str = "You said: ";

/// How the echo replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    Text,
    /// A structured output (`response_format`/`text.format` json_schema): the reply text is a
    /// JSON document whose string holds the echo.
    Json,
    ToolCall,
    Thinking,
}

fn text_of_content(c: &Json) -> String {
    match c {
        Json::String(s) => s.clone(),
        Json::Array(parts) => parts
            .iter()
            .filter_map(|p| match p {
                Json::String(s) => Some(s.as_str()),
                Json::Object(_) => p.get("text").and_then(Json::as_str),
                _ => None,
            })
            .collect(),
        _ => String::new(),
    }
}

/// The text the mock echoes: the last user message's text parts (as `tests/mock_llm.py` reads it).
pub fn last_user_text(family: Family, doc: &Json) -> String {
    match family {
        Family::Chat | Family::Anthropic => doc
            .get("messages")
            .and_then(Json::as_array)
            .and_then(|m| m.iter().rev().find(|m| m.get("role").and_then(Json::as_str) == Some("user")))
            .map(|m| text_of_content(m.get("content").unwrap_or(&Json::Null)))
            .unwrap_or_default(),
        Family::Completions => match doc.get("prompt") {
            Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
            Some(Json::String(s)) => s.clone(),
            _ => String::new(),
        },
        Family::Responses => match doc.get("input") {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Array(items)) => items
                .iter()
                .rev()
                .find(|i| {
                    i.get("content").is_some() && i.get("role").and_then(Json::as_str).unwrap_or("user") == "user"
                })
                .map(|i| text_of_content(i.get("content").unwrap_or(&Json::Null)))
                .unwrap_or_default(),
            _ => String::new(),
        },
        Family::Other => String::new(),
    }
}

/// The upstream's reply to a forwarded request (`doc` is what the upstream received).
pub fn echo_reply(family: Family, doc: &Json, echo: Echo, signature: &str) -> Json {
    let user = last_user_text(family, doc);
    let reply = if echo == Echo::Json {
        json!({ "reply": format!("{REPLY_PREFIX}{user}") }).to_string()
    } else {
        format!("{REPLY_PREFIX}{user}")
    };
    let args = json!({ "text": user }).to_string();
    match (family, echo) {
        (Family::Chat, Echo::ToolCall) => {
            json!({"id": "chatcmpl-leakgen", "object": "chat.completion", "created": 1_700_000_000,
            "model": "gpt-mock", "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_leakgen1", "type": "function", "function": {"name": "send_note", "arguments": args}}]}}]})
        }
        (Family::Chat, _) => {
            json!({"id": "chatcmpl-leakgen", "object": "chat.completion", "created": 1_700_000_000, "model": "gpt-mock",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply, "refusal": null}}]})
        }
        (Family::Completions, _) => json!({"id": "cmpl-leakgen", "object": "text_completion", "created": 1_700_000_000,
            "model": "gpt-mock-instruct", "choices": [{"text": reply, "index": 0, "logprobs": null, "finish_reason": "stop"}]}),
        (Family::Responses, Echo::ToolCall) => {
            json!({"id": "resp_leakgen", "object": "response", "status": "completed",
            "output": [{"type": "function_call", "id": "fc_leakgen1", "call_id": "call_leakgen1", "name": "send_note", "arguments": args, "status": "completed"}]})
        }
        (Family::Responses, _) => json!({"id": "resp_leakgen", "object": "response", "status": "completed",
            "output": [{"type": "message", "id": "msg_leakgen1", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": reply, "annotations": []}]}]}),
        (Family::Anthropic, Echo::ToolCall) => {
            json!({"id": "msg_leakgen", "type": "message", "role": "assistant", "model": "claude-mock",
            "stop_reason": "tool_use", "content": [{"type": "text", "text": "Sending the note."},
            {"type": "tool_use", "id": "toolu_leakgen1", "name": "send_note", "input": {"text": user}}]})
        }
        (Family::Anthropic, Echo::Thinking) => {
            json!({"id": "msg_leakgen", "type": "message", "role": "assistant", "model": "claude-mock",
            "stop_reason": "end_turn", "content": [
                {"type": "thinking", "thinking": format!("The user wrote: {user}"), "signature": signature},
                {"type": "text", "text": reply}]})
        }
        (Family::Anthropic, _) => {
            json!({"id": "msg_leakgen", "type": "message", "role": "assistant", "model": "claude-mock",
            "stop_reason": "end_turn", "content": [{"type": "text", "text": reply}]})
        }
        (Family::Other, _) => json!({}),
    }
}

/// The client's next request: its previous request, the restored reply as history, then a tool
/// result or a new user message (with new plants, labelled `turn2`).
pub fn next_turn(family: Family, first: &Json, reply: &Json, p: &mut Planter) -> Option<Json> {
    let mut doc = first.clone();
    match family {
        Family::Chat => {
            let message = reply.pointer("/choices/0/message")?.clone();
            let calls = message.get("tool_calls").and_then(Json::as_array).cloned().unwrap_or_default();
            let msgs = doc.get_mut("messages")?.as_array_mut()?;
            msgs.push(message);
            if let Some(id) = calls.first().and_then(|c| c.get("id")).and_then(Json::as_str) {
                msgs.push(
                    json!({"role": "tool", "tool_call_id": id, "content": p.text("turn2.messages[tool].content")}),
                );
            } else {
                msgs.push(json!({"role": "user", "content": p.text("turn2.messages[user].content")}));
            }
        }
        Family::Completions => {
            let text = reply.pointer("/choices/0/text")?.as_str()?.to_owned();
            let before = last_user_text(family, first);
            doc["prompt"] = json!(format!("{before}\n{text}\n{}", p.text("turn2.prompt")));
        }
        Family::Responses => {
            let mut items = match doc.get("input") {
                Some(Json::String(s)) => vec![json!({"role": "user", "content": s})],
                Some(Json::Array(a)) => a.clone(),
                _ => return None,
            };
            let output = reply.get("output")?.as_array()?.clone();
            let call = output.iter().find_map(|o| o.get("call_id").and_then(Json::as_str).map(str::to_owned));
            items.extend(output);
            if let Some(call_id) = call {
                items.push(json!({"type": "function_call_output", "call_id": call_id, "output": p.text("turn2.input[function_call_output].output")}));
            } else {
                items.push(json!({"role": "user", "content": p.text("turn2.input[user].content")}));
            }
            doc["input"] = Json::Array(items);
        }
        Family::Anthropic => {
            let content = reply.get("content")?.clone();
            let tool = content
                .as_array()?
                .iter()
                .find(|b| b.get("type").and_then(Json::as_str) == Some("tool_use"))
                .and_then(|b| b.get("id").and_then(Json::as_str).map(str::to_owned));
            let msgs = doc.get_mut("messages")?.as_array_mut()?;
            msgs.push(json!({"role": "assistant", "content": content}));
            let mut blocks = Vec::new();
            if let Some(id) = tool {
                blocks.push(json!({"type": "tool_result", "tool_use_id": id, "content": p.text("turn2.messages[user].content[tool_result].content")}));
            }
            blocks.push(json!({"type": "text", "text": p.text("turn2.messages[user].content[text].text")}));
            msgs.push(json!({"role": "user", "content": blocks}));
        }
        Family::Other => return None,
    }
    Some(doc)
}

/// The thinking block of an echo reply, which the client must send back unchanged.
pub fn thinking_keep(reply_as_sent: &Json) -> Option<Keep> {
    let t = reply_as_sent.pointer("/content/0/thinking")?.as_str()?;
    Some(Keep {
        kind: "thinking-roundtrip".into(),
        field: "turn2.messages[assistant].content[thinking].thinking".into(),
        text: t.to_owned(),
    })
}
