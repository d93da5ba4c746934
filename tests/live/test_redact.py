from __future__ import annotations

import os
import stat
import uuid
from datetime import datetime, timezone
from pathlib import Path

import responses

from consent_audit.evaluate import evaluate
from consent_audit.files import write_text_atomic
from consent_audit.live import redact
from consent_audit.live.collector import collect_with
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import Manifest
from consent_audit.snapshot import TenantSnapshot, dump_snapshot, parse_snapshot

from . import tenant as t
from .fakes import FakeGraph, make_client

PEOPLE = [
    t.UPN,
    t.MAIL,
    "Alice Smith",
    "Recruiters",
    "All Staff",
    t.USER_ID,
    t.GROUP_ID,
    t.NESTED_ID,
    t.OTHER_USER_ID,
    "Require MFA for Recruitee",  # CA policy names carry project/incident names
]
KEPT = [
    t.APP_ID,
    t.SP_ID,
    t.GRAPH_SP_ID,
    t.TENANT_ID,
    t.GLOBAL_READER,
    "Recruitee",
    "Microsoft Graph",
    "Mail.Send",
    "ca-1",
]


def _snapshot(rsps: responses.RequestsMock, manifest: Manifest) -> TenantSnapshot:
    graph = t.log_routes(t.wave_two_routes(t.wave_one_routes(FakeGraph(), user=True), user=True))
    graph.install(rsps)
    options = LiveOptions(user=t.UPN, with_logs=True)
    return collect_with(
        make_client(), manifest, options, now=datetime(2026, 1, 10, tzinfo=timezone.utc)
    )


def test_no_person_survives_redaction(rsps: responses.RequestsMock, manifest: Manifest) -> None:
    original = _snapshot(rsps, manifest)
    before = dump_snapshot(original)
    assert all(value in before for value in PEOPLE)  # the test data really holds them
    red = redact(original)
    text = dump_snapshot(red)
    for value in PEOPLE:
        assert value.casefold() not in text.casefold(), value
    for value in KEPT:
        assert value in text, value
    assert red.redacted is True
    assert "@redacted.invalid" in text
    parse_snapshot(text, "redacted")  # still a valid snapshot


def test_pseudonyms_are_stable_within_a_snapshot_and_keep_guid_shape(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    red = redact(_snapshot(rsps, manifest))
    user = red.users[0].user.data
    assert user is not None
    uuid.UUID(user.id)
    assert red.find_user(red.users[0].query) is not None
    apps = red.recruitee_apps.data or []
    grants = apps[0].oauth2_permission_grants.data or []
    assert user.id in {g.principal_id for g in grants}
    assigned = apps[0].app_role_assigned_to.data or []
    assert assigned[0].principal_id in user.member_of_group_ids
    policy = (red.conditional_access_policies.data or [])[0]
    users = policy.conditions.users
    assert users is not None
    assert users.include_users == ["All"]
    assert users.include_groups == [assigned[0].principal_id]
    assert (red.sign_ins.data or [])[0].user_id == user.id


def test_two_runs_use_different_keys(rsps: responses.RequestsMock, manifest: Manifest) -> None:
    snap = _snapshot(rsps, manifest)
    first, second = redact(snap), redact(snap)
    assert first.users[0].query != second.users[0].query


def test_findings_are_unchanged_by_redaction(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    original = _snapshot(rsps, manifest)
    red = redact(original)
    now = datetime(2026, 1, 10, tzinfo=timezone.utc)

    def key(report: object) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(f.id, f.severity.value, tuple(f.features)) for f in report.findings]  # type: ignore[attr-defined]

    before = evaluate(original, manifest, user=t.UPN, now=now)
    after = evaluate(red, manifest, user=red.users[0].query, now=now)
    assert key(before)
    assert key(before) == key(after)
    assert [(v.name, v.status) for v in before.features] == [
        (v.name, v.status) for v in after.features
    ]


def test_write_snapshot_atomic_is_private(tmp_path: Path) -> None:
    target = tmp_path / "snap.json"
    write_text_atomic(Path(target), "{}\n")
    write_text_atomic(Path(target), '{"a": 1}\n')
    assert target.read_text() == '{"a": 1}\n'
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["snap.json"]


def test_the_same_key_gives_the_same_pseudonyms_days_apart(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    snap = _snapshot(rsps, manifest)
    later = snap.model_copy(update={"collected_at": datetime(2026, 1, 20, tzinfo=timezone.utc)})
    key = b"k" * 32
    first, second = redact(snap, key), redact(later, key)
    assert first.users[0].query == second.users[0].query
    assert dump_snapshot(first).replace("2026-01-10T00:00:00Z", "") == dump_snapshot(
        second
    ).replace("2026-01-20T00:00:00Z", "")
    assert redact(snap, b"x" * 32).users[0].query != first.users[0].query


def test_one_person_has_one_pseudonym_everywhere(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    red = redact(_snapshot(rsps, manifest), b"k" * 32)
    user = red.users[0].user.data
    assert user is not None
    assert user.display_name is not None
    token = user.display_name.split()[-1]
    assert user.user_principal_name.startswith(f"user-{token}")
    assert user.mail == user.user_principal_name
    assert red.users[0].query == user.user_principal_name  # the --user query too
    sign_ins = [s for s in red.sign_ins.data or [] if s.user_id == user.id]
    assert sign_ins
    assert {s.user_principal_name for s in sign_ins} == {user.user_principal_name}


def test_ca_policy_names_are_redacted_and_ids_kept(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    snap = _snapshot(rsps, manifest)
    red = redact(snap)
    before = snap.conditional_access_policies.data or []
    after = red.conditional_access_policies.data or []
    assert before
    assert [p.id for p in before] == [p.id for p in after]
    for old, new in zip(before, after, strict=True):
        assert new.display_name == f"CA policy {old.id[:8]}"


def test_counted_per_user_grants_keep_no_person(
    rsps: responses.RequestsMock, manifest: Manifest
) -> None:
    """Tenant-wide, per-user grants are kept as counted groups with a few grant ids; a
    Principal grant id carries the person's object id, so redaction replaces them too."""
    graph = t.wave_two_routes(t.wave_one_routes(FakeGraph()))
    graph.install(rsps)
    original = collect_with(
        make_client(), manifest, LiveOptions(), now=datetime(2026, 1, 10, tzinfo=timezone.utc)
    )
    [app] = [a for a in original.recruitee_apps.data or [] if a.principal_grant_groups]
    assert app.principal_grant_groups[0].grant_ids == ["g-other"]
    red = redact(original)
    [red_app] = [a for a in red.recruitee_apps.data or [] if a.principal_grant_groups]
    [group] = red_app.principal_grant_groups
    assert group.grant_ids
    assert "g-other" not in dump_snapshot(red)
    assert group.count == 1


def test_redaction_keeps_what_tells_recruitee_from_a_lookalike() -> None:
    """Owner tenant, audience and publisher are organisations' data, not people's: support
    must see the same look-alike the customer's tenant has (evaluate/identity.py)."""
    from consent_audit.manifest import load_manifest
    from consent_audit.snapshot import load_snapshot

    path = Path(__file__).resolve().parents[2] / "examples/tenants/lookalike-beside-real.json"
    snap = load_snapshot(path)
    redacted = redact(snap, key=b"k" * 32)
    assert redacted.tenant.id == snap.tenant.id
    before = [a.service_principal for a in snap.recruitee_apps.data or []]
    after = [a.service_principal for a in redacted.recruitee_apps.data or []]
    for old, new in zip(before, after, strict=True):
        assert new.app_owner_organization_id == old.app_owner_organization_id
        assert new.sign_in_audience == old.sign_in_audience
        assert new.verified_publisher == old.verified_publisher
    plain, hidden = evaluate(snap, load_manifest()), evaluate(redacted, load_manifest())
    assert [(a.object_id, a.identity) for a in hidden.apps] == [
        (a.object_id, a.identity) for a in plain.apps
    ]
    assert "lookalike" in {a.identity for a in hidden.apps}
