"""SCOPE_MISSING and SCOPE_EXTRA: do Recruitee's grants cover what each feature needs?"""

from __future__ import annotations

import pytest

from consent_audit.report import Finding, Report

from .builders import (
    ALL_SCOPES,
    GRAPH_SP_ID,
    RECOMMENDED,
    RECRUITEE_SP_ID,
    USER_ID,
    USER_UPN,
    assert_portal,
    codes,
    findings,
    grant,
    healthy,
    one,
    run,
    statuses,
    user_grant,
    verdict,
    with_admin_scopes,
    with_grants,
    with_policy_assigned,
    with_user,
)

WITHOUT_CALENDARS = (
    "offline_access User.Read Mail.Send Mail.ReadWrite email openid User.ReadBasic.All"
)


def test_full_admin_grant_covers_every_feature() -> None:
    report = run(healthy())

    assert report.findings == []
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}
    assert all(v.missing_scopes == [] for v in report.features)


def test_scope_comparison_is_case_insensitive() -> None:
    report = run(with_admin_scopes(healthy(), ALL_SCOPES.lower()))

    assert "SCOPE_MISSING" not in codes(report)
    assert "SCOPE_EXTRA" not in codes(report)
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_tabs_newlines_and_duplicate_scopes_in_grant_still_cover() -> None:
    messy = "\t" + ALL_SCOPES.replace(" ", "\n  ") + "  Mail.Send\tmail.send "
    report = run(with_admin_scopes(healthy(), messy))

    assert "SCOPE_MISSING" not in codes(report)


def test_missing_scope_with_user_consent_off_is_an_error_naming_the_scope() -> None:
    snap = with_policy_assigned(with_admin_scopes(healthy(), WITHOUT_CALENDARS))
    report = run(snap)

    f = one(report, "SCOPE_MISSING")
    assert f.severity.value == "error"
    assert f.features == ["calendar"]
    assert f.app_object_id == RECRUITEE_SP_ID
    assert f.evidence["missing_scopes"] == ["Calendars.ReadWrite"]
    assert "Calendars.ReadWrite" not in f.evidence["admin_grant_scopes"]
    assert f.title == "Calendar sync is missing Calendars.ReadWrite"
    assert_portal(f, "Enterprise apps > All applications > Recruitee > Permissions")
    request = _planned_request(report, f)
    assert request is not None
    assert request.startswith(f"PATCH /v1.0/oauth2PermissionGrants/{f.evidence['admin_grant_id']}")
    assert "Calendars.ReadWrite" in request
    assert verdict(report, "calendar").missing_scopes == ["Calendars.ReadWrite"]
    assert statuses(report) == {"mailbox": "pass", "calendar": "fail", "rooms": "pass"}


def test_missing_scope_nobody_consented_to_fails_even_if_people_may_consent() -> None:
    """No next sync without a grant: the refresh fails with AADSTS65001 until people
    reconnect and accept (entra-behaviour: consent and grants)."""
    report = run(with_admin_scopes(healthy(), WITHOUT_CALENDARS))

    f = one(report, "SCOPE_MISSING")
    assert f.severity.value == "error"
    assert "Nobody's own consent covers them" in f.detail
    assert f.evidence["people_covered"] == 0
    assert verdict(report, "calendar").status.value == "fail"
    assert verdict(report, "calendar").people_covered == 0
    # People may consent: reconnecting is the first step, admin consent (the plan) the second.
    assert f.remediation[0].action.startswith("Ask each person who syncs to reconnect")
    assert f.remediation[1].plan_step is not None


def test_missing_scope_some_people_covered_and_others_may_consent_is_a_warning() -> None:
    snap = with_grants(
        healthy(),
        grant(WITHOUT_CALENDARS),
        user_grant("calendars.readwrite", "person-1"),
        user_grant("Calendars.ReadWrite offline_access", "person-2"),
        user_grant("Calendars.Read", "person-3"),
    )
    report = run(snap)

    f = one(report, "SCOPE_MISSING")
    assert f.severity.value == "warning"
    assert "works for 2 people who consented themselves" in f.detail
    assert verdict(report, "calendar").status.value == "warn"
    assert verdict(report, "calendar").people_covered == 2
    assert verdict(report, "calendar").missing_scopes == ["Calendars.ReadWrite"]


def test_grants_on_another_resource_cover_nobody() -> None:
    snap = with_grants(
        healthy(),
        grant(WITHOUT_CALENDARS),
        grant(
            "Calendars.ReadWrite",
            consent_type="Principal",
            principal_id="person-1",
            resource_id="some-other-api-sp",
        ),
    )
    assert verdict(run(snap), "calendar").people_covered == 0


def test_user_not_covered_fails_with_reconnect_or_admin_consent() -> None:
    snap = with_grants(healthy(), grant(WITHOUT_CALENDARS), user_grant("Calendars.ReadWrite", "x"))
    report = run(with_user(snap), user=USER_UPN)

    f = one(report, "SCOPE_MISSING")
    assert f.severity.value == "error"
    assert "cannot sync this for" in f.detail
    assert verdict(report, "calendar").status.value == "fail"
    assert verdict(report, "calendar").missing_scopes == ["Calendars.ReadWrite"]
    actions = [step.action for step in f.remediation]
    assert actions[0].startswith(f"Ask {USER_UPN} to reconnect Calendar sync")
    assert "admin consent" in actions[1]
    assert f.remediation[1].plan_step is not None


def test_user_not_covered_who_may_not_consent_gets_admin_consent_first() -> None:
    snap = with_policy_assigned(with_grants(healthy(), grant(WITHOUT_CALENDARS)))
    report = run(with_user(snap), user=USER_UPN)

    f = one(report, "SCOPE_MISSING")
    assert "admin consent" in f.remediation[0].action
    assert f.remediation[0].plan_step is not None
    assert f.remediation[1].action.startswith(f"After an administrator consents, ask {USER_UPN}")


def test_missing_scope_users_may_consent_to_decision_is_recorded() -> None:
    report = run(with_admin_scopes(healthy(), WITHOUT_CALENDARS))

    f = one(report, "SCOPE_MISSING")
    assert "microsoft-user-default-legacy" in f.detail
    assert f.evidence["user_consent"] == [
        {
            "scope": "Calendars.ReadWrite",
            "allowed": True,
            "reason": "allowed by policy 'microsoft-user-default-legacy' (unless Microsoft's "
            "risk-based step-up consent flags the request as risky: Recruitee has no verified "
            "publisher, and whether step-up is on is unknown: the Consent Policy Settings "
            "(BlockUserConsentForRiskyApps) were not read; then users must ask for approval "
            "through an admin consent request (AADSTS90095))",
        }
    ]


def test_no_admin_grant_proposes_creating_one() -> None:
    report = run(with_policy_assigned(with_grants(healthy())))

    missing = findings(report, "SCOPE_MISSING")
    assert sorted(f.features[0] for f in missing) == ["calendar", "mailbox", "rooms"]
    rooms = next(f for f in missing if f.features == ["rooms"])
    assert rooms.evidence["admin_grant_id"] is None
    assert rooms.evidence["missing_scopes"] == ["offline_access", "User.ReadBasic.All"]
    request = _planned_request(report, rooms)
    assert request is not None
    assert request.startswith("POST /v1.0/oauth2PermissionGrants")
    assert f'"resourceId": "{GRAPH_SP_ID}"' in request


def test_grant_on_another_resource_does_not_cover_graph_scopes() -> None:
    snap = with_policy_assigned(with_grants(healthy(), grant(resource_id="some-other-api-sp")))
    report = run(snap)

    assert len(findings(report, "SCOPE_MISSING")) == 3
    extra = one(report, "SCOPE_EXTRA")
    assert any("on resource some-other-api-sp" in k for k in extra.evidence["extra_scopes"])


def test_other_users_own_grant_does_not_cover_feature() -> None:
    snap = with_policy_assigned(
        with_grants(
            healthy(), grant(WITHOUT_CALENDARS), user_grant("Calendars.ReadWrite", "someone-else")
        )
    )
    report = run(with_user(snap), user=USER_UPN)

    assert [f.features for f in findings(report, "SCOPE_MISSING")] == [["calendar"]]


def test_user_own_grant_covers_feature() -> None:
    snap = with_policy_assigned(
        with_grants(healthy(), grant(WITHOUT_CALENDARS), user_grant("calendars.readwrite"))
    )

    assert "SCOPE_MISSING" in codes(run(snap))  # without --user, admin consent alone counts
    report = run(with_user(snap), user=USER_UPN)
    assert "SCOPE_MISSING" not in codes(report)
    assert verdict(report, "calendar").status.value == "pass"
    assert report.user_grants[0].scope_counts == {"Calendars.ReadWrite": 1}


def test_user_own_grant_scopes_appear_in_evidence_when_still_short() -> None:
    snap = with_policy_assigned(
        with_grants(healthy(), grant("offline_access"), user_grant("User.Read", USER_ID))
    )
    report = run(with_user(snap), user=USER_UPN, features=["calendar"])

    f = one(report, "SCOPE_MISSING")
    assert f.evidence["missing_scopes"] == ["Calendars.ReadWrite"]
    assert f.evidence["user_grant_scopes"] == ["User.Read"]
    assert USER_UPN in f.detail


def test_recommended_policy_missing_mail_readwrite_is_error_for_mailbox_only() -> None:
    no_mail_rw = (
        "offline_access User.Read Mail.Send email openid Calendars.ReadWrite User.ReadBasic.All"
    )
    report = run(with_policy_assigned(with_admin_scopes(healthy(), no_mail_rw), RECOMMENDED))

    f = one(report, "SCOPE_MISSING")
    assert f.severity.value == "error"
    assert f.features == ["mailbox"]
    assert "excludes Mail.ReadWrite" in f.detail


# ----------------------------------------------------------------------------- SCOPE_EXTRA


def test_extra_admin_scope_is_info_naming_scope_and_who_granted_it() -> None:
    report = run(with_admin_scopes(healthy(), ALL_SCOPES + " Files.Read.All"))

    f = one(report, "SCOPE_EXTRA")
    assert f.severity.value == "info"
    assert f.features == []
    assert f.evidence["extra_scopes"]["Files.Read.All"]["admin"] is True
    assert f.evidence["extra_scopes"]["Files.Read.All"]["users"] == 0
    assert_portal(f, "Enterprise apps > All applications > Recruitee > Permissions")
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_extra_scope_in_user_grants_is_counted_per_grant_in_graph_casing() -> None:
    snap = with_grants(
        healthy(), grant(), user_grant("files.read.all", "u1"), user_grant("Files.Read.All", "u2")
    )

    entry = one(run(snap), "SCOPE_EXTRA").evidence["extra_scopes"]["Files.Read.All"]
    assert entry["admin"] is False
    assert entry["users"] == 2


def test_scope_of_a_feature_not_selected_is_not_extra() -> None:
    report = run(healthy(), features=["rooms"])

    assert "SCOPE_EXTRA" not in codes(report)
    assert [v.name for v in report.features] == ["rooms"]


@pytest.mark.parametrize("scope", [ALL_SCOPES, ALL_SCOPES.upper()])
def test_exactly_the_manifest_scopes_are_not_extra(scope: str) -> None:
    assert "SCOPE_EXTRA" not in codes(run(with_admin_scopes(healthy(), scope)))


def test_sign_in_scopes_msal_adds_are_never_extra() -> None:
    report = run(with_admin_scopes(healthy(), ALL_SCOPES + " profile"))

    assert "SCOPE_EXTRA" not in codes(report)


def _planned_request(report: Report, f: Finding) -> str | None:
    """The fix-plan request a finding points at (findings carry no request of their own)."""
    number = f.remediation[0].plan_step
    step = next(s for s in report.plan if s.number == number)
    return step.graph
