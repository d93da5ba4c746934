"""The plan's Graph steps applied offline (evaluate/simulate.py): snapshot in, snapshot out."""

from __future__ import annotations

from pathlib import Path

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.evaluate.simulate import UnknownWrite, apply_steps, write_kind
from consent_audit.manifest import load_manifest
from consent_audit.report import PlanStep
from consent_audit.snapshot import dump_snapshot, load_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"


@pytest.mark.parametrize(
    ("name", "user"),
    [
        ("partial-scopes.json", None),
        ("disabled-app.json", None),
        ("assignment-required.json", "isaiah.langer@fabrikam.com"),
        ("never-connected.json", None),
    ],
)
def test_applying_the_plan_is_pure_and_changes_what_the_requests_change(
    name: str, user: str | None
) -> None:
    snapshot = load_snapshot(EXAMPLES / name)
    before = dump_snapshot(snapshot)
    report = evaluate(snapshot, load_manifest(), user=user)
    writes = [s for s in report.plan if s.kind == "graph"]
    assert writes, name
    after = apply_steps(snapshot, writes)
    assert dump_snapshot(snapshot) == before  # the input is untouched
    assert dump_snapshot(after) != before
    # Only the apps' part changes: the requests write nothing else.
    assert after.model_copy(update={"recruitee_apps": snapshot.recruitee_apps}) == snapshot
    again = evaluate(after, load_manifest(), user=user, predict=False)
    assert [s for s in again.plan if s.kind == "graph"] == []
    assert report.prediction is not None
    assert [(p.name, p.status) for p in report.prediction.features] == [
        (v.name, v.status) for v in again.features
    ]


def test_a_request_the_simulator_does_not_know_is_refused_not_guessed() -> None:
    step = PlanStep(
        number=1,
        kind="graph",
        summary="x",
        finding_ids=[],
        method="PATCH",
        path="/policies/authorizationPolicy",
        body={},
    )
    with pytest.raises(UnknownWrite):
        write_kind(step)
