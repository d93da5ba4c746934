"""A path the admin typed is echoed through the same boundary as tenant data.

File names may hold ESC (so CSI/OSC sequences: colours, a new window title), BEL, bidi
controls and newlines. Every message that repeats one ("wrote json report to PATH", ``-v``,
``manifest validate``, errors naming a file) shows them as visible escapes on one line
(files.shown -> render/safe_text.clean), so a file name cannot forge a line of output.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app
from tests.e2e.cli_runner import run_cli
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
FORGED = "wrote json report to ok.json"
HOSTILE = "r\x1b]0;pwned\x07\x1b[31m\u202eX\n" + FORGED + " "
"""An OSC title, BEL, a colour, a right-to-left override and a line that looks like ours."""
RAW = ("\x1b", "\x07", "\u202e", "\r")
Factory = Callable[..., GraphEmulator]


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _assert_inert(text: str, expected_lines: int) -> list[str]:
    """No control or bidi character, ``FORGED`` never starts a line, the line count holds."""
    for char in RAW:
        assert char not in text, repr(text)
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith(FORGED)], lines
    assert len(lines) == expected_lines, lines
    return lines


def _escaped(line: str) -> None:
    assert "\\x1b]0;pwned\\x07\\x1b[31m\\u202eX " + FORGED in line, line


def test_written_report_and_baseline_paths_are_one_inert_line(tmp_path: Path) -> None:
    report = tmp_path / (HOSTILE + ".json")
    baseline = tmp_path / (HOSTILE + ".toml")
    code, _, err = _invoke(
        "check", "--demo", "-o", str(report), "--write-baseline", str(baseline), "--reason",
        "rollout", "--fail-on", "never",
    )  # fmt: skip
    assert code == 0, err
    assert report.is_file()
    assert baseline.is_file()
    lines = _assert_inert(err, len(err.splitlines()))
    wrote = [line for line in lines if line.startswith("wrote ")]
    assert len(wrote) == 2, lines
    for line in wrote:
        _escaped(line)


def test_verbose_names_the_snapshot_on_one_inert_line(tmp_path: Path) -> None:
    snapshot = tmp_path / (HOSTILE + ".json")
    shutil.copyfile(EXAMPLES / "healthy.json", snapshot)
    code, out, err = _invoke("check", "-s", str(snapshot), "-v", "--format", "json")
    assert code == 0, err
    assert out.startswith("{")
    [audited] = [line for line in _assert_inert(err, len(err.splitlines())) if "audited" in line]
    assert audited.startswith("audited snapshot ")
    _escaped(audited)


def test_manifest_validate_echoes_the_path_on_one_inert_line(tmp_path: Path) -> None:
    code, manifest, _ = _invoke("manifest", "show")
    assert code == 0
    path = tmp_path / (HOSTILE + ".toml")
    path.write_text(manifest, encoding="utf-8")
    code, out, err = _invoke("manifest", "validate", str(path))
    assert code == 0, err
    [line] = _assert_inert(out, 1)
    _escaped(line)
    assert ": valid (3 features: mailbox, calendar, rooms)" in line


@pytest.mark.parametrize(
    "args",
    [
        ["check", "-s", "{path}.json"],  # no such snapshot file
        ["check", "--demo", "-o", "{path}/report.json"],  # cannot write the report
        ["check", "--demo", "-o", "{path}.docx"],  # cannot tell the format
        ["check", "--demo", "--baseline", "{path}.toml"],  # no such baseline file
        ["diff", "{path}.json", "{path}.json"],  # no such snapshot or report
        ["consent-url", "--snapshot", "{path}.json"],  # no such snapshot file
    ],
)
def test_an_error_naming_a_path_is_one_inert_error_and_one_fix(
    tmp_path: Path, args: list[str]
) -> None:
    hostile = str(tmp_path / HOSTILE)
    code, _, err = _invoke(*(a.replace("{path}", hostile) for a in args))
    assert code == 2, err
    error, fix = _assert_inert(err, 2)
    assert error.startswith("error: ")
    assert fix.startswith("fix: ")
    _escaped(error)


def test_snapshot_and_redaction_key_paths_are_one_inert_line(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "healthy.json")
    out = tmp_path / (HOSTILE + ".json")
    key = tmp_path / (HOSTILE + ".key")
    run = run_cli(
        ["snapshot", "--redact", "--redact-key", str(key), "-o", str(out)], emu.url, tmp_path
    )
    assert run.code == 0, run.stderr
    assert out.is_file()
    assert key.is_file()
    lines = _assert_inert(run.stderr, len(run.stderr.splitlines()))
    [made] = [line for line in lines if line.startswith("made a redaction key at ")]
    [wrote] = [line for line in lines if line.startswith("wrote snapshot to ")]
    _escaped(made)
    _escaped(wrote)
