"""The audited user: does the account exist and can it sign in?

A missing user is a 404 from ``GET /users/{id|upn}`` (user-get.md); ``accountEnabled: false``
blocks every sign-in (AADSTS50057).
"""

from __future__ import annotations

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding
from consent_audit.snapshot import PartStatus


def check_user(ctx: AuditContext, out: Outcome) -> None:
    lookup = ctx.user_lookup
    if lookup is None:
        return
    part = lookup.user
    if part.status is PartStatus.NOT_FOUND:
        out.add(
            finding(
                "USER_NOT_FOUND",
                f"No user {lookup.query!r} exists in the tenant. Guests have UPNs like "
                "name_domain#EXT#@tenant.onmicrosoft.com.",
                features=ctx.feature_names,
                evidence={"query": lookup.query},
                remediation=remediation.user_account(lookup.query),
            )
        )
        return
    if not part.ok or part.data is None:
        out.unknown("user", ctx.feature_names)
        return
    if part.data.account_enabled is False:
        out.add(
            finding(
                "USER_DISABLED",
                f"{part.data.user_principal_name} is disabled (accountEnabled is false): "
                "they cannot sign in, so Recruitee cannot sync for them (AADSTS50057).",
                features=ctx.feature_names,
                evidence={"user_id": part.data.id, "accountEnabled": False},
                remediation=remediation.user_account(part.data.user_principal_name),
            )
        )
