"""``fix --apply`` within ``--deadline``: the reads, the writes and the re-audit share one.

The installed CLI against the Graph emulator with a short deadline. When it passes, no write
starts and no retry waits; the run says which steps were made and which were not, re-audits
what it still can, and exits 3 (an incomplete run, like a failed write). A write already sent
is awaited (its outcome is known); one sent without a complete answer says its outcome is
unknown instead of "FAILED" (Graph may have made it).
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.cli_runner import TOKEN, Run, cli_command, run_cli
from tests.emulator.faults import Fault
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]
USER = "isaiah.langer@fabrikam.com"
RECRUITEE_SP = json.loads((EXAMPLES / "assignment-required.json").read_text())["recruitee_apps"][
    "data"
][0]["service_principal"]["id"]
ENABLE = r"/servicePrincipals/[^/]+$"
"""Step 1's request: PATCH the Recruitee service principal (accountEnabled)."""


def _three_step_tenant(tmp_path: Path) -> Path:
    """assignment-required, with the app disabled and the admin grant cut down: enabling it,
    granting the scopes and assigning Isaiah are three Graph steps, in that order."""
    data = json.loads((EXAMPLES / "assignment-required.json").read_text())
    app = data["recruitee_apps"]["data"][0]
    app["service_principal"]["accountEnabled"] = False
    app["oauth2_permission_grants"]["data"][0]["scope"] = "offline_access User.Read"
    path = tmp_path / "three-steps.json"
    path.write_text(json.dumps(data))
    return path


def _writes(emu: GraphEmulator) -> list[str]:
    return [
        f"{r.method} {r.target}"
        for r in emu.requests
        if r.method in {"POST", "PATCH"}
        and not r.target.endswith(("$batch", "/conditionalAccess/evaluate"))  # reads
    ]


def _requests_after_first_write(emu: GraphEmulator) -> list[str]:
    seen = [f"{r.method} {r.target}" for r in emu.requests]
    first = seen.index(_writes(emu)[0])
    return seen[first + 1 :]


def _recruitee_enabled(emu: GraphEmulator) -> bool:
    (sp,) = [sp for sp in emu.tenant.service_principals if sp["id"] == RECRUITEE_SP]
    return bool(sp["accountEnabled"])


def _lines(run: Run, start: str) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith(start)]


def _apply(emu: GraphEmulator, tmp_path: Path, *extra: str, **env: str) -> Run:
    args = ["fix", "--user", USER, "--apply", "--yes", *extra]
    return run_cli(args, emu.url, tmp_path, extra_env=env or None)


def test_the_deadline_passing_during_a_write_stops_before_the_next(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Step 1 is answered after the deadline: it is awaited, not cut (done, and the tenant
    shows it), steps 2 and 3 are not sent, and nothing is re-audited: no time is left."""
    slow = Fault.delay(ENABLE, 6.0, method="PATCH")
    emu = graph_emulator_factory(_three_step_tenant(tmp_path), faults=[slow])
    run = _apply(emu, tmp_path, "--deadline", "4")
    assert run.code == 3, run.stdout + run.stderr
    assert slow.fired == 1
    assert len(_writes(emu)) == 1
    assert _recruitee_enabled(emu)
    assert [line.split(" (")[0] for line in _lines(run, "done: ")] == [
        "done: Enable Recruitee for sign-in"
    ]
    not_sent = _lines(run, "not sent: ")
    assert len(not_sent) == 2
    assert all(
        line.endswith("(the run's --deadline of 4 s passed before it was sent)")
        for line in not_sent
    ), not_sent
    assert "Stopped at step 2: 1 of 3 change(s) made, 2 not sent." in run.stdout
    assert (
        "Not re-audited: the run's --deadline of 4 s has passed. `consent-audit check` "
        "shows the tenant as it is now." in run.stdout
    )
    assert "Before -> after:" not in run.stdout
    assert _requests_after_first_write(emu) == []  # no re-audit


def test_a_throttled_write_does_not_wait_past_the_deadline(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Graph asks to wait 20 s before step 1 may be retried; the deadline ends sooner: step 1
    is not made (a 429 writes nothing), 2 and 3 are not sent, and the time left re-audits."""
    throttled = Fault.throttle(ENABLE, retry_after="20", method="PATCH")
    emu = graph_emulator_factory(_three_step_tenant(tmp_path), faults=[throttled])
    run = _apply(emu, tmp_path, "--deadline", "8")
    assert run.code == 3, run.stdout + run.stderr
    assert throttled.fired == 1
    assert len(_writes(emu)) == 1  # never retried
    assert not _recruitee_enabled(emu)
    (failed,) = _lines(run, "FAILED: ")
    assert failed.startswith("FAILED: Enable Recruitee for sign-in (429 ")
    assert failed.endswith(
        "Not retried: the run's --deadline of 8 s passes before the 20 s wait is over.)"
    )
    assert len(_lines(run, "not sent: ")) == 2
    assert "Stopped at step 1: 0 of 3 change(s) made, 2 not sent. Re-auditing" in run.stdout
    assert "Before -> after:" in run.stdout  # re-audited within what is left
    assert "Not re-audited" not in run.stdout


def test_the_deadline_used_up_by_the_reads_sends_no_write(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Conditional Access throttled past the deadline while reading: the plan is printed, but
    no write is sent and no re-audit is tried: the deadline has passed."""
    throttled = Fault.throttle(r"/identity/conditionalAccess/policies", None, retry_after="5")
    emu = graph_emulator_factory(_three_step_tenant(tmp_path), faults=[throttled])
    run = _apply(emu, tmp_path, "--deadline", "1.5")
    assert run.code == 3, run.stdout + run.stderr
    assert throttled.fired >= 1
    assert _writes(emu) == []
    not_sent = _lines(run, "not sent: ")
    assert not_sent, run.stdout
    assert all(
        x.endswith("(the run's --deadline of 1.5 s passed before it was sent)") for x in not_sent
    )
    count = len(not_sent)
    assert f"0 of {count} change(s) made, {count} not sent." in run.stdout
    assert "Not re-audited: the run's --deadline of 1.5 s has passed." in run.stdout


def test_a_write_without_a_complete_answer_has_an_unknown_outcome(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Graph made step 1, then its answer trickled past twice the read timeout and the
    connection was cut: not "FAILED" (it was made) but an unknown outcome, said so; the steps
    after it are not sent and the re-audit shows what Graph did."""
    drip = Fault.drip(ENABLE, "headers", seconds=0.5, method="PATCH")
    emu = graph_emulator_factory(_three_step_tenant(tmp_path), faults=[drip])
    run = _apply(emu, tmp_path, CONSENT_AUDIT_HTTP_TIMEOUT="1")
    assert run.code == 3, run.stdout + run.stderr
    assert drip.fired == 1
    assert _recruitee_enabled(emu)  # Graph made it
    assert _lines(run, "FAILED: ") == []
    (unknown,) = _lines(run, "outcome unknown: ")
    assert unknown.startswith("outcome unknown: Enable Recruitee for sign-in (sent, but no ")
    assert "ResponseTooSlow" in unknown
    assert "Graph may or may not have made this change" in unknown
    not_sent = _lines(run, "not sent: ")
    assert len(not_sent) == 2
    assert all("step 1 may not have been made" in line for line in not_sent)
    assert (
        "Stopped at step 1: 0 of 3 change(s) made, 2 not sent, 1 sent with an unknown outcome."
        in run.stdout
    )
    assert "Before -> after:" in run.stdout


def test_a_reaudit_cut_off_by_the_deadline_claims_no_change(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """Every write made, then the re-audit's Conditional Access read is throttled past the
    deadline: the verdicts it could not read are UNKNOWN, which neither confirms nor
    contradicts the prediction; never 'the tenant changed in ways the plan does not explain'."""
    tenant = EXAMPLES / "disabled-app.json"
    ca = r"/identity/conditionalAccess/policies"
    counting = graph_emulator_factory(tenant)
    run_cli(["fix"], counting.url, tmp_path)  # the reads before the writes, counted
    first_read = sum(1 for r in counting.requests if "/conditionalAccess/policies" in r.target)
    assert first_read >= 1
    throttled = Fault.throttle(ca, None, retry_after="30", skip=first_read)
    emu = graph_emulator_factory(tenant, faults=[throttled])
    run = run_cli(["fix", "--apply", "--yes", "--deadline", "5"], emu.url, tmp_path)
    assert throttled.fired >= 1, run.stdout  # only the re-audit's reads
    assert _lines(run, "done: ") == ["done: Enable Recruitee for sign-in"]
    assert "Mailbox sync: fail -> unknown" in run.stdout
    (check,) = _lines(run, "Predicted before sending: ")
    assert check == (
        "Predicted before sending: After step 1: Mailbox PASS · Calendar PASS · Rooms PASS. "
        "The re-audit could not read all it needs for Mailbox sync, Calendar sync, Meeting "
        "rooms sync (UNKNOWN), so it neither confirms nor contradicts the prediction there."
    )
    assert "changed in ways" not in run.stdout
    assert run.code == 0  # a partial read: UNKNOWN is below the default --fail-on error


def test_time_at_the_prompt_is_not_the_runs_time_on_graph(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    """The admin answers "Make these changes?" after longer than --deadline: the deadline
    bounds the time on Graph, so the writes are still attempted and the re-audit still runs.
    Step 1 is throttled for longer than the time left: not retried, the rest not sent."""
    throttled = Fault.throttle(ENABLE, retry_after="20", method="PATCH")
    emu = graph_emulator_factory(_three_step_tenant(tmp_path), faults=[throttled])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update(
        {
            "HOME": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "CONSENT_AUDIT_GRAPH_URL": emu.url,
            "CONSENT_AUDIT_ACCESS_TOKEN": TOKEN,
            "CONSENT_AUDIT_RETRY_BACKOFF": "0.01",
        }
    )
    env.pop("CI", None)
    controller, terminal = pty.openpty()
    args = ["fix", "--user", USER, "--apply", "--deadline", "3"]
    proc = subprocess.Popen(
        [*cli_command(), *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(terminal)
    assert proc.stdout is not None
    shown = b""
    while b"Make these 3 change(s) in the tenant?" not in shown:
        chunk = proc.stdout.read1(65536)
        assert chunk, shown.decode()
        shown += chunk
    time.sleep(4)  # the admin reads the plan: longer than --deadline
    os.write(controller, b"y\n")
    rest, err = proc.communicate(timeout=60)
    os.close(controller)
    out = (shown + rest).decode()
    assert proc.returncode == 3, out + err.decode()
    assert throttled.fired == 1
    assert "Not retried: the run's --deadline of 3 s passes before the 20 s wait is over." in out
    not_sent = [line for line in out.splitlines() if line.startswith("not sent: ")]
    assert len(not_sent) == 2
    assert all("step 1 failed" in line for line in not_sent), not_sent  # not the deadline
    assert "Stopped at step 1: 0 of 3 change(s) made, 2 not sent. Re-auditing" in out
    assert "Before -> after:" in out
