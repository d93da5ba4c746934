"""ASSIGNMENT_REQUIRED and ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED.

"If an app role is assigned to a group, *direct* members of the group are also considered
assigned" (microsoft-graph-docs-contrib resources/approleassignment.md): no nested cascade.
"""

from __future__ import annotations

from consent_audit.report import Finding, Report
from consent_audit.snapshot import PartStatus

from .builders import (
    RECRUITEE_SP_ID,
    USER_ID,
    USER_UPN,
    assert_portal,
    assignment,
    codes,
    first_broken_link,
    healthy,
    one,
    run,
    statuses,
    with_app_part_status,
    with_assignments,
    with_user,
)

SALES = "9e000000-0000-0000-0000-0000000000a1"
EMEA = "9e000000-0000-0000-0000-0000000000a2"


def test_assignment_not_required_is_not_reported() -> None:
    report = run(with_assignments(healthy(), required=False))

    assert "ASSIGNMENT_REQUIRED" not in codes(report)


def test_assignment_required_with_assignees_is_info_without_features() -> None:
    snap = with_assignments(healthy(), assignment(USER_ID), assignment(SALES, "Group"))
    report = run(snap)

    f = one(report, "ASSIGNMENT_REQUIRED")
    assert f.severity.value == "info"
    assert f.features == []
    assert f.evidence["assigned_users"] == 1
    assert f.evidence["assigned_groups"] == 1
    assert f.evidence["group_ids"] == [SALES]
    assert f.remediation == []
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


def test_assignment_required_with_nobody_assigned_is_warning_for_every_feature() -> None:
    report = run(with_assignments(healthy()))

    f = one(report, "ASSIGNMENT_REQUIRED")
    assert f.severity.value == "warning"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert "Nobody is assigned" in f.detail
    assert f.app_object_id == RECRUITEE_SP_ID
    assert_portal(f, "Enterprise apps > All applications > Recruitee > Users and groups")


def test_service_principal_assignment_does_not_count_as_a_user_or_group() -> None:
    f = one(
        run(with_assignments(healthy(), assignment("some-sp", "ServicePrincipal"))),
        "ASSIGNMENT_REQUIRED",
    )

    assert f.severity.value == "warning"


def test_directly_assigned_user_is_assigned() -> None:
    snap = with_user(with_assignments(healthy(), assignment(USER_ID.upper())))

    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in codes(run(snap, user=USER_UPN))


def test_direct_member_of_assigned_group_is_assigned() -> None:
    snap = with_user(
        with_assignments(healthy(), assignment(SALES, "Group")),
        member_of_group_ids=[SALES],
        transitive_member_of_group_ids=[SALES],
    )

    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in codes(run(snap, user=USER_UPN))


def test_unassigned_user_is_an_error_for_every_feature() -> None:
    snap = with_user(with_assignments(healthy(), assignment("another-user")))
    report = run(snap, user=USER_UPN)

    f = one(report, "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED")
    assert f.severity.value == "error"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.evidence["user_id"] == USER_ID
    assert f.evidence["nested_only_group_ids"] == []
    assert "AADSTS50105" in f.detail
    assert_portal(
        f, "Enterprise apps > All applications > Recruitee > Users and groups > Add user/group"
    )
    request = _planned_request(report, f)
    assert request is not None
    assert f'"principalId": "{USER_ID}"' in request
    assert statuses(report) == {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}
    assert first_broken_link(report, "mailbox") == "assignment"


def test_nested_group_membership_does_not_count_as_assignment() -> None:
    snap = with_user(
        with_assignments(healthy(), assignment(SALES, "Group", principal_display_name="Sales")),
        member_of_group_ids=[EMEA],
        transitive_member_of_group_ids=[EMEA, SALES],
    )
    report = run(snap, user=USER_UPN)

    f = one(report, "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED")
    assert f.evidence["nested_only_group_ids"] == [SALES]
    assert f.evidence["assigned_group_ids"] == [SALES]
    assert "'Sales'" in f.detail
    assert "nested group" in f.detail


def test_nested_group_name_falls_back_to_users_group_names() -> None:
    snap = with_user(
        with_assignments(healthy(), assignment(SALES, "Group")),
        member_of_group_ids=[EMEA],
        transitive_member_of_group_ids=[EMEA, SALES],
        group_display_names={SALES: "Sales (all)"},
    )

    assert (
        "'Sales (all)'"
        in one(run(snap, user=USER_UPN), "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED").detail
    )


def test_assignment_not_required_never_checks_the_user() -> None:
    snap = with_user(with_assignments(healthy(), required=False))

    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in codes(run(snap, user=USER_UPN))


def test_without_user_no_per_user_assignment_finding() -> None:
    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in codes(run(with_assignments(healthy())))


def test_assignment_required_forces_admin_consent() -> None:
    """Missing scopes on an assignment-required app need an admin even under legacy consent."""
    snap = with_assignments(healthy(), assignment(USER_ID))
    from .builders import with_admin_scopes  # local: keeps the import list focused

    report = run(with_admin_scopes(snap, "offline_access User.Read"))

    rooms = next(f for f in report.findings if f.id == "SCOPE_MISSING" and f.features == ["rooms"])
    assert rooms.severity.value == "error"
    assert "assignment is required" in rooms.detail
    assert statuses(report)["rooms"] == "fail"


def test_unreadable_assignments_make_user_verdict_unknown() -> None:
    snap = with_user(
        with_app_part_status(
            with_assignments(healthy()), "app_role_assigned_to", PartStatus.FORBIDDEN
        )
    )
    report = run(snap, user=USER_UPN)

    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in codes(report)
    gap = one(report, "DATA_UNAVAILABLE")
    assert gap.evidence["part"] == "app_role_assigned_to"
    assert statuses(report) == {"mailbox": "unknown", "calendar": "unknown", "rooms": "unknown"}


def _planned_request(report: Report, f: Finding) -> str | None:
    """The fix-plan request a finding points at (findings carry no request of their own)."""
    number = f.remediation[0].plan_step
    step = next(s for s in report.plan if s.number == number)
    return step.graph


def test_global_administrator_bypasses_the_assignment_requirement() -> None:
    """Global Administrators bypass 'Assignment required' (entra-behaviour.md): an unassigned
    Global Administrator is not reported as blocked, an unassigned colleague is."""
    snap = with_assignments(healthy(), assignment(SALES, "Group"))
    admin = with_user(snap, directory_role_template_ids=["62E90394-69F5-4237-9190-012177145E10"])
    report = run(admin, user=USER_UPN)
    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in codes(report)
    assert statuses(report) == {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}

    other_role = with_user(
        snap, directory_role_template_ids=["158c047a-c907-4556-b7ef-446551a6b5f7"]
    )
    assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" in codes(run(other_role, user=USER_UPN))
