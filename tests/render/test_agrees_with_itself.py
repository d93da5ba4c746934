"""Issue 20: a report that agrees with itself for every reader (items 1-4).

Each test names the item and what a reader met on d583756. Measured as an admin sees it: the
CLI at an 80-column terminal, for every example tenant (with each user its expectations name)
and the demo.
"""

from __future__ import annotations

import functools
import html as html_module
import json
import re
import shlex
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
DEMO_APP_IN_USE = "5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c845"
DEMO_LEFTOVER = "b41d7a09-6e2c-4f85-9c3a-72e0f5d8a166"


def _sources() -> list[list[str]]:
    raw = tomllib.loads((EXAMPLES / "expectations.toml").read_text(encoding="utf-8"))
    out: list[list[str]] = []
    for scenario in raw["scenario"].values():
        for check in scenario["check"]:
            path = (EXAMPLES / check["snapshot"]).resolve()
            source = ["--demo"] if path.name == "demo_tenant.json" else ["--snapshot", str(path)]
            user = ["--user", check["user"]] if check.get("user") else ["--tenant-only"]
            if source == ["--demo"] and not check.get("user"):
                user = []
            if ["check", *source, *user] not in out:
                out.append(["check", *source, *user])
    return out


SOURCES = _sources()
IDS = [" ".join(Path(a).stem if "/" in a else a for a in s[1:]) for s in SOURCES]


@functools.cache
def _cli(*args: str) -> tuple[int, str]:
    env = {"COLUMNS": "80", "NO_COLOR": "1", "GITHUB_STEP_SUMMARY": ""}
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, result.stdout


def _fits_80(out: str) -> bool:
    """Every line fits 80 columns, except a command's continuation line that holds a single
    argument longer than that (a long path): it is never broken inside."""
    for line in out.splitlines():
        if len(line) <= 80:
            continue
        words = shlex.split(line.removesuffix(" \\"))
        if not (line.startswith("    --") and len(words) == 2):
            return False
    return True


def _report(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_cli(*args, "--format", "json", "-q")[1])
    return data


def _cause_lines(out: str, titles: list[str]) -> dict[str, str]:
    """Each feature's cause, its wrapped continuation lines joined."""
    lines = out.splitlines()
    causes: dict[str, str] = {}
    for title in titles:
        at = next(i for i, line in enumerate(lines) if re.match(rf"\S+ +{title}( |$)", line))
        text = lines[at].split(title, 1)[1].strip()
        for more in lines[at + 1 :]:
            if not more.startswith(" " * 20) or not more.strip():
                break
            text += " " + more.strip()
        causes[title] = text
    return causes


# Item 1: the cause line comes from the finding that decides it ---------------------------


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_no_cause_line_contradicts_its_features_findings(source: list[str]) -> None:
    """d583756 said "users cannot consent to it" for rooms on the demo (--user adele) and on
    partial-scopes while the finding below said "may consent" and its fix was "reconnect"."""
    report = _report(*source)
    _, out = _cli(*source)
    assert _fits_80(out), out
    leftovers = {a["object_id"] for a in report["apps"] if a["in_use"] is False}
    causes = _cause_lines(out, [f["title"] for f in report["features"]])
    for feature in report["features"]:
        cause = causes[feature["title"]]
        mine = [
            f
            for f in report["findings"]
            if feature["name"] in f["features"] and f["app_object_id"] not in leftovers
        ]
        if feature["status"] == "pass":
            assert cause == "works", (feature["name"], cause)
            continue
        missing = [f for f in mine if f["id"] == "SCOPE_MISSING"]
        answers = [a for f in missing for a in f["evidence"].get("user_consent") or []]
        if "cannot consent" in cause:
            assert any(a["allowed"] is False for a in answers), (feature["name"], cause)
        if "may consent" in cause:
            assert answers, (feature["name"], cause)
            assert all(a["allowed"] for a in answers), (feature["name"], cause)
        if cause.startswith("same policy as "):
            # Said once: an earlier feature's line names the policy, and the same finding
            # decides this feature too.
            earlier = next(f for f in report["features"] if cause.endswith(f["title"]))
            assert earlier["status"] == feature["status"], (feature["name"], cause)
            assert any(
                f["id"].startswith("CA_POLICY_") and earlier["name"] in f["features"] for f in mine
            ), (feature["name"], cause)
        elif not cause.startswith(("no admin consent", "works for")):
            # Any other cause is the title of a finding on this feature, with its severity.
            titles = {f["title"] for f in mine}
            chain = {c["detail"] for c in feature["chain"]}
            assert any(cause.startswith(t) for t in titles | chain), (feature["name"], cause)


def test_demo_rooms_cause_says_the_person_may_consent() -> None:
    _, out = _cli("check", "--demo", "--user", "adele.vance@contoso.com")
    rooms = _cause_lines(out, ["Meeting rooms sync"])["Meeting rooms sync"]
    assert "may consent" in rooms, rooms
    assert "cannot" not in rooms, rooms


# Item 2: the app in use said once; a leftover is housekeeping -----------------------------


def test_the_leftover_is_one_housekeeping_line_last_and_never_stops_sync() -> None:
    """d583756: step 1 "Ask Recruitee which application is in use; remove the leftover one"
    before the admin consent; "No user can sign in to it, so every sync stops"; "but
    Recruitee uses Recruitee (appId ...)"; JUnit failures and a WARN line in a PASS card."""
    args = ("check", "--demo", "--user", "adele.vance@contoso.com")
    _, out = _cli(*args)
    report = _report(*args)
    plan = report["plan"]
    last = plan[-1]
    assert last["summary"].startswith("Housekeeping: delete leftover")
    assert DEMO_LEFTOVER in last["summary"]
    assert "safe" in last["summary"]
    assert all("leftover" not in s["summary"] for s in plan[:-1])
    assert out.count("is the one in use") == 1
    _, details = _cli(*args, "--details")
    assert "Recruitee uses Recruitee" not in details
    assert "Leftover application" in details
    leftover_part = details.split("Leftover application", 1)[1].split("\n\n", 1)[0]
    assert leftover_part.count("Fix:") == 1, leftover_part
    leftover_id = next(a["object_id"] for a in report["apps"] if a["app_id"] == DEMO_LEFTOVER)
    for f in report["findings"]:
        if f["app_object_id"] == leftover_id:
            assert "sync stops" not in f["detail"], f
            assert "cannot sync" not in f["detail"], f
    for fail_on in ("error", "warning", "info"):
        _, xml = _cli(*args, "--format", "junit", "--fail-on", fail_on)
        for case in ET.fromstring(xml).iter("testcase"):
            if DEMO_LEFTOVER in (case.get("name") or ""):
                assert case.find("failure") is None, (fail_on, case.get("name"))
    for fmt in ("markdown", "html"):
        _, doc = _cli(*args, "--format", fmt)
        doc = html_module.unescape(doc) if fmt == "html" else doc.replace("\\", "")
        before, _, after = doc.partition("Leftover application")
        assert after, fmt
        leftover_id = next(a["object_id"] for a in report["apps"] if a["in_use"] is False)
        for f in report["findings"]:  # each leftover finding only under its heading
            if f["app_object_id"] == leftover_id and f["id"] != "APP_DUPLICATE":
                words = f["detail"].split()[-6:]  # its own closing words, as rendered
                assert " ".join(words) in " ".join(after.split()), (fmt, f["id"])
        findings_part = before.split("Findings", 2)[-1]
        assert "Not the Recruitee app in use" not in findings_part, fmt
    _, html = _cli(*args, "--format", "html")
    calendar = html.split("<h3>Calendar sync</h3>", 1)[1].split("</section>", 1)[0]
    assert 'class="badge warn"' not in calendar
    assert 'class="badge fail"' not in calendar


# Item 3: suggested commands reproduce the audit ------------------------------------------


def _command_after(out: str, label: str) -> str:
    """The suggested command after ``label``, its continuation lines joined as a shell
    would join them (a backslash-newline is removed)."""
    block = out.split(f"{label} ", 1)[1]
    lines = []
    for line in block.splitlines():
        lines.append(line)
        if not line.endswith(" \\"):
            break
    return "\n".join(lines).replace("\\\n", "")


def test_suggested_commands_carry_every_option_that_shaped_the_audit(tmp_path: Path) -> None:
    """d583756: `check --app-id X --feature calendar` ended with "Requests: consent-audit
    fix", which run as printed plans something else; at 80 columns it wrapped mid-argument."""
    manifest = tmp_path / "my manifest.toml"
    manifest.write_text(_cli("manifest", "show")[1], encoding="utf-8")
    snapshot = str(EXAMPLES / "partial-scopes.json")
    app_id = _report("check", "--snapshot", snapshot)["apps"][0]["app_id"]
    args = (
        "check",
        "--snapshot",
        snapshot,
        "--app-id",
        app_id,
        "--feature",
        "mailbox",
        "--manifest",
        str(manifest),
    )
    _, out = _cli(*args)
    assert _fits_80(out), out
    for label, sub, extra in (("Requests:", "fix", []), ("Details:", "check", ["--details"])):
        words = shlex.split(_command_after(out, label))
        assert words[:2] == ["consent-audit", sub]
        given = dict(zip(words[2::2], words[3::2], strict=False))
        assert given["--snapshot"] == snapshot
        assert given["--app-id"] == app_id
        assert given["--feature"] == "mailbox"
        assert given["--manifest"] == str(manifest)
        assert all(w in words for w in extra)
    # Run as printed, fix plans for the same audit: the same steps as the check's plan.
    words = shlex.split(_command_after(out, "Requests:"))
    _, planned = _cli(*words[1:])
    report = _report(*args)
    for step in report["plan"]:
        assert step["summary"] in " ".join(planned.split()), step["summary"]


# Item 4: one verdict word everywhere ------------------------------------------------------


@pytest.mark.parametrize("fail_on", ["never", "error", "warning"])
def test_every_format_says_the_worst_verdict_and_shows_the_gate(fail_on: str) -> None:
    """d583756: with --fail-on never, text and HTML said FAIL while JSON summary.status said
    warn."""
    args = ("check", "--snapshot", str(EXAMPLES / "partial-scopes.json"), "--fail-on", fail_on)
    report = _report(*args)
    worst = report["summary"]["status"]
    assert worst == "fail"
    word = worst.upper()
    code, text = _cli(*args)
    assert text.startswith(f"consent-audit: {word} ")
    assert code == report["gate"]["exit_code"]
    if fail_on == "never":
        assert f"Exit code 0 (--fail-on {fail_on})" in text
    _, md = _cli(*args, "--format", "markdown")
    assert md.startswith(f"## consent-audit: {word} ")
    assert f"--fail-on {fail_on}" in md
    _, html = _cli(*args, "--format", "html")
    assert f"<title>consent-audit: {word} " in html
    assert f"Exit code {report['gate']['exit_code']} (--fail-on {fail_on})" in html
    _, xml = _cli(*args, "--format", "junit")
    props = {p.get("name"): p.get("value") for p in ET.fromstring(xml).iter("property")}
    assert props["status"] == worst
    assert props["exit_code"] == str(report["gate"]["exit_code"])


# The plan proves itself: its prediction in every format ----------------------------------


def test_the_prediction_is_shown_wherever_the_plan_is() -> None:
    args = ("check", "--demo", "--user", "adele.vance@contoso.com")
    report = _report(*args)
    summary = report["prediction"]["summary"]
    assert summary.startswith("After step")
    assert [p["name"] for p in report["prediction"]["features"]] == [
        f["name"] for f in report["features"]
    ]
    flat = " ".join(summary.split())
    for extra in ([], ["--details"], ["--format", "markdown"], ["--format", "html"]):
        _, out = _cli(*args, *extra)
        assert flat in " ".join(out.split()), extra
    _, planned = _cli("fix", "--demo", "--user", "adele.vance@contoso.com")
    assert flat in " ".join(planned.split())
