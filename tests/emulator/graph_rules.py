"""Where real Microsoft Graph is stricter than a lenient server, as the emulator applies it.

Each rule names the Microsoft source it copies (microsoftgraph/microsoft-graph-docs-contrib,
and the v1.0 CSDL in microsoftgraph/msgraph-metadata ``schemas/v1.0-Prod.csdl``):

* Advanced queries (``concepts/aad-advanced-queries.md``): an OData cast such as
  ``/transitiveMemberOf/microsoft.graph.group``, and ``$filter`` with ``ne``, ``not`` or
  ``endsWith`` on directory objects, need ``ConsistencyLevel: eventual`` *and* ``$count=true``;
  ``$search`` needs the header ("with the exception of ``$search``" for ``$count``).
  Otherwise 400 ``Request_UnsupportedQuery``.
* Beta-only properties: the v1.0 CSDL's ``permissionGrantConditionSet`` has no
  ``certifiedClientApplicationsOnly`` or ``scopeSensitivityLabels``; ``/beta`` serves them.
* Sign-ins (``api-reference/v1.0/api/signin-list.md``): v1.0 lists interactive sign-ins only;
  beta lists non-interactive ones under ``signInEventTypes/any(t: t eq 'nonInteractiveUser')``
  (``api-reference/beta/api/signin-list.md``).
* Evolvable enums (microsoft/api-guidelines ``graph/patterns/evolvable-enums.md``; Graph's
  resource pages: "use the Prefer: include-unknown-enum-members request header"): members
  declared after ``unknownFutureValue`` (``riskRemediation`` in
  ``conditionalAccessGrantControl``, ``linux`` in ``conditionalAccessDevicePlatform``) are
  sent as ``unknownFutureValue`` unless the request has
  ``Prefer: include-unknown-enum-members``.
* Nulls: properties the CSDL leaves nullable may come back ``null``; "nulls" mode
  (``nulls=True``) answers ``null`` for the ones the reference file lists, wherever they hold
  no information (an empty list, an unconfigured block, the ``all`` default of a condition-set
  list) and for sign-in status texts: what real tenants send.
* Nulls everywhere (``nulls="all"``, an explicit opt-in on top of the above): ``null`` also for
  the properties the v1.0 CSDL leaves nullable but real Graph fills in every object, because
  the documentation makes them required or always set. The models accept ``null`` there
  (tests/test_graph_nulls.py) and evaluate reads it as unknown; this mode proves it through the
  collector. Per field, read from ``schemas/v1.0-Prod.csdl`` and the v1.0 resource pages in
  microsoft-graph-docs-contrib:

  - ``defaultUserRolePermissions.permissionGrantPoliciesAssigned``: ``Collection(Edm.String)``
    without ``Nullable="false"``, but OData CSDL XML 4.01 (attribute ``Nullable``: a
    collection-valued property is always a collection, possibly empty; the facet applies to
    its items) and the resource page ("An empty list indicates user consent to apps is
    disabled") say ``[]``.
  - ``oAuth2PermissionGrant.consentType``: nullable in the CSDL; "Required", ``AllPrincipals``
    or ``Principal`` (oauth2permissiongrant.md).
  - ``appRoleAssignment.principalId`` / ``principalType`` / ``principalDisplayName``:
    nullable in the CSDL; principalId "Required on create", principalType (``User``,
    ``Group`` or ``ServicePrincipal``) and principalDisplayName read-only, filled in by the
    service (approleassignment.md).
  - ``permissionScope.value``: nullable in the CSDL; "the value to include in the scp (scope)
    claim", at most 120 characters, set on every scope Microsoft Graph publishes
    (permissionscope.md).
  - ``delegatedPermissionClassification.classification`` / ``permissionId`` /
    ``permissionName``: nullable in the CSDL; permissionId "Required on create",
    classification ``low``, ``medium`` or ``high``, permissionName the permission's claim
    value (delegatedpermissionclassification.md).
"""

from __future__ import annotations

import copy
from typing import Any, Literal

PREFER_UNKNOWN_ENUMS = "include-unknown-enum-members"
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"
EVOLVED_GRANT_CONTROLS = frozenset({"riskRemediation"})
EVOLVED_PLATFORMS = frozenset({"linux"})
BETA_ONLY_CONDITION_SET = ("certifiedClientApplicationsOnly", "scopeSensitivityLabels")
ALL_SENSITIVITY_LABELS = {
    "@odata.type": "#microsoft.graph.allScopeSensitivityLabels",
    "labelKind": "all",
}
CONDITION_SET_LISTS = (
    "permissions",
    "clientApplicationIds",
    "clientApplicationTenantIds",
    "clientApplicationPublisherIds",
)
CA_OPTIONAL_BLOCKS = ("platforms", "locations", "devices", "clientApplications")
NULLS_EVERYWHERE: Literal["all"] = "all"
Nulls = bool | Literal["all"]
"""``False``; ``True``: where real Graph answers null; ``"all"``: also where only the CSDL does."""
CSDL_ONLY_NULLS: dict[str, tuple[str, ...]] = {
    "grant": ("consentType",),
    "appRoleAssignment": ("principalId", "principalType", "principalDisplayName"),
    "classification": ("classification", "permissionId", "permissionName"),
}
"""Top-level properties ``nulls="all"`` answers null, per kind (the module docstring says why)."""
NON_INTERACTIVE = "nonInteractiveUser"
INTERACTIVE = "interactiveUser"


def kind_of(context: str) -> str:
    """Which Graph type a response context (``@odata.context`` fragment) holds."""
    low = context.casefold()
    if low.startswith("serviceprincipals") and "/" not in low:
        return "servicePrincipal"
    if low.startswith("serviceprincipals") and low.endswith("/approleassignedto"):
        return "appRoleAssignment"
    if low.startswith("serviceprincipals") and low.endswith("/delegatedpermissionclassifications"):
        return "classification"
    if low.startswith("oauth2permissiongrants"):
        return "grant"
    if low.startswith("policies/authorizationpolicy"):
        return "authorizationPolicy"
    if low.startswith("policies/permissiongrantpolicies"):
        return "conditionSet" if low.endswith(("/includes", "/excludes")) else "grantPolicy"
    if low.startswith("identity/conditionalaccess/policies"):
        return "caPolicy"
    if low.startswith("auditlogs/signins"):
        return "signIn"
    if low.startswith("auditlogs/directoryaudits"):
        return "directoryAudit"
    if low.startswith("policies/adminconsentrequestpolicy"):
        return "adminConsentRequestPolicy"
    return ""


def wants_unknown_enums(headers: dict[str, str]) -> bool:
    """``Prefer: include-unknown-enum-members`` (header names lower-cased by the router)."""
    prefer = headers.get("prefer", "")
    return any(p.strip().casefold() == PREFER_UNKNOWN_ENUMS.casefold() for p in prefer.split(","))


def is_interactive(sign_in: dict[str, Any]) -> bool:
    """A stored sign-in without ``isInteractive`` counts as interactive (v1.0's default)."""
    return sign_in.get("isInteractive") is not False


def shape(
    item: dict[str, Any], kind: str, *, version: str, unknown_enums: bool, nulls: Nulls
) -> dict[str, Any]:
    """One object as Graph would send it for this version, Prefer header and mode."""
    if not kind:
        return item
    out = copy.deepcopy(item)
    if nulls == NULLS_EVERYWHERE:
        _null_everywhere(out, kind)
    nulls = bool(nulls)
    if kind == "grantPolicy":
        for key in ("includes", "excludes"):
            sets = out.get(key)
            if isinstance(sets, list):
                out[key] = [_condition_set(cs, version, nulls) for cs in sets]
    elif kind == "conditionSet":
        out = _condition_set(out, version, nulls)
    elif kind == "caPolicy":
        out = _ca_policy(out, unknown_enums, nulls)
    elif kind == "signIn":
        out = _sign_in(out, version, nulls)
    elif kind == "directoryAudit" and nulls:
        for target in out.get("targetResources") or []:
            if isinstance(target, dict) and not target.get("modifiedProperties"):
                target["modifiedProperties"] = None
    elif kind == "adminConsentRequestPolicy" and nulls and not out.get("reviewers"):
        out["reviewers"] = None
    return out


def _null_everywhere(out: dict[str, Any], kind: str) -> None:
    """``nulls="all"``: null in the properties only the CSDL leaves nullable (present ones:
    a property ``$select`` left out stays out)."""
    for name in CSDL_ONLY_NULLS.get(kind, ()):
        if name in out:
            out[name] = None
    if kind == "authorizationPolicy":
        perms = out.get("defaultUserRolePermissions")
        if isinstance(perms, dict) and "permissionGrantPoliciesAssigned" in perms:
            perms["permissionGrantPoliciesAssigned"] = None
    elif kind == "servicePrincipal":
        for scope in out.get("oauth2PermissionScopes") or []:
            if isinstance(scope, dict) and "value" in scope:
                scope["value"] = None


def _condition_set(cs: dict[str, Any], version: str, nulls: bool) -> dict[str, Any]:
    out = dict(cs)
    if version == "v1.0":
        for name in BETA_ONLY_CONDITION_SET:
            out.pop(name, None)
    else:
        out.setdefault("certifiedClientApplicationsOnly", False)
        out.setdefault("scopeSensitivityLabels", dict(ALL_SENSITIVITY_LABELS))
    if nulls:
        for name in CONDITION_SET_LISTS:
            value = out.get(name)
            if value is None or [str(v).casefold() for v in value] == ["all"]:
                out[name] = None
    return out


def _evolved(values: Any, evolved: frozenset[str], unknown_enums: bool) -> Any:
    if unknown_enums or not isinstance(values, list):
        return values
    return [UNKNOWN_FUTURE_VALUE if v in evolved else v for v in values]


def _ca_policy(policy: dict[str, Any], unknown_enums: bool, nulls: bool) -> dict[str, Any]:
    grant = policy.get("grantControls")
    if isinstance(grant, dict):
        grant["builtInControls"] = _evolved(
            grant.get("builtInControls"), EVOLVED_GRANT_CONTROLS, unknown_enums
        )
    conditions = policy.get("conditions")
    if isinstance(conditions, dict):
        platforms = conditions.get("platforms")
        if isinstance(platforms, dict):
            for key in ("includePlatforms", "excludePlatforms"):
                platforms[key] = _evolved(platforms.get(key), EVOLVED_PLATFORMS, unknown_enums)
        if nulls:
            for block in CA_OPTIONAL_BLOCKS:
                if not _configured(conditions.get(block)):
                    conditions[block] = None
    if nulls:
        session = policy.get("sessionControls")
        if isinstance(session, dict):
            for key, value in list(session.items()):
                if not _configured(value):
                    session[key] = None
        if not _configured(session):
            policy["sessionControls"] = None
        if isinstance(grant, dict) and not _configured(grant.get("builtInControls")):
            extra = ("customAuthenticationFactors", "termsOfUse", "authenticationStrength")
            if not any(_configured(grant.get(k)) for k in extra):
                policy["grantControls"] = None
    return policy


def _configured(value: Any) -> bool:
    """True when a block carries information (a non-empty list, true, a set string ...)."""
    if isinstance(value, dict):
        return any(_configured(v) for k, v in value.items() if not k.startswith("@"))
    if isinstance(value, list):
        return bool(value)
    return value not in (None, False, "")


def _sign_in(row: dict[str, Any], version: str, nulls: bool) -> dict[str, Any]:
    if version == "beta":
        row["signInEventTypes"] = [INTERACTIVE if is_interactive(row) else NON_INTERACTIVE]
    if nulls:
        status = row.get("status")
        if isinstance(status, dict):
            status["failureReason"] = None
            status["additionalDetails"] = None
    return row
