"""Evaluation: pure functions from (snapshot, manifest, user) to a report. No I/O.

:func:`evaluate` (evaluate/pipeline.py) runs the rules; it is imported on first use, so a
command that needs only the finding registry or the AADSTS catalog (``explain``) does not
build every model the rules read (issue 22, docs/performance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consent_audit.evaluate.pipeline import RULES, evaluate

__all__ = ["RULES", "evaluate"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from consent_audit.evaluate import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
