"""Load end to end: 200 concurrent clients through one Envoy worker, each with its own planted
values (harness.client_values: a unique e-mail address, phone number and card number), both APIs,
buffered and streamed, HTTP/1.1 and HTTP/2. Every exchange uses the same placeholder names
([EMAIL_1], ...), so any cross-talk between exchanges would hand one client another's value.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import harness
import httpx

CLIENTS = 200
CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
HEADERS = {"content-type": "application/json", "anthropic-version": "2023-06-01",
           # Streamed deltas 5 ms apart: streams last long enough to overlap each other.
           "x-mock-delay-ms": "5"}
TIMEOUT_S = 60.0


def client_plan(index):
    """Client `index`: its API, whether its first request streams, and HTTP/2 or not. Each
    client sends two requests, one buffered and one streamed, in the order the plan says."""
    path = CHAT if index % 2 == 0 else MESSAGES
    stream_first = (index // 2) % 2 == 1
    http2 = index % 4 == 3
    return path, stream_first, http2


def run_client(envoy, population, start, index):
    """Two exchanges of one client; a list of problems found (no values in the messages)."""
    values = population[index]
    path, stream_first, http2 = client_plan(index)
    problems = []
    start.wait()
    with httpx.Client(http1=not http2, http2=http2, timeout=TIMEOUT_S) as client:
        for stream in (stream_first, not stream_first):
            kind = f"client {index} {path} {'streamed' if stream else 'buffered'}"
            try:
                reply = client.post(envoy.url(path), content=harness.chat_request_bytes(path, values.prompt(), stream),
                                    headers=HEADERS)
            except httpx.HTTPError as err:
                problems.append(f"{kind}: {type(err).__name__}")
                continue
            if reply.status_code != 200:
                problems.append(f"{kind}: status {reply.status_code}")
                continue
            raw = reply.content.decode("utf-8", "replace")
            if harness.PLACEHOLDER_SHAPE.search(raw):
                problems.append(f"{kind}: a placeholder reached the client")
            foreign = harness.foreign_originals(raw, values, population)
            if foreign:
                problems.append(f"{kind}: {len(foreign)} values of other clients in the reply")
            text = harness.reply_text(path, stream, reply.content)
            if text != "You said: " + values.prompt():
                problems.append(f"{kind}: the reply is not the client's own text restored")
    return problems


def test_200_concurrent_clients_get_only_their_own_values(envoy, mock):
    population = [harness.client_values(1000 + i) for i in range(CLIENTS)]
    _, first_body = mock.bodies_since(10**9)
    before = envoy.metrics()
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = list(pool.map(lambda i: run_client(envoy, population, start, i), range(CLIENTS)))
    problems = [p for result in results for p in result]
    assert problems == [], f"{len(problems)} problems, first: {problems[:10]}"

    bodies, _ = mock.bodies_since(first_body)
    assert len(bodies) == 2 * CLIENTS
    originals = [value for values in population for value in values.originals]
    leaked = sum(1 for body in bodies for value in originals if value in body)
    assert leaked == 0, f"{leaked} originals reached the upstream"
    assert sum("[EMAIL_1]" in body for body in bodies) == 2 * CLIENTS

    after = envoy.metrics()
    restored = (after.value("prompt_guard_placeholders_restored")
                - before.value("prompt_guard_placeholders_restored"))
    assert restored == 3 * 2 * CLIENTS
    assert after.value("prompt_guard_restore_misses") == before.value("prompt_guard_restore_misses")
