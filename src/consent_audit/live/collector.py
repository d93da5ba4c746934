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

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from consent_audit import __version__
from consent_audit.errors import AccessError
from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AppConsentRequest,
    AppRoleAssignment,
    AuthorizationPolicy,
    ConditionalAccessPolicy,
    DelegatedPermissionClassification,
    DirectoryAudit,
    OAuth2PermissionGrant,
    PermissionGrantPolicy,
    ServicePrincipal,
    SignIn,
)
from consent_audit.live.graph_client import GraphClient, Outcome
from consent_audit.live.graph_errors import BAD_RESPONSE, GraphError
from consent_audit.live.plan import PlannedCall, wave_one, wave_two
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import Manifest
from consent_audit.snapshot import (
    AuditedUser,
    Part,
    PartStatus,
    RecruiteeApp,
    TenantInfo,
    TenantSnapshot,
    UserLookup,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Progress = Callable[[str], None]


class _Results:
    """Wave outcomes keyed by call key, with the permission each call needed."""

    def __init__(self) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.calls: dict[str, PlannedCall] = {}

    def add(self, calls: list[PlannedCall], outcomes: dict[str, Outcome]) -> None:
        self.calls.update({c.key: c for c in calls})
        self.outcomes.update(outcomes)

    def failure(self, key: str) -> Part[Any] | None:
        outcome = self.outcomes.get(key)
        if isinstance(outcome, GraphError):
            return failed_part(outcome, self.calls[key].permission)
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
        message = (
            "truncated: only the most recent pages were read"
            if self.body(key).get("truncated")
            else None
        )
        return Part(status=PartStatus.OK, data=data, message=message)


def failed_part(error: GraphError, permission: str) -> Part[Any]:
    status = error.part_status
    return Part(
        status=status,
        message=error.describe(),
        permission=permission if status is PartStatus.FORBIDDEN else None,
    )


def _values(model: type[M]) -> Callable[[dict[str, Any]], list[M]]:
    """Parse a collection, draining the raw list as it goes: a tenant with 100,000 grants
    must not hold every grant twice (raw dict and model) at the peak (bench/scale.py)."""

    def parse(body: dict[str, Any]) -> list[M]:
        raw = body.get("value", [])
        if not isinstance(raw, list):
            raise TypeError(f"'value' is {type(raw).__name__}, not a list")
        out: list[M] = []
        while raw:
            out.append(model.model_validate(raw.pop()))
        out.reverse()
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
    for key in keys:
        part = results.part(key, _values(ServicePrincipal))
        if part.data is None:
            return Part(status=part.status, message=part.message, permission=part.permission)
        for sp in part.data:
            found.setdefault(sp.id, sp)
    return Part(data=sorted(found.values(), key=lambda sp: (sp.display_name or "", sp.id)))


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
    for key in keys:
        part = results.part(key, _values(OAuth2PermissionGrant))
        if part.data is None:
            return part
        grants.update({g.id: g for g in part.data})
    return Part(data=list(grants.values()))


def _mentions(audit: DirectoryAudit, needles: set[str]) -> bool:
    for target in audit.target_resources:
        if any(v and v.casefold() in needles for v in (target.id, target.display_name)):
            return True
        for prop in target.modified_properties:
            text = f"{prop.old_value or ''} {prop.new_value or ''}".casefold()
            if any(n in text for n in needles):
                return True
    return False


def _audits(results: _Results, apps: list[ServicePrincipal]) -> Part[list[DirectoryAudit]]:
    part = results.part("audits", _values(DirectoryAudit))
    if part.data is None:
        return part
    needles = {v.casefold() for sp in apps for v in (sp.id, sp.app_id, sp.display_name) if v}
    kept = [a for a in part.data if _mentions(a, needles)]
    return Part(data=kept, message=part.message)


def _sign_ins(results: _Results, count: int) -> Part[list[SignIn]]:
    rows: list[SignIn] = []
    message = None
    for index in range(count):
        part = results.part(f"signins_{index}", _values(SignIn))
        if part.data is None:
            return part
        rows += part.data
        message = message or part.message
    rows.sort(key=lambda s: s.created_date_time, reverse=True)
    return Part(data=rows, message=message)


def _run(client: GraphClient, results: _Results, calls: list[PlannedCall]) -> None:
    if calls:
        results.add(calls, client.run([c.call() for c in calls]))


def _read_nothing(outcome: Outcome) -> bool:
    """An answer that says nothing about the tenant: no connection, garbage, 404, redirect."""
    return isinstance(outcome, GraphError) and (
        outcome.is_connection_failure
        or outcome.code == BAD_RESPONSE
        or outcome.status == 404
        or 300 <= outcome.status < 400
    )


def _unreachable(results: _Results, root: str) -> None:
    outcomes = list(results.outcomes.values())
    # No answer at all, only garbage (a captive proxy's HTML page on every request), or a
    # server answering 404 or a redirect to everything (a wrong --graph-url): nothing of the
    # tenant was read, so this is "cannot reach Graph" (exit 3, whatever --fail-on says), not
    # a report of unknowns that could pass a CI gate.
    if outcomes and all(_read_nothing(o) for o in outcomes):
        first = outcomes[0]
        detail = first.message if isinstance(first, GraphError) else ""
        raise AccessError(
            f"cannot reach Microsoft Graph at {root}: {detail}",
            fix="Check the network, proxy and --cloud / --graph-url.",
        )


def collect_with(
    client: GraphClient,
    manifest: Manifest,
    options: LiveOptions,
    *,
    tenant_hint: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> TenantSnapshot:
    """Collect with a ready client (tests inject one served by ``responses``)."""
    now = now or datetime.now(timezone.utc)
    say = progress or (lambda _text: None)
    results = _Results()
    say("Reading consent settings, policies and the Recruitee service principals")
    _run(client, results, wave_one(manifest, options))
    _unreachable(results, client.root)
    apps_part = _apps(results)
    apps = apps_part.data or []
    lookup = _user(results, options.user) if options.user else None
    user_id = lookup.user.data.id if lookup and lookup.user.data else None
    per_user = bool(options.user and user_id)
    say("Reading grants and assignments" + (" and audit logs" if options.with_logs else ""))
    _run(client, results, wave_two([(a.id, a.app_id) for a in apps], options, user_id, now))
    recruitee: Part[list[RecruiteeApp]] = (
        Part(
            data=[
                RecruiteeApp(
                    service_principal=sp,
                    oauth2_permission_grants=_grants(results, i, per_user),
                    app_role_assigned_to=results.part(f"assigned_{i}", _values(AppRoleAssignment)),
                    grants_coverage="all_principals_and_user" if per_user else "all",
                )
                for i, sp in enumerate(apps)
            ]
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
        tool_version=__version__,
        collected_at=now,
        tenant=_tenant(results, tenant_hint or options.tenant or "unknown"),
        recruitee_apps=recruitee,
        graph_service_principal=results.part("graph_sp", _one(ServicePrincipal)),
        delegated_permission_classifications=results.part(
            "classifications", _values(DelegatedPermissionClassification)
        ),
        authorization_policy=results.part("authorization_policy", _one(AuthorizationPolicy)),
        permission_grant_policies=results.part(
            "permission_grant_policies", _values(PermissionGrantPolicy)
        ),
        admin_consent_request_policy=results.part(
            "admin_consent_request_policy", _one(AdminConsentRequestPolicy)
        ),
        app_consent_requests=results.part("consent_requests", _values(AppConsentRequest)),
        conditional_access_policies=results.part(
            "conditional_access", _values(ConditionalAccessPolicy)
        ),
        users=[lookup] if lookup else [],
        directory_audits=(
            (_audits(results, apps) if apps else Part(data=[])) if logs_ok else not_collected
        ),
        sign_ins=_sign_ins(results, len(apps)) if logs_ok else not_collected,
    )
