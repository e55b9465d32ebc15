"""Ordinary traffic that is big, slow or compressed flows (issue 12, items 7 and 8).

- A reply is held only when something needs its text: an embeddings reply far over Envoy's
  buffer reaches the client whole; a chat reply over the filter's limit goes on as it is, counted.
- A vision request (a base64 image of several MB) is accepted and forwarded.
- A compressed stream that inflates past the limit ends with an error event, and the worker's VM
  survives it (the next request on the same Envoy succeeds).
- Keep-alives sent before the first event reach the client as they are sent; a flood of newlines
  is not held.
- Restore counters are added as the stream flows, so a stream cut by an upstream reset still
  counts what was restored before it.
- The VM's memory after the largest allowed body stays within the bound docs/limits.md states.

The mock's hooks used here are its `x-mock-big-*` and `x-mock-heartbeat*` headers.
"""

import base64
import json
import time

import httpx
import pytest
from planted import PLANTED

EMAIL = dict(PLANTED)["EMAIL"]
CHAT = "/v1/chat/completions"
EMBEDDINGS = "/v1/embeddings"
JSON_HEADERS = {"content-type": "application/json"}
# The filter's default max_body_bytes, and the memory bounds docs/limits.md states for one body:
# the VM's linear memory grows by at most this many times the body (JSON whose bulk is media; a
# body of prose, which every detector reads).
DEFAULT_MAX_BODY = 32 * 1024 * 1024
MEMORY_FACTOR = 3.5
TEXT_MEMORY_FACTOR = 6.5
TIMEOUT = 60.0


def chat(text, stream=False):
    return json.dumps({"model": "gpt-e2e-mock", "stream": stream,
                       "messages": [{"role": "user", "content": text}]}).encode()


def delta(before, after, name, **labels):
    return after.value(name, **labels) - before.value(name, **labels)


def sse_data(raw):
    """The data of every event of a raw event-stream body."""
    events = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = [line[5:].lstrip(b" ") for line in block.split(b"\n") if line.startswith(b"data:")]
        if data:
            events.append(b"\n".join(data).decode("utf-8", "replace"))
    return events


# ---------------------------------------------------------------------------------------------
# 1. Buffer only what needs it


@pytest.mark.parametrize("text", ["plain words to embed", f"embed this for {EMAIL}"],
                         ids=["no_placeholders", "with_placeholders"])
def test_an_embeddings_reply_over_envoys_buffer_reaches_the_client_whole(envoy, text):
    # 600 vectors of 1536 floats: the case, over the 8 MiB Envoy holds for a filter.
    body = json.dumps({"model": "text-embedding-3-small", "input": [text],
                       "encoding_format": "float"}).encode()
    reply = httpx.post(envoy.url(EMBEDDINGS), content=body, timeout=TIMEOUT,
                       headers={**JSON_HEADERS, "x-mock-big-embeddings": "600"})
    assert reply.status_code == 200, reply.text[:300]
    assert len(reply.content) > 8 * 1024 * 1024
    doc = reply.json()
    assert len(doc["data"]) == 600
    assert all(len(item["embedding"]) == 1536 for item in doc["data"])


def test_a_chat_reply_over_the_limit_goes_on_as_it_is_and_is_counted(envoy_factory):
    # A small limit so the reply is over it but well under Envoy's buffer: the filter lets the
    # rest go rather than holding on until Envoy resets the stream.
    envoy = envoy_factory.start({"max_response_bytes": 2 * 1024 * 1024})
    before = envoy.metrics()
    reply = httpx.post(envoy.url(CHAT), content=chat(f"write to {EMAIL}"), timeout=TIMEOUT,
                       headers={**JSON_HEADERS, "x-mock-big-reply": "3"})
    assert reply.status_code == 200
    content = reply.json()["choices"][0]["message"]["content"]
    assert len(content) >= 3 * 1024 * 1024
    after = envoy.metrics()
    assert delta(before, after, "prompt_guard_responses_unrestored", reason="too_large") == 1


def test_a_chat_reply_over_the_default_limit_is_not_a_reset(envoy):
    # Default limits: a 9 MiB reply is over max_response_bytes (8 MiB). The filter stops holding
    # it there and lets it go; Envoy's buffer is larger than that, so it never resets the stream.
    reply = httpx.post(envoy.url(CHAT), content=chat(f"hello {EMAIL}"), timeout=TIMEOUT,
                       headers={**JSON_HEADERS, "x-mock-big-reply": "9"})
    assert reply.status_code == 200
    assert len(reply.json()["choices"][0]["message"]["content"]) >= 9 * 1024 * 1024


def test_a_5_mb_vision_request_is_accepted_and_forwarded(envoy, mock):
    image = base64.b64encode(bytes(range(256)) * (5 * 1024 * 1024 // 256)).decode()
    data_url = "data:image/png;base64," + image
    body = json.dumps({"model": "gpt-e2e-mock", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": data_url}}]}]}).encode()
    assert len(body) > 5 * 1024 * 1024
    with mock.expect_one_request() as seen:
        reply = httpx.post(envoy.url(CHAT), content=body, headers=JSON_HEADERS, timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text[:300]
    sent = seen.json()["messages"][0]["content"][1]["image_url"]["url"]
    assert sent == data_url


# ---------------------------------------------------------------------------------------------
# 2. Bounded streamed decoding


def test_a_gzip_stream_that_inflates_past_the_limit_ends_with_an_error_event(envoy):
    before = envoy.metrics()
    with httpx.Client(timeout=TIMEOUT) as client:
        with client.stream("POST", envoy.url(CHAT), content=chat("hello", stream=True),
                           headers={**JSON_HEADERS, "x-mock-big-gzip-bomb": "200"}) as reply:
            assert reply.status_code == 200
            received = bytearray()
            for piece in reply.iter_raw():
                received += piece
    events = sse_data(bytes(received))
    print(f"gzip bomb: the client received {len(received)} bytes, {len(events)} events")
    assert events, "no event reached the client"
    last = json.loads(events[-1])
    assert "error" in last, events[-1][:300]
    assert "prompt_guard" in last["error"].get("code", "") + last["error"].get("type", "")
    # Cut at the limit: far less than the 200 MB the body inflates to.
    assert len(received) <= 16 * 1024 * 1024
    # The VM survived: the next request on the same Envoy (one worker) is served.
    after_reply = httpx.post(envoy.url(CHAT), content=chat(f"mail {EMAIL}"), headers=JSON_HEADERS,
                             timeout=TIMEOUT)
    assert after_reply.status_code == 200
    assert EMAIL in after_reply.json()["choices"][0]["message"]["content"]
    after = envoy.metrics()
    assert delta(before, after, "prompt_guard_stream_anomalies", kind="inflate_limit") == 1


# ---------------------------------------------------------------------------------------------
# 3. Heartbeats pass through


def timed_stream(url, body, headers):
    """POST and read the raw body; returns [(seconds since the request, bytes)] per piece."""
    start = time.monotonic()
    pieces = []
    with httpx.Client(timeout=TIMEOUT) as client:
        with client.stream("POST", url, content=body, headers=headers) as reply:
            assert reply.status_code == 200
            for piece in reply.iter_raw():
                pieces.append((time.monotonic() - start, piece))
    return pieces


@pytest.mark.parametrize("kind", ["blank", "comment"])
def test_heartbeats_before_the_first_event_reach_the_client_as_they_are_sent(envoy, kind):
    # Five keep-alives one second apart: the mock sends the first at once and the last after 4 s.
    pieces = timed_stream(envoy.url(CHAT), chat("hello", stream=True),
                          {**JSON_HEADERS, "x-mock-heartbeat": "5", "x-mock-heartbeat-ms": "1000",
                           "x-mock-heartbeat-kind": kind})
    first_beat = next(t for t, piece in pieces if piece.strip(b"\r\n") in (b"", b": ping"))
    first_event = next(t for t, piece in pieces if b"data:" in piece)
    assert first_event >= 3.5, "the mock sends its first event after the last heartbeat"
    # The first heartbeat arrives well before the mock sends the last one (an ordering, not a
    # benchmark: a held heartbeat would arrive with the first event, after 4 s).
    assert first_beat < 2.0, (first_beat, first_event)
    body = b"".join(piece for _, piece in pieces)
    assert body.startswith(b"\n" * 5 if kind == "blank" else b": ping\n\n" * 5)
    assert "[DONE]" in sse_data(body)


def test_a_flood_of_newlines_before_the_first_event_is_not_held(envoy):
    flood = 2 * 1024 * 1024
    pieces = timed_stream(envoy.url(CHAT), chat("hello", stream=True),
                          {**JSON_HEADERS, "x-mock-heartbeat-bytes": str(flood),
                           "x-mock-heartbeat-ms": "1500"})
    received = 0
    flood_done = None
    for t, piece in pieces:
        received += len(piece)
        if received >= flood and flood_done is None:
            flood_done = t
    first_event = next(t for t, piece in pieces if b"data:" in piece)
    assert flood_done is not None
    # All the newlines reached the client during the mock's pause, before the first event.
    assert flood_done < first_event - 0.5, (flood_done, first_event)
    assert b"".join(p for _, p in pieces).startswith(b"\n" * flood)


# ---------------------------------------------------------------------------------------------
# 4. Counters as they happen


def test_a_stream_cut_by_an_upstream_reset_still_counts_what_was_restored(envoy):
    text = f"write to {EMAIL} today, tomorrow and the day after"
    before = envoy.metrics()
    received = bytearray()
    # The mock echoes the masked text in 4-character deltas after a role chunk. It sends the
    # deltas up to a little past the placeholder, then drops the connection: no finish chunk, no
    # [DONE], no end of body.
    upstream_reply = "You said: " + text.replace(EMAIL, "[EMAIL_1]")
    through_placeholder = upstream_reply.index("[EMAIL_1]") + len("[EMAIL_1]")
    events_through_address = 1 + through_placeholder // 4 + 2
    assert events_through_address < 1 + len(upstream_reply) // 4
    with pytest.raises(httpx.HTTPError):
        with httpx.Client(timeout=TIMEOUT) as client:
            with client.stream("POST", envoy.url(CHAT), content=chat(text, stream=True),
                               headers={**JSON_HEADERS,
                                        "x-mock-big-reset-after": str(events_through_address)}) as reply:
                for piece in reply.iter_raw():
                    received += piece
    content = "".join(json.loads(d)["choices"][0]["delta"].get("content") or ""
                      for d in sse_data(bytes(received)) if d.startswith("{"))
    assert EMAIL in content
    time.sleep(0.5)
    after = envoy.metrics()
    assert delta(before, after, "prompt_guard_placeholders_restored") == 1
    assert delta(before, after, "prompt_guard_stream_anomalies", kind="truncated") == 1


def test_a_stream_the_client_abandons_still_counts_what_was_restored(envoy):
    text = f"write to {EMAIL} today, tomorrow and the day after, and the day after that"
    before = envoy.metrics()
    received = bytearray()
    with httpx.Client(timeout=TIMEOUT) as client:
        with client.stream("POST", envoy.url(CHAT), content=chat(text, stream=True),
                           headers={**JSON_HEADERS, "x-mock-delay-ms": "150"}) as reply:
            for piece in reply.iter_raw():
                received += piece
                content = "".join(json.loads(d)["choices"][0]["delta"].get("content") or ""
                                  for d in sse_data(bytes(received)) if d.startswith("{"))
                if EMAIL in content:
                    break  # the client goes away mid-stream, its address already restored
    # The mock needs a few more deltas to notice; Envoy ends the exchange at once.
    time.sleep(1.0)
    after = envoy.metrics()
    assert delta(before, after, "prompt_guard_placeholders_restored") == 1
    assert delta(before, after, "prompt_guard_stream_anomalies", kind="truncated") == 1


# ---------------------------------------------------------------------------------------------
# 5. Memory after the largest body


def vision_body(size, text):
    """A chat request of about `size` bytes: `text` and one base64 image."""
    image = base64.b64encode(b"\x89PNG" + bytes(range(256)) * (size * 3 // 4 // 256)).decode()
    return json.dumps({"model": "gpt-e2e-mock", "messages": [{"role": "user", "content": [
        {"type": "text", "text": text},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + image}}]}]}).encode()


def test_the_vm_memory_after_the_largest_body_stays_within_the_stated_bound(envoy):
    small = httpx.post(envoy.url(CHAT), content=chat("hello"), headers=JSON_HEADERS, timeout=TIMEOUT)
    assert small.status_code == 200
    before = envoy.metrics().value("prompt_guard_wasm_memory_bytes")
    assert before > 0, "the filter does not report its VM's memory"
    # The largest body the default configuration takes, with a value to mask (so the body is
    # parsed, rewritten and written back: the most the filter holds of one request).
    body = vision_body(DEFAULT_MAX_BODY - 64 * 1024, f"what is this? reply to {EMAIL}")
    assert DEFAULT_MAX_BODY - 128 * 1024 < len(body) <= DEFAULT_MAX_BODY
    reply = httpx.post(envoy.url(CHAT), content=body, headers=JSON_HEADERS, timeout=TIMEOUT)
    assert reply.status_code == 200, reply.text[:300]
    assert EMAIL in reply.json()["choices"][0]["message"]["content"]
    grown = envoy.metrics().value("prompt_guard_wasm_memory_bytes") - before
    print(f"wasm memory: {before / 2**20:.1f} MiB before, +{grown / 2**20:.1f} MiB after one "
          f"{len(body) / 2**20:.1f} MiB body ({grown / len(body):.2f} x the body)")
    assert grown <= MEMORY_FACTOR * len(body), f"grew {grown / 2**20:.1f} MiB for {len(body) / 2**20:.1f} MiB"
    # The next body of that size reuses what the first one grew: no further growth to speak of.
    reply = httpx.post(envoy.url(CHAT), content=body, headers=JSON_HEADERS, timeout=TIMEOUT)
    assert reply.status_code == 200
    again = envoy.metrics().value("prompt_guard_wasm_memory_bytes") - before - grown
    assert again <= 4 * 1024 * 1024, f"grew {again / 2**20:.1f} MiB more on the second body"


def test_the_vm_memory_after_a_long_text_stays_within_the_stated_bound(envoy_factory):
    # A long context: 4 MiB of prose with one value to mask (a fresh VM, so nothing earlier was
    # grown into). Every detector reads text, so it costs more per byte than media.
    envoy = envoy_factory.start({})
    small = httpx.post(envoy.url(CHAT), content=chat("hello"), headers=JSON_HEADERS, timeout=TIMEOUT)
    assert small.status_code == 200
    before = envoy.metrics().value("prompt_guard_wasm_memory_bytes")
    prose = "lorem ipsum dolor sit amet, consectetur adipiscing elit " * (4 * 1024 * 1024 // 56)
    body = chat(prose + f" mail {EMAIL}")
    reply = httpx.post(envoy.url(CHAT), content=body, headers=JSON_HEADERS, timeout=240)
    assert reply.status_code == 200
    grown = envoy.metrics().value("prompt_guard_wasm_memory_bytes") - before
    print(f"wasm memory: +{grown / 2**20:.1f} MiB after one {len(body) / 2**20:.1f} MiB text body "
          f"({grown / len(body):.2f} x the body)")
    assert 0 < grown <= TEXT_MEMORY_FACTOR * len(body)


# ---------------------------------------------------------------------------------------------
# 6. A VM that fails is observable and recovers


def leb128(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def trapping_module():
    """A proxy-wasm module of our own, assembled here byte by byte (WebAssembly core spec, binary
    format): request headers with a body to come make it trap (`unreachable`), as a VM does that
    runs out of memory; a request without a body goes on. It stands in for any VM failure."""
    def vec(items):
        return leb128(len(items)) + b"".join(items)

    def section(kind, payload):
        return bytes([kind]) + leb128(len(payload)) + payload

    def name(text):
        return leb128(len(text)) + text.encode()

    def functype(params, results):
        return b"\x60" + vec([b"\x7f"] * params) + vec([b"\x7f"] * results)

    def code(instructions):
        body = b"\x00" + instructions  # no locals
        return leb128(len(body)) + body

    types = [functype(0, 0), functype(1, 1), functype(2, 0), functype(2, 1), functype(3, 1)]
    exports = [("proxy_abi_version_0_2_1", 0, 0), ("proxy_on_memory_allocate", 1, 1),
               ("proxy_on_context_create", 2, 2), ("proxy_on_vm_start", 3, 3),
               ("proxy_on_configure", 3, 4), ("proxy_on_request_headers", 4, 5)]
    bodies = [code(b"\x0b"), code(b"\x41\x80\x08\x0b"), code(b"\x0b"), code(b"\x41\x01\x0b"),
              code(b"\x41\x01\x0b"),
              # if end_of_stream (local 2): return 0 (Continue); else: unreachable
              code(b"\x20\x02\x04\x7f\x41\x00\x05\x00\x0b\x0b")]
    return (b"\x00asm\x01\x00\x00\x00"
            + section(1, vec(types))
            + section(3, vec([leb128(t) for _, t, _ in exports]))
            + section(5, vec([b"\x00\x02"]))
            + section(7, vec([name(n) + b"\x00" + leb128(i) for n, _, i in exports]
                             + [name("memory") + b"\x02\x00"]))
            + section(10, vec(bodies)))


def test_a_failed_vm_is_logged_counted_and_replaced_for_the_next_request(envoy_factory, mock, tmp_path):
    module = tmp_path / "trap.wasm"
    module.write_bytes(trapping_module())
    # The shipped bootstrap's filter settings, this module in place of the filter.
    envoy = envoy_factory.start({}, wasm=module)
    with mock.expect_no_request():
        failed = httpx.post(envoy.url(CHAT), content=chat("hello"), headers=JSON_HEADERS, timeout=TIMEOUT)
    # Fail closed: the request in the failed VM never reaches the upstream.
    assert failed.status_code == 503
    # The next request gets a fresh VM (after the reload backoff), not a 503 until Envoy restarts.
    deadline = time.monotonic() + 20
    while True:
        status = httpx.get(envoy.url("/v1/models"), timeout=TIMEOUT).status_code
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert status == 404, "the mock answers 404 on GET /v1/models: the request went through"
    assert envoy.metrics().value("envoy_wasm_prompt_guard_vm_reload_success") >= 1
    assert "failed: Uncaught RuntimeError" in envoy.log_path.read_text(errors="replace")
