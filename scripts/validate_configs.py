#!/usr/bin/env python3
"""Check every shipped configuration with the built module.

Each filter configuration in examples/*.json is rendered into the Envoy bootstrap (plain and TLS
upstream variants) and checked by `envoy --mode validate`; each is also compiled by the filter
itself in a real Envoy by the end-to-end tests (tests/e2e/test_config.py).
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "envoy"))
import render  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import envoy_binary  # noqa: E402  (the one lookup of the envoy binary)

WASM = ROOT / "target/wasm32-wasip1/release/prompt_guard.wasm"


def main():
    configs = sorted((ROOT / "examples").glob("*.json"))
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in configs:
            for upstream in ("http://127.0.0.1:10001", "https://api.openai.com"):
                yaml = render.render(listen_port=10000, admin_port=9901, upstream=upstream, wasm_path=str(WASM),
                                     filter_config_json=cfg.read_text(encoding="utf-8"))
                out = Path(tmp) / "envoy.yaml"
                out.write_text(yaml, encoding="utf-8")
                r = subprocess.run([envoy_binary(), "--mode", "validate", "-c", str(out)],
                                   capture_output=True, text=True, timeout=120)
                ok = r.returncode == 0
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {cfg.relative_to(ROOT)} upstream={upstream}")
                if not ok:
                    print((r.stdout + r.stderr)[-2000:])
    print(f"{len(configs) * 2 - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
