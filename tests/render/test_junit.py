"""JUnit XML: read by a JUnit consumer library; counts match the report and the exit code."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from junitparser import Failure, JUnitXml, Skipped

from consent_audit.gate import FailOn, decide
from consent_audit.render import RenderOptions
from consent_audit.render.junit import render_junit
from consent_audit.report import Finding, Report, VerdictStatus

THRESHOLDS = list(FailOn)
RANK = {"info": 1, "warning": 2, "unknown": 3, "error": 4}
# Which verdicts a threshold fails: a verdict is as bad as the worst finding behind it.
FAILING_VERDICTS = {
    FailOn.ERROR: {VerdictStatus.FAIL},
    FailOn.UNKNOWN: {VerdictStatus.FAIL, VerdictStatus.UNKNOWN},
    FailOn.WARNING: {VerdictStatus.FAIL, VerdictStatus.UNKNOWN, VerdictStatus.WARN},
    FailOn.INFO: {VerdictStatus.FAIL, VerdictStatus.UNKNOWN, VerdictStatus.WARN},
    FailOn.NEVER: set(),
}


def _level(f: Finding) -> str:
    unreadable = f.id in {"DATA_UNAVAILABLE", "CA_UNREADABLE", "CA_POLICY_UNDETERMINED"} and (
        f.features
    )
    return "unknown" if unreadable and f.severity.value != "error" else f.severity.value


def _parse(xml: str) -> JUnitXml:
    return JUnitXml.fromstring(xml)


def _leftovers(report: Report) -> set[str]:
    return {a.object_id for a in report.apps if a.in_use is False}


def _failing_findings(report: Report, fail_on: FailOn) -> list[Finding]:
    """A leftover app's own findings never fail (only its APP_DUPLICATE counts)."""
    if fail_on is FailOn.NEVER:
        return []
    return [
        f
        for f in report.findings
        if RANK[_level(f)] >= RANK[fail_on.value]
        and not (f.app_object_id in _leftovers(report) and f.id != "APP_DUPLICATE")
    ]


def _expected(report: Report, fail_on: FailOn) -> tuple[int, int]:
    rows = [max(1, len(f.apps)) for f in report.features]
    tests = sum(rows) + len(report.findings)
    bad = FAILING_VERDICTS[fail_on]
    leftovers = _leftovers(report)
    failed_verdicts = sum(
        (1 if f.status in bad else 0)
        if not f.apps
        else sum(a.status in bad and a.object_id not in leftovers for a in f.apps)
        for f in report.features
    )
    return tests, failed_verdicts + len(_failing_findings(report, fail_on))


@pytest.mark.parametrize("fail_on", THRESHOLDS, ids=lambda s: s.value)
def test_counts_match_the_report(report: Report, fail_on: FailOn) -> None:
    report = decide(report, fail_on)
    xml = _parse(render_junit(report, RenderOptions()))
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
    root = ET.fromstring(render_junit(report, RenderOptions()))
    assert root.get("tests") == str(tests)
    assert root.get("failures") == str(failures)
    skipped = [c for c in cases if any(isinstance(r, Skipped) for r in c.result)]
    assert root.get("skipped") == str(len(skipped))


@pytest.mark.parametrize("fail_on", THRESHOLDS, ids=lambda s: s.value)
def test_failures_exactly_when_check_exits_1(report: Report, fail_on: FailOn) -> None:
    report = decide(report, fail_on)
    xml = _parse(render_junit(report, RenderOptions()))
    exits_1 = bool(_failing_findings(report, fail_on))
    assert report.gate.exit_code == int(exits_1)
    assert (sum(s.failures for s in xml) > 0) == exits_1


def test_one_case_per_app_feature_and_per_finding(demo_report: Report) -> None:
    xml = _parse(render_junit(demo_report, RenderOptions()))
    suites = {suite.name: list(suite) for suite in xml}
    verdicts = suites["consent-audit.verdicts"]
    assert len(verdicts) == sum(len(f.apps) for f in demo_report.features)
    for app in demo_report.apps:
        assert any(app.app_id in case.name for case in verdicts)
    findings = suites["consent-audit.findings"]
    assert [c.name.split(" - ")[0] for c in findings] == [f.id for f in demo_report.findings]
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


def _case_names(report: Report) -> list[str]:
    root = ET.fromstring(render_junit(report, RenderOptions()))
    return [case.get("name", "") for case in root.iter("testcase")]


def _granted(snapshot_name: str, scope: str) -> tuple[Report, Report]:
    from consent_audit.evaluate import evaluate
    from consent_audit.manifest import load_manifest
    from consent_audit.run_source import demo_snapshot
    from consent_audit.snapshot import TenantSnapshot, load_snapshot
    from tests.render.conftest import EXAMPLES

    snap = demo_snapshot() if snapshot_name == "demo" else load_snapshot(EXAMPLES / snapshot_name)
    raw = snap.model_dump(mode="json", by_alias=True)
    for app in raw["recruitee_apps"]["data"]:
        for grant in app["oauth2_permission_grants"]["data"] or []:
            if grant["consentType"] == "AllPrincipals":
                grant["scope"] += f" {scope}"
    after = TenantSnapshot.model_validate(raw)
    return evaluate(snap, load_manifest()), evaluate(after, load_manifest())


@pytest.mark.parametrize(
    ("snapshot_name", "scope"), [("partial-scopes.json", "Mail.Send"), ("demo", "Mail.Send")]
)
def test_case_names_are_identical_before_and_after_granting_one_scope(
    snapshot_name: str, scope: str
) -> None:
    before, after = _granted(snapshot_name, scope)
    missing_before = [
        f.evidence["missing_scopes"] for f in before.findings if f.id == "SCOPE_MISSING"
    ]
    missing_after = [
        f.evidence["missing_scopes"] for f in after.findings if f.id == "SCOPE_MISSING"
    ]
    assert missing_before != missing_after  # the grant really changed the findings' scopes
    assert _case_names(before) == _case_names(after)


def test_case_names_carry_no_scope_and_no_title(demo_report: Report) -> None:
    names = _case_names(demo_report)
    assert len(set(names)) == len(names)
    for name in names:
        assert "Mail." not in name
        assert "Calendars." not in name
        assert "sync" not in name  # feature titles ("Mailbox sync") stay out; names are ids
    missing = [n for n in names if n.startswith("SCOPE_MISSING")]
    assert missing
    assert all(" - feature " in n and " - app " in n for n in missing)


@pytest.mark.parametrize("fail_on", THRESHOLDS, ids=lambda s: s.value)
def test_below_threshold_is_never_skipped_but_in_properties_and_system_out(
    report: Report, fail_on: FailOn
) -> None:
    """Issue 20 item 7: a finding below --fail-on was checked and found, not skipped. CI views
    count skipped cases as tests that did not run; such a case passes and says why in its
    properties and system-out."""
    report = decide(report, fail_on)
    root = ET.fromstring(render_junit(report, RenderOptions()))
    assert not list(root.iter("skipped"))
    assert root.get("skipped") == "0"
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "consent-audit.findings")
    cases = list(suite.iter("testcase"))
    assert len(cases) == len(report.findings)
    for case, finding in zip(cases, report.findings, strict=True):
        if finding.fingerprint in report.gate.failing:
            assert case.find("failure") is not None
            continue
        assert case.find("failure") is None
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props["severity"] == finding.severity.value
        assert props["gated"] == "false"
        assert props["why"]
        out = case.find("system-out")
        assert out is not None
        assert "does not fail the run" in (out.text or "")
        assert finding.title in (out.text or "")
