"""The finding registry is the single source of truth, and every finding says what to do.

Checked over every finding the example tenants and the demo produce (tenant-wide and for every
--user in expectations.toml), so a rule that strays from data/findings.toml fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.evaluate.registry import CHAIN_LINKS, codes_by_link, finding, registry
from consent_audit.manifest import load_manifest
from consent_audit.report import Report, Severity
from consent_audit.snapshot import load_snapshot

from .test_examples import EXAMPLES, _checks, _id


def _report(check: dict[str, Any]) -> Report:
    snap = load_snapshot((EXAMPLES / check["snapshot"]).resolve())
    return evaluate(snap, load_manifest(), user=check.get("user"))


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_every_emitted_severity_is_one_the_registry_allows(check: dict[str, Any]) -> None:
    specs = registry()
    for f in _report(check).findings:
        assert f.severity in specs[f.id].severities, (f.id, f.severity.value)


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_every_warning_and_error_has_a_remediation_step(check: dict[str, Any]) -> None:
    report = _report(check)
    bare = [
        f.id
        for f in report.findings
        if f.severity is not Severity.INFO and not [s for s in f.remediation if s.action.strip()]
    ]
    assert bare == []


@pytest.mark.parametrize("check", _checks(), ids=_id)
def test_chain_links_are_the_registrys(check: dict[str, Any]) -> None:
    """The chain is built from the registry's links: each link's status is decided only by
    codes the registry puts in that link."""
    report = _report(check)
    names = [name for name, _ in CHAIN_LINKS]
    by_link = codes_by_link()
    for feature in report.features:
        chain = [link.name for link in feature.chain]
        assert chain == [n for n in names if n != "user" or report.user is not None]
        for link in feature.chain:
            if link.status.value == "fail":
                assert any(
                    f.id in by_link[link.name] and f.severity is Severity.ERROR
                    for f in report.findings
                    if feature.name in f.features
                ), (feature.name, link.name)


def test_every_code_declares_severities_a_link_and_microsoft_docs() -> None:
    links = {name for name, _ in CHAIN_LINKS}
    for code, spec in registry().items():
        assert spec.severity in spec.severities, code
        assert spec.link is None or spec.link in links, code
        assert spec.docs, code
        assert all(url.startswith("https://learn.microsoft.com/") for url in spec.docs), code


def test_a_rule_cannot_pick_a_severity_the_registry_does_not_list() -> None:
    with pytest.raises(ValueError, match="SCOPE_EXTRA may not be error"):
        finding("SCOPE_EXTRA", "detail", severity=Severity.ERROR)
    assert finding("SCOPE_EXTRA", "detail").severity is Severity.INFO
