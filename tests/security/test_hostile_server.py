"""A hostile or broken Graph endpoint, end to end: the installed CLI against the emulator with
faults that a captive proxy, a compromised endpoint or a failing Graph produce.

Every case ends in a documented outcome -- the affected part unknown (named in
DATA_UNAVAILABLE / CA_UNREADABLE, nothing planned from it), or exit 3 with one clear message
when nothing could be read -- within a bounded time, and with no token in any output. The
wall time of each case is printed with ``pytest -s`` (docs/security.md quotes them).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_runner import TOKEN, Run, run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
HEALTHY = EXAMPLES / "healthy.json"
CA_BLOCK = EXAMPLES / "ca-block-excluded-admins.json"
Factory = Callable[..., GraphEmulator]
FAST = {"CONSENT_AUDIT_HTTP_TIMEOUT": "1"}
HTML = "<html><head><title>Sign in to the proxy</title></head><body>login</body></html>"
JWT = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9."
    "eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20iLCJzdWIiOiJhZG1pbiJ9."
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi10aGF0LW11c3Qtc3RheS1zZWNyZXQ"
)


def _check(emu: GraphEmulator, home: Path, *extra: str, **kwargs: Any) -> tuple[Run, float]:
    started = time.monotonic()
    env = {**FAST, **kwargs.pop("env", {})}
    run = run_cli(
        ["check", "--format", "json", *extra], emu.url, home, extra_env=env, timeout=90, **kwargs
    )
    elapsed = time.monotonic() - started
    print(f"\n[hostile-server] exit {run.code} in {elapsed:.2f} s")
    return run, elapsed


def _ids(report: dict[str, Any]) -> set[str]:
    return {f["id"] for f in report["findings"]}


def _unavailable_parts(report: dict[str, Any]) -> set[str]:
    return {
        str(f["evidence"].get("part"))
        for f in report["findings"]
        if f["id"] in ("DATA_UNAVAILABLE", "CA_UNREADABLE")
    }


def _graph_writes(report: dict[str, Any]) -> list[str]:
    return [f"{s['method']} {s['path']}" for s in report["plan"] if s["kind"] == "graph"]


# -- unusable answers are unknown (issue #19 item 5) -----------------------------------------


@pytest.mark.parametrize("body", [HTML, {}, [], {"value": "not a list"}], ids=repr)
def test_an_unusable_ca_answer_inside_batch_is_unknown_not_pass(
    body: Any, graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """A blocking CA policy answered as HTML or ``{}`` inside ``$batch`` was a PASS (exit 0)."""
    fault = Fault.body_200(r"/identity/conditionalAccess/policies", body, count=None, scope="batch")
    emu = graph_emulator_factory(CA_BLOCK, faults=[fault])
    run, _ = _check(emu, tmp_path)
    report = run.report
    assert fault.fired >= 1
    assert "CA_UNREADABLE" in _ids(report)
    assert {f["status"] for f in report["features"]} == {"unknown"}
    assert "pass" not in {f["status"] for f in report["features"]}
    assert run.code == 0  # unknown is a warning under the default --fail-on error
    assert _check(emu, tmp_path / "strict", "--fail-on", "unknown")[0].code == 1, (
        "--fail-on unknown fails the run"
    )


def test_an_unreadable_grants_answer_is_unknown_and_plans_no_duplicate_grant(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Grants answered ``{}``: was a FAIL (SCOPE_MISSING) and a plan to POST a second admin
    grant next to the one the tenant has."""
    fault = Fault.body_200(r"/oauth2PermissionGrants", {}, count=None, scope="batch")
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    run, _ = _check(emu, tmp_path, "--user", "megan.bowen@contoso.com")
    report = run.report
    assert fault.fired >= 1
    assert "SCOPE_MISSING" not in _ids(report)
    assert "DATA_UNAVAILABLE" in _ids(report)
    assert "oauth2_permission_grants" in _unavailable_parts(report)
    assert _graph_writes(report) == []
    assert "fail" not in {f["status"] for f in report["features"]}
    assert run.code == 0


def test_an_unreadable_authorization_policy_is_not_user_consent_disabled(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = Fault.body_200(r"/policies/authorizationPolicy", {}, count=None, scope="batch")
    emu = graph_emulator_factory(EXAMPLES / "never-consented.json", faults=[fault])
    run, _ = _check(emu, tmp_path)
    report = run.report
    assert fault.fired >= 1
    assert "USER_CONSENT_DISABLED" not in _ids(report)
    assert "authorization_policy" in _unavailable_parts(report)


def test_an_empty_page_at_top_level_is_unknown(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Pages after the first are plain GETs: the second page of a blocking tenant's CA
    policies answered ``{}`` must not end the list (a PASS on half the policies)."""
    fault = Fault.body_200(r"/identity/conditionalAccess/policies", {}, count=None, scope="top")
    emu = graph_emulator_factory(CA_BLOCK, faults=[fault], page_size=1)
    run, _ = _check(emu, tmp_path)
    report = run.report
    assert fault.fired >= 1
    assert "CA_UNREADABLE" in _ids(report)
    assert "pass" not in {f["status"] for f in report["features"]}


@pytest.mark.parametrize("body", [{}, HTML], ids=["empty", "html"])
def test_an_unusable_batch_envelope_everywhere_is_exit_3(
    body: Any, graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = Fault.body_200(r"/\$batch", body, count=None, scope="top")
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    run, elapsed = _check(emu, tmp_path)
    assert run.code == 3, run.stderr
    assert run.stdout == ""
    assert "cannot reach Microsoft Graph" in run.stderr
    assert elapsed < 30


# -- nothing read is exit 3 (item 7) ---------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429, 431, 403])
def test_graph_failing_every_request_is_exit_3(
    status: int, graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    fault = Fault(r"/", "status", count=None, status=status, retry_after="0.01", scope="batch")
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    run, elapsed = _check(emu, tmp_path)
    assert run.code == 3, run.stdout[:500]
    assert run.stdout == ""
    assert run.stderr.startswith("error: nothing could be read from Microsoft Graph")
    assert f"HTTP {status}" in run.stderr
    assert "fix: " in run.stderr
    if status == 403:
        assert "Global Reader" in run.stderr
    assert elapsed < 60


def test_a_partial_read_still_reports(graph_emulator_factory: Factory, tmp_path: Path) -> None:
    """One part failing is not "nothing read": a report, that part unknown, exit 0/1 by
    --fail-on (README, exit codes)."""
    fault = Fault(
        r"/policies/adminConsentRequestPolicy", "status", count=None, status=503, retry_after="0"
    )
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    run, _ = _check(emu, tmp_path)
    assert run.code == 0
    assert "admin_consent_request_policy" in _unavailable_parts(run.report)


# -- bounded in time and size (item 6) -------------------------------------------------------


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_slow_drip_is_cut_off(
    where: str, graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """A byte every half second never trips the 1 s per-read timeout; the whole response
    gets 2 read timeouts (2 s here), then the connection is closed, without retrying, and
    the endpoint is not asked again in that run (the beta batch is never sent)."""
    fault = Fault.drip(r"/\$batch", where, seconds=0.5, count=None)
    emu = graph_emulator_factory(HEALTHY, faults=[fault], max_sleep_s=1)
    run, elapsed = _check(emu, tmp_path)
    assert run.code == 3
    assert run.stderr.startswith("error: no usable answer from Microsoft Graph")
    assert "did not arrive in full within 2 s" in run.stderr
    assert elapsed < 20
    assert emu.hostile_bytes_sent < 20  # the first batch cut after about 4 bytes
    assert [r.target for r in emu.requests if not r.batch_inner] == ["/v1.0/$batch"]


@pytest.mark.parametrize("declared", [True, False], ids=["content_length", "until_close"])
def test_an_oversized_answer_is_not_read(
    declared: bool, graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    size = 200 * 1024 * 1024
    fault = Fault.huge(r"/\$batch", size, count=None, declared=declared)
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    run, elapsed = _check(emu, tmp_path)
    assert run.code == 3
    assert run.stderr.startswith("error: no usable answer from Microsoft Graph")
    assert "larger than 32 MiB" in run.stderr
    assert emu.hostile_bytes_sent < 100 * 1024 * 1024  # the client hung up early
    assert elapsed < 30


def test_the_run_deadline_stops_a_throttling_graph(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    storm = Fault.throttle(r"/identity/conditionalAccess", count=None, retry_after="2")
    emu = graph_emulator_factory(HEALTHY, faults=[storm])
    run, elapsed = _check(emu, tmp_path, "--deadline", "1.5")
    assert "CA_UNREADABLE" in _ids(run.report)
    assert "DeadlineExceeded" in run.stdout
    assert elapsed < 15  # without the deadline: 8 attempts 2 s apart


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan", "1e9"])
def test_a_bad_deadline_is_exit_2(value: str, tmp_path: Path) -> None:
    run = run_cli(["check", "--deadline", value], "http://127.0.0.1:9", tmp_path)
    assert run.code == 2
    assert "Traceback" not in run.stderr


# -- secrets in server text (item 8) ---------------------------------------------------------


@pytest.mark.parametrize("token", [TOKEN, JWT], ids=["plain", "jwt"])
def test_a_token_echoed_by_the_server_reaches_no_output(
    token: str, graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    echo = f"Access denied for Authorization: Bearer {token} (token {token}; id_token {JWT})"
    fault = Fault.error(
        r"/oauth2PermissionGrants", 403, "Authorization_RequestDenied", echo, count=None
    )
    emu = graph_emulator_factory(HEALTHY, faults=[fault])
    emu.accept_token(token)
    outputs = [tmp_path / f"r.{ext}" for ext in ("json", "md", "xml", "html", "txt")]
    args = [arg for path in outputs for arg in ("-o", str(path))]
    run, _ = _check(emu, tmp_path, "-v", *args, token=token)
    snap = tmp_path / "snap.json"
    snapshot = run_cli(["snapshot", "-o", str(snap)], emu.url, tmp_path, token=token)
    assert fault.fired >= 2
    assert run.code == 0
    assert snapshot.code == 0
    texts = {"stdout": run.stdout, "stderr": run.stderr, "snapshot": snap.read_text()}
    texts |= {path.name: path.read_text() for path in outputs}
    assert "Authorization_RequestDenied" in texts["r.json"]  # the error itself is kept
    for name, text in texts.items():
        assert token not in text, name
        assert JWT[:20] not in text, name
        assert "Bearer ey" not in text, name
        assert "Bearer test" not in text, name
    assert "[redacted]" in texts["r.json"]
    json.loads(texts["snapshot"])
