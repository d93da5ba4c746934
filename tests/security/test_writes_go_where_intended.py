"""Tenant ids cannot steer a request: end to end against the emulator, asserting the paths it
received. A grant id ``x/../../servicePrincipals/<id>?$select=id#`` made ``fix --apply`` send
its PATCH to the service principal and report "done" (issue #19 item 3); a service
principal id with ``/../`` in it became the path of wave 2's reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_runner import run_cli
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _tenant(tmp_path: Path, edit: Callable[[dict], None]) -> Path:  # type: ignore[type-arg]
    data = json.loads((EXAMPLES / "partial-scopes.json").read_text())
    edit(data)
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(data))
    return path


def _writes(emu: GraphEmulator) -> list[str]:
    return [
        f"{r.method} {r.target}"
        for r in emu.requests
        if r.method in {"POST", "PATCH"} and not r.batch_inner and not r.target.endswith("$batch")
    ]


def test_a_grant_id_with_a_path_in_it_sends_no_write(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    def steer(data: dict) -> None:  # type: ignore[type-arg]
        app = data["recruitee_apps"]["data"][0]
        sp = app["service_principal"]["id"]
        grant = app["oauth2_permission_grants"]["data"][0]
        grant["id"] = f"x/../../servicePrincipals/{sp}?$select=id#"

    emu = graph_emulator_factory(_tenant(tmp_path, steer))
    run = run_cli(["fix", "--apply", "--yes"], emu.url, tmp_path)
    writes = _writes(emu)
    assert not any("/servicePrincipals/" in w for w in writes), writes
    assert all(w.startswith(("PATCH /v1.0/oauth2PermissionGrants/", "POST /v1.0/")) for w in writes)
    assert "/../" not in "".join(writes)
    assert "done: " not in run.stdout
    assert run.code in (0, 1, 3), run.stderr


def test_a_service_principal_id_with_a_path_in_it_steers_no_read(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    hostile = "x/../../users?$select=id#"

    def add_look_alike(data: dict) -> None:  # type: ignore[type-arg]
        app = json.loads(json.dumps(data["recruitee_apps"]["data"][0]))
        app["service_principal"]["id"] = hostile
        app["oauth2_permission_grants"]["data"] = []
        data["recruitee_apps"]["data"].append(app)

    emu = graph_emulator_factory(_tenant(tmp_path, add_look_alike))
    run = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    targets = [r.target for r in emu.requests]
    assert not any("/../" in t or t.startswith("/v1.0/users") for t in targets), targets
    assert run.code in (0, 1), run.stderr
    gaps = json.dumps(run.report["findings"])
    assert "a service principal whose id is not a GUID" in gaps
