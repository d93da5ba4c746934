"""JUnit XML: read by a JUnit consumer library; counts match the report and the exit code."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from junitparser import Failure, JUnitXml, Skipped

from consent_audit.render import RenderOptions
from consent_audit.render.junit import render_junit
from consent_audit.report import Report, Severity, VerdictStatus

THRESHOLDS = [Severity.ERROR, Severity.WARNING, Severity.INFO, None]


def _parse(xml: str) -> JUnitXml:
    return JUnitXml.fromstring(xml)


def _expected(report: Report, fail_on: Severity | None) -> tuple[int, int]:
    rows = [max(1, len(f.apps)) for f in report.features]
    tests = sum(rows) + len(report.findings)
    if fail_on is None:
        return tests, 0
    failed_verdicts = sum(
        (1 if f.status is VerdictStatus.FAIL else 0)
        if not f.apps
        else sum(a.status is VerdictStatus.FAIL for a in f.apps)
        for f in report.features
    )
    return tests, failed_verdicts + len(report.findings_at_or_above(fail_on))


@pytest.mark.parametrize("fail_on", THRESHOLDS, ids=lambda s: s.value if s else "never")
def test_counts_match_the_report(report: Report, fail_on: Severity | None) -> None:
    xml = _parse(render_junit(report, RenderOptions(fail_on=fail_on)))
    tests, failures = _expected(report, fail_on)
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"consent-audit.verdicts", "consent-audit.findings"}
    cases = [case for suite in xml for case in suite]
    assert len(cases) == tests
    failed = [c for c in cases if any(isinstance(r, Failure) for r in c.result)]
    assert len(failed) == failures
    # The totals the CI views display agree with the cases.
    assert sum(s.tests for s in xml) == tests
    assert sum(s.failures for s in xml) == failures
    assert sum(s.errors for s in xml) == 0
    root = ET.fromstring(render_junit(report, RenderOptions(fail_on=fail_on)))
    assert root.get("tests") == str(tests)
    assert root.get("failures") == str(failures)
    skipped = [c for c in cases if any(isinstance(r, Skipped) for r in c.result)]
    assert root.get("skipped") == str(len(skipped))


@pytest.mark.parametrize("fail_on", THRESHOLDS, ids=lambda s: s.value if s else "never")
def test_failures_exactly_when_check_exits_1(report: Report, fail_on: Severity | None) -> None:
    xml = _parse(render_junit(report, RenderOptions(fail_on=fail_on)))
    exits_1 = fail_on is not None and bool(report.findings_at_or_above(fail_on))
    assert (sum(s.failures for s in xml) > 0) == exits_1


def test_one_case_per_app_feature_and_per_finding(demo_report: Report) -> None:
    xml = _parse(render_junit(demo_report, RenderOptions()))
    suites = {suite.name: list(suite) for suite in xml}
    verdicts = suites["consent-audit.verdicts"]
    assert len(verdicts) == sum(len(f.apps) for f in demo_report.features)
    for app in demo_report.apps:
        assert any(app.app_id in case.name for case in verdicts)
    findings = suites["consent-audit.findings"]
    assert [c.name.split(":")[0] for c in findings] == [f.id for f in demo_report.findings]
    assert len({c.name for c in findings}) == len(findings), "names are unique"
    failing = next(c for c in findings if c.result and isinstance(c.result[0], Failure))
    assert "Admin center:" in (failing.result[0].text or "")


def test_invalid_xml_characters_are_replaced(demo_report: Report) -> None:
    tenant = demo_report.tenant.model_copy(update={"default_domain": "bad\x01name<&>"})
    xml = render_junit(demo_report.model_copy(update={"tenant": tenant}), RenderOptions())
    suite = ET.fromstring(xml).find("testsuite")
    assert suite is not None
    # Shown as a visible escape by the renderers' one boundary (render.safe_text).
    assert suite.get("hostname", "").startswith("bad\\x01name<&>")
