#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets into fuzz/corpus/<target>/ from the project's
fixtures, so nothing but this script is kept in git.

Sources: tests/fixtures/sse (recorded-shape streams, see its README), tests/fixtures/pii (the
detector's cases, see its README), crates/engine/benches/fixtures (generated request bodies, see generate.py
there), examples/*.json (the shipped configurations). Every seed is derived from those files;
the only text written here are the short framing variants (CRLF, chunk seeds) and the
configuration keys.
"""

import gzip
import hashlib
import json
import pathlib
import struct
import sys
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fuzz" / "corpus"
MAX_SEED = 16 * 1024

# Chunking seeds: the low two bits pick the scale (1 byte, up to 8, 64, 2048).
CHUNK_SEEDS = [0x9E3779B97F4A7C14, 0x9E3779B97F4A7C15, 0x9E3779B97F4A7C16, 0x9E3779B97F4A7C17]


def put(target, data):
    if len(data) > MAX_SEED:
        return
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def with_seed(seed, body):
    return struct.pack("<Q", seed) + body


def sse_fixtures():
    for p in sorted((ROOT / "tests" / "fixtures" / "sse").glob("*.sse")):
        yield p.name, p.read_bytes()
    for p in sorted((ROOT / "crates" / "engine" / "benches" / "fixtures").glob("*.sse")):
        yield p.name, p.read_bytes()[:MAX_SEED]


def pii_texts():
    for p in sorted((ROOT / "tests" / "fixtures" / "pii").glob("*.jsonl")):
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["text"]


STREAM_TARGETS = {
    "openai_chat": "stream_openai_chat",
    "openai_completions": "stream_openai_chat",
    "openai_responses": "stream_openai_responses",
    "anthropic": "stream_anthropic",
    "chat_1k": "stream_openai_chat",
    "multiturn_16k": "stream_openai_chat",
}


def streams():
    for name, body in sse_fixtures():
        crlf = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        targets = {"sse_framer", "stream_generic"}
        for prefix, target in STREAM_TARGETS.items():
            if name.startswith(prefix):
                targets.add(target)
        for target in targets:
            for i, seed in enumerate(CHUNK_SEEDS):
                put(target, with_seed(seed, crlf if i == 1 else body))


def requests():
    apis = {"openai_chat": 0, "openai_completions": 1, "openai_responses": 2, "anthropic": 9, "generic": 11}
    for p in sorted((ROOT / "crates" / "engine" / "benches" / "fixtures").glob("*.request.json")):
        body = p.read_bytes()
        for api in ("openai_chat", "anthropic"):
            put("request_guard", bytes([apis[api], 0]) + body)
    for i, text in enumerate(pii_texts()):
        chat = {"model": "m", "messages": [{"role": "user", "content": text}]}
        responses = {"model": "m", "input": text, "instructions": "be brief"}
        anthropic = {"model": "m", "max_tokens": 9, "system": "s", "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}]}
        choice = i % 5
        if choice == 0:
            put("request_guard", bytes([apis["openai_chat"], 0]) + json.dumps(chat).encode())
        elif choice == 1:
            put("request_guard", bytes([apis["openai_responses"], 0]) + json.dumps(responses).encode())
        elif choice == 2:
            put("request_guard", bytes([apis["anthropic"], 0]) + json.dumps(anthropic).encode())
        elif choice == 3:
            put("request_guard", bytes([apis["generic"], 1]) + text.encode())
        else:
            form = "q=" + "".join(c if c.isalnum() else f"%{ord(c):02X}" for c in text if ord(c) < 128)
            put("request_guard", bytes([apis["generic"], 2]) + form.encode())
    part = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n'
    batch = json.dumps({"custom_id": "1", "method": "POST", "url": "/v1/chat/completions",
                        "body": {"model": "m", "messages": [{"role": "user", "content": next(pii_texts())}]}})
    put("request_guard", bytes([8, 3]) + part + batch.encode() + b"\r\n--XyZ--\r\n")


def restores():
    tokens = ["[EMAIL_1]", "[EMAIL_2]", "[PHONE_1]", "[SECRET_1]", "[email_1]", "\\[EMAIL\\_1\\]", "EMAIL_1]", "[EMAIL_1", "[IBAN_7]"]
    for i, text in enumerate(pii_texts()):
        t = tokens[i % len(tokens)]
        put("restore_buffered", with_seed(CHUNK_SEEDS[i % 4], f"{text} {t}{tokens[(i + 3) % len(tokens)]}.".encode()))
        if i > 40:
            break
    for name, body in sse_fixtures():
        if name.startswith(("openai_chat", "anthropic")):
            put("restore_buffered", with_seed(CHUNK_SEEDS[2], body[:2048]))


def configs():
    for p in sorted((ROOT / "examples").glob("*.json")):
        put("config", p.read_bytes())
    for doc in [{}, {"placeholder_template": "<<{TYPE}#{N}>>"}, {"threats": {"enabled": False}},
                {"routes": [{"prefix": "/x", "api": "generic"}]},
                {"custom_patterns": [{"name": "TICKET", "regex": "T-[0-9]{6}"}]}]:
        put("config", json.dumps(doc).encode())


def decodes():
    for _, body in sse_fixtures():
        body = body[:4096]
        for mode, data in [(0, body), (1, gzip.compress(body)), (2, zlib.compress(body))]:
            limit = len(body) * (2 if mode else 1)
            head = bytes([mode]) + struct.pack("<I", limit)[:3]
            put("body_decode", head + with_seed(CHUNK_SEEDS[mode], data))


def scans():
    for text in pii_texts():
        put("scan_text", text.encode())
    for p in sorted((ROOT / "crates" / "engine" / "benches" / "fixtures").glob("*.request.json")):
        doc = json.loads(p.read_bytes())
        for m in doc.get("messages", [])[:4]:
            c = m.get("content")
            if isinstance(c, str):
                put("scan_text", c.encode()[:4096])


def main():
    streams()
    requests()
    restores()
    configs()
    decodes()
    scans()
    for d in sorted(OUT.iterdir()):
        print(f"corpus {d.name}: {len(list(d.iterdir()))} inputs (seeds included)")


if __name__ == "__main__":
    main()
