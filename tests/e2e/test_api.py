"""The anonymize and restore API the filter serves itself (docs/api.md), through real Envoy.

1. Nothing of an API call reaches the upstream: a mock LLM of its own counts TCP connections,
   request heads and requests while every kind of call goes through Envoy (anonymize and restore
   in both modes, refusals, a body over the limit, a large body, HTTP/1.1, HTTP/2, HTTP/2 with
   trailers, curl) and must count nothing at all.
2. The `@veily/llm-guard` flow with a small client of our own in its shape, and with curl: anonymize,
   send the safe prompt through the proxy path to the mock, restore the mock's reply.
3. A stateless mapping id restores on a second Envoy holding the same keys, and is refused on one
   with another seal key and for another caller identity; a stateful id restores only on the Envoy
   that stored it.
4. Stateful mappings rest sealed: shared data, read from inside Envoy by the test-only dump plugin
   (test_sealed_store.py), holds no original, identity, placeholder or mapping id in any spelling.
5. Every call leaves an audit record in the access log (docs/audit.md, "API calls") and a count in
   prompt_guard_api_calls{operation,outcome}; the log holds no planted value, identity, placeholder
   or mapping id in any spelling.

The keys are test keys given to the filter VM's environment (vm_config.environment_variables).
"""

import json
import re
import subprocess
import time
import uuid

import harness
import httpx
import pytest
from test_audit import record_of, wait_for
from test_headers import SETTLE_S, contacts
from test_isolation import h2c_post_with_trailers
from test_sealed_store import dump, dump_wasm, spellings, with_dump_plugin  # noqa: F401 (dump_wasm: a fixture)

ANONYMIZE = "/v1/anonymize"
RESTORE = "/v1/restore"
CHAT = "/v1/chat/completions"
CALLER = "x-caller"
HASH_KEY = "e2e api hash key, thirty-two bytes or more of it"
KEY_A = "a1" * 32
KEY_B = "b2" * 32
EMAIL = "ines.varga@mailbox.example"
PHONE = "+1 415 555 0199"
PROMPT = f"Please write to {EMAIL} or call {PHONE} about the renewal."
JSON = {"content-type": "application/json"}
LIMIT = 256 * 1024


def config(mode, max_body_bytes=None):
    cfg = {"api": {"enabled": True, "mode": mode, "identity_header": CALLER, "ttl_seconds": 600}}
    if max_body_bytes:
        cfg["max_body_bytes"] = max_body_bytes
    return cfg


def keyed(seal_key):
    """Render options: the shipped bootstrap, a client-set caller header (tests only), these keys."""
    return dict(harness.DEFAULT_RENDER_OPTIONS, vm_env={"PG_SEAL_KEY": seal_key, "PG_HASH_KEY": HASH_KEY})


class GuardClient:
    """A client in the shape of `@veily/llm-guard`: anonymize(prompt) gives the safe prompt, the
    stats and a restore function bound to the mapping id; wrap(prompt, caller) does the round trip."""

    def __init__(self, base_url, headers=None, http2=False):
        self.client = httpx.Client(base_url=base_url, http1=not http2, http2=http2,
                                   headers={**JSON, **(headers or {})}, timeout=harness.REQUEST_TIMEOUT_S)

    def post(self, path, doc):
        reply = self.client.post(path, content=json.dumps(doc))
        return reply.status_code, reply.json()

    def anonymize(self, prompt, ttl=None):
        doc = {"prompt": prompt} if ttl is None else {"prompt": prompt, "ttl": ttl}
        status, wire = self.post(ANONYMIZE, doc)
        assert status == 200, wire
        assert wire["safePrompt"] and wire["mappingId"], wire

        def restore(output):
            status, back = self.post(RESTORE, {"mappingId": wire["mappingId"], "output": output,
                                               "encryptResponse": False})
            assert status == 200, back
            return back["output"]

        return wire["safePrompt"], restore, wire["stats"], wire["mappingId"]

    def wrap(self, prompt, caller):
        safe, restore, _, _ = self.anonymize(prompt)
        return restore(caller(safe))

    def close(self):
        self.client.close()


def chat_through(envoy, text):
    """One chat completion through the proxy path; the mock answers with what it was sent."""
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    reply = httpx.post(envoy.url(CHAT), json=body, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()["choices"][0]["message"]["content"]


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    """A mock no other test talks to, and two Envoys in front of it (stateless, stateful)."""
    mock = harness.start_mock(tmp_path_factory.mktemp("api-mock"))
    started = [mock]
    try:
        for mode in ("stateless", "stateful"):
            started.append(harness.start_envoy_or_fail(tmp_path_factory.mktemp(f"api-{mode}"), mock.port,
                                                       filter_config=config(mode, LIMIT),
                                                       render_options=keyed(KEY_A)))
        yield started
    finally:
        for process in reversed(started):
            process.stop()


def curl(url, doc, headers=()):
    command = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-H", "content-type: application/json"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, "--data-binary", "@-", url], input=json.dumps(doc).encode(),
                         capture_output=True, timeout=harness.REQUEST_TIMEOUT_S, check=True).stdout
    body, _, status = out.rpartition(b"\n")
    return int(status), json.loads(body)


def every_kind_of_call(envoy):
    """Anonymize and restore over HTTP/1.1, HTTP/2, HTTP/2 with trailers and curl; refusals; a
    body over the limit; a large body under it. Returns the statuses seen, by case."""
    seen = {}
    for name, http2 in (("http1", False), ("http2", True)):
        client = GuardClient(envoy.base_url, headers={CALLER: "team-a"}, http2=http2)
        try:
            safe, restore, stats, _ = client.anonymize(PROMPT)
            assert EMAIL not in safe and stats["replaced"] == 2
            assert restore(f"Done: {safe}") == f"Done: {PROMPT}"
            seen[f"{name} round trip"] = 200
            seen[f"{name} malformed"] = client.client.post(ANONYMIZE, content=b'{"prompt": ').status_code
            seen[f"{name} get"] = client.client.get(ANONYMIZE).status_code
            seen[f"{name} unknown id"] = client.post(RESTORE, {"mappingId": "pgm1.1.00.AA", "output": "x"})[0]
        finally:
            client.close()
    body = json.dumps({"prompt": PROMPT}).encode()
    status, _, data = h2c_post_with_trailers(envoy.port, ANONYMIZE, body, [("x-client-checksum", "n")])
    seen["http2 trailers"] = status
    assert status == 200 and json.loads(data)["stats"]["replaced"] == 2
    status, wire = curl(envoy.url(ANONYMIZE), {"prompt": PROMPT}, [f"{CALLER}: team-a"])
    seen["curl anonymize"] = status
    status, back = curl(envoy.url(RESTORE), {"mappingId": wire["mappingId"], "output": wire["safePrompt"]},
                        [f"{CALLER}: team-a"])
    seen["curl restore"] = status
    assert back["output"] == PROMPT
    over = json.dumps({"prompt": "word " * (LIMIT // 4)}).encode()
    seen["over the limit"] = httpx.post(envoy.url(ANONYMIZE), content=over, headers=JSON,
                                        timeout=harness.REQUEST_TIMEOUT_S).status_code
    large = json.dumps({"prompt": ("lorem ipsum dolor " * (LIMIT // 40)) + EMAIL}).encode()
    reply = httpx.post(envoy.url(ANONYMIZE), content=large, headers=JSON, timeout=harness.REQUEST_TIMEOUT_S)
    seen["large body"] = reply.status_code
    assert EMAIL not in reply.text
    return seen


EXPECTED = {
    "http1 round trip": 200, "http1 malformed": 400, "http1 get": 405, "http1 unknown id": 400,
    "http2 round trip": 200, "http2 malformed": 400, "http2 get": 405, "http2 unknown id": 400,
    "http2 trailers": 200, "curl anonymize": 200, "curl restore": 200, "over the limit": 413,
    "large body": 200,
}


def test_no_byte_of_an_api_call_reaches_the_upstream(isolated):
    mock, stateless, stateful = isolated
    before = contacts(mock)
    for envoy in (stateless, stateful):
        assert every_kind_of_call(envoy) == EXPECTED
    time.sleep(SETTLE_S)
    after = contacts(mock)
    assert {k: after[k] - before[k] for k in before} == {"connections": 0, "heads": 0, "requests": 0,
                                                         "aborted": 0}
    # The control: the same Envoy does reach this mock on the proxy path.
    assert chat_through(stateless, "hello").startswith("You said")
    assert contacts(mock)["requests"] == after["requests"] + 1


@pytest.mark.parametrize("mode", ["stateless", "stateful"])
def test_the_veily_flow_through_the_proxy_path(isolated, mode):
    envoy = isolated[1] if mode == "stateless" else isolated[2]
    client = GuardClient(envoy.base_url, headers={CALLER: "team-a"})
    try:
        safe, restore, stats, mapping_id = client.anonymize(PROMPT)
        assert EMAIL not in safe and PHONE not in safe
        assert sorted(stats["types"]) == ["EMAIL", "PHONE"]
        assert mapping_id.startswith("pgm1." if mode == "stateless" else "pgs1.")
        assert EMAIL not in mapping_id
        # The model (the mock, through the proxy path) sees only placeholders and echoes them.
        assert client.wrap(PROMPT, lambda text: chat_through(envoy, text)) == "You said: " + PROMPT
        assert restore(chat_through(envoy, safe)) == "You said: " + PROMPT
        # Another caller restores nothing and is told why, without the mapping.
        other = GuardClient(envoy.base_url, headers={CALLER: "team-b"})
        try:
            status, refused = other.post(RESTORE, {"mappingId": mapping_id, "output": safe})
        finally:
            other.close()
        assert status == 403 and refused["error"]["code"] == "prompt_guard_mapping_other_identity"
        assert EMAIL not in json.dumps(refused)
    finally:
        client.close()


def test_a_stateless_id_restores_on_any_envoy_with_the_key_only(isolated, tmp_path):
    mock, first, stateful = isolated
    started = []
    try:
        for name, key in (("same-key", KEY_A), ("other-key", KEY_B)):
            started.append(harness.start_envoy_or_fail(tmp_path / name, mock.port, filter_config=config("stateless"),
                                                       render_options=keyed(key)))
        same, other = started
        issuer = GuardClient(first.base_url, headers={CALLER: "team-a"})
        safe, _, _, mapping_id = issuer.anonymize(PROMPT)
        issuer.close()
        call = {"mappingId": mapping_id, "output": f"Noted: {safe}"}
        cases = [(same, "team-a", 200, None),
                 (same, "team-b", 403, "prompt_guard_mapping_other_identity"),
                 (other, "team-a", 400, "prompt_guard_mapping_unknown_key")]
        for envoy, caller, status, code in cases:
            client = GuardClient(envoy.base_url, headers={CALLER: caller})
            got, doc = client.post(RESTORE, call)
            client.close()
            assert got == status, doc
            if code:
                assert doc["error"]["code"] == code and EMAIL not in json.dumps(doc)
            else:
                assert doc["output"] == f"Noted: {PROMPT}"
        # A stateful id lives in one Envoy's shared data: another Envoy has no such mapping.
        keeper = GuardClient(stateful.base_url, headers={CALLER: "team-a"})
        safe, restore, _, stateful_id = keeper.anonymize(PROMPT)
        assert restore(safe) == PROMPT
        keeper.close()
        client = GuardClient(same.base_url, headers={CALLER: "team-a"})
        got, doc = client.post(RESTORE, {"mappingId": stateful_id, "output": safe})
        client.close()
        assert got == 404 and doc["error"]["code"] == "prompt_guard_mapping_not_found"
    finally:
        for envoy in started:
            envoy.stop()


def test_control_without_the_buffer_filter_an_api_call_reaches_the_upstream(tmp_path):
    """The check above can fail: without the buffer filter after prompt-guard, the router gets an
    API call's headers before the filter has its body, and opens the upstream connection."""
    (tmp_path / "mock").mkdir()
    mock = harness.start_mock(tmp_path / "mock")
    envoy = None
    try:
        options = dict(keyed(KEY_A), hold_headers=False)
        envoy = harness.start_envoy_or_fail(tmp_path / "envoy", mock.port, filter_config=config("stateless"),
                                            render_options=options)
        before = contacts(mock)
        reply = httpx.post(envoy.url(ANONYMIZE), json={"prompt": PROMPT}, timeout=harness.REQUEST_TIMEOUT_S)
        time.sleep(SETTLE_S)
        after = contacts(mock)
        assert reply.status_code == 200 and EMAIL not in reply.text
        assert after["connections"] + after["heads"] > before["connections"] + before["heads"], (before, after)
    finally:
        if envoy is not None:
            envoy.stop()
        mock.stop()


def test_stateful_mappings_rest_sealed_in_shared_data(envoy_factory, dump_wasm):  # noqa: F811
    envoy = envoy_factory.start(config("stateful"), render_options=keyed(KEY_A),
                                bootstrap_edit=with_dump_plugin(dump_wasm))
    client = GuardClient(envoy.base_url, headers={CALLER: "team-a"})
    try:
        check_sealed_at_rest(envoy, client)
    finally:
        client.close()


def check_sealed_at_rest(envoy, client):
    issued = []
    for turn in range(3):
        safe, restore, _, mapping_id = client.anonymize(f"{PROMPT} (turn {turn})")
        issued.append((safe, restore, mapping_id))
    entries, _ = dump(envoy)
    records = {k: v for k, v in entries.items() if k.startswith("prompt_guard/api/v1/mapping/") and v}
    assert "prompt_guard/api/v1/index" in entries and len(records) == 3, sorted(entries)
    placeholders = {p for safe, _, _ in issued for p in safe.split() if p.startswith("[")}
    assert placeholders, issued
    needles = {EMAIL, EMAIL.split("@")[0], PHONE, PHONE.replace(" ", ""), "team-a", *placeholders,
               *(p.strip("[]).,") for p in placeholders)}
    for _, _, mapping_id in issued:
        name = mapping_id.removeprefix("pgs1.")
        needles.add(name)
        assert bytes.fromhex(name) not in b"".join(entries.values()) + "".join(entries).encode()
    everything = b"".join(entries.values()) + "".join(entries).encode()
    found = sorted(n for n in needles for form in spellings(n) if form in everything)
    assert found == [], found
    # The dump holds the real records: each still restores for its caller.
    for safe, restore, _ in issued:
        assert EMAIL in restore(safe)


@pytest.mark.parametrize("mode", ["stateless", "stateful"])
def test_every_call_leaves_an_audit_record_and_a_count_and_no_value(envoy_factory, tmp_path, mode):
    log = tmp_path / "api-access.jsonl"
    # Envoy writes access log files every 10 s by default; the test reads them sooner.
    envoy = envoy_factory.start(config(mode), render_options=dict(keyed(KEY_A), access_log_path=str(log)),
                                extra_args=("--file-flush-interval-msec", "50"))
    caller = "team-audit-7c1e"
    client = httpx.Client(base_url=envoy.base_url, headers={**JSON, CALLER: caller},
                          timeout=harness.REQUEST_TIMEOUT_S)
    ids = {name: str(uuid.uuid4()) for name in ("anonymize", "restore", "foreign")}
    try:
        def post(name, path, doc):
            return client.post(path, content=json.dumps(doc), headers={"x-request-id": ids[name]})

        wire = post("anonymize", ANONYMIZE, {"prompt": PROMPT}).json()
        safe, mapping_id = wire["safePrompt"], wire["mappingId"]
        back = post("restore", RESTORE, {"mappingId": mapping_id, "output": f"Done: {safe}"})
        assert back.status_code == 200 and back.json()["output"] == f"Done: {PROMPT}", back.text
        foreign = client.post(RESTORE, content=json.dumps({"mappingId": mapping_id, "output": safe}),
                              headers={"x-request-id": ids["foreign"], CALLER: "team-other"})
        assert foreign.status_code == 403, foreign.text
    finally:
        client.close()
    records = {name: record_of(wait_for(log, request_id)) for name, request_id in ids.items()}

    anon, restored, refused = records["anonymize"], records["restore"], records["foreign"]
    assert anon["api"] == "anonymize" and anon["request_id"] == ids["anonymize"], anon
    assert anon["api_call"] == {"mode": mode, "outcome": "ok", "replaced": 2, "restored": 0,
                                "types": ["EMAIL", "PHONE"]}, anon
    assert anon["entities"] == {"EMAIL": 1, "PHONE": 1} and anon["actions"] == ["masked"], anon
    assert anon["policy"] == "default" and len(anon["caller"]) == 16, anon
    assert anon["reply"]["mode"] == "local" and anon["filter_time"]["request_us"] > 0, anon
    assert restored["api"] == "restore" and restored["actions"] == ["restored"], restored
    assert restored["api_call"] == {"mode": mode, "outcome": "ok", "replaced": 0, "restored": 2, "types": []}
    assert restored["caller"] == anon["caller"], restored
    assert refused["api_call"]["outcome"] == "mapping" and refused["refused"] == "mapping_other_identity", refused
    assert refused["caller"] != anon["caller"], refused

    text = log.read_bytes()
    for needle in (EMAIL, PHONE, caller, "team-other", mapping_id, HASH_KEY, KEY_A):
        for form in spellings(needle):
            assert form not in text, f"a spelling of {needle[:12]}... is in the access log"
    assert not re.search(rb"\[[A-Z][A-Z0-9_]*_\d+\]", text), "a placeholder is in the access log"

    metrics = envoy.metrics()
    assert metrics.value("prompt_guard_api_calls", operation="anonymize", outcome="ok") == 1
    assert metrics.value("prompt_guard_api_calls", operation="restore", outcome="ok") == 1
    assert metrics.value("prompt_guard_api_calls", operation="restore", outcome="mapping") == 1
    assert metrics.value("prompt_guard_api_calls", operation="restore", outcome="blocked") == 0
