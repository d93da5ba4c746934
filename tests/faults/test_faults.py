"""Fault injection end to end: the installed CLI against a misbehaving Graph emulator.

Every fault ends in one of two documented outcomes -- a correct report (the fault was
retried away) or a report marking the affected part unavailable (CA_UNREADABLE /
DATA_UNAVAILABLE, verdict unknown) -- or, when nothing at all could be read, exit 3 with one
clear message. Every subprocess has a timeout and ``run_cli`` fails on any traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import load_snapshot
from tests.e2e.cli_runner import Run, comparable, run_cli
from tests.emulator.faults import Fault, FaultKind
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
HEALTHY = EXAMPLES / "healthy.json"
Factory = Callable[..., GraphEmulator]
FAST = {"CONSENT_AUDIT_HTTP_TIMEOUT": "1"}
"""A stalled answer fails in 1 s instead of 60 s."""


def _offline(path: Path = HEALTHY, user: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        evaluate(load_snapshot(path), load_manifest(), user=user).model_dump_json()
    )
    return data


def _check(emu: GraphEmulator, home: Path, *extra: str, env: dict[str, str] | None = None) -> Run:
    return run_cli(
        ["check", "--format", "json", *extra],
        emu.url,
        home,
        extra_env={**FAST, **(env or {})},
        timeout=45,
    )


def _assert_correct(run: Run) -> None:
    assert run.code == 0, run.stderr
    assert comparable(run.report) == comparable(_offline())


def _assert_unavailable(run: Run, finding: str) -> dict[str, Any]:
    report = run.report
    assert finding in {f["id"] for f in report["findings"]}
    assert {f["status"] for f in report["features"]} == {"unknown"}
    assert run.code == 0  # unavailable data is a warning; --fail-on warning makes it 1
    return report


def _one_error_line(run: Run) -> None:
    assert run.code == 3
    assert run.stderr.startswith("error: ")
    assert run.stdout == ""


# -- throttling -----------------------------------------------------------------------------


def test_429_storm_with_retry_after_is_ridden_out(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    faults = [
        Fault.throttle(path, count=5, retry_after="0.05")
        for path in (
            r"/policies/",
            r"/identity/conditionalAccess",
            r"/servicePrincipals",
            r"/organization",
        )
    ]
    emu = graph_emulator_factory(HEALTHY, faults=faults)
    run = _check(emu, tmp_path)
    _assert_correct(run)
    assert all(f.fired == 5 for f in faults)


def test_429_storm_without_retry_after_backs_off(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    outer = Fault.throttle(r"/\$batch", count=1, retry_after=None, scope="top")
    inner = Fault.throttle(r"/policies/authorizationPolicy", count=2, retry_after=None)
    emu = graph_emulator_factory(HEALTHY, faults=[outer, inner])
    run = _check(emu, tmp_path)
    _assert_correct(run)
    assert inner.fired == 2
    assert outer.fired == 1


def test_endless_429_marks_only_that_part_unavailable(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    storm = Fault.throttle(r"/identity/conditionalAccess/policies", count=None, retry_after="0.01")
    emu = graph_emulator_factory(HEALTHY, faults=[storm])
    run = _check(emu, tmp_path)
    _assert_unavailable(run, "CA_UNREADABLE")
    assert storm.fired == 8  # max attempts, then give up
    assert _check(emu, tmp_path, "--fail-on", "warning").code == 1


# -- server errors --------------------------------------------------------------------------


def test_5xx_bursts_are_retried(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    faults = [
        Fault.server_error(r"/\$batch", status=502, count=1, scope="top"),
        Fault.server_error(r"/servicePrincipals\?", status=500, count=1),
        Fault.server_error(r"/policies/permissionGrantPolicies", status=502, count=1),
        Fault.server_error(r"/organization", status=503, count=2),
        Fault.server_error(r"/oauth2PermissionGrants", status=504, count=2),
    ]
    emu = graph_emulator_factory(HEALTHY, faults=faults)
    _assert_correct(_check(emu, tmp_path))
    assert all(f.exhausted for f in faults)


def test_persistent_5xx_on_grants_is_data_unavailable(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    # Graph often sends Retry-After with a 503; it keeps this test from backing off for 45 s.
    fault = Fault(
        r"/oauth2PermissionGrants", FaultKind.STATUS, count=None, status=503, retry_after="0.01"
    )
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    run = _check(emu, tmp_path)
    report = _assert_unavailable(run, "DATA_UNAVAILABLE")
    assert report["summary"]["status"] == "unknown"
    assert "RetriesExhausted" in run.stdout


# -- transport ------------------------------------------------------------------------------


def test_read_timeout_is_retried(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    stall = Fault.timeout(r"/\$batch", seconds=3, count=1, scope="top")
    emu = graph_emulator_factory(HEALTHY, faults=[stall])
    _assert_correct(_check(emu, tmp_path))
    assert stall.fired == 1


def test_graph_that_never_answers_is_exit_3(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    stall = Fault.timeout(r"/\$batch", seconds=3, count=None, scope="top")
    emu = graph_emulator_factory(HEALTHY, faults=[stall], max_sleep_s=3)
    run = _check(emu, tmp_path, env={"CONSENT_AUDIT_HTTP_TIMEOUT": "0.2"})
    _one_error_line(run)
    assert "cannot reach Microsoft Graph" in run.stderr
    assert "Timeout" in run.stderr


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "1e9"])
def test_bad_http_timeout_is_exit_2(value: str, tmp_path: Path) -> None:
    run = run_cli(
        ["check"], "http://127.0.0.1:9", tmp_path, extra_env={"CONSENT_AUDIT_HTTP_TIMEOUT": value}
    )
    assert run.code == 2
    assert run.stderr.startswith("error: CONSENT_AUDIT_HTTP_TIMEOUT=")


@pytest.mark.parametrize("value", ["later", "-0.5", "inf", "61"])
def test_bad_retry_backoff_is_exit_2(value: str, tmp_path: Path) -> None:
    run = run_cli(
        ["check"], "http://127.0.0.1:9", tmp_path, extra_env={"CONSENT_AUDIT_RETRY_BACKOFF": value}
    )
    assert run.code == 2
    assert run.stderr.startswith("error: CONSENT_AUDIT_RETRY_BACKOFF=")
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    "make",
    [Fault.reset, Fault.truncated, Fault.short_body, Fault.non_json],
    ids=["reset", "truncated", "short_body", "non_json"],
)
def test_broken_batch_response_is_retried(
    make: Callable[..., Fault], graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = make(r"/\$batch", count=2)
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    _assert_correct(_check(emu, tmp_path))
    assert fault.fired == 2


@pytest.mark.parametrize("make", [Fault.reset, Fault.non_json], ids=["always_reset", "always_html"])
def test_graph_that_only_breaks_is_exit_3(
    make: Callable[..., Fault], graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(HEALTHY, faults=[make(r"/\$batch", count=None)])
    run = _check(emu, tmp_path)
    _one_error_line(run)
    assert "cannot reach Microsoft Graph" in run.stderr


def test_reset_in_wave_two_marks_grants_unavailable(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Wave 1's v1.0 batch answers; every later batch (wave 1's beta one, all of wave 2) is
    reset: grants and assignments unknown, the apps still reported."""
    fault = Fault.reset(r"/\$batch", count=None, skip=1)
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    report = _assert_unavailable(_check(emu, tmp_path), "DATA_UNAVAILABLE")
    assert report["apps"], "the apps from wave 1 are still reported"


# -- paging ---------------------------------------------------------------------------------


def test_next_link_loop_is_detected(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    loop = Fault.repeat_next_link(r"/identity/conditionalAccess/policies", count=None)
    emu = graph_emulator_factory(HEALTHY, faults=[loop])
    run = _check(emu, tmp_path)
    _assert_unavailable(run, "CA_UNREADABLE")
    assert loop.fired == 2  # the first page and its repeat; never a third request
    assert "nextLink" in run.stdout


def test_next_link_to_foreign_host_is_refused_without_token(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = Fault.foreign_next_link(r"/oauth2PermissionGrants", count=None)
    emu = graph_emulator_factory(HEALTHY, faults=[fault], page_size=1)
    run = _check(emu, tmp_path)
    _assert_unavailable(run, "DATA_UNAVAILABLE")
    assert fault.fired
    assert emu.foreign_requests == []  # not followed at all, so no token went there
    assert "not followed" in run.stdout


# -- tokens ---------------------------------------------------------------------------------


def test_bring_your_own_token_expiring_mid_run_is_exit_3(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(HEALTHY)
    emu.expire_token_after(1)  # wave 1 answers, wave 2 gets 401
    run = _check(emu, tmp_path)
    _one_error_line(run)
    assert "CONSENT_AUDIT_ACCESS_TOKEN" in run.stderr
    assert "test-token" not in run.stderr


def test_user_check_under_mixed_faults(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    path = EXAMPLES / "assignment-required.json"
    user = "isaiah.langer@fabrikam.com"
    faults = [
        Fault.throttle(r"/users/", count=2, retry_after="0.01"),
        Fault.server_error(r"/oauth2PermissionGrants\?", status=503, count=2),
        Fault.reset(r"/\$batch", count=1, skip=1),
    ]
    emu = graph_emulator_factory(path, faults=faults, page_size=1)
    run = _check(emu, tmp_path, "--user", user)
    assert comparable(run.report) == comparable(_offline(path, user))
    assert run.code == 1
