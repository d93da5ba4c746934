"""How every format words the fix plan and the first screen, so they all say the same.

The plan itself is built once, by evaluation (evaluate/fixes.py); this module only chooses
words: the one-line cause of each verdict, plain terms for Graph's consent types, and the
lines of a plan step (request, PowerShell, admin-center path, trade-off) kept whole so they
can be copied.
"""

from __future__ import annotations

from consent_audit.report import FeatureVerdict, Finding, PlanStep, Report, VerdictStatus

PLAN_HEADING = "Do this next"
PLAN_INTRO = (
    "One plan for the whole audit, in order: each step unblocks what follows. Changes "
    "consent-audit can make show their Graph request (consent-audit fix --apply sends them); "
    "tenant-wide decisions show the admin-center path and the trade-off."
)

CONSENT_TYPE_WORDS = {
    "allprincipals": "admin consent (for everyone)",
    "principal": "a user's own consent",
}
USER_CONSENT_CAUSES = ("USER_CONSENT_DISABLED", "USER_CONSENT_RESTRICTED")


def consent_words(consent_type: str) -> str:
    """Graph's ``AllPrincipals`` / ``Principal`` in plain words (JSON keeps Graph's terms)."""
    return CONSENT_TYPE_WORDS.get(consent_type.casefold(), consent_type)


def _affecting(report: Report, verdict: FeatureVerdict) -> list[Finding]:
    return [f for f in report.findings if verdict.name in f.features]


def feature_cause(report: Report, verdict: FeatureVerdict) -> str:
    """The verdict's cause in one line: the first broken link, said as a cause.

    A consent link that fails names why nobody can fill the gap (no admin consent, and users
    may not consent), not the scope list, which the details and the plan already carry.
    """
    broken = next((c for c in verdict.chain if c.status is not VerdictStatus.PASS), None)
    if broken is None:
        warned = [f for f in _affecting(report, verdict) if f.severity.rank >= 2]
        return f"works; warning: {warned[0].title}" if warned else "works"
    if broken.name != "consent" or verdict.status is not VerdictStatus.FAIL:
        return broken.detail
    found = {f.id: f for f in _affecting(report, verdict)}
    for code in USER_CONSENT_CAUSES:
        if code in found:
            title = found[code].title
            return f"no admin consent, and {title[0].lower()}{title[1:]}"
    if "ADMIN_CONSENT_REQUEST_PENDING" in found:
        return "no admin consent yet; a consent request is waiting for a reviewer"
    if "SCOPE_MISSING" in found:
        return "no admin consent for what it needs, and users cannot consent to it"
    return broken.detail


def plan_reference(step: PlanStep) -> str:
    """'step 2' with the step's one line: what a finding says instead of its own request."""
    return f"step {step.number}: {step.summary}"


def plan_step_lines(step: PlanStep, indent: str = "   ") -> list[str]:
    """A plan step as `fix` and the detailed text print it: one whole line per part."""
    lines = [f"{step.number}. {step.summary}"]
    if step.detail:
        lines.append(f"{indent}{step.detail}")
    if step.graph:
        lines.append(f"{indent}Graph: {step.graph}")
    if step.powershell:
        lines.append(f"{indent}PowerShell: {step.powershell}")
    if step.portal_path:
        lines.append(f"{indent}Admin center: {step.portal_path}")
    if step.trade_off:
        lines.append(f"{indent}Trade-off: {step.trade_off}")
    if step.permission:
        lines.append(f"{indent}Needs: {step.permission}")
    lines.append(f"{indent}Resolves: {', '.join(step.finding_ids)}")
    return lines


def source_args(report: Report) -> str:
    """The options that name this audit's source and user, to repeat in a suggested command."""
    src = report.source
    args = {"demo": " --demo", "snapshot": f" --snapshot {src.path}", "live": ""}[src.kind]
    if report.user is not None:
        args += f" --user {report.user.query}"
    return args


def pointer_line(report: Report) -> str:
    """The last line of the first screen: where the rest is."""
    fix = f" Requests: consent-audit fix{source_args(report)}" if report.plan else ""
    return f"Details: add --details.{fix}"
