"""Markdown: fit for a ticket, a pull request or a CI job summary (GITHUB_STEP_SUMMARY).

What answers the question comes first: the verdict per feature with its one-line cause, then
the fix plan ("Do this next") with each request in a code block to copy. Everything else
(per-app verdicts, findings, causal chains, who can consent, Conditional Access, apps,
settings) sits in one collapsed <details> block, which GitHub and GitLab render and other
viewers show as plain text.
"""

from __future__ import annotations

import json
import re

from consent_audit.render import RenderOptions
from consent_audit.render.common import (
    CA_HEADING,
    SCOPES_HEADING,
    SCOPES_INTRO,
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
    fails_run,
    gate_lines,
    headline_status,
    is_leftover_finding,
    not_checked_line,
    source_label,
    step_lines,
    summary_line,
    tenant_label,
    user_label,
    verdict_rows,
    what_if_fallback_line,
    why,
)
from consent_audit.render.plan import PLAN_HEADING, PLAN_INTRO, feature_cause
from consent_audit.render.safe_text import clean_report
from consent_audit.report import STATUS_WORD, Finding, PlanStep, Report

COMMAND_LABELS = frozenset({"Graph", "PowerShell"})
"""Remediation parts shown as code: commands built from validated values (commands.py).
Everything else (admin-center paths naming tenant objects) is escaped text."""
# A documentation link consent-audit itself gives: Microsoft's sites, plain URL characters.
_OWN_DOCS = re.compile(
    r"https://(?:learn\.microsoft\.com|login\.microsoftonline\.com)/[\w./?=&%#-]*"
)
# Inline syntax GFM acts on: escapes, code spans, emphasis (* _), strikethrough (~), HTML and
# autolinks (< >), links and images ([ ]), entities (&), table cells (|), email autolinks (@).
_SPECIAL = re.compile(r"([\\`*_~<>\[\]&|@])")
# GFM's extended autolinks without angle brackets: a scheme's "://" and "www." start a link
# (github.github.com/gfm 6.9); an escaped ":" or "." is shown as written and links nothing.
_BARE_URL = re.compile(r"(://)|(?i:\b(www)\.)")
# What opens a block when it starts a line: heading, quote, list, rule, fence, setext.
_BLOCK_START = re.compile(r"^(?:([#>+\-=~_])|(\d+)([.)]))")


def _unlink(match: re.Match[str]) -> str:
    return "\\://" if match.group(1) else f"{match.group(2)}\\."


def _inline(value: str) -> str:
    """One line with Markdown's inline syntax escaped: emphasis, strikethrough, code spans,
    links, autolinks and bare URLs, HTML, entities and cell separators."""
    return _BARE_URL.sub(_unlink, _SPECIAL.sub(r"\\\1", " ".join(value.split())))


def _escape_block_start(match: re.Match[str]) -> str:
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"


def text(value: str) -> str:
    """One line that Markdown shows as written: no emphasis, link, HTML, entity or block.

    ``value`` is already clean (one line, no controls: render.safe_text); here only Markdown's
    own syntax is escaped, including a block starter where the value would begin a line.
    """
    return _BLOCK_START.sub(_escape_block_start, _inline(value))


def cell(value: str) -> str:
    """Text for a table cell: one line, every inline syntax and the pipe escaped, never a
    code span (a backtick in data must not open one that swallows the cell separators)."""
    return _inline(value) or "-"


def code(value: str) -> str:
    """An inline code span that survives backticks inside ``value``."""
    value = " ".join(value.split())
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _verdicts(report: Report) -> list[str]:
    return [
        "| Feature | Verdict | Cause |",
        "|---|---|---|",
        *[
            f"| {cell(v.title)} | **{STATUS_WORD[v.status]}** | {cell(feature_cause(report, v))} |"
            for v in report.features
        ],
    ]


def _fence(value: str) -> list[str]:
    """A fenced block: copied as written, never re-wrapped by the viewer."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"   {fence}", f"   {' '.join(value.split())}", f"   {fence}"]


def _fence_lines(value: str) -> list[str]:
    """A fenced block of several commands, one per line."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    body = [f"   {' '.join(line.split())}" for line in value.splitlines()]
    return [f"   {fence}", *body, f"   {fence}"]


def _plan_step(step: PlanStep) -> list[str]:
    fixes = ", ".join(f"`{i}`" for i in step.finding_ids)
    lines = [f"{step.number}. **{text(step.summary)}** (resolves {fixes})"]
    if step.detail:
        lines += ["", f"   {text(step.detail)}"]
    if step.graph:
        lines += ["", "   Graph:", "", *_fence(step.graph)]
    if step.names:
        named = "; ".join(f"{i} = {n}" for i, n in step.names.items())
        lines += ["", f"   Ids: {text(named)}"]
    if step.powershell:
        lines += ["", "   PowerShell:", "", *_fence(step.powershell)]
    if step.connect and step.invoke:
        block = f"{step.connect}\n{step.invoke}"
        lines += ["", "   PowerShell request:", "", *_fence_lines(block)]
    if step.az_rest:
        lines += ["", "   Azure CLI (bash):", "", *_fence(step.az_rest)]
    if step.portal_path:
        lines += ["", f"   Admin center: {text(step.portal_path)}"]
    if step.trade_off:
        lines += ["", f"   Trade-off: {text(step.trade_off)}"]
    if step.permission:
        lines += ["", f"   Needs: `{step.permission}`"]
    return [*lines, ""]


def _plan(report: Report) -> list[str]:
    if not report.plan:
        return ["Nothing to change.", ""]
    lines = [text(PLAN_INTRO), ""]
    for step in report.plan:
        lines += _plan_step(step)
    if report.prediction is not None:
        lines += [
            f"**{text(report.prediction.summary)}** (worked out offline, before any change)",
            "",
        ]
    return lines


def _per_app(report: Report) -> list[str]:
    """Missing scopes per feature, and per app when there are several."""
    lines = [
        "## Verdicts in detail",
        "",
        "| Feature | Verdict | Missing scopes | First broken link |",
        "|---|---|---|---|",
        *[
            f"| {cell(v.title)} | **{STATUS_WORD[v.status]}** | "
            f"{cell(', '.join(v.missing_scopes))} | {cell(why(v))} |"
            for v in report.features
        ],
        "",
    ]
    if len(report.apps) > 1:
        lines += [
            f"Per Recruitee application ({len(report.apps)} found; the verdicts above are "
            + (
                "the app in use's"
                if report.app_in_use and report.app_in_use.object_id
                else "the worst app's"
            )
            + "):",
            "",
            "| Feature | App | Verdict | Missing scopes | Findings |",
            "|---|---|---|---|---|",
        ]
        for row in verdict_rows(report):
            label = app_label(report, row.app.object_id if row.app else None)
            lines.append(
                f"| {cell(row.feature.title)} | {cell(label)} | **{STATUS_WORD[row.status]}** | "
                f"{cell(', '.join(row.missing_scopes))} | {cell(', '.join(row.finding_ids))} |"
            )
        lines.append("")
    return lines


def _finding(report: Report, f: Finding, options: RenderOptions) -> list[str]:
    gate = " · fails the run" if fails_run(report, f) else ""
    lines = [f"### {f.severity.value.upper()} `{f.id}`: {text(f.title)}", ""]
    accepted = acceptance_note(f)
    if accepted:
        lines += [f"**{text(accepted)}**", ""]
    lines.append(text(f.detail))
    lines.append("")
    meta = []
    if f.features:
        meta.append(f"Affects: {', '.join(f.features)}")
    if f.app_object_id:
        meta.append(f"App: {text(app_label(report, f.app_object_id))}")
    meta.append(f"Severity: {f.severity.value}{gate}")
    if f.fingerprint:
        meta.append(f"Fingerprint: {f.fingerprint}")
    lines += [f"*{' · '.join(meta)}*", ""]
    if f.remediation:
        lines += ["**Fix**", ""]
        for n, step in enumerate(f.remediation, 1):
            lines.append(f"{n}. {text(step.action)}")
            for label, value in step_lines(step):
                if label in COMMAND_LABELS:
                    shown = code(value)
                elif label == "Docs" and _OWN_DOCS.fullmatch(value):
                    shown = f"<{value}>"
                else:
                    shown = text(value)
                lines.append(f"   - {label}: {shown}")
        lines.append("")
    if f.evidence:
        evidence = json.dumps(f.evidence, indent=2, sort_keys=True, default=str)
        lines += [
            "<details><summary>Evidence</summary>",
            "",
            "```json",
            evidence.replace("```", "` ` `"),
            "```",
            "",
            "</details>",
            "",
        ]
    return lines


def _settings(report: Report) -> list[str]:
    s = report.settings
    consent = s.user_consent + (
        f" ({', '.join(s.user_consent_policies)})" if s.user_consent_policies else ""
    )
    reviewers = f", {s.admin_consent_reviewers} reviewer(s)" if s.admin_consent_reviewers else ""
    rows = [
        ("User consent", consent),
        ("Admin consent requests", s.admin_consent_workflow + reviewers),
        ("Users can register apps", s.app_registration_by_users),
        ("Conditional Access", s.conditional_access),
    ]
    return [
        "| Setting | Value |",
        "|---|---|",
        *[f"| {name} | {cell(value)} |" for name, value in rows],
    ]


def _apps(report: Report) -> list[str]:
    if not report.apps:
        return ["No Recruitee enterprise application found."]
    lines = [
        "| Name | appId | Object id | Enabled | Assignment required | Owner tenant | Publisher |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in apps_table(report).rows:
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    identity = app_identity_line(report)
    return [*lines, "", text(identity)] if identity else lines


def _table(table: PlainTable) -> list[str]:
    lines = [f"**{text(table.title)}**", ""] if table.title else []
    return [
        *lines,
        "| " + " | ".join(cell(h) for h in table.headers) + " |",
        "|" + "---|" * len(table.headers),
        *["| " + " | ".join(cell(v) for v in row) + " |" for row in table.rows],
        "",
    ]


def _details(report: Report) -> list[str]:
    """The causal chains, who can consent to each scope, and Conditional Access."""
    lines: list[str] = []
    features = chain_features(report)
    if features:
        lines += [f"## {chain_heading(report)}", "", text(chain_intro(report)), ""]
        for verdict in features:
            lines += [f"**{text(chain_title(report, verdict))}**", ""]
            for step in chain_steps(verdict):
                status = f"**{text(step.marked_word)}**" if step.is_verdict else step.word
                lines.append(f"{step.number}. {status} {step.label}: {text(step.detail)}")
            lines.append("")
    scopes = all_scope_tables(report)
    if scopes:
        lines += [f"## {SCOPES_HEADING}", "", text(SCOPES_INTRO), ""]
        for table in scopes:
            lines += _table(table)
    lines += [f"## {CA_HEADING}", ""]
    note = conditional_access_note(report)
    if note:
        lines += [text(note), ""]
    for table in conditional_access_tables(report):
        lines += _table(table)
    return lines


def render_markdown(report: Report, options: RenderOptions | None = None) -> str:
    options = options or RenderOptions()
    report = clean_report(report)
    status = STATUS_WORD[headline_status(report)]
    lines = [
        f"## consent-audit: {status} for {text(tenant_label(report))}",
        "",
        f"- Source: {text(source_label(report))}",
    ]
    user = user_label(report)
    if user:
        lines.append(f"- User: {text(user)}")
    lines += [
        f"- Result: {summary_line(report)} (`--fail-on {report.gate.fail_on}`)",
        *(f"- {text(line)}" for line in gate_lines(report)),
        f"- consent-audit {report.tool_version}, report generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC",
        "",
        "### Can Recruitee sync?",
        "",
        *_verdicts(report),
        "",
        *([text(note), ""] if (note := app_in_use_note(report)) else []),
        *([text(unchecked), ""] if (unchecked := not_checked_line(report)) else []),
        *([text(fallback), ""] if (fallback := what_if_fallback_line(report)) else []),
        f"### {PLAN_HEADING}",
        "",
        *_plan(report),
        "<details><summary>Details: findings, causal chain, who can consent, Conditional "
        "Access, applications, settings</summary>",
        "",
        *_per_app(report),
        "## Findings",
        "",
    ]
    if report.findings:
        for f in report.findings:
            if not is_leftover_finding(report, f):
                lines += _finding(report, f, options)
        # A leftover app's findings under it: not in use, so none of them stops sync.
        for app in report.apps:
            found = [f for f in report.findings if f.app_object_id == app.object_id]
            if app.in_use is False and found:
                label = app_label(report, app.object_id)
                lines += [f"## Leftover application {text(label)}: not in use", ""]
                for f in found:
                    lines += _finding(report, f, options)
    else:
        lines += ["No findings.", ""]
    lines += _details(report)
    lines += [
        "## Recruitee enterprise applications",
        "",
        *_apps(report),
        "",
        "## Tenant settings",
        "",
        *_settings(report),
        "",
        "</details>",
        "",
    ]
    return "\n".join(lines)
