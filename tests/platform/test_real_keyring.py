"""Opt-in: a device-code sign-in into this machine's real libsecret keyring.

Skipped unless libsecret works here (PyGObject importable in this Python, a Secret Service on
the session bus, an unlocked collection) - CI never has one. To run it on a Linux desktop or
in a throw-away D-Bus session (see docs/security.md, "Checking the keyring on Linux"):

    dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock; pytest -m real_keyring'
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from consent_audit.live import token_cache

from .conftest import device_code_sign_in


def _libsecret_works() -> str:
    """'' when libsecret works here, else why not (the reason the test is skipped)."""
    if not sys.platform.startswith("linux"):
        return "libsecret is the Linux store"
    try:
        from msal_extensions.libsecret import trial_run  # type: ignore[import-untyped]

        trial_run()
    except Exception as exc:  # ImportError without gi, RuntimeError without a keyring
        return f"no usable libsecret here: {str(exc).strip().splitlines()[0]}"
    return ""


@pytest.mark.real_keyring
def test_sign_in_lands_encrypted_in_the_keyring_and_logout_empties_it(
    tmp_path: Path, no_poll_sleep: None
) -> None:
    why_not = _libsecret_works()
    if why_not:
        pytest.skip(why_not)
    out = io.StringIO()
    assert device_code_sign_in(out) == "at-dev"
    store = token_cache.open_token_store(notify=None)
    assert store.encrypted
    assert store.location == tmp_path / "cache" / "consent-audit" / "token_cache.bin"
    assert "rt-1" in store.persistence.load()
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert all(b"rt-1" not in p.read_bytes() for p in files), "no token in any file"
    assert "not encrypted" not in out.getvalue()
    assert store.clear() is True
    assert "rt-1" not in store.persistence.load()
