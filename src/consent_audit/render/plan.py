"""How every format words the fix plan and the first screen, so they all say the same.

The plan itself is built once, by evaluation (evaluate/fixes.py); this module only chooses
words: the one-line cause of each verdict, plain terms for Graph's consent types, and the
lines of a plan step (request, PowerShell, admin-center path, trade-off) kept whole so they
can be copied.
"""

from __future__ import annotations

import re
import textwrap
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
    "tenant-wide decisions show the admin-center path and the trade-off. A step that starts "
    "'Instead of step N' is the broader alternative to that step: take one or the other."
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
        # A person with no grant of their own has nothing to reconnect: they connect (the
        # plan's step says the same).
        again = "re" if not report.user or f.evidence.get("user_grant_scopes") else ""
        return f"{gap}; {others} may consent when they {again}connect"
    return gap


def _policy_named(report: Report, f: Finding) -> str:
    """' (policy 'NAME')' for a Conditional Access finding: which policy, on the first screen."""
    policy = f.evidence.get("policy_id")
    row = next((r for r in report.conditional_access if r.id == policy), None)
    if not f.id.startswith("CA_POLICY_") or row is None:
        return ""
    return f": '{row.display_name or row.id}'"


SAME_POLICY = "same policy as "
"""A later feature's cause when the Conditional Access policy that decides it decides an
earlier one too: the policy's long name and what it does are said once, on that earlier
line ("same policy as Mailbox sync"), so each line stays one short line."""


def _said_before(report: Report, verdict: FeatureVerdict, f: Finding) -> FeatureVerdict | None:
    """The earlier feature whose cause already names ``f``'s policy (the same finding
    decides it), if ``f`` is a Conditional Access policy's."""
    if not f.id.startswith("CA_POLICY_") or not _policy_named(report, f):
        return None
    for other in report.features:
        if other.name == verdict.name:
            return None
        if other.status is verdict.status and deciding_finding(report, other) is f:
            return other
    return None


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
        earlier = _said_before(report, verdict, f)
        if earlier is not None:
            return f"{SAME_POLICY}{earlier.title}"
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


class CommandKeepingWrapper(textwrap.TextWrapper):
    """Wraps at spaces, but never inside a `quoted command`: prose like "run `consent-audit
    check --user 'x'` again" keeps the command on one line, so a copy of it is whole (a
    line break pasted into a shell runs the first half)."""

    _CHUNK = re.compile(r"(`[^`\n]*`|\s+)")
    _LINE_START = re.compile(r"\d+\.|[A-Za-z]+:")
    """What starts a line of the report itself (a plan step "2.", a "fix:" line): wrapped
    text never starts a line with it, so tenant text cannot be broken into a forged line."""

    def _split(self, text: str) -> list[str]:
        chunks: list[str] = []
        for chunk in self._CHUNK.split(text):
            if not chunk:
                continue
            if (
                len(chunks) >= 2
                and chunks[-1].isspace()
                and not chunks[-2].isspace()
                and self._LINE_START.match(chunk)
            ):
                space = chunks.pop()
                chunks[-1] += space + chunk
            else:
                chunks.append(chunk)
        return chunks


def wrap_prose(head: str, body: str, width: int) -> list[str]:
    """``head`` then ``body`` wrapped at spaces under itself (never inside a word, an id or a
    `quoted command`); a token longer than the line stays whole. Without a head, continuation
    lines hang by two spaces, so they never start where the report's own lines start."""
    lines = CommandKeepingWrapper(
        width=max(width - len(head), 20),
        subsequent_indent="" if head else "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ).wrap(body) or [""]
    return [head + lines[0], *(" " * len(head) + line for line in lines[1:])]


COMMAND_TOKEN = re.compile(r"""(?:[^\s'"]+|'[^']*'|"[^"]*")+""")
"""One shell argument as our commands write it: quoted parts ('...' or "...") stay whole,
so a scope list or a JSON body is never split (and a JSON body is split only at its
insignificant whitespace between strings)."""

_CONTINUATION = {
    "Sign in (PowerShell): ": " `",
    "PowerShell: ": " `",
    "PowerShell request: ": " `",
    "Azure CLI (bash): ": " \\",
    "Graph: ": "",
}
"""How each command's shell joins a broken line: bash's backslash, PowerShell's backtick.
A Graph request is not pasted into a shell: it breaks only where JSON ignores spaces."""


def wrap_command(head: str, label: str, command: str, width: int) -> list[str]:
    """``head`` + ``label`` + ``command``, broken only between arguments when wider than
    ``width``, each broken line ending with the shell's continuation character, so a pasted
    command runs whole. An argument longer than the line stays whole on a line of its own."""
    one = f"{head}{label}{command}"
    if len(one) <= width:
        return [one]
    cont = _CONTINUATION[label]
    hang = head + "    "
    parts = COMMAND_TOKEN.findall(command)
    if label == "Graph: " and len(parts) > 1:
        parts[:2] = [f"{parts[0]} {parts[1]}"]  # the method beside its path
    lines: list[str] = []
    current = f"{head}{label}{parts[0]}"
    for part in parts[1:]:
        if len(current) + 1 + len(part) + len(cont) > width:
            lines.append(current + cont)
            current = hang + part
        else:
            current += " " + part
    lines.append(current)
    return lines


def plan_step_body(step: PlanStep) -> list[tuple[str, str]]:
    """A plan step's parts after its summary, as (label, value): what `fix` and the detailed
    text print, in this order."""
    parts: list[tuple[str, str]] = []
    if step.detail:
        parts.append(("", step.detail))
    if step.graph:
        parts.append(("Graph: ", step.graph))
    if step.names:
        parts.append(("Ids: ", "; ".join(f"{i} = {name}" for i, name in step.names.items())))
    if step.connect:
        parts.append(("Sign in (PowerShell): ", step.connect))
    if step.powershell:
        parts.append(("PowerShell: ", step.powershell))
    if step.invoke:
        parts.append(("PowerShell request: ", step.invoke))
    if step.az_rest:
        parts.append(("Azure CLI (bash): ", step.az_rest))
    if step.portal_path:
        parts.append(("Admin center: ", step.portal_path))
    if step.trade_off:
        parts.append(("Trade-off: ", step.trade_off))
    if step.permission:
        role = LEAST_PRIVILEGED_ROLE.get(step.permission)
        parts.append(("Needs: ", step.permission + (f" (role: {role})" if role else "")))
    parts.append(("Resolves: ", ", ".join(step.finding_ids)))
    return parts


def plan_step_lines(step: PlanStep, indent: str = "   ", width: int | None = None) -> list[str]:
    """A plan step as `fix` and the detailed text print it: one whole line per part, or, with
    ``width``, prose wrapped under itself and commands broken only between arguments."""
    if width is None:
        lines = [f"{step.number}. {step.summary}"]
        lines += [f"{indent}{label}{value}" for label, value in plan_step_body(step)]
        return lines
    lines = wrap_prose(f"{step.number}. ", step.summary, width)
    for label, value in plan_step_body(step):
        if label in COMMAND_LABELS:
            lines += wrap_command(indent, label, value, width)
        else:
            lines += wrap_prose(indent + label, value, width)
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
        rows = [[self.strip(v) for v in row] for row in table.rows]
        return PlainTable(table.title, table.headers, said_once_per_table(rows))


STEP_UP_CAVEATS = (
    " (unless Microsoft's risk-based step-up consent",
    " (risk-based step-up consent is ",
)
"""How a consent decision's step-up consent caveat starts (evaluate/consent_policy.py): it is
the same for every non-basic scope of an app, so a table of scopes says it once."""


def _caveat(value: str) -> tuple[int, int] | None:
    """Where the step-up caveat in ``value`` starts and ends (its balanced parentheses)."""
    start = min((i for c in STEP_UP_CAVEATS if (i := value.find(c)) >= 0), default=-1)
    if start < 0:
        return None
    depth = 0
    for end in range(start + 1, len(value)):
        depth += {"(": 1, ")": -1}.get(value[end], 0)
        if depth == 0:
            return start, end + 1
    return None


def said_once_per_table(rows: list[list[str]]) -> list[list[str]]:
    """Rows whose step-up caveat repeats one said above for another scope (the row's first
    cell) refer to it instead: the fact (the caveat applies) stays, the paragraph once."""
    first: dict[str, str] = {}
    out = []
    for row in rows:
        cells = []
        for value in row:
            span = _caveat(value)
            if span is not None:
                caveat = value[span[0] : span[1]]
                if caveat in first:
                    same = f" (unless step-up consent applies: as for {first[caveat]})"
                    value = value[: span[0]] + same + value[span[1] :]
                else:
                    first[caveat] = row[0]
            cells.append(value)
        out.append(cells)
    return out


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
