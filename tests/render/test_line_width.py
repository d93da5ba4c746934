"""At an 80-column terminal no line of `check`, `check --details` or `fix` runs past 80
columns, on every example tenant: prose wraps under itself, and a command breaks only between
its arguments, each broken line ending with its shell's continuation character. Only one
argument longer than a line by itself (a JSON body, a scope list in quotes) may overflow."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app

runner = CliRunner()

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
TENANTS = sorted(EXAMPLES.glob("*.json"))
SOURCES = [["--demo"]] + [["--snapshot", str(t)] for t in TENANTS]
IDS = ["demo"] + [t.stem for t in TENANTS]
WIDTH = 80
TOKEN = re.compile(r"""(?:[^\s'"]+|'[^']*'|"[^"]*")+""")  # one shell argument
OPTION = re.compile(r"^(?:--[a-z-]+|[A-Z]+) ")  # an option or a Graph method
LABEL = re.compile(r"^\s*(?:[A-Z][\w ()-]*: )?")


@functools.cache
def _lines(*args: str) -> list[str]:
    env = {"COLUMNS": str(WIDTH), "NO_COLOR": "1", "GITHUB_STEP_SUMMARY": ""}
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code in (0, 1), result.stderr
    return (result.stdout + result.stderr).splitlines()


def _one_token(line: str) -> bool:
    """Whether ``line`` is an indent, an optional label, then one unbreakable argument."""
    rest = LABEL.sub("", line, count=1).removesuffix(" \\").removesuffix(" `")
    rest = OPTION.sub("", rest, count=1)  # an option stays beside its value
    return TOKEN.fullmatch(rest) is not None


@pytest.mark.parametrize("command", [["check"], ["check", "--details"], ["fix"]], ids=" ".join)
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_no_line_runs_past_the_terminal(source: list[str], command: list[str]) -> None:
    wide = [
        line for line in _lines(*command, *source) if len(line) > WIDTH and not _one_token(line)
    ]
    assert wide == []


def _join(lines: list[str]) -> list[str]:
    """Broken command lines joined back the way their shell joins them."""
    joined: list[str] = []
    for line in lines:
        if joined and joined[-1].endswith((" \\", " `")):
            joined[-1] = joined[-1][:-2] + " " + line.lstrip()
        else:
            joined.append(line)
    return joined


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_a_broken_command_joins_back_whole(source: list[str]) -> None:
    """Every command printed at 80 columns is, once its shell joins the broken lines, the
    command printed unbroken: no argument was split and none was lost."""
    from consent_audit.evaluate import evaluate
    from consent_audit.manifest import load_manifest
    from consent_audit.render.plan import plan_step_lines
    from consent_audit.snapshot import load_snapshot

    if source == ["--demo"]:
        pytest.skip("the demo tenant's commands are among the snapshots'")
    snap = load_snapshot(Path(source[1]))
    manifest = load_manifest()
    report = evaluate(snap, manifest, full_manifest=manifest, user=None, app_ids=())
    for step in report.plan:
        whole = [
            line
            for line in plan_step_lines(step)
            if line.lstrip().startswith(("PowerShell", "Azure CLI", "Sign in"))
        ]
        broken = [
            line
            for line in _join(plan_step_lines(step, width=WIDTH))
            if line.lstrip().startswith(("PowerShell", "Azure CLI", "Sign in"))
        ]
        assert broken == whole


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_a_wrapped_causal_chain_hangs_under_itself(source: list[str]) -> None:
    """A chain of links wider than the terminal breaks between links and the next line hangs
    under the first ("  > Session PASS"), never at the left margin where headings start."""
    lines = _lines("check", *source, "--details")
    assert not [line for line in lines if line.startswith(">")]
    assert all(line.startswith("  > ") for line in lines if line.lstrip().startswith("> "))


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_the_step_up_caveat_is_said_once_per_feature(source: list[str]) -> None:
    """The step-up consent paragraph is the same for every non-basic scope of an app: each
    feature's scope table says it once, and every other scope it applies to still says so."""
    out = "\n".join(_lines("check", *source, "--details"))
    sections = [s for s in out.split("\n\n") if "- Scope: " in s or "│ Scope" in s]
    for section in sections:
        flat = " ".join(section.split())
        assert flat.count("risk-based step-up consent") <= 1, section
        scopes = flat.count("step-up consent")
        refs = flat.count("(unless step-up consent applies: as for ")
        assert refs == 0 or scopes == refs + 1, section
