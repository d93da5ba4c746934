"""One text per mechanism, so every output tells one story per cause.

Sign-in frequency, MFA, step-up consent and revocation are each explained by a finding, by
``explain`` (for the finding and for the AADSTS code), by the AADSTS catalog and by the fix
plan. When those texts were written separately they disagreed (sign-in frequency was "nothing
to change" in one place and "exclude Recruitee or lengthen the interval" in another). Here
each mechanism has exactly one text, in ``data/mechanisms.toml``; ``findings.toml`` and
``aadsts_codes.json`` quote it as ``{mechanism.NAME}`` (expanded when they are loaded), and
rules call :func:`mechanism`.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_REFERENCE = re.compile(r"\{mechanism\.(\w+)\}")


@lru_cache(maxsize=1)
def mechanisms() -> dict[str, str]:
    """Mechanism name -> its one text."""
    raw = tomllib.loads(
        resources.files("consent_audit.data").joinpath("mechanisms.toml").read_text("utf-8")
    )
    texts = {name: str(entry["text"]) for name, entry in raw.items()}
    # Expanded inside TOML and JSON strings before they are parsed: no quote, no backslash.
    if any('"' in t or "\\" in t for t in texts.values()):
        raise ValueError("data/mechanisms.toml: a text may not hold a double quote or backslash")
    return texts


def mechanism(name: str) -> str:
    """The text of one mechanism (an unknown name is a programming error)."""
    return mechanisms()[name]


def expand(text: str) -> str:
    """``text`` with every ``{mechanism.NAME}`` replaced by that mechanism's text."""
    return _REFERENCE.sub(lambda m: mechanism(m.group(1)), text)
