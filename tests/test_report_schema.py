"""docs/report.schema.json is the report model's schema, and real reports validate against it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.report_schema import report_schema_json
from tests.conftest import small_snapshot

SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "report.schema.json"


def test_committed_schema_matches_the_model() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == report_schema_json(), (
        "docs/report.schema.json is stale: run `make schema`"
    )


def test_a_real_report_validates_against_the_schema() -> None:
    report = evaluate(small_snapshot(), load_manifest(), user="alice@contoso.example")
    instance = json.loads(report.model_dump_json())
    jsonschema.validate(instance, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert instance["findings"], "the sample tenant must produce findings to be a useful check"


def test_schema_rejects_a_report_with_an_unknown_severity() -> None:
    report = evaluate(small_snapshot(), load_manifest())
    instance = json.loads(report.model_dump_json())
    instance["findings"][0]["severity"] = "catastrophic"
    try:
        jsonschema.validate(instance, json.loads(SCHEMA.read_text(encoding="utf-8")))
    except jsonschema.ValidationError:
        return
    raise AssertionError("schema accepted an unknown severity")
