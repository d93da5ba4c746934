"""Tenant consent settings: user consent, its policies, and the admin consent workflow.

- User consent is off when no ``ManagePermissionGrantsForSelf.*`` policy is assigned
  (entra-docs configure-user-consent.md); then only an admin can grant Recruitee's scopes.
- With admin consent requests off, a user who cannot consent sees "Need admin approval" and
  cannot ask (Recruitee's help article; entra-docs configure-admin-consent-workflow.md).
- Pending requests are read from /identityGovernance/appConsent/appConsentRequests
  (resources/appconsentrequest.md); "there aren't any methods available to programmatically
  approve or deny a request" (consentrequests-overview.md), so the fix is a reviewer's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from consent_audit.evaluate import remediation
from consent_audit.evaluate.consent_policy import decide, self_consent_policy_ids
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.coverage import consent_inputs, consent_outlook, stand_in_app
from consent_audit.evaluate.registry import finding
from consent_audit.graph_objects import IdentityRef
from consent_audit.report import Finding, Severity
from consent_audit.scopes import ScopeSet

Rule = Callable[[AuditContext, Outcome], None]


def per_app_when_undecided(check: Rule) -> Rule:
    """Run a tenant-level consent check once per app when several Recruitee apps match and
    the one in use cannot be told. Such a finding exists because of one app's grants, so it
    is that app's: a per-app verdict must never read another app's findings (issue #9).
    Findings that affect no feature stay tenant-wide, once."""

    def run(ctx: AuditContext, out: Outcome) -> None:
        apps = ctx.deciding_apps
        if len(apps) <= 1:
            check(ctx, out)
            return
        shared: dict[tuple[str, str], Finding] = {}
        for app in apps:
            sp = app.service_principal
            view = replace(ctx, app_ids=(sp.app_id,))
            sub = Outcome()
            check(view, sub)
            out.unknowns.extend(sub.unknowns)
            for f in sub.findings:
                if f.features:
                    out.add(
                        f.model_copy(
                            update={
                                "app_object_id": sp.id,
                                "detail": f"For {ctx.app_label(sp)}: {f.detail}",
                            }
                        )
                    )
                else:
                    shared.setdefault((f.id, f.detail), f)
        # A tenant-wide 'it does not block' is wrong when it blocks one of the apps.
        attributed = {f.id for f in out.findings if f.app_object_id and f.features}
        for f in shared.values():
            if f.id not in attributed:
                out.add(f)

    run.__name__ = check.__name__
    run.__doc__ = check.__doc__
    return run


def _grants_unreadable(ctx: AuditContext) -> bool:
    return any(not ctx.grants_readable(app) for app in ctx.deciding_apps)


def _features_missing_admin(ctx: AuditContext) -> list[str]:
    names = {c.feature.name for c in consent_outlook(ctx) if c.missing}
    return [f for f in ctx.feature_names if f in names]


def check_user_consent(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.authorization_policy
    if not part.ok or part.data is None:
        return
    assigned = part.data.default_user_role_permissions.permission_grant_policies_assigned
    missing = _features_missing_admin(ctx)
    if assigned is None:
        # Graph answered null (the CSDL allows it): whether users may consent is unknown,
        # never "turned off" and never "allowed". The features that need consent are unknown.
        why = (
            "Graph answered null for permissionGrantPoliciesAssigned, so whether users may "
            "consent is unknown"
        )
        # Keyed like the consent decisions' own unknowns (per app), so one finding says it.
        app_ids: list[str | None] = [a.service_principal.id for a in ctx.deciding_apps]
        for app_id in app_ids or [None]:
            out.unknown("authorization_policy", missing, app_id, reason=why)
        return
    policy_ids = self_consent_policy_ids(assigned)
    if not policy_ids:
        out.add(
            finding(
                "USER_CONSENT_DISABLED",
                "User consent is turned off (no ManagePermissionGrantsForSelf policy is "
                "assigned): only an administrator can grant Recruitee's permissions."
                + (
                    f" Admin consent is missing for {', '.join(missing)}, so those syncs "
                    "cannot start until an administrator consents."
                    if missing
                    else " Whether admin consent covers Recruitee is unknown (its grants could "
                    "not be read)."
                    if _grants_unreadable(ctx)
                    else " Admin consent already covers every feature checked."
                ),
                # With admin consent in place, user consent off is Microsoft's recommended
                # set-up and stops no sync: information, affecting no feature.
                severity=Severity.ERROR
                if missing
                else Severity.WARNING
                if _grants_unreadable(ctx)
                else Severity.INFO,
                features=missing or (ctx.feature_names if _grants_unreadable(ctx) else []),
                evidence={"permissionGrantPoliciesAssigned": list(assigned)},
                remediation=remediation.user_consent_settings(),
            )
        )
        return
    _check_restricted(ctx, out, policy_ids, set(missing))


def _check_restricted(
    ctx: AuditContext, out: Outcome, policy_ids: list[str], missing_features: set[str]
) -> None:
    """Name the scopes a user-consent policy refuses (not admin-only ones, not assignment)."""
    inputs = consent_inputs(ctx)
    refused: dict[str, dict[str, str]] = defaultdict(dict)
    blocking_names: set[str] = set()
    apps = ctx.deciding_apps or ([stand_in_app(ctx)] if ctx.snapshot.recruitee_apps.ok else [])
    for app in apps:
        sp = app.service_principal
        if sp.app_role_assignment_required:
            continue
        for feature in ctx.manifest.features:
            # A refusal blocks only a scope nobody granted yet: users are asked only for
            # permissions not already granted (entra-docs consent-types-developer).
            missing = ctx.missing(app, feature) if ctx.apps else feature.scope_set
            for scope in feature.scopes:
                d = decide(scope, sp, inputs)
                if d.allowed is False and d.cause in ("policy", "microsoft_managed"):
                    refused[feature.name][d.scope] = d.reason
                    if scope in missing and feature.name in missing_features:
                        blocking_names.add(feature.name)
    if not refused:
        return
    features = [f for f in ctx.feature_names if f in refused]
    blocking = [f for f in features if f in blocking_names]
    lines = [
        f"{name}: " + "; ".join(f"{s} ({why})" for s, why in sorted(refused[name].items()))
        for name in features
    ]
    out.add(
        finding(
            "USER_CONSENT_RESTRICTED",
            f"Users may consent only under {', '.join(policy_ids)}, which does not cover "
            f"every scope Recruitee needs. "
            + " | ".join(lines)
            + "."
            + (
                f" Admin consent is also missing for {', '.join(blocking)}."
                if blocking
                else " Admin consent covers them, so this matters only for new scopes."
            ),
            # Covered by admin consent: it matters only when Recruitee asks for a new scope.
            severity=Severity.ERROR if blocking else Severity.INFO,
            features=blocking,
            evidence={
                "policies": policy_ids,
                "refused": {k: dict(v) for k, v in refused.items()},
            },
            remediation=remediation.user_consent_settings(),
        )
    )


def check_admin_consent_workflow(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.admin_consent_request_policy
    blocked = sorted(
        {
            c.feature.name
            for c in consent_outlook(ctx)
            if c.missing and c.users_can_consent is False
        },
        key=ctx.feature_names.index,
    )
    if not part.ok or part.data is None:
        if blocked:
            out.unknown("admin_consent_request_policy", [])
        return
    policy = part.data
    if policy.is_enabled:
        if not policy.reviewers:
            out.add(
                finding(
                    "ADMIN_CONSENT_NO_REVIEWERS",
                    "Admin consent requests are on, but no reviewer is configured: requests "
                    "for Recruitee reach nobody and expire unanswered after "
                    + _expiry(policy.request_duration_in_days)
                    + ". Reviewers added later do not receive requests made before."
                    + (f" Users need them for {', '.join(blocked)}." if blocked else ""),
                    severity=Severity.ERROR if blocked else Severity.WARNING,
                    features=blocked,
                    evidence={"isEnabled": True, "reviewers": 0},
                    remediation=remediation.admin_consent_settings(),
                )
            )
        return
    if blocked:
        detail = (
            "Admin consent requests are turned off. Users who start "
            f"{', '.join(blocked)} sync see 'Need admin approval' and cannot ask for it; "
            "an administrator must consent first."
        )
    else:
        detail = "Admin consent requests are turned off. " + (
            "Whether that blocks Recruitee is unknown: its grants could not be read."
            if _grants_unreadable(ctx)
            else "It does not block Recruitee today (admin consent or user consent covers "
            "what is needed)."
        )
    out.add(
        finding(
            "ADMIN_CONSENT_WORKFLOW_DISABLED",
            detail,
            severity=Severity.ERROR if blocked else Severity.INFO,
            features=blocked,
            evidence={"isEnabled": policy.is_enabled, "reviewers": len(policy.reviewers or [])},
            remediation=remediation.admin_consent_settings(),
        )
    )


def _expiry(days: int | None) -> str:
    """How long a request lives (adminConsentRequestPolicy ``requestDurationInDays``;
    configure-admin-consent-workflow.md "Consent request expires after (days)")."""
    return f"{days} day(s)" if days else "the configured number of days"


def _requester(user: IdentityRef | None) -> str | None:
    """Who asked, as a person reads it: display name and UPN (Graph returns both on
    ``userConsentRequests``' ``createdBy.user``); the object id only when Graph named nobody."""
    if user is None:
        return None
    name, upn = user.display_name, user.user_principal_name
    if name and upn and name.casefold() != upn.casefold():
        return f"{name} ({upn})"
    return name or upn or (f"user with object id {user.id}" if user.id else None)


def check_pending_requests(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.app_consent_requests
    if not part.ok:
        return
    app_ids = {a.service_principal.app_id.casefold() for a in ctx.apps}
    app_ids |= {a.casefold() for a in (*ctx.manifest.known_app_ids, *ctx.app_ids)}
    name = ctx.manifest.app_display_name.casefold()
    for request in part.data or []:
        if request.app_id.casefold() not in app_ids and (
            (request.app_display_name or "").casefold() != name
        ):
            continue
        waiting = [
            u
            for u in request.user_consent_requests
            if (u.status or "InProgress").casefold() == "inprogress"
        ]
        if request.user_consent_requests and not waiting:
            continue
        askers = [
            {
                "user": (u.created_by.user.user_principal_name or u.created_by.user.id)
                if u.created_by and u.created_by.user
                else None,
                "display_name": u.created_by.user.display_name
                if u.created_by and u.created_by.user
                else None,
                "named": _requester(u.created_by.user if u.created_by else None),
                "created": u.created_date_time.isoformat() if u.created_date_time else None,
                "reason": u.reason,
            }
            for u in waiting
        ]
        who = ", ".join(
            f"{a['named'] or 'unknown user'} on {(a['created'] or '?')[:10]}"
            + (f": '{a['reason']}'" if a["reason"] else "")
            for a in askers
        )
        scopes = [s.display_name for s in request.pending_scopes or [] if s.display_name]
        asked = ScopeSet(s for s in scopes if s)
        # A request matters for the features still missing a scope it asks for (or, when it
        # names none, for every feature still missing something).
        features = [
            name
            for name in ctx.feature_names
            if any(
                c.feature.name == name
                and c.missing
                and (not scopes or any(s in asked for s in c.missing))
                for c in consent_outlook(ctx)
            )
        ]
        acr = ctx.snapshot.admin_consent_request_policy
        days = acr.data.request_duration_in_days if acr.ok and acr.data else None
        effect = (
            f" {', '.join(features).capitalize()} cannot sync until a reviewer approves; "
            f"unanswered, a request expires after {_expiry(days)}."
            if features
            else " What it asks for is already covered; a reviewer can close it."
        )
        out.add(
            finding(
                "ADMIN_CONSENT_REQUEST_PENDING",
                f"{len(waiting) or 'Some'} admin consent request(s) for "
                f"{request.app_display_name or request.app_id} are waiting"
                + (f" ({who})" if who else "")
                + (f" for {', '.join(scopes)}" if scopes else "")
                + "."
                + effect,
                severity=Severity.WARNING if features else Severity.INFO,
                features=features,
                evidence={
                    "request_id": request.id,
                    "app_id": request.app_id,
                    "pending_scopes": scopes,
                    "requests": [{k: v for k, v in a.items() if k != "named"} for a in askers],
                },
                remediation=remediation.review_requests(days),
            )
        )
