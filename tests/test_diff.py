"""consent-audit diff: the before/after example lists exactly the changes made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.snapshot import dump_snapshot, load_snapshot

ROOT = Path(__file__).resolve().parents[1]
BEFORE = ROOT / "examples" / "diff" / "before.json"
AFTER = ROOT / "examples" / "diff" / "after.json"
APP_ID = "5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c845"
POLICY_ID = "39ac33a9-c23b-40b8-a579-7aeb6adaab7a"
runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["diff", *args])
    return result.exit_code, result.stdout, result.stderr


def diff_json(before: Path, after: Path) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(str(before), str(after), "--format", "json")
    return code, json.loads(out)


def _essence(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "verdicts": [(v["feature"], v["app_id"], v["before"], v["after"]) for v in d["verdicts"]],
        "appeared": [(f["id"], f["fingerprint"]) for f in d["appeared"]],
        "resolved": [(f["id"], f["fingerprint"]) for f in d["resolved"]],
        "grants": [(g["app_id"], g["consent"], g["added"], g["removed"]) for g in d["grants"]],
    }


def test_the_example_lists_exactly_the_two_admin_changes_and_their_effect() -> None:
    code, d = diff_json(BEFORE, AFTER)
    assert code == 0
    assert d["worse"] is False
    # 1. Mail.Send and Mail.ReadWrite added to the admin grant ...
    assert [
        (g["app_id"], g["consent"], g["change"], g["added"], g["removed"]) for g in d["grants"]
    ] == [(APP_ID, "admin", "changed", ["Mail.ReadWrite", "Mail.Send"], [])]
    # ... so mailbox sync now has every scope: its verdict passes and SCOPE_MISSING is gone.
    assert [(v["feature"], v["app_id"], v["before"], v["after"]) for v in d["verdicts"]] == [
        ("mailbox", None, "fail", "pass"),
        ("mailbox", APP_ID, "fail", "pass"),
    ]
    assert [(f["id"], f["feature"], f["app_id"]) for f in d["resolved"]] == [
        ("SCOPE_MISSING", "mailbox", APP_ID)
    ]
    assert d["appeared"] == []
    # 2. CA002 switched to report-only: that one field, on that one policy.
    assert [(p["id"], p["change"], p["fields"]) for p in d["policies"]] == [
        (POLICY_ID, "changed", {"state": ["enabled", "enabledForReportingButNotEnforced"]})
    ]
    assert [s["setting"] for s in d["settings"]] == ["conditional_access"]


def test_going_back_is_worse_and_exits_1() -> None:
    code, d = diff_json(AFTER, BEFORE)
    assert code == 1
    assert d["worse"] is True
    assert [(f["id"], f["severity"]) for f in d["appeared"]] == [("SCOPE_MISSING", "error")]
    assert any("mailbox: pass -> fail" in why for why in d["why_worse"])
    code, text, _ = run(str(AFTER), str(BEFORE))
    assert code == 1
    assert "Result: worse (exit 1)" in text
    assert "mailbox: PASS -> FAIL (worse)" in text


def test_no_change_is_exit_0_and_says_so() -> None:
    code, text, _ = run(str(BEFORE), str(BEFORE))
    assert code == 0
    assert "Result: no change (exit 0)" in text


def test_two_json_reports_give_the_same_diff_as_the_snapshots(tmp_path: Path) -> None:
    reports = []
    for snap in (BEFORE, AFTER):
        out = tmp_path / f"{snap.stem}.report.json"
        runner.invoke(app, ["check", "-s", str(snap), "-o", str(out), "-q", "--fail-on", "never"])
        reports.append(out)
    code, from_reports = diff_json(*reports)
    _, from_snapshots = diff_json(BEFORE, AFTER)
    assert code == 0
    assert _essence(from_reports) == _essence(from_snapshots)
    assert "report of" in from_reports["before"]


def test_redacted_snapshots_diff_cleanly(tmp_path: Path) -> None:
    from consent_audit.live import redact

    key = b"k" * 32
    paths = []
    for snap in (BEFORE, AFTER):
        path = tmp_path / snap.name
        path.write_text(dump_snapshot(redact(load_snapshot(snap), key)), encoding="utf-8")
        paths.append(path)
    code, redacted = diff_json(*paths)
    _, plain = diff_json(BEFORE, AFTER)
    assert code == 0
    assert _essence(redacted) == _essence(plain)
    assert [(p["id"], p["fields"]) for p in redacted["policies"]] == [
        (p["id"], p["fields"]) for p in plain["policies"]
    ]
    assert "CA002" not in json.dumps(redacted)


def test_markdown_has_a_verdict_table_and_the_result() -> None:
    code, md, _ = run(str(AFTER), str(BEFORE), "--format", "markdown")
    assert code == 1
    assert "| mailbox | PASS | **FAIL** (worse) |" in md
    assert "### Findings appeared (1)" in md
    assert md.rstrip().endswith("**")


def test_bad_input_is_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    code, out, err = run(str(junk), str(AFTER))
    assert code == 2
    assert out == ""
    assert "neither a consent-audit snapshot nor a JSON report" in err
    other = tmp_path / "other.json"
    data = json.loads(AFTER.read_text())
    data["tenant"]["id"] = "00000000-0000-0000-0000-000000000001"
    other.write_text(json.dumps(data))
    code, _, err = run(str(BEFORE), str(other))
    assert code == 2
    assert "same tenant" in err
    code, _, err = run(str(BEFORE), str(tmp_path / "missing.json"))
    assert code == 2
    assert "Traceback" not in err
