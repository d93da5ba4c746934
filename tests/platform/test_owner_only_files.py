"""Owner-only writes: 0600/0700 on POSIX; on Windows no Unix-only call, same bytes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from consent_audit.files import make_private_dir, posix_modes, write_text_atomic

from .conftest import Platform


def test_posix_file_is_0600_even_with_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        write_text_atomic(tmp_path / "r.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o600


def test_posix_private_dir_is_0700_and_tightens_an_existing_one(tmp_path: Path) -> None:
    loose = tmp_path / "cache" / "consent-audit"
    loose.mkdir(parents=True, mode=0o755)
    os.chmod(loose, 0o755)
    make_private_dir(loose)
    assert stat.S_IMODE(loose.stat().st_mode) == 0o700
    fresh = tmp_path / "config" / "consent-audit"
    make_private_dir(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700


def test_windows_write_calls_nothing_unix_only_and_keeps_lf(
    pretend_windows: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "sub" / "report.txt"
    directory = target.parent
    monkeypatch.setattr(os, "name", "nt")  # no Path() is built below while this holds
    assert posix_modes() is False
    make_private_dir(directory)
    write_text_atomic(target, "line one\nline two\n")
    monkeypatch.setattr(os, "name", "posix")
    assert pretend_windows.calls == []
    assert target.read_bytes() == b"line one\nline two\n"
    assert sorted(p.name for p in directory.iterdir()) == ["report.txt"]


def test_the_windows_spies_do_catch_a_unix_only_call(pretend_windows: Platform) -> None:
    """Guards the test above: were the guard gone, the spy would record the call."""
    with pytest.raises(AttributeError):
        os.fchmod(0, 0o600)
    assert pretend_windows.calls == ["os.fchmod"]
