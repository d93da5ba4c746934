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
    assert "Result: worse for sync (exit 1)" in text
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


# ------------------------------------------------- security-relevant CA changes (item 9)

MFA_POLICY = POLICY_ID  # CA002 - Require multifactor authentication for all users
BLOCK_POLICY = "18698fdb-eb09-401c-ad7d-b6b31263fa06"  # CA001 - Block legacy authentication
GROUP = "0b7a3c55-2d1e-4f60-9a8b-1c2d3e4f5a6b"
ROLE = "62e90394-69f5-4237-9190-012177145e10"  # Global Administrator's template id
LOCATION = "3d46dbda-8382-466a-856d-eb00cbc6b910"
OTHER_APP = "00000002-0000-0ff1-ce00-000000000000"  # Exchange Online
STRONG = ["fido2", "windowsHelloForBusiness"]


def _policy(raw: dict[str, Any], policy_id: str) -> dict[str, Any]:
    [policy] = [p for p in raw["conditional_access_policies"]["data"] if p["id"] == policy_id]
    return policy


def _variant(tmp_path: Path, name: str, change: Any, base: Path = BEFORE) -> Path:
    raw = json.loads(base.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def _security(before: Path, after: Path) -> tuple[int, list[tuple[str, str, list[str]]]]:
    code, d = diff_json(before, after)
    return code, [(c["policy_id"], c["change"], c["items"]) for c in d["security"]]


def test_the_mfa_policy_going_report_only_is_listed_though_sync_got_better() -> None:
    """Issue 20 item 9: 'nothing got worse (exit 0)' was all diff said about CA002 going from
    enabled to report-only. It is listed in its own section in every format; the exit code
    stays about sync (0), and says so."""
    code, d = diff_json(BEFORE, AFTER)
    assert code == 0
    assert d["worse"] is False
    assert [(c["policy_id"], c["change"]) for c in d["security"]] == [(MFA_POLICY, "not_enforced")]
    assert "enabled -> report-only" in d["security"][0]["detail"]
    code, text, _ = run(str(BEFORE), str(AFTER))
    assert code == 0
    section = text.split("Security-relevant Conditional Access changes (1;", 1)[1]
    assert "not counted in the exit code, which is about sync" in section.split("\n", 1)[0]
    assert f"policy {MFA_POLICY}" in section.split("\n\n", 1)[0]
    assert "enabled -> report-only: no longer enforced" in section.split("\n\n", 1)[0]
    assert "Result: nothing got worse for sync (exit 0); 1 security-relevant" in text
    code, md, _ = run(str(BEFORE), str(AFTER), "--format", "markdown")
    assert code == 0
    assert "### Security-relevant Conditional Access changes (1;" in md
    assert "no longer enforced" in md


def test_going_back_lists_no_weakening() -> None:
    code, d = diff_json(AFTER, BEFORE)
    assert code == 1  # sync got worse; the MFA policy enforced again is not a weakening
    assert d["security"] == []


def test_two_reports_list_the_same_state_change(tmp_path: Path) -> None:
    reports = []
    for snap in (BEFORE, AFTER):
        out = tmp_path / f"{snap.stem}.report.json"
        runner.invoke(app, ["check", "-s", str(snap), "-o", str(out), "-q", "--fail-on", "never"])
        reports.append(out)
    code, d = diff_json(*reports)
    assert code == 0
    assert d["security_compared"] == "reports"
    assert [(c["policy_id"], c["change"]) for c in d["security"]] == [(MFA_POLICY, "not_enforced")]
    _, text, _ = run(*(str(r) for r in reports))
    assert "only policies that target Recruitee" in text


def test_each_weakening_is_listed_with_what_changed(tmp_path: Path) -> None:
    def weaken(raw: dict[str, Any]) -> None:
        mfa = _policy(raw, MFA_POLICY)
        users = mfa["conditions"]["users"]
        users["excludeGroups"] = [GROUP]
        users["excludeRoles"] = [ROLE]
        users["excludeGuestsOrExternalUsers"] = {
            "guestOrExternalUserTypes": "b2bCollaborationGuest",
            "externalTenants": {"membershipKind": "all"},
        }
        mfa["conditions"]["applications"]["excludeApplications"] = [OTHER_APP]
        mfa["conditions"]["locations"] = {
            "includeLocations": ["All"],
            "excludeLocations": [LOCATION],
        }
        block = _policy(raw, BLOCK_POLICY)
        block["state"] = "disabled"
        block["grantControls"]["builtInControls"] = []

    before = _variant(tmp_path, "before", lambda raw: None)
    after = _variant(tmp_path, "after", weaken)
    _, changes = _security(before, after)
    assert changes == [
        (BLOCK_POLICY, "not_enforced", []),
        (BLOCK_POLICY, "grant_control_removed", ["block"]),
        (MFA_POLICY, "exclusion_added", [GROUP]),
        (MFA_POLICY, "exclusion_added", [ROLE]),
        (MFA_POLICY, "exclusion_added", ["b2bCollaborationGuest"]),
        (MFA_POLICY, "exclusion_added", [OTHER_APP]),
        (MFA_POLICY, "exclusion_added", [LOCATION]),
    ]
    _, d = diff_json(before, after)
    details = [c["detail"] for c in d["security"]]
    assert details[0] == "enabled -> disabled: no longer enforced"
    assert "(the policy is disabled: not enforced now)" in details[1]
    assert details[2].startswith("excluded groups: ")
    assert details[3].startswith("excluded roles: ")
    assert details[5].startswith("excluded applications: ")
    assert details[6].startswith("excluded locations: ")
    # The reverse strengthens every one of them: nothing to list.
    assert _security(after, before)[1] == []


def test_a_deleted_policy_and_an_added_user_exclusion(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        policies = raw["conditional_access_policies"]["data"]
        raw["conditional_access_policies"]["data"] = [p for p in policies if p["id"] != MFA_POLICY]
        _policy(raw, BLOCK_POLICY)["conditions"]["users"]["excludeUsers"].append(GROUP)

    _, changes = _security(BEFORE, _variant(tmp_path, "after", change))
    assert changes == [(BLOCK_POLICY, "exclusion_added", [GROUP]), (MFA_POLICY, "deleted", [])]


def test_grant_controls_and_authentication_strength(tmp_path: Path) -> None:
    def strong(raw: dict[str, Any]) -> None:
        grant = _policy(raw, MFA_POLICY)["grantControls"]
        grant["operator"] = "AND"
        grant["builtInControls"] = ["compliantDevice"]
        grant["authenticationStrength"] = {
            "id": "00000000-0000-0000-0000-000000000004",
            "displayName": "Phishing-resistant MFA",
            "allowedCombinations": STRONG,
        }

    def weaker(raw: dict[str, Any]) -> None:
        strong(raw)
        grant = _policy(raw, MFA_POLICY)["grantControls"]
        grant["operator"] = "OR"
        grant["authenticationStrength"] = {
            "id": "00000000-0000-0000-0000-000000000002",
            "displayName": "Multifactor authentication",
            "allowedCombinations": [*STRONG, "password,sms"],
        }

    def removed(raw: dict[str, Any]) -> None:
        strong(raw)
        _policy(raw, MFA_POLICY)["grantControls"]["authenticationStrength"] = None

    def unread(raw: dict[str, Any]) -> None:
        weaker(raw)
        del _policy(raw, MFA_POLICY)["grantControls"]["authenticationStrength"][
            "allowedCombinations"
        ]

    before = _variant(tmp_path, "strong", strong)
    assert _security(before, _variant(tmp_path, "weaker", weaker))[1] == [
        (MFA_POLICY, "grant_operator_weakened", []),
        (MFA_POLICY, "authentication_strength_weakened", ["password,sms"]),
    ]
    assert _security(before, _variant(tmp_path, "removed", removed))[1] == [
        (MFA_POLICY, "authentication_strength_weakened", ["Phishing-resistant MFA"]),
    ]
    # Combinations not read: named as unknown, never as "not weaker".
    assert _security(before, _variant(tmp_path, "unread", unread))[1] == [
        (MFA_POLICY, "grant_operator_weakened", []),
        (MFA_POLICY, "authentication_strength_changed", []),
    ]
    assert _security(_variant(tmp_path, "weaker2", weaker), before)[1] == []


def test_redacted_snapshots_list_the_same_weakenings(tmp_path: Path) -> None:
    from consent_audit.live import redact

    def exclude(raw: dict[str, Any]) -> None:
        _policy(raw, MFA_POLICY)["conditions"]["users"]["excludeGroups"] = [GROUP]
        _policy(raw, MFA_POLICY)["state"] = "enabledForReportingButNotEnforced"

    key = b"k" * 32
    paths = []
    for name, path in (("before", BEFORE), ("after", _variant(tmp_path, "after", exclude))):
        out = tmp_path / f"{name}.redacted.json"
        out.write_text(dump_snapshot(redact(load_snapshot(path), key)), encoding="utf-8")
        paths.append(out)
    _, changes = _security(*paths)
    assert [(pid, kind) for pid, kind, _ in changes] == [
        (MFA_POLICY, "not_enforced"),
        (MFA_POLICY, "exclusion_added"),
    ]
    assert GROUP not in json.dumps(changes)  # the group's id is pseudonymised
