"""Every Kubernetes manifest in deploy/ against the real schema of its kind, without a cluster, and
every filter configuration they carry loaded by the real filter in Envoy.

Schemas (deploy/schemas, README.md there says where each comes from): the Istio and Envoy Gateway /
Gateway API CustomResourceDefinitions, and Kubernetes' own OpenAPI schemas for core kinds and for
every object's metadata. The API server prunes or, with strict field validation, rejects unknown
fields; a plain JSON Schema validator would not, so the CRD schemas get additionalProperties: false
wherever they do not preserve unknown fields (the Kubernetes schemas are strict already).
"""

import copy
import json

import harness
import httpx
import jsonschema
import pytest
import yaml

DEPLOY = harness.REPO / "deploy"
SCHEMAS = DEPLOY / "schemas"
CRD_FILES = ("istio-crds.yaml", "envoy-gateway-crds.yaml")
KUBERNETES = SCHEMAS / "kubernetes-v1.37.0.json"
# Not Kubernetes objects: Prometheus rule files and their unit tests.
NOT_OBJECTS = ("schemas", "prometheus")


def manifest_files():
    return sorted(p for p in DEPLOY.rglob("*.yaml")
                  if p.relative_to(DEPLOY).parts[0] not in NOT_OBJECTS)


def load_objects():
    objects = []
    for path in manifest_files():
        for index, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc is not None:
                objects.append((f"{path.relative_to(DEPLOY)}#{index}", doc))
    return objects


OBJECTS = load_objects()


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
    return schema


@pytest.fixture(scope="module")
def schemas():
    """{(apiVersion, kind): (validator class, schema)} for every kind the schemas define."""
    kubernetes = json.loads(KUBERNETES.read_text())
    found = {("v1", "Namespace"): (jsonschema.Draft202012Validator, kubernetes["Namespace"])}
    metadata = kubernetes["ObjectMeta"]
    for name in CRD_FILES:
        for crd in yaml.safe_load_all((SCHEMAS / name).read_text()):
            if not crd:
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served"):
                    continue
                schema = strict(version["schema"]["openAPIV3Schema"])
                # apiVersion and kind are checked by the lookup; metadata by Kubernetes' schema.
                schema["properties"].update({"apiVersion": {"type": "string"},
                                             "kind": {"type": "string"}, "metadata": metadata})
                found[(f"{group}/{version['name']}", kind)] = (jsonschema.Draft7Validator, schema)
    return found


def errors(schemas, document):
    key = (document.get("apiVersion"), document.get("kind"))
    assert key in schemas, f"no schema for {key}: add its CRD to deploy/schemas"
    validator_class, schema = schemas[key]
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator_class(schema).iter_errors(document)]


def test_deploy_has_the_manifests_we_document():
    kinds = {doc["kind"] for _, doc in OBJECTS}
    assert {"WasmPlugin", "EnvoyFilter", "EnvoyExtensionPolicy", "Gateway", "HTTPRoute", "Backend",
            "Namespace", "ServiceEntry", "VirtualService", "DestinationRule", "EnvoyProxy",
            "BackendTrafficPolicy"} <= kinds


@pytest.mark.parametrize("where,document", OBJECTS, ids=[w for w, _ in OBJECTS])
def test_manifest_validates_against_its_schema(schemas, where, document):
    assert document["metadata"]["name"]
    if document["kind"] != "Namespace":
        assert document["metadata"]["namespace"], "every namespaced object names its namespace"
    assert errors(schemas, document) == []


def by_kind(kind):
    return [(where, doc) for where, doc in OBJECTS if doc["kind"] == kind]


def names(kind, namespace):
    return {doc["metadata"]["name"] for _, doc in by_kind(kind)
            if doc["metadata"].get("namespace") == namespace}


def test_cel_rules_and_references_we_can_check():
    # The CRDs' x-kubernetes-validations (CEL) are not JSON Schema; the ones these manifests can
    # break are checked here, with the references between objects.
    for where, doc in by_kind("WasmPlugin"):
        spec = doc["spec"]
        assert sum(key in spec for key in ("selector", "targetRef", "targetRefs")) <= 1, where
        for key, value in spec.get("selector", {}).get("matchLabels", {}).items():
            assert key and "*" not in key and "*" not in value, where
        assert spec["url"].split("://", 1)[0] in ("http", "https", "oci", "file"), where
    for where, doc in by_kind("EnvoyExtensionPolicy"):
        namespace = doc["metadata"]["namespace"]
        for ref in doc["spec"]["targetRefs"]:
            assert ref["name"] in names(ref["kind"], namespace), where
        for wasm in doc["spec"]["wasm"]:
            code = wasm["code"]
            assert ("image" in code) == (code["type"] == "Image"), where
            assert ("http" in code) == (code["type"] == "HTTP"), where
    for where, doc in by_kind("BackendTrafficPolicy"):
        for ref in doc["spec"]["targetRefs"]:
            assert ref["name"] in names(ref["kind"], doc["metadata"]["namespace"]), where
    for where, doc in by_kind("Gateway"):
        ref = doc["spec"].get("infrastructure", {}).get("parametersRef")
        if ref:
            assert ref["name"] in names(ref["kind"], doc["metadata"]["namespace"]), where
    for where, doc in by_kind("HTTPRoute"):
        namespace = doc["metadata"]["namespace"]
        for parent in doc["spec"]["parentRefs"]:
            assert parent["name"] in names("Gateway", namespace), where
        for rule in doc["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                assert backend["name"] in names(backend["kind"], namespace), where
    for where, doc in by_kind("VirtualService"):
        namespace = doc["metadata"]["namespace"]
        for gateway in doc["spec"]["gateways"]:
            assert gateway == "mesh" or gateway in names("Gateway", namespace), where


def test_sidecar_plugin_lands_in_an_injected_namespace():
    injected = {doc["metadata"]["name"] for _, doc in by_kind("Namespace")
                if doc["metadata"].get("labels", {}).get("istio-injection") == "enabled"}
    for where, doc in by_kind("WasmPlugin"):
        assert doc["metadata"]["namespace"] in injected, where


BROKEN = [
    ("WasmPlugin", ("spec", "failStrategy"), "FAIL_CLOSED"),      # enum value misspelt
    ("WasmPlugin", ("spec", "phase"), "BEFORE_ROUTER"),           # not an Istio phase
    ("WasmPlugin", ("spec", "sha256"), "not-a-digest"),           # pattern
    ("WasmPlugin", ("spec", "pluginConf"), {"fail_open": False}),  # unknown field
    ("EnvoyExtensionPolicy", ("spec", "wasm", 0, "failopen"), False),  # unknown field (case)
    ("EnvoyExtensionPolicy", ("spec", "wasm", 0, "code", "type"), "OCI"),  # enum
    ("HTTPRoute", ("spec", "rules", 0, "matches", 0, "path", "type"), "Prefix"),  # enum
    ("ServiceEntry", ("spec", "resolution"), "DYNAMIC"),          # enum
    ("VirtualService", ("spec", "http", 0, "routes"), []),        # unknown field
    ("Namespace", ("metadata", "label"), {"a": "b"}),             # unknown metadata field
    ("EnvoyProxy", ("spec", "filterOrder", 0, "after"), "envoy.filters.http.router"),  # enum
    ("BackendTrafficPolicy", ("spec", "requestBuffer", "limit"), "40 MiB"),  # quantity pattern
]


@pytest.mark.parametrize("kind,path,value", BROKEN, ids=lambda v: v if isinstance(v, str) else None)
def test_schema_check_rejects_broken_variants(schemas, kind, path, value):
    # Proves the validation above can fail: each variant breaks one rule of the kind's schema.
    _, document = by_kind(kind)[0]
    broken = copy.deepcopy(document)
    node = broken
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    assert errors(schemas, broken) != []


def plugin_configs():
    configs = []
    for where, doc in by_kind("WasmPlugin"):
        configs.append((where, doc["spec"]["pluginName"], doc["spec"]["pluginConfig"]))
    for where, doc in by_kind("EnvoyExtensionPolicy"):
        for wasm in doc["spec"]["wasm"]:
            configs.append((where, wasm["rootID"], wasm["config"]))
    return configs


PLUGIN_CONFIGS = plugin_configs()


@pytest.mark.parametrize("where,root_id,config", PLUGIN_CONFIGS, ids=[w for w, _, _ in PLUGIN_CONFIGS])
def test_plugin_config_is_loaded_by_the_filter(envoy_factory, mock, where, root_id, config):
    # Each shipped configuration is one the filter actually loads, and with it the filter masks
    # on the way up and restores on the way back.
    assert root_id == harness.RENDER.DEFAULT_ROOT_ID
    envoy = envoy_factory.start(config)
    text = "mail jane.doe@example.com or call +1 415 555 0132 about card 4111 1111 1111 1111"
    body = {"model": "m", "messages": [{"role": "user", "content": text}]}
    with mock.expect_one_request() as upstream:
        reply = httpx.post(envoy.url("/v1/chat/completions"), json=body,
                           timeout=harness.REQUEST_TIMEOUT_S)
    assert reply.status_code == 200, reply.text
    sent = upstream.json()["messages"][0]["content"]
    assert "jane.doe@example.com" not in sent and "4111 1111 1111 1111" not in sent
    assert "[EMAIL_1]" in sent and "[CREDIT_CARD_1]" in sent
    assert reply.json()["choices"][0]["message"]["content"] == "You said: " + text


def test_istio_stats_tags_are_the_shipped_bootstraps(tmp_path):
    # Without them Istio's proxies would export prompt_guard_rejections_reason_threat instead of
    # prompt_guard_rejections{reason="threat"}, and the rules and dashboard would see nothing.
    bootstrap = yaml.safe_load(harness.render_config(tmp_path, 1, {}, wasm="/m.wasm").read_text())
    patches = [patch for _, doc in by_kind("EnvoyFilter") for patch in doc["spec"]["configPatches"]
               if patch["applyTo"] == "BOOTSTRAP"]
    assert patches, "no EnvoyFilter adds the stats tags"
    for patch in patches:
        assert patch["patch"]["value"]["stats_config"]["stats_tags"] == \
            bootstrap["stats_config"]["stats_tags"]
