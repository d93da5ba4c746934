"""GRANT_REVOKED, SIGNIN_FAILURES (logs) and APP_REGISTRATION_DISABLED (a setting that does
not matter for Recruitee)."""

from __future__ import annotations

import pytest

from consent_audit.snapshot import PartStatus

from .builders import (
    RECRUITEE_APP_ID,
    codes,
    directory_audit,
    findings,
    healthy,
    one,
    run,
    sign_in,
    statuses,
    with_allowed_to_create_apps,
    with_audits,
    with_part_status,
    with_sign_ins,
)

ALL_PASS = {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_removed_grant_for_recruitee_is_grant_revoked_latest_first() -> None:
    older = directory_audit("Remove delegated permission grant", when="2025-01-02T08:00:00Z")
    newer = directory_audit("Revoke consent", when="2025-01-09T08:00:00Z")
    report = run(with_audits(healthy(), older, newer))

    f = one(report, "GRANT_REVOKED")
    assert f.severity.value == "warning"
    assert f.features == []
    assert [e["activity"] for e in f.evidence["events"]] == [
        "Revoke consent",
        "Remove delegated permission grant",
    ]
    assert f.evidence["events"][0]["by"] == "admin@contoso.com"
    assert "2025-01-09" in f.detail
    assert statuses(report) == ALL_PASS


def test_revocation_matched_by_app_id_in_modified_properties() -> None:
    entry = directory_audit(
        "Remove delegated permission grant",
        target_id="other",
        targetResources=[
            {
                "id": "grant-object",
                "displayName": None,
                "modifiedProperties": [
                    {"displayName": "ClientId", "oldValue": f'"{RECRUITEE_APP_ID}"'}
                ],
            }
        ],
    )

    assert "GRANT_REVOKED" in codes(run(with_audits(healthy(), entry)))


@pytest.mark.parametrize(
    ("activity", "target", "result"),
    [
        ("Add delegated permission grant", "5e000000-0000-0000-0000-000000000001", "success"),
        ("Remove delegated permission grant", "some-other-app", "success"),
        ("Remove delegated permission grant", "5e000000-0000-0000-0000-000000000001", "failure"),
    ],
    ids=["adding is not removing", "another app", "failed removal"],
)
def test_other_audit_events_are_not_grant_revoked(activity: str, target: str, result: str) -> None:
    entry = directory_audit(activity, target_id=target, result=result)
    entry = entry.model_copy(
        update={
            "target_resources": [
                t.model_copy(update={"display_name": "Other"}) for t in entry.target_resources
            ]
        }
    )

    assert "GRANT_REVOKED" not in codes(run(with_audits(healthy(), entry)))


def test_failed_recruitee_sign_ins_are_grouped_by_code_with_meaning() -> None:
    report = run(
        with_sign_ins(
            healthy(),
            sign_in(65001, user_id="u1"),
            sign_in(65001, user_id="u2"),
            sign_in(50105, user_id="u1"),
            sign_in(0),
        )
    )

    f = one(report, "SIGNIN_FAILURES")
    assert f.severity.value == "warning"
    assert f.features == []
    groups = f.evidence["codes"]
    assert [(g["code"], g["count"], g["users"]) for g in groups] == [
        ("AADSTS65001", 2, 2),
        ("AADSTS50105", 1, 1),
    ]
    assert groups[0]["meaning"]
    assert "AADSTS65001 x2" in f.detail


def test_successful_or_other_app_sign_ins_are_not_failures() -> None:
    snap = with_sign_ins(healthy(), sign_in(0), sign_in(65001, app_id="another-app"))

    assert "SIGNIN_FAILURES" not in codes(run(snap))


def test_unlicensed_sign_in_logs_are_data_unavailable_not_a_recruitee_finding() -> None:
    report = run(with_part_status(healthy(), "sign_ins", PartStatus.NOT_LICENSED))

    assert "SIGNIN_FAILURES" not in codes(report)
    gap = one(report, "DATA_UNAVAILABLE")
    assert gap.evidence["status"] == "not_licensed"
    assert gap.features == []
    assert gap.remediation == []
    assert statuses(report) == ALL_PASS


def test_app_registration_disabled_is_info_saying_it_does_not_matter() -> None:
    report = run(with_allowed_to_create_apps(healthy(), False))

    f = one(report, "APP_REGISTRATION_DISABLED")
    assert f.severity.value == "info"
    assert f.features == []
    assert f.evidence == {"allowedToCreateApps": False}
    assert "does not affect Recruitee" in f.detail
    assert statuses(report) == ALL_PASS


@pytest.mark.parametrize("allowed", [True, None])
def test_app_registration_allowed_or_unknown_is_not_reported(allowed: bool | None) -> None:
    assert (
        findings(run(with_allowed_to_create_apps(healthy(), allowed)), "APP_REGISTRATION_DISABLED")
        == []
    )
