"""End-to-end against a Graph as strict as Microsoft's docs (tests/emulator/graph_rules.py).

Each test runs the installed CLI against the emulator and asserts on the report: what the
collector must do to read real Graph (the OData cast's advanced query parameters, per-request
userConsentRequests, beta-only properties, beta non-interactive sign-ins, the Prefer header for
evolvable enums, nulls) shows up as a right answer, or as an honest ``unknown``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from consent_audit.evaluate import evaluate
from consent_audit.evaluate.ca_conditions import Applies, conditions_for
from consent_audit.graph_objects import ConditionalAccessPolicy
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import TenantSnapshot, load_snapshot
from tests.e2e.cli_runner import Run, comparable, run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _check(emu: GraphEmulator, home: Path, *extra: str) -> Run:
    run = run_cli(["check", "--format", "json", *extra], emu.url, home)
    assert run.code in (0, 1), run.stderr
    return run


def _variant(name: str, edit: Callable[[dict[str, Any]], None]) -> TenantSnapshot:
    raw = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    edit(raw)
    return TenantSnapshot.model_validate(raw)


def _findings(report: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["id"] == code]


def _scope_rows(report: dict[str, Any], feature: str) -> dict[str, dict[str, Any]]:
    feat = next(f for f in report["features"] if f["name"] == feature)
    return {row["scope"]: row for app in feat["apps"] for row in app["scopes"]}


def test_transitive_ca_exclusion_is_read_with_the_cast(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Miriam is excluded from a block-everything policy through a nested group: only the
    transitive cast (ConsistencyLevel + $count=true, or Graph answers 400) shows it."""
    path = EXAMPLES / "ca-block-excluded-admins.json"
    user = "miriam.graham@woodgrovebank.com"
    emu = graph_emulator_factory(path)
    run = _check(emu, tmp_path, "--user", user)
    report = run.report
    assert run.code == 0, report["findings"]
    assert {f["name"]: f["status"] for f in report["features"]} == {
        "mailbox": "pass",
        "calendar": "pass",
        "rooms": "pass",
    }
    assert not _findings(report, "CA_POLICY_BLOCKS")
    assert not _findings(report, "DATA_UNAVAILABLE")
    casts = [r.target for r in emu.requests if "/microsoft.graph.group" in r.target]
    assert casts
    assert all("$count=true" in target for target in casts)
    offline = evaluate(load_snapshot(path), load_manifest(), user=user)
    assert comparable(report) == comparable(json.loads(offline.model_dump_json()))


def test_pending_consent_request_names_who_asked_when_and_why(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "recommended-policy.json")
    report = _check(emu, tmp_path).report
    [pending] = _findings(report, "ADMIN_CONSENT_REQUEST_PENDING")
    assert "Patti Fernandez (patti.fernandez@fourthcoffee.com) on 2025-06-15" in pending["detail"]
    assert "schedule interviews" in pending["detail"]
    [asker] = pending["evidence"]["requests"]
    assert asker["user"] == "patti.fernandez@fourthcoffee.com"
    assert asker["reason"].startswith("I need mailbox and calendar sync")
    assert any(
        r.target.endswith("/userConsentRequests?$filter=status eq 'InProgress'")
        for r in emu.requests
    )


def _certified_only(raw: dict[str, Any]) -> None:
    policy = raw["permission_grant_policies"]["data"][0]
    policy["includes"][0]["certifiedClientApplicationsOnly"] = True


def test_certified_only_consent_policy_is_read_from_beta(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """v1.0 has no certifiedClientApplicationsOnly: read as false it would let users consent
    to rooms; read from beta, only admins can (Recruitee is not Microsoft 365 certified)."""
    emu = graph_emulator_factory(_variant("recommended-policy.json", _certified_only))
    report = _check(emu, tmp_path).report
    rooms = _scope_rows(report, "rooms")
    assert rooms["User.ReadBasic.All"]["user_consent"] != "users can consent"
    assert "certified apps only" in rooms["User.ReadBasic.All"]["reason"]
    baseline = _check(graph_emulator_factory(EXAMPLES / "recommended-policy.json"), tmp_path)
    assert _scope_rows(baseline.report, "rooms")["User.ReadBasic.All"]["user_consent"] == (
        "users can consent"
    )


def test_certified_only_is_unknown_when_beta_is_refused(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    refuse = Fault.error(
        r"^/beta/policies/permissionGrantPolicies",
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        count=None,
    )
    emu = graph_emulator_factory(
        _variant("recommended-policy.json", _certified_only), faults=[refuse]
    )
    report = _check(emu, tmp_path).report
    assert refuse.fired
    row = _scope_rows(report, "rooms")["User.ReadBasic.All"]
    assert row["user_consent"] not in ("users can consent", "only admins")
    assert "certified" in row["reason"]
    assert "beta" in row["reason"]
    assert next(f for f in report["features"] if f["name"] == "rooms")["status"] != "pass"


def test_background_refresh_failures_reach_the_report(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """signin-frequency.json: every AADSTS70043 is a non-interactive (refresh) sign-in, which
    v1.0 does not list; the collector reads them from beta."""
    emu = graph_emulator_factory(EXAMPLES / "signin-frequency.json")
    report = _check(emu, tmp_path, "--with-logs").report
    [failures] = _findings(report, "SIGNIN_FAILURES")
    codes = {c["code"]: c["count"] for c in failures["evidence"]["codes"]}
    assert codes == {"AADSTS70043": 5}
    assert "AADSTS70043" in failures["detail"]
    background = [r.target for r in emu.requests if r.target.startswith("/beta/auditLogs/signIns")]
    assert background
    assert all("nonInteractiveUser" in target for target in background)


def _unknown_grant_control(raw: dict[str, Any]) -> None:
    policy = raw["conditional_access_policies"]["data"][1]
    policy["grantControls"]["builtInControls"] = ["unknownFutureValue"]


def test_unknown_future_value_grant_control_is_unknown_not_ignored(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """CA002 in ca-block-excluded-admins requires MFA of everyone for all apps; answered as a
    control newer than the tool knows, its effect is unknown: never satisfied, never dropped."""
    emu = graph_emulator_factory(_variant("ca-block-excluded-admins.json", _unknown_grant_control))
    report = _check(emu, tmp_path, "--user", "nestor.wilke@woodgrovebank.com").report
    unknown = _findings(report, "CA_POLICY_UNDETERMINED")
    assert unknown
    assert "CA002" in unknown[0]["detail"]
    assert "unknownFutureValue" in unknown[0]["detail"]
    assert set(unknown[0]["features"]) == {"mailbox", "calendar", "rooms"}
    statuses = {f["name"]: f["status"] for f in report["features"]}
    assert "pass" not in statuses.values()


def test_risk_remediation_is_read_with_the_prefer_header(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """riskRemediation comes after unknownFutureValue in v1.0's enum: sent with
    ``Prefer: include-unknown-enum-members`` it arrives as itself, so no unknown is reported."""

    def risk(raw: dict[str, Any]) -> None:
        policy = raw["conditional_access_policies"]["data"][1]
        policy["grantControls"]["builtInControls"] = ["riskRemediation"]

    emu = graph_emulator_factory(_variant("ca-block-excluded-admins.json", risk))
    report = _check(emu, tmp_path, "--user", "nestor.wilke@woodgrovebank.com").report
    assert not [f for f in _findings(report, "CA_POLICY_UNDETERMINED") if "CA002" in f["detail"]]


def test_tenant_answering_nulls_gives_the_same_verdicts_or_unknown(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Nulls where the CSDL allows them: no part turns into an error, CA and logs are judged
    as before, and a consent decision that depended on a nulled condition list is unknown."""
    path = EXAMPLES / "signin-frequency.json"
    plain = _check(graph_emulator_factory(path), tmp_path, "--with-logs").report
    nulls = _check(graph_emulator_factory(path, nulls=True), tmp_path, "--with-logs").report
    unavailable = {f["evidence"].get("part") for f in _findings(nulls, "DATA_UNAVAILABLE")}
    assert unavailable <= {
        p.get("part") for p in (f["evidence"] for f in _findings(plain, "DATA_UNAVAILABLE"))
    }
    assert {f["id"] for f in _findings(nulls, "CA_POLICY_SIGNIN_FREQUENCY")} == {
        f["id"] for f in _findings(plain, "CA_POLICY_SIGNIN_FREQUENCY")
    }
    assert _findings(nulls, "SIGNIN_FAILURES")
    for feature in plain["features"]:
        twin = next(f for f in nulls["features"] if f["name"] == feature["name"])
        assert twin["status"] in (feature["status"], "unknown")


def test_nulls_in_grants_assignments_and_consent_settings_are_reported_unknown(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Graph answers null where the v1.0 CSDL allows it, in the properties a verdict hangs
    on: a grant's consentType, an assignment's principal, permissionGrantPoliciesAssigned, a
    scope's value and a classification. Nothing may read as a default that passes."""

    def null_grants(raw: dict[str, Any]) -> None:
        for app in raw["recruitee_apps"]["data"]:
            for grant in app["oauth2_permission_grants"]["data"]:
                grant["consentType"] = None
        graph = raw["graph_service_principal"]["data"]
        for scope in graph.get("oauth2PermissionScopes") or []:
            scope["value"] = None
        raw["delegated_permission_classifications"] = {
            "status": "ok",
            "data": [
                {"id": "c1", "permissionId": None, "permissionName": None, "classification": None}
            ],
        }

    report = _check(
        graph_emulator_factory(_variant("healthy.json", null_grants), nulls=True), tmp_path
    ).report
    assert {f["status"] for f in report["features"]} == {"unknown"}
    assert not _findings(report, "SCOPE_MISSING")
    [grants] = [
        f
        for f in _findings(report, "DATA_UNAVAILABLE")
        if f["evidence"]["part"] == "oauth2_permission_grants"
    ]
    assert "null for the consentType" in grants["detail"]
    assert [g["consent_type"] for g in report["grants"]] == ["unknown"]

    def null_principals(raw: dict[str, Any]) -> None:
        perms = raw["authorization_policy"]["data"]["defaultUserRolePermissions"]
        perms["permissionGrantPoliciesAssigned"] = None
        for app in raw["recruitee_apps"]["data"]:
            for assignment in app["app_role_assigned_to"]["data"]:
                assignment["principalId"] = None
                assignment["principalType"] = None

    emu = graph_emulator_factory(_variant("assignment-required.json", null_principals), nulls=True)
    report = _check(emu, tmp_path, "--user", "adele.vance@fabrikam.com").report
    assert not _findings(report, "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED")
    assert not _findings(report, "USER_CONSENT_DISABLED")
    assert report["settings"]["user_consent"].startswith("unknown")
    assert {f["status"] for f in report["features"]} == {"unknown"}
    parts = {f["evidence"]["part"]: f["detail"] for f in _findings(report, "DATA_UNAVAILABLE")}
    assert "null for the principal" in parts["app_role_assigned_to"]


def _grants_accounted(report: dict[str, Any]) -> int:
    """Grants listed one by one plus per-user grants counted per app."""
    return len(report["grants"]) + sum(group["count"] for group in report["user_grants"])


def test_a_tenant_answering_null_wherever_the_csdl_allows_reads_unknown_not_guessed(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """``nulls="all"``: also the fields the v1.0 CSDL leaves nullable but real Graph always fills
    (permissionGrantPoliciesAssigned, a grant's consentType, an assignment's principal, a scope's
    value, a classification's fields) come back null, everywhere. Through the real collector:
    every verdict that hangs on them is ``unknown``, with DATA_UNAVAILABLE naming the field, none
    passes or fails, and no item, grant, app or person is dropped."""

    def classified(raw: dict[str, Any]) -> None:
        scopes = raw["graph_service_principal"]["data"]["oauth2PermissionScopes"]
        rooms = next(s for s in scopes if s["value"] == "User.ReadBasic.All")
        raw["delegated_permission_classifications"] = {
            "status": "ok",
            "data": [
                {
                    "id": "c1",
                    "permissionId": rooms["id"],
                    "permissionName": rooms["value"],
                    "classification": "low",
                }
            ],
        }

    cases = [
        ("assignment-required.json", ["--user", "adele.vance@fabrikam.com"]),
        ("per-user-consent-only.json", []),  # per-user grants summarised as they stream in
    ]
    for name, extra in cases:
        path = _variant(name, classified)  # every one of the five fields is served
        plain = _check(graph_emulator_factory(path), tmp_path, *extra).report
        run = _check(
            graph_emulator_factory(path, nulls="all"), tmp_path, *extra, "--fail-on", "unknown"
        )
        report = run.report
        assert {f["status"] for f in plain["features"]} != {"unknown"}, name
        assert {f["status"] for f in report["features"]} == {"unknown"}, name
        unavailable = _findings(report, "DATA_UNAVAILABLE")
        detail = {f["evidence"]["part"]: f["detail"] for f in unavailable}
        assert "permissionGrantPoliciesAssigned" in detail["authorization_policy"], name
        assert "consentType" in detail["oauth2_permission_grants"], name
        for feature in report["features"]:
            assert any(feature["name"] in f["features"] for f in unavailable), feature
        assert report["settings"]["user_consent"].startswith("unknown")
        # Nothing guessed: no finding that needs a value Graph did not send.
        for code in (
            "SCOPE_MISSING",
            "USER_CONSENT_DISABLED",
            "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED",
        ):
            assert not _findings(report, code), (name, code)
        # Nothing dropped: every item read, every grant, app and the user kept.
        assert not _findings(report, "DATA_PARTIAL"), name
        assert [a["object_id"] for a in report["apps"]] == [a["object_id"] for a in plain["apps"]]
        # Per-user grants are counted per app as they stream in; a grant whose consentType is
        # null cannot be counted as anyone's and is listed instead: none is lost either way.
        assert _grants_accounted(report) == _grants_accounted(plain) > 0, name
        assert report["grants"]
        assert {g["consent_type"] for g in report["grants"]} == {"unknown"}
        assert report["user"] == plain["user"]
        assert run.code == 1  # --fail-on unknown turns it red
        assert "DATA_UNAVAILABLE (data unreadable)" in report["gate"]["reason"]
        if name == "assignment-required.json":
            assert "principal" in detail["app_role_assigned_to"]


def test_refused_background_sign_ins_are_named_in_the_report(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Beta refusing the non-interactive sign-ins must reach the report (DATA_PARTIAL), not
    stay in the snapshot part's message: those are the refresh failures of a stopped sync."""
    refuse = Fault.error(
        r"^/beta/auditLogs/signIns",
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        count=None,
    )
    emu = graph_emulator_factory(EXAMPLES / "signin-frequency.json", faults=[refuse])
    run = _check(emu, tmp_path, "--with-logs")
    assert refuse.fired
    [partial] = _findings(run.report, "DATA_PARTIAL")
    assert partial["evidence"]["part"] == "sign_ins"
    assert "background (non-interactive) sign-ins" in partial["detail"]
    assert partial["remediation"]
    assert not _findings(run.report, "SIGNIN_FAILURES")
    text = run_cli(["check", "--with-logs", "--details"], emu.url, tmp_path)
    assert "background (non-interactive) sign-ins" in " ".join(text.stdout.split())


def _ca_policies(emu: GraphEmulator, prefer: bool) -> list[dict[str, Any]]:
    headers = {"Authorization": "Bearer test-token"}
    if prefer:
        headers["Prefer"] = "include-unknown-enum-members"
    answer = requests.get(f"{emu.url}/v1.0/identity/conditionalAccess/policies", headers=headers)
    assert answer.status_code == 200
    policies: list[dict[str, Any]] = answer.json()["value"]
    return policies


def test_linux_platform_arrives_only_with_the_prefer_header_and_stays_unknown_either_way(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """``linux`` follows ``unknownFutureValue`` in v1.0's conditionalAccessDevicePlatform:
    without ``Prefer: include-unknown-enum-members`` Graph hides it. The collector sends the
    header, so the report names Linux; a policy read without it is still unknown, never pass."""
    emu = graph_emulator_factory(EXAMPLES / "ca-linux-compliant-device.json")
    [undetermined] = _findings(_check(emu, tmp_path).report, "CA_POLICY_UNDETERMINED")
    assert "device platforms linux" in undetermined["detail"]
    assert "fails" not in undetermined["detail"]

    hidden = next(
        p for p in _ca_policies(emu, prefer=False) if p["displayName"].startswith("CA500")
    )
    assert hidden["conditions"]["platforms"]["includePlatforms"] == ["unknownFutureValue"]
    view = conditions_for(ConditionalAccessPolicy.model_validate(hidden), refresh=True)
    assert view.state is Applies.UNKNOWN
    assert "unknownFutureValue" in view.notes[0].detail


def test_token_protection_and_authentication_strength_are_served_as_graph_sends_them(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """The session control and the strength relationship reach the collector intact (the
    models keep every property) and decide the verdicts live as offline."""
    for name, named in (
        ("ca-token-protection.json", "token protection"),
        ("ca-authentication-strength.json", "authentication strength 'Phishing-resistant MFA'"),
    ):
        emu = graph_emulator_factory(EXAMPLES / name)
        served = _ca_policies(emu, prefer=True)
        assert any(
            (p.get("sessionControls") or {}).get("secureSignInSession")
            or ((p.get("grantControls") or {}).get("authenticationStrength") or {}).get("id")
            for p in served
        )
        report = _check(emu, tmp_path).report
        [undetermined] = _findings(report, "CA_POLICY_UNDETERMINED")
        assert named in undetermined["detail"]
        statuses = {f["name"]: f["status"] for f in report["features"]}
        assert statuses == {"mailbox": "unknown", "calendar": "unknown", "rooms": "pass"}
