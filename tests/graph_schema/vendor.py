"""Vendor the part of Microsoft's published Graph metadata that consent-audit touches.

    python -m tests.graph_schema.vendor --metadata-git PATH/TO/msgraph-metadata.git \
        [--commit SHA] [--beta-typings PATH/TO/microsoft-graph.d.ts]

reads ``schemas/v1.0-Prod.csdl`` and ``schemas/beta-Prod.csdl`` from a git copy of
microsoftgraph/msgraph-metadata (a bare clone works: the files are read with ``git show``) and
writes ``tests/graph_schema/graph_schema_subset.json``: for each version, the entity and complex
types the collector reads (``ROOT_TYPES`` and every type whose name starts with one of
``ROOT_PREFIXES``), closed over base types and the complex and enum types of their
properties; each type with its base type, its properties (type and nullability) and its
navigation properties (target only); the enum types with their members in declaration order;
the entity container (the first segment of every request path); the actions bound to
``ACTION_BINDINGS``. It records the repository, the commit and the paths it read, so a test
failure can be traced to the exact schema.

``beta-Prod.csdl`` is about 8 MB; a copy that lacks it (a shallow or size-capped mirror) can
instead pass ``--beta-typings``: the ``microsoft-graph.d.ts`` of the npm package
``@microsoft/microsoft-graph-types-beta``, which Microsoft generates from the same beta
metadata (``NullableOption<T>`` where the CSDL leaves a property nullable). Its types are
coarse (``string`` covers Edm.String, Guid and DateTimeOffset) and it has no entity container
or actions; the file records which source each version came from.

Re-vendor after adding a Graph read whose type is not in the file yet: add the type to
``ROOT_TYPES`` (or a prefix), run the command above, commit the JSON. The CSDLs themselves are
never committed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REPOSITORY = "microsoftgraph/msgraph-metadata"
PATHS = {"v1.0": "schemas/v1.0-Prod.csdl", "beta": "schemas/beta-Prod.csdl"}
OUT = Path(__file__).with_name("graph_schema_subset.json")
MAIN = "microsoft.graph"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

ROOT_TYPES = (
    # Read by the collector (live/plan.py) and the models (graph_objects.py).
    "entity",
    "directoryObject",
    "servicePrincipal",
    "application",
    "oAuth2PermissionGrant",
    "appRoleAssignment",
    "policyRoot",
    "policyBase",
    "authorizationPolicy",
    "defaultUserRolePermissions",
    "permissionGrantPolicy",
    "permissionGrantConditionSet",
    "delegatedPermissionClassification",
    "adminConsentRequestPolicy",
    "identityGovernance",
    "appConsentApprovalRoute",
    "appConsentRequest",
    "userConsentRequest",
    "request",
    "identityContainer",
    "conditionalAccessRoot",
    "conditionalAccessPolicy",
    "conditionalAccessTemplate",
    "namedLocation",
    "ipNamedLocation",
    "countryNamedLocation",
    "authenticationStrengthRoot",
    "authenticationStrengthPolicy",
    "authenticationContextClassReference",
    "authenticationFlowsPolicy",
    "identitySecurityDefaultsEnforcementPolicy",
    "whatIfAnalysisResult",
    "auditLogRoot",
    "directoryAudit",
    "signIn",
    "organization",
    "user",
    "group",
    "directoryRole",
    "directoryRoleTemplate",
    "administrativeUnit",
    # Directory settings (consent settings such as EnableAdminConsentRequests live there).
    "directorySetting",
    "directorySettingTemplate",
    "groupSetting",
    "groupSettingTemplate",
    "settingValue",
    "settingTemplateValue",
)
ROOT_PREFIXES = (
    "conditionalAccess",
    "whatIf",
    "signIn",
    "appConsent",
    "permissionGrant",
    "verifiedPublisher",
    "consentRequest",
)
"""Whole families, so fields other engineers add later (CA conditions, What-If) are present."""
ACTION_BINDINGS = ("conditionalAccessRoot", "identityContainer", "policyRoot")


def git_show(git_dir: Path, commit: str, path: str) -> bytes | None:
    """The file at ``commit:path``, or None when the copy does not hold its blob."""
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],
        capture_output=True,
        check=False,
    )
    return done.stdout if done.returncode == 0 and done.stdout else None


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=True
    ).stdout.strip()


class Csdl:
    """The declarations of one CSDL document, keyed by short name (main namespace) or by
    full name (other namespaces)."""

    def __init__(self, data: bytes) -> None:
        root = ET.fromstring(data)
        self.types: dict[str, ET.Element] = {}
        self.kinds: dict[str, str] = {}
        self.enums: dict[str, ET.Element] = {}
        self.container: dict[str, str] = {}
        self.actions: list[ET.Element] = []
        self._aliases: dict[str, str] = {}
        for schema in root.iter(f"{EDM}Schema"):
            namespace = schema.get("Namespace", "")
            self._aliases[namespace] = namespace
            if schema.get("Alias"):
                self._aliases[schema.get("Alias", "")] = namespace
        for schema in root.iter(f"{EDM}Schema"):
            namespace = schema.get("Namespace", "")
            alias = schema.get("Alias")
            for child in schema:
                tag = child.tag.removeprefix(EDM)
                name = self.qualify(namespace, child.get("Name", ""))
                if tag in ("EntityType", "ComplexType"):
                    self.types[name] = child
                    self.kinds[name] = "entity" if tag == "EntityType" else "complex"
                elif tag == "EnumType":
                    self.enums[name] = child
                elif tag in ("Action", "Function"):
                    self.actions.append(child)
                elif tag == "EntityContainer":
                    for item in child:
                        kind = item.tag.removeprefix(EDM)
                        if kind == "EntitySet":
                            ref = self.ref(item.get("EntityType", ""), namespace, alias)
                            self.container[item.get("Name", "")] = f"Collection({ref})"
                        elif kind == "Singleton":
                            ref = self.ref(item.get("Type", ""), namespace, alias)
                            self.container[item.get("Name", "")] = ref

    @staticmethod
    def qualify(namespace: str, name: str) -> str:
        return name if namespace == MAIN else f"{namespace}.{name}"

    def ref(self, type_name: str, namespace: str = MAIN, alias: str | None = None) -> str:
        """A type reference with the main namespace and aliases removed."""
        if type_name.startswith("Collection(") and type_name.endswith(")"):
            return f"Collection({self.ref(type_name[11:-1], namespace, alias)})"
        if type_name.startswith("Edm."):
            return type_name
        prefix, _, name = type_name.rpartition(".")
        full = self._aliases.get(prefix, prefix)
        return self.qualify(full, name)


def _element_type(ref: str) -> str:
    return ref[11:-1] if ref.startswith("Collection(") else ref


def _schema_of(name: str) -> str:
    return name.rpartition(".")[0] if "." in name else MAIN


def extract_csdl(csdl: Csdl) -> dict[str, Any]:
    """The subset of one CSDL: roots, their bases and property types, transitively."""
    wanted = [t for t in csdl.types if t in ROOT_TYPES or t.startswith(ROOT_PREFIXES)]
    wanted += [t for t in csdl.enums if t.startswith(ROOT_PREFIXES)]
    actions = _actions(csdl)
    for action in actions.values():
        wanted += [_element_type(ref) for ref, _ in action["parameters"].values()]
        wanted += [_element_type(action["returns"])] if action["returns"] else []
    types: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    queue = list(wanted)
    while queue:
        _close(csdl, queue, types, enums)
        # Complex types derived from one already taken: a value of the declared type may be
        # any of them (OData), e.g. signInContext -> applicationContext in the What-If body.
        queue = [
            t
            for t, element in csdl.types.items()
            if t not in types
            and csdl.kinds[t] == "complex"
            and csdl.ref(element.get("BaseType", "") or "Edm.None", _schema_of(t)) in types
        ]
    return {
        "container": dict(sorted(csdl.container.items())),
        "types": dict(sorted(types.items())),
        "enums": dict(sorted(enums.items())),
        "actions": actions,
    }


def _close(csdl: Csdl, queue: list[str], types: dict[str, Any], enums: dict[str, Any]) -> None:
    """Add the queued types, their base types and their properties' types, transitively."""
    while queue:
        name = queue.pop()
        if name in types or name in enums:
            continue
        if name in csdl.enums:
            element = csdl.enums[name]
            enums[name] = {
                "flags": element.get("IsFlags") == "true",
                "members": [m.get("Name") for m in element.iter(f"{EDM}Member")],
            }
            continue
        if name not in csdl.types:
            continue
        element = csdl.types[name]
        namespace = _schema_of(name)
        entry: dict[str, Any] = {"kind": csdl.kinds[name]}
        if element.get("BaseType"):
            entry["base"] = csdl.ref(element.get("BaseType", ""), namespace)
            queue.append(entry["base"])
        if element.get("Abstract") == "true":
            entry["abstract"] = True
        if element.get("OpenType") == "true":
            entry["open"] = True
        properties: dict[str, list[Any]] = {}
        navigation: dict[str, str] = {}
        for child in element:
            tag = child.tag.removeprefix(EDM)
            ref = csdl.ref(child.get("Type", ""), namespace)
            if tag == "Property":
                properties[child.get("Name", "")] = [ref, child.get("Nullable") != "false"]
                queue.append(_element_type(ref))
            elif tag == "NavigationProperty":
                navigation[child.get("Name", "")] = ref
        entry["properties"] = dict(sorted(properties.items()))
        if navigation:
            entry["navigation"] = dict(sorted(navigation.items()))
        types[name] = entry


def _actions(csdl: Csdl) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    for action in csdl.actions:
        params = list(action.iter(f"{EDM}Parameter"))
        if action.get("IsBound") != "true" or not params:
            continue
        binding = csdl.ref(params[0].get("Type", ""))
        if _element_type(binding) not in ACTION_BINDINGS:
            continue
        returns = action.find(f"{EDM}ReturnType")
        actions[f"{binding}/{action.get('Name')}"] = {
            "kind": action.tag.removeprefix(EDM).lower(),
            "parameters": {
                p.get("Name", ""): [csdl.ref(p.get("Type", "")), p.get("Nullable") != "false"]
                for p in params[1:]
            },
            "returns": csdl.ref(returns.get("Type", "")) if returns is not None else None,
        }
    return dict(sorted(actions.items()))


_TS_DECL = re.compile(r"^export (interface|type) (\w+)(?: extends (\w+))?", re.M)
_TS_PROP = re.compile(r"^    (\w+)\?: (NullableOption<)?([\w.]+)(\[\])?>?;", re.M)
_TS_MEMBER = re.compile(r'"([^"]*)"')
_TS_SCALARS = {"string": "string", "boolean": "Edm.Boolean", "number": "number", "any": "any"}


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def extract_typings(text: str) -> dict[str, Any]:
    """The same subset from ``microsoft-graph.d.ts`` (top-level declarations only; the
    ``export namespace`` blocks hold the other CSDL namespaces)."""
    top = re.split(r"^export namespace ", text, maxsplit=1, flags=re.M)[0]
    decls: dict[str, tuple[str, str | None, str]] = {}
    matches = list(_TS_DECL.finditer(top))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(top)
        decls[_camel(match.group(2))] = (match.group(1), match.group(3), top[match.end() : end])

    def is_entity(name: str) -> bool:
        """Derived from ``Entity``: a property of that type is a navigation property."""
        seen = set()
        while name in decls and name not in seen:
            seen.add(name)
            if name == "entity":
                return True
            name = _camel(decls[name][1] or "")
        return name == "entity"

    types: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    queue = [n for n in decls if n in ROOT_TYPES or n.startswith(ROOT_PREFIXES)]
    while queue:
        name = queue.pop()
        if name in types or name in enums or name not in decls:
            continue
        kind, base, body = decls[name]
        if kind == "type":
            enums[name] = {"flags": False, "members": _TS_MEMBER.findall(body.split(";")[0])}
            continue
        entry: dict[str, Any] = {"kind": "typings"}
        if base:
            entry["base"] = _camel(base)
            queue.append(entry["base"])
        properties: dict[str, list[Any]] = {}
        navigation: dict[str, str] = {}
        for prop in _TS_PROP.finditer(body):
            prop_name, nullable, ts_type, many = prop.groups()
            ref = _TS_SCALARS.get(ts_type, _camel(ts_type))
            full = f"Collection({ref})" if many else ref
            if is_entity(ref):
                navigation[prop_name] = full
                continue
            if ts_type not in _TS_SCALARS:
                queue.append(ref)
            properties[prop_name] = [full, bool(nullable)]
        entry["properties"] = dict(sorted(properties.items()))
        if navigation:
            entry["navigation"] = dict(sorted(navigation.items()))
        types[name] = entry
    return {
        "container": None,
        "types": dict(sorted(types.items())),
        "enums": dict(sorted(enums.items())),
        "actions": None,
    }


def vendor(git_dir: Path, commit: str, beta_typings: Path | None) -> dict[str, Any]:
    sha = _git(git_dir, "rev-parse", f"{commit}^{{commit}}")
    source: dict[str, Any] = {
        "repository": REPOSITORY,
        "commit": sha,
        "committed": _git(git_dir, "log", "-1", "--format=%cI", sha),
        "generated_by": "python -m tests.graph_schema.vendor (tests/graph_schema/vendor.py)",
    }
    versions: dict[str, Any] = {}
    for version, path in PATHS.items():
        data = git_show(git_dir, sha, path)
        if data is not None:
            source[version] = {"path": path, "blob": _git(git_dir, "rev-parse", f"{sha}:{path}")}
            versions[version] = extract_csdl(Csdl(data))
            continue
        if version != "beta" or beta_typings is None:
            raise SystemExit(
                f"{REPOSITORY}@{sha[:12]} has no readable {path} in {git_dir}"
                + (" (pass --beta-typings)" if version == "beta" else "")
            )
        raw = beta_typings.read_bytes()
        package = json.loads((beta_typings.parent / "package.json").read_text("utf-8"))
        source[version] = {
            "path": path,
            "missing": f"{path} is not in this copy of {REPOSITORY} (its blob was left out)",
            "used": {
                "package": f"npm {package['name']}@{package['version']}",
                "repository": package.get("repository", {}).get("url", ""),
                "file": beta_typings.name,
                "sha256": hashlib.sha256(raw).hexdigest(),
            },
        }
        versions[version] = extract_typings(raw.decode("utf-8"))
    return {"source": source, "versions": versions}


def dump(data: dict[str, Any]) -> str:
    """Compact JSON with one line per type, enum, action and container entry (reviewable
    diffs when re-vendored)."""
    lines = ["{", f'"source": {json.dumps(data["source"], indent=1)},', '"versions": {']
    versions = list(data["versions"].items())
    for vi, (version, body) in enumerate(versions):
        lines.append(f"{json.dumps(version)}: {{")
        sections = list(body.items())
        for si, (section, items) in enumerate(sections):
            if items is None:
                lines.append(
                    f"{json.dumps(section)}: null" + ("," if si < len(sections) - 1 else "")
                )
                continue
            lines.append(f"{json.dumps(section)}: {{")
            entries = list(items.items())
            for ei, (key, value) in enumerate(entries):
                comma = "," if ei < len(entries) - 1 else ""
                lines.append(
                    f"  {json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}{comma}"
                )
            lines.append("}" + ("," if si < len(sections) - 1 else ""))
        lines.append("}" + ("," if vi < len(versions) - 1 else ""))
    lines += ["}", "}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metadata-git", type=Path, required=True)
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--beta-typings", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = vendor(args.metadata_git, args.commit, args.beta_typings)
    args.output.write_text(dump(data), encoding="utf-8")
    counts = {
        v: f"{len(b['types'])} types, {len(b['enums'])} enums" for v, b in data["versions"].items()
    }
    print(f"wrote {args.output} from {REPOSITORY}@{data['source']['commit'][:12]}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
