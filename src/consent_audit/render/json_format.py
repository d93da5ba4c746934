"""JSON: the report model as is; stdout carries nothing else (progress goes to stderr)."""

from __future__ import annotations

from consent_audit.report import Report


def render_json(report: Report) -> str:
    return report.model_dump_json(indent=2) + "\n"
