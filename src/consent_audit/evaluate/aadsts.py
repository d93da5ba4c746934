"""The AADSTS catalog: Microsoft's sign-in error codes this tool explains (data/aadsts_codes.json).

Sign-in error codes come from entra-docs reference-error-codes.md; each entry quotes the one
text per mechanism (evaluate/mechanisms.py). Apart from the rules that read the sign-in log
(audit_logs.py), so ``explain`` loads it without the models the rules need.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from consent_audit.evaluate.mechanisms import expand

# Microsoft's error texts carry the values of one sign-in as {placeholders}; a report about
# many sign-ins says what they stand for instead of printing the braces.
PLACEHOLDER_WORDS = {
    "issueDate": "the time the user signed in",
    "date": "the time the user signed in",
    "time": "the limit the policy sets",
    "appId": "the application's ID",
    "appName": "the application's name",
    "applicationId": "the application's ID",
    "resourceId": "the resource's ID",
    "email": "the user's address",
    "idp": "the identity provider",
    "tenant": "the tenant",
    "name": "the resource",
}
_PLACEHOLDER = r"'?\{(\w+)\}'?"  # compiled (and cached by re) on first use


def fill_placeholders(text: str) -> str:
    """``text`` with Microsoft's ``{placeholder}`` tokens said in words."""
    return re.sub(
        _PLACEHOLDER, lambda m: PLACEHOLDER_WORDS.get(m.group(1), f"the {m.group(1)}"), text
    )


@lru_cache(maxsize=1)
def aadsts_catalog() -> dict[int, dict[str, Any]]:
    raw = json.loads(
        resources.files("consent_audit.data").joinpath("aadsts_codes.json").read_text("utf-8")
    )
    return {
        int(entry["code"]): {
            k: fill_placeholders(expand(v)) if isinstance(v, str) else v for k, v in entry.items()
        }
        for entry in raw["codes"]
    }
