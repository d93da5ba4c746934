"""Secrets out of what a server says, before any of it reaches an output, a log or a file.

A Graph error's message, its request id, a nextLink in a ``-v`` line: all are the server's
text, and a hostile or broken endpoint (or a proxy) can echo the request's
``Authorization: Bearer <token>`` into them (issue #19: a 403 whose message carried the token
into stdout and ``-o`` files). Every such text passes through :func:`scrub`, which removes the
tokens this process sent (remembered by :func:`remember` when a token is first used) and
anything shaped like one: ``Bearer <b64token>`` (RFC 6750) and JWTs (three base64url parts,
the first starting ``eyJ``, i.e. ``{"``), whoever issued them.
"""

from __future__ import annotations

import re
import threading

REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)\b(bearer)(\s+|%20|\+)[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?")
_MIN_SECRET = 8
"""Shorter strings are not remembered: replacing every "test" would garble messages, and no
real token is that short."""

_lock = threading.Lock()
_secrets: set[str] = set()


def remember(secret: str) -> None:
    """A token this process sends: removed wherever a server repeats it."""
    if len(secret) >= _MIN_SECRET:
        with _lock:
            _secrets.add(secret)


def scrub(text: str) -> str:
    """``text`` without remembered secrets, bearer credentials or JWTs."""
    if not text:
        return text
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _JWT.sub(REDACTED, text)
