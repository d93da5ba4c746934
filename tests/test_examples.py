"""Every example tenant replays to its golden report and meets an expert's expectations.

Golden reports live in examples/tenants/golden/. After an intended change, regenerate them
with ``UPDATE_GOLDEN=1 pytest tests/test_examples.py`` and review the diff.
expectations.toml is written independently of the code (what an Entra admin expects), so a
regression that also rewrote the goldens still fails here.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.report import Severity
from consent_audit.snapshot import load_snapshot

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "tenants"
GOLDEN = EXAMPLES / "golden"
VOLATILE = ("generated_at", "tool_version")


def _checks() -> list[dict[str, Any]]:
    path = EXAMPLES / "expectations.toml"
    if not path.exists():
        return []
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return [check for scenario in raw["scenario"].values() for check in scenario["check"]]


def _id(check: dict[str, Any]) -> str:
    return Path(check["snapshot"]).stem + (f"--{check['user']}" if check.get("user") else "")


def _report(check: dict[str, Any]) -> dict[str, Any]:
    snap = load_snapshot((EXAMPLES / check["snapshot"]).resolve())
    report = evaluate(snap, load_manifest(), user=check.get("user"))
    data: dict[str, Any] = json.loads(report.model_dump_json())
    for key in VOLATILE:
        data.pop(key)
    data["source"].pop("path", None)
    return data


def test_there_are_at_least_ten_example_tenants() -> None:
    assert len(list(EXAMPLES.glob("*.json"))) >= 10


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_expert_expectations(check: dict[str, Any]) -> None:
    data = _report(check)
    fired = {f["id"] for f in data["findings"]}
    missing = set(check.get("must_fire", [])) - fired
    unexpected = set(check.get("must_not_fire", [])) & fired
    assert not missing, f"expected findings did not fire: {sorted(missing)}"
    assert not unexpected, f"findings fired that must not: {sorted(unexpected)}"
    verdicts = {f["name"]: f["status"] for f in data["features"]}
    for feature, status in check.get("features", {}).items():
        assert verdicts[feature] == status, f"{feature}: {verdicts[feature]} != {status}"
    missing = {f["name"]: {s.casefold() for s in f["missing_scopes"]} for f in data["features"]}
    for feature, scopes in check.get("missing_scopes", {}).items():
        assert missing[feature] == {s.casefold() for s in scopes}, feature
    if "app_in_use" in check:
        chosen = data["app_in_use"] or {}
        assert (chosen.get("app_id") or "undecided") == check["app_in_use"]
    report_text = json.dumps(data)
    for phrase in check.get("report_says", []):
        assert phrase in report_text, f"the report does not say: {phrase}"
    if "exit_code" in check:
        errors = any(f["severity"] == Severity.ERROR.value for f in data["findings"])
        assert int(errors) == check["exit_code"]


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_golden_report(check: dict[str, Any]) -> None:
    data = _report(check)
    path = GOLDEN / f"{_id(check)}.report.json"
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden report {path.name}: run UPDATE_GOLDEN=1 pytest"
    assert json.loads(path.read_text(encoding="utf-8")) == data
