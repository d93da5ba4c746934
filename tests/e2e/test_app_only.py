"""An app-only (CI) run against the local Graph emulator: what it says when Graph refuses.

The installed CLI runs with an app's access token (claims with application ``roles`` and no
``scp``, as Entra issues to a client-credentials sign-in) in ``CONSENT_AUDIT_ACCESS_TOKEN``.
An app has no directory role to be given: a refusal names the application permissions of
the plan (docs/permissions.md, "App-only sign-in"), and a refused read stays unread.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

from consent_audit.live.plan import app_only_permissions
from consent_audit.snapshot import dump_snapshot, load_snapshot, parse_snapshot, taken_for
from tests.e2e.cli_runner import run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

Factory = Callable[..., GraphEmulator]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
BLOCKED = "nestor.wilke@woodgrovebank.com"
DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def _token(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


APP_TOKEN = _token(
    {
        "tid": "11111111-1111-4111-8111-111111111111",
        "appid": "22222222-2222-4222-8222-222222222222",
        "idtyp": "app",
        "roles": ["Application.Read.All"],
    }
)
PERSON_TOKEN = _token(
    {
        "tid": "11111111-1111-4111-8111-111111111111",
        "upn": "auditor@contoso.com",
        "scp": "Application.Read.All Directory.Read.All",
    }
)


def test_an_app_refused_everything_is_told_which_application_permissions_to_grant(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    refuse = Fault.error(r"^/", 403, *DENIED, count=None, scope="batch")
    emu = graph_emulator_factory(EXAMPLES / "healthy.json", token=APP_TOKEN, faults=[refuse])
    run = run_cli(["check"], emu.url, tmp_path, token=APP_TOKEN)
    assert refuse.fired
    assert run.code == 3, run.stderr
    assert app_only_permissions() in run.stderr
    assert "Global Reader" not in run.stderr

    person = graph_emulator_factory(EXAMPLES / "healthy.json", token=PERSON_TOKEN, faults=[refuse])
    told = run_cli(["check"], person.url, tmp_path, token=PERSON_TOKEN)
    assert told.code == 3
    assert "Global Reader role" in told.stderr


def test_an_app_refused_background_sign_ins_is_named_with_the_application_permissions(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Beta sign-ins need AuditLog.Read.All and Directory.Read.All as an app (beta
    signin-list.md): the refusal says so, and the sign-in evidence is not a pass."""
    refuse = Fault.error(r"^/beta/auditLogs/signIns", 403, *DENIED, count=None)
    emu = graph_emulator_factory(
        EXAMPLES / "signin-frequency.json", token=APP_TOKEN, faults=[refuse]
    )
    run = run_cli(["check", "--with-logs", "--format", "json"], emu.url, tmp_path, token=APP_TOKEN)
    assert refuse.fired
    assert run.code in (0, 1), run.stderr
    [partial] = [
        f
        for f in run.report["findings"]
        if f["id"] == "DATA_PARTIAL" and "background" in f["detail"]
    ]
    assert "needs AuditLog.Read.All + Directory.Read.All" in partial["detail"]
    for feature in run.report["features"]:
        session = next(link for link in feature["chain"] if link["name"] == "session")
        assert session["status"] == "not_checked", feature["name"]


def test_an_app_refused_the_what_if_is_named_what_to_grant_and_falls_back(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """conditionalaccessroot-evaluate: Application Policy.Read.ConditionalAccess, with
    Policy.Read.All (on the app-only list) among those that suffice. The static reading
    decides, and the report says why, naming what the app lacks."""
    emu = graph_emulator_factory(EXAMPLES / "ca-block-excluded-admins.json", token=APP_TOKEN)
    emu.tenant.set_status("conditionalAccessWhatIf", "forbidden")
    run = run_cli(
        ["check", "--user", BLOCKED, "--format", "json"], emu.url, tmp_path, token=APP_TOKEN
    )
    assert len(emu.tenant.what_if_requests) == 3
    source = run.report["conditional_access_source"]
    assert source["decided_by"] == "static_rules"
    assert source["what_if"] == "refused"
    assert "403: the auditor needs Policy.Read.All" in source["detail"]


def _advice(report: dict[str, object]) -> str:
    """Every piece of advice the report gives: finding remediations, plan steps, links."""
    return json.dumps(
        {k: report[k] for k in ("findings", "plan", "features") if k in report}, sort_keys=True
    )


def test_advice_for_unread_parts_names_the_application_permission_after_an_app_sign_in(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """An app has no directory role: after an app-only sign-in the fix of a refused read is
    the application permission (docs/permissions.md, App-only sign-in), in the findings, the
    plan and the links alike; the snapshot records the kind of sign-in (not who), and the
    same refusals after a person's sign-in still name Global Reader."""
    refuse = Fault.error(r"^/beta/auditLogs/signIns", 403, *DENIED, count=None)
    said = {}
    for kind, token in (("app_only", APP_TOKEN), ("delegated", PERSON_TOKEN)):
        emu = graph_emulator_factory(
            EXAMPLES / "signin-frequency.json", token=token, faults=[refuse]
        )
        emu.tenant.set_status("conditionalAccessPolicies", "forbidden")
        emu.tenant.set_status("adminConsentRequestPolicy", "forbidden")
        out = tmp_path / f"{kind}.json"
        snap = run_cli(["snapshot", "--with-logs", "-o", str(out)], emu.url, tmp_path, token=token)
        assert snap.code == 0, snap.stderr
        raw = json.loads(out.read_text())
        assert raw["sign_in"] == kind
        assert raw["schema_version"] == 3
        run = run_cli(["check", "--snapshot", str(out), "--format", "json"], None, tmp_path)
        assert run.code in (0, 1), run.stderr
        said[kind] = _advice(run.report)
        ids = {f["id"] for f in run.report["findings"]}
        assert {"CA_UNREADABLE", "DATA_UNAVAILABLE", "DATA_PARTIAL"} <= ids, ids
    app, person = said["app_only"], said["delegated"]
    for wrong in ("Global Reader", "Reports Reader", "on Graph beta"):
        assert wrong not in app, wrong
    assert "application permission Policy.Read.All" in app
    assert "Grant the app the application permission it lacks to read Conditional Access" in app
    assert "application permissions AuditLog.Read.All + Directory.Read.All" in app
    assert "Audit again as Global Reader to read Conditional Access" in person
    assert "Check with AuditLog.Read.All on Graph beta" in person
    assert "grant the signing-in app" not in person


def test_a_snapshot_without_the_sign_in_kind_is_written_and_read_as_before() -> None:
    """Older snapshots (version 1 and 2) carry no ``sign_in``: read as before (advice as for
    a person's sign-in), and written back without the key, so an older consent-audit, which
    refuses unknown keys, still reads them; one that has it is version 3, also once it
    records who reported the problem."""
    old = load_snapshot(EXAMPLES / "healthy.json")
    assert (old.schema_version, old.sign_in, old.app_only) == (1, None, False)
    written = json.loads(dump_snapshot(old))
    assert "sign_in" not in written
    assert written["schema_version"] == 1
    app = old.model_copy(update={"sign_in": "app_only", "schema_version": 3})
    again = parse_snapshot(dump_snapshot(app), "app.json")
    assert again.app_only
    assert taken_for(again, "adele.vance@contoso.com").schema_version == 3
    assert taken_for(old, "adele.vance@contoso.com").schema_version == 2
