"""The fork server runs the CLI as the console script does: same exit code, stdout and stderr.

Most end-to-end runs fork from a server that imported the package once
(tests/e2e/cli_forkserver.py). These tests run the same commands both ways, forked and as the
real exec'd console script, and require identical results, so a difference between the two
(a stream set up differently, an exit code mapped differently, state leaking from one run to
the next) fails here rather than hiding in every other end-to-end test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e import cli_runner
from tests.e2e.cli_runner import run_cli
from tests.emulator.fixtures import ALICE_UPN
from tests.emulator.server import GraphEmulator

Factory = Callable[..., GraphEmulator]
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?")


def _unstamped(text: str) -> str:
    """The output without its time stamps (``generated_at`` differs between two runs)."""
    return STAMP.sub("<time>", text)


pytestmark = pytest.mark.skipif(
    not cli_runner.FORK_SERVER_PLATFORM or cli_runner._BASE_ENV.get(cli_runner.SPAWN_VAR) == "exec",
    reason="no fork server on this OS, or every run is exec'd (CONSENT_AUDIT_TEST_CLI=exec)",
)

OFFLINE = [
    ["--help"],
    ["check", "--demo"],  # text through rich, exit 1
    ["check", "--demo", "--format", "json", "--fail-on", "never"],  # exit 0
    ["fix", "--demo"],
    ["check", "--snapshot", "no-such-file.json"],  # exit 2, one error line
    ["check", "--demo", "--format", "nonsense"],  # usage error from Typer, exit 2
]
"""One of each kind of ending: help, findings, success, bad input, usage error."""


@pytest.mark.parametrize("args", OFFLINE, ids=" ".join)
def test_forked_run_matches_the_console_script(args: list[str], tmp_path: Path) -> None:
    forked = run_cli(args, None, tmp_path, extra_env={"COLUMNS": "100"})
    executed = run_cli(args, None, tmp_path, extra_env={"COLUMNS": "100"}, exec_=True)
    assert cli_runner._server is not None, "the run was not forked"
    assert (forked.code, _unstamped(forked.stdout), forked.stderr) == (
        executed.code,
        _unstamped(executed.stdout),
        executed.stderr,
    )
    assert forked.stdout or forked.stderr


def test_live_run_matches_the_console_script(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory()
    args = ["check", "--format", "json", "--user", ALICE_UPN]
    forked = run_cli(args, emu.url, tmp_path)
    executed = run_cli(args, emu.url, tmp_path, exec_=True)
    assert forked.code == executed.code
    assert forked.report["features"] == executed.report["features"]
    assert forked.stderr == executed.stderr


def test_one_run_leaves_nothing_behind_for_the_next(tmp_path: Path) -> None:
    """Each run is a fresh fork: an environment variable of one run is gone in the next."""
    plain = run_cli(["check", "--demo"], None, tmp_path)
    no_color = run_cli(["check", "--demo"], None, tmp_path, extra_env={"NO_COLOR": "1"})
    again = run_cli(["check", "--demo"], None, tmp_path)
    assert plain.stdout == again.stdout
    assert plain.code == no_color.code == again.code


def test_interpreter_settings_that_differ_are_exec_not_forked(tmp_path: Path) -> None:
    run_cli(["--help"], None, tmp_path)
    server = cli_runner._server
    assert server is not None
    env = dict(server.env)
    assert server.serves(env)
    assert not server.serves({**env, "PYTHONIOENCODING": "cp1252"})
    assert not server.serves({**env, "LC_ALL": "C"})


def test_the_server_exits_when_the_test_process_dies_without_stopping_it() -> None:
    """A pytest worker killed outright never runs its atexit handler; the server notices
    that its parent is gone within about a second and exits instead of lingering."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, time\n"
            "from tests.e2e.cli_forkserver import ForkServer\n"
            "server = ForkServer(dict(os.environ))\n"
            "print(server._proc.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    pid = int(owner.stdout.readline())
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    owner.stdout.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(pid):
        time.sleep(0.05)
    assert not _running(pid), f"fork server {pid} outlived its parent"


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child nobody reaped yet counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
