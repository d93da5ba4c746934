"""Renderers: each turns the same Report into one output format. None re-derives verdicts.

Every renderer has the signature ``(report, options) -> str``. ``RenderOptions`` carries what
the report itself does not say, such as the ``--fail-on`` threshold JUnit needs to decide
which test cases fail; verdicts and severities come from the report only.

The modules are imported lazily by :func:`renderer` so that the CLI only loads the one it uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from importlib import import_module
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # The report models cost ~20 ms to build: the CLI checks -o formats before any work,
    # a live run sends its first request before it builds a report.
    from consent_audit.report import Report


class OutputFormat(str, Enum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    HTML = "html"


EXTENSIONS: dict[str, OutputFormat] = {
    ".json": OutputFormat.JSON,
    ".txt": OutputFormat.TEXT,
    ".text": OutputFormat.TEXT,
    ".md": OutputFormat.MARKDOWN,
    ".markdown": OutputFormat.MARKDOWN,
    ".xml": OutputFormat.JUNIT,
    ".html": OutputFormat.HTML,
    ".htm": OutputFormat.HTML,
}


@dataclass(frozen=True)
class RenderOptions:
    """What a renderer needs besides the report (room for layout options).

    Which findings fail the run is not an option: ``--fail-on`` and the baseline are decided
    once (gate.py) and recorded in ``report.gate``, so every format agrees with the exit code.
    """

    details: bool = False
    """``--details``: the text report shows everything, not only the first screen (the other
    formats always hold everything, Markdown and HTML collapsed)."""


Renderer = Callable[["Report", RenderOptions], str]

# format -> (module, function); a test walks OutputFormat to prove every member has one.
_RENDERERS: dict[OutputFormat, tuple[str, str]] = {
    OutputFormat.TEXT: ("consent_audit.render.text", "render_text_plain"),
    OutputFormat.JSON: ("consent_audit.render.json_format", "render_json"),
    OutputFormat.MARKDOWN: ("consent_audit.render.markdown", "render_markdown"),
    OutputFormat.JUNIT: ("consent_audit.render.junit", "render_junit"),
    OutputFormat.HTML: ("consent_audit.render.html", "render_html"),
}


def renderer_for(fmt: OutputFormat) -> Renderer:
    """The function rendering ``fmt`` (plain text: no terminal colour)."""
    module, name = _RENDERERS[fmt]
    function: Renderer = getattr(import_module(module), name)
    return function


def renderer(fmt: OutputFormat, options: RenderOptions | None = None) -> Callable[[Report], str]:
    """``fmt``'s renderer with ``options`` bound (default: ``--fail-on error``)."""
    render = renderer_for(fmt)
    bound = options or RenderOptions()
    return lambda report: render(report, bound)


def format_for_path(path: PurePath) -> OutputFormat | None:
    """The format an output file asks for, from its extension (case-insensitive)."""
    return EXTENSIONS.get(path.suffix.lower())
