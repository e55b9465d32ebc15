"""Plain HTTP clients through Envoy + prompt-guard: HTTP/1.1 (http.client), HTTP/2 with prior
knowledge (httpx), compressed bodies, encodings the filter cannot read, and pass-through routes.
"""

import gzip
import http.client
import json

import harness
import httpx
import pytest
from planted import PLANTED, PROMPT, leaks, missing_placeholders

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
REPLY = "You said: " + PROMPT
EMAIL = dict(PLANTED)["EMAIL"]


def chat_body(text, stream=False):
    return json.dumps({"model": "gpt-4o-mini", "stream": stream,
                       "messages": [{"role": "user", "content": text}]}).encode()


def sse_data(text):
    """The JSON payloads of an SSE body (OpenAI style: data lines, [DONE] excluded)."""
    payloads = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                payloads.append(json.loads(line[5:].strip()))
    return payloads


def chat_stream_text(body_text):
    return "".join(p["choices"][0]["delta"].get("content") or ""
                   for p in sse_data(body_text) if p.get("choices"))


def upstream_text(upstream):
    """The upstream body as text, decompressed if the filter forwarded it gzip-encoded."""
    body = upstream.body
    if upstream.headers.get("content-encoding", "").lower() == "gzip":
        body = gzip.decompress(body)
    return body


def test_http1_buffered(envoy, mock):
    body = chat_body(PROMPT)
    with mock.expect_one_request() as upstream:
        conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=harness.REQUEST_TIMEOUT_S)
        conn.request("POST", CHAT, body, {"Content-Type": "application/json"})
        reply = conn.getresponse()
        payload = reply.read()
        conn.close()
    assert leaks(upstream.body) == [] and missing_placeholders(upstream.body) == []
    assert reply.status == 200
    assert json.loads(payload)["choices"][0]["message"]["content"] == REPLY
    masked = reply.getheader("x-prompt-guard-masked")
    assert masked is not None, "filter did not report its count"
    assert int(masked) >= len(PLANTED)


def test_http1_streamed_over_keepalive(envoy, mock):
    # Two exchanges on one connection: the filter must not leave the connection in a bad state.
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=harness.REQUEST_TIMEOUT_S)
    for _ in range(2):
        with mock.expect_one_request() as upstream:
            conn.request("POST", CHAT, chat_body(PROMPT, stream=True),
                         {"Content-Type": "application/json", "x-mock-delay-ms": "1"})
            reply = conn.getresponse()
            text = reply.read().decode()
        assert reply.status == 200
        assert leaks(upstream.body) == []
        assert chat_stream_text(text) == REPLY
    conn.close()


def test_first_event_split_before_its_json_is_still_a_stream(envoy, mock):
    # A network chunk inside the first event that starts with `{` must not make the reply a JSON
    # document: the stream is restored event by event and arrives whole.
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(CHAT), content=chat_body(PROMPT, stream=True),
                           headers={"content-type": "application/json", "x-mock-split-first-event": "1"},
                           timeout=harness.REQUEST_TIMEOUT_S)
    assert leaks(upstream.body) == []
    assert reply.status_code == 200
    assert reply.text.startswith("data: ")
    assert chat_stream_text(reply.text) == REPLY


def test_http2_prior_knowledge_buffered_and_streamed(envoy, mock):
    with httpx.Client(http1=False, http2=True, timeout=harness.REQUEST_TIMEOUT_S) as client:
        with mock.expect_one_request() as upstream:
            reply = client.post(envoy.url(CHAT), content=chat_body(PROMPT),
                                headers={"content-type": "application/json"})
        assert reply.http_version == "HTTP/2"
        assert leaks(upstream.body) == []
        assert reply.json()["choices"][0]["message"]["content"] == REPLY

        with mock.expect_one_request() as upstream:
            with client.stream("POST", envoy.url(CHAT), content=chat_body(PROMPT, stream=True),
                               headers={"content-type": "application/json"}) as reply:
                text = "".join(reply.iter_text())
        assert leaks(upstream.body) == []
        assert chat_stream_text(text) == REPLY


def test_gzip_request_body_is_inspected(envoy, mock):
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(CHAT), content=gzip.compress(chat_body(PROMPT)),
                           headers={"content-type": "application/json",
                                    "content-encoding": "gzip"}, timeout=harness.REQUEST_TIMEOUT_S)
    sent = upstream_text(upstream)
    assert leaks(sent) == [] and missing_placeholders(sent) == []
    assert reply.status_code == 200
    assert reply.json()["choices"][0]["message"]["content"] == REPLY


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
def test_gzip_reply_is_decoded_and_restored(envoy, mock, stream):
    with mock.expect_one_request() as upstream:
        with httpx.stream("POST", envoy.url(CHAT), content=chat_body(PROMPT, stream=stream),
                          headers={"content-type": "application/json", "x-mock-gzip": "1"},
                          timeout=harness.REQUEST_TIMEOUT_S) as reply:
            raw = b"".join(reply.iter_raw())  # the bytes as sent: httpx would decode gzip
    assert leaks(upstream.body) == []
    assert reply.status_code == 200
    # The client gets identity encoding: the filter had to decode the reply to restore it.
    assert reply.headers.get("content-encoding", "identity") == "identity"
    assert raw[:2] != b"\x1f\x8b", "reply is still gzip-compressed"
    text = raw.decode()
    if stream:
        assert chat_stream_text(text) == REPLY
    else:
        assert json.loads(text)["choices"][0]["message"]["content"] == REPLY


def test_unsupported_reply_encoding_is_a_502_json_error(envoy, mock):
    with mock.expect_one_request():
        reply = httpx.post(envoy.url(CHAT), content=chat_body(f"mail {EMAIL}"),
                           headers={"content-type": "application/json", "x-mock-encoding": "br"},
                           timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 502
    error = reply.json()["error"]
    assert {"message", "type", "param", "code"} <= set(error)
    assert EMAIL not in reply.text


UNRESTORED = "prompt_guard_responses_unrestored"


def test_corrupt_gzip_reply_is_cut_off_and_counted(envoy, mock):
    # The reply's headers (200, gzip) have left before its body shows it cannot be inflated:
    # the filter can only reset the stream. The client must see a failed exchange, never the
    # undecodable bytes as if they were the answer.
    before = envoy.metrics().value(UNRESTORED, reason="corrupt_encoding")
    with mock.expect_one_request():
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(envoy.url(CHAT), content=chat_body(f"mail {EMAIL}"),
                       headers={"content-type": "application/json", "x-mock-corrupt-gzip": "1"},
                       timeout=harness.REQUEST_TIMEOUT_S)
    assert envoy.metrics().value(UNRESTORED, reason="corrupt_encoding") == before + 1


def test_reply_that_is_not_utf8_goes_on_as_it_is_and_is_counted(envoy, mock):
    # A Latin-1 reply: the filter cannot read it, so it forwards the bytes untouched (the
    # placeholder stays visible; the original never reached the upstream) and counts it.
    before = envoy.metrics().value(UNRESTORED, reason="not_utf8")
    with mock.expect_one_request():
        reply = httpx.post(envoy.url(CHAT), content=chat_body(f"caf\u00e9 {EMAIL}"),
                           headers={"content-type": "application/json", "x-mock-charset": "latin-1"},
                           timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200
    assert b"caf\xe9 [EMAIL_1]" in reply.content
    assert EMAIL.encode() not in reply.content
    assert envoy.metrics().value(UNRESTORED, reason="not_utf8") == before + 1


def test_event_stream_label_on_a_json_body_neither_hangs_nor_leaks_placeholders(envoy, mock):
    # The upstream says text/event-stream but sends one JSON document. Whatever the filter
    # decides, the exchange must complete, and the client must not be left with our placeholders.
    with mock.expect_one_request():
        reply = httpx.post(envoy.url(CHAT), content=chat_body(f"mail {EMAIL}"),
                           headers={"content-type": "application/json", "x-mock-sse-not-sse": "1"},
                           timeout=15)
    assert reply.status_code in (200, 502)
    if reply.status_code == 200:
        assert "[EMAIL_1]" not in reply.text
        assert EMAIL in reply.text


UNGUARDED = [
    ("/internal/echo", PROMPT.encode(), "text/plain"),
    ("/internal/v2/query", chat_body(PROMPT), "application/json"),
    ("/internal/upload", b"\x00\xffbinary " + EMAIL.encode() + b" \xfe", "application/octet-stream"),
]


@pytest.mark.parametrize("path, body, content_type", UNGUARDED, ids=["text", "json", "binary"])
def test_paths_the_operator_lists_pass_through_byte_for_byte(envoy_factory, mock, path, body, content_type):
    # Pass-through is an explicit choice (a route), matched on the normalised path.
    envoy = envoy_factory.start({"routes": [{"prefix": "/INTERNAL", "api": "pass_through"}]})
    # The mock echoes unknown routes, so both directions are compared.
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(path), content=body,
                           headers={"content-type": content_type}, timeout=harness.REQUEST_TIMEOUT_S)
    assert upstream.body == body
    assert reply.status_code == 200
    assert reply.content == body


@pytest.mark.parametrize("path, body, content_type", [
    ("/internal/echo", PROMPT.encode(), "text/plain"),
    ("/v1/models/other", chat_body(PROMPT), "application/json"),
    ("/v1/chat/completions/extra", chat_body(PROMPT), "application/json"),
], ids=["text", "json-near-miss", "suffix-near-miss"])
def test_unknown_paths_are_masked_by_default(envoy, mock, path, body, content_type):
    # An endpoint no adapter knows is a leak until proven otherwise: every string is masked.
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(path), content=body,
                           headers={"content-type": content_type}, timeout=harness.REQUEST_TIMEOUT_S)
    assert leaks(upstream.body) == []
    assert reply.status_code == 200
    # The echo comes back restored (JSON re-serialised, so compared as JSON).
    if content_type == "application/json":
        assert reply.json() == json.loads(body)
    else:
        assert reply.content == body


def test_unknown_binary_body_is_refused_not_forwarded(envoy, mock):
    body = b"\x00\xffbinary " + EMAIL.encode() + b" \xfe"
    with mock.expect_no_request():
        reply = httpx.post(envoy.url("/api/v2/upload"), content=body,
                           headers={"content-type": "application/octet-stream"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 400
    assert reply.headers["x-prompt-guard-rejected"] == "invalid_utf8"


def test_generic_mode_masks_unknown_json_routes(envoy, mock):
    body = json.dumps({"query": PROMPT, "meta": {"n": 1}}).encode()
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url("/internal/llm-gateway"), content=body,
                           headers={"content-type": "application/json"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert leaks(upstream.body) == [] and missing_placeholders(upstream.body) == []
    assert upstream.json()["meta"] == {"n": 1}
    # The mock echoes the masked body; the client must get its own values back.
    assert reply.status_code == 200
    assert reply.json() == {"query": PROMPT, "meta": {"n": 1}}


def test_anthropic_raw_http_streamed(envoy, mock):
    body = json.dumps({"model": "claude-e2e-mock", "max_tokens": 64, "stream": True,
                       "messages": [{"role": "user", "content": PROMPT}]}).encode()
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(MESSAGES), content=body,
                           headers={"content-type": "application/json",
                                    "anthropic-version": "2023-06-01"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert leaks(upstream.body) == []
    text = "".join(p["delta"]["text"] for p in sse_data(reply.text)
                   if p.get("type") == "content_block_delta")
    assert text == REPLY
    # Event framing is kept: every event still carries its event: line.
    assert reply.text.count("event: content_block_delta") == reply.text.count('"content_block_delta"')


def test_stream_is_forwarded_as_it_arrives(envoy, mock):
    # 30 deltas 100 ms apart: a filter that buffered the whole stream would deliver everything
    # at the end; a streaming restorer holds back at most a placeholder prefix.
    text = f"mail {EMAIL} " + "then some more words to stream " * 3
    first, last, body = harness.paced_stream_timing(envoy.url(CHAT), chat_body(text, stream=True),
                                                    delay_ms=100)
    assert chat_stream_text(body) == "You said: " + text
    assert last > 2.5
    assert first is not None and first < last / 2, (first, last)
