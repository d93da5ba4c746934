"""Graph responses, error envelopes and the small ``$filter`` subset the emulator understands.

The filter grammar is a conjunction (``and``) of these clause forms, each endpoint allowing
only some ``op:field`` pairs (anything else is ``400 Request_UnsupportedQuery``, so a collector
that sends a filter Graph would reject fails in tests too):

* ``field eq 'text'`` / ``field eq true|false|null|123``       -> ``eq:field``
* ``field in ('a','b')``                                       -> ``in:field``
* ``startswith(field,'text')`` (any case of ``startsWith``)    -> ``startswith:field``
* ``field ge|gt|le|lt|eq 2024-01-01T00:00:00Z`` (parsed only)  -> ``date:field``
* ``coll/any(x:x/field eq 'text')``                            -> ``any:coll/field``
* ``coll/any(x:x eq 'text')`` (a collection of strings or enums) -> ``any:coll``
* ``field ne 'text'|literal``, ``endswith(field,'text')``, ``not(<clause>)`` -> ``ne:field``,
  ``endswith:field``, ``not:<signature>``: *advanced* operators, which directory objects
  accept only with ``ConsistencyLevel: eventual`` and ``$count=true``
  (concepts/aad-advanced-queries.md); :func:`advanced_signatures` names them per endpoint.

String comparisons are case-insensitive, as Graph's are for directory objects.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8"
)


@dataclass
class GraphResponse:
    """What the router answers; ``body`` is JSON-able or None (no body)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def json_bytes(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


def error_envelope(code: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """Graph's error body (concepts/errors.md): ``{"error":{code,message,innerError}}``."""
    rid = request_id or str(uuid.uuid4())
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": rid,
                "client-request-id": rid,
            },
        }
    }


def error(status: int, code: str, message: str) -> GraphResponse:
    return GraphResponse(status, error_envelope(code, message))


def forbidden() -> GraphResponse:
    return error(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def not_licensed() -> GraphResponse:
    return error(
        403,
        "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "Tenant is not a B2C tenant and doesn't have premium license",
    )


def not_found(key: str) -> GraphResponse:
    return error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{key}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def server_error(message: str | None = None) -> GraphResponse:
    return error(500, "UnknownError", message or "An internal server error occurred.")


def bad_request(message: str, code: str = "Request_BadRequest") -> GraphResponse:
    return error(400, code, message)


def unsupported_query(message: str) -> GraphResponse:
    return error(400, "Request_UnsupportedQuery", message)


# -- $filter ------------------------------------------------------------------------------


class UnsupportedFilter(ValueError):
    """The filter is outside the subset the endpoint supports."""


ADVANCED_OPS = frozenset({"ne", "endswith", "not"})


@dataclass(frozen=True)
class Clause:
    op: str
    field: str
    values: tuple[Any, ...] = ()
    negated: Clause | None = None
    """For ``not(...)``: the clause it negates."""

    @property
    def signature(self) -> str:
        if self.negated is not None:
            return f"not:{self.negated.signature}"
        return f"{self.op}:{self.field.casefold()}"

    @property
    def advanced(self) -> bool:
        """Needs the advanced query parameters on directory objects."""
        return self.op in ADVANCED_OPS


def advanced_signatures(allowed: frozenset[str]) -> frozenset[str]:
    """The advanced forms a directory endpoint accepts for the basic ones it allows:
    ``ne`` and ``not(eq)`` where ``eq`` is allowed, ``endswith`` where ``startswith`` is."""
    extra: set[str] = set()
    for signature in allowed:
        op, _, name = signature.partition(":")
        if op == "eq":
            extra |= {f"ne:{name}", f"not:eq:{name}"}
        elif op == "startswith":
            extra |= {f"endswith:{name}", f"not:startswith:{name}"}
    return frozenset(extra)


_STR = r"'((?:[^']|'')*)'"
_FIELD = r"([A-Za-z_]\w*(?:/[A-Za-z_]\w*)*)"
_DATE = r"(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:\d{2})?)"
_RE_EQ_STR = re.compile(rf"^{_FIELD}\s+eq\s+{_STR}$", re.I)
_RE_EQ_LIT = re.compile(rf"^{_FIELD}\s+eq\s+(true|false|null|-?\d+)$", re.I)
_RE_NE_STR = re.compile(rf"^{_FIELD}\s+ne\s+{_STR}$", re.I)
_RE_NE_LIT = re.compile(rf"^{_FIELD}\s+ne\s+(true|false|null|-?\d+)$", re.I)
_RE_ENDSWITH = re.compile(rf"^endswith\(\s*{_FIELD}\s*,\s*{_STR}\s*\)$", re.I)
_RE_NOT = re.compile(r"^not\s*\((.*)\)$", re.I | re.S)
_RE_ANY_SELF = re.compile(rf"^{_FIELD}/any\s*\(\s*(\w+)\s*:\s*\2\s+eq\s+{_STR}\s*\)$", re.I)
_RE_IN = re.compile(rf"^{_FIELD}\s+in\s+\((.*)\)$", re.I)
_RE_IN_ITEMS = re.compile(rf"^\s*{_STR}(?:\s*,\s*{_STR})*\s*$")
_RE_STARTSWITH = re.compile(rf"^startswith\(\s*{_FIELD}\s*,\s*{_STR}\s*\)$", re.I)
_RE_DATE = re.compile(rf"^{_FIELD}\s+(ge|gt|le|lt|eq)\s+{_DATE}$", re.I)
_RE_ANY = re.compile(rf"^{_FIELD}/any\s*\(\s*(\w+)\s*:\s*\2/{_FIELD}\s+eq\s+{_STR}\s*\)$", re.I)
_RE_AND = re.compile(r"\s+and\s+", re.I)


def _unquote(text: str) -> str:
    return text.replace("''", "'")


def _split_and(text: str) -> list[str]:
    """Split on top-level ``and`` (outside quotes and parentheses)."""
    parts: list[str] = []
    depth = 0
    in_quote = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            in_quote = not in_quote
        elif not in_quote and ch == "(":
            depth += 1
        elif not in_quote and ch == ")":
            depth -= 1
        elif not in_quote and depth == 0 and ch.isspace():
            m = _RE_AND.match(text, i)
            if m:
                parts.append(text[start:i])
                i = start = m.end()
                continue
        i += 1
    if in_quote or depth != 0:
        raise UnsupportedFilter("unbalanced quotes or parentheses")
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _strip_parens(text: str) -> str:
    """Remove parentheses that wrap the whole clause: ``(a eq 'x')`` -> ``a eq 'x'``."""
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        in_quote = False
        closes_at = -1
        for j, ch in enumerate(text):
            if ch == "'":
                in_quote = not in_quote
            elif not in_quote and ch == "(":
                depth += 1
            elif not in_quote and ch == ")":
                depth -= 1
                if depth == 0:
                    closes_at = j
                    break
        if closes_at != len(text) - 1:
            break
        text = text[1:-1].strip()
    return text


def _literal(token: str) -> Any:
    low = token.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if low == "null":
        return None
    return int(token)


def parse_clause(text: str) -> Clause:
    text = _strip_parens(text.strip())
    if m := _RE_EQ_STR.match(text):
        return Clause("eq", m.group(1), (_unquote(m.group(2)),))
    if m := _RE_EQ_LIT.match(text):
        return Clause("eq", m.group(1), (_literal(m.group(2)),))
    if m := _RE_NE_STR.match(text):
        return Clause("ne", m.group(1), (_unquote(m.group(2)),))
    if m := _RE_NE_LIT.match(text):
        return Clause("ne", m.group(1), (_literal(m.group(2)),))
    if m := _RE_STARTSWITH.match(text):
        return Clause("startswith", m.group(1), (_unquote(m.group(2)),))
    if m := _RE_ENDSWITH.match(text):
        return Clause("endswith", m.group(1), (_unquote(m.group(2)),))
    if (m := _RE_NOT.match(text)) and _strip_parens(text) == text:
        inner = parse_clause(m.group(1))
        if inner.op in ADVANCED_OPS or inner.op in ("any", "date"):
            raise UnsupportedFilter(f"'not' of {inner.op!r} is not supported")
        return Clause("not", inner.field, inner.values, negated=inner)
    if m := _RE_ANY_SELF.match(text):
        return Clause("any", m.group(1), (_unquote(m.group(3)),))
    if m := _RE_DATE.match(text):
        stamp = m.group(3)
        try:
            datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            raise UnsupportedFilter(f"invalid date literal {stamp!r}") from None
        return Clause("date", m.group(1), (stamp,))
    if m := _RE_IN.match(text):
        inner = m.group(2)
        if not _RE_IN_ITEMS.match(inner):
            raise UnsupportedFilter(f"invalid 'in' list in {text!r}")
        items = tuple(_unquote(v) for v in re.findall(_STR, inner))
        return Clause("in", m.group(1), items)
    if m := _RE_ANY.match(text):
        return Clause("any", f"{m.group(1)}/{m.group(3)}", (_unquote(m.group(4)),))
    raise UnsupportedFilter(f"unsupported clause {text!r}")


def parse_filter(text: str, allowed: frozenset[str]) -> list[Clause]:
    """Parse ``text`` into clauses; raise UnsupportedFilter for anything outside ``allowed``."""
    if not text.strip():
        raise UnsupportedFilter("empty $filter")
    clauses = [parse_clause(part) for part in _split_and(text.strip())]
    for clause in clauses:
        if clause.signature not in allowed:
            raise UnsupportedFilter(f"{clause.op} on '{clause.field}' is not supported here")
    return clauses


def get_path(item: Any, path: str) -> Any:
    """Walk ``a/b/c`` through dicts, matching keys case-insensitively."""
    current = item
    for name in path.split("/"):
        if not isinstance(current, dict):
            return None
        wanted = name.casefold()
        current = next((v for k, v in current.items() if k.casefold() == wanted), None)
    return current


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    return bool(actual == expected)


def clause_matches(item: dict[str, Any], clause: Clause) -> bool:
    if clause.op == "date":
        return True  # parsed, deliberately not applied
    if clause.negated is not None:
        return not clause_matches(item, clause.negated)
    if clause.op == "any":
        coll, _, sub = clause.field.partition("/")
        elements = get_path(item, coll) or []
        if not sub:
            return any(_equal(el, clause.values[0]) for el in elements)
        return any(
            _equal(get_path(el, sub), clause.values[0]) for el in elements if isinstance(el, dict)
        )
    actual = get_path(item, clause.field)
    if clause.op == "eq":
        return _equal(actual, clause.values[0])
    if clause.op == "ne":
        return not _equal(actual, clause.values[0])
    if clause.op == "endswith":
        return isinstance(actual, str) and actual.casefold().endswith(
            str(clause.values[0]).casefold()
        )
    if clause.op == "in":
        return any(_equal(actual, v) for v in clause.values)
    if clause.op == "startswith":
        return isinstance(actual, str) and actual.casefold().startswith(
            str(clause.values[0]).casefold()
        )
    raise AssertionError(clause.op)


def apply_filter(items: list[dict[str, Any]], clauses: list[Clause]) -> list[dict[str, Any]]:
    return [it for it in items if all(clause_matches(it, c) for c in clauses)]


def clause_value(clauses: list[Clause], signature: str) -> Any:
    """The first value of the clause with this signature, or None."""
    for clause in clauses:
        if clause.signature == signature:
            return clause.values[0]
    return None
