#!/usr/bin/env python3
"""Instructions per request and per configuration compile, counted by callgrind (`make bench-instructions`).

Runs `target/release/instructions` under valgrind's callgrind with N and with 2N repetitions and
reports (count(2N) - count(N)) / N: the process's start, reading the fixture and compiling the
configuration are in both runs and drop out. Unlike a timing, the count does not move with the
machine's load, so two builds can be compared on a shared machine; it is not a time (memory
stalls and branch misses are not in it).

    python3 scripts/count_instructions.py [--repeat N] [--binary PATH] [--threat-only] [FIXTURE ...]

Besides whole requests it counts the threat pipeline alone (scan + decide) on the eval's reference
1 KB benign English prompt and on the user text of `chat_1k`.
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "instructions"
FIXTURES = ["chat_1k", "multiturn_16k", "long_context_128k", "no_findings_64k", "dense_16k"]
# The threat pipeline alone: (workload of the driver, what the row says).
THREAT = [("threat:reference", "reference 1 KB benign English prompt"), ("threat:chat_1k", "user text of chat_1k")]
COLLECTED = re.compile(r"Collected\s*:\s*([\d,]+)")


def count(what, n):
    """Instructions callgrind counted for `instructions WHAT N`."""
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(BINARY), what, str(n)],
        capture_output=True, text=True, timeout=1800,
    )
    if run.returncode != 0:
        sys.exit(f"count_instructions: `instructions {what} {n}` failed:\n{run.stderr[-2000:]}")
    found = COLLECTED.search(run.stderr)
    if not found:
        sys.exit(f"count_instructions: no instruction count in callgrind's output for {what}")
    return int(found.group(1).replace(",", ""))


def per_run(what, n):
    return (count(what, 2 * n) - count(what, n)) / n


def human(x):
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k"


def main():
    global BINARY
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", nargs="*", default=FIXTURES)
    parser.add_argument("--repeat", type=int, default=10, help="N (default 10)")
    parser.add_argument("--binary", type=Path, default=BINARY, help="the driver (default target/release/instructions)")
    parser.add_argument("--threat-only", action="store_true", help="only the threat pipeline's rows")
    args = parser.parse_args()
    BINARY = args.binary
    if not BINARY.exists():
        sys.exit("count_instructions: build it first: cargo build --release --bin instructions")
    print("| workload | request bytes | instructions | per request byte |")
    print("|---|---:|---:|---:|")
    for what, label in THREAT:
        print(f"| threat scan + decide, {label} | - | {human(per_run(what, args.repeat * 5))} | - |", flush=True)
    if args.threat_only:
        return
    for fixture in args.fixtures:
        size = (ROOT / "crates" / "engine" / "benches" / "fixtures" / f"{fixture}.request.json").stat().st_size
        instructions = per_run(fixture, args.repeat)
        print(f"| guard_request {fixture} | {size} | {human(instructions)} | {instructions / size:.0f} |", flush=True)
    config = per_run("config", 2)
    print(f"| configuration compile (defaults) | - | {human(config)} | - |")
    # The first request after configuring also builds the automata of the rules it needs.
    first = per_run(f"first:{args.fixtures[0]}", 2) - config if args.fixtures else None
    if first is not None:
        print(f"| first guard_request {args.fixtures[0]} after configuring | - | {human(first)} | - |")


if __name__ == "__main__":
    main()
