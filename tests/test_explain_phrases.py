"""explain answers what people report, not only codes: the same answer as for the code."""

from __future__ import annotations

import pytest

from consent_audit.cli_remediation import explain_text
from consent_audit.errors import InputError


@pytest.mark.parametrize(
    ("reported", "code"),
    [
        ("Need admin approval", "AADSTS90094"),
        ("need ADMIN approval!", "AADSTS90094"),
        ("Approval required", "AADSTS90095"),
        ("AADSTS65001: The user or administrator has not consented…", "AADSTS65001"),
        ("The user or administrator has not consented to use the application", "65001"),
        ("AADSTS50105: The signed in user is not assigned to a role", "50105"),
    ],
)
def test_a_reported_message_gets_the_answer_for_its_code(reported: str, code: str) -> None:
    answer = explain_text(code)
    said = explain_text(reported)
    assert said.endswith(answer)
    assert said != answer or reported.upper().startswith("AADSTS")


def test_the_two_consent_screens_are_told_apart() -> None:
    assert "cannot request it" in explain_text("Need admin approval")
    assert "can send a request" in explain_text("Approval required")


def test_an_unknown_message_is_one_clear_error() -> None:
    with pytest.raises(InputError) as caught:
        explain_text("the printer is on fire")
    assert "Need admin approval" in (caught.value.fix or "")


def test_a_code_missing_from_microsofts_page_says_so_once() -> None:
    """AADSTS530003 is not on Microsoft's error-code page: its heading says so once, not
    the catalog's placeholder name and the note after it."""
    heading = explain_text("AADSTS530003").splitlines()[0]
    assert heading == "AADSTS530003 (not in Microsoft's error-code page)"
    assert explain_text("AADSTS65001").splitlines()[0] == "AADSTS65001 DelegationDoesNotExist"
