"""The mock LLM on its own (no Envoy): the official SDKs parse every reply shape it produces, so a
failure elsewhere in this directory is about the filter, not the mock.
"""

import gzip
import json

import anthropic
import harness
import httpx
import openai
import pytest

TOOLS_OPENAI = [{"type": "function", "function": {"name": "save_note", "parameters": {
    "type": "object", "properties": {"text": {"type": "string"}}}}}]
TOOLS_ANTHROPIC = [{"name": "save_note", "input_schema": {
    "type": "object", "properties": {"text": {"type": "string"}}}}]
TEXT = 'quote " backslash \\ newline \n unicode é 💡 [EMAIL_1]'


@pytest.fixture
def oai(mock):
    return openai.OpenAI(base_url=mock.base_url + "/v1", api_key="k", max_retries=0,
                         timeout=harness.REQUEST_TIMEOUT_S)


@pytest.fixture
def ant(mock):
    return anthropic.Anthropic(base_url=mock.base_url, api_key="k", max_retries=0,
                               timeout=harness.REQUEST_TIMEOUT_S)


def user(text):
    return [{"role": "user", "content": text}]


def test_openai_shapes(oai):
    assert oai.chat.completions.create(model="m", messages=user(TEXT)).choices[0].message.content \
        == "You said: " + TEXT
    stream = oai.chat.completions.create(model="m", messages=user(TEXT), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "You said: " + TEXT
    assert oai.completions.create(model="m", prompt=TEXT).choices[0].text == "You said: " + TEXT
    assert oai.responses.create(model="m", input=TEXT).output_text == "You said: " + TEXT
    with oai.responses.stream(model="m", input=TEXT) as stream:
        for _ in stream:
            pass
        assert stream.get_final_response().output_text == "You said: " + TEXT
    vectors = oai.embeddings.create(model="m", input=[TEXT, TEXT, "other"]).data
    assert vectors[0].embedding == vectors[1].embedding != vectors[2].embedding


def test_openai_tool_calls(oai):
    text = "CALL_TOOL " + TEXT
    call = oai.chat.completions.create(model="m", messages=user(text), tools=TOOLS_OPENAI) \
        .choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"text": text}
    with oai.chat.completions.stream(model="m", messages=user(text), tools=TOOLS_OPENAI) as stream:
        for _ in stream:
            pass
        call = stream.get_final_completion().choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"text": text}
    response = oai.responses.create(model="m", input=text, tools=[
        {"type": "function", "name": "save_note", "parameters": TOOLS_OPENAI[0]["function"]["parameters"]}])
    assert json.loads(response.output[0].arguments) == {"text": text}


def test_anthropic_shapes(ant):
    message = ant.messages.create(model="m", max_tokens=8, messages=user(TEXT),
                                  system=[{"type": "text", "text": "sys"}])
    assert message.content[0].text == "You said: " + TEXT
    with ant.messages.stream(model="m", max_tokens=8, messages=user(TEXT)) as stream:
        assert stream.get_final_text() == "You said: " + TEXT
    text = "CALL_TOOL " + TEXT
    message = ant.messages.create(model="m", max_tokens=8, messages=user(text), tools=TOOLS_ANTHROPIC)
    assert message.content[0].input == {"text": text}
    with ant.messages.stream(model="m", max_tokens=8, messages=user(text), tools=TOOLS_ANTHROPIC) as s:
        assert s.get_final_message().content[0].input == {"text": text}


def test_hooks_and_records(mock):
    body = json.dumps({"messages": user(TEXT), "stream": True}).encode()
    with mock.expect_one_request() as upstream:
        with httpx.stream("POST", mock.base_url + "/v1/chat/completions", content=body,
                          headers={"x-mock-gzip": "1"}) as reply:
            raw = b"".join(reply.iter_raw())  # iter_raw: bytes as sent, not decoded by httpx
    assert upstream.body == body
    assert reply.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw).decode().endswith("data: [DONE]\n\n")
    reply = httpx.post(mock.base_url + "/v1/chat/completions", content=body,
                       headers={"x-mock-encoding": "br"})
    assert reply.headers["content-encoding"] == "br"
    reply = httpx.post(mock.base_url + "/v1/messages", content=b"{not json")
    assert reply.status_code == 400 and reply.json()["type"] == "error"
    reply = httpx.post(mock.base_url + "/v1/chat/completions", content=body,
                       headers={"x-mock-sse-not-sse": "1"})
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.json()["object"] == "chat.completion"
