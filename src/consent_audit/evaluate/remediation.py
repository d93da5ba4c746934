"""Remediation steps: the Entra admin center path first, then the Graph / PowerShell way.

Admin-center paths follow Recruitee's own troubleshooting article (the seed document) and
the current Entra admin center navigation.
"""

from __future__ import annotations

from consent_audit.graph_objects import ServicePrincipal
from consent_audit.report import RemediationStep

ENTERPRISE_APPS = "Entra admin center > Identity > Applications > Enterprise applications"


def app_path(app: ServicePrincipal | None, blade: str) -> str:
    """The admin-center path to one of Recruitee's blades, named as the portal shows it."""
    name = (app.display_name if app else None) or "Recruitee"
    return f"{ENTERPRISE_APPS} > {name} > {blade}"


def grant_admin_consent(app: ServicePrincipal, scopes: list[str]) -> list[RemediationStep]:
    """Admin consent for the scopes the admin grant lacks.

    The request itself is not built here: the fix plan (evaluate/fixes.py) builds one per
    grant with every scope any feature needs, and the finding is pointed at that step.
    """
    return [
        RemediationStep(
            action=(
                "Review the permissions with your security officer, then grant admin consent "
                f"for everyone ({', '.join(scopes)})."
            ),
            portal_path=app_path(app, "Permissions > Grant admin consent"),
        )
    ]


def first_consent(app_name: str) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                f"Have an administrator start the mailbox, calendar or rooms sync in {app_name} "
                "and tick 'Consent on behalf of your organization' on Microsoft's consent "
                f"screen: this creates the {app_name} enterprise application with admin consent."
            ),
        ),
        RemediationStep(
            action=(
                "If the application was deleted, check the deleted enterprise applications "
                "and restore it, or consent again as above."
            ),
            portal_path=f"{ENTERPRISE_APPS} > Deleted applications",
        ),
    ]


def enable_app(app: ServicePrincipal) -> list[RemediationStep]:
    return [
        RemediationStep(
            action="Set 'Enabled for users to sign-in?' to Yes and save.",
            portal_path=app_path(app, "Properties"),
        )
    ]


def user_consent_settings() -> list[RemediationStep]:
    """A tenant-wide security decision: the admin-center path and the trade-off only.

    No one-line request: ``PATCH /policies/authorizationPolicy`` replaces the whole
    ``permissionGrantPoliciesAssigned`` array, dropping the team and chat consent entries it
    also holds (authorizationpolicy-update.md).
    """
    return [
        RemediationStep(
            action=(
                "Either grant admin consent for Recruitee (preferred: one decision, for this "
                "app only), or let users consent: choose 'Allow user consent for apps' or a "
                "policy that covers Recruitee's scopes, and save. That is tenant-wide: every "
                "user may then grant those permissions to any app the policy covers."
            ),
            portal_path=f"{ENTERPRISE_APPS} > Consent and permissions > User consent settings",
        )
    ]


def admin_consent_settings() -> list[RemediationStep]:
    """A tenant-wide decision (who reviews requests): the admin-center path only."""
    return [
        RemediationStep(
            action=(
                "Set 'Users can request admin consent to apps they are unable to consent to' "
                "to Yes, choose reviewers, and save. Users then see 'Approval required' and "
                "can send a request instead of 'Need admin approval'; the reviewers must "
                "answer every request."
            ),
            portal_path=f"{ENTERPRISE_APPS} > Consent and permissions > Admin consent settings",
        )
    ]


def review_requests() -> list[RemediationStep]:
    return [
        RemediationStep(
            action="Ask a reviewer to approve (or deny) the pending request for Recruitee.",
            portal_path=f"{ENTERPRISE_APPS} > Admin consent requests",
        )
    ]


def assign_principal(app: ServicePrincipal) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                "Assign the user, or a group the user is a *direct* member of (nested groups "
                "do not count), to Recruitee. Or set 'Assignment required?' to No."
            ),
            portal_path=app_path(app, "Users and groups > Add user/group"),
        )
    ]


def assignment_properties(app: ServicePrincipal) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                "Assign the users or groups who sync with Recruitee, or set 'Assignment "
                "required?' to No if every user may use it."
            ),
            portal_path=app_path(app, "Users and groups"),
        )
    ]


def conditional_access(policy_name: str, change: str) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=f"Review policy '{policy_name}': {change}",
            portal_path="Entra admin center > Protection > Conditional Access > Policies",
        )
    ]


def grant_reader_role(permission: str | None) -> list[RemediationStep]:
    needed = f" (Graph permission: {permission})" if permission else ""
    return [
        RemediationStep(
            action=(
                "Run the audit as a user with the Global Reader role, with the read "
                f"permissions consented{needed}, then audit again."
            ),
            portal_path="Entra admin center > Identity > Roles & admins > Global Reader",
        )
    ]


def remove_scopes(app: ServicePrincipal, scopes: list[str]) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                f"If Recruitee does not need {', '.join(scopes)}, remove them from the grant "
                "(least privilege); confirm with Recruitee first."
            ),
            portal_path=app_path(app, "Permissions"),
        )
    ]


def user_account(upn: str) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=f"Check the UPN {upn!r}, or enable the account if it should sync.",
            portal_path="Entra admin center > Identity > Users > All users",
        )
    ]
