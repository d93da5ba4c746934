"""Writing files so that a kill never leaves half a report or snapshot behind, owner-only.

Owner-only means two different things. On POSIX it is the mode: files are created ``0600`` and
our directories ``0700``. Windows has no mode bits (``os.fchmod`` does not even exist there,
Python docs: "Availability: Unix"): a new file inherits the ACL of its directory, and the
directories we create live in the user's profile (``%LOCALAPPDATA%``), whose ACL grants the
user, SYSTEM and Administrators only. So the POSIX calls are made only where
:func:`posix_modes` is true and nothing Unix-only is reached on Windows.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path

from consent_audit.errors import InputError


def shown(path: str | os.PathLike[str]) -> str:
    """``path`` as a message shows it: one line, controls and bidi controls as escapes.

    A path the admin typed is echoed ("wrote json report to PATH", errors naming a file),
    and a file name can hold ESC, a newline or U+202E like any tenant name: it goes through
    the same boundary (render/safe_text.clean), so it cannot colour, retitle or add a line
    to the terminal. Imported lazily: the boundary loads pydantic, which ``--help`` avoids.
    """
    from consent_audit.render.safe_text import clean

    return clean(os.fspath(path))


def posix_modes() -> bool:
    """True where file mode bits are the access control (everything but Windows)."""
    return os.name != "nt" and sys.platform != "win32"


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) for our own files: ``0700`` on POSIX.

    An existing directory is tightened to ``0700`` too, so a cache directory created by an
    older version or another tool with a loose umask stops being group/world readable. On
    Windows no mode is applied by us: the directory inherits the profile's ACL (and Python
    3.10.15, 3.11.10, 3.12.4 and later turn ``mode=0o700`` into an ACL for the user and
    Administrators only).
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if posix_modes():
        os.chmod(path, 0o700)


def write_text_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync, then rename over it.

    Created ``0600`` by default: snapshots and reports name users and tenant settings. The
    mode is set on the open descriptor before any byte is written, so there is no moment at
    which the content is readable by others (``mkstemp`` itself creates ``0600``; on Windows
    the file takes the directory's inherited ACL and no mode is applied). Lines end in ``\n``
    on every OS, so a snapshot written on Windows is byte-identical to one written on Linux.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        if sys.platform != "win32" and posix_modes():  # the literal check lets mypy see it
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


MAX_INPUT_BYTES_VAR = "CONSENT_AUDIT_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024


def max_input_bytes() -> int:
    """The input size cap: 64 MiB, or ``CONSENT_AUDIT_MAX_INPUT_BYTES`` (bytes, at least 1).

    A snapshot of a large tenant is a few MB (docs/performance.md); the cap keeps a wrong path
    such as ``/dev/zero`` or a multi-GB file from eating the machine's memory.
    """
    raw = os.environ.get(MAX_INPUT_BYTES_VAR, "").strip()
    if not raw:
        return DEFAULT_MAX_INPUT_BYTES
    if not raw.isascii() or not raw.isdigit() or len(raw) > 15 or int(raw) < 1:
        raise InputError(
            f"{MAX_INPUT_BYTES_VAR} must be a whole number of bytes, at least 1.",
            fix=f"Unset it (default {DEFAULT_MAX_INPUT_BYTES}) or set e.g. 268435456.",
        )
    return int(raw)


def _too_big(name: str, what: str, cap: int) -> InputError:
    return InputError(
        f"{name}: the {what} is larger than {cap} bytes.",
        fix=f"Pass the right file, or raise the limit with {MAX_INPUT_BYTES_VAR}=BYTES.",
    )


def _decode(data: bytes, name: str, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: the {what} is not UTF-8 text (byte {exc.start}).",
            fix="Pass a UTF-8 file.",
        ) from None


def _read_stdin(what: str, cap: int) -> str:
    stream = sys.stdin
    if stream is None or stream.closed:
        raise InputError(
            f"standard input is closed, so there is no {what} to read from '-'.",
            fix=f"Pipe the {what} in, or pass its path instead of '-'.",
        )
    try:
        source = getattr(stream, "buffer", None)
        data = source.read(cap + 1) if source is not None else stream.read(cap + 1).encode()
    except (OSError, ValueError) as exc:
        raise InputError(
            f"<stdin>: cannot read the {what} ({type(exc).__name__}).",
            fix=f"Pipe the {what} in, or pass its path instead of '-'.",
        ) from None
    if len(data) > cap:
        raise _too_big("<stdin>", what, cap)
    return _decode(data, "<stdin>", what)


def _read_file(path: Path, what: str, cap: int) -> str:
    # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(f"{shown(path)}: no such {what} file.", fix="Check the path.") from None
    except OSError as exc:
        raise InputError(
            f"{shown(path)}: cannot open the {what} ({exc.strerror}).",
            fix="Pass a readable file.",
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise InputError(
            f"{shown(path)}: {kind}; the {what} must be a regular file or '-' (stdin).",
            fix=f"Pass the {what} file itself, or pipe it in with '-'.",
        )
    if info.st_size > cap:
        os.close(fd)
        raise _too_big(shown(path), what, cap)
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(cap + 1)
        except OSError as exc:
            raise InputError(
                f"{shown(path)}: cannot read the {what} ({exc.strerror}).",
                fix="Pass a readable file.",
            ) from None
    if len(data) > cap:
        raise _too_big(shown(path), what, cap)
    return _decode(data, shown(path), what)


def read_text_input(path: Path, what: str) -> tuple[str, str]:
    """Read a UTF-8 input (``-`` = standard input) as ``(text, name for messages)``; the
    name is :func:`shown`, so every message about the file stays one inert line.

    Bounded and never blocking on a special file: only a regular file or standard input is
    read, at most :func:`max_input_bytes`, so ``/dev/zero``, a FIFO without a writer or a
    directory is one clear error (exit 2) instead of exhausted memory or a hang.
    """
    from consent_audit.gc_hold import resume

    resume()  # input of any size: collect garbage again (gc_hold.py)
    cap = max_input_bytes()
    if str(path) == "-":
        return _read_stdin(what, cap), "<stdin>"
    return _read_file(path, what, cap), shown(path)
