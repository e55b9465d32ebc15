"""One end-to-end test per leak reported in issue 11: a value the filter should have masked reached
the upstream (or a request that should have been refused was forwarded).

Every test goes through real Envoy with the built filter to the mock LLM and asserts on the exact
bytes the mock received (`/__last_request`): no planted original in them, in any spelling it can
take on the wire (raw, JSON-escaped, escaped twice when it sits in JSON inside a JSON string).
Where the spec says so it also asserts the status and error shape the client gets, and that the
client got the originals back.

Provenance of the planted values (none is a live credential or a real person's data):
- e-mail addresses: example.com / example.org, reserved for documentation (RFC 2606); where the
  issue quoted an address at a real provider's domain, the local part is kept and the domain is
  example.com.
- NANP numbers 555-0100..0199, reserved for fictional use.
- +33 (0)4 65 71 20 14 and 098765 43210: written for this project in the French and Indian
  national formats (the Indian one is the form quoted in the issue).
- US SSNs 536-90-4411 / 536904411: written for this project (as in planted.py): structurally valid
  (area not 000/666/9xx, group and serial not zero).
- cards: Stripe's documented test numbers (4242 4242 4242 4242, 4000 0566 5566 5556,
  5555 5555 5555 4444, 5200 8282 8282 8210), all Luhn-valid.
- passwords, the Slack user token and the generic secret: generated at random for this project in
  the vendor's documented format (Slack: xoxp-<team>-<user>-<user>-<32 hex>).
- the OpenSSH private key: made here, deterministic bytes laid out in OpenSSH's openssh-key-v1
  format; not anyone's key.
- Request shapes follow the providers' public API references (OpenAI Chat Completions, Completions,
  Responses, Conversations, Assistants, Batches, Files, Moderations; Anthropic Messages, Message
  Batches, Token Counting); the mock answers the paths it does not speak by echoing the body, and
  records every body it receives either way.
"""

import base64
import hashlib
import http.client
import importlib.util
import json
import re
import struct

import anthropic
import harness
import httpx
import pytest
from planted import PLANTED


def load_mock_module():
    spec = importlib.util.spec_from_file_location("prompt_guard_mock_llm", harness.MOCK_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MOCK = load_mock_module()

EMAIL = dict(PLANTED)["EMAIL"]  # jane.doe@example.com
CARD = dict(PLANTED)["CREDIT_CARD"]  # 4242 4242 4242 4242
SSN = dict(PLANTED)["US_SSN"]  # 536-90-4411
PHONE = dict(PLANTED)["PHONE"]  # (212) 555-0147
EMAIL2 = "raj.patel@example.org"
PASSWORD = "Hunter2xQ9z!"  # the issue's example value

CHAT = "/v1/chat/completions"
MESSAGES = "/v1/messages"
RESPONSES = "/v1/responses"
JSON_HEADERS = {"content-type": "application/json"}
OPENAI_MODEL = "gpt-e2e-mock"
CLAUDE_MODEL = "claude-e2e-mock"


# ---------------------------------------------------------------------------------------------
# Helpers


def wire_forms(value):
    """The spellings a value can take in the bytes of a JSON request: as is, JSON-escaped (ASCII
    or not), and escaped twice (a JSON document inside a JSON string, e.g. tool arguments)."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}
    return forms


def fragments(value):
    """A multi-line value (a key block) is checked line by line; its armour lines are public."""
    if "\n" in value:
        return [line.strip() for line in value.splitlines()
                if line.strip() and not line.strip().startswith("-----")]
    return [value]


def leaked(upstream_bytes, values):
    text = upstream_bytes.decode("utf-8", "replace")
    return [value for value in values for fragment in fragments(value)
            if any(form in text for form in wire_forms(fragment))]


def assert_not_forwarded(upstream_bytes, values):
    assert upstream_bytes, "the upstream received an empty body"
    found = leaked(upstream_bytes, values)
    assert found == [], f"planted values reached the upstream: {found}"


PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*_[0-9]+\]")


def placeholders(upstream_bytes):
    """{placeholder: occurrences} in what the upstream received."""
    found = {}
    for match in PLACEHOLDER.findall(upstream_bytes.decode("utf-8", "replace")):
        found[match] = found.get(match, 0) + 1
    return found


def assert_masked(upstream_bytes, values):
    """Not forwarded, and replaced (not dropped): one placeholder at least per distinct value."""
    assert_not_forwarded(upstream_bytes, values)
    assert len(placeholders(upstream_bytes)) >= len(set(values)), placeholders(upstream_bytes)


def post(envoy, path, body, headers=None):
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(envoy.url(path), content=content, headers=headers or JSON_HEADERS,
                      timeout=harness.REQUEST_TIMEOUT_S)


def raw_post(envoy, path, body):
    """POST with the request target sent exactly as written (httpx would normalise dot segments
    and some escapes). Returns (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", envoy.port, timeout=harness.REQUEST_TIMEOUT_S)
    try:
        conn.request("POST", path, body=body, headers=JSON_HEADERS)
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def forwarded(envoy, mock, path, body, headers=None):
    """One request that must reach the upstream: (client reply, upstream record)."""
    with mock.expect_one_request() as upstream:
        reply = post(envoy, path, body, headers)
    assert reply.status_code == 200, reply.text[:500]
    return reply, upstream


def chat(*messages, **extra):
    return dict({"model": OPENAI_MODEL, "messages": list(messages)}, **extra)


def user(content, **extra):
    return dict({"role": "user", "content": content}, **extra)


def assistant(content, **extra):
    return dict({"role": "assistant", "content": content}, **extra)


def claude(*messages, **extra):
    return dict({"model": CLAUDE_MODEL, "max_tokens": 256, "messages": list(messages)}, **extra)


def chat_reply_text(reply):
    return reply.json()["choices"][0]["message"]["content"]


# ---------------------------------------------------------------------------------------------
# 1. A value masked once is masked everywhere in the request (and, with a session, later).

ONCE_MASKED = [
    ("turn2_restored_reply_resent", chat(
        user(f"Log in to the staging box, password={PASSWORD}"),
        assistant(f"I'll log in with {PASSWORD} and report back."),
        user("Go ahead.")), [PASSWORD]),
    ("repeated_bare_in_one_message", chat(
        user(f"password={PASSWORD} \u2014 I repeat, it is {PASSWORD}")), [PASSWORD]),
    ("system_value_in_user_message", chat(
        {"role": "system", "content": f"The service account uses password={PASSWORD}"},
        user(f"Is {PASSWORD} strong enough for production?")), [PASSWORD]),
    ("ssn_turn2_assistant_text", chat(
        user("My SSN 536904411, please add it to the form."),
        assistant("I have recorded 536904411 on the form."),
        user("Thanks, submit it.")), ["536904411"]),
]


@pytest.mark.parametrize("body, values", [c[1:] for c in ONCE_MASKED],
                         ids=[c[0] for c in ONCE_MASKED])
def test_once_masked_masked_everywhere(envoy, mock, body, values):
    reply, upstream = forwarded(envoy, mock, CHAT, body)
    assert_not_forwarded(upstream.body, values)
    # Every occurrence became the same placeholder.
    occurrences = json.dumps(body).count(values[0])
    assert occurrences >= 2
    assert max(placeholders(upstream.body).values(), default=0) >= occurrences, upstream.body
    last_user = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    assert chat_reply_text(reply) == MOCK.REPLY_PREFIX + last_user


def test_turn2_after_a_real_turn1(envoy, mock):
    """Turn 1 through the proxy; the client resends the restored reply with its own wording."""
    first = chat(user(f"Log in to the staging box, password={PASSWORD}"))
    reply, upstream = forwarded(envoy, mock, CHAT, first)
    assert_not_forwarded(upstream.body, [PASSWORD])
    restored = chat_reply_text(reply)
    assert PASSWORD in restored, "turn 1 reply was not restored"
    second = chat(first["messages"][0], assistant(restored),
                  assistant(f"Logged in with {PASSWORD}; the box is healthy."), user("Log out now."))
    _, upstream = forwarded(envoy, mock, CHAT, second)
    assert_not_forwarded(upstream.body, [PASSWORD])


def test_session_masks_values_of_earlier_exchanges(envoy_factory, mock):
    """Responses with previous_response_id does not resend history: the session remembers."""
    header = "x-authenticated-user"
    envoy = envoy_factory.start({"session": {"identity_header": header, "ttl_seconds": 600}})
    headers = dict(JSON_HEADERS, **{header: "leak-tests"})
    reply, upstream = forwarded(envoy, mock, RESPONSES,
                                {"model": OPENAI_MODEL, "input": "My SSN 536904411 is for the form."},
                                headers)
    assert_not_forwarded(upstream.body, ["536904411"])
    second = "Double-check that 536904411 has nine digits."
    reply, upstream = forwarded(envoy, mock, RESPONSES,
                                {"model": OPENAI_MODEL, "previous_response_id": reply.json()["id"],
                                 "input": second}, headers)
    assert_not_forwarded(upstream.body, ["536904411"])
    text = "".join(part.get("text", "") for item in reply.json()["output"]
                   for part in item.get("content") or [])
    assert text == MOCK.REPLY_PREFIX + second


# ---------------------------------------------------------------------------------------------
# 2. Fields the adapters did not know: every string is masked unless the API says it is not text.

SCHEMA = {"type": "object", "properties": {"email": {"type": "string",
                                                     "description": f"e.g. {EMAIL}"}}}
HELLO = "Please help with the account."
TEXT_SOURCE = {"type": "text", "media_type": "text/plain", "data": "Q3 notes."}
SEARCH_ID = "srvtoolu_01WYG3ziw53XMcoyKL4XcZmE"

FIELDS = [
    # OpenAI Chat Completions
    ("chat.messages.name", CHAT, chat(user(HELLO, name=EMAIL)), [EMAIL]),
    ("chat.tools.function.description", CHAT, chat(user(HELLO), tools=[{
        "type": "function", "function": {
            "name": "lookup", "description": f"Look up the account of {EMAIL}.",
            "parameters": {"type": "object", "properties": {}}}}]), [EMAIL]),
    ("chat.tools.function.parameters", CHAT, chat(user(HELLO), tools=[{"type": "function", "function": {
        "name": "lookup", "parameters": {"type": "object", "properties": {"card": {
            "type": "string", "enum": [CARD], "description": f"Card of {EMAIL}"}}}}}]),
     [EMAIL, CARD]),
    ("chat.response_format.json_schema", CHAT, chat(user(HELLO), response_format={
        "type": "json_schema", "json_schema": {"name": "contact", "strict": True, "schema": SCHEMA}}),
     [EMAIL]),
    ("chat.prediction.content", CHAT, chat(user(HELLO), prediction={
        "type": "content", "content": f"Dear customer,\nyour card {CARD} was charged."}), [CARD]),
    ("chat.refusal_part", CHAT, chat(
        user(HELLO),
        assistant([{"type": "refusal", "refusal": f"I cannot email {EMAIL} the SSN {SSN}."}]),
        user("Why not?")), [EMAIL, SSN]),
    ("chat.user", CHAT, chat(user(HELLO), user=EMAIL), [EMAIL]),
    ("chat.metadata", CHAT, chat(user(HELLO), store=True, metadata={"customer": EMAIL}), [EMAIL]),
    ("chat.safety_identifier", CHAT, chat(user(HELLO), safety_identifier=EMAIL), [EMAIL]),
    ("chat.stop", CHAT, chat(user(HELLO), stop=[f"Card {CARD}", "END"]), [CARD]),
    ("chat.web_search_options.user_location", CHAT, chat(user(HELLO), web_search_options={
        "user_location": {"type": "approximate", "approximate": {
            "city": f"Springfield, call {PHONE}", "country": "US", "region": EMAIL,
            "timezone": "America/Chicago"}}}), [EMAIL, PHONE]),
    ("completions.suffix", "/v1/completions", {
        "model": OPENAI_MODEL, "prompt": "def contact():\n    return ",
        "suffix": f"\n# owner: {EMAIL}\n"}, [EMAIL]),
    # Anthropic Messages
    ("anthropic.document.title", MESSAGES, claude(user([
        {"type": "document", "source": TEXT_SOURCE,
         "title": f"Notes shared by {EMAIL}"}, {"type": "text", "text": "Summarise."}])), [EMAIL]),
    ("anthropic.document.context", MESSAGES, claude(user([
        {"type": "document", "source": TEXT_SOURCE,
         "context": f"Owner SSN {SSN}, phone {PHONE}"}, {"type": "text", "text": "Summarise."}])),
     [SSN, PHONE]),
    ("anthropic.document.source_content", MESSAGES, claude(user([
        {"type": "document", "source": {"type": "content", "content": [
            {"type": "text", "text": f"Customer e-mail: {EMAIL}"},
            {"type": "text", "text": f"Card on file: {CARD}"}]}},
        {"type": "text", "text": "Summarise."}])), [EMAIL, CARD]),
    ("anthropic.search_result", MESSAGES, claude(user([
        {"type": "search_result", "source": "https://www.example.com/crm/42",
         "title": f"CRM record of {EMAIL}",
         "content": [{"type": "text", "text": f"SSN {SSN}, card {CARD}"}],
         "citations": {"enabled": True}},
        {"type": "text", "text": "What is on file?"}])), [EMAIL, SSN, CARD]),
    ("anthropic.tool_result.document", MESSAGES, claude(
        user("Fetch the record."),
        assistant([{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "fetch",
                    "input": {"record": "42"}}]),
        user([{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": [
            {"type": "document", "source": {"type": "text", "media_type": "text/plain",
                                            "data": f"E-mail: {EMAIL}\nSSN: {SSN}"}}]}]),
        tools=[{"name": "fetch", "input_schema": {"type": "object", "properties": {}}}]),
     [EMAIL, SSN]),
    ("anthropic.tools.description", MESSAGES, claude(user(HELLO), tools=[
        {"name": "notify", "description": f"Send a note to {EMAIL}.",
         "input_schema": {"type": "object", "properties": {}}}]), [EMAIL]),
    ("anthropic.tools.input_schema", MESSAGES, claude(user(HELLO), tools=[
        {"name": "notify", "input_schema": {"type": "object", "properties": {"to": {
            "type": "string", "default": EMAIL, "enum": [EMAIL, EMAIL2]}}}}]), [EMAIL, EMAIL2]),
    ("anthropic.metadata.user_id", MESSAGES, claude(user(HELLO), metadata={"user_id": EMAIL}),
     [EMAIL]),
    ("anthropic.server_tool_use.input", MESSAGES, claude(
        user("Search the web for me."),
        assistant([{"type": "server_tool_use", "id": SEARCH_ID,
                    "name": "web_search", "input": {"query": f"who owns {EMAIL} {PHONE}"}},
                   {"type": "web_search_tool_result", "tool_use_id": SEARCH_ID,
                    "content": [{"type": "web_search_result", "url": "https://www.example.com/",
                                 "title": "Example Domain", "encrypted_content": "EqgfCioIARgBIiQ3YTAw",
                                 "page_age": None}]}]),
        user("And?")), [EMAIL, PHONE]),
    ("anthropic.web_search_tool_result", MESSAGES, claude(
        user("Search the web for me."),
        assistant([{"type": "server_tool_use", "id": SEARCH_ID,
                    "name": "web_search", "input": {"query": "example domain"}},
                   {"type": "web_search_tool_result", "tool_use_id": SEARCH_ID,
                    "content": [{"type": "web_search_result",
                                 "url": f"https://www.example.com/staff?mail={EMAIL}",
                                 "title": f"Staff page: {EMAIL}, {PHONE}",
                                 "encrypted_content": "EqgfCioIARgBIiQ3YTAw",
                                 "page_age": "April 30, 2025"}]}]),
        user("And?")), [EMAIL, PHONE]),
    ("anthropic.citations.cited_text", MESSAGES, claude(
        user([{"type": "document", "source": TEXT_SOURCE, "citations": {"enabled": True}},
              {"type": "text", "text": "Who owns it?"}]),
        assistant([{"type": "text", "text": "The owner is on file.", "citations": [
            {"type": "char_location", "cited_text": f"Owner {EMAIL}, SSN {SSN}", "document_index": 0,
             "document_title": "notes", "start_char_index": 0, "end_char_index": 16}]}]),
        user("Thanks.")), [EMAIL, SSN]),
    # OpenAI Responses
    ("responses.custom_tool_call.input", RESPONSES, {"model": OPENAI_MODEL, "input": [
        {"type": "message", "role": "user", "content": "Run it."},
        {"type": "custom_tool_call", "call_id": "call_c1", "name": "code_exec",
         "input": f"send_mail('{EMAIL}', card='{CARD}')"},
        {"type": "custom_tool_call_output", "call_id": "call_c1", "output": "sent"}]}, [EMAIL, CARD]),
    ("responses.local_shell_call_output", RESPONSES, {"model": OPENAI_MODEL, "input": [
        {"type": "message", "role": "user", "content": "Who is the admin?"},
        {"type": "local_shell_call", "id": "lsh_1", "call_id": "call_l1", "status": "completed",
         "action": {"type": "exec", "command": ["cat", "admins.txt"], "env": {}}},
        {"type": "local_shell_call_output", "id": "call_l1",
         "output": f"admin {EMAIL} ssn {SSN}\n"}]}, [EMAIL, SSN]),
    ("responses.shell_call_output", RESPONSES, {"model": OPENAI_MODEL, "input": [
        {"type": "message", "role": "user", "content": "Who is the admin?"},
        {"type": "shell_call", "call_id": "call_s1", "status": "completed",
         "action": {"commands": ["cat admins.txt"]}},
        {"type": "shell_call_output", "call_id": "call_s1", "output": [
            {"stdout": f"admin {EMAIL} phone {PHONE}\n", "stderr": "",
             "outcome": {"type": "exit", "exit_code": 0}}]}]}, [EMAIL, PHONE]),
    ("responses.mcp_call.output", RESPONSES, {"model": OPENAI_MODEL, "input": [
        {"type": "message", "role": "user", "content": "Find the contact."},
        {"type": "mcp_call", "id": "mcp_1", "server_label": "crm", "name": "get_contact",
         "arguments": "{\"id\": 42}", "output": f"{{\"email\": \"{EMAIL}\", \"ssn\": \"{SSN}\"}}"}]},
     [EMAIL, SSN]),
    ("responses.reasoning.summary", RESPONSES, {"model": OPENAI_MODEL, "input": [
        {"type": "message", "role": "user", "content": "Check the account."},
        {"type": "reasoning", "id": "rs_1", "summary": [
            {"type": "summary_text", "text": f"The account holder is {EMAIL}, card {CARD}."}]},
        {"type": "message", "role": "user", "content": "Go on."}]}, [EMAIL, CARD]),
    ("responses.web_search_call.action.query", RESPONSES, {"model": OPENAI_MODEL, "input": [
        {"type": "message", "role": "user", "content": "Search."},
        {"type": "web_search_call", "id": "ws_1", "status": "completed",
         "action": {"type": "search", "query": f"{EMAIL} {PHONE}"}},
        {"type": "message", "role": "user", "content": "Go on."}]}, [EMAIL, PHONE]),
    ("responses.prompt.variables", RESPONSES, {"model": OPENAI_MODEL, "input": "Draft it.", "prompt": {
        "id": "pmpt_123", "version": "2", "variables": {"customer_email": EMAIL, "card": CARD}}},
     [EMAIL, CARD]),
    ("responses.text.format.schema", RESPONSES, {"model": OPENAI_MODEL, "input": "Fill it in.", "text": {
        "format": {"type": "json_schema", "name": "contact", "strict": True, "schema": SCHEMA}}},
     [EMAIL]),
    ("responses.tools", RESPONSES, {"model": OPENAI_MODEL, "input": "Notify them.", "tools": [
        {"type": "function", "name": "notify", "description": f"Mail {EMAIL} about card {CARD}.",
         "parameters": {"type": "object", "properties": {}}}]}, [EMAIL, CARD]),
    ("responses.instructions_list", RESPONSES, {"model": OPENAI_MODEL, "input": "Hi.", "instructions": [
        {"type": "message", "role": "developer", "content": f"Escalate to {EMAIL} or {PHONE}."}]},
     [EMAIL, PHONE]),
]


@pytest.mark.parametrize("path, body, values", [c[1:] for c in FIELDS], ids=[c[0] for c in FIELDS])
def test_unknown_field_is_masked(envoy, mock, path, body, values):
    _, upstream = forwarded(envoy, mock, path, body)
    assert_masked(upstream.body, values)


# ---------------------------------------------------------------------------------------------
# 3. Endpoints the router did not know, and odd spellings of known ones.

BATCH_LINE = {"custom_id": "req-1", "method": "POST", "url": "/v1/chat/completions",
              "body": chat(user(f"Write to {EMAIL} about card {CARD}."))}

ENDPOINTS = [
    ("anthropic.messages_batches", "/v1/messages/batches", {"requests": [
        {"custom_id": "req-1", "params": claude(user(f"Write to {EMAIL} about card {CARD}."))}]},
     [EMAIL, CARD]),
    # count_tokens was routed before; its tools were not masked.
    ("anthropic.count_tokens_tools", "/v1/messages/count_tokens",
     {"model": CLAUDE_MODEL, "messages": [user(f"Write to {EMAIL}.")], "tools": [
         {"name": "notify", "description": f"Card {CARD}", "input_schema": {"type": "object"}}]},
     [EMAIL, CARD]),
    ("openai.conversations", "/v1/conversations", {
        "metadata": {"topic": "billing"},
        "items": [{"type": "message", "role": "user", "content": f"My e-mail is {EMAIL}."}]},
     [EMAIL]),
    ("openai.conversation_items", "/v1/conversations/conv_abc123/items",
     {"items": [{"type": "message", "role": "user",
                 "content": [{"type": "input_text", "text": f"Card {CARD}, SSN {SSN}."}]}]},
     [CARD, SSN]),
    ("openai.responses_input_tokens", "/v1/responses/input_tokens",
     {"model": OPENAI_MODEL, "input": f"Write to {EMAIL} about card {CARD}."}, [EMAIL, CARD]),
    ("openai.moderations", "/v1/moderations",
     {"model": "omni-moderation-latest", "input": f"Write to {EMAIL} about card {CARD}."},
     [EMAIL, CARD]),
    ("openai.thread_messages", "/v1/threads/thread_abc123/messages",
     {"role": "user", "content": f"My e-mail is {EMAIL}, card {CARD}."}, [EMAIL, CARD]),
    ("openai.threads", "/v1/threads",
     {"messages": [{"role": "user", "content": f"My e-mail is {EMAIL}."}]}, [EMAIL]),
    ("openai.threads_runs", "/v1/threads/runs", {"assistant_id": "asst_abc123", "thread": {
        "messages": [{"role": "user", "content": f"My card is {CARD}."}]}}, [CARD]),
    ("openai.assistants", "/v1/assistants", {"model": OPENAI_MODEL, "name": "Support",
                                              "instructions": f"Escalate to {EMAIL}."}, [EMAIL]),
    ("openai.batches", "/v1/batches", {
        "input_file_id": "file-abc123", "endpoint": "/v1/chat/completions",
        "completion_window": "24h", "metadata": {"owner": EMAIL}}, [EMAIL]),
    ("generic.unknown_json", "/v2/tickets", {"ticket": {"reporter": EMAIL, "body": f"card {CARD}"}},
     [EMAIL, CARD]),
]


@pytest.fixture(scope="module")
def pass_through_envoy(mock, tmp_path_factory):
    """Unknown paths forwarded as they are: only a recognised endpoint gets masked here, so this
    instance shows the path was recognised (with the default, `generic`, any JSON is masked)."""
    instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("leaks-pass-through"), mock.port,
                                           filter_config={"unknown_paths": "pass_through"})
    yield instance
    instance.stop()


ROUTERS = {"default": "envoy", "unknown_pass_through": "pass_through_envoy"}


# Every endpoint with both routers, except the unknown path with pass-through (passing it
# through is what that configuration asks for).
ENDPOINT_RUNS = [pytest.param(router, *case[1:], id=f"{case[0]}-{router}")
                 for case in ENDPOINTS for router in ROUTERS
                 if not (router == "unknown_pass_through" and case[0].startswith("generic."))]


@pytest.mark.parametrize("router, path, body, values", ENDPOINT_RUNS)
def test_endpoint_is_masked(request, mock, router, path, body, values):
    envoy = request.getfixturevalue(ROUTERS[router])
    _, upstream = forwarded(envoy, mock, path, body)
    assert_masked(upstream.body, values)


@pytest.mark.parametrize("router", ROUTERS)
def test_files_upload_of_batch_jsonl_is_masked(request, mock, router):
    envoy = request.getfixturevalue(ROUTERS[router])
    lines = [BATCH_LINE, dict(BATCH_LINE, custom_id="req-2",
                              body=chat(user(f"Call {PHONE}, SSN {SSN}.")))]
    jsonl = "".join(json.dumps(line) + "\n" for line in lines).encode()
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url("/v1/files"), data={"purpose": "batch"},
                           files={"file": ("batch.jsonl", jsonl, "application/jsonl")},
                           timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text[:500]
    assert upstream.headers["content-type"].startswith("multipart/form-data")
    assert_masked(upstream.body, [EMAIL, CARD, PHONE, SSN])
    assert b'name="purpose"' in upstream.body and b"batch.jsonl" in upstream.body


def test_text_body_on_unknown_path_is_masked(envoy, mock):
    text = f"Ticket from {EMAIL}: card {CARD} was declined."
    _, upstream = forwarded(envoy, mock, "/v2/notes", text.encode(),
                            {"content-type": "text/plain; charset=utf-8"})
    assert_masked(upstream.body, [EMAIL, CARD])


# Errors in the shape of the API the path belongs to; `/v1/threads/{id}/messages` ends like
# Anthropic's `/v1/messages` but is OpenAI's.
ERROR_SHAPES = [
    ("openai.thread_messages", "/v1/threads/thread_abc123/messages", "openai"),
    ("openai.conversations", "/v1/conversations", "openai"),
    ("anthropic.messages_batches", "/v1/messages/batches", "anthropic"),
]


@pytest.mark.parametrize("path, shape", [c[1:] for c in ERROR_SHAPES], ids=[c[0] for c in ERROR_SHAPES])
def test_errors_have_the_shape_of_the_paths_api(envoy, mock, path, shape):
    with mock.expect_no_request():
        reply = post(envoy, path, b'{"role": "user", "content": "' + EMAIL.encode() + b'"')
    assert reply.status_code == 400, reply.text[:500]
    payload = reply.json()
    if shape == "openai":
        assert {"message", "type", "param", "code"} <= set(payload["error"]), reply.text[:500]
        assert payload.get("type") != "error", "Anthropic error shape on an OpenAI path"
    else:
        assert payload["type"] == "error", reply.text[:500]
        assert {"type", "message"} <= set(payload["error"])
    assert not leaked(reply.content, [EMAIL])


SPELLINGS = [
    ("upper_case", "/V1/CHAT/COMPLETIONS"),
    ("escaped_slash", "/v1/chat%2Fcompletions"),
    ("escaped_slash_lower", "/v1/chat%2fcompletions"),
    ("matrix_parameter", "/v1/chat/completions;x=1"),
    ("trailing_escaped_slash", "/v1/chat/completions%2F"),
    ("double_slash", "/v1/chat//completions"),
    ("dot_segment", "/v1/chat/completions/."),
    ("dot_dot_segment", "/v1/chat/x/../completions"),
    ("escaped_letters", "/v1/chat/%63ompletions"),
]


@pytest.mark.parametrize("router", ROUTERS)
@pytest.mark.parametrize("path", [p for _, p in SPELLINGS], ids=[i for i, _ in SPELLINGS])
def test_odd_spelling_of_chat_path_is_masked(request, mock, path, router):
    envoy = request.getfixturevalue(ROUTERS[router])
    body = json.dumps(chat(user(f"Write to {EMAIL} about card {CARD}."))).encode()
    before = mock.request_count()
    status, _, reply = raw_post(envoy, path, body)
    received = mock.request_count() - before
    if received == 0:
        # Refusing the spelling is also safe; answering as if forwarded is not.
        assert status >= 400, (status, reply[:300])
        return
    assert received == 1
    assert_masked(mock.last_request(), [EMAIL, CARD])


# ---------------------------------------------------------------------------------------------
# 4. Anthropic thinking blocks are never changed, in either direction.


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "buffered"])
def test_thinking_keeps_placeholders_and_is_resent_byte_identical(envoy, mock, streamed):
    client = anthropic.Anthropic(base_url=envoy.base_url, api_key="test-key-not-secret",
                                 max_retries=0, timeout=harness.REQUEST_TIMEOUT_S,
                                 default_headers={"x-mock-thinking": "1"})
    question = f"Please e-mail {EMAIL} the summary."
    first_turn = [{"role": "user", "content": question}]
    thinking_config = {"type": "enabled", "budget_tokens": 1024}
    with mock.expect_one_request() as upstream:
        if streamed:
            with client.messages.stream(model=CLAUDE_MODEL, max_tokens=2048, thinking=thinking_config,
                                        messages=first_turn) as stream:
                thought = "".join(event.thinking for event in stream if event.type == "thinking")
                message = stream.get_final_message()
        else:
            message = client.messages.create(model=CLAUDE_MODEL, max_tokens=2048,
                                             thinking=thinking_config, messages=first_turn)
            thought = message.content[0].thinking
    assert_not_forwarded(upstream.body, [EMAIL])
    masked_question = upstream.json()["messages"][0]["content"]
    produced = MOCK.thinking_block(masked_question)  # what the mock put in its reply
    assert "[EMAIL_1]" in produced["thinking"]
    # The client sees the thinking as the provider produced it: placeholder, not the original.
    assert thought == produced["thinking"]
    assert message.content[0].type == "thinking"
    assert message.content[0].thinking == produced["thinking"]
    assert message.content[0].signature == produced["signature"]
    # The answer itself is restored.
    assert message.content[1].text == MOCK.REPLY_PREFIX + question

    resent = [block.model_dump(exclude_none=True) for block in message.content]
    with mock.expect_one_request() as upstream:
        client.messages.create(model=CLAUDE_MODEL, max_tokens=2048, thinking=thinking_config,
                               messages=first_turn + [{"role": "assistant", "content": resent},
                                                      {"role": "user", "content": "Thanks, send it."}])
    assert_not_forwarded(upstream.body, [EMAIL])
    sent_back = upstream.json()["messages"][1]["content"][0]
    assert sent_back == produced, "the thinking block was changed on its way back"
    assert json.dumps(produced["thinking"], ensure_ascii=False)[1:-1].encode() in upstream.body


# ---------------------------------------------------------------------------------------------
# 5. Duplicate keys: refused, nothing forwarded, whatever the fail mode.

DUPLICATES = {
    "top_level": ('{"model":"m","max_tokens":16,'
                  f'"messages":[{{"role":"user","content":"Card {CARD}, mail {EMAIL}"}}],'
                  '"messages":[{"role":"user","content":"hello"}]}'),
    "nested": ('{"model":"m","max_tokens":16,"messages":[{"role":"user",'
               f'"content":"hello","content":"Card {CARD}, mail {EMAIL}"}}]}}'),
    "deep": ('{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hello"}],'
             f'"metadata":{{"user_id":"{EMAIL}","user_id":"anonymous"}}}}'),
}
API_PATHS = {"openai": CHAT, "anthropic": MESSAGES}


@pytest.fixture(scope="module")
def fail_open_envoy(mock, tmp_path_factory):
    instance = harness.start_envoy_or_fail(tmp_path_factory.mktemp("leaks-fail-open"), mock.port,
                                           filter_config={"fail_open": True})
    yield instance
    instance.stop()


@pytest.mark.parametrize("fail_open", [False, True], ids=["fail_closed", "fail_open"])
@pytest.mark.parametrize("api", API_PATHS)
@pytest.mark.parametrize("where", DUPLICATES)
def test_duplicate_keys_are_refused(request, mock, api, where, fail_open):
    envoy = request.getfixturevalue("fail_open_envoy" if fail_open else "envoy")
    with mock.expect_no_request():
        reply = post(envoy, API_PATHS[api], DUPLICATES[where].encode())
    assert reply.status_code == 400, reply.text[:500]
    assert reply.headers.get("x-prompt-guard-rejected") == "duplicate_key"
    payload = reply.json()
    if api == "openai":
        assert payload["error"]["code"] == "prompt_guard_duplicate_key"
    else:
        assert payload["type"] == "error"
        assert payload["error"]["type"] == "invalid_request_error"
    assert not leaked(reply.content, [EMAIL, CARD])


# ---------------------------------------------------------------------------------------------
# 6 and 7. Formats the detectors missed (reported, and found by the random generator).


def openssh_private_key():
    """An ed25519 key in OpenSSH's own format (openssh-key-v1, unencrypted), laid out field by
    field as OpenSSH writes it, around deterministic bytes made here: not anyone's key. The
    layout matters: its length fields put long runs of `A` in the base64 body."""
    def field(data):
        return struct.pack(">I", len(data)) + data

    def derived(tag, size):
        return hashlib.sha512(f"prompt-guard-leak-{tag}".encode()).digest()[:size]

    public = derived("public", 32)
    public_blob = field(b"ssh-ed25519") + field(public)
    check = derived("check", 4)
    private = (check + check + field(b"ssh-ed25519") + field(public) +
               field(derived("secret", 32) + public) + field(b""))
    private += bytes(range(1, 1 + (-len(private)) % 8))
    blob = (b"openssh-key-v1\x00" + field(b"none") + field(b"none") + field(b"") +
            struct.pack(">I", 1) + field(public_blob) + field(private))
    encoded = base64.b64encode(blob).decode("ascii")
    lines = [encoded[i:i + 70] for i in range(0, len(encoded), 70)]
    return ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) +
            "\n-----END OPENSSH PRIVATE KEY-----")


ZWSP = "\u200b"
SSH_KEY = openssh_private_key()
SLACK_USER = "xoxp-3155164712-979719137540-516787937000-77817b76f50ac0022c522391820c47e5"


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c
                   for c in text)


# (id, user text, values that must not reach the upstream)
FORMATS = [
    ("openssh_private_key", f"Here is the deploy key:\n{SSH_KEY}\nInstall it.", [SSH_KEY]),
    ("fullwidth_card", f"Card {fullwidth('4242 4242 4242 4242')} please.",
     [fullwidth("4242 4242 4242 4242"), CARD]),
    ("fullwidth_email", f"Mail {fullwidth(EMAIL)} today.", [fullwidth(EMAIL), EMAIL]),
    ("zero_width_in_card", f"Card 4242 42{ZWSP}42 4242 4242 please.",
     [f"4242 42{ZWSP}42 4242 4242", CARD]),
    # One placeholder must cover the whole address: masking only `oe@example.com` leaves `jane.d`.
    ("zero_width_in_email_local_part", f"Mail jane.d{ZWSP}oe@example.com today.",
     [f"jane.d{ZWSP}oe@example.com", f"jane.d{ZWSP}", EMAIL]),
    ("zero_width_in_email_domain", f"Mail jane.doe@exa{ZWSP}mple.com today.",
     [f"jane.doe@exa{ZWSP}mple.com", "jane.doe@exa", EMAIL]),
    ("card_with_dots", "Card 5555.5555.5555.4444 expires soon.", ["5555.5555.5555.4444"]),
    ("email_at_spelled_out", "Write to jane.doe (at) example.com today.",
     ["jane.doe (at) example.com"]),
    ("email_non_ascii_local_part", "Escribe a josé.garcía@example.com hoy.",
     ["josé.garcía@example.com"]),
    ("password_in_prose_en", "For the record my password is Gr8-Pelican-Sky41 so use it.",
     ["Gr8-Pelican-Sky41"]),
    ("password_in_prose_de", "Zugang zum Server — Passwort: Sommer2024!Wald", ["Sommer2024!Wald"]),
    ("password_in_prose_fr", "Pour le serveur, mot de passe : Soleil#88Lune", ["Soleil#88Lune"]),
    # random-generator findings
    ("markdown_emphasis_email", "Contact _maria.gonzalez@example.com_ for access.",
     ["maria.gonzalez@example.com"]),
    ("markdown_emphasis_card", "Charge _4000 0566 5566 5556_ tomorrow.", ["4000 0566 5566 5556"]),
    ("slack_user_token_hex", f"Use {SLACK_USER} for the bot.", [SLACK_USER]),
    ("indian_phone", "Call me on 098765 43210 after six.", ["098765 43210", "9876543210"]),
    ("markdown_emphasis_compact_e164", "WhatsApp _+14155550123_ when ready.", ["4155550123"]),
    ("phone_near_order", "My order hasn't arrived, my number is (212) 555-0183", ["555-0183"]),
    # No SSN or card label; on the landed main these leak only after a word that marks an
    # identifier of something else ("account", "no.", "reference", "id").
    ("ssn_in_quotes_after_account", 'Account holder: "536-90-4411"', [SSN]),
    ("ssn_in_parentheses_after_employee_no", "Employee no. (536-90-4411)", [SSN]),
    ("card_digits_only_after_reference", "Reference 5200828282828210 is pending.",
     ["5200828282828210"]),
    ("card_digits_only_after_id", "id=5200828282828210", ["5200828282828210"]),
    # These pass on the landed main as well: guards of the reported formats, not proofs.
    ("compact_e164", "WhatsApp +14155550123 when ready.", ["4155550123"]),
    ("french_phone_trunk_prefix", "Appelez le +33 (0)4 65 71 20 14 demain.", ["65 71 20 14"]),
    ("ssn_in_quotes", 'The form says "536-90-4411" in box 3.', [SSN]),
    ("ssn_in_parentheses", "Maria Lopez (536-90-4411) signed it.", [SSN]),
    ("card_digits_only", "Please use 5200828282828210 for it.", ["5200828282828210"]),
    ("value_on_line_after_key", "# .env\nDB_PASSWORD=\n  wJ7pQ2zL9xK4mT8rB3nV\nDB_HOST=db",
     ["wJ7pQ2zL9xK4mT8rB3nV"]),
]


@pytest.mark.parametrize("text, values", [c[1:] for c in FORMATS], ids=[c[0] for c in FORMATS])
def test_format_is_masked_and_restored(envoy, mock, text, values):
    reply, upstream = forwarded(envoy, mock, CHAT, chat(user(text)))
    assert_not_forwarded(upstream.body, values)
    assert chat_reply_text(reply) == MOCK.REPLY_PREFIX + text, "the client did not get its text back"


# A tool result that is a JSON document: on the wire its newlines are `\\n`, glued to the values.
NOTE_DOC = json.dumps({"note": f"Customer\n{SSN}\n{PHONE}\n4242424242424242\nend"})
NOTE_VALUES = [SSN, PHONE, "4242424242424242"]
JSON_RESULTS = [
    ("chat.tool_message", CHAT, chat(
        user("Save the note."),
        assistant(None, tool_calls=[{"id": "call_n1", "type": "function", "function": {
            "name": "save_note", "arguments": NOTE_DOC}}]),
        {"role": "tool", "tool_call_id": "call_n1", "content": NOTE_DOC}, user("Done?")),
     lambda sent: sent["messages"][2]["content"]),
    ("responses.function_call_output", RESPONSES, {"model": OPENAI_MODEL, "input": [
        {"type": "message", "role": "user", "content": "Save the note."},
        {"type": "function_call", "call_id": "call_n1", "name": "save_note", "arguments": NOTE_DOC},
        {"type": "function_call_output", "call_id": "call_n1", "output": NOTE_DOC}]},
     lambda sent: sent["input"][2]["output"]),
    ("anthropic.tool_result", MESSAGES, claude(
        user("Save the note."),
        assistant([{"type": "tool_use", "id": "toolu_01n1", "name": "save_note",
                    "input": json.loads(NOTE_DOC)}]),
        user([{"type": "tool_result", "tool_use_id": "toolu_01n1", "content": NOTE_DOC}]),
        tools=[{"name": "save_note", "input_schema": {"type": "object"}}]),
     lambda sent: sent["messages"][2]["content"][0]["content"]),
]


@pytest.mark.parametrize("path, body, result_of", [c[1:] for c in JSON_RESULTS],
                         ids=[c[0] for c in JSON_RESULTS])
def test_json_tool_result_with_escaped_newline_touching_values(envoy, mock, path, body, result_of):
    _, upstream = forwarded(envoy, mock, path, body)
    assert_not_forwarded(upstream.body, NOTE_VALUES)
    note = json.loads(result_of(upstream.json()))["note"]  # still a JSON document
    assert note.startswith("Customer\n[") and note.endswith("\nend"), note


# ---------------------------------------------------------------------------------------------
# 8. fail_open means "could not read" only; hygiene runs without threat scanning.


@pytest.mark.parametrize("fail_open", [False, True], ids=["fail_closed", "fail_open"])
def test_too_many_entities_is_refused(envoy_factory, mock, fail_open):
    envoy = envoy_factory.start({"fail_open": fail_open, "max_entities_per_request": 3})
    emails = [f"user{i}@example.com" for i in range(6)]
    with mock.expect_no_request():
        reply = post(envoy, CHAT, chat(user("Invite " + ", ".join(emails))))
    assert reply.status_code == 400, reply.text[:500]
    assert reply.headers.get("x-prompt-guard-rejected") == "too_many_entities"
    assert reply.json()["error"]["code"] == "prompt_guard_too_many_entities"
    assert not leaked(reply.content, emails)


@pytest.mark.parametrize("fail_open", [False, True], ids=["fail_closed", "fail_open"])
def test_prompt_too_long_is_refused(envoy_factory, mock, fail_open):
    envoy = envoy_factory.start({"fail_open": fail_open, "threats": {"max_prompt_chars": 200}})
    text = f"Mail {EMAIL}. " + "lorem ipsum dolor sit amet " * 12
    assert len(text) > 200
    with mock.expect_no_request():
        reply = post(envoy, CHAT, chat(user(text)))
    assert reply.status_code == 400, reply.text[:500]
    assert reply.headers.get("x-prompt-guard-rejected") == "prompt_too_long"
    assert reply.json()["error"]["code"] == "prompt_guard_prompt_too_long"


def test_hygiene_runs_with_threats_disabled(envoy_factory, mock):
    envoy = envoy_factory.start({"threats": {"enabled": False}})
    text = f"Status: \x1b[31mFAILED\x1b[0m\x07 for {EMAIL}\x00 please check"
    _, upstream = forwarded(envoy, mock, CHAT, chat(user(text)))
    assert_not_forwarded(upstream.body, [EMAIL])
    sent = upstream.json()["messages"][0]["content"]
    assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in sent), repr(sent)
    assert "[31m" not in sent and "FAILED" in sent


# ---------------------------------------------------------------------------------------------
# 9. Structured text pasted into a message or returned by a tool: a value the filter masks in
#    prose is masked in the container too (a JSON document as the whole content went upstream
#    in clear: its values were read without their keys).

GENERIC_KEY = "yQgM7rT2vLp9XcWb3NkZs8HdFj4QaRe6"  # random, written for this project

STRUCTURED = [
    ("json_whole_content", json.dumps({"api_key": GENERIC_KEY}), [GENERIC_KEY]),
    ("json_pretty_nested", json.dumps({"db": {"user": "svc", "password": PASSWORD}}, indent=2), [PASSWORD]),
    ("yaml", f"service:\n  client_secret: {GENERIC_KEY}\n  contact: {EMAIL}\n", [GENERIC_KEY, EMAIL]),
    ("dotenv", f"export SIGNING_KEY={GENERIC_KEY}\nDB_PASSWORD=\"{PASSWORD}\"\n", [GENERIC_KEY, PASSWORD]),
    ("xml", f"<config><secretKey>{GENERIC_KEY}</secretKey><ssn>536904411</ssn></config>",
     [GENERIC_KEY, "536904411"]),
    ("csv_header_names_the_column",
     "id,name,ssn\n" + "".join(f"{i},user{i},-\n" for i in range(12)) + "13,Jane,536904411\n", ["536904411"]),
    ("http_headers", f"GET /v1 HTTP/1.1\nHost: api.example.net\nX-API-Key: {GENERIC_KEY}\n", [GENERIC_KEY]),
    ("curl", f"curl -H 'X-Auth-Token: {GENERIC_KEY}' --data 'password={PASSWORD}&page=2' https://api.example.net",
     [GENERIC_KEY, PASSWORD]),
]


@pytest.mark.parametrize("content, values", [c[1:] for c in STRUCTURED], ids=[c[0] for c in STRUCTURED])
def test_structured_content_is_masked_and_restored(envoy, mock, content, values):
    reply, upstream = forwarded(envoy, mock, CHAT, chat(user(content)))
    assert_masked(upstream.body, values)
    # The mock echoes the content it received: the client gets the originals back.
    said = chat_reply_text(reply)[len(MOCK.REPLY_PREFIX):]
    if content.lstrip().startswith("{"):
        assert json.loads(said) == json.loads(content)
    else:
        assert said == content


def test_structured_tool_result_is_masked(envoy, mock):
    result = json.dumps({"name": "API_KEY", "value": GENERIC_KEY, "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8"})
    body = claude(
        user("Look the deployment settings up."),
        assistant([{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "settings", "input": {}}]),
        user([{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": result}]))
    _, upstream = forwarded(envoy, mock, MESSAGES, body)
    assert_masked(upstream.body, [GENERIC_KEY])
    # The look-alike beside it (a commit hash) went on as it was.
    assert b"9fceb02d0ae598e95dc970b74767f19372d61af8" in upstream.body
