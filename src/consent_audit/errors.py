"""Errors that reach the user, each with the exit code the CLI documents.

Exit codes (README, ``consent-audit --help``):
0 no finding at or above ``--fail-on``; 1 findings at or above it; 2 bad input or usage;
3 could not authenticate or reach Microsoft Graph; 5 the report could not be written to
standard output (closed, full, or the reading end of a pipe went away).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    NO_ACCESS = 3
    OUTPUT_LOST = 5


class ConsentAuditError(Exception):
    """An error with a one-line problem statement, the fix, and an exit code.

    ``problem`` and ``fix`` are each printed as one line (cli_options.fail cleans them: a line
    break inside, say a user name from a snapshot, becomes a space, so data can never add a
    "fix:" line of its own). A list a message needs (the manifest's problems) is ``items``:
    one line each under the problem. ``problem`` as an attribute holds the items too.
    """

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(
        self, problem: str, *, fix: str | None = None, items: tuple[str, ...] = ()
    ) -> None:
        full = problem + "".join(f"\n  - {item}" for item in items)
        super().__init__(full)
        self.summary = problem
        self.items = items
        self.problem = full
        self.fix = fix

    def __str__(self) -> str:
        return self.problem if not self.fix else f"{self.problem}\nFix: {self.fix}"


class InputError(ConsentAuditError):
    """Bad manifest, snapshot, option or file: exit 2."""

    exit_code = ExitCode.BAD_INPUT


class AccessError(ConsentAuditError):
    """Could not sign in or reach Graph: exit 3."""

    exit_code = ExitCode.NO_ACCESS
