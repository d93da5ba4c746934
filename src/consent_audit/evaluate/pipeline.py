"""The evaluation pipeline: the rules, in order, over (snapshot, manifest, user), and the report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone

from consent_audit import __version__
from consent_audit.catalog import graph_catalog
from consent_audit.errors import InputError
from consent_audit.evaluate.apps import cap_leftover_findings, check_apps
from consent_audit.evaluate.assignment import check_assignment
from consent_audit.evaluate.audit_logs import check_revocations, check_sign_in_failures
from consent_audit.evaluate.availability import check_availability, check_partial
from consent_audit.evaluate.conditional_access import ca_rows, check_conditional_access
from consent_audit.evaluate.consent_policy import self_consent_policy_ids
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.fixes import build_plan, chain_position
from consent_audit.evaluate.grants import check_extra_scopes, check_scopes
from consent_audit.evaluate.prediction import predict_plan
from consent_audit.evaluate.tenant_settings import check_app_registration
from consent_audit.evaluate.user_consent import (
    check_admin_consent_workflow,
    check_pending_requests,
    check_user_consent,
    per_app_when_undecided,
)
from consent_audit.evaluate.users import check_user
from consent_audit.evaluate.verdicts import feature_verdicts
from consent_audit.evaluate.what_if import conditional_access_source
from consent_audit.fingerprint import with_fingerprints
from consent_audit.gate import decide
from consent_audit.graph_objects import ServicePrincipal
from consent_audit.manifest import Manifest
from consent_audit.report import (
    AppInUse,
    AppSummary,
    AuditOptions,
    Finding,
    Gate,
    GrantRow,
    Report,
    SourceInfo,
    Summary,
    TenantSettings,
    TenantSummary,
    UserGrantsSummary,
    UserSummary,
    VerdictStatus,
)
from consent_audit.scopes import parse_scope_string
from consent_audit.snapshot import PartStatus, RecruiteeApp, TenantSnapshot

Rule = Callable[[AuditContext, Outcome], None]

# Order matters for availability, which reads the unknowns the others recorded, and for the
# leftover cap, which rewrites what the others found about apps Recruitee does not use.
RULES: tuple[Rule, ...] = (
    check_user,
    check_apps,
    check_scopes,
    per_app_when_undecided(check_user_consent),
    per_app_when_undecided(check_admin_consent_workflow),
    per_app_when_undecided(check_pending_requests),
    check_assignment,
    check_conditional_access,
    check_revocations,
    check_sign_in_failures,
    check_extra_scopes,
    check_app_registration,
    check_availability,
    check_partial,
    cap_leftover_findings,
)


def _sort_key(f: Finding) -> tuple[int, int, str, str, str]:
    """Along the causal chain (user, app, consent, assignment, CA, session), worst first."""
    return (chain_position(f.id), -f.severity.rank, f.id, f.app_object_id or "", f.detail)


def evaluate(
    snapshot: TenantSnapshot,
    manifest: Manifest,
    *,
    full_manifest: Manifest | None = None,
    user: str | None = None,
    app_ids: tuple[str, ...] = (),
    source: SourceInfo | None = None,
    now: datetime | None = None,
    predict: bool = True,
) -> Report:
    """Audit a snapshot. ``user`` must be one the snapshot was collected for.

    With ``predict``, the plan's Graph steps are also applied to the snapshot offline
    (simulate.py) and the result audited again: ``Report.prediction``."""
    lookup = None
    if user is not None:
        lookup = snapshot.find_user(user)
        if lookup is None:
            held = ", ".join(u.query for u in snapshot.users) or "none"
            from consent_audit.commands import IdKind, suggestion

            take = suggestion("snapshot", [("--user", IdKind.USER, user)])
            raise InputError(
                f"the snapshot holds no data for user {user!r} (it holds: {held}).",
                fix=f"Take a snapshot with `{take}`, or pass one of the users it holds.",
            )
    ctx = AuditContext(
        snapshot=snapshot,
        manifest=manifest,
        full_manifest=full_manifest or manifest,
        catalog=graph_catalog(),
        app_ids=tuple(app_ids),
        user_lookup=lookup,
    )
    out = Outcome()
    for rule in RULES:
        rule(ctx, out)
    findings = with_fingerprints(
        sorted(out.findings, key=_sort_key),
        {a.service_principal.id: a.service_principal.app_id for a in ctx.candidate_apps},
        tenant_id=snapshot.tenant.id,
        ids_redacted=snapshot.redacted,
    )
    features = feature_verdicts(ctx, out)
    plan, findings = build_plan(ctx, findings)
    counts = Counter(f.severity.value for f in findings)
    statuses = Counter(v.status for v in features)
    overall = max((v.status for v in features), key=lambda s: s.rank, default=VerdictStatus.PASS)
    report = Report(
        tool_version=__version__,
        generated_at=now or datetime.now(timezone.utc),
        source=source
        or SourceInfo(
            kind="snapshot", collected_at=snapshot.collected_at, redacted=snapshot.redacted
        ),
        tenant=TenantSummary(
            id=snapshot.tenant.id,
            default_domain=snapshot.tenant.default_domain,
            display_name=snapshot.tenant.display_name,
        ),
        user=_user_summary(ctx),
        manifest=manifest.source,
        apps=[_app_summary(ctx, a) for a in [*ctx.apps, *ctx.lookalike_apps]],
        app_in_use=_app_in_use(ctx),
        features=features,
        findings=findings,
        settings=_settings(ctx),
        grants=_grant_rows(ctx),
        user_grants=_user_grants(ctx),
        conditional_access=ca_rows(ctx),
        conditional_access_source=conditional_access_source(ctx),
        plan=plan,
        prediction=(
            predict_plan(
                snapshot, manifest, plan, full_manifest=full_manifest, user=user, app_ids=app_ids
            )
            if predict
            else None
        ),
        options=AuditOptions(
            app_ids=list(app_ids),
            features=(
                ctx.feature_names
                if full_manifest is not None
                and ctx.feature_names != [f.name for f in full_manifest.features]
                else []
            ),
        ),
        summary=Summary(
            errors=counts["error"],
            warnings=counts["warning"],
            infos=counts["info"],
            features_pass=statuses[VerdictStatus.PASS],
            features_warn=statuses[VerdictStatus.WARN],
            features_fail=statuses[VerdictStatus.FAIL],
            features_unknown=statuses[VerdictStatus.UNKNOWN],
            status=overall,
        ),
        gate=Gate(fail_on="error", exit_code=0, reason="not decided yet"),
    )
    return decide(report)  # the default gate; the CLI decides again with its options


def _publisher(sp: ServicePrincipal) -> tuple[str | None, str | None]:
    """(name, id) of the verified publisher; both None when unverified (Graph then answers
    the object with null members)."""
    vp = sp.verified_publisher
    if vp is None or not vp.verified_publisher_id:
        return None, None
    return vp.display_name, vp.verified_publisher_id


def _app_summary(ctx: AuditContext, app: RecruiteeApp) -> AppSummary:
    sp = app.service_principal
    identity = ctx.identity(sp)
    publisher, publisher_id = _publisher(sp)
    return AppSummary(
        app_id=sp.app_id,
        object_id=sp.id,
        display_name=sp.display_name,
        account_enabled=sp.account_enabled,
        assignment_required=sp.app_role_assignment_required,
        verified_publisher=publisher,
        in_use=False if identity.is_lookalike else _in_use(ctx, sp.id),
        owner_tenant_id=sp.app_owner_organization_id,
        sign_in_audience=sp.sign_in_audience,
        verified_publisher_id=publisher_id,
        identity=identity.kind,
        identity_note=identity.reason,
    )


def _in_use(ctx: AuditContext, object_id: str) -> bool | None:
    chosen = ctx.app_in_use.app
    return None if chosen is None else chosen.service_principal.id == object_id


def _app_in_use(ctx: AuditContext) -> AppInUse | None:
    """What the headline is about; the fix planner targets only this app."""
    if not ctx.apps:
        return None
    choice = ctx.app_in_use
    sp = choice.app.service_principal if choice.app else None
    publisher, publisher_id = _publisher(sp) if sp else (None, None)
    return AppInUse(
        object_id=sp.id if sp else None,
        app_id=sp.app_id if sp else None,
        chosen_by=choice.chosen_by,
        sentence=choice.sentence,
        owner_tenant_id=sp.app_owner_organization_id if sp else None,
        verified_publisher=publisher,
        verified_publisher_id=publisher_id,
        identity=ctx.identity(sp).kind if sp else None,
    )


def _user_summary(ctx: AuditContext) -> UserSummary | None:
    if ctx.user_lookup is None:
        return None
    user = ctx.user
    return UserSummary(
        query=ctx.user_lookup.query,
        id=user.id if user else None,
        user_principal_name=user.user_principal_name if user else None,
        display_name=user.display_name if user else None,
        account_enabled=user.account_enabled if user else None,
    )


def _settings(ctx: AuditContext) -> TenantSettings:
    snap = ctx.snapshot
    auth = snap.authorization_policy.data
    if auth is None:
        user_consent, policies, app_reg = (
            f"unknown ({snap.authorization_policy.status.value})",
            [],
            "unknown",
        )
    else:
        assigned = auth.default_user_role_permissions.permission_grant_policies_assigned
        policies = self_consent_policy_ids(assigned) if assigned is not None else []
        # Graph may answer null for the assigned policies (the CSDL allows it): unknown,
        # never "disabled".
        user_consent = (
            "unknown (Graph answered null)"
            if assigned is None
            else "allowed"
            if policies
            else "disabled"
        )
        allowed = auth.default_user_role_permissions.allowed_to_create_apps
        app_reg = "unknown" if allowed is None else ("allowed" if allowed else "blocked")
    acr = snap.admin_consent_request_policy.data
    workflow = (
        f"unknown ({snap.admin_consent_request_policy.status.value})"
        if acr is None
        else ("enabled" if acr.is_enabled else "disabled")
    )
    ca = snap.conditional_access_policies
    if ca.ok and ca.data is not None:
        states = Counter(p.state for p in ca.data)
        ca_text = (
            f"{len(ca.data)} policies ({states['enabled']} enabled, "
            f"{states['enabledForReportingButNotEnforced']} report-only, "
            f"{states['disabled']} disabled)"
        )
    else:
        ca_text = f"unreadable ({ca.status.value})"
    return TenantSettings(
        user_consent=user_consent,
        user_consent_policies=policies,
        admin_consent_workflow=workflow,
        admin_consent_reviewers=len(acr.reviewers or []) if acr else None,
        app_registration_by_users=app_reg,
        conditional_access=ca_text,
        conditional_access_policies=len(ca.data) if ca.ok and ca.data is not None else None,
    )


def _grant_rows(ctx: AuditContext) -> list[GrantRow]:
    """Admin grants and the audited user's own grants; other users' grants are summarised."""
    rows: list[GrantRow] = []
    graph_id = ctx.graph_sp.id.casefold() if ctx.graph_sp else None
    uid = ctx.user.id.casefold() if ctx.user else None
    for app in ctx.apps:
        for g in app.oauth2_permission_grants.data or []:
            mine = (g.consent_type or "").casefold() == "principal" and (
                g.principal_id or ""
            ).casefold() == uid
            # A grant whose consentType is null is neither admin nor user consent: it is
            # listed (as "unknown") so the report shows the grant it could not place.
            unplaced = g.consent_type is None
            if (g.consent_type or "").casefold() != "allprincipals" and not mine and not unplaced:
                continue
            on_graph = g.resource_id.casefold() == graph_id
            rows.append(
                GrantRow(
                    app_object_id=app.service_principal.id,
                    grant_id=g.id,
                    consent_type=g.consent_type or "unknown",
                    principal_id=g.principal_id,
                    resource="Microsoft Graph" if on_graph else g.resource_id,
                    scopes=[
                        ctx.catalog.canonical(s) if on_graph else s
                        for s in parse_scope_string(g.scope)
                    ],
                )
            )
    return rows


def _user_grants(ctx: AuditContext) -> list[UserGrantsSummary]:
    out: list[UserGrantsSummary] = []
    for app in ctx.apps:
        if app.oauth2_permission_grants.status is not PartStatus.OK:
            continue
        graph_id = ctx.graph_sp.id.casefold() if ctx.graph_sp else None
        groups = [g for g in app.principal_scope_groups() if g.resource_id.casefold() == graph_id]
        counts: Counter[str] = Counter()
        for g in groups:
            for scope in {ctx.catalog.canonical(s) for s in parse_scope_string(g.scope)}:
                counts[scope] += g.count
        out.append(
            UserGrantsSummary(
                app_object_id=app.service_principal.id,
                count=sum(g.count for g in groups),
                scope_counts=dict(sorted(counts.items(), key=lambda kv: kv[0].casefold())),
            )
        )
    return out
