"""The first screen answers; --details holds the rest, said once, with commands whole.

Measured the way an admin sees it: the installed CLI at an 80-column terminal (COLUMNS=80).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app
from tests.e2e.cli_runner import cli_command

runner = CliRunner()

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
TENANTS = sorted(EXAMPLES.glob("*.json"))
SOURCES = [["--demo"]] + [["--snapshot", str(t)] for t in TENANTS]
IDS = ["demo"] + [t.stem for t in TENANTS]
FORMATS = ["text", "json", "markdown", "junit", "html"]
COMMANDS = ("Graph:", "Power", "Azure CLI", "Sign in")  # command lines carry Graph's terms
PLACEHOLDER = re.compile(r"\{[A-Za-z_][\w.-]*\}")


@functools.cache
def _cli(*args: str, columns: int = 80) -> str:
    """The output of one command; several tests read the same command's output (e.g. each
    source's JSON report), so it is run once per worker and shared."""
    env = {"COLUMNS": str(columns), "NO_COLOR": "1", "GITHUB_STEP_SUMMARY": ""}
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def test_the_installed_cli_gives_the_same_first_screen() -> None:
    """The in-process runner above stands for the real console script."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update({"COLUMNS": "80", "NO_COLOR": "1"})
    proc = subprocess.run(
        [*cli_command(), "check", "--demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout == _cli("check", "--demo")


def _report(source: list[str]) -> dict[str, object]:
    data: dict[str, object] = json.loads(_cli("check", *source, "--format", "json"))
    return data


def test_demo_first_screen_fits_24_lines_and_answers() -> None:
    out = _cli("check", "--demo")
    lines = out.splitlines()
    assert len(lines) <= 24, out
    assert all(len(line) <= 80 for line in lines), out
    report = _report(["--demo"])
    assert lines[0].startswith("consent-audit: FAIL for contoso.com")
    for feature in report["features"]:  # type: ignore[union-attr]
        assert any(
            line.startswith(feature["status"].upper()) and feature["title"] in line
            for line in lines
        ), feature["title"]
    assert "Do this next:" in lines
    plan = report["plan"]
    for step in plan:  # type: ignore[union-attr]
        words = step["summary"].split()
        assert f"{step['number']}. {words[0]}" in out
        assert " ".join(words) in " ".join(out.split())  # wrapped at spaces only
    assert lines[-2] == "Details: consent-audit check --demo --details"
    assert lines[-1] == "Requests: consent-audit fix --demo"
    # The first screen is the answer, not the evidence.
    for detail in ("SCOPE_MISSING", "Graph:", "PowerShell:", "Who can consent", "┏", "╭"):
        assert detail not in out


def test_healthy_tenant_is_at_most_seven_lines() -> None:
    out = _cli("check", "--snapshot", str(EXAMPLES / "healthy.json"))
    # Header, three verdicts, and the --details command that reproduces this audit (its
    # snapshot and user; issue 20 item 3), broken between arguments at 80 columns.
    assert len(out.splitlines()) <= 7, out
    assert out.count("PASS") >= 3


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_verdict_cause_is_a_cause_not_the_missing_scope_list(source: list[str]) -> None:
    report = _report(source)
    out = _cli("check", *source)
    for feature in report["features"]:  # type: ignore[union-attr]
        line = next(line for line in out.splitlines() if feature["title"] in line)
        if feature["status"] == "fail" and feature["missing_scopes"]:
            assert ", ".join(feature["missing_scopes"]) not in line


def _joined(out: str) -> list[str]:
    """The lines with every broken command joined back: a shell joins a line ending in its
    continuation character (bash ``\\``, PowerShell ``\u0060``) with the next; a Graph
    request's body continues on lines hanging under it."""
    lines: list[str] = []
    graph = False
    for line in out.splitlines():
        if lines and lines[-1].endswith((" \\", " `")):
            lines[-1] = lines[-1][:-2] + " " + line.lstrip()
        elif lines and graph and line.startswith("       "):
            lines[-1] += " " + line.lstrip()
        else:
            lines.append(line)
            graph = line.startswith("   Graph: ")
    return lines


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_details_print_every_command_whole(source: list[str]) -> None:
    """Each command is whole once broken lines are joined the way its shell joins them
    (broken only between arguments, never inside a quoted one)."""
    report = _report(source)
    out = _cli("check", *source, "--details")
    lines = _joined(out)
    for step in report["plan"]:  # type: ignore[union-attr]
        if step["kind"] != "graph":
            continue
        body = json.dumps(step["body"])
        assert f"   Graph: {step['method']} /v1.0{step['path']} {body}" in lines
        assert f"   PowerShell: {step['powershell']}" in lines
    assert "…" not in out
    assert not re.search(r"[│┃].*(Graph|PowerShell):", out)  # never inside a box


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_text_says_consent_types_in_plain_words(source: list[str]) -> None:
    for args in ([], ["--details"]):
        out = _cli("check", *source, *args)
        prose = "\n".join(line for line in _joined(out) if not line.lstrip().startswith(COMMANDS))
        assert not re.search(r"\b(AllPrincipals|Principal)\b", prose)
    assert "AllPrincipals" in json.dumps(_report(source)) or not _report(source)["grants"]


def test_repeated_explanations_and_identical_tables_appear_once() -> None:
    out = _cli("check", "--demo", "--details", columns=200)
    assert out.count("Microsoft's current recommendation, not a choice made in this tenant") == 1
    # The demo's two apps have the same Conditional Access table: shown once, saying so.
    ca = out.split("Conditional Access policies that target Recruitee")[1]
    assert ca.count("CA015 - Session: sign-in frequency 8 hours") == 1
    assert "(same for Recruitee (appId" in ca


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_no_output_shows_an_unsubstituted_placeholder(source: list[str]) -> None:
    outputs = [_cli("check", *source, "--format", fmt, "--details") for fmt in FORMATS]
    outputs += [_cli("check", *source), _cli("fix", *source)]
    for out in outputs:
        assert not PLACEHOLDER.search(out), PLACEHOLDER.search(out)
        assert not re.search(r"[^.]\.\.(?!\.)", out.replace("../", "")), "stray '..'"


def test_explain_shows_no_placeholder_for_any_catalogued_code() -> None:
    from consent_audit.cli_remediation import explain_text
    from consent_audit.evaluate.audit_logs import aadsts_catalog

    for code in aadsts_catalog():
        assert not PLACEHOLDER.search(explain_text(str(code))), code


def _verdict_block(out: str) -> list[str]:
    """The verdict lines (and their wrapped continuations) between the header and the plan."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("PASS", "WARN", "FAIL")))
    end = next(i for i, line in enumerate(lines[start:], start) if not line.strip())
    return lines[start:end]


@pytest.mark.parametrize(
    ("tenant", "policy"),
    [
        ("ca-block-excluded-admins", "CA900 - Incident IR-2291 lockdown: block all cloud apps"),
        ("ca-mfa-outside-trusted", "CA600 - Require MFA outside trusted locations"),
        ("ca-all-except-trusted-block", "CA301 - Block access from outside the corporate"),
    ],
)
def test_one_policy_on_every_feature_is_named_once_and_each_later_line_is_short(
    tenant: str, policy: str
) -> None:
    """One Conditional Access policy deciding all three features: its long cause was printed
    on each feature line (three lines each). It is said once, on the first feature's line;
    the others say 'same policy as Mailbox sync' on one line each, in text, Markdown and
    HTML alike, and the first screen stays within its budget."""
    out = _cli("check", "--snapshot", str(EXAMPLES / f"{tenant}.json"))
    block = _verdict_block(out)
    assert " ".join(" ".join(block).split()).count(policy) == 1, out
    later = [line for line in block if line.startswith(("FAIL", "WARN"))][1:]
    assert len(later) == 2, out
    assert len(block) - len(later) <= 3, out
    assert all(line.endswith("same policy as Mailbox sync") for line in later), out
    assert len(out.splitlines()) <= 24, out  # the first screen's budget
    for fmt in ("markdown", "html"):
        page = " ".join(
            _cli("check", "--snapshot", str(EXAMPLES / f"{tenant}.json"), "--format", fmt).split()
        )
        assert page.count("same policy as Mailbox sync") == 2, fmt


def test_mfa_outside_trusted_locations_is_said_as_exactly_that() -> None:
    """'requires what background sync cannot provide' overstated a policy that requires MFA
    everywhere except trusted locations: it applies only outside them, and people who did
    MFA when they connected keep syncing (their refresh carries the MFA claim). The title,
    the first screen, the detail and the policy table say what the policy does."""
    source = ["--snapshot", str(EXAMPLES / "ca-mfa-outside-trusted.json")]
    report = _report(source)
    (f,) = [f for f in report["findings"] if f["id"] == "CA_POLICY_REQUIRES"]  # type: ignore[union-attr]
    assert f["title"] == "A Conditional Access policy requires MFA outside trusted locations"
    assert "cannot provide" not in f["title"]
    assert "everywhere except trusted locations: it applies only outside them" in f["detail"]
    assert "AllTrusted" not in f["detail"]
    out = " ".join(_cli("check", *source).split())
    assert "requires MFA outside trusted locations: 'CA600" in out
    assert "cannot provide" not in out
    details = " ".join(_cli("check", *source, "--details").split())
    assert "breaks background sync" not in details
    assert "Effect on Recruitee: requires MFA outside trusted locations, MFA: met by" in details
    explained = " ".join(_cli("explain", "CA_POLICY_REQUIRES").split())
    assert "applies only outside the locations it excludes" in explained


def test_a_person_with_no_grant_of_their_own_connects_rather_than_reconnects() -> None:
    """never-connected, Debra: nothing of hers to reconnect; the cause says 'connect', as the
    plan's first step does."""
    snap = str(EXAMPLES / "never-connected.json")
    out = " ".join(
        _cli("check", "--snapshot", snap, "--user", "debra.berger@proseware-hr.com").split()
    )
    assert "debra.berger@proseware-hr.com may consent when they connect" in out
    assert "when they reconnect" not in out
    assert "1. Ask debra.berger@proseware-hr.com to connect Recruitee and accept" in out
