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

from consent_audit.evaluate.ca_conditions import Applies as Condition
from consent_audit.evaluate.ca_conditions import (
    Need,
    conditions_for,
    controls_for_refresh,
    filter_matches_unregistered,
)
from consent_audit.graph_objects import (
    ConditionalAccessLocations,
    ConditionalAccessPolicy,
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
    assert_portal(f, "Entra ID > Conditional Access > Policies")
    assert statuses(report) == ALL_FAIL
    assert first_broken_link(report, "rooms") == "conditional_access"


def test_mfa_policy_is_satisfied_at_sign_in_and_not_reported() -> None:
    report = run(with_ca_policy(healthy(), ca_policy(controls=["mfa"])))

    assert [c for c in codes(report) if c.startswith("CA_")] == []


def test_compliant_device_requirement_is_unknown_naming_the_control() -> None:
    """How Entra judges device compliance on a server-side refresh is not documented
    (entra-behaviour.md; concept-conditional-access-conditions.md): unknown, never "fails"."""
    policy = ca_policy(controls=["compliantDevice"], display_name="Require compliant device")
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert f.severity.value == "warning"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert "a compliant device" in f.detail
    assert "background sync fails" not in f.detail
    assert f.evidence["policy_id"] == policy.id
    assert f.evidence["not_evaluated"][0]["condition"] == "a compliant device"
    assert "non-interactive sign-in log" in f.evidence["not_evaluated"][0]["settled_by"]
    assert_portal(f, "Entra ID > Conditional Access > Policies")
    assert not {"CA_POLICY_BLOCKS", "CA_POLICY_REQUIRES"} & set(codes(report))
    assert set(statuses(report).values()) == {"unknown"}
    assert first_broken_link(report, "mailbox") == "conditional_access"


def test_compliant_device_or_mfa_can_be_met_with_mfa() -> None:
    policy = ca_policy(controls=["mfa", "compliantDevice"], operator="OR")

    report = run(with_ca_policy(healthy(), policy))
    assert [c for c in codes(report) if c.startswith("CA_")] == []
    assert statuses(report) == ALL_PASS


def test_compliant_device_and_mfa_is_unknown() -> None:
    policy = ca_policy(controls=["mfa", "compliantDevice"], operator="AND")

    report = run(with_ca_policy(healthy(), policy))
    assert "CA_POLICY_UNDETERMINED" in codes(report)
    assert set(statuses(report).values()) == {"unknown"}


def test_app_protection_requirement_breaks_background_sync() -> None:
    policy = ca_policy(controls=["compliantApplication"], include_apps=[EXCHANGE_ONLINE])
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_REQUIRES")
    assert "an app protection policy" in f.detail
    assert statuses(report) == {"mailbox": "warn", "calendar": "warn", "rooms": "pass"}


@pytest.mark.parametrize("risk", ["sign_in_risk_levels", "user_risk_levels"])
def test_block_only_while_risk_is_detected_is_context_not_a_failure(risk: str) -> None:
    """A risk condition applies only while that risk is detected
    (concept-conditional-access-conditions.md): information, never a standing FAIL."""
    policy = ca_policy(**{risk: ["high"]})
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_CONDITIONAL")
    assert f.severity.value == "info"
    assert "risk high is detected" in f.detail
    assert "not a standing failure" in f.detail
    assert not {"CA_POLICY_BLOCKS", "CA_POLICY_REQUIRES"} & set(codes(report))
    assert statuses(report) == ALL_PASS


def test_insider_risk_is_context_too() -> None:
    policy = ca_policy(insider_risk_levels="elevated")
    report = run(with_ca_policy(healthy(), policy))

    assert "insider risk elevated" in one(report, "CA_POLICY_CONDITIONAL").detail
    assert statuses(report) == ALL_PASS


def test_block_outside_trusted_locations_blocks_recruitees_servers() -> None:
    """ "Any location" with trusted ones excluded applies to Recruitee's servers, which are not
    in the trusted ranges (concept-assignment-network.md): the block applies to refreshes."""
    policy = ca_policy(
        locations=ConditionalAccessLocations(
            include_locations=["All"], exclude_locations=["AllTrusted"]
        )
    )

    report = run(with_ca_policy(healthy(), policy))
    f = one(report, "CA_POLICY_BLOCKS")
    assert "locations All except AllTrusted" in f.detail
    assert "outside them (AADSTS53003)" in f.detail
    assert "tenant-wide" in f.remediation[0].action
    assert statuses(report) == ALL_FAIL


def test_block_from_selected_locations_is_unknown_not_fail() -> None:
    """A country block applies only to sign-ins from there: it depends on where Recruitee's
    servers are (concept-assignment-network.md), so unknown, naming what settles it."""
    policy = ca_policy(
        locations=ConditionalAccessLocations(include_locations=["3a1c0d5e-countries"])
    )

    report = run(with_ca_policy(healthy(), policy))
    f = one(report, "CA_POLICY_UNDETERMINED")
    assert "locations 3a1c0d5e-countries" in f.detail
    assert "ask Recruitee for the IP addresses" in f.evidence["not_evaluated"][0]["settled_by"]
    assert "CA_POLICY_BLOCKS" not in codes(report)
    assert set(statuses(report).values()) == {"unknown"}


def test_mfa_outside_trusted_locations_still_applies_to_recruitees_servers() -> None:
    """MFA with trusted locations excluded: a person connecting from the office is not asked,
    Recruitee's refreshes from its servers then need an MFA claim they lack (AADSTS50076)."""
    policy = ca_policy(
        controls=["mfa"],
        locations=ConditionalAccessLocations(
            include_locations=["All"], exclude_locations=["AllTrusted"]
        ),
    )

    report = run(with_ca_policy(healthy(), policy))
    f = one(report, "CA_POLICY_REQUIRES")
    assert "AADSTS50076" in f.detail
    assert "everywhere except trusted locations: it applies only outside them" in f.detail
    assert f.title == "A Conditional Access policy requires MFA outside trusted locations"
    assert "CA_POLICY_BLOCKS" not in codes(report)
    assert set(statuses(report).values()) == {"warn"}


def test_mfa_outside_named_locations_names_them_and_says_only_what_the_policy_does() -> None:
    """A named location (not AllTrusted) excluded: the detail names its id, the title says
    'outside the locations it excludes' (never 'cannot provide': people who did MFA when
    they connected keep syncing)."""
    office = "3a1c0d5e-0000-0000-0000-00000000offi"
    policy = ca_policy(
        controls=["mfa"],
        locations=ConditionalAccessLocations(
            include_locations=["All"], exclude_locations=["AllTrusted", office]
        ),
    )
    f = one(run(with_ca_policy(healthy(), policy)), "CA_POLICY_REQUIRES")
    assert f.title == "A Conditional Access policy requires MFA outside the locations it excludes"
    assert f"everywhere except trusted locations and named location {office}:" in f.detail
    assert "People who did MFA when they connected keep syncing." in f.detail


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
    assert_portal(f, "Entra ID > Conditional Access > Policies")
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


def test_block_on_recruitee_itself_stops_connecting_and_may_stop_mailbox_refreshes() -> None:
    """A policy on Recruitee's own appId applies when a person connects (ID token), so a block
    there fails every feature; it may also cover the mailbox's refreshes, which ask for an ID
    token (openid): the text says "may", never that those connected keep syncing."""
    block = ca_policy(include_apps=[RECRUITEE_APP_ID], display_name="Block Recruitee")
    f = one(run(with_ca_policy(healthy(), block)), "CA_POLICY_BLOCKS")
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert "cannot connect Recruitee" in f.detail
    assert "may stop their mailbox refreshes" in f.detail
    assert "keep syncing" not in f.detail
    assert f.evidence["at_connect"] is True
    assert f.evidence["background_features"] == []


@pytest.mark.parametrize("control", ["compliantDevice", "domainJoinedDevice"])
def test_device_control_on_recruitee_itself_may_apply_to_mailbox_refreshes(control: str) -> None:
    """entra-behaviour.md: a confidential client that asks for an ID token is also a target,
    so a policy on Recruitee's appId may apply to refreshes of the mailbox (openid is among
    its scopes): not documented either way. The mailbox is unknown, never a certain pass;
    calendar and rooms (no openid) are not touched (concept-conditional-access-cloud-apps)."""
    device = ca_policy(
        include_apps=[RECRUITEE_APP_ID], controls=[control], display_name="Devices for Recruitee"
    )
    report = run(with_ca_policy(healthy(), device))
    f = one(report, "CA_POLICY_UNDETERMINED")
    assert f.features == ["mailbox"]
    assert "may apply to them too" in f.detail
    assert "not documented either way" in f.detail
    assert "does not" not in f.detail
    assert f.evidence["not_evaluated"][0]["condition"] == "Recruitee's own appId"
    assert statuses(report) == {"mailbox": "unknown", "calendar": "pass", "rooms": "pass"}
    (row,) = [r for r in report.conditional_access if r.display_name == "Devices for Recruitee"]
    assert "unknown for Recruitee" in row.effect
    assert "none for Recruitee" not in row.effect


def test_mfa_on_recruitee_itself_may_apply_to_mailbox_refreshes_met_by_the_claim() -> None:
    policy = ca_policy(include_apps=[RECRUITEE_APP_ID], controls=["mfa"], display_name="MFA R")
    report = run(with_ca_policy(healthy(), policy))
    (row,) = [r for r in report.conditional_access if r.display_name == "MFA R"]
    assert "may also apply to mailbox refreshes" in row.effect
    assert statuses(report) == ALL_PASS


def test_device_control_on_exchange_is_unknown_for_mail_and_calendar_only() -> None:
    policy = ca_policy(include_apps=[EXCHANGE_ONLINE], controls=["compliantDevice"])
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert f.features == ["mailbox", "calendar"]
    assert statuses(report) == {"mailbox": "unknown", "calendar": "unknown", "rooms": "pass"}


def test_block_remediation_never_suggests_excluding_recruitee_alone() -> None:
    policy = ca_policy(include_apps=[EXCHANGE_ONLINE], display_name="Block Exchange")
    f = one(run(with_ca_policy(healthy(), policy)), "CA_POLICY_BLOCKS")
    assert "exclude the people who sync" in f.remediation[0].action
    assert "does not exempt" in f.remediation[0].action
    assert "tenant-wide" in f.remediation[0].action


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
    assert_portal(f, "Entra ID > Conditional Access > Policies")
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
    assert_portal(f, "Entra ID > Roles & admins > Global Reader")
    assert statuses(report) == {"mailbox": "unknown", "calendar": "unknown", "rooms": "unknown"}
    assert first_broken_link(report, "mailbox") == "conditional_access"
    assert findings(report, "DATA_UNAVAILABLE") == []


def test_not_licensed_ca_is_unknown_because_policies_survive_the_licence() -> None:
    """overview.md: "When licenses required for Conditional Access expire, policies aren't
    automatically disabled or deleted": no licence today does not mean no policy."""
    report = run(
        with_part_status(healthy(), "conditional_access_policies", PartStatus.NOT_LICENSED)
    )

    f = one(report, "CA_UNREADABLE")
    assert f.severity.value == "warning"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.evidence["status"] == "not_licensed"
    assert "no Entra ID P1" in f.detail
    assert "not disable or delete" in f.detail
    assert "no Conditional Access policy can be enforced" not in f.detail
    assert "Conditional Access > Policies" in (f.remediation[0].portal_path or "")
    assert statuses(report) == {"mailbox": "unknown", "calendar": "unknown", "rooms": "unknown"}


def test_readable_empty_ca_policies_are_not_unreadable() -> None:
    assert "CA_UNREADABLE" not in codes(run(healthy()))


# ----------------------------------------------------------------- conditions as documented


def _raw_policy(**overrides: Any) -> ConditionalAccessPolicy:
    """A policy as Graph sends it (camelCase, properties the models may not know kept)."""
    base: dict[str, Any] = {
        "id": "ca-raw",
        "displayName": "Raw policy",
        "state": "enabled",
        "conditions": {
            "applications": {"includeApplications": ["All"]},
            "users": {"includeUsers": ["All"]},
            "clientAppTypes": ["all"],
        },
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    }
    for key, value in overrides.items():
        if key in ("conditions", "grantControls", "sessionControls") and isinstance(value, dict):
            merged = dict(base.get(key) or {})
            merged.update(value)
            base[key] = merged
        else:
            base[key] = value
    return ConditionalAccessPolicy.model_validate(base)


def _ca_codes(report: Any) -> list[str]:
    return [c for c in codes(report) if c.startswith("CA_")]


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["mobileAppsAndDesktopClients"], []),
        (["mobileAppsAndDesktopClients", "exchangeActiveSync", "other"], []),
        (["easSupported"], []),
        (["browser"], ["CA_POLICY_BLOCKS"]),
        (["browser", "mobileAppsAndDesktopClients"], ["CA_POLICY_BLOCKS"]),
    ],
)
def test_client_app_types_recruitee_is_a_browser_client(
    types: list[str], expected: list[str]
) -> None:
    """ "Browser ... services registered as an OAuth confidential client"
    (concept-conditional-access-conditions.md, Client apps)."""
    report = run(with_ca_policy(healthy(), ca_policy(client_app_types=types)))

    assert _ca_codes(report) == expected
    assert set(statuses(report).values()) == ({"fail"} if expected else {"pass"})


def test_unknown_client_app_type_is_unknown() -> None:
    report = run(with_ca_policy(healthy(), ca_policy(client_app_types=["unknownFutureValue"])))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert "client app types" in f.evidence["not_evaluated"][0]["condition"]
    assert set(statuses(report).values()) == {"unknown"}


def test_compliant_device_on_linux_does_not_say_background_sync_fails() -> None:
    policy = _raw_policy(
        conditions={"platforms": {"includePlatforms": ["linux"], "excludePlatforms": []}},
        grantControls={"builtInControls": ["compliantDevice"]},
    )
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert "fails" not in f.detail
    assert "device platforms linux" in f.detail
    assert "unverified user agent" in f.detail
    named = [n["condition"] for n in f.evidence["not_evaluated"]]
    assert named == ["device platforms"]
    assert set(statuses(report).values()) == {"unknown"}


def test_block_of_all_platforms_but_known_ones_is_unknown() -> None:
    policy = _raw_policy(
        conditions={
            "platforms": {
                "includePlatforms": ["all"],
                "excludePlatforms": ["android", "iOS", "windows", "macOS", "linux"],
            }
        }
    )
    report = run(with_ca_policy(healthy(), policy))

    assert "all device platforms except android" in one(report, "CA_POLICY_UNDETERMINED").detail
    assert "CA_POLICY_BLOCKS" not in codes(report)


@pytest.mark.parametrize(
    ("mode", "rule", "expected"),
    [
        # positive operators never match an unregistered device (connecting from a joined
        # device still can: context for the person, not a failure)
        ("include", 'device.trustType -eq "AzureAD"', ["CA_POLICY_CONDITIONAL"]),
        ("exclude", 'device.isCompliant -eq "True"', ["CA_POLICY_BLOCKS"]),
        # negative operators always do
        ("include", 'device.extensionAttribute1 -ne "SAW"', ["CA_POLICY_BLOCKS"]),
        ("exclude", 'device.extensionAttribute1 -ne "SAW"', ["CA_POLICY_CONDITIONAL"]),
        (
            "include",
            'device.operatingSystem -eq "Windows" -and device.model -notContains "Surface"',
            ["CA_POLICY_UNDETERMINED"],
        ),
    ],
)
def test_device_filter_on_a_refresh_without_a_registered_device(
    mode: str, rule: str, expected: list[str]
) -> None:
    """concept-condition-filters-for-devices.md: an unregistered device has null properties;
    a positive operator applies only to a device in the directory."""
    policy = _raw_policy(conditions={"devices": {"deviceFilter": {"mode": mode, "rule": rule}}})
    report = run(with_ca_policy(healthy(), policy))

    assert _ca_codes(report) == expected


def test_filter_matches_unregistered_reads_both_operator_spellings() -> None:
    assert filter_matches_unregistered('device.model == "x"') is False
    assert filter_matches_unregistered('device.model != "x"') is True
    assert filter_matches_unregistered('-not (device.model -eq "x")') is None
    assert filter_matches_unregistered("") is None


def test_application_filter_is_unknown_never_ignored() -> None:
    policy = _raw_policy(
        conditions={
            "applications": {
                "includeApplications": [],
                "applicationFilter": {
                    "mode": "include",
                    "rule": 'CustomSecurityAttribute.Sensitivity_Level -eq "High"',
                },
            }
        }
    )
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert [n["condition"] for n in f.evidence["not_evaluated"]] == ["application filter"]
    assert set(statuses(report).values()) == {"unknown"}


def test_builtin_mfa_strength_is_the_mfa_control() -> None:
    """Graph authenticationStrengthPolicy: id 00000000-0000-0000-0000-000000000002 is the
    built-in "Multifactor authentication" strength."""
    policy = _raw_policy(
        grantControls={
            "builtInControls": [],
            "authenticationStrength": {
                "id": "00000000-0000-0000-0000-000000000002",
                "displayName": "Multifactor authentication",
                "policyType": "builtIn",
            },
        }
    )
    report = run(with_ca_policy(healthy(), policy))

    assert _ca_codes(report) == []
    (row,) = report.conditional_access
    assert "refresh token's MFA claim" in row.effect


def test_other_authentication_strength_is_unknown_not_mfa() -> None:
    policy = _raw_policy(
        grantControls={
            "builtInControls": [],
            "authenticationStrength": {
                "id": "00000000-0000-0000-0000-000000000004",
                "displayName": "Phishing-resistant MFA",
            },
        }
    )
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert "authentication strength 'Phishing-resistant MFA'" in f.detail
    assert set(statuses(report).values()) == {"unknown"}


def test_token_protection_is_unknown_named() -> None:
    policy = _raw_policy(
        grantControls=None,
        sessionControls={"secureSignInSession": {"isEnabled": True}},
    )
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert [n["condition"] for n in f.evidence["not_evaluated"]] == ["token protection"]
    assert set(statuses(report).values()) == {"unknown"}
    (row,) = report.conditional_access
    assert "token protection" in row.session_controls


def test_token_protection_switched_off_changes_nothing() -> None:
    policy = _raw_policy(
        grantControls=None, sessionControls={"secureSignInSession": {"isEnabled": False}}
    )

    assert _ca_codes(run(with_ca_policy(healthy(), policy))) == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"conditions": {"deviceRiskLevels": ["high"]}}, "conditions.deviceRiskLevels"),
        (
            {"conditions": {"applications": {"includeApplications": ["All"], "new": ["x"]}}},
            "conditions.applications.new",
        ),
        (
            {"grantControls": {"builtInControls": ["mfa"], "futureControl": {"on": True}}},
            "grantControls.futureControl",
        ),
        (
            {"grantControls": None, "sessionControls": {"newSession": {"isEnabled": True}}},
            "sessionControls.newSession",
        ),
        ({"grantControls": {"builtInControls": ["unknownFutureValue"]}}, "grant control"),
        (
            {"conditions": {"authenticationFlows": {"transferMethods": "deviceCodeFlow"}}},
            "authentication flows",
        ),
        (
            {"conditions": {"clientApplications": {"includeServicePrincipals": ["All"]}}},
            "client applications",
        ),
    ],
)
def test_what_the_tool_cannot_evaluate_is_unknown_never_pass(
    overrides: dict[str, Any], named: str
) -> None:
    policy = _raw_policy(**overrides)
    report = run(with_ca_policy(healthy(), policy))

    f = one(report, "CA_POLICY_UNDETERMINED")
    assert any(named in n["condition"] for n in f.evidence["not_evaluated"]), f.evidence
    assert all(n["settled_by"] for n in f.evidence["not_evaluated"])
    assert "pass" not in statuses(report).values()


def test_models_keep_every_property_graph_sends() -> None:
    raw = {
        "id": "p",
        "state": "enabled",
        "templateId": None,
        "conditions": {
            "devices": {
                "deviceFilter": {"mode": "include", "rule": "x"},
                "includeDeviceStates": ["a"],
            },
            "brandNew": {"x": 1},
        },
        "sessionControls": {"secureSignInSession": {"isEnabled": True}, "later": {"y": 2}},
    }
    dumped = ConditionalAccessPolicy.model_validate(raw).model_dump(by_alias=True)

    assert dumped["conditions"]["brandNew"] == {"x": 1}
    assert dumped["conditions"]["devices"]["includeDeviceStates"] == ["a"]
    assert dumped["conditions"]["devices"]["deviceFilter"]["rule"] == "x"
    assert dumped["sessionControls"]["later"] == {"y": 2}
    assert dumped["sessionControls"]["secureSignInSession"]["isEnabled"] is True


def test_report_only_undetermined_policy_is_report_only_information() -> None:
    policy = _raw_policy(state="enabledForReportingButNotEnforced", conditions={"x": [1]})
    report = run(with_ca_policy(healthy(), policy))

    assert _ca_codes(report) == ["CA_POLICY_REPORT_ONLY"]
    assert statuses(report) == ALL_PASS


def test_conditions_for_a_connect_make_a_location_block_conditional() -> None:
    """A block on Recruitee's own appId from some countries stops people connecting only from
    there: context, not a failure. It may also cover the mailbox's refreshes (they ask for an
    ID token), from Recruitee's servers, whose country is unknown: mailbox unknown."""
    policy = ca_policy(
        include_apps=[RECRUITEE_APP_ID],
        locations=ConditionalAccessLocations(include_locations=["blocked-countries"]),
    )
    report = run(with_ca_policy(healthy(), policy))

    assert _ca_codes(report) == ["CA_POLICY_UNDETERMINED", "CA_POLICY_CONDITIONAL"]
    assert statuses(report) == {"mailbox": "unknown", "calendar": "pass", "rooms": "pass"}
    view = conditions_for(policy, refresh=False)
    assert view.state is Condition.ONLY_WHILE
    assert conditions_for(policy, refresh=True).state is Condition.UNKNOWN


def test_controls_for_refresh_follow_the_operator() -> None:
    either = ca_policy(controls=["mfa", "approvedApplication"], operator="OR")
    both = ca_policy(controls=["mfa", "approvedApplication"], operator="AND")

    assert controls_for_refresh(either).need is Need.MFA_CLAIM
    assert controls_for_refresh(both).need is Need.UNMET
    assert controls_for_refresh(ca_policy()).need is Need.BLOCK


# ------------------------------------------------------------------ who a policy names


def test_excluded_users_groups_and_roles_are_named_first_three_then_how_many_more() -> None:
    """Not "except 1 group(s)": each excluded group is named from the snapshot (the audited
    user's groups), else by object id; the line names three of a kind and counts the rest;
    the row keeps every one (JSON)."""
    groups = [GROUP, NESTED_PARENT, *(f"9e000000-0000-0000-0000-0000000000d{i}" for i in range(3))]
    policy = ca_policy(
        include_apps=[EXCHANGE_ONLINE],
        exclude_users=[USER_ID],
        exclude_groups=groups,
        include_roles=[ROLE],
        include_users=[],
        display_name="Named",
    )
    snap = with_user(
        with_ca_policy(healthy(), policy),
        group_display_names={GROUP: "Sync staff", NESTED_PARENT: "Break glass"},
    )
    report = run(snap)
    (row,) = [r for r in report.conditional_access if r.display_name == "Named"]
    assert row.users == (
        "role 'Global Administrator' except user 'Megan Bowen'; groups 'Sync staff', "
        "'Break glass', 9e000000-0000-0000-0000-0000000000d0 and 2 more"
    )
    assert "group(s)" not in row.users
    assert [(p.kind, p.id, p.display_name) for p in row.excluded if p.kind == "group"] == [
        ("group", GROUP, "Sync staff"),
        ("group", NESTED_PARENT, "Break glass"),
        *(("group", g, None) for g in groups[2:]),
    ]
    assert [(p.kind, p.display_name) for p in row.included] == [("role", "Global Administrator")]
    excluded_user = next(p for p in row.excluded if p.kind == "user")
    assert excluded_user.id == USER_ID
    assert excluded_user.display_name


def test_roles_are_named_by_microsofts_built_in_role_names_and_an_unknown_id_says_so() -> None:
    """Conditional Access names directory roles by template id; a built-in role shows its
    name from Microsoft's list (entra-docs permissions-reference.md, "All roles", bundled as
    data/directory_role_templates.json), not only Global Administrator; an id not on the list
    (a custom role) stays an id, called unknown, in the line and in JSON (no name)."""
    ca_admin = "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9"  # Conditional Access Administrator
    security_reader = "5D6B6BB7-DE71-4623-B4AF-96380A352509"  # upper case: ids compare as ids
    custom = "9e000000-0000-0000-0000-0000000000e1"
    policy = ca_policy(
        include_apps=[EXCHANGE_ONLINE],
        include_users=[],
        include_roles=[ROLE, security_reader],
        display_name="Roles",
    )
    users = policy.conditions.users
    assert users is not None
    conditions = policy.conditions.model_copy(
        update={"users": users.model_copy(update={"exclude_roles": [ca_admin, custom]})}
    )
    policy = policy.model_copy(update={"conditions": conditions})
    report = run(with_ca_policy(healthy(), policy))
    (row,) = [r for r in report.conditional_access if r.display_name == "Roles"]
    assert row.users == (
        "roles 'Global Administrator', 'Security Reader' except roles "
        f"'Conditional Access Administrator', {custom} (unknown role)"
    )
    assert [(p.id, p.display_name) for p in row.excluded] == [
        (ca_admin, "Conditional Access Administrator"),
        (custom, None),
    ]
    assert ca_admin not in row.users


def test_the_bundled_role_list_is_microsofts_built_in_roles_by_template_id() -> None:
    """data/directory_role_templates.json: every key a GUID, every name once, Global
    Administrator's template id the one assignment.py uses (permissions-reference.md)."""
    import re

    from consent_audit.evaluate.assignment import GLOBAL_ADMIN_ROLE
    from consent_audit.evaluate.ca_names import role_names

    names = role_names()
    guid = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    assert len(names) >= 100
    assert all(guid.match(k) for k in names)
    assert len(set(names.values())) == len(names)
    assert names[GLOBAL_ADMIN_ROLE] == "Global Administrator"
    assert names["158c047a-c907-4556-b7ef-446551a6b5f7"] == "Cloud Application Administrator"
