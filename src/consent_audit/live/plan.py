"""Every Graph request the collector can make, with the permission each needs.

One source of truth for the collector and for ``docs/permissions.md`` (ScubaGear keeps the
same kind of API catalogue): a request added here is documented by regenerating the doc.
Permissions are the least-privileged ones from each API page's permissions table
(microsoft-graph-docs-contrib ``api-reference/{v1.0,beta}/api/*.md`` and the tables they include
from ``includes/permissions/``): the delegated one a person's sign-in asks for (``permission``)
and the application one an app-only sign-in needs (``api``, an :class:`ApiPage`). Global Reader
can perform every read below as a person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote

from consent_audit.graph_ids import IdKind, path_segment
from consent_audit.graph_objects import AppRoleAssignment, OAuth2PermissionGrant
from consent_audit.live.graph_client import BETA, V1, GraphCall
from consent_audit.live.what_if import WHAT_IF_PATH, what_if_questions
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import Manifest
from consent_audit.snapshot import SnapshotPart

APP_READ = "Application.Read.All"
DIR_READ = "Directory.Read.All"
POLICY_READ = "Policy.Read.All"
GRANT_POLICY_READ = "Policy.Read.PermissionGrant"
CONSENT_READ = "ConsentRequest.Read.All"
CA_READ = "Policy.Read.ConditionalAccess"
"""Least privileged for ``conditionalAccessRoot: evaluate`` (conditionalaccessroot-evaluate.md);
Policy.Read.All, which the sign-in already asks for, is among its higher-privileged ones."""
AUDIT_READ = "AuditLog.Read.All"
USER_READ = "User.Read"
USER_READ_ALL = "User.Read.All"
"""Application least privileged for a user and their transitive groups (user-get,
user-list-transitivememberof tables); Directory.Read.All is among their higher ones."""
GRANT_READ = "DelegatedPermissionGrant.Read.All"
"""Application least privileged for a service principal's grants (beta
serviceprincipal-list-oauth2permissiongrants table); Directory.Read.All is among its higher."""
COVERED = {CA_READ: POLICY_READ, USER_READ_ALL: DIR_READ, GRANT_READ: DIR_READ}
"""Least-privileged permissions a permission the sign-in already needs covers (per each API
page's permissions table, which lists the covering one as higher privileged): not a second
consent for the same access."""
DOCS = "microsoftgraph/microsoft-graph-docs-contrib"
_INCLUDES = "api-reference/v1.0/includes/permissions/"
_BETA_INCLUDES = "api-reference/beta/includes/permissions/"
_API = "api-reference/v1.0/api/"
_BETA_API = "api-reference/beta/api/"


@dataclass(frozen=True)
class ApiPage:
    """What one Microsoft Graph API page documents for app-only (application) access.

    ``application`` is the least-privileged application permission(s) of the page's
    permissions table, all needed together (every read of the plan has one: no table says
    "Not supported." for an app, once Microsoft's correction in ``MEMBER_OF`` is read).
    ``page`` is the file the table was read from in microsoft-graph-docs-contrib; ``note``
    what else was read to settle it."""

    page: str
    application: tuple[str, ...]
    note: str = ""

    @property
    def name(self) -> str:
        """The page's short name, e.g. ``v1.0 serviceprincipal-list``."""
        version = "beta" if "/beta/" in self.page else "v1.0"
        stem = self.page.rsplit("/", 1)[-1].removesuffix(".md").removesuffix("-permissions")
        return f"{version} {stem}"


SP_LIST = ApiPage(_INCLUDES + "serviceprincipal-list-permissions.md", (APP_READ,))
SP_GET = ApiPage(_INCLUDES + "serviceprincipal-get-permissions.md", (APP_READ,))
CLASSIFICATIONS = ApiPage(
    _INCLUDES + "serviceprincipal-list-delegatedpermissionclassifications-permissions.md",
    (APP_READ,),
)
AUTHORIZATION_POLICY = ApiPage(_API + "authorizationpolicy-get.md", (POLICY_READ,))
GRANT_POLICIES = ApiPage(_API + "permissiongrantpolicy-list.md", (GRANT_POLICY_READ,))
GRANT_POLICIES_BETA = ApiPage(_BETA_API + "permissiongrantpolicy-list.md", (GRANT_POLICY_READ,))
ADMIN_CONSENT_POLICY = ApiPage(
    _INCLUDES + "adminconsentrequestpolicy-get-permissions.md", (POLICY_READ,)
)
GROUP_SETTINGS = ApiPage(_API + "groupsetting-list.md", (DIR_READ,))
CA_POLICIES = ApiPage(_API + "conditionalaccessroot-list-policies.md", (POLICY_READ,))
CONSENT_REQUESTS = ApiPage(
    _BETA_INCLUDES + "appconsentapprovalroute-list-appconsentrequests-permissions.md",
    (CONSENT_READ,),
    "read from the beta page's table; the v1.0 page's could not be read",
)
ORGANIZATION = ApiPage(
    _INCLUDES + "organization-list-permissions.md",
    (DIR_READ,),
    "User.Read is the delegated least privileged; the application one is Directory.Read.All",
)
USER = ApiPage(
    _BETA_INCLUDES + "user-get-permissions.md",
    (USER_READ_ALL,),
    "read from the beta page's table; the v1.0 page's could not be read",
)
MEMBER_OF = ApiPage(
    _API + "user-list-memberof.md",
    (DIR_READ,),
    "its generated table says Application 'Not supported.', but the page's own note limits "
    "that to /me/memberOf (consent-audit reads /users/{id}/memberOf), and Microsoft's docs "
    "team confirmed the table wrong for /users/{id}/memberOf (microsoft-graph-docs-contrib "
    "issue 9076, pull requests 9290 and 9291); Directory.Read.All, which other reads need, "
    "is the application permission the page listed before its table was generated "
    "(issues 3575, 4845)",
)
TRANSITIVE_MEMBER_OF = ApiPage(
    _INCLUDES + "user-list-transitivememberof-permissions.md", (USER_READ_ALL,)
)
USER_CONSENT_REQUESTS = ApiPage(
    _API + "appconsentrequest-list-userconsentrequests.md", (CONSENT_READ,)
)
WHAT_IF = ApiPage(_INCLUDES + "conditionalaccessroot-evaluate-permissions.md", (CA_READ,))
GRANTS = ApiPage(_INCLUDES + "oauth2permissiongrant-list-permissions.md", (DIR_READ,))
SP_GRANTS = ApiPage(
    _BETA_INCLUDES + "serviceprincipal-list-oauth2permissiongrants-permissions.md",
    (GRANT_READ,),
    "read from the beta page's table (the request is v1.0, whose table could not be read)",
)
ASSIGNED_TO = ApiPage(
    _INCLUDES + "serviceprincipal-list-approleassignedto-permissions.md", (APP_READ,)
)
DIRECTORY_AUDITS = ApiPage(_INCLUDES + "directoryaudit-list-permissions.md", (AUDIT_READ, DIR_READ))
SIGN_INS = ApiPage(_INCLUDES + "signin-list-permissions.md", (AUDIT_READ,))
SIGN_INS_BETA = ApiPage(_BETA_API + "signin-list.md", (AUDIT_READ, DIR_READ))
PREFER_ENUMS = {"Prefer": "include-unknown-enum-members"}
"""Evolvable enums (microsoft/api-guidelines graph/patterns/evolvable-enums.md): without it
Graph answers ``unknownFutureValue`` for members added after that sentinel, e.g. grant
control ``riskRemediation`` and platform ``linux`` (v1.0 CSDL)."""
ADVANCED = {"ConsistencyLevel": "eventual"}
"""With ``$count=true``, the advanced query parameters (aad-advanced-queries.md)."""
NON_INTERACTIVE = "signInEventTypes/any(t: t eq 'nonInteractiveUser')"
GRANT_FIELDS = "id,clientId,consentType,principalId,resourceId,scope"
SP_FIELDS = (
    "id,appId,displayName,accountEnabled,appRoleAssignmentRequired,servicePrincipalType,"
    "disabledByMicrosoftStatus,appOwnerOrganizationId,signInAudience,verifiedPublisher"
)
"""What a Recruitee service principal is read with (v1.0 servicePrincipal): owner tenant,
sign-in audience and verified publisher decide whether it is Recruitee's at all
(evaluate/identity.py), so they are asked for by name rather than left to the defaults."""
ASSIGNMENT_FIELDS = "id,principalId,principalType,principalDisplayName,appRoleId,resourceId"
BIG_PAGE = "$top=999"
"""Directory collections page 100 by default, 999 at most (serviceprincipal-list.md);
``$top=999`` on grants is widely used but undocumented, so a 400 falls back (``fallback``)."""
GLOBAL_READER = "Global Reader"
LOG_DAYS = 30
LOG_MAX_PAGES = 10
_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
APP_ID_CHUNK = 15  # Graph's `in` operator takes at most 15 values.


@dataclass(frozen=True)
class PlannedCall:
    """A request with its purpose: which snapshot part it fills and what it needs."""

    key: str
    wave: int
    part: SnapshotPart
    path: str
    permission: str
    roles: tuple[str, ...] = (GLOBAL_READER,)
    when: str = "always"
    headers: Mapping[str, str] = field(default_factory=dict)
    max_pages: int | None = None
    item: Callable[[Any], Any] | None = field(default=None, compare=False, repr=False)
    version: str = V1
    fallback: str | None = None
    """The path to use instead when Graph refuses ``path`` with 400 (``$top`` refused)."""
    also: tuple[str, ...] = ()
    """Permissions needed together with ``permission`` (directoryAudits: AuditLog.Read.All
    and Directory.Read.All, directoryaudit-list.md)."""
    required: tuple[str, ...] | None = None
    """The documented shape of a 2xx answer: ``None`` for a collection (a ``value`` list on
    every page), else the keys an entity's answer must carry (``a.b``: key ``b`` of object
    ``a``). An answer without them is unknown, never defaults (issue #19: ``{}`` for the
    authorization policy read as "user consent disabled")."""

    @property
    def permissions(self) -> tuple[str, ...]:
        return (self.permission, *self.also)

    page: Callable[[list[Any]], list[Any]] | None = field(default=None, compare=False, repr=False)
    method: str = "GET"
    body: Mapping[str, Any] | None = field(default=None, compare=False)
    """The JSON body of a read that is an action (the What-If ``evaluate``)."""
    api: ApiPage | None = None
    """The API page's application permissions: what an app-only sign-in needs for this call."""

    @property
    def application(self) -> tuple[str, ...]:
        """The least-privileged application permissions of this call's API page."""
        return self.api.application if self.api is not None else ()

    @property
    def application_grant(self) -> str:
        """What an app-only run lacks when Graph refuses this call: the application
        permissions to grant, each replaced by the one that covers it (``COVERED``)."""
        return " + ".join(dict.fromkeys(COVERED.get(n, n) for n in self.application))

    def call(self) -> GraphCall:
        return GraphCall(
            self.key,
            self.path,
            self.headers,
            self.max_pages,
            self.item,
            self.version,
            self.page,
            self.method,
            self.body,
        )


def _q(value: str) -> str:
    """Percent-encode a query value; keep OData punctuation readable."""
    return quote(value, safe="'(),:$/=")


_PLACEHOLDER = re.compile(r"\{[A-Za-z]+\}")


def _segment(kind: IdKind, value: str) -> str:
    """An id from the tenant as one path segment: validated for its kind and percent-encoded
    with nothing kept (graph_ids.path_segment), so ``/../``, ``?`` or ``#`` in an id Graph
    sent cannot steer a read elsewhere; the collector leaves out ids that fail
    (UnsafeValueError here is a bug). ``{name}`` placeholders are kept for the permissions
    page (``collection_plan``)."""
    if _PLACEHOLDER.fullmatch(value):
        return value
    return path_segment(kind, value)


def _literal(value: str) -> str:
    """An OData string literal: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def user_segment(user: str) -> str:
    """``/users/{id|upn}`` path segment (user-get.md): ``#`` of B2B UPNs becomes ``%23``;
    a UPN starting with ``$`` must be addressed as ``/users('$x@y')``."""
    if user.startswith("$"):
        return f"/users({quote(_literal(user), safe=chr(39) + '@$')})"
    return "/users/" + quote(user, safe="@")


def _since(now: datetime) -> str:
    return (now - timedelta(days=LOG_DAYS)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def wave_one(manifest: Manifest, options: LiveOptions) -> list[PlannedCall]:
    """Requests that need no object ids: tenant settings, the apps, the user."""
    graph = f"/servicePrincipals(appId={_literal(manifest.resource_app_id)})"
    name = _literal(manifest.app_display_name)
    calls = [
        PlannedCall(
            "apps_by_name",
            1,
            SnapshotPart.RECRUITEE_APPS,
            f"/servicePrincipals?$filter={_q(f'startswith(displayName,{name})')}"
            f"&$select={SP_FIELDS}",
            APP_READ,
            api=SP_LIST,
        ),
        PlannedCall(
            "graph_sp",
            1,
            SnapshotPart.GRAPH_SERVICE_PRINCIPAL,
            f"{graph}?$select=id,appId,displayName,oauth2PermissionScopes",
            APP_READ,
            api=SP_GET,
            required=("id", "appId"),
        ),
        PlannedCall(
            "classifications",
            1,
            SnapshotPart.DELEGATED_PERMISSION_CLASSIFICATIONS,
            f"{graph}/delegatedPermissionClassifications",
            APP_READ,
            api=CLASSIFICATIONS,
        ),
        PlannedCall(
            "authorization_policy",
            1,
            SnapshotPart.AUTHORIZATION_POLICY,
            "/policies/authorizationPolicy",
            POLICY_READ,
            api=AUTHORIZATION_POLICY,
            required=("defaultUserRolePermissions.permissionGrantPoliciesAssigned",),
        ),
        PlannedCall(
            "permission_grant_policies",
            1,
            SnapshotPart.PERMISSION_GRANT_POLICIES,
            "/policies/permissionGrantPolicies",
            GRANT_POLICY_READ,
            api=GRANT_POLICIES,
        ),
        PlannedCall(
            "permission_grant_policies_beta",
            1,
            SnapshotPart.PERMISSION_GRANT_POLICIES,
            "/policies/permissionGrantPolicies",
            GRANT_POLICY_READ,
            when="always (beta: certifiedClientApplicationsOnly exists only there)",
            api=GRANT_POLICIES_BETA,
            version=BETA,
        ),
        PlannedCall(
            "admin_consent_request_policy",
            1,
            SnapshotPart.ADMIN_CONSENT_REQUEST_POLICY,
            "/policies/adminConsentRequestPolicy",
            POLICY_READ,
            api=ADMIN_CONSENT_POLICY,
            required=("isEnabled",),
        ),
        PlannedCall(
            "consent_policy_settings",
            1,
            SnapshotPart.CONSENT_POLICY_SETTINGS,
            "/groupSettings?$select=id,displayName,templateId,values",
            DIR_READ,
            api=GROUP_SETTINGS,
        ),
        PlannedCall(
            "conditional_access",
            1,
            SnapshotPart.CONDITIONAL_ACCESS_POLICIES,
            "/identity/conditionalAccess/policies",
            POLICY_READ,
            api=CA_POLICIES,
            headers=PREFER_ENUMS,
        ),
        PlannedCall(
            "consent_requests",
            1,
            SnapshotPart.APP_CONSENT_REQUESTS,
            "/identityGovernance/appConsent/appConsentRequests?$filter="
            + _q("userConsentRequests/any(u:u/status eq 'InProgress')"),
            CONSENT_READ,
            api=CONSENT_REQUESTS,
        ),
        PlannedCall(
            "organization",
            1,
            SnapshotPart.TENANT,
            "/organization?$select=id,displayName,verifiedDomains",
            USER_READ,
            api=ORGANIZATION,
        ),
    ]
    app_ids = sorted({a.lower() for a in (*manifest.known_app_ids, *options.app_ids)})
    for index in range(0, len(app_ids), APP_ID_CHUNK):
        values = ",".join(_literal(a) for a in app_ids[index : index + APP_ID_CHUNK])
        calls.append(
            PlannedCall(
                f"apps_by_id_{index // APP_ID_CHUNK}",
                1,
                SnapshotPart.RECRUITEE_APPS,
                f"/servicePrincipals?$filter={_q(f'appId in ({values})')}&$select={SP_FIELDS}",
                APP_READ,
                api=SP_LIST,
                when="known app ids or --app-id",
            )
        )
    if options.user:
        segment = user_segment(options.user)
        calls += [
            PlannedCall(
                "user",
                1,
                SnapshotPart.USER,
                f"{segment}?$select=id,userPrincipalName,displayName,mail,accountEnabled,userType",
                DIR_READ,
                api=USER,
                when="--user",
                required=("id",),
            ),
            PlannedCall(
                "user_member_of",
                1,
                SnapshotPart.USER,
                f"{segment}/memberOf?$select=id,displayName,roleTemplateId",
                DIR_READ,
                api=MEMBER_OF,
                when="--user",
            ),
            PlannedCall(
                "user_groups",
                1,
                SnapshotPart.USER,
                f"{segment}/transitiveMemberOf/microsoft.graph.group"
                "?$count=true&$select=id,displayName",
                DIR_READ,
                api=TRANSITIVE_MEMBER_OF,
                when="--user",
                headers=ADVANCED,
            ),
        ]
    return calls


def consent_request_calls(request_ids: list[str]) -> list[PlannedCall]:
    """Who asked, when and why, per pending request: the list does not expand
    ``userConsentRequests`` (appconsentrequest-list.md; userconsentrequest-list.md)."""
    return [
        PlannedCall(
            f"user_consent_requests_{index}",
            2,
            SnapshotPart.APP_CONSENT_REQUESTS,
            "/identityGovernance/appConsent/appConsentRequests/"
            f"{_segment(IdKind.OBJECT_ID, request_id)}/userConsentRequests?$filter="
            + _q("status eq 'InProgress'"),
            CONSENT_READ,
            api=USER_CONSENT_REQUESTS,
            when="a pending request for Recruitee",
        )
        for index, request_id in enumerate(request_ids)
    ]


def what_if_calls(user_id: str, app_ids: list[str]) -> list[PlannedCall]:
    """Entra's own What-If for the audited person, one question per resource Recruitee's
    features use (what_if.what_if_questions says which and why)."""
    return [
        PlannedCall(
            question.key,
            2,
            SnapshotPart.CONDITIONAL_ACCESS_WHAT_IF,
            WHAT_IF_PATH,
            CA_READ,
            api=WHAT_IF,
            when=f"--user: {question.label}",
            headers=PREFER_ENUMS,
            method="POST",
            body=question.body(user_id),
        )
        for question in what_if_questions(app_ids)
    ]


def wave_two(
    apps: list[tuple[str, str]],
    options: LiveOptions,
    user_id: str | None,
    now: datetime,
    consent_requests: list[str] | None = None,
) -> list[PlannedCall]:
    """Requests keyed by the Recruitee service principals (object id, appId) found in wave 1,
    and by the ids of the pending consent requests for Recruitee."""
    calls: list[PlannedCall] = consent_request_calls(consent_requests or [])
    if options.user and user_id:
        calls += what_if_calls(user_id, [app_id for _sp_id, app_id in apps])
    for index, (sp_id, _app_id) in enumerate(apps):
        sp = _segment(IdKind.OBJECT_ID, sp_id)
        client = f"clientId eq {_literal(sp_id)}"
        if options.user and user_id:
            calls += [
                PlannedCall(
                    f"grants_all_{index}",
                    2,
                    SnapshotPart.OAUTH2_PERMISSION_GRANTS,
                    "/oauth2PermissionGrants?$filter="
                    + _q(f"{client} and consentType eq 'AllPrincipals'")
                    + f"&$select={GRANT_FIELDS}",
                    DIR_READ,
                    api=GRANTS,
                    when="--user",
                    item=OAuth2PermissionGrant.model_validate,
                ),
                PlannedCall(
                    f"grants_user_{index}",
                    2,
                    SnapshotPart.OAUTH2_PERMISSION_GRANTS,
                    "/oauth2PermissionGrants?$filter="
                    + _q(f"{client} and principalId eq {_literal(user_id)}")
                    + f"&$select={GRANT_FIELDS}",
                    DIR_READ,
                    api=GRANTS,
                    when="--user",
                    item=OAuth2PermissionGrant.model_validate,
                ),
            ]
        else:
            calls.append(
                PlannedCall(
                    f"grants_{index}",
                    2,
                    SnapshotPart.OAUTH2_PERMISSION_GRANTS,
                    f"/servicePrincipals/{sp}/oauth2PermissionGrants"
                    f"?{BIG_PAGE}&$select={GRANT_FIELDS}",
                    DIR_READ,
                    api=SP_GRANTS,
                    when="without --user",
                    item=OAuth2PermissionGrant.model_validate,
                    fallback=f"/servicePrincipals/{sp}/oauth2PermissionGrants"
                    f"?$select={GRANT_FIELDS}",
                )
            )
        calls.append(
            PlannedCall(
                f"assigned_{index}",
                2,
                SnapshotPart.APP_ROLE_ASSIGNED_TO,
                f"/servicePrincipals/{sp}/appRoleAssignedTo?{BIG_PAGE}&$select={ASSIGNMENT_FIELDS}",
                APP_READ,
                api=ASSIGNED_TO,
                item=AppRoleAssignment.model_validate,
                fallback=f"/servicePrincipals/{sp}/appRoleAssignedTo?$select={ASSIGNMENT_FIELDS}",
            )
        )
    if options.with_logs and apps:
        since = _since(now)
        roles = (GLOBAL_READER, "Reports Reader", "Security Reader")
        calls.append(
            PlannedCall(
                "audits",
                2,
                SnapshotPart.DIRECTORY_AUDITS,
                "/auditLogs/directoryAudits?$filter="
                + _q(f"activityDateTime ge {since} and category eq 'ApplicationManagement'"),
                AUDIT_READ,
                roles,
                "--with-logs",
                max_pages=LOG_MAX_PAGES,
                also=(DIR_READ,),
                api=DIRECTORY_AUDITS,
            )
        )
        for index, (_sp_id, app_id) in enumerate(apps):
            recent = f"appId eq {_literal(app_id)} and createdDateTime ge {since}"
            calls += [
                PlannedCall(
                    f"signins_{index}",
                    2,
                    SnapshotPart.SIGN_INS,
                    "/auditLogs/signIns?$filter=" + _q(recent),
                    AUDIT_READ,
                    roles,
                    "--with-logs (needs Entra ID P1/P2)",
                    max_pages=LOG_MAX_PAGES,
                    api=SIGN_INS,
                ),
                # Background refreshes are non-interactive sign-ins: v1.0 lists interactive
                # ones only (signin-list.md); beta lists these under signInEventTypes.
                PlannedCall(
                    f"signins_background_{index}",
                    2,
                    SnapshotPart.SIGN_INS,
                    "/auditLogs/signIns?$filter=" + _q(f"{recent} and {NON_INTERACTIVE}"),
                    AUDIT_READ,
                    roles,
                    "--with-logs (needs Entra ID P1/P2; beta: non-interactive sign-ins)",
                    max_pages=LOG_MAX_PAGES,
                    version=BETA,
                    api=SIGN_INS_BETA,
                ),
            ]
    return calls


def collection_plan(
    manifest: Manifest, options: LiveOptions | None = None, now: datetime | None = None
) -> list[PlannedCall]:
    """Every request the collector can make; ids the tenant supplies are placeholders."""
    full = (
        LiveOptions(user="{user}", app_ids=("{appId}",), with_logs=True)
        if options is None
        else options
    )
    when = now or datetime.now(timezone.utc)
    apps = [("{recruiteeSpId}", "{recruiteeAppId}")]
    plan = wave_one(manifest, full) + wave_two(
        apps, full, "{userId}", when, ["{appConsentRequestId}"]
    )
    if full.user:
        plan += wave_two(apps, LiveOptions(with_logs=False), None, when)
    seen: set[tuple[str, str, str]] = set()
    unique = []
    for call in plan:
        # One path, several bodies: the What-If asks once per resource.
        identity = (call.version, call.path, repr(call.body))
        if identity not in seen:
            seen.add(identity)
            unique.append(call)
    return unique


def _with_logs_only(call: PlannedCall) -> bool:
    return call.when.startswith("--with-logs")


def application_permissions(plan: list[PlannedCall]) -> tuple[list[str], list[str]]:
    """The application permissions an app-only sign-in needs for ``plan``: those every run
    needs, and those only ``--with-logs`` adds. Each least-privileged one that a needed one
    covers (``COVERED``) is left out, as for the delegated scopes."""
    needed = {COVERED.get(n, n) for c in plan if not _with_logs_only(c) for n in c.application}
    logs = {COVERED.get(n, n) for c in plan if _with_logs_only(c) for n in c.application}
    return sorted(needed), sorted(logs - needed)


def delegated_permissions(plan: list[PlannedCall]) -> list[str]:
    """The delegated scopes a person's sign-in asks for to make ``plan``'s requests: each
    request's permission(s), a least-privileged one that a needed one covers (``COVERED``)
    replaced by it."""
    return sorted({COVERED.get(n, n) for c in plan for n in c.permissions})


def sign_in_scopes(with_logs: bool) -> list[str]:
    """What a person's sign-in asks for (live/auth.py, and its admin-consent URL): the
    delegated permissions of every request the run can make, from the same plan
    docs/permissions.md shows, never a second list kept by hand. ``with_logs`` is whether
    the run reads the audit and sign-in logs (``check``/``snapshot --with-logs``, live
    ``fix``); a ``--user`` or not, the same scopes."""
    from consent_audit.manifest import load_manifest

    full = LiveOptions(user="{user}", app_ids=("{appId}",), with_logs=with_logs)
    return delegated_permissions(collection_plan(load_manifest(), full))


def application_permissions_text(plan: list[PlannedCall]) -> str:
    """One line naming them, e.g. for the fix of a missing admin consent (live/auth.py)."""
    always, logs = application_permissions(plan)
    text = ", ".join(always)
    return f"{text}; {', '.join(logs)} with --with-logs" if logs else text


def app_only_permissions() -> str:
    """The application permissions an app-only sign-in needs, as one line: what the fix of
    a missing admin consent (live/auth.py) and of a run refused everything names, from the
    same plan docs/permissions.md shows, never a second list kept by hand."""
    from consent_audit.manifest import load_manifest

    return application_permissions_text(collection_plan(load_manifest()))


def permissions_markdown(plan: list[PlannedCall]) -> str:
    """The permissions page: every call, the permission it needs, roles that suffice."""
    scopes = delegated_permissions(plan)
    always, logs = application_permissions(plan)
    lines = [
        "# Permissions consent-audit needs",
        "",
        "Generated from `consent_audit.live.plan.collection_plan()`; do not edit by hand.",
        "",
        "consent-audit only reads. Signed in as a person (device code) it asks Microsoft Graph",
        "for these delegated scopes (AuditLog.Read.All only where it reads the logs: `check`",
        "and `snapshot` with `--with-logs`, and live `fix`, which reads the directory audit",
        "log to find a consent someone removed before it consents again):",
        "",
        *[f"- `{s}`" for s in scopes],
        "",
        *[
            f"`{least}` (the least-privileged permission of some requests below) is not asked "
            f"for on its own: `{covering}`, which other reads need anyway, is documented as "
            "sufficient for them too."
            for least, covering in COVERED.items()
            if any(least in c.permissions for c in plan)
        ],
        "",
        "The signed-in account also needs a directory role that can read the same data:",
        "**Global Reader** suffices for every request below. Sign-in logs also need Entra ID",
        "P1 or P2; without the licence that part is reported as `not_licensed`, not as a",
        "finding.",
        "",
        "## App-only sign-in (CI)",
        "",
        "Signed in as an app (client secret, certificate, federated token: what CI jobs use)",
        "it reads with the app's own Microsoft Graph *application* permissions, granted with",
        "admin consent; no directory role is involved. It needs exactly these (AuditLog.Read.All",
        "only with `--with-logs` and for live `fix`):",
        "",
        *[f"- `{s}`" for s in sorted({*always, *logs})],
        "",
        "They are not the delegated names: `User.Read` has no application form (an app reads",
        "`/organization` with `Directory.Read.All`). Where a page's least-privileged application",
        "permission is narrower than one this list holds, the page lists the broader one as",
        "sufficient too, so it is not granted on its own: "
        + ", ".join(
            f"`{least}` (covered by `{covering}`)"
            for least, covering in COVERED.items()
            if any(least in c.application for c in plan)
        )
        + ".",
        "",
        "Microsoft documents every request below as open to an app: each page's permissions",
        "table names an application permission (column *Application*; *Page* names the table,",
        f"listed with its path in {DOCS} at the end).",
        "When Graph refuses one (403), that part of the report is `unknown`, naming the",
        "application permission to grant, never a pass; when it refuses every read, the run",
        "stops (exit 3) naming this list.",
        "",
        *[
            f"- `{api.name}`: {api.note}."
            for api in dict.fromkeys(c.api for c in plan if c.api is not None and c.api.note)
            if api is not None
        ],
        "",
        "## Every request",
        "",
        "| Wave | Request | Snapshot part | Permission | Application | Page "
        "| Roles that suffice (a person) | When |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for call in plan:
        path = _DATE.sub("{now-30d}", unquote(call.path)).replace("|", "\\|")
        version = "" if call.version == V1 else f"/{call.version}"
        headers = "".join(f" `{k}: {v}`" for k, v in call.headers.items())
        page = f"`{call.api.name}`" if call.api is not None else ""
        lines.append(
            f"| {call.wave} | `{call.method} {version}{path}`{headers} | `{call.part.value}` | "
            f"{' + '.join(call.permissions)} | {' + '.join(call.application)} | {page} | "
            f"{', '.join(call.roles)} | {call.when} |"
        )
    lines += [
        "",
        f"Pages the *Page* column names ({DOCS}):",
        "",
        *[
            f"- `{api.name}`: `{api.page}`"
            for api in sorted({c.api for c in plan if c.api is not None}, key=lambda a: a.name)
        ],
        "",
        "Requests of one wave go out together in JSON `$batch` POSTs of up to 20 to",
        "`{graph}/v1.0/$batch` (beta requests, marked `/beta`, to `{graph}/beta/$batch`);",
        "wave 2 needs the object ids found in wave 1. Further pages of a list are plain GETs",
        "of its `@odata.nextLink`, with the same headers and permission, only ever to the",
        "Graph host in use.",
        "",
    ]
    posted = next((c for c in plan if c.body is not None), None)
    if posted is not None:
        lines += [
            "The What-If requests (`POST .../evaluate`, reads despite the verb) go in the same",
            "batches; each names one resource, for the audited user, as a confidential client",
            "(`clientAppType` browser), and asks about every policy (`appliedPoliciesOnly`",
            "false); no other sign-in condition is sent. For example:",
            "",
            "```json",
            json.dumps(posted.body, indent=2),
            "```",
            "",
        ]
    return "\n".join(lines)
