"""Is Recruitee in the tenant, once, and enabled? Which one does Recruitee use?

A service principal appears when someone first consents (Recruitee's help article, step 7);
``accountEnabled: false`` stops every user from signing in (resources/serviceprincipal.md,
https://learn.microsoft.com/entra/identity/enterprise-apps/disable-user-sign-in-portal).
With several matching service principals only the one Recruitee uses decides the headline
(``AuditContext.app_in_use``); each leftover gets APP_DUPLICATE, its own per-app verdict, and
its findings are capped at warning so it never fails the run
(https://learn.microsoft.com/entra/identity/enterprise-apps/delete-application-portal).
"""

from __future__ import annotations

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding, registry
from consent_audit.report import Severity

LEFTOVER_NOTE = "Not the Recruitee app in use (a leftover): "


def check_apps(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.recruitee_apps
    if not part.ok:
        out.unknown("recruitee_apps", ctx.feature_names)
        return
    name = ctx.manifest.app_display_name
    _lookalikes(ctx, out)
    if not ctx.apps:
        looked_for = (
            f"appId {', '.join(ctx.app_ids)}"
            if ctx.app_ids
            else f"display name {name!r} or known appIds "
            f"{', '.join(ctx.manifest.known_app_ids) or '(none)'}"
        )
        similar = [sp.display_name for sp in ctx.near_miss_apps if sp.display_name]
        hint = f" Similar names in the tenant: {', '.join(similar)}." if similar else ""
        if ctx.lookalike_apps:
            hint += (
                f" {len(ctx.lookalike_apps)} service principal(s) with that name or appId are "
                f"not {name}'s application (APP_LOOKALIKE): they do not count."
            )
        out.add(
            finding(
                "APP_NOT_FOUND",
                f"No enterprise application matches {looked_for}: nobody has consented to "
                f"{name} yet, or its enterprise application was deleted.{hint} If {name} "
                "appears under another name, pass its appId with --app-id.",
                features=ctx.feature_names,
                evidence={
                    "looked_for": looked_for,
                    "similar": [
                        {"object_id": sp.id, "app_id": sp.app_id, "display_name": sp.display_name}
                        for sp in ctx.near_miss_apps
                    ],
                },
                remediation=remediation.first_consent(name),
            )
        )
        return
    if len(ctx.apps) > 1:
        _duplicates(ctx, out)
    for app in ctx.apps:
        sp = app.service_principal
        by_microsoft = sp.disabled_by_microsoft_status
        evidence = {
            "object_id": sp.id,
            "accountEnabled": sp.account_enabled,
            "disabledByMicrosoftStatus": by_microsoft,
        }
        if by_microsoft and by_microsoft.casefold() != "notdisabled":
            # Microsoft disabled the application: no tenant setting undoes it, so this is
            # never APP_DISABLED (whose fix, and plan step, enables sign-in).
            out.add(
                finding(
                    "APP_DISABLED_BY_MICROSOFT",
                    f"{ctx.app_label(sp)} (object id {sp.id}) was disabled by Microsoft "
                    f"({by_microsoft}). No user can sign in to it, so every sync stops, and no "
                    "setting in this tenant brings it back: contact Recruitee and treat the "
                    "application as suspect until they explain.",
                    features=ctx.feature_names,
                    app_object_id=sp.id,
                    evidence=evidence,
                    remediation=remediation.microsoft_disabled(sp, by_microsoft),
                )
            )
        elif sp.account_enabled is False:
            # A leftover stops nothing: Recruitee signs in through the app in use.
            effect = (
                "Recruitee does not use it, so no sync depends on it."
                if ctx.is_leftover(app)
                else "No user can sign in to it, so every sync stops."
            )
            out.add(
                finding(
                    "APP_DISABLED",
                    f"{ctx.app_label(sp)} (object id {sp.id}) is disabled: 'Enabled for users "
                    f"to sign-in?' is No. {effect}",
                    features=ctx.feature_names,
                    app_object_id=sp.id,
                    evidence=evidence,
                    remediation=remediation.enable_app(sp),
                )
            )


def _lookalikes(ctx: AuditContext, out: Outcome) -> None:
    """APP_LOOKALIKE: named (or appId'd) like Recruitee, but its owner tenant, sign-in audience
    or publisher show it is not Recruitee's multi-tenant application (evaluate/identity.py).
    Tenant-level (no feature): it does not decide whether Recruitee syncs, but an error,
    because whatever it is granted reaches whoever registered it."""
    name = ctx.manifest.app_display_name
    for app in ctx.lookalike_apps:
        sp = app.service_principal
        why = ctx.identity(sp).reason
        # Per-user grants of a large tenant arrive counted (snapshot.PrincipalGrantGroup).
        grants = len(app.oauth2_permission_grants.data or []) + sum(
            g.count for g in app.principal_grant_groups
        )
        holds = f" It holds {grants} delegated permission grant(s)." if grants else ""
        out.add(
            finding(
                "APP_LOOKALIKE",
                f"{sp.display_name or sp.app_id} (appId {sp.app_id}, object id {sp.id}) is named "
                f"like {name} but is not {name}'s application: {why}.{holds} consent-audit "
                "never treats it as the app in use, never grants it anything and never links "
                "it for consent.",
                features=[],
                app_object_id=sp.id,
                evidence={
                    "object_id": sp.id,
                    "app_id": sp.app_id,
                    "display_name": sp.display_name,
                    "appOwnerOrganizationId": sp.app_owner_organization_id,
                    "signInAudience": sp.sign_in_audience,
                    "verifiedPublisherId": (
                        sp.verified_publisher.verified_publisher_id
                        if sp.verified_publisher
                        else None
                    ),
                    "tenant_id": ctx.snapshot.tenant.id,
                    "grants": grants,
                },
                remediation=remediation.investigate_lookalike(sp, name),
            )
        )


def _duplicates(ctx: AuditContext, out: Outcome) -> None:
    name = ctx.manifest.app_display_name
    choice = ctx.app_in_use
    in_use = choice.app
    listing = ", ".join(
        f"{a.service_principal.display_name} (appId {a.service_principal.app_id}, "
        f"object id {a.service_principal.id})"
        for a in ctx.apps
    )
    if in_use is None:
        out.add(
            finding(
                "APP_DUPLICATE",
                f"{len(ctx.apps)} enterprise applications match {name}: {listing}. "
                f"{choice.sentence} Find the one Recruitee uses (its appId in Recruitee's "
                "settings or in the sign-in log), pass it with --app-id, and delete the others.",
                features=[],
                evidence={
                    "object_ids": [a.service_principal.id for a in ctx.apps],
                    "in_use": None,
                    "chosen_by": choice.chosen_by,
                },
                remediation=remediation.find_app_in_use(name),
            )
        )
        return
    used = in_use.service_principal
    for app in ctx.apps:
        sp = app.service_principal
        if sp.id == used.id:
            continue
        out.add(
            finding(
                "APP_DUPLICATE",
                f"A second enterprise application named {sp.display_name or name} (appId "
                f"{sp.app_id}, object id {sp.id}) is a leftover. {choice.sentence} The "
                "leftover's findings do not decide the verdicts; delete it once Recruitee "
                f"confirms it no longer uses appId {sp.app_id}.",
                features=ctx.feature_names,
                app_object_id=sp.id,
                evidence={
                    "object_id": sp.id,
                    "app_id": sp.app_id,
                    "in_use_object_id": used.id,
                    "in_use_app_id": used.app_id,
                    "chosen_by": choice.chosen_by,
                },
                remediation=remediation.delete_leftover_app(sp, used),
            )
        )


def cap_leftover_findings(ctx: AuditContext, out: Outcome) -> None:
    """A leftover app's own errors become warnings: it is not what Recruitee uses, so it
    must not fail the run; its per-app verdict still shows what is wrong with it."""
    leftovers = {a.service_principal.id: a for a in ctx.apps if ctx.is_leftover(a)}
    in_use = ctx.app_in_use.app
    if not leftovers or in_use is None:
        return
    for i, f in enumerate(out.findings):
        app = leftovers.get(f.app_object_id or "")
        if app is None or f.id == "APP_DUPLICATE" or f.severity is Severity.INFO:
            continue
        severity = f.severity
        if severity is Severity.ERROR:
            if Severity.WARNING not in registry()[f.id].severities:
                raise ValueError(f"{f.id} cannot be capped at warning on a leftover app")
            severity = Severity.WARNING
        # The fix for anything wrong with a leftover is to delete it, not to repair it.
        out.findings[i] = f.model_copy(
            update={
                "severity": severity,
                # Its own detail describes sync failing, which is not so for an app Recruitee
                # does not sign in through: say what it is and what deleting it does.
                "detail": f"{LEFTOVER_NOTE}{f.title}. Recruitee does not sign in through it, "
                "so no sync depends on this; deleting the leftover removes it too.",
                "remediation": remediation.delete_leftover_app(
                    app.service_principal, in_use.service_principal
                ),
            }
        )
