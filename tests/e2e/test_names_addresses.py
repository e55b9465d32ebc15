"""Names, postal addresses and phone numbers of several countries through a real Envoy: the
issue's HIPAA example record leaves with every identifier masked (the patient's name included)
and the reply brings every value back; a street line, a UK postcode and European phone numbers
likewise; and the per-type counters name the new types.
"""

import json

import harness
import httpx

CHAT = "/v1/chat/completions"
HIPAA = "Patient: John Smith, DOB: 1985-03-15, MRN: MRN-123456, email john.smith@example.com"


def post(envoy, content):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": content}]})
    return httpx.post(envoy.url(CHAT), content=body, timeout=harness.REQUEST_TIMEOUT_S,
                      headers={"content-type": "application/json"})


def test_the_hipaa_example_is_masked_upstream_and_restored_for_the_client(envoy, mock):
    before = envoy.metrics().value("prompt_guard_entities_masked", type="PERSON")
    with mock.expect_one_request() as upstream:
        reply = post(envoy, HIPAA)
    assert reply.status_code == 200, reply.text[:300]
    sent = upstream.json()["messages"][0]["content"]
    for value in ["John Smith", "1985-03-15", "MRN-123456", "john.smith@example.com"]:
        assert value not in sent, f"{value} reached the upstream"
    for placeholder in ["[PERSON_1]", "[DATE_OF_BIRTH_1]", "[MEDICAL_RECORD_1]", "[EMAIL_1]"]:
        assert placeholder in sent
    # The mock echoes what it received; the client gets the originals back.
    assert reply.json()["choices"][0]["message"]["content"] == f"You said: {HIPAA}"
    assert envoy.metrics().value("prompt_guard_entities_masked", type="PERSON") >= before + 1


def test_addresses_postcodes_and_foreign_phones_are_masked(envoy, mock):
    text = ("Ship to Dr. Priya Raman, 42 Elm St., Springfield, IL 62704; copy to Hauptstraße 5, "
            "10115 Berlin, post code London SW1A 1AA. Call 079 123 45 67 or +33 6 39 98 12 34.")
    with mock.expect_one_request() as upstream:
        reply = post(envoy, text)
    assert reply.status_code == 200, reply.text[:300]
    sent = upstream.json()["messages"][0]["content"]
    for value in ["Priya Raman", "42 Elm St", "Hauptstraße 5", "SW1A 1AA", "079 123 45 67", "+33 6 39 98 12 34"]:
        assert value not in sent, f"{value} reached the upstream"
    for placeholder in ["[PERSON_1]", "[ADDRESS_1]", "[ADDRESS_2]", "[POSTCODE_1]", "[PHONE_1]", "[PHONE_2]"]:
        assert placeholder in sent, f"{placeholder} not in {sent}"
    assert reply.json()["choices"][0]["message"]["content"] == f"You said: {text}"


def test_ordinary_capitalised_text_is_left_alone(envoy, mock):
    text = "Hi Team, the Docker Compose file in Step 2 Main Loop fails on Windows; see Chapter 3 Getting Started."
    with mock.expect_one_request() as upstream:
        reply = post(envoy, text)
    assert reply.status_code == 200, reply.text[:300]
    assert upstream.json()["messages"][0]["content"] == text
