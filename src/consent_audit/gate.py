"""One rule for turning a report into an exit code, shared by every command that audits.

``--fail-on`` names the least serious finding that fails the run (exit 1), on the scale
info < warning < unknown < error; ``never`` always exits 0. ``unknown`` is a finding that
says part of the tenant a verdict depends on could not be read: a part refused or missing
(DATA_UNAVAILABLE, CA_UNREADABLE) or items Graph sent that the collector could not read
(DATA_PARTIAL). A CI identity that lost a permission, or a tenant whose data the tool can
only read in part, can turn the build red without also failing on every warning. Such a
finding on a part no verdict depends on (the logs) stays a warning. Findings a baseline
accepts never count.

The decision is written into the report (``gate``: level, exit code, the reason, which
findings counted); ``summary.status`` is the worst feature verdict whatever the gate says,
so the headline is the same word in every format and only the exit code and the gate block
follow ``--fail-on`` and the baseline. Kept free of pydantic at import so ``--help`` stays fast.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consent_audit.baseline import Baseline
    from consent_audit.report import Finding, Report


class FailOn(str, Enum):
    INFO = "info"
    WARNING = "warning"
    UNKNOWN = "unknown"
    ERROR = "error"
    NEVER = "never"


LEVEL_RANK = {"info": 1, "warning": 2, "unknown": 3, "error": 4}
UNREADABLE_CODES = frozenset(
    {"DATA_UNAVAILABLE", "DATA_PARTIAL", "CA_UNREADABLE", "CA_POLICY_UNDETERMINED"}
)
"""Findings saying what a verdict depends on could not be read, wholly or in part, or could
not be evaluated (availability.py / conditional_access.py)."""


def level(f: Finding) -> str:
    """Where a finding sits on the --fail-on scale."""
    if f.severity.value != "error" and f.id in UNREADABLE_CODES and f.features:
        return "unknown"
    return f.severity.value


def counts(f: Finding, fail_on: FailOn) -> bool:
    """Whether ``f`` fails the run under ``fail_on`` (accepted findings never do)."""
    if fail_on is FailOn.NEVER or f.accepted is not None:
        return False
    return LEVEL_RANK[level(f)] >= LEVEL_RANK[fail_on.value]


def decide(
    report: Report,
    fail_on: FailOn = FailOn.ERROR,
    baseline: Baseline | None = None,
    today: date | None = None,
) -> Report:
    """``report`` with the baseline applied, the gate decided and ``summary.status`` set.

    Idempotent: acceptances from an earlier decision are dropped first.
    """
    from consent_audit.report import Gate, VerdictStatus

    findings = [f.model_copy(update={"accepted": None}) for f in report.findings]
    result = None
    if baseline is not None:
        from consent_audit.baseline import apply_baseline

        findings, result = apply_baseline(baseline, findings, today or date.today())
    # A leftover app's own findings never fail the run: Recruitee does not use it; only its
    # APP_DUPLICATE (delete it) counts, at its own severity.
    leftovers = {a.object_id for a in report.apps if a.in_use is False}
    failing = [
        f
        for f in findings
        if counts(f, fail_on) and not (f.app_object_id in leftovers and f.id != "APP_DUPLICATE")
    ]
    accepted = sum(f.accepted is not None for f in findings)
    gate = Gate(
        fail_on=fail_on.value,
        exit_code=1 if failing else 0,
        reason=_reason(failing, fail_on, accepted),
        failing=[f.fingerprint or f.id for f in failing],
        accepted=accepted,
        baseline=result,
    )
    worst = max(
        (v.status for v in report.features), key=lambda s: s.rank, default=VerdictStatus.PASS
    )
    # The headline answers "can Recruitee sync?" in every format: the worst feature verdict.
    # --fail-on and a baseline decide only the exit code and the gate block.
    summary = report.summary.model_copy(update={"status": worst})
    return report.model_copy(update={"findings": findings, "gate": gate, "summary": summary})


def _reason(failing: list[Finding], fail_on: FailOn, accepted: int) -> str:
    kept = f" ({accepted} accepted by the baseline)" if accepted else ""
    if fail_on is FailOn.NEVER:
        return f"the exit code is 0 whatever is found{kept}."
    if not failing:
        return f"no finding at or above --fail-on {fail_on.value}{kept}."
    named = ", ".join(
        f"{f.id}" + (" (data unreadable)" if level(f) == "unknown" else "") for f in failing[:5]
    )
    more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
    return f"{len(failing)} finding(s) at or above --fail-on {fail_on.value}: {named}{more}{kept}."


def exit_code(report: Report) -> int:
    """0 or 1, as decided by :func:`decide` (README "Exit codes")."""
    return report.gate.exit_code
