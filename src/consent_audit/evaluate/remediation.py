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


def delete_leftover_app(
    leftover: ServicePrincipal, in_use: ServicePrincipal
) -> list[RemediationStep]:
    """Delete a leftover Recruitee service principal (serviceprincipal-delete.md)."""
    return [
        RemediationStep(
            action=(
                f"Confirm with Recruitee that it uses appId {in_use.app_id}, not "
                f"{leftover.app_id}; then delete the leftover enterprise application "
                f"(object id {leftover.id}). Its grants and assignments go with it, and nobody "
                "keeps permissions through an app nobody uses."
            ),
            # Deleting is a person's decision (not a plan request): the admin-center path
            # and Microsoft's page; Graph: DELETE /servicePrincipals/{id}.
            portal_path=app_path(leftover, "Properties > Delete"),
            url="https://learn.microsoft.com/entra/identity/enterprise-apps/delete-application-portal",
        )
    ]


def find_app_in_use(app_name: str) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                f"Find the appId {app_name} uses: filter the sign-in log by application "
                f"'{app_name}' and read the Application ID of recent successful sign-ins (or ask "
                f"{app_name}). Run the audit again with --app-id <that appId>, then delete the "
                "other enterprise applications."
            ),
            portal_path=(
                "Entra admin center > Identity > Monitoring & health > Sign-in logs "
                "(filter: Application)"
            ),
        )
    ]


def reconnect(
    upn: str | None, feature_title: str, scopes: list[str], *, may_consent: bool
) -> list[RemediationStep]:
    """A person's own consent: they reconnect in Recruitee and accept the prompt (creates
    their Principal grant; entra-docs consent-types-developer). Recruitee cannot prompt from
    its servers, so nothing happens until they do."""
    who = upn or "each person who syncs"
    if may_consent:
        action = (
            f"Ask {who} to reconnect {feature_title} in Recruitee and accept Microsoft's "
            f"consent prompt for {', '.join(scopes)}: that creates their own grant, and sync "
            "works from then on."
        )
    else:
        action = (
            f"After an administrator consents, ask {who} to reconnect {feature_title} in "
            "Recruitee if it shows the account as disconnected (their own consent cannot "
            "cover these scopes)."
        )
    return [RemediationStep(action=action)]


def revoked_consent(by: str) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                f"Ask {by} (who removed it, per the audit log) why, and agree on the fix; then "
                "grant admin consent again on the application's Permissions page, or ask the "
                "people who sync to reconnect Recruitee and accept."
            ),
            portal_path=(
                "Entra admin center > Identity > Monitoring & health > Audit logs "
                "(filter: Activity 'Remove delegated permission grant')"
            ),
            url="https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities",
        )
    ]


def sign_in_failures(codes: list[tuple[str, str | None]]) -> list[RemediationStep]:
    """One step per error code, with the code's own fix (entra-docs reference-error-codes)."""
    steps = [
        RemediationStep(
            action=f"{code}: {fix or 'look the code up and fix its cause'}",
            portal_path="Entra admin center > Identity > Monitoring & health > Sign-in logs",
            url="https://learn.microsoft.com/entra/identity-platform/reference-error-codes",
        )
        for code, fix in codes[:5]
    ]
    steps.append(
        RemediationStep(
            action=(
                "Once the cause is fixed, ask the people whose latest sign-in failed to "
                "reconnect Recruitee; `consent-audit explain <code>` explains any code."
            )
        )
    )
    return steps


def data_unavailable(
    permission: str, status: str, rerun: str, *, licence: bool = False
) -> list[RemediationStep]:
    """What to grant (or license) so the part can be read, and the command to run again."""
    if licence:
        action = (
            "This part needs Microsoft Entra ID P1 or P2 in the tenant; without it, nothing "
            f"to grant. With the licence, run `{rerun}` again."
        )
        path = "Entra admin center > Identity > Billing > Licenses"
    elif status == "forbidden":
        action = (
            f"Give the auditor the Global Reader role and consent to {permission} for the "
            f"sign-in app, then run `{rerun}` again."
        )
        path = "Entra admin center > Identity > Roles & admins > Global Reader"
    elif status == "incomplete":
        # The part was read, but what Graph sent leaves the question open (a field Graph
        # answered null, an enum member it did not name), or a snapshot from an older
        # version lacks it. Reading again as a stronger role changes neither.
        action = (
            "What was read leaves this open (the finding says what): check it in the Entra "
            f"admin center, then run `{rerun}` again. A snapshot taken by an older "
            "consent-audit version may lack it: take it again with this one. If Graph keeps "
            "answering this way, send the snapshot (`consent-audit snapshot -o FILE`) to "
            "support."
        )
        path = None
    else:
        action = (
            f"Microsoft Graph returned an error; run `{rerun}` again later (add -v to see the "
            f"request). It needs {permission}."
        )
        path = None
    return [
        RemediationStep(
            action=action,
            portal_path=path,
            url="https://learn.microsoft.com/graph/permissions-reference",
        )
    ]


def data_partial(permission: str, rerun: str) -> list[RemediationStep]:
    """Items Graph sent that could not be read, or a refused beta read: look them up, audit
    again with the permission, and hand the snapshot to support if they stay unreadable."""
    return [
        RemediationStep(
            action=(
                "Look the named items up in the Entra admin center (they may be half-deleted "
                f"or malformed); make sure the auditor has {permission} (and the Global Reader "
                f"role), then run `{rerun}` again. If an item stays unreadable, send the "
                "snapshot (`consent-audit snapshot --output FILE`) to support."
            ),
            portal_path="Entra admin center > Identity > Roles & admins > Global Reader",
            url="https://learn.microsoft.com/graph/permissions-reference",
        )
    ]


def investigate_lookalike(app: ServicePrincipal, real_name: str) -> list[RemediationStep]:
    """A service principal that only looks like Recruitee: never grant it anything; find who
    registered it and remove it (serviceprincipal-delete.md; manage-application-permissions.md)."""
    return [
        RemediationStep(
            action=(
                f"Grant nothing to the application named '{app.display_name or real_name}' "
                f"(appId {app.app_id}, object id {app.id}): it is not {real_name}'s "
                "application. Find who registered "
                "it (its owners; the audit log's 'Add application' and 'Add service principal' "
                "events), revoke the permissions it holds, and delete it unless its owner "
                f"explains it. Confirm {real_name}'s appId and owner tenant with {real_name}."
            ),
            portal_path=f"{ENTERPRISE_APPS} > {app.display_name or real_name} > Permissions",
            url="https://learn.microsoft.com/entra/identity/enterprise-apps/manage-application-permissions",
        )
    ]
