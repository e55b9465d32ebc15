"""The official openai SDK through Envoy + prompt-guard, with only base_url changed.

Every test sends the planted prompt (one value of every entity kind) and asserts three outcomes:
the upstream received none of the planted values, it received the placeholders, and the client
got back exactly what it sent (the mock echoes the user text, so every placeholder must have been
restored, JSON-escaped correctly, also when split across streamed events).
"""

import json
import re

import harness
import openai
import pytest
from planted import LABELS, PLANTED, PROMPT, leaks, missing_placeholders

REPLY = "You said: " + PROMPT
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*_[1-9][0-9]*\]")
TOOLS = [{"type": "function", "function": {
    "name": "save_note", "description": "Save a note for later.",
    "parameters": {"type": "object", "properties": {"text": {"type": "string"}},
                   "required": ["text"]}}}]


@pytest.fixture
def client(envoy):
    return openai.OpenAI(base_url=envoy.url("/v1"), api_key="test-key-not-secret", max_retries=0,
                         timeout=harness.REQUEST_TIMEOUT_S)


def assert_masked(upstream_body, labels=LABELS):
    assert leaks(upstream_body) == [], "planted values reached the upstream"
    assert missing_placeholders(upstream_body, labels) == [], "placeholders missing upstream"


def user(text):
    return [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": text}]


def test_chat_buffered(client, mock):
    with mock.expect_one_request() as upstream:
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                              messages=user(PROMPT))
    completion = raw.parse()
    assert_masked(upstream.body)
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    masked_upstream = len(PLACEHOLDER.findall(upstream.body.decode()))
    assert "x-prompt-guard-masked" in raw.headers, "filter did not report its count"
    assert int(raw.headers["x-prompt-guard-masked"]) == masked_upstream >= len(PLANTED)


def test_chat_streamed(client, mock):
    with mock.expect_one_request() as upstream:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=user(PROMPT),
                                                stream=True, stream_options={"include_usage": True})
        pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
    assert_masked(upstream.body)
    assert "".join(pieces) == REPLY


def test_chat_content_parts_and_history_keep_placeholders_stable(client, mock):
    # Chat clients resend the whole history: the same value must get the same placeholder in
    # every message, and the restored reply must use the original again.
    email = dict(PLANTED)["EMAIL"]
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Write to "},
                                     {"type": "text", "text": email}]},
        {"role": "assistant", "content": f"You said: Write to {email}"},
        {"role": "user", "content": f"Again: {email} and also {PROMPT}"},
    ]
    with mock.expect_one_request() as upstream:
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    sent = upstream.json()["messages"]
    assert sent[0]["content"][1]["text"] == "[EMAIL_1]"
    assert sent[1]["content"] == "You said: Write to [EMAIL_1]"
    assert sent[2]["content"].startswith("Again: [EMAIL_1] and also")
    assert_masked(upstream.body)
    assert completion.choices[0].message.content == f"You said: Again: {email} and also {PROMPT}"


def test_completions_buffered_and_streamed(client, mock):
    with mock.expect_one_request() as upstream:
        completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT)
    assert_masked(upstream.body)
    assert completion.choices[0].text == REPLY

    with mock.expect_one_request() as upstream:
        stream = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT,
                                           stream=True)
        text = "".join(chunk.choices[0].text for chunk in stream if chunk.choices)
    assert_masked(upstream.body)
    assert text == REPLY


def test_responses_buffered(client, mock):
    with mock.expect_one_request() as upstream:
        response = client.responses.create(model="gpt-4.1-mini", input=PROMPT,
                                           instructions="Answer briefly.")
    assert_masked(upstream.body)
    assert response.output_text == REPLY


def test_responses_streamed(client, mock):
    with mock.expect_one_request() as upstream:
        stream = client.responses.create(model="gpt-4.1-mini", stream=True, input=[
            {"role": "user", "content": [{"type": "input_text", "text": PROMPT}]}])
        deltas, done_text, final = [], None, None
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
            elif event.type == "response.output_text.done":
                done_text = event.text
            elif event.type == "response.completed":
                final = event.response
    assert_masked(upstream.body)
    assert "".join(deltas) == REPLY
    assert done_text == REPLY
    assert final is not None and final.output_text == REPLY


def test_embeddings(client, mock):
    with mock.expect_one_request() as upstream:
        result = client.embeddings.create(model="text-embedding-3-small",
                                          input=[PROMPT, "nothing sensitive here"])
    assert_masked(upstream.body)
    sent = upstream.json()["input"]
    assert sent[1] == "nothing sensitive here"
    assert [item.index for item in result.data] == [0, 1]
    assert all(len(item.embedding) == 8 for item in result.data)


def test_tool_call_arguments_buffered(client, mock):
    text = "CALL_TOOL " + PROMPT
    with mock.expect_one_request() as upstream:
        completion = client.chat.completions.create(model="gpt-4o-mini", messages=user(text),
                                                    tools=TOOLS)
    assert_masked(upstream.body)
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "save_note"
    # The arguments are JSON inside a JSON string: restoring must escape for both levels.
    assert json.loads(call.function.arguments) == {"text": text}


def test_tool_call_arguments_streamed(client, mock):
    text = "CALL_TOOL " + PROMPT
    with mock.expect_one_request() as upstream:
        with client.chat.completions.stream(model="gpt-4o-mini", messages=user(text),
                                            tools=TOOLS) as stream:
            for _ in stream:
                pass
            completion = stream.get_final_completion()
    assert_masked(upstream.body)
    call = completion.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"text": text}
