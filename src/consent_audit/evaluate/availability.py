"""DATA_UNAVAILABLE: every part that could not be read is named, never silently dropped.

The finding lists the features whose verdict it leaves ``unknown`` (from the rules' recorded
unknowns), the status Graph gave, and the permission that would have been needed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding
from consent_audit.snapshot import Part, PartStatus, SnapshotPart

PART_INFO: dict[str, tuple[str, str]] = {
    part.value: (part.label, part.permission) for part in SnapshotPart
}
"""Label and reading permission per part, from the one SnapshotPart enum (snapshot.py)."""


@dataclass(frozen=True)
class _Gap:
    part: str
    status: PartStatus
    message: str | None
    permission: str | None
    app_object_id: str | None = None


def _named(ctx: AuditContext) -> list[tuple[str, Part[Any], str | None]]:
    """Every part of the snapshot the audit reads, with the app it belongs to."""
    snap = ctx.snapshot
    named: list[tuple[str, Part[Any], str | None]] = [
        ("recruitee_apps", snap.recruitee_apps, None),
        ("graph_service_principal", snap.graph_service_principal, None),
        ("delegated_permission_classifications", snap.delegated_permission_classifications, None),
        ("authorization_policy", snap.authorization_policy, None),
        ("permission_grant_policies", snap.permission_grant_policies, None),
        ("admin_consent_request_policy", snap.admin_consent_request_policy, None),
        ("app_consent_requests", snap.app_consent_requests, None),
        ("consent_policy_settings", snap.consent_policy_settings, None),
        ("directory_audits", snap.directory_audits, None),
        ("sign_ins", snap.sign_ins, None),
    ]
    for app in ctx.apps:
        sp_id = app.service_principal.id
        named.append(("oauth2_permission_grants", app.oauth2_permission_grants, sp_id))
        named.append(("app_role_assigned_to", app.app_role_assigned_to, sp_id))
    if ctx.user_lookup is not None and ctx.user_lookup.user.status is not PartStatus.NOT_FOUND:
        named.append(("user", ctx.user_lookup.user, None))
    named.append(("conditional_access_policies", snap.conditional_access_policies, None))
    return named


def _gaps(ctx: AuditContext) -> list[_Gap]:
    return [
        _Gap(name, part.status, part.message, part.permission, app_id)
        for name, part, app_id in _named(ctx)
        if name != "conditional_access_policies"  # CA_UNREADABLE speaks for it
        and part.status not in (PartStatus.OK, PartStatus.NOT_COLLECTED)
    ]


LOG_PARTS = ("directory_audits", "sign_ins")
"""Parts no verdict reads (they explain, in SIGNIN_FAILURES and GRANT_REVOKED)."""
GAPS_SHOWN = 10


def check_partial(ctx: AuditContext, out: Outcome) -> None:
    """DATA_PARTIAL: a part read in part names what it left out in the report, not only in
    the snapshot part's message: items Graph sent that could not be read (issue #10: "keep
    the valid items, report the bad one") and reads Graph refused (beta's background
    sign-ins, the ones that explain a stopped sync)."""
    for name, part, app_id in _named(ctx):
        if part.status is not PartStatus.OK or not part.gaps:
            continue
        label, permission = PART_INFO[name]
        features = [] if name in LOG_PARTS else list(ctx.feature_names)
        shown = "; ".join(part.gaps[:GAPS_SHOWN])
        more = len(part.gaps) - GAPS_SHOWN
        effect = (
            " No verdict depends on it, but the failures it would show are missing."
            if not features
            else " The verdicts use the rest; one that depends on what was left out may be "
            "wrong either way."
        )
        out.add(
            finding(
                "DATA_PARTIAL",
                f"Part of {label} could not be read: {shown}"
                f"{f' (and {more} more)' if more > 0 else ''}.{effect}",
                title=f"Part of {label} could not be read",
                features=features,
                app_object_id=app_id,
                evidence={"part": name, "gaps": part.gaps[:50], "count": len(part.gaps)},
                remediation=remediation.data_partial(
                    part.permission or permission,
                    rerun_command(ctx),
                    app_only=ctx.snapshot.app_only,
                ),
            )
        )


def check_availability(ctx: AuditContext, out: Outcome) -> None:
    gaps = _gaps(ctx)
    covered = {(g.part, g.app_object_id) for g in gaps}
    reasons: dict[tuple[str, str | None], list[str]] = {}
    for unknown in out.unknowns:
        if unknown.part == "conditional_access_policies":
            continue  # CA_UNREADABLE speaks for it
        key = (unknown.part, unknown.app_object_id)
        if unknown.reason and unknown.reason not in reasons.get(key, []):
            reasons.setdefault(key, []).append(unknown.reason)
        if (unknown.part, None) in covered or key in covered:
            continue
        covered.add(key)
        gaps.append(_Gap(unknown.part, PartStatus.OK, None, None, unknown.app_object_id))
    gaps = [
        gap
        if gap.status is not PartStatus.OK
        else replace(
            gap,
            message="; ".join(reasons.get((gap.part, gap.app_object_id), []))
            or "needed data is not in the snapshot",
        )
        for gap in gaps
    ]
    for gap in gaps:
        label, default_permission = PART_INFO[gap.part]
        features = sorted(
            {
                f
                for u in out.unknowns
                if u.part == gap.part
                and (gap.app_object_id is None or u.app_object_id in (None, gap.app_object_id))
                for f in u.features
            },
            key=lambda f: ctx.feature_names.index(f) if f in ctx.feature_names else 99,
        )
        permission = gap.permission or default_permission
        status = gap.status.value if gap.status is not PartStatus.OK else "incomplete"
        why = {
            "forbidden": f"the auditor lacks permission ({permission})",
            "not_licensed": "the tenant lacks the licence (Entra ID P1 or P2)",
            "not_found": "Graph reported it does not exist",
            "error": "Graph returned an error",
            "incomplete": "what was read does not settle it",
        }[status]
        # Verdicts come from all findings together: a definite error elsewhere (a missing
        # scope, say) still decides the feature, so this finding must not claim "unknown".
        effect = (
            f" It leaves {', '.join(features)} undecided unless another finding settles it."
            if features
            else " No verdict depends on it."
        )
        out.add(
            finding(
                "DATA_UNAVAILABLE",
                f"Could not read {label}: {why}"
                f"{' (' + gap.message + ')' if gap.message else ''}.{effect}",
                title=f"Could not read {label}",
                features=features,
                app_object_id=gap.app_object_id,
                evidence={"part": gap.part, "status": status, "permission": permission},
                remediation=remediation.data_unavailable(
                    permission,
                    status,
                    rerun_command(ctx),
                    licence=status == "not_licensed",
                    app_only=ctx.snapshot.app_only,
                ),
            )
        )


def rerun_command(ctx: AuditContext) -> str:
    """``consent-audit check --user UPN`` to audit again, the user validated and quoted
    (commands.py): the name comes from the snapshot."""
    from consent_audit.commands import IdKind, suggestion

    query = ctx.user_lookup.query if ctx.user_lookup is not None else None
    return suggestion("check", [("--user", IdKind.USER, query)])
