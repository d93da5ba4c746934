"""Run the installed consent-audit CLI as a subprocess against a Graph emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def run_cli(
    args: list[str],
    graph_url: str | None,
    home: Path,
    token: str | None = TOKEN,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), "CI": "true"})
    env.update(QUICK_RETRIES)
    if graph_url is not None:
        env["CONSENT_AUDIT_GRAPH_URL"] = graph_url
    if token is not None:
        env["CONSENT_AUDIT_ACCESS_TOKEN"] = token
    env.update(extra_env or {})
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
