"""Feature verdicts and causal chains, derived from findings and unknowns only.

A verdict is ``fail`` when an error finding affects the feature (for that app), ``unknown``
when no error does but a needed part was unavailable, else ``pass``. Renderers never
re-derive this. With several Recruitee apps the feature's verdict is the worst of them: the
tenant cannot know which one Recruitee will use.
"""

from __future__ import annotations

from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.manifest import Feature
from consent_audit.report import (
    AppFeatureVerdict,
    ChainLink,
    FeatureVerdict,
    Finding,
    Severity,
    VerdictStatus,
)
from consent_audit.scopes import ScopeSet

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
        if status is VerdictStatus.UNKNOWN and worst is None:
            detail = f"{label}: unknown (data unavailable)"
        links.append(ChainLink(name=name, status=status, detail=detail))
    return links


def feature_verdicts(ctx: AuditContext, out: Outcome) -> list[FeatureVerdict]:
    verdicts: list[FeatureVerdict] = []
    for feature in ctx.manifest.features:
        verdicts.append(_feature_verdict(ctx, out, feature))
    return verdicts


def _feature_verdict(ctx: AuditContext, out: Outcome, feature: Feature) -> FeatureVerdict:
    per_app: list[AppFeatureVerdict] = []
    missing_all = ScopeSet()
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
