#!/usr/bin/env python3
"""Envoy load benchmark (`make bench-envoy`): what prompt-guard costs per request in a real Envoy.

Method (issue 5): Envoy with one worker pinned to core 0; the mock LLM and wrk pinned to core 1;
for each run, the Envoy process's CPU time (every thread's on-CPU time from
/proc/<pid>/task/*/schedstat, nanoseconds; utime + stime as a fallback) is read before and after a
timed wrk run and divided by the requests wrk completed. The measured load is paced (--rate,
default 500 requests/s, through wrk's per-connection `delay` hook): Envoy's CPU per request falls
as its request rate rises (more work per wake-up), so variants are compared at the same rate
rather than at whatever rate each reaches; --rate 0 runs flat out. Three variants:

    bare          Envoy without any wasm filter (the baseline)
    noop          a Rust proxy-wasm filter that buffers and reads both bodies (bench/noop-filter)
    prompt-guard  the built filter with its default configuration (or --filter-config)

over four bodies: a 1 KB OpenAI chat request and a 16 KB conversation (crates/engine/benches/fixtures) with
buffered replies, the 16 KB conversation again with every message new, and the 1 KB request with
"stream": true (an SSE reply from the mock). No two requests are alike: wrk puts a tag of its own
into each request, in the last user message ("next turn": a conversation whose earlier turns the
filter saw before, as in real chat traffic, where the scan memo answers for them) or in every
message ("every message new": nothing seen before, the filter's full cost). Variants alternate
within each round, their order rotating from round to round; results are medians over rounds.
Also measured: requests/s, wrk's p50/p99 latency, Envoy's RSS after the load, and the RSS with two
workers (--concurrency 2) for the memory each extra worker costs.

Every run must be clean: any non-2xx reply or socket error fails the benchmark. Everything listens
on 127.0.0.1 (ports chosen by the kernel), every run is bounded in time, and every process this
script starts is stopped by its PID in a `finally`, on success, failure or Ctrl-C.

    .venv/bin/python scripts/bench_envoy.py            # full: 5 rounds of 5 s per run
    .venv/bin/python scripts/bench_envoy.py --quick    # smoke run: 1 round of 2 s
    .venv/bin/python scripts/bench_envoy.py --rate 0   # unpaced: as fast as the mock answers

Writes bench-results/envoy.md (and envoy.json with every run) and prints the table.
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from harness import envoy_binary, stop_process  # noqa: E402  (shared with the tests)

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "crates" / "engine" / "benches" / "fixtures"
MOCK_SCRIPT = REPO / "tests" / "mock_llm.py"
RENDER_SCRIPT = REPO / "envoy" / "render.py"
DEFAULT_WASM = REPO / "target" / "wasm32-wasip1" / "release" / "prompt_guard.wasm"
# Rounds per run: the ratio to bare Envoy is taken within each round and the median reported, so
# more rounds leave less to one busy minute of a shared machine.
DEFAULT_ROUNDS = 5
DEFAULT_NOOP_WASM = REPO / "bench" / "noop-filter" / "target" / "wasm32-wasip1" / "release" / "noop_filter.wasm"
RESULTS = REPO / "bench-results"
API_PATH = "/v1/chat/completions"
ENVOY_CORE = "0"
LOAD_CORE = "1"  # wrk and the mock share the other core
START_TIMEOUT_S = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
VARIANTS = ["bare", "noop", "prompt-guard"]
# Targets from issue 5: CPU per request as a multiple of bare Envoy, per body.
CPU_TARGETS = {"1 KB": 1.3, "16 KB next turn": 2.5, "16 KB every message new": 2.5}
# Where wrk's per-request tag goes (see `tagged_template`).
TAG = "@@pg-tag@@"
RSS_TARGET_ONE_WORKER_MIB = 40.0
RSS_TARGET_PER_WORKER_MIB = 10.0


class BenchError(Exception):
    """The benchmark could not run or a run was not clean; the message says which and why."""


class Stop(Exception):
    """SIGTERM: unwind through every `finally` so that no process is left behind."""


# ---------------------------------------------------------------------------------------------
# Processes


def load_renderer():
    spec = importlib.util.spec_from_file_location("prompt_guard_envoy_render", RENDER_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def http(method, url, body=None, headers=None, timeout=10.0):
    """(status, headers, bytes) without raising on HTTP error statuses."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def start_mock(work_dir):
    log = open(work_dir / "mock.log", "wb")
    # The mock sets TCP_NODELAY itself: without it every reply waits for Envoy's delayed ACK.
    proc = subprocess.Popen(["taskset", "-c", LOAD_CORE, sys.executable, str(MOCK_SCRIPT), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    log.close()
    try:
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
        line = proc.stdout.readline() if ready else b""
        match = re.match(rb"LISTENING (\d+)", line)
        if not match:
            raise BenchError(f"mock LLM did not start: {(work_dir / 'mock.log').read_text(errors='replace')[-2000:]}")
        return proc, int(match.group(1))
    except BaseException:
        stop_process(proc)
        raise


@dataclass
class EnvoyInstance:
    proc: subprocess.Popen
    port: int
    admin_port: int
    log_path: Path

    def cpu_seconds(self):
        """CPU time of the whole process: the sum of every thread's on-CPU time (nanoseconds, in
        /proc/<pid>/task/*/schedstat), falling back to utime + stime (clock ticks, 10 ms)."""
        try:
            total_ns = 0
            for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
                total_ns += int((task / "schedstat").read_text().split()[0])
            return total_ns / 1e9
        except (OSError, ValueError, IndexError):
            return self.cpu_seconds_from_stat()

    def cpu_seconds_from_stat(self):
        text = Path(f"/proc/{self.proc.pid}/stat").read_text()
        # The command name may contain spaces; the fields we need follow its closing parenthesis.
        fields = text[text.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_mib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
        raise BenchError("VmRSS missing from /proc status")

    def stat(self, name):
        status, _, body = http("GET", f"http://127.0.0.1:{self.admin_port}/stats?filter=^{re.escape(name)}$&format=json")
        if status != 200:
            return None
        for item in json.loads(body).get("stats", []):
            if item.get("name") == name:
                return item.get("value")
        return None


def start_envoy(work_dir, render, upstream_port, variant, wasm, noop_wasm, filter_config, workers):
    """Envoy for one run, pinned to ENVOY_CORE, ports 0 (read back from the admin endpoint)."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{variant}-", dir=work_dir))
    kwargs = {"with_filter": False}
    if variant == "noop":
        kwargs = {"wasm_path": str(noop_wasm), "root_id": "noop"}
    elif variant == "prompt-guard":
        kwargs = {"wasm_path": str(wasm), "filter_config_json": filter_config}
    config = render.render(listen_port=0, admin_port=0, upstream=f"http://127.0.0.1:{upstream_port}", **kwargs)
    config_path = run_dir / "envoy.yaml"
    config_path.write_text(config, encoding="utf-8")
    admin_file = run_dir / "admin-address"
    log_path = run_dir / "envoy.log"
    command = ["taskset", "-c", ENVOY_CORE, envoy_binary(), "-c", str(config_path), "--concurrency", str(workers),
               "--use-dynamic-base-id", "--admin-address-path", str(admin_file), "-l", "warning"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        admin_port, port = wait_until_ready(proc, admin_file, log_path)
        return EnvoyInstance(proc=proc, port=port, admin_port=admin_port, log_path=log_path)
    except BaseException:
        stop_process(proc)
        raise


def wait_until_ready(proc, admin_file, log_path):
    deadline = time.monotonic() + START_TIMEOUT_S
    admin_port = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"envoy exited during start-up ({proc.returncode}):\n{tail(log_path)}")
        if admin_port is None and admin_file.exists() and admin_file.read_text().strip():
            admin_port = int(admin_file.read_text().strip().rsplit(":", 1)[1])
        if admin_port is not None:
            port = listener_port(admin_port)
            if port:
                return admin_port, port
        time.sleep(0.1)
    raise BenchError(f"envoy not ready within {START_TIMEOUT_S:.0f}s:\n{tail(log_path)}")


def listener_port(admin_port):
    try:
        status, _, body = http("GET", f"http://127.0.0.1:{admin_port}/ready", timeout=1.0)
        if status != 200 or body.strip() != b"LIVE":
            return None
        status, _, body = http("GET", f"http://127.0.0.1:{admin_port}/listeners?format=json", timeout=1.0)
        for listener in json.loads(body).get("listener_statuses", []):
            if listener.get("name") == "llm_ingress":
                port = int(listener["local_address"]["socket_address"]["port_value"])
                with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                    return port
    except (OSError, ValueError, KeyError):
        return None
    return None


def tail(path, lines=30):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Body:
    label: str
    #: The request as sent by the check exchange (untagged).
    path: Path
    stream: bool
    #: Which messages get the per-request tag: "last-user" or "all".
    tagged: str = "last-user"


def prepare_bodies(work_dir):
    small = FIXTURES / "chat_1k.request.json"
    large = FIXTURES / "multiturn_16k.request.json"
    streamed = json.loads(small.read_bytes())
    streamed["stream"] = True
    streamed_path = work_dir / "chat_1k.stream.json"
    streamed_path.write_text(json.dumps(streamed, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return [Body("1 KB", small, False), Body("16 KB next turn", large, False),
            Body("16 KB every message new", large, False, tagged="all"), Body("1 KB streamed", streamed_path, True)]


def tagged_template(body):
    """The body's JSON with `TAG` at the start of the content of the last user message, or of
    every message: wrk replaces it with a tag of its own for each request."""
    doc = json.loads(body.path.read_bytes())
    messages = doc.get("messages", [])
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for i, message in enumerate(messages):
        if isinstance(message.get("content"), str) and (body.tagged == "all" or i == last_user):
            message["content"] = TAG + message["content"]
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def lua_script(work_dir, body, delay_ms=0.0):
    """A wrk script that posts the body to the chat API with a tag of its own in each request
    (the template is cut at the tag marks once, at start-up), each connection waiting
    `delay_ms` after a reply before its next request (wrk's `delay` hook)."""
    slug = re.sub(r"[^a-z0-9]+", "-", body.label.lower())
    template = work_dir / f"template-{slug}.json"
    template.write_text(tagged_template(body), encoding="utf-8")
    path = work_dir / f"post-{slug}-{delay_ms:g}.lua"
    # A JSON string literal is a valid Lua string literal for any path we write.
    text = (f"local f = assert(io.open({json.dumps(str(template))}, \"rb\"))\n"
            "local text = f:read(\"*a\")\n"
            "f:close()\n"
            "local pieces, from = {}, 1\n"
            "while true do\n"
            f"  local s, e = string.find(text, {json.dumps(TAG)}, from, true)\n"
            "  if not s then break end\n"
            "  pieces[#pieces + 1] = string.sub(text, from, s - 1)\n"
            "  from = e + 1\n"
            "end\n"
            "pieces[#pieces + 1] = string.sub(text, from)\n"
            "wrk.method = \"POST\"\n"
            "wrk.headers[\"Content-Type\"] = \"application/json\"\n"
            "wrk.headers[\"Authorization\"] = \"Bearer bench-caller\"\n"
            # Tags differ between runs too (the warm-up and the measured run share one Envoy).
            "math.randomseed(os.time() + math.floor(os.clock() * 1000000))\n"
            "local run, n = math.random(0, 1073741823), 0\n"
            "function request()\n"
            "  n = n + 1\n"
            "  local body = table.concat(pieces, string.format(\"[ref %x %x] \", run, n))\n"
            "  return wrk.format(nil, nil, nil, body)\n"
            "end\n")
    if delay_ms > 0:
        text += f"function delay()\n  return {delay_ms:.3f}\nend\n"
    path.write_text(text, encoding="utf-8")
    return path


def check_exchange(envoy, body, variant):
    """One request before the load: the reply must be right, and the filter must be in the path."""
    status, headers, reply = http("POST", f"http://127.0.0.1:{envoy.port}{API_PATH}", body.path.read_bytes(),
                                  {"Content-Type": "application/json"}, timeout=30.0)
    if status != 200:
        raise BenchError(f"{variant}/{body.label}: check request answered {status}: {reply[:300]!r}")
    lower = {k.lower(): v for k, v in headers.items()}
    if body.stream:
        if not lower.get("content-type", "").startswith("text/event-stream") or b"data: [DONE]" not in reply:
            raise BenchError(f"{variant}/{body.label}: the reply is not a complete event stream")
    else:
        json.loads(reply)
    filtered = "x-prompt-guard-masked" in lower
    if filtered != (variant == "prompt-guard"):
        raise BenchError(f"{variant}/{body.label}: x-prompt-guard-masked header {'present' if filtered else 'absent'}")
    vms = envoy.stat("wasm.envoy.wasm.runtime.v8.active") or 0
    if (vms > 0) != (variant != "bare"):
        raise BenchError(f"{variant}/{body.label}: {vms} active V8 VMs")
    return vms


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise BenchError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(out):
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE)
    if not (done and rps and p50 and p99):
        raise BenchError(f"cannot read wrk's report:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(requests=int(done.group(1)), seconds=to_ms(done.group(2) + done.group(3)) / 1000.0,
                     rps=float(rps.group(1)), p50_ms=to_ms(p50.group(1)), p99_ms=to_ms(p99.group(1)),
                     non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
                     socket_errors=sum(int(x) for x in sockets.groups()) if sockets else 0)


def run_wrk(envoy, script, duration_s, connections):
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency",
               "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{envoy.port}{API_PATH}"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=duration_s + 30)
    finally:
        stop_process(proc)
    if proc.returncode != 0:
        raise BenchError(f"wrk failed ({proc.returncode}):\n{out.decode(errors='replace')}")
    return parse_wrk(out.decode(errors="replace"))


@dataclass
class Run:
    round: int
    variant: str
    body: str
    workers: int
    cpu_us_per_request: float
    rps: float
    p50_ms: float
    p99_ms: float
    rss_mib: float
    requests: int
    #: Active V8 VMs after the load (the filter's, per worker and for the main thread).
    wasm_vms: int


def measure(opts, work_dir, render, mock_port, variant, body, workers, round_no):
    envoy = start_envoy(work_dir, render, mock_port, variant, opts.wasm, opts.noop_wasm, opts.filter_config_json, workers)
    try:
        check_exchange(envoy, body, variant)
        concurrency = envoy.stat("server.concurrency")
        if concurrency != workers:
            raise BenchError(f"{variant}: envoy reports concurrency {concurrency}, expected {workers}")
        # Warm up flat out (V8 tiers the filter up under load), then measure at the paced rate.
        warm = run_wrk(envoy, lua_script(work_dir, body), opts.warmup, opts.connections)
        delay_ms = opts.connections * 1000.0 / opts.rate if opts.rate > 0 else 0.0
        script = lua_script(work_dir, body, delay_ms)
        if warm.non_2xx or warm.socket_errors:
            raise BenchError(f"{variant}/{body.label}: warm-up had {warm.non_2xx} non-2xx, {warm.socket_errors} socket errors")
        before = envoy.cpu_seconds()
        result = run_wrk(envoy, script, opts.duration, opts.connections)
        after = envoy.cpu_seconds()
        rss = envoy.rss_mib()
        vms_after = envoy.stat("wasm.envoy.wasm.runtime.v8.active") or 0
        if envoy.proc.poll() is not None:
            raise BenchError(f"{variant}/{body.label}: envoy exited during the run:\n{tail(envoy.log_path)}")
    finally:
        stop_process(envoy.proc)
    if result.non_2xx or result.socket_errors:
        raise BenchError(f"{variant}/{body.label} ({workers} worker(s)): {result.non_2xx} non-2xx replies, "
                         f"{result.socket_errors} socket errors in {result.requests} requests")
    if result.requests == 0:
        raise BenchError(f"{variant}/{body.label}: no request completed")
    run = Run(round=round_no, variant=variant, body=body.label, workers=workers,
              cpu_us_per_request=(after - before) * 1e6 / result.requests, rps=result.rps,
              p50_ms=result.p50_ms, p99_ms=result.p99_ms, rss_mib=rss, requests=result.requests,
              wasm_vms=int(vms_after))
    print(f"  round {round_no} {variant:>12} {body.label:>14} w={workers}: {run.cpu_us_per_request:7.1f} us/req "
          f"{run.rps:8.0f} req/s p50 {run.p50_ms:6.2f} ms p99 {run.p99_ms:6.2f} ms rss {run.rss_mib:6.1f} MiB "
          f"vms {run.wasm_vms} ({run.requests} requests)",
          flush=True)
    return run


# ---------------------------------------------------------------------------------------------
# Report


def spread_of(runs, variant, body, workers, attr):
    values = [getattr(r, attr) for r in runs if r.variant == variant and r.body == body and r.workers == workers]
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def median_of(runs, variant, body, workers, attr):
    values = [getattr(r, attr) for r in runs if r.variant == variant and r.body == body and r.workers == workers]
    return statistics.median(values) if values else None


def ratio_to_bare(runs, variant, body):
    """Median over rounds of CPU per request / bare Envoy's in the same round.

    Variants of one round run back to back, so a per-round ratio cancels the drift of a shared
    machine's load between rounds better than a ratio of medians would.
    """
    ratios = []
    for r in runs:
        if r.variant != variant or r.body != body or r.workers != 1:
            continue
        bare = [b for b in runs if b.variant == "bare" and b.body == body and b.workers == 1 and b.round == r.round]
        if bare and bare[0].cpu_us_per_request > 0:
            ratios.append(r.cpu_us_per_request / bare[0].cpu_us_per_request)
    return statistics.median(ratios) if ratios else float("nan")


def machine_description():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    try:
        envoy = subprocess.run([envoy_binary(), "--version"], capture_output=True, text=True, timeout=30).stdout
        envoy = re.search(r"version: \S+/([\d.]+)\S*/", envoy).group(1) if "version" in envoy else envoy.strip()
    except (OSError, subprocess.SubprocessError, AttributeError, BenchError):
        envoy = "unknown"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(" [")[0].strip()
    return (f"{os.cpu_count()} cores ({model}{memory}), Linux {platform.release()}, Envoy {envoy} (V8), {wrk}")


def command_flags(opts):
    """The flags that reproduce this run (defaults left out; --quick stands for its rounds and
    duration)."""
    flags = " --quick" if opts.quick else ""
    if opts.bodies:
        flags += f" --bodies \"{opts.bodies}\""
    if opts.filter_config:
        flags += f" --filter-config {opts.filter_config}"
    timing = () if opts.quick else (("rounds", DEFAULT_ROUNDS), ("duration", 5))
    for name, default in timing + (("warmup", 1), ("connections", 8), ("rate", 500.0)):
        value = getattr(opts, name)
        if value != default:
            flags += f" --{name} {value:g}"
    return flags


def report(opts, runs, bodies, machine, started):
    lines = ["# Envoy load benchmark", "",
             f"Machine: {machine}. Envoy pinned to core {ENVOY_CORE}; wrk (`-t1 -c{opts.connections}`) and the "
             f"mock LLM (`tests/mock_llm.py`, TCP_NODELAY) pinned to core {LOAD_CORE}. {opts.rounds} round(s) of {opts.duration} s per run after "
             f"{opts.warmup} s of warm-up; load paced at about {opts.rate:g} requests/s "
             f"(0 = unpaced) so that every variant does the same work per second; "
             f"variants alternate within a round; medians over rounds. "
             f"CPU = Envoy's on-CPU time over the run (all threads, /proc schedstat) / requests completed; × bare = median over rounds "
             f"of the ratio to bare Envoy in the same round. Run {started} UTC with "
             f"`.venv/bin/python scripts/bench_envoy.py{command_flags(opts)}`.", "",
             "| body | variant | CPU µs/request | (min–max over rounds) | × bare | requests/s | p50 ms | p99 ms | "
             "RSS after load MiB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    for body in bodies:
        for variant in VARIANTS:
            cpu = median_of(runs, variant, body.label, 1, "cpu_us_per_request")
            if cpu is None:
                continue
            ratio = ratio_to_bare(runs, variant, body.label)
            low, high = spread_of(runs, variant, body.label, 1, "cpu_us_per_request")
            lines.append(f"| {body.label} | {variant} | {cpu:.1f} | {low:.0f}–{high:.0f} | {ratio:.2f} | "
                         f"{median_of(runs, variant, body.label, 1, 'rps'):.0f} | "
                         f"{median_of(runs, variant, body.label, 1, 'p50_ms'):.2f} | "
                         f"{median_of(runs, variant, body.label, 1, 'p99_ms'):.2f} | "
                         f"{median_of(runs, variant, body.label, 1, 'rss_mib'):.1f} |")
            if variant == "prompt-guard" and body.label in CPU_TARGETS:
                target = CPU_TARGETS[body.label]
                verdicts.append(f"- CPU per request, {body.label}: {ratio:.2f}× bare (target ≤ {target}×): "
                                f"{'met' if ratio <= target else 'MISSED'}")
    rss_label = bodies[0].label
    lines += ["", f"Memory (RSS after the {rss_label} load; extra worker = `--concurrency 2` minus `--concurrency 1`):", "",
              "| variant | RSS 1 worker MiB | RSS 2 workers MiB | over bare, 1 worker | over bare, per extra worker |",
              "|---|---:|---:|---:|---:|"]
    bare1 = median_of(runs, "bare", rss_label, 1, "rss_mib")
    bare2 = median_of(runs, "bare", rss_label, 2, "rss_mib")
    for variant in VARIANTS:
        one = median_of(runs, variant, rss_label, 1, "rss_mib")
        two = median_of(runs, variant, rss_label, 2, "rss_mib")
        if one is None or two is None or bare1 is None or bare2 is None:
            continue
        over1 = one - bare1
        per_worker = (two - one) - (bare2 - bare1)
        lines.append(f"| {variant} | {one:.1f} | {two:.1f} | {over1:+.1f} | {per_worker:+.1f} |")
        if variant == "prompt-guard":
            verdicts.append(f"- RSS with the filter, 1 worker: {over1:+.1f} MiB over bare (target ≤ "
                            f"{RSS_TARGET_ONE_WORKER_MIB:.0f}): {'met' if over1 <= RSS_TARGET_ONE_WORKER_MIB else 'MISSED'}")
            verdicts.append(f"- RSS per extra worker: {per_worker:+.1f} MiB over bare (target ≤ "
                            f"{RSS_TARGET_PER_WORKER_MIB:.0f}): {'met' if per_worker <= RSS_TARGET_PER_WORKER_MIB else 'MISSED'}")
    if opts.wasm.exists():
        size = opts.wasm.stat().st_size
        verdicts.append(f"- prompt_guard.wasm: {size / 1024 / 1024:.2f} MiB (target ≤ 3 MiB): "
                        f"{'met' if size <= 3 * 1024 * 1024 else 'MISSED'}")
    lines += ["", "Targets (issue 5):", ""] + verdicts + [""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--duration", type=int, default=5, help="seconds of measured load per run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load before each run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate", type=float, default=500.0,
                        help="pace the measured load at about this many requests/s (each connection waits "
                             "connections/rate between requests); 0 = as fast as the upstream answers")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, 2 s per run")
    parser.add_argument("--wasm", type=Path, default=DEFAULT_WASM, help="the prompt-guard module")
    parser.add_argument("--noop-wasm", type=Path, default=DEFAULT_NOOP_WASM, help="the no-op module")
    parser.add_argument("--filter-config", type=Path, help="prompt-guard configuration (default: {})")
    parser.add_argument("--bodies", help="comma-separated body labels to run (default: all), e.g. \"1 KB\"")
    parser.add_argument("--max-seconds", type=int, default=1800, help="give up (and clean up) after this long")
    parser.add_argument("--out", type=Path, default=RESULTS / "envoy.md")
    parser.add_argument("--report-only", type=Path, metavar="RUNS_JSON",
                        help="no load: rewrite the table from the envoy.json of an earlier run")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.rounds, opts.duration = 1, 2
    opts.filter_config_json = opts.filter_config.read_text(encoding="utf-8") if opts.filter_config else "{}"
    if opts.report_only:
        return opts
    for path in (opts.wasm, opts.noop_wasm):
        if not path.is_file():
            parser.error(f"{path} not found: build it first (make bench-envoy builds both modules)")
    for tool in ("wrk", "taskset"):
        if not shutil.which(tool):
            parser.error(f"{tool} is not installed")
    if (os.cpu_count() or 1) < 2:
        parser.error("needs two cores: one for Envoy, one for wrk and the mock")
    return opts


def main(argv=None):
    opts = parse_args(argv)
    if opts.report_only:
        runs = [Run(**item) for item in json.loads(opts.report_only.read_text(encoding="utf-8"))]
        with tempfile.TemporaryDirectory(prefix="bench-envoy-") as tmp:
            bodies = prepare_bodies(Path(tmp))
        text = report(opts, runs, bodies, machine_description(), "(re-rendered)")
        opts.out.parent.mkdir(parents=True, exist_ok=True)
        opts.out.write_text(text, encoding="utf-8")
        print(text)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(Stop()))
    render = load_renderer()
    started = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M")
    deadline = time.monotonic() + opts.max_seconds
    machine = machine_description()
    print(f"machine: {machine}", flush=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-envoy-") as tmp:
        work_dir = Path(tmp)
        bodies = prepare_bodies(work_dir)
        if opts.bodies:
            wanted = [label.strip() for label in opts.bodies.split(",")]
            unknown = [label for label in wanted if label not in {b.label for b in bodies}]
            if unknown:
                print(f"bench_envoy: unknown body {unknown}; known: {[b.label for b in bodies]}", file=sys.stderr)
                return 2
            bodies = [b for b in bodies if b.label in wanted]
        mock = None
        try:
            mock, mock_port = start_mock(work_dir)
            for round_no in range(1, opts.rounds + 1):
                # Rotate the order each round so no variant always runs first (or last).
                shift = (round_no - 1) % len(VARIANTS)
                order = VARIANTS[shift:] + VARIANTS[:shift]
                plan = [(body, 1) for body in bodies] + [(bodies[0], 2)]
                for body, workers in plan:
                    for variant in order:
                        if time.monotonic() > deadline:
                            raise BenchError(f"time limit of {opts.max_seconds} s reached")
                        runs.append(measure(opts, work_dir, render, mock_port, variant, body, workers, round_no))
        except (BenchError, Stop, KeyboardInterrupt) as err:
            print(f"bench_envoy: {err or type(err).__name__}", file=sys.stderr)
            return 1
        finally:
            stop_process(mock)
    text = report(opts, runs, bodies, machine, started)
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(text, encoding="utf-8")
    opts.out.with_suffix(".json").write_text(json.dumps([asdict(r) for r in runs], indent=1) + "\n", encoding="utf-8")
    print()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
