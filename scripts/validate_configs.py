#!/usr/bin/env python3
"""Check every shipped configuration with the built module.

Each filter configuration in examples/*.json and examples/policies/*.json is rendered into the Envoy bootstrap (plain and TLS
upstream variants, and for a configuration with a session also the variant whose identity comes
from a verified JWT) and checked by `envoy --mode validate`; each is also compiled by the filter
itself in a real Envoy by the end-to-end tests (tests/e2e/test_config.py). The Envoy filters that
deploy/istio/egress-gateway-envoyfilter.yaml patches into a gateway are checked the same way, in a bootstrap
with the filter in the place the manifest gives them.
"""

import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "envoy"))
import render  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import bootstrap_with_istio_patches, envoy_binary  # noqa: E402  (one lookup of envoy)

WASM = ROOT / "target/wasm32-wasip1/release/prompt_guard.wasm"


# Only for validation: a JWKS with one symmetric test key (nothing is ever signed with it).
SAMPLE_JWT = {"issuer": "https://auth.example.com", "claim": "sub",
              "jwks": '{"keys":[{"kty":"oct","kid":"validate","alg":"HS256","k":"dmFsaWRhdGlvbi1vbmx5"}]}'}
# Keys for the VM, made for this run (a configuration with a session or a hash/encrypt policy
# needs them, docs/keys.md).
VALIDATION_KEYS = {"PG_SEAL_KEY": secrets.token_hex(32), "PG_HASH_KEY": secrets.token_hex(32)}


def variants(cfg_json):
    for upstream in ("http://127.0.0.1:10001", "https://api.openai.com"):
        # With the access log the command line adds by default (the audit record's JSON lines).
        yield f"upstream={upstream}", {"upstream": upstream, "access_log_path": "/dev/stdout",
                                        "vm_env": VALIDATION_KEYS}
    if render.identity_header_of(cfg_json):
        yield "identity=jwt", {"upstream": "http://127.0.0.1:10001", "jwt": SAMPLE_JWT,
                               "vm_env": VALIDATION_KEYS}


def validate(text, tmp):
    out = Path(tmp) / "envoy.yaml"
    out.write_text(text, encoding="utf-8")
    r = subprocess.run([envoy_binary(), "--mode", "validate", "-c", str(out)],
                       capture_output=True, text=True, timeout=120)
    return r.returncode == 0, (r.stdout + r.stderr)[-2000:]


def main():
    configs = sorted((ROOT / "examples").glob("*.json")) + sorted((ROOT / "examples/policies").glob("*.json"))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for cfg in configs:
            cfg_json = cfg.read_text(encoding="utf-8")
            for name, options in variants(cfg_json):
                yaml = render.render(listen_port=10000, admin_port=9901, wasm_path=str(WASM),
                                     filter_config_json=cfg_json, **options)
                results.append((f"{cfg.relative_to(ROOT)} {name}",) + validate(yaml, tmp))
        for name, yaml in istio_patch_bootstraps():
            results.append((name,) + validate(yaml, tmp))
    failures = 0
    for name, ok, log in results:
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        if not ok:
            print(log)
    print(f"{len(results) - failures} passed, {failures} failed")
    return 1 if failures else 0


def istio_patch_bootstraps():
    """The bootstrap with the HTTP filters of deploy/istio/egress-gateway-envoyfilter.yaml put where its
    patches put them (first in the chain, or right before the router), in place of ours."""
    manifest = ROOT / "deploy" / "istio" / "egress-gateway-envoyfilter.yaml"
    plugin = ROOT / "deploy" / "istio" / "egress-gateway-wasmplugin.yaml"
    text = bootstrap_with_istio_patches(manifest, plugin, WASM)
    yield f"{manifest.relative_to(ROOT)} (its filters around the plugin's)", text


if __name__ == "__main__":
    sys.exit(main())
