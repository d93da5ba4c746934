"""JUnit XML, for the test views of Azure DevOps, GitLab, Jenkins and GitHub test reporters.

Two suites in one ``<testsuites>`` document:

- ``consent-audit.verdicts``: one test case per (app, feature) verdict. ``fail`` is a
  ``<failure>`` (unless ``--fail-on never``), ``unknown`` is ``<skipped>``, ``warn`` passes
  with its message in ``<system-out>`` (starting "WARN: "), ``pass`` passes.
- ``consent-audit.findings``: one test case per finding. A finding at or above ``--fail-on``
  is a ``<failure>``; one below it is ``<skipped>`` with its detail, so it is visible but does
  not fail the run.

The threshold comes in through :class:`RenderOptions`; verdicts and severities are the
report's own. So the document has failures exactly when ``check`` exits 1.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from consent_audit.render import RenderOptions
from consent_audit.render.common import (
    STATUS_WORD,
    VerdictRow,
    app_label,
    source_label,
    step_lines,
    tenant_label,
    user_label,
    verdict_rows,
)
from consent_audit.render.safe_text import clean_report
from consent_audit.report import Finding, Report, VerdictStatus

# Characters XML 1.0 cannot carry at all; Graph data is arbitrary text.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: str) -> str:
    return _INVALID_XML.sub("\ufffd", value)


def _sub(parent: ET.Element, tag: str, body: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if body is not None:
        element.text = _clean(body)
    return element


def _fix_text(f: Finding) -> str:
    lines = [f.detail]
    if f.features:
        lines.append(f"Affects: {', '.join(f.features)}")
    for n, step in enumerate(f.remediation, 1):
        lines.append(f"{n}. {step.action}")
        lines += [f"   {label}: {value}" for label, value in step_lines(step)]
    return "\n".join(lines)


def _verdict_case(
    suite: ET.Element, report: Report, row: VerdictRow, options: RenderOptions
) -> tuple[bool, bool]:
    feature = row.feature
    where = app_label(report, row.app.object_id) if row.app else "no Recruitee app"
    case = _sub(
        suite,
        "testcase",
        name=f"{feature.title} [{feature.name}] - {where}",
        classname="consent-audit.verdicts",
        time="0",
    )
    reason = row.why
    body = [f"Verdict: {STATUS_WORD[row.status]}", f"Why: {reason}"]
    if row.missing_scopes:
        body.append(f"Missing scopes: {', '.join(row.missing_scopes)}")
    if row.finding_ids:
        body.append(f"Findings: {', '.join(row.finding_ids)}")
    if feature.chain:
        several = " (worst of all Recruitee apps)" if len(feature.apps) > 1 else ""
        body.append(f"Causal chain for {feature.title}{several}:")
        body += [f"{link.status.value:>9}  {link.name}: {link.detail}" for link in feature.chain]
    failed = row.status is VerdictStatus.FAIL and options.fail_on is not None
    skipped = row.status is VerdictStatus.UNKNOWN or (
        row.status is VerdictStatus.FAIL and options.fail_on is None
    )
    if failed:
        _sub(case, "failure", "\n".join(body), message=f"FAIL: {reason}", type="verdict")
    elif skipped:
        _sub(case, "skipped", message=f"{STATUS_WORD[row.status]}: {reason}")
        _sub(case, "system-out", "\n".join(body))
    elif row.status is VerdictStatus.WARN:
        # JUnit has no "passed with a warning": the case passes and says why on stdout.
        _sub(case, "system-out", "\n".join([f"{STATUS_WORD[row.status]}: {reason}", *body]))
    return failed, skipped


def _finding_case(
    suite: ET.Element, report: Report, f: Finding, name: str, options: RenderOptions
) -> tuple[bool, bool]:
    case = _sub(
        suite,
        "testcase",
        name=name,
        classname=f"consent-audit.findings.{f.severity.value}",
        time="0",
    )
    body = _fix_text(f)
    if options.fails(f.severity):
        _sub(case, "failure", body, message=f"{f.id}: {f.title}", type=f.severity.value)
        return True, False
    threshold = options.fail_on.value if options.fail_on else "never"
    _sub(case, "skipped", message=f"{f.severity.value} below --fail-on {threshold}: {f.title}")
    _sub(case, "system-out", body)
    return False, True


def _finding_names(report: Report) -> list[str]:
    names: list[str] = []
    for f in report.findings:
        name = f"{f.id}: {f.title}"
        if f.features:
            name += f" [{', '.join(f.features)}]"
        if f.app_object_id and len(report.apps) > 1:
            name += f" - {app_label(report, f.app_object_id)}"
        names.append(name)
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name} #{seen[name]}")
    return unique


def _suite(parent: ET.Element, name: str, report: Report) -> ET.Element:
    return _sub(
        parent,
        "testsuite",
        name=name,
        tests="0",
        failures="0",
        errors="0",
        skipped="0",
        time="0",
        timestamp=f"{report.generated_at:%Y-%m-%dT%H:%M:%S}",
        hostname=tenant_label(report),
    )


def _count(suite: ET.Element, results: list[tuple[bool, bool]]) -> tuple[int, int, int]:
    tests, failures, skipped = len(results), sum(r[0] for r in results), sum(r[1] for r in results)
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("skipped", str(skipped))
    return tests, failures, skipped


def render_junit(report: Report, options: RenderOptions | None = None) -> str:
    options = options or RenderOptions()
    report = clean_report(report)
    root = ET.Element("testsuites", {"name": "consent-audit"})

    verdicts = _suite(root, "consent-audit.verdicts", report)
    props = _sub(verdicts, "properties")
    threshold = options.fail_on.value if options.fail_on else "never"
    for key, value in (
        ("tenant", tenant_label(report)),
        ("source", source_label(report)),
        ("user", user_label(report)),
        ("fail_on", threshold),
        ("status", report.summary.status.value),
        ("tool_version", report.tool_version),
    ):
        if value is not None:
            _sub(props, "property", name=key, value=value)
    verdict_results = [_verdict_case(verdicts, report, r, options) for r in verdict_rows(report)]

    findings = _suite(root, "consent-audit.findings", report)
    finding_results = [
        _finding_case(findings, report, f, name, options)
        for f, name in zip(report.findings, _finding_names(report), strict=True)
    ]

    totals = [_count(verdicts, verdict_results), _count(findings, finding_results)]
    root.set("tests", str(sum(t[0] for t in totals)))
    root.set("failures", str(sum(t[1] for t in totals)))
    root.set("errors", "0")
    root.set("skipped", str(sum(t[2] for t in totals)))
    root.set("time", "0")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
