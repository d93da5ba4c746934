"""Each Conditional Access policy is read once per audit, however many rules read it.

A tenant may hold 195 policies (the per-tenant maximum) naming thousands of groups; the CA
rules, the report's CA table and the MFA rule each go over every policy. Naming who a policy
includes and excludes, and reading its conditions and controls, is the work that grows with
the tenant (bench/scale.py): it is done once per policy (``AuditContext.ca_view``,
``ca_included``, ``ca_excluded``), everyone a policy names is named only for the report's CA
table (the one-line audience names the first few), and the report is the same as when every
rule read afresh.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from consent_audit.evaluate import ca_conditions, ca_names, conditional_access
from consent_audit.evaluate.context import PerObject
from consent_audit.evaluate.pipeline import evaluate
from consent_audit.manifest import load_manifest
from tests.security.big_tenant import build_tenant


def _counting(calls: Counter[tuple[str, int]], name: str, real: Callable[..., Any]) -> Any:
    def wrapper(policy: Any, *args: Any, **kwargs: Any) -> Any:
        calls[name, id(policy)] += 1
        return real(policy, *args, **kwargs)

    return wrapper


@pytest.mark.parametrize("user", [False, True], ids=["tenant-wide", "user"])
def test_every_policy_is_named_and_read_once_per_audit(
    monkeypatch: pytest.MonkeyPatch, user: bool
) -> None:
    tenant = build_tenant(grants=40, groups=60, policies=30, people=2, audited_groups=5)
    upn = tenant.audited_upn if user else None
    manifest = load_manifest()
    expected = evaluate(tenant.snapshot, manifest, user=upn)

    calls: Counter[tuple[str, int]] = Counter()
    # Wherever the rules reach these functions (the old code imported them by name).
    for module in (ca_conditions, conditional_access):
        for name in ("conditions_for", "controls_for_refresh"):
            if hasattr(module, name):
                real = getattr(ca_conditions, name)
                monkeypatch.setattr(module, name, _counting(calls, name, real))
    monkeypatch.setattr(ca_names, "assigned", _counting(calls, "assigned", ca_names.assigned))
    report = evaluate(tenant.snapshot, manifest, user=upn)

    policies = tenant.snapshot.conditional_access_policies.data or []
    assert len(policies) == 30
    per_policy = Counter(name for name, _ in calls.elements())
    # Conditions for a refresh and for connecting, and the controls: each once per policy.
    # Everyone a policy includes and excludes is named (a CaPrincipal each) only for the
    # policies in the report's CA table; the one-line audience names the first few.
    rows = {row.id for row in report.conditional_access}
    assert 0 < len(rows) < len(policies)
    assert per_policy["conditions_for"] <= 2 * len(policies)
    assert per_policy["controls_for_refresh"] <= len(policies)
    assert per_policy["assigned"] <= 2 * len(rows)
    assert max(calls.values()) <= 2
    assert report.model_dump(exclude={"generated_at"}) == expected.model_dump(
        exclude={"generated_at"}
    )


def test_per_object_computes_once_per_object_and_keeps_it() -> None:
    seen: list[object] = []

    def compute(obj: object) -> str:
        seen.append(obj)
        return f"result {len(seen)}"

    kept: PerObject[object, str] = PerObject(compute)
    a, b = object(), object()
    assert [kept(a), kept(b), kept(a), kept(b)] == ["result 1", "result 2", "result 1", "result 2"]
    assert seen == [a, b]
