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
import sys
import tempfile
from pathlib import Path

from consent_audit.errors import InputError


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
        if posix_modes():
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


def read_text_input(path: Path, what: str) -> tuple[str, str]:
    """Read a UTF-8 input file (``-`` = standard input) as ``(text, name for messages)``."""
    if str(path) == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what} file.", fix="Check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: cannot read the {what} ({exc}).", fix="Pass a readable UTF-8 file."
        ) from None
