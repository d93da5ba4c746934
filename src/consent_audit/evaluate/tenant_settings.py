"""Tenant settings the seed document mentions that do not decide consent.

"Users can register applications" (``allowedToCreateApps``) controls app *registrations*.
Consenting to a multi-tenant app such as Recruitee creates a service principal, which user
consent settings govern, not this switch (entra-docs delegate-app-roles.md,
configure-user-consent.md). The seed recommends turning it on; the report says plainly that
it does not matter for Recruitee.
"""

from __future__ import annotations

from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding


def check_app_registration(ctx: AuditContext, out: Outcome) -> None:
    policy = ctx.snapshot.authorization_policy.data
    if policy is None or policy.default_user_role_permissions.allowed_to_create_apps is not False:
        return
    out.add(
        finding(
            "APP_REGISTRATION_DISABLED",
            "Users cannot register applications (allowedToCreateApps is false). This does "
            "not affect Recruitee: it is registered in Recruitee's own tenant, and consenting "
            "creates a service principal here, which user consent settings govern. No "
            "change is needed for Recruitee.",
            evidence={"allowedToCreateApps": False},
        )
    )
