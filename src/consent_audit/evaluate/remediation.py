"""Remediation steps: the Entra admin center path first, then the Graph / PowerShell way.

Admin-center paths follow Recruitee's own troubleshooting article (the seed document) and
the current Entra admin center navigation.
"""

from __future__ import annotations

from consent_audit.graph_objects import ServicePrincipal
from consent_audit.report import RemediationStep

ENTERPRISE_APPS = "Entra admin center > Identity > Applications > Enterprise applications"


def _app_path(app: ServicePrincipal | None, blade: str) -> str:
    name = (app.display_name if app else None) or "Recruitee"
    return f"{ENTERPRISE_APPS} > {name} > {blade}"


def grant_admin_consent(
    app: ServicePrincipal,
    scopes: list[str],
    graph_sp_id: str | None,
    existing_grant_id: str | None,
    existing_scopes: list[str],
) -> list[RemediationStep]:
    """Add the missing scopes to the AllPrincipals grant, or create it."""
    wanted = " ".join([*existing_scopes, *[s for s in scopes if s not in existing_scopes]])
    resource = graph_sp_id or "{microsoft-graph-service-principal-id}"
    if existing_grant_id:
        graph = f'PATCH /v1.0/oauth2PermissionGrants/{existing_grant_id} {{"scope": "{wanted}"}}'
        powershell = (
            f"Update-MgOauth2PermissionGrant -OAuth2PermissionGrantId {existing_grant_id} "
            f'-Scope "{wanted}"'
        )
    else:
        graph = (
            "POST /v1.0/oauth2PermissionGrants "
            f'{{"clientId": "{app.id}", "consentType": "AllPrincipals", '
            f'"resourceId": "{resource}", "scope": "{wanted}"}}'
        )
        powershell = (
            f'New-MgOauth2PermissionGrant -ClientId {app.id} -ConsentType "AllPrincipals" '
            f'-ResourceId {resource} -Scope "{wanted}"'
        )
    return [
        RemediationStep(
            action=(
                "Review the permissions with your security officer, then grant admin consent "
                f"for your organization ({', '.join(scopes)})."
            ),
            portal_path=_app_path(app, "Permissions > Grant admin consent for {organization}"),
            graph=graph,
            powershell=powershell,
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
            portal_path=_app_path(app, "Properties"),
            graph=f'PATCH /v1.0/servicePrincipals/{app.id} {{"accountEnabled": true}}',
            powershell=f"Update-MgServicePrincipal -ServicePrincipalId {app.id} "
            "-AccountEnabled:$true",
        )
    ]


def user_consent_settings() -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                "Either grant admin consent for Recruitee (preferred: one decision for the "
                "organization), or allow user consent: select 'Allow user consent for apps' "
                "(or a policy that covers Recruitee's scopes) and save."
            ),
            portal_path=(f"{ENTERPRISE_APPS} > Consent and permissions > User consent settings"),
            graph=(
                "PATCH /v1.0/policies/authorizationPolicy "
                '{"defaultUserRolePermissions": {"permissionGrantPoliciesAssigned": '
                '["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"]}}'
            ),
        )
    ]


def admin_consent_settings() -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                "Set 'Users can request admin consent to apps they are unable to consent to' "
                "to Yes, choose reviewers, and save. Users then see 'Approval required' and "
                "can send a request instead of 'Need admin approval'."
            ),
            portal_path=f"{ENTERPRISE_APPS} > Consent and permissions > Admin consent settings",
            graph=(
                "PUT /v1.0/policies/adminConsentRequestPolicy "
                '{"isEnabled": true, "reviewers": [{"query": "/users/{reviewer-id}", '
                '"queryType": "MicrosoftGraph"}], "notifyReviewers": true}'
            ),
        )
    ]


def review_requests() -> list[RemediationStep]:
    return [
        RemediationStep(
            action="Ask a reviewer to approve (or deny) the pending request for Recruitee.",
            portal_path=f"{ENTERPRISE_APPS} > Admin consent requests",
        )
    ]


def assign_principal(app: ServicePrincipal, principal_id: str | None) -> list[RemediationStep]:
    principal = principal_id or "{user-or-group-id}"
    return [
        RemediationStep(
            action=(
                "Assign the user, or a group the user is a *direct* member of (nested groups "
                "do not count), to Recruitee. Or set 'Assignment required?' to No."
            ),
            portal_path=_app_path(app, "Users and groups > Add user/group"),
            graph=(
                f"POST /v1.0/servicePrincipals/{app.id}/appRoleAssignedTo "
                f'{{"principalId": "{principal}", "resourceId": "{app.id}", '
                '"appRoleId": "00000000-0000-0000-0000-000000000000"}'
            ),
            powershell=(
                f"New-MgServicePrincipalAppRoleAssignedTo -ServicePrincipalId {app.id} "
                f"-PrincipalId {principal} -ResourceId {app.id} "
                "-AppRoleId 00000000-0000-0000-0000-000000000000"
            ),
        )
    ]


def assignment_properties(app: ServicePrincipal) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                "Assign the users or groups who sync with Recruitee, or set 'Assignment "
                "required?' to No if every user may use it."
            ),
            portal_path=_app_path(app, "Users and groups"),
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
            portal_path=_app_path(app, "Permissions"),
        )
    ]


def user_account(upn: str) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=f"Check the UPN {upn!r}, or enable the account if it should sync.",
            portal_path="Entra admin center > Identity > Users > All users",
        )
    ]
