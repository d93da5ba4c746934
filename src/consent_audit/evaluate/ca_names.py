"""Who a Conditional Access policy includes and excludes, by the best name the snapshot holds.

"All users except 1 group(s)" cannot be checked: an admin cannot see whether the person who
syncs is in that group, and support cannot map a redacted report back with ``unredact``. So
every user, group and role a policy names is reported by its display name where the snapshot
holds one (the audited users, the groups they are in, the users and groups assigned to the
Recruitee app), else by its object id; a directory role by its built-in name (:func:`role_names`),
else by its id, said to be unknown. In a redacted snapshot
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

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from consent_audit.graph_objects import ConditionalAccessPolicy
from consent_audit.report import CaPrincipal
from consent_audit.snapshot import TenantSnapshot

SHOWN = 3
"""How many of each kind the one-line summary names before "and N more"."""

UNKNOWN_ROLE = "unknown role"
"""What a role id that is not a built-in role template is called beside its id: a custom
role, or a built-in role newer than the bundled list."""


@lru_cache(maxsize=1)
def role_names() -> dict[str, str]:
    """Built-in directory role template id (casefolded) -> the role's display name.

    Conditional Access names roles by template id (Graph conditionalAccessUsers
    ``includeRoles``/``excludeRoles``), and the snapshot holds no role names. Built-in role
    template ids are fixed and the same in every tenant; the list is Microsoft's, bundled in
    ``data/directory_role_templates.json`` from entra-docs
    docs/identity/role-based-access-control/permissions-reference.md ("All roles": Role,
    Template ID). Read only when a policy names a role."""
    raw = json.loads(
        resources.files("consent_audit.data")
        .joinpath("directory_role_templates.json")
        .read_text("utf-8")
    )
    return {str(k).casefold(): str(v) for k, v in raw["roles"].items()}


SPECIAL_USERS = {"all": "all users", "none": "nobody", "guestsorexternalusers": "guests"}


def directory_names(snapshot: TenantSnapshot) -> dict[str, str]:
    """Object id (casefolded) -> display name, from everything the snapshot holds."""
    names: dict[str, str] = {}
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


def _targets(policy: ConditionalAccessPolicy, *, include: bool) -> list[tuple[str, list[str]]]:
    """(kind, ids) of the users, groups and roles the policy includes (or excludes), without
    the special values (``All``, ``None``, guests: the audience words them itself)."""
    users = policy.conditions.users
    if users is None:
        return []
    if include:
        lists = (users.include_users, users.include_groups, users.include_roles)
    else:
        lists = (users.exclude_users, users.exclude_groups, users.exclude_roles)
    return [
        (kind, [i for i in ids if i.casefold() not in SPECIAL_USERS])
        for kind, ids in zip(("user", "group", "role"), lists, strict=True)
    ]


def _known(kind: str, ids: list[str], names: Mapping[str, str]) -> Mapping[str, str]:
    """Where the names of ``ids`` of this kind are: the bundled role list for roles (read
    only when a policy names one), else what the snapshot holds."""
    return role_names() if kind == "role" and ids else names


def assigned(
    policy: ConditionalAccessPolicy, names: Mapping[str, str], *, include: bool
) -> list[CaPrincipal]:
    """Every user, group and role the policy includes (or excludes), named."""
    principals: list[CaPrincipal] = []
    for kind, ids in _targets(policy, include=include):
        known = _known(kind, ids, names)
        principals.extend(
            CaPrincipal(kind=kind, id=i, display_name=known.get(i.casefold())) for i in ids
        )
    return principals


def _shown(kind: str, principal_id: str, known: Mapping[str, str]) -> str:
    name = known.get(principal_id.casefold())
    if name:
        return f"'{name}'"
    return f"{principal_id} ({UNKNOWN_ROLE})" if kind == "role" else principal_id


def summary(
    policy: ConditionalAccessPolicy, names: Mapping[str, str], *, include: bool
) -> list[str]:
    """Per kind: "groups 'Sync staff', 'Break glass' and 2 more" (first :data:`SHOWN`).

    It names only those it shows: a policy may name thousands of groups, and this line is
    written for every policy, the full lists (:func:`assigned`) only for the report's rows."""
    parts: list[str] = []
    for kind, ids in _targets(policy, include=include):
        if not ids:
            continue
        known = _known(kind, ids, names)
        label = kind if len(ids) == 1 else f"{kind}s"
        listed = ", ".join(_shown(kind, i, known) for i in ids[:SHOWN])
        more = len(ids) - SHOWN
        parts.append(f"{label} {listed}" + (f" and {more} more" if more > 0 else ""))
    return parts
