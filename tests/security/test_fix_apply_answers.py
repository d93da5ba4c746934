"""``fix --apply`` against the emulator: only a 2xx write is "done", declining changes nothing
and exits 0, and a closed stdin is bad input rather than a crash."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_runner import TOKEN, cli_command, run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _writes(emu: GraphEmulator) -> list[str]:
    """Writes are sent one by one (never batched); reads that POST (the What-If) are batched."""
    return [
        f"{r.method} {r.target}"
        for r in emu.requests
        if r.method in {"POST", "PATCH"} and not r.batch_inner and not r.target.endswith("$batch")
    ]


def _env(emu: GraphEmulator, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update(
        {
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "CONSENT_AUDIT_GRAPH_URL": emu.url,
            "CONSENT_AUDIT_ACCESS_TOKEN": TOKEN,
            "CONSENT_AUDIT_RETRY_BACKOFF": "0.01",
        }
    )
    env.pop("CI", None)
    return env


def test_a_write_answered_with_a_redirect_is_not_done(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = Fault.error(
        r"/oauth2PermissionGrants/",
        status=302,
        method="PATCH",
        code="Moved",
        message="moved elsewhere",
        count=None,
    )
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json", faults=[fault])
    run = run_cli(["fix", "--apply", "--yes", "--manual-steps-done", "1"], emu.url, tmp_path)
    assert run.code == 3, run.stdout + run.stderr
    assert "FAILED" in run.stdout
    assert "done: " not in run.stdout
    assert fault.fired >= 1


def test_declining_the_prompt_changes_nothing_and_exits_0(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [*cli_command(), "fix", "--apply"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(emu, tmp_path),
    )
    os.close(terminal)
    # Step 1 (limit who can use Recruitee) is done; the changes are declined.
    os.write(controller, b"y\n")
    time.sleep(0.2)
    os.write(controller, b"n\n")
    _, err = proc.communicate(timeout=60)
    os.close(controller)
    assert proc.returncode == 0, err.decode()
    assert "Nothing changed." in err.decode()
    assert _writes(emu) == []


def test_fix_apply_with_stdin_closed_is_bad_input(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    command = " ".join(f"'{part}'" for part in [*cli_command(), "fix", "--apply"])
    proc = subprocess.run(
        ["/bin/sh", "-c", command + " <&-"],
        capture_output=True,
        text=True,
        env=_env(emu, tmp_path),
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "--yes" in proc.stderr
    assert "internal error" not in proc.stderr
    assert _writes(emu) == []


def _three_step_tenant(tmp_path: Path) -> Path:
    """assignment-required, with the app disabled and the admin grant cut down: enabling it,
    granting the scopes and assigning Isaiah are three Graph steps, in that order."""
    data = json.loads((EXAMPLES / "assignment-required.json").read_text())
    app = data["recruitee_apps"]["data"][0]
    app["service_principal"]["accountEnabled"] = False
    app["oauth2_permission_grants"]["data"][0]["scope"] = "offline_access User.Read"
    path = tmp_path / "three-steps.json"
    path.write_text(json.dumps(data))
    return path


def test_apply_stops_at_the_first_failed_write_and_reaudits(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    user = "isaiah.langer@fabrikam.com"
    snapshot = _three_step_tenant(tmp_path)
    plan = run_cli(["fix", "--snapshot", str(snapshot), "--user", user], None, tmp_path)
    assert plan.stdout.count("PATCH /v1.0/") + plan.stdout.count("POST /v1.0/") == 3, plan.stdout
    denied = Fault.error(
        r"/servicePrincipals/[^/]+$",
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        method="PATCH",
        count=None,
    )
    emu = graph_emulator_factory(snapshot, faults=[denied])
    run = run_cli(["fix", "--user", user, "--apply", "--yes"], emu.url, tmp_path)
    assert run.code == 3, run.stdout + run.stderr
    assert denied.fired == 1
    # Step 1 was refused; steps 2 and 3 were never sent.
    assert len(_writes(emu)) == 1
    assert _writes(emu)[0].startswith("PATCH /v1.0/servicePrincipals/")
    lines = run.stdout.splitlines()
    assert sum(line.startswith("FAILED: ") for line in lines) == 1
    assert sum(line.startswith("not sent: ") for line in lines) == 2
    assert not any(line.startswith("done: ") for line in lines)
    assert "Stopped at step 1: 0 of 3 change(s) made, 2 not sent." in run.stdout
    assert "Before -> after:" in run.stdout  # re-audited after stopping
