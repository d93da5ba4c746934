"""The one fix plan: one request per grant with the union of scopes, one POST per missing
grant, causal-chain order, tenant-wide decisions without one-liners, findings pointing at it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.report import PlanStep, Report
from consent_audit.scopes import ScopeSet
from consent_audit.snapshot import TenantSnapshot, load_snapshot

from .builders import (
    GRAPH_SP_ID,
    RECRUITEE_SP_ID,
    SECOND_APP_ID,
    SECOND_SP_ID,
    USER_ID,
    USER_UPN,
    assignment,
    ca_policy,
    grant,
    healthy,
    recruitee_app,
    recruitee_sp,
    run,
    with_admin_scopes,
    with_apps,
    with_assignments,
    with_ca_policy,
    with_grants,
    with_sp,
    with_user,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
TENANTS = sorted(EXAMPLES.glob("*.json"))


def _writes(report: Report) -> list[PlanStep]:
    return [s for s in report.plan if s.kind == "graph"]


def _example(name: str) -> Report:
    full = load_manifest(None)
    return evaluate(load_snapshot(EXAMPLES / name), full, full_manifest=full)


def _plan(snap: TenantSnapshot, user: str | None = None) -> list[PlanStep]:
    return run(snap, user=user).plan


def test_healthy_tenant_needs_no_change() -> None:
    assert _plan(healthy()) == []


def test_partial_admin_grant_is_patched_once_with_the_union_of_scopes() -> None:
    snap = with_admin_scopes(healthy(), "openid offline_access user.read Calendars.ReadWrite")
    limit, step = _plan(snap)
    assert limit.kind == "manual"  # adds Mail.Send and Mail.ReadWrite: limit who can use it first
    assert step.method == "PATCH"
    assert step.path is not None
    assert step.path.startswith("/oauth2PermissionGrants/")
    assert step.body is not None
    scopes = ScopeSet(step.body["scope"].split())
    for needed in ("Mail.Send", "Mail.ReadWrite", "email", "User.ReadBasic.All", "user.read"):
        assert needed in scopes
    assert step.body["scope"].startswith("openid offline_access user.read")  # kept as written
    assert step.permission == "DelegatedPermissionGrant.ReadWrite.All"


def test_missing_admin_grant_is_created_by_one_post() -> None:
    limit, step = _plan(with_grants(healthy()))
    assert limit.kind == "manual"
    assert step.method == "POST"
    assert step.path == "/oauth2PermissionGrants"
    assert step.body is not None
    assert step.body["clientId"] == RECRUITEE_SP_ID
    assert step.body["resourceId"] == GRAPH_SP_ID
    assert step.body["consentType"] == "AllPrincipals"


def test_disabled_app_is_enabled() -> None:
    (step,) = _plan(with_sp(healthy(), account_enabled=False))
    assert (step.method, step.body) == ("PATCH", {"accountEnabled": True})
    assert step.permission == "Application.ReadWrite.All"


def test_unassigned_user_is_assigned_with_the_default_role() -> None:
    snap = with_user(
        with_assignments(
            with_sp(healthy(), app_role_assignment_required=True), assignment("someone-else")
        )
    )
    (step,) = _writes(run(snap, user=USER_UPN))
    assert step.path == f"/servicePrincipals/{RECRUITEE_SP_ID}/appRoleAssignedTo"
    assert step.body is not None
    assert step.body["principalId"] == USER_ID
    assert step.body["appRoleId"] == "00000000-0000-0000-0000-000000000000"


def test_conditional_access_block_is_a_manual_step_with_its_trade_off() -> None:
    (step,) = _plan(with_ca_policy(healthy(), ca_policy(display_name="Block all")))
    assert step.kind == "manual"
    assert step.method is None
    assert step.graph is None
    assert step.powershell is None
    assert "Block all" in step.summary
    assert step.trade_off is not None
    assert "Tenant-wide" in step.trade_off
    assert "never loosen an emergency or lockdown policy" in step.trade_off
    assert step.finding_ids == ["CA_POLICY_BLOCKS"]


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda p: p.stem)
def test_at_most_one_request_per_grant_and_one_post_per_app(tenant: Path) -> None:
    writes = _writes(_example(tenant.name))
    targets = [(s.method, s.path) for s in writes if s.method == "PATCH"]
    assert len(targets) == len(set(targets))
    posts = [
        s.body["clientId"]
        for s in writes
        if s.method == "POST" and s.path == "/oauth2PermissionGrants" and s.body
    ]
    assert len(posts) == len(set(posts))


def test_demo_grant_patch_keeps_every_scope_all_features_need() -> None:
    """The demo once printed three PATCHes of one grant; the last dropped the mail scopes."""
    from consent_audit.run_source import demo_snapshot

    full = load_manifest(None)
    report = evaluate(demo_snapshot(), full, full_manifest=full)
    patches = [s for s in _writes(report) if s.path and "oauth2PermissionGrants" in s.path]
    by_grant = {s.path: s for s in patches}
    assert len(by_grant) == len(patches)
    assert report.app_in_use is not None
    first = next(s for s in patches if s.app_object_id == report.app_in_use.object_id)
    assert first.body is not None
    granted = ScopeSet(first.body["scope"].split())
    for needed in ("Calendars.ReadWrite", "Mail.ReadWrite", "Mail.Send", "User.ReadBasic.All"):
        assert needed in granted


def test_consent_blocked_tenant_gets_one_post_not_three() -> None:
    report = _example("consent-blocked-no-workflow.json")
    posts = [s for s in _writes(report) if s.method == "POST"]
    assert len(posts) == 1
    assert posts[0].body is not None
    scope = ScopeSet(posts[0].body["scope"].split())
    for name in ("Mail.ReadWrite", "Calendars.ReadWrite", "User.ReadBasic.All"):
        assert name in scope


def test_enabling_the_app_comes_before_consent() -> None:
    snap = with_grants(with_sp(healthy(), account_enabled=False))
    steps = _plan(snap)
    assert [s.finding_ids[0] for s in steps][:2] == ["APP_DISABLED", "SCOPE_MISSING"]
    assert [s.number for s in steps] == list(range(1, len(steps) + 1))


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda p: p.stem)
def test_findings_carry_no_request_of_their_own_for_a_planned_change(tenant: Path) -> None:
    report = _example(tenant.name)
    numbers = {s.number for s in report.plan}
    for f in report.findings:
        for step in f.remediation:
            assert not (step.graph or "").startswith(("PATCH", "POST", "PUT"))
            assert step.powershell is None or step.plan_step is None
            assert step.plan_step is None or step.plan_step in numbers


@pytest.mark.parametrize("tenant", TENANTS, ids=lambda p: p.stem)
def test_no_one_liner_replaces_a_tenant_wide_policy(tenant: Path) -> None:
    report = _example(tenant.name)
    everything = report.model_dump_json()
    assert "authorizationPolicy" not in everything
    assert "adminConsentRequestPolicy" not in everything


def test_admin_center_names_the_tenant() -> None:
    report = _example("partial-scopes.json")
    (step,) = _writes(report)
    assert step.portal_path is not None
    snap = load_snapshot(EXAMPLES / "partial-scopes.json")
    assert step.portal_path.endswith("Recruitee > Permissions")
    assert step.detail is not None
    assert f"'Grant admin consent for {snap.tenant.display_name}' button" in step.detail
    assert "not the same change" in step.detail


def test_findings_follow_the_causal_chain_then_severity() -> None:
    report = _example("revoked-grants.json")
    ids = [f.id for f in report.findings]
    assert ids.index("SCOPE_MISSING") < ids.index("ASSIGNMENT_REQUIRED")
    assert ids.index("USER_CONSENT_DISABLED") < ids.index("GRANT_REVOKED")


def test_leftover_app_is_neither_enabled_nor_granted() -> None:
    """The plan targets the app in use only; the disabled leftover is to be deleted."""
    leftover = recruitee_app(
        recruitee_sp(id=SECOND_SP_ID, app_id=SECOND_APP_ID, account_enabled=False),
        grants=[grant("openid User.Read", client_id=SECOND_SP_ID)],
    )
    report = run(with_apps(healthy(), recruitee_app(), leftover))

    assert report.app_in_use is not None
    assert report.app_in_use.object_id == RECRUITEE_SP_ID
    assert _writes(report) == []
    assert all(s.app_object_id != SECOND_SP_ID for s in report.plan if s.kind == "graph")


def test_app_in_use_is_still_fixed_when_a_leftover_exists() -> None:
    leftover = recruitee_app(
        recruitee_sp(id=SECOND_SP_ID, app_id=SECOND_APP_ID, account_enabled=False), grants=[]
    )
    report = run(
        with_apps(
            healthy(),
            recruitee_app(grants=[grant("openid offline_access User.Read")]),
            leftover,
        )
    )

    writes = _writes(report)
    assert writes
    assert {s.app_object_id for s in writes} == {RECRUITEE_SP_ID}
    assert all(SECOND_SP_ID not in (s.path or "") for s in writes)


def test_demo_plan_does_not_enable_the_leftover() -> None:
    from consent_audit.run_source import demo_snapshot

    full = load_manifest(None)
    report = evaluate(demo_snapshot(), full, full_manifest=full)
    assert not [s for s in _writes(report) if s.body == {"accountEnabled": True}]


def test_sign_ins_failing_only_for_missing_consent_are_resolved_by_the_admin_grant() -> None:
    """AADSTS65001 lasts "until the user reconnects or an admin consents" (entra-behaviour.md):
    with the plan's admin grant, SIGNIN_FAILURES gets no step asking people to reconnect; it
    points at the grant, and the plan's prediction passes."""
    from .builders import sign_in, with_sign_ins

    snap = with_sign_ins(
        with_admin_scopes(healthy(), "offline_access User.Read"),
        sign_in(65001, user_id="u1"),
        sign_in(65001, user_id="u2"),
    )
    report = run(snap)
    failures = next(f for f in report.findings if f.id == "SIGNIN_FAILURES")
    assert failures.severity.value == "warning"
    grant_step = next(s for s in report.plan if s.kind == "graph")
    assert not any("SIGNIN_FAILURES" in s.finding_ids for s in report.plan)
    assert failures.remediation[0].plan_step == grant_step.number
    assert report.prediction is not None
    assert {p.status.value for p in report.prediction.features} == {"pass"}

    # A latest failure of another code (sign-in frequency) is not consent's to end: it keeps
    # its own step. An older one, followed by AADSTS65001, is history.
    other = run(with_sign_ins(snap, sign_in(65001, user_id="u1"), sign_in(70043, user_id="u3")))
    assert any("SIGNIN_FAILURES" in s.finding_ids for s in other.plan)
    earlier = sign_in(70043, user_id="u1")
    later = sign_in(65001, user_id="u1").model_copy(
        update={"created_date_time": earlier.created_date_time + timedelta(hours=1)}
    )
    history = run(with_sign_ins(snap, earlier, later))
    assert not any("SIGNIN_FAILURES" in s.finding_ids for s in history.plan)


def test_the_revocation_step_asks_why_not_for_reconnects_the_grant_makes_needless() -> None:
    """revoked-grants: the admin grant ends AADSTS65001 for everyone (the prediction passes
    with no reconnect), so GRANT_REVOKED's step is its remediation's question, who removed
    consent and why, not 'Ask the affected users to reconnect Recruitee'."""
    report = evaluate(load_snapshot(EXAMPLES / "revoked-grants.json"), load_manifest())
    step = next(s for s in report.plan if "GRANT_REVOKED" in s.finding_ids)
    assert step.summary == (
        "Before consenting again, ask lidia.holloway@treyresearch.net why they removed "
        "Recruitee's consent (2025-06-04)"
    )
    assert "reconnect" not in step.summary
    assert report.prediction is not None
    assert report.prediction.people_must_reconnect is None


def test_no_write_targets_either_app_when_the_app_in_use_is_undecided() -> None:
    """duplicate-apps: two Recruitee apps and nothing shows which one Recruitee uses. A grant
    to either could give Mail.ReadWrite/Mail.Send tenant-wide to the leftover, so the plan
    holds every grant, enable and assignment behind asking Recruitee (the mechanism that holds
    an unconfirmed app's writes), and the findings point at that step first."""
    report = evaluate(load_snapshot(EXAMPLES / "duplicate-apps.json"), load_manifest())
    assert report.app_in_use is not None
    assert report.app_in_use.chosen_by == "undecided"
    assert [s for s in report.plan if s.kind == "graph"] == []
    assert not any(s.summary.startswith("Limit who can use") for s in report.plan)
    ask = report.plan[0]
    assert ask.kind == "manual"
    assert ask.summary == (
        "Ask Recruitee which application is in use, then re-run with --app-id <appId>"
    )
    assert "grants nothing" in (ask.detail or "")
    missing = [f for f in report.findings if f.id == "SCOPE_MISSING"]
    assert missing
    for f in missing:
        assert f.remediation[0].plan_step == ask.number
        assert all(r.graph is None and r.powershell is None for r in f.remediation)
    assert report.prediction is None


def test_the_microsoft_disabled_step_says_to_treat_the_app_as_suspect() -> None:
    """The plan step for an app Microsoft disabled carries both of the finding's actions:
    contact Recruitee, and treat the app as suspect (review its grants and sign-ins), with the
    Permissions page to do the review on."""
    report = evaluate(load_snapshot(EXAMPLES / "microsoft-disabled.json"), load_manifest())
    finding = next(f for f in report.findings if f.id == "APP_DISABLED_BY_MICROSOFT")
    step = next(s for s in report.plan if "APP_DISABLED_BY_MICROSOFT" in s.finding_ids)
    detail = step.detail or ""
    assert "Contact Recruitee" in detail
    assert "treat the application as suspect" in detail
    assert "sign-ins" in detail
    for r in finding.remediation:
        assert r.action in detail
    assert step.portal_path is not None
    assert step.portal_path.endswith("> Permissions")


@pytest.mark.parametrize("user", [None, "lidia.holloway@proseware.com"])
def test_a_revoked_consent_is_asked_about_before_anything_consents_again(user: str | None) -> None:
    """revoked-consent: grady.archie removed Recruitee's grant (audit log). A removal may be
    deliberate, so the plan's first consent step asks him why, naming the entry's actor and
    date, before limiting who can use the app and before the grant; `fix --apply` holds the
    grant until that step is confirmed (writes_in_order, as for the limit step)."""
    from consent_audit.evaluate.fixes import manual_steps_before_writes, writes_in_order

    full = load_manifest(None)
    report = evaluate(
        load_snapshot(EXAMPLES / "revoked-consent.json"), full, full_manifest=full, user=user
    )
    revoked = next(s for s in report.plan if "GRANT_REVOKED" in s.finding_ids)
    grant_steps = _writes(report)
    assert grant_steps
    assert all(revoked.number < s.number for s in grant_steps)
    limit = [s for s in report.plan if "limit who can use" in s.summary.casefold()]
    assert limit
    assert all(revoked.number < s.number for s in limit)
    own = [s for s in report.plan if s.summary.startswith("Ask lidia")]
    assert all(revoked.number < s.number for s in own)
    assert revoked.summary == (
        "Before consenting again, ask grady.archie@proseware.com why they removed "
        "Recruitee's consent (2025-06-19)"
    )
    assert revoked.detail is not None
    assert "audit log entry Directory_7C18AD73_-28rk" in revoked.detail
    assert revoked in manual_steps_before_writes(report.plan)
    allowed, pending = writes_in_order(report.plan, [s.number for s in limit])
    assert allowed == []
    assert pending == revoked
    allowed, pending = writes_in_order(report.plan, [revoked.number, *(s.number for s in limit)])
    assert allowed == grant_steps
    assert pending is None


def test_a_revocation_whose_entry_names_nobody_says_to_find_out_who() -> None:
    """An audit entry without an initiator: never 'ask unknown'."""
    from consent_audit.graph_objects import DirectoryAudit

    snap = load_snapshot(EXAMPLES / "revoked-consent.json")
    assert snap.directory_audits.data
    anonymous = [
        DirectoryAudit.model_validate({**e.model_dump(by_alias=True), "initiatedBy": None})
        for e in snap.directory_audits.data
    ]
    snap = snap.model_copy(
        update={"directory_audits": snap.directory_audits.model_copy(update={"data": anonymous})}
    )
    full = load_manifest(None)
    report = evaluate(snap, full, full_manifest=full)
    revoked = next(s for s in report.plan if "GRANT_REVOKED" in s.finding_ids)
    assert revoked.summary.startswith("Before consenting again, find out who removed")
    text = f"{revoked.summary} {revoked.detail}"
    assert "unknown" not in text


def _with_user(name: str, user: str | None) -> Report:
    full = load_manifest(None)
    return evaluate(load_snapshot(EXAMPLES / name), full, full_manifest=full, user=user)


def test_a_person_who_may_consent_is_asked_first_and_the_tenant_wide_grant_is_the_alternative() -> (
    None
):
    """never-connected, Debra: the tenant's consent policy lets her consent to every scope she
    lacks. Her own consent (a grant on her behalf only, grant-consent-single-user.md) is the
    narrowest fix and comes first; admin consent (on behalf of the whole organization,
    grant-admin-consent.md) is offered only instead of it, saying so and what it changes
    beyond her. `fix --apply` does not wait on her step: the grant is its alternative."""
    from consent_audit.evaluate.fixes import manual_steps_before_writes, writes_in_order

    upn = "debra.berger@proseware-hr.com"
    report = _with_user("never-connected.json", upn)
    own, limit, grant = report.plan
    assert own.kind == "manual"
    assert (
        own.summary
        == f"Ask {upn} to connect Recruitee and accept: their own consent, for them alone"
    )
    assert own.instead_of is None
    assert own.detail is not None
    assert "Calendars.ReadWrite" in own.detail
    assert "Mail.ReadWrite" in own.detail
    assert "on their behalf only" in own.detail
    assert "Nothing changes for anyone else." in own.detail
    assert "step-up consent may still turn the prompt" in own.detail  # no verified publisher
    assert limit.summary.startswith("Instead of step 1: limit who can use Recruitee")
    assert limit.instead_of == 1
    assert grant.kind == "graph"
    assert grant.summary.startswith("Instead of step 1: grant admin consent (for everyone)")
    assert grant.instead_of == 1
    assert grant.trade_off is not None
    assert grant.trade_off.startswith("Tenant-wide: everyone who uses Recruitee gets ")
    assert f"not only {upn}" in grant.trade_off
    assert manual_steps_before_writes(report.plan) == [limit]
    assert writes_in_order(report.plan, [limit.number]) == ([grant], None)
    assert report.prediction is not None
    assert report.prediction.summary.startswith("After step 3 (instead of step 1): ")
    assert report.prediction.manual_steps == [2]
    # The finding says the same: her own reconnect first, the plan's grant after.
    f = next(f for f in report.findings if f.id == "SCOPE_MISSING")
    assert f.remediation[0].action.startswith(f"Ask {upn} to reconnect")
    assert f.remediation[1].plan_step == grant.number


def _own_consent_cases() -> list[tuple[str, str | None]]:
    """Every example audited tenant-wide and for each user its golden reports name."""
    cases: list[tuple[str, str | None]] = []
    for golden in sorted((EXAMPLES / "golden").glob("*.report.json")):
        stem = golden.name.removesuffix(".report.json")
        name, _, user = stem.partition("--")
        if (EXAMPLES / f"{name}.json").exists():
            cases.append((f"{name}.json", user or None))
    return cases


@pytest.mark.parametrize(("name", "user"), _own_consent_cases())
def test_the_admin_route_stays_the_fix_when_the_person_cannot_consent(
    name: str, user: str | None
) -> None:
    """Only a person who may consent to everything they lack is asked first. Tenant-wide, or
    when a scope is refused (the consent policy, assignment required) or undecidable, the
    grant is the fix itself: no step is anyone's alternative."""
    report = _with_user(name, user)
    missing = [f for f in report.findings if f.id == "SCOPE_MISSING" and f.app_object_id]
    answers = [a for f in missing for a in f.evidence.get("user_consent") or []]
    grants = [s for s in report.plan if s.kind == "graph" and "SCOPE_MISSING" in s.finding_ids]
    may = user is not None and bool(answers) and all(a["allowed"] is True for a in answers)
    if may and grants:
        own = next(s for s in report.plan if s.number == grants[0].instead_of)
        assert own.kind == "manual"
        assert own.summary.startswith(f"Ask {user} to connect Recruitee and accept")
        assert own.number < min(s.number for s in grants)
    else:
        assert all(s.instead_of is None for s in report.plan), [s.summary for s in report.plan]
        assert not any(
            s.summary.startswith("Ask ") and "their own consent" in s.summary for s in report.plan
        )
