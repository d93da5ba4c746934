"""Run the installed consent-audit CLI as a subprocess against a Graph emulator."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.cli_forkserver import ForkServer

TOKEN = "test-token"
QUICK_RETRIES = {"CONSENT_AUDIT_RETRY_BACKOFF": "0.01"}
"""Back-off steps of 10, 20, 40 ms instead of 0.5, 1, 2 s when Graph sends no Retry-After:
the same retries in the same order, without the suite sleeping through them (no test here
asserts on wall time; tests/live asserts the real back-off with an injected sleep)."""


def cli_command() -> list[str]:
    """The console script next to this Python (the venv's), else on PATH, else ``-m``."""
    beside = Path(sys.executable).parent / "consent-audit"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("consent-audit")
    return [found] if found else [sys.executable, "-m", "consent_audit"]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data


_BASE_ENV = dict(os.environ)
"""The environment pytest started with, before any fixture changed it: the fork server's."""

SPAWN_VAR = "CONSENT_AUDIT_TEST_CLI"
"""``exec`` runs every end-to-end CLI run as the real console script, ``fork`` (the default
where the OS can) forks each run from a server that imported the package once."""

FORK_SERVER_PLATFORM = sys.platform.startswith("linux") and hasattr(socket, "send_fds")
"""Linux only: Windows has no fork(), and on macOS a fork after the Security framework is
loaded (msal-extensions' Keychain support, imported by the server) is not safe."""

_server: ForkServer | None = None


def _fork_server(env: dict[str, str]) -> ForkServer | None:
    """The fork server that can run with ``env``, or None when this run must be exec'd."""
    global _server
    mode = _BASE_ENV.get(SPAWN_VAR, "fork")
    if mode not in ("fork", "exec"):
        raise ValueError(f"{SPAWN_VAR} must be 'fork' or 'exec', not {mode!r}")
    if mode == "exec" or not FORK_SERVER_PLATFORM:
        return None
    if _server is None:
        _server = ForkServer({k: v for k, v in _BASE_ENV.items() if k != SPAWN_VAR})
    return _server if _server.serves(env) else None


def run_cli(
    args: list[str],
    graph_url: str | None,
    home: Path,
    token: str | None = TOKEN,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60,
    *,
    exec_: bool = False,
) -> Run:
    """Run ``consent-audit args`` in its own process; ``exec_`` forces the console script."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), "CI": "true"})
    env.update(QUICK_RETRIES)
    if graph_url is not None:
        env["CONSENT_AUDIT_GRAPH_URL"] = graph_url
    if token is not None:
        env["CONSENT_AUDIT_ACCESS_TOKEN"] = token
    env.update(extra_env or {})
    server = None if exec_ else _fork_server(env)
    if server is not None:
        script = cli_command()
        program = script[0] if len(script) == 1 else "consent-audit"
        code, out, err = server.run([program, *args], env, os.getcwd(), timeout)
        assert "Traceback" not in err, err
        return Run(code, out, err)
    proc = subprocess.run(
        [*cli_command(), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return Run(proc.returncode, proc.stdout, proc.stderr)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """What must agree between two audits of the same tenant."""
    return {
        "features": [(f["name"], f["status"], f["missing_scopes"]) for f in report["features"]],
        "findings": sorted(
            (f["id"], f["severity"], tuple(f["features"]), f["app_object_id"] or "")
            for f in report["findings"]
        ),
        "apps": [a["object_id"] for a in report["apps"]],
    }
