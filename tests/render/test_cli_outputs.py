"""The CLI's output side: several formats in one run, same exit code whatever the format,
the GitHub job summary, NO_COLOR, --quiet, help texts with examples."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.cli_options import Format

runner = CliRunner()
ANSI = "\x1b["


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    base = {"GITHUB_STEP_SUMMARY": "", "NO_COLOR": "", "FORCE_COLOR": ""}
    result = runner.invoke(app, list(args), env={**base, **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def test_one_run_writes_every_format(tmp_path: Path) -> None:
    paths = {ext: tmp_path / f"r.{ext}" for ext in ("json", "md", "xml", "html", "txt")}
    args = [a for p in paths.values() for a in ("-o", str(p))]
    code, out, err = run("check", "--demo", "--details", *args)
    assert code == 1
    assert out == ""
    report = json.loads(paths["json"].read_text())
    assert paths["md"].read_text().startswith("## consent-audit: FAIL")
    assert ET.fromstring(paths["xml"].read_text()).tag == "testsuites"
    assert paths["html"].read_text().startswith("<!DOCTYPE html>")
    assert "Do this next:" in paths["txt"].read_text()
    for f in report["findings"]:
        for p in paths.values():
            assert f["id"] in p.read_text(), (f["id"], p.name)
    for fmt in ("json", "markdown", "junit", "html", "text"):
        assert f"wrote {fmt} report to" in err


@pytest.mark.parametrize("fail_on", ["error", "warning", "info", "never"])
@pytest.mark.parametrize("snapshot", ["healthy.json", "ca-unreadable.json", "disabled-app.json"])
def test_exit_code_is_the_same_whatever_the_format(
    tmp_path: Path, snapshot: str, fail_on: str
) -> None:
    path = str(Path(__file__).resolve().parents[2] / "examples" / "tenants" / snapshot)
    codes = {
        fmt.value: run("check", "-s", path, "--format", fmt.value, "--fail-on", fail_on)[0]
        for fmt in Format
    }
    files = [
        a for e in ("json", "md", "xml", "html", "txt") for a in ("-o", str(tmp_path / f"r.{e}"))
    ]
    codes["files"] = run("check", "-s", path, "--fail-on", fail_on, *files)[0]
    assert len(set(codes.values())) == 1, codes
    assert set(codes.values()) <= {0, 1}


@pytest.mark.parametrize("fmt", [f.value for f in Format])
def test_dash_writes_stdout_in_format(fmt: str, tmp_path: Path) -> None:
    code, out, _ = run(
        "check", "--demo", "--format", fmt, "-o", "-", "-o", str(tmp_path / "r.json")
    )
    assert code == 1
    first = {
        "json": "{",
        "markdown": "## consent-audit",
        "junit": "<?xml",
        "html": "<!DOCTYPE html>",
        "text": "consent-audit",
    }[fmt]
    assert out.startswith(first)
    assert (tmp_path / "r.json").exists()


def test_junit_failures_follow_fail_on(tmp_path: Path) -> None:
    xml = tmp_path / "r.xml"
    run("check", "--demo", "-o", str(xml), "--fail-on", "never")
    assert ET.parse(xml).getroot().get("failures") == "0"
    run("check", "--demo", "-o", str(xml), "--fail-on", "warning")
    assert int(ET.parse(xml).getroot().get("failures") or 0) > 0


def test_bad_extension_fails_before_writing_anything(tmp_path: Path) -> None:
    good = tmp_path / "r.json"
    code, _, err = run("check", "--demo", "-o", str(good), "-o", str(tmp_path / "r.docx"))
    assert code == 2
    assert ".md" in err
    assert ".xml" in err
    assert not good.exists()


def test_github_step_summary_gets_the_markdown_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    code, out, err = run(
        "check", "--demo", "--format", "json", env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert code == 1
    json.loads(out)  # stdout stays pure JSON
    text = summary.read_text()
    assert text.startswith("# earlier step\n## consent-audit: FAIL")
    assert "| Feature | Verdict | Cause |" in text
    assert "GITHUB_STEP_SUMMARY" in err
    run("check", "--demo", "--format", "json", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text().count("## consent-audit:") == 2


def test_unwritable_step_summary_warns_and_keeps_the_exit_code(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "summary.md"
    code, _, err = run("check", "--demo", env={"GITHUB_STEP_SUMMARY": str(target)})
    assert code == 1
    assert "warning: cannot append to GITHUB_STEP_SUMMARY" in err


def test_no_step_summary_without_the_variable(tmp_path: Path) -> None:
    code, _, err = run("check", "--demo", "--format", "json")
    assert code == 1
    assert "GITHUB_STEP_SUMMARY" not in err


def test_text_has_colour_on_a_forced_terminal_and_none_with_no_color() -> None:
    # FORCE_COLOR makes rich treat the captured stdout as a terminal: the control case.
    _, coloured, _ = run("check", "--demo", env={"FORCE_COLOR": "1"})
    assert ANSI in coloured
    _, plain, _ = run("check", "--demo", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert ANSI not in plain
    assert "FAIL" in plain


def test_text_piped_has_no_ansi() -> None:
    _, out, _ = run("check", "--demo")
    assert ANSI not in out
    assert "Do this next:" in out


def test_quiet_leaves_stderr_empty(tmp_path: Path) -> None:
    summary = tmp_path / "s.md"
    code, out, err = run(
        "check", "--demo", "-q", "-o", str(tmp_path / "r.json"),
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert code == 1
    assert out == ""
    assert err == ""
    assert summary.exists()


def test_verbose_offline_says_what_was_audited() -> None:
    code, _, err = run("check", "--demo", "-v", "--format", "json")
    assert code == 1
    assert "audited bundled demo tenant" in err


def _commands() -> list[tuple[str, Any]]:
    """Every command and group (typer may vendor its own click: duck-typed)."""
    root = get_command(app)
    found: list[tuple[str, Any]] = [("", root)]

    def walk(prefix: str, group: Any) -> None:
        if hasattr(group, "commands"):
            for name, cmd in group.commands.items():
                path = f"{prefix} {name}".strip()
                found.append((path, cmd))
                walk(path, cmd)

    walk("", root)
    return found


@pytest.mark.parametrize("path", [p for p, _ in _commands()], ids=lambda p: p or "root")
def test_every_help_has_an_example(path: str) -> None:
    code, out, _ = run(*path.split(), "--help")
    assert code == 0
    assert "Example" in out, f"`consent-audit {path} --help` shows no example"


def test_output_options_are_named_alike_across_commands() -> None:
    """-o/--output, -u/--user, -q/--quiet, -v/--verbose mean the same everywhere."""
    expected = {
        "output": {"--output", "-o"},
        "user": {"--user", "-u"},
        "quiet": {"--quiet", "-q"},
        "verbose": {"--verbose", "-v"},
        "manifest": {"--manifest"},
        "tenant": {"--tenant"},
    }
    seen = 0
    for _, cmd in _commands():
        for param in cmd.params:
            if param.name in expected and param.param_type_name == "option":
                assert set(param.opts) == expected[param.name], (cmd.name, param.opts)
                seen += 1
    assert seen >= 8


def test_version_flag() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.startswith("consent-audit ")


def test_typer_completion_is_available() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "--install-completion" in out
    assert isinstance(app, typer.Typer)


def test_every_format_in_one_run_imports_neither_msal_nor_requests(tmp_path: Path) -> None:
    outs = [str(tmp_path / f"r.{ext}") for ext in ("json", "md", "xml", "html", "txt")]
    argv = ["check", "--demo", "--fail-on", "never", *[a for o in outs for a in ("-o", o)]]
    code = (
        "import sys\n"
        "from consent_audit.cli import main\n"
        f"sys.argv = ['consent-audit', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    print('EXIT', e.code, file=sys.stderr)\n"
        "print('LOADED', sorted(m for m in ('msal', 'requests') if m in sys.modules),"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "LOADED []" in proc.stderr, proc.stderr[-2000:]
    assert "EXIT 0" in proc.stderr
    assert all(Path(o).exists() for o in outs)
