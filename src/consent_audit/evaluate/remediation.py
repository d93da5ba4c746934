"""Remediation steps: the Entra admin center path first, then the Graph / PowerShell way.

A fix never makes things worse: every step that changes more than Recruitee says what else it
changes (tenant-wide effects), and no step loosens an emergency or lockdown policy. The rules
each step encodes, and the Microsoft page it comes from:
- Conditional Access is enforced on the resource, so excluding Recruitee from a policy is never
  offered (concept-conditional-access-cloud-apps.md); what does help (excluding the people who
  sync, a named location, a different control) changes the policy for everyone it covers, and a
  named location marked *trusted* counts in every policy that uses trusted locations and in
  Identity Protection's sign-in risk (concept-assignment-network.md).
- The admin center's "Grant admin consent" may revoke permissions already granted tenant-wide
  and opens the app to every user unless assignment is required (grant-admin-consent.md); the
  plan's PATCH adds scopes and keeps what exists.
- An app Microsoft disabled (``disabledByMicrosoftStatus``) cannot be enabled by the tenant
  (Graph resources/serviceprincipal.md): contact the vendor, treat the app as suspect.
- Admin consent requests expire after ``requestDurationInDays``; reviewers added later do not
  get requests made before (configure-admin-consent-workflow.md).
- The directory audit log covers 7 days on Entra ID Free, 30 days with P1/P2
  (reference-reports-data-retention.md).

Admin-center paths follow the current Entra admin center navigation as entra-docs writes it
("Entra ID > Enterprise apps > All applications", "Entra ID > Conditional Access > Policies",
"Entra ID > Monitoring & health > Audit logs"; grant-admin-consent.md and the pages it links).
"""

from __future__ import annotations

import re

from consent_audit.evaluate.mechanisms import mechanism
from consent_audit.graph_objects import ConditionalAccessPolicy, ServicePrincipal
from consent_audit.report import RemediationStep

ADMIN_CENTER = "Entra admin center > Entra ID"
ENTERPRISE_APPS = f"{ADMIN_CENTER} > Enterprise apps"
CONDITIONAL_ACCESS = f"{ADMIN_CENTER} > Conditional Access > Policies"
MONITORING = f"{ADMIN_CENTER} > Monitoring & health"
GLOBAL_READER = f"{ADMIN_CENTER} > Roles & admins > Global Reader"
APP_PERMISSIONS = f"{ADMIN_CENTER} > App registrations > API permissions"
"""Where an app's Microsoft Graph application permissions are granted: what an app-only run
(CI: client secret, certificate, federated token) reads with, instead of a directory role."""


def grant_the_app(permission: str) -> str:
    """How an app-only run reads a part it was refused: the application permission(s), never
    a role (docs/permissions.md, App-only sign-in)."""
    noun = "permissions" if "+" in permission else "permission"
    return (
        f"grant the signing-in app the Microsoft Graph application {noun} {permission} "
        "with admin consent (an app has no directory role; docs/permissions.md, App-only "
        "sign-in)"
    )


AUDIT_WINDOW = "the audit log covers the last 7 days (Entra ID Free) or 30 days (P1/P2)"
"""How far back the directory audit log reaches (entra-docs reference-reports-data-retention.md)."""


def app_path(app: ServicePrincipal | None, blade: str) -> str:
    """The admin-center path to one of Recruitee's blades, named as the portal shows it."""
    name = (app.display_name if app else None) or "Recruitee"
    return f"{ENTERPRISE_APPS} > All applications > {name} > {blade}"


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
    """Sign-in disabled in this tenant ('Enabled for users to sign-in?' = No)."""
    return [
        RemediationStep(
            action="Set 'Enabled for users to sign-in?' to Yes and save.",
            portal_path=app_path(app, "Properties"),
        )
    ]


def microsoft_disabled(app: ServicePrincipal, status: str) -> list[RemediationStep]:
    """Microsoft disabled the application (``disabledByMicrosoftStatus``, for example
    DisabledDueToViolationOfServicesAgreement: "suspicious, abusive, or malicious activity",
    Graph resources/serviceprincipal.md). No tenant setting undoes that, so nothing here
    enables it: the vendor must answer, and until then the app is suspect."""
    return [
        RemediationStep(
            action=(
                f"Microsoft disabled this application ({status}); no setting in your tenant "
                "brings it back, and 'Enabled for users to sign-in?' does not. Contact Recruitee "
                f"and ask why, quoting its appId {app.app_id}."
            ),
        ),
        RemediationStep(
            action=(
                "Until Recruitee explains, treat the application as suspect: review the "
                "permissions it was granted and its recent sign-ins and audit events "
                f"({AUDIT_WINDOW}), and remove its grants if you no longer trust it."
            ),
            portal_path=app_path(app, "Permissions"),
        ),
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
                "can send a request instead of 'Need admin approval'. Tenant-wide: users may "
                "then request any app they cannot consent to, and the reviewers receive every "
                "request."
            ),
            portal_path=f"{ENTERPRISE_APPS} > Consent and permissions > Admin consent settings",
        ),
        RemediationStep(
            action=(
                "Requests expire unanswered after the number of days set there ('Consent "
                "request expires after'), and reviewers you add later do not receive requests "
                "made before: people whose request reached nobody ask again once reviewers are "
                "set."
            ),
        ),
    ]


def review_requests(duration_days: int | None = None) -> list[RemediationStep]:
    """A reviewer's decision (no Graph method approves a request: consentrequests-overview.md).
    Requests expire after ``requestDurationInDays``, and reviewers added after a request was
    made never receive it (configure-admin-consent-workflow.md): nothing waits forever."""
    expiry = (
        f"after {duration_days} day(s)" if duration_days else "after the configured number of days"
    )
    return [
        RemediationStep(
            action=(
                "Ask a reviewer to approve (or deny) the pending request for Recruitee before it "
                f"expires ({expiry} from the request). Reviewers added after the request was "
                "made do not see it: then the person asks again, or an administrator consents."
            ),
            portal_path=f"{ENTERPRISE_APPS} > Admin consent requests",
        )
    ]


def assign_principal(app: ServicePrincipal) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                "Assign the user, or a group the user is a *direct* member of (nested groups "
                "do not count), to Recruitee. Or set 'Assignment required?' to No, which lets "
                "every user in the tenant use Recruitee."
            ),
            portal_path=app_path(app, "Users and groups > Add user/group"),
        )
    ]


def assignment_properties(app: ServicePrincipal) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=(
                "Assign the users or groups who sync with Recruitee, or set 'Assignment "
                "required?' to No if every user in the tenant may use it (that is what it does)."
            ),
            portal_path=app_path(app, "Users and groups"),
        )
    ]


def conditional_access(policy_name: str, change: str) -> list[RemediationStep]:
    return [
        RemediationStep(
            action=f"Review policy '{policy_name}': {change}",
            portal_path=CONDITIONAL_ACCESS,
        )
    ]


_EXCLUDE_PEOPLE = (
    "exclude the people who sync (they then lose this policy's protection for every app it "
    "covers, not only Recruitee)"
)
CA_CHANGES = {
    "block": (
        f"{_EXCLUDE_PEOPLE}, or narrow its conditions (that narrows it for everyone it covers)."
    ),
    "location": (
        "add Recruitee's egress IP ranges (ask Recruitee for them) as a named location and "
        "exclude it from this policy only: your users' sign-ins from those addresses then skip "
        "this policy. Do not mark that location trusted: a trusted location counts in every "
        "policy that uses trusted locations and lowers Identity Protection's sign-in risk for "
        f"those addresses. Or {_EXCLUDE_PEOPLE}."
    ),
    "device": (
        f"{_EXCLUDE_PEOPLE}, or require MFA instead of the device or app control (that weakens "
        "the policy for everyone it covers; refreshes then meet it through the MFA claim of "
        "the sign-in they came from)."
    ),
    "sign_in_frequency": (
        f"nothing to change for background sync. {mechanism('sign_in_frequency')}"
    ),
}
"""What helps for each kind of policy effect, with what else it changes (tenant-wide)."""

# Compiled (and cached by re) on first use, by an audit that weighs a blocking policy.
_EMERGENCY_NAME = r"\b(emergency|lock[- ]?down|incident|breach|compromised?|kill[- ]?switch)\b"


def emergency_policy(policy: ConditionalAccessPolicy) -> str | None:
    """Why ``policy`` looks like an emergency or lockdown policy, or ``None``.

    Such a policy is switched on to stop sign-ins during an incident; loosening it for one
    app defeats it, so no fix suggests that. Recognised by what it does or what its owner
    called it, because Entra has no flag for it:
    - a block of every user on every resource under every condition (``includeUsers`` All,
      ``includeApplications`` All, grant control ``block``, and no location, platform, device,
      client app, authentication flow or risk condition narrowing it): nothing but an incident
      justifies that, and Microsoft's guidance is to exclude only emergency access accounts
      from it (entra-docs security-emergency-access.md). A block limited by a condition (for
      example outside trusted locations) is an ordinary policy;
    - a display name that says so: emergency, lockdown, incident, breach, compromise(d),
      kill switch (whatever its controls).
    """
    name = policy.display_name or ""
    found = re.search(_EMERGENCY_NAME, name, re.IGNORECASE)
    if found:
        return f"its name says '{found.group(0)}'"
    users = policy.conditions.users
    apps = policy.conditions.applications
    grant = policy.grant_controls
    blocks = grant is not None and "block" in {c.casefold() for c in grant.built_in_controls}
    everyone = users is not None and "all" in {u.casefold() for u in users.include_users}
    everything = apps is not None and "all" in {a.casefold() for a in apps.include_applications}
    if blocks and everyone and everything and not _narrowed(policy):
        return "it blocks every user on every resource"
    return None


def _narrowed(policy: ConditionalAccessPolicy) -> bool:
    """A condition limits when the policy applies (so it is not a block of everything)."""
    c = policy.conditions
    locations = c.locations
    if locations is not None and (
        locations.exclude_locations
        or {loc.casefold() for loc in locations.include_locations} - {"all"}
    ):
        return True
    client_types = {t.casefold() for t in c.client_app_types} - {"all"}
    risks = c.sign_in_risk_levels or c.user_risk_levels or c.service_principal_risk_levels
    return bool(
        client_types
        or risks
        or c.insider_risk_levels
        or c.platforms is not None
        or c.devices is not None
        or c.authentication_flows is not None
    )


def ca_change(policy: ConditionalAccessPolicy, kind: str) -> list[RemediationStep]:
    """What to do about a Conditional Access policy's effect on Recruitee: never "exclude
    Recruitee" (CA is enforced on the resource), every option's tenant-wide effect stated,
    and nothing loosened on an emergency or lockdown policy (:func:`emergency_policy`).
    ``kind`` is a key of :data:`CA_CHANGES`; any other text is a step that leaves the policy
    as it is (check a condition, reconnect with MFA) and is used as written."""
    name = policy.display_name or policy.id
    if kind not in CA_CHANGES:
        return conditional_access(name, kind)  # changes nothing in the policy (check, reconnect)
    lockdown = emergency_policy(policy) if kind != "sign_in_frequency" else None
    if lockdown is not None:
        change = (
            f"it looks like an emergency or lockdown policy ({lockdown}): do not loosen it for "
            "Recruitee. Sync resumes when its owner turns it off after the incident; people "
            "whose refreshes failed meanwhile reconnect Recruitee then."
        )
    elif kind == "sign_in_frequency":
        change = CA_CHANGES[kind]
    else:
        change = (
            f"{mechanism('resource_enforcement')} Each option is tenant-wide, so agree it with "
            f"the policy's owner: {CA_CHANGES[kind]}"
        )
    return conditional_access(name, change)


def grant_reader_role(permission: str | None) -> list[RemediationStep]:
    needed = f" (Graph permission: {permission})" if permission else ""
    return [
        RemediationStep(
            action=(
                "Run the audit as a user with the Global Reader role, with the read "
                f"permissions consented{needed}, then audit again."
            ),
            portal_path=GLOBAL_READER,
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
            portal_path=f"{ADMIN_CENTER} > Users > All users",
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
            portal_path=f"{MONITORING} > Sign-in logs (filter: Application)",
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


def revoked_consent(
    by: str | None, when: str, activity: str, audit_id: str | None
) -> list[RemediationStep]:
    """Ask why before consenting again: a removal may be deliberate (an incident response,
    someone leaving), and consent granted again undoes it. The audit log entry read names
    who and when (entra-docs reference-audit-activities.md); deleting a grant stops new
    tokens (Graph oauth2permissiongrant-delete.md, the revocation mechanism)."""
    entry = f"'{activity}' on {when}" + (f", audit log entry {audit_id}" if audit_id else "")
    ask = (
        f"ask {by} (who removed it, per the audit log: {entry}) why"
        if by
        else f"find out who removed it and why (the audit log entry names nobody: {entry})"
    )
    return [
        RemediationStep(
            action=(
                f"{mechanism('revocation')} A removal may be deliberate (an incident response, "
                f"someone leaving), so before anyone consents again, {ask}, and agree on the "
                f"fix ({AUDIT_WINDOW}); only then add the scopes to the admin grant again, or "
                "ask the people who sync to reconnect Recruitee and accept."
            ),
            portal_path=(
                f"{MONITORING} > Audit logs (filter: Activity 'Remove delegated permission grant')"
            ),
            url="https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities",
        )
    ]


def sign_in_failures(codes: list[tuple[str, str | None]]) -> list[RemediationStep]:
    """One step per error code, with the code's own fix (entra-docs reference-error-codes)."""
    steps = [
        RemediationStep(
            action=f"{code}: {fix or 'look the code up and fix its cause'}",
            portal_path=f"{MONITORING} > Sign-in logs",
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
    permission: str, status: str, rerun: str, *, licence: bool = False, app_only: bool = False
) -> list[RemediationStep]:
    """What to grant (or license) so the part can be read, and the command to run again;
    ``app_only``: the run signed in as an app, which reads with its application permissions
    (``permission`` then names them, live/collector.py), not as a person with a role."""
    if licence:
        action = (
            "This part needs Microsoft Entra ID P1 or P2 in the tenant; without it, nothing "
            f"to grant. With the licence, run `{rerun}` again."
        )
        path = f"{ADMIN_CENTER} > Billing > Licenses"
    elif status == "forbidden" and app_only:
        grant = grant_the_app(permission)
        action = f"{grant[0].upper()}{grant[1:]}, then run `{rerun}` again."
        path = APP_PERMISSIONS
    elif status == "forbidden":
        action = (
            f"Give the auditor the Global Reader role and consent to {permission} for the "
            f"sign-in app, then run `{rerun}` again."
        )
        path = GLOBAL_READER
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


def data_partial(permission: str, rerun: str, *, app_only: bool = False) -> list[RemediationStep]:
    """Items Graph sent that could not be read, or a refused beta read: look them up, audit
    again with the permission (an app-only run: the app's application permission, no role),
    and hand the snapshot to support if they stay unreadable."""
    needs = (
        grant_the_app(permission)
        if app_only
        else f"make sure the auditor has {permission} (and the Global Reader role)"
    )
    return [
        RemediationStep(
            action=(
                "Look the named items up in the Entra admin center (they may be half-deleted "
                f"or malformed); {needs}, then run `{rerun}` again. If an item stays "
                "unreadable, send the snapshot (`consent-audit snapshot --output FILE`) to "
                "support."
            ),
            portal_path=APP_PERMISSIONS if app_only else GLOBAL_READER,
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
            portal_path=app_path(app, "Permissions"),
            url="https://learn.microsoft.com/entra/identity/enterprise-apps/manage-application-permissions",
        )
    ]
