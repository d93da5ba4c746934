"""Reports for the renderer tests: every example tenant, plus the bundled demo."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.report import Report
from consent_audit.snapshot import load_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.json"))


@cache
def example_report(name: str) -> Report:
    return evaluate(load_snapshot(EXAMPLES / name), load_manifest())


@pytest.fixture(params=EXAMPLE_FILES)
def report(request: pytest.FixtureRequest) -> Report:
    name: str = request.param
    return example_report(name)


@pytest.fixture
def demo_report() -> Report:
    from consent_audit.run_source import demo_snapshot

    return evaluate(demo_snapshot(), load_manifest())
