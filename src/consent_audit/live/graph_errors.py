"""Graph's error envelope, typed, and what each failure means for a snapshot part.

Graph errors look like ``{"error": {"code", "message", "innerError": {"request-id", ...}}}``;
the JSON-representation block of ``concepts/errors.md`` spells it ``innererror`` while its
examples use ``innerError``, so both are read. Code against ``code``, not ``message``
(same page) -- except for licence errors, whose code varies by API (see ``is_licence_error``).
"""

from __future__ import annotations

from typing import Any

from consent_audit.live.scrub import scrub
from consent_audit.snapshot import PartStatus

# Sign-in logs without Entra ID P1/P2 (MicrosoftDocs/azure-docs PR #77948; reported both as
# 401 and 403); PIM-style endpoints answer 400 AadPremiumLicenseRequired.
_LICENCE_CODES = {
    "authentication_requestfromnonpremiumtenantorb2ctenant",
    "aadpremiumlicenserequired",
}
_LICENCE_PHRASES = ("premium license", "premium licence", "doesn't have premium", "p1 or p2")

# Transport-level failures get status 0 and one of these codes.
CONNECTION_FAILED = "ConnectionFailed"
RETRIES_EXHAUSTED = "RetriesExhausted"
FOREIGN_NEXT_LINK = "ForeignNextLink"
NEXT_LINK_LOOP = "NextLinkLoop"
BAD_RESPONSE = "BadResponse"


class GraphError(Exception):
    """One failed Graph request: HTTP status (0 = no response), code, message, request id.

    Code, message and request id are the server's text: scrubbed of tokens here, once, so
    no report, snapshot, log or message built from them can carry one (live/scrub.py)."""

    def __init__(self, status: int, code: str, message: str, request_id: str | None = None) -> None:
        code, message = scrub(code), scrub(message)
        request_id = scrub(request_id) if request_id else request_id
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id

    @property
    def is_licence_error(self) -> bool:
        if self.code.casefold() in _LICENCE_CODES:
            return True
        text = self.message.casefold()
        return any(phrase in text for phrase in _LICENCE_PHRASES)

    @property
    def is_connection_failure(self) -> bool:
        return self.status == 0 and self.code == CONNECTION_FAILED

    @property
    def part_status(self) -> PartStatus:
        """Licence before permission: a 401/403 licence error is not a missing permission."""
        if self.is_licence_error:
            return PartStatus.NOT_LICENSED
        if self.status == 403:
            return PartStatus.FORBIDDEN
        if self.status == 404:
            return PartStatus.NOT_FOUND
        return PartStatus.ERROR

    def describe(self) -> str:
        """Code, message and request id: what Microsoft support asks for."""
        head = f"HTTP {self.status} {self.code}" if self.status else self.code
        tail = f" (request-id {self.request_id})" if self.request_id else ""
        return f"{head}: {self.message}{tail}"


def _inner(error: dict[str, Any]) -> dict[str, Any]:
    for key in ("innerError", "innererror", "InnerError"):
        value = error.get(key)
        if isinstance(value, dict):
            return value
    return {}


def parse_graph_error(
    status: int, body: object, headers: dict[str, str] | None = None
) -> GraphError:
    """Build a GraphError from any response body, even one that is not Graph's envelope."""
    code, message, request_id = "", "", None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error: dict[str, Any] = body["error"]
        code = str(error.get("code") or "")
        message = str(error.get("message") or "")
        inner = _inner(error)
        rid = inner.get("request-id") or inner.get("requestId")
        request_id = str(rid) if rid else None
    if request_id is None and headers:
        lowered = {k.lower(): v for k, v in headers.items()}
        request_id = lowered.get("request-id") or lowered.get("client-request-id")
    if not code:
        code = f"HTTP{status}"
    if not message:
        message = "no error message in the response"
    return GraphError(status, code, message, request_id)
