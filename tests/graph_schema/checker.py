"""Check what consent-audit reads from Graph against Microsoft's published schema.

The schema is the vendored subset of microsoftgraph/msgraph-metadata
(``graph_schema_subset.json``, written by ``vendor.py``). Three things are checked, each in the
version (v1.0 or beta) it is read from:

* every request of the collector's own plan (``live.plan.collection_plan``, the list
  docs/permissions.md is generated from): its path resolves segment by segment through the
  entity container and navigation properties, and every property its ``$select``,
  ``$filter``, ``$orderby`` or ``$expand`` names exists on the type it addresses;
* every field of every Graph model (``graph_objects.GraphObject`` subclasses): its wire name
  (the alias) is a property of the Graph type it is read as, its Python type fits the
  property's type, and a property the CSDL leaves nullable is not assumed non-null;
* every enum member the code compares a Graph enum field with (string literals next to such a
  field in ``src/consent_audit``) is a member of that enum.

Departures the tool makes on purpose are listed, with reasons, in ``deviations.py``; a listed
departure that no longer occurs is reported too. ``problems()`` returns the findings as
sentences; the test asserts the list is empty, and injects mistakes to see it is not.
"""

from __future__ import annotations

import ast
import json
import re
import types
import typing
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel

from tests.graph_schema import deviations as default_deviations

SUBSET = Path(__file__).with_name("graph_schema_subset.json")
STRINGY = {
    "Edm.String",
    "Edm.Guid",
    "Edm.Date",
    "Edm.TimeOfDay",
    "Edm.Duration",
    "Edm.Binary",
    "string",
}
INTEGERS = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte", "number"}
NUMBERS = INTEGERS | {"Edm.Double", "Edm.Single", "Edm.Decimal"}
FILTER_WORDS = {
    "eq", "ne", "gt", "ge", "lt", "le", "and", "or", "not", "in", "has", "any", "all",
    "true", "false", "null",
}  # fmt: skip
FILTER_FUNCTIONS = {"startswith", "endswith", "contains", "tolower", "toupper", "length"}
_TOKEN = re.compile(
    r"'(?:[^']|'')*'"  # string literal
    r"|\d{4}-\d\d-\d\dT[\d:.]+Z?"  # date-time literal
    r"|[A-Za-z_][\w.]*(?:/[A-Za-z_][\w.]*)*"  # identifier or property path
    r"|\S"
)


def _element(ref: str) -> str:
    return ref[11:-1] if ref.startswith("Collection(") else ref


def _is_collection(ref: str) -> bool:
    return ref.startswith("Collection(")


@dataclass
class Schema:
    """One version of the vendored subset."""

    version: str
    types: dict[str, Any]
    enums: dict[str, Any]
    container: dict[str, str]
    actions: dict[str, Any]

    def chain(self, name: str) -> Iterator[str]:
        """The type and its base types, nearest first."""
        seen: set[str] = set()
        while name in self.types and name not in seen:
            seen.add(name)
            yield name
            name = self.types[name].get("base", "")

    def member(self, type_name: str, prop: str) -> tuple[str, bool, bool] | None:
        """(type, nullable, is navigation) of ``prop`` on ``type_name`` or a base type."""
        for name in self.chain(type_name):
            entry = self.types[name]
            if prop in entry["properties"]:
                ref, nullable = entry["properties"][prop]
                return ref, nullable, False
            if prop in entry.get("navigation", {}):
                ref = entry["navigation"][prop]
                return ref, not _is_collection(ref), True
        return None

    def derived(self, type_name: str) -> list[str]:
        return [t for t in self.types if type_name in self.chain(t) and t != type_name]

    def member_or_derived(self, type_name: str, prop: str) -> tuple[str, bool, bool] | None:
        found = self.member(type_name, prop)
        for name in self.derived(type_name) if found is None else ():
            found = found or self.member(name, prop)
        return found

    def is_structured(self, name: str) -> bool:
        return name in self.types


def load(path: Path = SUBSET) -> dict[str, Schema]:
    data = json.loads(path.read_text("utf-8"))
    versions = data["versions"]
    v1 = versions["v1.0"]
    out = {}
    for version, body in versions.items():
        out[version] = Schema(
            version,
            body["types"],
            body["enums"],
            # The typings a missing beta CSDL is vendored from have no entity container:
            # beta serves the same root segments as v1.0 for everything the tool reads.
            body["container"] if body["container"] is not None else v1["container"],
            body["actions"] or {},
        )
    return out


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    used: set[tuple[str, ...]] = field(default_factory=set)
    """Deviation keys that excused something (the rest are stale)."""

    def add(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)


# --- requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """What the check needs of a planned call."""

    key: str
    version: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: Any = field(default=None, compare=False)
    """The JSON body of a read that is an action (the What-If ``evaluate``)."""


def requests_of(plan: Iterable[Any]) -> list[Request]:
    return [
        Request(
            c.key,
            c.version,
            c.path,
            tuple(sorted(dict(c.headers).items())),
            getattr(c, "body", None),
        )
        for c in plan
    ]


def _segments(path: str) -> list[str]:
    """Path segments; a ``(...)`` key stays on its segment; quotes may hold slashes."""
    out, depth, current = [], 0, ""
    for char in path.strip("/"):
        if char == "/" and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    return [*out, current] if current else out


def resolve(schema: Schema, path: str) -> tuple[str, str | None]:
    """The type a request path addresses (``Collection(x)`` or ``x``), or an error."""
    ref: str | None = None
    for segment in _segments(path):
        name = segment.split("(", 1)[0]
        if ref is None:
            ref = schema.container.get(name)
            if ref is None:
                return "", f"'{name}' is not an entity set or singleton of Graph {schema.version}"
            if "(" in segment and _is_collection(ref):
                ref = _element(ref)
            continue
        is_cast = name.startswith("microsoft.graph.")
        if _is_collection(ref) and not is_cast:
            ref = _element(ref)  # a key segment: /servicePrincipals/{id}
            continue
        if is_cast:
            cast = name.removeprefix("microsoft.graph.")
            if cast not in schema.types or _element(ref) not in schema.chain(cast):
                return "", f"cast '{name}' does not derive from {_element(ref)}"
            ref = f"Collection({cast})" if _is_collection(ref) else cast
            continue
        if not schema.is_structured(_element(ref)):
            return "", f"type '{_element(ref)}' is not vendored (add it to vendor.py ROOT_TYPES)"
        found = schema.member(_element(ref), name)
        if found is None:
            action = schema.actions.get(f"{_element(ref)}/{name}")
            if action is not None:
                return action.get("returns") or "", None
            return "", f"'{name}' is not a property of {_element(ref)} in Graph {schema.version}"
        ref = found[0]
        if "(" in segment and _is_collection(ref):
            ref = _element(ref)
    return ref or "", None


def _navigable(schema: Schema, ref: str) -> set[str]:
    element = _element(ref)
    names: set[str] = set()
    for name in schema.chain(element):
        names |= set(schema.types[name]["properties"]) | set(
            schema.types[name].get("navigation", {})
        )
    return names


def _query(path: str) -> dict[str, str]:
    _, _, query = path.partition("?")
    out = {}
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        out[unquote(key)] = unquote(value)
    return out


def filter_paths(expression: str) -> list[tuple[list[str], str | None]]:
    """The property paths a ``$filter`` names, each with the lambda variable it starts from
    (``None``: the addressed type). ``userConsentRequests/any(u:u/status eq 'x')`` gives
    ``(['userConsentRequests'], None)`` and ``(['status'], 'u')`` bound to the first path."""
    tokens = _TOKEN.findall(expression)
    out: list[tuple[list[str], str | None]] = []
    variables: dict[str, list[str]] = {}
    for index, token in enumerate(tokens):
        if not re.match(r"[A-Za-z_]", token) or re.match(r"\d{4}-", token):
            continue
        nxt = tokens[index + 1] if index + 1 < len(tokens) else ""
        if token.casefold() in FILTER_WORDS or token.casefold() in FILTER_FUNCTIONS:
            continue
        if nxt == ":":  # a lambda variable being declared
            continue
        parts = token.split("/")
        if parts[-1] in ("any", "all") and nxt == "(":
            parts = parts[:-1]
            declared = tokens[index + 2] if index + 3 < len(tokens) else ""
            if tokens[index + 3 : index + 4] == [":"]:
                variables[declared] = parts
        if parts[0] in variables:
            out.append((parts[1:], parts[0]))
        else:
            out.append((parts, None))
    return [(p, v) for p, v in out if p or v is None]


def _property_path(schema: Schema, type_name: str, parts: Sequence[str]) -> str | None:
    """Walk ``a/b/c`` from ``type_name``; the error, or None when every step exists."""
    current = type_name
    for part in parts:
        if not schema.is_structured(current):
            return f"'{part}': {current} has no properties"
        found = schema.member(current, part)
        if found is None:
            return f"'{part}' is not a property of {current}"
        current = _element(found[0])
    return None


def check_requests(
    schemas: dict[str, Schema], requests: Iterable[Request], report: Report, excuses: Any
) -> dict[str, set[str]]:
    """Check paths and query options; return the Graph types read, with their versions."""
    read_as: dict[str, set[str]] = {}
    for request in requests:
        schema = schemas[request.version]
        where = f"{request.key} ({request.version} {unquote(request.path)})"
        path = request.path.split("?", 1)[0]
        ref, error = resolve(schema, path)
        if error:
            report.add(f"{where}: {error}")
            continue
        element = _element(ref)
        read_as.setdefault(element, set()).add(request.version)
        if request.body is not None:
            check_body(schema, where, path, request.body, report)
        query = _query(request.path)
        for option in ("$select", "$orderby", "$expand"):
            for name in filter(
                None, (n.strip().split(" ")[0] for n in query.get(option, "").split(","))
            ):
                found = _member(schema, element, name, report, excuses)
                if found is None:
                    report.add(
                        f"{where}: {option} names '{name}', not a property of {element} "
                        f"in Graph {request.version}"
                        + _elsewhere(schemas, request.version, element, name)
                    )
        if "$filter" in query:
            bindings: dict[str, str] = {}
            for parts, variable in filter_paths(query["$filter"]):
                start = element if variable is None else bindings.get(variable, "")
                if variable is not None and not start:
                    continue
                error = _property_path(schema, start, parts)
                if error is None and variable is None and parts:
                    found = schema.member(element, parts[0])
                    target = _walk(schema, element, parts)
                    if found is not None and target:
                        for var in _declared_after(query["$filter"], "/".join(parts)):
                            bindings[var] = target
                if error:
                    report.add(
                        f"{where}: $filter {error} in Graph {request.version}"
                        + _elsewhere(schemas, request.version, start, parts[0] if parts else "")
                    )
    return read_as


def _member(
    schema: Schema, type_name: str, prop: str, report: Report, excuses: Any
) -> tuple[str, bool, bool, bool] | None:
    """``Schema.member``, or the property of a derived type that deviations.py names;
    the last item says which."""
    found = schema.member(type_name, prop)
    if found is not None:
        return (*found, False)
    if (type_name, prop) in excuses.DERIVED_TYPE_PROPERTIES:
        found = schema.member_or_derived(type_name, prop)
        if found is not None:
            report.used.add(("DERIVED_TYPE_PROPERTIES", type_name, prop))
            return (*found, True)
    return None


def check_body(schema: Schema, where: str, path: str, body: Any, report: Report) -> None:
    """The body of an action: each parameter, and inside it each property (of the type its
    ``@odata.type`` names, which must derive from the declared one) and enum value."""
    parent, _, name = path.rstrip("/").rpartition("/")
    bound, error = resolve(schema, parent)
    action = schema.actions.get(f"{_element(bound)}/{name}")
    if error or action is None:
        report.add(f"{where}: '{name}' is not an action of {_element(bound) or parent}")
        return
    if not isinstance(body, dict):
        report.add(f"{where}: the body is not a JSON object")
        return
    for key, value in body.items():
        if key not in action["parameters"]:
            report.add(f"{where}: body parameter '{key}' is not a parameter of '{name}'")
            continue
        _check_value(schema, f"{where}: body {key}", action["parameters"][key][0], value, report)


def _check_value(schema: Schema, where: str, ref: str, value: Any, report: Report) -> None:
    element = _element(ref)
    if value is None:
        return
    if isinstance(value, list):
        if not _is_collection(ref):
            report.add(f"{where}: a list, but Graph's {ref} is not a collection")
        for item in value:
            _check_value(schema, where, element, item, report)
        return
    if _is_collection(ref):
        report.add(f"{where}: Graph's {ref} is a collection, the body sends one value")
        return
    if isinstance(value, dict):
        actual = str(value.get("@odata.type", "")).removeprefix("#microsoft.graph.") or element
        if actual not in schema.types or element not in schema.chain(actual):
            report.add(f"{where}: {actual} is not {element} or a type derived from it")
            return
        for key, item in value.items():
            if key.startswith("@"):
                continue
            found = schema.member(actual, key)
            if found is None:
                report.add(f"{where}: '{key}' is not a property of {actual}")
            else:
                _check_value(schema, f"{where}/{key}", found[0], item, report)
        return
    if isinstance(value, bool):
        wrong = element != "Edm.Boolean"
    elif isinstance(value, (int, float)):
        wrong = element not in NUMBERS
    elif element in schema.enums:
        members = {m.casefold() for m in schema.enums[element]["members"]}
        unknown = [v for v in str(value).split(",") if v.strip().casefold() not in members]
        if unknown:
            report.add(f"{where}: '{value}' is not a member of Graph {schema.version} {element}")
        return
    else:
        wrong = element not in STRINGY | {"Edm.DateTimeOffset"}
    if wrong:
        report.add(f"{where}: {value!r} does not fit Graph's {element}")


def _walk(schema: Schema, type_name: str, parts: Sequence[str]) -> str:
    current = type_name
    for part in parts:
        found = schema.member(current, part)
        if found is None:
            return ""
        current = _element(found[0])
    return current


def _declared_after(expression: str, path: str) -> list[str]:
    return re.findall(re.escape(path) + r"/(?:any|all)\(\s*(\w+)\s*:", expression)


def _elsewhere(schemas: dict[str, Schema], version: str, type_name: str, prop: str) -> str:
    others = [v for v, s in schemas.items() if v != version and s.member(type_name, prop)]
    return f" (it exists in {', '.join(others)} only)" if others else ""


# --- models ---------------------------------------------------------------------------------


def graph_models(base: type[BaseModel], package: str = "consent_audit") -> list[type[BaseModel]]:
    """Every subclass of ``base`` defined in ``package`` (other engineers' new models
    included, once their module is imported)."""
    found: list[type[BaseModel]] = []
    queue = list(base.__subclasses__())
    while queue:
        cls = queue.pop(0)
        if cls not in found:
            found.append(cls)
            queue.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.split(".")[0] == package]


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without ``None``, whether it accepts ``None``)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        inner = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
        return inner, nullable
    return annotation, annotation is Any


def _fits(schema: Schema, annotation: Any, ref: str) -> str | None:
    """Why a Python annotation cannot hold a value of Graph type ``ref`` (None: it can)."""
    annotation, _ = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return None
    if origin in (list, tuple, set, frozenset):
        if not _is_collection(ref):
            return f"a list, but Graph's {ref} is not a collection"
        args = typing.get_args(annotation)
        return _fits(schema, args[0], _element(ref)) if args else None
    if _is_collection(ref):
        return f"not a list, but Graph's {ref} is a collection"
    if origin is dict or annotation is dict:
        return None if schema.is_structured(ref) else f"a mapping, but Graph's {ref} is not"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None if schema.is_structured(ref) else f"a model, but Graph's {ref} is scalar"
    if origin is typing.Literal or (isinstance(annotation, type) and issubclass(annotation, Enum)):
        values = (
            typing.get_args(annotation)
            if origin is typing.Literal
            else [m.value for m in annotation]  # type: ignore[union-attr]
        )
        if ref in schema.enums:
            members = {m.casefold() for m in schema.enums[ref]["members"]}
            missing = [v for v in values if str(v).casefold() not in members]
            return f"values {missing} are not members of {ref}" if missing else None
        return None if ref in STRINGY else f"text values, but Graph's {ref} is not text"
    if annotation is bool:
        return None if ref == "Edm.Boolean" else f"bool, but Graph's type is {ref}"
    if annotation is int:
        return None if ref in INTEGERS else f"int, but Graph's type is {ref}"
    if annotation is float:
        return None if ref in NUMBERS else f"float, but Graph's type is {ref}"
    if annotation is datetime:
        ok = ref in ("Edm.DateTimeOffset", "string")
        return None if ok else f"datetime, but Graph's type is {ref}"
    if annotation is str:
        ok = ref in STRINGY or ref in schema.enums
        return None if ok else f"str, but Graph's type is {ref}"
    return f"{annotation!r} is not a type the check knows"


def _model_type(annotation: Any) -> type[BaseModel] | None:
    annotation, _ = _unwrap(annotation)
    if typing.get_origin(annotation) in (list, tuple, set, frozenset):
        annotation, _ = _unwrap(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def check_models(
    schemas: dict[str, Schema],
    roots: dict[type[BaseModel], str],
    read_as: dict[str, set[str]],
    all_models: Iterable[type[BaseModel]],
    report: Report,
    excuses: Any,
) -> None:
    """Each model against the Graph type it is read as, in each version that type is read
    from (nested models follow their field's type)."""
    seen: set[tuple[type[BaseModel], str, str]] = set()
    queue: list[tuple[type[BaseModel], str, str]] = []
    versions_of: dict[str, set[str]] = {}
    for model, graph_type in roots.items():
        versions = read_as.get(graph_type) or {
            v for t, vs in read_as.items() for v in vs if graph_type in schemas[v].chain(t)
        }
        if not versions:
            report.add(f"{model.__name__}: no planned request reads Graph type {graph_type}")
        queue += [(model, graph_type, v) for v in sorted(versions)]
        versions_of[graph_type] = set(versions)
    while queue:
        item = queue.pop(0)
        if item in seen:
            continue
        seen.add(item)
        model, graph_type, version = item
        schema = schemas[version]
        if not schema.is_structured(graph_type):
            report.add(
                f"{model.__name__}: Graph type {graph_type} is not in the vendored {version} schema"
            )
            continue
        for name, info in model.model_fields.items():
            wire = info.alias or name
            where = f"{model.__name__}.{name} ('{wire}' of {graph_type}, {version})"
            found = _member(schema, graph_type, wire, report, excuses)
            if found is not None and found[3] and not _unwrap(info.annotation)[1]:
                report.add(f"{where}: only a derived type has it, so the field must accept None")
            if found is None:
                key = (graph_type, wire, version)
                if key in excuses.ABSENT_FROM_VERSION:
                    report.used.add(("ABSENT_FROM_VERSION", *key))
                    if not any(
                        _member(schemas[v], graph_type, wire, report, excuses)
                        for v in versions_of[graph_type]
                    ):
                        report.add(
                            f"{where}: excused as absent from {version}, "
                            "but no version it is read from has it"
                        )
                    continue
                report.add(
                    f"{where}: not a property of {graph_type} in Graph {version}"
                    + _elsewhere(schemas, version, graph_type, wire)
                )
                continue
            ref, nullable, _navigation, _derived = found
            mismatch = _fits(schema, info.annotation, ref)
            if mismatch:
                report.add(f"{where}: the field is {mismatch}")
            _, accepts_none = _unwrap(info.annotation)
            if nullable and not _is_collection(ref) and not accepts_none:
                key2 = (graph_type, wire)
                if key2 in excuses.REQUIRED_THOUGH_NULLABLE:
                    report.used.add(("REQUIRED_THOUGH_NULLABLE", *key2))
                else:
                    report.add(
                        f"{where}: Graph may send null (nullable in the {version} schema) "
                        "but the field does not accept None"
                    )
            nested = _model_type(info.annotation)
            if nested is not None and schema.is_structured(_element(ref)):
                queue.append((nested, _element(ref), version))
                versions_of.setdefault(_element(ref), set()).update(versions_of[graph_type])
    checked = {m for m, _, _ in seen}
    for model in all_models:
        if model not in checked and model.model_fields:
            report.add(
                f"{model.__name__}: a Graph model no check reaches (add it to MODEL_TYPES in "
                "tests/graph_schema/test_graph_schema.py, or use it in a checked model)"
            )


# --- enum members the code handles -----------------------------------------------------------


def enum_fields(
    schemas: dict[str, Schema], roots: dict[type[BaseModel], str]
) -> dict[str, set[str]]:
    """Python field name -> the Graph enums it holds (only names that hold an enum in every
    model that has them, so a literal is never checked against the wrong field)."""
    out: dict[str, set[str]] = {}
    plain: set[str] = set()
    schema = schemas["v1.0"]
    queue = list(roots.items())
    seen: set[tuple[type[BaseModel], str]] = set()
    while queue:
        model, graph_type = queue.pop()
        if (model, graph_type) in seen:
            continue
        seen.add((model, graph_type))
        for name, info in model.model_fields.items():
            found = schema.member(graph_type, info.alias or name)
            if found is None:
                continue
            element = _element(found[0])
            if element in schema.enums:
                out.setdefault(name, set()).add(element)
            else:
                plain.add(name)
            nested = _model_type(info.annotation)
            if nested is not None and schema.is_structured(element):
                queue.append((nested, element))
    return {k: v for k, v in out.items() if k not in plain}


def _string_constants(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level names bound to a literal set/list/tuple/dict of strings."""
    out: dict[str, list[str]] = {}
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        value = getattr(node, "value", None)
        if isinstance(value, ast.Call) and value.args:  # frozenset({...})
            value = value.args[0]
        strings = _literal_strings(value)
        for target in targets:
            if isinstance(target, ast.Name) and strings:
                out[target.id] = strings
    return out


def _literal_strings(node: ast.AST | None) -> list[str]:
    if isinstance(node, (ast.Set, ast.List, ast.Tuple)):
        items = node.elts
    elif isinstance(node, ast.Dict):
        items = [k for k in node.keys if k is not None]
    else:
        return []
    values = [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
    return values if len(values) == len(items) else []


def _enums_in(node: ast.AST, fields: dict[str, set[str]], tainted: dict[str, set[str]]) -> set[str]:
    """The Graph enums an expression reads: enum fields it accesses, tainted names it uses."""
    out: set[str] = set()
    for part in ast.walk(node):
        if isinstance(part, ast.Attribute) and part.attr in fields:
            out |= fields[part.attr]
        elif isinstance(part, ast.Name) and part.id in tainted:
            out |= tainted[part.id]
    return out


def _reads(value: ast.AST, fields: dict[str, set[str]], tainted: dict[str, set[str]]) -> set[str]:
    """The enums a value holds: for a comprehension, what its elements are (its ``if``
    clauses filter, they do not make the value an enum)."""
    if isinstance(value, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        local = dict(tainted)
        for generator in value.generators:
            enums = _reads(generator.iter, fields, local)
            if isinstance(generator.target, ast.Name):
                local.pop(generator.target.id, None)
                if enums:
                    local[generator.target.id] = enums
        element = value.key if isinstance(value, ast.DictComp) else value.elt
        return _enums_in(element, fields, local)
    return _enums_in(value, fields, tainted)


def _taint(function: ast.AST, fields: dict[str, set[str]]) -> dict[str, set[str]]:
    """Local names holding an enum field's value (``state = policy.state.casefold()``,
    ``controls = [x.casefold() for x in grant.built_in_controls]``, a comprehension's
    variable over such a list), to a fixed point."""
    tainted: dict[str, set[str]] = {}
    for _ in range(3):
        for node in ast.walk(function):
            pairs: list[tuple[ast.AST, ast.AST]] = []
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                pairs.append((node.targets[0], node.value))
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                pairs.append((node.target, node.value))
            elif isinstance(node, (ast.comprehension, ast.For)):
                pairs.append((node.target, node.iter))
            for target, value in pairs:
                enums = _reads(value, fields, tainted)
                if isinstance(target, ast.Name) and enums:
                    tainted[target.id] = tainted.get(target.id, set()) | enums
    return tainted


def handled_members(
    sources: dict[str, str], fields: dict[str, set[str]]
) -> list[tuple[str, int, str, set[str]]]:
    """(file, line, literal, enums) for each string the code compares a Graph enum value
    with: a comparison (or set intersection) whose one side reads an enum field (directly,
    through ``.casefold()``, ``or ""``, a local name or comprehension holding it) and whose
    other side is a string literal or a module constant of literals; and a literal passed
    as an enum field to a model (``PermissionGrantConditionSet(permission_type="x")``)."""
    out = []
    for filename, text in sources.items():
        tree = ast.parse(text)
        constants = _string_constants(tree)
        functions = [
            n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        for function in functions:
            tainted = _taint(function, fields)
            for node in ast.walk(function):
                sides: list[ast.AST] = []
                if isinstance(node, ast.Compare):
                    sides = [node.left, *node.comparators]
                elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.Sub)):
                    sides = [node.left, node.right]
                elif isinstance(node, ast.keyword) and node.arg in fields:
                    if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                        out.append(
                            (filename, node.value.lineno, node.value.value, fields[node.arg])
                        )
                    continue
                enums = set().union(*(_enums_in(side, fields, tainted) for side in sides))
                if not enums:
                    continue
                for side in sides:
                    for part in ast.walk(side):
                        if (
                            isinstance(part, ast.Constant)
                            and isinstance(part.value, str)
                            and part.value
                        ):
                            out.append((filename, part.lineno, part.value, enums))
                        elif isinstance(part, ast.Name) and part.id in constants:
                            out += [(filename, part.lineno, v, enums) for v in constants[part.id]]
    unique = {(f, line, v, frozenset(e)) for f, line, v, e in out}
    return [(f, line, v, set(e)) for f, line, v, e in sorted(unique, key=lambda x: x[:3])]


def check_enum_members(
    schemas: dict[str, Schema],
    handled: list[tuple[str, int, str, set[str]]],
    fields: dict[str, set[str]],
    report: Report,
) -> int:
    members = {
        e: {m.casefold() for m in schemas["v1.0"].enums[e]["members"]}
        for e in set().union(*fields.values(), set())
    }
    count = 0
    for filename, line, value, enums in handled:
        count += 1
        if not any(value.casefold() in members[e] for e in enums):
            names = " or ".join(sorted(enums))
            beta = [
                e
                for e in enums
                if value.casefold()
                in {m.casefold() for m in schemas["beta"].enums.get(e, {}).get("members", [])}
            ]
            note = " (a beta member only)" if beta else ""
            report.add(f"{filename}:{line}: '{value}' is not a member of Graph v1.0 {names}{note}")
    return count


SENTINEL = "unknownFutureValue"
PREFER_UNKNOWN = "include-unknown-enum-members"


def _holds(schema: Schema, type_name: str, enum: str, seen: set[str] | None = None) -> bool:
    """Whether a value of ``type_name`` carries ``enum`` somewhere in its properties."""
    seen = set() if seen is None else seen
    if type_name in seen:
        return False
    seen.add(type_name)
    for name in schema.chain(type_name):
        for ref, _ in schema.types[name]["properties"].values():
            element = _element(ref)
            if element == enum or (
                schema.is_structured(element) and _holds(schema, element, enum, seen)
            ):
                return True
    return False


def check_evolved_members(
    schemas: dict[str, Schema],
    requests: Iterable[Request],
    handled: list[tuple[str, int, str, set[str]]],
    report: Report,
) -> None:
    """A member declared after ``unknownFutureValue`` (an evolvable enum) comes back as
    ``unknownFutureValue`` unless the request sends ``Prefer: include-unknown-enum-members``
    (microsoft/api-guidelines graph/patterns/evolvable-enums.md): code that handles one needs
    every request reading that enum to send the header."""
    schema = schemas["v1.0"]
    read: list[tuple[Request, str]] = []
    for request in requests:
        ref, error = resolve(schema, request.path.split("?", 1)[0])
        if request.version == "v1.0" and not error:
            read.append((request, _element(ref)))
    for filename, line, value, enums in handled:
        for enum in enums:
            members = [m.casefold() for m in schema.enums[enum]["members"]]
            if SENTINEL.casefold() not in members or value.casefold() not in members:
                continue
            if members.index(value.casefold()) < members.index(SENTINEL.casefold()):
                continue
            for request, element in read:
                if not _holds(schema, element, enum):
                    continue
                prefer = dict(request.headers).get("Prefer", "")
                if PREFER_UNKNOWN not in prefer:
                    report.add(
                        f"{filename}:{line}: '{value}' comes after {SENTINEL} in Graph v1.0 "
                        f"{enum}, but {request.key} reads it without 'Prefer: "
                        f"{PREFER_UNKNOWN}' (Graph sends {SENTINEL} instead)"
                    )


def check_stale(report: Report, excuses: Any) -> None:
    for table in ("REQUIRED_THOUGH_NULLABLE", "ABSENT_FROM_VERSION", "DERIVED_TYPE_PROPERTIES"):
        for key in getattr(excuses, table):
            if (table, *key) not in report.used:
                report.add(f"deviations.{table}{list(key)} excuses nothing any more: remove it")


def problems(
    requests: Iterable[Request],
    roots: dict[type[BaseModel], str],
    all_models: Iterable[type[BaseModel]],
    sources: dict[str, str],
    schemas: dict[str, Schema] | None = None,
    excuses: Any = default_deviations,
) -> list[str]:
    """Every departure from the schema that ``deviations.py`` does not excuse."""
    schemas = schemas or load()
    report = Report()
    requests = list(requests)
    read_as = check_requests(schemas, requests, report, excuses)
    check_models(schemas, roots, read_as, list(all_models), report, excuses)
    fields = enum_fields(schemas, roots)
    handled = handled_members(sources, fields)
    check_enum_members(schemas, handled, fields, report)
    check_evolved_members(schemas, requests, handled, report)
    check_stale(report, excuses)
    return report.problems
