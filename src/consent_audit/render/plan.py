"""How every format words the fix plan and the first screen, so they all say the same.

The plan itself is built once, by evaluation (evaluate/fixes.py); this module only chooses
words: the one-line cause of each verdict, plain terms for Graph's consent types, and the
lines of a plan step (request, PowerShell, admin-center path, trade-off) kept whole so they
can be copied.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from consent_audit.render.common import PlainTable, deciding_finding, user_label
from consent_audit.report import (
    LEAST_PRIVILEGED_ROLE,
    FeatureVerdict,
    Finding,
    PlanStep,
    Report,
    VerdictStatus,
)

PLAN_HEADING = "Do this next"
COMMAND_LABELS = (
    "Graph: ",
    "PowerShell: ",
    "Sign in (PowerShell): ",
    "PowerShell request: ",
    "Azure CLI (bash): ",
)
"""Lines that hold a command: printed whole, never wrapped (a copy takes the whole line)."""
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


def consent_words(consent_type: str) -> str:
    """Graph's ``AllPrincipals`` / ``Principal`` in plain words (JSON keeps Graph's terms)."""
    return CONSENT_TYPE_WORDS.get(consent_type.casefold(), consent_type)


def _affecting(report: Report, verdict: FeatureVerdict) -> list[Finding]:
    return [f for f in report.findings if verdict.name in f.features]


_NAMED_SCOPES = 3


def _scope_words(scopes: list[str]) -> str:
    if len(scopes) <= _NAMED_SCOPES:
        return ", ".join(scopes)
    return f"{', '.join(scopes[:_NAMED_SCOPES])} and {len(scopes) - _NAMED_SCOPES} more"


def _consent_cause(report: Report, verdict: FeatureVerdict, f: Finding) -> str:
    """A SCOPE_MISSING finding's cause, from its evidence: what admin consent lacks, and
    whether the person (or people) may fill the gap themselves by reconnecting."""
    missing = [str(s) for s in f.evidence.get("missing_scopes") or verdict.missing_scopes]
    answers = [a for a in f.evidence.get("user_consent") or [] if isinstance(a, dict)]
    refused = [str(a.get("scope")) for a in answers if a.get("allowed") is False]
    unsure = [a for a in answers if a.get("allowed") is None]
    who = user_label(report) or "people"
    gap = "no admin consent"
    covered = f.evidence.get("people_covered")
    others = who
    if f.severity.value == "warning" and isinstance(covered, int) and covered:
        people = "1 person" if covered == 1 else f"{covered} people"
        gap = f"{gap}; works for {people} who consented"
        others = "others"
    found = {
        g.id for g in _affecting(report, verdict) if g.app_object_id in (None, f.app_object_id)
    }
    if "ADMIN_CONSENT_REQUEST_PENDING" in found:
        return f"{gap}; a consent request is waiting for a reviewer"
    if refused:
        what = "them" if set(refused) == set(missing) else _scope_words(refused)
        return f"{gap}, and {others} cannot consent to {what}"
    if answers and not unsure:
        return f"{gap}; {others} may consent when they reconnect"
    return gap


def _policy_named(report: Report, f: Finding) -> str:
    """' (policy 'NAME')' for a Conditional Access finding: which policy, on the first screen."""
    policy = f.evidence.get("policy_id")
    row = next((r for r in report.conditional_access if r.id == policy), None)
    if not f.id.startswith("CA_POLICY_") or row is None:
        return ""
    return f": '{row.display_name or row.id}'"


def feature_cause(report: Report, verdict: FeatureVerdict) -> str:
    """The verdict's cause in one line, made from the finding that decides it
    (:func:`deciding_finding`), so the first screen says what the findings say.

    Missing consent is said from that finding's evidence (what admin consent lacks, whether
    the person may consent themselves); any other finding by its title. A verdict no finding
    decides (a chain link unread) gives the first link that does not pass.
    """
    if verdict.status is VerdictStatus.PASS:
        return "works"
    f = deciding_finding(report, verdict)
    if f is not None:
        if f.id == "SCOPE_MISSING":
            return _consent_cause(report, verdict, f)
        return f"{f.title}{_policy_named(report, f)}"
    # A link not checked is no cause: the first screen names it on a line of its own.
    broken = next(
        (
            c
            for c in verdict.chain
            if c.status not in (VerdictStatus.PASS, VerdictStatus.NOT_CHECKED)
        ),
        None,
    )
    return broken.detail if broken is not None else "works"


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
    if step.names:
        named = "; ".join(f"{i} = {name}" for i, name in step.names.items())
        lines.append(f"{indent}Ids: {named}")
    if step.connect:
        lines.append(f"{indent}Sign in (PowerShell): {step.connect}")
    if step.powershell:
        lines.append(f"{indent}PowerShell: {step.powershell}")
    if step.invoke:
        lines.append(f"{indent}PowerShell request: {step.invoke}")
    if step.az_rest:
        lines.append(f"{indent}Azure CLI (bash): {step.az_rest}")
    if step.portal_path:
        lines.append(f"{indent}Admin center: {step.portal_path}")
    if step.trade_off:
        lines.append(f"{indent}Trade-off: {step.trade_off}")
    if step.permission:
        role = LEAST_PRIVILEGED_ROLE.get(step.permission)
        lines.append(f"{indent}Needs: {step.permission}" + (f" (role: {role})" if role else ""))
    lines.append(f"{indent}Resolves: {', '.join(step.finding_ids)}")
    return lines


def _suggestion_params(report: Report, subcommand: str) -> tuple[list[Any], list[str]]:
    """Every option that shaped this audit, as (option, kind, value), and literal flags."""
    from consent_audit.commands import IdKind

    src, opts = report.source, report.options
    params: list[tuple[str, IdKind, str | None]] = []
    if src.kind == "snapshot":
        params.append(("--snapshot", IdKind.FILE, src.path or ""))
    if report.user is not None:
        params.append(("--user", IdKind.USER, report.user.query))
    params += [("--app-id", IdKind.APP_ID, a) for a in opts.app_ids]
    params += [("--feature", IdKind.FILE, f) for f in opts.features]
    if opts.manifest_path is not None:
        params.append(("--manifest", IdKind.FILE, opts.manifest_path))
    flags = ["--demo"] if src.kind == "demo" else []
    if subcommand == "check" and opts.tenant_only:
        flags.append("--tenant-only")
    return params, flags


def suggested_command(report: Report, subcommand: str, extra: tuple[str, ...] = ()) -> str:
    """``consent-audit SUB`` with every option that shaped this audit (its source, user,
    ``--app-id``, ``--feature``, ``--manifest``), each validated and shell-quoted
    (commands.py): run as printed it answers the same question. A path or a user query like
    ``$(curl ...|sh)`` must not run when the line is pasted."""
    from consent_audit.commands import suggestion

    params, flags = _suggestion_params(report, subcommand)
    line = suggestion(subcommand, params, flags)
    if not extra:
        return line
    # The literal flags go after the options, before any note on what was left out.
    head, note, tail = line.partition(" (")
    return f"{head} {' '.join(extra)}{note}{tail}"


def suggested_command_lines(
    report: Report, label: str, subcommand: str, width: int, extra: tuple[str, ...] = ()
) -> list[str]:
    """``label`` and the suggested command, broken only between arguments when wider than
    ``width``: each broken line ends with `` \\`` (the shell joins them), never inside a
    quoted value, so a pasted command runs whole."""
    from consent_audit.commands import suggestion_parts

    params, flags = _suggestion_params(report, subcommand)
    parts, left_out = suggestion_parts(subcommand, params, flags)
    parts += extra
    note = [f"({'; '.join(left_out)})"] if left_out else []
    one = f"{label} {' '.join(parts)}"
    if len(one) <= width:
        return [one, *note]
    lines: list[str] = []
    current = f"{label} {parts[0]} {parts[1]}"
    for part in parts[2:]:
        if len(current) + 1 + len(part) + 2 > width:
            lines.append(current + " \\")
            current = "    " + part
        else:
            current += " " + part
    lines.append(current)
    return [*lines, *note]


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
    """Where the rest is, as one line: the same audit with ``--details``, and its requests."""
    fix = f" Requests: {suggested_command(report, 'fix')}" if report.plan else ""
    return f"Details: {suggested_command(report, 'check', ('--details',))}.{fix}"


def pointer_lines(report: Report, width: int) -> list[str]:
    """The last lines of the first screen: the command that shows everything, and the one
    that shows (and makes) the plan's requests; each reproduces this audit, and none is
    broken inside an argument (a pasted line break would run half a command)."""
    lines = suggested_command_lines(report, "Details:", "check", width, ("--details",))
    if report.plan:
        lines += suggested_command_lines(report, "Requests:", "fix", width)
    return lines


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
