"""Every output format has a renderer and an extension, and all present the same report."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from consent_audit.cli_options import Format
from consent_audit.render import (
    EXTENSIONS,
    OutputFormat,
    RenderOptions,
    format_for_path,
    renderer,
    renderer_for,
)
from consent_audit.report import Report, Severity, VerdictStatus


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_format_has_a_renderer_and_an_extension(
    fmt: OutputFormat, demo_report: Report
) -> None:
    render = renderer_for(fmt)
    assert callable(render)
    assert fmt in EXTENSIONS.values(), f"no file extension selects {fmt.value}"
    out = render(demo_report, RenderOptions())
    assert isinstance(out, str)
    assert out.endswith("\n")
    assert renderer(fmt)(demo_report) == out


def test_cli_format_enum_mirrors_output_format() -> None:
    assert [f.value for f in Format] == [f.value for f in OutputFormat]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("r.json", OutputFormat.JSON),
        ("r.md", OutputFormat.MARKDOWN),
        ("R.MD", OutputFormat.MARKDOWN),
        ("r.xml", OutputFormat.JUNIT),
        ("out/r.html", OutputFormat.HTML),
        ("r.txt", OutputFormat.TEXT),
        ("r.docx", None),
        ("README", None),
        ("dir.d/README", None),
    ],
)
def test_format_from_extension(name: str, fmt: OutputFormat | None) -> None:
    assert format_for_path(PurePath(name)) is fmt


def test_render_options_threshold() -> None:
    assert RenderOptions(fail_on=Severity.WARNING).fails(Severity.ERROR)
    assert RenderOptions(fail_on=Severity.WARNING).fails(Severity.WARNING)
    assert not RenderOptions(fail_on=Severity.WARNING).fails(Severity.INFO)
    assert not RenderOptions(fail_on=None).fails(Severity.ERROR)


def _flipped(report: Report) -> Report:
    """The report with every verdict (and chain link) set to 'unknown', findings unchanged.

    A renderer that recomputed verdicts from findings would print 'fail' somewhere; one that
    presents the model prints what the model says.
    """
    features = [
        f.model_copy(
            update={
                "status": VerdictStatus.UNKNOWN,
                "apps": [a.model_copy(update={"status": VerdictStatus.UNKNOWN}) for a in f.apps],
                "chain": [c.model_copy(update={"status": VerdictStatus.UNKNOWN}) for c in f.chain],
            }
        )
        for f in report.features
    ]
    summary = report.summary.model_copy(update={"status": VerdictStatus.UNKNOWN})
    return report.model_copy(update={"features": features, "summary": summary})


def test_renderers_present_the_model_and_do_not_re_derive_verdicts(demo_report: Report) -> None:
    assert demo_report.summary.status is VerdictStatus.FAIL
    flipped = _flipped(demo_report)
    md = renderer(OutputFormat.MARKDOWN)(flipped)
    assert "**FAIL**" not in md
    assert "**UNKNOWN**" in md
    html = renderer(OutputFormat.HTML)(flipped)
    assert 'class="badge fail"' not in html
    assert 'class="badge unknown"' in html
    text = renderer(OutputFormat.TEXT)(flipped)
    assert "UNKNOWN" in text
    assert "FAIL" not in text.split("Findings")[0]
