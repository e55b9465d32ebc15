"""Policy per route and tenant through Envoy: one gateway, two teams, two policies.

The configuration is examples/policies/two-teams.json: `payments` (pci_dss) on the `/payments`
route prefix, `research` (secrets_only) for callers whose verified gateway token carries
`team: research`, the filter's default policy everywhere else. The bootstrap is the shipped one
(envoy/render.py) with JWT authentication in front: the client's copy of the policy header is
dropped, and jwt_authn sets it from the token's `team` claim. The mock upstream records what it
received, so each test shows what each policy let through.

Values: 4111 1111 1111 1111 is a card number the card networks publish for testing; the address
is at example.com (RFC 2606).
"""

import base64
import hashlib
import hmac
import json
import time

import harness
import httpx
import pytest

CONFIG = json.loads((harness.REPO / "examples" / "policies" / "two-teams.json").read_text())
SELECT = CONFIG["policy_header"]
CARD = "4111 1111 1111 1111"
CARD_PARTIAL = "4111 11** **** 1111"  # pci_dss: first six and last four
EMAIL = "ann.lee@example.com"
TEXT = f"Charge card {CARD} and mail the receipt to {EMAIL}."
ISSUER = "https://gateway.test"
TOKEN_HEADER = "x-gateway-token"
KEY = b"prompt-guard e2e test key, HS256, not a secret"
JSON = {"content-type": "application/json"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(team, key=KEY):
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test"}).encode())
    claims = b64url(json.dumps({"iss": ISSUER, "sub": "someone", "team": team,
                                "exp": int(time.time()) + 600}).encode())
    signature = hmac.new(key, f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64url(signature)}"


JWKS = json.dumps({"keys": [{"kty": "oct", "kid": "test", "alg": "HS256", "k": b64url(KEY)}]})
WITH_JWT = {"jwt": {"issuer": ISSUER, "jwks": JWKS, "header": TOKEN_HEADER, "policy_claim": "team"}}


@pytest.fixture(scope="module")
def gateway(mock, tmp_path_factory):
    instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("two-teams"), mock.port,
                                           filter_config=CONFIG, render_options=WITH_JWT)
    yield instance
    instance.stop()


def chat(envoy, path, headers=None, stream=False):
    body = json.dumps({"model": "m", "stream": stream, "messages": [{"role": "user", "content": TEXT}]})
    return httpx.post(envoy.url(path), content=body, headers={**JSON, **(headers or {})},
                      timeout=harness.REQUEST_TIMEOUT_S)


def sent_text(mock):
    return json.loads(mock.last_request())["messages"][0]["content"]


def test_two_routes_run_under_two_policies(gateway, mock):
    with mock.expect_one_request():
        payments = chat(gateway, "/payments/v1/chat/completions")
    upstream = sent_text(mock)
    assert payments.status_code == 200, payments.text[:300]
    assert payments.headers["x-prompt-guard-policy"] == "payments"
    assert CARD not in upstream and CARD_PARTIAL in upstream and "[EMAIL_1]" in upstream
    # The partial card is not restored (irreversible); the address is.
    reply = payments.json()["choices"][0]["message"]["content"]
    assert CARD_PARTIAL in reply and EMAIL in reply and CARD not in reply

    with mock.expect_one_request():
        other = chat(gateway, "/v1/chat/completions")
    upstream = sent_text(mock)
    assert other.headers["x-prompt-guard-policy"] == "default"
    assert "[CREDIT_CARD_1]" in upstream and "[EMAIL_1]" in upstream and CARD_PARTIAL not in upstream
    assert CARD in other.json()["choices"][0]["message"]["content"]


def test_a_streamed_reply_names_its_policy(gateway, mock):
    reply = chat(gateway, "/payments/v1/chat/completions", stream=True)
    assert reply.status_code == 200
    assert reply.headers["x-prompt-guard-policy"] == "payments"
    text = harness.streamed_text(harness.CHAT_PATH, reply.text)
    assert CARD_PARTIAL in text and EMAIL in text


def test_a_verified_team_claim_selects_its_policy(gateway, mock):
    with mock.expect_one_request():
        research = chat(gateway, "/v1/chat/completions", {TOKEN_HEADER: token("research")})
    assert research.headers["x-prompt-guard-policy"] == "research"
    # secrets_only: personal data goes upstream as written.
    upstream = sent_text(mock)
    assert CARD in upstream and EMAIL in upstream
    # Neither the token nor the policy header the gateway set from it reaches the provider.
    assert TOKEN_HEADER not in mock.last_headers() and SELECT not in mock.last_headers()
    # The claim beats the route.
    with mock.expect_one_request():
        chat(gateway, "/payments/v1/chat/completions", {TOKEN_HEADER: token("research")})
    assert CARD in sent_text(mock)


def test_a_client_sent_policy_header_is_dropped(gateway, mock):
    for headers in ({SELECT: "research"}, {SELECT: "research", TOKEN_HEADER: token("payments")}):
        with mock.expect_one_request():
            reply = chat(gateway, "/payments/v1/chat/completions", headers)
        assert reply.headers["x-prompt-guard-policy"] == "payments"
        assert CARD not in sent_text(mock)
    with mock.expect_one_request():
        reply = chat(gateway, "/v1/chat/completions", {SELECT: "research"})
    assert reply.headers["x-prompt-guard-policy"] == "default"
    assert CARD not in sent_text(mock) and mock.last_headers().get(SELECT) is None


def test_a_team_without_a_policy_is_refused_before_the_upstream(gateway, mock):
    with mock.expect_no_request():
        reply = chat(gateway, "/v1/chat/completions", {TOKEN_HEADER: token("marketing")})
    assert reply.status_code == 403
    assert reply.headers["x-prompt-guard-rejected"] == "unknown_policy"
    assert reply.json()["error"]["code"] == "prompt_guard_unknown_policy"
    assert "marketing" not in reply.text


def test_requests_and_masked_values_are_counted_per_policy(gateway, mock):
    before = gateway.metrics()
    chat(gateway, "/payments/v1/chat/completions")
    chat(gateway, "/payments/v1/chat/completions")
    chat(gateway, "/v1/chat/completions", {TOKEN_HEADER: token("research")})
    after = gateway.metrics()

    def delta(name, policy):
        return after.value(name, policy=policy) - before.value(name, policy=policy)

    assert delta("prompt_guard_policy_requests", "payments") == 2
    assert delta("prompt_guard_policy_entities_masked", "payments") == 4
    assert delta("prompt_guard_policy_requests", "research") == 1
    assert delta("prompt_guard_policy_entities_masked", "research") == 0
    assert delta("prompt_guard_policy_requests", "default") == 0
    names = {name for (name, _labels) in after.samples}
    assert not [n for n in names if n.startswith("prompt_guard_policy_requests_policy_")]


def test_the_payments_route_redacts_track_data_and_pins(gateway, mock):
    # Track 2 layout of ISO/IEC 7813 around the published test card number; the PIN was written
    # for this test. Under the default policy both become placeholders (restored); under pci_dss
    # they are redacted and never come back.
    track = ";4111111111111111=25121015432112345678?"
    text = f"Reader sent {track}, PIN: 4821."
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]})
    with mock.expect_one_request():
        reply = httpx.post(gateway.url("/payments/v1/chat/completions"), content=body, headers=JSON,
                           timeout=harness.REQUEST_TIMEOUT_S)
    upstream = sent_text(mock)
    assert upstream == "Reader sent [REDACTED], PIN: [REDACTED]."
    assert track not in reply.text and "4821" not in reply.text
    with mock.expect_one_request():
        reply = httpx.post(gateway.url("/v1/chat/completions"), content=body, headers=JSON,
                           timeout=harness.REQUEST_TIMEOUT_S)
    assert sent_text(mock) == "Reader sent [CARD_TRACK_DATA_1], PIN: [CARD_PIN_1]."
    assert reply.json()["choices"][0]["message"]["content"] == f"You said: {text}"
