"""Validation by kind for every value that reaches a Graph URL or a suggested command.

Object ids, grant ids, scope names and user names come from the tenant (or from a snapshot a
customer sent): a grant id ``x/../../servicePrincipals/<id>?$select=id#`` or a scope
``$(iex(iwr "http://..."))`` is data someone else wrote. Before such a value becomes part
of something that acts (a Graph request path ``fix --apply`` sends, a PowerShell or shell
line an admin pastes), it must be the kind of value it claims to be:

- object ids and appIds are GUIDs (8-4-4-4-12 hex digits);
- grant ids are base64url (``oauth2PermissionGrant.id``: letters, digits, ``-`` and ``_``);
- scopes are a permission in the bundled Graph catalog
  (``data/graph_delegated_permissions.json``) or a name of the same shape
  (``Letters.Dotted-Words_1``);
- user principal names use only the characters Graph allows ("A - Z, a - z, 0 - 9,
  ' . - _ ! # ^ ~", microsoft-graph-docs-contrib resources/user.md), one ``@`` and a domain
  name; one leading ``$`` is allowed (user-get.md addresses such UPNs); ``user`` is a UPN or
  an object id, as ``--user`` accepts;
- tenants are a GUID, a domain name, or ``organizations``/``common``/``consumers``;
- a file name (``--snapshot FILE`` in a suggested command) is one printable line: no
  control, line-break, bidi or surrogate character.

Who uses it: ``evaluate/fixes.py`` and ``commands.py`` build the plan's requests and the
suggested command lines from validated values only (a value that fails is never printed as
part of a command: the step says why instead), and ``live/writes.py`` builds write URLs with
:func:`path_segment`, so ``/../``, ``?``, ``#`` or ``%2F`` in an id can never change the path
a write goes to. Import from here rather than writing another pattern.
"""

from __future__ import annotations

import re
from enum import Enum
from urllib.parse import quote


class IdKind(str, Enum):
    """What a value must be before it is used in a request path or a command."""

    OBJECT_ID = "object id"
    APP_ID = "appId"
    GRANT_ID = "permission grant id"
    SCOPE = "permission name"
    SCOPES = "space-separated list of permission names"
    UPN = "user principal name"
    USER = "user principal name or object id"
    TENANT = "tenant id or domain"
    FILE = "file name"


class UnsafeValueError(ValueError):
    """A value is not of the kind its use needs; the message never repeats the value.

    ``reason`` reads after "the value is": "not a GUID", "not base64url", ..."""

    def __init__(self, kind: IdKind, reason: str) -> None:
        super().__init__(f"not a valid {kind.value}: {reason}")
        self.kind = kind
        self.reason = reason


# Patterns a run may never need are strings, compiled (and cached by re) on first use.
_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Graph's published names: letters and digits, dotted words, '-' and '_' inside a word
# (Mail.ReadWrite, offline_access, IndustryData-Run.Read.All).
_SCOPE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,127}(?:\.[A-Za-z0-9_-]{1,128}){0,8}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+"
_UPN_LOCAL = r"\$?[A-Za-z0-9'._!#^~-]{1,113}"
_UNPRINTABLE = (
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)
_TENANT_ALIASES = frozenset({"organizations", "common", "consumers"})


def _why_not(kind: IdKind, value: object) -> str | None:
    if not isinstance(value, str):
        return "not text"
    if value != value.strip() or not value:
        return "empty or surrounded by spaces"
    if kind in (IdKind.OBJECT_ID, IdKind.APP_ID):
        return None if re.fullmatch(_GUID, value) else "not a GUID"
    if kind is IdKind.GRANT_ID:
        return None if _BASE64URL.fullmatch(value) else "not base64url"
    if kind is IdKind.SCOPE:
        return None if _is_scope(value) else "not a Microsoft Graph permission name"
    if kind is IdKind.SCOPES:
        ok = all(_is_scope(s) for s in value.split(" "))
        return None if ok else "a list with a name that is not a Microsoft Graph permission name"
    if kind is IdKind.FILE:
        return "a name with control or bidi characters" if re.search(_UNPRINTABLE, value) else None
    if kind is IdKind.UPN:
        return None if _is_upn(value) else "not a valid user principal name"
    if kind is IdKind.USER:
        if re.fullmatch(_GUID, value) or _is_upn(value):
            return None
        return "neither a user principal name nor an object id"
    if value.casefold() in _TENANT_ALIASES or re.fullmatch(_GUID, value):
        return None
    if re.fullmatch(_DOMAIN, value):
        return None
    return "neither a tenant id (GUID) nor a domain name"


def _is_upn(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at and re.fullmatch(_UPN_LOCAL, local) and re.fullmatch(_DOMAIN, domain))


def _is_scope(value: str) -> bool:
    """Every name in the bundled catalog has this shape (tests/security/test_graph_ids.py), and
    so does a permission Graph added after the catalog was refreshed."""
    return _SCOPE.fullmatch(value) is not None


def problem(kind: IdKind, value: object) -> str | None:
    """Why ``value`` is not a valid ``kind`` (without repeating it), or None when it is."""
    return _why_not(kind, value)


def is_valid(kind: IdKind, value: object) -> bool:
    return _why_not(kind, value) is None


def checked(kind: IdKind, value: str) -> str:
    """``value`` itself when it is a valid ``kind``; otherwise :class:`UnsafeValueError`."""
    reason = _why_not(kind, value)
    if reason is not None:
        raise UnsafeValueError(kind, reason)
    return value


def path_segment(kind: IdKind, value: str) -> str:
    """``value`` as one URL path segment: validated for ``kind``, then percent-encoded with
    nothing kept (``/``, ``?``, ``#``, ``%`` all encoded), so it cannot leave its segment."""
    return quote(checked(kind, value), safe="")
