"""Do Recruitee's delegated permission grants cover what each feature needs, per person?

Admin consent is an ``AllPrincipals`` oauth2PermissionGrant; a user's own consent is a
``Principal`` grant with their object id, and both can exist side by side
(https://learn.microsoft.com/graph/api/resources/oauth2permissiongrant). A person can sync a
feature only when the two together cover every scope; a partial admin grant makes the person
be asked only for the rest (https://learn.microsoft.com/entra/identity-platform/consent-types-developer).
A refresh for a scope nobody consented to fails with AADSTS65001, and Recruitee cannot show a
prompt from its servers (https://learn.microsoft.com/entra/identity-platform/reference-error-codes):
"people may consent" means "works after they reconnect and accept", not "works now".
Scope names compare case-insensitively (see scopes.py); only grants on the Microsoft Graph
resource count. openid, email and offline_access are Microsoft Graph permissions and appear
in the Graph grant's scope string like any other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.coverage import Coverage, coverages
from consent_audit.evaluate.registry import finding
from consent_audit.report import Severity
from consent_audit.scopes import ScopeSet, parse_scope_string
from consent_audit.snapshot import RecruiteeApp

SIGN_IN_SCOPES = ("openid", "profile", "email", "offline_access")


@dataclass(frozen=True)
class _Outlook:
    severity: Severity
    text: str
    people: int | None
    """People covered by the admin grant plus their own (tenant-wide; None: unknown)."""


def _who_may_consent(ctx: AuditContext, cov: Coverage) -> str:
    """Whether the audited person (or people) may consent to what is missing, and why."""
    who = ctx.user.user_principal_name if ctx.user else "People"
    can = cov.users_can_consent
    if can is True:
        policies = sorted({d.policy_id for d in cov.decisions if d.policy_id})
        return f" {who} may consent to them (policy {', '.join(policies)})."
    if can is None:
        reasons = sorted({d.reason for d in cov.decisions if d.allowed is None})
        subject = who if ctx.user else "people"
        return f" Whether {subject} may consent to them is unknown: {'; '.join(reasons)}."
    refused = ctx.canonical(ScopeSet(d.scope for d in cov.refused))
    reasons = sorted({d.reason for d in cov.refused})
    return (
        f" {who} cannot consent to {', '.join(refused)} ({'; '.join(reasons)}), so only an "
        "administrator can fix this."
    )


def _outlook(ctx: AuditContext, cov: Coverage, out: Outcome) -> _Outlook:
    """Coverage per person (entra-behaviour: admin grant plus the person's own grant).

    With --user: not covered means that person cannot sync now; Recruitee's background
    refresh fails with AADSTS65001 ("send an interactive authorization request") until they
    reconnect and accept, or an admin consents (entra-docs consent-types-developer,
    reference-error-codes). Tenant-wide: a warning only when some people are covered by their
    own consent and people may consent to the rest when they connect; an error when nobody is
    covered or people cannot consent to a missing scope.
    """
    may = _who_may_consent(ctx, cov)
    if ctx.user is not None:
        return _Outlook(
            Severity.ERROR,
            f" Recruitee cannot sync this for {ctx.user.user_principal_name} now: its "
            "background refresh fails with AADSTS65001 until they reconnect Recruitee and "
            "accept, or an administrator consents." + may,
            None,
        )
    sp_id = cov.app.service_principal.id
    n = ctx.people_covered(cov.app, cov.feature)
    if n is None:
        # How many people are covered is not known, so the verdict cannot be pass, warn or
        # fail: only the admin grants (and one user's) were collected, or a grant Graph
        # answered without its consentType or principal may be anyone's (check_scopes names it).
        why = (
            "The snapshot holds only the admin grant and one user's grant"
            if not ctx.all_grants_read(cov.app)
            else "Graph did not say whom some grants are for"
        )
        out.unknown("oauth2_permission_grants", [cov.feature.name], sp_id)
        return _Outlook(
            Severity.WARNING,
            f" {why}, so how many people their own consent covers is unknown." + may,
            None,
        )
    people = f"{n} {'person' if n == 1 else 'people'}"
    if n and cov.users_can_consent is not False:
        return _Outlook(
            Severity.WARNING,
            f" It works for {people} who consented themselves; others will be asked to "
            "accept when they connect Recruitee." + may,
            n,
        )
    if not n:
        return _Outlook(
            Severity.ERROR,
            " Nobody's own consent covers them either, so nobody can sync this now "
            "(the background refresh fails with AADSTS65001 until people reconnect and accept, "
            "or an administrator consents)." + may,
            0,
        )
    return _Outlook(Severity.ERROR, f" Only {people} who consented earlier are covered." + may, n)


def _admin_grant(ctx: AuditContext, app: RecruiteeApp) -> tuple[str | None, list[str]]:
    for grant in ctx.graph_grants(app):
        if (grant.consent_type or "").casefold() == "allprincipals":
            return grant.id, parse_scope_string(grant.scope)
    return None, []


def check_scopes(ctx: AuditContext, out: Outcome) -> None:
    for app in ctx.apps:
        if not app.oauth2_permission_grants.ok:
            out.unknown("oauth2_permission_grants", ctx.feature_names, app.service_principal.id)
        elif ctx.graph_sp is None:
            out.unknown("graph_service_principal", ctx.feature_names, app.service_principal.id)
    for cov in coverages(ctx):
        if not cov.missing:
            continue
        sp = cov.app.service_principal
        unplaced = [
            g
            for g in ctx.graph_grants(cov.app)
            if g.consent_type is None and any(s in cov.missing for s in parse_scope_string(g.scope))
        ]
        if unplaced:
            # Graph answered null for consentType (the CSDL allows it): such a grant is
            # neither admin nor a user's consent, so whether it covers these scopes, and for
            # whom, cannot be confirmed. Unknown, not missing.
            out.unknown(
                "oauth2_permission_grants",
                [cov.feature.name],
                sp.id,
                reason="Graph answered null for the consentType of grant(s) "
                f"{', '.join(g.id for g in unplaced[:5])}: neither admin nor a user's consent, "
                "so the coverage they give cannot be confirmed",
            )
            unsure = {s for g in unplaced for s in parse_scope_string(g.scope)}
            if not cov.missing.minus(unsure):
                continue  # the rest of what is missing is for sure: still reported below
        outlook = _outlook(ctx, cov, out)
        for d in cov.decisions:
            if d.allowed is None and d.unknown_part:
                out.unknown(d.unknown_part, [cov.feature.name], sp.id)
        missing = ctx.canonical(cov.missing)
        granted = ctx.canonical(cov.feature.scope_set.minus(cov.missing_admin))
        consent = (
            f"admin consent or {ctx.user.user_principal_name}'s own consent"
            if ctx.user
            else "admin consent"
        )
        held = f" ({', '.join(granted)} {'is' if len(granted) == 1 else 'are'} granted)"
        grant_id, grant_scopes = _admin_grant(ctx, cov.app)
        # Admin consent is for everyone: grant what the admin grant lacks, not only what
        # this user lacks.
        admin_step = remediation.grant_admin_consent(sp, ctx.canonical(cov.missing_admin))
        reconnect = remediation.reconnect(
            ctx.user.user_principal_name if ctx.user else None,
            cov.feature.title,
            missing,
            may_consent=cov.users_can_consent is True,
        )
        steps = (
            [*reconnect, *admin_step]
            if cov.users_can_consent is True
            else [*admin_step, *reconnect]
        )
        out.add(
            finding(
                "SCOPE_MISSING",
                f"{cov.feature.title}: {', '.join(missing)} {'is' if len(missing) == 1 else 'are'}"
                f" not covered by {consent} for {ctx.app_label(sp)}"
                f"{held if granted else ''}.{outlook.text}",
                title=f"{cov.feature.title} is missing {', '.join(missing)}",
                severity=outlook.severity,
                features=[cov.feature.name],
                app_object_id=sp.id,
                evidence={
                    "app_object_id": sp.id,
                    "missing_scopes": missing,
                    "admin_grant_id": grant_id,
                    "admin_grant_scopes": grant_scopes,
                    "user_grant_scopes": ctx.canonical(ctx.user_scopes(cov.app)),
                    "people_covered": outlook.people,
                    "user_consent": [
                        {"scope": d.scope, "allowed": d.allowed, "reason": d.reason}
                        for d in cov.decisions
                    ],
                },
                remediation=steps,
            )
        )


def check_extra_scopes(ctx: AuditContext, out: Outcome) -> None:
    """Least privilege: name scopes beyond the full manifest and who granted them."""
    # openid, profile, email and offline_access are the minimum sign-in set that MSAL adds to
    # every request (entra-docs configure-permission-classifications.md): never "extra".
    needed = ctx.full_manifest.all_scopes.union(SIGN_IN_SCOPES)
    if ctx.graph_sp is None:
        return  # without Graph's object id no grant can be placed; DATA_UNAVAILABLE says so
    graph_id = ctx.graph_sp.id.casefold()
    for app in ctx.apps:
        if not app.oauth2_permission_grants.ok:
            continue
        extra: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"admin": False, "users": 0, "grant_ids": []}
        )
        # Admin grants one by one; per-user grants as (resource, scope string, count) groups,
        # whether the snapshot kept them singly or counted (RecruiteeApp.principal_scope_groups).
        held = [
            (g.resource_id, g.scope, None, [g.id])
            for g in app.oauth2_permission_grants.data or []
            if (g.consent_type or "").casefold() == "allprincipals"
        ] + [(g.resource_id, g.scope, g.count, g.grant_ids) for g in app.principal_scope_groups()]
        for resource_id, scope_string, people, grant_ids in held:
            on_graph = resource_id.casefold() == graph_id
            for scope in parse_scope_string(scope_string):
                if on_graph and scope in needed:
                    continue
                key = (
                    ctx.catalog.canonical(scope)
                    if on_graph
                    else f"{scope} (on resource {resource_id})"
                )
                entry = extra[key]
                if people is None:
                    entry["admin"] = True
                else:
                    entry["users"] += people
                room = 5 - len(entry["grant_ids"])
                entry["grant_ids"].extend(grant_ids[: max(room, 0)])
        if not extra:
            continue
        sp = app.service_principal
        names = sorted(extra, key=str.casefold)
        who = []
        for name in names:
            entry = extra[name]
            parts = (["admin consent"] if entry["admin"] else []) + (
                [f"{entry['users']} user grant{'s' if entry['users'] != 1 else ''}"]
                if entry["users"]
                else []
            )
            who.append(f"{name} ({', '.join(parts)})")
        out.add(
            finding(
                "SCOPE_EXTRA",
                f"{ctx.app_label(sp)} holds delegated scopes the manifest does not ask for: "
                f"{'; '.join(who)}.",
                app_object_id=sp.id,
                evidence={"extra_scopes": {n: dict(extra[n]) for n in names}},
                remediation=remediation.remove_scopes(sp, [n.split(" ")[0] for n in names]),
            )
        )
