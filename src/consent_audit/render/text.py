"""Text for a terminal (rich): verdicts first, then findings with their fix, then why (the
causal chain), who can consent to each scope, the Conditional Access policies on Recruitee,
and the tenant's applications, settings and grants.

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
from rich.panel import Panel
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
    app_in_use_note,
    chain_features,
    chain_heading,
    chain_intro,
    chain_steps,
    chain_title,
    conditional_access_note,
    conditional_access_tables,
    gate_lines,
    summary_line,
    why,
)
from consent_audit.render.plan import PLAN_HEADING, plan_step_lines
from consent_audit.render.safe_text import clean_report, report_console, rich_text
from consent_audit.report import FeatureVerdict, Finding, Report, Severity, VerdictStatus

if TYPE_CHECKING:
    from consent_audit.render import RenderOptions

STATUS_STYLE = {
    VerdictStatus.PASS: ("PASS", "bold green"),
    VerdictStatus.WARN: ("WARN", "bold dark_orange"),
    VerdictStatus.FAIL: ("FAIL", "bold red"),
    VerdictStatus.UNKNOWN: ("UNKNOWN", "bold yellow"),
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


def _header(report: Report) -> Text:
    tenant = report.tenant.default_domain or report.tenant.id
    src = report.source
    origin = {
        "snapshot": f"snapshot {src.path or ''}",
        "demo": "bundled demo tenant",
        "live": "live tenant",
    }[src.kind]
    text = Text()
    text.append("consent-audit ", style="bold")
    text.append(f"{report.tool_version}  tenant {tenant} ({report.tenant.id})\n")
    text.append(f"Source: {origin.strip()}, collected {src.collected_at:%Y-%m-%d %H:%M} UTC")
    if src.redacted:
        text.append(" (redacted)")
    if report.user:
        u = report.user
        text.append(f"\nUser: {u.user_principal_name or u.query}")
    return text


def _verdicts(report: Report) -> Table:
    table = Table(title=Text("Can Recruitee sync?"), title_justify="left", expand=False)
    table.add_column("Feature")
    table.add_column("Verdict")
    table.add_column("Missing scopes")
    table.add_column("Why")
    for v in report.features:
        table.add_row(
            rich_text(v.title),
            _status(v.status),
            rich_text(", ".join(v.missing_scopes) or "-"),
            rich_text(why(v)),
        )
    return table


def _apps(report: Report) -> Table | Text:
    if not report.apps:
        return Text("No Recruitee enterprise application found.", style="bold red")
    table = Table(title=Text("Recruitee enterprise applications"), title_justify="left")
    for col in ("Name", "appId", "Object id", "Enabled", "Assignment required", "Publisher"):
        table.add_column(col)
    for a in report.apps:
        table.add_row(
            *_cells(
                a.display_name or "-",
                a.app_id,
                a.object_id,
                "yes" if a.account_enabled else "NO",
                "yes" if a.assignment_required else "no",
                a.verified_publisher or "unverified",
            )
        )
    return table


def _finding(f: Finding) -> Panel:
    word, style = SEVERITY_STYLE[f.severity]
    accepted = acceptance_note(f)
    body = Text(f"{accepted}\n", style="bold") if accepted else Text()
    body.append(f.detail)
    if f.features:
        body.append(f"\nAffects: {', '.join(f.features)}", style="dim")
    for n, step in enumerate(f.remediation, 1):
        body.append(f"\n{n}. {step.action}")
        if step.portal_path:
            body.append(f"\n   Admin center: {step.portal_path}", style="dim")
        if step.graph:
            body.append(f"\n   Graph: {step.graph}", style="dim")
        if step.powershell:
            body.append(f"\n   PowerShell: {step.powershell}", style="dim")
    title = Text.assemble((f"{word} ", style), (f"{f.id}", "bold"), f"  {f.title}")
    return Panel(body, title=title, title_align="left", border_style=style)


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


def _grants(report: Report) -> Table | None:
    if not report.grants and not any(u.count for u in report.user_grants):
        return None
    table = Table(title=Text("Delegated permission grants"), title_justify="left")
    for col in ("App object id", "Consent", "Principal", "Resource", "Scopes"):
        table.add_column(col)
    for g in report.grants:
        table.add_row(
            *_cells(
                g.app_object_id,
                "admin" if g.consent_type == "AllPrincipals" else "user",
                g.principal_id or "all users",
                g.resource,
                " ".join(g.scopes),
            )
        )
    for u in report.user_grants:
        if u.count:
            scopes = ", ".join(f"{k} ({v})" for k, v in u.scope_counts.items())
            table.add_row(
                *_cells(
                    u.app_object_id, "user", f"{u.count} user grant(s)", "Microsoft Graph", scopes
                )
            )
    return table


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


def _chain_compact(report: Report, verdict: FeatureVerdict) -> Text:
    """Without --user: the links on one line; details only for those that do not pass."""
    steps = chain_steps(verdict)
    text = rich_text(chain_title(report, verdict), style="bold")
    text.append("\n  ")
    for n, step in enumerate(steps):
        if n:
            text.append(" > ", style="dim")
        text.append(f"{step.label} ")
        text.append_text(_step_status(step))
    for step in steps:
        if step.status is not VerdictStatus.PASS:
            text.append(f"\n  {step.number}. {step.label}: {step.detail}")
    return text


# Short-valued columns whose headers would otherwise take width from the long ones.
_NARROW = {"Applies to this user": 10, "State": 11, "Granted": 7}


def _plain_table(table: PlainTable) -> Table:
    out = Table(title=rich_text(table.title) if table.title else None, title_justify="left")
    for header in table.headers:
        out.add_column(header, overflow="fold", max_width=_NARROW.get(header))
    for row in table.rows:
        out.add_row(*_cells(*row))
    return out


def _details(report: Report, console: Console) -> None:
    """The causal chains, who can consent to each scope, and Conditional Access."""
    features = chain_features(report)
    if features:
        console.print(_heading(chain_heading(report), chain_intro(report)))
        for verdict in features:
            console.print()
            if report.user is not None:
                console.print(_chain_full(report, verdict))
            else:
                console.print(_chain_compact(report, verdict))
        console.print()
    scopes = all_scope_tables(report)
    if scopes:
        console.print(_heading(SCOPES_HEADING, SCOPES_INTRO))
        for table in scopes:
            console.print()
            console.print(_plain_table(table))
        console.print()
    console.print(_heading(CA_HEADING))
    note = conditional_access_note(report)
    if note:
        console.print(rich_text(note))
    for table in conditional_access_tables(report):
        console.print(_plain_table(table))
    console.print()


def render_to_console(report: Report, console: Console) -> None:
    """The report on ``console``; make it with :func:`report_console` (no markup parsing)."""
    report = clean_report(report)
    console.print(_header(report))
    console.print()
    console.print(_verdicts(report))
    note = app_in_use_note(report)
    if note:
        console.print(rich_text(note, style="italic"))
    console.print()
    if report.plan:
        console.print(Text(PLAN_HEADING, style="bold"))
        for step in report.plan:
            for line in plan_step_lines(step):
                command = line.lstrip().startswith(("Graph: ", "PowerShell: "))
                console.print(Text(line), soft_wrap=command)
        console.print()
    if report.findings:
        console.print(Text("Findings", style="bold"))
        for f in report.findings:
            console.print(_finding(f))
    else:
        console.print(Text("No findings.", style="green"))
    console.print()
    _details(report, console)
    parts: list[Table | Text] = [_apps(report), _settings(report)]
    grants = _grants(report)
    if grants is not None:
        parts.append(grants)
    console.print(Group(*parts))
    console.print(Text("\n" + summary_line(report)))
    for line in gate_lines(report):
        console.print(rich_text(line))


def render_text_plain(report: Report, options: RenderOptions | None = None) -> str:
    """Plain text (no colour codes) for files and pipes."""
    buffer = io.StringIO()
    console = report_console(file=buffer, width=110, no_color=True, force_terminal=False)
    render_to_console(report, console)
    return buffer.getvalue()
