"""What people report instead of an error code, mapped to the code Entra logs for it.

Recruiters rarely quote ``AADSTS90094``; they say "Recruitee keeps saying Need admin approval".
Each phrase below is the text of an Entra screen or error message (entra-docs
configure-admin-consent-workflow.md: "Need admin approval" without the admin consent
workflow, "Approval required" with it; reference-error-codes.md for the AADSTS texts), so
``explain`` can give the same answer as for the code.
"""

from __future__ import annotations

import re

# (words that identify the message, the AADSTS code Entra records, what the person saw)
REPORTED: tuple[tuple[tuple[str, ...], int, str], ...] = (
    (
        ("need admin approval",),
        90094,
        "Microsoft's consent screen when the user may not consent and cannot request it "
        "(admin consent requests are off)",
    ),
    (
        ("approval required",),
        90095,
        "Microsoft's consent screen when the user may not consent but can send a request to "
        "the reviewers (admin consent requests are on)",
    ),
    (
        ("admin consent is required", "administrator consent is required", "needs permission"),
        90094,
        "Microsoft's message that only an administrator can grant what Recruitee asks for",
    ),
    (
        ("has not consented", "hasn't consented", "have not consented", "not consented"),
        65001,
        "Microsoft's message that nobody consented to a scope Recruitee asked for",
    ),
    (
        ("not assigned to a role", "isn't assigned", "is not assigned"),
        50105,
        "Microsoft's message that the user is not assigned to Recruitee, which requires it",
    ),
    (
        (
            "blocked by conditional access",
            "does not meet the criteria",
            "doesn't meet the criteria",
        ),
        53003,
        "Microsoft's message that a Conditional Access policy blocked the sign-in",
    ),
    (
        ("application is disabled", "app is disabled"),
        7000112,
        "Microsoft's message that Recruitee's enterprise application is disabled",
    ),
)
_CODE = re.compile(r"AADSTS\s*(\d{4,7})", re.IGNORECASE)
# Quotes (straight and typographic) and ellipses people paste along with the message.
_NOISE = re.compile("[\"'\u201c\u201d\u2018\u2019\u2026]|\\.{2,}")


def _normal(text: str) -> str:
    return " ".join(_NOISE.sub(" ", text).casefold().split())


def reported_code(text: str) -> tuple[int, str | None] | None:
    """The AADSTS code a reported message stands for, and what the person saw (None when
    the text quotes the code itself)."""
    quoted = _CODE.search(text)
    if quoted is not None:
        return int(quoted.group(1)), None
    said = _normal(text)
    for words, code, seen in REPORTED:
        if any(w in said for w in words):
            return code, seen
    return None
