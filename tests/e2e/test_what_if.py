"""End-to-end: the installed CLI asks Entra's What-If for a ``--user`` audit
(``POST /identity/conditionalAccess/evaluate``), and the snapshot keeps what the tenant answered.

The emulator records every evaluate body it receives (``tenant.what_if_requests``), so these
tests assert the exact questions the CLI put, per resource, in the v1.0 shapes
(conditionalaccessroot-evaluate.md, usersignin.md, applicationcontext.md, signinconditions.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consent_audit.snapshot import load_snapshot
from tests.e2e.cli_runner import comparable, run_cli
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
TENANT = EXAMPLES / "ca-block-excluded-admins.json"
BLOCKED = "nestor.wilke@woodgrovebank.com"
EXCLUDED = "miriam.graham@woodgrovebank.com"
EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
DIRECTORY = "00000002-0000-0000-c000-000000000000"
Factory = Callable[..., GraphEmulator]


def _user_id(upn: str) -> str:
    lookup = load_snapshot(TENANT).find_user(upn)
    assert lookup is not None
    assert lookup.user.data is not None
    return lookup.user.data.id


def _recruitee_app_ids() -> list[str]:
    return [a.service_principal.app_id for a in load_snapshot(TENANT).recruitee_apps.data or []]


def _expected_body(user_id: str, app_id: str) -> dict[str, Any]:
    return {
        "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": user_id},
        "signInContext": {
            "@odata.type": "#microsoft.graph.applicationContext",
            "includeApplications": [app_id],
        },
        "signInConditions": {"clientAppType": "browser"},
        "appliedPoliciesOnly": False,
    }


def test_check_user_asks_what_if_once_per_resource_with_the_documented_body(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(TENANT)
    run = run_cli(["check", "--user", BLOCKED, "--format", "json"], emu.url, tmp_path)
    assert run.code == 1, run.stderr
    user_id = _user_id(BLOCKED)
    expected = [
        _expected_body(user_id, app_id) for app_id in [EXCHANGE, DIRECTORY, *_recruitee_app_ids()]
    ]
    assert emu.tenant.what_if_requests == expected
    evaluate_calls = [r for r in emu.requests if "conditionalAccess/evaluate" in r.target]
    assert {r.method for r in evaluate_calls} == {"POST"}


def test_a_tenant_wide_check_asks_nothing(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    emu = graph_emulator_factory(TENANT)
    run_cli(["check", "--format", "json"], emu.url, tmp_path)
    assert emu.tenant.what_if_requests == []


def _what_if(snapshot: dict[str, Any]) -> dict[str, Any]:
    [lookup] = snapshot["users"]
    part: dict[str, Any] = lookup["conditional_access_what_if"]
    return part


def test_the_snapshot_keeps_what_the_tenant_answered(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(TENANT)
    out = tmp_path / "snap.json"
    assert run_cli(["snapshot", "--user", EXCLUDED, "-o", str(out)], emu.url, tmp_path).code == 0
    part = _what_if(json.loads(out.read_text()))
    assert part["status"] == "ok"
    by_resource = {q["resource"]: q for q in part["data"]}
    assert set(by_resource) == {"exchange_online", "directory", "recruitee"}
    exchange = by_resource["exchange_online"]
    assert exchange["include_applications"] == [EXCHANGE]
    assert exchange["client_app_type"] == "browser"
    assert exchange["applied_policies_only"] is False
    answers = {
        a["id"]: (a["policyApplies"], a["analysisReasons"]) for a in exchange["answer"]["data"]
    }
    policies = load_snapshot(TENANT).conditional_access_policies.data or []
    lockdown = next(p for p in policies if "lockdown" in (p.display_name or "").casefold())
    # Miriam is excluded through a nested group: Microsoft says the lockdown does not apply.
    assert answers[lockdown.id] == (False, "users")
    assert set(answers) == {p.id for p in policies}


def test_a_redacted_snapshot_pseudonymises_the_answers_and_replays(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(TENANT)
    out = tmp_path / "redacted.json"
    args = ["snapshot", "--user", BLOCKED, "--redact", "-o", str(out)]
    assert run_cli(args, emu.url, tmp_path).code == 0
    text = out.read_text()
    original = load_snapshot(TENANT)
    for policy in original.conditional_access_policies.data or []:
        assert policy.display_name
        assert policy.display_name not in text
    for policy in original.conditional_access_policies.data or []:
        users = policy.conditions.users
        assert users is not None
        listed = [*users.include_groups, *users.exclude_groups, *users.exclude_users]
        for object_id in (v for v in listed if len(v) == 36):
            assert object_id not in text
    part = _what_if(json.loads(text))
    assert part["status"] == "ok"
    names = {a["displayName"] for q in part["data"] for a in q["answer"]["data"]}
    assert names
    assert all(n.startswith("CA policy ") for n in names)
    pseudonym = json.loads(text)["users"][0]["query"]
    assert pseudonym != BLOCKED
    replay = run_cli(
        ["check", "--snapshot", str(out), "--user", pseudonym, "--format", "json"],
        None,
        tmp_path,
        token=None,
    )
    live = run_cli(["check", "--user", BLOCKED, "--format", "json"], emu.url, tmp_path)
    assert comparable(replay.report) == comparable(live.report)


@pytest.mark.parametrize(("status", "code"), [("forbidden", 403), ("not_found", 404)])
def test_a_refused_or_absent_what_if_is_kept_as_such_and_the_audit_goes_on(
    graph_emulator_factory: Factory, tmp_path: Path, status: str, code: int
) -> None:
    emu = graph_emulator_factory(TENANT)
    emu.tenant.set_status("conditionalAccessWhatIf", status)
    out = tmp_path / "snap.json"
    assert run_cli(["snapshot", "--user", BLOCKED, "-o", str(out)], emu.url, tmp_path).code == 0
    part = _what_if(json.loads(out.read_text()))
    assert {q["answer"]["status"] for q in part["data"]} == {status}
    if status == "forbidden":
        assert {q["answer"]["permission"] for q in part["data"]} == {
            "Policy.Read.ConditionalAccess"
        }
    assert len(emu.tenant.what_if_requests) == 3
    run = run_cli(["check", "--user", BLOCKED, "--format", "json"], emu.url, tmp_path)
    assert run.code == 1
    assert "CA_POLICY_BLOCKS" in {f["id"] for f in run.report["findings"]}


def _ca_source(report: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = report["conditional_access_source"]
    return source


def test_the_json_report_says_microsoft_decided_each_ca_verdict(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(TENANT)
    report = run_cli(["check", "--user", BLOCKED, "--format", "json"], emu.url, tmp_path).report
    assert _ca_source(report)["decided_by"] == "microsoft_what_if"
    assert _ca_source(report)["what_if"] == "answered"
    rows = report["conditional_access"]
    assert rows
    assert {r["decided_by"] for r in rows} == {"microsoft_what_if"}
    assert all(r["what_if"] for r in rows)
    blocks = [f for f in report["findings"] if f["id"] == "CA_POLICY_BLOCKS"]
    assert blocks
    assert {f["evidence"]["targeting_decided_by"] for f in blocks} == {"microsoft_what_if"}
    offline = run_cli(
        ["check", "--snapshot", str(TENANT), "--user", BLOCKED, "--format", "json"],
        None,
        tmp_path,
        token=None,
    ).report
    assert _ca_source(offline)["decided_by"] == "static_rules"
    assert _ca_source(offline)["what_if"] == "not_asked"


def test_a_disagreement_between_microsoft_and_the_static_reading_is_a_finding(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """The customer's tenant said (recorded in their snapshot, replayed by the emulator as
    Entra answered it) that the lockdown does not apply to Nestor, whom the policy as read
    covers: Microsoft's answer decides, and the report shows both."""
    emu = graph_emulator_factory(TENANT)
    taken = tmp_path / "taken.json"
    assert run_cli(["snapshot", "--user", BLOCKED, "-o", str(taken)], emu.url, tmp_path).code == 0
    raw = json.loads(taken.read_text())
    policies = raw["conditional_access_policies"]["data"]
    lockdown = next(p for p in policies if "lockdown" in p["displayName"].casefold())
    for question in _what_if(raw)["data"]:
        for answer in question["answer"]["data"]:
            if answer["id"] == lockdown["id"]:
                assert answer["policyApplies"] is True  # as the emulator computed it
                answer.update(policyApplies=False, analysisReasons="users")
    customer = tmp_path / "customer.json"
    customer.write_text(json.dumps(raw))
    emu = graph_emulator_factory(customer)
    run = run_cli(["check", "--user", BLOCKED, "--format", "json"], emu.url, tmp_path)
    found = [f for f in run.report["findings"] if f["id"] == "CA_WHAT_IF_DISAGREES"]
    assert len(found) == 1, run.report["findings"]
    [disagrees] = found
    assert disagrees["evidence"]["policy_id"] == lockdown["id"]
    assert disagrees["severity"] == "warning"
    answers = {d["resource"]: d for d in disagrees["evidence"]["disagreements"]}
    assert answers["exchange_online"]["microsoft_what_if"] == {
        "policy_applies": False,
        "analysis_reasons": "users",
    }
    assert answers["exchange_online"]["static_rules"]["applies"] is True
    assert "CA_POLICY_BLOCKS" not in {f["id"] for f in run.report["findings"]}
    assert {f["status"] for f in run.report["features"]} == {"pass"}
    text = run_cli(["check", "--user", BLOCKED, "--details"], emu.url, tmp_path)
    assert "Microsoft says it does not (users)" in " ".join(text.stdout.split())


@pytest.mark.parametrize(
    ("status", "availability", "words"),
    [
        ("forbidden", "refused", "403: the auditor needs Policy.Read.ConditionalAccess"),
        ("not_found", "absent", "404: this cloud or tenant has no What-If API"),
    ],
)
def test_a_refused_or_absent_what_if_falls_back_to_the_static_reading_with_a_note(
    graph_emulator_factory: Factory, tmp_path: Path, status: str, availability: str, words: str
) -> None:
    emu = graph_emulator_factory(TENANT)
    emu.tenant.set_status("conditionalAccessWhatIf", status)
    report = run_cli(["check", "--user", BLOCKED, "--format", "json"], emu.url, tmp_path).report
    source = _ca_source(report)
    assert source["decided_by"] == "static_rules"
    assert source["what_if"] == availability
    assert words in source["detail"]
    assert {r["decided_by"] for r in report["conditional_access"]} == {"static_rules"}
    assert "CA_POLICY_BLOCKS" in {f["id"] for f in report["findings"]}
    # The first screen says it in one line; the details repeat it above the policy table.
    first = run_cli(["check", "--user", BLOCKED], emu.url, tmp_path)
    assert words in " ".join(first.stdout.split())
    text = run_cli(["check", "--user", BLOCKED, "--details"], emu.url, tmp_path)
    assert words in " ".join(text.stdout.split())
    markdown = run_cli(["check", "--user", BLOCKED, "--format", "markdown"], emu.url, tmp_path)
    summary = markdown.stdout.split("<details>")[0]
    assert words in " ".join(summary.split())


def test_an_answered_what_if_adds_no_line_to_the_first_screen(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(TENANT)
    first = run_cli(["check", "--user", BLOCKED], emu.url, tmp_path)
    assert "What-If" not in first.stdout


PERSON = {
    "query": "pat.example@contoso.com",
    "user": {
        "status": "ok",
        "data": {
            "id": "0f0f0f0f-1111-4222-8333-444444444444",
            "user_principal_name": "pat.example@contoso.com",
            "display_name": "Pat Example",
        },
    },
}


@pytest.mark.parametrize(
    ("example", "policy", "decided_by", "microsoft"),
    [
        # No IP address or country is sent for Recruitee's servers: not enough information,
        # so the static reading (unknown for a selected-location block) decides.
        ("ca-selected-location-block", "CA300", "static_rules", "notEnoughInformation"),
        # userRiskLevel is not sent, so Microsoft evaluates its default (none): not a
        # targeting answer; the static reading (risk is context) decides.
        ("ca-user-risk-block", "CA400", "static_rules", "userRisk"),
        # clientAppType browser is sent: Microsoft itself says a mobile/desktop-only policy
        # does not apply to a confidential client; the static reading agrees.
        ("ca-mobile-desktop-block", "CA200", "microsoft_what_if", "clientApps"),
    ],
)
def test_what_if_and_the_condition_rules_combine_on_the_ca_examples(
    graph_emulator_factory: Factory,
    tmp_path: Path,
    example: str,
    policy: str,
    decided_by: str,
    microsoft: str,
) -> None:
    raw = json.loads((EXAMPLES / f"{example}.json").read_text())
    raw["users"] = [PERSON]
    tenant = tmp_path / f"{example}.json"
    tenant.write_text(json.dumps(raw))
    emu = graph_emulator_factory(tenant)
    user = PERSON["query"]
    live = run_cli(["check", "--user", user, "--format", "json"], emu.url, tmp_path).report
    offline = run_cli(
        ["check", "--snapshot", str(tenant), "--user", user, "--format", "json"],
        None,
        tmp_path,
        token=None,
    ).report
    # Where Microsoft and the rules agree, the verdicts are the static ones.
    assert comparable(live) == comparable(offline)
    assert "CA_WHAT_IF_DISAGREES" not in {f["id"] for f in live["findings"]}
    answers = [
        a
        for q in json.loads(
            run_cli(["snapshot", "--user", user, "-o", "-"], emu.url, tmp_path).stdout
        )["users"][0]["conditional_access_what_if"]["data"]
        for a in q["answer"]["data"]
        if a["displayName"].startswith(policy)
    ]
    assert {a["analysisReasons"] for a in answers} == {microsoft}
    rows = [r for r in live["conditional_access"] if (r["display_name"] or "").startswith(policy)]
    if decided_by == "static_rules":
        assert rows
        assert {r["decided_by"] for r in rows} == {"static_rules"}
        assert all(microsoft in " ".join(r["what_if"]) for r in rows)
    else:
        assert rows == []  # it does not apply: no row, as without the What-If
