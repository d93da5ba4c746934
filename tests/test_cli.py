"""The CLI's contract: exit codes, clean errors (never a traceback), pure JSON on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.snapshot import PartStatus, dump_snapshot
from tests.conftest import small_snapshot

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_snapshot_with_error_findings_exits_1(snapshot_file: Path) -> None:
    code, out, _ = run("check", "--snapshot", str(snapshot_file))
    assert code == 1
    assert "Mailbox sync" in out
    assert "FAIL" in out
    assert "Grant admin consent (for everyone)" in out


def test_fail_on_never_exits_0(snapshot_file: Path) -> None:
    code, _, _ = run("check", "--snapshot", str(snapshot_file), "--fail-on", "never")
    assert code == 0


def test_only_calendar_feature_passes_and_exits_0(snapshot_file: Path) -> None:
    code, out, _ = run(
        "check", "-s", str(snapshot_file), "--feature", "calendar", "--format", "json"
    )
    report = json.loads(out)
    assert [f["name"] for f in report["features"]] == ["calendar"]
    assert report["features"][0]["status"] == "pass"
    assert code == 0


def test_fail_on_warning_counts_warnings(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    full = "offline_access User.Read Calendars.ReadWrite Mail.Send Mail.ReadWrite email openid"
    path.write_text(
        dump_snapshot(
            small_snapshot(admin_scope=full + " User.ReadBasic.All", ca_status=PartStatus.FORBIDDEN)
        )
    )
    assert run("check", "-s", str(path))[0] == 0  # CA_UNREADABLE is a warning
    assert run("check", "-s", str(path), "--fail-on", "warning")[0] == 1


def test_json_stdout_is_pure_json_and_summary_goes_to_stderr(snapshot_file: Path) -> None:
    code, out, err = run("check", "-s", str(snapshot_file), "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert report["summary"]["status"] == "fail"
    assert {f["id"] for f in report["findings"]} >= {"SCOPE_MISSING", "USER_CONSENT_DISABLED"}
    assert "error(s)" in err


def test_outputs_by_extension(snapshot_file: Path, tmp_path: Path) -> None:
    j, t = tmp_path / "r.json", tmp_path / "r.txt"
    code, out, _ = run("check", "-s", str(snapshot_file), "-o", str(j), "-o", str(t))
    assert code == 1
    assert out == ""
    assert json.loads(j.read_text())["tenant"]["default_domain"] == "contoso.example"
    assert "Do this next:" in t.read_text()
    assert "\x1b[" not in t.read_text()


def test_unknown_output_extension_is_usage_error(snapshot_file: Path, tmp_path: Path) -> None:
    code, _, err = run("check", "-s", str(snapshot_file), "-o", str(tmp_path / "r.docx"))
    assert code == 2
    assert "r.docx" in err
    assert "fix:" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "not a JSON file"),
        ("[1, 2]", "a snapshot is a JSON object"),
        ('{"schema_version": 99}', "schema_version is 99"),
        ('{"schema_version": 1, "tool_version": "x"}', "collected_at: Field required"),
    ],
)
def test_bad_snapshot_exits_2_with_path_and_fix(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, _, err = run("check", "-s", str(path))
    assert code == 2
    assert expected in err
    assert str(path) in err
    assert "fix:" in err


def test_missing_snapshot_file(tmp_path: Path) -> None:
    code, _, err = run("check", "-s", str(tmp_path / "nope.json"))
    assert code == 2
    assert "no such snapshot file" in err


def test_unknown_feature_lists_known(snapshot_file: Path) -> None:
    code, _, err = run("check", "-s", str(snapshot_file), "--feature", "teams")
    assert code == 2
    assert "mailbox, calendar, rooms" in err


def test_user_not_in_snapshot_is_usage_error(snapshot_file: Path) -> None:
    code, _, err = run("check", "-s", str(snapshot_file), "--user", "bob@contoso.example")
    assert code == 2
    assert "alice@contoso.example" in err


def test_user_in_snapshot_is_audited(snapshot_file: Path) -> None:
    code, out, _ = run(
        "check", "-s", str(snapshot_file), "--user", "ALICE@contoso.example", "--format", "json"
    )
    assert json.loads(out)["user"]["id"] == "a1b2c3d4-0000-4000-8000-00000000a11c"
    assert code == 1


def test_snapshot_and_demo_together_is_usage_error(snapshot_file: Path) -> None:
    code, _, err = run("check", "-s", str(snapshot_file), "--demo")
    assert code == 2
    assert "cannot be used together" in err


def test_manifest_show_output_validates_unchanged(tmp_path: Path) -> None:
    code, out, _ = run("manifest", "show")
    assert code == 0
    path = tmp_path / "m.toml"
    path.write_text(out)
    code, out2, _ = run("manifest", "validate", str(path))
    assert code == 0
    assert "3 features: mailbox, calendar, rooms" in out2


def test_manifest_validate_reports_key_path_and_did_you_mean(tmp_path: Path) -> None:
    _, out, _ = run("manifest", "show")
    path = tmp_path / "m.toml"
    path.write_text(out.replace('"Mail.ReadWrite"', '"Mail.ReadWite"'))
    code, _, err = run("manifest", "validate", str(path))
    assert code == 2
    assert "feature[0].scopes[3]" in err
    assert "did you mean 'Mail.ReadWrite'" in err


def test_custom_manifest_changes_the_audit(snapshot_file: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        'schema_version = 1\n[app]\ndisplay_name = "Recruitee"\nknown_app_ids = []\n'
        '[resource]\ndisplay_name = "Microsoft Graph"\n'
        'app_id = "00000003-0000-0000-c000-000000000000"\n'
        '[[feature]]\nname = "calendar"\ntitle = "Calendar"\n'
        'scopes = ["offline_access", "user.read", "calendars.readwrite"]\n'
    )
    code, out, _ = run(
        "check", "-s", str(snapshot_file), "--manifest", str(manifest), "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["summary"]["status"] == "pass"


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith("consent-audit 0.")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consent_audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_traceback_on_bad_input_in_a_real_process(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{")
    proc = _cli("check", "--snapshot", str(path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")


@pytest.mark.parametrize("argv", [["--help"], ["check", "--demo", "--fail-on", "never"]])
def test_help_and_demo_do_not_import_msal_keyrings_or_requests(argv: list[str]) -> None:
    code = (
        "import sys\n"
        "from consent_audit.cli import main\n"
        f"sys.argv = ['consent-audit', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('msal', 'msal_extensions', 'portalocker', 'gi', 'requests', 'platformdirs')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules),"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "LOADED []" in proc.stderr, proc.stderr[-2000:]
    assert "internal error" not in proc.stderr


def test_help_loads_neither_pydantic_nor_the_models() -> None:
    """--help is Typer alone: pydantic and the ~80 model classes cost ~120 ms of start-up
    that only commands reading a tenant need (docs/performance.md)."""
    code = (
        "import sys\n"
        "from consent_audit.cli import main\n"
        "sys.argv = ['consent-audit', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('pydantic', 'consent_audit.graph_objects', 'consent_audit.snapshot',"
        " 'consent_audit.report', 'consent_audit.evaluate')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "LOADED []" in proc.stderr, proc.stderr[-2000:]
    assert "Usage" in proc.stdout


@pytest.mark.parametrize("fmt", ["json", "markdown", "junit"])
def test_machine_formats_do_not_import_rich(fmt: str) -> None:
    """rich is start-up cost only the text report needs (docs/performance.md)."""
    code = (
        "import sys\n"
        "from consent_audit.cli import main\n"
        f"sys.argv = ['consent-audit', 'check', '--demo', '--format', {fmt!r}, '-q',"
        " '--fail-on', 'never']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('RICH', sorted(m for m in sys.modules if m.split('.')[0] == 'rich'),"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "RICH []" in proc.stderr, proc.stderr[-2000:]
    assert "internal error" not in proc.stderr


def test_with_logs_on_a_snapshot_is_usage_error(snapshot_file: Path) -> None:
    """A replay reads nothing from Graph: --with-logs would be silently ignored, so it is
    refused with the fix (take the snapshot with --with-logs, or run live)."""
    for source in (["-s", str(snapshot_file)], ["--demo"]):
        code, out, err = run("check", *source, "--with-logs")
        assert code == 2, (source, out)
        assert out == ""
        assert "--with-logs" in err
        assert "snapshot --with-logs" in err
        assert "Traceback" not in err


@pytest.mark.parametrize("command", ["check", "fix"])
@pytest.mark.parametrize("value", ["nope", "x/../y", "5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c84"])
def test_app_id_not_a_guid_is_usage_error(snapshot_file: Path, command: str, value: str) -> None:
    code, out, err = run(command, "-s", str(snapshot_file), "--app-id", value)
    assert code == 2, out
    assert "--app-id is not a GUID" in err
    assert value not in err
    assert "Traceback" not in err
