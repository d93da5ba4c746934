"""What the plan leads to, before anything is sent: apply its Graph steps offline, audit again.

The plan is applied to the same snapshot with :func:`simulate.apply_steps` (the requests
``fix --apply`` would send, as Graph applies them) and evaluated with the same manifest, user
and ``--app-id``; the verdicts of that second audit are the prediction. Steps without a
request (a person decides in the admin center) are named, not guessed at, and so are people
who must still reconnect Recruitee themselves: a grant created by an admin does not refresh
a token Recruitee already holds for someone whose own action is needed.
"""

from __future__ import annotations

from consent_audit.evaluate.simulate import UnknownWrite, apply_steps
from consent_audit.manifest import Manifest
from consent_audit.report import (
    STATUS_WORD,
    PlanStep,
    PredictedFeature,
    Prediction,
    Report,
    Severity,
    VerdictStatus,
)
from consent_audit.snapshot import TenantSnapshot

RECONNECT = "reconnect"
"""The word remediation texts use for a person's own action in Recruitee (evaluate/
remediation.py, grants.py): a finding whose first fix is that is one a person must act on."""


def predict_plan(
    snapshot: TenantSnapshot,
    manifest: Manifest,
    plan: list[PlanStep],
    *,
    full_manifest: Manifest | None,
    user: str | None,
    app_ids: tuple[str, ...],
) -> Prediction | None:
    """The verdicts once the plan's Graph steps are made; None when it has none (or one this
    tool cannot apply offline, which it then does not pretend to predict)."""
    writes = [s for s in plan if s.kind == "graph"]
    if not writes:
        return None
    try:
        after_snapshot = apply_steps(snapshot, writes)
    except UnknownWrite:
        return None
    from consent_audit.evaluate.pipeline import evaluate

    after = evaluate(
        after_snapshot,
        manifest,
        full_manifest=full_manifest,
        user=user,
        app_ids=app_ids,
        predict=False,
    )
    reconnect = _must_reconnect(after)
    from consent_audit.evaluate.fixes import is_housekeeping

    # Steps a person takes that bear on sync (a leftover's removal does not), but not one the
    # writes are the alternative to (a person's own consent, instead of the tenant-wide grant).
    replaced = sorted({s.instead_of for s in writes if s.instead_of is not None})
    manual = [
        s.number
        for s in plan
        if s.kind == "manual" and not is_housekeeping(s) and s.number not in replaced
    ]
    people = None if not reconnect else (1 if after.user is not None else None)
    return Prediction(
        steps=[s.number for s in writes],
        features=[
            PredictedFeature(name=v.name, title=v.title, status=v.status) for v in after.features
        ],
        people_must_reconnect=people,
        manual_steps=manual,
        summary=_summary([s.number for s in writes], after, reconnect, manual, replaced),
    )


def _must_reconnect(after: Report) -> list[str]:
    """Features that, after the plan, still wait on a person reconnecting Recruitee."""
    leftovers = {a.object_id for a in after.apps if a.in_use is False}
    waiting: list[str] = []
    for verdict in after.features:
        if verdict.status is VerdictStatus.PASS:
            continue
        for f in after.findings:
            if verdict.name not in f.features or f.app_object_id in leftovers:
                continue
            if f.severity is Severity.INFO:
                continue
            first = f.remediation[0].action.casefold() if f.remediation else ""
            if RECONNECT in first:
                waiting.append(verdict.title)
                break
    return waiting


def step_range(numbers: list[int]) -> str:
    """'step 2', 'steps 1-3' (consecutive, with an en dash) or 'steps 1, 3'."""
    if len(numbers) == 1:
        return f"step {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"steps {numbers[0]}\u2013{numbers[-1]}"
    return "steps " + ", ".join(str(n) for n in numbers)


def _summary(
    steps: list[int],
    after: Report,
    reconnect: list[str],
    manual: list[int],
    replaced: list[int],
) -> str:
    verdicts = " · ".join(f"{v.name.capitalize()} {STATUS_WORD[v.status]}" for v in after.features)
    tail: list[str] = []
    if reconnect:
        who = after.user.user_principal_name or after.user.query if after.user else None
        tail.append(f"{who} must reconnect Recruitee" if who else "people must reconnect Recruitee")
    if manual:
        tail.append(f"{step_range(manual)} need{'s' if len(manual) == 1 else ''} a person")
    instead = f" (instead of {step_range(replaced)})" if replaced else ""
    return f"After {step_range(steps)}{instead}: {verdicts}" + (
        f"; {'; '.join(tail)}" if tail else ""
    )
