"""A look-alike Recruitee (registered in the audited tenant) never receives a write from
``fix --apply`` and never a consent URL, end to end against the emulator (issue 18, item 5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_runner import run_cli
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _lookalike(snapshot: Path) -> dict[str, str]:
    raw = json.loads(snapshot.read_text(encoding="utf-8"))
    tenant = raw["tenant"]["id"]
    sp = next(
        a["service_principal"]
        for a in raw["recruitee_apps"]["data"]
        if a["service_principal"]["appOwnerOrganizationId"] == tenant
    )
    return {"object_id": sp["id"], "app_id": sp["appId"]}


def _writes(emu: GraphEmulator) -> list[str]:
    return [
        f"{r.method} {r.target}"
        for r in emu.requests
        if r.method in {"POST", "PATCH", "DELETE"} and not r.target.endswith("$batch")
    ]


def test_fix_apply_grants_the_real_app_and_never_the_lookalike(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    snapshot = EXAMPLES / "lookalike-beside-real.json"
    fake = _lookalike(snapshot)
    emu = graph_emulator_factory(snapshot)
    before = [dict(g) for g in emu.tenant.grants if g["clientId"] == fake["object_id"]]
    # Steps 1 and 2 are the admin's (leave the look-alike alone; limit who can use Recruitee).
    done = ["--manual-steps-done", "1", "--manual-steps-done", "2"]
    run = run_cli(["fix", "--apply", "--yes", *done], emu.url, tmp_path)
    writes = _writes(emu)
    assert writes, run.stdout + run.stderr  # the real app's admin grant was extended
    assert all(fake["object_id"] not in w for w in writes), writes
    assert [g for g in emu.tenant.grants if g["clientId"] == fake["object_id"]] == before
    admin = [g for g in emu.tenant.grants if g["consentType"] == "AllPrincipals"]
    assert all(g["clientId"] != fake["object_id"] for g in admin)
    assert any("mail.readwrite" in g["scope"].casefold() for g in admin)
    again = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    assert {f["status"] for f in again.report["features"]} == {"pass"}
    assert "APP_LOOKALIKE" in {f["id"] for f in again.report["findings"]}


def test_fix_apply_writes_nothing_when_only_a_lookalike_exists(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "lookalike-only.json")
    run = run_cli(["fix", "--apply", "--yes"], emu.url, tmp_path)
    assert _writes(emu) == [], run.stdout
    assert "Grant admin consent" not in run.stdout


def test_consent_url_never_links_a_lookalike(tmp_path: Path) -> None:
    alone = EXAMPLES / "lookalike-only.json"
    refused = run_cli(["consent-url", "--snapshot", str(alone)], None, tmp_path, token=None)
    assert refused.code == 2
    assert "APP_LOOKALIKE" in refused.stderr
    assert _lookalike(alone)["app_id"] not in refused.stdout

    beside = EXAMPLES / "lookalike-beside-real.json"
    fake = _lookalike(beside)
    url = run_cli(["consent-url", "--snapshot", str(beside)], None, tmp_path, token=None)
    assert url.code == 0, url.stderr
    assert "client_id=5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c845" in url.stdout
    assert fake["app_id"] not in url.stdout
    named = run_cli(
        ["consent-url", "--snapshot", str(beside), "--app-id", fake["app_id"]],
        None,
        tmp_path,
        token=None,
    )
    assert named.code == 2
    assert "client_id" not in named.stdout


def test_consent_url_never_links_an_app_known_only_by_its_name(tmp_path: Path) -> None:
    """Graph did not report the app's owner tenant (identity unconfirmed): no consent URL
    unless --app-id names it (entra-behaviour.md: "Never grant to it on name alone")."""
    raw = json.loads((EXAMPLES / "partial-scopes.json").read_text(encoding="utf-8"))
    sp = raw["recruitee_apps"]["data"][0]["service_principal"]
    sp["appOwnerOrganizationId"] = None
    snapshot = tmp_path / "unconfirmed.json"
    snapshot.write_text(json.dumps(raw), encoding="utf-8")

    refused = run_cli(["consent-url", "--snapshot", str(snapshot)], None, tmp_path, token=None)
    assert refused.code == 2, refused.stdout
    assert "client_id" not in refused.stdout
    assert "--app-id" in refused.stderr

    named = run_cli(
        ["consent-url", "--snapshot", str(snapshot), "--app-id", sp["appId"]],
        None,
        tmp_path,
        token=None,
    )
    assert named.code == 0, named.stderr
    assert f"client_id={sp['appId']}" in named.stdout
