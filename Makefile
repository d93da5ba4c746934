# Two entry points (README): `make demo` and `make test`. Both install what they need into
# .venv first, so they work on a fresh machine with only Python 3.10+ installed.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit schema docs bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/consent-audit check --demo --fail-on never

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

# typeshed marks Unix-only APIs, so type-checking as Windows catches any reached there.
typecheck: $(STAMP)
	$(BIN)/mypy --strict src
	$(BIN)/mypy --strict --platform win32 --cache-dir .mypy_cache/win32 src

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

schema: $(STAMP)
	$(BIN)/python -m consent_audit.report_schema > docs/report.schema.json

# Generated docs; tests/test_docs.py fails when a committed one is stale.
docs: $(STAMP) schema
	$(BIN)/python -m consent_audit.docs_gen findings > docs/findings.md
	$(BIN)/python -m consent_audit.docs_gen permissions > docs/permissions.md

bench: $(STAMP)
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
