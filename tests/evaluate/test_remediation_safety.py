"""Fixes that never make things worse (issue 18, item 3), checked on every text the tool prints.

Each test names the Microsoft page the rule comes from; /work/shared/reference/entra-behaviour.md
"Remediation that does not make things worse" and "Conditional Access for a confidential client".
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from consent_audit.cli_remediation import explain_text
from consent_audit.evaluate import evaluate
from consent_audit.evaluate.audit_logs import aadsts_catalog
from consent_audit.evaluate.registry import registry
from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AppConsentRequest,
    ConsentRequestScope,
    IdentityRef,
    IdentitySet,
    UserConsentRequest,
)
from consent_audit.live.writes import GraphWriter
from consent_audit.manifest import load_manifest
from consent_audit.render.plan import plan_step_lines
from consent_audit.report import Report
from consent_audit.snapshot import Part, load_snapshot
from tests.evaluate.builders import (
    RECRUITEE_APP_ID,
    RECRUITEE_SP_ID,
    _replace,
    ca_policy,
    codes,
    directory_audit,
    healthy,
    one,
    run,
    with_admin_scopes,
    with_audits,
    with_ca_policy,
    with_consent_requests,
    with_grants,
    with_sp,
    with_workflow,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXCHANGE_ONLINE = "00000002-0000-0ff1-ce00-000000000000"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "tenants"
DATA = ROOT / "src" / "consent_audit" / "data"


# ----------------------------------------------------------------------------- every text


def _example_reports() -> Iterator[Report]:
    checks = tomllib.loads((EXAMPLES / "expectations.toml").read_text("utf-8"))["scenario"]
    manifest = load_manifest()
    for scenario in checks.values():
        for check in scenario["check"]:
            snap = load_snapshot(EXAMPLES / check["snapshot"])
            yield evaluate(snap, manifest, user=check.get("user"))


def _report_texts(report: Report) -> Iterator[tuple[str, str]]:
    for f in report.findings:
        yield f"{f.id} detail", f.detail
        for r in f.remediation:
            yield f"{f.id} remediation", r.action
            yield f"{f.id} remediation path", r.portal_path or ""
    for step in report.plan:
        for line in plan_step_lines(step):
            yield f"plan step {step.number}", line


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def every_text() -> list[tuple[str, str]]:
    """Every remediation, explanation and catalog text: the finding registry (as shipped and
    as loaded), the AADSTS catalog (as shipped and as loaded), `explain` for every code and
    finding id, and every finding, remediation and plan step of every example tenant."""
    texts: list[tuple[str, str]] = []
    raw = tomllib.loads((DATA / "findings.toml").read_text("utf-8"))
    texts += [(f"findings.toml {code}", s) for code, meta in raw.items() for s in _strings(meta)]
    for spec in registry().values():
        texts += [(f"registry {spec.id}", s) for s in (spec.meaning, *spec.causes)]
    shipped = json.loads((DATA / "aadsts_codes.json").read_text("utf-8"))
    texts += [(f"aadsts_codes.json {e['code']}", s) for e in shipped["codes"] for s in _strings(e)]
    for code, entry in aadsts_catalog().items():
        texts += [(f"catalog {code}", s) for s in _strings(entry)]
        texts.append((f"explain {code}", explain_text(str(code))))
    texts += [(f"explain {code}", explain_text(code)) for code in registry()]
    for report in _example_reports():
        texts += list(_report_texts(report))
    return texts


@pytest.fixture(scope="module")
def texts() -> list[tuple[str, str]]:
    return every_text()


_NEGATION = ("does not", "doesn't", "never", "nothing", "not recruitee", "would not")
_CLAUSE = re.compile(r"[.;:()]")
_EXCLUDE_APP = re.compile(
    r"\bexclud\w*\s+(?:the\s+)?(?:recruitee|its enterprise app|the app\b|the application\b)",
    re.IGNORECASE,
)


def recommends_excluding_recruitee(text: str) -> bool:
    """A clause that excludes Recruitee (or "the app") without saying it does not help."""
    return any(
        _EXCLUDE_APP.search(clause) and not any(n in clause.casefold() for n in _NEGATION)
        for clause in _CLAUSE.split(text)
    )


def test_the_detector_catches_the_old_advice() -> None:
    assert recommends_excluding_recruitee(
        "Review Protection > Conditional Access > policy > Session > Sign-in frequency; exclude "
        "Recruitee or lengthen the interval, otherwise users must reconnect at each interval."
    )
    assert recommends_excluding_recruitee(
        "Exclude Recruitee (its enterprise app) from device-based CA policies"
    )
    assert not recommends_excluding_recruitee(
        "Excluding Recruitee from a policy does not exempt its access to them."
    )


def test_no_text_recommends_excluding_recruitee_from_a_policy(
    texts: list[tuple[str, str]],
) -> None:
    """CA "is enforced based on the ... resource": excluding the client app does not exempt
    its token requests for Exchange Online or the directory
    (entra-docs concept-conditional-access-cloud-apps.md)."""
    bad = [(where, text) for where, text in texts if recommends_excluding_recruitee(text)]
    assert bad == []


OLD_NAVIGATION = re.compile(
    r"(?:^|> |\()(?:Identity|Protection) >|Enterprise applications >|Applications > Enterprise"
)


def test_admin_center_paths_follow_the_current_navigation(texts: list[tuple[str, str]]) -> None:
    """entra-docs (grant-admin-consent.md and the pages it links) browse to "Entra ID >
    Enterprise apps > All applications", "Entra ID > Conditional Access > Policies",
    "Entra ID > Monitoring & health > ..."; "Identity > Applications > Enterprise
    applications" and "Protection > Conditional Access" are the old navigation."""
    old = [(where, text) for where, text in texts if OLD_NAVIGATION.search(text)]
    assert old == []


def test_no_request_waits_forever(texts: list[tuple[str, str]]) -> None:
    """Admin consent requests expire after requestDurationInDays
    (configure-admin-consent-workflow.md)."""
    assert [(w, t) for w, t in texts if "forever" in t.casefold()] == []


# ----------------------------------------------------------------------------- CA fixes


def _ca_action(policy: Any, code: str) -> str:
    f = one(run(with_ca_policy(healthy(), policy)), code)
    return " ".join(r.action for r in f.remediation)


def test_a_block_fix_states_its_tenant_wide_consequence() -> None:
    action = _ca_action(
        ca_policy(include_apps=[EXCHANGE_ONLINE], display_name="Block Exchange"),
        "CA_POLICY_BLOCKS",
    )
    assert "tenant-wide" in action
    assert "lose this policy's protection for every app it covers" in action
    assert "does not exempt" in action


def test_a_location_fix_says_what_trusting_recruitees_ips_changes() -> None:
    """Marking a named location trusted counts in every policy that uses trusted locations
    and in Identity Protection's risk (concept-assignment-network.md)."""
    policy = ca_policy(
        display_name="Block outside the office",
        include_apps=[EXCHANGE_ONLINE],
        locations={"include_locations": ["All"], "exclude_locations": ["AllTrusted"]},
    )
    action = _ca_action(policy, "CA_POLICY_BLOCKS")
    assert "Do not mark that location trusted" in action
    assert "every policy that uses trusted locations" in action
    assert "Identity Protection" in action


def test_an_app_control_fix_says_that_mfa_instead_weakens_the_policy_for_everyone() -> None:
    policy = ca_policy(
        display_name="Approved apps for Exchange",
        include_apps=[EXCHANGE_ONLINE],
        controls=["approvedApplication"],
    )
    action = _ca_action(policy, "CA_POLICY_REQUIRES")
    assert "weakens the policy for everyone it covers" in action
    assert "lose this policy's protection" in action


@pytest.mark.parametrize(
    "policy",
    [
        ca_policy(display_name="Block everything"),
        ca_policy(include_apps=[EXCHANGE_ONLINE], display_name="EMERGENCY lockdown - incident 42"),
        ca_policy(
            include_apps=[EXCHANGE_ONLINE],
            controls=["approvedApplication"],
            display_name="Incident response: approved apps only",
        ),
    ],
    ids=["block-all", "named-lockdown", "named-incident-device"],
)
def test_no_loosening_is_suggested_for_an_emergency_or_lockdown_policy(policy: Any) -> None:
    report = run(with_ca_policy(healthy(), policy))
    f = next(f for f in report.findings if f.id in ("CA_POLICY_BLOCKS", "CA_POLICY_REQUIRES"))
    action = " ".join(r.action for r in f.remediation)
    assert "emergency or lockdown policy" in action
    assert "do not loosen it" in action
    for loosening in ("exclude the people", "named location", "require MFA instead"):
        assert loosening not in action


# ----------------------------------------------------------------------------- Microsoft-disabled

MICROSOFT_DISABLED = {"disabled_by_microsoft_status": "DisabledDueToViolationOfServicesAgreement"}


def _writes_to(report: Report, sp_id: str) -> list[str]:
    return [
        step.graph or ""
        for step in report.plan
        if step.kind == "graph" and (step.app_object_id == sp_id or sp_id in (step.path or ""))
    ]


def test_no_plan_step_tries_to_enable_a_microsoft_disabled_app() -> None:
    """disabledByMicrosoftStatus: Microsoft disabled the app; no tenant setting brings it back
    (Graph resources/serviceprincipal.md). Neither the example tenant nor a variant whose admin
    grant lacks scopes gets a write to it: no PATCH accountEnabled, no grant to a suspect app."""
    example = evaluate(load_snapshot(EXAMPLES / "microsoft-disabled.json"), load_manifest())
    assert "APP_DISABLED_BY_MICROSOFT" in codes(example)
    sp_id = example.apps[0].object_id
    assert _writes_to(example, sp_id) == []
    for snap in (
        with_sp(healthy(), **MICROSOFT_DISABLED),
        with_sp(healthy(), account_enabled=False, **MICROSOFT_DISABLED),
        with_admin_scopes(with_sp(healthy(), **MICROSOFT_DISABLED), "openid User.Read"),
    ):
        report = run(snap)
        assert _writes_to(report, RECRUITEE_SP_ID) == []
        assert not any("accountEnabled" in (s.graph or "") for s in report.plan)
        texts = [t for _, t in _report_texts(report)]
        assert not any("to Yes" in t for t in texts)
        assert any("Contact Recruitee" in t for t in texts)


def test_a_tenant_disabled_app_is_still_enabled_by_the_plan() -> None:
    report = run(with_sp(healthy(), account_enabled=False))
    assert any('"accountEnabled": true' in (s.graph or "") for s in report.plan)


# ----------------------------------------------------------------------------- admin consent


def test_the_grant_step_says_the_portal_button_is_not_the_same_change() -> None:
    """grant-admin-consent.md: "Granting tenant-wide admin consent may revoke permissions that
    have already been granted tenant-wide", and it "allows all users to access the application
    unless otherwise restricted"."""
    report = run(with_admin_scopes(healthy(), "openid offline_access User.Read"))
    grant = next(s for s in report.plan if s.method == "PATCH")
    assert grant.detail is not None
    assert "may revoke permissions already granted tenant-wide" in grant.detail
    assert "opens the app to every user unless assignment is required" in grant.detail


def test_mail_scopes_are_consented_only_after_limiting_who_can_use_the_app() -> None:
    report = run(with_grants(healthy()))
    kinds = [(s.kind, s.summary) for s in report.plan]
    limit = next(i for i, (_, summary) in enumerate(kinds) if summary.startswith("Limit who"))
    grant = next(i for i, s in enumerate(report.plan) if s.path == "/oauth2PermissionGrants")
    assert limit < grant
    step = report.plan[limit]
    assert "Mail.Send" in step.summary
    assert "Mail.ReadWrite" in step.summary
    assert step.detail is not None
    assert step.trade_off is not None
    assert step.detail.index("assign the people who sync") < step.detail.index(
        "'Assignment required?' to Yes"
    )


def test_no_limit_step_when_assignment_is_already_required_or_no_mail_scope_is_added() -> None:
    required = run(with_grants(with_sp(healthy(), app_role_assignment_required=True)))
    assert not any(s.summary.startswith("Limit who") for s in required.plan)
    calendar_only = run(
        with_admin_scopes(
            healthy(), "offline_access User.Read Mail.Send Mail.ReadWrite email openid"
        )
    )
    assert not any(s.summary.startswith("Limit who") for s in calendar_only.plan)


@responses.activate
def test_a_403_on_a_grant_write_names_the_least_privileged_role() -> None:
    """Delegated consent to any API, Graph included: Cloud Application Administrator or
    Application Administrator; Privileged Role Administrator is for app roles
    (grant-admin-consent.md, Prerequisites)."""

    class Tokens:
        def token(self, refresh: bool = False) -> str:
            return "t"

    report = run(with_admin_scopes(healthy(), "openid offline_access User.Read"))
    grant = next(s for s in report.plan if s.method == "PATCH")
    responses.add(
        responses.PATCH,
        re.compile(r"https://graph\.example/v1\.0/oauth2PermissionGrants/.*"),
        status=403,
        json={"error": {"code": "Authorization_RequestDenied", "message": "Insufficient."}},
    )
    (result,) = GraphWriter("https://graph.example", Tokens()).apply([grant])  # type: ignore[arg-type]
    assert not result.ok
    assert "Cloud Application Administrator or Application Administrator" in result.message
    assert "Privileged Role Administrator" not in result.message
    needs = [line for line in plan_step_lines(grant) if "Needs:" in line]
    assert needs
    assert "Cloud Application Administrator" in needs[0]


def test_step_up_promises_aadsts90094_only_when_admin_consent_requests_are_off() -> None:
    """configure-risk-based-step-up-consent.md: "If the admin consent request workflow isn't
    enabled", AADSTS90094; with it on, the person requests approval."""
    snap = with_admin_scopes(healthy(), "openid User.Read User.ReadBasic.All offline_access")

    def reasons(report: Report) -> str:
        missing = [f for f in report.findings if f.id == "SCOPE_MISSING"]
        assert missing
        return json.dumps([f.evidence.get("user_consent") for f in missing])

    on = reasons(run(with_workflow(snap, True)))
    off = reasons(run(with_workflow(snap, False)))
    assert "AADSTS90094" not in on
    assert "AADSTS90095" in on
    assert "AADSTS90094" in off
    assert "AADSTS90094" in explain_text("90094")
    assert "only with them off" in explain_text("90094")


def _request(user: IdentityRef) -> AppConsentRequest:
    return AppConsentRequest(
        id="req-1",
        app_id=RECRUITEE_APP_ID,
        app_display_name="Recruitee",
        pending_scopes=[ConsentRequestScope(display_name="Calendars.ReadWrite")],
        user_consent_requests=[
            UserConsentRequest(
                id="ucr-1",
                status="InProgress",
                created_by=IdentitySet(user=user),
            )
        ],
    )


def test_a_pending_request_names_its_requester_and_its_expiry() -> None:
    """userConsentRequest createdBy.user carries the requester's display name (and UPN);
    requests expire after requestDurationInDays (configure-admin-consent-workflow.md)."""
    snap = with_admin_scopes(healthy(), "openid User.Read offline_access Mail.Send")
    snap = _replace(
        snap,
        admin_consent_request_policy=Part(
            data=AdminConsentRequestPolicy(is_enabled=True, request_duration_in_days=14)
        ),
    )
    user = IdentityRef(
        id="5f8c0a54-0000-4000-8000-00000000abcd",
        display_name="Adele Vance",
        user_principal_name="adele.vance@contoso.com",
    )
    f = one(run(with_consent_requests(snap, _request(user))), "ADMIN_CONSENT_REQUEST_PENDING")
    assert "Adele Vance (adele.vance@contoso.com)" in f.detail
    assert user.id not in f.detail
    assert "14 day(s)" in f.detail
    actions = " ".join(r.action for r in f.remediation)
    assert "14 day(s)" in actions
    assert "Reviewers added after the request was made do not see it" in actions
    named_only = IdentityRef(id="x-1", display_name="Adele Vance")
    detail = one(
        run(with_consent_requests(snap, _request(named_only))), "ADMIN_CONSENT_REQUEST_PENDING"
    ).detail
    assert "Adele Vance on" in detail
    assert "x-1" not in detail


def test_no_reviewers_says_requests_expire_instead_of_waiting_forever() -> None:
    snap = _replace(
        with_grants(healthy()),
        admin_consent_request_policy=Part(
            data=AdminConsentRequestPolicy(
                is_enabled=True, reviewers=[], request_duration_in_days=30
            )
        ),
    )
    f = one(run(snap), "ADMIN_CONSENT_NO_REVIEWERS")
    assert "expire unanswered after 30 day(s)" in f.detail
    assert "Reviewers added later do not receive requests made before" in f.detail


# ----------------------------------------------------------------------------- logs


def test_50173_is_not_blamed_on_a_password_change() -> None:
    """refresh-tokens.md, Token revocation: a password that expires or that the user changes
    (also by SSPR) leaves a confidential client's refresh token alive; revoking the user's
    refresh tokens revokes it."""
    text = explain_text("AADSTS50173")
    assert "Password change" not in text
    assert "does not revoke a confidential client's refresh token" in text
    assert "Revoke sessions" in text


def test_removing_an_app_role_assignment_is_not_a_consent_revocation() -> None:
    """reference-audit-activities.md: "Remove app role assignment from service principal" is
    an app-role (application permission or user assignment) event, not a delegated grant."""
    event = directory_audit("Remove app role assignment from service principal")
    assert "GRANT_REVOKED" not in codes(run(with_audits(healthy(), event)))
    revoked = directory_audit("Remove delegated permission grant")
    assert "GRANT_REVOKED" in codes(run(with_audits(healthy(), revoked)))


def test_a_revocation_states_the_audit_window() -> None:
    """reference-reports-data-retention.md: audit logs 7 days (Free), 30 days (P1/P2)."""
    event = directory_audit("Remove delegated permission grant")
    report = run(with_audits(with_admin_scopes(healthy(), "openid"), event))
    f = one(report, "GRANT_REVOKED")
    window = "the audit log covers the last 7 days (Entra ID Free) or 30 days (P1/P2)"
    assert window in f.detail
    assert window in f.remediation[0].action or any(window in (s.detail or "") for s in report.plan)
    assert "7 days on Entra ID Free, 30 days with P1 or P2" in registry()["GRANT_REVOKED"].meaning


# ----------------------------------------------------------------------------- consent policy


def test_every_consent_policy_change_states_its_tenant_wide_consequence(
    texts: list[tuple[str, str]],
) -> None:
    """Allowing user consent, widening a consent policy or turning on admin consent requests
    changes it for every app, not only Recruitee (configure-user-consent.md,
    configure-admin-consent-workflow.md); 'Assignment required?' No opens the app to every
    user (howto-restrict-your-app-to-a-set-of-users.md)."""
    raw = tomllib.loads((DATA / "findings.toml").read_text("utf-8"))
    for code in (
        "USER_CONSENT_DISABLED",
        "USER_CONSENT_RESTRICTED",
        "ADMIN_CONSENT_WORKFLOW_DISABLED",
    ):
        assert "tenant-wide" in raw[code]["fix"].casefold(), code
    from consent_audit.evaluate import remediation

    for steps in (remediation.user_consent_settings(), remediation.admin_consent_settings()):
        assert "tenant-wide" in steps[0].action.casefold()
    opening = [
        (where, text)
        for where, text in texts
        if "'Assignment required?' to No" in text and "every user" not in text
    ]
    assert opening == []
