"""CA_POLICY_BLOCKS, CA_POLICY_REQUIRES, CA_POLICY_SIGNIN_FREQUENCY, CA_POLICY_REPORT_ONLY and
CA_UNREADABLE, plus table-driven applicability (users, groups, roles, guests, target apps, state).

Rules (microsoft-graph-docs-contrib conditionalaccesspolicy.md, conditionalaccessusers.md,
conditionalaccessapplications.md): ``enabledForReportingButNotEnforced`` only reports; group
targeting uses transitive membership; Office365 targets the services behind Graph mail/calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from consent_audit.graph_objects import (
    ConditionalAccessLocations,
    SignInFrequency,
)
from consent_audit.snapshot import PartStatus

from .builders import (
    RECRUITEE_APP_ID,
    RECRUITEE_SP_ID,
    USER_ID,
    USER_UPN,
    assert_portal,
    ca_policy,
    codes,
    findings,
    first_broken_link,
    healthy,
    one,
    run,
    sign_in,
    statuses,
    with_ca_policy,
    with_part_status,
    with_sign_ins,
    with_user,
)

GROUP = "9e000000-0000-0000-0000-0000000000c1"
NESTED_PARENT = "9e000000-0000-0000-0000-0000000000c2"
ROLE = "62e90394-69f5-4237-9190-012177145e10"  # Global Administrator role template
EXCHANGE_ONLINE = "00000002-0000-0ff1-ce00-000000000000"
ALL_FAIL = {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}
ALL_PASS = {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}


# ----------------------------------------------------------------------------- applicability


@dataclass(frozen=True)
class Applies:
    policy: dict[str, Any]
    user: dict[str, Any] = field(default_factory=dict)
    blocked: tuple[str, ...] = ("mailbox", "calendar", "rooms")
    code: str | None = "CA_POLICY_BLOCKS"


APPLICABILITY: dict[str, Applies] = {
    "include all users": Applies({}),
    "include the user by id": Applies({"include_users": [USER_ID]}),
    "exclude the user by id": Applies({"exclude_users": [USER_ID]}, blocked=(), code=None),
    "exclude a group the user is directly in": Applies(
        {"exclude_groups": [GROUP]},
        {"member_of_group_ids": [GROUP], "transitive_member_of_group_ids": [GROUP]},
        blocked=(),
        code=None,
    ),
    "exclude a group the user is in only through nesting": Applies(
        {"exclude_groups": [NESTED_PARENT]},
        {"member_of_group_ids": [GROUP], "transitive_member_of_group_ids": [GROUP, NESTED_PARENT]},
        blocked=(),
        code=None,
    ),
    "include a group reached through nesting": Applies(
        {"include_users": [], "include_groups": [NESTED_PARENT]},
        {"member_of_group_ids": [GROUP], "transitive_member_of_group_ids": [GROUP, NESTED_PARENT]},
    ),
    "include a group the user is not in": Applies(
        {"include_users": [], "include_groups": [GROUP]}, blocked=(), code=None
    ),
    "include a role the user holds": Applies(
        {"include_users": [], "include_roles": [ROLE]}, {"directory_role_template_ids": [ROLE]}
    ),
    "include a role the user does not hold": Applies(
        {"include_users": [], "include_roles": [ROLE]}, blocked=(), code=None
    ),
    "include guests, user is a guest": Applies(
        {"include_users": ["GuestsOrExternalUsers"]}, {"user_type": "Guest"}
    ),
    "include guests, user is a member": Applies(
        {"include_users": ["GuestsOrExternalUsers"]}, blocked=(), code=None
    ),
    "include guest types, user is a guest": Applies(
        {
            "include_users": [],
            "include_guests": {"guestOrExternalUserTypes": "b2bCollaborationGuest"},
        },
        {"user_type": "Guest"},
    ),
    "include no users": Applies({"include_users": ["None"]}, blocked=(), code=None),
    "targets another app only": Applies(
        {"include_apps": ["de8bc8b5-d9f9-48b1-a8ad-b748da725064"]}, blocked=(), code=None
    ),
    "targets Recruitee by appId": Applies({"include_apps": [RECRUITEE_APP_ID.upper()]}),
    # Excluding a confidential client from an All-resources policy does not exempt its
    # token requests for the resources behind it (concept-conditional-access-cloud-apps:
    # "Conditional Access continues to be enforced based on the SharePoint resource").
    "All apps but Recruitee excluded": Applies({"exclude_apps": [RECRUITEE_APP_ID]}),
    # All resources still covers connecting to Recruitee itself (its ID token).
    "All apps but Exchange Online excluded still blocks connecting": Applies(
        {"exclude_apps": [EXCHANGE_ONLINE]}
    ),
    "Windows Azure AD target covers rooms only": Applies(
        {"include_apps": ["00000002-0000-0000-c000-000000000000"]}, blocked=("rooms",)
    ),
    "Office365 target covers mailbox and calendar only": Applies(
        {"include_apps": ["Office365"]}, blocked=("mailbox", "calendar")
    ),
    "Exchange Online target covers mailbox and calendar only": Applies(
        {"include_apps": [EXCHANGE_ONLINE]}, blocked=("mailbox", "calendar")
    ),
    "report-only policy": Applies(
        {"state": "enabledForReportingButNotEnforced"}, blocked=(), code="CA_POLICY_REPORT_ONLY"
    ),
    "disabled policy": Applies({"state": "disabled"}, blocked=(), code=None),
    "legacy client types only": Applies(
        {"client_app_types": ["exchangeActiveSync", "other"]}, blocked=(), code=None
    ),
    "browser and legacy client types": Applies({"client_app_types": ["browser", "other"]}),
}


@pytest.mark.parametrize("case", list(APPLICABILITY.values()), ids=list(APPLICABILITY))
def test_ca_applicability_for_user(case: Applies) -> None:
    snap = with_user(with_ca_policy(healthy(), ca_policy(**case.policy)), **case.user)
    report = run(snap, user=USER_UPN)

    ca_codes = [c for c in codes(report) if c.startswith("CA_")]
    assert ca_codes == ([case.code] if case.code else [])
    failing = tuple(name for name, status in statuses(report).items() if status == "fail")
    assert failing == case.blocked


def test_block_legacy_auth_policy_is_ignored_for_modern_auth_app() -> None:
    legacy = ca_policy(
        client_app_types=["exchangeActiveSync", "other"], display_name="Block legacy"
    )
    report = run(with_ca_policy(healthy(), legacy))

    assert report.findings == []
    assert statuses(report) == ALL_PASS


def test_ca_excluded_group_spares_user() -> None:
    policy = ca_policy(exclude_groups=[GROUP], display_name="Block all but admins")
    snap = with_ca_policy(healthy(), policy)

    # without --user the policy targets "all users except 1 group": it is reported
    assert "CA_POLICY_BLOCKS" in codes(run(snap))
    spared = with_user(snap, member_of_group_ids=[GROUP], transitive_member_of_group_ids=[GROUP])
    report = run(spared, user=USER_UPN)
    assert "CA_POLICY_BLOCKS" not in codes(report)
    assert statuses(report) == ALL_PASS


def test_office365_target_leaves_rooms_sync_alone() -> None:
    report = run(with_ca_policy(healthy(), ca_policy(include_apps=["Office365"])))

    f = one(report, "CA_POLICY_BLOCKS")
    assert f.features == ["mailbox", "calendar"]
    assert "Office 365" in f.evidence["targets"]
    assert statuses(report) == {"mailbox": "fail", "calendar": "fail", "rooms": "pass"}


def test_office365_excluded_from_exchange_target_does_not_apply() -> None:
    policy = ca_policy(include_apps=[EXCHANGE_ONLINE], exclude_apps=["Office365"])

    assert "CA_POLICY_BLOCKS" not in codes(run(with_ca_policy(healthy(), policy)))


# ----------------------------------------------------------------------------- each code


def test_block_policy_for_all_users_fails_every_feature() -> None:
    policy = ca_policy(display_name="Block everything")
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_BLOCKS")
    assert f.severity.value == "error"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.app_object_id == RECRUITEE_SP_ID
    assert f.evidence["policy_id"] == policy.id
    assert f.evidence["targets"] == "all resources"
    assert f.evidence["users"] == "all users"
    assert "'Block everything'" in f.detail
    assert_portal(f, "Protection > Conditional Access > Policies")
    assert statuses(report) == ALL_FAIL
    assert first_broken_link(report, "rooms") == "conditional_access"


def test_mfa_policy_is_satisfied_at_sign_in_and_not_reported() -> None:
    report = run(with_ca_policy(healthy(), ca_policy(controls=["mfa"])))

    assert [c for c in codes(report) if c.startswith("CA_")] == []


def test_compliant_device_requirement_is_requires_warning() -> None:
    policy = ca_policy(controls=["compliantDevice"], display_name="Require compliant device")
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_REQUIRES")
    assert f.severity.value == "warning"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert "a compliant device" in f.detail
    assert f.evidence["policy_id"] == policy.id
    assert_portal(f, "Protection > Conditional Access > Policies")
    assert "CA_POLICY_BLOCKS" not in codes(report)
    # A warning and no error: each feature is WARN, not PASS.
    assert set(statuses(report).values()) == {"warn"}


def test_compliant_device_or_mfa_can_be_met_with_mfa() -> None:
    policy = ca_policy(controls=["mfa", "compliantDevice"], operator="OR")

    assert "CA_POLICY_REQUIRES" not in codes(run(with_ca_policy(healthy(), policy)))


def test_compliant_device_and_mfa_cannot_be_met() -> None:
    policy = ca_policy(controls=["mfa", "compliantDevice"], operator="AND")

    assert "CA_POLICY_REQUIRES" in codes(run(with_ca_policy(healthy(), policy)))


def test_block_only_for_risky_sign_ins_is_a_requirement_not_a_block() -> None:
    policy = ca_policy(sign_in_risk_levels=["high"])
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_REQUIRES")
    assert "a low-risk sign-in" in f.detail
    assert f.evidence["conditions"] == ["sign-in risk high"]
    assert "CA_POLICY_BLOCKS" not in codes(report)


def test_block_outside_trusted_locations_breaks_background_sync_only() -> None:
    policy = ca_policy(
        locations=ConditionalAccessLocations(
            include_locations=["All"], exclude_locations=["AllTrusted"]
        )
    )

    report = run(with_ca_policy(healthy(), policy))
    f = one(report, "CA_POLICY_REQUIRES")
    assert "CA_POLICY_BLOCKS" not in codes(report)
    assert "locations All except AllTrusted" in f.detail
    assert "outside trusted or named locations" in f.detail


def test_mfa_outside_trusted_locations_is_satisfied_by_the_refresh_token() -> None:
    policy = ca_policy(
        controls=["mfa"],
        locations=ConditionalAccessLocations(
            include_locations=["All"], exclude_locations=["AllTrusted"]
        ),
    )

    fired = set(codes(run(with_ca_policy(healthy(), policy))))
    assert not {"CA_POLICY_REQUIRES", "CA_POLICY_BLOCKS"} & fired


def test_signin_frequency_is_information_deferred_to_the_next_connect() -> None:
    """concept-session-lifetime: "On confidential clients, sign-in frequency enforcement on
    non-interactive sign-ins is deferred until the next interactive sign-in"."""
    policy = ca_policy(
        controls=["mfa"],
        sign_in_frequency=SignInFrequency(is_enabled=True, type="hours", value=8),
        display_name="Re-auth every 8 hours",
    )
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_SIGNIN_FREQUENCY")
    assert f.severity.value == "info"
    assert f.features == []
    assert "every 8 hours" in f.detail
    assert "deferred until the next interactive sign-in" in f.detail
    assert "SIGNIN_FAILURES" not in f.detail
    assert f.evidence["policy_id"] == policy.id
    assert_portal(f, "Protection > Conditional Access > Policies")
    assert statuses(report) == ALL_PASS
    assert first_broken_link(report, "mailbox") is None


def test_signin_frequency_points_to_refresh_failures_when_the_log_shows_them() -> None:
    policy = ca_policy(
        controls=["mfa"],
        sign_in_frequency=SignInFrequency(is_enabled=True, type="hours", value=1),
    )
    report = run(with_sign_ins(with_ca_policy(healthy(), policy), sign_in(70043)))

    assert one(report, "CA_POLICY_SIGNIN_FREQUENCY").severity.value == "info"
    assert "see SIGNIN_FAILURES" in one(report, "CA_POLICY_SIGNIN_FREQUENCY").detail
    failures = one(report, "SIGNIN_FAILURES")
    assert failures.severity.value == "warning"
    assert set(statuses(report).values()) == {"warn"}
    assert first_broken_link(report, "mailbox") == "session"


def test_block_on_recruitee_itself_stops_connecting_only() -> None:
    """A policy on Recruitee's own appId applies when a person connects (ID token), so a block
    there fails every feature; device controls there are met on the person's device."""
    block = ca_policy(include_apps=[RECRUITEE_APP_ID], display_name="Block Recruitee")
    f = one(run(with_ca_policy(healthy(), block)), "CA_POLICY_BLOCKS")
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert "cannot connect Recruitee" in f.detail
    assert f.evidence["at_connect"] is True
    assert f.evidence["background_features"] == []

    device = ca_policy(include_apps=[RECRUITEE_APP_ID], controls=["compliantDevice"])
    report = run(with_ca_policy(healthy(), device))
    assert [c for c in codes(report) if c.startswith("CA_")] == []
    assert statuses(report) == ALL_PASS


def test_device_control_on_exchange_breaks_background_mail_and_calendar_only() -> None:
    policy = ca_policy(include_apps=[EXCHANGE_ONLINE], controls=["compliantDevice"])
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_REQUIRES")
    assert f.features == ["mailbox", "calendar"]
    assert "Medium confidence" in f.detail
    assert statuses(report) == {"mailbox": "warn", "calendar": "warn", "rooms": "pass"}


def test_block_remediation_never_suggests_excluding_recruitee_alone() -> None:
    f = one(run(with_ca_policy(healthy(), ca_policy())), "CA_POLICY_BLOCKS")
    assert "exclude the users who sync" in f.remediation[0].action
    assert "does not exempt" in f.remediation[0].action


def test_mfa_policy_is_explained_in_the_table_not_as_a_finding() -> None:
    report = run(with_ca_policy(healthy(), ca_policy(controls=["mfa"])))

    assert [c for c in codes(report) if c.startswith("CA_")] == []
    (row,) = report.conditional_access
    assert "refresh token's MFA claim" in row.effect
    assert "AADSTS50076" in row.effect


def test_signin_frequency_every_time_is_named() -> None:
    policy = ca_policy(
        controls=["mfa"],
        sign_in_frequency=SignInFrequency(is_enabled=True, frequency_interval="everyTime"),
    )

    assert (
        "every time"
        in one(run(with_ca_policy(healthy(), policy)), "CA_POLICY_SIGNIN_FREQUENCY").detail
    )


def test_disabled_signin_frequency_control_is_not_reported() -> None:
    policy = ca_policy(
        controls=["mfa"], sign_in_frequency=SignInFrequency(is_enabled=False, value=1)
    )

    assert "CA_POLICY_SIGNIN_FREQUENCY" not in codes(run(with_ca_policy(healthy(), policy)))


def test_report_only_policy_is_info_not_block() -> None:
    policy = ca_policy(state="enabledForReportingButNotEnforced", display_name="Pilot block")
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_REPORT_ONLY")
    assert f.severity.value == "info"
    assert f.features == []
    assert f.evidence["state"] == "enabledForReportingButNotEnforced"
    assert f.detail.startswith("Report-only today; if enforced:")
    assert_portal(f, "Protection > Conditional Access > Policies")
    assert "CA_POLICY_BLOCKS" not in codes(report)
    assert statuses(report) == ALL_PASS


def test_report_only_signin_frequency_is_also_report_only() -> None:
    policy = ca_policy(
        state="enabledForReportingButNotEnforced",
        controls=["mfa"],
        sign_in_frequency=SignInFrequency(is_enabled=True, type="days", value=1),
    )
    report = run(with_ca_policy(healthy(), policy))

    assert codes(report) == ["CA_POLICY_REPORT_ONLY"]


def test_unreadable_ca_policies_make_every_feature_unknown() -> None:
    snap = with_part_status(
        healthy(), "conditional_access_policies", PartStatus.FORBIDDEN, permission="Policy.Read.All"
    )
    report = run(snap)

    f = one(report, "CA_UNREADABLE")
    assert f.severity.value == "warning"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.evidence == {"status": "forbidden", "permission": "Policy.Read.All"}
    assert_portal(f, "Identity > Roles & admins > Global Reader")
    assert statuses(report) == {"mailbox": "unknown", "calendar": "unknown", "rooms": "unknown"}
    assert first_broken_link(report, "mailbox") == "conditional_access"
    assert findings(report, "DATA_UNAVAILABLE") == []


def test_not_licensed_ca_is_not_unknown() -> None:
    report = run(
        with_part_status(healthy(), "conditional_access_policies", PartStatus.NOT_LICENSED)
    )

    f = one(report, "CA_UNREADABLE")
    assert f.features == []
    assert f.evidence["status"] == "not_licensed"
    assert "no Entra ID P1" in f.detail
    assert statuses(report) == ALL_PASS


def test_readable_empty_ca_policies_are_not_unreadable() -> None:
    assert "CA_UNREADABLE" not in codes(run(healthy()))
