"""BlockUserConsentForRiskyApps read live, against the emulator (GET /groupSettings, v1.0
groupsetting-list.md): the collector keeps the Consent Policy Settings object and only that
value, and a refused read is unknown, named."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from consent_audit.graph_objects import CONSENT_POLICY_SETTINGS_TEMPLATE_ID
from consent_audit.snapshot import PartStatus, load_snapshot
from tests.e2e.cli_runner import TOKEN, run_cli
from tests.emulator.server import GraphEmulator
from tests.emulator.tenant import PartState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def test_the_collector_reads_the_consent_policy_settings_only(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "recommended-policy.json")
    emu.tenant.group_settings[0]["values"].append(
        {"name": "ConstrainGroupSpecificConsentToMembersOfGroupId", "value": "x"}
    )
    emu.tenant.group_settings.append(
        {
            "id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
            "displayName": "Group.Unified",
            "templateId": "62375ab9-6b52-47ed-826b-58e47e0e304b",
            "values": [{"name": "UsageGuidelinesUrl", "value": "https://contoso.example/rules"}],
        }
    )
    out = tmp_path / "live.json"
    run = run_cli(["snapshot", "--output", str(out)], emu.url, tmp_path)
    assert run.code == 0, run.stderr
    reads = [r.target for r in emu.requests if "groupSettings" in r.target]
    assert reads
    assert all("$select=id,displayName,templateId,values" in t for t in reads), reads
    part = load_snapshot(out).consent_policy_settings
    assert part.status is PartStatus.OK
    assert [s.template_id for s in part.data or []] == [CONSENT_POLICY_SETTINGS_TEMPLATE_ID]
    assert [(v.name, v.value) for v in part.data[0].values or []] == [  # type: ignore[index]
        ("BlockUserConsentForRiskyApps", "True")
    ]


def test_a_refused_read_is_unknown_and_named(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "recommended-policy.json")
    emu.tenant.parts["groupSettings"] = PartState(PartStatus.FORBIDDEN, None)
    run = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    unavailable = [
        f
        for f in run.report["findings"]
        if f["id"] == "DATA_UNAVAILABLE" and f["evidence"].get("part") == "consent_policy_settings"
    ]
    assert unavailable, run.stdout
    named = unavailable[0]["detail"] + json.dumps(unavailable[0]["remediation"])
    assert "Directory.Read.All" in named
    assert "whether step-up is on is unknown" in run.stdout


def test_filter_is_refused_as_graph_documents(graph_emulator: GraphEmulator) -> None:
    import requests

    answer = requests.get(
        f"{graph_emulator.url}/v1.0/groupSettings",
        params={"$filter": f"templateId eq '{CONSENT_POLICY_SETTINGS_TEMPLATE_ID}'"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 400
