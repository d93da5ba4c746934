"""The tenant snapshot: everything evaluation needs, as collected, with how it was collected.

A snapshot is the hand-over point between collection and evaluation. Support replays a
customer's snapshot offline, so it must be a faithful, versioned record. Every part carries a
collection status so that a part that could not be read turns into an ``unknown`` verdict
instead of a guess (the Prowler weak spot: a 403 silently read as "nothing there").
"""

# No ``from __future__ import annotations`` here: pydantic would evaluate every field's
# annotation from its string (a compile and an eval per field, ~5 ms of start-up for the
# ~100 model classes; docs/performance.md, Start-up).

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from consent_audit.errors import InputError
from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AppConsentRequest,
    AppRoleAssignment,
    AuthorizationPolicy,
    ConditionalAccessPolicy,
    DelegatedPermissionClassification,
    DirectoryAudit,
    GroupSetting,
    OAuth2PermissionGrant,
    PermissionGrantPolicy,
    ServicePrincipal,
    SignIn,
    WhatIfAnalysisResult,
)
from consent_audit.validation_messages import describe_validation_error

SCHEMA_VERSION = 1
REPORTED_BY_VERSION = 2
"""A snapshot that records who reported the problem (``reported_by``) is written as version
2, so an older consent-audit refuses it with its clear "schema_version" message instead of
an unknown field; one without it stays version 1. Both are read."""
SIGN_IN_VERSION = 3
"""A snapshot that records how its run signed in (``sign_in``) is version 3, by the same
rule; snapshots without it keep their version and read as before."""
SCHEMA_VERSIONS = (SCHEMA_VERSION, REPORTED_BY_VERSION, SIGN_IN_VERSION)
GROUP_IDS = 5
"""Grant ids kept per PrincipalGrantGroup, for evidence."""

T = TypeVar("T")

BACKGROUND_SIGN_INS_UNREAD = "background (non-interactive) sign-ins could not be read"
"""How a sign-ins part's gap starts when Graph beta refused the background refreshes
(live/collector.py): the Session link then has no evidence (evaluate/audit_logs.py)."""


class PartStatus(str, Enum):
    """How a part of the snapshot was collected."""

    OK = "ok"
    FORBIDDEN = "forbidden"
    NOT_LICENSED = "not_licensed"
    NOT_FOUND = "not_found"
    ERROR = "error"
    NOT_COLLECTED = "not_collected"


class SnapshotPart(str, Enum):
    """One typed name per snapshot part, shared by the call plan (which part a request fills,
    docs/permissions.md), availability (DATA_UNAVAILABLE) and the verdicts' causal links.

    A ``str`` enum: its values are the snapshot's field names, so a report or a replayed
    snapshot reads the same as before the enum existed."""

    RECRUITEE_APPS = "recruitee_apps"
    GRAPH_SERVICE_PRINCIPAL = "graph_service_principal"
    DELEGATED_PERMISSION_CLASSIFICATIONS = "delegated_permission_classifications"
    AUTHORIZATION_POLICY = "authorization_policy"
    PERMISSION_GRANT_POLICIES = "permission_grant_policies"
    ADMIN_CONSENT_REQUEST_POLICY = "admin_consent_request_policy"
    APP_CONSENT_REQUESTS = "app_consent_requests"
    CONDITIONAL_ACCESS_POLICIES = "conditional_access_policies"
    OAUTH2_PERMISSION_GRANTS = "oauth2_permission_grants"
    APP_ROLE_ASSIGNED_TO = "app_role_assigned_to"
    USER = "user"
    TENANT = "tenant"
    DIRECTORY_AUDITS = "directory_audits"
    SIGN_INS = "sign_ins"
    CONDITIONAL_ACCESS_WHAT_IF = "conditional_access_what_if"
    CONSENT_POLICY_SETTINGS = "consent_policy_settings"

    @property
    def label(self) -> str:
        """What the part is, in words, for reports."""
        return _PART_LABELS[self]

    @property
    def permission(self) -> str:
        """The least-privileged delegated permission that reads the part (as the call plan
        asks for it; tests/live/test_collector.py checks the two agree)."""
        return _PART_PERMISSIONS[self]


_PART_LABELS = {
    SnapshotPart.RECRUITEE_APPS: "Recruitee's service principals",
    SnapshotPart.GRAPH_SERVICE_PRINCIPAL: "the Microsoft Graph service principal",
    SnapshotPart.DELEGATED_PERMISSION_CLASSIFICATIONS: "delegated permission classifications",
    SnapshotPart.AUTHORIZATION_POLICY: "the user consent settings (authorizationPolicy)",
    SnapshotPart.PERMISSION_GRANT_POLICIES: "permission grant policies",
    SnapshotPart.ADMIN_CONSENT_REQUEST_POLICY: "the admin consent request policy",
    SnapshotPart.APP_CONSENT_REQUESTS: "admin consent requests",
    SnapshotPart.CONDITIONAL_ACCESS_POLICIES: "Conditional Access policies",
    SnapshotPart.OAUTH2_PERMISSION_GRANTS: "Recruitee's delegated permission grants",
    SnapshotPart.APP_ROLE_ASSIGNED_TO: "Recruitee's user and group assignments",
    SnapshotPart.USER: "the audited user",
    SnapshotPart.TENANT: "the tenant's name and domains",
    SnapshotPart.DIRECTORY_AUDITS: "directory audit logs",
    SnapshotPart.SIGN_INS: "sign-in logs",
    SnapshotPart.CONDITIONAL_ACCESS_WHAT_IF: "Entra's Conditional Access What-If for the user",
    SnapshotPart.CONSENT_POLICY_SETTINGS: "the Consent Policy Settings (risk-based step-up "
    "consent, BlockUserConsentForRiskyApps)",
}
_PART_PERMISSIONS = {
    SnapshotPart.RECRUITEE_APPS: "Application.Read.All",
    SnapshotPart.GRAPH_SERVICE_PRINCIPAL: "Application.Read.All",
    SnapshotPart.DELEGATED_PERMISSION_CLASSIFICATIONS: "Application.Read.All",
    SnapshotPart.AUTHORIZATION_POLICY: "Policy.Read.All",
    SnapshotPart.PERMISSION_GRANT_POLICIES: "Policy.Read.PermissionGrant",
    SnapshotPart.ADMIN_CONSENT_REQUEST_POLICY: "Policy.Read.All",
    SnapshotPart.APP_CONSENT_REQUESTS: "ConsentRequest.Read.All",
    SnapshotPart.CONDITIONAL_ACCESS_POLICIES: "Policy.Read.All",
    SnapshotPart.OAUTH2_PERMISSION_GRANTS: "Directory.Read.All",
    SnapshotPart.APP_ROLE_ASSIGNED_TO: "Application.Read.All",
    SnapshotPart.USER: "Directory.Read.All",
    SnapshotPart.TENANT: "User.Read",
    SnapshotPart.DIRECTORY_AUDITS: "AuditLog.Read.All",
    SnapshotPart.SIGN_INS: "AuditLog.Read.All",
    SnapshotPart.CONDITIONAL_ACCESS_WHAT_IF: "Policy.Read.ConditionalAccess",
    SnapshotPart.CONSENT_POLICY_SETTINGS: "Directory.Read.All",
}


class SnapshotModel(BaseModel):
    """Snapshot containers reject unknown keys: a typo in a hand-edited snapshot must not pass.

    ``defer_build``: a class's validator is built when it is first used, not at import. A
    snapshot is validated as a whole, so the Graph objects and parts inside it are built once,
    inside ``TenantSnapshot``'s validator, instead of one validator each (docs/performance.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Part(SnapshotModel, Generic[T]):
    """A collected value with its collection status.

    ``data`` is present when ``status`` is ``ok``. ``permission`` names the Graph permission
    that would have been needed when the status is ``forbidden``.
    """

    status: PartStatus = PartStatus.OK
    message: str | None = None
    permission: str | None = None
    data: T | None = None
    gaps: list[str] = []
    """What an ``ok`` part lacks, one sentence each: an item Graph sent that could not be
    read (named, with the bad properties), or a read the part needs that Graph refused (beta's
    background sign-ins). The report names each (DATA_PARTIAL), not only the message."""

    @property
    def ok(self) -> bool:
        return self.status is PartStatus.OK and self.data is not None


class TenantInfo(SnapshotModel):
    id: str
    default_domain: str | None = None
    display_name: str | None = None


class PrincipalGrantGroup(SnapshotModel):
    """Per-user (``Principal``) grants that share a resource and a scope string, counted.

    A tenant-wide audit of a large tenant reads every per-user grant but keeps them this way:
    who holds them does not change any tenant-wide verdict, while how many people hold which
    scopes does (coverage per person, SCOPE_EXTRA, the report's per-user summary). The scope
    string is kept as Graph wrote it, so a replay with another manifest still works."""

    resource_id: str
    scope: str
    count: int
    grant_ids: list[str] = []
    """The first few grant ids, for evidence."""


class RecruiteeApp(SnapshotModel):
    """One Recruitee service principal with what hangs off it."""

    service_principal: ServicePrincipal
    app_role_assigned_to: Part[list[AppRoleAssignment]] = Field(default_factory=Part)
    oauth2_permission_grants: Part[list[OAuth2PermissionGrant]] = Field(default_factory=Part)
    grants_coverage: Literal["all", "all_principals_and_user", "all_principals_and_groups"] = "all"
    """``all`` when every grant is in ``oauth2_permission_grants``; with --user the collector
    reads only the AllPrincipals grants and that user's own grant; tenant-wide it reads every
    grant but keeps the per-user ones as ``principal_grant_groups``."""
    principal_grant_groups: list[PrincipalGrantGroup] = []
    """With ``all_principals_and_groups``: every per-user grant, counted per scope string."""

    def principal_scope_groups(self) -> list[PrincipalGrantGroup]:
        """Every per-user grant read, as (resource, scope string, count, ids) groups,
        whether the snapshot kept them one by one or counted (evaluate reads this)."""
        counts: dict[tuple[str, str], list[Any]] = {}
        for grant in self.oauth2_permission_grants.data or []:
            if (grant.consent_type or "").casefold() != "principal":
                continue
            entry = counts.setdefault((grant.resource_id, grant.scope or ""), [0, []])
            entry[0] += 1
            if len(entry[1]) < GROUP_IDS:
                entry[1].append(grant.id)
        kept = [
            PrincipalGrantGroup(resource_id=res, scope=scope, count=n, grant_ids=ids)
            for (res, scope), (n, ids) in counts.items()
        ]
        return [*kept, *self.principal_grant_groups]


class AuditedUser(SnapshotModel):
    """The user a --user check is about.

    Direct and transitive groups are both kept: app assignment honours only direct
    membership, and the report names a nested group when it is the near miss.
    """

    id: str
    user_principal_name: str
    display_name: str | None = None
    mail: str | None = None
    account_enabled: bool | None = True
    user_type: str | None = "Member"
    member_of_group_ids: list[str] = []
    transitive_member_of_group_ids: list[str] = []
    directory_role_template_ids: list[str] = []
    group_display_names: dict[str, str] = Field(default_factory=dict)


class WhatIfResource(str, Enum):
    """Which resource a What-If question names (live/what_if.py says why these three)."""

    EXCHANGE_ONLINE = "exchange_online"
    """Office 365 Exchange Online: behind Graph mail and calendar."""
    DIRECTORY = "directory"
    """Windows Azure Active Directory: directory access, behind Graph rooms."""
    RECRUITEE = "recruitee"
    """Recruitee's own appId: the sign-in when a person connects."""


class WhatIfQuestion(SnapshotModel):
    """One question put to Entra's What-If (``POST /identity/conditionalAccess/evaluate``) for
    the audited user, and Microsoft's answer as it came: every policy with ``policyApplies``
    and ``analysisReasons``. Kept in the snapshot so support sees what the customer's tenant
    said, not what this tool inferred; a 403 or 404 is kept as the answer's status."""

    resource: WhatIfResource
    include_applications: list[str]
    """The appIds sent in ``signInContext.includeApplications``."""
    client_app_type: str = "browser"
    """``signInConditions.clientAppType`` sent; no other condition is sent."""
    applied_policies_only: bool = False
    answer: Part[list[WhatIfAnalysisResult]] = Field(default_factory=Part)


def _what_if_not_collected() -> Part[list[WhatIfQuestion]]:
    return Part(status=PartStatus.NOT_COLLECTED)


class UserLookup(SnapshotModel):
    """The result of looking up one --user; ``not_found`` is a finding, not an error."""

    query: str
    user: Part[AuditedUser] = Field(default_factory=Part)
    conditional_access_what_if: Part[list[WhatIfQuestion]] = Field(
        default_factory=_what_if_not_collected
    )
    """Entra's What-If for this user, one question per resource. ``not_collected`` in a
    snapshot taken offline, by an older consent-audit, or when the user could not be read:
    then the static reading of the policies decides alone."""


def _not_collected() -> Part[Any]:
    return Part(status=PartStatus.NOT_COLLECTED)


class TenantSnapshot(SnapshotModel):
    """Versioned record of one tenant's Recruitee-relevant configuration."""

    schema_version: int = SCHEMA_VERSION
    tool_version: str
    collected_at: datetime
    redacted: bool = False
    tenant: TenantInfo
    recruitee_apps: Part[list[RecruiteeApp]]
    graph_service_principal: Part[ServicePrincipal]
    delegated_permission_classifications: Part[list[DelegatedPermissionClassification]] = Field(
        default_factory=_not_collected
    )
    authorization_policy: Part[AuthorizationPolicy]
    permission_grant_policies: Part[list[PermissionGrantPolicy]] = Field(
        default_factory=_not_collected
    )
    admin_consent_request_policy: Part[AdminConsentRequestPolicy]
    app_consent_requests: Part[list[AppConsentRequest]] = Field(default_factory=_not_collected)
    conditional_access_policies: Part[list[ConditionalAccessPolicy]]
    users: list[UserLookup] = []
    reported_by: str | None = None
    """The ``--user`` the snapshot was taken for: the person who reported the problem (the
    first ``snapshot --user``). Other users it holds are for comparison."""
    directory_audits: Part[list[DirectoryAudit]] = Field(default_factory=_not_collected)
    sign_ins: Part[list[SignIn]] = Field(default_factory=_not_collected)
    consent_policy_settings: Part[list[GroupSetting]] = Field(default_factory=_not_collected)
    """The tenant's "Consent Policy Settings" directory setting objects (none: the template's
    defaults apply), with only BlockUserConsentForRiskyApps kept. ``not_collected`` in a
    snapshot taken before the tool read it."""
    sign_in: Literal["delegated", "app_only"] | None = Field(
        default=None, exclude_if=lambda v: v is None
    )
    """How the run that collected it signed in: as a person (``delegated``: a directory role
    decides what is readable) or as an app (``app_only``: its Microsoft Graph application
    permissions do), so advice for an unreadable part names the right fix. Never who signed
    in. ``None``: not recorded (an older snapshot, or one built by hand), and not written, so
a version 1 or 2 snapshot this version writes stays one an older version reads."""

    @property
    def app_only(self) -> bool:
        """Whether its reads were an app's own (application permissions, no role)."""
        return self.sign_in == "app_only"

    def find_user(self, query: str) -> UserLookup | None:
        """Find a user lookup by the query, UPN or object id (case-insensitive)."""
        wanted = query.casefold()
        for lookup in self.users:
            if lookup.query.casefold() == wanted:
                return lookup
            user = lookup.user.data
            if user and wanted in (user.user_principal_name.casefold(), user.id.casefold()):
                return lookup
        return None


def taken_for(snapshot: TenantSnapshot, query: str) -> TenantSnapshot:
    """``snapshot`` recording that it was taken for ``query`` (who reported the problem)."""
    version = max(snapshot.schema_version, REPORTED_BY_VERSION)
    return snapshot.model_copy(update={"reported_by": query, "schema_version": version})


def parse_snapshot(text: str, source: str) -> TenantSnapshot:
    """Parse and validate snapshot JSON; every failure becomes one InputError naming the fix."""
    from consent_audit.input_parsing import parse_json

    raw = parse_json(
        text, source, fix="Pass a snapshot written by `consent-audit snapshot --output FILE`."
    )
    if not isinstance(raw, dict):
        raise InputError(
            f"{source}: a snapshot is a JSON object, found {type(raw).__name__}.",
            fix="Pass a snapshot written by `consent-audit snapshot --output FILE`.",
        )
    version = raw.get("schema_version")
    # An integer, as documented: JSON's true and 1.0 compare equal to 1 in Python.
    if type(version) is not int or version not in SCHEMA_VERSIONS:
        raise InputError(
            f"{source}: snapshot schema_version is {version!r}; this consent-audit reads "
            f"schema_version {', '.join(map(str, SCHEMA_VERSIONS[:-1]))} and "
            f"{SCHEMA_VERSIONS[-1]}.",
            fix="Take the snapshot again with this version of consent-audit, or use the "
            "version that wrote it.",
        )
    try:
        return TenantSnapshot.model_validate(raw)
    except ValidationError as exc:
        raise InputError(
            f"{source}: the snapshot is not valid: {describe_validation_error(exc)}",
            fix="Take the snapshot again with `consent-audit snapshot`; do not edit it by hand.",
        ) from None


def load_snapshot(path: Path) -> TenantSnapshot:
    """Read a snapshot file (``-`` is standard input)."""
    from consent_audit.files import read_text_input

    return parse_snapshot(*read_text_input(path, "snapshot"))


def dump_snapshot(snapshot: TenantSnapshot) -> str:
    """Serialise with Graph's camelCase names inside Graph objects; stable key order.

    Written the way the report JSON is (render.safe_text): a lone surrogate Graph sent
    (``"\\ud800"`` parses, but UTF-8 cannot encode it) becomes U+FFFD instead of failing
    the write, and bidi controls are ``\\uXXXX`` escapes, the same data to a JSON parser
    but not reordering what someone reads when the snapshot is opened or printed."""
    from consent_audit.render.safe_text import escape_json_bidi, json_safe_report

    document = json_safe_report(snapshot).model_dump_json(by_alias=True, indent=2)
    return escape_json_bidi(document) + "\n"
