"""Is Recruitee in the tenant, once, and enabled?

A service principal appears when someone first consents (Recruitee's help article, step 7);
``accountEnabled: false`` stops every user from signing in (resources/serviceprincipal.md).
"""

from __future__ import annotations

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding


def check_apps(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.recruitee_apps
    if not part.ok:
        out.unknown("recruitee_apps", ctx.feature_names)
        return
    name = ctx.manifest.app_display_name
    if not ctx.apps:
        looked_for = (
            f"appId {', '.join(ctx.app_ids)}"
            if ctx.app_ids
            else f"display name {name!r} or known appIds "
            f"{', '.join(ctx.manifest.known_app_ids) or '(none)'}"
        )
        similar = [sp.display_name for sp in ctx.near_miss_apps if sp.display_name]
        hint = f" Similar names in the tenant: {', '.join(similar)}." if similar else ""
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
        listing = ", ".join(
            f"{a.service_principal.display_name} (appId {a.service_principal.app_id}, "
            f"object id {a.service_principal.id})"
            for a in ctx.apps
        )
        out.add(
            finding(
                "APP_DUPLICATE",
                f"{len(ctx.apps)} enterprise applications match {name}: {listing}. Each is "
                "audited below; Recruitee may use any of them, so each needs the same set-up.",
                features=[],
                evidence={"object_ids": [a.service_principal.id for a in ctx.apps]},
            )
        )
    for app in ctx.apps:
        sp = app.service_principal
        if sp.account_enabled is False or (
            sp.disabled_by_microsoft_status
            and sp.disabled_by_microsoft_status.casefold() != "notdisabled"
        ):
            by_microsoft = sp.disabled_by_microsoft_status
            why = (
                f"Microsoft disabled it ({by_microsoft})"
                if by_microsoft and by_microsoft.casefold() != "notdisabled"
                else "'Enabled for users to sign-in?' is No"
            )
            out.add(
                finding(
                    "APP_DISABLED",
                    f"{ctx.app_label(sp)} (object id {sp.id}) is disabled: {why}. No user can "
                    "sign in to it, so every sync stops.",
                    features=ctx.feature_names,
                    app_object_id=sp.id,
                    evidence={
                        "object_id": sp.id,
                        "accountEnabled": sp.account_enabled,
                        "disabledByMicrosoftStatus": by_microsoft,
                    },
                    remediation=remediation.enable_app(sp),
                )
            )
