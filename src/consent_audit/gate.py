"""One rule for turning a report into an exit code, shared by every command that audits.

``--fail-on`` names the least severe finding that fails the run (exit 1); ``never`` always
exits 0. Kept free of pydantic so ``--help`` stays fast: the report is only a type here.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from consent_audit.errors import ExitCode

if TYPE_CHECKING:
    from consent_audit.report import Report, Severity


class FailOn(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


def threshold(fail_on: FailOn) -> Severity | None:
    """The least severe finding that fails the run; ``None`` for ``never``."""
    from consent_audit.report import Severity

    return None if fail_on is FailOn.NEVER else Severity(fail_on.value)


def exit_code(report: Report, fail_on: FailOn) -> int:
    """0 when no finding reaches ``--fail-on``, 1 when one does (README "Exit codes")."""
    least = threshold(fail_on)
    if least is None:
        return int(ExitCode.OK)
    return int(ExitCode.FINDINGS if report.findings_at_or_above(least) else ExitCode.OK)
