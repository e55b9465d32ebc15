#!/usr/bin/env python3
"""Summarise the engine benchmarks (`make bench`) as markdown: bench-results/engine.md.

Reads what criterion saved for each benchmark (target/criterion/<group>/<fixture>/new/
estimates.json and benchmark.json) and the allocation counts the benchmark binary wrote
(bench-results/engine-allocs.json), and checks the targets of issue 5. Standard library only.

    python3 scripts/bench_engine_summary.py [--criterion-dir target/criterion] [--out bench-results/engine.md]
"""

import argparse
import json
import os
import platform
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GROUPS = ["guard_request", "guard_next_turn", "restore_response", "restore_stream", "exchange", "json_baseline"]
GROUP_MEANING = {
    "guard_request": "scan and mask the request",
    "guard_next_turn": "a conversation's next turn, the scan memo on",
    "restore_response": "restore the buffered reply",
    "restore_stream": "restore the streamed reply",
    "exchange": "request and reply together",
    "json_baseline": "parse and re-serialise only (floor)",
}
# Targets from issue 5 (guard_request throughput, MB = 10^6 bytes).
THROUGHPUT_TARGETS = {"no_findings_64k": 300.0, "dense_16k": 100.0}
CONFIG_TARGET_MS = 20.0


def load(criterion_dir, group, bench_id):
    base = criterion_dir / group / bench_id / "new"
    try:
        estimates = json.loads((base / "estimates.json").read_text())
        meta = json.loads((base / "benchmark.json").read_text())
    except (OSError, ValueError):
        return None
    throughput = (meta.get("throughput") or {}).get("Bytes")
    return {"median_ns": estimates["median"]["point_estimate"], "mean_ns": estimates["mean"]["point_estimate"],
            "bytes": throughput}


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def fixtures_in_order():
    manifest = json.loads((REPO / "crates" / "engine" / "benches" / "fixtures" / "manifest.json").read_text())
    return list(manifest["fixtures"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--criterion-dir", type=Path, default=REPO / "target" / "criterion")
    parser.add_argument("--out", type=Path, default=REPO / "bench-results" / "engine.md")
    args = parser.parse_args(argv)

    names = fixtures_in_order()
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    lines = ["# Engine benchmarks", "",
             f"Native, `make bench` (criterion, default configuration, one thread), {os.cpu_count()} cores "
             f"({cpu}), Linux {platform.release()}. Time per body is criterion's median; MB/s = 10^6 bytes "
             "of the body each benchmark reads per second.", "",
             "| stage | fixture | body bytes | time per body | MB/s |", "|---|---|---:|---:|---:|"]
    verdicts = []
    found = 0
    for group in GROUPS:
        for name in names:
            result = load(args.criterion_dir, group, name)
            if result is None:
                continue
            found += 1
            mbps = result["bytes"] / (result["median_ns"] / 1e9) / 1e6 if result["bytes"] else float("nan")
            lines.append(f"| {group} ({GROUP_MEANING[group]}) | {name} | {result['bytes']} | "
                         f"{fmt_time(result['median_ns'])} | {mbps:.0f} |")
            if group == "guard_request" and name in THROUGHPUT_TARGETS:
                target = THROUGHPUT_TARGETS[name]
                verdicts.append(f"- guard_request on {name}: {mbps:.0f} MB/s (target ≥ {target:.0f}): "
                                f"{'met' if mbps >= target else 'MISSED'}")
    lines += ["", "| configuration compile | time |", "|---|---:|"]
    for bench_id in ("defaults", "custom_patterns"):
        result = load(args.criterion_dir, "config_compile", bench_id)
        if result is None:
            continue
        found += 1
        lines.append(f"| {bench_id} | {fmt_time(result['median_ns'])} |")
        ms = result["median_ns"] / 1e6
        verdicts.append(f"- configuration compile ({bench_id}): {ms:.3f} ms (target < {CONFIG_TARGET_MS:.0f} ms): "
                        f"{'met' if ms < CONFIG_TARGET_MS else 'MISSED'}")
    if not found:
        print(f"no criterion results under {args.criterion_dir}: run `cargo bench --bench engine` first",
              file=sys.stderr)
        return 1

    unmasked = []
    allocs_path = REPO / "bench-results" / "engine-allocs.json"
    if allocs_path.exists():
        rows = json.loads(allocs_path.read_text())
        lines += ["", "Allocations per request (counting global allocator; reallocations in parentheses) and "
                      "what was masked against what the fixture planted:", "",
                  "| fixture | request bytes | planted | masked | guard_request allocations | bytes allocated | "
                  "reply placeholders | restored | restore allocations | bytes allocated |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            if r["planted"] and not r["masked"]:
                unmasked.append(r["fixture"])
            lines.append(f"| {r['fixture']} | {r['request_bytes']} | {r['planted']} | {r['masked']} | "
                         f"{r['guard_allocations']} ({r['guard_reallocations']}) | {r['guard_bytes']} | "
                         f"{r['reply_placeholders']} | {r['restored']} | "
                         f"{r['restore_allocations']} ({r['restore_reallocations']}) | {r['restore_bytes']} |")
    if unmasked:
        # A stubbed or disabled detector makes guard_request look fast for the wrong reason.
        verdicts.append(f"- NOTE: nothing was masked in {', '.join(unmasked)} although values were planted: "
                        "this build does not detect them, so guard_request measures parsing, not detection")
    lines += ["", "Targets (issue 5):", ""] + verdicts + [""]
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
