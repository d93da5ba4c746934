"""Can a regular user consent to a scope for Recruitee? Evaluate the policy, don't guess it.

Entra's rules, as documented:
- The tenant's ``authorizationPolicy.defaultUserRolePermissions.permissionGrantPoliciesAssigned``
  lists the policies under which users may consent for themselves, as
  ``ManagePermissionGrantsForSelf.{policyId}`` (case varies between docs and tenants).
  ``ManagePermissionGrantsForOwnedResource.*`` entries are resource-specific consent, not user
  consent. No Self entry means user consent is off (entra-docs configure-user-consent.md).
- "For an event to match a permission grant policy, it must match at least one of the
  includes condition sets, and none of the excludes" (resources/permissiongrantpolicy.md);
  "all conditions in the condition set must be met"; "Each policy is evaluated separately ...
  the user only needs one policy to approve" (entra-docs manage-app-consent-policies.md).
- A scope the API publisher marks admin-only (permissionScope ``type`` ``Admin``; "Admin
  Consent Required" in Graph's permissions reference) is never user-consentable.
- "Applications that require users to be assigned to the application must have their
  permissions consented by an administrator, even if the user consent policies ... would
  otherwise allow a user to consent" (entra-docs configure-user-consent.md).

Each decision is ``True`` (users can), ``False`` (only admins can) or ``None`` (unknown: a part
of the snapshot was unavailable), with the reason and the deciding policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from consent_audit.catalog import PermissionCatalog
from consent_audit.graph_objects import (
    CONSENT_POLICY_SETTINGS_TEMPLATE_ID,
    STEP_UP_SETTING,
    GroupSetting,
    PermissionGrantConditionSet,
    PermissionGrantPolicy,
    PermissionScope,
    ServicePrincipal,
)
from consent_audit.scopes import scope_key
from consent_audit.snapshot import Part, PartStatus

SELF_PREFIX = "managepermissiongrantsforself."
MICROSOFT_MANAGED = {
    "microsoft-user-default-recommended",
    "microsoft-user-default-allow-consent-apps",
}
"""Policies whose conditions Microsoft updates (entra-docs manage-app-consent-policies.md)."""
BASIC_SCOPES = {"openid", "profile", "email", "offline_access", "user.read"}
ABSENT_APP_ID = "(not in tenant)"
"""Object id of the stand-in for a Recruitee app that nobody has consented to yet."""


@dataclass(frozen=True)
class ConsentDecision:
    scope: str
    allowed: bool | None
    reason: str
    policy_id: str | None = None
    unknown_part: str | None = None
    """The snapshot part whose absence made the decision unknown."""
    cause: str = "policy"
    """Why: ``admin_only``, ``assignment_required``, ``consent_disabled``, ``policy``,
    ``microsoft_managed`` (a Microsoft-managed policy's exclusion, not a tenant choice)."""


UNPLACED_CLASSIFICATION = "?unplaced"
"""Key of ConsentInputs.classifications for a classification Graph sent without a usable
``permissionId`` or ``permissionName`` (both nullable in the CSDL)."""


@dataclass(frozen=True)
class ConsentInputs:
    """What the decision needs; ``None`` for a part that could not be read."""

    assigned: Sequence[str] | None
    policies: Mapping[str, PermissionGrantPolicy] | None
    builtin_policies: Mapping[str, PermissionGrantPolicy]
    classifications: Mapping[str, str | None] | None
    """permission id (casefolded) -> classification, from the Graph SP's classifications.
    ``None`` as a value: Graph answered a null classification for that permission (unknown);
    the key ``UNPLACED_CLASSIFICATION``: a classification whose permission could not be told,
    so a permission found under no key may still be classified (unknown, not "unclassified")."""
    graph_scopes: Mapping[str, PermissionScope] | None
    """scope value (scopes.scope_key) -> the tenant's Graph SP permission scope; a scope
    whose value Graph answered null is keyed by ``scope_id_key`` instead."""
    catalog: PermissionCatalog
    resource_app_id: str
    tenant_id: str
    consent_requests_on: bool | None = None
    """Whether admin consent requests are on (adminConsentRequestPolicy ``isEnabled``);
    ``None`` when unread. Decides what a person sees when step-up consent applies."""
    step_up: StepUp = field(default_factory=lambda: step_up_state(None))
    """Whether risk-based step-up consent is on (BlockUserConsentForRiskyApps)."""


@dataclass(frozen=True)
class StepUp:
    """Risk-based step-up consent in this tenant: ``on`` ``None`` when it cannot be told;
    ``how`` says how it is known (or why not), in words for a reason."""

    on: bool | None
    how: str


def step_up_state(part: Part[list[GroupSetting]] | None) -> StepUp:
    """Read BlockUserConsentForRiskyApps from the Consent Policy Settings directory setting.

    entra-docs configure-risk-based-step-up-consent.md: "This step-up capability is enabled by
    default"; read "the Consent Policy Settings directory settings ... If they aren't created,
    use the values from the corresponding directory settings template" (template
    dffd5d46-495d-40a9-8e21-954ff55e198a); the value is a string on the wire
    (groupsetting-list.md: ``values`` of name/value strings; the page sets "True"/"False").
    No object, or an object without the value: the template's default, on. A part not read
    (a snapshot from before, or Graph refused it) or a value neither true nor false: unknown."""
    where = "the Consent Policy Settings (BlockUserConsentForRiskyApps)"
    if part is None or part.status is PartStatus.NOT_COLLECTED:
        return StepUp(None, f"{where} were not read")
    if part.status is not PartStatus.OK or part.data is None:
        return StepUp(
            None,
            f"{where} could not be read ({part.status.value}; reading them needs "
            "Directory.Read.All)",
        )
    settings = [
        s
        for s in part.data
        if (s.template_id or "").casefold() == CONSENT_POLICY_SETTINGS_TEMPLATE_ID
    ]
    if not settings:
        return StepUp(
            True,
            "on by default (the tenant has no Consent Policy Settings object, so "
            "BlockUserConsentForRiskyApps has its default, true)",
        )
    values = [
        (v.value or "").strip().casefold()
        for s in settings
        for v in s.values or []
        if (v.name or "").casefold() == STEP_UP_SETTING.casefold()
    ]
    if not values:
        return StepUp(
            True,
            "on by default (the Consent Policy Settings object does not set "
            "BlockUserConsentForRiskyApps)",
        )
    if all(v == "true" for v in values):
        return StepUp(True, "on (BlockUserConsentForRiskyApps is true)")
    if all(v == "false" for v in values):
        return StepUp(False, "off (BlockUserConsentForRiskyApps is false)")
    return StepUp(None, "BlockUserConsentForRiskyApps has a value that is neither true nor false")


def scope_id_key(scope_id: str) -> str:
    """ConsentInputs.graph_scopes key of a scope whose ``value`` Graph answered null."""
    return f"id:{scope_id.casefold()}"


def self_consent_policy_ids(assigned: Sequence[str]) -> list[str]:
    """Policy ids under which users may consent for themselves (prefix is case-insensitive)."""
    return [
        entry[len(SELF_PREFIX) :] for entry in assigned if entry.casefold().startswith(SELF_PREFIX)
    ]


@dataclass(frozen=True)
class _Permission:
    value: str
    id: str | None
    admin_only: bool | None


def _resolve(scope: str, inputs: ConsentInputs) -> _Permission:
    """The tenant's own Graph SP is the truth; the bundled catalog fills in when unread."""
    tenant_scope = (inputs.graph_scopes or {}).get(scope_key(scope))
    known = inputs.catalog.by_value(scope)
    if tenant_scope is None and known is not None:
        # A tenant scope whose value Graph answered null is still found by its id.
        tenant_scope = (inputs.graph_scopes or {}).get(scope_id_key(known.id))
    if tenant_scope is not None:
        admin_only = (tenant_scope.type or "User").casefold() == "admin"
        return _Permission(tenant_scope.value or scope, tenant_scope.id, admin_only)
    if known is not None:
        return _Permission(known.value, known.id, known.admin_consent_required)
    return _Permission(scope, None, None)


def _matches_list(values: Sequence[str] | None, candidate: str | None) -> bool | None:
    """``None`` values (Graph answered null, which the CSDL allows) match nothing for sure."""
    if values is None:
        return None
    if any(v.casefold() in ("all", "any") for v in values):
        return True
    if candidate is None:
        return None
    return candidate.casefold() in (v.casefold() for v in values)


def _condition_matches(
    cs: PermissionGrantConditionSet,
    permission: _Permission,
    app: ServicePrincipal,
    inputs: ConsentInputs,
) -> tuple[bool | None, str]:
    """Does one condition set match consenting to this delegated permission for this app?

    A condition Graph answered as null is unknown (``None``), never its documented default."""
    unread = [
        name
        for name, value in (
            ("permissionType", cs.permission_type),
            ("permissionClassification", cs.permission_classification),
            ("resourceApplication", cs.resource_application),
        )
        if value is None
    ]
    if unread or cs.permission_type is None:
        return None, f"its condition {', '.join(unread)} came back null from Graph"
    kind = cs.permission_type.casefold()
    if kind == "application":
        return False, "it covers application permissions only"
    if kind == "delegatedUserConsentable".casefold() and permission.admin_only:
        return False, f"{permission.value} requires admin consent"
    classification = cs.permission_classification or "all"
    if classification.casefold() != "all":
        if inputs.classifications is None:
            return None, "delegated permission classifications could not be read"
        key = (permission.id or "").casefold()
        got = inputs.classifications.get(key)
        if got is None and key in inputs.classifications:
            return None, (
                f"the delegated permission classification of {permission.value} came back "
                "null from Graph"
            )
        if got is None and UNPLACED_CLASSIFICATION in inputs.classifications:
            return None, (
                "a delegated permission classification names no permission (Graph answered "
                f"null), so whether {permission.value} is classified is unknown"
            )
        if got is None or got.casefold() != classification.casefold():
            label = got or "not classified"
            return False, (
                f"it needs {classification!r}-classified permissions and "
                f"{permission.value} is {label}"
            )
    perms = _matches_list(cs.permissions, permission.id)
    if perms is not True:
        if cs.permissions is None:
            return None, "its permission list came back null from Graph"
        return perms, f"its permission list does not include {permission.value}"
    resource = (cs.resource_application or "any").casefold()
    if resource not in ("any", "all") and resource != inputs.resource_app_id.casefold():
        return False, "it covers another API, not Microsoft Graph"
    clients = _matches_list(cs.client_application_ids, app.app_id)
    if clients is None:
        return None, "its client application list came back null from Graph"
    if clients is not True:
        return False, "it lists other client applications only"
    if cs.client_application_tenant_ids is None or cs.client_application_publisher_ids is None:
        return None, "its client tenant or publisher list came back null from Graph"
    tenant_ids = [t.replace("{tenant}", inputs.tenant_id) for t in cs.client_application_tenant_ids]
    owner = app.app_owner_organization_id
    tenant_match = _matches_list(tenant_ids, owner if app.id != ABSENT_APP_ID or owner else None)
    if tenant_match is not True:
        return tenant_match, "it covers apps registered in listed tenants only"
    publisher_id = app.verified_publisher.verified_publisher_id if app.verified_publisher else None
    publisher_match = _matches_list(cs.client_application_publisher_ids, publisher_id)
    if cs.client_applications_from_verified_publisher_only is None and not publisher_id:
        return None, "whether it needs a verified publisher came back null from Graph"
    needs_verified = bool(cs.client_applications_from_verified_publisher_only) and not publisher_id
    if app.id == ABSENT_APP_ID and (publisher_match is not True or needs_verified):
        return None, "Recruitee is not in the tenant, so its publisher is unknown"
    if publisher_match is not True:
        return False, "it covers apps from listed publishers only"
    if needs_verified:
        return False, "it covers apps from verified publishers only and Recruitee's is unverified"
    if cs.certified_client_applications_only is None:
        return None, (
            "whether it covers Microsoft 365 certified apps only is unknown "
            "(a Graph beta property that could not be read)"
        )
    if cs.certified_client_applications_only:
        return False, "it covers Microsoft 365 certified apps only"
    return True, "matched"


def _policy_decision(
    policy: PermissionGrantPolicy,
    permission: _Permission,
    app: ServicePrincipal,
    inputs: ConsentInputs,
) -> tuple[bool | None, str]:
    include_reasons: list[str] = []
    included: bool | None = False
    for cs in policy.includes:
        matched, why = _condition_matches(cs, permission, app, inputs)
        if matched is True:
            included = True
            break
        if matched is None:
            included = None
        include_reasons.append(why)
    if included is not True:
        why = include_reasons[0] if include_reasons else "it includes nothing"
        return included, why
    # An event matches only if it matches *none* of the excludes: one definite exclude
    # decides, whatever an undecidable one says.
    undecided: str | None = None
    for cs in policy.excludes:
        matched, why = _condition_matches(cs, permission, app, inputs)
        if matched is True:
            return False, f"it excludes {permission.value}"
        if matched is None:
            undecided = why
    if undecided is not None:
        return None, undecided
    return True, "matched"


def decide(scope: str, app: ServicePrincipal, inputs: ConsentInputs) -> ConsentDecision:
    """Decide whether a regular user may consent to ``scope`` for ``app``."""
    permission = _resolve(scope, inputs)
    if permission.admin_only:
        return ConsentDecision(
            permission.value,
            False,
            f"Microsoft Graph marks {permission.value} as requiring admin consent",
            cause="admin_only",
        )
    if app.app_role_assignment_required:
        return ConsentDecision(
            permission.value,
            False,
            "assignment is required for Recruitee, and such apps always need admin consent",
            cause="assignment_required",
        )
    if inputs.assigned is None:
        return ConsentDecision(
            permission.value,
            None,
            "the tenant's user consent setting is unknown (its authorization policy could "
            "not be read, or Graph answered null for permissionGrantPoliciesAssigned)",
            unknown_part="authorization_policy",
        )
    policy_ids = self_consent_policy_ids(inputs.assigned)
    if not policy_ids:
        return ConsentDecision(
            permission.value, False, "user consent is turned off", cause="consent_disabled"
        )
    unknown: ConsentDecision | None = None
    refusals: list[str] = []
    managed = False
    for policy_id in policy_ids:
        policy = (inputs.policies or {}).get(policy_id.casefold()) or inputs.builtin_policies.get(
            policy_id.casefold()
        )
        if policy is None:
            unknown = ConsentDecision(
                permission.value,
                None,
                f"permission grant policy {policy_id!r} could not be read",
                policy_id,
                unknown_part="permission_grant_policies",
            )
            continue
        allowed, why = _policy_decision(policy, permission, app, inputs)
        if allowed is True:
            return ConsentDecision(
                permission.value,
                True,
                f"allowed by policy {policy.id!r}"
                f"{_step_up_caveat(permission, app, inputs.consent_requests_on, inputs.step_up)}",
                policy.id,
            )
        if allowed is None:
            part = (
                "delegated_permission_classifications"
                if "classification" in why
                else "permission_grant_policies"
            )
            unknown = ConsentDecision(permission.value, None, why, policy.id, unknown_part=part)
        elif policy.id.casefold() in MICROSOFT_MANAGED and why.startswith("it excludes"):
            managed = True
            refusals.append(
                f"Microsoft's managed policy {policy.id!r} excludes {permission.value}: "
                "Microsoft's current recommendation, not a choice made in this tenant"
            )
        else:
            refusals.append(f"policy {policy.id!r}: {why}")
    if unknown is not None:
        return unknown
    return ConsentDecision(
        permission.value,
        False,
        "; ".join(refusals),
        policy_ids[0],
        cause="microsoft_managed" if managed else "policy",
    )


def _step_up_caveat(
    permission: _Permission,
    app: ServicePrincipal,
    consent_requests_on: bool | None,
    step_up: StepUp,
) -> str:
    """Risk-based step-up consent (entra-docs configure-risk-based-step-up-consent.md):
    "consent requests for newly registered multitenant apps that aren't publisher verified
    and require nonbasic permissions are considered risky ... the request requires a
    'step-up' to admin consent instead. This step-up capability is enabled by default".
    Whether Entra deems Recruitee "newly registered" is not visible in Graph, so with step-up
    on (``BlockUserConsentForRiskyApps``, step_up_state) this is a caveat on an allowed
    decision, not a refusal; with it off there is no step-up; unread, it is named unknown.
    What the person then sees depends on the admin consent workflow: "If the admin consent
    request workflow isn't enabled" AADSTS90094 (same page); with it on, a request for approval
    (AADSTS90095). One story: mechanisms.step_up_consent."""
    verified = app.verified_publisher and app.verified_publisher.verified_publisher_id
    if verified or permission.value.casefold() in BASIC_SCOPES:
        return ""
    if step_up.on is False:
        return (
            f" (risk-based step-up consent is {step_up.how}: Recruitee's missing verified "
            "publisher does not turn this consent into a need for admin consent)"
        )
    if consent_requests_on is True:
        then = "then users must ask for approval through an admin consent request (AADSTS90095)"
    elif consent_requests_on is False:
        then = "then users see AADSTS90094, as admin consent requests are off"
    else:
        then = (
            "then users need admin consent: AADSTS90094 if admin consent requests are off, "
            "a request for approval if they are on"
        )
    if step_up.on is True:
        return (
            f" (unless Microsoft's risk-based step-up consent, {step_up.how}, flags the request "
            f"as risky: Recruitee has no verified publisher; {then})"
        )
    return (
        " (unless Microsoft's risk-based step-up consent flags the request as risky: "
        "Recruitee has no verified publisher, and whether step-up is on is unknown: "
        f"{step_up.how}; {then})"
    )
