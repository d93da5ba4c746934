"""Feature verdicts (pass / fail / unknown), the causal chain, duplicates, and DATA_UNAVAILABLE."""

from __future__ import annotations

import pytest

from consent_audit.report import Severity
from consent_audit.snapshot import PartStatus, RecruiteeApp

from .builders import (
    ALL_SCOPES,
    RECRUITEE_SP_ID,
    SECOND_APP_ID,
    SECOND_SP_ID,
    USER_UPN,
    assert_portal,
    codes,
    findings,
    first_broken_link,
    grant,
    healthy,
    one,
    recruitee_app,
    recruitee_sp,
    run,
    sign_in,
    statuses,
    user_grant,
    verdict,
    with_admin_scopes,
    with_app_part_status,
    with_apps,
    with_part_status,
    with_policy_assigned,
    with_sign_ins,
    with_sp,
    with_user,
)

ALL_UNKNOWN = {"mailbox": "unknown", "calendar": "unknown", "rooms": "unknown"}


def test_healthy_tenant_passes_every_link_of_every_chain() -> None:
    report = run(with_user(healthy()), user=USER_UPN)

    assert report.summary.status.value == "pass"
    for v in report.features:
        assert [link.name for link in v.chain] == [
            "user",
            "app",
            "consent",
            "assignment",
            "conditional_access",
            "session",
        ]
        assert {link.status.value for link in v.chain} == {"pass"}


def test_chain_has_no_user_link_without_user() -> None:
    assert verdict(run(healthy()), "rooms").chain[0].name == "app"


def test_failed_feature_names_required_and_missing_scopes() -> None:
    report = run(
        with_policy_assigned(with_apps(healthy(), recruitee_app(grants=[grant("User.Read")])))
    )

    v = verdict(report, "rooms")
    assert v.status.value == "fail"
    assert v.required_scopes == ["offline_access", "User.ReadBasic.All"]
    assert v.missing_scopes == ["offline_access", "User.ReadBasic.All"]
    assert v.apps[0].finding_ids == ["SCOPE_MISSING", "USER_CONSENT_DISABLED"]
    assert report.summary.status.value == "fail"
    assert report.summary.features_fail == 3


def test_chain_reports_the_first_broken_link() -> None:
    report = run(with_policy_assigned(with_sp(healthy(), account_enabled=False)))

    assert first_broken_link(report, "mailbox") == "app"
    links = {link.name: link.status.value for link in verdict(report, "mailbox").chain}
    assert links["consent"] == "pass"
    details = {link.name: link.detail for link in verdict(report, "mailbox").chain}
    assert details["app"] == "Recruitee's enterprise application is disabled"


def test_forbidden_part_makes_verdict_unknown_not_fail() -> None:
    snap = with_app_part_status(
        healthy(), "oauth2_permission_grants", PartStatus.FORBIDDEN, permission="Directory.Read.All"
    )
    report = run(snap)

    assert statuses(report) == ALL_UNKNOWN
    assert "SCOPE_MISSING" not in codes(report)
    f = one(report, "DATA_UNAVAILABLE")
    assert f.severity.value == "warning"
    assert f.app_object_id == RECRUITEE_SP_ID
    assert f.evidence == {
        "part": "oauth2_permission_grants",
        "status": "forbidden",
        "permission": "Directory.Read.All",
    }
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert_portal(f, "Entra ID > Roles & admins > Global Reader")
    assert first_broken_link(report, "calendar") == "consent"
    assert report.summary.status.value == "unknown"


def test_error_finding_outranks_unknown() -> None:
    snap = with_app_part_status(
        with_sp(healthy(), account_enabled=False), "oauth2_permission_grants", PartStatus.FORBIDDEN
    )

    assert statuses(run(snap)) == {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}


def test_data_unavailable_never_claims_unknown_for_a_feature_that_fails() -> None:
    """The gap's text is written before verdicts; it must not contradict a failing one."""
    # Calendars.ReadWrite is not granted: whether people may consent to it is unreadable,
    # but nobody is covered, so calendar fails whatever the policy says.
    no_calendars = (
        "offline_access User.Read Mail.Send Mail.ReadWrite email openid User.ReadBasic.All"
    )
    snap = with_admin_scopes(healthy(), no_calendars)
    report = run(with_part_status(snap, "authorization_policy", PartStatus.FORBIDDEN))

    assert statuses(report)["calendar"] == "fail"
    gap = one(report, "DATA_UNAVAILABLE")
    assert "calendar" in gap.features
    assert "unknown" not in gap.detail
    assert "undecided unless another finding settles it" in gap.detail


def test_unreadable_graph_service_principal_makes_scopes_unknown() -> None:
    report = run(
        with_part_status(healthy(), "graph_service_principal", PartStatus.ERROR, message="boom")
    )

    assert statuses(report) == ALL_UNKNOWN
    assert "SCOPE_MISSING" not in codes(report)
    gaps = [f for f in findings(report, "DATA_UNAVAILABLE") if f.evidence["status"] == "error"]
    assert [g.evidence["part"] for g in gaps] == ["graph_service_principal"]
    assert "(boom)" in gaps[0].detail
    assert "run `consent-audit check` again later" in gaps[0].remediation[0].action


def test_unreadable_tenant_wide_part_is_reported_once_with_its_status_and_features() -> None:
    report = run(with_part_status(healthy(), "graph_service_principal", PartStatus.ERROR))

    gap = one(report, "DATA_UNAVAILABLE")
    assert gap.evidence["status"] == "error"
    assert gap.features == ["mailbox", "calendar", "rooms"]


def test_unreadable_graph_service_principal_does_not_make_every_scope_extra() -> None:
    report = run(with_part_status(healthy(), "graph_service_principal", PartStatus.FORBIDDEN))

    assert "SCOPE_EXTRA" not in codes(report)


def test_unreadable_apps_make_everything_unknown_and_not_app_not_found() -> None:
    report = run(with_part_status(healthy(), "recruitee_apps", PartStatus.FORBIDDEN))

    assert "APP_NOT_FOUND" not in codes(report)
    assert statuses(report) == ALL_UNKNOWN
    assert first_broken_link(report, "rooms") == "app"


def test_not_collected_optional_part_is_not_data_unavailable() -> None:
    report = run(with_part_status(healthy(), "directory_audits", PartStatus.NOT_COLLECTED))

    assert findings(report, "DATA_UNAVAILABLE") == []


def test_unreadable_logs_are_reported_without_making_verdicts_unknown() -> None:
    report = run(with_part_status(healthy(), "directory_audits", PartStatus.FORBIDDEN))

    gap = one(report, "DATA_UNAVAILABLE")
    assert gap.evidence["part"] == "directory_audits"
    assert gap.evidence["permission"] == "AuditLog.Read.All"
    assert "No verdict depends on it" in gap.detail
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_unreadable_classifications_matter_only_when_a_policy_needs_them() -> None:
    unreadable = with_part_status(
        healthy(), "delegated_permission_classifications", PartStatus.FORBIDDEN
    )
    report = run(unreadable)

    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}
    assert one(report, "DATA_UNAVAILABLE").features == []
    assert "No verdict depends on it" in one(report, "DATA_UNAVAILABLE").detail

    # One person consented earlier, so whether others may consent decides pass/warn/fail:
    # with the classifications unreadable, that is unknown.
    low = with_policy_assigned(
        with_apps(
            unreadable,
            recruitee_app(recruitee_sp(verified=True), grants=[user_grant(ALL_SCOPES, "p1")]),
        ),
        "ManagePermissionGrantsForSelf.microsoft-user-default-low",
    )
    report = run(low)
    assert statuses(report) == ALL_UNKNOWN
    gaps = findings(report, "DATA_UNAVAILABLE")
    assert {g.evidence["part"] for g in gaps} == {"delegated_permission_classifications"}
    assert {f for g in gaps for f in g.features} == {"mailbox", "calendar", "rooms"}
    assert {f.severity.value for f in findings(report, "SCOPE_MISSING")} == {"warning"}


def _two_apps(second_grant: str | None, **second_sp: object) -> list[RecruiteeApp]:
    second = recruitee_app(
        recruitee_sp(id=SECOND_SP_ID, app_id=SECOND_APP_ID, **second_sp),
        grants=[grant(second_grant, client_id=SECOND_SP_ID)] if second_grant else [],
    )
    return [recruitee_app(), second]


def test_disabled_leftover_does_not_decide_the_headline() -> None:
    """The only enabled app with grants is the one in use; the disabled one is a leftover:
    its own verdict shows it, capped at warning, and APP_DUPLICATE says to delete it."""
    report = run(with_apps(healthy(), *_two_apps(ALL_SCOPES, account_enabled=False)))

    assert report.app_in_use is not None
    assert report.app_in_use.object_id == RECRUITEE_SP_ID
    assert report.app_in_use.chosen_by == "only_enabled_with_grants"
    dup = one(report, "APP_DUPLICATE")
    assert dup.app_object_id == SECOND_SP_ID
    assert "delete the leftover enterprise application" in dup.remediation[0].action
    assert SECOND_SP_ID in dup.remediation[0].action
    disabled = one(report, "APP_DISABLED")
    assert disabled.app_object_id == SECOND_SP_ID
    assert disabled.severity.value == "warning"
    v = verdict(report, "rooms")
    assert {a.object_id: a.status.value for a in v.apps} == {
        RECRUITEE_SP_ID: "pass",
        SECOND_SP_ID: "warn",
    }
    assert v.apps[1].finding_ids == ["APP_DISABLED", "APP_DUPLICATE"]
    assert v.status.value == "pass"
    assert [a.in_use for a in report.apps] == [True, False]
    assert not report.findings_at_or_above(Severity.ERROR)


def test_leftover_missing_scopes_stay_on_its_own_verdict() -> None:
    report = run(with_policy_assigned(with_apps(healthy(), *_two_apps(None))))

    assert {f.app_object_id for f in findings(report, "SCOPE_MISSING")} == {SECOND_SP_ID}
    v = verdict(report, "rooms")
    assert [a.missing_scopes for a in v.apps] == [[], ["offline_access", "User.ReadBasic.All"]]
    assert v.missing_scopes == []
    assert v.status.value == "pass"


def test_undecided_duplicates_take_the_worst_app_and_say_so() -> None:
    report = run(with_policy_assigned(with_apps(healthy(), *_two_apps("openid User.Read"))))

    assert report.app_in_use is not None
    assert report.app_in_use.object_id is None
    assert "worst of them" in report.app_in_use.sentence
    dup = one(report, "APP_DUPLICATE")
    assert dup.app_object_id is None
    assert dup.features == []
    assert "--app-id" in dup.remediation[0].action
    v = verdict(report, "rooms")
    assert v.missing_scopes == ["offline_access", "User.ReadBasic.All"]
    assert v.status.value == "fail"
    # The fully consented app keeps its own verdict: the consent findings that exist because
    # of the other app's grants are that app's (never borrowed).
    assert {a.object_id: a.status.value for a in v.apps} == {
        RECRUITEE_SP_ID: "pass",
        SECOND_SP_ID: "fail",
    }
    disabled = findings(report, "USER_CONSENT_DISABLED")
    assert [(f.app_object_id, f.severity.value) for f in disabled] == [(SECOND_SP_ID, "error")]


def test_sign_ins_tell_which_app_is_in_use() -> None:
    snap = with_sign_ins(
        with_policy_assigned(with_apps(healthy(), *_two_apps("openid User.Read"))),
        sign_in(0, app_id=SECOND_APP_ID),
    )
    report = run(snap)

    assert report.app_in_use is not None
    assert report.app_in_use.object_id == SECOND_SP_ID
    assert report.app_in_use.chosen_by == "sign_ins"
    assert verdict(report, "mailbox").status.value == "fail"  # the second app lacks scopes
    assert one(report, "APP_DUPLICATE").app_object_id == RECRUITEE_SP_ID
    # The healthy first app's grant does not rescue the headline, nor its findings decide it.
    assert not [f for f in findings(report, "SCOPE_MISSING") if f.app_object_id == RECRUITEE_SP_ID]


def test_another_apps_findings_never_reach_an_apps_verdict() -> None:
    """Per-app verdicts read only their own and tenant-level findings; tenant-level consent
    findings are decided by the app in use, never by a leftover."""
    report = run(with_policy_assigned(with_apps(healthy(), *_two_apps(None))))

    first = next(a for a in verdict(report, "calendar").apps if a.object_id == RECRUITEE_SP_ID)
    assert first.status.value == "pass"
    assert first.finding_ids == []
    assert all(
        f.app_object_id == SECOND_SP_ID or not f.features
        for f in report.findings
        if f.severity.value != "info"
    )


def test_duplicate_apps_both_healthy_pass() -> None:
    report = run(with_apps(healthy(), *_two_apps(ALL_SCOPES)))

    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}
    assert [a.status.value for a in verdict(report, "mailbox").apps] == ["pass", "pass"]


@pytest.mark.parametrize("feature", ["mailbox", "calendar", "rooms"])
def test_feature_selection_limits_verdicts(feature: str) -> None:
    report = run(healthy(), features=[feature])

    assert [v.name for v in report.features] == [feature]
    assert report.summary.features_pass == 1


def test_items_left_out_of_a_part_are_a_finding_not_only_a_message() -> None:
    """A part read in part (the collector names what it skipped in ``Part.gaps``) gives
    DATA_PARTIAL naming each item, with a remediation; a verdict part makes the features
    warn, a log part affects none."""
    app = recruitee_app()
    gaps = ["unreadable item g-bad (resourceId)"]
    partial = app.model_copy(
        update={
            "oauth2_permission_grants": app.oauth2_permission_grants.model_copy(
                update={"gaps": gaps}
            )
        }
    )
    assert "DATA_PARTIAL" not in codes(run(with_apps(healthy(), app)))
    report = run(with_apps(healthy(), partial))
    f = one(report, "DATA_PARTIAL")
    assert f.evidence["part"] == "oauth2_permission_grants"
    assert "g-bad (resourceId)" in f.detail
    assert f.app_object_id == RECRUITEE_SP_ID
    assert f.remediation
    assert set(statuses(report).values()) == {"warn"}

    refused = ["background (non-interactive) sign-ins could not be read from Graph beta: 403"]
    snap = with_sign_ins(healthy(), sign_in(0))
    snap = snap.model_copy(update={"sign_ins": snap.sign_ins.model_copy(update={"gaps": refused})})
    report = run(snap)
    f = one(report, "DATA_PARTIAL")
    assert f.evidence["part"] == "sign_ins"
    assert "background (non-interactive)" in f.detail
    assert f.features == []
    assert set(statuses(report).values()) == {"pass"}
