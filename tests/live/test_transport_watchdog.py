"""The watchdog that bounds each HTTP exchange in time: one thread for the process, not one
per request (a 100,000-grant tenant takes 108 requests; a thread each cost ~25 ms of CPU,
docs/performance.md), and still firing each exchange at its own limit, never after it ended.

Real sockets on 127.0.0.1. The end-to-end cut of a dripping server is
tests/security/test_hostile_server.py::test_a_slow_drip_is_cut_off.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from consent_audit.live import transport
from consent_audit.live.transport import TOO_SLOW, TransportError, environment_session, exchange


class _Answers(BaseHTTPRequestHandler):
    """``/fast`` answers at once; ``/slow`` sends its headers, then a byte every 0.2 s."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                return
            return
        body = b'{"value": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    httpd.daemon_threads = True
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
    ).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _get(url: str, session: object, time_limit: float = 30.0) -> transport.Answer:
    return exchange(
        session,  # type: ignore[arg-type]
        "GET",
        url,
        headers={"Authorization": "Bearer t"},
        timeout=(5.0, 30.0),
        time_limit=time_limit,
    )


def test_exchanges_start_no_thread_each(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty exchanges start at most one thread between them (the watchdog's)."""
    started: list[threading.Thread] = []
    real_start = threading.Thread.start
    me = threading.current_thread()

    def counting_start(self: threading.Thread) -> None:
        if threading.current_thread() is me:
            started.append(self)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    session = environment_session(server)
    for _ in range(20):
        assert _get(f"{server}/fast", session).status_code == 200
    assert len(started) <= 1


def test_a_slow_exchange_is_cut_at_its_limit_and_the_next_one_still_works(server: str) -> None:
    session = environment_session(server)
    assert _get(f"{server}/fast", session).status_code == 200  # the watchdog is running
    began = time.monotonic()
    with pytest.raises(TransportError) as raised:
        _get(f"{server}/slow", session, time_limit=0.6)
    assert raised.value.code == TOO_SLOW
    assert 0.5 < time.monotonic() - began < 10
    # A later exchange with a long limit is not cut by the earlier one's.
    assert _get(f"{server}/fast", session).status_code == 200


def test_a_shorter_limit_armed_later_fires_first() -> None:
    """The watchdog sleeps until the earliest limit: one armed after a long one wakes it."""
    watchdog = transport._Watchdog()
    long, short = transport._Watch(), transport._Watch()
    watchdog.arm(long, 60.0)
    watchdog.arm(short, 0.05)
    deadline = time.monotonic() + 10
    while not short.fired and time.monotonic() < deadline:
        time.sleep(0.01)
    assert short.fired
    assert not long.fired
    watchdog.disarm(long)


def test_a_disarmed_watch_never_fires() -> None:
    """Once an exchange ends (disarm returns), its watch cannot cut a connection that is back
    in the pool and in use by the next request."""
    watchdog = transport._Watchdog()
    watches = [transport._Watch() for _ in range(50)]
    for watch in watches:
        watchdog.arm(watch, 0.3)  # far longer than arm-then-disarm takes, even under load
        watchdog.disarm(watch)
    time.sleep(0.6)
    assert not any(w.fired for w in watches)


def test_a_fired_watch_shuts_its_connection() -> None:
    watchdog = transport._Watchdog()
    left, right = socket.socketpair()
    try:
        watch = transport._Watch()
        watch.attach(left)
        watchdog.arm(watch, 0.01)
        right.settimeout(10)
        assert right.recv(1) == b""  # the other end sees the shutdown
        assert watch.fired
    finally:
        left.close()
        right.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_gets_a_watchdog_of_its_own() -> None:
    """The CLI runs forked from a process that may have used the watchdog (the tests' fork
    server): the child has no watchdog thread, so it starts its own."""
    parents = transport._Watch()
    transport._WATCHDOG.arm(parents, 60.0)  # the parent's thread is running
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            watch = transport._Watch()
            transport._WATCHDOG.arm(watch, 0.01)
            deadline = time.monotonic() + 10
            while not watch.fired and time.monotonic() < deadline:
                time.sleep(0.01)
            code = 0 if watch.fired else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    transport._WATCHDOG.disarm(parents)
    assert os.waitstatus_to_exitcode(status) == 0
