# prompt-guard: build, test, run, measure. Every target installs what it needs first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

WASM_TARGET := wasm32-wasip1
WASM := target/$(WASM_TARGET)/release/prompt_guard.wasm
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
EVAL_DIR ?= ../shared/eval
# Where `make run` forwards to: the mock LLM by default, a real provider when set
# (e.g. UPSTREAM=https://api.openai.com make run).
UPSTREAM ?=
# The filter configuration `make run` serves (e.g. CONFIG=examples/policies/pci_dss.json make run).
CONFIG ?= examples/demo-config.json
# Largest .wasm we ship (bytes).
MAX_WASM_BYTES := 3145728

.PHONY: all build wasm-target venv test test-native test-e2e lint purity wasm-size validate-configs \
        run eval bench bench-wasm bench-envoy bench-instructions clean soak image image-tools \
        observability-tools node-deps

all: build

wasm-target:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

build: wasm-target
	cargo build --release --target $(WASM_TARGET) --lib
	@ls -l $(WASM)

$(VENV_STAMP): tests/requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	@touch $@

venv: $(VENV_STAMP)

# The engine must not know it runs in Envoy: Cargo keeps proxy-wasm out of the engine crate (it is
# not among its dependencies); this states it, for every target the engine builds for.
purity:
	@if cargo tree -p prompt-guard-engine --target all -e normal,build --prefix none | grep -q '^proxy-wasm '; then \
	  echo "error: the engine crate depends on proxy-wasm"; exit 1; \
	else echo "purity: the engine crate (crates/engine) does not depend on proxy-wasm"; fi

# Formatting (rustfmt for every crate, rustfmt.toml), then no unwrap/expect/panic outside tests
# (Cargo.toml [lints] + clippy.toml), native and wasm, then ruff on the Python (ruff.toml).
lint: $(VENV_STAMP)
	cargo fmt --all --check
	@for m in fuzz bench/wasm-engine bench/noop-filter tests/e2e/shared_data_dump; do cargo fmt --all --check --manifest-path $$m/Cargo.toml; done
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target $(WASM_TARGET) --lib --release -- -D warnings
	$(VENV)/bin/ruff check tests scripts fuzz/*.py examples

test-native:
	cargo test --all-targets

wasm-size: build
	@size=$$(stat -c %s $(WASM)); echo "wasm size: $$size bytes (limit $(MAX_WASM_BYTES))"; \
	  test $$size -le $(MAX_WASM_BYTES)

# Every shipped Envoy config, rendered and checked by Envoy itself with the built module.
validate-configs: build venv
	$(PY) scripts/validate_configs.py

test-e2e: build venv image-tools observability-tools node-deps
	$(VENV)/bin/pytest -q tests/e2e

# The OCI image (Wasm image specification, "compat" variant: what Istio's WasmPlugin and Envoy
# Gateway pull) as an OCI layout in build/image, tag IMAGE_TAG. Push it with
#   skopeo copy oci:build/image:$(IMAGE_TAG) docker://REGISTRY/prompt-guard:$(IMAGE_TAG)
# See docs/deployment.md. tests/e2e/test_image.py pushes it to a real registry and pulls it back.
IMAGE_TAG ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
image: build image-tools
	scripts/build_image.sh $(WASM) build/image $(IMAGE_TAG)

# Debian packages for the image and its test: buildah builds, skopeo pushes and pulls,
# docker-registry is the distribution registry the test serves it from.
image-tools:
	@missing=""; for t in buildah:buildah skopeo:skopeo docker-registry:docker-registry; do \
	  command -v $${t%%:*} >/dev/null || missing="$$missing $${t##*:}"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; fi

# Debian's prometheus package (prometheus and promtool) for tests/e2e/test_observability.py: promtool
# checks and unit-tests deploy/prometheus/, and a real Prometheus evaluates every dashboard query.
observability-tools:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

# The Node example's dependencies (the official openai and @anthropic-ai/sdk packages, locked in
# examples/node/package-lock.json) for tests/e2e/test_node_clients.py; Node from Debian if missing.
NODE_STAMP := examples/node/node_modules/.package-lock.json
node-deps: $(NODE_STAMP)
$(NODE_STAMP): examples/node/package.json examples/node/package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; }
	cd examples/node && npm ci --no-audit --no-fund --silent
	@touch $@

test: purity wasm-target lint test-native wasm-size validate-configs test-e2e

run: build venv
	UPSTREAM='$(UPSTREAM)' CONFIG='$(CONFIG)' $(PY) scripts/run_demo.py

eval:
	cargo run --release --quiet --bin eval -- $(EVAL_DIR)

# The learned attack model (crates/engine/src/threat/model): trained, seeded, on the attack data's
# training files, eval/llm_docs and half A of eval/dev_traffic; writes weights.bin and inputs.txt (the inputs'
# hashes) there. The same inputs give the same bytes (tests/engine/model.rs checks it).
.PHONY: train
train:
	cargo run --release --quiet --bin train -- $(EVAL_DIR)

# The adversarial-suffix model (crates/engine/src/threat/suffix): a character model of benign text
# (half A of eval/dev_traffic, the even halves of the self-instruct and BIPIA benign rows,
# eval/suffix/train_nonenglish.jsonl); writes model.bin and inputs.txt there. Deterministic
# (tests/engine/suffix.rs checks it). `make suffix-corpus` rebuilds eval/suffix from its sources.
.PHONY: train-suffix suffix-corpus
train-suffix:
	cargo run --release --quiet --bin train_suffix -- $(EVAL_DIR)
suffix-corpus:
	python3 scripts/build_suffix_corpus.py --self-instruct $(EVAL_DIR)/injection/benign_self_instruct_dev.jsonl

# Engine benchmarks, native (criterion; bodies in crates/engine/benches/fixtures): time and MB/s per body,
# allocations per request, configuration compile time -> bench-results/engine.md.
bench:
	cargo bench --bench engine
	python3 scripts/bench_engine_summary.py

# The engine compiled to wasm and timed under V8 (Node's WASI, the runtime Envoy embeds), without
# Envoy: the engine's own cost inside the sandbox. Needs node (>= 20).
WASM_BENCH_DIR := bench/wasm-engine
# Then the whole filter (glue included) per exchange, the host answered by a stub
# (filter.mjs): every text new ("cold") and a conversation's next turn ("next-turn").
bench-wasm: build
	cd $(WASM_BENCH_DIR) && cargo build --release --target $(WASM_TARGET)
	node --no-warnings $(WASM_BENCH_DIR)/run.mjs $(WASM_BENCH_DIR)/target/$(WASM_TARGET)/release/wasm-engine-bench.wasm
	@echo; echo "| fixture | requests | request bytes | filter per exchange | configure | wasm memory |"; echo "|---|---|---:|---:|---:|---:|"
	@for fixture in chat_1k multiturn_16k; do for mode in cold next-turn; do \
	  node --no-warnings $(WASM_BENCH_DIR)/filter.mjs $(WASM) crates/engine/benches/fixtures/$$fixture.request.json \
	    crates/engine/benches/fixtures/$$fixture.reply.json - 3 $$mode; done; done

# Envoy load benchmark: bare Envoy vs a no-op buffering wasm filter vs prompt-guard, CPU per
# request, requests/s, p50/p99, RSS -> bench-results/envoy.md. BENCH_ENVOY_ARGS=--quick for a
# smoke run. Needs wrk (Debian package) and two cores.
NOOP_DIR := bench/noop-filter
bench-envoy: build venv
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	cd $(NOOP_DIR) && cargo build --release --target $(WASM_TARGET)
	$(PY) scripts/bench_envoy.py $(BENCH_ENVOY_ARGS)
	$(PY) scripts/bench_ttft.py

# Instructions per request and per configuration compile (callgrind): the measure that does not
# move with the machine's load, for comparing two builds. Needs valgrind (Debian package).
bench-instructions:
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	cargo build --release --bin instructions
	python3 scripts/count_instructions.py

# The leak generator over the engine at length: 200,000 generated requests (every endpoint shape,
# values planted in every field and format; crates/engine/tests/engine/leak.rs, of which `make test` runs
# 10,000). Optimised build, so the run takes minutes. LEAKGEN_REPORT=path writes the full tables.
.PHONY: leakgen-long
leakgen-long:
	LEAKGEN_CASES=200000 cargo test --release --test engine leak::

clean:
	cargo clean
	rm -rf build

# 30 minutes of mixed traffic (both APIs, buffered and streamed, planted values) at a fixed rate
# through Envoy + the built module + the mock: Envoy's RSS every 10 s, errors, the filter's
# counters; fails on any failed or leaked request or RSS drift after warm-up above 5 MiB.
# SOAK_SECONDS, SOAK_RATE, SOAK_WARMUP_SECONDS, SOAK_MAX_DRIFT_MIB, SOAK_FAULT_EVERY (every N-th
# request an upstream reset, truncation or client abort), SOAK_REPORT override.
soak: build venv
	$(PY) scripts/soak.py

# Fuzzing (cargo-fuzz on the nightly toolchain; installs cargo-fuzz when missing): every target in
# fuzz/fuzz_targets for FUZZ_SECONDS of CPU time each (default 600), FUZZ_JOBS at a time, niced.
# Seeds are written from the fixtures (fuzz/seeds.py); crash inputs land in fuzz/artifacts/.
# FUZZ_TARGETS="sse_framer config" runs some. See docs/fuzzing.md.
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 1
FUZZ_TARGETS ?=
.PHONY: fuzz
fuzz:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	cd fuzz && cargo +nightly fuzz build -O
	python3 fuzz/seeds.py
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) fuzz/run.sh $(FUZZ_TARGETS)
