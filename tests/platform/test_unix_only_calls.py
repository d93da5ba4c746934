"""No Unix-only call in src/ outside a branch guarded by the platform.

Windows users get exit 4 from an ``AttributeError`` the moment code reaches ``os.fchmod``,
``import fcntl`` or ``signal.SIGPIPE`` (all "Availability: Unix" in the Python docs). This
walks every module's syntax tree, so comments and docstrings do not count, and flags each such
use that is not lexically inside an ``if`` (or conditional expression) testing ``os.name``,
``sys.platform``, ``files.posix_modes()`` or ``hasattr(...)``; a Unix-only module may also be
imported inside ``try: ... except ImportError``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "consent_audit"

UNIX_ONLY_ATTRIBUTES = {
    "os": {
        "fchmod", "fchown", "lchown", "chown", "getuid", "geteuid", "getgid", "getegid",
        "getgroups", "setuid", "setgid", "setsid", "getpgid", "killpg", "fork", "forkpty",
        "mkfifo", "mknod", "openpty", "sync", "getloadavg", "nice", "pipe2", "WNOHANG",
    },
    "signal": {
        "SIGPIPE", "SIGALRM", "SIGHUP", "SIGKILL", "SIGQUIT", "SIGUSR1", "SIGUSR2",
        "SIGCHLD", "alarm", "setitimer", "pause", "pthread_kill", "siginterrupt",
    },
}  # fmt: skip
UNIX_ONLY_MODULES = {"fcntl", "pwd", "grp", "termios", "tty", "pty", "resource", "posix",
                     "syslog", "crypt"}  # fmt: skip
GUARD_MARKERS = ("os.name", "sys.platform", "posix_modes(", "hasattr(")


def _guarded(test: ast.expr) -> bool:
    source = ast.unparse(test)
    return any(marker in source for marker in GUARD_MARKERS)


def _catches_import_error(node: ast.Try) -> bool:
    return any(
        handler.type is None
        or any(n in ast.unparse(handler.type) for n in ("ImportError", "ModuleNotFoundError"))
        for handler in node.handlers
    )


def unguarded_unix_calls(source: str, name: str = "<src>") -> list[str]:
    """``file:line: what`` for each Unix-only use outside a platform guard."""
    tree = ast.parse(source)
    found: list[str] = []

    def visit(node: ast.AST, guarded: bool, import_guarded: bool) -> None:
        if isinstance(node, (ast.If, ast.IfExp)) and _guarded(node.test):
            guarded = True
        if isinstance(node, ast.Try) and _catches_import_error(node):
            import_guarded = True
        what = _unix_only_use(node)
        if what and not guarded and not (import_guarded and what.startswith("import")):
            found.append(f"{name}:{getattr(node, 'lineno', '?')}: {what}")
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.Expr) and isinstance(child, ast.Constant):
                continue  # a docstring or bare string is not a call
            visit(child, guarded, import_guarded)

    visit(tree, False, False)
    return found


def _unix_only_use(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.attr in UNIX_ONLY_ATTRIBUTES.get(node.value.id, ())
    ):
        return f"{node.value.id}.{node.attr}"
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] in UNIX_ONLY_MODULES:
                return f"import {alias.name}"
    if isinstance(node, ast.ImportFrom) and node.module:
        if node.module.split(".")[0] in UNIX_ONLY_MODULES:
            return f"import from {node.module}"
        bad = {a.name for a in node.names} & UNIX_ONLY_ATTRIBUTES.get(node.module, set())
        if bad:
            return f"import {node.module}.{sorted(bad)[0]}"
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/dev/" in node.value:
        return f"path {node.value!r}"
    return None


def test_src_reaches_no_unix_only_call_outside_a_platform_guard() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20, "the walk must see the whole package"
    problems = [
        problem
        for path in files
        for problem in unguarded_unix_calls(
            path.read_text(encoding="utf-8"), str(path.relative_to(SRC.parent))
        )
    ]
    assert problems == [], "guard these with os.name/sys.platform (see files.posix_modes)"


def test_the_guarded_fchmod_in_files_is_seen_and_accepted() -> None:
    """The walk really finds files.py's fchmod, and accepts it because it is guarded."""
    source = (SRC / "files.py").read_text(encoding="utf-8")
    assert "os.fchmod(" in source
    unguarded = re.sub(r"if [^\n]*posix_modes\(\):", "if True:", source)
    assert unguarded != source
    assert any("os.fchmod" in p for p in unguarded_unix_calls(unguarded))


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("import os\nos.fchmod(3, 0o600)\n", ["<src>:2: os.fchmod"]),
        ("import fcntl\n", ["<src>:1: import fcntl"]),
        ("from os import getuid\n", ["<src>:1: import os.getuid"]),
        (
            "import signal\nsignal.signal(signal.SIGPIPE, signal.SIG_DFL)\n",
            ["<src>:2: signal.SIGPIPE"],
        ),
        ("open('/dev/tty')\n", ["<src>:1: path '/dev/tty'"]),
        ("def f():\n    '''Reads /dev/stdin.'''\n", []),
        ("import os, sys\nif sys.platform != 'win32':\n    os.fchmod(3, 0o600)\n", []),
        ("import os\nif os.name == 'posix':\n    os.getuid()\n", []),
        ("import os\nx = os.getuid() if hasattr(os, 'getuid') else 0\n", []),
        ("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n", []),
        ("try:\n    import fcntl\nexcept ValueError:\n    pass\n", ["<src>:2: import fcntl"]),
    ],
)
def test_the_walk_flags_what_windows_lacks(snippet: str, expected: list[str]) -> None:
    assert unguarded_unix_calls(snippet) == expected
