"""One story per cause (issue 18, item 4): the finding, `explain`, the AADSTS catalog and the fix
plan say the same about sign-in frequency, MFA, step-up consent and revocation.

Each mechanism has one text (data/mechanisms.toml); these tests find that exact text in all
four places, and none of the advice that used to contradict it anywhere.
"""

from __future__ import annotations

import pytest

from consent_audit.cli_remediation import explain_text
from consent_audit.evaluate.audit_logs import aadsts_catalog
from consent_audit.evaluate.mechanisms import mechanism, mechanisms
from consent_audit.evaluate.registry import registry
from consent_audit.graph_objects import SignInFrequency
from consent_audit.report import Report
from tests.evaluate.builders import (
    ca_policy,
    directory_audit,
    healthy,
    one,
    run,
    sign_in,
    with_admin_scopes,
    with_audits,
    with_ca_policy,
    with_sign_ins,
)
from tests.evaluate.test_remediation_safety import every_text

EXCHANGE_ONLINE = "00000002-0000-0ff1-ce00-000000000000"
EVERY_HOUR = SignInFrequency(is_enabled=True, type="hours", value=1)


def _plan_text(report: Report, code: str) -> str:
    return " ".join(
        f"{s.summary} {s.detail or ''} {s.trade_off or ''}"
        for s in report.plan
        if code in s.finding_ids
    )


def _places(report: Report, finding: str, aadsts: int) -> dict[str, str]:
    return {
        "finding": " ".join(f.detail for f in report.findings if f.id == finding),
        "explain": explain_text(f"AADSTS{aadsts}"),
        "catalog": " ".join(str(v) for v in aadsts_catalog()[aadsts].values()),
        "plan": _plan_text(report, finding) or _plan_text(report, "SIGNIN_FAILURES"),
    }


def test_sign_in_frequency_is_one_story() -> None:
    """concept-session-lifetime.md: "On confidential clients, sign-in frequency enforcement on
    non-interactive sign-ins is deferred until the next interactive sign-in"."""
    policy = ca_policy(controls=(), sign_in_frequency=EVERY_HOUR, display_name="Every hour")
    report = run(with_sign_ins(with_ca_policy(healthy(), policy), sign_in(70043)))
    text = mechanism("sign_in_frequency")
    places = _places(report, "CA_POLICY_SIGNIN_FREQUENCY", 70043)
    places["registry"] = registry()["CA_POLICY_SIGNIN_FREQUENCY"].meaning
    assert {where: text in said for where, said in places.items()} == dict.fromkeys(places, True)


def test_mfa_is_one_story() -> None:
    """A refresh token carries the MFA claim of the sign-in it came from
    (entra-behaviour.md, MFA; refresh-tokens.md)."""
    mfa = ca_policy(include_apps=[EXCHANGE_ONLINE], controls=["mfa"], display_name="MFA for EXO")
    report = run(with_sign_ins(with_ca_policy(healthy(), mfa), sign_in(50076)))
    text = mechanism("mfa")
    places = _places(report, "SIGNIN_FAILURES", 50076)
    assert {where: text in said for where, said in places.items()} == dict.fromkeys(places, True)


def test_step_up_consent_is_one_story() -> None:
    """configure-risk-based-step-up-consent.md: AADSTS90094 only without the admin consent
    workflow."""
    report = run(with_sign_ins(healthy(), sign_in(90094)))
    text = mechanism("step_up_consent")
    places = _places(report, "SIGNIN_FAILURES", 90094)
    places["finding"] = explain_text("USER_CONSENT_RESTRICTED")
    assert {where: text in said for where, said in places.items()} == dict.fromkeys(places, True)


def test_revocation_is_one_story() -> None:
    """oauth2permissiongrant-delete.md and entra-behaviour.md: issued access tokens live until
    they expire; the next refresh fails with AADSTS65001."""
    event = directory_audit("Remove delegated permission grant")
    report = run(with_audits(with_admin_scopes(healthy(), "openid"), event))
    text = mechanism("revocation")
    places = _places(report, "GRANT_REVOKED", 65001)
    places["registry"] = explain_text("GRANT_REVOKED")
    assert {where: text in said for where, said in places.items()} == dict.fromkeys(places, True)


@pytest.mark.parametrize(
    "contradiction",
    [
        "lengthen the interval",  # sign-in frequency: nothing to change for background sync
        "users must reconnect at each interval",
        "background refresh cannot satisfy it",  # MFA: the refresh token carries the claim
        "Password change/reset",  # 50173: a password change keeps a confidential client's token
        "then users see AADSTS90094)",  # 90094 without looking at the workflow
    ],
)
def test_no_text_tells_the_old_story(contradiction: str) -> None:
    said = [where for where, text in every_text() if contradiction.casefold() in text.casefold()]
    assert said == []


def test_every_mechanism_is_quoted_somewhere() -> None:
    texts = " ".join(text for _, text in every_text())
    assert [name for name, text in mechanisms().items() if text not in texts] == []


def test_a_sign_in_frequency_finding_and_the_70043_fix_agree_on_what_to_change() -> None:
    policy = ca_policy(controls=(), sign_in_frequency=EVERY_HOUR)
    report = run(with_sign_ins(with_ca_policy(healthy(), policy), sign_in(70043)))
    remediation = one(report, "CA_POLICY_SIGNIN_FREQUENCY").remediation[0].action
    assert "nothing to change for background sync" in remediation
    assert "nothing in the policy needs to change" in explain_text("70043")
