"""The bundled catalog of Microsoft Graph delegated permissions.

Used to validate manifests (an unknown scope is a typo until proven otherwise), to print
Graph's canonical casing, and to know which scopes the API publisher marks admin-only
("Admin Consent Required" in concepts/permissions-reference.md,
microsoftgraph/microsoft-graph-docs-contrib). Ids come from concepts/includes/permissions-ids.md.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from consent_audit.scopes import scope_key


@dataclass(frozen=True)
class DelegatedPermission:
    value: str
    id: str
    admin_consent_required: bool


@dataclass(frozen=True)
class PermissionCatalog:
    """Graph delegated permissions, looked up case-insensitively by value or by id.

    The indexes are built once with the catalog: evaluation looks up every scope of every
    grant, and a tenant can hold 100,000 grants (bench/scale.py).
    """

    resource_app_id: str
    permissions: tuple[DelegatedPermission, ...]
    _by_value: dict[str, DelegatedPermission] = field(init=False, repr=False, compare=False)
    _by_id: dict[str, DelegatedPermission] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_value", {scope_key(p.value): p for p in self.permissions})
        object.__setattr__(self, "_by_id", {p.id.casefold(): p for p in self.permissions})

    def __hash__(self) -> int:
        return hash((self.resource_app_id, self.permissions))

    def by_value(self, value: str) -> DelegatedPermission | None:
        """By scope value, ASCII case-insensitively (``scopes.scope_key``), as Entra compares."""
        return self._by_value.get(scope_key(value))

    def by_id(self, permission_id: str) -> DelegatedPermission | None:
        return self._by_id.get(permission_id.casefold())

    def canonical(self, value: str) -> str:
        """Graph's own casing of a scope (``user.read`` -> ``User.Read``); unknown kept as is."""
        found = self.by_value(value)
        return found.value if found else value

    def suggest(self, value: str) -> str | None:
        """The closest known scope, for a "did you mean" on typos such as ``Mail.ReadWite``."""
        names = {p.value.casefold(): p.value for p in self.permissions}
        match = difflib.get_close_matches(value.casefold(), list(names), n=1, cutoff=0.75)
        return names[match[0]] if match else None


@lru_cache(maxsize=1)
def graph_catalog() -> PermissionCatalog:
    """Load the bundled catalog once per process."""
    raw = json.loads(
        resources.files("consent_audit.data")
        .joinpath("graph_delegated_permissions.json")
        .read_text(encoding="utf-8")
    )
    return PermissionCatalog(
        resource_app_id=raw["resource_app_id"],
        permissions=tuple(
            DelegatedPermission(
                value=p["value"], id=p["id"], admin_consent_required=p["admin_consent_required"]
            )
            for p in raw["permissions"]
        ),
    )
