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
