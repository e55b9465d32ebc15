"""The reply policy (`policy.reply`) through real Envoy: personal data and secrets that a reply
carries but the request did not (the mock "recites" a customer record, `x-mock-recite`) pass, are
redacted, masked, or stop the reply, per type; buffered and streamed (the mock streams 4-character
deltas, so every value is split across events), in reply text and in tool-call arguments, for
OpenAI chat and Anthropic Messages. The client's own address, masked in the request, always comes
back. Counted in prompt_guard_reply_entities{type,action}.

Values: 4242 4242 4242 4242 is Stripe's documented test card; 536-90-4411 and the password were
written for this project (the SSN structurally valid, not anyone's); jane.doe@example.com is at a
domain reserved for documentation (RFC 2606).
"""

import base64
import json

import harness
import httpx
import pytest

CHAT = harness.CHAT_PATH
MESSAGES = harness.MESSAGES_PATH
EMAIL = "jane.doe@example.com"
CARD = "4242 4242 4242 4242"
SSN = "536-90-4411"
PASSWORD = "Hunter2xQ9z!"
RECORD = f" Customer on file: card {CARD}, SSN {SSN}, portal password = {PASSWORD} to rotate."
ASK = f"Write to me at {EMAIL} with the record."
POLICY = {"default": "pass", "CREDIT_CARD": "redact", "US_SSN": "mask", "secrets": "redact"}
STOPPED = "prompt-guard stopped this reply"


def start(mock, tmp_path_factory, config):
    instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("envoy"), mock.port, filter_config=config)
    return instance


@pytest.fixture(scope="module")
def policy_envoy(mock, tmp_path_factory):
    instance = start(mock, tmp_path_factory, {"policy": {"reply": POLICY}})
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def stop_envoy(mock, tmp_path_factory):
    instance = start(mock, tmp_path_factory, {"policy": {"reply": {"US_SSN": "stop", "CREDIT_CARD": "redact"}}})
    yield instance
    instance.stop()


def tools_for(path):
    schema = {"type": "object", "properties": {"text": {"type": "string"}}}
    if path == MESSAGES:
        return [{"name": "lookup", "description": "look a record up", "input_schema": schema}]
    return [{"type": "function", "function": {"name": "lookup", "parameters": schema}}]


def post(envoy, path, text, stream, tool=False):
    """(status, raw reply text) of one request whose reply recites RECORD."""
    body = harness.chat_request(path, text, stream)
    if tool:
        body["tools"] = tools_for(path)
    headers = {"content-type": "application/json",
               "x-mock-recite": base64.b64encode(RECORD.encode()).decode()}
    if path == MESSAGES:
        headers["anthropic-version"] = "2023-06-01"
    with httpx.stream("POST", envoy.url(path), content=json.dumps(body), headers=headers,
                      timeout=harness.REQUEST_TIMEOUT_S) as reply:
        raw = b"".join(reply.iter_bytes()).decode()
    return reply.status_code, raw


def tool_input(path, stream, raw):
    """The tool call's arguments (OpenAI) or input (Anthropic), as JSON."""
    if not stream:
        body = json.loads(raw)
        if path == MESSAGES:
            return next(b["input"] for b in body["content"] if b["type"] == "tool_use")
        return json.loads(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"])
    args = ""
    for payload in harness.sse_payloads(raw):
        if path == MESSAGES:
            args += (payload.get("delta") or {}).get("partial_json", "")
        elif payload.get("choices"):
            for call in payload["choices"][0]["delta"].get("tool_calls") or []:
                args += (call.get("function") or {}).get("arguments") or ""
    return json.loads(args)


def assert_policy_applied(text, where):
    assert f"Write to me at {EMAIL}" in text, f"{where}: the client's own address: {text}"
    assert "card [REDACTED:CREDIT_CARD], SSN ***-**-****," in text, f"{where}: {text}"
    assert PASSWORD not in text and "[REDACTED:SECRET]" in text, f"{where}: {text}"
    assert "4242" not in text and "4411" not in text, f"{where}: {text}"


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("path", [CHAT, MESSAGES], ids=["openai", "anthropic"])
def test_reply_text_is_redacted_and_masked_per_type(policy_envoy, mock, path, stream):
    before = policy_envoy.metrics()
    status, raw = post(policy_envoy, path, ASK, stream)
    assert status == 200, raw
    # The upstream saw the client's address masked.
    assert EMAIL not in mock.last_request().decode()
    assert_policy_applied(harness.reply_text(path, stream, raw.encode()), f"{path} stream={stream}")
    after = policy_envoy.metrics()
    for label, action in [("CREDIT_CARD", "redact"), ("US_SSN", "mask"), ("SECRET", "redact")]:
        grew = (after.value("prompt_guard_reply_entities", type=label, action=action)
                - before.value("prompt_guard_reply_entities", type=label, action=action))
        assert grew == 1, f"{label} {action}: {grew}"


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("path", [CHAT, MESSAGES], ids=["openai", "anthropic"])
def test_tool_call_arguments_are_acted_on_too(policy_envoy, mock, path, stream):
    status, raw = post(policy_envoy, path, f"CALL_TOOL {ASK}", stream, tool=True)
    assert status == 200, raw
    args = tool_input(path, stream, raw)
    assert_policy_applied(args["text"], f"{path} stream={stream} tool")


@pytest.mark.parametrize("path", [CHAT, MESSAGES], ids=["openai", "anthropic"])
def test_a_stopped_buffered_reply_is_replaced_by_an_error_in_the_apis_shape(stop_envoy, mock, path):
    status, raw = post(stop_envoy, path, ASK, stream=False)
    # Envoy sent the upstream's status and headers before the body was read: the body is the error.
    assert status == 200, raw
    assert SSN not in raw and "4242" not in raw
    body = json.loads(raw)
    assert STOPPED in body["error"]["message"]
    if path == MESSAGES:
        assert body["type"] == "error"
    else:
        assert body["error"]["code"] == "prompt_guard_reply_blocked"
    assert stop_envoy.metrics().value("prompt_guard_reply_entities", type="US_SSN", action="stop") >= 1


@pytest.mark.parametrize("path", [CHAT, MESSAGES], ids=["openai", "anthropic"])
def test_a_stopped_stream_ends_with_an_error_event_before_the_value(stop_envoy, mock, path):
    status, raw = post(stop_envoy, path, ASK, stream=True)
    assert status == 200
    assert "536-" not in raw and "4411" not in raw, raw
    # The client got at most the text before the SSN (its own address restored; the last few
    # hundred bytes are held back, so a reply this short sends nothing), then the error.
    text = harness.streamed_text(path, raw)
    whole = f"You said: {ASK}{RECORD}".replace(CARD, "[REDACTED:CREDIT_CARD]")
    assert whole[:whole.index(SSN)].startswith(text), text
    last = raw.strip().replace("\r\n", "\n").split("\n\n")[-1]
    assert STOPPED in last, last
    assert "[DONE]" not in raw and "message_stop" not in raw


def test_without_a_policy_values_pass_and_are_counted(envoy, mock):
    before = envoy.metrics().value("prompt_guard_reply_entities", type="CREDIT_CARD", action="pass")
    status, raw = post(envoy, CHAT, ASK, stream=False)
    assert status == 200
    text = harness.reply_text(CHAT, False, raw.encode())
    assert CARD in text and SSN in text and f"Write to me at {EMAIL}" in text
    after = envoy.metrics().value("prompt_guard_reply_entities", type="CREDIT_CARD", action="pass")
    assert after - before == 1


def test_an_unknown_type_in_the_policy_is_refused(envoy_factory):
    code, log = envoy_factory.expect_refusal({"policy": {"reply": {"CREDIT_CARDS": "redact"}}})
    assert code != 0
    assert "policy.reply.CREDIT_CARDS" in log


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
def test_responses_api_events_that_repeat_the_text_are_acted_on_too(policy_envoy, mock, stream):
    """The Responses API repeats the whole text (`response.output_text.done`, `response.completed`):
    no copy of the record may get through."""
    body = {"model": "gpt-4o-mini", "stream": stream, "input": ASK}
    headers = {"content-type": "application/json",
               "x-mock-recite": base64.b64encode(RECORD.encode()).decode()}
    reply = httpx.post(policy_envoy.url("/v1/responses"), content=json.dumps(body), headers=headers,
                       timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text
    raw = reply.text
    assert "4242" not in raw and SSN not in raw and PASSWORD not in raw, raw
    if stream:
        texts = [p["text"] for p in harness.sse_payloads(raw) if p.get("type") == "response.output_text.done"]
        deltas = "".join(p["delta"] for p in harness.sse_payloads(raw)
                         if p.get("type") == "response.output_text.delta")
        assert texts == [deltas], (texts, deltas)
    else:
        texts = [c["text"] for item in reply.json()["output"] for c in item.get("content", [])
                 if c.get("type") == "output_text"]
    assert len(texts) == 1
    assert_policy_applied(texts[0], f"responses stream={stream}")
