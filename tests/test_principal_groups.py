"""Per-user grants counted per scope string (tenant-wide collection) evaluate exactly as the
same grants kept one by one: every example tenant, both ways, same verdicts and findings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import (
    PrincipalGrantGroup,
    RecruiteeApp,
    TenantSnapshot,
    load_snapshot,
)
from tests.e2e.cli_runner import comparable

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tenants"
TENANTS = sorted(EXAMPLES.glob("*.json"))


def _counted(app: RecruiteeApp) -> RecruiteeApp:
    """What the collector keeps tenant-wide: admin grants, and per-user ones as groups."""
    part = app.oauth2_permission_grants
    if not part.ok or app.grants_coverage != "all":
        return app
    kept = [g for g in part.data or [] if g.consent_type.casefold() != "principal"]
    groups = app.principal_scope_groups()
    return app.model_copy(
        update={
            "oauth2_permission_grants": part.model_copy(update={"data": kept}),
            "principal_grant_groups": groups,
            "grants_coverage": "all_principals_and_groups" if groups else "all",
        }
    )


def _summarised(snapshot: TenantSnapshot) -> TenantSnapshot:
    apps = snapshot.recruitee_apps
    if apps.data is None:
        return snapshot
    data = [_counted(a) for a in apps.data]
    return snapshot.model_copy(update={"recruitee_apps": apps.model_copy(update={"data": data})})


def _report(snapshot: TenantSnapshot) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(evaluate(snapshot, load_manifest()).model_dump_json())
    return data


@pytest.mark.parametrize("path", TENANTS, ids=[p.stem for p in TENANTS])
def test_counted_per_user_grants_evaluate_like_kept_ones(path: Path) -> None:
    snapshot = load_snapshot(path)
    counted = _summarised(snapshot)
    kept_report, counted_report = _report(snapshot), _report(counted)
    assert comparable(counted_report) == comparable(kept_report)
    assert counted_report["user_grants"] == kept_report["user_grants"]
    assert [f["detail"] for f in counted_report["findings"]] == [
        f["detail"] for f in kept_report["findings"]
    ]


def test_some_example_really_has_per_user_grants() -> None:
    """The comparison above is not vacuous: at least one tenant counts people."""
    counted = [
        group
        for path in TENANTS
        for app in _summarised(load_snapshot(path)).recruitee_apps.data or []
        for group in app.principal_grant_groups
    ]
    assert counted
    assert all(isinstance(g, PrincipalGrantGroup) and g.count >= 1 for g in counted)
