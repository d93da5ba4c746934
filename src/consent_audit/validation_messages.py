"""Turns pydantic validation errors into one readable line with the field path."""

from __future__ import annotations

from pydantic import ValidationError


def field_path(loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as ``a.b[0].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """Describe the first few problems as ``path: message`` pairs."""
    errors = exc.errors(include_url=False)
    parts = [f"{field_path(tuple(e['loc']))}: {e['msg']}" for e in errors[:limit]]
    more = len(errors) - limit
    if more > 0:
        parts.append(f"and {more} more problem{'s' if more > 1 else ''}")
    return "; ".join(parts)
