"""Issue 20 items 5 and 6, and fix --apply against the plan's prediction.

Item 5: where the cause of failing sign-ins is known, the step says it and what to do (d583756:
"Read what the failed sign-ins mean: consent-audit explain AADSTS70043").
Item 6: every Graph request is also a command people can run: ``Connect-MgGraph -Scopes``
with the least-privileged permissions, ``Invoke-MgGraphRequest`` and ``az rest``, each value
quoted for its shell, and the ids it carries named (d583756: ``Graph: PATCH /v1.0/... {json}``
only, a PowerShell line without the sign-in it needs, resources by object id alone).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render.plan import plan_step_lines
from consent_audit.report import PlanStep, VerdictStatus
from consent_audit.snapshot import load_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
DEMO = Path(__file__).resolve().parents[2] / "src" / "consent_audit" / "data" / "demo_tenant.json"
SNAPSHOTS = [*sorted(EXAMPLES.glob("*.json")), DEMO]
LEAST_PRIVILEGE = {
    # microsoft-graph-docs-contrib api-reference/v1.0/api/*.md, permissions tables
    ("PATCH", "oauth2PermissionGrants"): ["DelegatedPermissionGrant.ReadWrite.All"],
    ("POST", "oauth2PermissionGrants"): ["DelegatedPermissionGrant.ReadWrite.All"],
    ("PATCH", "servicePrincipals"): ["Application.ReadWrite.All"],
    ("POST", "appRoleAssignedTo"): ["AppRoleAssignment.ReadWrite.All", "Application.Read.All"],
}


def _users(path: Path) -> list[str | None]:
    return [None, *[u.query for u in load_snapshot(path).users]]


CASES = [(p, u) for p in SNAPSHOTS for u in _users(p)]
IDS = [f"{p.stem}--{u}" if u else p.stem for p, u in CASES]


def _plan(path: Path, user: str | None) -> list[PlanStep]:
    return evaluate(load_snapshot(path), load_manifest(), user=user).plan


def test_the_sign_in_frequency_step_names_the_policy_and_what_to_do() -> None:
    plan = _plan(EXAMPLES / "signin-frequency.json", "alex.wilber@adatum.com")
    summary = plan[0].summary
    assert summary.startswith("Sign-ins fail with AADSTS70043 (sign-in frequency, policy 'CA010")
    assert "reconnect Recruitee" in summary


def test_the_mfa_step_says_mfa_and_what_to_do() -> None:
    plan = _plan(EXAMPLES / "mfa-after-connect.json", None)
    assert plan[0].summary.startswith("Sign-ins fail with AADSTS50076 (MFA")
    assert "complete MFA" in plan[0].summary


def test_a_revoked_grant_step_says_it_was_removed() -> None:
    # revoked-grants' latest failures are all AADSTS65001, which the plan's admin grant ends
    # (fixes.py _resolving_grant): no step of their own. One person still failing with
    # AADSTS70043 afterwards keeps the step, and it names the removal.
    snap = load_snapshot(EXAMPLES / "revoked-grants.json")
    logged = snap.sign_ins.data or []
    latest = max(logged, key=lambda s: s.created_date_time)
    frequency = next(s for s in logged if s.status is not None and s.status.error_code == 70043)
    later = frequency.model_copy(
        update={"id": "later-70043", "created_date_time": latest.created_date_time}
    )
    snap = snap.model_copy(
        update={"sign_ins": snap.sign_ins.model_copy(update={"data": [*logged, later]})}
    )
    plan = evaluate(snap, load_manifest()).plan
    failing = next(s for s in plan if s.summary.startswith("Sign-ins fail"))
    assert "consent removed, per the audit log" in failing.summary
    assert not any(
        s.summary.startswith("Sign-ins fail") for s in _plan(EXAMPLES / "revoked-grants.json", None)
    )


@pytest.mark.parametrize(("path", "user"), CASES, ids=IDS)
def test_no_step_sends_the_reader_elsewhere(path: Path, user: str | None) -> None:
    for step in _plan(path, user):
        assert "consent-audit explain" not in step.summary, step.summary


def _powershell_value(line: str, parameter: str) -> str:
    """The single-quoted value after ``-parameter`` (PowerShell doubles a quote inside)."""
    rest = line.split(f" -{parameter} '", 1)[1]
    out, i = [], 0
    while True:
        if rest[i] == "'" and rest[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
        elif rest[i] == "'":
            return "".join(out)
        else:
            out.append(rest[i])
            i += 1


@pytest.mark.parametrize(("path", "user"), CASES, ids=IDS)
def test_every_graph_request_is_a_command_people_can_run(path: Path, user: str | None) -> None:
    for step in _plan(path, user):
        if step.kind != "graph":
            assert step.invoke is None
            assert step.az_rest is None
            continue
        assert step.method is not None
        assert step.path is not None
        url = f"https://graph.microsoft.com/v1.0{step.path}"
        kind = "appRoleAssignedTo" if step.path.endswith("appRoleAssignedTo") else None
        kind = kind or step.path.strip("/").split("/")[0]
        assert step.scopes == LEAST_PRIVILEGE[(step.method, kind)]
        assert step.connect == "Connect-MgGraph -Scopes " + ",".join(f"'{s}'" for s in step.scopes)
        invoke = step.invoke or ""
        assert invoke.startswith(f"Invoke-MgGraphRequest -Method {step.method} ")
        assert _powershell_value(invoke, "Uri") == url
        assert json.loads(_powershell_value(invoke, "Body")) == (step.body or {})
        words = shlex.split(step.az_rest or "")
        assert words[:2] == ["az", "rest"]
        given = dict(zip(words[2::2], words[3::2], strict=True))
        assert given["--method"] == step.method.lower()
        assert given["--url"] == url
        assert json.loads(given["--body"]) == (step.body or {})
        text = "\n".join(plan_step_lines(step))
        for label in ("Sign in (PowerShell): ", "PowerShell request: ", "Azure CLI (bash): "):
            assert label in text
        # Every id the request carries is named beside it.
        ids = [v for v in (step.body or {}).values() if isinstance(v, str) and "-" in v]
        for value in ids:
            if value == "00000000-0000-0000-0000-000000000000":
                continue  # the default app role, not an object
            assert value in step.names, (value, step.names)
        if step.method == "POST" and kind == "oauth2PermissionGrants":
            assert step.names[(step.body or {})["resourceId"]] == "Microsoft Graph"


def _report_with(statuses: dict[str, VerdictStatus]) -> Any:
    report = evaluate(load_snapshot(EXAMPLES / "partial-scopes.json"), load_manifest())
    features = [
        f.model_copy(update={"status": statuses.get(f.name, f.status)}) for f in report.features
    ]
    return report.model_copy(update={"features": features})


def test_fix_apply_says_where_the_re_audit_differs_from_the_prediction() -> None:
    from consent_audit.cli_remediation import render_prediction_check

    before = evaluate(load_snapshot(EXAMPLES / "partial-scopes.json"), load_manifest())
    assert before.prediction is not None
    steps = before.prediction.steps
    agrees = _report_with({p.name: p.status for p in before.prediction.features})
    assert (render_prediction_check(before, agrees, steps) or "").endswith("agrees.")
    differs = _report_with({"mailbox": VerdictStatus.WARN})
    text = render_prediction_check(before, differs, steps) or ""
    assert "differs: Mailbox sync: predicted PASS, re-audit WARN" in text
    partial = render_prediction_check(before, agrees, [])
    assert "not compared" in (partial or "")
