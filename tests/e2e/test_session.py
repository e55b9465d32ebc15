"""Sessions: placeholder mappings kept in Envoy shared data across the exchanges of one session.

Stateful APIs (OpenAI Responses with `previous_response_id`) do not resend the history, so a later
reply can quote a placeholder issued in an earlier exchange. With `session.identity_header` set,
the filter keeps a session's mappings and restores them later, for that session only.
"""

import json

import harness
import httpx

RESPONSES = "/v1/responses"
HEADER = "x-authenticated-user"
EMAIL = "ann.lee@example.com"
CONFIG = {"session": {"identity_header": HEADER, "ttl_seconds": 600}}


def turn(envoy, text, user, previous=None):
    body = {"model": "m", "input": text}
    if previous:
        body["previous_response_id"] = previous
    headers = {"content-type": "application/json"}
    if user:
        headers[HEADER] = user
    reply = httpx.post(envoy.url(RESPONSES), content=json.dumps(body), headers=headers,
                       timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text[:300]
    data = reply.json()
    text_out = "".join(part.get("text", "") for item in data.get("output", [])
                       for part in item.get("content", []) or [])
    return data["id"], text_out


def test_a_later_exchange_restores_and_reuses_the_sessions_placeholders(envoy_factory, mock):
    envoy = envoy_factory.start(CONFIG)
    first_id, first = turn(envoy, f"My address is {EMAIL}, remember it.", "alice")
    assert first == f"You said: My address is {EMAIL}, remember it."
    assert "[EMAIL_1]" in mock.last_request().decode()
    # The session identity is the gateway's: the provider does not get it.
    assert HEADER not in mock.last_headers()

    # The model quotes the placeholder from the first exchange; this request masked nothing.
    _, second = turn(envoy, "Write to [EMAIL_1] tomorrow.", "alice", previous=first_id)
    assert second == f"You said: Write to {EMAIL} tomorrow."

    # The same value keeps its placeholder, and a new one is numbered after it.
    _, third = turn(envoy, f"Copy {EMAIL} and bob.ray@example.com", "alice", previous=first_id)
    upstream = mock.last_request().decode()
    assert "[EMAIL_1]" in upstream and "[EMAIL_2]" in upstream and EMAIL not in upstream
    assert third == f"You said: Copy {EMAIL} and bob.ray@example.com"


def test_another_session_never_gets_them(envoy_factory, mock):
    envoy = envoy_factory.start(CONFIG)
    turn(envoy, f"My address is {EMAIL}.", "alice")
    _, other = turn(envoy, "Write to [EMAIL_1] tomorrow.", "mallory")
    assert other == "You said: Write to [EMAIL_1] tomorrow."
    _, anonymous = turn(envoy, "Write to [EMAIL_1] tomorrow.", None)
    assert anonymous == "You said: Write to [EMAIL_1] tomorrow."
