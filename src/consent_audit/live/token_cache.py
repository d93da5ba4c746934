"""The MSAL token cache on disk: one file, readable by its owner only.

MSAL's ``SerializableTokenCache`` holds refresh tokens, which are credentials. msal-extensions'
encrypted persistence needs libsecret/DPAPI/Keychain and fails on headless Linux (graph-facts
section 12), so the cache is a plain file created ``0600`` inside a ``0700`` directory under the
user cache dir (``$XDG_CACHE_HOME`` or ``~/.cache``) and replaced atomically so a kill never
leaves half a cache. ``logout`` deletes it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

import msal  # type: ignore[import-untyped]

from consent_audit.files import write_text_atomic

CACHE_FILE_NAME = "token_cache.json"


def token_cache_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "consent-audit" / CACHE_FILE_NAME


class TokenCacheFile:
    """Loads and saves one ``SerializableTokenCache``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cache = msal.SerializableTokenCache()

    def load(self) -> msal.SerializableTokenCache:
        with contextlib.suppress(FileNotFoundError):
            self.cache.deserialize(self.path.read_text(encoding="utf-8"))
        return self.cache

    def save(self) -> None:
        """Write only if MSAL changed something; create 0600 and rename over the old file."""
        if not self.cache.has_state_changed:
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_text_atomic(self.path, self.cache.serialize(), mode=0o600)

    def delete(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True
