#!/usr/bin/env python3
"""Time to first token through Envoy, with and without prompt-guard, in one run.

The mock LLM paces its deltas (--delay-ms between events, deltas of at most 4 characters, so
placeholders are split across events). For each variant the same streamed chat request, carrying
an e-mail address, a phone number and a card number, is sent --requests times, alternating
variants; the client measures the time until the first non-empty content delta arrives and until
the stream ends. The filter's added delay is the difference of the medians. Everything runs on
127.0.0.1 with free ports and is stopped by PID afterwards.

    .venv/bin/python scripts/bench_ttft.py [--requests 30] [--delay-ms 20]

Writes bench-results/ttft.md.
"""

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import harness  # noqa: E402

PROMPT = "Mail jane.doe@example.com or call +1 415 555 0134 about card 4111 1111 1111 1111, thanks."


def measure(envoy, delay_ms, requests):
    body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": PROMPT}]})
    firsts, totals = [], []
    for _ in range(requests):
        first, total, text = harness.paced_stream_timing(envoy.url("/v1/chat/completions"), body, delay_ms)
        joined = "".join((choice.get("delta") or {}).get("content") or ""
                         for line in text.splitlines() if line.startswith("data: {")
                         for choice in json.loads(line[6:]).get("choices", []))
        if first is None or "jane.doe@example.com" not in joined:
            raise SystemExit("bench_ttft: the stream did not carry the restored address")
        firsts.append(first * 1000)
        totals.append(total * 1000)
    return firsts, totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--delay-ms", type=int, default=20)
    opts = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        mock = harness.start_mock(tmp, delay_ms=opts.delay_ms)
        envoys = {}
        try:
            envoys["bare Envoy"] = harness.start_envoy(Path(tmp) / "bare", mock.port, with_filter=False)
            envoys["prompt-guard"] = harness.start_envoy(Path(tmp) / "pg", mock.port, filter_config={})
            for name, envoy in envoys.items():
                measure(envoy, opts.delay_ms, 2)  # warm-up
                results[name] = ([], [])
            # Alternate the variants so drift on a shared machine affects both alike.
            for _ in range(opts.requests):
                for name, envoy in envoys.items():
                    f, t = measure(envoy, opts.delay_ms, 1)
                    results[name][0].extend(f)
                    results[name][1].extend(t)
        finally:
            for envoy in envoys.values():
                envoy.stop()
            mock.stop()
    bare_first = statistics.median(results["bare Envoy"][0])
    lines = [
        f"Time to first token, {opts.requests} streamed chat requests per variant, mock pacing "
        f"{opts.delay_ms} ms between deltas of at most 4 characters (medians, ms):",
        "",
        "| variant | first content byte | p90 first | whole stream | added to first token |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (firsts, totals) in results.items():
        p90 = statistics.quantiles(firsts, n=10)[-1] if len(firsts) >= 10 else max(firsts)
        med = statistics.median(firsts)
        lines.append(f"| {name} | {med:.2f} | {p90:.2f} | {statistics.median(totals):.1f} | "
                     f"{med - bare_first:+.2f} |")
    report = "\n".join(lines) + "\n"
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "ttft.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
