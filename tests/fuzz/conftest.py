"""Hypothesis profile for the fuzz suite: derandomized (same examples every run), no deadline
(CI machines stall), bounded example counts so the folder stays well under 30 s."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fuzz",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
FUZZ = settings.get_profile("fuzz")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """With ``-n 0``, the exit codes the hostile-string fuzz of every command saw (issue 19):
    its size and exits are reported from a run, not estimated."""
    seen: Counter[tuple[str, int]] = Counter()
    for name in ("tests.fuzz.test_every_command", "tests.fuzz.test_every_command_args"):
        module = sys.modules.get(name)
        if module is not None:
            seen.update(module.EXITS)
    if seen:
        by_command = ", ".join(
            f"{command} exit {code}: {count}" for (command, code), count in sorted(seen.items())
        )
        terminalreporter.write_line(
            f"hostile-string fuzz: {sum(seen.values())} CLI runs; {by_command}"
        )
