"""Typed copies of the Microsoft Graph objects that consent-audit reads.

Field names follow Graph's JSON (camelCase aliases) so that a snapshot is a faithful record
of what Graph returned and a collector can validate Graph payloads directly. Properties the
tool does not use are ignored on input, except in Conditional Access policies, which keep
every property (``ConditionalAccessObject``). Every property the v1.0 CSDL leaves nullable
(microsoftgraph/msgraph-metadata ``schemas/v1.0-Prod.csdl``: no ``Nullable="false"``) is
``Optional`` here, because real tenants do answer ``null`` there (tests/test_graph_nulls.py
feeds each model such payloads); ``None`` then means "Graph did not say", and evaluation
treats it as unknown where it matters: a null ``permissionGrantPoliciesAssigned`` leaves the
user consent setting unknown, a grant whose ``consentType`` is null is neither admin nor user
consent (coverage it might give is unknown), an assignment without its principal may be the
audited user's, a scope without its ``value`` cannot be matched, a classification without
its permission or level leaves the classification unknown. Only properties without which an
item cannot be stored at all stay required (ids, a service principal's ``appId``, a grant's
``clientId``/``resourceId``, which the CSDL marks ``Nullable="false"`` except ``appId``): the
collector skips such an item and the report names it (collector.py ``_values``).

Sources (microsoftgraph/microsoft-graph-docs-contrib, v1.0 resources):
servicePrincipal, oAuth2PermissionGrant, appRoleAssignment, authorizationPolicy,
permissionGrantPolicy / permissionGrantConditionSet, delegatedPermissionClassification,
adminConsentRequestPolicy, appConsentRequest, conditionalAccessPolicy, directoryAudit, signIn.
"""

# No ``from __future__ import annotations`` here: pydantic would evaluate every field's
# annotation from its string (a compile and an eval per field, ~5 ms of start-up for the
# ~100 model classes; docs/performance.md, Start-up).

import sys
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel


class GraphObject(BaseModel):
    """Base for Graph payloads: camelCase on the wire, unknown properties dropped, immutable.

    ``defer_build``: built when first used, mostly inside the validator of the snapshot that
    holds them, not one validator per class at import (docs/performance.md)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        defer_build=True,
    )


class VerifiedPublisher(GraphObject):
    display_name: str | None = None
    verified_publisher_id: str | None = None
    added_date_time: datetime | None = None


class PermissionScope(GraphObject):
    """A delegated permission an API exposes (``oauth2PermissionScopes`` item).

    ``type`` is ``User`` when the API publisher lets non-admins consent, ``Admin`` otherwise.
    """

    id: str
    value: str | None = None
    """Null (the CSDL allows it): the scope cannot be matched by name."""
    type: str | None = None
    is_enabled: bool = True


class AppRoleAssignment(GraphObject):
    """An assignment of a user, group or service principal to an app (``appRoleAssignedTo``).

    "If an app role is assigned to a group, *direct* members of the group are also considered
    assigned" (resources/approleassignment.md): membership does not cascade to nested groups.
    """

    id: str
    principal_id: str | None = None
    principal_type: str | None = None
    """Either principal property null (the CSDL allows it): who is assigned is unknown."""
    principal_display_name: str | None = None
    app_role_id: str = "00000000-0000-0000-0000-000000000000"
    resource_id: str | None = None
    created_date_time: datetime | None = None


class OAuth2PermissionGrant(GraphObject):
    """A delegated permission grant (resources/oauth2permissiongrant.md).

    ``clientId`` and ``resourceId`` are service-principal *object* ids, not appIds.
    ``AllPrincipals`` is admin consent for everyone; ``Principal`` is one user's consent.
    """

    id: str
    client_id: str
    consent_type: str | None = None
    """Null (the CSDL allows it): neither admin (``AllPrincipals``) nor one user's consent."""
    principal_id: str | None = None
    resource_id: str
    scope: str | None = ""

    @field_validator("client_id", "consent_type", "resource_id", "scope")
    @classmethod
    def _shared(cls, value: str | None) -> str | None:
        """Thousands of grants repeat the same client, resource and scope string: share
        one copy of each (a 100,000-grant tenant must fit in bench/scale.py's memory aim)."""
        return sys.intern(value) if value else value


class ServicePrincipal(GraphObject):
    """The subset of servicePrincipal properties that decide whether users can use the app."""

    id: str
    app_id: str
    display_name: str | None = None
    account_enabled: bool | None = True
    app_role_assignment_required: bool | None = False
    verified_publisher: VerifiedPublisher | None = None
    app_owner_organization_id: str | None = None
    service_principal_type: str | None = None
    sign_in_audience: str | None = None
    disabled_by_microsoft_status: str | None = None
    oauth2_permission_scopes: list[PermissionScope] = []


class DefaultUserRolePermissions(GraphObject):
    allowed_to_create_apps: bool | None = None
    allowed_to_create_security_groups: bool | None = None
    allowed_to_read_other_users: bool | None = None
    permission_grant_policies_assigned: list[str] | None = []
    """``None`` (null from Graph, which the CSDL allows): the user consent setting is unknown,
    never "consent off" (an empty list) and never a default that lets users consent."""


class AuthorizationPolicy(GraphObject):
    id: str | None = "authorizationPolicy"
    allow_user_consent_for_risky_apps: bool | None = None
    default_user_role_permissions: DefaultUserRolePermissions = Field(
        default_factory=DefaultUserRolePermissions
    )


class PermissionGrantConditionSet(GraphObject):
    """One condition set; every condition in it must match (all default to 'all'/'any')."""

    id: str | None = None
    permission_type: str | None = "delegated"
    permission_classification: str | None = "all"
    permissions: list[str] | None = ["all"]
    resource_application: str | None = "any"
    client_application_ids: list[str] | None = ["all"]
    client_application_tenant_ids: list[str] | None = ["all"]
    client_application_publisher_ids: list[str] | None = ["all"]
    client_applications_from_verified_publisher_only: bool | None = False
    certified_client_applications_only: bool | None = False
    """Beta only (absent from the v1.0 CSDL): the collector reads it from Graph beta and
    leaves it ``None`` (unknown) when beta cannot be read; never a default ``False``."""


class PermissionGrantPolicy(GraphObject):
    """Matches an event when at least one include set matches and no exclude set does."""

    id: str
    display_name: str | None = None
    description: str | None = None
    includes: list[PermissionGrantConditionSet] = []
    excludes: list[PermissionGrantConditionSet] = []


class DelegatedPermissionClassification(GraphObject):
    """A classification of one of the Graph SP's delegated permissions (e.g. ``low``).

    Every property is nullable in the CSDL: a null ``permissionId`` is resolved through
    ``permissionName`` when it can be, and a null ``classification`` is unknown, never
    "not classified" (evaluate/coverage.py)."""

    id: str | None = None
    permission_id: str | None = None
    permission_name: str | None = None
    classification: str | None = None


class ReviewerScope(GraphObject):
    query: str | None = None
    query_type: str | None = None
    query_root: str | None = None


class AdminConsentRequestPolicy(GraphObject):
    is_enabled: bool = False
    notify_reviewers: bool | None = None
    reminders_enabled: bool | None = None
    request_duration_in_days: int | None = None
    reviewers: list[ReviewerScope] | None = []
    """``None`` (null from Graph) means the reviewers are unknown, not that there are none."""


class ConsentRequestScope(GraphObject):
    display_name: str | None = None


class IdentityRef(GraphObject):
    """A person: ``identity``, or its derived ``userIdentity`` (which adds the UPN)."""

    id: str | None = None
    display_name: str | None = None
    user_principal_name: str | None = None


class AppIdentity(GraphObject):
    """The app that made a change (``appIdentity``: it has no ``id``, only the appId)."""

    app_id: str | None = None
    display_name: str | None = None
    service_principal_id: str | None = None


class IdentitySet(GraphObject):
    """Who created a request (``identitySet``; only the person is read)."""

    user: IdentityRef | None = None


class AuditActivityInitiator(GraphObject):
    """Who made an audited change (``auditActivityInitiator``): a user or an app."""

    user: IdentityRef | None = None
    app: AppIdentity | None = None


class UserConsentRequest(GraphObject):
    id: str
    status: str | None = None
    reason: str | None = None
    created_by: IdentitySet | None = None
    created_date_time: datetime | None = None


class AppConsentRequest(GraphObject):
    id: str
    app_id: str
    app_display_name: str | None = None
    pending_scopes: list[ConsentRequestScope] | None = []
    user_consent_requests: list[UserConsentRequest] = []


class ConditionalAccessObject(GraphObject):
    """Base for Conditional Access payloads: unlike other Graph objects, every property is
    kept, also one this tool does not know (``model_extra``, dumped back under Graph's own
    name). Conditional Access grows new conditions and controls (device filters, token
    protection, authentication flows, insider risk ...); a policy carrying one the tool cannot
    judge must stay visible so its verdict is ``unknown``, never a silent pass
    (evaluate/ca_conditions.py ``unrecognised``)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        frozen=True,
        defer_build=True,
    )


class ConditionalAccessFilter(ConditionalAccessObject):
    """A rule over device or application attributes (conditionalAccessFilter): ``mode``
    ``include`` or ``exclude``, ``rule`` in the dynamic-group rule syntax."""

    mode: str | None = None
    rule: str | None = None


class ConditionalAccessApplications(ConditionalAccessObject):
    include_applications: list[str] = []
    exclude_applications: list[str] = []
    include_user_actions: list[str] = []
    include_authentication_context_class_references: list[str] | None = None
    application_filter: ConditionalAccessFilter | None = None
    """Targets apps by custom security attributes: whether it matches Exchange Online, the
    directory or Recruitee is not in the policy (concept-filter-for-applications.md)."""


class ConditionalAccessUsers(ConditionalAccessObject):
    include_users: list[str] = []
    exclude_users: list[str] = []
    include_groups: list[str] = []
    exclude_groups: list[str] = []
    include_roles: list[str] = []
    exclude_roles: list[str] = []
    include_guests_or_external_users: dict[str, Any] | None = None
    exclude_guests_or_external_users: dict[str, Any] | None = None


class ConditionalAccessLocations(ConditionalAccessObject):
    include_locations: list[str] = []
    exclude_locations: list[str] = []


class ConditionalAccessPlatforms(ConditionalAccessObject):
    include_platforms: list[str] = []
    exclude_platforms: list[str] = []


class ConditionalAccessDevices(ConditionalAccessObject):
    """v1.0 has only ``deviceFilter``; beta's deprecated device states stay as extras."""

    device_filter: ConditionalAccessFilter | None = None


class ConditionalAccessClientApplications(ConditionalAccessObject):
    """Workload identities (service principals) a policy targets."""

    include_service_principals: list[str] | None = None
    exclude_service_principals: list[str] | None = None
    service_principal_filter: ConditionalAccessFilter | None = None


class ConditionalAccessAuthenticationFlows(ConditionalAccessObject):
    transfer_methods: str | None = None
    """Flags enum, e.g. ``deviceCodeFlow,authenticationTransfer``."""


class ConditionalAccessConditions(ConditionalAccessObject):
    applications: ConditionalAccessApplications | None = None
    users: ConditionalAccessUsers | None = None
    client_app_types: list[str] = []
    locations: ConditionalAccessLocations | None = None
    platforms: ConditionalAccessPlatforms | None = None
    devices: ConditionalAccessDevices | None = None
    client_applications: ConditionalAccessClientApplications | None = None
    authentication_flows: ConditionalAccessAuthenticationFlows | None = None
    sign_in_risk_levels: list[str] = []
    user_risk_levels: list[str] = []
    service_principal_risk_levels: list[str] | None = None
    insider_risk_levels: str | None = None
    """Flags enum (``minor``, ``moderate``, ``elevated``)."""


class AuthenticationStrength(ConditionalAccessObject):
    id: str | None = None
    display_name: str | None = None
    policy_type: str | None = None
    requirements_satisfied: str | None = None
    allowed_combinations: list[str] | None = None


class ConditionalAccessGrantControls(ConditionalAccessObject):
    operator: str | None = "OR"
    built_in_controls: list[str] = []
    custom_authentication_factors: list[str] = []
    terms_of_use: list[str] = []
    authentication_strength: AuthenticationStrength | None = None


class SignInFrequency(ConditionalAccessObject):
    is_enabled: bool | None = False
    type: str | None = None
    value: int | None = None
    frequency_interval: str | None = None
    authentication_type: str | None = None


class PersistentBrowser(ConditionalAccessObject):
    is_enabled: bool | None = False
    mode: str | None = None


class SessionControl(ConditionalAccessObject):
    """A session control with nothing but ``isEnabled`` (application enforced restrictions,
    token protection ``secureSignInSession``)."""

    is_enabled: bool | None = False


class CloudAppSecuritySessionControl(SessionControl):
    """``cloudAppSecurity``: the one session control that also has a type."""

    cloud_app_security_type: str | None = None


class ConditionalAccessSessionControls(ConditionalAccessObject):
    sign_in_frequency: SignInFrequency | None = None
    persistent_browser: PersistentBrowser | None = None
    application_enforced_restrictions: SessionControl | None = None
    cloud_app_security: CloudAppSecuritySessionControl | None = None
    secure_sign_in_session: SessionControl | None = None
    """Token protection (concept-token-protection.md)."""
    disable_resilience_defaults: bool | None = None


class ConditionalAccessPolicy(ConditionalAccessObject):
    id: str
    display_name: str | None = None
    description: str | None = None
    state: str
    template_id: str | None = None
    created_date_time: datetime | None = None
    modified_date_time: datetime | None = None
    conditions: ConditionalAccessConditions = Field(default_factory=ConditionalAccessConditions)
    grant_controls: ConditionalAccessGrantControls | None = None
    session_controls: ConditionalAccessSessionControls | None = None


class WhatIfAnalysisResult(ConditionalAccessPolicy):
    """One policy in Entra's What-If answer (whatifanalysisresult.md): a conditionalAccessPolicy
    plus whether it applies to the sign-in asked about and, when not, why.

    ``analysisReasons`` is ``notSet`` when the policy applies, else one reason, e.g. ``users``,
    ``application``, ``clientApps``, ``location`` or ``notEnoughInformation`` (a condition
    needed a detail the request left out). Null (Graph did not say): unknown."""

    policy_applies: bool | None = None
    analysis_reasons: str | None = None


class ModifiedProperty(GraphObject):
    display_name: str | None = None
    old_value: str | None = None
    new_value: str | None = None


class TargetResource(GraphObject):
    id: str | None = None
    display_name: str | None = None
    type: str | None = None
    user_principal_name: str | None = None
    modified_properties: list[ModifiedProperty] | None = []


class DirectoryAudit(GraphObject):
    id: str
    category: str | None = None
    activity_display_name: str
    activity_date_time: datetime
    result: str | None = None
    result_reason: str | None = None
    initiated_by: AuditActivityInitiator | None = None
    target_resources: list[TargetResource] | None = []


class SignInStatus(GraphObject):
    error_code: int | None = 0
    """``None`` (null from Graph): the outcome is unknown; it is not counted as a failure."""
    failure_reason: str | None = None
    additional_details: str | None = None


class SignIn(GraphObject):
    id: str
    created_date_time: datetime
    app_id: str | None = None
    app_display_name: str | None = None
    user_id: str | None = None
    user_principal_name: str | None = None
    resource_display_name: str | None = None
    is_interactive: bool | None = None
    status: SignInStatus | None = Field(default_factory=SignInStatus)
    conditional_access_status: str | None = None


CONSENT_POLICY_SETTINGS_TEMPLATE_ID = "dffd5d46-495d-40a9-8e21-954ff55e198a"
"""The "Consent Policy Settings" directory settings template (entra-docs
configure-risk-based-step-up-consent.md): its ``BlockUserConsentForRiskyApps`` switches
risk-based step-up consent."""


STEP_UP_SETTING = "BlockUserConsentForRiskyApps"
"""The Consent Policy Settings value that switches risk-based step-up consent (a string
"true"/"false" in ``values[]``; the template's default is on)."""


class SettingValue(GraphObject):
    """One name/value pair of a directory setting (v1.0 settingValue): the value is a string
    on the wire ("true"/"false" for a boolean setting)."""

    name: str | None = None
    value: str | None = None


class GroupSetting(GraphObject):
    """A tenant-wide directory setting (v1.0 groupSetting, ``GET /groupSettings``,
    groupsetting-list.md). A tenant that never changed a template's settings has no object
    for it; the template's defaults then apply."""

    id: str | None = None
    display_name: str | None = None
    template_id: str | None = None
    values: list[SettingValue] | None = []
