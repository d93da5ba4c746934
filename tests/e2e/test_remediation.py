"""End-to-end remediation: explain, consent-url, fix (dry run and --apply) against the emulator.

``fix --apply`` must change the emulator's tenant exactly as planned, then re-audit and show
the verdicts turning to pass; nothing is written without --apply.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.e2e.cli_runner import run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _writes(emu: GraphEmulator) -> list[str]:
    return [
        f"{r.method} {r.target}"
        for r in emu.requests
        if r.method in {"POST", "PATCH"} and not r.target.endswith("$batch")
    ]


def test_fix_without_apply_writes_nothing(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    run = run_cli(["fix"], emu.url, tmp_path)
    assert run.code == 1
    assert "PATCH /v1.0/oauth2PermissionGrants/" in run.stdout
    assert "Mail.ReadWrite" in run.stdout
    assert "Nothing was changed" in run.stderr
    assert _writes(emu) == []


def test_fix_apply_adds_missing_scopes_and_reaudit_passes(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    # Step 1 (limit who can use Recruitee) is the admin's, done before the grant.
    run = run_cli(["fix", "--apply", "--yes", "--manual-steps-done", "1"], emu.url, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert "done: Grant admin consent (for everyone) to Recruitee for mailbox sync" in run.stdout
    assert "Mailbox sync: fail -> pass" in run.stdout
    # The plan's prediction, made offline before anything was sent, against the re-audit.
    assert "Predicted before sending: After step 2: Mailbox PASS" in run.stdout
    assert "The re-audit agrees." in run.stdout
    writes = _writes(emu)
    assert len(writes) == 1
    assert writes[0].startswith("PATCH /v1.0/oauth2PermissionGrants/")
    admin = [g for g in emu.tenant.grants if g["consentType"] == "AllPrincipals"]
    assert {"mail.readwrite", "mail.send"} <= {s.casefold() for s in admin[0]["scope"].split()}
    again = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    assert again.code == 0
    assert {f["status"] for f in again.report["features"]} == {"pass"}


def test_fix_apply_creates_admin_grant_and_assigns_user(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "assignment-required.json")
    user = "isaiah.langer@fabrikam.com"
    run = run_cli(["fix", "--user", user, "--apply", "--yes"], emu.url, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert "done: Assign isaiah.langer@fabrikam.com" in run.stdout
    check = run_cli(["check", "--user", user, "--format", "json"], emu.url, tmp_path)
    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in {
        f["id"] for f in check.report["findings"]
    }
    assert check.code == 0


def test_fix_apply_enables_disabled_app(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    emu = graph_emulator_factory(EXAMPLES / "disabled-app.json")
    run = run_cli(["fix", "--apply", "--yes"], emu.url, tmp_path)
    assert run.code == 0, run.stdout + run.stderr
    assert any(w.startswith("PATCH /v1.0/servicePrincipals/") for w in _writes(emu))
    assert all(sp.get("accountEnabled", True) for sp in emu.tenant.service_principals)


def test_fix_apply_reports_a_forbidden_write_with_the_role(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = Fault.error(
        r"/oauth2PermissionGrants/",
        status=403,
        method="PATCH",
        code="Authorization_RequestDenied",
        message="Insufficient privileges to complete the operation.",
    )
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json", faults=[fault])
    run = run_cli(["fix", "--apply", "--yes", "--manual-steps-done", "1"], emu.url, tmp_path)
    assert run.code == 3
    assert "FAILED" in run.stdout
    assert "Cloud Application Administrator or Application Administrator" in run.stdout
    assert "Privileged Role Administrator" not in run.stdout


def test_fix_apply_without_yes_refuses_when_not_interactive(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "partial-scopes.json")
    run = run_cli(["fix", "--apply"], emu.url, tmp_path)
    assert run.code == 2
    assert "--yes" in run.stderr
    assert _writes(emu) == []


def test_fix_on_a_snapshot_plans_but_cannot_apply(tmp_path: Path) -> None:
    snap = str(EXAMPLES / "disabled-app.json")
    plan = run_cli(["fix", "--snapshot", snap], None, tmp_path, token=None)
    assert "PATCH /v1.0/servicePrincipals/" in plan.stdout
    refused = run_cli(["fix", "--snapshot", snap, "--apply"], None, tmp_path, token=None)
    assert refused.code == 2


def test_explain_codes_and_findings(tmp_path: Path) -> None:
    for arg in ("AADSTS65001", "65001", "aadsts65001"):
        run = run_cli(["explain", arg], None, tmp_path, token=None)
        assert run.code == 0
        assert run.stdout.startswith("AADSTS65001 DelegationDoesNotExist")
    sif = run_cli(["explain", "70043"], None, tmp_path, token=None)
    assert "sign-in frequency" in sif.stdout.casefold()
    finding = run_cli(
        ["explain", "assignment_required_user_not_assigned"], None, tmp_path, token=None
    )
    assert "nested" in finding.stdout
    unknown = run_cli(["explain", "AADSTS1"], None, tmp_path, token=None)
    assert unknown.code == 2


def test_consent_url_has_exactly_the_feature_scopes(tmp_path: Path) -> None:
    run = run_cli(
        [
            "consent-url",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--feature",
            "rooms",
            "--app-id",
            "5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c845",
        ],
        None,
        tmp_path,
        token=None,
    )
    assert run.code == 0
    url = urlsplit(run.stdout.strip())
    assert url.path == "/contoso.onmicrosoft.com/v2.0/adminconsent"
    query = parse_qs(url.query)
    assert query["client_id"] == ["5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c845"]
    assert sorted(query["scope"][0].split()) == [
        "https://graph.microsoft.com/User.ReadBasic.All",
        "offline_access",
    ]


def test_consent_url_china_cloud_and_all_features(tmp_path: Path) -> None:
    run = run_cli(
        ["consent-url", "--cloud", "china", "--snapshot", str(EXAMPLES / "healthy.json")],
        None,
        tmp_path,
        token=None,
    )
    url = urlsplit(run.stdout.strip())
    assert url.netloc == "login.chinacloudapi.cn"
    scopes = parse_qs(url.query)["scope"][0].split()
    assert len(scopes) == 8
    assert "https://microsoftgraph.chinacloudapi.cn/Mail.Send" in scopes


def test_user_chain_names_the_first_broken_link(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "ca-block-excluded-admins.json")
    blocked = run_cli(
        ["check", "--user", "nestor.wilke@woodgrovebank.com", "--format", "json"], emu.url, tmp_path
    )
    chain = blocked.report["features"][0]["chain"]
    first_broken = next(link for link in chain if link["status"] != "pass")
    assert first_broken["name"] == "conditional_access"
    spared = run_cli(
        ["check", "--user", "miriam.graham@woodgrovebank.com", "--format", "json"],
        emu.url,
        tmp_path,
    )
    # Without --with-logs the sign-in log was not read: the Session link is not checked.
    statuses = {link["name"]: link["status"] for link in spared.report["features"][0]["chain"]}
    assert statuses.pop("session") == "not_checked"
    assert set(statuses.values()) == {"pass"}
    rows = spared.report["conditional_access"]
    assert any(r["applies_to_user"] is False for r in rows)


def test_with_logs_reports_revocations_and_sign_in_failures(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "revoked-grants.json")
    without = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    with_logs = run_cli(["check", "--with-logs", "--format", "json"], emu.url, tmp_path)
    ids_without = {f["id"] for f in without.report["findings"]}
    ids_with = {f["id"] for f in with_logs.report["findings"]}
    assert not {"GRANT_REVOKED", "SIGNIN_FAILURES"} & ids_without
    assert {"GRANT_REVOKED", "SIGNIN_FAILURES"} <= ids_with
    failures = next(f for f in with_logs.report["findings"] if f["id"] == "SIGNIN_FAILURES")
    assert {c["code"] for c in failures["evidence"]["codes"]} >= {"AADSTS65001"}


def test_sign_in_logs_without_licence_are_unavailable_not_a_crash(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "revoked-grants.json")
    emu.tenant.set_status("signIns", "not_licensed")
    run = run_cli(["check", "--with-logs", "--format", "json"], emu.url, tmp_path)
    unavailable = [f for f in run.report["findings"] if f["id"] == "DATA_UNAVAILABLE"]
    assert any(
        f["evidence"]["part"] == "sign_ins" and f["evidence"]["status"] == "not_licensed"
        for f in unavailable
    )


def test_consent_url_tells_the_plans_story(tmp_path: Path) -> None:
    """consent-url agrees with the fix plan: no URL for an application Microsoft disabled
    (the plan grants nothing to it); for the mail scopes, limit who can use Recruitee first;
    a failed redirect points at `consent-audit fix`, not the admin center's 'Grant admin
    consent' (which may revoke permissions already granted tenant-wide)."""
    disabled = run_cli(
        ["consent-url", "--snapshot", str(EXAMPLES / "microsoft-disabled.json")],
        None,
        tmp_path,
        token=None,
    )
    assert disabled.code == 2
    assert "client_id" not in disabled.stdout
    assert "APP_DISABLED_BY_MICROSOFT" in disabled.stderr

    mail = run_cli(
        ["consent-url", "--snapshot", str(EXAMPLES / "partial-scopes.json")],
        None,
        tmp_path,
        token=None,
    )
    assert mail.code == 0, mail.stderr
    assert "first limit who can use Recruitee" in mail.stderr
    assert "use `consent-audit fix` instead" in mail.stderr
    assert "Enterprise applications >" not in mail.stderr

    rooms = run_cli(
        ["consent-url", "--snapshot", str(EXAMPLES / "partial-scopes.json"), "-f", "rooms"],
        None,
        tmp_path,
        token=None,
    )
    assert rooms.code == 0, rooms.stderr
    assert "limit who can use" not in rooms.stderr
