"""The leak property through real Envoy: a fixed-seed sample of the leak generator's requests
(`crates/engine/src/bin/leakgen.rs`, generator in `crates/engine/tests/leakgen`) is sent as raw HTTP/1.1, buffered and with
`stream: true`, to every endpoint shape it covers (odd path spellings included). For each one the
mock's record of the exact upstream bytes (`/__last_request`) must hold no planted value (raw
bytes, every decoded string, JSON inside strings decoded recursively, JSON lines of uploaded
files), must still hold every look-alike, id, signature and media payload unchanged, and the
client must get back every original the mock echoed (the mock echoes the last user text on the
routes it knows and the raw request on others). A refused valid request is a failure too. Chat,
Responses and Messages cases then take a second turn: the reply the client got (originals in
clear) goes back as history, and again nothing planted may reach the upstream; every other
Messages case asks the mock for a signed thinking block first, which must reach the client as the
upstream wrote it and go back to the upstream byte for byte.

Environment: LEAKGEN_E2E_CASES (default 300), LEAKGEN_E2E_SEED (default 0x1ea6e2e0),
LEAKGEN_E2E_ONLY (one case seed: run it alone and print every body on the way),
LEAKGEN_BIN (a built `leakgen` binary; default: `cargo run --quiet --bin leakgen`).
"""

import collections
import http.client
import importlib.util
import json
import os
import subprocess

import harness

CASES = int(os.environ.get("LEAKGEN_E2E_CASES", "300"))
SEED = int(os.environ.get("LEAKGEN_E2E_SEED", "0x1ea6e2e0"), 0)
MOCK_SUFFIXES = ("/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings",
                 "/v1/messages")
REMOVAL_NOTICE = "[prompt-guard removed this content"


def load_mock_module():
    """The mock's own readers of the last user text, so the echo expectation matches the mock."""
    spec = importlib.util.spec_from_file_location("leakgen_mock_llm", harness.MOCK_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MOCK = load_mock_module()


def generate(seed, count):
    binary = os.environ.get("LEAKGEN_BIN")
    cmd = ([binary] if binary else ["cargo", "run", "--quiet", "--bin", "leakgen", "--"])
    cmd += ["--seed", hex(seed), "--count", str(count)]
    out = subprocess.run(cmd, cwd=harness.REPO, check=True, capture_output=True, timeout=600)
    return [json.loads(line) for line in out.stdout.decode("utf-8").splitlines() if line.strip()]


def located_strings(value, path="", depth=0, out=None):
    """Every string of a JSON value with its path; strings holding JSON are decoded too."""
    out = [] if out is None else out
    if isinstance(value, str):
        out.append((path, value))
        stripped = value.lstrip()
        if depth < 8 and stripped[:1] in ("{", "["):
            try:
                located_strings(json.loads(value), path + "<json>", depth + 1, out)
            except ValueError:
                pass
    elif isinstance(value, list):
        for i, item in enumerate(value):
            located_strings(item, f"{path}[{i}]", depth, out)
    elif isinstance(value, dict):
        for key, item in value.items():
            out.append((f"{path}.{key}<key>", key))
            located_strings(item, f"{path}.{key}" if path else key, depth, out)
    return out


def body_strings(raw):
    """Strings of a body: the whole body as JSON, else every line that is JSON (JSONL, multipart)."""
    text = raw.decode("utf-8", "replace")
    try:
        return located_strings(json.loads(text))
    except ValueError:
        pass
    out = []
    for i, line in enumerate(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                located_strings(json.loads(line), f"line{i}", 0, out)
            except ValueError:
                pass
    return out


def shape(path):
    """Array indices dropped, for counting paths across cases."""
    out, skip = [], False
    for ch in path:
        if ch == "[":
            skip = True
            out.append("[")
        elif ch == "]":
            skip = False
            out.append("]")
        elif not (skip and ch.isdigit()):
            out.append(ch)
    return "".join(out)


def leaks(raw, strings, plants):
    """Planted values that survived. A value planted twice (in context, then repeated bare) is
    charged to the occurrence that survived, and a repeat of a value whose first occurrence
    survived whole is not counted again."""
    text = raw.decode("utf-8", "replace")
    found = []
    survived = {p["needles"][0] for p in plants
                if p["position"] != "repeat" and any(p["snippet"] in s for _, s in strings)}
    repeated = {p["needles"][0] for p in plants if p["position"] == "repeat"}
    for plant in plants:
        if plant["position"] == "repeat" and plant["needles"][0] in survived:
            continue
        for needle in plant["needles"]:
            escaped = json.dumps(needle, ensure_ascii=False)[1:-1]
            holding = [p for p, s in strings if needle in s]
            own = next((p for p, s in strings if plant["snippet"] in s), None)
            if own is None and holding and plant["position"] != "repeat" and plant["needles"][0] in repeated:
                continue
            where = own or (holding[0] if holding else None)
            if where is None and (needle in text or escaped in text):
                where = "<raw>"
            if where is not None:
                found.append((plant, where))
                break
    return found


def sse_events(text):
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if data and data[0] != "[DONE]":
            try:
                events.append(json.loads("\n".join(data)))
            except ValueError:
                pass
    return events


def streamed_text(text):
    """The text a client assembles from a stream's deltas (every provider's delta fields)."""
    pieces = []
    for ev in sse_events(text):
        for choice in ev.get("choices") or []:
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                pieces.append(delta["content"])
            if isinstance(choice.get("text"), str):
                pieces.append(choice["text"])
        if ev.get("type") == "response.output_text.delta" and isinstance(ev.get("delta"), str):
            pieces.append(ev["delta"])
        if ev.get("type") == "content_block_delta":
            delta = ev.get("delta") or {}
            pieces.append(delta.get("text") or delta.get("partial_json") or "")
    return "".join(pieces)


def echoed_text(case):
    """What the mock sends back for this request, in original (client-side) text."""
    path = case["path"].split("?", 1)[0]
    api = next((s for s in MOCK_SUFFIXES if path.endswith(s)), None)
    if api is None:
        return None  # the mock echoes the raw request: every original comes back
    try:
        body = json.loads(case["body"])
    except ValueError:
        return ""
    if api == "/v1/embeddings":
        return ""
    if api == "/v1/completions":
        return MOCK.completions_prompt_text(body)
    if api == "/v1/responses":
        return MOCK.responses_input_text(body)
    return MOCK.last_user_text(body.get("messages"))


class Tally:
    def __init__(self):
        self.planted = collections.Counter()
        self.leaked = collections.Counter()
        self.found_at = collections.Counter()
        self.lost = collections.Counter()
        self.refused = collections.Counter()
        self.not_echoed = collections.Counter()
        self.examples = {}
        self.cases = 0
        self.turn2 = 0
        self.last_leaked = set()

    def failed(self):
        return bool(self.leaked or self.lost or self.refused or self.not_echoed)

    def summary(self):
        lines = [f"leakgen e2e: seed {SEED:#x}, {self.cases} cases ({self.turn2} with a second turn), "
                 f"{sum(self.planted.values())} values planted, {sum(self.leaked.values())} reached the upstream"]

        def section(title, counter, limit=30):
            if counter:
                lines.append(f"\n{title}:")
                for key, n in counter.most_common(limit):
                    lines.append(f"  {n:5d}  {key}")
                if len(counter) > limit:
                    lines.append(f"  ... {len(counter) - limit} more")

        section("leaked, by endpoint (#2: second turn) and field where planted", self.leaked)
        section("leaked, where it survived upstream", self.found_at)
        section("refused valid requests", self.refused)
        section("kept strings lost or changed", self.lost)
        section("originals the mock echoed that the client did not get back", self.not_echoed)
        if self.examples:
            lines.append("\none case per leaked field (seed, path, snippet):")
            for key, (seed, path, snippet) in list(self.examples.items())[:25]:
                lines.append(f"  {key}: seed {seed:#x} POST {path} {snippet[:120]!r}")
        return "\n".join(lines)


class Reply:
    def __init__(self, status, headers, content):
        self.thinking = None
        self.status_code = status
        self.headers = headers
        self.content = content
        self.text = content.decode("utf-8", "replace")


def wants_thinking(case):
    """Every other Messages case asks the mock for a reply that opens with a signed thinking block."""
    return case["endpoint"].startswith("anthropic-messages") and case["seed"] % 2 == 1


def post(port, case):
    """Send the case as generated. http.client sends the path byte for byte; httpx would resolve
    the `.` and `..` segments of the odd spellings before they reach Envoy."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=harness.REQUEST_TIMEOUT_S)
    headers = {"content-type": case["content_type"]}
    if wants_thinking(case):
        headers["x-mock-thinking"] = "1"
    try:
        conn.request("POST", case["path"], case["body"].encode("utf-8"), headers)
        reply = conn.getresponse()
        content = reply.read()
        headers = {k.lower(): v for k, v in reply.getheaders()}
        return Reply(reply.status, headers, content)
    finally:
        conn.close()


def reply_texts(response):
    """Every text of the client's reply: decoded strings, or the assembled stream."""
    text = response.content.decode("utf-8", "replace")
    if "text/event-stream" in response.headers.get("content-type", ""):
        return streamed_text(text) + "\n" + "\n".join(s for _, s in
                                                       located_strings([e for e in sse_events(text)]))
    return "\n".join(s for _, s in body_strings(response.content)) or text


def exchange(envoy, mock, case, tally, only, count_plants=True):
    """Send one request; record leaks, lost strings, refusals and missing echoes. Returns the reply
    (None when the request was refused)."""
    if count_plants:
        tally.planted[case["endpoint"]] += len(case["plants"])
    before = mock.request_count()
    response = post(envoy.port, case)
    if mock.request_count() == before:
        tally.refused[f"{case['endpoint']} {response.status_code} "
                      f"{response.headers.get('x-prompt-guard-rejected', '')}"] += 1
        return None
    upstream = mock.last_request()
    strings = body_strings(upstream)
    tally.last_leaked = set()
    for plant, where in leaks(upstream, strings, case["plants"]):
        tally.last_leaked.add(plant["needles"][0])
        tally.leaked[f"{case['endpoint']} {plant['field'].split(':', 1)[-1]}"] += 1
        tally.found_at[f"{case['endpoint']} {shape(where)}"] += 1
        tally.examples.setdefault(plant["field"], (case["seed"], case["path"], plant["snippet"]))
    for keep in case["keeps"]:
        if not any(keep["text"] in s for _, s in strings):
            tally.lost[f"{keep['kind']} at {keep['field']}"] += 1
    if response.status_code != 200:
        tally.refused[f"{case['endpoint']} upstream answered {response.status_code}"] += 1
        return response
    response.thinking = None
    if wants_thinking(case) and "text/event-stream" not in response.headers.get("content-type", ""):
        # The thinking block as the upstream produced it (placeholders in it): the client must get
        # it so, and send it back so.
        try:
            produced = MOCK.THINKING_PREFIX + MOCK.last_user_text(json.loads(upstream).get("messages"))
            got_block = (json.loads(response.content).get("content") or [{}])[0]
        except (ValueError, AttributeError):
            produced, got_block = None, {}
        if produced is not None and got_block.get("type") == "thinking":
            response.thinking = produced
            if got_block.get("thinking") != produced:
                tally.lost[f"thinking block changed in the reply ({case['endpoint']})"] += 1
    said = echoed_text(case)
    if said is None and case["content_type"].startswith("multipart/"):
        # The mock echoes an upload's raw bytes; a real upload is answered with a file object, so
        # what comes back of the JSONL inside is not checked (the native test checks JSON replies).
        return response
    got = reply_texts(response)
    if only:
        print(f"--- request {case['path']}\n{case['body']}\n--- upstream\n{upstream.decode()}\n"
              f"--- reply {response.status_code}\n{response.text}\n--- echo expected\n{said}")
    if REMOVAL_NOTICE in got:
        return response
    for plant in case["plants"]:
        if said is not None and plant["snippet"] not in said:
            continue
        if plant["snippet"] not in got:
            mode = "stream" if case["stream"] else "buffered"
            tally.not_echoed[f"{case['endpoint']} {mode} {plant['kind']} (seed {case['seed']:#x})"] += 1
    return response


def next_turn(case, response):
    """The client's next request: its first request, the reply it got (restored: the originals in
    clear, without the context they were found in) as history, and a short new user message."""
    if case["family"] not in ("chat", "anthropic", "responses") or response.status_code != 200:
        return None
    try:
        body = json.loads(case["body"])
    except ValueError:
        return None
    streamed = "text/event-stream" in response.headers.get("content-type", "")
    if streamed:
        text = streamed_text(response.text)
    else:
        try:
            reply = json.loads(response.content)
        except ValueError:
            return None
    follow = "Thanks, that helps."
    if case["family"] == "chat":
        message = {"role": "assistant", "content": text} if streamed else \
            ((reply.get("choices") or [{}])[0].get("message"))
        if not isinstance(message, dict) or message.get("tool_calls"):
            return None
        body["messages"] = body["messages"] + [message, {"role": "user", "content": follow}]
    elif case["family"] == "anthropic":
        content = [{"type": "text", "text": text}] if streamed else reply.get("content")
        if not isinstance(content, list) or any(b.get("type") == "tool_use" for b in content):
            return None
        body["messages"] = body["messages"] + [{"role": "assistant", "content": content},
                                               {"role": "user", "content": follow}]
    else:
        output = ([{"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": text, "annotations": []}]}] if streamed else reply.get("output"))
        if not isinstance(output, list) or any(o.get("type") != "message" for o in output):
            return None
        items = body["input"] if isinstance(body["input"], list) else [{"role": "user", "content": body["input"]}]
        body["input"] = items + output + [{"role": "user", "content": follow}]
    keeps = list(case["keeps"])
    if getattr(response, "thinking", None):
        keeps.append({"kind": "thinking-roundtrip", "field": "#2 messages[assistant].content[thinking].thinking",
                      "text": response.thinking})
    return dict(case, body=json.dumps(body, ensure_ascii=False), endpoint=case["endpoint"] + "#2", keeps=keeps)


def test_no_generated_value_reaches_the_upstream(envoy, mock):
    only = os.environ.get("LEAKGEN_E2E_ONLY")
    cases = generate(int(only, 0), 1) if only else generate(SEED, CASES)
    assert len(cases) == (1 if only else CASES)
    tally = Tally()
    for case in cases:
        tally.cases += 1
        response = exchange(envoy, mock, case, tally, only)
        second = next_turn(case, response) if response is not None else None
        if second is not None:
            # The first turn's values come back as history: none may reach the upstream (those
            # that already leaked in the first turn are not counted again).
            second["plants"] = [p for p in case["plants"] if p["needles"][0] not in tally.last_leaked]
            tally.turn2 += 1
            exchange(envoy, mock, second, tally, only, count_plants=False)
    assert not tally.failed(), "\n" + tally.summary()
