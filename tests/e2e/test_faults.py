"""Faults end to end: what the client gets, and that Envoy and the filter keep serving, when the
upstream resets, truncates, fails, stalls or ends with trailers, and when the client aborts.

The mock LLM's x-mock-fault-* hooks (tests/mock_llm.py) make the upstream misbehave; the values
planted here come from harness.client_values (see its provenance note).
"""

import http.client
import json
import socket
import threading
import time

import anthropic
import h2.config
import h2.connection
import h2.events
import h2.exceptions
import harness
import httpx
import openai
import pytest

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
APIS = [CHAT, MESSAGES]
HEADERS = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
# Enough text after the planted e-mail that the faults below (after event 20 of 4-character deltas)
# fall well after its placeholder was sent and well before the reply ends.
FILLER = ("then wait for the renewal letter and file it with the others in the blue folder on the "
          "second shelf; the rest of this message is only here so that the reply is long enough.")


def prompt_for(values):
    return f"Mail {values.email} today, {FILLER}"


def stream_until_failure(url, body, headers, timeout=harness.REQUEST_TIMEOUT_S, http2=False):
    """POST and read the streamed reply until it ends or fails: (status, bytes, error or None).
    http2=True speaks HTTP/2 with prior knowledge (a broken stream is an RST_STREAM there)."""
    received = bytearray()
    status = None
    try:
        with httpx.Client(timeout=timeout, http1=not http2, http2=http2) as client:
            with client.stream("POST", url, content=body, headers=headers) as reply:
                status = reply.status_code
                for piece in reply.iter_raw():
                    received += piece
    except httpx.HTTPError as err:
        return status, bytes(received), err
    return status, bytes(received), None


def assert_serves(envoy, mock, index):
    """The next exchange, buffered and streamed, on both APIs: masked upstream, restored reply."""
    for offset, (path, stream) in enumerate([(CHAT, False), (MESSAGES, True)]):
        values = harness.client_values(index + offset)
        with mock.expect_one_request() as upstream:
            reply = httpx.post(envoy.url(path), content=harness.chat_request_bytes(path, prompt_for(values), stream),
                               headers=HEADERS, timeout=harness.REQUEST_TIMEOUT_S)
        assert reply.status_code == 200, reply.text[:200]
        assert values.email not in upstream.body.decode()
        text = harness.streamed_text(path, reply.text, complete_only=True) if stream else harness.buffered_text(path, reply.content)
        assert values.email in text
        assert not harness.PLACEHOLDER_SHAPE.search(reply.text)


def counter_delta(before, after, name, **labels):
    return after.value(name, **labels) - before.value(name, **labels)


def settled_metrics(envoy, seconds=1.0):
    """Stats after Envoy had time to finish the stream it just tore down (its log callbacks)."""
    time.sleep(seconds)
    return envoy.metrics()


# ---------------------------------------------------------------------------------------------
# Upstream reset mid-stream, client abort mid-stream, truncated upstream body


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
@pytest.mark.parametrize("path", APIS)
def test_upstream_reset_mid_stream_gives_what_was_restored_then_an_error(envoy, mock, path, http2):
    values = harness.client_values(100 + APIS.index(path) + 2 * http2)
    headers = dict(HEADERS, **{"x-mock-fault-kind": "reset", "x-mock-fault-after-events": "20"})
    status, received, error = stream_until_failure(envoy.url(path),
                                                   harness.chat_request_bytes(path, prompt_for(values), True), headers,
                                                   http2=http2)
    text = received.decode("utf-8", "replace")
    assert status == 200
    assert error is not None, "the client was not told that the stream broke off"
    assert values.email in harness.streamed_text(path, text, complete_only=True), "what was restored before the reset is missing"
    assert not harness.PLACEHOLDER_SHAPE.search(text), "a placeholder reached the client"
    assert "message_stop" not in text and "[DONE]" not in text
    assert_serves(envoy, mock, 110 + 2 * APIS.index(path))


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
@pytest.mark.parametrize("path", APIS)
def test_upstream_reset_while_half_a_placeholder_is_held(envoy, mock, path, http2):
    """The reset comes right after the event that opened a placeholder ("il ["): the client gets
    the text before it and never a piece of the placeholder."""
    values = harness.client_values(104 + APIS.index(path) + 2 * http2)
    after = STALL_AFTER_EVENTS["inside a placeholder"][path]
    headers = dict(HEADERS, **{"x-mock-fault-kind": "reset", "x-mock-fault-after-events": str(after)})
    status, received, error = stream_until_failure(envoy.url(path),
                                                   harness.chat_request_bytes(path, prompt_for(values), True), headers,
                                                   http2=http2)
    text = harness.streamed_text(path, received.decode("utf-8", "replace"), complete_only=True)
    assert status == 200 and error is not None
    assert "You said: Mail ".startswith(text) or text.startswith("You said: Mail "), text
    assert "[" not in text and "EMAI" not in text, text
    assert_serves(envoy, mock, 114 + 2 * APIS.index(path))


@pytest.mark.parametrize("path", APIS)
def test_upstream_reset_of_a_buffered_reply_leaks_no_placeholder(envoy, mock, path):
    values = harness.client_values(120 + APIS.index(path))
    headers = dict(HEADERS, **{"x-mock-fault-kind": "reset"})
    status, received, error = stream_until_failure(envoy.url(path),
                                                   harness.chat_request_bytes(path, prompt_for(values), False), headers)
    # Envoy cannot deliver a whole reply: either a clean error status or a broken connection.
    assert error is not None or status >= 500, (status, received[:200])
    assert not harness.PLACEHOLDER_SHAPE.search(received.decode("utf-8", "replace"))
    assert_serves(envoy, mock, 130 + 2 * APIS.index(path))


@pytest.mark.parametrize("path", APIS)
def test_upstream_reset_counts_what_was_restored(envoy, mock, path):
    """Counters for a stream that ends in a reset: what reached the client was counted, and the
    stream counts as truncated."""
    values = harness.client_values(140 + APIS.index(path))
    headers = dict(HEADERS, **{"x-mock-fault-kind": "reset", "x-mock-fault-after-events": "20"})
    before = envoy.metrics()
    _, received, error = stream_until_failure(envoy.url(path),
                                              harness.chat_request_bytes(path, prompt_for(values), True), headers)
    after = settled_metrics(envoy)
    assert error is not None and values.email in received.decode()
    assert counter_delta(before, after, "prompt_guard_placeholders_restored") == 1
    assert counter_delta(before, after, "prompt_guard_stream_anomalies", kind="truncated") == 1


def abort_mid_stream(envoy, path, values):
    """Stream a slow reply, read until the restored e-mail arrived, then close the socket under
    the response (the client goes away); return what was received."""
    received = bytearray()
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=harness.REQUEST_TIMEOUT_S)
    conn.request("POST", path, harness.chat_request_bytes(path, prompt_for(values), True),
                 dict(HEADERS, **{"x-mock-delay-ms": "50"}))
    reply = conn.getresponse()
    assert reply.status == 200
    deadline = time.monotonic() + harness.REQUEST_TIMEOUT_S
    while values.email.encode() not in received and time.monotonic() < deadline:
        piece = reply.read1(4096)
        if not piece:
            break
        received += piece
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    return bytes(received)


@pytest.mark.parametrize("path", APIS)
def test_client_abort_mid_stream_then_the_next_request_works(envoy, mock, path):
    values = harness.client_values(150 + APIS.index(path))
    with mock.expect_one_request():
        received = abort_mid_stream(envoy, path, values)
    assert values.email.encode() in received
    assert not harness.PLACEHOLDER_SHAPE.search(received.decode("utf-8", "replace"))
    assert_serves(envoy, mock, 160 + 2 * APIS.index(path))


@pytest.mark.parametrize("path", APIS)
def test_client_abort_counts_what_was_restored(envoy, mock, path):
    """The aborted stream restored its one placeholder before the client left: counted, and the
    stream counts as truncated."""
    values = harness.client_values(156 + APIS.index(path))
    before = envoy.metrics()
    received = abort_mid_stream(envoy, path, values)
    after = settled_metrics(envoy)
    assert values.email.encode() in received
    assert counter_delta(before, after, "prompt_guard_placeholders_restored") == 1
    assert counter_delta(before, after, "prompt_guard_stream_anomalies", kind="truncated") == 1


@pytest.mark.parametrize("path", APIS)
def test_truncated_buffered_reply_leaks_no_placeholder(envoy, mock, path):
    values = harness.client_values(170 + APIS.index(path))
    headers = dict(HEADERS, **{"x-mock-fault-kind": "truncate"})
    status, received, error = stream_until_failure(envoy.url(path),
                                                   harness.chat_request_bytes(path, prompt_for(values), False), headers)
    assert error is not None or status >= 500, (status, received[:200])
    assert not harness.PLACEHOLDER_SHAPE.search(received.decode("utf-8", "replace"))
    assert_serves(envoy, mock, 180 + 2 * APIS.index(path))


@pytest.mark.parametrize("http2", [False, True], ids=["http1", "http2"])
@pytest.mark.parametrize("path", APIS)
def test_truncated_stream_gives_what_was_restored_then_an_error(envoy, mock, path, http2):
    values = harness.client_values(190 + APIS.index(path) + 2 * http2)
    headers = dict(HEADERS, **{"x-mock-fault-kind": "truncate", "x-mock-fault-after-events": "20"})
    status, received, error = stream_until_failure(envoy.url(path),
                                                   harness.chat_request_bytes(path, prompt_for(values), True), headers,
                                                   http2=http2)
    text = received.decode("utf-8", "replace")
    assert status == 200
    assert error is not None, "the client was not told that the stream broke off"
    assert values.email in harness.streamed_text(path, text, complete_only=True)
    assert not harness.PLACEHOLDER_SHAPE.search(text)
    assert_serves(envoy, mock, 200 + 2 * APIS.index(path))


@pytest.mark.parametrize("path", APIS)
def test_truncated_stream_is_counted(envoy, mock, path):
    """A stream cut off in the middle of an event counts as truncated, and what was restored
    before the cut is counted."""
    values = harness.client_values(210 + APIS.index(path))
    headers = dict(HEADERS, **{"x-mock-fault-kind": "truncate", "x-mock-fault-after-events": "20"})
    before = envoy.metrics()
    stream_until_failure(envoy.url(path), harness.chat_request_bytes(path, prompt_for(values), True), headers)
    after = settled_metrics(envoy)
    assert counter_delta(before, after, "prompt_guard_placeholders_restored") == 1
    assert counter_delta(before, after, "prompt_guard_stream_anomalies", kind="truncated") == 1


# ---------------------------------------------------------------------------------------------
# Upstream errors: status, headers and body reach the client unchanged; the SDKs see the right type


def direct_and_proxied(mock, envoy, path, stream, status):
    """The same failing request straight to the mock and through Envoy: (direct, proxied)."""
    values = harness.client_values(220)
    body = harness.chat_request_bytes(path, prompt_for(values), stream)
    headers = dict(HEADERS, **{"x-mock-fault-status": str(status)})
    direct = httpx.post(mock.base_url + path, content=body, headers=headers,
                        timeout=harness.REQUEST_TIMEOUT_S)
    proxied = httpx.post(envoy.url(path), content=body, headers=headers,
                         timeout=harness.REQUEST_TIMEOUT_S)
    return direct, proxied


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("path", APIS)
@pytest.mark.parametrize("status", [500, 429])
def test_upstream_error_reaches_the_client_unchanged(envoy, mock, path, stream, status):
    direct, proxied = direct_and_proxied(mock, envoy, path, stream, status)
    assert direct.status_code == status
    assert proxied.status_code == status
    assert proxied.content == direct.content
    for name in ("content-type", "retry-after", "x-request-id"):
        assert proxied.headers.get(name) == direct.headers.get(name), name
    if status == 429:
        assert proxied.headers["retry-after"] == "13"
    else:
        assert proxied.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("status,error_type", [(500, "InternalServerError"), (429, "RateLimitError")])
def test_openai_sdk_sees_the_upstream_error(envoy, mock, stream, status, error_type):
    client = openai.OpenAI(base_url=envoy.url("/v1"), api_key="sk-test", max_retries=0,
                           timeout=harness.REQUEST_TIMEOUT_S,
                           default_headers={"x-mock-fault-status": str(status)})
    with pytest.raises(getattr(openai, error_type)) as caught:
        reply = client.chat.completions.create(model="gpt-4o-mini", stream=stream, messages=[
            {"role": "user", "content": prompt_for(harness.client_values(230))}])
        if stream:
            list(reply)
    assert caught.value.status_code == status
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "13"
        assert caught.value.body["code"] == "rate_limit_exceeded"


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("status,error_type", [(500, "InternalServerError"), (429, "RateLimitError")])
def test_anthropic_sdk_sees_the_upstream_error(envoy, mock, stream, status, error_type):
    client = anthropic.Anthropic(base_url=envoy.base_url, api_key="sk-ant-test", max_retries=0,
                                 timeout=harness.REQUEST_TIMEOUT_S,
                                 default_headers={"x-mock-fault-status": str(status)})
    with pytest.raises(getattr(anthropic, error_type)) as caught:
        reply = client.messages.create(model="claude-mock", max_tokens=64, stream=stream, messages=[
            {"role": "user", "content": prompt_for(harness.client_values(231))}])
        if stream:
            list(reply)
    assert caught.value.status_code == status
    if status == 429:
        assert caught.value.response.headers["retry-after"] == "13"
        assert caught.value.body["error"]["type"] == "rate_limit_error"


# ---------------------------------------------------------------------------------------------
# A 10-second stall between events


STALL_S = 10.0


# The reply is "You said: Mail [EMAIL_1] today, ..." in 4-character deltas: the delta "il ["
# (opening the placeholder) is event 4 of a chat stream (after the role event) and event 6 of a
# Messages stream (after message_start, content_block_start, ping). Stalling before the next
# event leaves the filter holding a partial placeholder for the whole stall.
STALL_AFTER_EVENTS = {"between events": {CHAT: 20, MESSAGES: 20},
                      "inside a placeholder": {CHAT: 5, MESSAGES: 7}}


@pytest.mark.parametrize("where", list(STALL_AFTER_EVENTS))
@pytest.mark.parametrize("path", APIS)
def test_ten_second_stall_between_events_resumes_and_completes(envoy, mock, path, where):
    values = harness.client_values(240 + APIS.index(path) + 2 * list(STALL_AFTER_EVENTS).index(where))
    after = STALL_AFTER_EVENTS[where][path]
    headers = dict(HEADERS, **{"x-mock-fault-kind": "stall", "x-mock-fault-after-events": str(after),
                               "x-mock-fault-stall-ms": str(int(STALL_S * 1000))})
    start = time.monotonic()
    status, received, error = stream_until_failure(envoy.url(path),
                                                   harness.chat_request_bytes(path, prompt_for(values), True),
                                                   headers, timeout=STALL_S * 3)
    elapsed = time.monotonic() - start
    text = received.decode("utf-8")
    assert status == 200 and error is None, error
    assert elapsed >= STALL_S
    assert harness.streamed_text(path, text, complete_only=True) == "You said: " + prompt_for(values)
    assert not harness.PLACEHOLDER_SHAPE.search(text)
    assert ("message_stop" if path == MESSAGES else "[DONE]") in text


# ---------------------------------------------------------------------------------------------
# Trailers from the upstream reach an HTTP/2 client; the body is restored


def h2c_exchange(port, path, body, headers, timeout=harness.REQUEST_TIMEOUT_S):
    """One request over HTTP/2 with prior knowledge: (response headers, body, trailers)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True,
                                                                       header_encoding="utf-8"))
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    request_headers = [(":method", "POST"), (":path", path), (":scheme", "http"),
                       (":authority", f"127.0.0.1:{port}"), ("content-length", str(len(body)))]
    request_headers += [(k, v) for k, v in headers.items()]
    conn.send_headers(stream_id, request_headers)
    conn.send_data(stream_id, body, end_stream=True)
    sock.sendall(conn.data_to_send())
    reply_headers, data, trailers = {}, bytearray(), {}
    done = False
    try:
        while not done:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError("connection closed before the stream ended")
            for event in conn.receive_data(chunk):
                if isinstance(event, h2.events.ResponseReceived):
                    reply_headers = dict(event.headers)
                elif isinstance(event, h2.events.DataReceived):
                    data += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, h2.events.TrailersReceived):
                    trailers = dict(event.headers)
                elif isinstance(event, h2.events.StreamEnded):
                    done = True
                elif isinstance(event, h2.events.StreamReset):
                    raise AssertionError(f"stream reset, code {event.error_code}")
            sock.sendall(conn.data_to_send())
    finally:
        sock.close()
    return reply_headers, bytes(data), trailers


@pytest.fixture(scope="module")
def trailers_envoy(mock, tmp_path_factory):
    """Envoy with the filter whose HTTP/1.1 upstream side passes trailers on."""
    instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("envoy-trailers"), mock.port,
                                           filter_config={},
                                           bootstrap_edit=harness.upstream_protocol(trailers=True))
    yield instance
    instance.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("path", APIS)
def test_http1_upstream_trailers_reach_an_http2_client(trailers_envoy, mock, path, stream):
    values = harness.client_values(250 + APIS.index(path) + 2 * stream)
    with mock.expect_one_request() as upstream:
        headers, data, trailers = h2c_exchange(trailers_envoy.port, path,
                                               harness.chat_request_bytes(path, prompt_for(values), stream),
                                               dict(HEADERS, **{"x-mock-fault-kind": "trailers"}))
    assert values.email not in upstream.body.decode()
    assert headers[":status"] == "200"
    assert trailers.get("x-mock-trailer") == "done" and trailers.get("grpc-status") == "0"
    assert not harness.PLACEHOLDER_SHAPE.search(data.decode("utf-8"))
    assert harness.reply_text(path, stream, data, complete_only=True) == "You said: " + prompt_for(values)


class H2Upstream:
    """A minimal HTTP/2 (prior knowledge) upstream: it answers every request with the mock LLM's
    own streamed reply for that request (tests/mock_llm.py builds it), in DATA frames, then ends
    the stream with trailers (grpc-status, and one plain trailer)."""

    def __init__(self):
        import importlib.util

        spec = importlib.util.spec_from_file_location("mock_llm_for_h2", harness.MOCK_SCRIPT)
        self.mock = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.mock)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.bodies = []
        self.closing = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.closing:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.connection, args=(sock,), daemon=True).start()

    def reply_pieces(self, path, body):
        """The mock's reply to this request: SSE events when it streams, else the JSON body in
        two DATA frames."""
        mock = self.mock
        if path.endswith(MESSAGES):
            buffered, events = mock.anthropic_messages(body, mock.last_user_text(body.get("messages")))
        else:
            buffered, events = mock.openai_chat(body, mock.last_user_text(body.get("messages")))
        if body.get("stream") is True:
            return "text/event-stream; charset=utf-8", [mock.sse_bytes(n, d) for n, d in events]
        whole = mock.dumps(buffered).encode("utf-8")
        return "application/json", [whole[:len(whole) // 2], whole[len(whole) // 2:]]

    def connection(self, sock):
        conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
            client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        requests = {}
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                for event in conn.receive_data(chunk):
                    if isinstance(event, h2.events.RequestReceived):
                        requests[event.stream_id] = [dict(event.headers), bytearray()]
                    elif isinstance(event, h2.events.DataReceived):
                        requests[event.stream_id][1] += event.data
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    elif isinstance(event, h2.events.StreamEnded):
                        headers, raw = requests.pop(event.stream_id)
                        self.bodies.append(bytes(raw))
                        self.answer(conn, event.stream_id, headers[":path"], json.loads(raw))
                sock.sendall(conn.data_to_send())
        except (OSError, ValueError, h2.exceptions.ProtocolError):
            return
        finally:
            sock.close()

    def answer(self, conn, stream_id, path, body):
        content_type, pieces = self.reply_pieces(path, body)
        conn.send_headers(stream_id, [(":status", "200"), ("content-type", content_type)])
        for piece in pieces:
            conn.send_data(stream_id, piece)
        conn.send_headers(stream_id, [("grpc-status", "0"), ("x-upstream-trailer", "h2-done")],
                          end_stream=True)

    def stop(self):
        self.closing = True
        self.listener.close()


@pytest.fixture(scope="module")
def h2_upstream_envoy(tmp_path_factory):
    upstream = H2Upstream()
    instance = None
    try:
        instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("envoy-h2-upstream"),
                                               upstream.port, filter_config={},
                                               bootstrap_edit=harness.upstream_protocol(http2=True))
        yield instance, upstream
    finally:
        if instance is not None:
            instance.stop()
        upstream.stop()


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("path", APIS)
def test_http2_upstream_trailers_reach_the_client_and_the_body_is_restored(h2_upstream_envoy, path,
                                                                            stream):
    envoy, upstream = h2_upstream_envoy
    values = harness.client_values(260 + APIS.index(path) + 2 * stream)
    seen = len(upstream.bodies)
    headers, data, trailers = h2c_exchange(envoy.port, path,
                                           harness.chat_request_bytes(path, prompt_for(values), stream), HEADERS)
    assert len(upstream.bodies) == seen + 1
    assert values.email not in upstream.bodies[-1].decode()
    assert headers[":status"] == "200"
    assert trailers.get("grpc-status") == "0" and trailers.get("x-upstream-trailer") == "h2-done"
    assert not harness.PLACEHOLDER_SHAPE.search(data.decode("utf-8"))
    assert harness.reply_text(path, stream, data, complete_only=True) == "You said: " + prompt_for(values)
