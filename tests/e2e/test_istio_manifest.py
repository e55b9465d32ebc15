"""examples/istio-wasmplugin.yaml against the WasmPlugin CRD's OpenAPI schema, without a cluster,
and its pluginConfig loaded by the real filter.

The CRD (../shared/schemas/istio-wasmplugin-crd.yaml, relative to the repository root) states its
own provenance. The API server also prunes or, with strict field validation, rejects unknown
fields; a plain JSON Schema validator would not, so the strict check below adds
additionalProperties: false wherever the CRD does not preserve unknown fields.
"""

import copy

import harness
import httpx
import jsonschema
import pytest
import yaml

MANIFEST = harness.REPO / "examples" / "istio-wasmplugin.yaml"
CRD = harness.REPO.parent / "shared" / "schemas" / "istio-wasmplugin-crd.yaml"


@pytest.fixture(scope="module")
def crd():
    assert CRD.is_file(), f"CRD schema not found at {CRD}"
    return yaml.safe_load(CRD.read_text())


@pytest.fixture(scope="module")
def manifest():
    return yaml.safe_load(MANIFEST.read_text())


def version_schema(crd, version):
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            return entry["schema"]["openAPIV3Schema"]
    raise AssertionError(f"CRD has no version {version}")


def strict(schema):
    """Copy of a structural schema that rejects unknown fields like strict field validation."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if not isinstance(node, dict):
            return
        if node.get("type") == "object" and "properties" in node \
                and not node.get("x-kubernetes-preserve-unknown-fields") \
                and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for key in ("properties", "patternProperties"):
            for child in (node.get(key) or {}).values():
                walk(child)
        for key in ("items", "additionalProperties"):
            walk(node.get(key))
        for key in ("anyOf", "oneOf", "allOf"):
            for child in node.get(key) or []:
                walk(child)

    walk(schema)
    # Top level: apiVersion, kind and metadata are validated by the API server, not the CRD.
    schema["properties"].update({"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                 "metadata": {"type": "object"}})
    return schema


def errors(schema, document):
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


def test_manifest_names_the_crd_group_version_and_kind(crd, manifest):
    group = crd["spec"]["group"]
    served = [v["name"] for v in crd["spec"]["versions"] if v.get("served")]
    group_part, version = manifest["apiVersion"].split("/")
    assert group_part == group and version in served
    assert manifest["kind"] == crd["spec"]["names"]["kind"]
    assert manifest["metadata"]["name"] and manifest["metadata"]["namespace"]


def test_manifest_validates_against_the_crd_schema(crd, manifest):
    schema = version_schema(crd, manifest["apiVersion"].split("/")[1])
    assert errors(schema, manifest) == []
    assert errors(strict(schema), manifest) == []


def test_manifest_satisfies_the_crd_cel_rules_we_can_check(manifest):
    spec = manifest["spec"]
    # x-kubernetes-validations on spec: at most one of selector, targetRef, targetRefs.
    assert sum(key in spec for key in ("selector", "targetRef", "targetRefs")) <= 1
    # matchLabels keys and values must not contain "*", keys not empty.
    for key, value in spec.get("selector", {}).get("matchLabels", {}).items():
        assert key and "*" not in key and "*" not in value
    # url scheme must be one Istio fetches.
    assert spec["url"].split("://", 1)[0] in ("http", "https", "oci", "file")


@pytest.mark.parametrize("mutation", [
    ("failStrategy", "FAIL_CLOSED"),       # enum value misspelt
    ("phase", "BEFORE_ROUTER"),            # not an Istio phase
    ("sha256", "not-a-digest"),            # pattern
    ("pluginConf", {"fail_open": False}),  # unknown field (strict validation)
], ids=lambda m: m[0])
def test_schema_check_rejects_broken_variants(crd, manifest, mutation):
    # Proves the validation above can fail: each variant breaks one rule of the CRD.
    key, value = mutation
    broken = copy.deepcopy(manifest)
    broken["spec"][key] = value
    schema = strict(version_schema(crd, "v1alpha1"))
    assert errors(schema, broken) != []


def test_plugin_name_matches_the_envoy_root_id(manifest):
    assert manifest["spec"]["pluginName"] == harness.RENDER.DEFAULT_ROOT_ID


def test_plugin_config_is_accepted_by_the_filter(envoy_factory, mock, manifest):
    # The shipped example must be a configuration the filter actually loads, and it must work.
    envoy = envoy_factory.start(manifest["spec"]["pluginConfig"])
    body = {"model": "m", "messages": [{"role": "user",
                                        "content": "employee EMP-123456 mailed jane.doe@example.com"}]}
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url("/v1/chat/completions"), json=body, timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200
    sent = upstream.json()["messages"][0]["content"]
    assert sent == "employee [EMPLOYEE_ID_1] mailed [EMAIL_1]"
    original = body["messages"][0]["content"]
    assert reply.json()["choices"][0]["message"]["content"] == "You said: " + original
