"""Which token store is chosen on each OS, where it lives, and that it behaves as a cache.

msal-extensions' encrypted persistences need DPAPI, the Keychain or a running keyring; here
they are replaced by :class:`FakeSecretPersistence`, which keeps the secret in memory and
touches the marker file as the real ones do. Everything else is real: platformdirs, the
``PersistedTokenCache`` with its lock, MSAL's device-code flow against ``responses``.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import msal_extensions  # type: ignore[import-untyped]
import platformdirs.windows
import pytest
from msal_extensions.persistence import PersistenceNotFound  # type: ignore[import-untyped]

from consent_audit.errors import AccessError
from consent_audit.live import token_cache

from .conftest import Platform, device_code_sign_in


class FakeSecretPersistence:
    """Stands in for DPAPI/Keychain/libsecret: the secret lives here, the file is a marker."""

    is_encrypted = True
    secrets: ClassVar[dict[str, str]] = {}
    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, location: str, **kwargs: Any) -> None:
        self.location = location
        self.made.append({"location": location, **kwargs})
        Path(location).parent.mkdir(parents=True, exist_ok=True)

    def save(self, content: str) -> None:
        self.secrets[self.location] = content
        Path(self.location).write_bytes(b"\x01encrypted\x02")  # never the tokens themselves

    def load(self) -> str:
        if self.location not in self.secrets:
            raise PersistenceNotFound(location=self.location)
        return self.secrets[self.location]

    def time_last_modified(self) -> float:
        try:
            return os.path.getmtime(self.location)
        except FileNotFoundError:
            raise PersistenceNotFound(location=self.location) from None

    def get_location(self) -> str:
        return self.location


@pytest.fixture(autouse=True)
def _fresh_fake() -> None:
    FakeSecretPersistence.secrets = {}
    FakeSecretPersistence.made = []


def _fake(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(msal_extensions, name, FakeSecretPersistence)


# -- the store chosen per platform ------------------------------------------------------------


def test_windows_uses_dpapi_in_local_appdata_and_calls_nothing_unix_only(
    pretend_windows: Platform,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    no_poll_sleep: None,
) -> None:
    local = tmp_path / "Users" / "adele" / "AppData" / "Local"
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda _csidl: str(local))
    _fake(monkeypatch, "FilePersistenceWithDataProtection")
    out = io.StringIO()
    assert device_code_sign_in(out) == "at-dev"
    store = token_cache.open_token_store(notify=None)
    expected = local / "consent-audit" / "Cache" / "token_cache.bin"
    assert store.location == expected
    assert store.encrypted
    assert not store.marker_only
    assert "DPAPI" in store.label
    assert "encrypted with Windows DPAPI" in store.status_line()
    assert FakeSecretPersistence.made[0]["location"] == str(expected)
    assert "at-dev" in FakeSecretPersistence.secrets[str(expected)]
    assert b"at-dev" not in expected.read_bytes()
    assert not (expected.parent / "token_cache.json").exists()
    assert "not encrypted" not in out.getvalue()
    assert pretend_windows.calls == []  # no fchmod/chmod/getuid on the way in or out
    assert store.clear() is True
    assert not expected.exists()
    assert pretend_windows.calls == []


def test_macos_uses_the_keychain_with_a_marker_in_library_caches(
    pretend_macos: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    _fake(monkeypatch, "KeychainPersistence")
    store = token_cache.open_token_store(notify=None)
    marker = tmp_path / "Library" / "Caches" / "consent-audit" / "token_cache.bin"
    assert store.location == marker
    assert store.encrypted
    assert store.marker_only
    assert FakeSecretPersistence.made == [
        {"location": str(marker), "service_name": "consent-audit", "account_name": str(marker)}
    ]
    assert store.status_line().startswith("token cache: encrypted in the macOS login Keychain")


def test_linux_desktop_uses_libsecret_keyed_by_location(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    _fake(monkeypatch, "LibsecretPersistence")
    notices: list[str] = []
    store = token_cache.open_token_store(notify=notices.append)
    marker = tmp_path / "cache" / "consent-audit" / "token_cache.bin"
    assert store.location == marker
    assert store.encrypted
    assert store.marker_only
    made = FakeSecretPersistence.made[0]
    assert made["schema_name"] == "consent-audit.TokenCache"
    assert made["attributes"] == {"application": "consent-audit", "location": str(marker)}
    assert notices == []


@pytest.mark.parametrize(
    "failure",
    [
        ImportError("Unable to import module 'gi'\nRuntime dependency of PyGObject is missing."),
        RuntimeError("libsecret did not perform properly.\n* Headless mode is not supported."),
    ],
)
def test_headless_linux_falls_back_to_the_owner_only_file_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    failure: Exception,
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")

    def unavailable(*_a: object, **_k: object) -> None:
        raise failure

    monkeypatch.setattr(msal_extensions, "LibsecretPersistence", unavailable)
    first = token_cache.open_token_store()
    second = token_cache.open_token_store()
    plain = tmp_path / "cache" / "consent-audit" / "token_cache.json"
    assert first.location == second.location == plain
    assert not first.encrypted
    err = capsys.readouterr().err
    assert err.count("\n") == 1, "one line, once per process"
    assert err.startswith("note: the token cache is not encrypted")
    assert str(plain) in err
    assert str(failure).splitlines()[0].rstrip(".") in err
    assert "NOT encrypted" in first.status_line()
    assert str(plain) in first.status_line()


def test_unsupported_platform_falls_back_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "freebsd14")
    notices: list[str] = []
    store = token_cache.open_token_store(notify=notices.append)
    assert not store.encrypted
    assert len(notices) == 1
    assert "freebsd14" in notices[0]


# -- behaviour of the stores ---------------------------------------------------------------------


def test_fallback_file_is_0600_in_0700_and_reused_after_sign_in(
    tmp_path: Path, no_poll_sleep: None
) -> None:
    out = io.StringIO()
    device_code_sign_in(out)
    plain = tmp_path / "cache" / "consent-audit" / "token_cache.json"
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600
    assert stat.S_IMODE(plain.parent.stat().st_mode) == 0o700
    assert "rt-1" in json.dumps(json.loads(plain.read_text()))
    assert out.getvalue().count("not encrypted") == 1
    assert not Path(f"{plain}.lockfile").exists(), "the lock is released"


def test_an_old_plain_cache_moves_into_the_secret_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    plain = tmp_path / "cache" / "consent-audit" / "token_cache.json"
    plain.parent.mkdir(parents=True)
    plain.write_text('{"RefreshToken": {"k": {"secret": "old-rt"}}}')
    _fake(monkeypatch, "LibsecretPersistence")
    notices: list[str] = []
    store = token_cache.open_token_store(notify=notices.append)
    assert not plain.exists()
    assert "old-rt" in FakeSecretPersistence.secrets[str(store.location)]
    assert len(notices) == 1
    assert "moved the unencrypted token cache" in notices[0]


def test_logout_overwrites_the_secret_and_removes_the_marker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    _fake(monkeypatch, "LibsecretPersistence")
    store = token_cache.open_token_store(notify=None)
    store.persistence.save('{"RefreshToken": {"k": {"secret": "rt"}}}')
    assert store.clear() is True
    assert not any(json.loads(FakeSecretPersistence.secrets[str(store.location)]).values())
    assert not store.location.exists()
    assert store.clear() is False


def test_logout_without_the_keyring_that_holds_the_tokens_says_so(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "cache" / "consent-audit" / "token_cache.bin"
    marker.parent.mkdir(parents=True)
    marker.write_bytes(b"")
    store = token_cache.open_token_store(notify=None)  # libsecret off: the fallback
    with pytest.raises(AccessError, match="encrypted token cache") as info:
        store.clear()
    assert info.value.exit_code == 3


def test_a_refusing_secret_store_is_one_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class LockedKeychain(FakeSecretPersistence):
        def load(self) -> str:
            raise OSError(-25308, "User interaction is not allowed (keychain locked)")

    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(msal_extensions, "KeychainPersistence", LockedKeychain)
    store = token_cache.open_token_store(notify=None)
    with pytest.raises(AccessError, match="keychain locked") as info:
        store.persistence.load()
    assert "Keychain" in str(info.value)
    assert info.value.exit_code == 3


def test_a_stale_lock_is_named_with_the_file_to_delete(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class HeldLock:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self) -> None:
            raise msal_extensions.LockError(f"Unable to obtain lock on {self.path}")

        def __exit__(self, *_exc: object) -> None:
            return None

    import msal_extensions.token_cache as persisted  # type: ignore[import-untyped]

    monkeypatch.setattr(persisted, "CrossPlatLock", HeldLock)
    store = token_cache.open_token_store(notify=None)
    cache = store.cache()
    with pytest.raises(AccessError, match="locked") as info, store.guard():
        cache.add({"client_id": "c", "scope": ["s"], "token_endpoint": ENDPOINT, "response": {}})
    assert str(store.lock_location) in str(info.value)


ENDPOINT = "https://login.microsoftonline.com/t/oauth2/v2.0/token"
_WRITER = """
import sys
from pathlib import Path
import msal_extensions
from consent_audit.live.token_cache import open_token_store
msal_extensions.LibsecretPersistence = None  # the owner-only file even where a keyring runs
store = open_token_store(Path(sys.argv[1]), notify=None)
cache = store.cache()
for i in range(int(sys.argv[3])):
    cache.add({
        "client_id": f"client-{sys.argv[2]}-{i}",
        "scope": ["s"],
        "token_endpoint": "https://login.microsoftonline.com/t/oauth2/v2.0/token",
        "response": {"access_token": "a", "refresh_token": f"rt-{sys.argv[2]}-{i}",
                     "expires_in": 3600},
    })
"""


def test_two_processes_writing_at_once_lose_no_token(tmp_path: Path) -> None:
    """msal-extensions' lock: each write reloads the latest file first, under the lock."""
    directory = tmp_path / "shared-cache"
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(directory), name, "6"])
        for name in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    data = json.loads((directory / "token_cache.json").read_text())
    secrets = sorted(rt["secret"] for rt in data["RefreshToken"].values())
    assert secrets == sorted(f"rt-{w}-{i}" for w in "ab" for i in range(6))


def test_the_fallback_notice_shows_a_hostile_cache_path_as_escapes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The notice names the cache's path, which comes from XDG_CACHE_HOME: a terminal title
    sequence, a newline or U+202E there is shown escaped, on one line."""
    monkeypatch.setattr(sys, "platform", "linux")

    def unavailable(*_a: object, **_k: object) -> None:
        raise RuntimeError("no D-Bus session bus")

    monkeypatch.setattr(msal_extensions, "LibsecretPersistence", unavailable)
    hostile = tmp_path / "c\x1b]0;owned\x07\nwrote report to /etc/passwd\u202e"
    token_cache.open_token_store(hostile)
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "\x1b" not in err
    assert "\x07" not in err
    assert "\u202e" not in err
    assert err.startswith("note: the token cache is not encrypted")
