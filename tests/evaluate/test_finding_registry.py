"""Every finding code in data/findings.toml has a rule test here, and registry metadata is sane."""

from __future__ import annotations

import re
from pathlib import Path

from consent_audit.evaluate.registry import registry

HERE = Path(__file__).parent


def test_every_finding_code_is_exercised_by_an_evaluate_test() -> None:
    text = "\n".join(
        p.read_text(encoding="utf-8")
        for p in HERE.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    asserted = set(re.findall(r'one\(\w+(?:\([^)]*\))?, "([A-Z_]+)"\)', text))
    asserted |= set(re.findall(r'"([A-Z_]+)" not in codes\(', text))

    assert sorted(set(registry()) - asserted) == []


def test_every_registry_entry_has_a_known_severity_and_portal_path() -> None:
    specs = registry()

    assert len(specs) >= 20
    for code, spec in specs.items():
        assert spec.id == code
        assert spec.severity.value in {"error", "warning", "info"}
        assert spec.portal_path.split(" > ")[0] == "Entra ID", code
        assert spec.causes, code
