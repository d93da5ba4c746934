"""Switch the platform for a test: ``sys.platform``/``os.name`` and what Windows lacks.

``pretend_windows`` replaces every Unix-only ``os`` function with a spy that records the call
and raises ``AttributeError`` as Windows would, hides ``fcntl``, and removes
``signal.SIGPIPE``; a test then asserts ``calls == []``. ``os.name`` is left alone by default
because ``pathlib.Path()`` refuses to build a ``WindowsPath`` on Linux; tests that construct no
path switch it too.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import msal  # type: ignore[import-untyped]
import pytest
import responses

from consent_audit.live.auth import Authenticator
from consent_audit.live_options import LiveOptions
from tests.live import msal_fakes as m

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


def device_code_sign_in(out: io.StringIO) -> str:
    """A real MSAL device-code sign-in against mocked Entra endpoints; returns the token."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        base = m.discovery(rsps)
        m.device_code(rsps, base)
        rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.token_response("at-dev"))
        auth = Authenticator(LiveOptions(tenant=m.TENANT), interactive=lambda: True, out=out)
        return str(auth.sign_in().provider.token())


@pytest.fixture
def no_poll_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(msal.oauth2cli.oauth2.time, "sleep", lambda _s: None)
