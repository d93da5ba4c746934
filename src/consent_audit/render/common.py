"""Wording shared by the renderers, so every format says the same thing the same way.

Only presentation lives here: labels, the first broken link of a chain, the summary line.
Verdicts, severities and counts are read from the report, never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from consent_audit.report import (
    AppFeatureVerdict,
    FeatureVerdict,
    Finding,
    RemediationStep,
    Report,
    VerdictStatus,
)

STATUS_WORD = {
    VerdictStatus.PASS: "PASS",
    VerdictStatus.FAIL: "FAIL",
    VerdictStatus.UNKNOWN: "UNKNOWN",
}


def tenant_label(report: Report) -> str:
    t = report.tenant
    name = t.default_domain or t.display_name or t.id
    return name if name == t.id else f"{name} ({t.id})"


def source_label(report: Report) -> str:
    src = report.source
    origin = {
        "snapshot": f"snapshot {src.path or ''}".strip(),
        "demo": "bundled demo tenant",
        "live": "live tenant",
    }[src.kind]
    text = f"{origin}, collected {src.collected_at:%Y-%m-%d %H:%M} UTC"
    return text + (" (redacted)" if src.redacted else "")


def user_label(report: Report) -> str | None:
    if report.user is None:
        return None
    return report.user.user_principal_name or report.user.query


def why(verdict: FeatureVerdict) -> str:
    """The first link of the causal chain that does not pass, else 'all checks pass'."""
    broken = next((link for link in verdict.chain if link.status is not VerdictStatus.PASS), None)
    return broken.detail if broken else "all checks pass"


def app_label(report: Report, object_id: str | None) -> str:
    """'Recruitee (appId …)', naming the appId so duplicates can be told apart."""
    if object_id is None:
        return "tenant"
    app = next((a for a in report.apps if a.object_id == object_id), None)
    if app is None:
        return object_id
    return f"{app.display_name or 'Recruitee'} (appId {app.app_id})"


@dataclass(frozen=True)
class VerdictRow:
    """One (app, feature) verdict; ``app`` is None when no Recruitee app was found."""

    feature: FeatureVerdict
    app: AppFeatureVerdict | None

    @property
    def status(self) -> VerdictStatus:
        return self.app.status if self.app else self.feature.status

    @property
    def missing_scopes(self) -> list[str]:
        return self.app.missing_scopes if self.app else self.feature.missing_scopes

    @property
    def finding_ids(self) -> list[str]:
        return self.app.finding_ids if self.app else []

    @property
    def why(self) -> str:
        """The feature's first broken link; with several apps, this app's finding codes.

        The causal chain is per feature (the worst app), so for one app of several the row
        names the findings recorded for it instead of a link that may be another app's.
        """
        if self.app is None or len(self.feature.apps) <= 1:
            return why(self.feature)
        if self.status is VerdictStatus.PASS and not self.finding_ids:
            return "all checks pass"
        return "findings: " + (", ".join(self.finding_ids) or "none")


def verdict_rows(report: Report) -> Iterator[VerdictRow]:
    for feature in report.features:
        if not feature.apps:
            yield VerdictRow(feature, None)
        for app in feature.apps:
            yield VerdictRow(feature, app)


def summary_line(report: Report) -> str:
    s = report.summary
    return (
        f"{s.errors} error(s), {s.warnings} warning(s), {s.infos} info. "
        f"Features: {s.features_pass} pass, {s.features_fail} fail, "
        f"{s.features_unknown} unknown."
    )


def step_lines(step: RemediationStep) -> list[tuple[str, str]]:
    """The optional parts of a remediation step as (label, value) pairs, in reading order."""
    parts = [
        ("Admin center", step.portal_path),
        ("Graph", step.graph),
        ("PowerShell", step.powershell),
        ("Docs", step.url),
    ]
    return [(label, value) for label, value in parts if value]


def finding_anchor(index: int, finding: Finding) -> str:
    return f"finding-{index}-{finding.id.lower().replace('_', '-')}"


@dataclass(frozen=True)
class PlainTable:
    """A titled table of strings: the same rows whatever the format draws them with."""

    title: str
    headers: list[str]
    rows: list[list[str]]


def chain_table(verdict: FeatureVerdict) -> PlainTable:
    """The causal chain in order, the first broken link marked as the verdict."""
    first = next((link for link in verdict.chain if link.status is not VerdictStatus.PASS), None)
    rows = [
        [
            str(n),
            STATUS_WORD[link.status] + (" <- verdict" if link is first else ""),
            link.detail,
        ]
        for n, link in enumerate(verdict.chain, 1)
    ]
    return PlainTable(f"{verdict.title}: why, step by step", ["#", "Status", "Link"], rows)


def scope_tables(report: Report, verdict: FeatureVerdict) -> list[PlainTable]:
    """Per app: each required scope, who granted it, and whether users could consent."""
    tables: list[PlainTable] = []
    for app in verdict.apps:
        if not app.scopes:
            continue
        suffix = f" ({app_label(report, app.object_id)})" if len(verdict.apps) > 1 else ""
        tables.append(
            PlainTable(
                f"{verdict.title}: who can consent to each scope{suffix}",
                ["Scope", "Granted", "User consent", "Why"],
                [[s.scope, s.granted, s.user_consent, s.reason] for s in app.scopes],
            )
        )
    return tables


def conditional_access_table(report: Report) -> PlainTable | None:
    """Policies that target Recruitee, what they require, and what they do to it."""
    if not report.conditional_access:
        return None
    with_user = report.user is not None
    headers = [
        "Policy",
        "State",
        "Users",
        *(["Applies to user"] if with_user else []),
        "Controls",
        "Effect on Recruitee",
    ]
    rows = []
    for row in report.conditional_access:
        controls = ", ".join([*row.grant_controls, *row.session_controls]) or "-"
        applies = ["yes" if row.applies_to_user else "no"] if with_user else []
        name = row.display_name or row.id
        if len(report.apps) > 1:
            name += f" [{app_label(report, row.app_object_id)}]"
        rows.append([name, row.state, row.users, *applies, controls, row.effect])
    return PlainTable("Conditional Access policies that target Recruitee", headers, rows)


def detail_tables(report: Report) -> list[PlainTable]:
    """Chains (with --user, or for features that do not pass), scopes, then CA."""
    tables: list[PlainTable] = []
    for verdict in report.features:
        if report.user is not None or verdict.status is not VerdictStatus.PASS:
            tables.append(chain_table(verdict))
        tables.extend(scope_tables(report, verdict))
    ca = conditional_access_table(report)
    if ca is not None:
        tables.append(ca)
    return tables
