"""The finding registry: metadata for every finding code, loaded from ``data/findings.toml``.

It is the single source of truth for what is the same for every occurrence of a code: title,
default severity and the *only* severities a rule may give it, meaning, causes, admin-center
path, the causal-chain link it belongs to, and the Microsoft documents it encodes. A text may
quote a mechanism as ``{mechanism.NAME}`` (evaluate/mechanisms.py): one story per cause. Rules write
the detail, evidence and remediation. Docs are generated from it, ``verdicts.py`` builds the
causal chain from its ``link`` keys, and :func:`finding` refuses a severity the code does not
list (a programming error, caught by the tests that run every example tenant).
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from consent_audit.evaluate.mechanisms import expand
from consent_audit.severity import Severity

if TYPE_CHECKING:
    from consent_audit.report import Finding, RemediationStep

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


CHAIN_LINKS: tuple[tuple[str, str], ...] = (
    ("user", "User exists and can sign in"),
    ("app", "Recruitee is present and enabled"),
    ("consent", "Scopes are consented"),
    ("assignment", "User is assigned (when required)"),
    ("conditional_access", "No Conditional Access block"),
    ("session", "Background refresh succeeds"),
)
"""The causal chain, in order: (link name, what passing it means)."""


@dataclass(frozen=True)
class FindingSpec:
    id: str
    title: str
    severity: Severity
    meaning: str
    causes: tuple[str, ...]
    portal_path: str
    severity_note: str | None = None
    severities: tuple[Severity, ...] = ()
    """Every severity a rule may give this code (the default is one of them)."""
    link: str | None = None
    """The causal-chain link it belongs to (None: it explains no link, e.g. unread data)."""
    docs: tuple[str, ...] = ()
    """The Microsoft documentation the rule encodes."""


PARSED_COPY = "findings.json"
"""``findings.toml`` as parsed, mechanisms expanded, written by ``make docs``
(``python -m consent_audit.docs_gen findings-json``) with the digest of the files it was made
from. ``tomllib`` is pure Python: parsing the 30 KB file took ~5 ms of every run
(docs/performance.md, Start-up); ``json`` reads the copy in a fraction of that."""


def source_digest(findings_toml: str, mechanisms_toml: str) -> str:
    """What the parsed copy was made from: both files' text, hashed."""
    both = f"{findings_toml}\0{mechanisms_toml}".encode()
    return hashlib.sha256(both).hexdigest()


def parse_findings(findings_toml: str) -> dict[str, Any]:
    """``findings.toml`` parsed, each ``{mechanism.NAME}`` expanded (the registry's source)."""
    raw: dict[str, Any] = tomllib.loads(expand(findings_toml))
    return raw


def _raw_findings() -> dict[str, Any]:
    """The parsed copy when it was made from the bundled files as they are, else the TOML
    parsed now: an edited ``findings.toml`` or ``mechanisms.toml`` is read as written
    (tests/test_docs.py then asks for ``make docs``)."""
    data = resources.files("consent_audit.data")
    findings_toml = data.joinpath("findings.toml").read_text("utf-8")
    mechanisms_toml = data.joinpath("mechanisms.toml").read_text("utf-8")
    copy = data.joinpath(PARSED_COPY)
    if copy.is_file():
        parsed = json.loads(copy.read_text("utf-8"))
        if parsed.get("source_sha256") == source_digest(findings_toml, mechanisms_toml):
            findings: dict[str, Any] = parsed["findings"]
            return findings
    return parse_findings(findings_toml)


@lru_cache(maxsize=1)
def registry() -> dict[str, FindingSpec]:
    raw = _raw_findings()
    specs = {
        code: FindingSpec(
            id=code,
            title=meta["title"],
            severity=Severity(meta["severity"]),
            meaning=meta["meaning"],
            causes=tuple(meta["causes"]),
            portal_path=meta["portal_path"],
            severity_note=meta.get("severity_note"),
            severities=tuple(Severity(s) for s in meta["severities"]),
            link=meta.get("link") or None,
            docs=tuple(meta["docs"]),
        )
        for code, meta in raw.items()
    }
    links = {name for name, _ in CHAIN_LINKS}
    for spec in specs.values():
        if spec.severity not in spec.severities or (spec.link and spec.link not in links):
            raise ValueError(f"data/findings.toml: {spec.id}: bad severities or link")
    return specs


@lru_cache(maxsize=1)
def codes_by_link() -> dict[str, frozenset[str]]:
    """Chain link name -> the codes that belong to it, from the registry."""
    out: dict[str, set[str]] = {name: set() for name, _ in CHAIN_LINKS}
    for spec in registry().values():
        if spec.link:
            out[spec.link].add(spec.id)
    return {name: frozenset(codes) for name, codes in out.items()}


def finding(
    code: str,
    detail: str,
    *,
    features: list[str] | tuple[str, ...] = (),
    severity: Severity | None = None,
    title: str | None = None,
    app_object_id: str | None = None,
    evidence: dict[str, Any] | None = None,
    remediation: list[RemediationStep] | None = None,
) -> Finding:
    """Build a finding for a registered code (an unregistered code, or a severity the
    registry does not list for it, is a programming error)."""
    # The report models are imported here, not with the module: ``explain`` reads the
    # registry without building them.
    from consent_audit.report import Finding

    spec = registry()[code]
    chosen = severity or spec.severity
    if chosen not in spec.severities:
        raise ValueError(f"{code} may not be {chosen.value} (data/findings.toml severities)")
    return Finding(
        id=code,
        severity=chosen,
        title=title or spec.title,
        detail=detail,
        features=list(features),
        app_object_id=app_object_id,
        evidence=evidence or {},
        remediation=remediation or [],
    )
