#!/usr/bin/env python3
"""Render a concrete Envoy bootstrap from envoy/bootstrap.yaml.in (standard library only).

    python envoy/render.py --listen-port 10000 --admin-port 9901 \
        --upstream http://127.0.0.1:8080 \
        --wasm target/wasm32-wasip1/release/prompt_guard.wasm --filter-config config.json \
        --out build/envoy.yaml

    --upstream https://api.openai.com     TLS upstream with SNI, certificate check and Host rewrite
    --no-filter                           bare Envoy (benchmark baseline)
    --wasm other.wasm --root-id noop      any other wasm module (e.g. a no-op filter for benchmarks)
    --jwt-issuer I --jwt-jwks-file F      set the session identity header from a verified JWT
    --jwt-policy-claim team               and the filter's policy_header from this claim of it
    --vm-env-from-host PG_HASH_KEY        pass this variable of Envoy's environment to the filter
                                          (the seal and hash keys, docs/keys.md)
    --access-log /var/log/envoy/llm.jsonl JSON lines with Envoy's fields and the filter's audit
                                          record (default /dev/stdout; --access-log "" for none)

With a `session.identity_header`, an `api.identity_header` or a `policy_header` in the filter
configuration, the bootstrap drops those headers as the client sent them before the filter reads
them (only the JWT filter, when configured, sets them).
A buffer filter between the prompt-guard filter and the router holds request headers until the
filter has passed the whole body, so a refused request never reaches the upstream.

Used as a library by the end-to-end tests: `render(...)` returns the YAML text.
"""

import argparse
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "bootstrap.yaml.in"
FRAGMENTS = HERE / "fragments"
DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
DEFAULT_ROOT_ID = "prompt_guard"
# Envoy's own default is 1 MiB; LLM requests with long contexts or inline images are larger.
# The filter's default max_body_bytes (32 MiB) plus a quarter for a masked body that grew, which
# also leaves room over max_response_bytes (8 MiB): past it the filter stops holding a reply and
# lets it go, and Envoy must not reach its own limit (a reset) before the filter sees it.
DEFAULT_BUFFER_LIMIT_BYTES = 40 * 1024 * 1024
DEFAULT_JWT_HEADER = "x-gateway-token"
DEFAULT_JWT_CLAIM = "sub"
BLOCK_LINE = re.compile(r"^(?P<indent>[ \t]*)\$\{(?P<name>\w+)\}[ \t]*$", re.MULTILINE)
# Only ${name} is a placeholder: a bare "$" (as in the stats_tags regexes) is literal text.
SCALAR = re.compile(r"\$\{(\w+)\}")


class RenderError(ValueError):
    """The arguments cannot produce a valid bootstrap (e.g. an unsupported upstream URL)."""


def yaml_string(value):
    # A JSON string literal is also a valid YAML double-quoted scalar, so any path or JSON
    # document survives quoting without a YAML library.
    return json.dumps(str(value))


def parse_upstream(url):
    """Return (scheme, host, port) for an http:// or https:// upstream URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RenderError(f"upstream must be http://host[:port] or https://host[:port], got {url!r}")
    if parts.path not in ("", "/"):
        raise RenderError("upstream URL must not carry a path; clients send the API path")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port


def fragment(name):
    return (FRAGMENTS / name).read_text(encoding="utf-8")


def fill_blocks(text, blocks):
    """Replace each line holding only ${block} with that block, indented to the line's column."""

    def replace(match):
        body = blocks[match.group("name")]
        indent = match.group("indent")
        lines = body.rstrip("\n").splitlines()
        return "\n".join(indent + line if line.strip() else "" for line in lines)

    return BLOCK_LINE.sub(lambda m: replace(m) if m.group("name") in blocks else m.group(0), text)


def fill_scalars(text, values):
    def replace(match):
        name = match.group(1)
        if name not in values:
            raise RenderError(f"template placeholder ${{{name}}} has no value")
        return str(values[name])

    return SCALAR.sub(replace, text)


def identity_header_of(filter_config_json):
    """The filter's `session.identity_header` (lower case), or None (no session, or not JSON)."""
    try:
        config = json.loads(filter_config_json)
    except ValueError:
        return None
    session = config.get("session") if isinstance(config, dict) else None
    header = session.get("identity_header") if isinstance(session, dict) else None
    if isinstance(header, str) and header.strip():
        return header.strip().lower()
    return None


def api_identity_header_of(filter_config_json):
    """The filter's `api.identity_header` (lower case), or None (not set, or not JSON)."""
    try:
        config = json.loads(filter_config_json)
    except ValueError:
        return None
    api = config.get("api") if isinstance(config, dict) else None
    header = api.get("identity_header") if isinstance(api, dict) else None
    if isinstance(header, str) and header.strip():
        return header.strip().lower()
    return None


def policy_header_of(filter_config_json):
    """The filter's `policy_header` (lower case), or None (none, or not JSON)."""
    try:
        config = json.loads(filter_config_json)
    except ValueError:
        return None
    header = config.get("policy_header") if isinstance(config, dict) else None
    if isinstance(header, str) and header.strip():
        return header.strip().lower()
    return None


def yaml_list(items):
    """A YAML block sequence of mappings whose values are quoted scalars."""
    lines = []
    for item in items:
        for index, (key, value) in enumerate(item.items()):
            lines.append(f"{'- ' if index == 0 else '  '}{key}: {yaml_string(value)}")
    return "".join(line + "\n" for line in lines)


def render(*, listen_port, admin_port, upstream, wasm_path=None, filter_config_json="{}",
           with_filter=True, root_id=DEFAULT_ROOT_ID, ca_bundle=DEFAULT_CA_BUNDLE,
           check_json=True, buffer_limit_bytes=DEFAULT_BUFFER_LIMIT_BYTES,
           hold_headers=True, trust_client_identity=False, jwt=None, vm_env=None, vm_env_from_host=(),
           access_log_path=None):
    """Return a bootstrap YAML document as text.

    check_json=False embeds the filter configuration even if it is not JSON (tests of the
    filter's own refusal need that).
    hold_headers=False leaves out the buffer filter that keeps a refused request's headers from
    the upstream (only to measure what it changes).
    trust_client_identity=True keeps the client's session identity and policy headers (unsafe:
    any client could name any identity or policy; tests that stand in for an authenticated
    gateway use it).
    jwt={"issuer": ..., "jwks": JSON text, "header": ..., "claim": ..., "policy_claim": ...} sets
    the identity header from a verified JWT (header and claim default to x-gateway-token and
    sub), and the policy header from `policy_claim` when given.
    vm_env={"NAME": "value"} and vm_env_from_host=["NAME"] set the filter VM's environment
    (vm_config.environment_variables): where the keys of `hash` and `encrypt` come from.
    access_log_path="/dev/stdout" (or a file) adds the JSON-lines access log with the filter's
    audit record (envoy/fragments/access-log.yaml); None leaves it out.
    """
    scheme, host, port = parse_upstream(upstream)
    if with_filter and not wasm_path:
        raise RenderError("a wasm path is required unless the filter is left out")
    if with_filter and check_json:
        json.loads(filter_config_json)  # fail here, not in Envoy, on a config that is not JSON
    identity_header = identity_header_of(filter_config_json) if with_filter else None
    policy_header = policy_header_of(filter_config_json) if with_filter else None
    api_identity_header = api_identity_header_of(filter_config_json) if with_filter else None
    policy_claim = (jwt or {}).get("policy_claim")
    if policy_claim and not policy_header:
        raise RenderError("a JWT policy claim needs policy_header in the filter configuration")
    if jwt and not (identity_header or policy_claim):
        raise RenderError("a JWT identity needs session.identity_header in the filter configuration")
    if jwt and trust_client_identity:
        raise RenderError("a JWT identity and a client-chosen identity exclude each other")

    identity_filters = []
    trusted = [h for h in (identity_header, policy_header, api_identity_header) if h]
    if trusted and not trust_client_identity:
        removals = yaml_list({"remove": h} for h in dict.fromkeys(trusted))
        identity_filters.append(fill_blocks(fragment("identity-strip.yaml"),
                                            {"trusted_header_removals": removals}))
    if jwt:
        claims = []
        if identity_header:
            claims.append({"header_name": identity_header,
                           "claim_name": jwt.get("claim") or DEFAULT_JWT_CLAIM})
        if policy_claim:
            claims.append({"header_name": policy_header, "claim_name": policy_claim})
        identity_filters.append(fill_blocks(fragment("jwt-identity.yaml"),
                                            {"jwt_claim_headers": yaml_list(claims)}))

    tls = scheme == "https"
    environment = {}
    if vm_env_from_host:
        environment["host_env_keys"] = list(vm_env_from_host)
    if vm_env:
        environment["key_values"] = dict(vm_env)
    vm_environment = (f"environment_variables: {json.dumps(environment)}\n" if environment else "")
    filter_block = fill_blocks(fragment("wasm-filter.yaml"), {"vm_environment": vm_environment})
    access_log = ""
    if access_log_path:
        access_log = fill_scalars(fragment("access-log.yaml"), {"access_log_path": yaml_string(access_log_path)})
    blocks = {
        "access_log": access_log,
        "identity_filters": "".join(identity_filters),
        "prompt_guard_filter": filter_block if with_filter else "",
        "hold_headers_filter": fragment("hold-headers.yaml") if with_filter and hold_headers else "",
        "llm_cluster": fragment("cluster-tls.yaml" if tls else "cluster-plain.yaml"),
        "route_extras": fragment("route-host-rewrite.yaml") if tls else "",
        # The trusted headers are the gateway's business: the provider gets neither the caller's
        # session identity nor the team's policy name (the router drops them after the filter
        # has read them).
        "route_header_removals": (f"request_headers_to_remove: {json.dumps(list(dict.fromkeys(trusted)))}"
                                  if trusted else ""),
    }
    values = {
        "listen_port": int(listen_port),
        "admin_port": int(admin_port),
        "upstream_host": yaml_string(host),
        "upstream_port": int(port),
        "root_id": yaml_string(root_id),
        "wasm_path": yaml_string(Path(wasm_path).resolve()) if wasm_path else '""',
        "filter_config_json": yaml_string(filter_config_json),
        "ca_bundle": yaml_string(ca_bundle),
        "buffer_limit_bytes": int(buffer_limit_bytes),
        "jwt_issuer": yaml_string((jwt or {}).get("issuer", "")),
        "jwt_jwks": yaml_string((jwt or {}).get("jwks", "")),
        "jwt_header": yaml_string((jwt or {}).get("header") or DEFAULT_JWT_HEADER),
    }
    text = fill_blocks(TEMPLATE.read_text(encoding="utf-8"), blocks)
    return fill_scalars(text, values)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Render prompt-guard's Envoy bootstrap.")
    parser.add_argument("--listen-port", type=int, required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="http://host:port or https://host[:port]")
    parser.add_argument("--wasm", help="path of the filter's .wasm module")
    parser.add_argument("--filter-config", help="JSON file with the filter's configuration")
    parser.add_argument("--no-filter", action="store_true", help="bare Envoy, no wasm filter")
    parser.add_argument("--root-id", default=DEFAULT_ROOT_ID)
    parser.add_argument("--ca-bundle", default=DEFAULT_CA_BUNDLE, help="trust store for https upstreams")
    parser.add_argument("--buffer-limit-bytes", type=int, default=DEFAULT_BUFFER_LIMIT_BYTES,
                        help="largest body Envoy holds for the filter (>= its max_body_bytes)")
    parser.add_argument("--jwt-issuer", help="set the session identity header from a JWT of this issuer")
    parser.add_argument("--jwt-jwks-file", help="JWKS (JSON) with the keys that sign those JWTs")
    parser.add_argument("--jwt-header", default=DEFAULT_JWT_HEADER,
                        help="request header that carries the JWT (not the provider's Authorization)")
    parser.add_argument("--jwt-claim", default=DEFAULT_JWT_CLAIM, help="claim that names the identity")
    parser.add_argument("--jwt-policy-claim",
                        help="claim that names the policy (sets the filter's policy_header)")
    parser.add_argument("--no-hold-headers", action="store_true",
                        help="leave out the buffer that keeps refused requests from the upstream "
                             "(to measure it; not for use)")
    parser.add_argument("--vm-env-from-host", action="append", default=[], metavar="NAME",
                        help="pass this variable of Envoy's environment to the filter VM (repeatable)")
    parser.add_argument("--access-log", default="/dev/stdout", metavar="PATH",
                        help="file for the JSON-lines access log with the filter's audit record "
                             "(default /dev/stdout; an empty value leaves the access log out)")
    parser.add_argument("--out", help="output file (default: stdout)")
    args = parser.parse_args(argv)

    config_json = "{}"
    if args.filter_config:
        config_json = Path(args.filter_config).read_text(encoding="utf-8")
    jwt = None
    if args.jwt_issuer or args.jwt_jwks_file:
        if not (args.jwt_issuer and args.jwt_jwks_file):
            print("render.py: --jwt-issuer and --jwt-jwks-file go together", file=sys.stderr)
            return 2
        jwt = {"issuer": args.jwt_issuer, "header": args.jwt_header, "claim": args.jwt_claim,
               "policy_claim": args.jwt_policy_claim,
               "jwks": Path(args.jwt_jwks_file).read_text(encoding="utf-8")}
    try:
        text = render(listen_port=args.listen_port, admin_port=args.admin_port,
                      upstream=args.upstream, wasm_path=args.wasm, filter_config_json=config_json,
                      with_filter=not args.no_filter, root_id=args.root_id, ca_bundle=args.ca_bundle,
                      buffer_limit_bytes=args.buffer_limit_bytes,
                      hold_headers=not args.no_hold_headers, jwt=jwt,
                      vm_env_from_host=args.vm_env_from_host,
                      access_log_path=args.access_log or None)
    except (RenderError, ValueError) as err:
        print(f"render.py: {err}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
