"""HTML: one self-contained file to mail or attach to a ticket; works offline.

Inline CSS only: no script, no external stylesheet, font or image. Every value from the
tenant passes through ``html.escape``. Verdicts come first (one card per feature with its
one-line cause), then the fix plan ("Do this next", requests in copyable blocks); findings,
causal chains, consent and Conditional Access tables, settings and the raw report follow in
collapsed ``<details>`` blocks.
"""

from __future__ import annotations

import json
from html import escape

from consent_audit.render import RenderOptions
from consent_audit.render.common import (
    CA_HEADING,
    SCOPES_HEADING,
    SCOPES_INTRO,
    PlainTable,
    VerdictRow,
    acceptance_note,
    all_scope_tables,
    app_identity_line,
    app_in_use_note,
    app_label,
    apps_table,
    chain_heading,
    chain_scope,
    chain_steps,
    conditional_access_note,
    conditional_access_tables,
    fails_run,
    finding_anchor,
    gate_lines,
    headline_status,
    is_leftover_finding,
    leftover_ids,
    not_checked_line,
    source_label,
    step_lines,
    summary_line,
    tenant_label,
    user_label,
)
from consent_audit.render.plan import PLAN_HEADING, PLAN_INTRO, feature_cause
from consent_audit.render.safe_text import clean_report
from consent_audit.report import STATUS_WORD, FeatureVerdict, Finding, PlanStep, Report

CSS = """
:root { color-scheme: light dark; --fg:#1b1f24; --muted:#57606a; --bg:#ffffff; --card:#f6f8fa;
  --line:#d0d7de; --pass:#1a7f37; --warn:#bc4c00; --fail:#cf222e; --unknown:#9a6700;
  --info:#0969da; }
@media (prefers-color-scheme: dark) {
  :root { --fg:#e6edf3; --muted:#9198a1; --bg:#0d1117; --card:#161b22; --line:#30363d;
    --pass:#3fb950; --warn:#db6d28; --fail:#f85149; --unknown:#d29922;
    --info:#4493f8; } }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
  font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; }
main { max-width:1100px; margin:0 auto; padding:24px 20px 48px; }
h1 { font-size:1.6rem; margin:0 0 4px; } h2 { font-size:1.25rem; margin:32px 0 12px;
  padding-bottom:6px; border-bottom:1px solid var(--line); }
h3 { font-size:1.05rem; margin:0; }
.meta { color:var(--muted); margin:0; } .meta b { color:var(--fg); font-weight:600; }
code, pre { font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; }
code { background:var(--card); border:1px solid var(--line); border-radius:4px; padding:0 4px;
  overflow-wrap:anywhere; }
pre { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:10px;
  overflow:auto; white-space:pre-wrap; overflow-wrap:anywhere; margin:8px 0 0; }
.badge { display:inline-block; min-width:4.6em; text-align:center; border-radius:999px;
  padding:1px 10px; font-weight:700; font-size:.8rem; letter-spacing:.04em; color:#fff; }
.pass { background:var(--pass); } .warn { background:var(--warn); }
.fail, .error { background:var(--fail); }
.unknown, .warning { background:var(--unknown); } .info { background:var(--info); }
.banner { display:flex; gap:12px; align-items:center; margin:16px 0 8px; padding:12px 16px;
  border-radius:8px; border:1px solid var(--line); border-left:6px solid var(--muted);
  background:var(--card); }
.banner.s-pass { border-left-color:var(--pass); } .banner.s-fail { border-left-color:var(--fail); }
.banner.s-unknown { border-left-color:var(--unknown); }
.banner.s-warn { border-left-color:var(--warn); }
.cards { display:grid; gap:12px;
  grid-template-columns:repeat(auto-fit,minmax(min(300px,100%),1fr)); }
.card { background:var(--card); border:1px solid var(--line); border-top:5px solid var(--muted);
  border-radius:8px; padding:12px 14px; }
.card.s-pass { border-top-color:var(--pass); } .card.s-fail { border-top-color:var(--fail); }
.card.s-unknown { border-top-color:var(--unknown); }
.card.s-warn { border-top-color:var(--warn); }
.card header { display:flex; justify-content:space-between; align-items:center; gap:8px; }
.card p { margin:8px 0 0; } .small { font-size:.85rem; color:var(--muted); }
.apps { list-style:none; padding:0; margin:8px 0 0; } .apps li { margin:4px 0; }
table { border-collapse:collapse; width:100%; font-size:.9rem; }
th, td { text-align:left; vertical-align:top; padding:6px 8px;
  border-bottom:1px solid var(--line); }
th { background:var(--card); }
td { overflow-wrap:break-word; }
.scroll { overflow-x:auto; }
.finding { border:1px solid var(--line); border-left:6px solid var(--muted); border-radius:8px;
  padding:12px 16px; margin:12px 0; }
.finding.sev-error { border-left-color:var(--fail); }
.finding.sev-warning { border-left-color:var(--unknown); }
.finding.sev-info { border-left-color:var(--info); }
.finding header { display:flex; flex-wrap:wrap; gap:8px; align-items:center; }
.finding .id { font-weight:700; }
.gate { font-size:.8rem; color:var(--fail); font-weight:600; }
.fix { margin:8px 0 0; padding-left:1.4em; } .fix li { margin:6px 0; }
.fix dl { display:grid; grid-template-columns:max-content minmax(0,1fr); gap:2px 10px;
  margin:4px 0 0; }
.fix dt { color:var(--muted); } .fix dd { margin:0; min-width:0; overflow-wrap:anywhere; }
.fix dd code { display:block; padding:2px 6px; }
.plan > li { margin:12px 0; } .plan p { margin:4px 0; } .plan pre { margin:2px 0 0; }
details.more { margin-top:28px; } details.more > summary { font-size:1.1rem; font-weight:600; }
details { margin-top:8px; } summary { cursor:pointer; color:var(--muted); }
.chain { margin:6px 0 0; padding-left:1.6em; font-size:.85rem; }
.chain li { margin:4px 0; } .chain li.verdict { font-weight:600; }
.chain .badge { min-width:5.6em; padding:0 6px; font-size:.7rem; margin-right:4px; }
.mark { color:var(--fail); font-weight:700; white-space:nowrap; }
@media (min-width:700px) { .nw { white-space:nowrap; } }
.detail h3 { margin:18px 0 6px; } .detail p { margin:0 0 8px; }
@media (max-width:600px) {
  .fix dl { grid-template-columns:minmax(0,1fr); } .fix dt { margin-top:4px; }
  .detail thead { display:none; } .detail tr { display:block; padding:6px 0;
    border-bottom:1px solid var(--line); }
  .detail td { display:block; border:0; padding:1px 8px; overflow-wrap:anywhere; }
  .detail td::before { content:attr(data-label) ": "; color:var(--muted); font-weight:600; } }
footer { margin-top:40px; color:var(--muted); font-size:.85rem; }
@media print { body { font-size:11pt; } .card, .finding { break-inside:avoid; } }
"""


def _badge(word: str, css: str) -> str:
    return f'<span class="badge {css}">{escape(word)}</span>'


def _status_badge(status_value: str) -> str:
    return _badge(status_value.upper(), status_value)


def _card(report: Report, feature: FeatureVerdict) -> str:
    missing = ", ".join(feature.missing_scopes)
    parts = [
        f'<section class="card s-{feature.status.value}">',
        "<header>",
        f"<h3>{escape(feature.title)}</h3>",
        _status_badge(feature.status.value),
        "</header>",
        f"<p>{escape(feature_cause(report, feature))}</p>",
    ]
    if missing:
        parts.append(f'<p class="small">Missing scopes: {escape(missing)}</p>')
    # A leftover app's verdict decides nothing: it is not listed in the feature's card.
    leftovers = leftover_ids(report)
    rows = [VerdictRow(feature, app) for app in feature.apps if app.object_id not in leftovers]
    if len(rows) > 1:
        parts.append('<ul class="apps">')
        for row in rows:
            label = app_label(report, row.app.object_id if row.app else None)
            scopes = ", ".join(row.missing_scopes)
            note = f"missing {scopes}" if scopes else "no scope missing"
            parts.append(
                f"<li>{_status_badge(row.status.value)} {escape(label)}"
                f'<br><span class="small">{escape(note)}</span></li>'
            )
        parts.append("</ul>")
    if feature.chain:
        parts.append(_chain(report, feature))
    parts.append(f'<p class="small">Scopes: {escape(", ".join(feature.required_scopes))}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _chain(report: Report, feature: FeatureVerdict) -> str:
    """The causal chain as an ordered list with status badges, the first broken link marked.

    Open with --user (the question was about that person); otherwise collapsed: the card's
    cause line is the answer and the plan follows the cards.
    """
    opened = " open" if report.user is not None else ""
    summary = chain_heading(report)
    if len(feature.apps) > 1:
        summary += chain_scope(report, feature)
    parts = [f'<details{opened}><summary>{escape(summary)}</summary><ol class="chain">']
    for step in chain_steps(feature):
        css = ' class="verdict"' if step.is_verdict else ""
        mark = ' <span class="mark">&lt;- verdict</span>' if step.is_verdict else ""
        parts.append(
            f"<li{css}>{_status_badge(step.status.value)}"
            f"{escape(step.label)}: {escape(step.detail)}{mark}</li>"
        )
    parts.append("</ol></details>")
    return "\n".join(parts)


def _plan_step(step: PlanStep) -> str:
    codes = ", ".join(step.finding_ids)
    parts = [
        f'<li id="step-{step.number}"><b>{escape(step.summary)}</b> '
        f'<span class="small">(resolves {escape(codes)})</span>'
    ]
    if step.detail:
        parts.append(f"<p>{escape(step.detail)}</p>")
    rows = [
        ("Graph", step.graph, True),
        ("Ids", "; ".join(f"{i} = {n}" for i, n in step.names.items()) or None, False),
        ("Sign in (PowerShell)", step.connect, True),
        ("PowerShell", step.powershell, True),
        ("PowerShell request", step.invoke, True),
        ("Azure CLI (bash)", step.az_rest, True),
        ("Admin center", step.portal_path, False),
        ("Trade-off", step.trade_off, False),
        ("Needs", step.permission, False),
    ]
    shown = [(label, value, copy) for label, value, copy in rows if value]
    if shown:
        parts.append("<dl>")
        for label, value, copy in shown:
            body = f"<pre>{escape(value)}</pre>" if copy else escape(value)
            parts.append(f"<dt>{escape(label)}</dt><dd>{body}</dd>")
        parts.append("</dl>")
    parts.append("</li>")
    return "\n".join(parts)


def _plan(report: Report) -> str:
    parts = [f'<h2 id="plan">{escape(PLAN_HEADING)}</h2>']
    if not report.plan:
        return parts[0] + "<p>Nothing to change.</p>"
    parts.append(f'<p class="small">{escape(PLAN_INTRO)}</p>')
    parts.append('<ol class="fix plan">')
    parts += [_plan_step(step) for step in report.plan]
    parts.append("</ol>")
    if report.prediction is not None:
        parts.append(
            f'<p class="prediction"><b>{escape(report.prediction.summary)}</b> '
            '<span class="small">(worked out offline, before any change)</span></p>'
        )
    return "\n".join(parts)


def _finding(report: Report, index: int, f: Finding, options: RenderOptions) -> str:
    sev = f.severity.value
    parts = [
        f'<article class="finding sev-{sev}" id="{finding_anchor(index, f)}">',
        "<header>",
        _badge(sev.upper(), sev),
        f'<code class="id">{escape(f.id)}</code>',
        f"<h3>{escape(f.title)}</h3>",
    ]
    if fails_run(report, f):
        parts.append('<span class="gate">fails the run</span>')
    parts.append("</header>")
    accepted = acceptance_note(f)
    if accepted:
        parts.append(f'<p class="accepted"><b>{escape(accepted)}</b></p>')
    parts.append(f"<p>{escape(f.detail)}</p>")
    meta = []
    if f.features:
        meta.append(f"Affects: {', '.join(f.features)}")
    if f.app_object_id:
        meta.append(f"App: {app_label(report, f.app_object_id)}")
    if meta:
        parts.append(f'<p class="small">{escape(" · ".join(meta))}</p>')
    if f.remediation:
        parts.append('<h4>Fix</h4><ol class="fix">')
        for step in f.remediation:
            parts.append(f"<li>{escape(step.action)}")
            details = step_lines(step)
            if details:
                parts.append("<dl>")
                for label, value in details:
                    shown = (
                        f'<a href="{escape(value)}">{escape(value)}</a>'
                        if label == "Docs" and value.startswith(("https://", "http://"))
                        else f"<code>{escape(value)}</code>"
                    )
                    parts.append(f"<dt>{escape(label)}</dt><dd>{shown}</dd>")
                parts.append("</dl>")
            parts.append("</li>")
        parts.append("</ol>")
    if f.evidence:
        evidence = json.dumps(f.evidence, indent=2, sort_keys=True, default=str)
        parts.append(f"<details><summary>Evidence</summary><pre>{escape(evidence)}</pre></details>")
    parts.append("</article>")
    return "\n".join(parts)


# Columns of short values kept on one line on wide screens (CSS class "nw").
_ONE_LINE = {"Scope", "Granted", "User consent", "State", "Applies to this user", "Controls"}


def _table(head: list[str], rows: list[list[str]], *, stack: bool = False) -> str:
    """A table; with ``stack``, each cell is labelled so narrow screens show rows as cards."""
    css = [' class="nw"' if h in _ONE_LINE else "" for h in head]
    if stack:
        css = [f'{c} data-label="{escape(h)}"' for c, h in zip(css, head, strict=True)]
    out = [
        '<div class="scroll"><table>',
        "<thead><tr>",
        *[f"<th{c}>{escape(h)}</th>" for c, h in zip(css, head, strict=True)],
        "</tr></thead>",
    ]
    out.append("<tbody>")
    for row in rows:
        cells = "".join(f"<td{c}>{escape(v)}</td>" for c, v in zip(css, row, strict=True))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def _titled_table(table: PlainTable) -> str:
    title = f"<h3>{escape(table.title)}</h3>" if table.title else ""
    return title + _table(table.headers, table.rows, stack=True)


def _scopes_and_ca(report: Report) -> str:
    """Who can consent to each scope, then the Conditional Access policies on Recruitee."""
    parts: list[str] = []
    scopes = all_scope_tables(report)
    if scopes:
        parts += [
            f'<section class="detail"><h2 id="scopes">{escape(SCOPES_HEADING)}</h2>',
            f'<p class="small">{escape(SCOPES_INTRO)}</p>',
            *[_titled_table(table) for table in scopes],
            "</section>",
        ]
    parts.append(f'<section class="detail"><h2 id="conditional-access">{escape(CA_HEADING)}</h2>')
    note = conditional_access_note(report)
    if note:
        parts.append(f"<p>{escape(note)}</p>")
    parts += [_titled_table(table) for table in conditional_access_tables(report)]
    parts.append("</section>")
    return "\n".join(parts)


def _details_section(report: Report) -> str:
    s = report.settings
    consent = s.user_consent + (
        f" ({', '.join(s.user_consent_policies)})" if s.user_consent_policies else ""
    )
    reviewers = f", {s.admin_consent_reviewers} reviewer(s)" if s.admin_consent_reviewers else ""
    parts: list[str] = []
    parts.append(_scopes_and_ca(report))
    parts.append('<h2 id="settings">Tenant settings</h2>')
    parts.append(
        _table(
            ["Setting", "Value"],
            [
                ["User consent", consent],
                ["Admin consent requests", s.admin_consent_workflow + reviewers],
                ["Users can register apps", s.app_registration_by_users],
                ["Conditional Access", s.conditional_access],
            ],
        )
    )
    parts.append('<h2 id="apps">Recruitee enterprise applications</h2>')
    if report.apps:
        table = apps_table(report)
        parts.append(_table(table.headers, table.rows))
        identity = app_identity_line(report)
        if identity:
            parts.append(f"<p>{escape(identity)}</p>")
    else:
        parts.append("<p>No Recruitee enterprise application found.</p>")
    grant_rows = [
        [
            g.app_object_id,
            {"allprincipals": "admin", "principal": "user"}.get(
                g.consent_type.casefold(), "unknown"
            ),
            g.principal_id
            or ("all users" if g.consent_type.casefold() == "allprincipals" else "unknown"),
            g.resource,
            " ".join(g.scopes),
        ]
        for g in report.grants
    ]
    grant_rows += [
        [
            u.app_object_id,
            "user",
            f"{u.count} user grant(s)",
            "Microsoft Graph",
            ", ".join(f"{k} ({v})" for k, v in u.scope_counts.items()),
        ]
        for u in report.user_grants
        if u.count
    ]
    if grant_rows:
        parts.append(
            f"<details><summary>Delegated permission grants ({len(grant_rows)})</summary>"
            + _table(["App object id", "Consent", "Principal", "Resource", "Scopes"], grant_rows)
            + "</details>"
        )
    return "\n".join(parts)


def render_html(report: Report, options: RenderOptions | None = None) -> str:
    options = options or RenderOptions()
    report = clean_report(report)
    headline = headline_status(report)
    status = headline.value
    tenant = tenant_label(report)
    user = user_label(report)
    threshold = report.gate.fail_on
    meta = [f"<b>Tenant</b> {escape(tenant)}", f"<b>Source</b> {escape(source_label(report))}"]
    if user:
        meta.append(f"<b>User</b> {escape(user)}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="consent-audit">',
        f"<title>consent-audit: {escape(STATUS_WORD[headline])} for {escape(tenant)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<h1>Can Recruitee sync?</h1>",
        f'<p class="meta">{" &middot; ".join(meta)}</p>',
        f'<div class="banner s-{status}">{_status_badge(status)}'
        f"<span>{escape(summary_line(report))} "
        f'<span class="small">(--fail-on {escape(threshold)})</span></span></div>',
        *(f'<p class="small">{escape(line)}</p>' for line in gate_lines(report)),
        *([f'<p class="small">{escape(note)}</p>'] if (note := app_in_use_note(report)) else []),
        *([f"<p>{escape(unchecked)}</p>"] if (unchecked := not_checked_line(report)) else []),
        '<div class="cards">',
        *[_card(report, feature) for feature in report.features],
        "</div>",
        _plan(report),
        '<details class="more"><summary>Details: findings, who can consent, Conditional '
        "Access, applications, settings</summary>",
        f'<h2 id="findings">Findings ({len(report.findings)})</h2>',
    ]
    if report.findings:
        numbered = list(enumerate(report.findings, 1))
        parts += [
            _finding(report, i, f, options)
            for i, f in numbered
            if not is_leftover_finding(report, f)
        ]
        # A leftover app's findings under it: not in use, so none of them stops sync.
        for app in report.apps:
            found = [(i, f) for i, f in numbered if f.app_object_id == app.object_id]
            if app.in_use is False and found:
                label = app_label(report, app.object_id)
                parts.append(f"<h2>Leftover application {escape(label)}: not in use</h2>")
                parts += [_finding(report, i, f, options) for i, f in found]
    else:
        parts.append("<p>No findings.</p>")
    parts.append(_details_section(report))
    parts.append("</details>")
    raw = report.model_dump_json(indent=2)
    parts += [
        '<h2 id="raw">Raw report</h2>',
        f"<details><summary>The full report as JSON</summary><pre>{escape(raw)}</pre></details>",
        f"<footer>consent-audit {escape(report.tool_version)} &middot; generated "
        f"{report.generated_at:%Y-%m-%d %H:%M} UTC</footer>",
        "</main>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)
