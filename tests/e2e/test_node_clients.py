"""The official Node SDKs (openai, @anthropic-ai/sdk; examples/node, installed by `make node-deps`)
through Envoy + prompt-guard, buffered and streamed: nothing planted reaches the upstream, the
placeholders do, and the Node application gets every original back."""

import json
import os
import shutil
import subprocess

import harness
import pytest
from planted import LABELS, PLANTED, PROMPT, leaks, missing_placeholders

EXAMPLE = harness.REPO / "examples" / "node"
REPLY = "You said: " + PROMPT
NODE_TIMEOUT_S = 60  # node's start-up on a loaded machine; the exchange itself is bounded by Envoy


@pytest.fixture(scope="module")
def node():
    path = shutil.which("node")
    if path is None:
        pytest.fail("node not found: run `make node-deps`", pytrace=False)
    for package in ("openai", "@anthropic-ai/sdk"):
        if not (EXAMPLE / "node_modules" / package / "package.json").is_file():
            pytest.fail(f"{package} not installed in examples/node: run `make node-deps`", pytrace=False)
    return path


def run_example(node, envoy, provider, mode, prompt):
    env = {**os.environ, "PROMPT_GUARD_URL": envoy.base_url,
           "OPENAI_API_KEY": "test-key-not-secret", "ANTHROPIC_API_KEY": "test-key-not-secret"}
    result = subprocess.run([node, "chat.mjs", provider, mode], input=prompt, cwd=EXAMPLE, env=env,
                            capture_output=True, text=True, timeout=NODE_TIMEOUT_S)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("mode", ["buffered", "streamed"])
def test_node_sdk_masks_upstream_and_gets_originals_back(node, envoy, mock, provider, mode):
    with mock.expect_one_request() as upstream:
        out = run_example(node, envoy, provider, mode, PROMPT)
    sent = upstream.json()
    assert sent.get("stream", False) is (mode == "streamed")
    headers = {key.lower(): value for key, value in upstream.headers.items()}
    assert headers.get("x-stainless-lang") == "js", "the request did not come from the Node SDK"
    assert leaks(upstream.body) == [], "planted values reached the upstream"
    assert missing_placeholders(upstream.body, LABELS) == [], "placeholders missing upstream"
    assert out["text"] == REPLY
    assert int(out["masked"]) >= len(PLANTED)
