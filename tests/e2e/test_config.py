"""Filter configuration through Envoy: bad documents are refused at load (Envoy does not come up,
and its log names the offending field); good ones change behaviour as documented.
"""

import json

import harness
import httpx
import pytest
from planted import PLANTED, PROMPT, leaks

EMAIL = dict(PLANTED)["EMAIL"]
CARD = dict(PLANTED)["CREDIT_CARD"]
CHAT = "/v1/chat/completions"

# (case id, configuration, text the log must contain: the field's path)
REFUSED = [
    ("unknown_key", {"fail_open": False, "mask_everything": True}, "mask_everything"),
    ("bad_regex", {"custom_patterns": [{"name": "TICKET", "regex": "TCK-(\\d{6}",
                                        "context": ["ticket"]}]}, "custom_patterns[0].regex"),
    ("second_pattern_bad", {"custom_patterns": [
        {"name": "TICKET", "regex": "TCK-\\d{6}", "context": []},
        {"name": "BADGE", "regex": "[unclosed", "context": []}]}, "custom_patterns[1].regex"),
    ("template_without_number", {"placeholder_template": "[{TYPE}]"}, "placeholder_template"),
    ("template_with_quote", {"placeholder_template": "\"{TYPE}_{N}\""}, "placeholder_template"),
    ("wrong_type", {"max_body_bytes": "big"}, "max_body_bytes"),
    ("zero_limit", {"max_body_bytes": 0}, "max_body_bytes"),
    ("memo_too_large", {"scan_memo_entries": 1000000}, "scan_memo_entries"),
    ("bad_unknown_paths", {"unknown_paths": "sometimes"}, "unknown_paths"),
    ("unknown_entity", {"entities": {"EMAIL": True, "SHOE_SIZE": True}}, "entities"),
    ("not_json", "{fail_open: true", None),
]


@pytest.mark.parametrize("config, field", [(c, f) for _, c, f in REFUSED],
                         ids=[case for case, _, _ in REFUSED])
def test_bad_configuration_is_refused_naming_the_field(envoy_factory, config, field):
    returncode, log = envoy_factory.expect_refusal(config)
    assert returncode not in (None, 0)
    if field is not None:
        assert field in log, f"envoy log does not name {field!r}"


def masked_exchange(envoy, mock, text):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]})
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url(CHAT), content=body,
                           headers={"content-type": "application/json"}, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text[:500]
    return upstream.json()["messages"][0]["content"], reply.json()["choices"][0]["message"]["content"]


def test_disabled_entity_passes_and_others_are_still_masked(envoy_factory, mock):
    envoy = envoy_factory.start({"entities": {"EMAIL": False}})
    sent, reply = masked_exchange(envoy, mock, f"mail {EMAIL} card {CARD}")
    assert sent == "mail " + EMAIL + " card [CREDIT_CARD_1]"
    assert reply == f"You said: mail {EMAIL} card {CARD}"


def test_allow_list_value_is_not_masked(envoy_factory, mock):
    envoy = envoy_factory.start({"allow_list": ["support@example.com"]})
    sent, reply = masked_exchange(envoy, mock, f"cc support@example.com and {EMAIL}")
    assert sent == "cc support@example.com and [EMAIL_1]"
    assert reply == f"You said: cc support@example.com and {EMAIL}"


def test_custom_pattern_is_masked_and_restored(envoy_factory, mock):
    envoy = envoy_factory.start({"custom_patterns": [
        {"name": "TICKET", "regex": "TCK-\\d{6}", "context": ["ticket"]}]})
    text = f"ticket TCK-204817 was opened by {EMAIL}"
    sent, reply = masked_exchange(envoy, mock, text)
    assert "TCK-204817" not in sent and EMAIL not in sent
    assert "[TICKET_1]" in sent and "[EMAIL_1]" in sent
    assert reply == "You said: " + text


def test_custom_placeholder_template(envoy_factory, mock):
    envoy = envoy_factory.start({"placeholder_template": "<<{TYPE}#{N}>>"})
    sent, reply = masked_exchange(envoy, mock, PROMPT)
    assert leaks(sent.encode()) == []
    assert "<<EMAIL#1>>" in sent and "[EMAIL_1]" not in sent
    assert reply == "You said: " + PROMPT


def test_default_configuration_accepts_an_empty_document(envoy_factory, mock):
    envoy = envoy_factory.start({})
    sent, reply = masked_exchange(envoy, mock, f"mail {EMAIL}")
    assert sent == "mail [EMAIL_1]"
    assert reply == f"You said: mail {EMAIL}"
