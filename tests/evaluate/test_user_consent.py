"""USER_CONSENT_DISABLED, USER_CONSENT_RESTRICTED, ADMIN_CONSENT_WORKFLOW_DISABLED and
ADMIN_CONSENT_REQUEST_PENDING: tenant consent settings and the admin consent workflow."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from consent_audit.graph_objects import (
    AppConsentRequest,
    ConsentRequestScope,
    IdentityRef,
    IdentitySet,
    UserConsentRequest,
)
from consent_audit.snapshot import Part, PartStatus

from .builders import (
    LEGACY,
    RECOMMENDED,
    RECRUITEE_APP_ID,
    assert_portal,
    codes,
    findings,
    first_broken_link,
    healthy,
    one,
    run,
    statuses,
    user_grant,
    with_admin_scopes,
    with_app_part_status,
    with_assignments,
    with_consent_requests,
    with_grants,
    with_part_status,
    with_policy_assigned,
    with_workflow,
)

NO_CALENDARS = "offline_access User.Read Mail.Send Mail.ReadWrite email openid User.ReadBasic.All"
NO_MAIL_SEND = (
    "offline_access User.Read Mail.ReadWrite email openid Calendars.ReadWrite User.ReadBasic.All"
)

# ----------------------------------------------------------------------------- disabled


def test_user_consent_off_with_admin_consent_missing_is_error_for_those_features() -> None:
    report = run(with_policy_assigned(with_admin_scopes(healthy(), NO_CALENDARS)))

    f = one(report, "USER_CONSENT_DISABLED")
    assert f.severity.value == "error"
    assert f.features == ["calendar"]
    assert f.evidence == {"permissionGrantPoliciesAssigned": []}
    assert_portal(f, "Entra ID > Enterprise apps > Consent and permissions > User consent settings")
    assert statuses(report)["calendar"] == "fail"
    assert statuses(report)["rooms"] == "pass"


def test_user_consent_off_with_full_admin_consent_is_only_information() -> None:
    """Admin consent covers everything: user consent off is the recommended set-up."""
    report = run(with_policy_assigned(healthy()))

    f = one(report, "USER_CONSENT_DISABLED")
    assert f.severity.value == "info"
    assert f.features == []
    assert "Admin consent already covers every feature checked" in f.detail
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_only_owned_resource_entries_means_user_consent_is_off() -> None:
    entry = (
        "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"
    )
    f = one(run(with_policy_assigned(healthy(), entry)), "USER_CONSENT_DISABLED")

    assert f.evidence["permissionGrantPoliciesAssigned"] == [entry]


@pytest.mark.parametrize("entry", [LEGACY, LEGACY.lower(), RECOMMENDED])
def test_any_self_consent_policy_means_user_consent_is_not_disabled(entry: str) -> None:
    assert "USER_CONSENT_DISABLED" not in codes(run(with_policy_assigned(healthy(), entry)))


def test_unreadable_authorization_policy_is_not_reported_as_consent_disabled() -> None:
    snap = with_part_status(
        with_admin_scopes(healthy(), NO_CALENDARS), "authorization_policy", PartStatus.FORBIDDEN
    )
    report = run(snap)

    assert "USER_CONSENT_DISABLED" not in codes(report)
    assert "authorization_policy" in [
        f.evidence["part"] for f in findings(report, "DATA_UNAVAILABLE")
    ]
    # Nobody is covered for calendar: it fails whatever the policy says; the finding says
    # whether people could consent is unknown.
    assert statuses(report)["calendar"] == "fail"
    assert "Whether people may consent to them is unknown" in one(report, "SCOPE_MISSING").detail
    # With someone covered, the unreadable policy leaves the verdict unknown.
    covered = with_grants(
        snap,
        *snap.recruitee_apps.data[0].oauth2_permission_grants.data,  # type: ignore[union-attr]
        user_grant("Calendars.ReadWrite", "person-1"),
    )
    assert statuses(run(covered))["calendar"] == "unknown"


# ----------------------------------------------------------------------------- restricted


def test_recommended_policy_without_admin_consent_restricts_mailbox_and_calendar() -> None:
    report = run(with_policy_assigned(with_grants(healthy()), RECOMMENDED))

    f = one(report, "USER_CONSENT_RESTRICTED")
    assert f.severity.value == "error"
    assert f.features == ["mailbox", "calendar"]
    assert f.evidence["policies"] == ["microsoft-user-default-recommended"]
    assert set(f.evidence["refused"]) == {"mailbox", "calendar"}
    assert set(f.evidence["refused"]["mailbox"]) == {"Mail.ReadWrite"}
    assert set(f.evidence["refused"]["calendar"]) == {"Calendars.ReadWrite"}
    assert_portal(f, "Consent and permissions > User consent settings")
    # Rooms: users may consent to its scopes, but nobody has yet: nobody can sync it now.
    assert statuses(report) == {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}


def test_restriction_covered_by_admin_consent_is_information_that_fails_nothing() -> None:
    report = run(with_policy_assigned(healthy(), RECOMMENDED))

    f = one(report, "USER_CONSENT_RESTRICTED")
    assert f.severity.value == "info"
    assert f.features == []
    assert "matters only for new scopes" in f.detail
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_legacy_policy_restricts_nothing() -> None:
    assert "USER_CONSENT_RESTRICTED" not in codes(run(with_grants(healthy())))


def test_assignment_required_is_not_reported_as_a_policy_restriction() -> None:
    snap = with_assignments(with_policy_assigned(healthy(), RECOMMENDED), required=True)

    assert "USER_CONSENT_RESTRICTED" not in codes(run(snap))


def test_restriction_on_already_granted_scope_does_not_fail_feature() -> None:
    """Regression: users are asked only for scopes not yet granted, so a refusal of an
    admin-granted scope (Mail.ReadWrite) does not block a missing, consentable one."""
    report = run(with_policy_assigned(with_admin_scopes(healthy(), NO_MAIL_SEND), RECOMMENDED))

    f = one(report, "SCOPE_MISSING")
    assert f.severity.value == "error"  # nobody's own consent covers Mail.Send yet
    assert [d["allowed"] for d in f.evidence["user_consent"]] == [True]
    assert one(report, "USER_CONSENT_RESTRICTED").severity.value == "info"
    assert statuses(report)["mailbox"] == "fail"


# ----------------------------------------------------------------------------- workflow


def test_workflow_off_when_users_cannot_consent_and_admin_consent_missing_is_error() -> None:
    snap = with_workflow(with_policy_assigned(with_admin_scopes(healthy(), NO_CALENDARS)), False)
    report = run(snap)

    f = one(report, "ADMIN_CONSENT_WORKFLOW_DISABLED")
    assert f.severity.value == "error"
    assert f.features == ["calendar"]
    assert f.evidence == {"isEnabled": False, "reviewers": 0}
    assert "Need admin approval" in f.detail
    assert_portal(
        f, "Entra ID > Enterprise apps > Consent and permissions > Admin consent settings"
    )
    assert first_broken_link(report, "calendar") == "consent"


def test_workflow_off_is_info_when_nothing_is_blocked() -> None:
    report = run(with_workflow(healthy(), False))

    f = one(report, "ADMIN_CONSENT_WORKFLOW_DISABLED")
    assert f.severity.value == "info"
    assert f.features == []
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_workflow_off_is_info_when_users_may_consent_to_the_missing_scopes() -> None:
    report = run(with_workflow(with_admin_scopes(healthy(), NO_CALENDARS), False))

    assert one(report, "ADMIN_CONSENT_WORKFLOW_DISABLED").severity.value == "info"


def test_workflow_on_is_not_reported() -> None:
    snap = with_workflow(with_policy_assigned(with_admin_scopes(healthy(), NO_CALENDARS)), True)

    assert "ADMIN_CONSENT_WORKFLOW_DISABLED" not in codes(run(snap))


# ----------------------------------------------------------------------------- pending


def _request(
    app_id: str = RECRUITEE_APP_ID, name: str = "Recruitee", *statuses_: str
) -> AppConsentRequest:
    return AppConsentRequest(
        id=f"req-{app_id[-4:]}",
        app_id=app_id,
        app_display_name=name,
        pending_scopes=[ConsentRequestScope(display_name="Calendars.ReadWrite")],
        user_consent_requests=[
            UserConsentRequest(
                id=f"ucr-{i}",
                status=s,
                reason="I need calendar sync",
                created_by=IdentitySet(
                    user=IdentityRef(id=f"u{i}", user_principal_name=f"user{i}@contoso.com")
                ),
                created_date_time=datetime(2025, 1, 12, 10, 0, tzinfo=timezone.utc),
            )
            for i, s in enumerate(statuses_)
        ],
    )


def test_pending_request_for_recruitee_is_a_warning_naming_requester() -> None:
    report = run(
        with_consent_requests(healthy(), _request(RECRUITEE_APP_ID, "Recruitee", "InProgress"))
    )

    f = one(report, "ADMIN_CONSENT_REQUEST_PENDING")
    # Admin consent already covers Calendars.ReadWrite: nothing waits on the request.
    assert f.severity.value == "info"
    assert f.features == []
    assert f.evidence["pending_scopes"] == ["Calendars.ReadWrite"]
    assert f.evidence["requests"][0]["user"] == "user0@contoso.com"
    assert "user0@contoso.com on 2025-01-12" in f.detail
    assert_portal(f, "Entra ID > Enterprise apps > Admin consent requests")


def test_pending_request_matched_by_display_name_when_app_id_differs() -> None:
    req = _request("12345678-0000-0000-0000-000000000000", "recruitee", "InProgress")

    assert "ADMIN_CONSENT_REQUEST_PENDING" in codes(run(with_consent_requests(healthy(), req)))


def test_completed_or_expired_requests_are_not_pending() -> None:
    req = _request(RECRUITEE_APP_ID, "Recruitee", "Completed", "Expired")

    assert "ADMIN_CONSENT_REQUEST_PENDING" not in codes(run(with_consent_requests(healthy(), req)))


def test_request_for_another_app_is_not_reported() -> None:
    req = _request("de8bc8b5-d9f9-48b1-a8ad-b748da725064", "Graph Explorer", "InProgress")

    assert "ADMIN_CONSENT_REQUEST_PENDING" not in codes(run(with_consent_requests(healthy(), req)))


def test_consent_disabled_does_not_claim_coverage_when_grants_are_unreadable() -> None:
    snap = with_app_part_status(
        with_policy_assigned(healthy()), "oauth2_permission_grants", PartStatus.FORBIDDEN
    )

    f = one(run(snap), "USER_CONSENT_DISABLED")
    assert "already covers" not in f.detail


def test_enabled_workflow_without_reviewers_is_a_finding() -> None:
    from consent_audit.graph_objects import AdminConsentRequestPolicy, ReviewerScope

    base = healthy()
    no_reviewers = base.model_copy(
        update={
            "admin_consent_request_policy": Part(
                data=AdminConsentRequestPolicy(is_enabled=True, reviewers=[])
            )
        }
    )
    with_reviewer = base.model_copy(
        update={
            "admin_consent_request_policy": Part(
                data=AdminConsentRequestPolicy(
                    is_enabled=True, reviewers=[ReviewerScope(query="/users/x")]
                )
            )
        }
    )
    f = one(run(no_reviewers), "ADMIN_CONSENT_NO_REVIEWERS")
    assert f.severity.value == "warning"  # admin consent covers everything in the baseline
    assert "ADMIN_CONSENT_NO_REVIEWERS" not in codes(run(with_reviewer))


def test_pending_request_affects_only_features_missing_what_it_asks_for() -> None:
    snap = with_admin_scopes(healthy(), NO_CALENDARS)
    report = run(with_consent_requests(snap, _request(RECRUITEE_APP_ID, "Recruitee", "InProgress")))

    f = one(report, "ADMIN_CONSENT_REQUEST_PENDING")
    assert f.severity.value == "warning"
    assert f.features == ["calendar"]
