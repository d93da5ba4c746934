"""fix planning: the writes that resolve fixable findings, and nothing for the rest."""

from __future__ import annotations

from consent_audit.evaluate.fixes import FixPlan, plan_fixes
from consent_audit.scopes import ScopeSet
from consent_audit.snapshot import TenantSnapshot

from .builders import (
    GRAPH_SP_ID,
    RECRUITEE_SP_ID,
    USER_ID,
    USER_UPN,
    assignment,
    ca_policy,
    healthy,
    manifest,
    run,
    with_admin_scopes,
    with_assignments,
    with_ca_policy,
    with_grants,
    with_sp,
    with_user,
)


def _plan(snap: TenantSnapshot, user: str | None = None) -> FixPlan:
    return plan_fixes(snap, manifest(), run(snap, user=user), user=user)


def test_healthy_tenant_needs_no_change() -> None:
    plan = _plan(healthy())
    assert plan.actions == []
    assert plan.manual == []


def test_partial_admin_grant_is_patched_with_the_union_of_scopes() -> None:
    snap = with_admin_scopes(healthy(), "openid offline_access user.read Calendars.ReadWrite")
    (action,) = _plan(snap).actions
    assert action.method == "PATCH"
    assert action.path.startswith("/oauth2PermissionGrants/")
    scopes = ScopeSet(action.body["scope"].split())
    for needed in ("Mail.Send", "Mail.ReadWrite", "email", "User.ReadBasic.All", "user.read"):
        assert needed in scopes
    assert action.body["scope"].startswith("openid offline_access user.read")  # kept as written
    assert action.permission == "DelegatedPermissionGrant.ReadWrite.All"


def test_missing_admin_grant_is_created_for_graph() -> None:
    (action,) = _plan(with_grants(healthy())).actions
    assert action.method == "POST"
    assert action.path == "/oauth2PermissionGrants"
    assert action.body["clientId"] == RECRUITEE_SP_ID
    assert action.body["resourceId"] == GRAPH_SP_ID
    assert action.body["consentType"] == "AllPrincipals"


def test_disabled_app_is_enabled() -> None:
    (action,) = _plan(with_sp(healthy(), account_enabled=False)).actions
    assert (action.method, action.body) == ("PATCH", {"accountEnabled": True})
    assert action.permission == "Application.ReadWrite.All"


def test_unassigned_user_is_assigned_with_the_default_role() -> None:
    snap = with_user(
        with_assignments(
            with_sp(healthy(), app_role_assignment_required=True), assignment("someone-else")
        )
    )
    (action,) = _plan(snap, user=USER_UPN).actions
    assert action.path == f"/servicePrincipals/{RECRUITEE_SP_ID}/appRoleAssignedTo"
    assert action.body["principalId"] == USER_ID
    assert action.body["appRoleId"] == "00000000-0000-0000-0000-000000000000"


def test_conditional_access_block_is_left_to_a_person() -> None:
    plan = _plan(with_ca_policy(healthy(), ca_policy(display_name="Block all")))
    assert plan.actions == []
    assert plan.manual == ["CA_POLICY_BLOCKS: A Conditional Access policy blocks Recruitee"]
