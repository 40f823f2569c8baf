# One entry for each job. `make serve` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= auto
LAYER_ARCH ?= arm64

.PHONY: venv serve test test-unit test-contract test-api test-dimse test-infra test-browser lint typecheck bench clean layer synth security docs conformance soak viewer

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

serve: venv viewer
	$(BIN)/cloudpacs serve

# The OHIF viewer (npm @ohif/app, pinned) into .cloudpacs-viewer/, once. The server starts
# without it and says why at /viewer/, so a failed fetch does not stop `make serve`.
viewer: venv
	-$(BIN)/cloudpacs viewer fetch

test: venv lint typecheck security
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests

test-unit: venv
	$(BIN)/pytest tests/unit

test-contract: venv
	$(BIN)/pytest tests/contract

test-api: venv
	$(BIN)/pytest tests/api

test-dimse: venv
	$(BIN)/pytest tests/dimse

test-infra: venv
	$(BIN)/pytest tests/infra

test-browser: venv
	$(BIN)/pytest tests/browser

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# Security rules (ruff's flake8-bandit S rules) over the shipped code; tests and benchmarks
# assert and start processes by design. Asserts (S101) only narrow types for mypy.
security: venv
	$(BIN)/ruff check --select S --ignore S101 layers functions dimse_bridge cdk_app stacks

# Release documents into build/docs (git-ignored), published by the pipeline with each release.
docs: venv
	@mkdir -p build/docs
	$(BIN)/cloudpacs openapi --output build/docs/openapi.json
	$(BIN)/cloudpacs conformance --check
	cp docs/conformance-statement.md build/docs/

# The reliability suite at depth (not part of `make test`): over 10,000 fuzzed requests,
# every AWS fault in every mode, longer mixed loads.
SOAK_SECONDS ?= 60
soak: venv
	CLOUDPACS_RELIABILITY_PROFILE=soak CLOUDPACS_SOAK_SECONDS=$(SOAK_SECONDS) \
		$(BIN)/pytest -n 2 tests/reliability

bench: venv layer
	$(BIN)/python -m benchmarks --orthanc

# The Lambda layer, without Docker (skipped when its inputs are unchanged).
layer: venv
	$(BIN)/python layers/build_layer.py --arch $(LAYER_ARCH)

# CloudFormation templates of every stage into cdk.out/, offline, no AWS credentials needed.
synth: layer viewer
	$(BIN)/python -m cdk_app.toolchain cdk synth --quiet

# docs/conformance-statement.md from the code's tables (a unit test checks it is current).
conformance: venv
	$(BIN)/cloudpacs conformance

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache layers/.build cdk.out
