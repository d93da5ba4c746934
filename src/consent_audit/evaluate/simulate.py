"""The plan's Graph steps applied to a snapshot offline: snapshot in, snapshot out.

Why: before anyone changes a tenant, the plan can show what its changes lead to. Each step
carries the request ``fix --apply`` sends (``method``, ``path``, ``body``, built by
evaluate/fixes.py); this module recognises it as one of :data:`WRITES`, applies that same
request to the snapshot the way Graph applies it, and evaluation audits the result again
(``Report.prediction``).

How Graph applies each write (microsoft-graph-docs-contrib api-reference/v1.0/api/):
- ``PATCH /servicePrincipals/{id}`` sets the properties sent (serviceprincipal-update.md);
- ``PATCH /oauth2PermissionGrants/{id}`` with ``scope`` *replaces* the scope string
  (oauth2permissiongrant-update.md);
- ``POST /oauth2PermissionGrants`` creates a grant (oauth2permissiongrant-post.md);
- ``POST /servicePrincipals/{id}/appRoleAssignedTo`` assigns a principal
  (serviceprincipal-post-approleassignedto.md).

A request this module does not know is not guessed at: :class:`UnknownWrite` names it, and
the caller leaves the prediction out rather than predict from half the plan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from consent_audit.graph_objects import AppRoleAssignment, OAuth2PermissionGrant
from consent_audit.report import PlanStep
from consent_audit.snapshot import Part, RecruiteeApp, TenantSnapshot

_SP = re.compile(r"/servicePrincipals/(?P<sp>[^/?#]+)")
_GRANT = re.compile(r"/oauth2PermissionGrants/(?P<grant>[^/?#]+)")
_GRANTS = re.compile(r"/oauth2PermissionGrants")
_ASSIGN = re.compile(r"/servicePrincipals/(?P<sp>[^/?#]+)/appRoleAssignedTo")

WRITES: dict[str, tuple[str, re.Pattern[str]]] = {
    "enable_app": ("PATCH", _SP),
    "update_grant": ("PATCH", _GRANT),
    "create_grant": ("POST", _GRANTS),
    "assign": ("POST", _ASSIGN),
}
"""Every write the plan makes: (method, path pattern). A step matching none is refused."""


class UnknownWrite(ValueError):
    """A plan step whose request is not one of :data:`WRITES`."""


def write_kind(step: PlanStep) -> str:
    """Which of :data:`WRITES` the step's request is."""
    for kind, (method, pattern) in WRITES.items():
        if step.method == method and step.path is not None and pattern.fullmatch(step.path):
            return kind
    raise UnknownWrite(f"{step.method} {step.path}")


def apply_steps(snapshot: TenantSnapshot, steps: Sequence[PlanStep]) -> TenantSnapshot:
    """``snapshot`` as it would be after Graph accepted each step's request, in order.

    Manual steps (no request) are skipped: a person decides them. Pure: the input is not
    changed."""
    apps = [a.model_copy(deep=True) for a in snapshot.recruitee_apps.data or []]
    for n, step in enumerate(s for s in steps if s.method is not None):
        kind = write_kind(step)
        body: dict[str, Any] = dict(step.body or {})
        path = step.path or ""
        if kind == "enable_app":
            sp_id = _match(_SP, path, "sp")
            apps = [_with_sp(a, sp_id, body) for a in apps]
        elif kind == "update_grant":
            grant_id = _match(_GRANT, path, "grant")
            apps = [_patch_grant(a, grant_id, body) for a in apps]
        elif kind == "create_grant":
            apps = [_post_grant(a, body, n) for a in apps]
        else:
            sp_id = _match(_ASSIGN, path, "sp")
            apps = [_assign(a, sp_id, body, n) for a in apps]
    part = snapshot.recruitee_apps.model_copy(update={"data": apps})
    return snapshot.model_copy(update={"recruitee_apps": part})


def _match(pattern: re.Pattern[str], path: str, group: str) -> str:
    found = pattern.fullmatch(path)
    assert found is not None  # write_kind matched it
    return found.group(group).casefold()


def _with_sp(app: RecruiteeApp, sp_id: str, body: dict[str, Any]) -> RecruiteeApp:
    sp = app.service_principal
    if sp.id.casefold() != sp_id:
        return app
    fields = {"account_enabled": body["accountEnabled"]} if "accountEnabled" in body else {}
    return app.model_copy(update={"service_principal": sp.model_copy(update=fields)})


def _grants(app: RecruiteeApp) -> list[OAuth2PermissionGrant]:
    return list(app.oauth2_permission_grants.data or [])


def _set_grants(app: RecruiteeApp, grants: list[OAuth2PermissionGrant]) -> RecruiteeApp:
    part = app.oauth2_permission_grants.model_copy(update={"data": grants})
    return app.model_copy(update={"oauth2_permission_grants": part})


def _patch_grant(app: RecruiteeApp, grant_id: str, body: dict[str, Any]) -> RecruiteeApp:
    grants = _grants(app)
    if not any(g.id.casefold() == grant_id for g in grants) or "scope" not in body:
        return app
    return _set_grants(
        app,
        [
            g.model_copy(update={"scope": body["scope"]}) if g.id.casefold() == grant_id else g
            for g in grants
        ],
    )


def _post_grant(app: RecruiteeApp, body: dict[str, Any], n: int) -> RecruiteeApp:
    if str(body.get("clientId", "")).casefold() != app.service_principal.id.casefold():
        return app
    grant = OAuth2PermissionGrant(
        id=f"predicted-grant-{n}",
        client_id=app.service_principal.id,
        consent_type=body.get("consentType"),
        principal_id=body.get("principalId"),
        resource_id=str(body.get("resourceId", "")),
        scope=body.get("scope", ""),
    )
    if not app.oauth2_permission_grants.ok:
        return app  # a part that was not read stays unread: the prediction stays unknown
    return _set_grants(app, [*_grants(app), grant])


def _assign(app: RecruiteeApp, sp_id: str, body: dict[str, Any], n: int) -> RecruiteeApp:
    if app.service_principal.id.casefold() != sp_id or not app.app_role_assigned_to.ok:
        return app
    assignment = AppRoleAssignment(
        id=f"predicted-assignment-{n}",
        principal_id=body.get("principalId"),
        principal_type="User",
        app_role_id=str(body.get("appRoleId", "00000000-0000-0000-0000-000000000000")),
        resource_id=app.service_principal.id,
    )
    part: Part[list[AppRoleAssignment]] = app.app_role_assigned_to.model_copy(
        update={"data": [*(app.app_role_assigned_to.data or []), assignment]}
    )
    return app.model_copy(update={"app_role_assigned_to": part})
