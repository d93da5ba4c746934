"""Hypothesis profile for the fuzz suite: derandomized (same examples every run), no deadline
(CI machines stall), bounded example counts so the folder stays well under 30 s."""

from __future__ import annotations

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
