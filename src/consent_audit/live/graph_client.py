"""A small Microsoft Graph client: JSON ``$batch``, paging, throttling and retries.

Why batch: the collector needs ~15 independent reads, and a tenant admin running this from a
laptop should wait for two or three round trips, not fifteen. Why not batch the pages: each
next page depends on the previous one, so a batch of one page saves no round trip and only
adds wrapping (a JSON body to build, an envelope to unwrap); pages are plain GETs of the
``@odata.nextLink``. Rules from Microsoft's docs (microsoft-graph-docs-contrib):

* ``concepts/json-batching.md``: at most 20 requests per ``POST {root}/v1.0/$batch``; URLs are
  relative to the version root; responses come back in any order; inner statuses are
  independent of the outer 200.
* ``concepts/throttling.md``: a throttled request gets 429 with ``Retry-After`` (seconds, may
  be fractional, e.g. ``2.128``); without it, back off exponentially. Throttled requests inside
  a batch are not retried by Graph's SDKs: retry only those, in a new batch, after the longest
  Retry-After. The same page says a throttled batch may itself fail with 424, so a whole-batch
  429/424 retries every request in it.
* ``concepts/paging.md``: follow ``@odata.nextLink`` (a GET of that URL, with the same
  request headers, e.g. ``ConsistencyLevel``) until it is absent.

Security: the bearer token only ever goes to the configured Graph origin (scheme, host and
port). A nextLink pointing anywhere else is refused, not followed; a nextLink seen before is a
loop and ends that request with an error.
"""

from __future__ import annotations

import email.utils
import math
import os
import random as random_module
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

from consent_audit.errors import AccessError, InputError
from consent_audit.live.graph_errors import (
    BAD_RESPONSE,
    FOREIGN_NEXT_LINK,
    NEXT_LINK_LOOP,
    RETRIES_EXHAUSTED,
    GraphError,
    parse_graph_error,
)
from consent_audit.live.scrub import remember, scrub
from consent_audit.live.transport import (
    DEADLINE_EXCEEDED,
    RESPONSE_TIME_FACTOR,
    TOO_LARGE,
    TOO_SLOW,
    Answer,
    Deadline,
    TransportError,
    environment_session,
    exchange,
    seconds_within,
)

MAX_BATCH = 20
THROTTLED = {429, 503, 504}
BATCH_THROTTLED = THROTTLED | {424}
_USER_AGENT = "consent-audit"
TIMEOUT_VAR = "CONSENT_AUDIT_HTTP_TIMEOUT"
DEFAULT_TIMEOUT = (10.0, 60.0)
"""(connect, read) seconds per HTTP request; ``CONSENT_AUDIT_HTTP_TIMEOUT`` overrides them."""
BACKOFF_VAR = "CONSENT_AUDIT_RETRY_BACKOFF"
DEFAULT_BACKOFF = 0.5
"""Seconds of the first back-off step when Graph sends no ``Retry-After`` (it then doubles per
attempt, up to 32 times this); ``CONSENT_AUDIT_RETRY_BACKOFF`` overrides it."""
MAX_PAGES = 5000
"""Pages followed per request before giving up. Graph serves directory objects 100 to a page
by default, so 5,000 pages is half a million grants: beyond any real tenant, yet a bound on a
server that never stops paging."""
FINAL = frozenset({TOO_LARGE, TOO_SLOW, DEADLINE_EXCEEDED})
"""Transport failures not retried: asking again for an answer too large, one that trickled
for two read timeouts, or after the run's deadline only spends more of the run."""


def http_timeout(env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(connect, read) timeout from ``CONSENT_AUDIT_HTTP_TIMEOUT`` (seconds), else the default.

    One number sets the read timeout and caps the connect timeout; tests use it to turn a
    stalled response into a quick, clean failure.
    """
    raw = (os.environ if env is None else env).get(TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    seconds = seconds_within(raw, 3600)
    if seconds is None:
        raise InputError(
            f"{TIMEOUT_VAR}={raw!r} is not a number of seconds between 0 and 3600.",
            fix=f"Set {TIMEOUT_VAR} to e.g. 30, or unset it for the default (60 s).",
        )
    return min(DEFAULT_TIMEOUT[0], seconds), seconds


def retry_backoff(env: Mapping[str, str] | None = None) -> float:
    """First back-off step from ``CONSENT_AUDIT_RETRY_BACKOFF`` (seconds), else 0.5 s.

    Why a knob: throttling.md leaves the back-off to the client when Graph gives no
    ``Retry-After``. A CI job behind a flaky proxy may want it longer; the fault-injection
    suite sets 0 so it retries at once instead of sleeping through real back-offs (the number
    of attempts, and every ``Retry-After`` Graph sends, are unchanged).
    """
    raw = (os.environ if env is None else env).get(BACKOFF_VAR, "").strip()
    if not raw:
        return DEFAULT_BACKOFF
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or not 0 <= seconds <= 60:
        raise InputError(
            f"{BACKOFF_VAR}={raw!r} is not a number of seconds between 0 and 60.",
            fix=f"Set {BACKOFF_VAR} to e.g. 1, or unset it for the default ({DEFAULT_BACKOFF} s).",
        )
    return seconds


class TokenProvider(Protocol):
    """Hands out bearer tokens; ``refresh=True`` asks for a new one after a 401."""

    def token(self, *, refresh: bool = False) -> str: ...


V1 = "v1.0"
BETA = "beta"


@dataclass(frozen=True)
class GraphCall:
    """One read, addressed relative to ``{root}/{version}`` (it starts with ``/``).

    ``version`` is ``v1.0`` or ``beta``: a ``$batch`` answers URLs relative to its own version
    (json-batching.md), so beta calls travel in ``POST {root}/beta/$batch``. Most reads are
    GETs; a read that is an action (``POST /identity/conditionalAccess/evaluate``, the What-If)
    carries its JSON ``body``, sent inside the batch with the ``Content-Type`` json-batching.md
    requires for a request with a body."""

    id: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    max_pages: int | None = None
    """Stop after this many pages and keep what was read (``truncated`` marks it); logs
    can run to millions of rows and the audit only needs recent ones."""
    item: Callable[[Any], Any] | None = field(default=None, compare=False)
    """Applied to each item as its page arrives, so a large collection (100,000 grants) is
    held once, parsed, rather than as raw JSON and then again as models. An item it cannot
    convert is kept raw, for the caller's own validation to report."""
    version: str = V1
    page: Callable[[list[Any]], list[Any]] | None = field(default=None, compare=False)
    """Applied to each page's whole ``value`` list instead of ``item``: returns what to keep
    (a summariser consumes 999 grants in one tight loop and keeps only the few it must)."""
    method: str = "GET"
    body: Mapping[str, Any] | None = field(default=None, compare=False)


def _convert(item: Callable[[Any], Any] | None, value: Any) -> Any:
    if item is None:
        return value
    try:
        return item(value)
    except Exception:
        return value


Outcome = dict[str, Any] | GraphError


@dataclass
class _Pending:
    call: GraphCall
    path: str
    waited: float = 0.0
    attempts: int = 0
    items: list[Any] | None = None
    seen_links: set[str] = field(default_factory=set)
    delay: float | None = None

    @property
    def paging(self) -> bool:
        """Past the first page: the next request is a plain GET of a nextLink."""
        return bool(self.seen_links)


@dataclass
class ClientStats:
    """For the benchmark: HTTP requests sent (``$batch`` POSTs and page GETs), requests inside
    batches, page GETs, collector waves, sequential rounds."""

    http_requests: int = 0
    sub_requests: int = 0
    page_requests: int = 0
    waves: int = 0
    rounds: int = 0


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from ``Retry-After``: a (possibly fractional) number or an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return str(value)
    return None


class GraphClient:
    """Runs waves of GETs through ``$batch`` and follows their pages with plain GETs; every
    request ends as a body or a GraphError."""

    def __init__(
        self,
        graph_root: str,
        tokens: TokenProvider,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        max_wait: float = 60.0,
        max_attempts: int = 8,
        max_pages: int = MAX_PAGES,
        backoff: float = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        clock: Callable[[], float] = time.monotonic,
        log: Callable[[str], None] | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self.root = graph_root.rstrip("/")
        self.base = f"{self.root}/v1.0"
        self._origin = _origin(self.root)
        self._tokens = tokens
        self._session = session or environment_session(self.root)
        self._timeout = timeout
        self._max_wait = max_wait
        self._max_attempts = max_attempts
        self._max_pages = max_pages
        self._backoff_base = backoff
        self._sleep = sleep
        self._random = random
        self._clock = clock
        self._log = log
        self._deadline = deadline
        self._too_slow: str | None = None
        self._token: str | None = None
        self._refreshed = False
        self.stats = ClientStats()

    @classmethod
    def verbose_logger(cls) -> Callable[[str], None]:
        """Request lines for ``-v`` go to stderr; headers (and so tokens) are never logged.

        A line holds paths Graph chose (a nextLink, an error's text): it is scrubbed of tokens
        (live/scrub.py) and goes through the report's boundary (render/safe_text.clean), so
        neither a token a hostile endpoint echoes nor a control sequence it put there reaches
        the admin's terminal."""
        from consent_audit.render.safe_text import clean

        return lambda line: print(clean(scrub(line)), file=sys.stderr, flush=True)

    # -- public -------------------------------------------------------------------------

    def run(self, calls: Sequence[GraphCall]) -> dict[str, Outcome]:
        """One wave: every call batched, retried and paged to completion.

        First pages (and their retries) travel in ``$batch`` POSTs; once a request is paging,
        each further page is one plain GET of its nextLink, in the same rounds."""
        self.stats.waves += 1
        results: dict[str, Outcome] = {}
        pending = [_Pending(call=c, path=c.path) for c in calls]
        while pending:
            self.stats.rounds += 1
            again: list[_Pending] = []
            first = [p for p in pending if not p.paging]
            paging = [p for p in pending if p.paging]  # before the batches add to it
            # v1.0 first: it carries the reads every verdict needs; beta only supplements.
            for version in sorted({p.call.version for p in first}, key=lambda v: v != V1):
                same = [p for p in first if p.call.version == version]
                for start in range(0, len(same), MAX_BATCH):
                    again.extend(self._send_chunk(same[start : start + MAX_BATCH], results))
            for page in paging:
                again.extend(self._get_page(page, results))
            pending = self._wait_for(again, results)
        return results

    # -- one POST $batch -------------------------------------------------------------------

    def _send_chunk(self, chunk: list[_Pending], results: dict[str, Outcome]) -> list[_Pending]:
        body = {"requests": [_batch_request(p) for p in chunk]}
        response = self._post_batch(body, len(chunk), chunk[0].call.version)
        if isinstance(response, GraphError):
            return self._outer_failure(chunk, response, None, results)
        if response.status_code != 200:
            error = parse_graph_error(response.status_code, _json(response), dict(response.headers))
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return self._outer_failure(chunk, error, retry_after, results)
        payload = _json(response)
        answers = payload.get("responses") if isinstance(payload, dict) else None
        if not isinstance(answers, list):
            error = GraphError(200, BAD_RESPONSE, "the $batch response has no 'responses' list")
            return self._outer_failure(chunk, error, None, results)
        by_id = {str(a.get("id")): a for a in answers if isinstance(a, dict)}
        again: list[_Pending] = []
        for pending in chunk:
            answer = by_id.get(pending.call.id)
            if answer is None:
                error = GraphError(200, BAD_RESPONSE, "no answer for this request in $batch")
                again.extend(self._retry_or_fail(pending, error, None, results))
                continue
            again.extend(self._batch_answer(pending, answer, results))
        return again

    def _post_batch(
        self, body: dict[str, Any], count: int, version: str = V1
    ) -> Answer | GraphError:
        self.stats.sub_requests += count
        return self._send("POST", f"{self.root}/{version}/$batch", f"({count} requests)", body)

    def _get_page(self, pending: _Pending, results: dict[str, Outcome]) -> list[_Pending]:
        """One page of a paging request, as a plain GET of its (checked) nextLink.

        A transport failure, a non-JSON 200 and a throttled or failing page are retried as
        a request inside a batch would be; paging goes on from the page that failed."""
        self.stats.page_requests += 1
        response = self._send(
            "GET", f"{self.root}/{pending.call.version}{pending.path}", "", None, pending.call
        )
        if isinstance(response, GraphError):
            return self._retry_or_fail(pending, response, None, results)
        body = _json(response)
        status = response.status_code
        if 200 <= status < 300 and not isinstance(body, dict):
            error = GraphError(status, BAD_RESPONSE, "a page of the answer is not a JSON object")
            return self._retry_or_fail(pending, error, None, results)
        return self._handle_answer(pending, status, response.headers, body, results)

    def _send(
        self,
        method: str,
        url: str,
        note: str,
        body: dict[str, Any] | None,
        call: GraphCall | None = None,
    ) -> Answer | GraphError:
        """One HTTP request with the bearer token, its answer read within the size and time
        bounds (live/transport.py); a 401 gets one fresh token, a second one is an
        AccessError (the token, not the tenant, is the problem)."""
        if self._too_slow is not None:
            # One answer already trickled for two read timeouts: asking this endpoint again
            # would spend as long for each request left (a drip of every answer).
            return GraphError(0, TOO_SLOW, self._too_slow)
        for _ in range(2):
            started = self._clock()
            limit = RESPONSE_TIME_FACTOR * self._timeout[1]
            if self._deadline is not None:
                if self._deadline.passed:
                    return GraphError(0, DEADLINE_EXCEEDED, self._deadline.describe())
                limit = min(limit, self._deadline.remaining())
            self.stats.http_requests += 1
            headers = {
                **(call.headers if call is not None else {}),
                "Authorization": f"Bearer {self._current_token()}",
                "Accept": "application/json",
                "User-Agent": _USER_AGENT,
            }
            try:
                response = exchange(
                    self._session,
                    method,
                    url,
                    body=body,
                    headers=headers,
                    timeout=self._timeout,
                    time_limit=limit,
                )
            except TransportError as exc:
                # ConnectionError and Timeout, but also a body cut short (ChunkedEncodingError:
                # "IncompleteRead") or undecodable, too large or too slow: all transport-level.
                self._line(f"{method} {url} failed: {exc.code}", started)
                detail = exc.message if exc.code in FINAL else f"cannot reach {self.root} ({exc})"
                if exc.code == TOO_SLOW:
                    self._too_slow = f"not sent: an earlier answer from this endpoint ({detail})"
                return GraphError(0, exc.code, detail)
            self._line(
                f"{method} {url} {response.status_code}{' ' + note if note else ''}", started
            )
            if response.status_code == 401 and not _is_licence(response):
                if self._refreshed:
                    error = parse_graph_error(401, _json(response), dict(response.headers))
                    raise AccessError(
                        f"Microsoft Graph refused the access token even after a refresh "
                        f"({error.describe()}).",
                        fix="Sign in again (`consent-audit logout`, then `consent-audit login`), "
                        "or supply a valid token.",
                    )
                self._refresh()
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _current_token(self) -> str:
        if self._token is None:
            self._token = self._tokens.token()
            remember(self._token)
        return self._token

    def _refresh(self) -> None:
        self._refreshed = True
        self._token = self._tokens.token(refresh=True)
        remember(self._token)

    # -- per-request handling ------------------------------------------------------------

    def _batch_answer(
        self, pending: _Pending, answer: dict[str, Any], results: dict[str, Outcome]
    ) -> list[_Pending]:
        status = _answer_status(answer.get("status"))
        if status is None:
            # The server's fault (exit 3 if nothing else could be read): this part is unknown.
            results[pending.call.id] = GraphError(
                200, BAD_RESPONSE, "a $batch answer has no integer HTTP status"
            )
            return []
        headers = answer.get("headers")
        if self._log:
            self._log(f"  {pending.call.method} {pending.path} {status}")
        return self._handle_answer(
            pending,
            status,
            headers if isinstance(headers, dict) else {},
            answer.get("body"),
            results,
        )

    def _handle_answer(
        self,
        pending: _Pending,
        status: int,
        headers: Mapping[str, Any],
        body: Any,
        results: dict[str, Outcome],
    ) -> list[_Pending]:
        """One request's answer, from a batch or a page GET: a page, a retry or an error.

        A 2xx whose body is not a JSON object (an HTML page, a string, nothing) is not an
        answer: retried as a glitch, then that request is unknown, never an empty one."""
        if 200 <= status < 300:
            if not isinstance(body, dict):
                error = GraphError(
                    status, BAD_RESPONSE, f"the answer is {_shape(body)}, not a JSON object"
                )
                return self._retry_or_fail(pending, error, None, results)
            return self._page(pending, body, results)
        error = parse_graph_error(status, body, dict(headers))
        if status == 401 and not error.is_licence_error and not self._refreshed:
            self._refresh()
            pending.delay = 0.0
            return [pending]
        if status in THROTTLED or status >= 500:
            return self._retry_or_fail(
                pending, error, parse_retry_after(_header(headers, "Retry-After")), results
            )
        results[pending.call.id] = error
        return []

    def _page(
        self, pending: _Pending, body: dict[str, Any], results: dict[str, Outcome]
    ) -> list[_Pending]:
        value = body.get("value")
        next_link = body.get("@odata.nextLink")
        if next_link is not None and not isinstance(next_link, str):
            # A nextLink that is not a URL: the list goes on but cannot be followed.
            results[pending.call.id] = GraphError(
                200, BAD_RESPONSE, "the answer's @odata.nextLink is not a URL"
            )
            return []
        if pending.items is not None and not isinstance(value, list):
            # A later page of a collection without its 'value' list: what was read so far is
            # not the whole collection, so the request is unknown rather than cut short.
            results[pending.call.id] = GraphError(
                200, BAD_RESPONSE, "a further page of the list has no 'value' list"
            )
            return []
        if isinstance(value, list):
            # extend, not ``+``: 100,000 grants arrive in ~100 pages, and re-copying the
            # growing list on every page is quadratic.
            if pending.items is None:
                pending.items = []
            if pending.call.page is not None:
                pending.items.extend(pending.call.page(value))
            else:
                pending.items.extend(_convert(pending.call.item, v) for v in value)
        if not isinstance(next_link, str) or not isinstance(value, list):
            if pending.items is not None:
                body = {k: v for k, v in body.items() if k != "@odata.nextLink"}
                body["value"] = pending.items
            results[pending.call.id] = body
            return []
        relative = self._relative(next_link, pending.call.version)
        if isinstance(relative, GraphError):
            results[pending.call.id] = relative
            return []
        if next_link in pending.seen_links:
            results[pending.call.id] = GraphError(
                0, NEXT_LINK_LOOP, "Graph returned a nextLink seen before; paging stopped"
            )
            return []
        if pending.call.max_pages and len(pending.seen_links) + 1 >= pending.call.max_pages:
            body = {k: v for k, v in body.items() if k != "@odata.nextLink"}
            results[pending.call.id] = {**body, "value": pending.items, "truncated": True}
            return []
        if len(pending.seen_links) >= self._max_pages:
            results[pending.call.id] = GraphError(
                0, RETRIES_EXHAUSTED, f"more than {self._max_pages} pages; paging stopped"
            )
            return []
        pending.seen_links.add(next_link)
        pending.path = relative
        pending.attempts = 0
        pending.delay = 0.0
        return [pending]

    def _relative(self, next_link: str, version: str = V1) -> str | GraphError:
        if _origin(next_link) != self._origin:
            host = urlsplit(next_link).netloc or next_link
            return GraphError(
                0,
                FOREIGN_NEXT_LINK,
                f"nextLink points to {host}, not {urlsplit(self.root).netloc}; not followed "
                "(the token is only sent to the configured Graph host)",
            )
        base_path = urlsplit(f"{self.root}/{version}").path
        parts = urlsplit(next_link)
        if not parts.path.startswith(base_path + "/"):
            return GraphError(0, FOREIGN_NEXT_LINK, f"nextLink {parts.path} is outside {base_path}")
        relative = parts.path[len(base_path) :]
        return f"{relative}?{parts.query}" if parts.query else relative

    # -- retries ---------------------------------------------------------------------------

    def _outer_failure(
        self,
        chunk: list[_Pending],
        error: GraphError,
        retry_after: float | None,
        results: dict[str, Outcome],
    ) -> list[_Pending]:
        # A truncated or non-JSON 200 (a proxy's error page, a cut connection) is a transport
        # glitch like a reset: retried a few times, not taken as every request's answer.
        transient = (
            error.status == 0
            or error.status in BATCH_THROTTLED
            or error.status >= 500
            or error.code == BAD_RESPONSE
        )
        again: list[_Pending] = []
        for pending in chunk:
            if transient:
                again.extend(self._retry_or_fail(pending, error, retry_after, results))
            else:
                results[pending.call.id] = error
        return again

    def _retry_or_fail(
        self,
        pending: _Pending,
        error: GraphError,
        retry_after: float | None,
        results: dict[str, Outcome],
    ) -> list[_Pending]:
        if error.code in FINAL:
            results[pending.call.id] = error
            return []
        pending.attempts += 1
        delay = retry_after if retry_after is not None else self._backoff(pending.attempts)
        # No answer at all (DNS, refused) rarely heals in seconds: three tries, not a minute.
        glitch = error.status == 0 or error.code == BAD_RESPONSE
        limit = min(3, self._max_attempts) if glitch else self._max_attempts
        if pending.attempts >= limit or pending.waited + delay > self._max_wait:
            if glitch:
                results[pending.call.id] = error
            else:
                results[pending.call.id] = GraphError(
                    error.status,
                    RETRIES_EXHAUSTED,
                    f"gave up after {pending.attempts} attempts and {pending.waited:.1f}s of "
                    f"waiting; last answer {error.describe()}",
                    error.request_id,
                )
            return []
        pending.delay = delay
        return [pending]

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter (throttling.md: when no Retry-After is given)."""
        base = self._backoff_base
        ceiling = min(32.0 * base, base * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + self._random() / 2)

    def _wait_for(self, again: list[_Pending], results: dict[str, Outcome]) -> list[_Pending]:
        """Sleep once for the longest delay any retried request needs, then retry them all."""
        wait = max((p.delay or 0.0 for p in again), default=0.0)
        if self._deadline is not None:
            # Never sleep past the run's end: the retries then fail at once, as unknown.
            wait = min(wait, max(0.0, self._deadline.remaining()))
        if wait > 0:
            self._sleep(wait)
            for pending in again:
                if pending.delay:
                    pending.waited += wait
        for pending in again:
            pending.delay = None
        return again

    def _line(self, text: str, started: float) -> None:
        if self._log:
            self._log(f"{text} {int((self._clock() - started) * 1000)}ms")


def _batch_request(pending: _Pending) -> dict[str, Any]:
    """One request of a ``$batch`` body: a first page, or a retry, as the call asks for it.
    A request with a body needs its ``Content-Type`` (json-batching.md)."""
    call = pending.call
    headers = dict(call.headers)
    request: dict[str, Any] = {"id": call.id, "method": call.method, "url": pending.path}
    if call.body is not None and not pending.paging:
        headers.setdefault("Content-Type", "application/json")
        request["body"] = dict(call.body)
    if headers:
        request["headers"] = headers
    return request


def _json(response: Answer) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _shape(body: object) -> str:
    """What a body is, for a message (never the body itself: it is the server's text)."""
    if body is None:
        return "empty or not JSON"
    if isinstance(body, str):
        return "a string" + (" (an HTML page)" if body.lstrip()[:1] == "<" else "")
    return f"a JSON {type(body).__name__}"


def _answer_status(value: object) -> int | None:
    """A $batch answer's ``status``: an integer 100-599 (JSON number or digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == 3:
        value = int(value)
    if isinstance(value, int) and 100 <= value <= 599:
        return value
    return None


def _is_licence(response: Answer) -> bool:
    return parse_graph_error(response.status_code, _json(response)).is_licence_error
