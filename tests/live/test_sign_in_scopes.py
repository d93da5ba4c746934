"""The scopes a person's sign-in asks for come from the collection plan, per command.

Each command is run through the CLI up to its sign-in (stopped there): what it would ask
for is compared with the delegated permissions of every request that command can make."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.errors import AccessError
from consent_audit.live import auth
from consent_audit.live.auth import Authenticator
from consent_audit.live.plan import COVERED, collection_plan
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import load_manifest

GRAPH = "https://graph.microsoft.com/"


def _expected(options: LiveOptions) -> set[str]:
    """Every request the command's options allow (any user, any app id), each permission
    replaced by the one documented to cover it."""
    every = replace(options, user="{user}", app_ids=("{appId}",))
    plan = collection_plan(load_manifest(), every)
    return {GRAPH + COVERED.get(n, n) for c in plan for n in (c.permission, *c.also)}


@pytest.mark.parametrize(
    ("args", "logs"),
    [
        (["check"], False),
        (["check", "--user", "adele@contoso.com"], False),
        (["check", "--with-logs"], True),
        (["snapshot", "-o", "{tmp}/s.json"], False),
        (["snapshot", "-o", "{tmp}/s.json", "--with-logs"], True),
        (["fix"], True),
        (["fix", "--user", "adele@contoso.com"], True),
    ],
)
def test_each_command_asks_for_what_its_requests_need(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, args: list[str], logs: bool
) -> None:
    for name in (
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    asked: list[tuple[LiveOptions, list[str]]] = []

    def stop(self: Authenticator) -> NoReturn:
        asked.append((self.options, auth.delegated_scopes(self.endpoints, self.with_logs)))
        raise AccessError("stopped at sign-in by the test")

    monkeypatch.setattr(Authenticator, "sign_in", stop)
    monkeypatch.delenv("CONSENT_AUDIT_ACCESS_TOKEN", raising=False)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(app, [*argv, "--tenant", "contoso.onmicrosoft.com"])
    assert result.exit_code == 3, result.output
    [(options, scopes)] = asked
    assert options.with_logs is logs
    assert set(scopes) == _expected(options)
    assert len(scopes) == len(set(scopes))
    # The plan records User.Read (/organization); the hand-kept list left it out.
    assert GRAPH + "User.Read" in scopes
    assert (GRAPH + "AuditLog.Read.All" in scopes) is logs
    # Covered least-privileged names are never asked for beside what covers them.
    assert not {GRAPH + n for n in COVERED} & set(scopes)
