"""Fingerprints: the same finding gets the same id across runs, machines and redaction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.evaluate.registry import registry
from consent_audit.fingerprint import SUBJECTS
from consent_audit.manifest import load_manifest
from consent_audit.report import Report
from consent_audit.run_source import demo_snapshot
from consent_audit.snapshot import TenantSnapshot, load_snapshot

ROOT = Path(__file__).resolve().parents[1]
TENANTS = ROOT / "examples" / "tenants"
EXAMPLES = sorted(TENANTS.glob("*.json"))


def _prints(report: Report) -> list[tuple[str, str | None]]:
    return [(f.id, f.fingerprint) for f in report.findings]


def test_every_registered_code_declares_its_subject() -> None:
    assert set(SUBJECTS) == set(registry())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_fingerprints_are_set_and_unique_within_a_report(path: Path) -> None:
    snap = load_snapshot(path)
    users = [None, *(u.query for u in snap.users)]
    for user in users:
        report = evaluate(snap, load_manifest(), user=user)
        prints = [f.fingerprint for f in report.findings]
        assert all(p is not None and len(p) == 16 for p in prints)
        assert len(set(prints)) == len(prints), report.findings


def test_two_scope_missing_findings_for_two_apps_differ() -> None:
    report = evaluate(demo_snapshot(), load_manifest())
    mailbox = [f for f in report.findings if f.id == "SCOPE_MISSING" and f.features == ["mailbox"]]
    assert len({f.app_object_id for f in mailbox}) == 2
    assert len({f.fingerprint for f in mailbox}) == 2
    assert {f.subject.app_id for f in mailbox if f.subject} == {a.app_id for a in report.apps}


def test_fingerprints_are_identical_across_runs_and_hash_seeds() -> None:
    """Two processes (different PYTHONHASHSEED, different clock) print the same fingerprints."""

    def run(seed: str) -> list[tuple[str, str]]:
        proc = subprocess.run(
            [sys.executable, "-m", "consent_audit", "check", "--demo", "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        return [(f["id"], f["fingerprint"]) for f in json.loads(proc.stdout)["findings"]]

    first, second = run("1"), run("2")
    assert len(first) >= 5
    assert first == second


def _grant_one_more_scope(snap: TenantSnapshot, scope: str) -> TenantSnapshot:
    raw = snap.model_dump(mode="json", by_alias=True)
    for app in raw["recruitee_apps"]["data"]:
        for grant in app["oauth2_permission_grants"]["data"] or []:
            if grant["consentType"] == "AllPrincipals":
                grant["scope"] += f" {scope}"
    return TenantSnapshot.model_validate(raw)


def test_fingerprint_ignores_scope_lists_prose_and_severity() -> None:
    """Granting Mail.Send changes SCOPE_MISSING's title, detail and evidence, not its id."""
    snap = load_snapshot(TENANTS / "partial-scopes.json")
    before = evaluate(snap, load_manifest())
    after = evaluate(_grant_one_more_scope(snap, "Mail.Send"), load_manifest())
    old = next(f for f in before.findings if f.id == "SCOPE_MISSING")
    new = next(f for f in after.findings if f.id == "SCOPE_MISSING")
    assert old.title != new.title
    assert old.evidence["missing_scopes"] != new.evidence["missing_scopes"]
    assert old.fingerprint == new.fingerprint


@pytest.mark.parametrize(
    ("example", "user"),
    [
        ("assignment-required.json", "isaiah.langer@fabrikam.com"),
        ("ca-block-excluded-admins.json", "nestor.wilke@woodgrovebank.com"),
        ("demo", "adele.vance@contoso.com"),
        ("revoked-grants.json", None),
    ],
)
def test_fingerprints_are_identical_for_a_redacted_snapshot(example: str, user: str | None) -> None:
    from consent_audit.live import redact

    snap = demo_snapshot() if example == "demo" else load_snapshot(TENANTS / example)
    red = redact(snap)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    lookup = snap.find_user(user) if user else None
    red_user = red.users[snap.users.index(lookup)].query if lookup else None
    assert red_user != user or user is None
    plain = evaluate(snap, load_manifest(), user=user, now=now)
    hidden = evaluate(red, load_manifest(), user=red_user, now=now)
    assert plain.findings
    assert sorted(_prints(plain), key=str) == sorted(_prints(hidden), key=str)


def test_a_user_finding_hashes_the_user_and_survives_redaction() -> None:
    from consent_audit.live import redact

    snap = load_snapshot(TENANTS / "assignment-required.json")
    red = redact(snap)
    manifest = load_manifest()
    prints = {}
    for user in ("isaiah.langer@fabrikam.com", "lynne.robbins@fabrikam.com"):
        plain = evaluate(snap, manifest, user=user)
        lookup = snap.find_user(user)
        assert lookup is not None
        hidden = evaluate(red, manifest, user=red.users[snap.users.index(lookup)].query)
        code = "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED"
        mine = [f for f in plain.findings if f.id == code]
        theirs = [f for f in hidden.findings if f.id == code]
        assert mine
        assert mine[0].subject is not None
        assert mine[0].subject.user_id is not None
        assert [f.fingerprint for f in mine] == [f.fingerprint for f in theirs]
        prints[user] = mine[0].fingerprint
    assert len(set(prints.values())) == 2  # two people, two fingerprints
