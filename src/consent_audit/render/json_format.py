"""JSON: the report model as is; stdout carries nothing else (progress goes to stderr).

JSON is data for programs, so strings keep what was collected; only what JSON cannot carry
or a terminal would act on is changed, by :mod:`consent_audit.render.safe_text`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from consent_audit.render.safe_text import escape_json_bidi, json_safe_report
from consent_audit.report import Report

if TYPE_CHECKING:
    from consent_audit.render import RenderOptions


def render_json(report: Report, options: RenderOptions | None = None) -> str:
    return escape_json_bidi(json_safe_report(report).model_dump_json(indent=2)) + "\n"
