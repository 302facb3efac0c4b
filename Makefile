# pystorage developer commands. Needs only GNU make, python3 (>= 3.10) with venv and pip.
#
#   make test     create .venv, install pystorage with its test extras, run the whole suite
#                 (the local S3/GCS servers are started by pytest fixtures, on 127.0.0.1)
#   make bench    run the benchmark suite (installs the peers it compares against)
#   make lint     ruff + mypy --strict
#   make docs     regenerate docs/capabilities.md and build the site with mkdocs --strict
#   make clean    remove build artefacts and caches; `make distclean` also removes .venv
#
# Variables: PY (the interpreter that creates the venv), PYTEST_ARGS, BENCH_ARGS.
# `make test` and `make bench` also need Node.js (>= 18) with npm: Azurite, the azblob
# test server, is installed from npm into .azurite/ (never globally).

PY ?= python3
VENV = .venv
BIN = $(VENV)/bin
PYTEST_ARGS ?=
BENCH_ARGS ?=
#: Azurite (the Azure Blob emulator the azblob tests run against), pinned
AZURITE_VERSION ?= 3.35.0
AZURITE = .azurite/.installed-$(AZURITE_VERSION)

# Fail loudly: every recipe line runs under `bash -euo pipefail`, and a target whose
# recipe failed is deleted so the next run starts over.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

# Only the folders that exist (git does not keep empty ones).
LINT_PATHS := $(wildcard pystorage tests benchmarks docs/gen_capabilities.py)

.DEFAULT_GOAL := help
.PHONY: help test lint bench bench-compare docs capabilities clean distclean

help:
	@echo "make test      create .venv, install, run the whole test suite (PYTEST_ARGS=...)"
	@echo "make bench     run the benchmark suite (BENCH_ARGS=...)"
	@echo "make bench-compare A=old.json B=new.json   compare two benchmark results"
	@echo "make lint      ruff check + mypy --strict"
	@echo "make docs      regenerate docs/capabilities.md, build the docs site (mkdocs --strict)"
	@echo "make clean     remove build artefacts and caches (distclean: also .venv)"

# The venv with pystorage installed in editable mode plus the s3, gcs, azblob and test extras.
# Re-installed whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "pystorage needs Python >= 3.10, got " + sys.version)'
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/pip install -e ".[s3,gcs,azblob,cli,test,docs]"
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install -e ".[s3,gcs,azblob,test,bench]"
	touch $@

# Azurite from npm, into .azurite/ (tests/fixtures/azurite.py starts .azurite/node_modules/.bin/azurite-blob).
$(AZURITE):
	@command -v npm >/dev/null || { echo "Azurite (azblob tests) needs Node.js >= 18 with npm" >&2; exit 1; }
	npm install --prefix .azurite --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)
	touch $@

test: $(VENV)/.installed $(AZURITE)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy

bench: $(VENV)/.installed-bench $(AZURITE)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-compare: $(VENV)/.installed
	$(BIN)/python -m benchmarks compare $(A) $(B)

capabilities: $(VENV)/.installed
	$(BIN)/python docs/gen_capabilities.py

docs: $(VENV)/.installed capabilities
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf site build dist .pytest_cache .mypy_cache .ruff_cache benchmarks/results/*.json
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name '*.egg-info' -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
