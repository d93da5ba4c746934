"""The MSAL token cache: in the OS's secret store where there is one, else an owner-only file.

MSAL's token cache holds refresh tokens for an account that can read the whole directory, so
it is a credential. msal-extensions (Microsoft's library, used by the Azure CLI and
azure-identity) stores it encrypted per OS, and this module picks its persistence by
``sys.platform`` as its ``build_encrypted_persistence`` does, but names the secret-store item
after consent-audit so an admin can find it:

* Windows: ``FilePersistenceWithDataProtection`` - the file is encrypted with DPAPI for the
  signed-in Windows user.
* macOS: ``KeychainPersistence`` - a generic password in the login Keychain (service
  ``consent-audit``); the file beside it is only a change marker.
* Linux: ``LibsecretPersistence`` - the Secret Service (GNOME Keyring, KWallet) via PyGObject;
  the file is a change marker. It raises ``ImportError`` without ``gi`` and ``RuntimeError``
  from its ``trial_run`` without a running, unlocked keyring (headless servers, SSH, CI).

Where no secret store works the cache is the previous owner-only file (``0600`` in a ``0700``
directory, written atomically) and one line on stderr says so - its content is not encrypted.

The cache is a ``PersistedTokenCache``: every change MSAL makes is written at once under
msal-extensions' cross-process lock (``<file>.lockfile``), and every read reloads a newer file,
so two terminals or two CI steps signing in at the same time never corrupt it.

The directory is :func:`consent_audit.paths.user_cache_dir` (``%LOCALAPPDATA%``,
``~/Library/Caches``, ``$XDG_CACHE_HOME`` or ``~/.cache``). The encrypted and the plain file
have different names, so a store that becomes encrypted never leaves the old plain refresh
token behind: it is moved into the secret store and deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import msal  # type: ignore[import-untyped]
import msal_extensions  # type: ignore[import-untyped]
from msal_extensions.persistence import (  # type: ignore[import-untyped]
    FilePersistence,
    PersistenceNotFound,
)

from consent_audit import paths
from consent_audit.errors import AccessError, InputError
from consent_audit.files import make_private_dir, write_text_atomic

PLAIN_FILE_NAME = "token_cache.json"
ENCRYPTED_FILE_NAME = "token_cache.bin"
SECRET_NAME = "consent-audit"
"""Keychain service / libsecret schema and label under which the encrypted cache is kept."""

Notify = Callable[[str], None]


class OwnerOnlyFilePersistence(FilePersistence):  # type: ignore[misc]
    """msal-extensions' plain ``FilePersistence``, written atomically and owner-only.

    Its own ``save`` truncates the file in place (a kill leaves half a cache) and creates the
    directory with the default umask; this writes a temporary ``0600`` file inside a ``0700``
    directory and renames it over the old one.
    """

    is_encrypted = False

    def __init__(self, location: Path) -> None:
        make_private_dir(location.parent)
        super().__init__(str(location))

    def save(self, content: str) -> None:
        path = Path(self.get_location())
        make_private_dir(path.parent)
        write_text_atomic(path, content, mode=0o600)


class CheckedPersistence:
    """A persistence whose failures (locked Keychain, keyring refusing, DPAPI error, disk)
    become one :class:`AccessError` naming the store, instead of a traceback (exit 4).

    ``PersistenceNotFound`` passes through untouched: ``PersistedTokenCache`` reads it as
    "nothing saved yet".
    """

    def __init__(self, inner: Any, label: str) -> None:
        self.inner = inner
        self.label = label
        self.is_encrypted = bool(inner.is_encrypted)

    def _call(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except PersistenceNotFound:
            raise
        except IsADirectoryError:
            raise _not_a_cache(self.get_location(), "is a directory") from None
        except (OSError, RuntimeError) as exc:  # KeychainError, GLib.Error, PersistenceError
            raise AccessError(
                f"the token cache in {self.label} ({self.get_location()}) cannot be used: "
                f"{_first_line(exc)}.",
                fix=(
                    "Unlock the keychain/keyring if it is locked, or run `consent-audit logout` "
                    "and sign in again."
                ),
            ) from None

    def save(self, content: str) -> None:
        self._call(lambda: self.inner.save(content))

    def load(self) -> str:
        """The cache's JSON; anything else is a corrupt cache (exit 2), not a crash in MSAL."""
        content = str(self._call(self.inner.load))
        try:
            parsed = json.loads(content) if content.strip() else {}
        except (ValueError, RecursionError):
            parsed = None
        if not isinstance(parsed, dict):
            raise _not_a_cache(self.get_location(), "is corrupt (not an MSAL token cache)")
        return content

    def time_last_modified(self) -> float:
        return float(self._call(self.inner.time_last_modified))

    def get_location(self) -> str:
        return str(self.inner.get_location())


def _not_a_cache(location: str, what: str) -> InputError:
    """A cache file that is not one (exit 2): say which, and how to start over."""
    how = "delete it by hand" if "directory" in what else "run `consent-audit logout`"
    return InputError(
        f"the token cache {location} {what}.", fix=f"{how.capitalize()}, then sign in again."
    )


@dataclass(frozen=True)
class TokenStore:
    """The store in use: its persistence, where it lives, and whether it is encrypted."""

    persistence: CheckedPersistence
    location: Path
    encrypted: bool
    label: str
    """What protects the tokens, e.g. ``the libsecret keyring (item 'consent-audit ...')``."""
    marker_only: bool = False
    """True when the file is only a change marker and the tokens are in the secret store."""
    fallback_reason: str = ""
    """Why no encrypted store could be used (empty when encrypted)."""

    @property
    def lock_location(self) -> Path:
        return Path(f"{self.location}.lockfile")

    def has_tokens(self) -> bool:
        """True when a cache was saved (the encrypted file or marker, or the plain file)."""
        return self.location.exists()

    def cache(self) -> msal.SerializableTokenCache:
        """An MSAL cache that reloads and writes through this store under the file lock."""
        return msal_extensions.PersistedTokenCache(
            self.persistence, lock_location=str(self.lock_location)
        )

    def status_line(self) -> str:
        """One line for ``login --status``: where the cache lives and whether it is encrypted."""
        held = "holds a sign-in" if self.has_tokens() else "empty"
        if self.encrypted and self.marker_only:
            return f"token cache: encrypted in {self.label}; change marker {self.location} ({held})"
        if self.encrypted:
            return f"token cache: encrypted with {self.label} in {self.location} ({held})"
        return (
            f"token cache: NOT encrypted, {_file_access(self.location)} ({held}); "
            f"{self.fallback_reason}"
        )

    def clear(self) -> bool:
        """Forget every token (``logout``); False when nothing was stored.

        The Keychain and libsecret items cannot be deleted through msal-extensions' public
        API, so they are overwritten with an empty cache before the marker file is removed.
        When this session has no secret store but an encrypted cache exists (signed in on the
        desktop, logging out over SSH), it says so rather than claim the tokens are gone.
        """
        removed = False
        if self.has_tokens():
            with self.guard(), msal_extensions.CrossPlatLock(str(self.lock_location)):
                if self.encrypted:
                    self.persistence.save(msal.SerializableTokenCache().serialize())
                with contextlib.suppress(FileNotFoundError):
                    if self.location.is_dir():
                        raise _not_a_cache(str(self.location), "is a directory")
                    self.location.unlink()
            removed = True
        stranded = self.location.parent / ENCRYPTED_FILE_NAME
        if not self.encrypted and stranded.exists():
            raise AccessError(
                f"an encrypted token cache ({stranded}) exists, but this session cannot reach "
                f"the OS secret store ({self.fallback_reason}).",
                fix=(
                    "Run `consent-audit logout` in the desktop session that signed in, or delete "
                    f"the '{SECRET_NAME} token cache' item in the keyring (Seahorse, Keychain "
                    "Access) and that file."
                ),
            )
        return removed

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """A lock held too long (a killed run's lock file) becomes one message, exit 3."""
        try:
            yield
        except msal_extensions.LockError as exc:
            raise AccessError(
                f"the token cache is locked ({self.lock_location}): {_first_line(exc)}.",
                fix=(
                    "Wait for the other consent-audit to finish. If none is running, a killed "
                    f"run left the lock file behind: delete {self.lock_location}."
                ),
            ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else type(exc).__name__
    return line[:160].rstrip(".")


def _encrypted_persistence(location: Path) -> tuple[Any, str, bool]:
    """The OS's encrypted persistence, what protects it, and whether the file is a marker.

    Raises when the OS offers none. The constructors are looked up on ``msal_extensions`` at
    call time so tests can fake them. The secret-store item is keyed by the file's path too,
    so two cache directories (e.g. two ``XDG_CACHE_HOME``) never share tokens.
    """
    if sys.platform.startswith("win"):
        return (
            msal_extensions.FilePersistenceWithDataProtection(str(location)),
            "Windows DPAPI (current user)",
            False,
        )
    if sys.platform.startswith("darwin"):
        return (
            msal_extensions.KeychainPersistence(
                str(location), service_name=SECRET_NAME, account_name=str(location)
            ),
            f"the macOS login Keychain (service '{SECRET_NAME}')",
            True,
        )
    if sys.platform.startswith("linux"):
        return (
            msal_extensions.LibsecretPersistence(
                str(location),
                schema_name=f"{SECRET_NAME}.TokenCache",
                attributes={"application": SECRET_NAME, "location": str(location)},
                label=f"{SECRET_NAME} token cache",
            ),
            f"the libsecret keyring (item '{SECRET_NAME} token cache')",
            True,
        )
    raise RuntimeError(f"no OS secret store is supported on {sys.platform}")


def _no_encryption_reason(exc: BaseException) -> str:
    if sys.platform.startswith("linux"):
        return (
            f"no usable libsecret keyring: {_first_line(exc)}; encryption needs PyGObject in "
            "this Python and an unlocked GNOME Keyring or KWallet"
        )
    return f"the OS secret store failed: {_first_line(exc)}"


def cache_directory() -> Path:
    return paths.user_cache_dir()


def saved_cache_exists(directory: Path | None = None) -> bool:
    """Whether any cache was saved, checked without opening a store (no keyring prompt)."""
    directory = cache_directory() if directory is None else directory
    return any((directory / name).exists() for name in (ENCRYPTED_FILE_NAME, PLAIN_FILE_NAME))


_notified: set[str] = set()


def notify_once(message: str, out: TextIO | None = None) -> None:
    """Print ``message`` on stderr the first time in this process only.

    The message names the cache's path (from ``XDG_CACHE_HOME`` or the home folder) and an
    OS error's text: it goes through the report's boundary (render/safe_text.clean) so a
    control sequence in either cannot reach the terminal, as with every other message.
    """
    if message in _notified:
        return
    _notified.add(message)
    from consent_audit.render.safe_text import clean

    print(clean(message), file=out or sys.stderr, flush=True)


def open_token_store(
    directory: Path | None = None, *, notify: Notify | None = notify_once
) -> TokenStore:
    """The encrypted store where the OS has one, else the owner-only file (and one notice).

    ``notify`` receives the one-line notice about the fallback or about moving an old plain
    cache into the secret store; ``None`` silences it (``login --status`` says it itself).
    """
    directory = cache_directory() if directory is None else directory
    make_private_dir(directory)
    plain = directory / PLAIN_FILE_NAME
    encrypted_location = directory / ENCRYPTED_FILE_NAME
    try:
        persistence, label, marker_only = _encrypted_persistence(encrypted_location)
    except Exception as exc:  # any failure means: no secret store here (msal-extensions README)
        reason = _no_encryption_reason(exc)
        label = "an owner-only file"
        checked = CheckedPersistence(OwnerOnlyFilePersistence(plain), label)
        store = TokenStore(checked, plain, False, label, fallback_reason=reason)
        if notify:
            notify(f"note: the token cache is not encrypted ({reason}); using owner-only {plain}.")
        return store
    checked = CheckedPersistence(persistence, label)
    store = TokenStore(checked, encrypted_location, True, label, marker_only)
    if plain.exists():
        _move_plain_cache_in(store, plain, notify)
    return store


def _move_plain_cache_in(store: TokenStore, plain: Path, notify: Notify | None) -> None:
    """A plain cache from before encryption was available: encrypt it, then delete it."""
    with store.guard(), msal_extensions.CrossPlatLock(str(store.lock_location)):
        if not store.has_tokens():
            store.persistence.save(plain.read_text(encoding="utf-8"))
        os.unlink(plain)
    if notify:
        notify(f"note: moved the unencrypted token cache {plain} into {store.label}.")


def _file_access(path: Path) -> str:
    """Who can read the plain cache, from the modes found on disk, not the ones intended.

    The file is written ``0600`` in a ``0700`` folder, but a restored backup, a ``cp`` or a
    umask can leave it ``0666``: "owner-only" is said only when the file and its folder
    both grant nothing to group and others (issue #19: a ``0666`` file inside a ``0700``
    folder was reported owner-only). Windows has no such modes: the profile's ACL applies."""
    from consent_audit.files import posix_modes

    if not posix_modes():
        return f"file {path} (your profile's access rules)"
    try:
        folder = stat.S_IMODE(os.stat(path.parent).st_mode)
    except OSError:
        return f"file {path} (folder not created yet)"
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return f"file {path} (not written yet; folder mode {folder:04o})"
    except OSError as exc:
        return f"file {path} (mode unreadable: {exc.strerror})"
    found = f"file mode {mode:04o}, folder mode {folder:04o}"
    if mode & 0o077 == 0 and folder & 0o077 == 0:
        return f"owner-only file {path} ({found})"
    if mode & 0o077 == 0:
        # An owner-only file in an open folder can be replaced or renamed by others only if
        # the folder is writable by them; readable, it still shows that a cache exists.
        return f"file {path} is owner-only but its folder is not ({found}): chmod 700 the folder"
    return (
        f"file {path} is NOT owner-only ({found}): others can read the tokens; run chmod 600 on it"
    )
