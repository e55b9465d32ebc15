"""What a session leaves in Envoy shared data: nothing readable without the keys.

A test-only second wasm plugin (tests/e2e/shared_data_dump) runs in the same Envoy with the same
vm_id as the filter, so it sees the filter's shared data, and answers GET /__shared_data_dump with
every key the session store wrote (the index, and each session it lists) and its bytes. The
filter itself has no such path. The tests run sessions with the planted values of planted.py,
then:
- look for every planted value, the identity, the placeholders and the labels in the dump, in
  every spelling a leak could take (as written, JSON-escaped, base64 at each alignment, hex,
  UTF-16);
- open the sealed records with the test key, in Python (PyNaCl's XChaCha20-Poly1305), to show
  that the dump holds the real records (the planted values are in them, sealed) and that the
  identity is the associated data (the same bytes do not open for another identity);
- rotate the seal key: a session written under key A is read after switching to B with A as
  previous, and not with B alone (counted in prompt_guard_sealed_unopened{reason}).
"""

import base64
import copy
import hashlib
import json
import struct
import subprocess

import harness
import httpx
import nacl.bindings
import nacl.exceptions
import planted
import pytest

RESPONSES = "/v1/responses"
HEADER = "x-authenticated-user"
IDENTITY = "alice.mueller@corp.example"
CONFIG = {"session": {"identity_header": HEADER, "ttl_seconds": 600}, "threats": {"enabled": False}}
DUMP_DIR = harness.REPO / "tests" / "e2e" / "shared_data_dump"
DUMP_WASM = DUMP_DIR / "target" / "wasm32-wasip1" / "release" / "shared_data_dump.wasm"
DUMP_PATH = "/__shared_data_dump"
# The store's layout (crates/engine/src/store/sealed.rs, record.rs; crates/engine/src/keys).
RECORD_PURPOSE = b"prompt_guard session record v2\0"
OTHER_SEAL_KEY = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"


@pytest.fixture(scope="module")
def dump_wasm():
    """The dump plugin, built (cargo does nothing when it is up to date)."""
    result = subprocess.run(["cargo", "build", "--release", "--target", "wasm32-wasip1"], cwd=DUMP_DIR,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0 or not DUMP_WASM.is_file():
        pytest.fail(f"the shared-data dump plugin did not build:\n{result.stderr[-2000:]}", pytrace=False)
    return DUMP_WASM


def with_dump_plugin(wasm):
    """A bootstrap_edit: the dump plugin first in the HTTP filters, with the filter's vm_id."""

    def edit(bootstrap):
        manager = bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        filters = manager["typed_config"]["http_filters"]
        ours = next(f for f in filters if f["name"] == "envoy.filters.http.wasm")
        vm_id = ours["typed_config"]["config"]["vm_config"]["vm_id"]
        filters.insert(0, {"name": "shared_data_dump", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {"name": "shared_data_dump", "root_id": "shared_data_dump",
                       "vm_config": {"vm_id": vm_id, "runtime": "envoy.wasm.runtime.v8",
                                     "code": {"local": {"filename": str(wasm)}}}}}})

    return edit


def start(envoy_factory, wasm, keys):
    options = dict(harness.DEFAULT_RENDER_OPTIONS, vm_env=keys)
    return envoy_factory.start(CONFIG, render_options=options, bootstrap_edit=with_dump_plugin(wasm))


def turn(envoy, text, user=IDENTITY):
    body = {"model": "m", "input": text}
    reply = httpx.post(envoy.url(RESPONSES), content=json.dumps(body), timeout=harness.REQUEST_TIMEOUT_S,
                       headers={"content-type": "application/json", HEADER: user})
    assert reply.status_code == 200, reply.text[:300]
    data = reply.json()
    return "".join(part.get("text", "") for item in data.get("output", [])
                   for part in item.get("content", []) or [])


def dump(envoy):
    """{key: bytes} of what the session store wrote, and the keys found absent."""
    reply = httpx.get(envoy.url(DUMP_PATH), timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text[:300]
    data = reply.json()
    return {e["key"]: bytes.fromhex(e["hex"]) for e in data["entries"]}, data["absent"]


def spellings(needle):
    """`needle` as bytes in the spellings a leak could take."""
    raw = needle.encode("utf-8")
    forms = {raw, json.dumps(needle)[1:-1].encode(), raw.hex().encode(), raw.hex().upper().encode(),
             needle.encode("utf-16-le"), needle.lower().encode(), needle.upper().encode()}
    for skip in range(3):
        # Base64 of the needle at each alignment: the characters that depend on its bytes alone.
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * skip + raw).rstrip(b"=")
            core = text[(skip * 4 + 2) // 3 + 1:-2]
            if len(core) >= 8:
                forms.add(core)
    return forms


def needles(values, placeholders):
    out = {IDENTITY, IDENTITY.split("@")[0]}
    for value in values:
        out.update(planted.sensitive_fragments(value))
    out.update(placeholders)
    out.update(p.strip("[]") for p in placeholders)
    return out


def key_id(seal_hex):
    return hashlib.sha256(b"prompt-guard key id\0" + bytes.fromhex(seal_hex)).digest()[:4]


def open_record(stored, identity, seal_hex):
    """The plaintext of a stored session record, as the filter opens it (keys/mod.rs, sealed.rs)."""
    expiry = stored[:8]
    header, nonce, sealed = stored[8:13], stored[13:37], stored[37:]
    assert header[0] == 1 and header[1:] == key_id(seal_hex)
    aad = header + RECORD_PURPOSE + expiry + identity.encode()
    return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed, aad, nonce, bytes.fromhex(seal_hex))


def mappings(record):
    """{placeholder: original} of a record's plaintext (record.rs, version 2)."""
    version, _expiry, _listed, labels = struct.unpack_from("<BQQH", record, 0)
    assert version == 2
    at = 19
    for _ in range(labels):
        at += 1 + record[at] + 4
    (count,) = struct.unpack_from("<I", record, at)
    at += 4
    out = {}
    for _ in range(count):
        kind, length = record[at], record[at + 1]
        label = record[at + 2:at + 2 + length].decode()
        (number,) = struct.unpack_from("<I", record, at + 2 + length)
        at += 2 + length + 4
        if kind == 0:
            (size,) = struct.unpack_from("<I", record, at)
            out[f"[{label}_{number}]"] = record[at + 4:at + 4 + size].decode()
            at += 4 + size
    assert at == len(record)
    return out


def sessions_of(entries):
    return {k: v for k, v in entries.items() if k.startswith("prompt_guard/v2/session/") and v}


def test_shared_data_holds_no_planted_value_identity_or_placeholder(envoy_factory, dump_wasm, mock):
    envoy = start(envoy_factory, dump_wasm, harness.TEST_KEYS)
    first = turn(envoy, planted.PROMPT)
    assert first == f"You said: {planted.PROMPT}", "the reply was not restored"
    upstream = mock.last_request().decode()
    placeholders = sorted({p for p in (f"[{label}_1]" for label in planted.LABELS) if p in upstream})
    assert len(placeholders) >= 15, f"too few placeholders went upstream: {placeholders}"
    # A later exchange of the session quotes them back (the mock echoes them): restored from the
    # session record.
    quoted = " ".join(placeholders)
    originals = " ".join(dict(planted.PLANTED)[p.strip("[]").rsplit("_", 1)[0]] for p in placeholders)
    assert turn(envoy, f"Repeat {quoted}") == f"You said: Repeat {originals}"

    entries, absent = dump(envoy)
    records = sessions_of(entries)
    assert "prompt_guard/v2/sessions" in entries and len(records) == 1, (list(entries), absent)
    # Nothing of the plain store of earlier builds.
    assert "prompt_guard/v1/sessions" in absent
    everything = b"\0".join(k.encode() + b"\0" + v for k, v in entries.items())
    values = [value for _, value in planted.PLANTED]
    for needle in needles(values, placeholders):
        for form in spellings(needle):
            assert form not in everything, f"{needle[:12]}... is in shared data as {form[:40]!r}"
    for label in planted.LABELS:
        assert label.encode() not in everything, label

    # The dump holds the real record: opened with the key and this identity, every placeholder
    # that went upstream maps to the value the client sent.
    (stored,) = records.values()
    opened = mappings(open_record(stored, IDENTITY, harness.TEST_KEYS["PG_SEAL_KEY"]))
    for placeholder in placeholders:
        label = placeholder.strip("[]").rsplit("_", 1)[0]
        assert opened.get(placeholder) == dict(planted.PLANTED)[label], placeholder
    # The identity is the associated data: the same bytes do not open for anyone else.
    with pytest.raises(nacl.exceptions.CryptoError):
        open_record(stored, "mallory@corp.example", harness.TEST_KEYS["PG_SEAL_KEY"])


def listener_ports(envoy):
    """{listener name: port} of a running Envoy."""
    status, body = envoy.admin("/listeners?format=json")
    assert status == 200
    return {listener["name"]: int(listener["local_address"]["socket_address"]["port_value"])
            for listener in json.loads(body)["listener_statuses"]}


def with_listeners_under_other_keys(wasm, keyrings):
    """A bootstrap_edit: the dump plugin, and for each (name, keys) a copy of the listener whose
    filter has those keys in its VM environment. All share the filter's vm_id, so all see one
    shared data: as Envoys before and after a key change would see one store."""
    add_dump = with_dump_plugin(wasm)

    def edit(bootstrap):
        listeners = bootstrap["static_resources"]["listeners"]
        base = copy.deepcopy(listeners[0])
        add_dump(bootstrap)
        for name, keys in keyrings:
            listener = copy.deepcopy(base)
            listener["name"] = name
            listener["address"]["socket_address"]["port_value"] = 0
            manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
            ours = next(f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.wasm")
            ours["typed_config"]["config"]["vm_config"]["environment_variables"] = {"key_values": keys}
            listeners.append(listener)

    return edit


class Via:
    """Requests to one listener of an Envoy."""

    def __init__(self, port):
        self.port = port

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


def test_a_seal_key_rotation_reads_old_sessions_only_with_the_previous_key(envoy_factory, dump_wasm, mock):
    old = harness.TEST_KEYS
    rotated = dict(old, PG_SEAL_KEY=OTHER_SEAL_KEY, PG_SEAL_KEY_PREVIOUS=old["PG_SEAL_KEY"])
    new_only = dict(old, PG_SEAL_KEY=OTHER_SEAL_KEY)
    options = dict(harness.DEFAULT_RENDER_OPTIONS, vm_env=old)
    edit = with_listeners_under_other_keys(dump_wasm, [("rotated", rotated), ("new_only", new_only)])
    envoy = envoy_factory.start(CONFIG, render_options=options, bootstrap_edit=edit)
    ports = listener_ports(envoy)
    before_a, rotating, after_a = envoy, Via(ports["rotated"]), Via(ports["new_only"])

    def unopened():
        return envoy.metrics().value("prompt_guard_sealed_unopened", reason="unknown_key") or 0

    email = "jane.doe@example.com"
    assert turn(before_a, f"Write to {email}") == f"You said: Write to {email}"
    assert "[EMAIL_1]" in mock.last_request().decode()
    (stored,) = sessions_of(dump(envoy)[0]).values()
    assert stored[9:13] == key_id(old["PG_SEAL_KEY"])

    # The new key alone cannot open the record: not restored, counted, and the reply still served.
    counted = unopened()
    assert turn(after_a, "Repeat [EMAIL_1]") == "You said: Repeat [EMAIL_1]"
    assert unopened() == counted + 1
    # The new key with the old one as previous opens it, and the save seals it under the new key.
    assert turn(rotating, "Repeat [EMAIL_1]") == f"You said: Repeat {email}"
    (stored,) = sessions_of(dump(envoy)[0]).values()
    assert stored[9:13] == key_id(OTHER_SEAL_KEY)
    assert mappings(open_record(stored, IDENTITY, OTHER_SEAL_KEY)) == {"[EMAIL_1]": email}
    # From now on the new key alone reads it, and the old key alone does not.
    assert turn(after_a, "Repeat [EMAIL_1]") == f"You said: Repeat {email}"
    assert turn(before_a, "Repeat [EMAIL_1]") == "You said: Repeat [EMAIL_1]"
    assert unopened() == counted + 2


def test_a_session_without_its_keys_in_the_vm_environment_is_refused(envoy_factory):
    # The keys are renamed to variables the VM environment does not have: Envoy refuses the
    # configuration and the log names the variable.
    config = dict(CONFIG, keys={"encrypt": "PG_TEAM_SEAL_KEY", "hash": "PG_TEAM_HASH_KEY"})
    code, log = envoy_factory.expect_refusal(config)
    assert code != 0
    assert "keys.encrypt" in log and "PG_TEAM_SEAL_KEY" in log and "session" in log
    assert harness.TEST_KEYS["PG_SEAL_KEY"] not in log
