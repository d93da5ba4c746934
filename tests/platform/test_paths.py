"""The cache and config directories per OS, with the platform switched."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_audit import paths

from .conftest import Platform

WINDOWS_LOCAL = "C:\\Users\\adele\\AppData\\Local"


def test_linux_honours_xdg_cache_home_and_xdg_config_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xf"))
    assert paths.user_cache_dir() == tmp_path / "xc" / "consent-audit"
    assert paths.user_config_dir() == tmp_path / "xf" / "consent-audit"
    assert paths.config_file("redaction.key") == tmp_path / "xf" / "consent-audit" / "redaction.key"


def test_linux_without_xdg_uses_dot_cache_and_dot_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.user_cache_dir() == tmp_path / ".cache" / "consent-audit"
    assert paths.user_config_dir() == tmp_path / ".config" / "consent-audit"


def test_macos_uses_library_caches_and_application_support(
    pretend_macos: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert paths.user_cache_dir() == tmp_path / "Library" / "Caches" / "consent-audit"
    assert paths.user_config_dir() == (
        tmp_path / "Library" / "Application Support" / "consent-audit"
    )


def test_windows_uses_local_appdata(
    pretend_windows: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No Win32 API on Linux: platformdirs' documented override of the known-folder lookup
    # (4.8 and later) and the %LOCALAPPDATA% it falls back to without ctypes.windll (before
    # 4.8; our floor is older) name the same folder.
    monkeypatch.setenv("WIN_PD_OVERRIDE_LOCAL_APPDATA", WINDOWS_LOCAL)
    monkeypatch.setenv("LOCALAPPDATA", WINDOWS_LOCAL)
    monkeypatch.setenv("XDG_CACHE_HOME", "/must/not/be/used")
    cache = str(paths.user_cache_dir()).replace("/", "\\")
    config = str(paths.user_config_dir()).replace("/", "\\")
    assert cache == WINDOWS_LOCAL + "\\consent-audit\\Cache"
    assert config == WINDOWS_LOCAL + "\\consent-audit"
    assert pretend_windows.calls == []
