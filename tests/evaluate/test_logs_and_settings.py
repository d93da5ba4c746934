"""GRANT_REVOKED, SIGNIN_FAILURES (logs) and APP_REGISTRATION_DISABLED (a setting that does
not matter for Recruitee)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consent_audit.snapshot import PartStatus

from .builders import (
    RECRUITEE_APP_ID,
    USER_UPN,
    codes,
    directory_audit,
    findings,
    healthy,
    one,
    run,
    sign_in,
    statuses,
    with_admin_scopes,
    with_allowed_to_create_apps,
    with_audits,
    with_grants,
    with_part_status,
    with_sign_ins,
    with_user,
)

ALL_PASS = {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_removed_grant_for_recruitee_is_grant_revoked_latest_first() -> None:
    older = directory_audit("Remove delegated permission grant", when="2025-01-02T08:00:00Z")
    newer = directory_audit("Revoke consent", when="2025-01-09T08:00:00Z")
    report = run(with_audits(healthy(), older, newer))

    f = one(report, "GRANT_REVOKED")
    # The admin grant covers every feature again: history, not a problem.
    assert f.severity.value == "info"
    assert f.features == []
    assert f.remediation
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
    # Admin consent lacks the mail scopes: the AADSTS65001 failures have not been ended; u1's
    # latest failure is AADSTS50105 (not one an admin grant ends, so the finding keeps its
    # own remediation).
    first = sign_in(65001, user_id="u1")
    report = run(
        with_sign_ins(
            with_admin_scopes(healthy(), "offline_access User.Read"),
            first,
            sign_in(65001, user_id="u2"),
            sign_in(50105, user_id="u1").model_copy(
                update={"created_date_time": first.created_date_time + timedelta(hours=1)}
            ),
            sign_in(0),
        )
    )

    f = one(report, "SIGNIN_FAILURES")
    assert f.severity.value == "warning"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.evidence["failing_now"] == 2
    assert [s.action.split(":")[0] for s in f.remediation[:2]] == ["AADSTS65001", "AADSTS50105"]
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
    assert "Entra ID P1 or P2" in gap.remediation[0].action
    assert "consent-audit check" in gap.remediation[0].action
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


def test_grant_revoked_while_admin_consent_is_still_missing_is_a_warning() -> None:
    snap = with_grants(healthy())
    report = run(with_audits(snap, directory_audit("Remove delegated permission grant")))

    f = one(report, "GRANT_REVOKED")
    assert f.severity.value == "warning"
    assert "the next background refresh fails with AADSTS65001" in f.detail


def test_sign_in_failure_followed_by_success_is_not_failing_now() -> None:
    failed = sign_in(65001, user_id="u1")
    later = sign_in(0, user_id="u1").model_copy(
        update={"created_date_time": failed.created_date_time + timedelta(hours=1)}
    )
    report = run(with_sign_ins(healthy(), failed, later))

    f = one(report, "SIGNIN_FAILURES")
    assert f.severity.value == "info"
    assert f.features == []
    assert "none is failing now" in f.detail
    assert statuses(report) == ALL_PASS


def test_with_user_only_that_persons_failures_decide() -> None:
    # AADSTS70043 (sign-in frequency): a failure consent does not end.
    report = run(
        with_user(with_sign_ins(healthy(), sign_in(70043, user_id="other"))), user=USER_UPN
    )
    assert one(report, "SIGNIN_FAILURES").severity.value == "info"
    report = run(with_user(with_sign_ins(healthy(), sign_in(70043))), user=USER_UPN)
    # That person's latest sign-in failed: they cannot sync now.
    assert one(report, "SIGNIN_FAILURES").severity.value == "error"
    assert statuses(report) == {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}


def test_consent_given_since_an_aadsts65001_ends_it_as_grant_revoked_says() -> None:
    """A refresh without consent fails with AADSTS65001 "until the user reconnects or an
    admin consents" (entra-behaviour.md): once the admin grant covers every feature, a
    person whose latest sign-in failed with it is not failing now, and SIGNIN_FAILURES
    tells GRANT_REVOKED's story ("Admin consent covers every feature again"), not FAIL."""
    revoked = directory_audit("Remove delegated permission grant")
    covered = with_audits(with_user(with_sign_ins(healthy(), sign_in(65001))), revoked)

    report = run(covered, user=USER_UPN)
    f = one(report, "SIGNIN_FAILURES")
    assert f.severity.value == "info"
    assert f.features == []
    assert "get a token at the next refresh" in f.detail
    assert one(report, "GRANT_REVOKED").severity.value == "info"
    assert statuses(report) == ALL_PASS

    # Without the admin grant it still fails for them (with --user an error).
    uncovered = run(with_grants(covered), user=USER_UPN)
    assert one(uncovered, "SIGNIN_FAILURES").severity.value == "error"
    assert one(uncovered, "GRANT_REVOKED").severity.value == "warning"


def test_an_unread_sign_in_log_names_where_with_logs_goes() -> None:
    """Replaying a snapshot taken without logs, ``check --snapshot --with-logs`` reads
    nothing more: the advice says --with-logs belongs to a live run (check or snapshot)."""
    report = run(with_part_status(healthy(), "sign_ins", PartStatus.NOT_COLLECTED))
    session = [link for v in report.features for link in v.chain if link.name == "session"]
    assert session
    for link in session:
        assert link.status.value == "not_checked"
        assert "--with-logs, live" in link.detail
