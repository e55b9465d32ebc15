"""The harness itself, proven against bare Envoy (no wasm filter) and the mock LLM.

These pass without the filter; if they fail, nothing else in this directory can be trusted.
"""

import http.client
import json
import subprocess
import sys

import harness
import httpx
import pytest

CHAT_PATH = "/v1/chat/completions"


def chat_body(text, stream=False):
    return json.dumps({"model": "gpt-mock", "stream": stream,
                       "messages": [{"role": "user", "content": text}]}).encode()


def test_bare_envoy_forwards_http1_byte_for_byte(bare_envoy, mock):
    body = chat_body("hello over HTTP/1.1")
    with mock.expect_one_request() as upstream:
        conn = http.client.HTTPConnection("127.0.0.1", bare_envoy.port, timeout=10)
        conn.request("POST", CHAT_PATH, body, {"Content-Type": "application/json"})
        reply = conn.getresponse()
        payload = reply.read()
        conn.close()
    assert reply.status == 200
    assert upstream.body == body
    assert json.loads(payload)["choices"][0]["message"]["content"] == "You said: hello over HTTP/1.1"


def test_bare_envoy_speaks_h2c_prior_knowledge(bare_envoy, mock):
    with httpx.Client(http1=False, http2=True, timeout=10) as client:
        with mock.expect_one_request() as upstream:
            reply = client.post(bare_envoy.url(CHAT_PATH), content=chat_body("hello over h2c"),
                                headers={"content-type": "application/json"})
    assert reply.http_version == "HTTP/2"
    assert reply.status_code == 200
    assert upstream.json()["messages"][0]["content"] == "hello over h2c"
    assert reply.json()["choices"][0]["message"]["content"] == "You said: hello over h2c"


def test_mock_streams_in_small_deltas_through_envoy(bare_envoy):
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", bare_envoy.url(CHAT_PATH),
                           content=chat_body("split [EMAIL_1] please", stream=True)) as reply:
            text = b"".join(reply.iter_raw()).decode()
    events = [block for block in text.split("\n\n") if block]
    assert events[-1] == "data: [DONE]"
    deltas = [json.loads(e[len("data: "):])["choices"][0]["delta"].get("content")
              for e in events[:-1]]
    pieces = [d for d in deltas if d]
    assert "".join(pieces) == "You said: split [EMAIL_1] please"
    assert max(len(p) for p in pieces) <= 4
    # The placeholder is cut across events: a restorer must hold back across event boundaries.
    assert "[EMAIL_1]" not in pieces


def test_metrics_reader_sees_envoy_counters_move(bare_envoy):
    name = "envoy_http_downstream_rq_total"
    labels = {"envoy_http_conn_manager_prefix": "llm_ingress"}
    before = bare_envoy.metrics().value(name, **labels)
    httpx.post(bare_envoy.url(CHAT_PATH), content=chat_body("count me"), timeout=10)
    after = bare_envoy.metrics().value(name, **labels)
    assert after == before + 1


def test_mock_records_requests_and_headers(bare_envoy, mock):
    with mock.expect_one_request() as upstream:
        httpx.post(bare_envoy.url("/some/other/path"), content=b"raw \xff bytes",
                   headers={"x-e2e-marker": "42"}, timeout=10)
    assert upstream.body == b"raw \xff bytes"
    assert upstream.headers["x-e2e-marker"] == "42"
    with mock.expect_no_request():
        pass


def test_envoy_start_failure_fails_with_log_tail(mock, tmp_path):
    missing = tmp_path / "does-not-exist.wasm"
    with pytest.raises(harness.EnvoyStartError) as failure:
        harness.start_envoy(tmp_path / "envoy", mock.port, filter_config={}, wasm=missing,
                            timeout_s=20)
    assert failure.value.returncode not in (None, 0)
    assert "envoy log tail" in str(failure.value)
    assert "wasm" in failure.value.log.lower()


UPSTREAM_VARIANTS = [
    ("http://127.0.0.1:8080", ["type: STATIC", "port_value: 8080"]),
    ("https://api.openai.com", ["envoy.transport_sockets.tls", 'sni: "api.openai.com"',
                                'host_rewrite_literal: "api.openai.com"', "port_value: 443"]),
    ("https://api.anthropic.com:8443", ['sni: "api.anthropic.com"', "port_value: 8443"]),
]


def envoy_validate(path):
    result = subprocess.run([harness.envoy_binary(), "--mode", "validate", "-c", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("upstream, expect", UPSTREAM_VARIANTS)
def test_rendered_bare_bootstraps_pass_envoy_validation(tmp_path, upstream, expect):
    text = harness.RENDER.render(listen_port=10000, admin_port=9901, upstream=upstream,
                                 with_filter=False)
    for needle in expect:
        assert needle in text
    assert "envoy.filters.http.wasm" not in text
    path = tmp_path / "envoy.yaml"
    path.write_text(text)
    envoy_validate(path)


@pytest.mark.parametrize("upstream, expect", UPSTREAM_VARIANTS)
def test_rendered_filter_bootstraps_pass_envoy_validation(tmp_path, upstream, expect):
    # validate mode loads the module and runs its configure step, so this needs the built filter.
    text = harness.RENDER.render(listen_port=10000, admin_port=9901, upstream=upstream,
                                 wasm_path=harness.filter_wasm(),
                                 filter_config_json='{"fail_open": false}')
    for needle in expect:
        assert needle in text
    assert "envoy.filters.http.wasm" in text
    path = tmp_path / "envoy.yaml"
    path.write_text(text)
    envoy_validate(path)


def test_filter_config_is_embedded_as_one_json_string(tmp_path):
    config = {"custom_patterns": [{"name": "TICKET", "regex": "TCK-\\d{6}", "context": ["ticket"]}],
              "placeholder_template": "<<{TYPE}#{N}>>"}
    text = harness.RENDER.render(listen_port=1, admin_port=2, upstream="http://127.0.0.1:3",
                                 wasm_path=tmp_path / "x.wasm", filter_config_json=json.dumps(config))
    line = next(x for x in text.splitlines() if x.strip().startswith("value:"))
    assert json.loads(json.loads(line.split("value:", 1)[1])) == config


@pytest.mark.parametrize("bad", ["ftp://host", "https://api.openai.com/v1", "127.0.0.1:8080"])
def test_renderer_refuses_unusable_upstreams(bad):
    with pytest.raises(harness.RENDER.RenderError):
        harness.RENDER.render(listen_port=1, admin_port=2, upstream=bad, with_filter=False)


def test_render_cli_writes_a_bootstrap_and_refuses_bad_input(tmp_path):
    out = tmp_path / "out" / "envoy.yaml"
    ok = subprocess.run([sys.executable, str(harness.RENDER_SCRIPT), "--listen-port", "10000",
                         "--admin-port", "9901", "--upstream", "http://127.0.0.1:8080",
                         "--no-filter", "--out", str(out)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "port_value: 10000" in out.read_text()
    bad = subprocess.run([sys.executable, str(harness.RENDER_SCRIPT), "--listen-port", "1",
                          "--admin-port", "2", "--upstream", "https://api.openai.com/v1",
                          "--no-filter"], capture_output=True, text=True)
    assert bad.returncode == 2 and "path" in bad.stderr


def test_mock_paces_streams_through_bare_envoy(bare_envoy):
    # The incremental-streaming test of the filter relies on this pacing reaching the client.
    first, last, _ = harness.paced_stream_timing(bare_envoy.url(CHAT_PATH),
                                                 chat_body("pace me " * 6, stream=True),
                                                 delay_ms=100)
    assert last > 1.0 and first < last / 2, (first, last)
