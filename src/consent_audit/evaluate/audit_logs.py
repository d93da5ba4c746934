"""What the logs say: removed consent (directory audits) and failed sign-ins (sign-in log).

Directory audit activities (entra-docs reference-audit-activities.md, ApplicationManagement)
that remove Recruitee's delegated consent: "Remove delegated permission grant", "Remove
service principal", "Hard delete service principal", "Revoke consent". "Remove app role
assignment from service principal" is not one of them: it removes an app role (an application
permission, or a user's assignment), not a delegated grant. The log reaches back 7 days on
Entra ID Free and 30 days with P1/P2 (entra-docs reference-reports-data-retention.md), so the
finding states that window. Sign-in error codes come from entra-docs reference-error-codes.md
(bundled in data/aadsts_codes.json, which quotes the one text per mechanism,
evaluate/mechanisms.py). Sign-in logs need Entra ID P1/P2; a licence gap is reported as
unavailable, not as a finding.

Sign-in failures decide a verdict only while they last: per person, only when their latest
Recruitee sign-in failed (a later success means they reconnected). Background refreshes are
non-interactive sign-ins
(https://learn.microsoft.com/entra/identity/monitoring-health/concept-noninteractive-sign-ins);
their failures are what "sync stopped" looks like.
"""

from __future__ import annotations

from collections import defaultdict

from consent_audit.evaluate import remediation
from consent_audit.evaluate.aadsts import aadsts_catalog
from consent_audit.evaluate.conditional_access import mfa_features
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.mechanisms import mechanism
from consent_audit.evaluate.registry import finding
from consent_audit.evaluate.remediation import grant_the_app
from consent_audit.graph_objects import DirectoryAudit, SignIn
from consent_audit.report import Severity
from consent_audit.scopes import ScopeSet
from consent_audit.snapshot import (
    BACKGROUND_SIGN_INS_UNREAD,
    PartStatus,
    RecruiteeApp,
    TenantSnapshot,
)

REVOKING_ACTIVITIES = {
    "remove delegated permission grant",
    "remove service principal",
    "hard delete service principal",
    "revoke consent",
}


def _mentions(entry: DirectoryAudit, ids: set[str], name: str) -> bool:
    for target in entry.target_resources or []:
        if (target.id or "").casefold() in ids or (target.display_name or "").casefold() == name:
            return True
        for prop in target.modified_properties or []:
            text = f"{prop.old_value or ''} {prop.new_value or ''}".casefold()
            if any(i in text for i in ids):
                return True
    return False


def check_revocations(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.directory_audits
    if not part.ok:
        return
    ids = {a.service_principal.id.casefold() for a in ctx.apps}
    ids |= {a.service_principal.app_id.casefold() for a in ctx.apps}
    name = ctx.manifest.app_display_name.casefold()
    events = [
        e
        for e in part.data or []
        if e.activity_display_name.casefold() in REVOKING_ACTIVITIES
        and (e.result or "success").casefold() == "success"
        and _mentions(e, ids, name)
    ]
    if not events:
        return
    events.sort(key=lambda e: e.activity_date_time, reverse=True)
    rows = [
        {
            "activity": e.activity_display_name,
            "when": e.activity_date_time.isoformat(),
            "by": (
                (e.initiated_by.user.user_principal_name or e.initiated_by.user.id)
                if e.initiated_by and e.initiated_by.user
                else (
                    e.initiated_by.app.display_name
                    if e.initiated_by and e.initiated_by.app
                    else None
                )
            ),
            "audit_id": e.id,
        }
        for e in events
    ]
    latest = rows[0]
    # History only matters while the app in use still lacks admin consent somewhere.
    covered = bool(ctx.deciding_apps) and all(
        ctx.grants_readable(a) and not ctx.missing_admin(a, f)
        for a in ctx.deciding_apps
        for f in ctx.manifest.features
    )
    out.add(
        finding(
            "GRANT_REVOKED",
            f"The audit log shows {len(rows)} removal(s) of Recruitee's consent or "
            f"application; the latest: '{latest['activity']}' by {latest['by'] or 'unknown'} "
            f"on {str(latest['when'])[:10]} ({remediation.AUDIT_WINDOW}). "
            + ("Admin consent covers every feature again." if covered else mechanism("revocation")),
            severity=Severity.INFO if covered else Severity.WARNING,
            features=[],
            evidence={"events": rows[:20]},
            remediation=remediation.revoked_consent(
                str(latest["by"]) if latest["by"] else None,
                str(latest["when"])[:10],
                str(latest["activity"]),
                str(latest["audit_id"]) if latest["audit_id"] else None,
            ),
        )
    )


LOG_REQUIREMENTS = "AuditLog.Read.All and Entra ID P1/P2"
"""What reading sign-in logs needs (entra-docs howto-access-activity-logs: a P1/P2 licence
and a role such as Reports Reader; Graph signIn list: AuditLog.Read.All)."""


def sign_in_log_unread(snapshot: TenantSnapshot) -> str | None:
    """Why the sign-in log cannot show whether background refreshes succeed, with how to
    read it; None when it was read (interactive *and* background sign-ins).

    A background refresh is a non-interactive sign-in (concept-noninteractive-sign-ins): only
    the log shows whether it succeeds, so without it the Session link is not checked."""
    part = snapshot.sign_ins
    permission = part.permission or "AuditLog.Read.All"
    if part.ok:
        if any(BACKGROUND_SIGN_INS_UNREAD in gap for gap in part.gaps):
            if snapshot.app_only:
                return (
                    "background sign-ins could not be read from Graph beta. To check, "
                    f"{grant_the_app(permission)}"
                )
            return (
                "background sign-ins could not be read from Graph beta. Check with "
                f"{permission} on Graph beta"
            )
        return None
    if part.status is PartStatus.NOT_COLLECTED:
        # A replay reads no logs: --with-logs belongs to a live check or snapshot.
        return (
            f"the sign-in log was not read. Check with --with-logs, live (needs {LOG_REQUIREMENTS})"
        )
    if part.status is PartStatus.FORBIDDEN and snapshot.app_only:
        return f"reading the sign-in log was refused. To check, {grant_the_app(permission)}"
    if part.status is PartStatus.FORBIDDEN:
        return (
            f"reading the sign-in log was refused. Check with {permission} and a role such "
            "as Reports Reader"
        )
    if part.status is PartStatus.NOT_LICENSED:
        return "the sign-in log needs Entra ID P1/P2, which this tenant lacks"
    return f"the sign-in log could not be read ({part.message or part.status.value})"


def check_sign_in_failures(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.sign_ins
    if not part.ok:
        return
    for app in ctx.apps:
        _app_sign_in_failures(ctx, out, app, part.data or [])


MFA_CODES = {50076, 50079}
"""MFA required / MFA registration required (entra-docs reference-error-codes)."""


def _failing_people(entries: list[SignIn]) -> dict[str, int]:
    """People whose latest sign-in (of these) failed, with its code: a later success means
    they reconnected."""
    latest: dict[str, tuple[SignIn, int]] = {}
    for s in entries:
        code = s.status.error_code if s.status else None
        if code is None:
            continue  # outcome unknown (null in Graph): says nothing about now
        key = (s.user_id or s.user_principal_name or s.id).casefold()
        if key not in latest or s.created_date_time > latest[key][0].created_date_time:
            latest[key] = (s, code)
    return {key: code for key, (_, code) in latest.items() if code}


CONSENT_MISSING = 65001
"""AADSTS65001 DelegationDoesNotExist: the refresh asked for a scope nobody consented to."""


def _consented_since(ctx: AuditContext, app: RecruiteeApp, failing: dict[str, int]) -> set[str]:
    """People whose latest sign-in failed with AADSTS65001 but whom consent covers now (the
    admin grant with their own grant covers every feature's scopes). A missing or deleted
    grant fails "the next refresh ... (AADSTS65001) until the user reconnects or an admin
    consents" (entra-behaviour.md, Consent and grants; Graph oauth2permissiongrant-delete.md),
    so the consent there is now ends it without the person doing anything: the same story
    GRANT_REVOKED tells ("Admin consent covers every feature again")."""
    if not ctx.grants_readable(app):
        return set()
    admin = ctx.admin_scopes(app)
    own = ctx.own_grants(app)
    return {
        person
        for person, code in failing.items()
        if code == CONSENT_MISSING
        and all(
            not f.scope_set.minus(admin.union(own.get(person, ScopeSet())))
            for f in ctx.manifest.features
        )
    }


def _affected_features(ctx: AuditContext, app: RecruiteeApp, codes: set[int]) -> list[str]:
    """Which features the failing refreshes break. An MFA failure (a refresh token without
    the MFA claim, entra-behaviour: MFA) breaks only the features behind an MFA policy; any
    other failure, every feature of the app."""
    if codes and codes <= MFA_CODES:
        behind = mfa_features(ctx, app.service_principal)
        if behind:
            return list(behind)
    return list(ctx.feature_names)


def _app_sign_in_failures(
    ctx: AuditContext, out: Outcome, app: RecruiteeApp, sign_ins: list[SignIn]
) -> None:
    sp = app.service_principal
    mine = [s for s in sign_ins if (s.app_id or "").casefold() == sp.app_id.casefold()]
    by_code: dict[int, list[SignIn]] = defaultdict(list)
    for s in mine:
        code = s.status.error_code if s.status else None
        if code:
            by_code[code].append(s)
    if not by_code:
        return
    failing = _failing_people(mine)
    if ctx.user is not None:
        who = {ctx.user.id.casefold(), ctx.user.user_principal_name.casefold()}
        failing = {k: v for k, v in failing.items() if k in who}
    consented = _consented_since(ctx, app, failing)
    failing = {k: v for k, v in failing.items() if k not in consented}
    catalog = aadsts_catalog()
    groups = []
    for code in sorted(by_code, key=lambda c: (-len(by_code[c]), c)):
        entries = by_code[code]
        known = catalog.get(code, {})
        groups.append(
            {
                "code": f"AADSTS{code}",
                "count": len(entries),
                "users": len({e.user_id for e in entries}),
                "background": sum(1 for e in entries if e.is_interactive is False),
                "last": max(e.created_date_time for e in entries).isoformat(),
                "meaning": known.get("meaning")
                or (entries[0].status.failure_reason if entries[0].status else None),
                "fix": known.get("fix"),
            }
        )
    summary = "; ".join(
        f"{g['code']} x{g['count']} ({g['users']} user(s)): {str(g['meaning']).rstrip('.')}"
        for g in groups[:5]
    )
    features = _affected_features(ctx, app, set(failing.values())) if failing else []
    if failing:
        whom = (
            f"{ctx.user.user_principal_name}, whose latest Recruitee sign-in failed"
            if ctx.user
            else f"{len(failing)} person(s) whose latest Recruitee sign-in failed"
        )
        effect = f" {', '.join(features).capitalize()} sync is failing now for {whom}."
        if set(failing.values()) & MFA_CODES:
            effect += " " + mechanism("mfa")
    elif consented:
        effect = (
            " Consent now covers what the AADSTS65001 refreshes asked for, so "
            + (ctx.user.user_principal_name if ctx.user else f"{len(consented)} person(s)")
            + " whose latest Recruitee sign-in failed with it get a token at the next refresh."
        )
    else:
        effect = (
            " Each was followed by a successful sign-in"
            + (f" for {ctx.user.user_principal_name}" if ctx.user else "")
            + ", so none is failing now."
        )
    out.add(
        finding(
            "SIGNIN_FAILURES",
            f"Recent sign-ins to {ctx.app_label(sp)} failed: {summary}.{effect}",
            # With --user: that person cannot sync now (an error). Tenant-wide: some people.
            severity=(Severity.ERROR if ctx.user else Severity.WARNING)
            if failing
            else Severity.INFO,
            features=features,
            app_object_id=sp.id,
            evidence={
                "codes": groups,
                "failing_now": len(failing),
                # The codes of the latest failures: what a fix must end (fixes.py).
                "failing_codes": sorted({f"AADSTS{code}" for code in failing.values()}),
            },
            remediation=remediation.sign_in_failures(
                [(str(g["code"]), g["fix"] if isinstance(g["fix"], str) else None) for g in groups]
            ),
        )
    )
