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
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, TextIO


def is_broken_pipe(code: int) -> bool:
    """Whether a failed write to stdout with this errno means the reader went away."""
    if code == errno.EPIPE:
        return True
    return sys.platform == "win32" and code == errno.EINVAL


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
            return self._stream.write(text)
        except (OSError, ValueError) as exc:
            raise self._lost(exc) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except (OSError, ValueError) as exc:
            raise self._lost(exc) from None

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
