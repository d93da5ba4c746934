"""A small typed builder for TenantSnapshot: a healthy baseline tenant plus focused overrides.

``healthy()`` is a tenant where everything works: one Recruitee service principal, the
Microsoft Graph service principal exposing the scopes in play, one ``AllPrincipals`` grant
covering every manifest scope, the legacy user-consent policy, the admin consent workflow on,
no Conditional Access policies and empty logs. Every ``with_*`` helper returns a *new*
snapshot (the models are frozen), so a test states only what differs from the baseline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from consent_audit.catalog import graph_catalog
from consent_audit.evaluate import evaluate
from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AppConsentRequest,
    AppRoleAssignment,
    AuthorizationPolicy,
    ConditionalAccessApplications,
    ConditionalAccessConditions,
    ConditionalAccessGrantControls,
    ConditionalAccessPolicy,
    ConditionalAccessSessionControls,
    ConditionalAccessUsers,
    DefaultUserRolePermissions,
    DelegatedPermissionClassification,
    DirectoryAudit,
    OAuth2PermissionGrant,
    PermissionGrantConditionSet,
    PermissionGrantPolicy,
    PermissionScope,
    ReviewerScope,
    ServicePrincipal,
    SignIn,
    SignInFrequency,
    SignInStatus,
    VerifiedPublisher,
)
from consent_audit.manifest import Manifest, load_manifest
from consent_audit.report import FeatureVerdict, Finding, Report
from consent_audit.snapshot import (
    AuditedUser,
    Part,
    PartStatus,
    RecruiteeApp,
    TenantInfo,
    TenantSnapshot,
    UserLookup,
)

TENANT_ID = "aaaaaaaa-0000-0000-0000-000000000001"
RECRUITEE_TENANT_ID = "bbbbbbbb-0000-0000-0000-000000000002"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_SP_ID = "9a0c0000-0000-0000-0000-00000000a001"
RECRUITEE_APP_ID = "c0ffee00-0000-0000-0000-000000000001"
RECRUITEE_SP_ID = "5e000000-0000-0000-0000-000000000001"
SECOND_APP_ID = "c0ffee00-0000-0000-0000-000000000002"
SECOND_SP_ID = "5e000000-0000-0000-0000-000000000002"
USER_ID = "0e000000-0000-0000-0000-00000000b0b0"
USER_UPN = "megan.bowen@contoso.com"

MAILBOX_SCOPES = ("offline_access", "User.Read", "Mail.Send", "Mail.ReadWrite", "email", "openid")
CALENDAR_SCOPES = ("offline_access", "User.Read", "Calendars.ReadWrite")
ROOMS_SCOPES = ("offline_access", "User.ReadBasic.All")
ALL_SCOPES = (
    "offline_access User.Read Mail.Send Mail.ReadWrite email openid "
    "Calendars.ReadWrite User.ReadBasic.All"
)
SCOPES_IN_PLAY = (*ALL_SCOPES.split(), "profile", "Files.Read.All", "Directory.Read.All")

LEGACY = "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
LOW = "ManagePermissionGrantsForSelf.microsoft-user-default-low"
RECOMMENDED = "ManagePermissionGrantsForSelf.microsoft-user-default-recommended"

COLLECTED_AT = datetime(2025, 1, 15, 9, 0, tzinfo=timezone.utc)
_counter = iter(range(1, 1_000_000))


def scope_id(value: str) -> str:
    """The Graph permission id of a delegated scope, from the bundled catalog."""
    found = graph_catalog().by_value(value)
    assert found is not None, value
    return found.id


def manifest() -> Manifest:
    return load_manifest()


# ----------------------------------------------------------------------------- Graph objects


def permission_scope(value: str, *, admin: bool | None = None) -> PermissionScope:
    """A Graph oauth2PermissionScope; ``admin`` defaults to what the catalog says."""
    found = graph_catalog().by_value(value)
    assert found is not None, value
    is_admin = found.admin_consent_required if admin is None else admin
    return PermissionScope(id=found.id, value=found.value, type="Admin" if is_admin else "User")


def graph_sp(
    scopes: Iterable[str] = SCOPES_IN_PLAY, *, admin_only: Iterable[str] = ()
) -> ServicePrincipal:
    forced = {s.casefold() for s in admin_only}
    return ServicePrincipal(
        id=GRAPH_SP_ID,
        app_id=GRAPH_APP_ID,
        display_name="Microsoft Graph",
        oauth2_permission_scopes=[
            permission_scope(s, admin=True if s.casefold() in forced else None) for s in scopes
        ],
    )


def recruitee_sp(
    *,
    id: str = RECRUITEE_SP_ID,
    app_id: str = RECRUITEE_APP_ID,
    display_name: str = "Recruitee",
    verified: bool = False,
    **overrides: Any,
) -> ServicePrincipal:
    publisher = (
        VerifiedPublisher(display_name="Recruitee B.V.", verified_publisher_id="5555555")
        if verified
        else None
    )
    fields: dict[str, Any] = {
        "id": id,
        "app_id": app_id,
        "display_name": display_name,
        "app_owner_organization_id": RECRUITEE_TENANT_ID,
        "verified_publisher": publisher,
        "sign_in_audience": "AzureADMultipleOrgs",
        **overrides,
    }
    return ServicePrincipal(**fields)


def grant(
    scope: str | None = ALL_SCOPES,
    *,
    consent_type: str = "AllPrincipals",
    principal_id: str | None = None,
    client_id: str = RECRUITEE_SP_ID,
    resource_id: str = GRAPH_SP_ID,
    id: str | None = None,
) -> OAuth2PermissionGrant:
    return OAuth2PermissionGrant(
        id=id or f"grant-{next(_counter)}",
        client_id=client_id,
        consent_type=consent_type,
        principal_id=principal_id,
        resource_id=resource_id,
        scope=scope,
    )


def user_grant(scope: str, principal_id: str = USER_ID) -> OAuth2PermissionGrant:
    return grant(scope, consent_type="Principal", principal_id=principal_id)


def assignment(principal_id: str, principal_type: str = "User", **kw: Any) -> AppRoleAssignment:
    return AppRoleAssignment(
        id=f"assignment-{next(_counter)}",
        principal_id=principal_id,
        principal_type=principal_type,
        resource_id=RECRUITEE_SP_ID,
        **kw,
    )


def recruitee_app(
    sp: ServicePrincipal | None = None,
    *,
    grants: Sequence[OAuth2PermissionGrant] | None = None,
    assignments: Sequence[AppRoleAssignment] = (),
    grants_part: Part[list[OAuth2PermissionGrant]] | None = None,
    assignments_part: Part[list[AppRoleAssignment]] | None = None,
) -> RecruiteeApp:
    sp = sp or recruitee_sp()
    if grants is None:
        grants = [grant(client_id=sp.id)]
    return RecruiteeApp(
        service_principal=sp,
        oauth2_permission_grants=grants_part or Part(data=list(grants)),
        app_role_assigned_to=assignments_part or Part(data=list(assignments)),
    )


def condition_set(**kw: Any) -> PermissionGrantConditionSet:
    return PermissionGrantConditionSet(**kw)


def grant_policy(
    id: str,
    includes: Sequence[PermissionGrantConditionSet] = (),
    excludes: Sequence[PermissionGrantConditionSet] = (),
) -> PermissionGrantPolicy:
    return PermissionGrantPolicy(
        id=id, display_name=id, includes=list(includes), excludes=list(excludes)
    )


def ca_policy(
    *,
    state: str = "enabled",
    include_apps: Sequence[str] = ("All",),
    exclude_apps: Sequence[str] = (),
    include_users: Sequence[str] = ("All",),
    exclude_users: Sequence[str] = (),
    include_groups: Sequence[str] = (),
    exclude_groups: Sequence[str] = (),
    include_roles: Sequence[str] = (),
    include_guests: dict[str, Any] | None = None,
    client_app_types: Sequence[str] = ("all",),
    controls: Sequence[str] = ("block",),
    operator: str = "OR",
    sign_in_frequency: SignInFrequency | None = None,
    display_name: str | None = None,
    **conditions: Any,
) -> ConditionalAccessPolicy:
    n = next(_counter)
    return ConditionalAccessPolicy(
        id=f"ca-{n}",
        display_name=display_name or f"CA policy {n}",
        state=state,
        conditions=ConditionalAccessConditions(
            applications=ConditionalAccessApplications(
                include_applications=list(include_apps), exclude_applications=list(exclude_apps)
            ),
            users=ConditionalAccessUsers(
                include_users=list(include_users),
                exclude_users=list(exclude_users),
                include_groups=list(include_groups),
                exclude_groups=list(exclude_groups),
                include_roles=list(include_roles),
                include_guests_or_external_users=include_guests,
            ),
            client_app_types=list(client_app_types),
            **conditions,
        ),
        grant_controls=(
            ConditionalAccessGrantControls(operator=operator, built_in_controls=list(controls))
            if controls
            else None
        ),
        session_controls=(
            ConditionalAccessSessionControls(sign_in_frequency=sign_in_frequency)
            if sign_in_frequency
            else None
        ),
    )


def audited_user(**overrides: Any) -> AuditedUser:
    fields: dict[str, Any] = {
        "id": USER_ID,
        "user_principal_name": USER_UPN,
        "display_name": "Megan Bowen",
        **overrides,
    }
    return AuditedUser(**fields)


def directory_audit(
    activity: str, *, target_id: str = RECRUITEE_SP_ID, result: str = "success", **kw: Any
) -> DirectoryAudit:
    return DirectoryAudit.model_validate(
        {
            "id": f"audit-{next(_counter)}",
            "category": "ApplicationManagement",
            "activityDisplayName": activity,
            "activityDateTime": kw.pop("when", "2025-01-10T08:00:00Z"),
            "result": result,
            "initiatedBy": {"user": {"id": "admin-1", "userPrincipalName": "admin@contoso.com"}},
            "targetResources": [{"id": target_id, "displayName": "Recruitee"}],
            **kw,
        }
    )


def sign_in(error_code: int, *, app_id: str = RECRUITEE_APP_ID, user_id: str = USER_ID) -> SignIn:
    return SignIn(
        id=f"signin-{next(_counter)}",
        created_date_time=datetime(2025, 1, 14, 12, 0, tzinfo=timezone.utc),
        app_id=app_id,
        app_display_name="Recruitee",
        user_id=user_id,
        status=SignInStatus(error_code=error_code, failure_reason=f"failure {error_code}"),
    )


# ----------------------------------------------------------------------------- the snapshot


def healthy(**overrides: Any) -> TenantSnapshot:
    """The healthy baseline tenant; keyword overrides replace whole snapshot fields."""
    fields: dict[str, Any] = {
        "tool_version": "test",
        "collected_at": COLLECTED_AT,
        "tenant": TenantInfo(id=TENANT_ID, default_domain="contoso.com", display_name="Contoso"),
        "recruitee_apps": Part(data=[recruitee_app()]),
        "graph_service_principal": Part(data=graph_sp()),
        "delegated_permission_classifications": Part(data=[]),
        "authorization_policy": Part(
            data=AuthorizationPolicy(
                default_user_role_permissions=DefaultUserRolePermissions(
                    allowed_to_create_apps=True,
                    permission_grant_policies_assigned=[LEGACY],
                )
            )
        ),
        "permission_grant_policies": Part(data=[]),
        "admin_consent_request_policy": Part(
            data=AdminConsentRequestPolicy(
                is_enabled=True,
                notify_reviewers=True,
                reviewers=[ReviewerScope(query="/users/admin-1", query_type="MicrosoftGraph")],
            )
        ),
        "app_consent_requests": Part(data=[]),
        "conditional_access_policies": Part(data=[]),
        "directory_audits": Part(data=[]),
        "sign_ins": Part(data=[]),
        **overrides,
    }
    return TenantSnapshot(**fields)


def _replace(snap: TenantSnapshot, **update: Any) -> TenantSnapshot:
    return snap.model_copy(update=update)


def with_apps(snap: TenantSnapshot, *apps: RecruiteeApp) -> TenantSnapshot:
    return _replace(snap, recruitee_apps=Part(data=list(apps)))


def _first_app(snap: TenantSnapshot) -> RecruiteeApp:
    apps = snap.recruitee_apps.data
    assert apps, "the snapshot holds no Recruitee app"
    return apps[0]


def with_sp(snap: TenantSnapshot, **sp_fields: Any) -> TenantSnapshot:
    """Change fields of the (first) Recruitee service principal."""
    app = _first_app(snap)
    sp = app.service_principal.model_copy(update=sp_fields)
    return with_apps(snap, app.model_copy(update={"service_principal": sp}))


def with_grants(snap: TenantSnapshot, *grants: OAuth2PermissionGrant) -> TenantSnapshot:
    """Replace the (first) Recruitee app's grants."""
    app = _first_app(snap)
    return with_apps(
        snap, app.model_copy(update={"oauth2_permission_grants": Part(data=list(grants))})
    )


def with_admin_scopes(snap: TenantSnapshot, scope: str) -> TenantSnapshot:
    """Replace the admin (AllPrincipals) grant's scope string."""
    return with_grants(snap, grant(scope))


def with_assignments(
    snap: TenantSnapshot, *assignments: AppRoleAssignment, required: bool = True
) -> TenantSnapshot:
    snap = with_sp(snap, app_role_assignment_required=required)
    app = _first_app(snap)
    return with_apps(
        snap, app.model_copy(update={"app_role_assigned_to": Part(data=list(assignments))})
    )


def with_policy_assigned(snap: TenantSnapshot, *entries: str) -> TenantSnapshot:
    """Set ``permissionGrantPoliciesAssigned`` (no argument: user consent off)."""
    auth = snap.authorization_policy.data or AuthorizationPolicy()
    perms = auth.default_user_role_permissions.model_copy(
        update={"permission_grant_policies_assigned": list(entries)}
    )
    return _replace(
        snap,
        authorization_policy=Part(
            data=auth.model_copy(update={"default_user_role_permissions": perms})
        ),
    )


def with_allowed_to_create_apps(snap: TenantSnapshot, allowed: bool | None) -> TenantSnapshot:
    auth = snap.authorization_policy.data or AuthorizationPolicy()
    perms = auth.default_user_role_permissions.model_copy(
        update={"allowed_to_create_apps": allowed}
    )
    return _replace(
        snap,
        authorization_policy=Part(
            data=auth.model_copy(update={"default_user_role_permissions": perms})
        ),
    )


def with_grant_policies(snap: TenantSnapshot, *policies: PermissionGrantPolicy) -> TenantSnapshot:
    return _replace(snap, permission_grant_policies=Part(data=list(policies)))


def with_classifications(snap: TenantSnapshot, **by_scope: str) -> TenantSnapshot:
    """Classify Graph scopes, e.g. ``with_classifications(s, offline_access="low")``."""
    return _replace(
        snap,
        delegated_permission_classifications=Part(
            data=[
                DelegatedPermissionClassification(
                    id=f"class-{scope}",
                    permission_id=scope_id(scope),
                    permission_name=scope,
                    classification=level,
                )
                for scope, level in by_scope.items()
            ]
        ),
    )


def with_workflow(snap: TenantSnapshot, enabled: bool) -> TenantSnapshot:
    return _replace(
        snap, admin_consent_request_policy=Part(data=AdminConsentRequestPolicy(is_enabled=enabled))
    )


def with_consent_requests(snap: TenantSnapshot, *requests: AppConsentRequest) -> TenantSnapshot:
    return _replace(snap, app_consent_requests=Part(data=list(requests)))


def with_ca_policy(snap: TenantSnapshot, *policies: ConditionalAccessPolicy) -> TenantSnapshot:
    return _replace(snap, conditional_access_policies=Part(data=list(policies)))


def with_user(
    snap: TenantSnapshot,
    user: AuditedUser | None = None,
    *,
    query: str = USER_UPN,
    status: PartStatus = PartStatus.OK,
    **user_fields: Any,
) -> TenantSnapshot:
    """Add a --user lookup; ``status`` other than ok leaves the user's data out."""
    data = (user or audited_user(**user_fields)) if status is PartStatus.OK else None
    lookup = UserLookup(query=query, user=Part(status=status, data=data))
    return _replace(snap, users=[*snap.users, lookup])


def with_audits(snap: TenantSnapshot, *entries: DirectoryAudit) -> TenantSnapshot:
    return _replace(snap, directory_audits=Part(data=list(entries)))


def with_sign_ins(snap: TenantSnapshot, *entries: SignIn) -> TenantSnapshot:
    return _replace(snap, sign_ins=Part(data=list(entries)))


def with_part_status(
    snap: TenantSnapshot,
    part: str,
    status: PartStatus,
    *,
    permission: str | None = None,
    message: str | None = None,
) -> TenantSnapshot:
    """Make a top-level snapshot part unreadable (its data is dropped)."""
    return _replace(snap, **{part: Part(status=status, permission=permission, message=message)})


def with_app_part_status(
    snap: TenantSnapshot, part: str, status: PartStatus, *, permission: str | None = None
) -> TenantSnapshot:
    """Make a per-app part (``oauth2_permission_grants``, ``app_role_assigned_to``) unreadable."""
    app = _first_app(snap)
    return with_apps(
        snap, app.model_copy(update={part: Part(status=status, permission=permission)})
    )


# ----------------------------------------------------------------------------- running


def run(
    snap: TenantSnapshot,
    *,
    user: str | None = None,
    features: Sequence[str] = (),
    app_ids: tuple[str, ...] = (),
) -> Report:
    full = manifest()
    chosen = full.select(list(features)) if features else full
    return evaluate(snap, chosen, full_manifest=full, user=user, app_ids=app_ids, now=COLLECTED_AT)


def findings(report: Report, code: str) -> list[Finding]:
    return [f for f in report.findings if f.id == code]


def one(report: Report, code: str) -> Finding:
    """The single finding with ``code``; fails with the report's codes otherwise."""
    found = findings(report, code)
    assert len(found) == 1, f"expected one {code}, got {codes(report)}"
    return found[0]


def codes(report: Report) -> list[str]:
    return [f.id for f in report.findings]


def verdict(report: Report, feature: str) -> FeatureVerdict:
    return next(v for v in report.features if v.name == feature)


def statuses(report: Report) -> dict[str, str]:
    return {v.name: v.status.value for v in report.features}


def first_broken_link(report: Report, feature: str) -> str | None:
    for link in verdict(report, feature).chain:
        if link.status.value != "pass":
            return link.name
    return None


def portal_paths(f: Finding) -> list[str]:
    return [s.portal_path for s in f.remediation if s.portal_path]


def assert_portal(f: Finding, path: str) -> None:
    """A remediation step names the admin-center path (in the Entra admin center)."""
    paths = portal_paths(f)
    assert any(p.startswith("Entra admin center > ") and path in p for p in paths), paths
