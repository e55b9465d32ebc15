"""Ordinary developer traffic passes through Envoy untouched (issue 12, false alarms).

With the default configuration a coding assistant's traffic must not be refused or flagged: a
question about the roles of an LLM API, SQL written as SQL (a UNION example, a migration), a
snippet of HTML and JavaScript in a question, and tool results that carry ordinary imperative
sentences ("Format the answer as a markdown table."). Each must reach the upstream once, come
back 200 and carry no verdict headers, through both the OpenAI and the Anthropic API. A real
injection payload (a value that breaks out of its string) is still found: flagged with its
category in `x-prompt-guard-categories`, and forwarded, since payload categories are flagged,
not blocked, by default.

The developer texts are the examples of issue 12 (the migration's column list and the
script's statement completed as a developer writes them); the tool results are ordinary
sentences of the kind the issue names, and a help page from the public corpus. The payload is
the textbook string break-out (OWASP WSTG-INPV-05).
"""

import json

import harness
import httpx
import pytest

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
PATHS = [CHAT, MESSAGES]
PATH_IDS = ["openai", "anthropic"]

DEVELOPER_QUESTIONS = [
    ("llm_roles", "What's the difference between a system message and a user message in the OpenAI API?"),
    ("sql_union", "Explain UNION vs UNION ALL, e.g. SELECT id FROM a UNION SELECT id FROM b;"),
    ("sql_migration", "Write a migration: DROP TABLE IF EXISTS sessions; CREATE TABLE sessions "
                      "(id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id), "
                      "expires_at timestamptz NOT NULL);"),
    ("html_script", "Why doesn't my <script>document.getElementById('out').innerHTML = '<b>hi</b>'</script> "
                    "render bold?"),
]

TOOL_RESULTS = [
    ("format_table", "Format the answer as a markdown table."),
    # A help page as a lookup tool returns it: tldr-pages `pages/common/head.md` (CC BY 4.0),
    # as it stands in eval/dev_traffic (the landed rules refused it for the inline command).
    ("help_page", "> Output the first part of files.\n> More information: <https://manned.org/head.1p>.\n\n"
                  "- Output the first few lines of a file:\n\n`head -n {{count}} {{path/to/file}}`"),
    ("summarise", "Could you summarise the release notes below for the team?\n\n"
                  "v2.4.0: faster startup, a new --dry-run flag, and a fix for the config reload race."),
]

PAYLOAD = "1' OR '1'='1' --"


def user_request(path, text):
    if path == MESSAGES:
        return {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def tool_request(path, result):
    """A conversation whose last turn is a tool's result carrying `result`."""
    if path == MESSAGES:
        return {"model": "m", "max_tokens": 64, "messages": [
            {"role": "user", "content": "Look up the latest release notes."},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01rn", "name": "fetch_notes",
                                               "input": {"project": "cli"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01rn", "content": result}]},
        ], "tools": [{"name": "fetch_notes", "input_schema": {"type": "object"}}]}
    return {"model": "m", "messages": [
        {"role": "user", "content": "Look up the latest release notes."},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_rn", "type": "function", "function": {
            "name": "fetch_notes", "arguments": json.dumps({"project": "cli"})}}]},
        {"role": "tool", "tool_call_id": "call_rn", "content": result},
    ]}


def post(envoy, path, body):
    return httpx.post(envoy.url(path), content=json.dumps(body), headers={"content-type": "application/json"},
                      timeout=harness.REQUEST_TIMEOUT_S)


def assert_untouched(reply):
    assert reply.status_code == 200, reply.text[:300]
    verdict = {k: v for k, v in reply.headers.items()
               if k in ("x-prompt-guard-categories", "x-prompt-guard-score", "x-prompt-guard-rules")}
    assert not verdict, f"ordinary traffic was flagged: {verdict}"


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("case, text", DEVELOPER_QUESTIONS, ids=[c for c, _ in DEVELOPER_QUESTIONS])
def test_developer_question_passes_untouched(envoy, mock, path, case, text):
    with mock.expect_one_request() as upstream:
        reply = post(envoy, path, user_request(path, text))
    assert_untouched(reply)
    assert upstream.json()["messages"][0]["content"] == text


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("case, text", TOOL_RESULTS, ids=[c for c, _ in TOOL_RESULTS])
def test_tool_result_imperative_is_not_indirect_injection(envoy, mock, path, case, text):
    with mock.expect_one_request() as upstream:
        reply = post(envoy, path, tool_request(path, text))
    assert_untouched(reply)
    forwarded = upstream.json()["messages"][2]["content"]
    assert (forwarded[0]["content"] if path == MESSAGES else forwarded) == text


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
def test_a_real_payload_is_still_flagged(envoy, mock, path):
    before = envoy.metrics()
    with mock.expect_one_request():
        reply = post(envoy, path, user_request(path, PAYLOAD))
    assert reply.status_code == 200, reply.text[:300]
    assert "sqli" in reply.headers.get("x-prompt-guard-categories", "").split(",")
    assert float(reply.headers["x-prompt-guard-score"]) >= 0.5
    name = "prompt_guard_threat_verdicts"
    flags = lambda m: sum(v for labels, v in m.with_name(name) if labels.get("action") == "flag")  # noqa: E731
    assert flags(envoy.metrics()) - flags(before) >= 1


def test_an_operator_can_block_payloads(envoy_factory, mock):
    envoy = envoy_factory.start({"threats": {"actions": {"sqli": "tiered"}}})
    with mock.expect_no_request():
        reply = post(envoy, CHAT, user_request(CHAT, PAYLOAD))
    assert reply.status_code == 403, reply.text[:300]
    assert "sqli" in reply.headers.get("x-prompt-guard-categories", "")
