#!/usr/bin/env bash
# Run fuzz targets, each until it has used FUZZ_SECONDS of CPU time (not wall time: on a busy
# machine a niced fuzzer gets less than a core). Usage: fuzz/run.sh [target...] (default: all).
# FUZZ_SECONDS (default 600), FUZZ_JOBS targets at a time (default 1), FUZZ_NICE (default 10).
# Per target: fuzz/logs/<target>.log (libFuzzer's output) and one summary line on stdout:
# CPU seconds, executions, coverage, corpus size, crashes (inputs in fuzz/artifacts/<target>/).
set -u
cd "$(dirname "$0")"
SECONDS_CPU=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-1}
NICE=${FUZZ_NICE:-10}
BIN=target/x86_64-unknown-linux-gnu/release
TICKS=$(getconf CLK_TCK)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p logs artifacts

cpu_of() { # CPU seconds used by a live process and its finished children (user + system)
  awk -v t="$TICKS" '{ print int(($14 + $15 + $16 + $17) / t) }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run_one() {
  local t=$1 used=0 runs=0 crashes=0 pid
  mkdir -p "corpus/$t" "artifacts/$t"
  : > "logs/$t.log"
  # A crash ends libFuzzer: its input is kept in artifacts/ and the target is started again (at
  # most 5 times) until the CPU time is spent. (Fork mode, which goes on by itself, restarts a
  # worker every few dozen runs here: the configuration compile made it 20x slower.)
  while [ "$used" -lt "$SECONDS_CPU" ] && [ "$crashes" -lt 5 ]; do
    runs=$((runs + 1))
    nice -n "$NICE" "$BIN/$t" "corpus/$t" -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" -timeout=20 -rss_limit_mb=2048 -dict=dict.txt >> "logs/$t.log" 2>&1 &
    pid=$!
    local base=$used now=0
    while kill -0 "$pid" 2>/dev/null; do
      now=$(cpu_of "$pid")
      if [ $((base + now)) -ge "$SECONDS_CPU" ]; then
        kill -INT "$pid" 2>/dev/null
        break
      fi
      sleep 2
    done
    wait "$pid"
    local rc=$?
    used=$((base + now))
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 72 ] && [ "$used" -lt "$SECONDS_CPU" ]; then
      crashes=$((crashes + 1))
    fi
  done
  local execs cov
  execs=$(grep -h 'stat::number_of_executed_units' "logs/$t.log" | awk '{ s += $2 } END { print s + 0 }')
  cov=$(grep -ho 'cov: [0-9]*' "logs/$t.log" | tail -1 | awk '{ print $2 }')
  printf '%-26s cpu %5ss  execs %10s  cov %6s  corpus %5s  crash inputs %s\n' "$t" "$used" "$execs" "${cov:-?}" \
    "$(ls "corpus/$t" | wc -l)" "$(ls "artifacts/$t" | wc -l)"
}

running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
