"""One bounded HTTP exchange with Graph: every answer read as a stream, capped in bytes and in
wall-clock time.

Why: requests' read timeout applies to each socket read, not to the response, so a server that
sends one byte a second (in the headers or in the body) never trips it, and ``response.content``
reads a body of any size into memory (issue #19: a drip still running after 420 s; a 200 MB body
taking 457 MB). Here a response is read with ``stream=True`` in chunks, counted, and given up
past ``MAX_RESPONSE_BYTES``; and a watchdog cuts the connection when the whole exchange
(headers and body) outlives its time limit. The cut is a socket ``shutdown`` from the watchdog's
thread, which wakes the blocked read with an end of file; the exchange then fails with
``ResponseTooSlow`` whatever the reading code made of that end of file.

The connection in use is found through a urllib3 connection class that registers itself with
the current exchange (a thread-local) when it sends a request and when it reads the answer:
requests and urllib3 keep their own pooling, proxies and TLS untouched.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from consent_audit.errors import InputError

MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""Largest answer read (decoded bytes). A ``$batch`` of 20 pages of 999 grants is ~6 MiB and
Microsoft Graph's own service principal with every scope described ~1 MiB; 32 MiB is far above
any real answer and bounds the memory one response can take."""
RESPONSE_TIME_FACTOR = 2.0
"""A whole response (headers and body) must arrive within this many read timeouts: 120 s by
default, 2 s with ``CONSENT_AUDIT_HTTP_TIMEOUT=1``."""
DEADLINE_VAR = "CONSENT_AUDIT_DEADLINE"
DEFAULT_DEADLINE = 900.0
"""Seconds a whole run may spend talking to Graph (``--deadline``); a tenant of 100,000 grants
is collected in well under a minute (bench/scale.py), so 15 minutes only stops a server that
stalls or throttles without end."""
CHUNK = 1024 * 1024
"""Bytes asked for per read of a body. A page of 999 grants (~300 KB) is one read, not five:
each read goes through requests' and urllib3's generators and buffers (a 100,000-grant run:
~25 M fewer instructions, docs/performance.md). The size cap is checked after each read, so
at most one chunk past ``MAX_RESPONSE_BYTES`` is read before an answer is refused."""

TOO_LARGE = "ResponseTooLarge"
TOO_SLOW = "ResponseTooSlow"
DEADLINE_EXCEEDED = "DeadlineExceeded"
CONNECTION_FAILED = "ConnectionFailed"


class TransportError(Exception):
    """No usable answer: ``code`` says why (connection, size, time); the text never quotes an
    exception's own message (requests' can quote request headers, and so the token)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer, read within the bounds."""

    status_code: int
    headers: CaseInsensitiveDict[str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not JSON."""
        if not self.content:
            raise ValueError("empty body")
        return json.loads(self.content)


def seconds_within(value: str | float, most: float) -> float | None:
    """``value`` as a number of seconds in (0, ``most``], else None: not a number, not finite,
    zero, negative or too long. One reading for every duration a person or CI sets."""
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 < seconds <= most else None


def run_deadline(raw: str | float | None = None, env: Mapping[str, str] | None = None) -> float:
    """Seconds for the whole run from ``--deadline`` or ``CONSENT_AUDIT_DEADLINE``, else 900."""
    value = raw if raw is not None else (os.environ if env is None else env).get(DEADLINE_VAR)
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_DEADLINE
    seconds = seconds_within(value, 86400)
    if seconds is None:
        raise InputError(
            f"--deadline / {DEADLINE_VAR} {str(value)[:40]!r} is not a number of seconds "
            "between 0 and 86400.",
            fix=f"Pass e.g. --deadline 600, or leave it out for the default "
            f"({int(DEFAULT_DEADLINE)} s).",
        )
    return seconds


class Deadline:
    """The run's end: no request starts after it, and no read runs past it.

    ``fix --apply`` shares one across its reads, writes and re-audit (LiveOptions
    .shared_deadline): a write already sent is the one exchange not cut at the end
    (live/writes.py), so that its outcome is known. Time spent ``paused()`` (a person signing
    in or answering a prompt) does not count.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The clock stopped while a person is asked (a sign-in, ``Make these changes?``):
        the deadline bounds the run's time on Graph, not how long someone reads a plan."""
        started = self._clock()
        try:
            yield
        finally:
            self._end += self._clock() - started

    def describe(self) -> str:
        return (
            f"the run's deadline of {self.seconds:g} s passed (--deadline / {DEADLINE_VAR}); "
            "request not sent"
        )


# -- the watchdog ------------------------------------------------------------------------------


class _Watch:
    """The connections (and their sockets) one exchange used; ``fire`` shuts them down, from
    the watchdog's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self.fired = False

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)
            fired = self.fired
        if fired:
            _cut(connection)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            connections = list(self._connections)
        for connection in connections:
            _cut(connection)


def _cut(connection: Any) -> None:
    sock = (
        connection if isinstance(connection, socket.socket) else getattr(connection, "sock", None)
    )
    if isinstance(sock, socket.socket):
        # socket.socket's own shutdown, also for an SSLSocket: it ends the TCP stream under
        # TLS without tearing down the SSL object the reading thread is inside.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()


def _attach(connection: Any) -> None:
    watch = getattr(_current, "watch", None)
    if isinstance(watch, _Watch) and connection is not None:
        watch.attach(connection)


class _Watched:
    """Hands each connection, and its socket, to the run's watchdog before it is used."""

    sock: Any

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        # The socket itself too: after the headers of a ``Connection: close`` answer,
        # http.client drops ``self.sock`` while the body is still read from that socket.
        _attach(self)
        _attach(self.sock)
        return super().getresponse()  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter with connections the watchdog can cut (direct and through a proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.PoolManager):
            manager.pool_classes_by_scheme = _POOLS
        return manager


def environment_session(url: str) -> requests.Session:
    """A session with the environment's settings for ``url`` read once, not per request, and
    connections the watchdog can cut.

    requests reads proxies (``HTTPS_PROXY``, ``NO_PROXY``, ...), the CA bundle
    (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) and ``~/.netrc`` again for every request it
    sends, scanning the whole environment each time: ~0.2 ms a request, 20 ms for the 108
    requests of a 100,000-grant tenant. Every request here goes to one origin, so the
    answer is the same each time: it is computed once and fixed on the session. ``.netrc`` is
    not read at all: its credentials would replace the bearer token (requests lets a netrc
    entry override an ``Authorization`` header), and none belongs on a Graph request.
    """
    session = requests.Session()
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.trust_env = False
    session.proxies = settings["proxies"]
    session.verify = settings["verify"]
    session.cert = settings["cert"]
    for prefix in ("https://", "http://"):
        session.mount(prefix, _WatchedAdapter())
    return session


class _Watchdog:
    """One daemon thread that fires each exchange's watch when its time limit passes.

    Why not a ``threading.Timer`` per exchange: that starts and ends a thread for every
    request, ~0.2 ms of CPU each (25 ms of the 108 requests a 100,000-grant tenant takes,
    docs/performance.md). This thread is started once and sleeps until the earliest armed
    limit. A watch is fired while the watchdog's lock is held, so once ``disarm`` returns
    the exchange's watch can no longer fire."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._armed: dict[_Watch, float] = {}
        self._wakes_at = math.inf
        self._thread: threading.Thread | None = None

    def arm(self, watch: _Watch, seconds: float) -> None:
        end = time.monotonic() + max(0.0, seconds)
        with self._condition:
            self._armed[watch] = end
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="consent-audit-watchdog", daemon=True
                )
                self._thread.start()
            elif end < self._wakes_at:
                self._condition.notify()

    def disarm(self, watch: _Watch) -> None:
        with self._condition:
            self._armed.pop(watch, None)

    def _run(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                for watch, end in list(self._armed.items()):
                    if end <= now:
                        del self._armed[watch]
                        watch.fire()
                self._wakes_at = min(self._armed.values(), default=math.inf)
                self._condition.wait(None if self._wakes_at == math.inf else self._wakes_at - now)


_WATCHDOG = _Watchdog()


def _new_watchdog_after_fork() -> None:
    """A forked child has no watchdog thread, and the parent's lock may have been held at the
    fork: the child starts a fresh one when it first needs it."""
    global _WATCHDOG
    _WATCHDOG = _Watchdog()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_watchdog_after_fork)


@contextlib.contextmanager
def _watched(seconds: float) -> Iterator[_Watch]:
    watch = _Watch()
    previous = getattr(_current, "watch", None)
    _current.watch = watch
    watchdog = _WATCHDOG
    watchdog.arm(watch, seconds)
    try:
        yield watch
    finally:
        watchdog.disarm(watch)
        _current.watch = previous


_READ_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: Mapping[str, str],
    timeout: tuple[float, float],
    time_limit: float,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> Answer:
    """Send one request and read its whole answer within ``time_limit`` seconds and
    ``max_bytes`` bytes; TransportError otherwise. Redirects are never followed."""
    with _watched(time_limit) as watch:
        try:
            response = session.request(
                method,
                url,
                json=body,
                headers=dict(headers),
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            try:
                content = _read(response, max_bytes)
            finally:
                response.close()
        except TransportError:
            raise
        except _READ_ERRORS as exc:
            if watch.fired:
                raise _too_slow(time_limit) from None
            # Only the exception's type: its text can quote the request's headers.
            raise TransportError(CONNECTION_FAILED, type(exc).__name__) from None
        if watch.fired:
            # The cut may have looked like a clean end of a body without Content-Length.
            raise _too_slow(time_limit)
    return Answer(response.status_code, response.headers, content)


def _too_slow(time_limit: float) -> TransportError:
    return TransportError(
        TOO_SLOW,
        f"the answer did not arrive in full within {time_limit:.3g} s; connection closed",
    )


def _read(response: requests.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> TransportError:
    return TransportError(
        TOO_LARGE, f"the answer is larger than {max_bytes // (1024 * 1024)} MiB; not read"
    )
