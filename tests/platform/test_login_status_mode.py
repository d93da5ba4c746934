"""``login --status`` says who can read the plain token cache from the modes it finds on disk.

A ``0666`` cache file inside a ``0700`` folder was reported as an "owner-only file": the line
repeated the intended mode, not the one found. Run through the CLI on this machine's headless
Linux fallback (no usable keyring, so the plain file is the store)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.e2e.cli_runner import run_cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


def _status(home: Path, file_mode: int | None, folder_mode: int) -> str:
    folder = home / "cache" / "consent-audit"
    folder.mkdir(parents=True)
    cache = folder / "token_cache.json"
    if file_mode is not None:
        cache.write_text("{}")
        cache.chmod(file_mode)
    folder.chmod(folder_mode)
    run = run_cli(["login", "--status"], None, home, token=None)
    assert run.code == 0, run.stderr
    if "NOT encrypted" not in run.stdout:
        pytest.skip("a keyring works here: the plain file is not the store")
    return run.stdout


def test_a_world_readable_cache_file_is_not_called_owner_only(tmp_path: Path) -> None:
    line = _status(tmp_path, 0o666, 0o700)
    assert "owner-only file" not in line
    assert "NOT owner-only" in line
    assert "file mode 0666, folder mode 0700" in line
    assert "chmod 600" in line


def test_an_owner_only_cache_is_reported_with_its_modes(tmp_path: Path) -> None:
    line = _status(tmp_path, 0o600, 0o700)
    assert "owner-only file" in line
    assert "(file mode 0600, folder mode 0700)" in line


def test_no_cache_file_yet(tmp_path: Path) -> None:
    line = _status(tmp_path, None, 0o700)
    assert "not written yet; folder mode 0700" in line
