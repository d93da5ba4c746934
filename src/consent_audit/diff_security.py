"""Security-relevant Conditional Access changes between two audits, for ``consent-audit diff``.

``diff``'s exit code answers one question: did Recruitee's sync get worse? An administrator
who switches the tenant's MFA policy to report-only makes sync no worse (often better) and
the tenant much less safe. That change must not pass silently, so the diff lists, in its own
section, every change that weakens a Conditional Access policy, whatever it does to sync:

- a policy that was enforced (``enabled``) now report-only or disabled;
- exclusions added: users, groups, roles, guest or external user types, applications,
  workload identities, locations, device platforms;
- grant controls removed (``block``, ``mfa``, a compliant device, terms of use, custom
  controls), an operator turned from AND (every control) to OR (any one), or an
  authentication strength removed or weakened (it allows a method combination it did not);
- a policy deleted.

From two snapshots every policy in the tenant is compared in full. Two JSON reports hold only
the policies that target Recruitee, summarised: state, grant controls and presence are
compared, and a policy missing from the later report is named as such (deleted, disabled or no
longer targeting Recruitee; the snapshots tell which).

States and controls follow conditionalaccesspolicy.md and conditionalaccessgrantcontrols.md
(microsoftgraph/microsoft-graph-docs-contrib, api-reference/v1.0/resources); authentication
strengths and their allowed combinations follow authenticationstrengthpolicy.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from consent_audit.graph_objects import ConditionalAccessPolicy
    from consent_audit.report import ConditionalAccessRow, Report
    from consent_audit.snapshot import TenantSnapshot

SecurityKind = Literal[
    "not_enforced",
    "exclusion_added",
    "grant_control_removed",
    "grant_operator_weakened",
    "authentication_strength_weakened",
    "authentication_strength_changed",
    "deleted",
    "no_longer_in_report",
]


class SecurityChange(BaseModel):
    """One change that weakens a Conditional Access policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy_id: str
    name: str | None
    change: SecurityKind
    detail: str
    """In words, e.g. "enabled -> report-only: no longer enforced"."""
    items: list[str] = Field(default_factory=list)
    """What was added or removed (ids, control names), when the change is about a list."""


_STATE_WORDS = {
    "enabled": "enabled",
    "enabledforreportingbutnotenforced": "report-only",
    "disabled": "disabled",
}


def state_word(state: str) -> str:
    return _STATE_WORDS.get(state.casefold(), state)


def _enforced(state: str) -> bool:
    return state.casefold() == "enabled"


def _not_enforced_note(policy: ConditionalAccessPolicy) -> str:
    if _enforced(policy.state):
        return ""
    return f" (the policy is {state_word(policy.state)}: not enforced now)"


def _added(before: Iterable[str] | None, after: Iterable[str] | None) -> list[str]:
    was = {v.casefold() for v in before or ()}
    return [v for v in dict.fromkeys(after or ()) if v.casefold() not in was]


def _guest_types(value: dict[str, object] | None) -> list[str]:
    if not value:
        return []
    kinds = value.get("guestOrExternalUserTypes") or value.get("guest_or_external_user_types")
    return [k.strip() for k in str(kinds or "guests or external users").split(",") if k.strip()]


_Getter = Callable[["ConditionalAccessPolicy"], "list[str] | None"]

_EXCLUSIONS: tuple[tuple[str, _Getter], ...] = (
    ("users", lambda p: p.conditions.users.exclude_users if p.conditions.users else None),
    ("groups", lambda p: p.conditions.users.exclude_groups if p.conditions.users else None),
    ("roles", lambda p: p.conditions.users.exclude_roles if p.conditions.users else None),
    (
        "guest or external user types",
        lambda p: (
            _guest_types(p.conditions.users.exclude_guests_or_external_users)
            if p.conditions.users
            else None
        ),
    ),
    (
        "applications",
        lambda p: (
            p.conditions.applications.exclude_applications if p.conditions.applications else None
        ),
    ),
    (
        "workload identities",
        lambda p: (
            p.conditions.client_applications.exclude_service_principals
            if p.conditions.client_applications
            else None
        ),
    ),
    (
        "locations",
        lambda p: p.conditions.locations.exclude_locations if p.conditions.locations else None,
    ),
    (
        "device platforms",
        lambda p: p.conditions.platforms.exclude_platforms if p.conditions.platforms else None,
    ),
)


def _controls(policy: ConditionalAccessPolicy) -> list[str]:
    """Every grant control by name: built-in ones, terms of use, custom controls."""
    grant = policy.grant_controls
    if grant is None:
        return []
    return [
        *grant.built_in_controls,
        *(f"terms of use {t}" for t in grant.terms_of_use),
        *(f"custom control {c}" for c in grant.custom_authentication_factors),
    ]


def _strength_changes(
    was: ConditionalAccessPolicy, now: ConditionalAccessPolicy, note: str
) -> list[SecurityChange]:
    old = was.grant_controls.authentication_strength if was.grant_controls else None
    new = now.grant_controls.authentication_strength if now.grant_controls else None
    if old is None:
        return []
    old_name = old.display_name or old.id or "an authentication strength"
    if new is None:
        return [
            SecurityChange(
                policy_id=now.id,
                name=now.display_name,
                change="authentication_strength_weakened",
                detail=f"authentication strength '{old_name}' removed{note}",
                items=[old_name],
            )
        ]
    new_name = new.display_name or new.id or "an authentication strength"
    if old.allowed_combinations is None or new.allowed_combinations is None:
        if (old.id or old_name) == (new.id or new_name):
            return []
        return [
            SecurityChange(
                policy_id=now.id,
                name=now.display_name,
                change="authentication_strength_changed",
                detail=f"authentication strength '{old_name}' -> '{new_name}': its allowed "
                f"method combinations were not read, so whether it is weaker is unknown{note}",
            )
        ]
    looser = _added(old.allowed_combinations, new.allowed_combinations)
    if not looser:
        return []
    return [
        SecurityChange(
            policy_id=now.id,
            name=now.display_name,
            change="authentication_strength_weakened",
            detail=f"authentication strength '{old_name}' -> '{new_name}' now also allows "
            f"{', '.join(looser)}{note}",
            items=looser,
        )
    ]


def _policy_changes(
    was: ConditionalAccessPolicy, now: ConditionalAccessPolicy
) -> list[SecurityChange]:
    changes: list[SecurityChange] = []

    def add(kind: SecurityKind, detail: str, items: list[str] | None = None) -> None:
        changes.append(
            SecurityChange(
                policy_id=now.id,
                name=now.display_name,
                change=kind,
                detail=detail,
                items=items or [],
            )
        )

    if _enforced(was.state) and not _enforced(now.state):
        add(
            "not_enforced",
            f"{state_word(was.state)} -> {state_word(now.state)}: no longer enforced",
        )
    note = _not_enforced_note(now)
    for label, get in _EXCLUSIONS:
        added = _added(get(was), get(now))
        if added:
            add("exclusion_added", f"excluded {label}: {', '.join(added)}{note}", added)
    removed = _added(_controls(now), _controls(was))
    if removed:
        add("grant_control_removed", f"grant controls removed: {', '.join(removed)}{note}", removed)
    old_op = (was.grant_controls.operator or "OR") if was.grant_controls else "OR"
    new_op = (now.grant_controls.operator or "OR") if now.grant_controls else "OR"
    several = len(_controls(now)) + bool(
        now.grant_controls and now.grant_controls.authentication_strength
    )
    if old_op.upper() == "AND" and new_op.upper() == "OR" and several > 1:
        add(
            "grant_operator_weakened",
            f"grant operator AND -> OR: any one control now suffices{note}",
        )
    changes += _strength_changes(was, now, note)
    return changes


def security_from_snapshots(old: TenantSnapshot, new: TenantSnapshot) -> list[SecurityChange]:
    """Every weakening of every Conditional Access policy in the tenant."""
    before = {p.id: p for p in old.conditional_access_policies.data or []}
    after = {p.id: p for p in new.conditional_access_policies.data or []}
    changes: list[SecurityChange] = []
    for pid, was in before.items():
        now = after.get(pid)
        if now is None:
            changes.append(
                SecurityChange(
                    policy_id=pid,
                    name=was.display_name,
                    change="deleted",
                    detail=f"deleted (it was {state_word(was.state)})",
                )
            )
            continue
        changes += _policy_changes(was, now)
    return changes


def _report_rows(report: Report) -> dict[str, ConditionalAccessRow]:
    rows: dict[str, ConditionalAccessRow] = {}
    for row in report.conditional_access:
        rows.setdefault(row.id, row)
    return rows


def _row_controls(row: ConditionalAccessRow) -> tuple[str, list[str]]:
    """(operator, controls) from a report row's summary ("AND: mfa, compliantDevice")."""
    operator, names = "OR", []
    for text in row.grant_controls:
        head, sep, rest = text.partition(": ")
        if sep and head in ("AND", "OR"):
            operator = head
            names += [n.strip() for n in rest.split(", ") if n.strip()]
        else:
            names.append(text)
    return operator, names


def security_from_reports(old: Report, new: Report) -> list[SecurityChange]:
    """What two reports can tell: the policies that target Recruitee, summarised."""
    before, after = _report_rows(old), _report_rows(new)
    changes: list[SecurityChange] = []
    for pid, was in before.items():
        now = after.get(pid)
        if now is None:
            changes.append(
                SecurityChange(
                    policy_id=pid,
                    name=was.display_name,
                    change="no_longer_in_report",
                    detail=f"no longer in the report (it was {state_word(was.state)}): deleted, "
                    "disabled or no longer targeting Recruitee; diff the snapshots to tell",
                )
            )
            continue
        if _enforced(was.state) and not _enforced(now.state):
            changes.append(
                SecurityChange(
                    policy_id=pid,
                    name=now.display_name,
                    change="not_enforced",
                    detail=f"{state_word(was.state)} -> {state_word(now.state)}: "
                    "no longer enforced",
                )
            )
        old_op, old_controls = _row_controls(was)
        new_op, new_controls = _row_controls(now)
        removed = _added(new_controls, old_controls)
        if removed:
            changes.append(
                SecurityChange(
                    policy_id=pid,
                    name=now.display_name,
                    change="grant_control_removed",
                    detail=f"grant controls removed: {', '.join(removed)}",
                    items=removed,
                )
            )
        if old_op == "AND" and new_op == "OR" and len(new_controls) > 1:
            changes.append(
                SecurityChange(
                    policy_id=pid,
                    name=now.display_name,
                    change="grant_operator_weakened",
                    detail="grant operator AND -> OR: any one control now suffices",
                )
            )
    return changes
