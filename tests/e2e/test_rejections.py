"""Requests the filter cannot inspect: fail closed by default (provider-shaped JSON error, nothing
forwarded), forwarded untouched with `"fail_open": true`.

The table is run for an OpenAI route and an Anthropic route, because the error body must have
the shape of the API the client called.
"""

import gzip
import json

import harness
import httpx
import pytest
from planted import PLANTED

MAX_BODY = 4096
EMAIL = dict(PLANTED)["EMAIL"]
ROUTES = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}


def body_with(text):
    return json.dumps({"model": "m", "max_tokens": 16,
                       "messages": [{"role": "user", "content": text}]}).encode()


# (case id, body, extra request headers, status when failing closed)
CASES = [
    ("body_too_large", body_with("lorem ipsum " * (MAX_BODY // 8) + EMAIL), {}, 413),
    ("malformed_json", b'{"model": "m", "messages": [{"role": "user", "content": "' +
     EMAIL.encode() + b'"}', {}, 400),
    ("invalid_utf8", b'{"model":"m","messages":[{"role":"user","content":"caf\xe9 ' +
     EMAIL.encode() + b'"}]}', {}, 400),
    ("encoding_br", body_with(f"mail {EMAIL}"), {"content-encoding": "br"}, 415),
    ("encoding_zstd", body_with(f"mail {EMAIL}"), {"content-encoding": "zstd"}, 415),
    # deflate is read, but these bytes are not deflate data: a clear 400, not a guess.
    ("encoding_deflate_corrupt", body_with(f"mail {EMAIL}"), {"content-encoding": "deflate"}, 400),
]
CASE_IDS = [case[0] for case in CASES]


@pytest.fixture(scope="module")
def strict_envoy(mock, tmp_path_factory):
    instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("strict"), mock.port,
                                           filter_config={"max_body_bytes": MAX_BODY})
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def fail_open_envoy(mock, tmp_path_factory):
    instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("fail-open"), mock.port,
                                           filter_config={"max_body_bytes": MAX_BODY,
                                                          "fail_open": True})
    yield instance
    instance.stop()


def total(metrics, name):
    return sum(value for _, value in metrics.with_name(name))


def assert_provider_error(api, reply):
    assert reply.headers.get("content-type", "").startswith("application/json")
    payload = reply.json()
    if api == "openai":
        error = payload["error"]
        assert {"message", "type", "param", "code"} <= set(error)
    else:
        assert payload["type"] == "error"
        error = payload["error"]
        assert {"type", "message"} <= set(error)
    assert isinstance(error["message"], str) and error["message"]
    # An error must never echo what it refused to forward.
    assert EMAIL not in reply.text


@pytest.mark.parametrize("api", ROUTES)
@pytest.mark.parametrize("case, body, headers, status", CASES, ids=CASE_IDS)
def test_fail_closed(strict_envoy, mock, api, case, body, headers, status):
    before = strict_envoy.metrics()
    with mock.expect_no_request():
        reply = httpx.post(strict_envoy.url(ROUTES[api]), content=body,
                           headers={"content-type": "application/json", **headers}, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == status, reply.text[:500]
    assert_provider_error(api, reply)
    after = strict_envoy.metrics()
    name = "prompt_guard_rejections"
    assert total(after, name) == total(before, name) + 1
    assert all(labels.keys() == {"reason"} for labels, _ in after.with_name(name))


def test_corrupt_gzip_request_is_refused(strict_envoy, mock):
    with mock.expect_no_request():
        reply = httpx.post(strict_envoy.url(ROUTES["openai"]),
                           content=b"\x1f\x8b\x08\x00not really gzip " + EMAIL.encode(),
                           headers={"content-type": "application/json",
                                    "content-encoding": "gzip"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code in (400, 415)
    assert_provider_error("openai", reply)


def test_body_just_under_the_limit_is_accepted(strict_envoy, mock):
    body = body_with("x")
    body = body_with("x" * (MAX_BODY - len(body) - 16))
    assert len(body) < MAX_BODY
    with mock.expect_one_request():
        reply = httpx.post(strict_envoy.url(ROUTES["openai"]), content=body, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200


def test_gzip_bomb_counts_decoded_size(strict_envoy, mock):
    # 1 MB of text compresses to about 1 KB: the limit must apply to what the filter inspects.
    body = gzip.compress(body_with("a" * 1_000_000))
    assert len(body) < MAX_BODY
    with mock.expect_no_request():
        reply = httpx.post(strict_envoy.url(ROUTES["openai"]), content=body,
                           headers={"content-type": "application/json",
                                    "content-encoding": "gzip"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 413
    assert_provider_error("openai", reply)


@pytest.mark.parametrize("api", ROUTES)
@pytest.mark.parametrize("case, body, headers, status", CASES, ids=CASE_IDS)
def test_fail_open_forwards_untouched(fail_open_envoy, mock, api, case, body, headers, status):
    before = fail_open_envoy.metrics()
    with mock.expect_one_request() as upstream:
        reply = httpx.post(fail_open_envoy.url(ROUTES[api]), content=body,
                           headers={"content-type": "application/json", **headers}, timeout=harness.REQUEST_TIMEOUT_S)
    assert upstream.body == body
    reason = reply.headers.get("x-prompt-guard-fail-open")
    assert reason, "fail-open response lacks x-prompt-guard-fail-open"
    after = fail_open_envoy.metrics()
    moved = after.value("prompt_guard_fail_open", reason=reason) - \
        before.value("prompt_guard_fail_open", reason=reason)
    assert moved == 1
