"""Suggested commands an admin pastes: built from validated values, quoted for their shell.

A report suggests PowerShell lines (``Update-MgOauth2PermissionGrant ...``), Graph requests
(``PATCH /v1.0/oauth2PermissionGrants/{id} {...}``) and ``consent-audit`` command lines
(``consent-audit fix --snapshot FILE --user UPN``). Their values come from the tenant, a
snapshot or the command line, so each one is first validated for its kind
(:mod:`consent_audit.graph_ids`) and then quoted for the shell that will read it:

- PowerShell: single quotes, inside which nothing is expanded (no ``$()``, no backtick
  escapes); a quote inside is doubled. PowerShell also ends a single-quoted string at the
  typographic quotes U+2018-U+201B, so those are doubled too (about_Quoting_Rules).
- POSIX shells (the ``consent-audit`` suggestions): :func:`shlex.quote`.

A value that fails validation is never printed as part of a command: the builders raise
:class:`~consent_audit.graph_ids.UnsafeValueError`, and the caller says why instead of
showing the line (the fix plan turns the step into a manual one; a suggestion line names
what was left out).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any

from consent_audit.graph_ids import IdKind, UnsafeValueError, checked, path_segment, problem

_PS_QUOTES = re.compile("['\u2018\u2019\u201a\u201b]")

__all__ = [
    "GRAPH_ROOT",
    "IdKind",
    "UnsafeValueError",
    "az_rest_line",
    "connect_line",
    "consent_audit_line",
    "graph_path",
    "invoke_line",
    "posix_quote",
    "powershell_line",
    "powershell_quote",
    "scope_string",
    "suggestion",
    "suggestion_parts",
]


def powershell_quote(value: str) -> str:
    """``value`` as a PowerShell single-quoted string: read literally, whatever it holds."""
    return "'" + _PS_QUOTES.sub(lambda m: m.group() * 2, value) + "'"


def posix_quote(value: str) -> str:
    """``value`` as one word for sh, bash or zsh (``shlex.quote``)."""
    return shlex.quote(value)


def scope_string(scopes: Iterable[str]) -> str:
    """Scope names joined by spaces, each validated as a permission name."""
    return " ".join(checked(IdKind.SCOPE, s) for s in scopes)


def graph_path(template: str, **ids: tuple[IdKind, str]) -> str:
    """A Graph path with each ``{name}`` replaced by its validated, percent-encoded id.

    ``graph_path("/servicePrincipals/{sp}", sp=(IdKind.OBJECT_ID, sp_id))``.
    """
    return template.format(
        **{name: path_segment(kind, value) for name, (kind, value) in ids.items()}
    )


def powershell_line(
    cmdlet: str, params: Sequence[tuple[str, IdKind, str]], suffix: str = ""
) -> str:
    """``Cmdlet -Name 'value' ...``: each value validated for its kind, then single-quoted.

    ``suffix`` is the command's own literal text (``-AccountEnabled:$true``), never data.
    """
    parts = [cmdlet]
    for name, kind, value in params:
        parts.append(f"-{name} {powershell_quote(checked(kind, value))}")
    if suffix:
        parts.append(suffix)
    return " ".join(parts)


def consent_audit_line(
    subcommand: str, params: Sequence[tuple[str, IdKind, str]] = (), flags: Sequence[str] = ()
) -> str:
    """``consent-audit SUB --opt value ...`` for a POSIX shell: each value validated for its
    kind (a file name: one printable line), then quoted with :func:`shlex.quote`. ``flags``
    are the command's own literal options (``--demo``), never data."""
    parts = ["consent-audit", subcommand, *flags]
    for option, kind, value in params:
        parts += [option, posix_quote(checked(kind, value))]
    return " ".join(parts)


def suggestion_parts(
    subcommand: str,
    params: Sequence[tuple[str, IdKind, str | None]] = (),
    flags: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """:func:`suggestion` as its words, each option with its quoted value kept together
    (``--user 'o'"'"'brien@x'``), and the notes on what was left out. A renderer that must
    break a long command breaks it only between these parts."""
    good: list[str] = ["consent-audit", subcommand, *flags]
    left_out: list[str] = []
    for option, kind, value in params:
        if value is None:
            continue
        reason = problem(kind, value)
        if reason is None:
            good.append(f"{option} {posix_quote(value)}")
        else:
            left_out.append(f"{option} left out: the value given is {reason}")
    return good, left_out


def suggestion(
    subcommand: str,
    params: Sequence[tuple[str, IdKind, str | None]] = (),
    flags: Sequence[str] = (),
) -> str:
    """A ``consent-audit`` command to run next, as one line to paste into a POSIX shell.

    ``flags`` are the command's own literal options (``--demo``). A value that fails its
    kind is left out of the command, and the line says which option was left out and why,
    after the command (never inside it)."""
    parts, left_out = suggestion_parts(subcommand, params, flags)
    line = " ".join(parts)
    return f"{line} ({'; '.join(left_out)})" if left_out else line


GRAPH_ROOT = "https://graph.microsoft.com"
"""Microsoft Graph in the global cloud; a national cloud's admin uses its own host."""
_GRAPH_PATH = re.compile(r"/[A-Za-z0-9/_.%$()=',-]*")


def _request_url(path: str) -> str:
    """The absolute v1.0 URL of a plan request's path (already built by :func:`graph_path`
    from validated ids); a path with anything else in it is refused, never printed."""
    if not _GRAPH_PATH.fullmatch(path):
        raise UnsafeValueError(IdKind.OBJECT_ID, "not a Graph request path")
    return f"{GRAPH_ROOT}/v1.0{path}"


def _body(body: dict[str, Any] | None) -> str:
    return json.dumps(body or {}, ensure_ascii=True)


def connect_line(scopes: Sequence[str]) -> str:
    """``Connect-MgGraph -Scopes 'A','B'``: the sign-in a Graph PowerShell line needs, with
    only the permissions that request needs (each validated as a permission name)."""
    return "Connect-MgGraph -Scopes " + ",".join(
        powershell_quote(checked(IdKind.SCOPE, s)) for s in scopes
    )


def invoke_line(method: str, path: str, body: dict[str, Any] | None) -> str:
    """The request as ``Invoke-MgGraphRequest`` (Microsoft.Graph.Authentication), its URL and
    JSON body single-quoted for PowerShell."""
    return (
        f"Invoke-MgGraphRequest -Method {checked_method(method)} "
        f"-Uri {powershell_quote(_request_url(path))} -Body {powershell_quote(_body(body))} "
        "-ContentType 'application/json'"
    )


def az_rest_line(method: str, path: str, body: dict[str, Any] | None) -> str:
    """The request as ``az rest`` (Azure CLI) for a POSIX shell: URL and body shell-quoted."""
    return (
        f"az rest --method {checked_method(method).lower()} "
        f"--url {posix_quote(_request_url(path))} "
        f"--headers Content-Type=application/json --body {posix_quote(_body(body))}"
    )


def checked_method(method: str) -> str:
    if method not in ("GET", "PATCH", "POST", "DELETE"):
        raise UnsafeValueError(IdKind.OBJECT_ID, "not an HTTP method")
    return method
