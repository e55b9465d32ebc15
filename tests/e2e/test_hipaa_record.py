"""The HIPAA example record of the entity-coverage work through a real Envoy, on both provider APIs
(OpenAI chat completions and Anthropic messages), with a buffered and a streamed reply: every
identifier in it (the patient's name, the date of birth, the medical record number, the e-mail
address) leaves as a placeholder, none of the originals reaches the upstream in any form the
request carries, and the client reads the record back whole. The mock echoes the user text, in
deltas of at most four characters when streaming, so the placeholders it returns are split
across events and must still be restored.
"""

import harness
import httpx
import pytest

RECORD = "Patient: John Smith, DOB: 1985-03-15, MRN: MRN-123456, email john.smith@example.com"
ORIGINALS = ["John Smith", "1985-03-15", "MRN-123456", "john.smith@example.com"]
PLACEHOLDERS = ["[PERSON_1]", "[DATE_OF_BIRTH_1]", "[MEDICAL_RECORD_1]", "[EMAIL_1]"]
EXPECTED_UPSTREAM = "Patient: [PERSON_1], DOB: [DATE_OF_BIRTH_1], MRN: [MEDICAL_RECORD_1], email [EMAIL_1]"


@pytest.mark.parametrize("stream", [False, True], ids=["buffered", "streamed"])
@pytest.mark.parametrize("path", [harness.CHAT_PATH, harness.MESSAGES_PATH], ids=["openai", "anthropic"])
def test_every_identifier_of_the_record_is_masked_upstream_and_restored(envoy, mock, path, stream):
    labels = ["PERSON", "DATE_OF_BIRTH", "MEDICAL_RECORD", "EMAIL"]
    before = {label: envoy.metrics().value("prompt_guard_entities_masked", type=label) for label in labels}
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(path), content=harness.chat_request_bytes(path, RECORD, stream),
                           headers={"content-type": "application/json"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text[:300]

    raw = upstream.body.decode("utf-8")
    for value in ORIGINALS:
        assert value not in raw, f"{value} reached the upstream"
    # The surname and the record's digits alone do not leave either.
    for part in ["Smith", "123456", "1985"]:
        assert part not in raw, f"{part} reached the upstream"
    # The user text is a string on both APIs.
    assert upstream.json()["messages"][-1]["content"] == EXPECTED_UPSTREAM

    text = harness.reply_text(path, stream, reply.content)
    assert text == f"You said: {RECORD}"
    for placeholder in PLACEHOLDERS:
        assert placeholder not in reply.text, f"{placeholder} reached the client"
    for label in labels:
        after = envoy.metrics().value("prompt_guard_entities_masked", type=label)
        assert after >= before[label] + 1, f"{label} not counted"
