"""Build the example tenant snapshots and the bundled ``--demo`` tenant.

Each example reproduces one troubleshooting path of Recruitee's help article ("How to set up
permissions in Microsoft Entra ID for syncing mailboxes, calendars, and meeting rooms with
Recruitee") in a small, realistic tenant. Objects follow the shapes Microsoft Graph returns
(microsoftgraph/microsoft-graph-docs-contrib v1.0 samples, see /work/shared/reference):
service principals with ``oauth2PermissionScopes``, ``oauth2PermissionGrants`` whose
``clientId``/``resourceId`` are service-principal object ids, permission grant policies as
``GET /policies/permissionGrantPolicies/{id}`` expands them, Conditional Access policies
with ``conditions``/``grantControls``/``sessionControls``.

Recruitee publishes no appId: the one below is invented; the manifest matches by display name.

Run from the repository root::

    python examples/tenants/build_examples.py

It rewrites ``examples/tenants/*.json`` and ``src/consent_audit/data/demo_tenant.json``
(``--output-dir DIR``: writes them into DIR instead).
GUIDs are derived from names, so output is stable between runs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from consent_audit import __version__
from consent_audit.graph_objects import (
    CONSENT_POLICY_SETTINGS_TEMPLATE_ID,
    STEP_UP_SETTING,
    AdminConsentRequestPolicy,
    AppConsentRequest,
    AppRoleAssignment,
    AuditActivityInitiator,
    AuthorizationPolicy,
    ConditionalAccessApplications,
    ConditionalAccessConditions,
    ConditionalAccessGrantControls,
    ConditionalAccessPolicy,
    ConditionalAccessSessionControls,
    ConditionalAccessUsers,
    ConsentRequestScope,
    DefaultUserRolePermissions,
    DelegatedPermissionClassification,
    DirectoryAudit,
    GroupSetting,
    IdentityRef,
    IdentitySet,
    ModifiedProperty,
    OAuth2PermissionGrant,
    PermissionGrantConditionSet,
    PermissionGrantPolicy,
    PermissionScope,
    PersistentBrowser,
    ReviewerScope,
    ServicePrincipal,
    SettingValue,
    SignIn,
    SignInFrequency,
    SignInStatus,
    TargetResource,
    UserConsentRequest,
    VerifiedPublisher,
)
from consent_audit.snapshot import (
    AuditedUser,
    Part,
    PartStatus,
    RecruiteeApp,
    TenantInfo,
    TenantSnapshot,
    UserLookup,
    dump_snapshot,
)

HERE = Path(__file__).resolve().parent
DEMO_PATH = HERE.parent.parent / "src" / "consent_audit" / "data" / "demo_tenant.json"

# --------------------------------------------------------------------------- constants

RECRUITEE_APP_ID = "5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c845"
"""Invented: Recruitee's multi-tenant application has no published appId."""
RECRUITEE_OLD_APP_ID = "b41d7a09-6e2c-4f85-9c3a-72e0f5d8a166"
"""Invented: an older Recruitee registration (e.g. the former calendar integration)."""
RECRUITEE_HOME_TENANT = "e0a7b3c6-2d58-4f19-8b4e-6c91f2a03d7b"
"""Invented: the tenant Recruitee's application is registered in (appOwnerOrganizationId)."""

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_ONLINE = "00000002-0000-0ff1-ce00-000000000000"
"""Office 365 Exchange Online: the CA resource behind Graph mail and calendar."""
MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
OFFICE365 = "Office365"

# Directory role template ids (entra-docs permissions-reference.md).
ROLE_GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
ROLE_CLOUD_APP_ADMIN = "158c047a-c907-4556-b7ef-446551a6b5f7"

# Delegated permission ids (microsoft-graph-docs-contrib concepts/includes/permissions-ids.md).
GRAPH_SCOPES: dict[str, str] = {
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "User.ReadBasic.All": "b340eb25-3456-403f-be2f-af7a0d370277",
    "Mail.Send": "e383f46e-2787-4529-855e-0e479a3ffac0",
    "Mail.ReadWrite": "024d486e-b451-40bb-833d-3e66d98c5c73",
    "Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
    "Calendars.ReadWrite": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
    "Calendars.Read": "465a38f9-76ea-45b9-9f34-9e8b0d4b0b42",
    "Contacts.Read": "ff74d97f-43af-4b68-9f2a-b77ee6968c5d",
    "People.Read": "ba47897c-39ec-4d83-8086-ee8256fa737d",
}
ADMIN_ONLY_SCOPES: dict[str, str] = {
    "User.Read.All": "a154be20-db9c-4678-8ab7-66f6cc099a59",
    "Directory.Read.All": "06da0dbc-49e2-44d2-8312-53f166ab848a",
}

# Scope strings as Graph stores them. Recruitee's own article writes user.read and
# calendars.readwrite in lower case; a grant keeps the case it was written in.
ALL_SCOPES = (
    "offline_access User.Read Mail.Send Mail.ReadWrite email openid Calendars.ReadWrite "
    "User.ReadBasic.All"
)
ALL_SCOPES_MIXED_CASE = (
    " offline_access user.read Mail.Send Mail.ReadWrite email openid calendars.readwrite "
    "User.ReadBasic.All"
)
CALENDAR_AND_ROOMS = "openid email offline_access User.Read Calendars.ReadWrite User.ReadBasic.All"
CALENDAR_ONLY = "openid profile offline_access User.Read Calendars.ReadWrite"
ROOMS_ONLY = "openid profile offline_access User.ReadBasic.All"
MAILBOX_ONLY = "openid email offline_access User.Read Mail.Send Mail.ReadWrite"

SELF = "ManagePermissionGrantsForSelf."
OWNED = "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-"
OWNED_TEAM = f"{OWNED}team"
OWNED_CHAT = f"{OWNED}chat"


# --------------------------------------------------------------------------- ids


def gid(*parts: str) -> str:
    """A stable random-looking (version 4) GUID derived from names."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))


def grant_id(*parts: str) -> str:
    """oauth2PermissionGrant ids are opaque 43-character base64url strings."""
    digest = hashlib.sha256(("grant/" + "/".join(parts)).encode()).digest()[:32]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# --------------------------------------------------------------------------- tenant


class Tenant:
    """Names and ids of one example tenant."""

    def __init__(self, key: str, name: str, domain: str, collected: datetime) -> None:
        self.key = key
        self.name = name
        self.domain = domain
        self.collected = collected
        self.id = gid(key, "tenant")
        self.graph_sp_id = gid(key, "sp", "graph")
        self.recruitee_sp_id = gid(key, "sp", "recruitee")

    def info(self) -> TenantInfo:
        return TenantInfo(id=self.id, default_domain=self.domain, display_name=self.name)

    def upn(self, first: str, last: str) -> str:
        return f"{first.lower()}.{last.lower()}@{self.domain}"

    def uid(self, upn: str) -> str:
        return gid(self.key, "user", upn.casefold())

    def group(self, name: str) -> str:
        return gid(self.key, "group", name)

    def at(self, days_ago: float, hour: int = 9, minute: int = 0) -> datetime:
        base = self.collected - timedelta(days=days_ago)
        return base.replace(hour=hour, minute=minute, second=17, microsecond=412_000)


# --------------------------------------------------------------------------- service principals


def graph_sp(t: Tenant) -> ServicePrincipal:
    scopes = [
        PermissionScope(id=pid, value=value, type="User", is_enabled=True)
        for value, pid in GRAPH_SCOPES.items()
    ] + [
        PermissionScope(id=pid, value=value, type="Admin", is_enabled=True)
        for value, pid in ADMIN_ONLY_SCOPES.items()
    ]
    return ServicePrincipal(
        id=t.graph_sp_id,
        app_id=GRAPH_APP_ID,
        display_name="Microsoft Graph",
        account_enabled=True,
        app_role_assignment_required=False,
        verified_publisher=VerifiedPublisher(),
        app_owner_organization_id=MICROSOFT_SERVICES_TENANT,
        service_principal_type="Application",
        sign_in_audience="AzureADMultipleOrgs",
        oauth2_permission_scopes=scopes,
    )


def recruitee_sp(
    t: Tenant,
    *,
    sp_id: str | None = None,
    app_id: str = RECRUITEE_APP_ID,
    enabled: bool = True,
    assignment_required: bool = False,
    disabled_by_microsoft: str | None = None,
) -> ServicePrincipal:
    return ServicePrincipal(
        id=sp_id or t.recruitee_sp_id,
        app_id=app_id,
        display_name="Recruitee",
        account_enabled=enabled,
        app_role_assignment_required=assignment_required,
        # Unverified publisher: Graph returns the object with null members.
        verified_publisher=VerifiedPublisher(),
        app_owner_organization_id=RECRUITEE_HOME_TENANT,
        service_principal_type="Application",
        sign_in_audience="AzureADMultipleOrgs",
        disabled_by_microsoft_status=disabled_by_microsoft,
    )


def admin_grant(t: Tenant, scope: str, client_id: str | None = None) -> OAuth2PermissionGrant:
    client = client_id or t.recruitee_sp_id
    return OAuth2PermissionGrant(
        id=grant_id(t.key, client, "AllPrincipals"),
        client_id=client,
        consent_type="AllPrincipals",
        principal_id=None,
        resource_id=t.graph_sp_id,
        scope=scope,
    )


def user_grant(
    t: Tenant, upn: str, scope: str, client_id: str | None = None
) -> OAuth2PermissionGrant:
    client = client_id or t.recruitee_sp_id
    return OAuth2PermissionGrant(
        id=grant_id(t.key, client, upn),
        client_id=client,
        consent_type="Principal",
        principal_id=t.uid(upn),
        resource_id=t.graph_sp_id,
        scope=scope,
    )


def app(
    sp: ServicePrincipal,
    grants: list[OAuth2PermissionGrant],
    assignments: list[AppRoleAssignment] | None = None,
) -> RecruiteeApp:
    return RecruiteeApp(
        service_principal=sp,
        app_role_assigned_to=Part[list[AppRoleAssignment]](data=assignments or []),
        oauth2_permission_grants=Part[list[OAuth2PermissionGrant]](data=grants),
    )


# --------------------------------------------------------------------------- consent policies


def _recommended_exclusion_ids() -> list[str]:
    raw = json.loads(
        resources.files("consent_audit.data")
        .joinpath("recommended_policy_exclusions.json")
        .read_text("utf-8")
    )
    return [e["id"] for e in raw["excluded_permissions"] if e.get("id")]


def _condition(t: Tenant, name: str, **kw: Any) -> PermissionGrantConditionSet:
    fields: dict[str, Any] = {
        "permission_type": "delegated",
        "permission_classification": "all",
        "resource_application": "any",
        "permissions": ["all"],
        "client_application_ids": ["all"],
        "client_application_tenant_ids": ["all"],
        "client_application_publisher_ids": ["all"],
        "client_applications_from_verified_publisher_only": False,
        "certified_client_applications_only": False,
    }
    fields.update(kw)
    return PermissionGrantConditionSet(id=gid(t.key, "pgp-condition", name), **fields)


def legacy_policy(t: Tenant) -> PermissionGrantPolicy:
    return PermissionGrantPolicy(
        id="microsoft-user-default-legacy",
        display_name="Default User Legacy Policy",
        description="All member type users can consent to all delegated permissions by default.",
        includes=[_condition(t, "legacy", permission_type="delegatedUserConsentable")],
        excludes=[],
    )


def recommended_policy(t: Tenant) -> PermissionGrantPolicy:
    return PermissionGrantPolicy(
        id="microsoft-user-default-recommended",
        display_name="Microsoft User Default Recommended Policy",
        description="Permissions consentable based on Microsoft's current recommendations.",
        includes=[_condition(t, "recommended", permission_type="delegatedUserConsentable")],
        excludes=[
            _condition(
                t,
                "recommended-graph-exclusions",
                resource_application=GRAPH_APP_ID,
                permissions=_recommended_exclusion_ids(),
            )
        ],
    )


def low_policy(t: Tenant) -> PermissionGrantPolicy:
    return PermissionGrantPolicy(
        id="microsoft-user-default-low",
        display_name="Default User Low Risk Policy",
        description="All low risk permissions are consentable by member type users by default.",
        includes=[
            _condition(
                t,
                "low-own-tenant",
                permission_classification="low",
                client_application_tenant_ids=[t.id],
            ),
            _condition(
                t,
                "low-verified",
                permission_classification="low",
                client_applications_from_verified_publisher_only=True,
            ),
        ],
        excludes=[],
    )


def consent_policies(*user_policies: PermissionGrantPolicy) -> list[PermissionGrantPolicy]:
    """The policies assigned as ManagePermissionGrantsForSelf.*, as GET returns them."""
    return list(user_policies)


def authorization_policy(assigned: list[str], create_apps: bool = True) -> AuthorizationPolicy:
    return AuthorizationPolicy(
        id="authorizationPolicy",
        allow_user_consent_for_risky_apps=False,
        default_user_role_permissions=DefaultUserRolePermissions(
            allowed_to_create_apps=create_apps,
            allowed_to_create_security_groups=True,
            allowed_to_read_other_users=True,
            permission_grant_policies_assigned=assigned,
        ),
    )


def workflow(t: Tenant, enabled: bool, *reviewer_upns: str) -> AdminConsentRequestPolicy:
    if not enabled:
        return AdminConsentRequestPolicy(
            is_enabled=False,
            notify_reviewers=False,
            reminders_enabled=False,
            request_duration_in_days=0,
            reviewers=[],
        )
    return AdminConsentRequestPolicy(
        is_enabled=True,
        notify_reviewers=True,
        reminders_enabled=True,
        request_duration_in_days=30,
        reviewers=[
            ReviewerScope(query=f"/users/{t.uid(u)}", query_type="MicrosoftGraph")
            for u in reviewer_upns
        ],
    )


# --------------------------------------------------------------------------- conditional access


def _ca(
    t: Tenant,
    name: str,
    state: str,
    *,
    include_apps: Iterable[str] = ("All",),
    exclude_apps: Iterable[str] = (),
    include_users: Iterable[str] = ("All",),
    exclude_users: Iterable[str] = (),
    include_groups: Iterable[str] = (),
    exclude_groups: Iterable[str] = (),
    include_roles: Iterable[str] = (),
    client_app_types: Iterable[str] = ("all",),
    controls: Iterable[str] = (),
    session: ConditionalAccessSessionControls | None = None,
) -> ConditionalAccessPolicy:
    built_in = list(controls)
    return ConditionalAccessPolicy(
        id=gid(t.key, "ca", name),
        display_name=name,
        state=state,
        conditions=ConditionalAccessConditions(
            applications=ConditionalAccessApplications(
                include_applications=list(include_apps),
                exclude_applications=list(exclude_apps),
            ),
            users=ConditionalAccessUsers(
                include_users=list(include_users),
                exclude_users=list(exclude_users),
                include_groups=list(include_groups),
                exclude_groups=list(exclude_groups),
                include_roles=list(include_roles),
            ),
            client_app_types=list(client_app_types),
        ),
        grant_controls=ConditionalAccessGrantControls(operator="OR", built_in_controls=built_in)
        if built_in
        else None,
        session_controls=session,
    )


def break_glass(t: Tenant) -> str:
    return t.uid(f"breakglass01@{t.key}.onmicrosoft.com")


def block_legacy_auth(t: Tenant) -> ConditionalAccessPolicy:
    """Benign: legacy protocols only. Recruitee uses modern auth, so it is not affected."""
    return _ca(
        t,
        "CA001 - Block legacy authentication",
        "enabled",
        exclude_users=[break_glass(t)],
        client_app_types=["exchangeActiveSync", "other"],
        controls=["block"],
    )


def require_mfa(t: Tenant) -> ConditionalAccessPolicy:
    """Benign: MFA is satisfied at the interactive sign-in and carried by the refresh token."""
    return _ca(
        t,
        "CA002 - Require multifactor authentication for all users",
        "enabled",
        exclude_users=[break_glass(t)],
        controls=["mfa"],
    )


def disabled_pilot(t: Tenant) -> ConditionalAccessPolicy:
    return _ca(
        t,
        "CA099 - Pilot: require compliant device (disabled)",
        "disabled",
        include_users=[],
        include_groups=[t.group("SG-CA-Pilot")],
        controls=["compliantDevice"],
    )


def sign_in_frequency(
    t: Tenant, name: str, value: int, unit: str = "hours"
) -> ConditionalAccessPolicy:
    return _ca(
        t,
        name,
        "enabled",
        exclude_users=[break_glass(t)],
        session=ConditionalAccessSessionControls(
            sign_in_frequency=SignInFrequency(
                is_enabled=True,
                type=unit,
                value=value,
                frequency_interval="timeBased",
                authentication_type="primaryAndSecondaryAuthentication",
            ),
            persistent_browser=PersistentBrowser(is_enabled=True, mode="never"),
        ),
    )


# --------------------------------------------------------------------------- users


def user(
    t: Tenant,
    upn: str,
    display: str,
    *,
    direct: dict[str, str] | None = None,
    nested: dict[str, str] | None = None,
    roles: Iterable[str] = (),
) -> UserLookup:
    """A --user lookup; ``direct``/``nested`` map group id -> display name."""
    direct = direct or {}
    nested = nested or {}
    return UserLookup(
        query=upn,
        user=Part[AuditedUser](
            data=AuditedUser(
                id=t.uid(upn),
                user_principal_name=upn,
                display_name=display,
                mail=upn,
                account_enabled=True,
                user_type="Member",
                member_of_group_ids=list(direct),
                transitive_member_of_group_ids=[*direct, *nested],
                directory_role_template_ids=list(roles),
                group_display_names={**direct, **nested},
            )
        ),
    )


# --------------------------------------------------------------------------- logs


def audit(
    t: Tenant,
    name: str,
    activity: str,
    when: datetime,
    by_upn: str,
    targets: list[TargetResource],
    result: str = "success",
    reason: str = "",
) -> DirectoryAudit:
    return DirectoryAudit(
        id=f"Directory_{gid(t.key, 'audit', name).upper()[:8]}_{grant_id(t.key, name)[:5]}",
        category="ApplicationManagement",
        activity_display_name=activity,
        activity_date_time=when,
        result=result,
        result_reason=reason,
        initiated_by=AuditActivityInitiator(
            user=IdentityRef(id=t.uid(by_upn), user_principal_name=by_upn)
        ),
        target_resources=targets,
    )


def sign_in(
    t: Tenant,
    name: str,
    when: datetime,
    upn: str,
    code: int,
    reason: str | None,
    *,
    interactive: bool,
    app_id: str = RECRUITEE_APP_ID,
    ca_status: str = "notApplied",
) -> SignIn:
    return SignIn(
        id=gid(t.key, "signin", name),
        created_date_time=when,
        app_id=app_id,
        app_display_name="Recruitee",
        user_id=t.uid(upn),
        user_principal_name=upn,
        resource_display_name="Microsoft Graph",
        is_interactive=interactive,
        status=SignInStatus(
            error_code=code,
            failure_reason=reason,
            additional_details="For more details, see https://login.microsoftonline.com/error"
            if code
            else None,
        ),
        conditional_access_status=ca_status,
    )


FAIL_70043 = (
    "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
    "The user might have changed or reset their password. The grant was issued on '{date}' "
    "and the TokensValidFrom date (before which tokens are not valid) for this user is "
    "'{date}'. Sign-in frequency policy requires re-authentication."
)
FAIL_65001 = (
    "The user or administrator has not consented to use the application with ID "
    f"'{RECRUITEE_APP_ID}' named 'Recruitee'. Send an interactive authorization request for "
    "this user and resource."
)
FAIL_50076 = (
    "Due to a configuration change made by your administrator, or because you moved to a new "
    "location, you must use multi-factor authentication to access "
    f"'{EXCHANGE_ONLINE}'."
)
FAIL_50105 = (
    "Your administrator has configured the application Recruitee ('"
    f"{RECRUITEE_APP_ID}') to block users unless they are specifically granted ('assigned') "
    "access to the application. The signed in user is blocked because they are not a direct "
    "member of a group with access, nor had access directly assigned by an administrator."
)


# --------------------------------------------------------------------------- snapshot


def snapshot(
    t: Tenant,
    *,
    apps: list[RecruiteeApp],
    auth: AuthorizationPolicy,
    policies: list[PermissionGrantPolicy],
    acr: AdminConsentRequestPolicy,
    ca: Part[list[ConditionalAccessPolicy]],
    users: list[UserLookup] | None = None,
    requests: list[AppConsentRequest] | None = None,
    audits: list[DirectoryAudit] | None = None,
    sign_ins: list[SignIn] | None = None,
    consent_settings: list[GroupSetting] | None = None,
) -> TenantSnapshot:
    """``consent_settings`` None: the tenant has no Consent Policy Settings object (most
    tenants: the template's defaults apply, step-up consent on)."""
    return TenantSnapshot(
        tool_version=__version__,
        collected_at=t.collected,
        tenant=t.info(),
        recruitee_apps=Part[list[RecruiteeApp]](data=apps),
        graph_service_principal=Part[ServicePrincipal](data=graph_sp(t)),
        delegated_permission_classifications=Part[list[DelegatedPermissionClassification]](data=[]),
        authorization_policy=Part[AuthorizationPolicy](data=auth),
        permission_grant_policies=Part[list[PermissionGrantPolicy]](data=policies),
        admin_consent_request_policy=Part[AdminConsentRequestPolicy](data=acr),
        app_consent_requests=Part[list[AppConsentRequest]](data=requests or []),
        conditional_access_policies=ca,
        users=users or [],
        directory_audits=Part[list[DirectoryAudit]](data=audits or []),
        sign_ins=Part[list[SignIn]](data=sign_ins or []),
        consent_policy_settings=Part[list[GroupSetting]](data=consent_settings or []),
    )


def consent_policy_settings(t: Tenant, block_risky: str) -> GroupSetting:
    """The Consent Policy Settings object as GET /groupSettings returns it (values are strings,
    configure-risk-based-step-up-consent.md sets "True"/"False"), with only the value kept."""
    return GroupSetting(
        id=gid(t.key, "consent-policy-settings"),
        display_name="Consent Policy Settings",
        template_id=CONSENT_POLICY_SETTINGS_TEMPLATE_ID,
        values=[SettingValue(name=STEP_UP_SETTING, value=block_risky)],
    )


def ca_ok(*policies: ConditionalAccessPolicy) -> Part[list[ConditionalAccessPolicy]]:
    return Part[list[ConditionalAccessPolicy]](data=list(policies))


def when(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc)


LEGACY = [f"{SELF}microsoft-user-default-legacy", OWNED_TEAM, OWNED_CHAT]
RECOMMENDED = [f"{SELF}microsoft-user-default-recommended", OWNED_TEAM, OWNED_CHAT]
NO_USER_CONSENT = [OWNED_TEAM, OWNED_CHAT]


# --------------------------------------------------------------------------- scenarios


def healthy() -> TenantSnapshot:
    t = Tenant("contoso", "Contoso Ltd", "contoso.com", when("2025-06-02T08:14:03"))
    ok_user = t.upn("Megan", "Bowen")
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES_MIXED_CASE)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Isaiah", "Langer")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t), disabled_pilot(t)),
        users=[user(t, ok_user, "Megan Bowen")],
        sign_ins=[
            sign_in(
                t, "ok-1", t.at(1, 8, 2), ok_user, 0, None, interactive=True, ca_status="success"
            ),
            sign_in(
                t,
                "ok-2",
                t.at(0.5, 14, 40),
                ok_user,
                0,
                None,
                interactive=False,
                ca_status="success",
            ),
        ],
    )


def never_consented() -> TenantSnapshot:
    t = Tenant(
        "fabrikam-new", "Fabrikam Manufacturing", "fabrikammfg.com", when("2025-05-19T13:02:44")
    )
    return snapshot(
        t,
        apps=[],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Alex", "Wilber")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
    )


def consent_blocked_no_workflow() -> TenantSnapshot:
    t = Tenant(
        "northwind", "Northwind Traders", "northwindtraders.com", when("2025-04-28T10:31:09")
    )
    early = t.upn("Megan", "Bowen")
    new_hire = t.upn("Pradeep", "Gupta")
    return snapshot(
        t,
        apps=[
            app(
                recruitee_sp(t),
                # Created before user consent was turned off; existing grants remain.
                [user_grant(t, early, CALENDAR_ONLY)],
            )
        ],
        auth=authorization_policy(NO_USER_CONSENT, create_apps=False),
        policies=[],
        acr=workflow(t, False),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        users=[user(t, early, "Megan Bowen"), user(t, new_hire, "Pradeep Gupta")],
    )


def assignment_required() -> TenantSnapshot:
    t = Tenant("fabrikam", "Fabrikam, Inc.", "fabrikam.com", when("2025-06-10T07:55:21"))
    assigned = t.group("SG-App-Recruitee-Users")
    nested = t.group("HR Recruiters NL")
    finance = t.group("Finance Team")
    sp = recruitee_sp(t, assignment_required=True)
    assignments = [
        AppRoleAssignment(
            id=grant_id(t.key, "assignment", "group"),
            principal_id=assigned,
            principal_type="Group",
            principal_display_name="SG-App-Recruitee-Users",
            resource_id=sp.id,
            created_date_time=t.at(200),
        ),
        AppRoleAssignment(
            id=grant_id(t.key, "assignment", "hr-lead"),
            principal_id=t.uid(t.upn("Johanna", "Lorenz")),
            principal_type="User",
            principal_display_name="Johanna Lorenz",
            resource_id=sp.id,
            created_date_time=t.at(190),
        ),
    ]
    return snapshot(
        t,
        apps=[app(sp, [admin_grant(t, ALL_SCOPES)], assignments)],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Lee", "Gu")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        users=[
            user(t, t.upn("Lynne", "Robbins"), "Lynne Robbins", direct={finance: "Finance Team"}),
            user(
                t,
                t.upn("Adele", "Vance"),
                "Adele Vance",
                direct={assigned: "SG-App-Recruitee-Users"},
            ),
            user(
                t,
                t.upn("Isaiah", "Langer"),
                "Isaiah Langer",
                direct={nested: "HR Recruiters NL"},
                nested={assigned: "SG-App-Recruitee-Users"},
            ),
        ],
    )


def partial_scopes() -> TenantSnapshot:
    t = Tenant("tailspin", "Tailspin Toys", "tailspintoys.com", when("2025-03-17T15:20:48"))
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, CALENDAR_AND_ROOMS)])],
        auth=authorization_policy(NO_USER_CONSENT),
        policies=[],
        acr=workflow(t, True, t.upn("Grady", "Archie"), t.upn("Lidia", "Holloway")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
    )


def per_user_consent_only() -> TenantSnapshot:
    t = Tenant("litware", "Litware, Inc.", "litware.com", when("2025-05-06T09:12:37"))
    joni = t.upn("Joni", "Sherman")
    grants = [
        user_grant(t, joni, CALENDAR_ONLY),
        user_grant(
            t,
            t.upn("Diego", "Siciliani"),
            "openid profile email offline_access "
            "User.Read Mail.Send Mail.ReadWrite Calendars.ReadWrite",
        ),
        user_grant(t, t.upn("Henrietta", "Mueller"), MAILBOX_ONLY),
        user_grant(t, t.upn("Nestor", "Wilke"), ROOMS_ONLY),
    ]
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), grants)],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, False),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        users=[user(t, joni, "Joni Sherman")],
    )


def ca_block_excluded_admins() -> TenantSnapshot:
    t = Tenant("woodgrove", "Woodgrove Bank", "woodgrovebank.com", when("2025-06-16T18:40:00"))
    excluded = t.group("CA-Exclude-Tier0-Admins")
    secops = t.group("SecOps Incident Responders")
    regular = t.upn("Nestor", "Wilke")
    admin = t.upn("Miriam", "Graham")
    lockdown = _ca(
        t,
        "CA900 - Incident IR-2291 lockdown: block all cloud apps except Tier 0",
        "enabled",
        exclude_users=[break_glass(t)],
        exclude_groups=[excluded],
        controls=["block"],
    )
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, admin),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t), lockdown),
        users=[
            user(t, regular, "Nestor Wilke", direct={t.group("Recruiting"): "Recruiting"}),
            user(
                t,
                admin,
                "Miriam Graham",
                direct={secops: "SecOps Incident Responders"},
                nested={excluded: "CA-Exclude-Tier0-Admins"},
                roles=[ROLE_CLOUD_APP_ADMIN],
            ),
        ],
    )


def signin_frequency() -> TenantSnapshot:
    t = Tenant("adatum", "Adatum Corporation", "adatum.com", when("2025-05-27T11:05:52"))
    alex = t.upn("Alex", "Wilber")
    lee = t.upn("Lee", "Gu")
    fails = [
        sign_in(
            t,
            f"70043-{i}",
            t.at(i * 0.25, 9 + i, 3),
            upn,
            70043,
            FAIL_70043.format(date=t.at(i * 0.25, 8 + i).isoformat()),
            interactive=False,
            ca_status="failure",
        )
        for i, upn in enumerate([alex, lee, alex, alex, lee])
    ]
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, lee),
        ca=ca_ok(
            block_legacy_auth(t),
            require_mfa(t),
            sign_in_frequency(
                t, "CA010 - Session: sign-in frequency 1 hour, no persistent browser", 1
            ),
        ),
        users=[user(t, alex, "Alex Wilber")],
        sign_ins=[
            sign_in(
                t, "ok-alex", t.at(1, 8, 1), alex, 0, None, interactive=True, ca_status="success"
            ),
            *fails,
        ],
    )


def ca_unreadable() -> TenantSnapshot:
    t = Tenant("relecloud", "Relecloud", "relecloud.com", when("2025-04-09T16:48:30"))
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Patti", "Fernandez")),
        ca=Part[list[ConditionalAccessPolicy]](
            status=PartStatus.FORBIDDEN,
            message="Authorization_RequestDenied: Insufficient privileges to complete the "
            "operation.",
            permission="Policy.Read.All",
        ),
    )


def duplicate_apps() -> TenantSnapshot:
    t = Tenant(
        "alpineskihouse", "Alpine Ski House", "alpineskihouse.com", when("2025-02-24T12:00:11")
    )
    old_sp_id = gid(t.key, "sp", "recruitee-2019")
    return snapshot(
        t,
        apps=[
            app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)]),
            app(
                recruitee_sp(t, sp_id=old_sp_id, app_id=RECRUITEE_OLD_APP_ID),
                [
                    admin_grant(
                        t,
                        "openid offline_access User.Read Calendars.ReadWrite",
                        client_id=old_sp_id,
                    )
                ],
            ),
        ],
        auth=authorization_policy(NO_USER_CONSENT),
        policies=[],
        acr=workflow(t, True, t.upn("Lidia", "Holloway")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
    )


def disabled_app() -> TenantSnapshot:
    t = Tenant("cohowinery", "Coho Winery", "cohowinery.com", when("2025-06-03T06:27:45"))
    return snapshot(
        t,
        apps=[app(recruitee_sp(t, enabled=False), [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Grady", "Archie")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
    )


def microsoft_disabled() -> TenantSnapshot:
    """Microsoft disabled Recruitee's application (disabledByMicrosoftStatus); the tenant's own
    'Enabled for users to sign-in?' is still Yes, and nothing in the tenant can undo it."""
    t = Tenant("tailspintoys", "Tailspin Toys", "tailspintoys.com", when("2025-06-04T09:12:31"))
    sp = recruitee_sp(t, disabled_by_microsoft="DisabledDueToViolationOfServicesAgreement")
    return snapshot(
        t,
        apps=[app(sp, [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Grady", "Archie")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
    )


def revoked_grants() -> TenantSnapshot:
    t = Tenant("treyresearch", "Trey Research", "treyresearch.net", when("2025-06-12T14:09:26"))
    secops = t.upn("Lidia", "Holloway")
    admin = t.upn("Grady", "Archie")
    sp = recruitee_sp(t, assignment_required=True)
    group = t.group("SG-Recruitee-Approved")
    recruitee_target = TargetResource(id=sp.id, display_name="Recruitee", type="ServicePrincipal")

    def grant_target(old: str, new: str) -> TargetResource:
        return TargetResource(
            id=t.graph_sp_id,
            display_name="Microsoft Graph",
            type="ServicePrincipal",
            modified_properties=[
                ModifiedProperty(
                    display_name="DelegatedPermissionGrant.Scope",
                    old_value=json.dumps(old),
                    new_value=json.dumps(new),
                ),
                ModifiedProperty(
                    display_name="DelegatedPermissionGrant.ConsentType",
                    old_value=json.dumps("AllPrincipals"),
                    new_value=json.dumps("AllPrincipals" if new else ""),
                ),
                ModifiedProperty(
                    display_name="ServicePrincipal.ObjectID",
                    old_value=None,
                    new_value=json.dumps(sp.id),
                ),
            ],
        )

    audits = [
        audit(
            t,
            "consent",
            "Consent to application",
            t.at(240, 10, 12),
            admin,
            [
                TargetResource(
                    id=sp.id,
                    display_name="Recruitee",
                    type="ServicePrincipal",
                    modified_properties=[
                        ModifiedProperty(
                            display_name="ConsentContext.IsAdminConsent", new_value='"True"'
                        ),
                        ModifiedProperty(
                            display_name="ConsentAction.Permissions",
                            new_value=json.dumps(
                                f"[] => [[Id: {grant_id(t.key, 'old-admin')}, "
                                f"ClientId: {sp.id}, PrincipalId: , ResourceId: "
                                f"{t.graph_sp_id}, ConsentType: AllPrincipals, "
                                f"Scope: {ALL_SCOPES}]]"
                            ),
                        ),
                    ],
                )
            ],
        ),
        audit(
            t,
            "add-grant",
            "Add delegated permission grant",
            t.at(240, 10, 12),
            admin,
            [grant_target("", ALL_SCOPES), recruitee_target],
        ),
        audit(
            t,
            "assign-required",
            "Update service principal",
            t.at(9, 16, 30),
            secops,
            [
                TargetResource(
                    id=sp.id,
                    display_name="Recruitee",
                    type="ServicePrincipal",
                    modified_properties=[
                        ModifiedProperty(
                            display_name="AppRoleAssignmentRequired",
                            old_value="[false]",
                            new_value="[true]",
                        )
                    ],
                )
            ],
        ),
        audit(
            t,
            "remove-grant",
            "Remove delegated permission grant",
            t.at(8, 11, 4),
            secops,
            [grant_target(ALL_SCOPES, ""), recruitee_target],
        ),
        audit(
            t,
            "policy",
            "Update authorization policy",
            t.at(8, 11, 9),
            secops,
            [
                TargetResource(
                    id="authorizationPolicy", display_name="Authorization Policy", type="Policy"
                )
            ],
        ),
    ]
    users = [t.upn("Alex", "Wilber"), t.upn("Megan", "Bowen"), t.upn("Diego", "Siciliani")]
    sign_ins = [
        sign_in(t, "50105-a", t.at(8.9, 9, 1), users[0], 50105, FAIL_50105, interactive=True),
        sign_in(t, "65001-a", t.at(7, 8, 44), users[0], 65001, FAIL_65001, interactive=True),
        sign_in(t, "65001-b", t.at(6, 13, 2), users[1], 65001, FAIL_65001, interactive=True),
        sign_in(t, "65001-c", t.at(2, 10, 30), users[2], 65001, FAIL_65001, interactive=True),
        sign_in(
            t,
            "70043-a",
            t.at(8.5, 3, 12),
            users[1],
            70043,
            FAIL_70043.format(date=t.at(9, 3).isoformat()),
            interactive=False,
        ),
    ]
    return snapshot(
        t,
        apps=[
            app(
                sp,
                [],
                [
                    AppRoleAssignment(
                        id=grant_id(t.key, "assignment"),
                        principal_id=group,
                        principal_type="Group",
                        principal_display_name="SG-Recruitee-Approved",
                        resource_id=sp.id,
                        created_date_time=t.at(9, 16, 31),
                    )
                ],
            )
        ],
        auth=authorization_policy(NO_USER_CONSENT),
        policies=[],
        acr=workflow(t, True, admin),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        audits=audits,
        sign_ins=sign_ins,
    )


def pending_request(t: Tenant, upn: str, days_ago: float, reason: str) -> AppConsentRequest:
    return AppConsentRequest(
        id=gid(t.key, "appConsentRequest"),
        app_id=RECRUITEE_APP_ID,
        app_display_name="Recruitee",
        pending_scopes=[
            ConsentRequestScope(display_name=s)
            for s in (
                "Mail.ReadWrite",
                "Mail.Send",
                "Calendars.ReadWrite",
                "User.Read",
                "openid",
                "email",
                "offline_access",
            )
        ],
        user_consent_requests=[
            UserConsentRequest(
                id=gid(t.key, "userConsentRequest", upn),
                status="InProgress",
                reason=reason,
                created_by=IdentitySet(
                    user=IdentityRef(
                        id=t.uid(upn),
                        user_principal_name=upn,
                        display_name=upn.split("@")[0].replace(".", " ").title(),
                    )
                ),
                created_date_time=t.at(days_ago, 15, 22),
            )
        ],
    )


def recommended_policy_tenant() -> TenantSnapshot:
    t = Tenant("fourthcoffee", "Fourth Coffee", "fourthcoffee.com", when("2025-06-18T09:41:12"))
    patti = t.upn("Patti", "Fernandez")
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [user_grant(t, patti, ROOMS_ONLY)])],
        auth=authorization_policy(RECOMMENDED),
        policies=consent_policies(recommended_policy(t)),
        acr=workflow(t, True, t.upn("Lee", "Gu"), t.upn("Miriam", "Graham")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        users=[user(t, patti, "Patti Fernandez")],
        # Step-up consent switched on explicitly (configure-risk-based-step-up-consent.md).
        consent_settings=[consent_policy_settings(t, "True")],
        requests=[
            pending_request(
                t, patti, 3, "I need mailbox and calendar sync in Recruitee to schedule interviews."
            )
        ],
    )


def demo() -> TenantSnapshot:
    """Several problems at once, for ``consent-audit check --demo``."""
    t = Tenant("contoso-demo", "Contoso (demo)", "contoso.com", when("2025-06-20T10:00:00"))
    adele = t.upn("Adele", "Vance")
    old_sp_id = gid(t.key, "sp", "recruitee-2021")
    return snapshot(
        t,
        apps=[
            # Admin consent was given for calendar sync only, with an old extra scope.
            app(
                recruitee_sp(t),
                [
                    admin_grant(
                        t, "openid offline_access User.Read Calendars.ReadWrite Contacts.Read"
                    ),
                    user_grant(t, t.upn("Alex", "Wilber"), ROOMS_ONLY),
                ],
            ),
            # A leftover from an earlier Recruitee registration, switched off.
            app(
                recruitee_sp(t, sp_id=old_sp_id, app_id=RECRUITEE_OLD_APP_ID, enabled=False),
                [
                    admin_grant(
                        t, "openid offline_access User.Read Calendars.Read", client_id=old_sp_id
                    )
                ],
            ),
        ],
        auth=authorization_policy(RECOMMENDED),
        policies=consent_policies(recommended_policy(t)),
        acr=workflow(t, False),
        ca=ca_ok(
            block_legacy_auth(t),
            require_mfa(t),
            sign_in_frequency(t, "CA015 - Session: sign-in frequency 8 hours", 8),
        ),
        users=[user(t, adele, "Adele Vance", direct={t.group("Recruiting"): "Recruiting"})],
    )


# --------------------------------------------------------------------------- issue #9 scenarios


def revoke_audit(
    t: Tenant, name: str, when_: datetime, by: str, sp_id: str, scope: str, principal: str | None
) -> DirectoryAudit:
    """'Remove delegated permission grant' as the audit log records it."""
    return audit(
        t,
        name,
        "Remove delegated permission grant",
        when_,
        by,
        [
            TargetResource(
                id=t.graph_sp_id,
                display_name="Microsoft Graph",
                type="ServicePrincipal",
                modified_properties=[
                    ModifiedProperty(
                        display_name="DelegatedPermissionGrant.Scope",
                        old_value=json.dumps(scope),
                        new_value=json.dumps(""),
                    ),
                    ModifiedProperty(
                        display_name="DelegatedPermissionGrant.ConsentType",
                        old_value=json.dumps("Principal" if principal else "AllPrincipals"),
                        new_value=json.dumps(""),
                    ),
                    ModifiedProperty(
                        display_name="ServicePrincipal.ObjectID",
                        old_value=None,
                        new_value=json.dumps(sp_id),
                    ),
                ],
            ),
            TargetResource(id=sp_id, display_name="Recruitee", type="ServicePrincipal"),
        ],
    )


def revoked_consent() -> TenantSnapshot:
    """Users may consent, but an admin removed the admin grant and every person's own grant."""
    t = Tenant("proseware", "Proseware, Inc.", "proseware.com", when("2025-06-23T09:30:00"))
    admin = t.upn("Grady", "Archie")
    lidia = t.upn("Lidia", "Holloway")
    lee = t.upn("Lee", "Gu")
    sp = recruitee_sp(t)
    audits = [
        revoke_audit(t, "remove-admin", t.at(4, 16, 2), admin, sp.id, CALENDAR_AND_ROOMS, None),
        revoke_audit(t, "remove-lidia", t.at(4, 16, 3), admin, sp.id, MAILBOX_ONLY, t.uid(lidia)),
        revoke_audit(t, "remove-lee", t.at(4, 16, 3), admin, sp.id, MAILBOX_ONLY, t.uid(lee)),
    ]
    fails = [
        sign_in(t, f"65001-{upn}-{d}", t.at(d, 6, 15), upn, 65001, FAIL_65001, interactive=False)
        for upn in (lidia, lee)
        for d in (3, 2, 1)
    ]
    synced = [
        sign_in(t, f"ok-{upn}", t.at(5, 6, 15), upn, 0, None, interactive=False)
        for upn in (lidia, lee)
    ]
    return snapshot(
        t,
        apps=[app(sp, [])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, admin),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        users=[user(t, lidia, "Lidia Holloway")],
        audits=audits,
        sign_ins=[*synced, *fails],
    )


def never_connected() -> TenantSnapshot:
    """Admin consent for rooms only; colleagues consented to mail and calendar themselves;
    Debra, hired last week, never connected Recruitee."""
    t = Tenant("proseware-hr", "Proseware HR", "proseware-hr.com", when("2025-06-24T11:00:00"))
    pradeep = t.upn("Pradeep", "Gupta")
    isaiah = t.upn("Isaiah", "Langer")
    debra = t.upn("Debra", "Berger")
    grants = [
        admin_grant(t, "openid offline_access User.ReadBasic.All"),
        user_grant(
            t,
            pradeep,
            "openid email offline_access User.Read Mail.Send Mail.ReadWrite Calendars.ReadWrite",
        ),
        user_grant(t, isaiah, CALENDAR_ONLY),
    ]
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), grants)],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Lee", "Gu")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        users=[user(t, debra, "Debra Berger"), user(t, pradeep, "Pradeep Gupta")],
    )


def signin_frequency_exo() -> TenantSnapshot:
    """Sign-in frequency every 4 hours on Exchange Online; background refreshes succeed."""
    t = Tenant("wingtip", "Wingtip Toys", "wingtiptoys.com", when("2025-06-25T15:45:00"))
    nestor = t.upn("Nestor", "Wilke")
    sif = _ca(
        t,
        "CA030 - Exchange Online: sign-in frequency 4 hours",
        "enabled",
        include_apps=[EXCHANGE_ONLINE],
        exclude_users=[break_glass(t)],
        session=ConditionalAccessSessionControls(
            sign_in_frequency=SignInFrequency(
                is_enabled=True,
                type="hours",
                value=4,
                frequency_interval="timeBased",
                authentication_type="primaryAndSecondaryAuthentication",
            )
        ),
    )
    refreshes = [
        sign_in(
            t, f"ok-{h}", t.at(0.5, h, 5), nestor, 0, None, interactive=False, ca_status="success"
        )
        for h in (6, 9, 12, 15)
    ]
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Lidia", "Holloway")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t), sif),
        users=[user(t, nestor, "Nestor Wilke")],
        sign_ins=[
            sign_in(
                t, "connect", t.at(20, 9, 0), nestor, 0, None, interactive=True, ca_status="success"
            ),
            *refreshes,
        ],
    )


def mfa_after_connect() -> TenantSnapshot:
    """'Require MFA for Exchange Online' was turned on after people connected. Joni connected
    with MFA; Grady connected months ago without it, and his refreshes now fail (50076)."""
    t = Tenant("margies", "Margie's Travel", "margiestravel.com", when("2025-06-26T08:20:00"))
    joni = t.upn("Joni", "Sherman")
    grady = t.upn("Grady", "Archie")
    mfa_exo = _ca(
        t,
        "CA040 - Require MFA for Exchange Online",
        "enabled",
        include_apps=[EXCHANGE_ONLINE],
        exclude_users=[break_glass(t)],
        controls=["mfa"],
    )
    sign_ins = [
        sign_in(t, "grady-connect", t.at(120, 10, 0), grady, 0, None, interactive=True),
        sign_in(
            t, "joni-connect", t.at(30, 9, 30), joni, 0, None, interactive=True, ca_status="success"
        ),
        *[
            sign_in(
                t, f"joni-{d}", t.at(d, 7, 0), joni, 0, None, interactive=False, ca_status="success"
            )
            for d in (3, 2, 1)
        ],
        sign_in(t, "grady-ok", t.at(4, 7, 0), grady, 0, None, interactive=False),
        *[
            sign_in(
                t,
                f"grady-{d}",
                t.at(d, 7, 1),
                grady,
                50076,
                FAIL_50076,
                interactive=False,
                ca_status="failure",
            )
            for d in (3, 2, 1)
        ],
    ]
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Lee", "Gu")),
        ca=ca_ok(block_legacy_auth(t), mfa_exo),
        users=[user(t, grady, "Grady Archie"), user(t, joni, "Joni Sherman")],
        sign_ins=sign_ins,
    )


def leftover_duplicate() -> TenantSnapshot:
    """The current Recruitee app works; an old registration was disabled and left behind."""
    t = Tenant(
        "lucerne", "Lucerne Publishing", "lucernepublishing.com", when("2025-06-27T13:10:00")
    )
    old_sp_id = gid(t.key, "sp", "recruitee-2020")
    megan = t.upn("Megan", "Bowen")
    return snapshot(
        t,
        apps=[
            app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)]),
            app(
                recruitee_sp(t, sp_id=old_sp_id, app_id=RECRUITEE_OLD_APP_ID, enabled=False),
                [
                    admin_grant(
                        t, "openid offline_access User.Read Calendars.Read", client_id=old_sp_id
                    )
                ],
            ),
        ],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Patti", "Fernandez")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        sign_ins=[
            sign_in(
                t, "ok-1", t.at(2, 8, 0), megan, 0, None, interactive=True, ca_status="success"
            ),
            sign_in(
                t, "ok-2", t.at(1, 8, 0), megan, 0, None, interactive=False, ca_status="success"
            ),
        ],
    )


def lookalike_sp(t: Tenant) -> ServicePrincipal:
    """An application someone in the tenant registered and named "Recruitee": its owner is the
    tenant itself (appOwnerOrganizationId = the tenant id), so it is not Recruitee's
    multi-tenant application (evaluate/identity.py), whatever its name and audience."""
    return ServicePrincipal(
        id=gid(t.key, "sp", "lookalike"),
        app_id=gid(t.key, "app", "lookalike"),
        display_name="Recruitee",
        account_enabled=True,
        app_role_assignment_required=False,
        verified_publisher=VerifiedPublisher(),
        publisher_name=t.name,
        app_owner_organization_id=t.id,
        service_principal_type="Application",
        sign_in_audience="AzureADMultipleOrgs",
        disabled_by_microsoft_status=None,
    )


def lookalike_only() -> TenantSnapshot:
    """No Recruitee application yet; a user registered an app named "Recruitee" in the tenant
    and consented to its mail scopes for themselves."""
    t = Tenant("relecloud", "Relecloud", "relecloud.com", when("2025-06-30T10:05:00"))
    fake = lookalike_sp(t)
    lee = t.upn("Lee", "Gu")
    return snapshot(
        t,
        apps=[app(fake, [user_grant(t, lee, MAILBOX_ONLY, client_id=fake.id)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Isaiah", "Langer")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
    )


def lookalike_beside_real() -> TenantSnapshot:
    """Recruitee's real application (registered in Recruitee's tenant) holds admin consent for
    calendar and rooms; beside it, an app named "Recruitee" registered in this tenant holds a
    user's consent to mail. Only the real one is audited and may be granted mailbox scopes."""
    t = Tenant("adventure", "Adventure Works", "adventure-works.com", when("2025-07-01T09:30:00"))
    fake = lookalike_sp(t)
    ray = t.upn("Ray", "Tanaka")
    return snapshot(
        t,
        apps=[
            app(recruitee_sp(t), [admin_grant(t, CALENDAR_AND_ROOMS)]),
            app(fake, [user_grant(t, ray, MAILBOX_ONLY, client_id=fake.id)]),
        ],
        auth=authorization_policy(NO_USER_CONSENT),
        policies=[],
        acr=workflow(t, True, t.upn("Isaiah", "Langer")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
    )


def assignment_required_permissive() -> TenantSnapshot:
    """Assignment required, user consent allowed by policy, no admin consent. Alex consented
    to calendar before assignment was turned on; Megan is assigned through a group."""
    t = Tenant(
        "contosopharma", "Contoso Pharmaceuticals", "contosopharma.com", when("2025-06-28T10:05:00")
    )
    alex = t.upn("Alex", "Wilber")
    megan = t.upn("Megan", "Bowen")
    group = t.group("SG-Recruitee-Recruiters")
    sp = recruitee_sp(t, assignment_required=True)
    assignments = [
        AppRoleAssignment(
            id=grant_id(t.key, "assignment", "group"),
            principal_id=group,
            principal_type="Group",
            principal_display_name="SG-Recruitee-Recruiters",
            resource_id=sp.id,
            created_date_time=t.at(60),
        ),
        AppRoleAssignment(
            id=grant_id(t.key, "assignment", "alex"),
            principal_id=t.uid(alex),
            principal_type="User",
            principal_display_name="Alex Wilber",
            resource_id=sp.id,
            created_date_time=t.at(60),
        ),
    ]
    return snapshot(
        t,
        apps=[app(sp, [user_grant(t, alex, CALENDAR_ONLY)], assignments)],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Lee", "Gu")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t)),
        users=[
            user(t, megan, "Megan Bowen", direct={group: "SG-Recruitee-Recruiters"}),
            user(t, alex, "Alex Wilber"),
        ],
    )


# --------------------------------------------------------------------------- CA conditions
# One tenant per Conditional Access condition or control that Microsoft documents differently
# for a server-side confidential client (issue 18; entra-docs conditional-access/
# concept-conditional-access-conditions.md, concept-assignment-network.md,
# concept-condition-filters-for-devices.md, concept-token-protection.md). Policies are written
# as Graph sends them (camelCase dicts), so properties the models name only as extras stay.

SHAREPOINT_ONLINE = "00000003-0000-0ff1-ce00-000000000000"
MFA_STRENGTH = "00000000-0000-0000-0000-000000000002"
PHISHING_RESISTANT_STRENGTH = "00000000-0000-0000-0000-000000000004"


def _raw_ca(
    t: Tenant,
    name: str,
    *,
    apps: Iterable[str] = ("All",),
    client_app_types: Iterable[str] = ("all",),
    controls: Iterable[str] = ("block",),
    grant: dict[str, Any] | None = None,
    session: dict[str, Any] | None = None,
    **conditions: Any,
) -> ConditionalAccessPolicy:
    built_in = list(controls)
    return ConditionalAccessPolicy.model_validate(
        {
            "id": gid(t.key, "ca", name),
            "displayName": name,
            "state": "enabled",
            "createdDateTime": t.at(90).isoformat(),
            "conditions": {
                "applications": {
                    "includeApplications": list(apps),
                    "excludeApplications": [],
                    "includeUserActions": [],
                },
                "users": {
                    "includeUsers": ["All"],
                    "excludeUsers": [break_glass(t)],
                    "includeGroups": [],
                    "excludeGroups": [],
                    "includeRoles": [],
                    "excludeRoles": [],
                },
                "clientAppTypes": list(client_app_types),
                "signInRiskLevels": [],
                "userRiskLevels": [],
                **conditions,
            },
            "grantControls": grant
            if grant is not None
            else (
                {
                    "operator": "OR",
                    "builtInControls": built_in,
                    "customAuthenticationFactors": [],
                    "termsOfUse": [],
                }
                if built_in
                else None
            ),
            "sessionControls": session,
        }
    )


def _ca_case(t: Tenant, *policies: ConditionalAccessPolicy) -> TenantSnapshot:
    """A healthy tenant (admin consent for every feature, legacy auth blocked, MFA for all)
    plus the policies under test."""
    return snapshot(
        t,
        apps=[app(recruitee_sp(t), [admin_grant(t, ALL_SCOPES)])],
        auth=authorization_policy(LEGACY),
        policies=consent_policies(legacy_policy(t)),
        acr=workflow(t, True, t.upn("Lee", "Gu")),
        ca=ca_ok(block_legacy_auth(t), require_mfa(t), *policies),
    )


def _t(key: str, org: str, domain: str) -> Tenant:
    return Tenant(key, org, domain, when("2025-07-01T09:00:00"))


def ca_mobile_desktop_block() -> TenantSnapshot:
    t = _t("tailwind", "Tailwind Traders", "tailwindtraders.com")
    return _ca_case(
        t,
        _raw_ca(
            t,
            "CA200 - Block mobile apps and desktop clients on unmanaged devices",
            client_app_types=["mobileAppsAndDesktopClients"],
        ),
    )


def ca_browser_block() -> TenantSnapshot:
    t = _t("lucerne", "Lucerne Publishing", "lucernepublishing.com")
    return _ca_case(
        t,
        _raw_ca(
            t,
            "CA201 - Block browser access to Office 365",
            apps=[OFFICE365],
            client_app_types=["browser"],
        ),
        # Beside it, the mirror image: it must not touch Recruitee (rooms stays pass).
        _raw_ca(
            t,
            "CA202 - Block mobile apps and desktop clients",
            client_app_types=["mobileAppsAndDesktopClients"],
        ),
    )


def ca_selected_location_block() -> TenantSnapshot:
    t = _t("bellows", "Bellows College", "bellowscollege.edu")
    return _ca_case(
        t,
        _raw_ca(
            t,
            "CA300 - Block sign-ins from sanctioned countries",
            locations={
                "includeLocations": [gid(t.key, "namedLocation", "sanctioned-countries")],
                "excludeLocations": [],
            },
        ),
    )


def ca_all_except_trusted_block() -> TenantSnapshot:
    t = _t("firstup", "First Up Consultants", "firstupconsultants.com")
    return _ca_case(
        t,
        _raw_ca(
            t,
            "CA301 - Block access from outside the corporate network",
            locations={"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]},
        ),
    )


def ca_user_risk_block() -> TenantSnapshot:
    t = _t("humongous", "Humongous Insurance", "humongousinsurance.com")
    return _ca_case(
        t,
        _raw_ca(t, "CA400 - Block users with high user risk", userRiskLevels=["high"]),
    )


def ca_linux_compliant_device() -> TenantSnapshot:
    t = _t("wideworld", "Wide World Importers", "wideworldimporters.com")
    return _ca_case(
        t,
        _raw_ca(
            t,
            "CA500 - Require a compliant device on Linux",
            controls=["compliantDevice"],
            platforms={"includePlatforms": ["linux"], "excludePlatforms": []},
        ),
    )


def ca_mfa_outside_trusted() -> TenantSnapshot:
    t = _t("blueyonder", "Blue Yonder Airlines", "blueyonderairlines.com")
    return _ca_case(
        t,
        _raw_ca(
            t,
            "CA600 - Require MFA outside trusted locations",
            controls=["mfa"],
            locations={"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]},
        ),
    )


def _strength(strength_id: str, name: str) -> dict[str, Any]:
    return {
        "operator": "OR",
        "builtInControls": [],
        "customAuthenticationFactors": [],
        "termsOfUse": [],
        "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#"
        "identity/conditionalAccess/policies('x')/grantControls/authenticationStrength/$entity",
        "authenticationStrength": {
            "id": strength_id,
            "displayName": name,
            "policyType": "builtIn",
            "requirementsSatisfied": "mfa",
        },
    }


def ca_authentication_strength() -> TenantSnapshot:
    t = _t("graphicdesign", "Graphic Design Institute", "graphicdesigninstitute.com")
    return _ca_case(
        t,
        _raw_ca(
            t,
            "CA701 - Require MFA strength for all resources",
            grant=_strength(MFA_STRENGTH, "Multifactor authentication"),
        ),
        _raw_ca(
            t,
            "CA700 - Require phishing-resistant MFA for Exchange Online",
            apps=[EXCHANGE_ONLINE],
            grant=_strength(PHISHING_RESISTANT_STRENGTH, "Phishing-resistant MFA"),
        ),
    )


def ca_token_protection() -> TenantSnapshot:
    t = _t("southridge", "Southridge Video", "southridgevideo.com")
    protect = {"secureSignInSession": {"isEnabled": True}, "signInFrequency": None}
    return _ca_case(
        t,
        # As concept-token-protection.md deploys it: desktop clients on Windows only.
        _raw_ca(
            t,
            "CA800 - Token protection for Windows desktop apps",
            apps=[EXCHANGE_ONLINE, SHAREPOINT_ONLINE],
            client_app_types=["mobileAppsAndDesktopClients"],
            controls=[],
            session=protect,
            platforms={"includePlatforms": ["windows"], "excludePlatforms": []},
        ),
        # Widened to every client app: it now covers Recruitee's browser-class refreshes.
        _raw_ca(
            t,
            "CA801 - Token protection for Exchange Online, all client apps",
            apps=[EXCHANGE_ONLINE],
            controls=[],
            session=protect,
        ),
    )


CA_CONDITION_SCENARIOS: dict[str, Callable[[], TenantSnapshot]] = {
    "ca-mobile-desktop-block": ca_mobile_desktop_block,
    "ca-browser-block": ca_browser_block,
    "ca-selected-location-block": ca_selected_location_block,
    "ca-all-except-trusted-block": ca_all_except_trusted_block,
    "ca-user-risk-block": ca_user_risk_block,
    "ca-linux-compliant-device": ca_linux_compliant_device,
    "ca-mfa-outside-trusted": ca_mfa_outside_trusted,
    "ca-authentication-strength": ca_authentication_strength,
    "ca-token-protection": ca_token_protection,
}


SCENARIOS: dict[str, Callable[[], TenantSnapshot]] = {
    "healthy": healthy,
    "never-consented": never_consented,
    "consent-blocked-no-workflow": consent_blocked_no_workflow,
    "assignment-required": assignment_required,
    "partial-scopes": partial_scopes,
    "per-user-consent-only": per_user_consent_only,
    "ca-block-excluded-admins": ca_block_excluded_admins,
    "signin-frequency": signin_frequency,
    "ca-unreadable": ca_unreadable,
    "duplicate-apps": duplicate_apps,
    "disabled-app": disabled_app,
    "microsoft-disabled": microsoft_disabled,
    "revoked-grants": revoked_grants,
    "recommended-policy": recommended_policy_tenant,
    "revoked-consent": revoked_consent,
    "never-connected": never_connected,
    "signin-frequency-exo": signin_frequency_exo,
    "mfa-after-connect": mfa_after_connect,
    "leftover-duplicate": leftover_duplicate,
    "assignment-required-permissive": assignment_required_permissive,
    **CA_CONDITION_SCENARIOS,
    "lookalike-only": lookalike_only,
    "lookalike-beside-real": lookalike_beside_real,
}


def main(argv: list[str] | None = None) -> None:
    """Write every example where it is committed, or all of them into ``--output-dir`` (the
    demo tenant as ``demo_tenant.json``): tests/test_examples_reproduced.py compares those with
    the committed files."""
    parser = argparse.ArgumentParser(description="Build the example tenant snapshots.")
    parser.add_argument("--output-dir", type=Path, help="write every file into this directory")
    out: Path | None = parser.parse_args(argv).output_dir
    for name, build in SCENARIOS.items():
        path = (out or HERE) / f"{name}.json"
        path.write_text(dump_snapshot(build()), encoding="utf-8")
        print(f"wrote {path}")
    demo_path = out / DEMO_PATH.name if out else DEMO_PATH
    demo_path.write_text(dump_snapshot(demo()), encoding="utf-8")
    print(f"wrote {demo_path}")


if __name__ == "__main__":
    main()
