"""What the logs say: removed consent (directory audits) and failed sign-ins (sign-in log).

Directory audit activities (entra-docs reference-audit-activities.md, ApplicationManagement):
"Remove delegated permission grant", "Remove service principal", "Hard delete service
principal", "Remove app role assignment from service principal", "Revoke consent". Sign-in
error codes come from entra-docs reference-error-codes.md (bundled in data/aadsts_codes.json).
Sign-in logs need Entra ID P1/P2; a licence gap is reported as unavailable, not as a finding.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import lru_cache
from importlib import resources
from typing import Any

from consent_audit.evaluate.context import AuditContext, Outcome
from consent_audit.evaluate.registry import finding
from consent_audit.graph_objects import DirectoryAudit, SignIn

REVOKING_ACTIVITIES = {
    "remove delegated permission grant",
    "remove service principal",
    "hard delete service principal",
    "remove app role assignment from service principal",
    "revoke consent",
}


@lru_cache(maxsize=1)
def aadsts_catalog() -> dict[int, dict[str, Any]]:
    raw = json.loads(
        resources.files("consent_audit.data").joinpath("aadsts_codes.json").read_text("utf-8")
    )
    return {int(entry["code"]): entry for entry in raw["codes"]}


def _mentions(entry: DirectoryAudit, ids: set[str], name: str) -> bool:
    for target in entry.target_resources or []:
        if (target.id or "").casefold() in ids or (target.display_name or "").casefold() == name:
            return True
        for prop in target.modified_properties or []:
            text = f"{prop.old_value or ''} {prop.new_value or ''}".casefold()
            if any(i in text for i in ids):
                return True
    return False


def check_revocations(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.directory_audits
    if not part.ok:
        return
    ids = {a.service_principal.id.casefold() for a in ctx.apps}
    ids |= {a.service_principal.app_id.casefold() for a in ctx.apps}
    name = ctx.manifest.app_display_name.casefold()
    events = [
        e
        for e in part.data or []
        if e.activity_display_name.casefold() in REVOKING_ACTIVITIES
        and (e.result or "success").casefold() == "success"
        and _mentions(e, ids, name)
    ]
    if not events:
        return
    events.sort(key=lambda e: e.activity_date_time, reverse=True)
    rows = [
        {
            "activity": e.activity_display_name,
            "when": e.activity_date_time.isoformat(),
            "by": (
                (e.initiated_by.user.user_principal_name or e.initiated_by.user.id)
                if e.initiated_by and e.initiated_by.user
                else (
                    e.initiated_by.app.display_name
                    if e.initiated_by and e.initiated_by.app
                    else None
                )
            ),
            "audit_id": e.id,
        }
        for e in events
    ]
    latest = rows[0]
    out.add(
        finding(
            "GRANT_REVOKED",
            f"The audit log shows {len(rows)} removal(s) of Recruitee's consent or "
            f"application; the latest: '{latest['activity']}' by {latest['by'] or 'unknown'} "
            f"on {str(latest['when'])[:10]}. Users whose consent was removed must reconnect, and "
            "sync stops until then.",
            features=[],
            evidence={"events": rows[:20]},
        )
    )


def check_sign_in_failures(ctx: AuditContext, out: Outcome) -> None:
    part = ctx.snapshot.sign_ins
    if not part.ok:
        return
    app_ids = {a.service_principal.app_id.casefold() for a in ctx.apps}
    by_code: dict[int, list[SignIn]] = defaultdict(list)
    for s in part.data or []:
        code = s.status.error_code if s.status else None
        if code and (s.app_id or "").casefold() in app_ids:
            by_code[code].append(s)
    if not by_code:
        return
    catalog = aadsts_catalog()
    groups = []
    for code in sorted(by_code, key=lambda c: (-len(by_code[c]), c)):
        entries = by_code[code]
        known = catalog.get(code, {})
        groups.append(
            {
                "code": f"AADSTS{code}",
                "count": len(entries),
                "users": len({e.user_id for e in entries}),
                "last": max(e.created_date_time for e in entries).isoformat(),
                "meaning": known.get("meaning")
                or (entries[0].status.failure_reason if entries[0].status else None),
                "fix": known.get("fix"),
            }
        )
    summary = "; ".join(
        f"{g['code']} x{g['count']} ({g['users']} user(s)): {g['meaning']}" for g in groups[:5]
    )
    out.add(
        finding(
            "SIGNIN_FAILURES",
            f"Recent Recruitee sign-ins failed: {summary}.",
            features=[],
            evidence={"codes": groups},
        )
    )
