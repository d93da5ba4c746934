"""``fix --apply`` keeps the order it prints: a Graph write that comes after a manual step is
sent only once the admin says that step is done (issue 18: "every step is safe to apply in the
order printed"; for Mail.ReadWrite / Mail.Send "Limit who can use Recruitee" comes before the
tenant-wide consent, grant-admin-consent.md).

partial-scopes: step 1 (manual) limits who can use Recruitee, step 2 (Graph) adds Mail.ReadWrite
and Mail.Send to the tenant-wide grant. Against the emulator, with nothing confirmed no write
reaches it; confirmed (the option or the prompt), the grant does."""

from __future__ import annotations

import os
import pty
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_runner import cli_command, run_cli
from tests.emulator.faults import Fault, FaultKind
from tests.emulator.server import GraphEmulator
from tests.security.test_fix_apply_answers import _env, _writes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _grant_writes(emu: GraphEmulator) -> list[str]:
    return [w for w in _writes(emu) if "oauth2PermissionGrants" in w]


def test_the_plan_prints_the_manual_step_before_the_grant(tmp_path: Path) -> None:
    plan = run_cli(["fix", "--snapshot", str(EXAMPLES / "partial-scopes.json")], None, tmp_path)
    lines = plan.stdout.splitlines()
    assert lines[1].startswith("1. Limit who can use Recruitee"), plan.stdout
    assert any(line.startswith("2. Grant admin consent") for line in lines), plan.stdout
    # A replay cannot --apply: it points at a live run, which numbers its own plan and asks
    # about the manual step before the grant (test_yes_without_the_manual_step_sends_no_grant).
    said = " ".join(plan.stderr.split())
    assert "asks about each manual step before a write that needs it" in said, said


def test_yes_without_the_manual_step_sends_no_grant(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    run = run_cli(["fix", "--apply", "--yes"], emu.url, tmp_path)
    assert _writes(emu) == [], run.stdout + run.stderr
    assert "Not sent: step(s) 2, as manual step 1 comes first" in run.stderr
    assert "--manual-steps-done 1" in run.stderr
    assert "done: " not in run.stdout
    # The tenant is as audited: its missing scopes still decide the exit.
    assert run.code == 1, run.stdout + run.stderr


def test_yes_with_the_manual_step_done_sends_the_grant(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    run = run_cli(["fix", "--apply", "--yes", "--manual-steps-done", "1"], emu.url, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert len(_grant_writes(emu)) == 1, _writes(emu)
    assert "Not sent" not in run.stderr


def test_naming_a_step_that_is_not_manual_is_bad_input(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    run = run_cli(["fix", "--apply", "--yes", "--manual-steps-done", "2"], emu.url, tmp_path)
    assert run.code == 2, run.stdout + run.stderr
    assert "step 2 is not a manual step" in run.stderr
    assert _writes(emu) == []


def _interactive(emu: GraphEmulator, home: Path, answers: list[bytes]) -> tuple[int, str]:
    """Run ``fix --apply`` on a terminal, answering each prompt as it appears."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [*cli_command(), "fix", "--apply"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(emu, home),
    )
    os.close(terminal)
    for answer in answers:
        time.sleep(0.2)
        os.write(controller, answer)
    out, err = proc.communicate(timeout=90)
    os.close(controller)
    return proc.returncode, out.decode() + err.decode()


def test_the_prompt_defaults_to_not_done_and_sends_nothing(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    code, output = _interactive(emu, tmp_path, [b"\n", b"y\n"])
    assert _writes(emu) == [], output
    assert "Not sent: step(s) 2" in output
    assert code == 1, output


def test_answering_done_then_yes_sends_the_grant(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    code, output = _interactive(emu, tmp_path, [b"y\n", b"y\n"])
    assert len(_grant_writes(emu)) == 1, output
    assert code == 0, output


def test_a_revoked_consent_is_not_granted_again_until_its_why_is_confirmed(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """revoked-consent: step 1 asks the person who removed Recruitee's consent why (it may
    be deliberate), step 2 limits who can use Recruitee, step 3 grants. Confirming only the
    limit step sends nothing; confirming both sends the grant."""
    emu = graph_emulator_factory(EXAMPLES / "revoked-consent.json")
    plan = run_cli(["fix"], emu.url, tmp_path)
    assert plan.stdout.splitlines()[1].startswith("1. Before consenting again, ask"), plan.stdout
    assert "--manual-steps-done 1 --manual-steps-done 2" in " ".join(plan.stderr.split())
    run = run_cli(["fix", "--apply", "--yes", "--manual-steps-done", "2"], emu.url, tmp_path)
    assert _writes(emu) == [], run.stdout + run.stderr
    assert "Not sent: step(s) 3, as manual step 1 comes first" in run.stderr
    done = ["--manual-steps-done", "1", "--manual-steps-done", "2"]
    run = run_cli(["fix", "--apply", "--yes", *done], emu.url, tmp_path)
    assert len(_grant_writes(emu)) == 1, run.stdout + run.stderr


def test_a_grant_with_the_audit_log_unread_says_the_revocation_is_not_checked(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """The audit log refused (403): the plan cannot know whether consent was removed on
    purpose, so `fix` says so, not checked, instead of granting in silence."""
    refused = Fault(r"/auditLogs/directoryAudits", FaultKind.STATUS, count=None, status=403)
    emu = graph_emulator_factory(EXAMPLES / "revoked-consent.json", faults=[refused])
    run = run_cli(["fix"], emu.url, tmp_path)
    assert "Grant admin consent" in run.stdout, run.stdout + run.stderr
    said = " ".join(run.stderr.split())
    assert "Not checked: this audit did not read the directory audit log (forbidden)" in said
    assert refused.fired


def test_the_tenant_wide_grant_instead_of_a_persons_own_consent_waits_only_on_its_own_step(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """never-connected, --user Debra (she may consent herself): step 1 is her own consent,
    steps 2 (limit who can use Recruitee) and 3 (the grant) are instead of it. --apply is
    the admin choosing the alternative: it waits for step 2, never for step 1."""
    emu = graph_emulator_factory(EXAMPLES / "never-connected.json")
    user = ["--user", "debra.berger@proseware-hr.com"]
    plan = run_cli(["fix", *user], emu.url, tmp_path)
    lines = plan.stdout.splitlines()
    assert lines[1].startswith("1. Ask debra.berger@proseware-hr.com to connect Recruitee")
    assert "3. Instead of step 1: grant admin consent" in plan.stdout, plan.stdout
    said = " ".join(plan.stderr.split())
    assert "once manual step(s) 2 are done (with --yes: --manual-steps-done 2)" in said, said
    run = run_cli(["fix", *user, "--apply", "--yes"], emu.url, tmp_path)
    assert _writes(emu) == [], run.stdout + run.stderr
    assert "Not sent: step(s) 3, as manual step 2 comes first" in run.stderr
    run = run_cli(["fix", *user, "--apply", "--yes", "--manual-steps-done", "2"], emu.url, tmp_path)
    assert len(_grant_writes(emu)) == 1, run.stdout + run.stderr
