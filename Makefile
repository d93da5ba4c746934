# Two entry points (README): `make demo` and `make test`. Both install what they need into
# .venv first, so they work on a fresh machine with only Python 3.10+ installed.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-exec lint typecheck unit bytecode schema docs graph-schema bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Where PYTHONDONTWRITEBYTECODE is set (these build machines set it), every CLI process would
# compile src/ from source again; compiling once here (only what changed) saves that.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q src

demo: $(STAMP)
	$(BIN)/consent-audit check --demo --fail-on never

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

# typeshed marks Unix-only APIs, so type-checking as Windows catches any reached there.
typecheck: $(STAMP)
	$(BIN)/mypy --strict src
	$(BIN)/mypy --strict --platform win32 --cache-dir .mypy_cache/win32 src

# One pytest-xdist worker per core. --dist loadfile keeps a module's tests in one worker and in
# order: tests/e2e/test_examples_run.py follows the README's examples in sequence and the recipe
# install test shares one wheel build (module fixtures).
unit: bytecode
	$(BIN)/pytest -q -n auto --dist loadfile

test: lint typecheck unit

# The suites that run the CLI through tests/e2e/cli_runner.py, every run exec'd as the real
# console script instead of forked from the test fork server (docs/testing.md). CI runs it too.
test-exec: bytecode
	CONSENT_AUDIT_TEST_CLI=exec $(BIN)/pytest -q -n auto --dist loadfile tests/e2e tests/faults tests/security

schema: $(STAMP)
	$(BIN)/python -m consent_audit.report_schema > docs/report.schema.json

# Generated docs; tests/test_docs.py fails when a committed one is stale.
docs: $(STAMP) schema
	$(BIN)/python -m consent_audit.docs_gen findings > docs/findings.md
	$(BIN)/python -m consent_audit.docs_gen permissions > docs/permissions.md
	$(BIN)/python -m consent_audit.docs_gen findings-json > src/consent_audit/data/findings.json

# Re-vendor the Graph schema subset (tests/graph_schema/vendor.py) from a git copy of
# microsoftgraph/msgraph-metadata: make graph-schema METADATA=path [BETA_TYPINGS=microsoft-graph.d.ts]
graph-schema: $(STAMP)
	$(BIN)/python -m tests.graph_schema.vendor --metadata-git $(METADATA) \
		$(if $(BETA_TYPINGS),--beta-typings $(BETA_TYPINGS))
	$(BIN)/pytest -q -n 0 tests/graph_schema

bench: $(STAMP)
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
