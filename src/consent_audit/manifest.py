"""The manifest: which app to look for and which delegated scopes each sync feature needs.

The manifest is data (``data/manifest.toml``, shipped with the package) so that a change in
Recruitee's requirements is a data change, and support can audit against a customer's
variant with ``--manifest``. Validation reports every problem with the file, the key path
and the fix, because a manifest is edited by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w

from consent_audit.catalog import PermissionCatalog, graph_catalog
from consent_audit.errors import InputError
from consent_audit.input_parsing import parse_toml
from consent_audit.scopes import ScopeSet

MANIFEST_SCHEMA_VERSION = 1
# Used with fullmatch: "$" would also accept a trailing newline ("mailbox\n").
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
FEATURE_NAME = re.compile(r"[a-z][a-z0-9_-]*")
PUBLISHER_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
"""A verified publisher id (``verifiedPublisher.verifiedPublisherId``): the publisher's
Microsoft Partner Center (MPN) id, digits in every published example."""


@dataclass(frozen=True)
class Feature:
    name: str
    title: str
    scopes: tuple[str, ...]

    @property
    def scope_set(self) -> ScopeSet:
        return ScopeSet(self.scopes)


@dataclass(frozen=True)
class Manifest:
    app_display_name: str
    known_app_ids: tuple[str, ...]
    resource_display_name: str
    resource_app_id: str
    features: tuple[Feature, ...]
    source: str = "<bundled>"
    owner_tenant_ids: tuple[str, ...] = ()
    """Tenant ids Recruitee's application may be registered in (``appOwnerOrganizationId``);
    when given, a service principal owned by any other tenant is a look-alike."""
    verified_publisher_ids: tuple[str, ...] = ()
    """Recruitee's verified publisher ids (``verifiedPublisher.verifiedPublisherId``); when
    given, a service principal without one of them is a look-alike."""

    @cached_property
    def _by_name(self) -> dict[str, Feature]:
        # First definition wins, as the scan it replaces did; built once, so each lookup is
        # constant-time and evaluation stays linear in the number of features.
        by_name: dict[str, Feature] = {}
        for feature in self.features:
            by_name.setdefault(feature.name, feature)
        return by_name

    def feature(self, name: str) -> Feature | None:
        return self._by_name.get(name.casefold())

    def select(self, names: list[str]) -> Manifest:
        """Keep only the named features; an unknown name is a usage error listing the known ones."""
        if not names:
            return self
        chosen: list[Feature] = []
        for name in names:
            found = self.feature(name)
            if found is None:
                known = ", ".join(f.name for f in self.features)
                raise InputError(
                    f"unknown feature {name!r} (this manifest defines: {known}).",
                    fix=f"Use --feature with one of: {known}.",
                )
            if found not in chosen:
                chosen.append(found)
        return Manifest(
            app_display_name=self.app_display_name,
            known_app_ids=self.known_app_ids,
            resource_display_name=self.resource_display_name,
            resource_app_id=self.resource_app_id,
            features=tuple(chosen),
            source=self.source,
            owner_tenant_ids=self.owner_tenant_ids,
            verified_publisher_ids=self.verified_publisher_ids,
        )

    @property
    def all_scopes(self) -> ScopeSet:
        out = ScopeSet()
        for feature in self.features:
            out = out.union(feature.scopes)
        return out

    def to_toml(self) -> str:
        """The effective manifest as TOML that ``manifest validate`` accepts unchanged."""
        doc: dict[str, Any] = {
            "schema_version": MANIFEST_SCHEMA_VERSION,
            "app": {
                "display_name": self.app_display_name,
                "known_app_ids": list(self.known_app_ids),
                "owner_tenant_ids": list(self.owner_tenant_ids),
                "verified_publisher_ids": list(self.verified_publisher_ids),
            },
            "resource": {
                "display_name": self.resource_display_name,
                "app_id": self.resource_app_id,
            },
            "feature": [
                {"name": f.name, "title": f.title, "scopes": list(f.scopes)} for f in self.features
            ],
        }
        from consent_audit.render.safe_text import clean, toml_safe

        header = f"# consent-audit manifest (effective; from {clean(self.source)})\n"
        return header + toml_safe(tomli_w.dumps(doc))


# A manifest may come from anywhere: its problems are listed, and typos get a "did you mean",
# only up to these bounds (50,000 unknown scopes took 23 s of spelling suggestions; issue #12).
SHOWN_PROBLEMS = 50
SUGGESTED_SCOPES = 20
_SUGGESTABLE_LENGTH = 100


class _Problems:
    """Collects every problem so one run of ``manifest validate`` shows them all (the first
    :data:`SHOWN_PROBLEMS` of them, and how many more)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []
        self.suggestions_left = SUGGESTED_SCOPES

    def add(self, path: str, problem: str, fix: str) -> None:
        self.items.append(f"{path}: {problem} Fix: {fix}")

    def suggest(self, catalog: PermissionCatalog, scope: str) -> str | None:
        """The closest known scope, for the first few short typos only (difflib is costly)."""
        if self.suggestions_left <= 0 or len(scope) > _SUGGESTABLE_LENGTH:
            return None
        self.suggestions_left -= 1
        return catalog.suggest(scope)

    def raise_if_any(self) -> None:
        if self.items:
            count = len(self.items)
            shown = self.items[:SHOWN_PROBLEMS]
            if count > len(shown):
                shown.append(f"and {count - len(shown)} more")
            raise InputError(
                f"{self.source}: {count} problem{'s' if count > 1 else ''} in the manifest:",
                items=tuple(shown),
                fix="Correct the manifest, then run `consent-audit manifest validate FILE`.",
            )


_TOP_KEYS = {"schema_version", "app", "resource", "feature"}
_APP_KEYS = {"display_name", "known_app_ids", "owner_tenant_ids", "verified_publisher_ids"}
_RESOURCE_KEYS = {"display_name", "app_id"}
_FEATURE_KEYS = {"name", "title", "scopes"}


def _unknown_keys(problems: _Problems, path: str, table: dict[str, Any], known: set[str]) -> None:
    for key in table:
        if key not in known:
            where = f"{path}.{key}" if path else key
            allowed = ", ".join(sorted(known))
            problems.add(where, "unknown key.", f"remove it; allowed keys here: {allowed}.")


def _table(problems: _Problems, raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    if not isinstance(value, dict):
        problems.add(key, "missing or not a table.", f"add a [{key}] table.")
        return {}
    return value


def _id_list(
    problems: _Problems,
    app: dict[str, Any],
    key: str,
    pattern: re.Pattern[str],
    what: str,
    example: str,
) -> list[str]:
    """The [app] list under ``key`` when every entry matches ``pattern``; else a problem and []."""
    values = app.get(key, [])
    if isinstance(values, list) and all(
        isinstance(v, str) and pattern.fullmatch(v) for v in values
    ):
        return values
    problems.add(f"app.{key}", f"must be a list of {what}.", f"write e.g. {key} = [{example}].")
    return []


def _string(problems: _Problems, table: dict[str, Any], path: str, key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{path}.{key}", "missing or not a non-empty string.", "set it to a string.")
        return ""
    return value


def _scopes(
    problems: _Problems, path: str, value: object, catalog: PermissionCatalog
) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problems.add(path, "empty or missing scope list.", "list at least one delegated scope.")
        return ()
    out: list[str] = []
    seen: set[str] = set()
    for index, scope in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(scope, str) or not scope.strip() or any(c.isspace() for c in scope):
            problems.add(where, f"{scope!r} is not a scope name.", "write one scope per string.")
            continue
        known = catalog.by_value(scope)
        if known is None:
            hint = problems.suggest(catalog, scope)
            fix = f"did you mean {hint!r}?" if hint else "use a Microsoft Graph delegated scope."
            problems.add(where, f"unknown Microsoft Graph delegated scope {scope!r}.", fix)
            continue
        if known.value.casefold() in seen:
            problems.add(where, f"{scope!r} is listed twice.", "remove the duplicate.")
            continue
        seen.add(known.value.casefold())
        out.append(known.value)
    return tuple(out)


def _features(
    problems: _Problems, raw: dict[str, Any], catalog: PermissionCatalog
) -> tuple[Feature, ...]:
    value = raw.get("feature")
    if not isinstance(value, list) or not value:
        problems.add("feature", "no features defined.", "add at least one [[feature]] table.")
        return ()
    features: list[Feature] = []
    names: set[str] = set()
    for index, item in enumerate(value):
        path = f"feature[{index}]"
        if not isinstance(item, dict):
            problems.add(path, "not a table.", "write each feature as a [[feature]] table.")
            continue
        _unknown_keys(problems, path, item, _FEATURE_KEYS)
        name = _string(problems, item, path, "name")
        if name and not FEATURE_NAME.fullmatch(name):
            problems.add(
                f"{path}.name",
                f"{name!r} is not a valid feature name.",
                "use lower-case letters, digits, '-' or '_'.",
            )
        elif name in names:
            problems.add(
                f"{path}.name",
                f"feature {name!r} is defined twice.",
                "keep one [[feature]] table per feature name.",
            )
        names.add(name)
        title = item.get("title", name)
        if not isinstance(title, str):
            problems.add(f"{path}.title", "not a string.", "set a short human-readable title.")
            title = name
        scopes = _scopes(problems, f"{path}.scopes", item.get("scopes"), catalog)
        features.append(Feature(name=name, title=title or name, scopes=scopes))
    return tuple(features)


def parse_manifest(text: str, source: str, catalog: PermissionCatalog | None = None) -> Manifest:
    """Parse and validate manifest TOML; raise one InputError listing every problem."""
    catalog = catalog or graph_catalog()
    raw = parse_toml(
        text,
        source,
        fix="Correct the TOML syntax; `consent-audit manifest show` prints a valid example.",
    )
    problems = _Problems(source)
    _unknown_keys(problems, "", raw, _TOP_KEYS)
    version = raw.get("schema_version")
    # An integer, as documented: true and 1.0 compare equal to 1 in Python.
    if type(version) is not int or version != MANIFEST_SCHEMA_VERSION:
        problems.add(
            "schema_version",
            f"is {version!r}, expected {MANIFEST_SCHEMA_VERSION}.",
            f"set schema_version = {MANIFEST_SCHEMA_VERSION}.",
        )
    app = _table(problems, raw, "app")
    _unknown_keys(problems, "app", app, _APP_KEYS)
    display_name = _string(problems, app, "app", "display_name")
    app_ids = _id_list(
        problems,
        app,
        "known_app_ids",
        GUID,
        "appId GUIDs",
        '"00000000-0000-0000-0000-000000000000"',
    )
    owners = _id_list(
        problems,
        app,
        "owner_tenant_ids",
        GUID,
        "tenant id GUIDs",
        '"00000000-0000-0000-0000-000000000000"',
    )
    publishers = _id_list(
        problems,
        app,
        "verified_publisher_ids",
        PUBLISHER_ID,
        'verified publisher ids (Partner Center ids, e.g. "1234567")',
        '"1234567"',
    )
    resource = _table(problems, raw, "resource")
    _unknown_keys(problems, "resource", resource, _RESOURCE_KEYS)
    resource_name = _string(problems, resource, "resource", "display_name")
    resource_app_id = _string(problems, resource, "resource", "app_id")
    if resource_app_id and resource_app_id.casefold() != catalog.resource_app_id.casefold():
        problems.add(
            "resource.app_id",
            f"{resource_app_id!r} is not Microsoft Graph; only Graph scopes are known.",
            f"set app_id = {catalog.resource_app_id!r}.",
        )
    features = _features(problems, raw, catalog)
    problems.raise_if_any()
    return Manifest(
        app_display_name=display_name,
        known_app_ids=tuple(a.lower() for a in app_ids),
        resource_display_name=resource_name,
        resource_app_id=resource_app_id.lower(),
        features=features,
        source=source,
        owner_tenant_ids=tuple(t.lower() for t in owners),
        verified_publisher_ids=tuple(publishers),
    )


def load_manifest(path: Path | None = None) -> Manifest:
    """The bundled manifest, or the file given with ``--manifest`` (``-`` = stdin)."""
    if path is None:
        text = resources.files("consent_audit.data").joinpath("manifest.toml").read_text("utf-8")
        return parse_manifest(text, "<bundled manifest>")
    from consent_audit.files import read_text_input

    return parse_manifest(*read_text_input(path, "manifest"))
