"""USER_NOT_FOUND, USER_DISABLED, and a --user the snapshot does not hold (InputError)."""

from __future__ import annotations

import pytest

from consent_audit.errors import InputError
from consent_audit.snapshot import PartStatus

from .builders import (
    USER_ID,
    USER_UPN,
    assert_portal,
    codes,
    first_broken_link,
    healthy,
    one,
    run,
    statuses,
    with_user,
)


def test_user_missing_from_snapshot_is_input_error() -> None:
    snap = with_user(
        healthy(),
        query="someone.else@contoso.com",
        id="0e000000-0000-0000-0000-00000000c0c0",
        user_principal_name="someone.else@contoso.com",
    )

    with pytest.raises(InputError) as err:
        run(snap, user="megan.bowen@contoso.com")

    assert "megan.bowen@contoso.com" in err.value.problem
    assert "someone.else@contoso.com" in err.value.problem
    assert err.value.fix is not None
    assert "--user megan.bowen@contoso.com" in err.value.fix


def test_snapshot_without_users_says_it_holds_none() -> None:
    with pytest.raises(InputError, match=r"it holds: none"):
        run(healthy(), user=USER_UPN)


@pytest.mark.parametrize("query", [USER_UPN.upper(), USER_ID, USER_ID.upper()])
def test_user_is_found_by_upn_or_object_id_case_insensitively(query: str) -> None:
    report = run(with_user(healthy(), query="megan"), user=query)

    assert report.user is not None
    assert report.user.id == USER_ID


def test_user_not_found_is_an_error_naming_the_query() -> None:
    snap = with_user(healthy(), query="megan.bowne@contoso.com", status=PartStatus.NOT_FOUND)
    report = run(snap, user="megan.bowne@contoso.com")

    f = one(report, "USER_NOT_FOUND")
    assert f.severity.value == "error"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.evidence == {"query": "megan.bowne@contoso.com"}
    assert_portal(f, "Entra ID > Users > All users")
    assert statuses(report) == {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}
    assert first_broken_link(report, "rooms") == "user"
    assert "DATA_UNAVAILABLE" not in codes(report)


def test_existing_enabled_user_is_neither_not_found_nor_disabled() -> None:
    report = run(with_user(healthy()), user=USER_UPN)

    assert "USER_NOT_FOUND" not in codes(report)
    assert "USER_DISABLED" not in codes(report)


def test_disabled_user_fails_every_feature() -> None:
    report = run(with_user(healthy(), account_enabled=False), user=USER_UPN)

    f = one(report, "USER_DISABLED")
    assert f.severity.value == "error"
    assert f.features == ["mailbox", "calendar", "rooms"]
    assert f.evidence == {"user_id": USER_ID, "accountEnabled": False}
    assert "AADSTS50057" in f.detail
    assert_portal(f, "Entra ID > Users > All users")
    assert first_broken_link(report, "mailbox") == "user"


def test_user_with_unknown_enabled_flag_is_not_disabled() -> None:
    report = run(with_user(healthy(), account_enabled=None), user=USER_UPN)

    assert "USER_DISABLED" not in codes(report)


def test_unreadable_user_is_data_unavailable_and_unknown() -> None:
    snap = with_user(healthy(), status=PartStatus.FORBIDDEN)
    report = run(snap, user=USER_UPN)

    f = one(report, "DATA_UNAVAILABLE")
    assert f.evidence["part"] == "user"
    assert f.evidence["status"] == "forbidden"
    assert "USER_NOT_FOUND" not in codes(report)
    assert statuses(report) == {"mailbox": "unknown", "calendar": "unknown", "rooms": "unknown"}
