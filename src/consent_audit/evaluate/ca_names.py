"""Who a Conditional Access policy includes and excludes, by the best name the snapshot holds.

"All users except 1 group(s)" cannot be checked: an admin cannot see whether the person who
syncs is in that group, and support cannot map a redacted report back with ``unredact``. So
every user, group and role a policy names is reported by its display name where the snapshot
holds one (the audited users, the groups they are in, the users and groups assigned to the
Recruitee app, the Global Administrator role), else by its object id. In a redacted snapshot
both are pseudonyms (``Group 1a2b3c4d``, a pseudonymous id) that ``consent-audit unredact``
maps back with the customer's key. Names are tenant text: they reach a reader only through
render/safe_text.py, like every other string in the report.

The one-line summary lists the first :data:`SHOWN` of each kind and "and N more"; the report
row keeps every one (``included`` / ``excluded``, in JSON). Targeting itself (who the policy
applies to) is decided elsewhere (conditional_access.applies_to_user, Entra's What-If); this
module only names (Graph conditionalAccessUsers: includeUsers/excludeUsers hold user ids or
``All``, ``None``, ``GuestsOrExternalUsers``; roles are directory role template ids).
"""

from __future__ import annotations

from collections.abc import Mapping

from consent_audit.evaluate.assignment import GLOBAL_ADMIN_ROLE
from consent_audit.graph_objects import ConditionalAccessPolicy
from consent_audit.report import CaPrincipal
from consent_audit.snapshot import TenantSnapshot

SHOWN = 3
"""How many of each kind the one-line summary names before "and N more"."""

ROLE_NAMES = {GLOBAL_ADMIN_ROLE: "Global Administrator"}
"""Directory role template ids the tool knows by name (the snapshot holds none)."""

SPECIAL_USERS = {"all": "all users", "none": "nobody", "guestsorexternalusers": "guests"}


def directory_names(snapshot: TenantSnapshot) -> dict[str, str]:
    """Object id (casefolded) -> display name, from everything the snapshot holds."""
    names: dict[str, str] = {k.casefold(): v for k, v in ROLE_NAMES.items()}
    apps = snapshot.recruitee_apps.data or [] if snapshot.recruitee_apps.ok else []
    for app in apps:
        for assignment in app.app_role_assigned_to.data or []:
            if assignment.principal_display_name and assignment.principal_id:
                names[str(assignment.principal_id).casefold()] = assignment.principal_display_name
    for lookup in snapshot.users:
        user = lookup.user.data
        if user is None:
            continue
        for gid, name in user.group_display_names.items():
            if name:
                names[gid.casefold()] = name
        names[user.id.casefold()] = user.display_name or user.user_principal_name
    return names


def _principals(kind: str, ids: list[str], names: Mapping[str, str]) -> list[CaPrincipal]:
    return [
        CaPrincipal(kind=kind, id=i, display_name=names.get(i.casefold()))
        for i in ids
        if i.casefold() not in SPECIAL_USERS
    ]


def assigned(
    policy: ConditionalAccessPolicy, names: Mapping[str, str], *, include: bool
) -> list[CaPrincipal]:
    """Every user, group and role the policy includes (or excludes), named."""
    users = policy.conditions.users
    if users is None:
        return []
    if include:
        lists = (users.include_users, users.include_groups, users.include_roles)
    else:
        lists = (users.exclude_users, users.exclude_groups, users.exclude_roles)
    return [
        p
        for kind, ids in zip(("user", "group", "role"), lists, strict=True)
        for p in _principals(kind, ids, names)
    ]


def _shown(p: CaPrincipal) -> str:
    return f"'{p.display_name}'" if p.display_name else p.id


def summary(principals: list[CaPrincipal]) -> list[str]:
    """Per kind: "groups 'Sync staff', 'Break glass' and 2 more" (first :data:`SHOWN`)."""
    parts: list[str] = []
    for kind in ("user", "group", "role"):
        of_kind = [p for p in principals if p.kind == kind]
        if not of_kind:
            continue
        label = kind if len(of_kind) == 1 else f"{kind}s"
        listed = ", ".join(_shown(p) for p in of_kind[:SHOWN])
        more = len(of_kind) - SHOWN
        parts.append(f"{label} {listed}" + (f" and {more} more" if more > 0 else ""))
    return parts
