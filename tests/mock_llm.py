#!/usr/bin/env python3
"""Mock LLM upstream for prompt-guard's end-to-end tests (standard library only).

It speaks just enough of the OpenAI and Anthropic HTTP APIs for the official SDKs to parse its
replies, buffered and streamed, and it remembers what it received so tests can assert what the
upstream actually saw (the whole point of a masking proxy):

    python tests/mock_llm.py --port 0          # prints "LISTENING <port>" once ready

Every reply is "You said: " + the last user text, so whatever placeholder the proxy put into the
request comes back in the reply, where the proxy must restore it. Streamed replies are cut into
deltas of at most 4 characters, so placeholders are split across SSE events, and each event is
flushed in its own write (its own HTTP/1.1 chunk).

Response shapes follow the providers' public API references (OpenAI: Chat Completions,
Completions, Responses, Embeddings, including their streaming event formats; Anthropic: Messages
and its streaming events). Fields that the SDKs need are present; values are deterministic.

Test hooks (request headers):
    x-mock-delay-ms: N      pause N ms between streamed deltas (default from --delay-ms)
    x-mock-gzip: 1          gzip the response body (Content-Encoding: gzip; streamed with sync flushes)
    x-mock-encoding: br     claim Content-Encoding: br while sending plain bytes
    x-mock-sse-not-sse: 1   send a JSON body labelled text/event-stream
    x-mock-corrupt-gzip: 1  claim Content-Encoding: gzip and send bytes that do not inflate
    x-mock-charset: latin-1 send the JSON reply in Latin-1 (not UTF-8; non-ASCII is one byte)
    x-mock-split-first-event: 1  send the first SSE event in two chunks, the second starting with `{`
    x-mock-thinking: 1      Anthropic Messages only: the reply opens with a signed `thinking` block
                            quoting the user text (streamed as thinking_delta + signature_delta)
    x-mock-verbatim: 1      the reply is the last user text alone, without "You said: " (structured output)
    x-mock-stream-error: 1  streamed: after the first text delta, an error event quoting the user text ends it
    x-mock-recite: B64      the model "recites" this text (base64 of UTF-8) after the user text, in the
                            reply text or the tool call's arguments: data the client never sent
Fault hooks (request headers, all named x-mock-fault-*; see the fault block below):
    x-mock-fault-kind: reset     after K events (streamed) or half the body (buffered), plus half
                                 of the next event, reset the connection (TCP RST)
    x-mock-fault-kind: truncate  declare Content-Length of the whole body (streamed too), send
                                 the same part as `reset`, then close the connection normally
    x-mock-fault-kind: stall     pause x-mock-fault-stall-ms (default 10000) after K events
    x-mock-fault-kind: trailers  chunked (streamed or buffered), ending with the trailers
                                 x-mock-trailer: done and grpc-status: 0 (the proxy's upstream
                                 side must pass HTTP/1.1 trailers on)
    x-mock-fault-after-events: K the K of reset/truncate/stall (default 3)
    x-mock-fault-status: N       answer status N instead: 500 with an HTML page, any other status
                                 with the provider's JSON error; 429 adds retry-after: 13
  Big replies, heartbeats and resets (the stream-limits tests, tests/e2e/test_stream_limits.py):
    x-mock-big-embeddings: N      embeddings: N float vectors (of `dimensions`, default 1536), one
                                  JSON body far over Envoy's buffer (600 x 1536 floats: about 12 MB)
    x-mock-big-reply: MB          chat, not streamed: a reply whose content is MB megabytes of text
    x-mock-big-gzip-bomb: MB      stream: gzip SSE whose body inflates to MB megabytes of chat
                                  deltas (200 MB is about 230 KB on the wire), then ends normally
    x-mock-heartbeat: N           stream: N keep-alives before the first event, each its own chunk
    x-mock-heartbeat-ms: M        ... M ms apart (default 1000)
    x-mock-heartbeat-kind: K      ... `blank` (an empty line, the default) or `comment` (`: ping`)
    x-mock-heartbeat-bytes: B     stream: B newlines in one chunk before the first event, then a
                                  pause of x-mock-heartbeat-ms
    x-mock-big-reset-after: N     stream: send N events, then close the connection mid-body
Inspection endpoints (GET): /__health, /__last_request (exact body bytes), /__last_headers (JSON),
/__requests ({"count": N, "aborted": M}: complete requests, and requests whose body was cut off,
e.g. by a proxy that refused them after forwarding the headers),
/__fault_bodies?from=N (every API request body since the N-th, JSON),
/__connections ({"accepted": A, "inspection": I, "upstream": A - I, "headers": H}: TCP connections
accepted, those that carried an inspection request (a GET of /__...; the test's own reads), the
rest (what a proxy opened, whether or not it sent anything on them), and request heads received on
any path but /__...; a head is counted before its body is read). With these a test can tell "the
proxy never opened a connection" apart from "it opened one and sent headers, then reset".
"""

import argparse
import base64
import gzip
import hashlib
import itertools
import json
import socket
import struct
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY_PREFIX = "You said: "
DELTA_CHARS = 4
TOOL_TRIGGER = "CALL_TOOL"
CREATED = 1_700_000_000  # fixed timestamp: replies are deterministic


def chunks(text, size=DELTA_CHARS):
    """Cut text into pieces of at most `size` characters (never splits a code point)."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def token_count(text):
    return max(1, len(text.split()))


def dumps(obj):
    # Compact separators like the real services; non-ASCII kept as UTF-8 like the real services.
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------
# Extracting the user's text from each request shape


def text_of_content(content):
    """A message `content` is either a string or a list of typed parts; join the text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


def last_user_text(messages):
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of_content(message.get("content"))
    return ""


def responses_input_text(body):
    value = body.get("input")
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for item in reversed(value):
            if isinstance(item, dict) and item.get("role", "user") == "user" and "content" in item:
                return text_of_content(item.get("content"))
    return ""


def completions_prompt_text(body):
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        return "".join(p for p in prompt if isinstance(p, str))
    return prompt if isinstance(prompt, str) else ""


def first_tool_name(tools):
    for tool in tools or []:
        if not isinstance(tool, dict):
            continue
        if isinstance(tool.get("function"), dict) and tool["function"].get("name"):
            return tool["function"]["name"]  # OpenAI chat
        if tool.get("name"):
            return tool["name"]  # Anthropic / OpenAI Responses
    return "echo"


def wants_tool(body, user_text):
    return bool(body.get("tools")) and TOOL_TRIGGER in user_text


# ---------------------------------------------------------------------------------------------
# Reply builders: each returns (buffered_json, [(event_name_or_None, data_json_str), ...])


class Ids:
    """Deterministic, unique ids per server process."""

    def __init__(self):
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def next(self, prefix):
        with self._lock:
            return f"{prefix}mock{next(self._counter):06d}"


IDS = Ids()


def openai_chat(body, user_text, prefix=REPLY_PREFIX):
    model = body.get("model", "gpt-mock")
    cid = IDS.next("chatcmpl-")
    prompt_tokens = token_count(user_text)
    usage_tokens = None
    if wants_tool(body, user_text):
        call_id = IDS.next("call_")
        name = first_tool_name(body.get("tools"))
        arguments = json.dumps({"text": user_text}, ensure_ascii=False)
        message = {"role": "assistant", "content": None, "refusal": None,
                   "tool_calls": [{"id": call_id, "type": "function",
                                   "function": {"name": name, "arguments": arguments}}]}
        finish = "tool_calls"
        completion_tokens = token_count(arguments)
        first_delta = {"role": "assistant", "content": None,
                       "tool_calls": [{"index": 0, "id": call_id, "type": "function",
                                       "function": {"name": name, "arguments": ""}}]}
        deltas = [{"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
                  for piece in chunks(arguments)]
    else:
        reply = prefix + user_text
        message = {"role": "assistant", "content": reply, "refusal": None}
        finish = "stop"
        completion_tokens = token_count(reply)
        first_delta = {"role": "assistant", "content": "", "refusal": None}
        deltas = [{"content": piece} for piece in chunks(reply)]
    usage_tokens = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens}
    buffered = {
        "id": cid, "object": "chat.completion", "created": CREATED, "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage_tokens, "system_fingerprint": "fp_mock",
    }
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta, finish_reason=None, usage=None, with_choice=True):
        obj = {"id": cid, "object": "chat.completion.chunk", "created": CREATED, "model": model,
               "system_fingerprint": "fp_mock",
               "choices": [{"index": 0, "delta": delta, "logprobs": None,
                            "finish_reason": finish_reason}] if with_choice else []}
        if include_usage:
            obj["usage"] = usage
        return (None, dumps(obj))

    events = [chunk(first_delta)] + [chunk(d) for d in deltas] + [chunk({}, finish)]
    if include_usage:
        events.append(chunk(None, usage=usage_tokens, with_choice=False))
    events.append((None, "[DONE]"))
    return buffered, events


def openai_completions(body, user_text, prefix=REPLY_PREFIX):
    model = body.get("model", "gpt-mock-instruct")
    cid = IDS.next("cmpl-")
    reply = prefix + user_text
    usage = {"prompt_tokens": token_count(user_text), "completion_tokens": token_count(reply),
             "total_tokens": token_count(user_text) + token_count(reply)}
    buffered = {"id": cid, "object": "text_completion", "created": CREATED, "model": model,
                "choices": [{"text": reply, "index": 0, "logprobs": None, "finish_reason": "stop"}],
                "usage": usage}

    def chunk(text, finish_reason):
        return (None, dumps({"id": cid, "object": "text_completion", "created": CREATED,
                             "model": model, "choices": [{"text": text, "index": 0, "logprobs": None,
                                                          "finish_reason": finish_reason}]}))

    events = [chunk(piece, None) for piece in chunks(reply)] + [chunk("", "stop"), (None, "[DONE]")]
    return buffered, events


def deterministic_vector(text, dimensions):
    """A unit-free vector derived from the text's hash: same text, same vector."""
    values = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        for i in range(0, len(digest), 4):
            (n,) = struct.unpack("<I", digest[i:i + 4])
            values.append(round(n / 0xFFFFFFFF * 2.0 - 1.0, 6))
        counter += 1
    return values[:dimensions]


def openai_embeddings(body):
    raw = body.get("input")
    inputs = raw if isinstance(raw, list) else [raw]
    # A list of ints is one tokenised input; a list of lists is several.
    if isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        inputs = [raw]
    dimensions = body.get("dimensions") if isinstance(body.get("dimensions"), int) else 8
    data = []
    tokens = 0
    for index, item in enumerate(inputs):
        text = item if isinstance(item, str) else json.dumps(item)
        tokens += token_count(text)
        vector = deterministic_vector(text, dimensions)
        if body.get("encoding_format") == "base64":
            # The openai SDK asks for base64 by default: little-endian float32 array.
            embedding = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
        else:
            embedding = vector
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    return {"object": "list", "data": data, "model": body.get("model", "text-embedding-mock"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def openai_responses(body, user_text, prefix=REPLY_PREFIX):
    model = body.get("model", "gpt-mock")
    rid = IDS.next("resp_")
    seq = itertools.count(0)
    prompt_tokens = token_count(user_text)

    if wants_tool(body, user_text):
        arguments = json.dumps({"text": user_text}, ensure_ascii=False)
        item_id = IDS.next("fc_")
        call_id = IDS.next("call_")
        name = first_tool_name(body.get("tools"))
        done_item = {"type": "function_call", "id": item_id, "call_id": call_id, "name": name,
                     "arguments": arguments, "status": "completed"}
        start_item = dict(done_item, arguments="", status="in_progress")
        output_tokens = token_count(arguments)
        middle = [("response.function_call_arguments.delta",
                   {"item_id": item_id, "output_index": 0, "delta": piece})
                  for piece in chunks(arguments)]
        middle.append(("response.function_call_arguments.done",
                       {"item_id": item_id, "output_index": 0, "arguments": arguments}))
    else:
        reply = prefix + user_text
        item_id = IDS.next("msg_")
        part = {"type": "output_text", "text": reply, "annotations": []}
        done_item = {"type": "message", "id": item_id, "status": "completed", "role": "assistant",
                     "content": [part]}
        start_item = {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant",
                      "content": []}
        output_tokens = token_count(reply)
        where = {"item_id": item_id, "output_index": 0, "content_index": 0}
        middle = [("response.content_part.added",
                   dict(where, part={"type": "output_text", "text": "", "annotations": []}))]
        middle += [("response.output_text.delta", dict(where, delta=piece, logprobs=[]))
                   for piece in chunks(reply)]
        middle.append(("response.output_text.done", dict(where, text=reply, logprobs=[])))
        middle.append(("response.content_part.done", dict(where, part=part)))

    def response_object(status, output, usage):
        return {"id": rid, "object": "response", "created_at": CREATED, "status": status,
                "error": None, "incomplete_details": None, "instructions": body.get("instructions"),
                "max_output_tokens": None, "model": model, "output": output,
                "parallel_tool_calls": True, "previous_response_id": None,
                "reasoning": {"effort": None, "summary": None}, "store": True, "temperature": 1.0,
                "text": {"format": {"type": "text"}}, "tool_choice": "auto",
                "tools": body.get("tools") or [], "top_p": 1.0, "truncation": "disabled",
                "usage": usage, "user": None, "metadata": {}}

    usage = {"input_tokens": prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": prompt_tokens + output_tokens}
    buffered = response_object("completed", [done_item], usage)

    def event(name, payload):
        return (name, dumps(dict({"type": name, "sequence_number": next(seq)}, **payload)))

    events = [event("response.created", {"response": response_object("in_progress", [], None)}),
              event("response.in_progress", {"response": response_object("in_progress", [], None)}),
              event("response.output_item.added", {"output_index": 0, "item": start_item})]
    events += [event(name, payload) for name, payload in middle]
    events.append(event("response.output_item.done", {"output_index": 0, "item": done_item}))
    events.append(event("response.completed", {"response": buffered}))
    return buffered, events


THINKING_PREFIX = "The user wrote: "


def thinking_block(user_text):
    """The signed thinking block the mock opens a reply with (x-mock-thinking: 1). Its signature
    is made here from the thinking text, standing in for the provider's opaque one."""
    thinking = THINKING_PREFIX + user_text
    digest = hashlib.sha256(("mock-signature:" + thinking).encode("utf-8")).digest()
    return {"type": "thinking", "thinking": thinking,
            "signature": base64.b64encode(digest * 2).decode("ascii")}


def anthropic_messages(body, user_text, thinking=False, prefix=REPLY_PREFIX):
    model = body.get("model", "claude-mock")
    mid = IDS.next("msg_")
    input_tokens = token_count(user_text)
    if wants_tool(body, user_text):
        tool_id = IDS.next("toolu_")
        name = first_tool_name(body.get("tools"))
        tool_input = {"text": user_text}
        content = [{"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}]
        stop_reason = "tool_use"
        partial = json.dumps(tool_input, ensure_ascii=False)
        output_tokens = token_count(partial)
        block_start = {"type": "tool_use", "id": tool_id, "name": name, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": piece} for piece in chunks(partial)]
    else:
        reply = prefix + user_text
        content = [{"type": "text", "text": reply}]
        stop_reason = "end_turn"
        output_tokens = token_count(reply)
        block_start = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in chunks(reply)]
    blocks = [(block_start, deltas)]
    if thinking:
        block = thinking_block(user_text)
        content = [block] + content
        blocks.insert(0, ({"type": "thinking", "thinking": "", "signature": ""},
                          [{"type": "thinking_delta", "thinking": piece}
                           for piece in chunks(block["thinking"])] +
                          [{"type": "signature_delta", "signature": block["signature"]}]))
    buffered = {"id": mid, "type": "message", "role": "assistant", "model": model,
                "content": content, "stop_reason": stop_reason, "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens}}

    def event(name, payload):
        return (name, dumps(dict({"type": name}, **payload)))

    start_message = dict(buffered, content=[], stop_reason=None,
                         usage={"input_tokens": input_tokens, "output_tokens": 1})
    events = [event("message_start", {"message": start_message})]
    for index, (start, block_deltas) in enumerate(blocks):
        events.append(event("content_block_start", {"index": index, "content_block": start}))
        if index == 0:
            events.append(event("ping", {}))
        events += [event("content_block_delta", {"index": index, "delta": d}) for d in block_deltas]
        events.append(event("content_block_stop", {"index": index}))
    events += [event("message_delta", {"delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                       "usage": {"output_tokens": output_tokens}}),
               event("message_stop", {})]
    return buffered, events


def stream_error_events(api, events, user_text):
    """x-mock-stream-error: the stream's first events up to the first text delta, then an error in
    the API's shape whose message quotes the user text, and nothing after it (a provider failing
    mid-stream)."""
    is_delta = ("content_block_delta", "response.output_text.delta")
    cut = next((i + 1 for i, (name, data) in enumerate(events)
                if name in is_delta or (name is None and '"content":"' in data and '"content":""' not in data)),
               len(events))
    message = "upstream failed while answering: " + user_text
    if api == "/v1/messages":
        error = ("error", dumps({"type": "error", "error": {"type": "overloaded_error", "message": message}}))
    elif api == "/v1/responses":
        error = ("error", dumps({"type": "error", "code": "server_error", "message": message, "param": None}))
    else:
        error = (None, dumps({"error": {"message": message, "type": "server_error", "param": None, "code": None}}))
    return events[:cut] + [error]


def sse_bytes(name, data):
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {data}\n\n".encode()


# ---------------------------------------------------------------------------------------------
# Hooks of the stream-limits tests (x-mock-big-*, x-mock-heartbeat*): big bodies, compressed
# bombs, keep-alives before the first event, a connection closed mid-stream.


def big_embeddings(body, count):
    """`count` float vectors: distinct, deterministic values written out in full."""
    dimensions = body.get("dimensions") if isinstance(body.get("dimensions"), int) else 1536
    data = []
    for index in range(count):
        vector = [round(((index * 7919 + i * 104729) % 200003) / 100001.5 - 1.0, 9)
                  for i in range(dimensions)]
        data.append({"object": "embedding", "index": index, "embedding": vector})
    return {"object": "list", "data": data, "model": body.get("model", "text-embedding-mock"),
            "usage": {"prompt_tokens": count, "total_tokens": count}}


_BOMBS = {}


def gzip_bomb(megabytes):
    """A gzip member whose body is `megabytes` MB of complete chat-chunk events (cached)."""
    if megabytes not in _BOMBS:
        event = sse_bytes(None, dumps({"id": "chatcmpl-bomb", "object": "chat.completion.chunk",
                                       "created": CREATED, "model": "gpt-mock",
                                       "choices": [{"index": 0, "delta": {"content": "a" * 16000},
                                                    "logprobs": None, "finish_reason": None}]}))
        block = event * (1024 * 1024 // len(event) + 1)
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
        out = bytearray()
        for _ in range(megabytes):
            out += compressor.compress(block)
        out += compressor.compress(sse_bytes(None, "[DONE]"))
        out += compressor.flush()
        _BOMBS[megabytes] = bytes(out)
    return _BOMBS[megabytes]


def big_hooks(handler, api, body):
    """Answer the request when one of these hooks asks for it; False otherwise."""
    headers = handler.headers
    if api == "/v1/embeddings" and headers.get("x-mock-big-embeddings"):
        handler.send_json(200, big_embeddings(body, int(headers["x-mock-big-embeddings"])))
        return True
    if api != "/v1/chat/completions":
        return False
    if headers.get("x-mock-big-reply") and body.get("stream") is not True:
        size = int(headers["x-mock-big-reply"]) * 1024 * 1024
        buffered, _ = openai_chat(body, "a" * size)
        handler.send_json(200, buffered)
        return True
    if body.get("stream") is not True:
        return False
    if headers.get("x-mock-big-gzip-bomb"):
        wire = gzip_bomb(int(headers["x-mock-big-gzip-bomb"]))
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for at in range(0, len(wire), 16384):
            handler.write_chunk(wire[at:at + 16384])
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
        return True
    beats = int(headers.get("x-mock-heartbeat") or 0)
    flood = int(headers.get("x-mock-heartbeat-bytes") or 0)
    reset_after = headers.get("x-mock-big-reset-after")
    if not (beats or flood or reset_after):
        return False
    _, events = openai_chat(body, last_user_text(body.get("messages")))
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.flush()
    pause = float(headers.get("x-mock-heartbeat-ms") or 1000) / 1000.0
    beat = b": ping\n\n" if headers.get("x-mock-heartbeat-kind") == "comment" else b"\n"
    for index in range(beats):
        if index:
            time.sleep(pause)
        handler.write_chunk(beat)
    if flood:
        handler.write_chunk(b"\n" * flood)
        time.sleep(pause)
    if reset_after is not None:
        for name, data in events[:int(reset_after)]:
            handler.write_chunk(sse_bytes(name, data))
        # Give the proxy time to pass on what was sent, then drop the connection mid-body.
        time.sleep(0.2)
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)
        return True
    for name, data in events:
        handler.write_chunk(sse_bytes(name, data))
    handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()
    return True


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


class Recorder:
    """What the upstream saw: shared by all handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.aborted = 0  # requests whose body never arrived completely (not counted above)
        self.last_body = b""
        self.last_headers = {}
        self.connections = 0  # TCP connections accepted
        self.inspection_connections = 0  # of those, the ones that carried a GET /__...
        self.heads = 0  # request heads (request line + headers) on any other path

    def connection(self):
        with self.lock:
            self.connections += 1

    def inspection_connection(self):
        with self.lock:
            self.inspection_connections += 1

    def head(self):
        with self.lock:
            self.heads += 1

    def record(self, body, headers):
        with self.lock:
            self.count += 1
            self.last_body = body
            self.last_headers = headers

    def abort(self):
        with self.lock:
            self.aborted += 1


# ---------------------------------------------------------------------------------------------
# Fault hooks (x-mock-fault-*): upstream failures for tests/e2e/test_faults.py and the soak.
# Kept apart from the rest of the handler; do_POST calls fault_reply() once, before replying.

FAULT_DEFAULT_AFTER_EVENTS = 3
FAULT_DEFAULT_STALL_MS = 10000
FAULT_RETRY_AFTER = "13"
FAULT_HTML = (b"<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
              b"<body><h1>Internal Server Error</h1><p>The server encountered an internal error "
              b"and was unable to complete your request.</p></body></html>\n")


class FaultBodies:
    """Every API request body received, in order (for load tests that run many clients at once:
    /__last_request only shows the last). Bounded: the oldest go first past FAULT_BODIES_KEPT."""

    def __init__(self):
        self.lock = threading.Lock()
        self.bodies = []
        self.dropped = 0

    def append(self, raw):
        with self.lock:
            self.bodies.append(raw)
            if len(self.bodies) > FAULT_BODIES_KEPT:
                self.dropped += len(self.bodies) - FAULT_BODIES_KEPT
                del self.bodies[:len(self.bodies) - FAULT_BODIES_KEPT]

    def since(self, start):
        """(bodies with index >= start, as text; next start)."""
        with self.lock:
            first = max(0, start - self.dropped)
            return ([b.decode("utf-8", "replace") for b in self.bodies[first:]],
                    self.dropped + len(self.bodies))


FAULT_BODIES_KEPT = 10000


def fault_inspect(handler, path):
    """GET /__fault_bodies?from=N: {"bodies": [text, ...], "next": M}. False for other paths."""
    if path != "/__fault_bodies":
        return False
    query = handler.path.split("?", 1)[1] if "?" in handler.path else ""
    start = 0
    for pair in query.split("&"):
        if pair.startswith("from="):
            try:
                start = int(pair[5:])
            except ValueError:
                start = 0
    bodies, following = handler.server.fault_bodies.since(start)
    handler.send_bytes(200, dumps({"bodies": bodies, "next": following}).encode("utf-8"))
    return True


def fault_int(handler, name, default):
    try:
        return int(handler.headers.get(name, default))
    except ValueError:
        return default


def fault_reset(handler):
    """Drop the connection with a TCP reset (SO_LINGER 0), so the peer sees no clean end."""
    handler.wfile.flush()
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def fault_close(handler):
    """Close the connection normally (FIN) in the middle of a body."""
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)
    handler.close_connection = True


def fault_status(handler, api, status):
    extra = {"x-request-id": "req_mockfault"}
    if status == 500:
        handler.send_bytes(500, FAULT_HTML, "text/html; charset=utf-8", extra)
        return
    if status == 429:
        extra["retry-after"] = FAULT_RETRY_AFTER
    message = "mock: rate limit reached, retry later" if status == 429 else f"mock: error {status}"
    if api == "/v1/messages":
        kind = "rate_limit_error" if status == 429 else "api_error"
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        kind = "rate_limit_exceeded" if status == 429 else "server_error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    handler.send_bytes(status, dumps(body).encode("utf-8"), "application/json", extra)


def fault_reply(handler, api, raw, body, buffered, events):
    """Answer with the fault the request asks for; False when it asks for none. Every body that
    reaches here (each API request but embeddings) is kept for GET /__fault_bodies."""
    handler.server.fault_bodies.append(raw)
    status = fault_int(handler, "x-mock-fault-status", 0)
    if status:
        fault_status(handler, api, status)
        return True
    fault = handler.headers.get("x-mock-fault-kind")
    if fault not in ("reset", "truncate", "stall", "trailers"):
        return False
    after = fault_int(handler, "x-mock-fault-after-events", FAULT_DEFAULT_AFTER_EVENTS)
    if body.get("stream") is not True:
        if fault == "trailers":
            whole = dumps(buffered).encode("utf-8")
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Transfer-Encoding", "chunked")
            handler.send_header("Trailer", "x-mock-trailer, grpc-status")
            handler.end_headers()
            handler.write_chunk(whole[:len(whole) // 2])
            handler.write_chunk(whole[len(whole) // 2:])
            handler.wfile.write(b"0\r\nx-mock-trailer: done\r\ngrpc-status: 0\r\n\r\n")
            handler.wfile.flush()
            return True
        if fault not in ("reset", "truncate"):
            return False
        whole = dumps(buffered).encode("utf-8")
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(whole)))
        handler.end_headers()
        handler.wfile.write(whole[:len(whole) // 2])
        (fault_reset if fault == "reset" else fault_close)(handler)
        return True
    pieces = [sse_bytes(name, data) for name, data in events]
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Cache-Control", "no-cache")
    if fault == "truncate":
        handler.send_header("Content-Length", str(sum(len(p) for p in pieces)))
    else:
        handler.send_header("Transfer-Encoding", "chunked")
    if fault == "trailers":
        handler.send_header("Trailer", "x-mock-trailer, grpc-status")
    handler.end_headers()
    delay = handler.delay_seconds()
    for index, piece in enumerate(pieces):
        if index and delay:
            time.sleep(delay)
        if index == after and fault in ("reset", "truncate"):
            half = piece[:len(piece) // 2]
            if fault == "truncate":
                handler.wfile.write(half)
                fault_close(handler)
            else:
                handler.write_chunk(half)
                fault_reset(handler)
            return True
        if index == after and fault == "stall":
            time.sleep(fault_int(handler, "x-mock-fault-stall-ms", FAULT_DEFAULT_STALL_MS) / 1000.0)
        if fault == "truncate":
            handler.wfile.write(piece)
            handler.wfile.flush()
        else:
            handler.write_chunk(piece)
    if fault == "trailers":
        handler.wfile.write(b"0\r\nx-mock-trailer: done\r\ngrpc-status: 0\r\n\r\n")
    elif fault != "truncate":
        handler.wfile.write(b"0\r\n\r\n")
    handler.wfile.flush()
    return True

# End of the fault hooks.
# ---------------------------------------------------------------------------------------------


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every reply has Content-Length or is chunked
    server_version = "mock-llm/1"
    # Small writes (one SSE event each) go out at once: with Nagle's algorithm every reply would
    # wait for the proxy's delayed ACK (about 40 ms), which hides the proxy's own cost.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # keep test output quiet; nothing here is needed to debug
        return

    # -- counting connections and request heads -------------------------------------------------
    def setup(self):
        super().setup()
        self.inspection_marked = False
        self.server.recorder.connection()

    def parse_request(self):
        if not super().parse_request():
            return False
        if self.path.startswith("/__"):
            if not self.inspection_marked:
                self.inspection_marked = True
                self.server.recorder.inspection_connection()
        else:
            self.server.recorder.head()
        return True

    # -- reading ------------------------------------------------------------------------------
    def read_body(self):
        """The whole request body, or None if the client went away before sending all of it.

        A proxy that refuses a request after forwarding its headers resets the upstream
        stream; that is not a received request, and must not be counted as one.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # Envoy forwards chunked when the filter removed Content-Length.
            body = bytearray()
            while True:
                size_line = self.rfile.readline()
                if not size_line.endswith(b"\n"):
                    return None  # connection closed mid-body
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    return None
                if size == 0:
                    while True:
                        line = self.rfile.readline()
                        if not line.endswith(b"\n"):
                            return None
                        if line in (b"\r\n", b"\n"):
                            return bytes(body)  # trailers, if any, are skipped
                data = self.rfile.read(size)
                if len(data) != size or not self.rfile.readline().endswith(b"\n"):
                    return None
                body += data
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        return data if len(data) == length else None

    # -- writing ------------------------------------------------------------------------------
    def send_bytes(self, status, body, content_type="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        encoding = self.hook_encoding()
        if self.headers.get("x-mock-corrupt-gzip") == "1":
            # A gzip header, then the plain bytes: inflating fails at the first block.
            encoding, body = "gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body
        elif encoding == "gzip":
            body = gzip.compress(body)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, status, obj):
        charset = "latin-1" if self.headers.get("x-mock-charset") == "latin-1" else "utf-8"
        self.send_bytes(status, dumps(obj).encode(charset, "replace"))

    def send_stream(self, events):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        encoding = self.hook_encoding()
        compressor = zlib.compressobj(wbits=31) if encoding == "gzip" else None
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.end_headers()
        delay = self.delay_seconds()
        for index, (name, data) in enumerate(events):
            if index and delay:
                time.sleep(delay)
            piece = sse_bytes(name, data)
            if index == 0 and not compressor and self.headers.get("x-mock-split-first-event") == "1":
                # The first event in two network chunks, the second starting with its JSON.
                cut = piece.find(b"{")
                self.write_chunk(piece[:cut])
                time.sleep(0.05)
                piece = piece[cut:]
            if compressor:
                piece = compressor.compress(piece) + compressor.flush(zlib.Z_SYNC_FLUSH)
            self.write_chunk(piece)
        if compressor:
            self.write_chunk(compressor.flush())
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def write_chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def hook_encoding(self):
        if self.headers.get("x-mock-gzip") == "1":
            return "gzip"
        if self.headers.get("x-mock-encoding"):
            return self.headers.get("x-mock-encoding")
        return None

    def delay_seconds(self):
        raw = self.headers.get("x-mock-delay-ms")
        try:
            ms = float(raw) if raw is not None else self.server.default_delay_ms
        except ValueError:
            ms = self.server.default_delay_ms
        return max(0.0, ms) / 1000.0

    # -- routes -------------------------------------------------------------------------------
    def do_GET(self):
        recorder = self.server.recorder
        path = self.path.split("?", 1)[0]
        if fault_inspect(self, path):  # x-mock-fault-* block
            return
        if path == "/__health":
            self.send_bytes(200, b"ok", "text/plain")
        elif path == "/__last_request":
            with recorder.lock:
                body = recorder.last_body
            self.send_bytes(200, body, "application/octet-stream")
        elif path == "/__last_headers":
            with recorder.lock:
                headers = dict(recorder.last_headers)
            self.send_json(200, headers)
        elif path == "/__requests":
            with recorder.lock:
                counts = {"count": recorder.count, "aborted": recorder.aborted}
            self.send_json(200, counts)
        elif path == "/__connections":
            with recorder.lock:
                counts = {"accepted": recorder.connections,
                          "inspection": recorder.inspection_connections,
                          "upstream": recorder.connections - recorder.inspection_connections,
                          "headers": recorder.heads}
            self.send_json(200, counts)
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "invalid_request_error",
                                           "param": None, "code": None}})

    def do_POST(self):
        raw = self.read_body()
        if raw is None:
            self.server.recorder.abort()
            self.close_connection = True
            return
        headers = {}
        for key, value in self.headers.items():
            key = key.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self.server.recorder.record(raw, headers)
        path = self.path.split("?", 1)[0]

        api = None
        for suffix in ("/v1/chat/completions", "/v1/completions", "/v1/responses",
                       "/v1/embeddings", "/v1/messages"):
            if path.endswith(suffix):
                api = suffix
        if api is None:
            # Unknown route: echo the exact bytes back so pass-through can be checked both ways.
            self.send_bytes(200, raw, self.headers.get("Content-Type", "application/octet-stream"))
            return

        try:
            data = raw
            if self.headers.get("Content-Encoding", "").lower() == "gzip":
                data = gzip.decompress(raw)
            body = json.loads(data.decode("utf-8"))
            if not isinstance(body, dict):
                raise ValueError("top level is not an object")
        except (ValueError, OSError, EOFError, zlib.error):
            self.send_provider_error(api, 400, "mock: request body is not valid JSON")
            return

        if big_hooks(self, api, body):
            return

        if self.headers.get("x-mock-sse-not-sse") == "1":
            buffered, _ = openai_chat(body, last_user_text(body.get("messages")))
            self.send_bytes(200, dumps(buffered).encode("utf-8"), "text/event-stream")
            return

        if api == "/v1/embeddings":
            self.send_json(200, openai_embeddings(body))
            return
        prefix = "" if self.headers.get("x-mock-verbatim") == "1" else REPLY_PREFIX
        recite = self.headers.get("x-mock-recite")
        recited = base64.b64decode(recite).decode("utf-8") if recite else ""
        if api == "/v1/chat/completions":
            buffered, events = openai_chat(body, last_user_text(body.get("messages")) + recited, prefix)
        elif api == "/v1/completions":
            buffered, events = openai_completions(body, completions_prompt_text(body) + recited, prefix)
        elif api == "/v1/responses":
            buffered, events = openai_responses(body, responses_input_text(body) + recited, prefix)
        else:
            buffered, events = anthropic_messages(body, last_user_text(body.get("messages")) + recited,
                                                  thinking=self.headers.get("x-mock-thinking") == "1",
                                                  prefix=prefix)

        if fault_reply(self, api, raw, body, buffered, events):  # x-mock-fault-* hooks
            return
        if body.get("stream") is True:
            if self.headers.get("x-mock-stream-error") == "1":
                events = stream_error_events(api, events, last_user_text(body.get("messages"))
                                             if api != "/v1/responses" else responses_input_text(body))
            self.send_stream(events)
        else:
            self.send_json(200, buffered)

    def send_provider_error(self, api, status, message):
        if api == "/v1/messages":
            self.send_json(status, {"type": "error",
                                    "error": {"type": "invalid_request_error", "message": message}})
        else:
            self.send_json(status, {"error": {"message": message, "type": "invalid_request_error",
                                              "param": None, "code": None}})


class MockServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, default_delay_ms):
        super().__init__(address, MockHandler)
        self.recorder = Recorder()
        self.fault_bodies = FaultBodies()  # x-mock-fault-* block
        self.default_delay_ms = default_delay_ms


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--delay-ms", type=float, default=0.0,
                        help="pause between streamed deltas (per request: x-mock-delay-ms)")
    args = parser.parse_args(argv)
    server = MockServer(("127.0.0.1", args.port), args.delay_ms)
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
