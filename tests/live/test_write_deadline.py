"""The run's deadline and ``fix --apply``'s writes, on a clock the test moves.

The writes share the deadline of the reads (live/transport.Deadline): none starts once it has
passed, a write already sent is awaited, and time a person spends at a prompt or signing in
(``Deadline.paused``) is not the run's time on Graph. End to end against the emulator:
tests/e2e/test_fix_apply_deadline.py.
"""

from __future__ import annotations

import requests
import responses

from consent_audit.live.transport import Deadline
from consent_audit.live.writes import GraphWriter
from consent_audit.report import PlanStep
from tests.live.fakes import ROOT, FakeTokens

SP = "5b2f1c9e-4d3a-4e8b-9a7c-2f6d8e1b3c40"
USER = "a1b2c3d4-0000-4000-8000-00000000a11c"
ROLE = "00000000-0000-0000-0000-000000000000"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _steps() -> list[PlanStep]:
    enable = PlanStep(
        number=1,
        kind="graph",
        summary="Enable Recruitee",
        finding_ids=["APP_DISABLED"],
        method="PATCH",
        path=f"/servicePrincipals/{SP}",
        body={"accountEnabled": True},
        permission="Application.ReadWrite.All",
    )
    assign = PlanStep(
        number=2,
        kind="graph",
        summary="Assign the user",
        finding_ids=["ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED"],
        method="POST",
        path=f"/servicePrincipals/{SP}/appRoleAssignedTo",
        body={"principalId": USER, "resourceId": SP, "appRoleId": ROLE},
        permission="AppRoleAssignment.ReadWrite.All",
    )
    return [enable, assign]


def test_time_spent_paused_does_not_count() -> None:
    clock = Clock()
    deadline = Deadline(5.0, clock=clock)
    clock.now += 1.0
    with deadline.paused():
        clock.now += 600.0  # a person reading the plan before answering
    assert deadline.remaining() == 4.0
    assert not deadline.passed
    clock.now += 4.0
    assert deadline.passed


def test_a_write_answered_after_the_deadline_is_done_and_the_next_is_not_sent() -> None:
    clock = Clock()
    deadline = Deadline(5.0, clock=clock)

    def slow_answer(_request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        clock.now += 9.0  # the answer comes after the deadline: awaited, not cut
        return 204, {}, ""

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.PATCH, f"{ROOT}/v1.0/servicePrincipals/{SP}", slow_answer)
        rsps.add(responses.POST, f"{ROOT}/v1.0/servicePrincipals/{SP}/appRoleAssignedTo", json={})
        writer = GraphWriter(
            ROOT, FakeTokens(["write-token-123"]), sleep=lambda _s: None, deadline=deadline
        )
        results = writer.apply(_steps())
        assert [call.request.method for call in rsps.calls] == ["PATCH"]
    assert [(r.ok, r.sent, r.known) for r in results] == [(True, True, True), (False, False, True)]
    assert results[1].message == "the run's --deadline of 5 s passed before it was sent"


def test_a_retry_that_would_wait_past_the_deadline_is_not_made() -> None:
    clock = Clock()
    deadline = Deadline(5.0, clock=clock)
    slept: list[float] = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(
            responses.PATCH,
            f"{ROOT}/v1.0/servicePrincipals/{SP}",
            status=429,
            headers={"Retry-After": "6"},
            json={"error": {"code": "TooManyRequests", "message": "Too many requests."}},
        )
        writer = GraphWriter(
            ROOT, FakeTokens(["write-token-123"]), sleep=slept.append, deadline=deadline
        )
        results = writer.apply(_steps())
        assert len(rsps.calls) == 1
    assert slept == []
    assert [(r.ok, r.sent) for r in results] == [(False, True), (False, False)]
    assert results[0].message.startswith("429 TooManyRequests: Too many requests.")
    assert results[0].message.endswith(
        "Not retried: the run's --deadline of 5 s passes before the 6 s wait is over."
    )
