"""Writing files so that a kill never leaves half a report or snapshot behind."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from consent_audit.errors import InputError


def write_text_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync, then rename over it.

    Created ``0600`` by default: snapshots and reports name users and tenant settings.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
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
