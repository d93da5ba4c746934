"""Text for a terminal (rich). The first screen answers: one header line, the verdict per
feature with its one-line cause, "Do this next" (the fix plan, one line per step) and where
the rest is. ``--details`` adds the plan with its requests (on lines of their own, outside any
box, never wrapped or shortened), the findings along the causal chain, the chains, who can
consent to each scope, the Conditional Access policies on Recruitee, and the tenant's
applications, settings and grants.

Readable without colour: every status is also a word, and NO_COLOR / pipes turn colour off
(rich honours both).

Tenant data reaches rich only through :mod:`consent_audit.render.safe_text`: the report is
cleaned once on entry, every cell and title is a ``Text`` (never markup), and the console
parses no markup.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from consent_audit.render.common import (
    CA_HEADING,
    SCOPES_HEADING,
    SCOPES_INTRO,
    ChainStep,
    PlainTable,
    acceptance_note,
    all_scope_tables,
    app_identity_line,
    app_in_use_note,
    app_label,
    apps_table,
    chain_features,
    chain_heading,
    chain_intro,
    chain_steps,
    chain_title,
    conditional_access_note,
    conditional_access_tables,
    gate_differs,
    gate_lines,
    headline_status,
    is_leftover_finding,
    not_checked_line,
    summary_line,
    user_label,
    what_if_fallback_line,
)
from consent_audit.render.plan import (
    PLAN_HEADING,
    CommandKeepingWrapper,
    FirstMention,
    consent_words,
    feature_cause,
    merge_identical,
    plan_step_lines,
    pointer_lines,
    short_source,
)
from consent_audit.render.safe_text import clean_report, report_console, rich_text
from consent_audit.report import FeatureVerdict, Finding, Report, Severity, VerdictStatus

if TYPE_CHECKING:
    from consent_audit.render import RenderOptions

STATUS_STYLE = {
    VerdictStatus.PASS: ("PASS", "bold green"),
    VerdictStatus.WARN: ("WARN", "bold dark_orange"),
    VerdictStatus.FAIL: ("FAIL", "bold red"),
    VerdictStatus.UNKNOWN: ("UNKNOWN", "bold yellow"),
    VerdictStatus.NOT_CHECKED: ("NOT CHECKED", "bold magenta"),
}
SEVERITY_STYLE = {
    Severity.ERROR: ("ERROR", "bold red"),
    Severity.WARNING: ("WARNING", "yellow"),
    Severity.INFO: ("INFO", "cyan"),
}


def _cells(*values: str) -> list[Text]:
    """A table row of data: each value a ``Text``, never markup."""
    return [rich_text(value) for value in values]


def _status(status: VerdictStatus) -> Text:
    word, style = STATUS_STYLE[status]
    return Text(word, style=style)


def _apps(report: Report, width: int) -> Table | Text | Group:
    if not report.apps:
        return Text("No Recruitee enterprise application found.", style="bold red")
    table = _plain_table(apps_table(report), width)
    identity = app_identity_line(report)
    return Group(table, _wrapped(Text(), identity, width)) if identity else table


def _settings(report: Report) -> Table:
    s = report.settings
    table = Table(title=Text("Tenant settings"), title_justify="left", show_header=False)
    table.add_column("Setting")
    table.add_column("Value")
    consent = s.user_consent + (
        f" ({', '.join(s.user_consent_policies)})" if s.user_consent_policies else ""
    )
    table.add_row(*_cells("User consent", consent))
    reviewers = f", {s.admin_consent_reviewers} reviewer(s)" if s.admin_consent_reviewers else ""
    table.add_row(*_cells("Admin consent requests", s.admin_consent_workflow + reviewers))
    table.add_row(*_cells("Users can register apps", s.app_registration_by_users))
    table.add_row(*_cells("Conditional Access", s.conditional_access))
    return table


def _grants(report: Report, width: int) -> Table | Text | None:
    if not report.grants and not any(u.count for u in report.user_grants):
        return None
    rows = [
        [
            g.app_object_id,
            consent_words(g.consent_type),
            g.principal_id
            or ("all users" if g.consent_type.casefold() == "allprincipals" else "unknown"),
            g.resource,
            " ".join(g.scopes),
        ]
        for g in report.grants
    ]
    rows += [
        [
            u.app_object_id,
            consent_words("Principal"),
            f"{u.count} user grant(s)",
            "Microsoft Graph",
            ", ".join(f"{k} ({v})" for k, v in u.scope_counts.items()),
        ]
        for u in report.user_grants
        if u.count
    ]
    return _plain_table(
        PlainTable(
            "Delegated permission grants",
            ["App object id", "Consent", "For whom", "Resource", "Scopes"],
            rows,
        ),
        width,
    )


def _heading(title: str, intro: str | None = None) -> Text:
    text = Text(title, style="bold underline")
    if intro:
        text.append("\n" + intro, style="dim")
    return text


def _step_status(step: ChainStep) -> Text:
    word, style = STATUS_STYLE[step.status]
    text = Text(word, style=style)
    if step.is_verdict:
        text.append(" <- verdict", style="bold")
    return text


def _chain_full(report: Report, verdict: FeatureVerdict) -> Table:
    """With --user: every link on its own row, the first broken one marked."""
    table = Table(title=rich_text(chain_title(report, verdict)), title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Link", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    for step in chain_steps(verdict):
        table.add_row(
            Text(str(step.number)),
            rich_text(step.label),
            _step_status(step),
            rich_text(step.detail),
        )
    return table


def _chain_compact(report: Report, verdict: FeatureVerdict, width: int) -> Text:
    """Without --user: the links on one line; details only for those that do not pass. A
    chain wider than ``width`` breaks between links, the next line hanging under the first
    ("  > Session PASS"), never inside a link and never at the left margin."""
    steps = chain_steps(verdict)
    text = _wrapped(Text(style="bold"), chain_title(report, verdict), width)
    text.append("\n  ")
    column = 2
    for n, step in enumerate(steps):
        link = Text(f"{step.label} ")
        link.append_text(_step_status(step))
        if n and column + 3 + link.cell_len > width:
            text.append("\n  > ", style="dim")
            column = 4
        elif n:
            text.append(" > ", style="dim")
            column += 3
        text.append_text(link)
        column += link.cell_len
    for step in steps:
        if step.status is not VerdictStatus.PASS:
            text.append("\n")
            text.append_text(
                _wrapped(Text(f"  {step.number}. "), f"{step.label}: {step.detail}", width)
            )
    return text


# Short-valued columns whose headers would otherwise take width from the long ones.
_NARROW = {"Applies to this user": 10, "State": 11, "Granted": 7}


def _column_floor(table: PlainTable, n: int) -> int:
    """The width below which column ``n`` would have to cut a word, id or scope name."""
    words = [w for row in table.rows for w in row[n].split()] + table.headers[n].split()
    return min(max((len(w) for w in words), default=1), 36)


def _records(table: PlainTable, width: int) -> Text:
    """A table too wide for the terminal, as one block per row: 'Header: value' lines."""
    text = rich_text(table.title, style="bold") if table.title else Text()
    for row in table.rows:
        for n, (header, value) in enumerate(zip(table.headers, row, strict=True)):
            bullet = "- " if n == 0 else "  "
            line = _wrapped(Text(f"{bullet}{header}: "), value, width)
            text.append("\n" if text.plain else "")
            text.append_text(line)
    return text


def _plain_table(table: PlainTable, width: int) -> Table | Text:
    """A table whose columns are wide enough never to cut a word (a scope, policy id or
    appId is wrapped between words); when that cannot fit ``width``, one block per row."""
    floors = [_column_floor(table, n) for n in range(len(table.headers))]
    if sum(f + 3 for f in floors) + 1 > width:
        return _records(table, width)
    out = Table(title=rich_text(table.title) if table.title else None, title_justify="left")
    for header, floor in zip(table.headers, floors, strict=True):
        out.add_column(
            header,
            overflow="fold",
            min_width=floor,
            max_width=None if header not in _NARROW else max(_NARROW[header], floor),
        )
    for row in table.rows:
        out.add_row(*_cells(*row))
    return out if _fits(out, width) else _records(table, width)


def _fits(table: Table, width: int) -> bool:
    """Whether rich draws ``table`` whole at ``width``: it crops the right edge otherwise."""
    probe = report_console(file=io.StringIO(), width=width, no_color=True)
    lines = probe.render_lines(table, probe.options, pad=False)
    return bool(lines) and "".join(s.text for s in lines[-1]).rstrip().endswith(("┘", "┛"))


def _details(report: Report, console: Console, once: FirstMention) -> None:
    """The causal chains, who can consent to each scope, and Conditional Access."""
    features = chain_features(report)
    if features:
        console.print(_heading(chain_heading(report), chain_intro(report)))
        for verdict in features:
            console.print()
            if report.user is not None:
                console.print(_chain_full(report, verdict))
            else:
                console.print(_chain_compact(report, verdict, console.width), soft_wrap=True)
        console.print()
    scopes = merge_identical(all_scope_tables(report))
    if scopes:
        console.print(_heading(SCOPES_HEADING, SCOPES_INTRO))
        for table in scopes:
            console.print()
            console.print(_plain_table(once.table(table), console.width))
        console.print()
    console.print(_heading(CA_HEADING))
    note = conditional_access_note(report)
    if note:
        console.print(rich_text(note))
    for table in merge_identical(conditional_access_tables(report)):
        console.print(_plain_table(table, console.width))
    console.print()


def _wrapped(head: Text, body: str, width: int) -> Text:
    """``head`` then ``body`` wrapped at spaces under itself: never inside a word, an id or
    a scope name (a token longer than the line stays whole and the terminal folds it: print
    the result with ``soft_wrap=True``, or rich wraps it again and breaks that token).

    Without a head, continuation lines hang by two spaces: wrapped text that carries tenant
    names never starts a line at the left margin, where the report's own lines (a plan step
    "2. ...") start."""
    indent = head.cell_len
    lines = CommandKeepingWrapper(
        width=max(width - indent, 20),
        subsequent_indent="" if indent else "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ).wrap(body) or [""]
    text = head.copy()
    text.append(lines[0])
    for line in lines[1:]:
        text.append("\n" + " " * indent + line)
    return text


def _summary_header(report: Report, width: int) -> Text:
    """One line: overall status, tenant, source (and user): what this screen is about."""
    word, style = STATUS_STYLE[headline_status(report)]
    head = Text("consent-audit: ", style="bold")
    head.append(word, style=style)
    head.append(" ")
    tenant = report.tenant.default_domain or report.tenant.id
    user = user_label(report)
    # A user's sign-in name usually carries the tenant's domain: then it alone says both.
    who = tenant if user is None else user
    if user is not None and not user.casefold().endswith("@" + tenant.casefold()):
        who = f"{user} in {tenant}"
    return _wrapped(head, f"for {who} · {short_source(report)}", width)


def _verdict_lines(report: Report, width: int) -> list[Text]:
    """Per feature: status, name and the one-line cause (wrapped under the cause)."""
    name_width = max((len(v.title) for v in report.features), default=0)
    lines = []
    for v in report.features:
        word, style = STATUS_STYLE[v.status]
        head = Text(f"{word:<7} ", style=style)
        head.append(f"{v.title:<{name_width}}  ")
        lines.append(_wrapped(head, feature_cause(report, v), width))
    return lines


def _plan_lines(report: Report, width: int) -> list[Text]:
    """The plan's steps, one line each (a long one wraps under its own text); a step whose
    findings the baseline all accepts says so, with the reason."""
    digits = len(str(len(report.plan)))
    lines = []
    for step in report.plan:
        mine = [
            f
            for f in report.findings
            if f.id in step.finding_ids and any(r.plan_step == step.number for r in f.remediation)
        ]
        notes = [acceptance_note(f) for f in mine]
        summary = step.summary
        if mine and all(notes):
            summary += f" ({'; '.join(dict.fromkeys(n for n in notes if n))})"
        lines.append(_wrapped(Text(f"{step.number:>{digits}}. "), summary, width))
    return lines


def _indented(line: str, width: int, style: str = "") -> Text:
    """A prose line wrapped under its own indentation."""
    body = line.lstrip(" ")
    return _wrapped(Text(" " * (len(line) - len(body)), style=style), body, width)


def _plan_in_full(report: Report, console: Console) -> None:
    """Every step with its request: prose wrapped under itself, commands outside any box,
    broken only between arguments with their shell's continuation character (plan.py), so a
    copy runs whole."""
    console.print(Text(f"{PLAN_HEADING}:", style="bold"))
    for step in report.plan:
        first, *rest = plan_step_lines(step, width=console.width)
        number, _, summary = first.partition(" ")
        head = Text(f"{number} ", style="bold")
        head.append(summary)
        console.print(head, soft_wrap=True)
        for line in rest:
            console.print(Text(line), soft_wrap=True)


def _finding_block(report: Report, f: Finding, once: FirstMention, width: int) -> list[Text]:
    """A finding as plain indented text (no box, so nothing in it is cut or framed)."""
    word, style = SEVERITY_STYLE[f.severity]
    head = Text.assemble((f"{word} ", style), (f.id, "bold"), "  ")
    lines = [_wrapped(head, f.title, width)]
    accepted = acceptance_note(f)
    if accepted:
        lines.append(_indented(f"  {accepted}", width, "bold"))
    lines.append(_indented(f"  {once.strip(f.detail)}", width))
    meta = []
    if f.features:
        meta.append(f"Affects: {', '.join(f.features)}")
    if f.app_object_id and len(report.apps) > 1:
        meta.append(f"App: {app_label(report, f.app_object_id)}")
    if meta:
        lines.append(_indented(f"  {' · '.join(meta)}", width, "dim"))
    for step in f.remediation:
        lines.append(_indented(f"  Fix: {step.action}", width))
        if step.portal_path and step.plan_step is None:
            lines.append(_indented(f"    Admin center: {step.portal_path}", width, "dim"))
    return lines


def _leftover_lines(report: Report, width: int) -> list[Text]:
    """Per leftover app: one heading saying it is not in use and its fix once (delete it),
    then its findings one line each. Nothing about it stops sync, so nothing here reads as a
    failure or repeats the same fix per finding."""
    lines: list[Text] = []
    for app in report.apps:
        if app.in_use is not False:
            continue
        found = [f for f in report.findings if f.app_object_id == app.object_id]
        if not found:
            continue
        lines.append(Text())
        head = f"Leftover application {app_label(report, app.object_id)}: not in use"
        lines.append(_wrapped(Text(), head, width))
        lines[-1].stylize("bold")
        fix = next((f for f in found if f.id == "APP_DUPLICATE"), found[0])
        for step in fix.remediation[:1]:
            lines.append(_indented(f"  Fix: {step.action}", width))
        for f in found:
            if f.id == "APP_DUPLICATE":
                continue
            word = f.severity.value
            lines.append(_wrapped(Text(f"  {word} {f.id}: "), f.title, width))
    return lines


def render_to_console(report: Report, console: Console, *, details: bool = False) -> None:
    """The report on ``console``; make it with :func:`report_console` (no markup parsing).

    Without ``details``: the first screen only (header, verdict and cause per feature, the
    plan's steps one line each, where to find the rest). With it, everything.
    """
    report = clean_report(report)
    width = console.width
    console.print(_summary_header(report, width))
    for line in _verdict_lines(report, width):
        console.print(line)
    note = app_in_use_note(report)
    if note:
        console.print(_wrapped(Text(), note, width), style="italic", soft_wrap=True)
    unchecked = not_checked_line(report)
    if unchecked:
        console.print(_wrapped(Text(), unchecked, width), style="magenta", soft_wrap=True)
    fallback = what_if_fallback_line(report)
    if fallback:
        console.print(_wrapped(Text(), fallback, width), style="magenta", soft_wrap=True)
    if not details:
        if report.plan:
            console.print()
            console.print(Text(f"{PLAN_HEADING}:", style="bold"))
            for line in _plan_lines(report, width):
                console.print(line)
            if report.prediction is not None:
                console.print(
                    _wrapped(Text(), report.prediction.summary, width), style="bold", soft_wrap=True
                )
            console.print()
        for pointer in pointer_lines(report, width):
            console.print(Text(pointer), style="dim", soft_wrap=True)
        gate = gate_lines(report)
        for gate_line in gate if gate_differs(report) else gate[1:]:
            console.print(_wrapped(Text(), gate_line, width), soft_wrap=True)
        return
    console.print()
    if report.plan:
        _plan_in_full(report, console)
        if report.prediction is not None:
            summary = f"{report.prediction.summary} (worked out offline, before any change)"
            console.print(_wrapped(Text(), summary, width), style="bold", soft_wrap=True)
        console.print()
    once = FirstMention()
    mine = [f for f in report.findings if not is_leftover_finding(report, f)]
    if mine:
        console.print(Text("Findings (along the causal chain, worst first)", style="bold"))
        for f in mine:
            for block_line in _finding_block(report, f, once, width):
                console.print(block_line, soft_wrap=True)
    elif not report.findings:
        console.print(Text("No findings.", style="green"))
    for line in _leftover_lines(report, width):
        console.print(line, soft_wrap=True)
    console.print()
    _details(report, console, once)
    parts: list[Table | Text | Group] = [_apps(report, width), _settings(report)]
    grants = _grants(report, width)
    if grants is not None:
        parts.append(grants)
    console.print(Group(*parts))
    console.print(Text("\n" + summary_line(report)))
    for gate_line in gate_lines(report):
        console.print(rich_text(gate_line))


def render_text_plain(report: Report, options: RenderOptions | None = None) -> str:
    """Plain text (no colour codes) for files and pipes; everything with ``--details``."""
    buffer = io.StringIO()
    console = report_console(file=buffer, width=110, no_color=True, force_terminal=False)
    render_to_console(report, console, details=bool(options and options.details))
    return buffer.getvalue()
