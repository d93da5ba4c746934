"""App assignment: with ``appRoleAssignmentRequired`` only assigned users can sign in.

"If an app role is assigned to a group, *direct* members of the group are also considered
assigned" (resources/approleassignment.md, microsoft-graph-docs-contrib): assignment does not
cascade to nested groups, so a user who reaches an assigned group only through another
group is not assigned (AADSTS50105, EntitlementGrantsNotFound).

"Applications that require users to be assigned to the application must have their
permissions consented by an administrator, even if the user consent policies ... would
otherwise allow a user to consent" (entra-docs configure-user-consent.md,
https://learn.microsoft.com/entra/identity/enterprise-apps/configure-user-consent): the
consent rules (consent_policy.decide) refuse user consent for such an app.

"If the user is a Global Administrator, user assignment requirement will not be applicable"
(note in entra-docs docs/identity-platform/howto-restrict-your-app-to-a-set-of-users.md,
ms.date 07/19/2024,
https://learn.microsoft.com/entra/identity-platform/howto-restrict-your-app-to-a-set-of-users),
so an unassigned Global Administrator is not reported as blocked.
"""

from __future__ import annotations

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding
from consent_audit.graph_objects import AppRoleAssignment
from consent_audit.report import Severity
from consent_audit.snapshot import RecruiteeApp

GLOBAL_ADMIN_ROLE = "62e90394-69f5-4237-9190-012177145e10"
"""Directory role template id of Global Administrator (entra-docs permissions-reference.md)."""


def check_assignment(ctx: AuditContext, out: Outcome) -> None:
    for app in ctx.apps:
        sp = app.service_principal
        if not sp.app_role_assignment_required:
            continue
        part = app.app_role_assigned_to
        if not part.ok:
            out.unknown("app_role_assigned_to", ctx.feature_names if ctx.user else [], sp.id)
            continue
        assignments = part.data or []
        users = [a for a in assignments if _kind(a) == "user"]
        groups = [a for a in assignments if _kind(a) == "group"]
        unplaced = [a for a in assignments if a.principal_id is None or a.principal_type is None]
        if unplaced and not users and not groups:
            # Graph answered null for who is assigned (the CSDL allows it): whether anybody
            # is assigned is unknown, never "nobody".
            out.unknown(
                "app_role_assigned_to",
                ctx.feature_names,
                sp.id,
                reason=_unplaced_reason(unplaced),
            )
            continue
        nobody = not users and not groups
        out.add(
            finding(
                "ASSIGNMENT_REQUIRED",
                f"Assignment is required for {ctx.app_label(sp)}: only assigned users, and "
                "direct members of assigned groups, can sync. "
                + (
                    "Nobody is assigned, so no user can sync."
                    if nobody
                    else f"{len(users)} user(s) and {len(groups)} group(s) are assigned."
                )
                + " Apps that require assignment always need admin consent.",
                severity=Severity.WARNING if nobody else Severity.INFO,
                features=ctx.feature_names if nobody else [],
                app_object_id=sp.id,
                evidence={
                    "appRoleAssignmentRequired": True,
                    "assigned_users": len(users),
                    "assigned_groups": len(groups),
                    "group_ids": [g.principal_id for g in groups][:50],
                },
                remediation=remediation.assignment_properties(sp) if nobody else [],
            )
        )
        if ctx.user is not None:
            _check_user(ctx, out, app)


def _check_user(ctx: AuditContext, out: Outcome, app: RecruiteeApp) -> None:
    user = ctx.user
    assert user is not None
    sp = app.service_principal
    assignments = app.app_role_assigned_to.data or []
    uid = user.id.casefold()
    direct = {g.casefold() for g in user.member_of_group_ids}
    transitive = {g.casefold() for g in user.transitive_member_of_group_ids}
    for a in assignments:
        kind = _kind(a)
        pid = (a.principal_id or "").casefold()
        if (kind == "user" and pid == uid) or (kind == "group" and pid in direct):
            return
    if GLOBAL_ADMIN_ROLE in {r.casefold() for r in user.directory_role_template_ids}:
        return
    unplaced = [a for a in assignments if a.principal_id is None or a.principal_type is None]
    if unplaced:
        # An assignment whose principal Graph answered null may be this user's (or a group
        # of theirs): "not assigned" cannot be confirmed.
        out.unknown(
            "app_role_assigned_to", ctx.feature_names, sp.id, reason=_unplaced_reason(unplaced)
        )
        return
    nested = [
        a
        for a in assignments
        if _kind(a) == "group" and (a.principal_id or "").casefold() in transitive
    ]
    near_miss = ""
    if nested:
        names = ", ".join(
            f"'{a.principal_display_name or user.group_display_names.get(str(a.principal_id), '')}'"
            f" ({a.principal_id})"
            for a in nested
        )
        near_miss = (
            f" {user.user_principal_name} is in assigned group {names} only through a nested "
            "group; Entra does not cascade app assignment to nested groups, so this does not "
            "count. Add the user, or a group they are a direct member of."
        )
    out.add(
        finding(
            "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED",
            f"{user.user_principal_name} is not assigned to {ctx.app_label(sp)}, directly or "
            "through a group they are a direct member of; sign-in fails with AADSTS50105."
            + near_miss,
            features=ctx.feature_names,
            app_object_id=sp.id,
            evidence={
                "user_id": user.id,
                "assigned_group_ids": [a.principal_id for a in assignments if _kind(a) == "group"][
                    :50
                ],
                "nested_only_group_ids": [a.principal_id for a in nested],
            },
            remediation=remediation.assign_principal(sp),
        )
    )


def _kind(assignment: AppRoleAssignment) -> str:
    """``user``, ``group``, ``serviceprincipal`` or ``""`` when Graph answered null."""
    return (assignment.principal_type or "").casefold()


def _unplaced_reason(unplaced: list[AppRoleAssignment]) -> str:
    ids = ", ".join(a.id for a in unplaced[:5])
    return (
        f"Graph answered null for the principal of {len(unplaced)} assignment(s) ({ids}), "
        "so who they assign is unknown"
    )
