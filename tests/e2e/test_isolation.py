"""Exchanges must not see each other's data (DESIGN decision 2: only what was masked in this
exchange is restored), and placeholder-shaped user text keeps its literal meaning (decision 1).
Also HTTP/2 request trailers, where the body callback never sees end of stream, and bodies larger
than Envoy's default 1 MiB buffer.
"""

import json
import socket
from concurrent.futures import ThreadPoolExecutor

import h2.config
import h2.connection
import h2.events
import harness
import httpx
from planted import PLANTED, PROMPT, leaks

CHAT = "/v1/chat/completions"
EMAIL = dict(PLANTED)["EMAIL"]


def chat_body(text, stream=False):
    return json.dumps({"model": "m", "stream": stream,
                       "messages": [{"role": "user", "content": text}]}).encode()


def reply_text(reply):
    return reply.json()["choices"][0]["message"]["content"]


def test_concurrent_streams_on_one_connection_get_only_their_own_values(envoy, mock):
    # Same placeholder ([EMAIL_1]) in every exchange, a different person behind it in each.
    people = [f"person{i}@example.org" for i in range(8)]
    with httpx.Client(http1=False, http2=True, timeout=harness.REQUEST_TIMEOUT_S) as client:
        def ask(index):
            stream = index % 2 == 1
            text = f"Exchange {index}: write to {people[index]}"
            body = chat_body(text, stream=stream)
            headers = {"content-type": "application/json", "x-mock-delay-ms": "2"}
            reply = client.post(envoy.url(CHAT), content=body, headers=headers)
            return index, text, stream, reply

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(ask, range(8)))
    for index, text, stream, reply in results:
        assert reply.status_code == 200
        if stream:
            got = "".join(json.loads(line[5:])["choices"][0]["delta"].get("content") or ""
                          for line in reply.text.splitlines()
                          if line.startswith("data:") and "[DONE]" not in line
                          and json.loads(line[5:]).get("choices"))
        else:
            got = reply_text(reply)
        assert got == "You said: " + text
        others = [p for i, p in enumerate(people) if i != index]
        assert not any(p in reply.text for p in others)


def test_placeholder_from_an_earlier_exchange_is_not_restored(envoy, mock):
    first = httpx.post(envoy.url(CHAT), content=chat_body(f"mail {EMAIL}"),
                       timeout=harness.REQUEST_TIMEOUT_S)
    assert reply_text(first) == f"You said: mail {EMAIL}"
    # A second client types the placeholder the first exchange used.
    with mock.expect_one_request() as upstream:
        second = httpx.post(envoy.url(CHAT), content=chat_body("what is [EMAIL_1]?"),
                            timeout=harness.REQUEST_TIMEOUT_S)
    assert upstream.json()["messages"][0]["content"] == "what is [EMAIL_1]?"
    assert reply_text(second) == "You said: what is [EMAIL_1]?"
    assert EMAIL not in second.text


def test_numbering_skips_placeholders_the_user_typed(envoy, mock):
    text = f"the template says [EMAIL_1] but the real address is {EMAIL}"
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(CHAT), content=chat_body(text),
                           timeout=harness.REQUEST_TIMEOUT_S)
    sent = upstream.json()["messages"][0]["content"]
    assert EMAIL not in sent
    assert sent.startswith("the template says [EMAIL_1] but the real address is [EMAIL_")
    assert not sent.endswith("[EMAIL_1]")
    assert reply_text(reply) == "You said: " + text


def h2c_post_with_trailers(port, path, body, trailers):
    """One HTTP/2 (prior knowledge) POST whose request ends with trailers, not with the body.

    httpx cannot send request trailers; h2 can. Returns (status, headers dict, body bytes).
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=harness.REQUEST_TIMEOUT_S)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    conn.send_headers(stream_id, [(":method", "POST"), (":path", path), (":scheme", "http"),
                                  (":authority", f"127.0.0.1:{port}"),
                                  ("content-type", "application/json")])
    conn.send_data(stream_id, body)
    conn.send_headers(stream_id, trailers, end_stream=True)
    sock.sendall(conn.data_to_send())
    status, headers, data, done = None, {}, bytearray(), False
    try:
        while not done:
            chunk = sock.recv(65536)
            if not chunk:
                break
            for event in conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived):
                    headers = {k.decode(): v.decode() for k, v in event.headers}
                    status = int(headers[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    data += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                    done = True
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    return status, headers, bytes(data)


def test_http2_request_with_trailers_is_inspected(envoy, mock):
    with mock.expect_one_request() as upstream:
        status, _, data = h2c_post_with_trailers(envoy.port, CHAT, chat_body(PROMPT),
                                                 [("x-client-checksum", "not-checked")])
    assert leaks(upstream.body) == []
    assert status == 200
    assert json.loads(data)["choices"][0]["message"]["content"] == "You said: " + PROMPT


def test_body_larger_than_envoys_default_buffer(envoy_factory, mock):
    # 2 MiB arrives in many DATA frames / chunks; Envoy's own default would refuse at 1 MiB.
    envoy = envoy_factory.start({"max_body_bytes": 4 * 1024 * 1024})
    filler = "lorem ipsum dolor sit amet " * (2 * 1024 * 1024 // 27)
    text = filler + f" contact {EMAIL}"
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(CHAT), content=chat_body(text),
                           headers={"content-type": "application/json"},
                           timeout=harness.REQUEST_TIMEOUT_S * 3)
    assert EMAIL not in upstream.body.decode()
    assert upstream.body.decode().endswith('contact [EMAIL_1]"}]}')
    assert reply.status_code == 200
    assert reply_text(reply) == "You said: " + text
