#!/usr/bin/env python3
"""Soak: mixed traffic at a fixed rate through a real Envoy with the built filter and the mock LLM.

    .venv/bin/python scripts/soak.py                    # 30 minutes (make soak)
    SOAK_SECONDS=60 .venv/bin/python scripts/soak.py    # a short run

Each request carries its own planted values (a unique e-mail address, phone number and card
number), alternating OpenAI Chat Completions and Anthropic Messages, buffered and streamed. Every
reply is checked: status 200, each original back, no placeholder left; and the mock must have
received none of the originals. Every 10 s the script prints Envoy's resident memory (RSS) and
the filter's counters (Envoy /stats). It exits non-zero if any request failed or leaked, or if
RSS grew by more than the allowed drift between the end of the warm-up and the end of the run.

Environment: SOAK_SECONDS (default 1800), SOAK_RATE (requests per second, default 10),
SOAK_WARMUP_SECONDS (default 120), SOAK_MAX_DRIFT_MIB (default 5), SOAK_REPORT (optional path of
a JSON file with every sample and the totals).
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

import harness  # noqa: E402

SAMPLE_EVERY_S = 10.0
REQUEST_TIMEOUT_S = 10.0
# The four shapes the soak cycles through: (path, streamed).
SHAPES = [("/v1/chat/completions", False), ("/v1/messages", True),
          ("/v1/chat/completions", True), ("/v1/messages", False)]
COUNTERS = ["prompt_guard_requests_inspected", "prompt_guard_requests_with_findings",
            "prompt_guard_placeholders_restored", "prompt_guard_restore_misses"]


def env_number(name, default):
    raw = os.environ.get(name)
    return type(default)(raw) if raw else default


def request_body(path, text, stream):
    if path == "/v1/messages":
        return {"model": "claude-mock", "max_tokens": 256, "stream": stream,
                "messages": [{"role": "user", "content": text}]}
    return {"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": text}]}


def sse_payloads(text):
    for block in text.replace("\r\n", "\n").split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                yield json.loads(line[5:].strip())


def reply_text(path, stream, raw):
    """The assistant text of one reply, buffered or streamed, OpenAI chat or Anthropic."""
    text = raw.decode("utf-8")
    if not stream:
        body = json.loads(text)
        if path == "/v1/messages":
            return "".join(block.get("text", "") for block in body["content"])
        return body["choices"][0]["message"]["content"]
    pieces = []
    for payload in sse_payloads(text):
        if path == "/v1/messages":
            if payload.get("type") == "content_block_delta":
                pieces.append(payload["delta"].get("text", ""))
        elif payload.get("choices"):
            pieces.append(payload["choices"][0]["delta"].get("content") or "")
    return "".join(pieces)


def one_exchange(client, envoy, mock, index):
    """Send request `index`; return None if all is well, else a short reason (no values)."""
    path, stream = SHAPES[index % len(SHAPES)]
    values = harness.client_values(index % 64800)
    body = json.dumps(request_body(path, values.prompt(), stream)).encode()
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    try:
        reply = client.post(envoy.url(path), content=body, headers=headers)
    except httpx.HTTPError as err:
        return f"transport error {type(err).__name__}"
    if reply.status_code != 200:
        return f"status {reply.status_code}"
    try:
        text = reply_text(path, stream, reply.content)
    except (ValueError, KeyError, IndexError, TypeError):
        return "reply did not parse"
    if harness.PLACEHOLDER_SHAPE.search(reply.content.decode("utf-8", "replace")):
        return "placeholder reached the client"
    if any(value not in text for value in values.originals):
        return "an original was not restored"
    seen = mock.last_request().decode("utf-8", "replace")
    if any(value in seen for value in values.originals):
        return "an original reached the upstream"
    return None


def rss_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise harness.HarnessError("no VmRSS for envoy")


def counters(envoy):
    metrics = envoy.metrics()
    return {name: int(metrics.value(name)) for name in COUNTERS}


def main():
    seconds = env_number("SOAK_SECONDS", 1800.0)
    rate = env_number("SOAK_RATE", 10.0)
    warmup = min(env_number("SOAK_WARMUP_SECONDS", 120.0), seconds / 2)
    max_drift_mib = env_number("SOAK_MAX_DRIFT_MIB", 5.0)
    report_path = os.environ.get("SOAK_REPORT")

    work = Path(tempfile.mkdtemp(prefix="prompt-guard-soak-"))
    mock = envoy = None
    samples, failures = [], {}
    sent = 0
    try:
        mock = harness.start_mock(work)
        envoy = harness.start_envoy(work / "envoy", mock.port, filter_config={})
        print(f"soak: {seconds:.0f} s at {rate:g} requests/s, warm-up {warmup:.0f} s, "
              f"RSS drift limit {max_drift_mib:g} MiB; envoy pid {envoy.proc.pid}", flush=True)
        start = time.monotonic()
        next_sample = start
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            while True:
                now = time.monotonic()
                elapsed = now - start
                if now >= next_sample:
                    sample = {"t": round(elapsed, 1), "rss_kib": rss_kib(envoy.proc.pid),
                              "requests": sent, "errors": sum(failures.values()),
                              **counters(envoy)}
                    samples.append(sample)
                    print("soak: " + " ".join(f"{k}={v}" for k, v in sample.items()), flush=True)
                    next_sample += SAMPLE_EVERY_S
                if elapsed >= seconds:
                    break
                due = start + sent / rate
                if now < due:
                    time.sleep(min(due - now, max(0.0, next_sample - now)))
                    continue
                if envoy.proc.poll() is not None:
                    failures["envoy exited"] = failures.get("envoy exited", 0) + 1
                    break
                reason = one_exchange(client, envoy, mock, sent)
                sent += 1
                if reason:
                    failures[reason] = failures.get(reason, 0) + 1
    finally:
        if envoy is not None:
            envoy.stop()
        if mock is not None:
            mock.stop()

    after_warmup = [s for s in samples if s["t"] >= warmup] or samples[-1:]
    base, end = after_warmup[0]["rss_kib"], samples[-1]["rss_kib"]
    drift_mib = (end - base) / 1024.0
    peak = max(s["rss_kib"] for s in samples)
    elapsed = samples[-1]["t"]
    errors = sum(failures.values())
    totals = {"seconds": elapsed, "rate_target": rate, "rate_achieved": round(sent / elapsed, 2),
              "requests": sent, "errors": errors, "failures": failures,
              "rss_start_mib": round(samples[0]["rss_kib"] / 1024, 1),
              "rss_after_warmup_mib": round(base / 1024, 1), "rss_end_mib": round(end / 1024, 1),
              "rss_peak_mib": round(peak / 1024, 1), "rss_drift_mib": round(drift_mib, 2),
              "counters": {k: samples[-1][k] for k in COUNTERS}}
    print("soak: result " + json.dumps(totals), flush=True)
    if report_path:
        Path(report_path).write_text(json.dumps({"totals": totals, "samples": samples}, indent=1))
    problems = []
    if errors:
        problems.append(f"{errors} requests failed or leaked: {failures}")
    if drift_mib > max_drift_mib:
        problems.append(f"RSS drift after warm-up {drift_mib:.2f} MiB > {max_drift_mib:g} MiB")
    for problem in problems:
        print(f"soak: FAIL {problem}", flush=True)
    if not problems:
        print("soak: PASS", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
