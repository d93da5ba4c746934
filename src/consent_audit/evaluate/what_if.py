"""Microsoft's What-If decides which Conditional Access policies apply; our rules say what
an applying policy's controls mean for a server-side refresh.

Entra's own What-If (``POST /identity/conditionalAccess/evaluate``, Graph v1.0,
conditionalaccessroot-evaluate.md) answers, for the audited person and one resource, every
policy with ``policyApplies`` and, when it does not apply, ``analysisReasons``
(whatifanalysisresult.md). The collector asks once per resource Recruitee's features use
(live/what_if.py): Exchange Online for mail and calendar, directory access for rooms,
Recruitee's appId for connecting. Microsoft evaluates users, nested groups, roles, guests, app
groups and filters itself, so where it answers, its answer is the targeting:

- ``policyApplies`` true: the policy covers that resource for this person.
- false with a targeting reason (``users``, ``application``, ``clientApps`` -- the request says
  ``browser``, which is what a confidential client is --, ``policyNotEnabled``,
  ``emptyPolicy``, ``workloadIdentities``, ``userActions``, ``authenticationContext``): it does
  not.
- false for a sign-in condition the request did not give or gave only as its documented
  default (``notEnoughInformation``, ``location``, ``devicePlatform``, ``devices``, risk,
  ``time``, ``authenticationFlow``, ``invalidCondition`` ...): Microsoft has not decided
  targeting for Recruitee's servers, so the static reading of the policy decides, and its
  condition rules (locations, risk, platforms) say what is known.

Where the static reading and a decisive answer disagree, Microsoft's answer is used and the
report says so with both answers (CA_WHAT_IF_DISAGREES). Where the call was refused (403:
Policy.Read.ConditionalAccess missing), absent (404: a cloud or tenant without the API), or
not made (a snapshot taken offline, or by an older consent-audit), the static reading decides
alone; the report's ``conditional_access_source`` says which one decided and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from consent_audit.evaluate import remediation
from consent_audit.evaluate.context import AuditContext
from consent_audit.evaluate.registry import finding
from consent_audit.graph_objects import ConditionalAccessPolicy, ServicePrincipal
from consent_audit.report import ConditionalAccessSource, DecidedBy, Finding, WhatIfAvailability
from consent_audit.snapshot import PartStatus, WhatIfQuestion, WhatIfResource

DECISIVE_REASONS = frozenset(
    {
        "users",
        "application",
        "clientapps",
        "policynotenabled",
        "emptypolicy",
        "workloadidentities",
        "useractions",
        "authenticationcontext",
    }
)
"""analysisReasons that settle targeting whatever the conditions the request left out."""

RESOURCE_WORDS = {
    WhatIfResource.EXCHANGE_ONLINE: "Exchange Online (mailbox and calendar sync)",
    WhatIfResource.DIRECTORY: "directory access (rooms sync)",
    WhatIfResource.RECRUITEE: "Recruitee's application (connecting)",
}


@dataclass(frozen=True)
class Answer:
    """Microsoft's answer about one policy for one resource."""

    applies: bool | None
    reason: str | None

    @property
    def decisive(self) -> bool:
        """Whether it settles targeting (see the module docstring)."""
        if self.applies is True:
            return True
        return self.applies is False and (self.reason or "").casefold() in DECISIVE_REASONS

    @property
    def words(self) -> str:
        if self.applies is True:
            return "applies"
        if self.applies is False:
            return f"does not apply ({self.reason or 'no reason given'})"
        return "no answer"


@dataclass(frozen=True)
class WhatIfView:
    """What the snapshot holds of Microsoft's What-If for the audited user."""

    answers: Mapping[tuple[WhatIfResource, str], Mapping[str, Answer]]
    """(resource, appId casefolded) -> policy id casefolded -> answer, for questions answered."""
    failures: Mapping[tuple[WhatIfResource, str], str]
    """Questions not answered, with why, in words."""

    def answer(
        self, policy_id: str, resource: WhatIfResource, app_id: str | None = None
    ) -> Answer | None:
        key = (resource, (app_id or "").casefold() if resource is WhatIfResource.RECRUITEE else "")
        return self.answers.get(key, {}).get(policy_id.casefold())


def _key(question: WhatIfQuestion) -> tuple[WhatIfResource, str]:
    app = question.include_applications[0] if question.include_applications else ""
    return (
        question.resource,
        app.casefold() if question.resource is WhatIfResource.RECRUITEE else "",
    )


def _failure(question: WhatIfQuestion) -> str:
    part = question.answer
    if part.status is PartStatus.FORBIDDEN:
        needs = part.permission or "Policy.Read.ConditionalAccess"
        return f"refused (403: the auditor needs {needs})"
    if part.status is PartStatus.NOT_FOUND:
        return "not available here (404: this cloud or tenant has no What-If API)"
    if part.status is PartStatus.NOT_LICENSED:
        return "refused (the tenant has no Entra ID P1 licence)"
    return f"not answered ({part.status.value}{': ' + part.message if part.message else ''})"


def what_if_view(ctx: AuditContext) -> WhatIfView | None:
    """Microsoft's answers for the --user, or None when none were asked or kept."""
    lookup = ctx.user_lookup
    if lookup is None or ctx.user is None:
        return None
    part = lookup.conditional_access_what_if
    if not part.ok:
        return None
    answers: dict[tuple[WhatIfResource, str], dict[str, Answer]] = {}
    failures: dict[tuple[WhatIfResource, str], str] = {}
    for question in part.data or []:
        if not question.answer.ok:
            failures[_key(question)] = _failure(question)
            continue
        answers[_key(question)] = {
            result.id.casefold(): Answer(result.policy_applies, result.analysis_reasons)
            for result in question.answer.data or []
        }
    return WhatIfView(answers, failures)


@dataclass(frozen=True)
class StaticReading:
    """What consent-audit's own reading of a policy says for one Recruitee app and person."""

    features: tuple[str, ...]
    """Features whose background refreshes it covers."""
    at_connect: bool
    why_not: str | None = None
    """When it covers nothing: which part of the policy leaves this person or app out."""


@dataclass(frozen=True)
class Decision:
    """Which features and whether connecting a policy covers, and who decided."""

    features: tuple[str, ...]
    at_connect: bool
    decided_by: DecidedBy
    answers: tuple[str, ...] = ()
    """Microsoft's answers, one per resource asked, in words (for the report's row)."""
    findings: tuple[Finding, ...] = field(default=())
    """A CA_WHAT_IF_DISAGREES per resource where the two answers differ."""


def decide(
    ctx: AuditContext,
    view: WhatIfView | None,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    static: StaticReading,
    resources: Mapping[str, WhatIfResource],
) -> Decision:
    """Combine the static reading with Microsoft's answers (``resources``: feature -> the
    resource its background refreshes go to)."""
    if view is None:
        return Decision(static.features, static.at_connect, DecidedBy.STATIC_RULES)
    covered: list[str] = []
    by: set[DecidedBy] = set()
    words: dict[WhatIfResource, str] = {}
    differ: dict[WhatIfResource, tuple[Answer, bool]] = {}

    def settle(resource: WhatIfResource, static_says: bool, app_id: str | None = None) -> bool:
        answer = view.answer(policy.id, resource, app_id)
        if answer is not None:
            words[resource] = f"{RESOURCE_WORDS[resource]}: {answer.words}"
        if answer is None or not answer.decisive:
            by.add(DecidedBy.STATIC_RULES)
            return static_says
        by.add(DecidedBy.MICROSOFT_WHAT_IF)
        microsoft_says = bool(answer.applies)
        if microsoft_says != static_says:
            differ[resource] = (answer, static_says)
        return microsoft_says

    for name in ctx.feature_names:
        resource = resources.get(name)
        if resource is None:
            continue
        if settle(resource, name in static.features):
            covered.append(name)
    at_connect = settle(WhatIfResource.RECRUITEE, static.at_connect, sp.app_id)
    decided = next(iter(by)) if len(by) == 1 else DecidedBy.BOTH if by else DecidedBy.STATIC_RULES
    findings = (_disagreement(ctx, policy, sp, differ, static, resources),) if differ else ()
    return Decision(tuple(covered), at_connect, decided, tuple(words.values()), findings)


def _disagreement(
    ctx: AuditContext,
    policy: ConditionalAccessPolicy,
    sp: ServicePrincipal,
    differ: Mapping[WhatIfResource, tuple[Answer, bool]],
    static: StaticReading,
    resources: Mapping[str, WhatIfResource],
) -> Finding:
    """One finding per policy and app, naming each resource where the two answers differ."""
    name = policy.display_name or policy.id
    who = ctx.user.user_principal_name if ctx.user else "the user"
    sentences: list[str] = []
    for resource, (answer, static_says) in differ.items():
        ours = (
            "it does"
            if static_says
            else f"it does not ({static.why_not or 'its assignments leave this access out'})"
        )
        microsoft = "it applies" if answer.applies else f"it does not ({answer.reason})"
        sentences.append(
            f"for {who}'s {RESOURCE_WORDS[resource]}, Microsoft says {microsoft}; the policy "
            f"as read says {ours}"
        )
    features = sorted(
        {f for f, r in resources.items() if r in differ}
        | (set(ctx.feature_names) if WhatIfResource.RECRUITEE in differ else set())
    )
    return finding(
        "CA_WHAT_IF_DISAGREES",
        f"Entra's What-If and consent-audit's reading of policy '{name}' disagree: "
        + "; ".join(sentences)
        + ". Microsoft's answer decides which policies apply, so the verdict follows it.",
        app_object_id=sp.id,
        evidence={
            "policy_id": policy.id,
            "features": features,
            "disagreements": [
                {
                    "resource": resource.value,
                    "microsoft_what_if": {
                        "policy_applies": answer.applies,
                        "analysis_reasons": answer.reason,
                    },
                    "static_rules": {
                        "applies": static_says,
                        "why_not": None if static_says else static.why_not,
                    },
                }
                for resource, (answer, static_says) in differ.items()
            ],
            "decided_by": DecidedBy.MICROSOFT_WHAT_IF.value,
        },
        remediation=remediation.conditional_access(
            name,
            "compare its assignments with the What If tool in the admin center (this user, "
            "the resource named, client app Browser); if Microsoft's answer is unexpected, send "
            "the snapshot to support: it keeps what Entra answered.",
        ),
    )


def conditional_access_source(ctx: AuditContext) -> ConditionalAccessSource | None:
    """Which source decided which policies apply, for the report (None without --user)."""
    lookup = ctx.user_lookup
    if lookup is None or ctx.user is None:
        return None
    part = lookup.conditional_access_what_if
    if part.status is PartStatus.NOT_COLLECTED or not part.ok:
        why = (
            "the snapshot holds no What-If answers (taken offline, or by an older consent-audit)"
            if part.status is PartStatus.NOT_COLLECTED
            else f"the What-If could not be read ({part.status.value})"
        )
        return ConditionalAccessSource(
            decided_by=DecidedBy.STATIC_RULES,
            what_if=WhatIfAvailability.NOT_ASKED,
            detail=f"Which policies apply was decided by consent-audit's reading of the "
            f"policies: {why}.",
        )
    view = what_if_view(ctx)
    assert view is not None
    asked = [RESOURCE_WORDS[q.resource] for q in part.data or [] if q.answer.ok]
    failed = sorted(set(view.failures.values()))
    if not failed:
        return ConditionalAccessSource(
            decided_by=DecidedBy.MICROSOFT_WHAT_IF,
            what_if=WhatIfAvailability.ANSWERED,
            detail="Which policies apply was decided by Entra's own What-If, asked for "
            f"{', '.join(dict.fromkeys(asked))}, wherever it could decide; consent-audit's "
            "rules say what each applying policy's controls mean for Recruitee's background "
            "refresh, and decide where Microsoft had not enough information (each policy's "
            "decided_by says which).",
        )
    statuses = {q.answer.status for q in part.data or [] if not q.answer.ok}
    availability = (
        WhatIfAvailability.PARTLY_ANSWERED
        if asked
        else WhatIfAvailability.ABSENT
        if statuses == {PartStatus.NOT_FOUND}
        else WhatIfAvailability.REFUSED
    )
    return ConditionalAccessSource(
        decided_by=DecidedBy.BOTH if asked else DecidedBy.STATIC_RULES,
        what_if=availability,
        detail=(
            f"Entra's What-If was {'; '.join(failed)}, so consent-audit's reading of the "
            "policies decided which apply"
            + (f" (Microsoft answered for {', '.join(dict.fromkeys(asked))})" if asked else "")
            + "."
        ),
    )
