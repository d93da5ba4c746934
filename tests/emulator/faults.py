"""Deterministic fault injection for the Graph emulator.

A :class:`Fault` matches requests by a regular expression searched in the decoded request
target (``/v1.0/servicePrincipals?$filter=appId eq 'x'``; inner ``$batch`` requests are
matched as ``/v1.0`` + their relative url), optionally by method and by whether the request is
top-level or inside a ``$batch``. It lets ``skip`` matching requests through, then fires on the
next ``count`` matching requests (``count=None``: on every one). Faults are tried in order and
at most one fires per request. Nothing is random.

Transport faults (``reset``, ``truncated``, ``short_body``, ``non_json``, ``drip_headers``,
``drip_body``, ``huge``) only make sense for a whole HTTP exchange, so they never match an
inner ``$batch`` request; to break a batch, target ``/\\$batch``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class FaultKind(str, Enum):
    THROTTLE = "throttle"
    """429 TooManyRequests, with ``Retry-After: retry_after`` unless that is None."""
    STATUS = "status"
    """Any error status with a Graph error envelope (500/502/503/504, or 403 ...)."""
    DELAY = "delay"
    """Sleep ``seconds`` (bounded) before answering normally: a read timeout for the client."""
    RESET = "reset"
    """Close the socket with RST, no response at all."""
    TRUNCATED = "truncated"
    """200 with the first half of the JSON body (Content-Length matches the cut body)."""
    SHORT_BODY = "short_body"
    """200 announcing the full Content-Length but sending half, then closing."""
    NON_JSON = "non_json"
    """200 with an HTML body (a proxy's error page)."""
    REPEAT_NEXT_LINK = "repeat_next_link"
    """Collection answered normally but ``@odata.nextLink`` is the request's own URL."""
    FOREIGN_NEXT_LINK = "foreign_next_link"
    """Collection answered normally but ``@odata.nextLink`` points at another origin."""
    BODY = "body"
    """200 with ``body`` (any JSON value: ``{}``, a list, an HTML page as a JSON string) in
    place of the answer; top level or inside a ``$batch``."""
    DRIP_HEADERS = "drip_headers"
    """The status line and headers sent one byte every ``seconds``, then the answer."""
    DRIP_BODY = "drip_body"
    """Headers at once, then the body one byte every ``seconds``."""
    HUGE = "huge"
    """200 with a JSON body of ``size`` bytes (a ``value`` list of padding), streamed; with
    ``declared`` False there is no Content-Length and the connection closes at the end."""


TRANSPORT_KINDS = frozenset(
    {
        FaultKind.RESET,
        FaultKind.TRUNCATED,
        FaultKind.SHORT_BODY,
        FaultKind.NON_JSON,
        FaultKind.DRIP_HEADERS,
        FaultKind.DRIP_BODY,
        FaultKind.HUGE,
    }
)


@dataclass
class Fault:
    """One configured fault; ``fired`` counts how often it was applied."""

    path: str
    kind: FaultKind
    count: int | None = 1
    skip: int = 0
    method: str | None = None
    scope: str = "any"
    """``any``, ``top`` (only top-level HTTP requests) or ``batch`` (only inner requests)."""
    status: int = 503
    code: str | None = None
    message: str | None = None
    retry_after: str | None = None
    seconds: float = 1.0
    body: Any = None
    size: int = 0
    declared: bool = True
    fired: int = 0
    seen: int = 0
    _regex: re.Pattern[str] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.kind = FaultKind(self.kind)
        if self.scope not in ("any", "top", "batch"):
            raise ValueError(f"scope must be any/top/batch, not {self.scope!r}")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0 or None")
        self._regex = re.compile(self.path)

    # -- constructors -------------------------------------------------------------------
    # Every constructor also takes ``skip``, ``method`` and ``scope`` (keyword-only).

    @classmethod
    def throttle(
        cls,
        path: str,
        count: int | None = 1,
        retry_after: str | float | None = "0.01",
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        """429 ``TooManyRequests``; ``retry_after=None`` sends no Retry-After header."""
        ra = None if retry_after is None else str(retry_after)
        return cls(
            path,
            FaultKind.THROTTLE,
            count=count,
            retry_after=ra,
            status=429,
            skip=skip,
            method=method,
            scope=scope,
        )

    @classmethod
    def server_error(
        cls,
        path: str,
        status: int = 503,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        return cls(
            path,
            FaultKind.STATUS,
            count=count,
            status=status,
            skip=skip,
            method=method,
            scope=scope,
        )

    @classmethod
    def error(
        cls,
        path: str,
        status: int,
        code: str,
        message: str,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        """Any Graph error envelope, e.g. 403 ``Authorization_RequestDenied`` on a write."""
        return cls(
            path,
            FaultKind.STATUS,
            count=count,
            status=status,
            code=code,
            message=message,
            skip=skip,
            method=method,
            scope=scope,
        )

    @classmethod
    def delay(
        cls,
        path: str,
        seconds: float,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        """Answer normally after ``seconds`` (bounded by the emulator's ``max_sleep_s``)."""
        return cls(
            path,
            FaultKind.DELAY,
            count=count,
            seconds=seconds,
            skip=skip,
            method=method,
            scope=scope,
        )

    @classmethod
    def timeout(
        cls,
        path: str,
        seconds: float = 2.0,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        """A delay meant to exceed the client's read timeout."""
        return cls.delay(path, seconds, count, skip=skip, method=method, scope=scope)

    @classmethod
    def _simple(
        cls,
        kind: FaultKind,
        path: str,
        count: int | None,
        skip: int,
        method: str | None,
        scope: str,
    ) -> Fault:
        return cls(path, kind, count=count, skip=skip, method=method, scope=scope)

    @classmethod
    def reset(
        cls, path: str, count: int | None = 1, *, skip: int = 0, method: str | None = None
    ) -> Fault:
        return cls._simple(FaultKind.RESET, path, count, skip, method, "top")

    @classmethod
    def truncated(
        cls, path: str, count: int | None = 1, *, skip: int = 0, method: str | None = None
    ) -> Fault:
        return cls._simple(FaultKind.TRUNCATED, path, count, skip, method, "top")

    @classmethod
    def short_body(
        cls, path: str, count: int | None = 1, *, skip: int = 0, method: str | None = None
    ) -> Fault:
        return cls._simple(FaultKind.SHORT_BODY, path, count, skip, method, "top")

    @classmethod
    def non_json(
        cls, path: str, count: int | None = 1, *, skip: int = 0, method: str | None = None
    ) -> Fault:
        return cls._simple(FaultKind.NON_JSON, path, count, skip, method, "top")

    @classmethod
    def repeat_next_link(
        cls,
        path: str,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        return cls._simple(FaultKind.REPEAT_NEXT_LINK, path, count, skip, method, scope)

    @classmethod
    def foreign_next_link(
        cls,
        path: str,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        return cls._simple(FaultKind.FOREIGN_NEXT_LINK, path, count, skip, method, scope)

    @classmethod
    def body_200(
        cls,
        path: str,
        body: Any,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
        scope: str = "any",
    ) -> Fault:
        """200 whose body is ``body`` instead of the answer (an unusable answer)."""
        return cls(
            path,
            FaultKind.BODY,
            count=count,
            body=body,
            skip=skip,
            method=method,
            scope=scope,
        )

    @classmethod
    def drip(
        cls,
        path: str,
        where: str = "headers",
        seconds: float = 1.0,
        count: int | None = 1,
        *,
        skip: int = 0,
        method: str | None = None,
    ) -> Fault:
        """One byte every ``seconds`` in the ``headers`` or the ``body`` (top level only)."""
        kind = FaultKind.DRIP_HEADERS if where == "headers" else FaultKind.DRIP_BODY
        return cls(path, kind, count=count, seconds=seconds, skip=skip, method=method, scope="top")

    @classmethod
    def huge(
        cls,
        path: str,
        size: int,
        count: int | None = 1,
        *,
        declared: bool = True,
        skip: int = 0,
        method: str | None = None,
    ) -> Fault:
        """A 200 of ``size`` bytes (top level only); ``declared`` sends its Content-Length."""
        return cls(
            path,
            FaultKind.HUGE,
            count=count,
            size=size,
            declared=declared,
            skip=skip,
            method=method,
            scope="top",
        )

    # -- matching -----------------------------------------------------------------------

    def applies_to(self, method: str, target: str, batch_inner: bool) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if batch_inner and (self.scope == "top" or self.kind in TRANSPORT_KINDS):
            return False
        if not batch_inner and self.scope == "batch":
            return False
        return self._regex.search(target) is not None

    def take(self) -> bool:
        """Count one matching request; True when the fault fires on it."""
        with self._lock:
            self.seen += 1
            if self.seen <= self.skip:
                return False
            if self.count is not None and self.fired >= self.count:
                return False
            self.fired += 1
            return True

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.fired >= self.count


def pick_fault(faults: list[Fault], method: str, target: str, batch_inner: bool) -> Fault | None:
    """The first fault that matches and fires on this request."""
    for fault in faults:
        if fault.applies_to(method, target, batch_inner) and fault.take():
            return fault
    return None
