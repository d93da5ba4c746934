"""Text for a terminal (rich): verdicts first, then findings with their fix, then settings.

Readable without colour: every status is also a word, and NO_COLOR / pipes turn colour off
(rich honours both).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from consent_audit.render.common import PlainTable, detail_tables
from consent_audit.report import Finding, Report, Severity, VerdictStatus

if TYPE_CHECKING:
    from consent_audit.render import RenderOptions

STATUS_STYLE = {
    VerdictStatus.PASS: ("PASS", "bold green"),
    VerdictStatus.FAIL: ("FAIL", "bold red"),
    VerdictStatus.UNKNOWN: ("UNKNOWN", "bold yellow"),
}
SEVERITY_STYLE = {
    Severity.ERROR: ("ERROR", "bold red"),
    Severity.WARNING: ("WARNING", "yellow"),
    Severity.INFO: ("INFO", "cyan"),
}


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
    table = Table(title="Can Recruitee sync?", title_justify="left", expand=False)
    table.add_column("Feature")
    table.add_column("Verdict")
    table.add_column("Missing scopes")
    table.add_column("Why")
    for v in report.features:
        broken = next((link for link in v.chain if link.status is not VerdictStatus.PASS), None)
        why = broken.detail if broken else "all checks pass"
        table.add_row(v.title, _status(v.status), ", ".join(v.missing_scopes) or "-", why)
    return table


def _apps(report: Report) -> Table | Text:
    if not report.apps:
        return Text("No Recruitee enterprise application found.", style="bold red")
    table = Table(title="Recruitee enterprise applications", title_justify="left")
    for col in ("Name", "appId", "Object id", "Enabled", "Assignment required", "Publisher"):
        table.add_column(col)
    for a in report.apps:
        table.add_row(
            a.display_name or "-",
            a.app_id,
            a.object_id,
            "yes" if a.account_enabled else "NO",
            "yes" if a.assignment_required else "no",
            a.verified_publisher or "unverified",
        )
    return table


def _finding(f: Finding) -> Panel:
    word, style = SEVERITY_STYLE[f.severity]
    body = Text(f.detail)
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
    table = Table(title="Tenant settings", title_justify="left", show_header=False)
    table.add_column("Setting")
    table.add_column("Value")
    consent = s.user_consent + (
        f" ({', '.join(s.user_consent_policies)})" if s.user_consent_policies else ""
    )
    table.add_row("User consent", consent)
    reviewers = f", {s.admin_consent_reviewers} reviewer(s)" if s.admin_consent_reviewers else ""
    table.add_row("Admin consent requests", s.admin_consent_workflow + reviewers)
    table.add_row("Users can register apps", s.app_registration_by_users)
    table.add_row("Conditional Access", s.conditional_access)
    return table


def _grants(report: Report) -> Table | None:
    if not report.grants and not any(u.count for u in report.user_grants):
        return None
    table = Table(title="Delegated permission grants", title_justify="left")
    for col in ("App object id", "Consent", "Principal", "Resource", "Scopes"):
        table.add_column(col)
    for g in report.grants:
        table.add_row(
            g.app_object_id,
            "admin" if g.consent_type == "AllPrincipals" else "user",
            g.principal_id or "all users",
            g.resource,
            " ".join(g.scopes),
        )
    for u in report.user_grants:
        if u.count:
            scopes = ", ".join(f"{k} ({v})" for k, v in u.scope_counts.items())
            table.add_row(
                u.app_object_id, "user", f"{u.count} user grant(s)", "Microsoft Graph", scopes
            )
    return table


def _plain_table(table: PlainTable) -> Table:
    out = Table(title=table.title, title_justify="left")
    for header in table.headers:
        out.add_column(header, overflow="fold")
    for row in table.rows:
        out.add_row(*row)
    return out


def render_to_console(report: Report, console: Console) -> None:
    console.print(_header(report))
    console.print()
    console.print(_verdicts(report))
    console.print()
    if report.findings:
        console.print(Text("Findings", style="bold"))
        for f in report.findings:
            console.print(_finding(f))
    else:
        console.print(Text("No findings.", style="green"))
    console.print()
    for table in detail_tables(report):
        console.print(_plain_table(table))
        console.print()
    parts: list[Table | Text] = [_apps(report), _settings(report)]
    grants = _grants(report)
    if grants is not None:
        parts.append(grants)
    console.print(Group(*parts))
    s = report.summary
    console.print(
        Text(
            f"\n{s.errors} error(s), {s.warnings} warning(s), {s.infos} info. "
            f"Features: {s.features_pass} pass, {s.features_fail} fail, "
            f"{s.features_unknown} unknown."
        )
    )


def render_text_plain(report: Report, options: RenderOptions | None = None) -> str:
    """Plain text (no colour codes) for files and pipes."""
    buffer = io.StringIO()
    console = Console(
        file=buffer, width=110, no_color=True, highlight=False, force_terminal=False, emoji=False
    )
    render_to_console(report, console)
    return buffer.getvalue()
