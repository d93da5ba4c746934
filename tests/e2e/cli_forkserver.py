"""A fork server for the end-to-end tests: each CLI run is still its own process.

Why: the end-to-end suites run the CLI a few hundred times, and a fresh interpreter spends
~0.3 s of CPU importing pydantic, Typer, requests and building our models before the command
does ~0.05 s of work. This server (one per pytest process) imports the installed
``consent_audit`` once; every run is a ``fork()`` of it that gets its own stdin, stdout and
stderr pipes, working directory, environment and ``sys.argv``, calls the console script's own
entry point (``consent_audit.cli:main``, as ``[project.scripts]`` does) and exits with the code
a real ``consent-audit`` process would (``sys.exit`` semantics, atexit handlers, final flush).

What it cannot reproduce, so those runs are exec'd as the real console script instead
(:func:`tests.e2e.cli_runner.run_cli` decides): an environment whose interpreter settings
(``PYTHON*``, ``LANG``, ``LC_*``) differ from the server's, because the interpreter read them at
its start-up; and import-time behaviour, which tests of lazy imports exercise with their own
subprocesses. ``CONSENT_AUDIT_TEST_CLI=exec`` runs every end-to-end test the slow, exec'd way
(CI does both).

Protocol on a Unix socket, one connection per run: the client sends a length-prefixed JSON
request (argv, env, cwd) with three file descriptors (stdin, stdout, stderr) attached; the
server forks, answers ``<pid>\\n``, waits for the child and answers ``<exit code>\\n``.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import locale
import os
import pkgutil
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

INTERPRETER_ENV_PREFIXES = ("PYTHON", "LC_", "LANG")
"""Environment read by the interpreter at start-up, not by consent-audit at run time."""

_HEADER = struct.Struct("!I")


def interpreter_env(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(INTERPRETER_ENV_PREFIXES)}


# --------------------------------------------------------------------------- server side


def _preload() -> None:
    """Import what a run would import, so a forked run starts with it in memory."""
    import consent_audit

    for info in pkgutil.walk_packages(consent_audit.__path__, "consent_audit."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue  # importing it would run the CLI
        __import__(info.name)
    import rich.console  # noqa: F401  (the text renderer imports it lazily)


def _text_stream(fd: int, mode: str, like: Any, unbuffered: bool) -> io.TextIOWrapper:
    """A standard stream on ``fd`` built the way CPython's start-up builds one."""
    writing = mode == "w"
    buffering = 0 if (unbuffered and writing) else -1
    buf: Any = open(fd, mode + "b", buffering=buffering, closefd=False)  # noqa: SIM115
    raw = buf if buffering == 0 else buf.raw
    stream = io.TextIOWrapper(
        buf,
        encoding=like.encoding,
        errors=like.errors,
        newline="\n",
        line_buffering=not unbuffered and (raw.isatty() or fd == 2),
        write_through=unbuffered,
    )
    stream.mode = mode  # type: ignore[misc]
    return stream


def _exit_code(code: object) -> int:
    """What ``sys.exit(code)`` makes the process's exit status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _child(request: dict[str, Any], fds: list[int]) -> None:
    stdin_like, stdout_like, stderr_like = sys.stdin, sys.stdout, sys.stderr
    unbuffered = bool(stdout_like.write_through)  # -u or PYTHONUNBUFFERED at start-up
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    sys.stdin = sys.__stdin__ = _text_stream(0, "r", stdin_like, unbuffered)  # type: ignore[misc]
    sys.stdout = sys.__stdout__ = _text_stream(1, "w", stdout_like, unbuffered)  # type: ignore[misc]
    sys.stderr = sys.__stderr__ = _text_stream(2, "w", stderr_like, unbuffered)  # type: ignore[misc]
    try:
        from consent_audit.cli import main

        code = _exit_code(main())
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            code = 120  # what CPython exits with when the final flush fails
    os._exit(code)


def _receive(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    while len(data) < _HEADER.size:
        data += conn.recv(65536)
    (size,) = _HEADER.unpack_from(data)
    while len(data) < _HEADER.size + size:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("request cut short")
        data += chunk
    return json.loads(data[_HEADER.size : _HEADER.size + size]), list(fds)


def serve(path: str) -> None:
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    listener.settimeout(1.0)
    parent = os.getppid()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if os.getppid() != parent:
                return  # the pytest process died without stopping us: do not linger
            continue
        with conn:
            try:
                request, fds = _receive(conn)
            except (OSError, ValueError, ConnectionError):
                continue
            pid = os.fork()
            if pid == 0:
                listener.close()
                conn.close()
                _child(request, fds)
            for fd in fds:
                os.close(fd)
            with contextlib.suppress(OSError):
                conn.sendall(f"{pid}\n".encode())
            _, status = os.waitpid(pid, 0)
            with contextlib.suppress(OSError):
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())


# --------------------------------------------------------------------------- client side


class ForkServer:
    """One server process, started on first use, stopped when this process exits."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        self._dir = tempfile.mkdtemp(prefix="ca-fork-")
        self.path = str(Path(self._dir) / "s")
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), self.path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=self.env,
            cwd=self._dir,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if line.strip() != b"ready":
            self.close()
            raise RuntimeError("the CLI fork server did not start")
        atexit.register(self.close)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        Path(self.path).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            Path(self._dir).rmdir()

    def serves(self, env: dict[str, str]) -> bool:
        return self._proc.poll() is None and interpreter_env(env) == interpreter_env(self.env)

    def run(
        self, argv: list[str], env: dict[str, str], cwd: str, timeout: float
    ) -> tuple[int, str, str]:
        """Run ``argv`` in a forked child; (exit code, stdout, stderr) as ``subprocess.run``."""
        payload = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        null = os.open(os.devnull, os.O_RDONLY)
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.path)
            socket.send_fds(conn, [_HEADER.pack(len(payload)) + payload], [null, out_w, err_w])
        finally:
            for fd in (null, out_w, err_w):
                os.close(fd)
        with conn, os.fdopen(out_r, "rb") as out, os.fdopen(err_r, "rb") as err:
            reply = conn.makefile("rb")
            pid = int(reply.readline())
            chunks: dict[Any, list[bytes]] = {out: [], err: []}
            deadline = time.monotonic() + timeout
            with selectors.DefaultSelector() as sel:
                sel.register(out, selectors.EVENT_READ)
                sel.register(err, selectors.EVENT_READ)
                while sel.get_map():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        os.kill(pid, signal.SIGKILL)
                        raise subprocess.TimeoutExpired(argv, timeout)
                    for key, _ in sel.select(left):
                        data = os.read(key.fd, 65536)
                        if data:
                            chunks[key.fileobj].append(data)
                        else:
                            sel.unregister(key.fileobj)
            code = int(reply.readline())
            reply.close()
            return code, _decode(b"".join(chunks[out])), _decode(b"".join(chunks[err]))


def _decode(data: bytes) -> str:
    """As ``subprocess.run(text=True)`` does: the locale's encoding, universal newlines."""
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
    serve(sys.argv[1])
