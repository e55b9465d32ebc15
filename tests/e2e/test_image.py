"""The filter's OCI image (`make image`, scripts/build_image.sh) through a real registry.

The image is built from the module under test, pushed with skopeo to a local distribution
registry (the Debian `docker-registry` package), pulled back with skopeo, and checked against the
"compat" variant of the Wasm image specification that Istio and Envoy Gateway pull: one
tar+gzip layer holding exactly `plugin.wasm`, byte-identical to the built module, and the
`module.wasm.image/variant: compat` annotation. Then Envoy loads the pulled file and masks.

Needs buildah, skopeo and docker-registry (`make image-tools` installs them; `make test` does).
"""

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import harness
import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
TAG = "0.1.0"
REGISTRY_CONFIG = """version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {root}
http:
  addr: 127.0.0.1:0
"""


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} is not installed (make image-tools installs it)"
    return path


def run(*command, timeout=180):
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """A distribution registry on 127.0.0.1 at a port the kernel chose; stopped by its PID."""
    work = tmp_path_factory.mktemp("registry")
    config = work / "config.yml"
    config.write_text(REGISTRY_CONFIG.format(root=work / "storage"))
    log_path = work / "registry.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([tool("docker-registry"), "serve", str(config)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        address = None
        deadline = time.monotonic() + 30
        while address is None and time.monotonic() < deadline:
            assert proc.poll() is None, f"registry exited: {harness.tail(log_path)}"
            found = re.search(r"listening on 127\.0\.0\.1:(\d+)", log_path.read_text(errors="replace"))
            if found:
                address = f"127.0.0.1:{found.group(1)}"
            else:
                time.sleep(0.1)
        assert address, f"registry did not start: {harness.tail(log_path)}"
        assert httpx.get(f"http://{address}/v2/", timeout=5).status_code == 200
        yield address
    finally:
        harness.stop_process(proc)


@pytest.fixture(scope="module")
def pushed(registry, tmp_path_factory):
    """The image built from the module under test, pushed to the registry; its reference."""
    work = tmp_path_factory.mktemp("image")
    layout = work / "layout"
    run(str(REPO / "scripts" / "build_image.sh"), str(harness.filter_wasm()), str(layout), TAG)
    reference = f"docker://{registry}/prompt-guard:{TAG}"
    run(tool("skopeo"), "copy", "--dest-tls-verify=false", f"oci:{layout}:{TAG}", reference)
    return reference


def test_the_registry_serves_a_compat_wasm_image(pushed):
    manifest = json.loads(run(tool("skopeo"), "inspect", "--raw", "--tls-verify=false", pushed))
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["annotations"]["module.wasm.image/variant"] == "compat"
    layers = manifest["layers"]
    assert [layer["mediaType"] for layer in layers] == ["application/vnd.oci.image.layer.v1.tar+gzip"]


def test_the_pulled_layer_is_the_built_module_and_envoy_masks_with_it(pushed, mock, tmp_path):
    pulled = tmp_path / "pulled"
    run(tool("skopeo"), "copy", "--src-tls-verify=false", pushed, f"oci:{pulled}:{TAG}")
    index = json.loads((pulled / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((pulled / "blobs" / "sha256" / digest).read_text())
    (layer,) = manifest["layers"]
    blob = (pulled / "blobs" / "sha256" / layer["digest"].split(":", 1)[1]).read_bytes()
    assert hashlib.sha256(blob).hexdigest() == layer["digest"].split(":", 1)[1]
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob))) as tar:
        members = tar.getmembers()
        assert [m.name.lstrip("./") for m in members] == ["plugin.wasm"]
        module = tar.extractfile(members[0]).read()
    built = harness.filter_wasm().read_bytes()
    assert module == built, "the pulled plugin.wasm differs from the built module"

    wasm = tmp_path / "plugin.wasm"
    wasm.write_bytes(module)
    envoy = harness.start_envoy_or_fail(tmp_path / "envoy", mock.port, filter_config={}, wasm=wasm)
    try:
        email = "ana.pulled@example.org"
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"Write to {email}"}]}
        with mock.expect_one_request() as upstream:
            reply = httpx.post(envoy.url("/v1/chat/completions"), json=body, timeout=30)
        assert reply.status_code == 200
        assert email not in upstream.body.decode()
        assert "[EMAIL_1]" in upstream.json()["messages"][0]["content"]
    finally:
        envoy.stop()
