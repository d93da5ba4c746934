"""Pseudonyms in a report turned back into names, with the customer's own key: ``unredact``.

A customer sends support a redacted snapshot (live/redact.py) and gets back a report that
says "User 3fa2c1d0", "CA policy 6b5e999b" or a pseudonymous object id. Only the customer can
say who that is: pseudonyms are an HMAC under the redaction key they kept, and object ids a
tenant-scoped hash. ``consent-audit unredact REPORT --snapshot MINE`` redacts the customer's
own *unredacted* snapshot of the same tenant again with that key (the same computation as
``snapshot --redact``), which gives every pseudonym with the value it replaced, and writes the
report with each pseudonym it finds replaced by the original. Nothing is sent anywhere; the
inputs are only read.

Which values: people's display names (``User …``, ``Group …``), UPNs and e-mail addresses
(``user-…@redacted.invalid``), Conditional Access policy names (``CA policy …``) and object
ids (any GUID the snapshot knows). A pseudonym of someone the snapshot does not hold (taken
for other users, or the person left) stays as it is and is counted.

The originals are tenant data, so they leave through the one boundary (render/safe_text.py)
in the format's own way: one clean line in text, Markdown-escaped in Markdown, and JSON
strings in JSON (bidi controls escaped, as every JSON this tool writes).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consent_audit.render.markdown import cell
from consent_audit.render.safe_text import clean, escape_json_bidi, json_safe_report

PSEUDONYM = re.compile(
    r"user-[0-9a-f]{10}\\?@redacted\.invalid"
    r"|\b(?:User|Group) [0-9a-f]{8}\b"
    r"|\bCA policy [0-9a-f]{8}\b"
    r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
"""Every shape a pseudonym takes (live/redact.py, pseudonymous_ids.py); Markdown writes the
UPN's ``@`` as ``\\@``."""


@dataclass
class Unredacted:
    text: str
    replaced: int = 0
    unknown: list[str] = field(default_factory=list)
    """Pseudonyms (names, UPNs, policies) the snapshot had no original for."""


def _is_name(token: str) -> bool:
    return not re.fullmatch(r"[0-9a-fA-F-]{36}", token)


_PASTE_SAFE = re.compile(r"[A-Za-z0-9._@+-]+")


def _as_written(token: str, original: str) -> str:
    """A UPN goes where its pseudonym stood, also inside a suggested command: quoted for the
    shell when it holds anything but letters, digits and ``. _ @ + -`` (a UPN may hold an
    apostrophe), so a command stays safe to paste."""
    if token.endswith("@redacted.invalid") and not _PASTE_SAFE.fullmatch(original):
        return shlex.quote(original)
    return original


def _replace(
    text: str,
    names: dict[str, str],
    shown: Callable[[str], str],
    out: Unredacted,
    for_reading: bool = True,
) -> str:
    def one(match: re.Match[str]) -> str:
        token = match.group(0).replace("\\@", "@")
        original = names.get(token) or names.get(token.casefold())
        if original is None:
            if _is_name(token) and token not in out.unknown:
                out.unknown.append(token)
            return token
        out.replaced += 1
        return shown(_as_written(token, original) if for_reading else original)

    return PSEUDONYM.sub(one, text)


def _json(value: Any, names: dict[str, str], out: Unredacted) -> Any:
    if isinstance(value, str):
        return _replace(value, names, lambda v: v, out, for_reading=False)
    if isinstance(value, list):
        return [_json(v, names, out) for v in value]
    if isinstance(value, dict):
        return {_json(k, names, out): _json(v, names, out) for k, v in value.items()}
    return value


def unredact(text: str, kind: str, names: dict[str, str]) -> Unredacted:
    """``text`` (a report in ``kind``: text, markdown or json) with pseudonyms replaced."""
    folded = {**{k.casefold(): v for k, v in names.items()}, **names}
    out = Unredacted("")
    if kind == "json":
        document = json_safe_report(_json(json.loads(text), folded, out))
        out.text = escape_json_bidi(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
        return out
    shown: Callable[[str], str] = (lambda v: cell(clean(v))) if kind == "markdown" else clean
    lines = [_replace(line, folded, shown, out) for line in text.split("\n")]
    out.text = "\n".join(clean(line) for line in lines)
    return out
