"""Where consent-audit keeps its own files on each OS: the user cache and config directories.

platformdirs knows each OS's convention, so the tool does not assume Linux:

* Windows: cache ``%LOCALAPPDATA%\\consent-audit\\Cache``, config
  ``%LOCALAPPDATA%\\consent-audit``.
* macOS: cache ``~/Library/Caches/consent-audit``, config
  ``~/Library/Application Support/consent-audit``.
* Linux: cache ``$XDG_CACHE_HOME/consent-audit`` (else ``~/.cache/consent-audit``), config
  ``$XDG_CONFIG_HOME/consent-audit`` (else ``~/.config/consent-audit``).

Both live in the user's profile, which on Windows carries an ACL granting only the user (and
SYSTEM/Administrators) access; files created there inherit it. The implementation is chosen
from ``sys.platform`` at each call, not at import, so tests can switch the platform. Nothing
here creates a directory: writers call :func:`consent_audit.files.make_private_dir`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from platformdirs.api import PlatformDirsABC

APP_NAME = "consent-audit"


def _platform_dirs() -> PlatformDirsABC:
    """platformdirs' class for the running OS (imported lazily: ``--help`` stays fast)."""
    if sys.platform == "win32":
        from platformdirs.windows import Windows

        return Windows(APP_NAME, appauthor=False)
    if sys.platform == "darwin":
        from platformdirs.macos import MacOS

        return MacOS(APP_NAME, appauthor=False)
    from platformdirs.unix import Unix

    return Unix(APP_NAME, appauthor=False)


def user_cache_dir() -> Path:
    """The per-user cache directory (the token cache lives here); honours ``XDG_CACHE_HOME``."""
    return Path(_platform_dirs().user_cache_dir)


def user_config_dir() -> Path:
    """The per-user config directory for files the user keeps (e.g. a redaction key).

    Create it with :func:`consent_audit.files.make_private_dir` and write secrets into it with
    :func:`consent_audit.files.write_text_atomic` (owner-only on POSIX, the profile's ACL on
    Windows).
    """
    return Path(_platform_dirs().user_config_dir)


def config_file(name: str) -> Path:
    """A file in :func:`user_config_dir`, e.g. ``config_file("redaction.key")``."""
    return user_config_dir() / name
