"""No link passes unchecked, through the installed CLI against the emulator (issue 18, item 2):
Grady's refreshes fail with AADSTS50076; without --with-logs the sign-in log is not read, so
``check --user`` must say the Session link was not checked (never a bare PASS), and with the
log it shows the failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_runner import run_cli
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
GRADY = "grady.archie@margiestravel.com"
Factory = Callable[..., GraphEmulator]


def test_without_logs_the_session_link_is_not_checked_and_the_screen_says_how(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "mfa-after-connect.json")
    blind = run_cli(["check", "--user", GRADY], emu.url, tmp_path)
    screen = " ".join(blind.stdout.split())
    assert "Not checked: whether background refreshes succeed" in screen, blind.stdout
    assert "--with-logs" in screen
    report = run_cli(["check", "--user", GRADY, "--format", "json"], emu.url, tmp_path).report
    sessions = {f["name"]: f["chain"][-1] for f in report["features"]}
    assert {s["name"] for s in sessions.values()} == {"session"}
    assert {s["status"] for s in sessions.values()} == {"not_checked"}

    seen = run_cli(["check", "--user", GRADY, "--with-logs", "--format", "json"], emu.url, tmp_path)
    statuses = {f["name"]: f["status"] for f in seen.report["features"]}
    assert statuses["mailbox"] == "fail"
    assert "SIGNIN_FAILURES" in {f["id"] for f in seen.report["findings"]}
    assert all(f["chain"][-1]["status"] != "not_checked" for f in seen.report["features"])
