"""``login --status`` and ``logout`` through the CLI, on the store this process uses."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import msal_extensions  # type: ignore[import-untyped]
import pytest
from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.live.token_cache import open_token_store

from .test_token_store import FakeSecretPersistence

runner = CliRunner()


def test_status_is_one_line_naming_the_plain_file_and_saying_not_encrypted(
    tmp_path: Path,
) -> None:
    result = runner.invoke(app, ["login", "--status"])
    assert result.exit_code == 0
    plain = tmp_path / "cache" / "consent-audit" / "token_cache.json"
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith("token cache: NOT encrypted, file ")
    assert "(not written yet; folder mode 0700)" in result.stdout  # the modes found, not meant
    assert str(plain) in result.stdout
    assert "(empty)" in result.stdout
    assert result.stderr == "", "the status line says it; no separate notice"


def test_status_and_logout_with_an_encrypted_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(msal_extensions, "LibsecretPersistence", FakeSecretPersistence)
    FakeSecretPersistence.secrets = {}
    store = open_token_store(notify=None)
    store.persistence.save(json.dumps({"RefreshToken": {"k": {"secret": "rt-x"}}}))
    status = runner.invoke(app, ["login", "--status"])
    assert status.stdout.startswith("token cache: encrypted in the libsecret keyring")
    assert f"change marker {store.location} (holds a sign-in)" in status.stdout
    out = runner.invoke(app, ["logout"])
    assert out.exit_code == 0
    assert "token cache removed" in out.stderr
    assert "rt-x" not in FakeSecretPersistence.secrets[str(store.location)]
    again = runner.invoke(app, ["logout"])
    assert "no token cache to remove" in again.stderr


def test_logout_of_the_plain_file(tmp_path: Path) -> None:
    store = open_token_store(notify=None)
    store.persistence.save("{}")
    assert store.location.exists()
    result = runner.invoke(app, ["logout"])
    assert result.exit_code == 0
    assert not store.location.exists()
