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
from consent_audit.report import Report, VerdictStatus


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


def _with_status(report: Report, status: VerdictStatus) -> Report:
    features = [
        f.model_copy(
            update={
                "status": status,
                "apps": [a.model_copy(update={"status": status}) for a in f.apps],
                "chain": [c.model_copy(update={"status": status}) for c in f.chain],
            }
        )
        for f in report.features
    ]
    summary = report.summary.model_copy(update={"status": status})
    return report.model_copy(update={"features": features, "summary": summary, "prediction": None})


def test_every_format_shows_warn_distinctly(demo_report: Report) -> None:
    """WARN is its own word / badge / colour: never printed as PASS, FAIL or UNKNOWN."""
    warned = _with_status(demo_report, VerdictStatus.WARN)
    md = renderer(OutputFormat.MARKDOWN)(warned)
    assert "**WARN**" in md
    assert not {"**PASS**", "**FAIL**", "**UNKNOWN**"} & {w for w in md.split() if w[:2] == "**"}
    html = renderer(OutputFormat.HTML)(warned)
    assert 'class="badge warn"' in html
    assert 'class="badge unknown"' not in html
    assert 'class="badge pass"' not in html
    assert ".warn { background:var(--warn); }" in html
    assert 'class="card s-warn"' in html
    text = renderer(OutputFormat.TEXT)(warned).split("Findings")[0]
    assert "WARN" in text
    assert not {"PASS", "FAIL", "UNKNOWN"} & set(text.split())
    data = renderer(OutputFormat.JSON)(warned)
    assert '"status": "warn"' in data or '"status":"warn"' in data


def test_junit_warn_is_a_passing_case_with_a_message(demo_report: Report) -> None:
    import xml.etree.ElementTree as ET

    from consent_audit.gate import decide

    # A warn verdict has no error behind it: drop the errors, then decide the default gate.
    no_errors = [f for f in demo_report.findings if f.severity.value != "error"]
    warned = decide(
        _with_status(demo_report.model_copy(update={"findings": no_errors}), VerdictStatus.WARN)
    )
    root = ET.fromstring(renderer_for(OutputFormat.JUNIT)(warned, RenderOptions()))
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "consent-audit.verdicts")
    cases = list(suite.iter("testcase"))
    assert cases
    for case in cases:
        assert case.find("failure") is None
        assert case.find("skipped") is None
        out = case.find("system-out")
        assert out is not None
        assert (out.text or "").startswith("WARN: ")
    assert suite.get("failures") == "0"
    assert suite.get("skipped") == "0"


def test_headline_is_never_better_than_a_feature_whatever_the_gate(demo_report: Report) -> None:
    """`--fail-on never` or a baseline lowers summary.status (the gate), never the headline.

    The demo has a failing feature; with the gate's status forced to PASS every format's
    headline must still say FAIL, or the first line would contradict the verdicts below it.
    """
    assert any(f.status is VerdictStatus.FAIL for f in demo_report.features)
    gated = demo_report.model_copy(
        update={"summary": demo_report.summary.model_copy(update={"status": VerdictStatus.PASS})}
    )
    text = renderer(OutputFormat.TEXT)(gated).splitlines()[0]
    assert text.startswith("consent-audit: FAIL")
    md = renderer(OutputFormat.MARKDOWN)(gated).splitlines()[0]
    assert md.startswith("## consent-audit: FAIL")
    html = renderer(OutputFormat.HTML)(gated)
    assert "<title>consent-audit: FAIL for" in html
    assert '<div class="banner s-fail">' in html


def test_an_app_field_graph_left_null_reads_unknown_in_every_format(demo_report: Report) -> None:
    """Null `accountEnabled` is not "disabled" (nor null `appRoleAssignmentRequired` "no")."""
    apps = [
        a.model_copy(update={"account_enabled": None, "assignment_required": None})
        for a in demo_report.apps
    ]
    nulled = demo_report.model_copy(update={"apps": apps})
    for fmt in (OutputFormat.MARKDOWN, OutputFormat.HTML):
        out = renderer(fmt)(nulled)
        section = out[out.index("Recruitee enterprise applications") :]
        assert "unknown" in section[:3000]
        assert "NO" not in section[:3000].split("Tenant settings")[0].split()
    text = renderer(OutputFormat.TEXT, RenderOptions(details=True))(nulled)
    apps_part = text[text.index("Recruitee enterprise applications") :].split("Tenant settings")[0]
    assert "unknown" in apps_part
    assert " NO " not in apps_part
