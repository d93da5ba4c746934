"""Standard output that can carry any tenant's names, on every OS.

Windows gives a redirected stdout the ANSI code page (``cp1252`` on Western systems, Python docs
"sys.stdout": "On Windows, UTF-8 is used for the console device. Non-character devices such as
disk files and pipes use the system locale encoding"). ``consent-audit check > report.txt`` with a
Japanese or Greek display name in the tenant then dies with ``UnicodeEncodeError`` (exit 4). The
report is data: on Windows a redirected stdout/stderr is switched to UTF-8, so the file is the
same bytes as on Linux and macOS. Elsewhere (a POSIX locale that is not UTF-8, or
``PYTHONIOENCODING``) the chosen encoding is kept and a character it lacks becomes a
``\\uXXXX`` escape instead of a crash.
"""

from __future__ import annotations

import io
import sys


def _is_utf8(encoding: str | None) -> bool:
    return (encoding or "").lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def make_stdio_unicode_safe() -> None:
    """Call once at start-up, before anything is written."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or _is_utf8(stream.encoding):
            continue
        if sys.platform == "win32" and not stream.isatty():
            stream.reconfigure(encoding="utf-8")
        else:
            stream.reconfigure(errors="backslashreplace")
