"""The changes that would resolve the findings consent-audit can fix itself (pure planning).

Fixable through Graph, with the least write permission each needs:
- missing admin consent: add the scopes to the ``AllPrincipals`` grant (PATCH
  /oauth2PermissionGrants/{id}) or create it (POST /oauth2PermissionGrants);
  DelegatedPermissionGrant.ReadWrite.All (oauth2permissiongrant-update.md, -post).
- a disabled service principal: PATCH /servicePrincipals/{id} ``accountEnabled``;
  Application.ReadWrite.All (serviceprincipal-update.md).
- a user not assigned: POST /servicePrincipals/{id}/appRoleAssignedTo with the default role
  ``00000000-0000-0000-0000-000000000000``; AppRoleAssignment.ReadWrite.All
  (serviceprincipal-post-approleassignedto.md).
Tenant-wide policy (user consent settings, admin consent workflow, Conditional Access) is a
security decision for a person, so those stay manual steps taken from the findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consent_audit.catalog import graph_catalog
from consent_audit.evaluate.context import AuditContext
from consent_audit.evaluate.remediation import ENTERPRISE_APPS
from consent_audit.manifest import Manifest
from consent_audit.report import Report
from consent_audit.scopes import ScopeSet, parse_scope_string
from consent_audit.snapshot import RecruiteeApp, TenantSnapshot

DEFAULT_APP_ROLE = "00000000-0000-0000-0000-000000000000"
GRANT_WRITE = "DelegatedPermissionGrant.ReadWrite.All"
APP_WRITE = "Application.ReadWrite.All"
ASSIGN_WRITE = "AppRoleAssignment.ReadWrite.All"
FIXABLE = {"SCOPE_MISSING", "APP_DISABLED", "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED"}


@dataclass(frozen=True)
class FixAction:
    """One Graph write, with the admin-center equivalent and the permission it needs."""

    finding_id: str
    summary: str
    method: str
    path: str
    body: dict[str, Any]
    permission: str
    portal: str


@dataclass(frozen=True)
class FixPlan:
    actions: list[FixAction] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)
    """Findings at warning or above that need a person's decision, as '<id>: <title>'."""

    @property
    def permissions(self) -> list[str]:
        return sorted({a.permission for a in self.actions})


def plan_fixes(
    snapshot: TenantSnapshot,
    manifest: Manifest,
    report: Report,
    user: str | None = None,
    app_ids: tuple[str, ...] = (),
) -> FixPlan:
    """Plan the writes that resolve the fixable findings of ``report`` (from ``snapshot``)."""
    ctx = AuditContext(
        snapshot=snapshot,
        manifest=manifest,
        full_manifest=manifest,
        catalog=graph_catalog(),
        app_ids=app_ids,
        user_lookup=snapshot.find_user(user) if user else None,
    )
    by_app = {(f.id, f.app_object_id) for f in report.findings}
    actions: list[FixAction] = []
    for app in ctx.apps:
        sp = app.service_principal
        name = ctx.app_label(sp)
        if ("APP_DISABLED", sp.id) in by_app:
            actions.append(
                FixAction(
                    "APP_DISABLED",
                    f"Enable {name} for sign-in",
                    "PATCH",
                    f"/servicePrincipals/{sp.id}",
                    {"accountEnabled": True},
                    APP_WRITE,
                    f"{ENTERPRISE_APPS} > {sp.display_name} > Properties > Enabled for users to "
                    "sign-in? = Yes",
                )
            )
        if ("SCOPE_MISSING", sp.id) in by_app and ctx.graph_sp is not None:
            actions.append(_grant_action(ctx, app))
        if ("ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED", sp.id) in by_app and ctx.user:
            actions.append(
                FixAction(
                    "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED",
                    f"Assign {ctx.user.user_principal_name} to {name}",
                    "POST",
                    f"/servicePrincipals/{sp.id}/appRoleAssignedTo",
                    {
                        "principalId": ctx.user.id,
                        "resourceId": sp.id,
                        "appRoleId": DEFAULT_APP_ROLE,
                    },
                    ASSIGN_WRITE,
                    f"{ENTERPRISE_APPS} > {sp.display_name} > Users and groups > Add user/group",
                )
            )
    manual = [
        f"{f.id}: {f.title}"
        for f in report.findings
        if f.id not in FIXABLE and f.severity.rank >= 2
    ]
    return FixPlan(actions=actions, manual=list(dict.fromkeys(manual)))


def _grant_action(ctx: AuditContext, app: RecruiteeApp) -> FixAction:
    sp = app.service_principal
    graph = ctx.graph_sp
    assert graph is not None
    missing = ScopeSet()
    for feature in ctx.manifest.features:
        missing = missing.union(ctx.missing_admin(app, feature))
    wanted = ctx.canonical(missing)
    existing = next(
        (g for g in ctx.graph_grants(app) if g.consent_type.casefold() == "allprincipals"), None
    )
    portal = (
        f"{ENTERPRISE_APPS} > {sp.display_name} > Permissions > Grant admin consent for "
        "{organization}"
    )
    if existing is not None:
        held = parse_scope_string(existing.scope)
        scope = " ".join([*held, *[s for s in wanted if s not in ScopeSet(held)]])
        return FixAction(
            "SCOPE_MISSING",
            f"Add {', '.join(wanted)} to the admin grant of {ctx.app_label(sp)}",
            "PATCH",
            f"/oauth2PermissionGrants/{existing.id}",
            {"scope": scope},
            GRANT_WRITE,
            portal,
        )
    return FixAction(
        "SCOPE_MISSING",
        f"Grant admin consent for {', '.join(wanted)} to {ctx.app_label(sp)}",
        "POST",
        "/oauth2PermissionGrants",
        {
            "clientId": sp.id,
            "consentType": "AllPrincipals",
            "resourceId": graph.id,
            "scope": " ".join(wanted),
        },
        GRANT_WRITE,
        portal,
    )
