"""JUnit XML, for the test views of Azure DevOps, GitLab, Jenkins and GitHub test reporters.

Two suites in one ``<testsuites>`` document:

- ``consent-audit.verdicts``: one test case per (app, feature) verdict, named
  ``<feature> - app <appId>``. A verdict is a ``<failure>`` when a finding that fails the run
  (``report.gate``: ``--fail-on`` and the baseline) affects it; any other verdict passes,
  a ``fail``, ``unknown`` or ``warn`` one with its word and why in ``<system-out>``
  (starting e.g. "WARN: ") and in the case's ``<properties>`` (``status``, ``gated`` false).
- ``consent-audit.findings``: one test case per finding, named from its code and subject
  (``SCOPE_MISSING - feature calendar - app <appId>``), never from titles or scope lists, so
  CI test history follows a finding while the tenant changes. A finding that fails the run
  is a ``<failure>``; any other (below ``--fail-on``, or accepted by the baseline, with the
  reason) passes, its detail in ``<system-out>`` and ``severity``, ``level``, ``gated``
  (false) and ``why`` in ``<properties>``.

Never ``<skipped>``: CI views show skipped cases as tests that did not run (GitLab and Azure
DevOps count them apart, some reporters turn a run with many of them yellow), and a finding
below the threshold was checked and found, not skipped.

The gate is the report's own (gate.py), so the document has failures exactly when ``check``
exits 1.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from consent_audit.gate import level
from consent_audit.render import RenderOptions
from consent_audit.render.common import (
    VerdictRow,
    acceptance_note,
    app_label,
    chain_scope,
    fails_run,
    leftover_ids,
    source_label,
    step_lines,
    tenant_label,
    user_label,
    verdict_rows,
)
from consent_audit.render.safe_text import clean_report
from consent_audit.report import STATUS_WORD, Finding, Report, VerdictStatus

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


def _verdict_name(row: VerdictRow) -> str:
    """Stable across runs: the feature and the app's appId, never titles or scope lists."""
    app = f"app {row.app.app_id}" if row.app else "no Recruitee app"
    return f"{row.feature.name} - {app}"


Gating = dict[str, list[Finding]]


def _gating_by_feature(report: Report) -> Gating:
    """Findings that fail the run (report.gate), by feature: indexed once, so the document
    stays linear in the number of features (a scan per verdict was quadratic)."""
    index: Gating = {}
    for f in report.findings:
        if fails_run(report, f):
            for name in dict.fromkeys(f.features):
                index.setdefault(name, []).append(f)
    return index


def _gating(gating: Gating, row: VerdictRow) -> bool:
    """Whether a finding that fails the run affects this (app, feature)."""
    app_object_id = row.app.object_id if row.app else None
    return any(
        f.app_object_id is None or f.app_object_id == app_object_id
        for f in gating.get(row.feature.name, ())
    )


def _verdict_case(
    suite: ET.Element, report: Report, row: VerdictRow, gating: Gating
) -> tuple[bool, bool]:
    feature = row.feature
    where = app_label(report, row.app.object_id) if row.app else "no Recruitee app"
    case = _sub(
        suite, "testcase", name=_verdict_name(row), classname="consent-audit.verdicts", time="0"
    )
    reason = row.why
    body = [f"Verdict: {STATUS_WORD[row.status]} ({feature.title}, {where})", f"Why: {reason}"]
    if row.missing_scopes:
        body.append(f"Missing scopes: {', '.join(row.missing_scopes)}")
    if row.finding_ids:
        body.append(f"Findings: {', '.join(row.finding_ids)}")
    if feature.chain:
        several = chain_scope(report, feature)
        body.append(f"Causal chain for {feature.title}{several}:")
        body += [f"{link.status.value:>9}  {link.name}: {link.detail}" for link in feature.chain]
    leftover = row.app is not None and row.app.object_id in leftover_ids(report)
    if leftover:
        # Not the app in use: its verdict decides nothing, so it never fails (item 2).
        word = STATUS_WORD[row.status]
        note = f"{word}: leftover application, not in use; it decides nothing"
        _sub(case, "system-out", "\n".join([note, *body]))
        return False, False
    failed = row.status is not VerdictStatus.PASS and _gating(gating, row)
    word = STATUS_WORD[row.status]
    if failed:
        _sub(case, "failure", "\n".join(body), message=f"{word}: {reason}", type="verdict")
    elif row.status is not VerdictStatus.PASS:
        # JUnit has no "passed with a warning": the case passes and says why on stdout.
        _case_properties(case, status=row.status.value, gated="false")
        gate = f" (does not fail the run: {_threshold(report)})"
        extra = gate if row.status is not VerdictStatus.WARN else ""
        _sub(case, "system-out", "\n".join([f"{word}: {reason}{extra}", *body]))
    return failed, False


def _threshold(report: Report) -> str:
    fail_on = report.gate.fail_on
    return "--fail-on never" if fail_on == "never" else f"below --fail-on {fail_on}"


def _case_properties(case: ET.Element, **values: str) -> None:
    """Per-case ``<properties>`` (as pytest's ``record_property`` writes them)."""
    props = _sub(case, "properties")
    for key, value in values.items():
        _sub(props, "property", name=key, value=value)


def _finding_case(suite: ET.Element, report: Report, f: Finding, name: str) -> tuple[bool, bool]:
    case = _sub(
        suite,
        "testcase",
        name=name,
        classname=f"consent-audit.findings.{f.severity.value}",
        time="0",
    )
    body = _fix_text(f)
    accepted = acceptance_note(f)
    if fails_run(report, f):
        _sub(case, "failure", body, message=f"{f.id}: {f.title}", type=f.severity.value)
        return True, False
    why = accepted or f"{f.severity.value}, {_threshold(report)}"
    _case_properties(case, severity=f.severity.value, level=level(f), gated="false", why=why)
    _sub(case, "system-out", f"{why} (does not fail the run): {f.title}\n{body}")
    return False, False


def finding_case_name(f: Finding) -> str:
    """Stable across runs and tenant changes: the code and the objects it is about.

    Built from the finding's subject (app appId, feature, policy id, user, part), never from
    its title or scope lists, so granting one scope does not rename a test case and the CI
    system's history follows it.
    """
    parts = [f.id]
    s = f.subject
    if s is not None:
        parts += [
            f"{label} {value}"
            for label, value in (
                ("feature", s.feature),
                ("app", s.app_id),
                ("policy", s.policy_id),
                ("user", s.user_id),
                ("part", s.part),
            )
            if value
        ]
    return " - ".join(parts)


def _finding_names(report: Report) -> list[str]:
    names = [finding_case_name(f) for f in report.findings]
    # Fingerprints are unique per report (tested), so a repeat name can only be a finding
    # without a subject; its fingerprint keeps the name stable and unique.
    return [
        name if names.count(name) == 1 else f"{name} [{f.fingerprint}]"
        for f, name in zip(report.findings, names, strict=True)
    ]


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
    report = clean_report(report)
    root = ET.Element("testsuites", {"name": "consent-audit"})

    verdicts = _suite(root, "consent-audit.verdicts", report)
    props = _sub(verdicts, "properties")
    threshold = report.gate.fail_on
    for key, value in (
        ("tenant", tenant_label(report)),
        ("source", source_label(report)),
        ("user", user_label(report)),
        ("fail_on", threshold),
        ("status", report.summary.status.value),
        ("exit_code", str(report.gate.exit_code)),
        ("exit_reason", report.gate.reason),
        ("tool_version", report.tool_version),
    ):
        if value is not None:
            _sub(props, "property", name=key, value=value)
    gating = _gating_by_feature(report)
    verdict_results = [_verdict_case(verdicts, report, r, gating) for r in verdict_rows(report)]

    findings = _suite(root, "consent-audit.findings", report)
    finding_results = [
        _finding_case(findings, report, f, name)
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
