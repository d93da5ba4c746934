"""CA_WHAT_IF_DISAGREES and which source decides each Conditional Access verdict
(evaluate/what_if.py).

Microsoft's What-If (conditionalaccessroot-evaluate.md, whatifanalysisresult.md) decides
targeting where it answered decisively: ``policyApplies`` true, or false for ``users``,
``application``, ``clientApps`` ...; a ``notEnoughInformation`` (or a condition at its default)
leaves the static reading in charge; a refused (403), absent (404) or never-asked What-If leaves
the static reading alone, and the report says which one decided.
"""

from __future__ import annotations

from consent_audit.graph_objects import WhatIfAnalysisResult
from consent_audit.report import DecidedBy, Report, WhatIfAvailability
from consent_audit.snapshot import (
    Part,
    PartStatus,
    TenantSnapshot,
    UserLookup,
    WhatIfQuestion,
    WhatIfResource,
)

from .builders import (
    RECRUITEE_APP_ID,
    USER_UPN,
    _replace,
    ca_policy,
    codes,
    healthy,
    one,
    run,
    statuses,
    with_ca_policy,
    with_user,
)

EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
DIRECTORY = "00000002-0000-0000-c000-000000000000"
APPS = {
    WhatIfResource.EXCHANGE_ONLINE: EXCHANGE,
    WhatIfResource.DIRECTORY: DIRECTORY,
    WhatIfResource.RECRUITEE: RECRUITEE_APP_ID,
}
OTHER_GROUP = "9e000000-0000-0000-0000-0000000000d1"
ALL_PASS = {"mailbox": "pass", "calendar": "pass", "rooms": "pass"}
ALL_FAIL = {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}


def _answers(
    snap: TenantSnapshot, said: dict[str, tuple[bool, str]], status: PartStatus = PartStatus.OK
) -> list[WhatIfQuestion]:
    """The same answer for every resource: each policy of ``snap`` -> (applies, reason)."""
    policies = snap.conditional_access_policies.data or []
    questions = []
    for resource, app in APPS.items():
        results = [
            WhatIfAnalysisResult.model_validate(
                {
                    **p.model_dump(by_alias=True),
                    "policyApplies": said[p.id][0],
                    "analysisReasons": said[p.id][1],
                }
            )
            for p in policies
            if p.id in said
        ]
        answer: Part[list[WhatIfAnalysisResult]] = (
            Part(data=results)
            if status is PartStatus.OK
            else Part(
                status=status,
                permission="Policy.Read.ConditionalAccess"
                if status is PartStatus.FORBIDDEN
                else None,
            )
        )
        questions.append(
            WhatIfQuestion(resource=resource, include_applications=[app], answer=answer)
        )
    return questions


def _with_what_if(snap: TenantSnapshot, questions: list[WhatIfQuestion]) -> TenantSnapshot:
    [lookup] = snap.users
    asked = Part(data=questions)
    return _replace(
        snap,
        users=[UserLookup(query=lookup.query, user=lookup.user, conditional_access_what_if=asked)],
    )


def _report(
    *, include_groups: tuple[str, ...] = (), said: tuple[bool, str] | None, **kw: object
) -> tuple[Report, str]:
    policy = ca_policy(
        include_users=() if include_groups else ("All",),
        include_groups=include_groups,
        display_name="Block everything",
        **kw,  # type: ignore[arg-type]
    )
    snap = with_user(with_ca_policy(healthy(), policy))
    if said is not None:
        snap = _with_what_if(snap, _answers(snap, {policy.id: said}))
    return run(snap, user=USER_UPN), policy.id


def test_microsoft_says_a_policy_applies_that_the_static_reading_leaves_out() -> None:
    # Targeted at a group the user is not in (as read); Entra's What-If says it applies.
    report, policy_id = _report(include_groups=(OTHER_GROUP,), said=(True, "notSet"))
    assert statuses(report) == ALL_FAIL
    blocks = one(report, "CA_POLICY_BLOCKS")
    assert blocks.evidence["targeting_decided_by"] == "microsoft_what_if"
    found = one(report, "CA_WHAT_IF_DISAGREES")
    assert found.severity.value == "warning"
    assert "Microsoft says it applies" in found.detail
    assert "assignments leave this person out" in found.detail
    [first, *_] = found.evidence["disagreements"]
    assert first["microsoft_what_if"] == {"policy_applies": True, "analysis_reasons": "notSet"}
    assert first["static_rules"]["applies"] is False
    [row] = report.conditional_access
    assert row.id == policy_id
    assert row.applies_to_user is True
    assert row.decided_by is DecidedBy.MICROSOFT_WHAT_IF
    assert any("applies" in answer for answer in row.what_if)


def test_microsoft_says_a_policy_does_not_apply_that_the_static_reading_counts() -> None:
    report, _ = _report(said=(False, "users"))
    assert statuses(report) == ALL_PASS
    assert "CA_POLICY_BLOCKS" not in codes(report)
    found = one(report, "CA_WHAT_IF_DISAGREES")
    assert "Microsoft says it does not (users)" in found.detail
    assert "the policy as read says it does" in found.detail
    [row] = report.conditional_access
    assert row.applies_to_user is False
    assert row.decided_by is DecidedBy.MICROSOFT_WHAT_IF


def test_agreement_is_no_finding_and_microsoft_decided() -> None:
    report, _ = _report(said=(True, "notSet"))
    assert "CA_WHAT_IF_DISAGREES" not in codes(report)
    assert one(report, "CA_POLICY_BLOCKS").evidence["targeting_decided_by"] == "microsoft_what_if"
    source = report.conditional_access_source
    assert source is not None
    assert source.decided_by is DecidedBy.MICROSOFT_WHAT_IF
    assert source.what_if is WhatIfAvailability.ANSWERED


def test_not_enough_information_leaves_the_static_reading_in_charge() -> None:
    report, _ = _report(said=(False, "notEnoughInformation"))
    assert "CA_WHAT_IF_DISAGREES" not in codes(report)
    assert one(report, "CA_POLICY_BLOCKS").evidence["targeting_decided_by"] == "static_rules"
    [row] = report.conditional_access
    assert row.decided_by is DecidedBy.STATIC_RULES
    assert any("notEnoughInformation" in answer for answer in row.what_if)


def test_a_condition_at_its_default_is_not_a_disagreement() -> None:
    # Microsoft evaluated userRiskLevel at its default (none): not a targeting answer.
    report, _ = _report(said=(False, "userRisk"))
    assert "CA_WHAT_IF_DISAGREES" not in codes(report)
    assert "CA_POLICY_BLOCKS" in codes(report)


def _refused(status: PartStatus) -> Report:
    policy = ca_policy(display_name="Block everything")
    snap = with_user(with_ca_policy(healthy(), policy))
    snap = _with_what_if(snap, _answers(snap, {}, status))
    return run(snap, user=USER_UPN)


def test_a_refused_what_if_falls_back_to_the_static_reading_and_says_so() -> None:
    report = _refused(PartStatus.FORBIDDEN)
    assert one(report, "CA_POLICY_BLOCKS").evidence["targeting_decided_by"] == "static_rules"
    source = report.conditional_access_source
    assert source is not None
    assert source.decided_by is DecidedBy.STATIC_RULES
    assert source.what_if is WhatIfAvailability.REFUSED
    assert "403" in source.detail
    assert "Policy.Read.ConditionalAccess" in source.detail


def test_an_absent_what_if_falls_back_and_says_so() -> None:
    report = _refused(PartStatus.NOT_FOUND)
    assert "CA_POLICY_BLOCKS" in codes(report)
    source = report.conditional_access_source
    assert source is not None
    assert source.what_if is WhatIfAvailability.ABSENT
    assert "404" in source.detail


def test_an_old_snapshot_without_answers_is_decided_by_the_static_reading() -> None:
    report, _ = _report(said=None)
    assert "CA_POLICY_BLOCKS" in codes(report)
    source = report.conditional_access_source
    assert source is not None
    assert source.decided_by is DecidedBy.STATIC_RULES
    assert source.what_if is WhatIfAvailability.NOT_ASKED
    assert "holds no What-If answers" in source.detail


def test_a_tenant_wide_check_names_no_source() -> None:
    report = run(with_ca_policy(healthy(), ca_policy()))
    assert report.conditional_access_source is None
    assert {r.decided_by for r in report.conditional_access} == {DecidedBy.STATIC_RULES}
