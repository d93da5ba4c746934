"""A reader that stops early (``| head -1``) is exit 5, quietly, for every command and format.

The reader here takes one byte and closes the pipe, after the CLI started writing: with an
unbuffered stdout (``PYTHONUNBUFFERED=1``, set in many containers and CI images) the rest of a
large report used to be dropped without an error (exit 0/1, output cut), and a report smaller
than the pipe's buffer was taken whole by the kernel, so no write ever failed. Each run is the
real console script (stdout handling is set up at start-up), never the fork server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.cli_runner import cli_command

ROOT = Path(__file__).resolve().parents[2]
BEFORE = str(ROOT / "examples" / "diff" / "before.json")
AFTER = str(ROOT / "examples" / "diff" / "after.json")
SNAPSHOT = str(ROOT / "examples" / "tenants" / "partial-scopes.json")

COMMANDS = {
    **{
        f"check-{fmt}": ["check", "--demo", "--format", fmt]
        for fmt in ("text", "json", "markdown", "junit", "html")
    },
    "check-json-snapshot": ["check", "-s", SNAPSHOT, "--format", "json"],
    "fix": ["fix", "--demo"],
    **{f"diff-{fmt}": ["diff", "--format", fmt, BEFORE, AFTER] for fmt in ("text", "json")},
    "diff-markdown": ["diff", "--format", "markdown", BEFORE, AFTER],
    "explain": ["explain", "AADSTS65001"],
    "consent-url": ["consent-url", "--demo"],
    "manifest-show": ["manifest", "show"],
}


def _read_one_byte_then_close(args: list[str], unbuffered: bool, home: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.pop("PYTHONUNBUFFERED", None)
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), "CI": "true"})
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [*cli_command(), *args],
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(write_end)
    try:
        first = os.read(read_end, 1)  # blocks until the CLI writes
    finally:
        os.close(read_end)
    _, err = proc.communicate(timeout=60)
    assert first, "the command wrote nothing"
    return proc.returncode, err.decode()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIONREAD on a pipe: Linux")
@pytest.mark.parametrize("unbuffered", [True, False], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_reader_that_leaves_early_is_exit_5_quietly(
    name: str, unbuffered: bool, tmp_path: Path
) -> None:
    code, err = _read_one_byte_then_close(COMMANDS[name], unbuffered, tmp_path)
    assert code == 5, err
    assert "Traceback" not in err
    assert "error:" not in err
    assert "Broken pipe" not in err
    if name.startswith("check"):
        assert err == ""  # no "exit 1: ..." summary contradicting the exit code
