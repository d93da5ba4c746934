"""Standard output that is closed, full or a broken pipe: one defined exit, never a traceback.

``consent-audit check | head -1`` closes the pipe early, ``> /dev/full`` fails every write
and ``>&-`` leaves no stdout at all. Click turns a broken pipe into exit 1 (which here means
"findings") and anything else into an internal error (exit 4). Instead every command writes
through :class:`GuardedStdout`, which turns a failed write or flush into :class:`StdoutLost`:
a ``BaseException``, so neither click's handlers nor a command's ``except Exception`` can
swallow it, caught once in :func:`consent_audit.cli.main` and turned into exit 5
(:data:`consent_audit.errors.ExitCode.OUTPUT_LOST`): quietly for a broken pipe (the reader
chose to stop), with one line on stderr otherwise.

On Windows a write or flush to a pipe whose reader has gone (``consent-audit check | more``
quit with ``q``) can fail with ``OSError`` ``EINVAL`` instead of ``BrokenPipeError``: the C
runtime reports the pipe being closed (``ERROR_NO_DATA``) as ``EINVAL`` (python/cpython#79935,
bpo-35754, open). So on Windows, and only there, ``EINVAL`` on stdout is the same quiet exit
5 as a broken pipe; elsewhere it says something else went wrong and keeps its message.

Unbuffered stdout (``python -u``, ``PYTHONUNBUFFERED=1``, common in containers and CI) puts
``TextIOWrapper`` straight on the file, and it ignores how many bytes a write took: when the
reader of a pipe goes away while a large report is being written, the kernel takes the part
that fits in the pipe, the rest is dropped without an error, and the run exits 0 or 1 with
its output cut (issue #19: ``check --format json | head -1`` exit 1; text, written in small
pieces, happened to exit 5). So on an unbuffered stdout :class:`GuardedStdout` writes the
encoded text itself, checking each write's count and writing the rest until it is all taken
or the write fails.

A report smaller than the pipe's buffer (64 KiB on Linux) is taken by the kernel whole, so a
reader that stops early (``| head -1``) causes no failed write at all. :meth:`GuardedStdout.
finish`, called once the output is complete, therefore waits (at most ``DRAIN_WAIT`` seconds)
until the reader of a pipe has taken everything: a reader that leaves with part of the report
unread is a broken pipe, exit 5, like one that leaves while the report is being written. A
reader that neither reads nor leaves within the wait is not waited for (Linux only: it asks
the pipe how much is unread, ``FIONREAD``; elsewhere nothing is waited for).
"""

from __future__ import annotations

import errno
import io
import os
import sys
import time
from typing import Any, TextIO


def is_broken_pipe(code: int) -> bool:
    """Whether a failed write to stdout with this errno means the reader went away."""
    if code == errno.EPIPE:
        return True
    return sys.platform == "win32" and code == errno.EINVAL


DRAIN_WAIT = 2.0
"""Seconds to wait at the end for a pipe's reader to take the rest of the output."""


class StdoutLost(BaseException):
    """Standard output cannot take the report; ``errno`` says why."""

    def __init__(self, code: int) -> None:
        super().__init__(os.strerror(code))
        self.errno = code
        self.broken_pipe = is_broken_pipe(code)


class GuardedStdout:
    """A text stream wrapping ``sys.stdout`` (``None`` when closed) that raises StdoutLost."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream

    def _lost(self, exc: OSError | ValueError) -> StdoutLost:
        code = exc.errno if isinstance(exc, OSError) and exc.errno else errno.EBADF
        return StdoutLost(code)

    def write(self, text: str) -> int:
        if self._stream is None:
            raise StdoutLost(errno.EBADF)
        try:
            raw = getattr(self._stream, "buffer", None)
            if isinstance(raw, io.RawIOBase):
                return self._write_all(raw, text)
            return self._stream.write(text)
        except (OSError, ValueError) as exc:
            raise self._lost(exc) from None

    def _write_all(self, raw: io.RawIOBase, text: str) -> int:
        """Unbuffered: every byte written, each write's count checked (see the module doc)."""
        stream = self._stream
        assert stream is not None
        stream.flush()  # anything the wrapper still holds goes first
        if sys.platform == "win32":
            text = text.replace("\n", "\r\n")  # what the console wrapper would translate
        view = memoryview(text.encode(stream.encoding or "utf-8", stream.errors or "strict"))
        while view:
            count = raw.write(view)
            if count is None:  # a non-blocking stdout that is full: wait, then go on
                time.sleep(0.001)
                continue
            view = view[count:]
        return len(text)

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except (OSError, ValueError) as exc:
            raise self._lost(exc) from None

    def finish(self) -> None:
        """Flush, then wait for a pipe's reader to take the rest (see the module doc)."""
        self.flush()
        if self._stream is None:
            return
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):
            return
        if _unread_until_reader_leaves(fd, DRAIN_WAIT):
            raise StdoutLost(errno.EPIPE)

    def isatty(self) -> bool:
        return self._stream is not None and self._stream.isatty()

    def fileno(self) -> int:
        if self._stream is None:
            raise OSError(errno.EBADF, "standard output is closed")
        return self._stream.fileno()

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


def _unread_until_reader_leaves(fd: int, wait: float) -> bool:
    """True when ``fd`` is a pipe whose reader went away leaving output unread."""
    if sys.platform.startswith("linux"):
        import array
        import fcntl
        import select
        import stat
        import termios

        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                return False
            poller = select.poll()
            poller.register(fd, select.POLLERR)  # only the reader leaving wakes it
            end = time.monotonic() + wait
            unread = array.array("i", [0])
            while True:
                fcntl.ioctl(fd, termios.FIONREAD, unread)
                if unread[0] == 0:
                    return False
                if any(event & select.POLLERR for _, event in poller.poll(10)):
                    return True
                if time.monotonic() >= end:
                    return False
        except OSError:
            return False
    return False


def finish_stdout() -> None:
    """The output is complete: flush it and make sure a pipe's reader took it."""
    if isinstance(sys.stdout, GuardedStdout):
        sys.stdout.finish()
    elif sys.stdout is not None:
        sys.stdout.flush()


def guard_stdout() -> None:
    """Route every write to standard output through :class:`GuardedStdout`."""
    if not isinstance(sys.stdout, GuardedStdout):
        sys.stdout = GuardedStdout(sys.stdout)


def silence_stdout() -> None:
    """After a lost stdout: send what Python still flushes at exit to the null device."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    except OSError:
        pass
    sys.stdout = None
