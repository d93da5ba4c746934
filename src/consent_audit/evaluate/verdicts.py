"""Feature verdicts and causal chains, derived from findings and unknowns only.

A verdict is ``fail`` when an error finding affects the feature (for that app), ``unknown``
when no error does but a needed part was unavailable, ``warn`` when only warnings affect it,
else ``pass``. Renderers never re-derive this.

A per-app verdict reads only that app's findings and tenant-level ones. The headline verdict
of a feature is that of the app Recruitee uses (``AuditContext.app_in_use``); only when that
cannot be told does the worst app decide. The causal chain's links and the codes that belong
to each come from the finding registry (``data/findings.toml``, key ``link``). A link whose
evidence was not read is ``not_checked``, never ``pass``: the Session link without the
sign-in log (background refreshes are non-interactive sign-ins, only the log shows them:
https://learn.microsoft.com/entra/identity/monitoring-health/concept-noninteractive-sign-ins).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from consent_audit.evaluate.audit_logs import sign_in_log_unread
from consent_audit.evaluate.consent_policy import ConsentInputs, decide
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.coverage import consent_inputs
from consent_audit.evaluate.registry import CHAIN_LINKS, codes_by_link
from consent_audit.manifest import Feature
from consent_audit.report import (
    AppFeatureVerdict,
    ChainLink,
    FeatureVerdict,
    Finding,
    ScopeConsent,
    Severity,
    VerdictStatus,
)
from consent_audit.scopes import ScopeSet
from consent_audit.snapshot import RecruiteeApp

CHAIN: list[tuple[str, str, frozenset[str]]] = [
    (name, label, codes_by_link()[name]) for name, label in CHAIN_LINKS
]
"""(link, what passing it means, its codes), in order: built from the registry."""

UNKNOWN_PARTS_BY_LINK = {
    "user": {"user"},
    "app": {"recruitee_apps"},
    # Grants and assignments hang off the service principals: unread apps, unread links.
    "consent": {
        "recruitee_apps",
        "oauth2_permission_grants",
        "graph_service_principal",
        "authorization_policy",
        "permission_grant_policies",
        "delegated_permission_classifications",
        "admin_consent_request_policy",
    },
    "assignment": {"recruitee_apps", "app_role_assigned_to"},
    "conditional_access": {"conditional_access_policies"},
    "session": set(),
}


def _affects(f: Finding, feature: str, app_object_id: str | None) -> bool:
    """Does ``f`` bear on ``feature`` for this app? ``None`` means any app (the worst)."""
    return feature in f.features and (
        f.app_object_id is None or app_object_id is None or f.app_object_id == app_object_id
    )


def _status(
    findings: list[Finding],
    out: Outcome,
    feature: str,
    app_object_id: str | None,
    codes: frozenset[str] | None = None,
    parts: set[str] | None = None,
) -> VerdictStatus:
    """fail (an error) > unknown (a needed part unread) > warn (a warning) > pass."""
    relevant = [
        f
        for f in findings
        if _affects(f, feature, app_object_id) and (codes is None or f.id in codes)
    ]
    if any(f.severity is Severity.ERROR for f in relevant):
        return VerdictStatus.FAIL
    for u in out.unknowns:
        if (
            feature in u.features
            and (
                u.app_object_id is None or app_object_id is None or u.app_object_id == app_object_id
            )
            and (parts is None or u.part in parts)
        ):
            return VerdictStatus.UNKNOWN
    if any(f.severity is Severity.WARNING for f in relevant):
        return VerdictStatus.WARN
    return VerdictStatus.PASS


def _chain(
    ctx: AuditContext, out: Outcome, feature: Feature, app: RecruiteeApp | None
) -> list[ChainLink]:
    """The links for the app in use (``app``), or for the worst app when it is None."""
    links: list[ChainLink] = []
    owner = app.service_principal.id if app else None
    by_link = codes_by_link()
    unread = sign_in_log_unread(ctx.snapshot)
    for name, label in CHAIN_LINKS:
        if name == "user" and ctx.user_lookup is None:
            continue
        codes = by_link.get(name, frozenset())
        status = _status(
            out.findings, out, feature.name, owner, codes, UNKNOWN_PARTS_BY_LINK.get(name, set())
        )
        related = [f for f in out.findings if f.id in codes and _affects(f, feature.name, owner)]
        worst = max(related, key=lambda f: f.severity.rank, default=None)
        detail = worst.title if worst else label
        if status is VerdictStatus.UNKNOWN:
            why = worst.title if worst and worst.severity is not Severity.INFO else None
            detail = f"{label}: unknown ({why or 'data unavailable'})"
        elif name == "consent" and (worst is None or worst.severity is not Severity.ERROR):
            detail = _consent_detail(ctx, feature, app) or (
                f"Works, with a warning: {worst.title}"
                if worst and worst.severity is Severity.WARNING
                else label
            )
        elif worst is not None and worst.severity is Severity.WARNING:
            detail = f"Works, with a warning: {worst.title}"
        elif worst is not None and worst.severity is Severity.INFO:
            detail = label
        gap = _unread_evidence(ctx, name, app, unread) if status is VerdictStatus.PASS else None
        if gap is not None:
            # What a link rests on was not read: not checked, never pass (a warning or a
            # failure from configuration still shows as such).
            status, detail = VerdictStatus.NOT_CHECKED, f"Not checked: {gap}"
        links.append(ChainLink(name=name, status=status, detail=detail))
    return links


def _unread_evidence(
    ctx: AuditContext, name: str, app: RecruiteeApp | None, sign_ins_unread: str | None
) -> str | None:
    """Why link ``name`` has no evidence to pass on, or None when it has. Unread parts that
    make a verdict unknown are handled by ``_status``; these are the ones that do not: no
    Recruitee app to check at all, assignments unread tenant-wide, the sign-in log."""
    if name in ("consent", "assignment", "session") and not ctx.apps:
        return "no Recruitee application was found to check"
    if name == "assignment":
        for a in [app] if app is not None else ctx.apps:
            part = a.app_role_assigned_to
            if a.service_principal.app_role_assignment_required is not False and not part.ok:
                return (
                    f"who is assigned could not be read ({part.status.value}). Check with "
                    f"{part.permission or 'Application.Read.All'}"
                )
    if name == "session":
        return sign_ins_unread
    return None


def _consent_detail(ctx: AuditContext, feature: Feature, app: RecruiteeApp | None) -> str | None:
    """Which step of the consent link holds: admin grant, the user's own grant, or only some
    people's own grants (tenant-wide)."""
    apps = [app] if app is not None else ctx.apps
    readable = [a for a in apps if ctx.grants_readable(a)]
    if not readable or len(readable) != len(apps):
        return None
    if all(not ctx.missing_admin(a, feature) for a in readable):
        return "Covered by admin consent"
    if all(not ctx.missing(a, feature) for a in readable):
        who = ctx.user.user_principal_name if ctx.user else "the user"
        return f"Covered by admin consent and {who}'s own consent"
    if ctx.user is None and len(readable) == 1:
        n = ctx.people_covered(readable[0], feature)
        if n:
            return (
                f"Covered for {n} {'person' if n == 1 else 'people'} who consented "
                "themselves; others are asked when they connect"
            )
    return None


def _by_feature(out: Outcome) -> dict[str, Outcome]:
    """Each feature's own findings and unknowns, indexed once.

    Every verdict reads only what names its feature, so scanning the whole outcome per
    feature made evaluation quadratic in the manifest (2,000 features: 12 s; issue #12). A
    finding about every feature lists them all, so in each feature's view it names only that
    feature: the membership tests below stay constant-time.
    """
    index: dict[str, Outcome] = {}
    for finding in out.findings:
        for name in dict.fromkeys(finding.features):
            own = (
                finding
                if len(finding.features) == 1
                else finding.model_copy(update={"features": [name]})
            )
            index.setdefault(name, Outcome()).findings.append(own)
    for unknown in out.unknowns:
        for name in dict.fromkeys(unknown.features):
            index.setdefault(name, Outcome()).unknowns.append(replace(unknown, features=(name,)))
    return index


def feature_verdicts(ctx: AuditContext, out: Outcome) -> list[FeatureVerdict]:
    index = _by_feature(out)
    return [
        _feature_verdict(ctx, index.get(feature.name, Outcome()), feature)
        for feature in ctx.manifest.features
    ]


USER_CONSENT_WORDS: dict[
    bool | None, Literal["users can consent", "only admins can consent", "unknown"]
] = {True: "users can consent", False: "only admins can consent", None: "unknown"}


def _scope_consent(
    ctx: AuditContext, app: RecruiteeApp, feature: Feature, inputs: ConsentInputs
) -> list[ScopeConsent]:
    """Per scope: granted by whom, and could a regular user consent to it (and why)."""
    readable = ctx.grants_readable(app)
    admin, mine = ctx.admin_scopes(app), ctx.user_scopes(app)
    rows: list[ScopeConsent] = []
    for scope in feature.scopes:
        d = decide(scope, app.service_principal, inputs)
        granted: Literal["admin", "user", "no", "unknown"] = (
            "unknown"
            if not readable
            else "admin"
            if scope in admin
            else "user"
            if scope in mine
            else "no"
        )
        rows.append(
            ScopeConsent(
                scope=ctx.catalog.canonical(scope),
                granted=granted,
                user_consent=USER_CONSENT_WORDS[d.allowed],
                reason=d.reason,
                policy_id=d.policy_id,
            )
        )
    return rows


def _app_verdict(
    ctx: AuditContext, out: Outcome, app: RecruiteeApp, feature: Feature, inputs: ConsentInputs
) -> AppFeatureVerdict:
    sp = app.service_principal
    readable = ctx.grants_readable(app)
    missing = ctx.missing(app, feature) if readable else ScopeSet()
    ids = sorted(
        {
            f.id
            for f in out.findings
            if _affects(f, feature.name, sp.id) and f.severity is not Severity.INFO
        }
    )
    return AppFeatureVerdict(
        scopes=_scope_consent(ctx, app, feature, inputs),
        object_id=sp.id,
        app_id=sp.app_id,
        status=_status(out.findings, out, feature.name, sp.id),
        missing_scopes=ctx.canonical(missing),
        admin_consent_covers=(
            not ctx.missing_admin(app, feature)
            if readable and (ctx.grants_placed(app) or not ctx.missing_admin(app, feature))
            else None
        ),
        people_covered=(
            ctx.people_covered(app, feature)
            if readable and ctx.missing_admin(app, feature)
            else None
        ),
        finding_ids=ids,
    )


def _feature_verdict(ctx: AuditContext, out: Outcome, feature: Feature) -> FeatureVerdict:
    inputs = consent_inputs(ctx)
    per_app = [_app_verdict(ctx, out, app, feature, inputs) for app in ctx.apps]
    in_use = ctx.app_in_use.app
    chosen = (
        next(v for v in per_app if v.object_id == in_use.service_principal.id) if in_use else None
    )
    if chosen is not None:
        status, missing = chosen.status, chosen.missing_scopes
        admin_covers, people = chosen.admin_consent_covers, chosen.people_covered
    else:
        # Nothing tells the apps apart: the worst app decides (app_object_id=None matches
        # every app's findings), and every app's missing scopes are listed.
        status = _status(out.findings, out, feature.name, None)
        union = ScopeSet()
        for v in per_app:
            union = union.union(v.missing_scopes)
        if not ctx.apps and ctx.snapshot.recruitee_apps.ok:
            union = feature.scope_set
        missing = ctx.canonical(union)
        admin_covers = (
            all(v.admin_consent_covers for v in per_app)
            if per_app and all(v.admin_consent_covers is not None for v in per_app)
            else (False if not ctx.apps and ctx.snapshot.recruitee_apps.ok else None)
        )
        people = 0 if not ctx.apps and ctx.snapshot.recruitee_apps.ok else None
    return FeatureVerdict(
        name=feature.name,
        title=feature.title,
        status=status,
        missing_scopes=missing,
        required_scopes=list(feature.scopes),
        admin_consent_covers=admin_covers,
        people_covered=people,
        apps=per_app,
        chain=_chain(ctx, out, feature, in_use),
    )
