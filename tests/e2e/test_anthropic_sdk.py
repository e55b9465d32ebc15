"""The official anthropic SDK through Envoy + prompt-guard, with only base_url changed.

Same three outcomes as the OpenAI tests: nothing planted reaches the upstream, the placeholders
do, and the client gets every original back (buffered, streamed, in tool_use input).
"""

import anthropic
import harness
import pytest
from planted import LABELS, PLANTED, PROMPT, leaks, missing_placeholders

REPLY = "You said: " + PROMPT
MODEL = "claude-e2e-mock"  # the mock accepts any model; a real name would trigger SDK deprecation notices
TOOLS = [{"name": "save_note", "description": "Save a note for later.",
          "input_schema": {"type": "object", "properties": {"text": {"type": "string"}},
                           "required": ["text"]}}]


@pytest.fixture
def client(envoy):
    return anthropic.Anthropic(base_url=envoy.base_url, api_key="test-key-not-secret",
                               max_retries=0, timeout=harness.REQUEST_TIMEOUT_S)


def assert_masked(upstream_body, labels=LABELS):
    assert leaks(upstream_body) == [], "planted values reached the upstream"
    assert missing_placeholders(upstream_body, labels) == [], "placeholders missing upstream"


def test_messages_buffered(client, mock):
    with mock.expect_one_request() as upstream:
        raw = client.messages.with_raw_response.create(
            model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}])
    message = raw.parse()
    assert_masked(upstream.body)
    assert message.content[0].text == REPLY
    assert message.stop_reason == "end_turn"
    assert "x-prompt-guard-masked" in raw.headers, "filter did not report its count"
    assert int(raw.headers["x-prompt-guard-masked"]) >= len(PLANTED)


def test_messages_streamed(client, mock):
    with mock.expect_one_request() as upstream:
        with client.messages.stream(model=MODEL, max_tokens=1024,
                                    messages=[{"role": "user", "content": PROMPT}]) as stream:
            pieces = list(stream.text_stream)
            final = stream.get_final_message()
    assert_masked(upstream.body)
    assert "".join(pieces) == REPLY
    assert final.content[0].text == REPLY


def test_system_blocks_and_content_blocks_are_masked(client, mock):
    email = dict(PLANTED)["EMAIL"]
    card = dict(PLANTED)["CREDIT_CARD"]
    with mock.expect_one_request() as upstream:
        message = client.messages.create(
            model=MODEL, max_tokens=1024,
            system=[{"type": "text", "text": f"Escalations go to {email}."}],
            messages=[{"role": "user", "content": [
                {"type": "text", "text": f"My card is {card}. "},
                {"type": "text", "text": PROMPT}]}])
    sent = upstream.json()
    assert sent["system"][0]["text"] == "Escalations go to [EMAIL_1]."
    assert sent["messages"][0]["content"][0]["text"] == "My card is [CREDIT_CARD_1]. "
    assert_masked(upstream.body)
    assert message.content[0].text == f"You said: My card is {card}. {PROMPT}"


def test_tool_use_buffered(client, mock):
    text = "CALL_TOOL " + PROMPT
    with mock.expect_one_request() as upstream:
        message = client.messages.create(model=MODEL, max_tokens=1024, tools=TOOLS,
                                          messages=[{"role": "user", "content": text}])
    assert_masked(upstream.body)
    assert message.stop_reason == "tool_use"
    block = message.content[0]
    assert block.type == "tool_use" and block.name == "save_note"
    assert block.input == {"text": text}


def test_tool_use_streamed(client, mock):
    # input_json_delta carries JSON text in pieces: placeholders are split across events and sit
    # inside a JSON string inside a JSON string.
    text = "CALL_TOOL " + PROMPT
    with mock.expect_one_request() as upstream:
        with client.messages.stream(model=MODEL, max_tokens=1024, tools=TOOLS,
                                    messages=[{"role": "user", "content": text}]) as stream:
            final = stream.get_final_message()
    assert_masked(upstream.body)
    assert final.content[0].input == {"text": text}
