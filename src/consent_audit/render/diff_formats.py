"""Text, Markdown and JSON for ``consent-audit diff`` (tenant strings cleaned at this edge)."""

from __future__ import annotations

import json
from typing import Any

from consent_audit.diff import FindingRef, TenantDiff, VerdictChange
from consent_audit.diff_security import SecurityChange
from consent_audit.render.markdown import cell, text
from consent_audit.render.safe_text import (
    clean,
    clean_report,
    escape_json_bidi,
    json_safe_report,
)


def _status(v: VerdictChange) -> str:
    before = v.before.value.upper() if v.before else "absent"
    after = v.after.value.upper() if v.after else "absent"
    mark = " (worse)" if v.worse else ""
    return f"{before} -> {after}{mark}"


def _where(v: VerdictChange) -> str:
    return v.feature + (f" - app {v.app_id}" if v.app_id else "")


def _finding(r: FindingRef) -> str:
    about = " ".join(x for x in (r.feature, f"app {r.app_id}" if r.app_id else None) if x)
    where = f" {about}" if about else ""
    return f"{r.severity.value.upper()} {r.id} [{r.fingerprint}]{where}: {r.title}"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


SECURITY_HEADING = "Security-relevant Conditional Access changes"
EXIT_NOTE = "not counted in the exit code, which is about sync"


def _security_title(diff: TenantDiff) -> str:
    scope = (
        "; from two reports: only policies that target Recruitee, diff the snapshots for all"
        if diff.security_compared == "reports"
        else ""
    )
    return f"{SECURITY_HEADING} ({len(diff.security)}; {EXIT_NOTE}{scope})"


def _security_line(change: SecurityChange) -> str:
    name = f" ({change.name})" if change.name else ""
    return f"policy {change.policy_id}{name}: {change.detail}"


def _lines(diff: TenantDiff) -> list[tuple[str, list[str]]]:
    """(section heading, lines) in reading order; shared by text and Markdown."""
    sections: list[tuple[str, list[str]]] = [
        ("Verdicts", [f"{_where(v)}: {_status(v)}" for v in diff.verdicts]),
        (_security_title(diff), [_security_line(c) for c in diff.security]),
        (f"Findings resolved ({len(diff.resolved)})", [_finding(r) for r in diff.resolved]),
        (f"Findings appeared ({len(diff.appeared)})", [_finding(r) for r in diff.appeared]),
        (
            "Delegated permission grants",
            [
                f"app {g.app_id}, {g.consent} consent on {g.resource} ({g.change}): "
                + "; ".join(
                    [f"+ {', '.join(g.added)}"] * bool(g.added)
                    + [f"- {', '.join(g.removed)}"] * bool(g.removed)
                )
                for g in diff.grants
            ],
        ),
        (
            "Conditional Access policies",
            [
                f"{p.change} {p.id}"
                + (f" ({p.name})" if p.name else "")
                + "".join(
                    f"; {field}: {_value(old)} -> {_value(new)}"
                    for field, (old, new) in p.fields.items()
                )
                for p in diff.policies
            ],
        ),
        (
            "Tenant settings",
            [f"{s.setting}: {_value(s.before)} -> {_value(s.after)}" for s in diff.settings],
        ),
    ]
    return [(title, lines) for title, lines in sections if lines]


def _result(diff: TenantDiff) -> str:
    security = (
        f"; {len(diff.security)} security-relevant Conditional Access change(s) listed above, "
        f"{EXIT_NOTE}"
        if diff.security
        else ""
    )
    if diff.worse:
        return "Result: worse for sync (exit 1): " + "; ".join(diff.why_worse) + security
    if diff.unchanged:
        return "Result: no change (exit 0)"
    return "Result: nothing got worse for sync (exit 0)" + security


def render_diff_text(diff: TenantDiff) -> str:
    diff = clean_report(diff)
    out = [f"consent-audit diff: {diff.before} -> {diff.after}", ""]
    for title, lines in _lines(diff):
        out += [f"{title}:", *(f"  {line}" for line in lines), ""]
    out.append(_result(diff))
    return "\n".join(clean(line) for line in out) + "\n"


def render_diff_markdown(diff: TenantDiff) -> str:
    diff = clean_report(diff)
    out = [f"## consent-audit diff: {text(diff.before)} → {text(diff.after)}", ""]
    if diff.verdicts:
        out += ["| Feature / app | Before | After |", "|---|---|---|"]
        for v in diff.verdicts:
            before = v.before.value.upper() if v.before else "absent"
            after = v.after.value.upper() if v.after else "absent"
            out.append(
                f"| {cell(_where(v))} | {before} | **{after}**{' (worse)' if v.worse else ''} |"
            )
        out.append("")
    for title, lines in _lines(diff)[1 if diff.verdicts else 0 :]:
        out += [f"### {text(title)}", "", *(f"- {text(line)}" for line in lines), ""]
    out.append(f"**{text(_result(diff))}**")
    return "\n".join(out) + "\n"


def render_diff_json(diff: TenantDiff) -> str:
    """Data for programs, like the report JSON: strings as collected, except lone surrogates
    (U+FFFD: UTF-8 cannot encode them) and bidi controls written as escapes."""
    return escape_json_bidi(json_safe_report(diff).model_dump_json(indent=2)) + "\n"
