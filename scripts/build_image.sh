#!/usr/bin/env bash
# Build the filter's OCI image in the "compat" variant of the Wasm image specification, the one
# Istio's WasmPlugin and Envoy Gateway's EnvoyExtensionPolicy pull: a standard OCI image with
# exactly one tar+gzip layer that holds the module as /plugin.wasm, and the manifest annotation
# module.wasm.image/variant=compat.
#
# Usage: scripts/build_image.sh WASM OUT_DIR TAG
# Writes an OCI image layout to OUT_DIR (tag TAG), ready for `skopeo copy oci:OUT_DIR:TAG docker://...`.
#
# Built with buildah (Debian package). umoci (also packaged) was tried first: the Debian build
# (0.4.7) writes layers whose tar stream lacks the padding and end-of-archive blocks, which tar
# readers refuse. File times and the creation time come from SOURCE_DATE_EPOCH (default: the
# last commit's time), so the same module gives the same layer digest.
set -euo pipefail
wasm=$1 out=$2 tag=$3
command -v buildah >/dev/null || { apt-get update -qq && apt-get install -y -qq buildah >/dev/null; }
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
work=$(mktemp -d)
store=(--root "$work/root" --runroot "$work/run" --storage-driver vfs)
cleanup() {
  buildah "${store[@]}" rm --all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
cp "$wasm" "$work/plugin.wasm"
chmod 0644 "$work/plugin.wasm"
ctr=$(buildah "${store[@]}" from scratch)
buildah "${store[@]}" copy --quiet "$ctr" "$work/plugin.wasm" /plugin.wasm >/dev/null
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
buildah "${store[@]}" config \
  --annotation module.wasm.image/variant=compat \
  --annotation org.opencontainers.image.title=prompt-guard \
  --annotation org.opencontainers.image.version="$version" \
  --annotation org.opencontainers.image.licenses=Apache-2.0 \
  --label org.opencontainers.image.title=prompt-guard \
  --label org.opencontainers.image.version="$version" \
  "$ctr"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
buildah "${store[@]}" commit --quiet --format oci --disable-compression=false --timestamp "$epoch" \
  "$ctr" "oci:$out:$tag" >/dev/null
echo "image: $out ($tag), module $(sha256sum "$wasm" | cut -d' ' -f1)"
