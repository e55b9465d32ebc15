#!/usr/bin/env python3
"""Render a concrete Envoy bootstrap from envoy/bootstrap.yaml.in (standard library only).

    python envoy/render.py --listen-port 10000 --admin-port 9901 \
        --upstream http://127.0.0.1:8080 \
        --wasm target/wasm32-wasip1/release/prompt_guard.wasm --filter-config config.json \
        --out build/envoy.yaml

    --upstream https://api.openai.com     TLS upstream with SNI, certificate check and Host rewrite
    --no-filter                           bare Envoy (benchmark baseline)
    --wasm other.wasm --root-id noop      any other wasm module (e.g. a no-op filter for benchmarks)

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
DEFAULT_BUFFER_LIMIT_BYTES = 8 * 1024 * 1024
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


def render(*, listen_port, admin_port, upstream, wasm_path=None, filter_config_json="{}",
           with_filter=True, root_id=DEFAULT_ROOT_ID, ca_bundle=DEFAULT_CA_BUNDLE,
           check_json=True, buffer_limit_bytes=DEFAULT_BUFFER_LIMIT_BYTES):
    """Return a bootstrap YAML document as text.

    check_json=False embeds the filter configuration even if it is not JSON (tests of the
    filter's own refusal need that).
    """
    scheme, host, port = parse_upstream(upstream)
    if with_filter and not wasm_path:
        raise RenderError("a wasm path is required unless the filter is left out")
    if with_filter and check_json:
        json.loads(filter_config_json)  # fail here, not in Envoy, on a config that is not JSON

    tls = scheme == "https"
    blocks = {
        "prompt_guard_filter": fragment("wasm-filter.yaml") if with_filter else "",
        "llm_cluster": fragment("cluster-tls.yaml" if tls else "cluster-plain.yaml"),
        "route_extras": fragment("route-host-rewrite.yaml") if tls else "",
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
    parser.add_argument("--out", help="output file (default: stdout)")
    args = parser.parse_args(argv)

    config_json = "{}"
    if args.filter_config:
        config_json = Path(args.filter_config).read_text(encoding="utf-8")
    try:
        text = render(listen_port=args.listen_port, admin_port=args.admin_port,
                      upstream=args.upstream, wasm_path=args.wasm, filter_config_json=config_json,
                      with_filter=not args.no_filter, root_id=args.root_id, ca_bundle=args.ca_bundle,
                      buffer_limit_bytes=args.buffer_limit_bytes)
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
