"""The finding registry: metadata for every finding code, loaded from ``data/findings.toml``.

Rules write the detail, evidence and remediation; the registry holds what is the same for
every occurrence of a code (title, default severity, meaning, causes, admin-center path),
so docs can be generated from it and a test can check every code has a rule.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from consent_audit.report import Finding, RemediationStep, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class FindingSpec:
    id: str
    title: str
    severity: Severity
    meaning: str
    causes: tuple[str, ...]
    portal_path: str
    severity_note: str | None = None


@lru_cache(maxsize=1)
def registry() -> dict[str, FindingSpec]:
    raw = tomllib.loads(
        resources.files("consent_audit.data").joinpath("findings.toml").read_text("utf-8")
    )
    return {
        code: FindingSpec(
            id=code,
            title=meta["title"],
            severity=Severity(meta["severity"]),
            meaning=meta["meaning"],
            causes=tuple(meta["causes"]),
            portal_path=meta["portal_path"],
            severity_note=meta.get("severity_note"),
        )
        for code, meta in raw.items()
    }


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
    """Build a finding for a registered code (an unregistered code is a programming error)."""
    spec = registry()[code]
    return Finding(
        id=code,
        severity=severity or spec.severity,
        title=title or spec.title,
        detail=detail,
        features=list(features),
        app_object_id=app_object_id,
        evidence=evidence or {},
        remediation=remediation or [],
    )
