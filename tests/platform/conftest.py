"""Switch the platform for a test: ``sys.platform``/``os.name`` and what Windows lacks.

``pretend_windows`` replaces every Unix-only ``os`` function with a spy that records the call
and raises ``AttributeError`` as Windows would, hides ``fcntl``, and removes
``signal.SIGPIPE``; a test then asserts ``calls == []``. ``os.name`` is left alone by default
because ``pathlib.Path()`` refuses to build a ``WindowsPath`` on Linux; tests that construct no
path switch it too.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

UNIX_ONLY_OS_FUNCTIONS = ("fchmod", "fchown", "chown", "lchown", "getuid", "geteuid", "chmod")
"""``os.chmod`` exists on Windows but only sets the read-only flag: calling it there means the
code believed it was on POSIX, so it is spied on as well."""


@dataclass
class Platform:
    name: str
    calls: list[str] = field(default_factory=list)


def _spy(name: str, calls: list[str]) -> Callable[..., None]:
    def spy(*_args: object, **_kwargs: object) -> None:
        calls.append(f"os.{name}")
        raise AttributeError(f"module 'os' has no attribute '{name}' (this is Windows)")

    return spy


@pytest.fixture
def pretend_windows(monkeypatch: pytest.MonkeyPatch) -> Platform:
    platform = Platform("win32")
    monkeypatch.setattr(sys, "platform", "win32")
    for name in UNIX_ONLY_OS_FUNCTIONS:
        monkeypatch.setattr(os, name, _spy(name, platform.calls), raising=False)
    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` -> ImportError
    monkeypatch.delattr(signal, "SIGPIPE", raising=False)
    return platform


@pytest.fixture
def pretend_macos(monkeypatch: pytest.MonkeyPatch) -> Platform:
    monkeypatch.setattr(sys, "platform", "darwin")
    return Platform("darwin")
