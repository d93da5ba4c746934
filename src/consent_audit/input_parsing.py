"""Parsing JSON and TOML that someone else wrote: a snapshot from a customer, a manifest file.

Python's parsers fail on hostile documents in ways that are not ``JSONDecodeError`` or
``TOMLDecodeError``: ~1,000 nested arrays raise ``RecursionError``, an integer of more than
4,300 digits raises ``ValueError`` (CVE-2020-10735's limit), and ``json`` silently keeps the
last of two equal keys, so a snapshot could show one value to a reviewer and another to the
tool. Here each of those is one :class:`InputError` (exit 2) naming the file.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from consent_audit.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str, source: str, fix: str) -> Any:
    """``text`` as JSON, strictly: no duplicate keys, no NaN/Infinity, bounded depth."""
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        problem = f"not a JSON file ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    except _DuplicateKeyError as exc:
        problem = f"the key {exc.key!r} appears twice in one JSON object"
    except RecursionError:
        problem = "the JSON is nested too deeply"
    except ValueError:
        # Integer too long to convert (int_max_str_digits), or NaN/Infinity.
        problem = "the JSON holds a number that is not a plain JSON number of sane size"
    raise InputError(f"{source}: {problem}.", fix=fix)


def parse_toml(text: str, source: str, fix: str) -> dict[str, Any]:
    """``text`` as TOML; nesting and huge integers are errors like any syntax error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problem = f"not valid TOML ({exc})"
    except RecursionError:
        problem = "the TOML is nested too deeply"
    except ValueError:
        problem = "the TOML holds a number too long to read"
    raise InputError(f"{source}: {problem}.", fix=fix)
