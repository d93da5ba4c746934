"""Hostile or wrong input files and streams: one message and exit 2, never exit 4 or a hang.

Also the other end: two reports on one stdout, a report over its own input, and a standard
output that is closed, full or a broken pipe (exit 5, README "Exit codes").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.snapshot import dump_snapshot
from tests.conftest import small_snapshot

runner = CliRunner()
VALID_MANIFEST = """schema_version = 1
[app]
display_name = "Recruitee"
known_app_ids = []
[resource]
display_name = "Microsoft Graph"
app_id = "00000003-0000-0000-c000-000000000000"
[[feature]]
name = "calendar"
title = "Calendar sync"
scopes = ["offline_access", "Calendars.ReadWrite"]
"""


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def _cli(
    *args: str, shell_suffix: str = "", timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """The real entry point in a child process; ``shell_suffix`` adds redirections."""
    command = " ".join([f"'{sys.executable}'", "-m", "consent_audit", *(f"'{a}'" for a in args)])
    redirects_stdout = shell_suffix.strip().startswith(">")
    return subprocess.run(
        ["/bin/sh", "-c", command + shell_suffix],
        stdout=None if redirects_stdout else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "GITHUB_STEP_SUMMARY": "", "NO_COLOR": ""},
    )


def _snapshot_dict() -> dict[str, object]:
    data: dict[str, object] = json.loads(dump_snapshot(small_snapshot()))
    return data


def _assert_exit_2(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ")
    assert "internal error" not in err
    assert "Traceback" not in err


# Documents that break Python's parsers -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1000 + "]" * 1000,
        '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
        '{"schema_version": ' + "1" * 5000 + "}",
        '{"schema_version": NaN}',
    ],
    ids=["nested-1000", "nested-100k", "int-5000-digits", "nan"],
)
def test_hostile_json_snapshot_is_bad_input(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(text)
    _assert_exit_2(*run("check", "-s", str(path))[::2])


@pytest.mark.parametrize(
    "text",
    ["a = " + "[" * 1000 + "]" * 1000, "schema_version = " + "1" * 5000],
    ids=["nested-1000", "int-5000-digits"],
)
def test_hostile_toml_manifest_is_bad_input(tmp_path: Path, text: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text)
    _assert_exit_2(*run("manifest", "validate", str(path))[::2])


def test_duplicate_json_keys_in_a_snapshot_are_an_error(tmp_path: Path) -> None:
    text = dump_snapshot(small_snapshot())
    # The second "redacted" would win silently in json.loads.
    text = text.replace('"redacted": false,', '"redacted": false,\n  "redacted": true,', 1)
    path = tmp_path / "dup.json"
    path.write_text(text)
    code, _, err = run("check", "-s", str(path))
    _assert_exit_2(code, err)
    assert "'redacted' appears twice" in err


@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_snapshot_schema_version_must_be_the_integer_1(tmp_path: Path, version: object) -> None:
    data = _snapshot_dict()
    data["schema_version"] = version
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    _assert_exit_2(*run("check", "-s", str(path))[::2])


@pytest.mark.parametrize("version", ["true", "1.0", '"1"'])
def test_manifest_schema_version_must_be_the_integer_1(tmp_path: Path, version: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(VALID_MANIFEST.replace("schema_version = 1", f"schema_version = {version}"))
    code, _, err = run("manifest", "validate", str(path))
    _assert_exit_2(code, err)
    assert "schema_version" in err
    path.write_text(VALID_MANIFEST)
    assert run("manifest", "validate", str(path))[0] == 0


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('name = "calendar"', 'name = "calendar\\n"'),
        ("known_app_ids = []", 'known_app_ids = ["7c1e5a2d-9b4f-4c6e-8d3a-1f2b5c7e9a60\\n"]'),
    ],
    ids=["feature-name", "known-app-id"],
)
def test_manifest_names_and_guids_reject_a_trailing_newline(
    tmp_path: Path, old: str, new: str
) -> None:
    path = tmp_path / "m.toml"
    path.write_text(VALID_MANIFEST.replace(old, new))
    _assert_exit_2(*run("manifest", "validate", str(path))[::2])


# Files that are not files, and the size cap --------------------------------------------


def test_special_files_and_directories_are_refused(tmp_path: Path) -> None:
    for path in ("/dev/zero", str(tmp_path)):
        code, _, err = run("check", "-s", path)
        _assert_exit_2(code, err)
        assert "regular file" in err


def test_a_fifo_without_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    proc = _cli("check", "-s", str(fifo), timeout=20)
    assert proc.returncode == 2, proc.stderr
    assert "regular file" in proc.stderr


def test_inputs_are_capped_and_the_cap_is_configurable(snapshot_file: Path) -> None:
    size = snapshot_file.stat().st_size
    code, _, err = run(
        "check", "-s", str(snapshot_file), env={"CONSENT_AUDIT_MAX_INPUT_BYTES": "100"}
    )
    _assert_exit_2(code, err)
    assert "CONSENT_AUDIT_MAX_INPUT_BYTES" in err
    result = runner.invoke(
        app,
        ["check", "-s", "-"],
        input=snapshot_file.read_text(),
        env={"CONSENT_AUDIT_MAX_INPUT_BYTES": str(size - 1)},
    )
    _assert_exit_2(result.exit_code, result.stderr)
    ok = run("check", "-s", str(snapshot_file), env={"CONSENT_AUDIT_MAX_INPUT_BYTES": str(size)})
    assert ok[0] == 1
    bad = run("check", "-s", str(snapshot_file), env={"CONSENT_AUDIT_MAX_INPUT_BYTES": "lots"})
    _assert_exit_2(bad[0], bad[2])


@pytest.mark.parametrize(
    "args",
    [["check", "-s", "-"], ["manifest", "validate", "-"], ["check", "--demo", "--manifest", "-"]],
)
def test_closed_stdin_is_bad_input(args: list[str]) -> None:
    proc = _cli(*args, shell_suffix=" <&-")
    assert proc.returncode == 2, proc.stderr
    assert "standard input is closed" in proc.stderr


# Outputs -----------------------------------------------------------------------------


def test_two_reports_on_stdout_are_refused() -> None:
    code, out, err = run("check", "--demo", "-o", "-", "-o", "-", "--format", "json")
    _assert_exit_2(code, err)
    assert out == ""


def test_a_report_over_its_own_snapshot_is_refused(snapshot_file: Path) -> None:
    before = snapshot_file.read_bytes()
    alias = snapshot_file.parent / "." / snapshot_file.name
    code, _, err = run("check", "-s", str(snapshot_file), "-o", str(alias.with_suffix(".json")))
    _assert_exit_2(code, err)
    assert snapshot_file.read_bytes() == before


def test_closed_stdout_exits_5_with_one_message() -> None:
    proc = _cli("check", "--demo", shell_suffix=" >&-")
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr.startswith("error: cannot write to standard output")
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_stdout_exits_5_with_one_message() -> None:
    proc = _cli("check", "--demo", "--fail-on", "never", shell_suffix=" >/dev/full")
    assert proc.returncode == 5, proc.stderr
    assert "No space left" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_broken_pipe_exits_5_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "consent_audit",
            "check",
            "--demo",
            "--format",
            "html",
            "--fail-on",
            "never",
        ],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    os.close(write_end)
    assert proc.returncode == 5
    assert proc.stderr == ""


# The token cache ---------------------------------------------------------------------


@pytest.fixture
def _no_msal_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """msal-extensions reads a cache three times, 0.5 s apart, before giving up on it
    (``PersistedTokenCache.search``: another process may be mid-write). The same three reads
    happen here, without sleeping through the pauses."""
    import msal_extensions.token_cache  # type: ignore[import-untyped]

    monkeypatch.setattr(msal_extensions.token_cache.time, "sleep", lambda _seconds: None)


@pytest.mark.usefixtures("_no_msal_retry_sleep")
@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "[" * 5000 + "]" * 5000])
def test_a_corrupt_token_cache_is_bad_input_not_a_crash(tmp_path: Path, content: str) -> None:
    from consent_audit.errors import InputError
    from consent_audit.live.token_cache import PLAIN_FILE_NAME, open_token_store

    (tmp_path / PLAIN_FILE_NAME).write_text(content)
    store = open_token_store(tmp_path, notify=None)
    with pytest.raises(InputError, match="corrupt"):
        list(store.cache().search("AccessToken"))


@pytest.mark.usefixtures("_no_msal_retry_sleep")
def test_a_token_cache_that_is_a_directory_is_bad_input(tmp_path: Path) -> None:
    from consent_audit.errors import InputError
    from consent_audit.live.token_cache import PLAIN_FILE_NAME, cache_directory, open_token_store

    (tmp_path / PLAIN_FILE_NAME).mkdir()
    with pytest.raises(InputError, match="is a directory"):
        list(open_token_store(tmp_path, notify=None).cache().search("AccessToken"))
    (cache_directory() / PLAIN_FILE_NAME).mkdir(parents=True)
    code, _, err = run("logout")
    assert code == 2, err
    assert "error: the token cache" in err
    assert "is a directory" in err
    assert "internal error" not in err
