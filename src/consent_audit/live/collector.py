"""Collect a TenantSnapshot from Microsoft Graph in two waves of ``$batch`` requests.

Wave 1 reads everything that needs no object id (apps by name and appId, the Graph service
principal, tenant consent settings, CA policies, pending consent requests, the tenant, the
``--user``); wave 2 reads what hangs off each Recruitee service principal (grants,
assignments) and, with ``--with-logs``, the audit and sign-in logs.

A part that cannot be read keeps its reason (``forbidden`` with the permission needed,
``not_licensed``, ``not_found``, ``error``) so that evaluation reports *unknown*, never a guess
(the Prowler weak spot: a 403 read as "nothing there"). Only a run where Graph cannot be reached
at all, or the token is refused, is an AccessError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from consent_audit import __version__
from consent_audit.errors import AccessError
from consent_audit.graph_ids import IdKind, is_valid
from consent_audit.graph_objects import (
    CONSENT_POLICY_SETTINGS_TEMPLATE_ID,
    STEP_UP_SETTING,
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
    UserConsentRequest,
    WhatIfAnalysisResult,
)
from consent_audit.live.graph_client import GraphClient, Outcome
from consent_audit.live.graph_errors import BAD_RESPONSE, GraphError
from consent_audit.live.plan import PlannedCall, app_only_permissions, wave_one, wave_two
from consent_audit.live.transport import TOO_LARGE, TOO_SLOW
from consent_audit.live.what_if import what_if_questions
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import Manifest
from consent_audit.snapshot import (
    BACKGROUND_SIGN_INS_UNREAD,
    GROUP_IDS,
    SIGN_IN_VERSION,
    AuditedUser,
    Part,
    PartStatus,
    PrincipalGrantGroup,
    RecruiteeApp,
    TenantInfo,
    TenantSnapshot,
    UserLookup,
    WhatIfQuestion,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Progress = Callable[[str], None]


class _Results:
    """Wave outcomes keyed by call key, with the permission each call needed."""

    def __init__(self, app_only: bool = False) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.calls: dict[str, PlannedCall] = {}
        self.app_only = app_only
        """Signed in as an app: a refusal names the application permission, not the scope."""

    def add(self, calls: list[PlannedCall], outcomes: dict[str, Outcome]) -> None:
        self.calls.update({c.key: c for c in calls})
        self.outcomes.update(
            {key: _usable(self.calls.get(key), outcome) for key, outcome in outcomes.items()}
        )

    def failure(self, key: str) -> Part[Any] | None:
        outcome = self.outcomes.get(key)
        if isinstance(outcome, GraphError):
            call = self.calls[key]
            return failed_part(
                outcome, call.application_grant if self.app_only else call.permission
            )
        if outcome is None:
            return Part(status=PartStatus.ERROR, message="no answer from Graph for this request")
        return None

    def body(self, key: str) -> dict[str, Any]:
        outcome = self.outcomes.get(key)
        return outcome if isinstance(outcome, dict) else {}

    def part(self, key: str, parse: Callable[[dict[str, Any]], T]) -> Part[T]:
        failed = self.failure(key)
        if failed is not None:
            return failed
        try:
            data = parse(self.body(key))
        except (ValidationError, KeyError, TypeError, IndexError, AttributeError) as exc:
            return Part(status=PartStatus.ERROR, message=f"unexpected Graph response: {exc}")
        notes = []
        if self.body(key).get("truncated"):
            notes.append("truncated: only the most recent pages were read")
        skipped: list[str] = getattr(data, "skipped", None) or []
        if skipped:
            notes.append(f"skipped {len(skipped)} unreadable item(s): {'; '.join(skipped[:10])}")
        return Part(
            status=PartStatus.OK,
            data=data,
            message="; ".join(notes) or None,
            gaps=[f"unreadable item {s}" for s in skipped],
        )

    def raw_values(self, key: str) -> list[dict[str, Any]] | None:
        """The items of a collection answer, or None when the call failed."""
        if self.failure(key) is not None:
            return None
        raw = self.body(key).get("value")
        return [v for v in raw if isinstance(v, dict)] if isinstance(raw, list) else None


def _usable(call: PlannedCall | None, outcome: Outcome) -> Outcome:
    """A 2xx answer of the documented shape, else a BadResponse error (that part unknown).

    A 200 that says nothing (``{}``, no ``value`` list, a list where an object belongs) must
    not be read as an empty collection or as an entity of defaults: no CA policy (PASS), no
    grant (a plan for a duplicate grant), no consent policy ("user consent disabled")."""
    if call is None or isinstance(outcome, GraphError):
        return outcome
    if not isinstance(outcome, dict):
        return GraphError(200, BAD_RESPONSE, "the answer is not a JSON object")
    if call.required is None:
        if isinstance(outcome.get("value"), list):
            return outcome
        return GraphError(200, BAD_RESPONSE, "the answer has no 'value' list (not a collection)")
    for key in call.required:
        holder: Any = outcome
        *parents, last = key.split(".")
        for parent in parents:
            holder = holder.get(parent) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or last not in holder:
            return GraphError(200, BAD_RESPONSE, f"the answer has no '{key}'")
    return outcome


def failed_part(error: GraphError, permission: str) -> Part[Any]:
    status = error.part_status
    return Part(
        status=status,
        message=error.describe(),
        permission=permission if status is PartStatus.FORBIDDEN else None,
    )


class _Items(list[M]):
    """Parsed items, plus the ones Graph sent that could not be read (named, not fatal)."""

    skipped: list[str]


def _values(model: type[M]) -> Callable[[dict[str, Any]], list[M]]:
    """Parse a collection, draining the raw list as it goes: a tenant with 100,000 grants
    must not hold every grant twice (raw dict and model) at the peak (bench/scale.py).

    One malformed item (a null where the tool needs a value) is skipped and named in the
    part's message; the valid items are kept, so one bad item never makes a part an error."""

    def parse(body: dict[str, Any]) -> list[M]:
        raw = body.get("value", [])
        if not isinstance(raw, list):
            raise TypeError(f"'value' is {type(raw).__name__}, not a list")
        out: _Items[M] = _Items()
        out.skipped = []
        index = len(raw)
        while raw:
            index -= 1
            item = raw.pop()
            if isinstance(item, model):
                out.append(item)
                continue
            try:
                out.append(model.model_validate(item))
            except ValidationError as exc:
                ident = item.get("id") if isinstance(item, dict) else None
                where = ", ".join(".".join(str(x) for x in err["loc"]) for err in exc.errors()[:3])
                out.skipped.append(f"{ident or f'item {index}'} ({where})")
        out.reverse()
        out.skipped.reverse()
        return out

    return parse


def _one(model: type[M]) -> Callable[[dict[str, Any]], M]:
    return lambda body: model.model_validate(body)


def _tenant(results: _Results, fallback: str) -> TenantInfo:
    """The tenant's id and names; a malformed /organization answer falls back to the hint
    (it only labels the report, so it is not worth failing the audit over)."""
    try:
        orgs = results.body("organization").get("value") or []
        org = orgs[0] if isinstance(orgs, list) and orgs else {}
        domains = org.get("verifiedDomains") or []
        default = next(
            (d.get("name") for d in domains if isinstance(d, dict) and d.get("isDefault")), None
        )
        return TenantInfo(
            id=str(org.get("id") or fallback),
            default_domain=default,
            display_name=org.get("displayName"),
        )
    except (AttributeError, TypeError, ValidationError):
        return TenantInfo(id=fallback)


def _apps(results: _Results) -> Part[list[ServicePrincipal]]:
    """Name matches (near misses included: the evaluator decides) plus appId matches."""
    keys = [k for k in results.calls if k == "apps_by_name" or k.startswith("apps_by_id_")]
    found: dict[str, ServicePrincipal] = {}
    notes: list[str] = []
    gaps: list[str] = []
    for key in keys:
        part = results.part(key, _values(ServicePrincipal))
        if part.data is None:
            return Part(status=part.status, message=part.message, permission=part.permission)
        for sp in part.data:
            if is_valid(IdKind.OBJECT_ID, sp.id):
                found.setdefault(sp.id, sp)
            else:
                # Its id would become a path segment of every wave-2 read: not requested.
                gaps.append("unreadable item (a service principal whose id is not a GUID)")
        notes.extend([part.message] if part.message else [])
        gaps.extend(part.gaps)
    return Part(
        data=sorted(found.values(), key=lambda sp: (sp.display_name or "", sp.id)),
        message="; ".join(dict.fromkeys(notes)) or None,
        gaps=list(dict.fromkeys(gaps)),
    )


def _user(results: _Results, query: str) -> UserLookup:
    failed = results.failure("user")
    if failed is not None:
        return UserLookup(query=query, user=failed)
    for key in ("user_member_of", "user_groups"):
        failed = results.failure(key)
        if failed is not None:
            return UserLookup(query=query, user=failed)
    try:
        return UserLookup(query=query, user=Part(data=_audited_user(results, query)))
    except (KeyError, TypeError, AttributeError, ValidationError) as exc:
        bad: Part[AuditedUser] = Part(
            status=PartStatus.ERROR, message=f"unexpected user: {type(exc).__name__}: {exc}"
        )
        return UserLookup(query=query, user=bad)


def _audited_user(results: _Results, query: str) -> AuditedUser:
    """The user and their groups and roles; raises on a malformed answer."""
    raw = results.body("user")
    member_of = results.body("user_member_of").get("value") or []
    groups = results.body("user_groups").get("value") or []
    direct = [m for m in member_of if m.get("@odata.type") == "#microsoft.graph.group"]
    roles = [
        str(m["roleTemplateId"])
        for m in member_of
        if m.get("@odata.type") == "#microsoft.graph.directoryRole" and m.get("roleTemplateId")
    ]
    names = {
        str(g["id"]): str(g["displayName"]) for g in (*direct, *groups) if g.get("displayName")
    }
    return AuditedUser(
        id=str(raw["id"]),
        user_principal_name=str(raw.get("userPrincipalName") or query),
        display_name=raw.get("displayName"),
        mail=raw.get("mail"),
        account_enabled=raw.get("accountEnabled"),
        user_type=raw.get("userType"),
        member_of_group_ids=[str(g["id"]) for g in direct],
        transitive_member_of_group_ids=[str(g["id"]) for g in groups],
        directory_role_template_ids=roles,
        group_display_names=names,
    )


def _grants(results: _Results, index: int, per_user: bool) -> Part[list[OAuth2PermissionGrant]]:
    keys = [f"grants_all_{index}", f"grants_user_{index}"] if per_user else [f"grants_{index}"]
    grants: dict[str, OAuth2PermissionGrant] = {}
    notes: list[str] = []
    gaps: list[str] = []
    for key in keys:
        part = results.part(key, _values(OAuth2PermissionGrant))
        if part.data is None:
            return part
        grants.update({g.id: g for g in part.data})
        if part.message:
            notes.append(part.message)
        gaps.extend(part.gaps)
    return Part(
        data=list(grants.values()),
        message="; ".join(notes) or None,
        gaps=list(dict.fromkeys(gaps)),
    )


def _recruitee_app(
    results: _Results,
    sp: ServicePrincipal,
    index: int,
    per_user: bool,
    tally: _PrincipalTally | None,
) -> RecruiteeApp:
    grants = _grants(results, index, per_user)
    assigned = results.part(f"assigned_{index}", _values(AppRoleAssignment))
    if per_user:
        return RecruiteeApp(
            service_principal=sp,
            oauth2_permission_grants=grants,
            app_role_assigned_to=assigned,
            grants_coverage="all_principals_and_user",
        )
    groups = tally.summary() if tally is not None and grants.data is not None else []
    return RecruiteeApp(
        service_principal=sp,
        oauth2_permission_grants=grants,
        app_role_assigned_to=assigned,
        grants_coverage="all_principals_and_groups" if groups else "all",
        principal_grant_groups=groups,
    )


def _sign_ins(results: _Results, count: int) -> Part[list[SignIn]]:
    """Interactive sign-ins (v1.0) plus background refreshes (beta, non-interactive).

    The background rows are the ones that explain "sync stopped"; when beta refuses them the
    part stays readable but its message says what is missing."""
    rows: dict[str, SignIn] = {}
    notes: list[str] = []
    gaps: list[str] = []
    refused_needs: str | None = None
    for index in range(count):
        part = results.part(f"signins_{index}", _values(SignIn))
        if part.data is None:
            return part
        rows.update({s.id: s for s in part.data})
        if part.message:
            notes.append(part.message)
        gaps.extend(part.gaps)
        background = results.part(f"signins_background_{index}", _values(SignIn))
        if background.data is None:
            refused = (
                f"{BACKGROUND_SIGN_INS_UNREAD} from Graph beta: "
                f"{background.message or background.status.value}"
            )
            notes.append(refused)
            refused_needs = refused_needs or background.permission
            gaps.append(
                f"{refused}. Refresh failures that explain a sync that stopped are not in the "
                "sign-in logs read"
                + (f" (needs {background.permission})" if background.permission else "")
            )
        else:
            rows.update({s.id: s for s in background.data})
            if background.message:
                notes.append(f"background sign-ins {background.message}")
            gaps.extend(f"background sign-ins: {g}" for g in background.gaps)
    ordered = sorted(rows.values(), key=lambda s: s.created_date_time, reverse=True)
    return Part(
        data=ordered,
        message="; ".join(dict.fromkeys(notes)) or None,
        # What the refused background read needed (an app-only run: its application
        # permissions), for the advice that names how to read it (evaluate/audit_logs.py).
        permission=refused_needs,
        gaps=list(dict.fromkeys(gaps)),
    )


def _what_if(results: _Results, apps: list[ServicePrincipal]) -> Part[list[WhatIfQuestion]]:
    """Entra's What-If answers, one per question (live/what_if.py), each as it came back: a
    refusal (403 without Policy.Read.ConditionalAccess, 404 where the API is absent) is kept
    as that answer's status, so the report can say the static reading decided, and why."""
    questions = [
        WhatIfQuestion(
            resource=ask.resource,
            include_applications=list(ask.include_applications),
            answer=results.part(ask.key, _values(WhatIfAnalysisResult)),
        )
        for ask in what_if_questions([sp.app_id for sp in apps])
    ]
    return Part(data=questions)


def _grant_policies(results: _Results) -> Part[list[PermissionGrantPolicy]]:
    """v1.0 policies with beta's ``certifiedClientApplicationsOnly`` merged in.

    The v1.0 CSDL's permissionGrantConditionSet has no such property; a condition set whose
    beta twin cannot be read keeps it ``None`` (unknown), never a default ``False``."""
    part = results.part("permission_grant_policies", lambda body: body)
    if part.data is None:
        return Part(status=part.status, message=part.message, permission=part.permission)
    beta = results.raw_values("permission_grant_policies_beta")
    certified: dict[tuple[str, str, str], Any] = {}
    for policy in beta or []:
        for side in ("includes", "excludes"):
            for index, cs in enumerate(policy.get(side) or []):
                if isinstance(cs, dict) and "certifiedClientApplicationsOnly" in cs:
                    key = str(cs.get("id") or f"#{index}")
                    certified[(str(policy.get("id")).casefold(), side, key)] = cs[
                        "certifiedClientApplicationsOnly"
                    ]
    merged: list[dict[str, Any]] = []
    for policy in results.raw_values("permission_grant_policies") or []:
        copy = dict(policy)
        for side in ("includes", "excludes"):
            sets = copy.get(side)
            if not isinstance(sets, list):
                continue
            copy[side] = [
                {
                    **cs,
                    "certifiedClientApplicationsOnly": certified.get(
                        (str(policy.get("id")).casefold(), side, str(cs.get("id") or f"#{i}"))
                    ),
                }
                if isinstance(cs, dict)
                else cs
                for i, cs in enumerate(sets)
            ]
        merged.append(copy)
    parsed = _valid_items(merged, PermissionGrantPolicy)
    message = parsed.message
    if beta is None:
        failed = results.failure("permission_grant_policies_beta")
        detail = failed.message if failed is not None else "no answer"
        message = "; ".join(
            m
            for m in (
                message,
                "whether a condition set allows Microsoft 365 certified apps only is unknown: "
                f"Graph beta could not be read ({detail})",
            )
            if m
        )
    return Part(data=parsed.data, message=message or part.message, gaps=parsed.gaps)


def _consent_requests(
    results: _Results, request_ids: list[str], unaddressable: int = 0
) -> Part[list[AppConsentRequest]]:
    """Pending requests, each with its userConsentRequests read separately (the list answers
    them as ``[]``): ADMIN_CONSENT_REQUEST_PENDING names who asked, when and why."""
    part = results.part("consent_requests", _values(AppConsentRequest))
    if part.data is None:
        return part
    asked: dict[str, list[UserConsentRequest]] = {}
    notes: list[str] = [part.message] if part.message else []
    gaps: list[str] = list(part.gaps)
    if unaddressable:
        note = (
            f"who asked in {unaddressable} consent request(s) was not read: their ids are not "
            "GUIDs, so they cannot address a Graph request"
        )
        notes.append(note)
        gaps.append(note)
    for index, request_id in enumerate(request_ids):
        key = f"user_consent_requests_{index}"
        found = results.part(key, _values(UserConsentRequest))
        if found.data is None:
            note = (
                f"who asked in consent request {request_id} could not be read "
                f"({found.message or found.status.value})"
            )
            notes.append(note)
            gaps.append(note)
            continue
        gaps.extend(f"consent request {request_id}: {g}" for g in found.gaps)
        asked[request_id] = found.data
    requests = [
        r.model_copy(update={"user_consent_requests": asked[r.id]}) if r.id in asked else r
        for r in part.data
    ]
    return Part(data=requests, message="; ".join(notes) or None, gaps=gaps)


def _recruitee_requests(
    results: _Results, apps: list[ServicePrincipal], manifest: Manifest
) -> list[str]:
    """Ids of the pending consent requests that are about Recruitee."""
    wanted = {sp.app_id.casefold() for sp in apps}
    wanted |= {a.casefold() for a in manifest.known_app_ids}
    name = manifest.app_display_name.casefold()
    ids: list[str] = []
    for raw in results.raw_values("consent_requests") or []:
        app_id = str(raw.get("appId") or "").casefold()
        shown = str(raw.get("appDisplayName") or "").casefold()
        if raw.get("id") and (app_id in wanted or shown == name):
            ids.append(str(raw["id"]))

    return ids


def _valid_items(raw: list[dict[str, Any]], model: type[M]) -> Part[list[M]]:
    """Parse each item; a bad one is named in the message, the valid ones are kept."""
    out: list[M] = []
    bad: list[str] = []
    for index, item in enumerate(raw):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            ident = item.get("id") if isinstance(item, dict) else None
            where = ", ".join(".".join(str(x) for x in err["loc"]) for err in exc.errors()[:3])
            bad.append(f"{ident or f'item {index}'} ({where})")
    message = f"skipped {len(bad)} unreadable item(s): {'; '.join(bad)}" if bad else None
    return Part(data=out, message=message, gaps=[f"unreadable item {b}" for b in bad])


class _PrincipalTally:
    """Counts per-user grants as their pages arrive instead of keeping 100,000 models.

    Tenant-wide, which person holds a grant changes no verdict; how many people hold which
    scopes does. Each ``Principal`` grant is counted under (resource, scope string) and dropped
    (``DROP``); admin (``AllPrincipals``) grants are kept as models. An item that is not a
    well-formed grant is handed back raw, for ``_values`` to name as unreadable."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str], list[Any]] = {}

    def __call__(self, page: list[Any]) -> list[Any]:
        """One page: count the per-user grants, return the items to keep."""
        keep: list[Any] = []
        groups = self.groups
        for raw in page:
            if (
                type(raw) is not dict
                or raw.get("consentType") != "Principal"
                or type(raw.get("resourceId")) is not str
                or type(raw.get("id")) is not str
                or not raw["id"]
            ):
                keep.append(self._other(raw))
                continue
            scope = raw.get("scope")
            if scope is None:
                scope = ""
            elif type(scope) is not str:
                keep.append(raw)
                continue
            entry = groups.get((raw["resourceId"], scope))
            if entry is None:
                groups[(raw["resourceId"], scope)] = [1, [raw["id"]]]
            else:
                entry[0] += 1
                if len(entry[1]) < GROUP_IDS:
                    entry[1].append(raw["id"])
        return keep

    @staticmethod
    def _other(raw: Any) -> Any:
        """Admin grants (and oddly cased consent types) become models; a malformed item is
        kept raw, for ``_values`` to name as unreadable."""
        try:
            return OAuth2PermissionGrant.model_validate(raw)
        except ValueError:
            return raw

    def summary(self) -> list[PrincipalGrantGroup]:
        return [
            PrincipalGrantGroup(resource_id=res, scope=scope, count=n, grant_ids=ids)
            for (res, scope), (n, ids) in self.groups.items()
        ]


def _with_tallies(
    calls: list[PlannedCall], tallies: dict[str, _PrincipalTally]
) -> list[PlannedCall]:
    """Tenant-wide grant lists are counted as they stream (see _PrincipalTally)."""
    out: list[PlannedCall] = []
    for call in calls:
        if call.key.startswith("grants_") and call.key[len("grants_") :].isdigit():
            tallies[call.key] = _PrincipalTally()
            call = replace(call, item=None, page=tallies[call.key])
        out.append(call)
    return out


def _refused(outcome: Outcome | None) -> bool:
    return isinstance(outcome, GraphError) and outcome.status == 400


def _run(
    client: GraphClient,
    results: _Results,
    calls: list[PlannedCall],
    tallies: dict[str, _PrincipalTally] | None = None,
) -> None:
    """One wave; a call Graph refuses with 400 (``$top=999`` on a list that does not take
    it) is sent again once as its ``fallback``, with the default page size."""
    if not calls:
        return
    tallies = {} if tallies is None else tallies
    calls = _with_tallies(calls, tallies)
    results.add(calls, client.run([c.call() for c in calls]))
    retry = [
        replace(c, path=c.fallback, fallback=None)
        for c in calls
        if c.fallback is not None and _refused(results.outcomes.get(c.key))
    ]
    if retry:
        retry = _with_tallies(retry, tallies)
        results.add(retry, client.run([c.call() for c in retry]))


LABEL_ONLY = frozenset({"organization"})
"""Calls whose answer only labels the report (the tenant's name): reading them alone is not
reading the tenant."""


def _read_nothing(outcome: Outcome) -> bool:
    """An answer that says nothing about the tenant: no connection, garbage, 404, redirect."""
    return isinstance(outcome, GraphError) and (
        outcome.status == 0
        or outcome.code == BAD_RESPONSE
        or outcome.status == 404
        or 300 <= outcome.status < 400
    )


def _unreachable(results: _Results, root: str) -> None:
    """Exit 3 (AccessError) when wave 1 read nothing a verdict could rest on.

    No answer at all, only garbage (a captive proxy's HTML page on every request), a server
    answering 404 or a redirect to everything (a wrong --graph-url), or Graph answering every
    request with an error (503, 429 or 431 to everything; 403 everywhere): nothing of the
    tenant was read, so this is not a report of unknowns that could pass a CI gate. When some
    part was read, the run reports and the missing parts are unknown (README, exit codes)."""
    outcomes = [o for k, o in results.outcomes.items() if k not in LABEL_ONLY]
    if not outcomes or not all(isinstance(o, GraphError) for o in outcomes):
        return
    errors = [o for o in outcomes if isinstance(o, GraphError)]
    first = errors[0]
    if all(e.code in (TOO_LARGE, TOO_SLOW) for e in errors):
        raise AccessError(
            f"no usable answer from Microsoft Graph at {root}: {first.message}",
            fix="A proxy or the endpoint is misbehaving: check the proxy and --graph-url.",
        )
    if all(_read_nothing(o) for o in errors):
        raise AccessError(
            f"cannot reach Microsoft Graph at {root}: {first.message}",
            fix="Check the network, proxy and --cloud / --graph-url.",
        )
    kinds = Counter(f"HTTP {e.status} {e.code}" if e.status else e.code for e in errors)
    most, count = kinds.most_common(1)[0]
    if all(e.status == 403 for e in errors) and results.app_only:
        fix = (
            "Grant the app these Microsoft Graph application permissions, with admin consent: "
            f"{app_only_permissions()} (docs/permissions.md)."
        )
    elif all(e.status == 403 for e in errors):
        fix = "Give the signed-in account the Global Reader role (docs/permissions.md)."
    elif all(e.status == 429 or e.status >= 500 for e in errors):
        fix = "Graph is throttling or unavailable: run the audit again later."
    else:
        fix = "Run again later; if it persists, send the -v output to support."
    raise AccessError(
        f"nothing could be read from Microsoft Graph at {root}: every request failed "
        f"({count} of {len(errors)}: {most}; first: {first.describe()}).",
        fix=fix,
    )


def collect_with(
    client: GraphClient,
    manifest: Manifest,
    options: LiveOptions,
    *,
    tenant_hint: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
    app_only: bool = False,
) -> TenantSnapshot:
    """Collect with a ready client (tests inject one served by ``responses``); ``app_only``
    when the token is an app's, so a refusal names the application permission it lacks."""
    now = now or datetime.now(timezone.utc)
    say = progress or (lambda _text: None)
    results = _Results(app_only)
    say("Reading consent settings, policies and the Recruitee service principals")
    _run(client, results, wave_one(manifest, options))
    _unreachable(results, client.root)
    apps_part = _apps(results)
    apps = apps_part.data or []
    lookup = _user(results, options.user) if options.user else None
    user_id = lookup.user.data.id if lookup and lookup.user.data else None
    per_user = bool(options.user and user_id)
    say("Reading grants and assignments" + (" and audit logs" if options.with_logs else ""))
    wanted_requests = _recruitee_requests(results, apps, manifest)
    request_ids = [i for i in wanted_requests if is_valid(IdKind.OBJECT_ID, i)]
    tallies: dict[str, _PrincipalTally] = {}
    _run(
        client,
        results,
        wave_two([(a.id, a.app_id) for a in apps], options, user_id, now, request_ids),
        tallies,
    )
    if lookup is not None and user_id is not None:
        lookup = lookup.model_copy(update={"conditional_access_what_if": _what_if(results, apps)})
    recruitee: Part[list[RecruiteeApp]] = (
        Part(
            data=[
                _recruitee_app(results, sp, i, per_user, tallies.get(f"grants_{i}"))
                for i, sp in enumerate(apps)
            ],
            # Service principals that could not be read (or addressed) stay named: DATA_PARTIAL.
            message=apps_part.message,
            gaps=apps_part.gaps,
        )
        if apps_part.data is not None
        else Part(
            status=apps_part.status, message=apps_part.message, permission=apps_part.permission
        )
    )
    not_collected: Part[Any] = (
        Part(status=PartStatus.NOT_COLLECTED, message="needs --with-logs")
        if not options.with_logs
        else Part(
            status=apps_part.status,
            message="not read: the Recruitee service principals could not be read",
        )
    )
    logs_ok = options.with_logs and apps_part.data is not None
    return TenantSnapshot(
        schema_version=SIGN_IN_VERSION,
        tool_version=__version__,
        collected_at=now,
        sign_in="app_only" if app_only else "delegated",
        tenant=_tenant(results, tenant_hint or options.tenant or "unknown"),
        recruitee_apps=recruitee,
        graph_service_principal=results.part("graph_sp", _one(ServicePrincipal)),
        delegated_permission_classifications=results.part(
            "classifications", _values(DelegatedPermissionClassification)
        ),
        authorization_policy=results.part("authorization_policy", _one(AuthorizationPolicy)),
        permission_grant_policies=_grant_policies(results),
        admin_consent_request_policy=results.part(
            "admin_consent_request_policy", _one(AdminConsentRequestPolicy)
        ),
        app_consent_requests=_consent_requests(
            results, request_ids, len(wanted_requests) - len(request_ids)
        ),
        conditional_access_policies=results.part(
            "conditional_access", _values(ConditionalAccessPolicy)
        ),
        users=[lookup] if lookup else [],
        # Every ApplicationManagement event read is kept: which ones concern Recruitee is
        # decided in evaluate/, so a later fix to that rule applies to a replayed snapshot.
        directory_audits=(
            (results.part("audits", _values(DirectoryAudit)) if apps else Part(data=[]))
            if logs_ok
            else not_collected
        ),
        sign_ins=_sign_ins(results, len(apps)) if logs_ok else not_collected,
        consent_policy_settings=_consent_policy_settings(results),
    )


def _consent_policy_settings(results: _Results) -> Part[list[GroupSetting]]:
    """The tenant's Consent Policy Settings objects (``GET /groupSettings``, v1.0,
    groupsetting-list.md: "$filter is not supported", so every tenant-wide setting comes back
    and the others are dropped here), each with only BlockUserConsentForRiskyApps: the
    snapshot keeps what the audit reads, not the tenant's other settings."""
    part = results.part("consent_policy_settings", _values(GroupSetting))
    if part.data is None:
        return part
    kept = [
        setting.model_copy(
            update={
                "values": [
                    v
                    for v in setting.values or []
                    if (v.name or "").casefold() == STEP_UP_SETTING.casefold()
                ]
            }
        )
        for setting in part.data
        if (setting.template_id or "").casefold() == CONSENT_POLICY_SETTINGS_TEMPLATE_ID
    ]
    return part.model_copy(update={"data": kept})
