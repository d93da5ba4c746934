"""The audit's one fix plan: every change any output shows, once, in causal-chain order.

Why one plan: ``PATCH /oauth2PermissionGrants/{id}`` with ``scope`` *replaces* the whole scope
string, and a second ``POST`` of a grant for the same client, resource and principal fails with
409 (microsoft-graph-docs-contrib api-reference/v1.0/api/oauth2permissiongrant-update.md and
oauth2permissiongrant-post.md). Requests built per finding from the same starting grant undo
each other when applied in order. So the plan holds one request per grant with the union of
every scope the findings need, and the findings point at its steps instead of carrying their
own requests.

Changes consent-audit can make through Graph, with the least write permission each needs (and
the least-privileged role, report.LEAST_PRIVILEGED_ROLE):
- a service principal disabled in this tenant: PATCH /servicePrincipals/{id}
  ``accountEnabled``; Application.ReadWrite.All (serviceprincipal-update.md). Never for an app
  Microsoft disabled (``disabledByMicrosoftStatus``): no tenant setting undoes that, and
  nothing is granted to or assigned on such an app either; it is suspect until its vendor
  explains (APP_DISABLED_BY_MICROSOFT);
- missing admin consent: add the scopes to the ``AllPrincipals`` grant (PATCH, existing
  scopes kept) or create it (POST); DelegatedPermissionGrant.ReadWrite.All. This is not the
  admin center's "Grant admin consent", which may revoke permissions already granted
  tenant-wide and opens the app to every user unless assignment is required
  (grant-admin-consent.md): the step says so. When it adds Mail.ReadWrite or Mail.Send and the
  app does not require assignment, a manual step comes first: limit who can use the app
  (assign the people who sync, then require assignment), then consent for everyone;
- a user not assigned: POST /servicePrincipals/{id}/appRoleAssignedTo with the default role
  ``00000000-0000-0000-0000-000000000000``; AppRoleAssignment.ReadWrite.All
  (serviceprincipal-post-approleassignedto.md).

Tenant-wide security decisions (user consent settings, the admin consent workflow, Conditional
Access) are manual steps: the admin-center path and the trade-off, never a one-line request.
``PATCH /policies/authorizationPolicy`` in particular replaces the whole
``permissionGrantPoliciesAssigned`` array, team and chat entries included
(authorizationpolicy-update.md).

Order: the link of the causal chain a step repairs (user, app, consent, assignment,
Conditional Access, session), then severity: what unblocks sync first comes first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from consent_audit.commands import IdKind, UnsafeValueError, graph_path, powershell_line
from consent_audit.evaluate.audit_logs import CONSENT_MISSING
from consent_audit.evaluate.context import AuditContext
from consent_audit.evaluate.remediation import ENTERPRISE_APPS, app_path
from consent_audit.evaluate.verdicts import CHAIN
from consent_audit.graph_objects import ServicePrincipal
from consent_audit.report import Finding, PlanStep, RemediationStep, Severity
from consent_audit.scopes import ScopeSet, parse_scope_string
from consent_audit.snapshot import RecruiteeApp

DEFAULT_APP_ROLE = "00000000-0000-0000-0000-000000000000"
GRANT_WRITE = "DelegatedPermissionGrant.ReadWrite.All"
APP_WRITE = "Application.ReadWrite.All"
ASSIGN_WRITE = "AppRoleAssignment.ReadWrite.All"
FIXABLE = frozenset({"SCOPE_MISSING", "APP_DISABLED", "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED"})
# Findings that exist only because admin consent is missing: the admin grant resolves them
# (their severity drops once it exists), and loosening the tenant's policy is the alternative.
RESOLVED_BY_ADMIN_CONSENT = frozenset(
    {
        "USER_CONSENT_DISABLED",
        "USER_CONSENT_RESTRICTED",
        "ADMIN_CONSENT_WORKFLOW_DISABLED",
        "ADMIN_CONSENT_NO_REVIEWERS",
        "ADMIN_CONSENT_REQUEST_PENDING",
    }
)
_LINK_OF = {code: n for n, (_, _, codes) in enumerate(CHAIN) for code in codes}
_LINK_OF["APP_DUPLICATE"] = _LINK_OF["APP_DISABLED"]
_AFTER_CHAIN = len(CHAIN)

TRADE_OFF = {
    "USER_CONSENT": (
        "Tenant-wide: allowing user consent lets every user grant these permissions to any app "
        "the policy covers, not only Recruitee. Admin consent for Recruitee alone is the "
        "narrower change. The setting is a list of policies (team and chat consent entries "
        "included): change it in the admin center, which keeps the other entries."
    ),
    "ADMIN_CONSENT_WORKFLOW": (
        "Tenant-wide: users who cannot consent can then ask instead of being stopped; the "
        "reviewers you choose receive every request and must answer them."
    ),
    "CONDITIONAL_ACCESS": (
        "Tenant-wide: any change to a Conditional Access policy applies to every user and app "
        "it covers, not only to Recruitee (excluding Recruitee itself changes nothing for its "
        "access to Exchange Online or the directory). Agree it with the policy's owner; never "
        "loosen an emergency or lockdown policy for Recruitee."
    ),
    "ASSIGNMENT": "Setting 'Assignment required?' to No lets every user in the tenant use it.",
}
_MANUAL_TRADE_OFF = {
    "USER_CONSENT_DISABLED": "USER_CONSENT",
    "USER_CONSENT_RESTRICTED": "USER_CONSENT",
    "ADMIN_CONSENT_WORKFLOW_DISABLED": "ADMIN_CONSENT_WORKFLOW",
    "ADMIN_CONSENT_NO_REVIEWERS": "ADMIN_CONSENT_WORKFLOW",
    "CA_POLICY_BLOCKS": "CONDITIONAL_ACCESS",
    "CA_POLICY_REQUIRES": "CONDITIONAL_ACCESS",
    "CA_POLICY_SIGNIN_FREQUENCY": "CONDITIONAL_ACCESS",
    "ASSIGNMENT_REQUIRED": "ASSIGNMENT",
}
_MANUAL_SUMMARY = {
    "USER_NOT_FOUND": "Check the user's sign-in name, or create the account",
    "USER_DISABLED": "Enable the user's account if it should sync",
    "APP_NOT_FOUND": "Have an administrator connect Recruitee and consent for everyone",
    "APP_DUPLICATE": "Ask Recruitee which application is in use; remove the leftover one",
    "APP_LOOKALIKE": "Grant nothing to the app only named like Recruitee; find who registered it",
    "APP_DISABLED_BY_MICROSOFT": "Contact Recruitee: Microsoft disabled its application; "
    "treat it as suspect",
    "USER_CONSENT_DISABLED": "Decide whether users may consent to apps (tenant-wide)",
    "USER_CONSENT_RESTRICTED": "Decide whether users may consent to Recruitee's scopes",
    "ADMIN_CONSENT_WORKFLOW_DISABLED": "Turn on admin consent requests so users can ask",
    "ADMIN_CONSENT_NO_REVIEWERS": "Choose reviewers for admin consent requests",
    "ADMIN_CONSENT_REQUEST_PENDING": "Approve or deny the waiting admin consent request",
    "ASSIGNMENT_REQUIRED": "Assign the users who sync to Recruitee",
    "CA_UNREADABLE": "Audit again as Global Reader to read Conditional Access",
    "DATA_PARTIAL": "Audit again as Global Reader; look up any item Graph sent unreadable",
    "GRANT_REVOKED": "Before consenting again, find out who removed Recruitee's consent and why",
    "SIGNIN_FAILURES": "Look up the failed Recruitee sign-ins in the sign-in log",
}


_UNAVAILABLE_SUMMARY = {
    "forbidden": "Audit again as Global Reader to read what was missing",
    "not_licensed": "Check the Entra ID P1/P2 licence for what was missing",
    "incomplete": "Check in the admin center what Graph's answer left open",
}
"""DATA_UNAVAILABLE's plan step by why the part is missing: a stronger role helps only when
the auditor lacked permission."""
_UNAVAILABLE_OTHER = "Audit again later to read what Graph did not return"
_APP_ONLY_SUMMARY = {
    "CA_UNREADABLE": "Grant the app the application permission it lacks to read Conditional Access",
    "DATA_PARTIAL": "Grant the app the application permission it lacks; look up any item "
    "Graph sent unreadable",
    "forbidden": "Grant the app the application permission it lacks to read what was missing",
}
"""The steps above for a snapshot an app collected (app-only sign-in): an app reads with its
Microsoft Graph application permissions and has no directory role (docs/permissions.md)."""


def chain_position(code: str) -> int:
    """Where a finding code sits on the causal chain; codes off the chain come last."""
    return _LINK_OF.get(code, _AFTER_CHAIN)


def tenant_name(ctx: AuditContext) -> str:
    """How the admin center names the tenant on its buttons ('Grant admin consent for X')."""
    t = ctx.snapshot.tenant
    return t.display_name or t.default_domain or t.id


@dataclass
class _Draft:
    """A step before numbering: what it repairs decides its place in the plan."""

    step: PlanStep
    position: int
    rank: int
    findings: list[Finding] = field(default_factory=list)
    first: bool = False
    """Taken before the other steps at its position (limit who can use the app, then consent)."""
    confirm: bool = False
    """Confirm the app is Recruitee's: stands in for the changes a name alone does not allow."""
    tier: int = 0
    """Among the steps taken first at one position: why consent was removed (0), then the
    person's own consent (1), then limiting who can use the app before the grant (2)."""
    instead_of: _Draft | None = None
    """The narrower step this one is the alternative to (numbered in build_plan)."""


def build_plan(ctx: AuditContext, findings: list[Finding]) -> tuple[list[PlanStep], list[Finding]]:
    """The plan for ``findings``, and the findings with remediations pointing at its steps."""
    drafts = _graph_drafts(ctx, findings)
    consent_fixed = {
        feature
        for d in drafts
        if "SCOPE_MISSING" in d.step.finding_ids and not d.confirm
        for feature in d.step.features
    }
    covered = {id(f) for d in drafts for f in d.findings}
    resolved: dict[int, _Draft] = {}
    manual: dict[tuple[str, ...], _Draft] = {}
    leftovers = {a.service_principal.id for a in ctx.apps if ctx.is_leftover(a)}
    suspect = {a.service_principal.id for a in ctx.apps if microsoft_disabled(a.service_principal)}
    for f in findings:
        if id(f) in covered or f.severity.rank < Severity.WARNING.rank:
            continue
        if f.app_object_id in leftovers and f.id != "APP_DUPLICATE":
            continue  # a leftover is deleted (APP_DUPLICATE's step), not repaired
        if f.app_object_id in suspect and f.id != "APP_DISABLED_BY_MICROSOFT":
            continue  # nothing is granted to an app Microsoft disabled: ask its vendor first
        grant = _resolving_grant(f, drafts, consent_fixed)
        if grant is not None:
            resolved[id(f)] = grant
            continue
        key = _manual_key(f)
        draft = manual.get(key)
        if draft is None:
            draft = manual[key] = _manual_draft(ctx, f, findings)
        draft.findings.append(f)
        draft.rank = max(draft.rank, f.severity.rank)
    ordered = sorted(
        [*drafts, *manual.values()],
        key=lambda d: (d.position, not d.first, d.tier, -d.rank, d.step.kind != "graph"),
    )
    steps: list[PlanStep] = []
    number_of: dict[int, int] = {}
    numbered = {id(d): n for n, d in enumerate(ordered, 1)}
    for n, draft in enumerate(ordered, 1):
        ids = list(dict.fromkeys(f.id for f in draft.findings)) or draft.step.finding_ids
        features = _features(draft.findings) or draft.step.features
        update: dict[str, object] = {"number": n, "finding_ids": ids, "features": features}
        if draft.instead_of is not None:
            other = numbered[id(draft.instead_of)]
            summary = draft.step.summary
            update |= {
                "instead_of": other,
                "summary": f"Instead of step {other}: {summary[:1].lower()}{summary[1:]}",
            }
        if draft.step.method is not None:
            update |= _request_context(ctx, draft.step)
        steps.append(draft.step.model_copy(update=update))
        for f in draft.findings:
            number_of[id(f)] = n
    by_number = {s.number: s for s in steps}
    confirm = {n for n, draft in enumerate(ordered, 1) if draft.confirm}
    out: list[Finding] = []
    for f in findings:
        if id(f) in number_of:
            step = by_number[number_of[id(f)]]
            held = step.number in confirm and f.id != "APP_DUPLICATE"
            refer = _confirm_first(f, step) if held else _refer(f, step)
            out.append(f.model_copy(update={"remediation": refer}))
        elif id(f) in resolved:
            step = by_number[number_of[id(resolved[id(f)].findings[0])]]
            out.append(f.model_copy(update={"remediation": _resolved_by(f, step)}))
        else:
            out.append(f)
    return steps, out


CONNECT_SCOPES = {
    GRANT_WRITE: [GRANT_WRITE],
    APP_WRITE: [APP_WRITE],
    ASSIGN_WRITE: [ASSIGN_WRITE, "Application.Read.All"],
}
"""Least-privileged delegated permissions per write, from each API page's permissions table
(microsoft-graph-docs-contrib api-reference/v1.0/api/): oauth2permissiongrant-post.md and
-update.md (DelegatedPermissionGrant.ReadWrite.All), serviceprincipal-update.md
(Application.ReadWrite.All), serviceprincipal-post-approleassignedto.md
(AppRoleAssignment.ReadWrite.All *and* Application.Read.All)."""


def _request_context(ctx: AuditContext, step: PlanStep) -> dict[str, object]:
    """What ``Connect-MgGraph`` must ask for, and a name beside each id the request carries,
    so a pasted request is not a row of GUIDs."""
    known: dict[str, str] = {}
    for app in ctx.apps:
        sp = app.service_principal
        label = f"{sp.display_name or 'Recruitee'} (appId {sp.app_id})"
        known[sp.id] = label
        for grant in ctx.graph_grants(app):
            if (grant.consent_type or "").casefold() == "allprincipals":
                known[grant.id] = f"admin consent of {label} to Microsoft Graph"
    if ctx.graph_sp is not None:
        known[ctx.graph_sp.id] = "Microsoft Graph"
    if ctx.user is not None and ctx.user.user_principal_name:
        known[ctx.user.id] = ctx.user.user_principal_name
    text = f"{step.path} {step.body}".casefold()
    return {
        "scopes": CONNECT_SCOPES.get(step.permission or "", []),
        "names": {i: name for i, name in known.items() if i.casefold() in text},
    }


# Graph changes -----------------------------------------------------------------------------


def _graph_drafts(ctx: AuditContext, findings: list[Finding]) -> list[_Draft]:
    drafts: list[_Draft] = []
    if ctx.app_in_use.chosen_by == "undecided":
        held = _undecided_draft(ctx, findings)
        return [held] if held is not None else []
    for app in ctx.apps:
        if ctx.is_leftover(app):
            continue  # never enable or grant to a leftover: APP_DUPLICATE says to delete it
        sp = app.service_principal
        if microsoft_disabled(sp):
            continue  # no tenant change enables it; nothing is granted to a suspect app
        mine = [f for f in findings if f.app_object_id == sp.id and f.id in FIXABLE]
        if not ctx.may_change(sp):
            if mine:
                drafts.append(_confirm_draft(ctx, sp, mine))
            continue  # only its name says it is Recruitee's: no grant, no enable, no assignment
        disabled = [f for f in mine if f.id == "APP_DISABLED"]
        if disabled:
            drafts.append(_draft(_enable_step(ctx, sp), disabled))
        missing = [f for f in mine if f.id == "SCOPE_MISSING"]
        if missing and ctx.graph_sp is not None:
            wanted = set(_features(missing))
            planned = _grant_step(ctx, app, [n for n in ctx.feature_names if n in wanted])
            if planned is not None:
                step, added = planned
                person = _own_consent_draft(ctx, sp, missing)
                if person is not None:
                    drafts.append(person)
                    step = step.model_copy(update={"trade_off": _tenant_wide(ctx, added)})
                limit = _limit_users_step(ctx, sp, step, added)
                if limit is not None:
                    drafts.append(
                        _Draft(
                            limit,
                            chain_position("SCOPE_MISSING"),
                            0,
                            first=True,
                            tier=2,
                            instead_of=person,
                        )
                    )
                grant = _draft(step, missing)
                grant.instead_of = person
                drafts.append(grant)
        unassigned = [f for f in mine if f.id == "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED"]
        if unassigned and ctx.user is not None:
            drafts.append(_draft(_assign_step(ctx, sp), unassigned))
    return drafts


def _own_consent_draft(
    ctx: AuditContext, sp: ServicePrincipal, missing: list[Finding]
) -> _Draft | None:
    """With --user: when that person may consent to every scope they lack, their own consent
    is the narrowest fix, and comes first; the tenant-wide grant is its alternative.

    A person who consents for themselves gets a delegated permission grant "on behalf of the
    user" only (entra-docs grant-consent-single-user.md); admin consent gives the app "the
    permissions requested on behalf of the whole organization" (grant-admin-consent.md).
    "May consent" is the consent rule's answer for each missing scope (coverage.py: the
    tenant's user consent policy, assignment required means never); Recruitee cannot show
    the prompt itself, so the person connects Recruitee (consent-types-developer.md: asked
    only for the scopes not yet granted). Risk-based step-up consent can still turn the
    prompt into a request for approval: said, and the grant stays the alternative."""
    user = ctx.user
    if user is None or not missing:
        return None
    answers = [a for f in missing for a in f.evidence.get("user_consent") or []]
    if not answers or not all(isinstance(a, dict) and a.get("allowed") is True for a in answers):
        return None
    scopes = list(dict.fromkeys(str(s) for f in missing for s in f.evidence["missing_scopes"]))
    features = [n for n in ctx.feature_names if n in _features(missing)]
    step_up = any("step-up" in str(a.get("reason")) for a in answers)
    who = user.user_principal_name
    caveat = (
        " Microsoft's risk-based step-up consent may still turn the prompt into a request for "
        "an administrator's approval (Recruitee has no verified publisher)."
        if step_up
        else ""
    )
    step = PlanStep(
        number=0,
        kind="manual",
        summary=f"Ask {who} to connect Recruitee and accept: their own consent, for them alone",
        finding_ids=["SCOPE_MISSING"],
        features=features,
        app_object_id=sp.id,
        detail=(
            f"The tenant's user consent settings let {who} consent to {', '.join(scopes)} "
            f"themselves: when they connect {_feature_words(features)} in Recruitee and accept "
            "Microsoft's consent prompt, Entra grants these permissions on their behalf only, "
            "and sync works from then on. Nothing changes for anyone else." + caveat + " If "
            "the prompt asks for an administrator's approval instead, take the steps that "
            "follow, which consent for everyone."
        ),
    )
    return _Draft(step, chain_position("SCOPE_MISSING"), 0, first=True, tier=1)


def _tenant_wide(ctx: AuditContext, added: list[str]) -> str:
    """The grant's effect beyond the audited person, when their own consent would do."""
    who = ctx.user.user_principal_name if ctx.user else "the person audited"
    return (
        f"Tenant-wide: everyone who uses Recruitee gets {', '.join(added)}, not only {who}, "
        "whose own consent is enough for them."
    )


def _draft(step: PlanStep, findings: list[Finding]) -> _Draft:
    return _Draft(
        step=step,
        position=min(chain_position(f.id) for f in findings),
        rank=max(f.severity.rank for f in findings),
        findings=list(findings),
    )


def _confirm_draft(ctx: AuditContext, sp: ServicePrincipal, findings: list[Finding]) -> _Draft:
    """The changes an app known only by its name would need (``unconfirmed``: Graph did not
    report its owner tenant or sign-in audience), held back behind one manual step: confirm
    its appId with Recruitee, then name it. "Never grant to it on name alone"
    (entra-behaviour.md, "Remediation that does not make things worse")."""
    from consent_audit.graph_ids import problem

    named = (
        f"plan again with --app-id {sp.app_id}"
        if problem(IdKind.APP_ID, sp.app_id) is None
        else "plan again with --app-id and the appId Recruitee gives you"
    )
    step = PlanStep(
        number=0,
        kind="manual",
        summary=f"Confirm with Recruitee that {sp.display_name or 'the application'} (appId "
        f"{sp.app_id}) is its application",
        finding_ids=list(dict.fromkeys(f.id for f in findings)),
        features=_features(findings),
        app_object_id=sp.id,
        portal_path=app_path(sp, "Properties"),
        detail=(
            "Only its name says this application is Recruitee's: "
            f"{ctx.identity(sp).reason}. consent-audit grants nothing to it, enables nothing "
            f"and assigns nobody on it until its appId is named: if Recruitee confirms appId "
            f"{sp.app_id}, {named} (or add it to the manifest's known_app_ids)."
        ),
    )
    draft = _draft(step, findings)
    draft.confirm = True
    return draft


UNDECIDED_SUMMARY = "Ask Recruitee which application is in use, then re-run with --app-id <appId>"


def _undecided_draft(ctx: AuditContext, findings: list[Finding]) -> _Draft | None:
    """Several Recruitee applications and nothing shows which one Recruitee uses: a grant,
    enable or assignment could land on the leftover (tenant-wide Mail.ReadWrite/Mail.Send to
    an app nobody uses), so every such change is held behind asking Recruitee, as for an app
    only its name vouches for (``_confirm_draft``)."""
    suspect = {a.service_principal.id for a in ctx.apps if microsoft_disabled(a.service_principal)}
    ids = {a.service_principal.id for a in ctx.apps} - suspect
    held = [f for f in findings if f.id in FIXABLE and f.app_object_id in ids]
    if not held:
        return None
    duplicate = [f for f in findings if f.id == "APP_DUPLICATE" and f.app_object_id is None]
    first = duplicate[0].remediation[0] if duplicate and duplicate[0].remediation else None
    ask = f"{first.action} " if first is not None else ""
    step = PlanStep(
        number=0,
        kind="manual",
        summary=UNDECIDED_SUMMARY,
        finding_ids=list(dict.fromkeys(f.id for f in [*duplicate, *held])),
        features=_features(held),
        portal_path=first.portal_path if first is not None else None,
        detail=(
            f"{ask}{len(ctx.apps)} Recruitee enterprise applications match and nothing shows "
            "which one Recruitee uses: consent-audit grants nothing, enables nothing and "
            "assigns nobody on any of them until --app-id names the one in use."
        ),
    )
    draft = _draft(step, [*duplicate, *held])
    draft.confirm = True
    return draft


def _features(findings: Iterable[Finding]) -> list[str]:
    return list(dict.fromkeys(name for f in findings for name in f.features))


def microsoft_disabled(sp: ServicePrincipal) -> bool:
    """Microsoft disabled the application (serviceprincipal.md ``disabledByMicrosoftStatus``)."""
    status = sp.disabled_by_microsoft_status
    return bool(status) and (status or "").casefold() != "notdisabled"


MAIL_SCOPES = ("mail.readwrite", "mail.send")
"""Consent to these lets the app read, change and send every connecting person's mail."""


def _limit_users_step(
    ctx: AuditContext, sp: ServicePrincipal, grant: PlanStep, added: list[str]
) -> PlanStep | None:
    """Before admin consent to Mail.ReadWrite / Mail.Send for everyone: limit who can use the
    app. "By default, granting tenant-wide admin consent to an application allows all users to
    access the application unless otherwise restricted ... configure the app to require user
    assignment and then assign users or groups" (grant-admin-consent.md). Assign first, then
    require assignment: people not assigned can no longer sign in to it."""
    mail = [s for s in added if s.casefold() in MAIL_SCOPES]
    if not mail or sp.app_role_assignment_required is True:
        return None
    return PlanStep(
        number=0,
        kind="manual",
        summary=f"Limit who can use {ctx.app_label(sp)} before consenting for everyone to "
        f"{' and '.join(mail)}",
        finding_ids=["SCOPE_MISSING"],
        features=grant.features,
        app_object_id=sp.id,
        portal_path=app_path(sp, "Users and groups > Add user/group"),
        detail=(
            f"Admin consent to {' and '.join(mail)} lets Recruitee read, change and send the "
            "mail of everyone who connects it. First assign the people who sync (users, or "
            "groups they are direct members of: nested groups do not count), then set "
            "'Assignment required?' to Yes under Properties: only they can then use "
            "Recruitee. Then take the admin consent step."
        ),
        trade_off=(
            "People not assigned can no longer sign in to Recruitee, including anyone who syncs "
            "today through their own consent: assign all of them first."
        ),
    )


def _enable_step(ctx: AuditContext, sp: ServicePrincipal) -> PlanStep:
    common = {
        "number": 0,
        "summary": f"Enable {ctx.app_label(sp)} for sign-in",
        "finding_ids": ["APP_DISABLED"],
        "app_object_id": sp.id,
        "portal_path": app_path(sp, "Properties > Enabled for users to sign-in? = Yes > Save"),
        "permission": APP_WRITE,
    }
    try:
        request = {
            "method": "PATCH",
            "path": graph_path("/servicePrincipals/{sp}", sp=(IdKind.OBJECT_ID, sp.id)),
            "body": {"accountEnabled": True},
            "powershell": powershell_line(
                "Update-MgServicePrincipal",
                [("ServicePrincipalId", IdKind.OBJECT_ID, sp.id)],
                "-AccountEnabled:$true",
            ),
        }
    except UnsafeValueError as error:
        return _unsendable(common, error)
    return PlanStep.model_validate({**common, "kind": "graph", **request})


def _unsendable(common: dict[str, object], error: UnsafeValueError) -> PlanStep:
    """A Graph change whose request would carry a value of the wrong kind (an id that is not
    a GUID, a scope that is not a permission name): never printed, never sent. The step stays
    in the plan as a manual one that says why (commands.py)."""
    why = (
        f"consent-audit shows no request or command for this change: a {error.kind.value} "
        f"in the tenant's data is {error.reason}. Make the change in the admin center, and "
        "check that object there."
    )
    detail = common.get("detail")
    return PlanStep.model_validate(
        {**common, "kind": "manual", "detail": f"{why} {detail}" if detail else why}
    )


def _grant_step(
    ctx: AuditContext, app: RecruiteeApp, features: list[str]
) -> tuple[PlanStep, list[str]] | None:
    """One request for the app's admin grant, carrying every scope any feature lacks; and the
    scopes it adds."""
    sp, graph = app.service_principal, ctx.graph_sp
    assert graph is not None
    missing = ScopeSet()
    for feature in ctx.manifest.features:
        if feature.name in features:
            missing = missing.union(ctx.missing_admin(app, feature))
    wanted = ctx.canonical(missing)
    if not wanted:
        return None
    existing = next(
        (g for g in ctx.graph_grants(app) if (g.consent_type or "").casefold() == "allprincipals"),
        None,
    )
    common: dict[str, object] = {
        "number": 0,
        "kind": "graph",
        "summary": f"Grant admin consent (for everyone) to {ctx.app_label(sp)} for "
        f"{_feature_words(features)}",
        "finding_ids": ["SCOPE_MISSING"],
        "features": features,
        "app_object_id": sp.id,
        # The Permissions page to review what is granted; its "Grant admin consent for
        # <tenant>" button is a different change (the detail says how), so it is not offered
        # as this request's admin-center equivalent.
        "portal_path": app_path(sp, "Permissions"),
        "permission": GRANT_WRITE,
        "detail": f"Adds {', '.join(wanted)} and keeps what is already granted. Review the "
        "permissions with your security officer first: admin consent applies to every user. "
        f"The admin center's 'Grant admin consent for {tenant_name(ctx)}' button on that page is "
        "not the same change: it may revoke "
        "permissions already granted tenant-wide, and opens the app to every user unless "
        "assignment is required.",
    }
    try:
        if existing is not None:
            held = parse_scope_string(existing.scope)
            scope = " ".join([*held, *[s for s in wanted if s not in ScopeSet(held)]])
            request = {
                "method": "PATCH",
                "path": graph_path(
                    "/oauth2PermissionGrants/{grant}", grant=(IdKind.GRANT_ID, existing.id)
                ),
                "body": {"scope": scope},
                "powershell": powershell_line(
                    "Update-MgOauth2PermissionGrant",
                    [
                        ("OAuth2PermissionGrantId", IdKind.GRANT_ID, existing.id),
                        ("Scope", IdKind.SCOPES, scope),
                    ],
                ),
            }
        else:
            scope = " ".join(wanted)
            request = {
                "method": "POST",
                "path": "/oauth2PermissionGrants",
                "body": {
                    "clientId": sp.id,
                    "consentType": "AllPrincipals",
                    "resourceId": graph.id,
                    "scope": scope,
                },
                "powershell": powershell_line(
                    "New-MgOauth2PermissionGrant",
                    [
                        ("ClientId", IdKind.OBJECT_ID, sp.id),
                        ("ResourceId", IdKind.OBJECT_ID, graph.id),
                        ("Scope", IdKind.SCOPES, scope),
                    ],
                    "-ConsentType 'AllPrincipals'",
                ),
            }
    except UnsafeValueError as error:
        # No request can be shown: the admin center's button is then the way, with the
        # detail's warning of what else it changes.
        button = app_path(sp, f"Permissions > Grant admin consent for {tenant_name(ctx)}")
        return _unsendable({**common, "portal_path": button}, error), list(wanted)
    return PlanStep.model_validate({**common, **request}), list(wanted)


def _assign_step(ctx: AuditContext, sp: ServicePrincipal) -> PlanStep:
    user = ctx.user
    assert user is not None
    common = {
        "number": 0,
        "summary": f"Assign {user.user_principal_name} to {ctx.app_label(sp)}",
        "finding_ids": ["ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED"],
        "app_object_id": sp.id,
        "portal_path": app_path(sp, "Users and groups > Add user/group"),
        "permission": ASSIGN_WRITE,
        "detail": "Or assign a group the user is a direct member of: nested groups do not count.",
    }
    try:
        request = {
            "method": "POST",
            "path": graph_path(
                "/servicePrincipals/{sp}/appRoleAssignedTo", sp=(IdKind.OBJECT_ID, sp.id)
            ),
            "body": {"principalId": user.id, "resourceId": sp.id, "appRoleId": DEFAULT_APP_ROLE},
            "powershell": powershell_line(
                "New-MgServicePrincipalAppRoleAssignedTo",
                [
                    ("ServicePrincipalId", IdKind.OBJECT_ID, sp.id),
                    ("PrincipalId", IdKind.OBJECT_ID, user.id),
                    ("ResourceId", IdKind.OBJECT_ID, sp.id),
                    ("AppRoleId", IdKind.OBJECT_ID, DEFAULT_APP_ROLE),
                ],
            ),
        }
    except UnsafeValueError as error:
        return _unsendable(common, error)
    return PlanStep.model_validate({**common, "kind": "graph", **request})


_NAMED_FEATURES = 5


def _feature_words(features: list[str]) -> str:
    """At most a handful of names: every finding quotes its step, so a step naming all of a
    20,000-feature manifest made the report quadratic in size (issue #12)."""
    if len(features) == 1:
        return f"{features[0]} sync"
    if len(features) > _NAMED_FEATURES:
        shown = ", ".join(features[: _NAMED_FEATURES - 1])
        return f"{shown} and {len(features) - _NAMED_FEATURES + 1} more features"
    return f"{', '.join(features[:-1])} and {features[-1]} sync"


# Manual decisions --------------------------------------------------------------------------


def _resolving_grant(f: Finding, drafts: list[_Draft], consent_fixed: set[str]) -> _Draft | None:
    """The admin-grant step that makes ``f`` moot, when ``f`` only matters without it. Sign-ins
    whose latest failures are all AADSTS65001 are among them (older failures of other codes
    are history): that refresh fails "until the user reconnects or an admin consents"
    (entra-behaviour.md), and evaluate/audit_logs.py counts nobody covered by consent as
    failing, so the re-audit after the grant passes."""
    resolvable = f.id in RESOLVED_BY_ADMIN_CONSENT or (
        f.id == "SIGNIN_FAILURES"
        and f.evidence.get("failing_codes") == [f"AADSTS{CONSENT_MISSING}"]
    )
    if not resolvable or not f.features:
        return None
    if not set(f.features) <= consent_fixed:
        return None
    return next(
        (
            d
            for d in drafts
            if "SCOPE_MISSING" in d.step.finding_ids and d.findings and not d.confirm
        ),
        None,
    )


_CAUSE_OF_CODE = {
    "AADSTS70043": ("CA_POLICY_SIGNIN_FREQUENCY", "sign-in frequency"),
    "AADSTS50076": ("CA_POLICY_REQUIRES", "MFA"),
    "AADSTS50079": ("CA_POLICY_REQUIRES", "MFA registration"),
    "AADSTS53003": ("CA_POLICY_BLOCKS", "blocked by Conditional Access"),
    "AADSTS65001": ("GRANT_REVOKED", "consent missing or removed"),
}
"""The finding that names the cause of a sign-in error code, and the cause in a few words
(entra-docs reference-error-codes; the mechanism texts in data/mechanisms.toml)."""


def _sign_in_failure_summary(ctx: AuditContext, f: Finding, findings: list[Finding]) -> str:
    """The failing sign-ins' step, answered in place: the code, its cause in this tenant (the
    policy, or the revocation, another finding names) and what to do. ``explain`` stays for
    codes a person brings; the step does not send them there."""
    group = next((g for g in f.evidence["codes"] if isinstance(g, dict)), {})
    code = str(group.get("code", ""))
    users = group.get("users")
    who = (
        "the person whose sign-in failed"
        if users == 1
        else f"the {users} people whose sign-in failed"
        if isinstance(users, int)
        else "the people whose sign-in failed"
    )
    cause_code, words = _CAUSE_OF_CODE.get(code, ("", ""))
    cause = next((c for c in findings if c.id == cause_code), None)
    named = ""
    if cause is not None and cause.id.startswith("CA_POLICY_"):
        policy = _policy_name(ctx, str(cause.evidence.get("policy_id", "")))
        named = f", policy '{policy}'" if policy else ""
    elif code == "AADSTS65001":
        words = "consent removed, per the audit log" if cause is not None else "consent missing"
    what = f" ({words}{named})" if words else ""
    act = "reconnect Recruitee" + (" and complete MFA" if words.startswith("MFA") else "")
    return f"Sign-ins fail with {code}{what}: ask {who} to {act}"


def _policy_name(ctx: AuditContext, policy_id: str) -> str | None:
    for policy in ctx.snapshot.conditional_access_policies.data or []:
        if policy.id == policy_id:
            return policy.display_name or policy.id
    return None


def _manual_key(f: Finding) -> tuple[str, ...]:
    """Findings that one decision settles share a key (one CA policy across two apps)."""
    if f.id.startswith("CA_POLICY_"):
        return ("CA", str(f.evidence.get("policy_id", "")))
    if f.id in ("USER_CONSENT_DISABLED", "USER_CONSENT_RESTRICTED"):
        return ("USER_CONSENT",)
    first = f.remediation[0].action if f.remediation else f.title
    return (f.id, first)


def _manual_draft(ctx: AuditContext, f: Finding, findings: list[Finding]) -> _Draft:
    first = f.remediation[0] if f.remediation else None
    trade = _MANUAL_TRADE_OFF.get(f.id)
    if f.id.startswith("CA_POLICY_"):
        name = first.action.split("'")[1] if first and first.action.count("'") >= 2 else ""
        summary = f"Review Conditional Access policy '{name}'" if name else f.title
    elif f.id == "CA_UNREADABLE" and f.evidence.get("status") == "not_licensed":
        # Policies outlive an expired licence (entra-docs conditional-access/overview.md).
        summary = "Look at the Conditional Access policy list: policies outlive the licence"
    elif ctx.snapshot.app_only and (
        f.id == "DATA_PARTIAL" or f.evidence.get("status") == "forbidden"
    ):
        summary = _APP_ONLY_SUMMARY.get(f.id, _APP_ONLY_SUMMARY["forbidden"])
    elif f.id == "DATA_UNAVAILABLE":
        summary = _UNAVAILABLE_SUMMARY.get(str(f.evidence.get("status")), _UNAVAILABLE_OTHER)
    elif f.id == "APP_DUPLICATE" and f.app_object_id is not None:
        return _housekeeping_draft(ctx, f)
    elif f.id == "SIGNIN_FAILURES" and f.evidence.get("codes"):
        summary = _sign_in_failure_summary(ctx, f, findings)
    elif f.id == "GRANT_REVOKED" and f.evidence.get("events"):
        summary = _revoked_summary(f)
    else:
        summary = _MANUAL_SUMMARY.get(f.id, f.title)
    detail = first.action if first else f.detail
    portal_path = first.portal_path if first else None
    if f.id == "APP_DISABLED_BY_MICROSOFT":
        # Contacting Recruitee is half of it: the step carries the finding's "treat it as
        # suspect" action too (its grants and sign-ins), in the finding's own words.
        detail = " ".join(r.action for r in f.remediation) or f.detail
        portal_path = next((r.portal_path for r in f.remediation if r.portal_path), None)
    step = PlanStep(
        number=0,
        kind="manual",
        summary=summary,
        finding_ids=[f.id],
        app_object_id=f.app_object_id,
        portal_path=portal_path,
        detail=detail,
        trade_off=TRADE_OFF[trade] if trade else None,
    )
    # Why consent was removed comes before anything that consents again (the admin grant,
    # limiting who can use the app first, a person reconnecting): `fix --apply` then holds
    # the grant until the admin confirms this step (--manual-steps-done), as it does for
    # limiting who can use the app (writes_in_order).
    before = f.id == "GRANT_REVOKED"
    return _Draft(step=step, position=chain_position(f.id), rank=f.severity.rank, first=before)


def _revoked_summary(f: Finding) -> str:
    """Who removed consent and when, from the audit log entry the rule read (its latest)."""
    latest = next((e for e in f.evidence["events"] if isinstance(e, dict)), {})
    when = str(latest.get("when") or "")[:10]
    by = latest.get("by")
    if by:
        return f"Before consenting again, ask {by} why they removed Recruitee's consent ({when})"
    return f"Before consenting again, find out who removed Recruitee's consent ({when}) and why"


_SAFE_BECAUSE = {
    "known_app_id": "its appId is not one the manifest lists as Recruitee's",
    "sign_ins": "Recruitee's recent successful sign-ins all use the other one",
}


def _housekeeping_draft(ctx: AuditContext, f: Finding) -> _Draft:
    """A leftover Recruitee app: one line, last in the plan (nothing waits on it), naming the
    leftover and why deleting it is safe (how the app in use was told apart from it)."""
    leftover = next(
        (a.service_principal for a in ctx.apps if a.service_principal.id == f.app_object_id),
        None,
    )
    why = _SAFE_BECAUSE.get(str(f.evidence.get("chosen_by")))
    if why is None and leftover is not None:
        facts = []
        if leftover.account_enabled is False:
            facts.append("it is disabled, nothing signs in through it")
        app = next(a for a in ctx.apps if a.service_principal.id == leftover.id)
        if app.oauth2_permission_grants.ok and not app.oauth2_permission_grants.data:
            facts.append("it holds no permission grants")
        why = " and ".join(facts) or "Recruitee uses the other one"
    name = f"appId {leftover.app_id}" if leftover is not None else f.app_object_id
    first = f.remediation[0] if f.remediation else None
    step = PlanStep(
        number=0,
        kind="manual",
        summary=f"Housekeeping: delete leftover {name} (safe: {why})",
        finding_ids=[f.id],
        app_object_id=f.app_object_id,
        portal_path=first.portal_path if first else None,
        detail=first.action if first else f.detail,
    )
    # After every step that repairs sync: nothing waits on a leftover.
    return _Draft(step=step, position=_AFTER_CHAIN + 1, rank=f.severity.rank)


# Findings point at the plan ----------------------------------------------------------------


def _refer(f: Finding, step: PlanStep) -> list[RemediationStep]:
    """A finding's remediation as a reference to its plan step (no request of its own)."""
    if step.kind == "graph":
        ref = RemediationStep(
            action=f"Plan step {step.number}: {step.summary}.",
            portal_path=step.portal_path,
            plan_step=step.number,
        )
        # What a person does outside the admin center (reconnect Recruitee and accept) stays,
        # in the finding's order: first when that person may consent, else after the plan.
        own = [r for r in f.remediation if not (r.portal_path or r.graph or r.powershell)]
        first_is_own = bool(f.remediation) and f.remediation[0] in own
        return [*own, ref] if first_is_own else [ref, *own]
    return [r.model_copy(update={"graph": None, "plan_step": step.number}) for r in f.remediation]


def _confirm_first(f: Finding, step: PlanStep) -> list[RemediationStep]:
    """The finding's own fix, after the step that confirms the app is Recruitee's."""
    first = RemediationStep(
        action=f"First, plan step {step.number}: {step.summary}.", plan_step=step.number
    )
    later = [r.model_copy(update={"graph": None, "powershell": None}) for r in f.remediation]
    return [first, *later]


def _resolved_by(f: Finding, step: PlanStep) -> list[RemediationStep]:
    alternative = [r.model_copy(update={"graph": None, "powershell": None}) for r in f.remediation]
    return [
        RemediationStep(
            action=f"Plan step {step.number} (admin consent for everyone) resolves this.",
            plan_step=step.number,
        ),
        *alternative,
    ]


def is_housekeeping(step: PlanStep) -> bool:
    """The leftover app's step: nothing about sync waits on it."""
    return step.finding_ids == ["APP_DUPLICATE"] and step.app_object_id is not None


def graph_steps(plan: list[PlanStep]) -> list[PlanStep]:
    """The steps ``fix --apply`` sends, in plan order."""
    return [s for s in plan if s.kind == "graph"]


def manual_steps(plan: list[PlanStep]) -> list[PlanStep]:
    return [s for s in plan if s.kind == "manual"]


def manual_steps_before_writes(plan: list[PlanStep]) -> list[PlanStep]:
    """The manual steps printed before a Graph write: the ones ``fix --apply`` must see
    confirmed before it sends the writes after them. A manual step after the last write (ask
    users to reconnect, read a code's meaning) holds nothing back."""
    writes = graph_steps(plan)
    return [s for s in manual_steps(plan) if any(_holds(s, w) for w in writes)]


def _holds(manual: PlanStep, write: PlanStep) -> bool:
    """A manual step printed before a write holds it back, unless the write is the
    alternative to it (the tenant-wide grant instead of a person's own consent)."""
    return manual.number < write.number and write.instead_of != manual.number


def writes_in_order(
    plan: list[PlanStep], done: Iterable[int]
) -> tuple[list[PlanStep], PlanStep | None]:
    """The Graph writes that are safe to send, and the manual step that holds the rest back.

    Every step is safe only in the order printed (grant-admin-consent.md: consent for
    everyone "allows all users to access the application unless otherwise restricted", so
    "Limit who can use Recruitee" comes before consenting to Mail.ReadWrite / Mail.Send): a
    write is sent only when every manual step printed before it is in ``done`` (the admin
    said so). Returns the writes before the first manual step not done, and that step
    (``None`` when every write may go)."""
    confirmed = set(done)
    allowed: list[PlanStep] = []
    for step in plan:
        if step.kind == "manual":
            if step.number in confirmed:
                continue
            if any(s.kind == "graph" and _holds(step, s) for s in plan):
                return allowed, step
            continue
        allowed.append(step)
    return allowed, None


__all__ = [
    "ENTERPRISE_APPS",
    "build_plan",
    "chain_position",
    "graph_steps",
    "manual_steps",
    "manual_steps_before_writes",
    "microsoft_disabled",
    "tenant_name",
    "writes_in_order",
]
