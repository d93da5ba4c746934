"""``POST /identity/conditionalAccess/evaluate``: Entra's What-If, as the emulator answers it.

Written from microsoft-graph-docs-contrib (v1.0): conditionalaccessroot-evaluate.md (request
parameters, the three required; ``appliedPoliciesOnly`` optional; the response a
whatIfAnalysisResult collection), signinidentity.md / usersignin.md, signincontext.md /
applicationcontext.md, signinconditions.md (each condition's values and defaults) and
whatifanalysisresult.md (``policyApplies``; ``analysisReasons`` ``notSet`` when it applies,
otherwise one reason).

As strict as the pages (graph_rules.py's convention): a body that is not an object, a missing
required parameter, an ``@odata.type`` the page does not list, a property the type does not
declare, or an enum value outside its list is ``400`` with Graph's error envelope.

Targeting, from the tenant the emulator serves: users (All, None, ids, guests), groups on the
user's *transitive* membership (CA honours nested groups, unlike app assignment), directory
roles by template id, applications (All, None, appIds, the ``Office365`` app group holding
Exchange Online, SharePoint and Teams), client app types, risk levels (default ``none``),
authentication flows (default none). A condition that needs a detail the request left out --
locations without ``ipAddress``/``country``, device platforms without ``devicePlatform``,
device filters without ``deviceInfo``, an application filter (the emulator holds no custom
security attributes) -- is ``notEnoughInformation`` ("If your tenant has policies with specific
conditions, and the sign-in details for those conditions are missing in the request, the
'What If' tool can't evaluate those conditions", evaluate page). A definite "no" on another
condition wins over "not enough information": the policy cannot apply whatever the detail is.

A snapshot that recorded Microsoft's own answers (``users[].conditional_access_what_if``)
is replayed as recorded for the same user and applications: support then sees what the
customer's tenant said, not what this module would infer.
"""

from __future__ import annotations

import copy
from typing import Any

from consent_audit.snapshot import AuditedUser

from .odata import GraphResponse, error

EXCHANGE_ONLINE = "00000002-0000-0ff1-ce00-000000000000"
OFFICE365_GROUP = frozenset(
    {
        EXCHANGE_ONLINE,
        "00000003-0000-0ff1-ce00-000000000000",  # Office 365 SharePoint Online
        "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",  # Microsoft Teams Services
    }
)
"""Apps of the ``Office365`` app group the emulator knows
(entra-docs concept-conditional-access-cloud-apps.md)."""

PARAMETERS = frozenset({"signInIdentity", "signInContext", "signInConditions"})
OPTIONAL = frozenset({"appliedPoliciesOnly"})
IDENTITY_TYPES = {
    "#microsoft.graph.userSignIn": frozenset({"userId", "externalUserType", "externalTenantId"}),
    "#microsoft.graph.servicePrincipalSignIn": frozenset({"servicePrincipalId"}),
}
CONTEXT_TYPES = {
    "#microsoft.graph.applicationContext": frozenset({"includeApplications"}),
    "#microsoft.graph.userActionContext": frozenset({"userAction"}),
    "#microsoft.graph.authContext": frozenset({"authenticationContextValue"}),
}
RISK = ("low", "medium", "high", "hidden", "none", "unknownFutureValue")
CONDITION_ENUMS: dict[str, tuple[str, ...]] = {
    "clientAppType": (
        "all",
        "browser",
        "mobileAppsAndDesktopClients",
        "exchangeActiveSync",
        "easSupported",
        "other",
        "unknownFutureValue",
    ),
    "devicePlatform": (
        "android",
        "iOS",
        "windows",
        "windowsPhone",
        "macOS",
        "all",
        "unknownFutureValue",
        "linux",
    ),
    "insiderRiskLevel": ("none", "minor", "moderate", "elevated", "unknownFutureValue"),
    "servicePrincipalRiskLevel": RISK,
    "signInRiskLevel": RISK,
    "userRiskLevel": RISK,
}
CONDITION_STRINGS = frozenset({"country", "ipAddress"})
CONDITION_OBJECTS = frozenset({"deviceInfo", "authenticationFlow"})
NOT_SET = "notSet"
NOT_ENOUGH = "notEnoughInformation"


class BadBody(ValueError):
    """The request body breaks the documented shape: 400."""


def _invalid(message: str) -> GraphResponse:
    return error(400, "BadRequest", message)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadBody(f"'{where}' must be a JSON object.")
    return value


def _typed(value: Any, where: str, types: dict[str, frozenset[str]]) -> tuple[str, dict[str, Any]]:
    obj = _object(value, where)
    kind = obj.get("@odata.type")
    if kind not in types:
        listed = ", ".join(types)
        raise BadBody(f"'{where}' needs an '@odata.type' of {listed}; got {kind!r}.")
    unknown = sorted(k for k in obj if not k.startswith("@") and k not in types[kind])
    if unknown:
        raise BadBody(f"The property '{unknown[0]}' does not exist on type '{kind[1:]}'.")
    return kind, obj


def validate(body: Any) -> dict[str, Any]:
    """The body as the evaluate page defines it, or BadBody naming the first problem."""
    obj = _object(body, "body")
    missing = sorted(PARAMETERS - obj.keys())
    if missing:
        raise BadBody(f"The parameter '{missing[0]}' is required.")
    unknown = sorted(k for k in obj if k not in PARAMETERS | OPTIONAL and not k.startswith("@"))
    if unknown:
        raise BadBody(f"The parameter '{unknown[0]}' is not defined for action 'evaluate'.")
    if "appliedPoliciesOnly" in obj and not isinstance(obj["appliedPoliciesOnly"], bool):
        raise BadBody("'appliedPoliciesOnly' must be a Boolean.")
    kind, identity = _typed(obj["signInIdentity"], "signInIdentity", IDENTITY_TYPES)
    if kind == "#microsoft.graph.userSignIn" and not isinstance(identity.get("userId"), str):
        raise BadBody("'signInIdentity.userId' must be the object id of a user.")
    kind, context = _typed(obj["signInContext"], "signInContext", CONTEXT_TYPES)
    if kind == "#microsoft.graph.applicationContext":
        apps = context.get("includeApplications")
        if not isinstance(apps, list) or not apps or not all(isinstance(a, str) for a in apps):
            raise BadBody("'signInContext.includeApplications' must be a list of appIds.")
    conditions = _object(obj["signInConditions"], "signInConditions")
    for name, value in conditions.items():
        if name.startswith("@"):
            continue
        if name in CONDITION_ENUMS:
            if value not in CONDITION_ENUMS[name]:
                raise BadBody(
                    f"The value {value!r} is not valid for '{name}'; possible values: "
                    + ", ".join(CONDITION_ENUMS[name])
                    + "."
                )
        elif name in CONDITION_STRINGS:
            if not isinstance(value, str):
                raise BadBody(f"'{name}' must be a string.")
        elif name in CONDITION_OBJECTS:
            _object(value, f"signInConditions.{name}")
        else:
            raise BadBody(
                f"The property '{name}' does not exist on type 'microsoft.graph.signInConditions'."
            )
    return obj


def _folded(values: Any) -> set[str]:
    return {str(v).casefold() for v in values or []}


def _user_matches(users: dict[str, Any], user: AuditedUser, side: str) -> bool:
    ids = _folded(users.get(f"{side}Users"))
    if side == "include" and "all" in ids:
        return True
    if user.id.casefold() in ids:
        return True
    guest = (user.user_type or "").casefold() == "guest"
    if guest and ("guestsorexternalusers" in ids or users.get(f"{side}GuestsOrExternalUsers")):
        return True
    groups = _folded([*user.member_of_group_ids, *user.transitive_member_of_group_ids])
    if groups & _folded(users.get(f"{side}Groups")):
        return True
    return bool(_folded(user.directory_role_template_ids) & _folded(users.get(f"{side}Roles")))


def _app_matches(listed: set[str], app_id: str) -> bool:
    app = app_id.casefold()
    return "all" in listed or app in listed or ("office365" in listed and app in OFFICE365_GROUP)


def _reason(
    policy: dict[str, Any], user: AuditedUser, context: dict[str, Any], given: dict[str, Any]
) -> str:
    """``notSet`` when the policy applies, else the reason it does not (whatifanalysisresult.md)."""
    if str(policy.get("state", "")).casefold() == "disabled":
        return "policyNotEnabled"
    conditions = policy.get("conditions") or {}
    users = conditions.get("users") or {}
    if not (_user_matches(users, user, "include") and not _user_matches(users, user, "exclude")):
        return "users"
    apps = conditions.get("applications") or {}
    if context.get("@odata.type") != "#microsoft.graph.applicationContext":
        return "application"  # the emulator answers application questions only
    include = _folded(apps.get("includeApplications"))
    exclude = _folded(apps.get("excludeApplications"))
    asked = [str(a) for a in context.get("includeApplications") or []]
    if not any(_app_matches(include, a) and not _app_matches(exclude, a) for a in asked):
        return "application"
    types = _folded(conditions.get("clientAppTypes"))
    client = str(given.get("clientAppType", "all")).casefold()
    if types and "all" not in types and client != "all" and client not in types:
        return "clientApps"
    for levels, condition, reason in (
        ("userRiskLevels", "userRiskLevel", "userRisk"),
        ("signInRiskLevels", "signInRiskLevel", "signInRisk"),
        ("insiderRiskLevels", "insiderRiskLevel", "insiderRisk"),
    ):
        wanted = _folded(conditions.get(levels))
        if wanted and str(given.get(condition, "none")).casefold() not in wanted:
            return reason
    flows = conditions.get("authenticationFlows") or {}
    methods = {m.strip() for m in str(flows.get("transferMethods") or "").casefold().split(",")}
    methods.discard("")
    asked_flow = str((given.get("authenticationFlow") or {}).get("transferMethod") or "").casefold()
    if methods and asked_flow not in methods:
        return "authenticationFlow"
    platforms = conditions.get("platforms") or {}
    included = _folded(platforms.get("includePlatforms"))
    platform = str(given.get("devicePlatform", "")).casefold()
    if included and platform and platform != "all":
        excluded = _folded(platforms.get("excludePlatforms"))
        if not ({"all", platform} & included) or platform in excluded:
            return "devicePlatform"
    missing = _needs_more(conditions, apps, given, bool(included) and not platform)
    return NOT_ENOUGH if missing else NOT_SET


def _needs_more(
    conditions: dict[str, Any], apps: dict[str, Any], given: dict[str, Any], platform: bool
) -> bool:
    """A condition the request gives no detail for (the evaluate page's warning)."""
    locations = conditions.get("locations") or {}
    include = _folded(locations.get("includeLocations"))
    everywhere = include == {"all"} and not locations.get("excludeLocations")
    if include and not everywhere:
        return True  # no named locations held: even a given IP cannot be placed
    if platform:
        return True
    devices = conditions.get("devices") or {}
    if (devices.get("deviceFilter") or {}).get("rule") and not given.get("deviceInfo"):
        return True
    types = _folded(conditions.get("clientAppTypes"))
    if types and "all" not in types and str(given.get("clientAppType", "all")).casefold() == "all":
        return True
    return bool((apps.get("applicationFilter") or {}).get("rule"))


def evaluate(
    body: Any, user: AuditedUser | None, policies: list[dict[str, Any]]
) -> GraphResponse | list[dict[str, Any]]:
    """The answer to one evaluate request: a 400 for a malformed body, else every policy (or,
    with ``appliedPoliciesOnly``, the applying ones) with ``policyApplies``/``analysisReasons``."""
    try:
        request = validate(body)
    except BadBody as exc:
        return _invalid(str(exc))
    identity = request["signInIdentity"]
    if identity.get("@odata.type") != "#microsoft.graph.userSignIn":
        return _invalid("The emulator evaluates user sign-ins only.")
    if user is None:
        return _invalid(f"The user '{identity.get('userId')}' does not exist in the tenant.")
    given = request["signInConditions"]
    answers: list[dict[str, Any]] = []
    for policy in policies:
        reason = _reason(policy, user, request["signInContext"], given)
        result = copy.deepcopy(policy)
        result["policyApplies"] = reason == NOT_SET
        result["analysisReasons"] = reason
        answers.append(result)
    if request.get("appliedPoliciesOnly"):
        answers = [a for a in answers if a["policyApplies"]]
    return answers
