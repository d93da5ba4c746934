"""Renderers: each turns the same Report into one output format. None re-derives verdicts."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from consent_audit.report import Report


class OutputFormat(str, Enum):
    TEXT = "text"
    JSON = "json"


EXTENSIONS: dict[str, OutputFormat] = {
    ".json": OutputFormat.JSON,
    ".txt": OutputFormat.TEXT,
    ".text": OutputFormat.TEXT,
}


def renderer(fmt: OutputFormat) -> Callable[[Report], str]:
    """The function that renders ``fmt`` as plain text (no terminal colour)."""
    if fmt is OutputFormat.JSON:
        from consent_audit.render.json_format import render_json

        return render_json
    if fmt is OutputFormat.TEXT:
        from consent_audit.render.text import render_text_plain

        return render_text_plain
    raise AssertionError(f"unhandled format {fmt}")  # pragma: no cover
