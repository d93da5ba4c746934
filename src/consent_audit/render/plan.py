"""How every format words the fix plan and the first screen, so they all say the same.

The plan itself is built once, by evaluation (evaluate/fixes.py); this module only chooses
words: the one-line cause of each verdict, plain terms for Graph's consent types, and the
lines of a plan step (request, PowerShell, admin-center path, trade-off) kept whole so they
can be copied.
"""

from __future__ import annotations

from pathlib import PurePath

from consent_audit.render.common import PlainTable
from consent_audit.report import (
    LEAST_PRIVILEGED_ROLE,
    FeatureVerdict,
    Finding,
    PlanStep,
    Report,
    VerdictStatus,
)

PLAN_HEADING = "Do this next"
PLAN_INTRO = (
    "One plan for the whole audit, in order: each step unblocks what follows. Changes "
    "consent-audit can make show their Graph request (consent-audit fix --apply sends them); "
    "tenant-wide decisions show the admin-center path and the trade-off."
)

CONSENT_TYPE_WORDS = {
    "allprincipals": "admin consent (for everyone)",
    "principal": "a user's own consent",
    "unknown": "unknown (Graph answered a null consentType)",
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
    # A link not checked is no cause: the first screen names it on a line of its own.
    broken = next(
        (
            c
            for c in verdict.chain
            if c.status not in (VerdictStatus.PASS, VerdictStatus.NOT_CHECKED)
        ),
        None,
    )
    if broken is None:
        return "works"
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
        role = LEAST_PRIVILEGED_ROLE.get(step.permission)
        lines.append(f"{indent}Needs: {step.permission}" + (f" (role: {role})" if role else ""))
    lines.append(f"{indent}Resolves: {', '.join(step.finding_ids)}")
    return lines


def suggested_command(report: Report, subcommand: str) -> str:
    """``consent-audit SUB`` with the options that name this audit's source and user, each
    validated and shell-quoted (commands.py): the snapshot's path and the user come from the
    data, and a user query like ``$(curl ...|sh)`` must not run when the line is pasted."""
    from consent_audit.commands import IdKind, suggestion

    src = report.source
    params: list[tuple[str, IdKind, str | None]] = []
    if src.kind == "snapshot":
        params.append(("--snapshot", IdKind.FILE, src.path or ""))
    if report.user is not None:
        params.append(("--user", IdKind.USER, report.user.query))
    return suggestion(subcommand, params, ["--demo"] if src.kind == "demo" else [])


def short_source(report: Report) -> str:
    """Where the data came from, short enough for a header line (the file name, the day)."""
    src = report.source
    origin = {
        "snapshot": PurePath(src.path or "snapshot").name,
        "demo": "demo tenant",
        "live": "live",
    }[src.kind]
    redacted = ", redacted" if src.redacted else ""
    reported = f", reported by {src.reported_by}" if src.reported_by else ""
    return f"{origin}, {src.collected_at:%Y-%m-%d}{redacted}{reported}"


def pointer_line(report: Report) -> str:
    """The last line of the first screen: where the rest is."""
    fix = f" Requests: {suggested_command(report, 'fix')}" if report.plan else ""
    return f"Details: add --details.{fix}"


def pointer_lines(report: Report, width: int) -> list[str]:
    """:func:`pointer_line`, or when it is wider than ``width``, the command on a line of its
    own: a suggested command is never broken across lines (a pasted line break runs the
    first half, or ends up inside a quoted argument)."""
    line = pointer_line(report)
    if len(line) <= width or not report.plan:
        return [line]
    return ["Details: add --details. Requests:", f"  {suggested_command(report, 'fix')}"]


# Said once ------------------------------------------------------------------------------

REPEATED_PHRASES = (": Microsoft's current recommendation, not a choice made in this tenant",)
"""Explanations rules attach to every scope they concern; a reader needs each once."""


class FirstMention:
    """Keeps each repeated explanation where it first appears in a document, drops the rest.

    One instance per rendered document: findings and tables pass their text through it in
    reading order.
    """

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def strip(self, value: str) -> str:
        for phrase in REPEATED_PHRASES:
            if phrase not in value:
                continue
            if phrase in self._seen:
                value = value.replace(phrase, "")
            else:
                self._seen.add(phrase)
                head, _, tail = value.partition(phrase)
                value = head + phrase + tail.replace(phrase, "")
        return value

    def table(self, table: PlainTable) -> PlainTable:
        return PlainTable(
            table.title, table.headers, [[self.strip(v) for v in row] for row in table.rows]
        )


def merge_identical(tables: list[PlainTable]) -> list[PlainTable]:
    """Tables with the same headers and rows (one per Recruitee app, say) printed once, the
    title saying which others it stands for."""
    merged: list[tuple[PlainTable, list[str]]] = []
    for table in tables:
        same = next(
            (
                others
                for first, others in merged
                if first.headers == table.headers and first.rows == table.rows
            ),
            None,
        )
        if same is None:
            merged.append((table, []))
        else:
            same.append(table.title)
    return [
        PlainTable(f"{first.title} (same for {'; '.join(others)})", first.headers, first.rows)
        if others
        else first
        for first, others in merged
    ]
