#!/usr/bin/env python3
"""Soak: mixed traffic at a fixed rate through a real Envoy with the built filter and the mock LLM.

    .venv/bin/python scripts/soak.py                    # 30 minutes (make soak)
    SOAK_SECONDS=60 .venv/bin/python scripts/soak.py    # a short run

Each request carries its own planted values (a unique e-mail address, phone number and card
number), alternating OpenAI Chat Completions and Anthropic Messages, buffered and streamed. Every
reply is checked: status 200, each original back, no placeholder left; and the mock must have
received none of the originals. Every 10 s the script prints Envoy's resident memory (RSS) and
the filter's counters (Envoy /stats). It exits non-zero if any request failed or leaked, or if
RSS grew by more than the allowed drift between the end of the warm-up and the end of the run,
or if the filter's counters disagree with what the clients saw (`placeholders_restored` must be 3
per whole exchange, `restore_misses` 0).

With SOAK_FAULT_EVERY=N, every N-th request is a faulted one instead, sent from a pool of
threads beside the paced loop (Envoy closes a broken HTTP/1.1 connection only after its delayed-
close timeout, about 1 s): the upstream resets the stream after 20 events, or truncates it there,
or the client aborts once its first value came back (tests/mock_llm.py's x-mock-fault-* hooks).
A faulted exchange passes if the client got status 200, a broken stream (or, for an abort, its
restored value) and no placeholder.

Environment: SOAK_SECONDS (default 1800), SOAK_RATE (requests per second, default 10),
SOAK_WARMUP_SECONDS (default 120), SOAK_MAX_DRIFT_MIB (default 5), SOAK_FAULT_EVERY (default 0:
none), SOAK_REPORT (optional path of a JSON file with every sample and the totals).
"""

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
FAULTS = ["reset", "truncate", "abort"]
FAULT_WORKERS = 8


def env_number(name, default):
    raw = os.environ.get(name)
    return type(default)(raw) if raw else default


def one_exchange(client, envoy, mock, index):
    """Send request `index`; return None if all is well, else a short reason (no values)."""
    _, seen_from = mock.bodies_since(10**12)
    path, stream = SHAPES[index % len(SHAPES)]
    values = harness.client_values(index % 64800)
    body = json.dumps(harness.chat_request(path, values.prompt(), stream)).encode()
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    try:
        reply = client.post(envoy.url(path), content=body, headers=headers)
    except httpx.HTTPError as err:
        return f"transport error {type(err).__name__}"
    if reply.status_code != 200:
        return f"status {reply.status_code}"
    try:
        text = harness.reply_text(path, stream, reply.content)
    except (ValueError, KeyError, IndexError, TypeError):
        return "reply did not parse"
    if harness.PLACEHOLDER_SHAPE.search(reply.content.decode("utf-8", "replace")):
        return "placeholder reached the client"
    if any(value not in text for value in values.originals):
        return "an original was not restored"
    bodies, _ = mock.bodies_since(seen_from)
    if any(value in body for body in bodies for value in values.originals):
        return "an original reached the upstream"
    return None


def faulted_exchange(envoy, index, fault):
    """One faulted streamed exchange (see the module docstring); None if it went as it should."""
    path, _ = SHAPES[index % len(SHAPES)]
    values = harness.client_values(index % 64800)
    body = json.dumps(harness.chat_request(path, values.prompt(), True)).encode()
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    received = bytearray()
    if fault == "abort":
        headers["x-mock-delay-ms"] = "5"
        try:
            with socket.create_connection(("127.0.0.1", envoy.port), timeout=REQUEST_TIMEOUT_S) as sock:
                head = (f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {len(body)}\r\n"
                        + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n")
                sock.sendall(head.encode() + body)
                while values.email.encode() not in received:
                    piece = sock.recv(4096)
                    if not piece:
                        break
                    received += piece
        except OSError as err:
            return f"abort: transport error {type(err).__name__}"
        if not received.startswith(b"HTTP/1.1 200") or values.email.encode() not in received:
            return "abort: the restored value did not arrive before the abort"
    else:
        headers.update({"x-mock-fault-kind": fault, "x-mock-fault-after-events": "20"})
        broken = False
        try:
            with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
                with client.stream("POST", envoy.url(path), content=body, headers=headers) as reply:
                    if reply.status_code != 200:
                        return f"{fault}: status {reply.status_code}"
                    for piece in reply.iter_raw():
                        received += piece
        except httpx.HTTPError:
            broken = True
        if not broken:
            return f"{fault}: the stream ended cleanly"
    if harness.PLACEHOLDER_SHAPE.search(received.decode("utf-8", "replace")):
        return f"{fault}: placeholder reached the client"
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
    fault_every = int(env_number("SOAK_FAULT_EVERY", 0))
    report_path = os.environ.get("SOAK_REPORT")

    work = Path(tempfile.mkdtemp(prefix="prompt-guard-soak-"))
    mock = envoy = None
    samples, failures = [], {}
    sent = faulted = 0
    lock = threading.Lock()

    def fail(reason):
        with lock:
            failures[reason] = failures.get(reason, 0) + 1

    def run_fault(index, fault):
        reason = faulted_exchange(envoy, index, fault)
        if reason:
            fail(reason)

    pool = ThreadPoolExecutor(max_workers=FAULT_WORKERS)
    try:
        mock = harness.start_mock(work)
        envoy = harness.start_envoy(work / "envoy", mock.port, filter_config={})
        print(f"soak: {seconds:.0f} s at {rate:g} requests/s, warm-up {warmup:.0f} s, "
              f"RSS drift limit {max_drift_mib:g} MiB, faulted: every "
              f"{fault_every or 'no'} request; envoy pid {envoy.proc.pid}", flush=True)
        start = time.monotonic()
        next_sample = start
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            while True:
                now = time.monotonic()
                elapsed = now - start
                if now >= next_sample:
                    with lock:
                        errors_now = sum(failures.values())
                    sample = {"t": round(elapsed, 1), "rss_kib": rss_kib(envoy.proc.pid),
                              "requests": sent, "faulted": faulted, "errors": errors_now,
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
                    fail("envoy exited")
                    break
                if fault_every and sent % fault_every == fault_every - 1:
                    pool.submit(run_fault, sent, FAULTS[faulted % len(FAULTS)])
                    faulted += 1
                    sent += 1
                    continue
                reason = one_exchange(client, envoy, mock, sent)
                sent += 1
                if reason:
                    fail(reason)
        pool.shutdown(wait=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
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
              "requests": sent, "faulted": faulted, "errors": errors, "failures": failures,
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
    # Each whole exchange restores its three values; a faulted one restores some before it breaks.
    whole = sent - faulted
    restored = totals["counters"]["prompt_guard_placeholders_restored"]
    if restored < 3 * whole or (not faulted and restored != 3 * whole):
        problems.append(f"placeholders_restored is {restored} after {whole} whole exchanges "
                        f"(3 values each) and {faulted} faulted")
    if totals["counters"]["prompt_guard_restore_misses"]:
        problems.append("restore_misses counted")
    if drift_mib > max_drift_mib:
        problems.append(f"RSS drift after warm-up {drift_mib:.2f} MiB > {max_drift_mib:g} MiB")
    for problem in problems:
        print(f"soak: FAIL {problem}", flush=True)
    if problems:
        print(f"soak: Envoy's and the mock's logs are in {work}", flush=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
        print("soak: PASS", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
