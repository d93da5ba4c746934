"""Generate the docs that must match the code: ``python -m consent_audit.docs_gen TOPIC``.

Topics:

- ``findings``: docs/findings.md, from the finding registry (``data/findings.toml``).
- ``permissions``: docs/permissions.md, from the collector's plan (``live.plan``).
- ``findings-json``: src/consent_audit/data/findings.json, the registry parsed once (loading
  it is faster than parsing ``findings.toml`` at every run).

``make docs`` regenerates all three; tests/test_docs.py fails when a committed page is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


def _raw_registry() -> dict[str, dict[str, Any]]:
    from consent_audit.evaluate.mechanisms import expand

    text = expand(
        resources.files("consent_audit.data").joinpath("findings.toml").read_text("utf-8")
    )
    raw: dict[str, dict[str, Any]] = tomllib.loads(text)
    return raw


def _verdict_rules() -> list[tuple[Any, str]]:
    from consent_audit.report import VerdictStatus

    return [
        (VerdictStatus.PASS, "No required scope is missing; no error or warning affects it."),
        (
            VerdictStatus.WARN,
            "It works, but a warning affects it (for example: only the people who consented "
            "themselves are covered; the others are asked when they connect).",
        ),
        (VerdictStatus.FAIL, "At least one error affects it: sync cannot run now."),
        (
            VerdictStatus.UNKNOWN,
            "No error, but a part of the tenant it depends on could not be read.",
        ),
        (
            VerdictStatus.NOT_CHECKED,
            "Only a link of the causal chain, never a feature: what the link rests on was not "
            "read (the Session link without the sign-in log), so it neither passes nor fails. "
            "The first screen names it and how to check it.",
        ),
    ]


def findings_markdown() -> str:
    """docs/findings.md: every finding code, what it means, why it happens, how to fix it."""
    from consent_audit.evaluate.registry import registry

    specs = registry()
    raw = _raw_registry()
    verdict_rules = _verdict_rules()
    lines = [
        "# Finding codes",
        "",
        "Generated from `src/consent_audit/data/findings.toml` by",
        "`python -m consent_audit.docs_gen findings` (`make docs`); do not edit by hand.",
        "",
        "Every finding in a report has one of these codes. The severity is the default; where a",
        "rule raises or lowers it, the note says when. Admin-center paths start in the",
        "[Microsoft Entra admin center](https://entra.microsoft.com). A report's own finding",
        "carries the exact fix for the tenant (admin-center path, Graph request, PowerShell).",
        "",
        "## How findings make a feature's verdict",
        "",
        "Each feature (and each Recruitee app's feature) gets one status, from the findings",
        "that affect it and the parts of the tenant that could not be read:",
        "",
        "| Verdict | When |",
        "|---|---|",
        *[f"| **{status.value.upper()}** | {when} |" for status, when in verdict_rules],
        "",
        "The worst wins: FAIL, then UNKNOWN, then WARN, then PASS. An `info` finding never",
        "changes a verdict.",
        "",
        "## Codes",
        "",
        "| Code | Severity | Title |",
        "|---|---|---|",
    ]
    for code, spec in specs.items():
        anchor = code.lower()
        lines.append(f"| [`{code}`](#{anchor}) | {spec.severity.value} | {spec.title} |")
    for code, spec in specs.items():
        severity = spec.severity.value
        if spec.severity_note:
            severity += f" ({spec.severity_note})"
        fix = raw.get(code, {}).get("fix") or "See the remediation in the report."
        lines += [
            "",
            f"## {code}",
            "",
            f"**{spec.title}**",
            "",
            f"- **Meaning:** {spec.meaning}",
            f"- **Severity:** {severity}",
            "- **Likely causes:**",
            *[f"  - {cause}" for cause in spec.causes],
            f"- **Admin center:** {spec.portal_path}",
            f"- **Fix:** {fix}",
            f"- **May be:** {', '.join(s.value for s in spec.severities)}",
            f"- **Causal-chain link:** {spec.link or 'none (it explains no link)'}",
            "- **Microsoft documentation:** " + ", ".join(f"<{url}>" for url in spec.docs),
        ]
    return "\n".join(lines) + "\n"


def permissions_markdown() -> str:
    """docs/permissions.md: every Graph call the collector makes and the permission it needs."""
    from consent_audit.live.plan import collection_plan
    from consent_audit.live.plan import permissions_markdown as render
    from consent_audit.manifest import load_manifest

    text = render(collection_plan(load_manifest()))
    return text if text.endswith("\n") else text + "\n"


def findings_json() -> str:
    """src/consent_audit/data/findings.json: findings.toml parsed, for the registry to load
    without parsing TOML at every run (evaluate/registry.py ``PARSED_COPY``)."""
    import json

    from consent_audit.evaluate.registry import parse_findings, source_digest

    data = resources.files("consent_audit.data")
    findings_toml = data.joinpath("findings.toml").read_text("utf-8")
    mechanisms_toml = data.joinpath("mechanisms.toml").read_text("utf-8")
    copy = {
        "source_sha256": source_digest(findings_toml, mechanisms_toml),
        "findings": parse_findings(findings_toml),
    }
    return json.dumps(copy, indent=1, ensure_ascii=False) + "\n"


TOPICS: dict[str, tuple[str, Callable[[], str]]] = {
    "findings": ("docs/findings.md", findings_markdown),
    "permissions": ("docs/permissions.md", permissions_markdown),
    "findings-json": ("src/consent_audit/data/findings.json", findings_json),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in TOPICS:
        known = "|".join(TOPICS)
        print(f"usage: python -m consent_audit.docs_gen {{{known}}}", file=sys.stderr)
        for name, (path, _) in TOPICS.items():
            print(f"  {name}: prints {path}", file=sys.stderr)
        return 2
    sys.stdout.write(TOPICS[args[0]][1]())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
