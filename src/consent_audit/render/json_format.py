"""JSON: the report model as is; stdout carries nothing else (progress goes to stderr)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from consent_audit.report import Report

if TYPE_CHECKING:
    from consent_audit.render import RenderOptions


def render_json(report: Report, options: RenderOptions | None = None) -> str:
    return report.model_dump_json(indent=2) + "\n"
