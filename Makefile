# The README's commands. Each target does its own setup and is idempotent.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup synth test lint manifests bench cost cost-readme docs clean

# The virtualenv is rebuilt when pyproject.toml changes (stamp file).
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=23.2"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The project's own modules are byte-compiled here, as pip byte-compiles what it installs: an app or test run
# then loads them instead of compiling about a hundred modules from source each time (about 0.2 s of a synth),
# also where PYTHONDONTWRITEBYTECODE is set (which stops Python from writing them itself). compileall only
# rewrites what changed since the last run.
setup: $(VENV)/.installed node_modules/.installed
	$(PY) -m compileall -q stacks constructs/eks_ai_data examples

# mypy's cache of the dependencies' types, built once per virtualenv before the first test run (not part of setup:
# `make synth` does not need it): aws_cdk's type information takes about 70 s to analyze cold and 0.5 s from the
# cache (tests/test_typing.py). Exit status 1 (type errors) is `make lint`'s to report; 2 (mypy could not run)
# stops `make test`.
.mypy_cache/.warmed: $(VENV)/.installed
	$(PY) -m mypy > /dev/null || [ $$? -eq 1 ]
	touch $@

synth: setup
	rm -rf cdk.out
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npx cdk synth --quiet
	$(PY) scripts/summarize_assembly.py cdk.out

# PYTHONDONTWRITEBYTECODE (set on some CI machines) would stop pytest from caching its assertion-rewritten test
# modules: every run and every xdist worker then rewrites all of them again (about 4 s of each worker's collection).
test: setup .mypy_cache/.warmed
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	for app in app.py examples/*/app.py; do $(VENV)/bin/mypy "$$app" || exit 1; done

docs: setup
	rm -rf docs/api
	$(PY) -m pdoc --docformat restructuredtext --output-directory docs/api eks_ai_data
	@echo "API reference: docs/api/index.html"

manifests: setup
	$(PY) scripts/write_manifests.py dist

# itemized monthly estimate of the reference platforms (see README, Cost notes)
cost: synth
	$(VENV)/bin/eks-ai-data cost cdk.out

# rewrite the README's cost table from the current reference app and price table
cost-readme: synth
	$(PY) scripts/cost_readme.py cdk.out --write README.md

# The Blueprints app `make bench` compares with: its own pinned npm dependencies (bench/blueprints/package-lock.json)
bench/blueprints/node_modules/.installed: bench/blueprints/package.json bench/blueprints/package-lock.json
	cd bench/blueprints && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Not part of `make test`: timings are measured here and reported as ratios, never asserted.
# BENCH_ARGS, e.g. `make bench BENCH_ARGS="--pairs 3 --skip-tests"` (see `$(PY) scripts/bench.py --help`)
bench: setup bench/blueprints/node_modules/.installed
	$(PY) scripts/bench.py $(BENCH_ARGS)

clean:
	rm -rf cdk.out dist .bench .pytest_cache
