"""Secret hygiene: a recognisable fake token and client secret never appear in any output.

Every command and output format runs against the emulator with ``FAKE_TOKEN`` as the bearer
token and ``FAKE_SECRET`` in AZURE_CLIENT_SECRET; stdout, stderr and every file under the
run's home (reports, snapshots, the token cache dir) are searched for both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from consent_audit.files import write_text_atomic
from consent_audit.live.token_cache import open_token_store
from consent_audit.render import EXTENSIONS, OutputFormat
from tests.e2e.cli_runner import Run, run_cli
from tests.emulator.server import GraphEmulator

FAKE_TOKEN = "eyJFAKE-TOKEN-c0ffee-7e57-5ecre7-0000"
FAKE_SECRET = "FAKE-CLIENT-SECRET-deadbeef-9999"
SECRETS = (FAKE_TOKEN, FAKE_SECRET, "c0ffee-7e57-5ecre7", "deadbeef-9999")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
USER = "isaiah.langer@fabrikam.com"
Factory = Callable[..., GraphEmulator]
SECRET_ENV = {
    "AZURE_CLIENT_SECRET": FAKE_SECRET,
    "AZURE_CLIENT_ID": "5e5e5e5e-0000-4000-8000-000000000001",
    "AZURE_TENANT_ID": "fabrikam.example",
}


def _formats() -> list[OutputFormat]:
    """Whatever the renderer offers today (markdown/junit/html arrive with the helper work)."""
    return list(OutputFormat)


def _extension(fmt: OutputFormat) -> str:
    return next(ext for ext, f in EXTENSIONS.items() if f is fmt)


def _assert_clean(runs: list[Run], home: Path) -> None:
    for run in runs:
        for secret in SECRETS:
            assert secret not in run.stdout
            assert secret not in run.stderr
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files, "the runs wrote reports and snapshots"
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret!r} leaked into {path}"


def test_no_command_or_format_leaks_the_token_or_secret(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "assignment-required.json", token=FAKE_TOKEN)
    home = tmp_path / "home"
    home.mkdir()
    out = home / "out"
    out.mkdir()

    def cli(*args: str, token: str | None = FAKE_TOKEN) -> Run:
        return run_cli(list(args), emu.url, home, token=token, extra_env=SECRET_ENV, timeout=45)

    runs: list[Run] = []
    outputs = [str(out / f"report{_extension(f)}") for f in _formats()]
    for fmt in _formats():
        for extra in ([], ["-v"], ["--user", USER, "-v"]):
            runs.append(cli("check", "--format", fmt.value, *extra))
            assert runs[-1].code in (0, 1), runs[-1].stderr
    runs.append(cli("check", "-v", "--user", USER, *(a for o in outputs for a in ("-o", o))))
    assert runs[-1].code in (0, 1), runs[-1].stderr
    for output in outputs:
        assert Path(output).stat().st_mode & 0o777 == 0o600
    for name, extra in (("plain", []), ("redacted", ["--redact"])):
        target = out / f"snapshot-{name}.json"
        runs.append(cli("snapshot", "-v", "--user", USER, *extra, "-o", str(target)))
        assert runs[-1].code == 0, runs[-1].stderr
        assert target.stat().st_mode & 0o777 == 0o600
    runs.append(cli("snapshot", "--user", USER, "-o", "-"))
    assert runs[-1].stdout.lstrip().startswith("{")
    runs.append(cli("login"))
    assert runs[-1].code == 0, runs[-1].stderr
    runs.append(cli("logout"))
    assert runs[-1].code == 0, runs[-1].stderr
    emu.expire_token_after(1)
    runs.append(cli("check", "-v"))
    assert runs[-1].code == 3
    _assert_clean(runs, home)


def test_client_secret_sign_in_failure_does_not_echo_the_secret(tmp_path: Path) -> None:
    """App-only sign-in with a secret and no reachable authority: exit 3, secret unsaid."""
    runs = [
        run_cli(
            ["check", "--auth", "client-secret", *flags],
            "http://127.0.0.1:9",
            tmp_path,
            token=None,
            extra_env={**SECRET_ENV, "HTTPS_PROXY": "http://127.0.0.1:9"},
            timeout=60,
        )
        for flags in ([], ["-v", "--format", "json"])
    ]
    for run in runs:
        assert run.code == 3
        assert run.stderr.startswith("error: ")
    for run in runs:
        for secret in SECRETS:
            assert secret not in run.stdout + run.stderr


# -- files: modes and atomicity ---------------------------------------------------------------


def test_token_cache_is_0600_in_a_0700_directory(tmp_path: Path) -> None:
    """The fallback store (no OS keyring, as on this machine's tests): owner-only."""
    store = open_token_store(tmp_path / "cache" / "consent-audit", notify=None)
    assert not store.encrypted
    store.persistence.save('{"RefreshToken": {}}')
    assert store.location.stat().st_mode & 0o777 == 0o600
    assert store.location.parent.stat().st_mode & 0o777 == 0o700


def test_atomic_write_leaves_old_file_when_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.json"
    target.write_text("old report\n")

    def boom(src: str, dst: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk gone"):
        write_text_atomic(target, "new report " * 1000)
    assert target.read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"], "temp file removed"


_SLOW_WRITER = """
import os, sys, time
from pathlib import Path
from consent_audit import files
real_fsync = os.fsync
def slow_fsync(fd):
    print("writing", flush=True)
    time.sleep(30)
files.os.fsync = slow_fsync
files.write_text_atomic(Path(sys.argv[1]), "x" * 1_000_000)
"""


def test_killed_writer_leaves_no_partial_target(tmp_path: Path) -> None:
    """SIGKILL mid-write (after the data, before the rename): the target never exists."""
    target = tmp_path / "snapshot.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not target.exists()
    leftovers = list(tmp_path.iterdir())
    assert all(p.name.startswith(".snapshot.json.") for p in leftovers)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in leftovers)
