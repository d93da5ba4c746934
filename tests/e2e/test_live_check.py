"""End-to-end: the installed CLI audits the emulator as it would a real tenant.

Every example tenant is served by the emulator; the live report must agree with the offline
audit of the same snapshot, a snapshot taken live must replay to the same findings, and
faults must give a correct report or one that marks the affected part unavailable — never a
traceback, always the documented exit code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import load_snapshot
from tests.e2e.cli_runner import comparable, run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]


def _checks() -> list[dict[str, Any]]:
    raw = tomllib.loads((EXAMPLES / "expectations.toml").read_text(encoding="utf-8"))
    return [c for s in raw["scenario"].values() for c in s["check"]]


def _id(check: dict[str, Any]) -> str:
    return Path(check["snapshot"]).stem + (f"--{check['user']}" if check.get("user") else "")


def _offline(path: Path, user: str | None) -> dict[str, Any]:
    report = evaluate(load_snapshot(path), load_manifest(), user=user)
    data: dict[str, Any] = json.loads(report.model_dump_json())
    return data


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_live_audit_agrees_with_offline_audit(
    check: dict[str, Any], graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    path = (EXAMPLES / check["snapshot"]).resolve()
    emu = graph_emulator_factory(path, page_size=2)
    args = ["check", "--format", "json"] + (["--user", check["user"]] if check.get("user") else [])
    snap = load_snapshot(path)
    if "not_collected" not in {snap.sign_ins.status.value, snap.directory_audits.status.value}:
        args.append("--with-logs")
    run = run_cli(args, emu.url, tmp_path)
    live = run.report
    offline = _offline(path, check.get("user"))
    assert comparable(live) == comparable(offline)
    assert run.code == check["exit_code"]
    assert live["source"]["kind"] == "live"
    assert not (tmp_path / "cache").exists(), "a bring-your-own token must not touch the cache"


def test_snapshot_taken_live_replays_to_the_same_findings(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    path = EXAMPLES / "assignment-required.json"
    user = "isaiah.langer@fabrikam.com"
    emu = graph_emulator_factory(path)
    live = run_cli(["check", "--user", user, "--format", "json"], emu.url, tmp_path)
    out = tmp_path / "snap.json"
    taken = run_cli(["snapshot", "--user", user, "-o", str(out)], emu.url, tmp_path)
    assert taken.code == 0
    assert out.stat().st_mode & 0o777 == 0o600
    replay = run_cli(
        ["check", "--snapshot", str(out), "--user", user, "--format", "json"],
        None,
        tmp_path,
        token=None,
    )
    assert comparable(replay.report) == comparable(live.report)
    assert replay.code == live.code == 1


def test_redacted_snapshot_keeps_findings_and_drops_names(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    path = EXAMPLES / "ca-block-excluded-admins.json"
    emu = graph_emulator_factory(path)
    out = tmp_path / "redacted.json"
    assert run_cli(["snapshot", "--redact", "-o", str(out)], emu.url, tmp_path).code == 0
    text = out.read_text()
    original = load_snapshot(path)
    for lookup in original.users:
        assert lookup.query not in text
        if lookup.user.data:
            assert lookup.user.data.id not in text
            assert lookup.user.data.user_principal_name not in text
    replay = run_cli(
        ["check", "--snapshot", str(out), "--format", "json"], None, tmp_path, token=None
    )
    live = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    assert comparable(replay.report)["findings"] == comparable(live.report)["findings"]
    assert replay.report["source"]["redacted"] is True


def test_throttling_and_server_errors_are_retried(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    path = EXAMPLES / "healthy.json"
    faults = [
        Fault.throttle(r"/policies/authorizationPolicy", count=3, retry_after="0.01"),
        Fault.throttle(r"/identity/conditionalAccess", count=2, retry_after=None),
        Fault.server_error(r"/servicePrincipals\?", status=503, count=2),
    ]
    emu = graph_emulator_factory(path, faults=faults)
    run = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    assert run.code == 0
    assert comparable(run.report) == comparable(_offline(path, None))
    assert all(f.fired for f in faults)


def test_forbidden_part_is_reported_unknown_not_crashed(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    path = EXAMPLES / "healthy.json"
    fault = Fault.error(
        r"/identity/conditionalAccess/policies",
        status=403,
        code="Authorization_RequestDenied",
        message="Insufficient privileges to complete the operation.",
        count=None,
    )
    emu = graph_emulator_factory(path, faults=[fault])
    run = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    report = run.report
    ids = {f["id"] for f in report["findings"]}
    assert "CA_UNREADABLE" in ids
    assert {f["status"] for f in report["features"]} == {"unknown"}
    assert run.code == 0  # a warning; --fail-on warning would make it 1
    assert run_cli(["check", "--fail-on", "warning", "-q"], emu.url, tmp_path).code == 1


def test_wrong_token_is_exit_3_with_a_clear_message(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "healthy.json")
    run = run_cli(["check"], emu.url, tmp_path, token="not-the-token")
    assert run.code == 3
    assert run.stderr.startswith("error: ")
    assert "not-the-token" not in run.stderr


def test_unreachable_graph_is_exit_3(tmp_path: Path) -> None:
    run = run_cli(["check"], "http://127.0.0.1:9", tmp_path)
    assert run.code == 3
    assert "error:" in run.stderr


def test_ci_without_credentials_refuses_at_once(tmp_path: Path) -> None:
    run = run_cli(["check"], None, tmp_path, token=None, timeout=30)
    assert run.code == 3
    assert "AZURE_CLIENT_SECRET" in run.stderr or "CONSENT_AUDIT_ACCESS_TOKEN" in run.stderr


def test_foreign_next_link_is_refused_and_token_not_sent(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = Fault.foreign_next_link(r"/identity/conditionalAccess/policies")
    emu = graph_emulator_factory(EXAMPLES / "healthy.json", faults=[fault])
    run = run_cli(["check", "--format", "json"], emu.url, tmp_path)
    assert fault.fired
    assert not any(r.had_auth for r in emu.foreign_requests)
    assert "CA_UNREADABLE" in {f["id"] for f in run.report["findings"]}


def test_verbose_log_never_contains_the_token(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "healthy.json")
    run = run_cli(["check", "-v", "--format", "json"], emu.url, tmp_path)
    assert "/v1.0/$batch" in run.stderr or "/v1.0/" in run.stderr
    assert "test-token" not in run.stderr + run.stdout
