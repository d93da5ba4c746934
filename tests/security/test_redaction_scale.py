"""Redaction of a tenant with hundreds of users, groups and names: nothing original survives
anywhere in the file, and the audit's findings are unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.live.redact import redact
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import TenantSnapshot, dump_snapshot, parse_snapshot
from tests.security.big_tenant import GeneratedTenant, build_tenant


@pytest.fixture(scope="module")
def tenant() -> GeneratedTenant:
    return build_tenant(grants=400, groups=300, policies=40, people=300, audited_groups=40)


def _findings(snapshot: TenantSnapshot, user: str | None = None) -> list[Any]:
    report = evaluate(snapshot, load_manifest(), user=user)
    return sorted(
        (f.id, f.severity.value, tuple(f.features), f.app_object_id or "") for f in report.findings
    )


def test_no_original_value_survives(tenant: GeneratedTenant) -> None:
    text = dump_snapshot(redact(tenant.snapshot))
    assert len(tenant.originals) > 1500
    folded = text.casefold()
    leaked = sorted(v for v in tenant.originals if v.casefold() in folded)
    assert leaked == []


def test_findings_are_unchanged(tenant: GeneratedTenant) -> None:
    redacted = parse_snapshot(dump_snapshot(redact(tenant.snapshot)), "redacted.json")
    assert redacted.redacted
    assert _findings(redacted) == _findings(tenant.snapshot)
    for index in (0, 7, 250):
        original = tenant.snapshot.users[index]
        pseudonym = redacted.users[index]
        assert pseudonym.query != original.query
        assert _findings(redacted, pseudonym.query) == _findings(tenant.snapshot, original.query)


def test_pseudonyms_differ_between_runs(tenant: GeneratedTenant) -> None:
    first, second = redact(tenant.snapshot), redact(tenant.snapshot)
    assert first.users[0].query != second.users[0].query
