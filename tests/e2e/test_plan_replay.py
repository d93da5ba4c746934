"""Replay: follow the printed fix plan against the emulator, then audit again.

For every example tenant (and the demo), with and without its users: read the plan from
``check --format json``, send its Graph steps in order exactly as printed, run ``check``
again. No fixable error may remain, and the new plan has no Graph step left. A plan whose
requests undo each other (two PATCHes of one grant) or collide (a second POST of a grant
gets 409) fails here.

The plan proves itself: the prediction the first report carries (its Graph steps applied to
the snapshot offline, evaluate/simulate.py) equals the verdicts of the re-audit after the
same requests were sent to the emulator.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from consent_audit.evaluate.fixes import FIXABLE
from tests.e2e.cli_runner import TOKEN, run_cli
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


def _send(emu: GraphEmulator, step: dict[str, Any]) -> requests.Response:
    return requests.request(
        step["method"],
        f"{emu.url}/v1.0{step['path']}",
        json=step["body"],
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )


def _fixable_errors(report: dict[str, Any]) -> list[str]:
    return [f["id"] for f in report["findings"] if f["severity"] == "error" and f["id"] in FIXABLE]


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_following_the_plan_leaves_no_fixable_error(
    check: dict[str, Any], graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory((EXAMPLES / check["snapshot"]).resolve())
    args = ["check", "--format", "json", "--fail-on", "never"]
    args += ["--user", check["user"]] if check.get("user") else []
    before = run_cli(args, emu.url, tmp_path)
    assert before.code == 0, before.stderr
    plan = before.report["plan"]
    assert [s["number"] for s in plan] == list(range(1, len(plan) + 1))
    writes = [s for s in plan if s["kind"] == "graph"]
    if (before.report["app_in_use"] or {}).get("chosen_by") == "undecided":
        # Which app Recruitee uses is unknown: every write waits for --app-id, so the plan
        # writes nothing, predicts nothing, and the fixable errors stay until it is named.
        assert writes == [], plan
        assert before.report["prediction"] is None
        assert _fixable_errors(before.report), "undecided apps with nothing to hold back"
        after = run_cli(args, emu.url, tmp_path)
        assert _fixable_errors(after.report) == _fixable_errors(before.report)
        return
    if _fixable_errors(before.report):
        assert writes, "a fixable error without a Graph step in the plan"
    for step in writes:
        answer = _send(emu, step)
        assert answer.status_code < 300, (step["summary"], answer.status_code, answer.text)
    after = run_cli(args, emu.url, tmp_path)
    assert after.code == 0, after.stderr
    predicted = before.report["prediction"]
    if writes:
        assert predicted is not None, "a plan with Graph steps and no prediction"
        assert predicted["steps"] == [s["number"] for s in writes]
        assert {p["name"]: p["status"] for p in predicted["features"]} == {
            v["name"]: v["status"] for v in after.report["features"]
        }, predicted["summary"]
    else:
        assert predicted is None
    assert _fixable_errors(after.report) == []
    assert [s for s in after.report["plan"] if s["kind"] == "graph"] == []
    # Every feature a Graph step was for now passes its consent and app links.
    repaired = {name for s in writes for name in s["features"]}
    for feature in after.report["features"]:
        if feature["name"] in repaired:
            links = {c["name"]: c["status"] for c in feature["chain"]}
            assert links.get("consent") != "fail", feature
            assert links.get("app") != "fail", feature
