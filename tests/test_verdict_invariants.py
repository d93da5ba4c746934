"""A verdict never contradicts its own fields (issue #9), on every example tenant and the demo,
tenant-wide and for every --user in expectations.toml.

- ``pass``    => no missing scope, and no error or warning finding affects the feature;
- ``fail``    => at least one error finding affects it;
- ``warn``    => no error, at least one warning, nothing unreadable that it needs;
- ``unknown`` => no error, and a part it needs could not be read (DATA_UNAVAILABLE or
  CA_UNREADABLE names that feature);
- a per-app verdict depends only on that app's findings and tenant-level ones;
- the headline verdict is that of the app in use (``app_in_use``), or the worst app when the
  report says it cannot tell.

The checks read only the JSON report, as a CI job would.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import load_snapshot

from .test_examples import EXAMPLES, _checks, _id

UNREADABLE = {"DATA_UNAVAILABLE", "CA_UNREADABLE"}
RANK = {"pass": 0, "warn": 1, "unknown": 2, "fail": 3}


def _report(check: dict[str, Any]) -> dict[str, Any]:
    snap = load_snapshot((EXAMPLES / check["snapshot"]).resolve())
    data: dict[str, Any] = json.loads(
        evaluate(snap, load_manifest(), user=check.get("user")).model_dump_json()
    )
    return data


def _affecting(
    findings: list[dict[str, Any]], feature: str, app: str | None
) -> list[dict[str, Any]]:
    """Findings that bear on (feature, app): the app's own and tenant-level ones."""
    return [
        f
        for f in findings
        if feature in f["features"]
        and (app is None or f["app_object_id"] is None or f["app_object_id"] == app)
    ]


def _violations(
    status: str, missing: list[str], findings: list[dict[str, Any]], where: str
) -> list[str]:
    severities = {f["severity"] for f in findings}
    unreadable = any(f["id"] in UNREADABLE for f in findings)
    errors = "error" in severities
    problems: list[str] = []
    if status == "pass" and (missing or errors or "warning" in severities):
        problems.append(f"{where}: pass with missing {missing} / severities {severities}")
    if status == "fail" and not errors:
        problems.append(f"{where}: fail without an error finding")
    if status == "warn" and (errors or "warning" not in severities or unreadable):
        problems.append(f"{where}: warn with severities {severities}, unreadable={unreadable}")
    if status == "unknown" and (errors or not unreadable):
        problems.append(f"{where}: unknown with errors={errors}, unreadable={unreadable}")
    return problems


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_every_verdict_agrees_with_its_own_fields(check: dict[str, Any]) -> None:
    data = _report(check)
    problems: list[str] = []
    # The headline is the app Recruitee uses; only when that is undecided, the worst app.
    in_use = (data["app_in_use"] or {}).get("object_id")
    for feature in data["features"]:
        name = feature["name"]
        headline = _affecting(data["findings"], name, in_use)
        problems += _violations(
            feature["status"], feature["missing_scopes"], headline, f"{name} (headline)"
        )
        if in_use is not None:
            chosen = next(a for a in feature["apps"] if a["object_id"] == in_use)
            assert chosen["status"] == feature["status"], name
            assert chosen["missing_scopes"] == feature["missing_scopes"], name
        for app in feature["apps"]:
            own = _affecting(data["findings"], name, app["object_id"])
            where = f"{name} (app {app['app_id']})"
            problems += _violations(app["status"], app["missing_scopes"], own, where)
            # Per app: only its own and tenant-level findings are named.
            ids = {f["id"] for f in own if f["severity"] != "info"}
            assert set(app["finding_ids"]) == ids, where
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_summary_counts_and_status_follow_the_features(check: dict[str, Any]) -> None:
    data = _report(check)
    statuses = [f["status"] for f in data["features"]]
    summary = data["summary"]
    for status in RANK:
        assert summary[f"features_{status}"] == statuses.count(status), status
    assert summary["status"] == max(statuses, key=RANK.__getitem__)
