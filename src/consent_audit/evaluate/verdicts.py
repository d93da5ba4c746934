"""Feature verdicts and causal chains, derived from findings and unknowns only.

A verdict is ``fail`` when an error finding affects the feature (for that app), ``unknown``
when no error does but a needed part was unavailable, ``warn`` when only warnings affect it,
else ``pass``. Renderers never re-derive this. With several Recruitee apps the feature's
verdict is the worst of them: the tenant cannot know which one Recruitee will use.
"""

from __future__ import annotations

from typing import Literal

from consent_audit.evaluate.consent_policy import ConsentInputs, decide
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.coverage import consent_inputs
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
    ("user", "User exists and can sign in", frozenset({"USER_NOT_FOUND", "USER_DISABLED"})),
    ("app", "Recruitee is present and enabled", frozenset({"APP_NOT_FOUND", "APP_DISABLED"})),
    (
        "consent",
        "Scopes are consented, or can be",
        frozenset(
            {
                "SCOPE_MISSING",
                "USER_CONSENT_DISABLED",
                "USER_CONSENT_RESTRICTED",
                "ADMIN_CONSENT_WORKFLOW_DISABLED",
                "ADMIN_CONSENT_REQUEST_PENDING",
                "ADMIN_CONSENT_NO_REVIEWERS",
            }
        ),
    ),
    (
        "assignment",
        "User is assigned (when required)",
        frozenset({"ASSIGNMENT_REQUIRED", "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED"}),
    ),
    (
        "conditional_access",
        "No Conditional Access block",
        frozenset({"CA_POLICY_BLOCKS", "CA_POLICY_REQUIRES", "CA_UNREADABLE"}),
    ),
    ("session", "No forced re-sign-in", frozenset({"CA_POLICY_SIGNIN_FREQUENCY"})),
]
UNKNOWN_PARTS_BY_LINK = {
    "user": {"user"},
    "app": {"recruitee_apps"},
    "consent": {
        "oauth2_permission_grants",
        "graph_service_principal",
        "authorization_policy",
        "permission_grant_policies",
        "delegated_permission_classifications",
        "admin_consent_request_policy",
    },
    "assignment": {"app_role_assigned_to"},
    "conditional_access": {"conditional_access_policies"},
    "session": {"conditional_access_policies"},
}


def _affects(f: Finding, feature: str, app_object_id: str | None) -> bool:
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


def _chain(ctx: AuditContext, out: Outcome, feature: str) -> list[ChainLink]:
    links: list[ChainLink] = []
    for name, label, codes in CHAIN:
        if name == "user" and ctx.user_lookup is None:
            continue
        status = _status(out.findings, out, feature, None, codes, UNKNOWN_PARTS_BY_LINK[name])
        related = [f for f in out.findings if f.id in codes and _affects(f, feature, None)]
        worst = max(related, key=lambda f: f.severity.rank, default=None)
        detail = worst.title if worst else label
        if name == "consent" and (worst is None or worst.severity is not Severity.ERROR):
            detail = _consent_detail(ctx, feature) or detail
        elif worst is not None and worst.severity is Severity.WARNING:
            detail = f"Passes with a warning: {worst.title}"
        elif worst is not None and worst.severity is Severity.INFO:
            detail = label
        if status is VerdictStatus.UNKNOWN and worst is None:
            detail = f"{label}: unknown (data unavailable)"
        links.append(ChainLink(name=name, status=status, detail=detail))
    return links


def _consent_detail(ctx: AuditContext, feature_name: str) -> str | None:
    """Which step of the consent link holds: admin grant, the user's grant, or user consent."""
    feature = ctx.manifest.feature(feature_name)
    readable = [a for a in ctx.apps if ctx.grants_readable(a)]
    if feature is None or not readable:
        return None
    if all(not ctx.missing_admin(a, feature) for a in readable):
        return "Covered by admin consent"
    if all(not ctx.missing(a, feature) for a in readable):
        return "Covered by admin consent and the user's own consent"
    return "Not granted yet; users can consent at their next sync"


def feature_verdicts(ctx: AuditContext, out: Outcome) -> list[FeatureVerdict]:
    verdicts: list[FeatureVerdict] = []
    for feature in ctx.manifest.features:
        verdicts.append(_feature_verdict(ctx, out, feature))
    return verdicts


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


def _feature_verdict(ctx: AuditContext, out: Outcome, feature: Feature) -> FeatureVerdict:
    per_app: list[AppFeatureVerdict] = []
    missing_all = ScopeSet()
    inputs = consent_inputs(ctx)
    for app in ctx.apps:
        sp = app.service_principal
        missing = ctx.missing(app, feature) if ctx.grants_readable(app) else ScopeSet()
        missing_all = missing_all.union(missing)
        ids = sorted(
            {
                f.id
                for f in out.findings
                if _affects(f, feature.name, sp.id) and f.severity is not Severity.INFO
            }
        )
        per_app.append(
            AppFeatureVerdict(
                scopes=_scope_consent(ctx, app, feature, inputs),
                object_id=sp.id,
                app_id=sp.app_id,
                status=_status(out.findings, out, feature.name, sp.id),
                missing_scopes=ctx.canonical(missing),
                finding_ids=ids,
            )
        )
    # app_object_id=None matches every app's findings: the worst app decides.
    status = _status(out.findings, out, feature.name, None)
    if not ctx.apps and ctx.snapshot.recruitee_apps.ok:
        missing_all = feature.scope_set
    return FeatureVerdict(
        name=feature.name,
        title=feature.title,
        status=status,
        missing_scopes=ctx.canonical(missing_all),
        required_scopes=list(feature.scopes),
        apps=per_app,
        chain=_chain(ctx, out, feature.name),
    )
