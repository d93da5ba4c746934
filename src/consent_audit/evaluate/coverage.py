"""Per (app, feature): which scopes consent covers, and whether users could consent to the rest.

Shared by the grant, user-consent and admin-consent-workflow rules so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent_audit.evaluate.builtin_policies import builtin_policies
from consent_audit.evaluate.consent_policy import (
    ABSENT_APP_ID,
    UNPLACED_CLASSIFICATION,
    ConsentDecision,
    ConsentInputs,
    decide,
    scope_id_key,
    step_up_state,
)
from consent_audit.evaluate.context import AuditContext
from consent_audit.graph_objects import PermissionScope, ServicePrincipal
from consent_audit.manifest import Feature
from consent_audit.scopes import ScopeSet, scope_key
from consent_audit.snapshot import RecruiteeApp


@dataclass(frozen=True)
class Coverage:
    app: RecruiteeApp
    feature: Feature
    missing_admin: ScopeSet
    missing: ScopeSet
    decisions: tuple[ConsentDecision, ...]

    @property
    def users_can_consent(self) -> bool | None:
        """True when users may consent to every missing scope; None when undecidable."""
        if any(d.allowed is False for d in self.decisions):
            return False
        if any(d.allowed is None for d in self.decisions):
            return None
        return True

    @property
    def refused(self) -> list[ConsentDecision]:
        return [d for d in self.decisions if d.allowed is False]


def _classifications(
    ctx: AuditContext, graph_scopes: dict[str, PermissionScope] | None
) -> dict[str, str | None]:
    """Permission id -> classification. Every property of a classification is nullable in
    the CSDL: a null ``permissionId`` is placed through ``permissionName`` (the tenant's Graph
    scopes, else the bundled catalog); one that cannot be placed makes any unlisted
    permission's classification unknown, and a null classification is unknown, never
    "not classified" (consent_policy._condition_matches)."""
    out: dict[str, str | None] = {}
    for c in ctx.snapshot.delegated_permission_classifications.data or []:
        pid = c.permission_id
        if pid is None and c.permission_name:
            scope = (graph_scopes or {}).get(scope_key(c.permission_name))
            known = ctx.catalog.by_value(c.permission_name)
            pid = scope.id if scope is not None else known.id if known is not None else None
        out[pid.casefold() if pid else UNPLACED_CLASSIFICATION] = c.classification
    return out


def consent_inputs(ctx: AuditContext) -> ConsentInputs:
    snap = ctx.snapshot
    auth = snap.authorization_policy.data if snap.authorization_policy.ok else None
    policies = (
        {p.id.casefold(): p for p in snap.permission_grant_policies.data or []}
        if snap.permission_grant_policies.ok
        else None
    )
    graph = ctx.graph_sp
    graph_scopes = (
        {
            scope_key(s.value) if s.value is not None else scope_id_key(s.id): s
            for s in graph.oauth2_permission_scopes
        }
        if graph is not None and graph.oauth2_permission_scopes
        else None
    )
    classifications = (
        _classifications(ctx, graph_scopes)
        if snap.delegated_permission_classifications.ok
        else None
    )
    return ConsentInputs(
        assigned=auth.default_user_role_permissions.permission_grant_policies_assigned
        if auth
        else None,
        policies=policies,
        builtin_policies=builtin_policies(),
        classifications=classifications,
        graph_scopes=graph_scopes,
        catalog=ctx.catalog,
        resource_app_id=ctx.manifest.resource_app_id,
        tenant_id=snap.tenant.id,
        consent_requests_on=(
            snap.admin_consent_request_policy.data.is_enabled
            if snap.admin_consent_request_policy.ok and snap.admin_consent_request_policy.data
            else None
        ),
        step_up=step_up_state(snap.consent_policy_settings),
    )


def coverages(ctx: AuditContext, apps: list[RecruiteeApp] | None = None) -> list[Coverage]:
    """One Coverage per readable (app, feature) of ``apps`` (default: every Recruitee app);
    apps whose grants are unreadable are skipped."""
    inputs = consent_inputs(ctx)
    out: list[Coverage] = []
    for app in ctx.apps if apps is None else apps:
        if not ctx.grants_readable(app):
            continue
        for feature in ctx.manifest.features:
            missing = ctx.missing(app, feature)
            decisions = tuple(decide(s, app.service_principal, inputs) for s in missing)
            out.append(Coverage(app, feature, ctx.missing_admin(app, feature), missing, decisions))
    return out


def consent_outlook(ctx: AuditContext) -> list[Coverage]:
    """Coverages of the apps that decide the headline (the app in use, or all when that
    cannot be told), or, when Recruitee is not in the tenant, what the first consent would
    face. Tenant-level consent findings read this, so a leftover app never decides them.

    With no service principal, nothing is granted; whether the first user could consent is
    decided against a stand-in whose publisher and home tenant are unknown.
    """
    if ctx.apps or not ctx.snapshot.recruitee_apps.ok:
        return coverages(ctx, ctx.deciding_apps)
    inputs = consent_inputs(ctx)
    stand_in = stand_in_app(ctx)
    return [
        Coverage(
            stand_in,
            feature,
            feature.scope_set,
            feature.scope_set,
            tuple(decide(s, stand_in.service_principal, inputs) for s in feature.scopes),
        )
        for feature in ctx.manifest.features
    ]


def stand_in_app(ctx: AuditContext) -> RecruiteeApp:
    """Recruitee as the first consent would meet it: unknown publisher, nothing granted."""
    return RecruiteeApp(
        service_principal=ServicePrincipal(
            id=ABSENT_APP_ID,
            app_id=(ctx.app_ids or ctx.manifest.known_app_ids or ("",))[0],
            display_name=ctx.manifest.app_display_name,
        )
    )
