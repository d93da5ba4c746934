"""Markdown: a summary table per feature and every finding with its fix."""

from __future__ import annotations

from consent_audit.render import RenderOptions
from consent_audit.render.markdown import cell, code, render_markdown, text
from consent_audit.report import Finding, Report, Severity


def test_summary_table_has_one_row_per_feature_with_the_report_verdict(report: Report) -> None:
    md = render_markdown(report, RenderOptions())
    table = md.split("### Can Recruitee sync?")[1].split("\n\n")[1].splitlines()
    assert table[0] == "| Feature | Verdict | Cause |"
    rows = table[2:]
    assert len(rows) == len(report.features)
    for row, feature in zip(rows, report.features, strict=True):
        assert row.startswith(f"| {feature.title} | **{feature.status.value.upper()}** |")


def test_every_finding_appears_with_its_remediation(report: Report) -> None:
    md = render_markdown(report, RenderOptions())
    for f in report.findings:
        assert f"`{f.id}`" in md
        for step in f.remediation:
            if step.portal_path:
                assert text(step.portal_path) in md
    assert md.count("### ") == len(report.findings) + 2


def test_verdicts_and_plan_come_first_and_the_rest_is_collapsed(report: Report) -> None:
    md = render_markdown(report, RenderOptions())
    verdicts = md.index("### Can Recruitee sync?")
    plan = md.index("### Do this next")
    details = md.index("<details><summary>Details")
    assert verdicts < plan < details
    assert md.index("## Findings") > details
    assert md.rstrip().endswith("</details>")
    for step in report.plan:
        assert f"{step.number}. **" in md[plan:details]
        if step.graph:
            assert step.graph in md[plan:details]


def test_findings_at_or_above_the_threshold_are_marked(demo_report: Report) -> None:
    from consent_audit.gate import FailOn, decide

    leftovers = {a.object_id for a in demo_report.apps if a.in_use is False}

    def counted(f: Finding) -> bool:  # a leftover's own findings never fail the run
        return f.app_object_id not in leftovers or f.id == "APP_DUPLICATE"

    errors = len([f for f in demo_report.findings_at_or_above(Severity.ERROR) if counted(f)])
    warnings = len([f for f in demo_report.findings_at_or_above(Severity.WARNING) if counted(f)])
    assert render_markdown(demo_report, RenderOptions()).count("fails the run") == errors
    md = render_markdown(decide(demo_report, FailOn.WARNING), RenderOptions())
    assert md.count("fails the run") == warnings
    never = decide(demo_report, FailOn.NEVER)
    assert "fails the run" not in render_markdown(never, RenderOptions())


def test_cells_and_code_spans_escape_what_would_break_markdown() -> None:
    assert cell("a | b\nc") == "a \\| b c"
    assert cell("<script>") == "\\<script\\>"
    assert cell("") == "-"
    assert code("a `b` c") == "``a `b` c``"
    assert code("`x`") == "`` `x` ``"
