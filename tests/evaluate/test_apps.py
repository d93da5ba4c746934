"""APP_NOT_FOUND, APP_DUPLICATE, APP_DISABLED: is Recruitee in the tenant, once, and enabled?"""

from __future__ import annotations

from consent_audit.report import Finding, Report

from .builders import (
    RECRUITEE_APP_ID,
    RECRUITEE_SP_ID,
    SECOND_APP_ID,
    SECOND_SP_ID,
    assert_portal,
    codes,
    findings,
    grant,
    healthy,
    one,
    recruitee_app,
    recruitee_sp,
    run,
    statuses,
    verdict,
    with_apps,
    with_sp,
)

ALL_FAIL = {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}


def test_no_service_principal_is_app_not_found_for_every_feature() -> None:
    report = run(with_apps(healthy()))

    f = one(report, "APP_NOT_FOUND")
    assert f.severity.value == "error"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert "'Recruitee'" in f.evidence["looked_for"]
    assert f.evidence["similar"] == []
    assert_portal(f, "Entra ID > Enterprise apps > Deleted applications")
    assert statuses(report) == ALL_FAIL
    assert verdict(report, "mailbox").missing_scopes != []


def test_similarly_named_app_is_named_as_near_miss_but_not_audited() -> None:
    near = recruitee_app(
        recruitee_sp(id="sp-mail", app_id=SECOND_APP_ID, display_name="Recruitee Mail")
    )
    report = run(with_apps(healthy(), near))

    f = one(report, "APP_NOT_FOUND")
    assert [s["display_name"] for s in f.evidence["similar"]] == ["Recruitee Mail"]
    assert "Recruitee Mail" in f.detail
    assert report.apps == []


def test_display_name_match_is_case_insensitive() -> None:
    report = run(with_sp(healthy(), display_name="RECRUITEE"))

    assert "APP_NOT_FOUND" not in codes(report)
    assert [a.object_id for a in report.apps] == [RECRUITEE_SP_ID]


def test_app_id_option_selects_an_app_with_another_name() -> None:
    snap = with_sp(healthy(), display_name="Recruitee (EU)")

    assert "APP_NOT_FOUND" in codes(run(snap))
    report = run(snap, app_ids=(RECRUITEE_APP_ID.upper(),))
    assert "APP_NOT_FOUND" not in codes(report)
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_app_id_option_that_matches_nothing_is_app_not_found() -> None:
    report = run(healthy(), app_ids=("deadbeef-0000-0000-0000-000000000000",))

    f = one(report, "APP_NOT_FOUND")
    assert "deadbeef-0000-0000-0000-000000000000" in f.evidence["looked_for"]


def test_one_matching_app_is_not_a_duplicate() -> None:
    assert findings(run(healthy()), "APP_DUPLICATE") == []


def test_two_matching_apps_are_a_duplicate_warning_without_features() -> None:
    second = recruitee_app(
        recruitee_sp(id=SECOND_SP_ID, app_id=SECOND_APP_ID),
        grants=[grant(client_id=SECOND_SP_ID)],
    )
    report = run(with_apps(healthy(), recruitee_app(), second))

    f = one(report, "APP_DUPLICATE")
    assert f.severity.value == "warning"
    assert f.features == []
    assert f.evidence["object_ids"] == [RECRUITEE_SP_ID, SECOND_SP_ID]
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_same_service_principal_listed_twice_is_deduplicated() -> None:
    report = run(with_apps(healthy(), recruitee_app(), recruitee_app()))

    assert "APP_DUPLICATE" not in codes(report)
    assert len(report.apps) == 1


def test_account_disabled_app_fails_every_feature() -> None:
    report = run(with_sp(healthy(), account_enabled=False))

    f = one(report, "APP_DISABLED")
    assert f.severity.value == "error"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.app_object_id == RECRUITEE_SP_ID
    assert f.evidence["accountEnabled"] is False
    assert "'Enabled for users to sign-in?' is No" in f.detail
    assert_portal(f, "Enterprise apps > All applications > Recruitee > Properties")
    request = _planned_request(report, f)
    assert request is not None
    assert '"accountEnabled": true' in request
    assert statuses(report) == ALL_FAIL


def test_disabled_by_microsoft_is_its_own_finding_with_no_tenant_fix() -> None:
    report = run(
        with_sp(
            healthy(),
            account_enabled=True,
            disabled_by_microsoft_status="DisabledDueToViolationOfServicesAgreement",
        )
    )

    f = one(report, "APP_DISABLED_BY_MICROSOFT")
    assert "APP_DISABLED" not in codes(report)
    assert f.evidence["disabledByMicrosoftStatus"] == "DisabledDueToViolationOfServicesAgreement"
    assert "disabled by Microsoft" in f.detail
    assert statuses(report) == ALL_FAIL
    actions = " ".join(r.action for r in f.remediation)
    assert "Contact Recruitee" in actions
    assert "suspect" in actions
    assert "to Yes" not in actions


def test_not_disabled_status_and_unknown_enabled_flag_are_not_app_disabled() -> None:
    report = run(
        with_sp(healthy(), account_enabled=None, disabled_by_microsoft_status="NotDisabled")
    )

    assert "APP_DISABLED" not in codes(report)


def _planned_request(report: Report, f: Finding) -> str | None:
    """The fix-plan request a finding points at (findings carry no request of their own)."""
    number = f.remediation[0].plan_step
    step = next(s for s in report.plan if s.number == number)
    return step.graph
