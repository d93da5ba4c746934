"""``fix --apply`` against the emulator: only a 2xx write is "done", declining changes nothing
and exits 0, and a closed stdin is bad input rather than a crash."""

from __future__ import annotations

import os
import pty
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_runner import TOKEN, cli_command, run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _writes(emu: GraphEmulator) -> list[str]:
    return [
        f"{r.method} {r.target}"
        for r in emu.requests
        if r.method in {"POST", "PATCH"} and not r.target.endswith("$batch")
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
    run = run_cli(["fix", "--apply", "--yes"], emu.url, tmp_path)
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
