"""The questions consent-audit puts to Entra's own Conditional Access What-If.

``POST /identity/conditionalAccess/evaluate`` (Graph v1.0, conditionalaccessroot-evaluate.md;
least privileged delegated permission Policy.Read.ConditionalAccess) answers, for a person,
the resources they sign in to and the sign-in conditions given, every policy of the tenant
with ``policyApplies`` and, when it does not apply, ``analysisReasons``
(whatifanalysisresult.md). Microsoft evaluates the targeting itself -- users, nested groups,
roles, guests, app groups such as Office 365, application filters -- so its answer, not our
reading of the policies, decides which policies apply to Recruitee.

One question per resource Recruitee's features use, so each answer is attributable to the
features behind it (entra-docs concept-conditional-access-cloud-apps.md):

- Office 365 Exchange Online (00000002-0000-0ff1-ce00-000000000000): mailbox and calendar
  sync go through Graph to Exchange, and CA is enforced for the service behind Graph;
- Windows Azure Active Directory (00000002-0000-0000-c000-000000000000): rooms
  (User.ReadBasic.All only) is evaluated as directory access;
- each Recruitee application found (its appId): the sign-in when a person connects.

Request shapes, exactly as the v1.0 pages give them: ``signInIdentity`` is a
``#microsoft.graph.userSignIn`` with ``userId`` (usersignin.md), ``signInContext`` a
``#microsoft.graph.applicationContext`` with ``includeApplications`` (applicationcontext.md),
``signInConditions`` a signInConditions (signinconditions.md). Only what is known about a
background refresh is given: ``clientAppType`` ``browser``, because Conditional Access classes
"services registered as an OAuth confidential client" as browser (entra-docs
concept-conditional-access-conditions.md), and Recruitee refreshes from its own servers as one.
Its servers' IP address and country, a device platform or device details, risk levels and an
authentication flow are not known, so they are not invented: the API page warns that
conditions a request leaves out cannot be evaluated, and Microsoft answers
``notEnoughInformation`` (or the condition's documented default) for them.

``appliedPoliciesOnly`` is sent as ``false``, deliberately: consent-audit needs the policies
that do *not* apply too, with Microsoft's reason. A policy left out of an "applied only"
answer could not be told from one the What-If never saw, a ``notEnoughInformation`` answer
(the static rules must then decide) would vanish, and a disagreement with the static reading
("the rules say it applies, Microsoft says it does not, because of users") could not be shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consent_audit.snapshot import WhatIfResource

WHAT_IF_PATH = "/identity/conditionalAccess/evaluate"
EXCHANGE_ONLINE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
WINDOWS_AZURE_AD_APP_ID = "00000002-0000-0000-c000-000000000000"
CONFIDENTIAL_CLIENT_APP_TYPE = "browser"
"""conditionalAccessClientApp for a background refresh by a confidential client."""


@dataclass(frozen=True)
class WhatIfAsk:
    """One What-If request: the resources it names and the batch key its answer comes back by."""

    key: str
    resource: WhatIfResource
    include_applications: tuple[str, ...]
    label: str

    def body(self, user_id: str) -> dict[str, Any]:
        """The request body, in the v1.0 shapes (conditionalaccessroot-evaluate.md)."""
        return {
            "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": user_id},
            "signInContext": {
                "@odata.type": "#microsoft.graph.applicationContext",
                "includeApplications": list(self.include_applications),
            },
            "signInConditions": {"clientAppType": CONFIDENTIAL_CLIENT_APP_TYPE},
            "appliedPoliciesOnly": False,
        }


def what_if_questions(recruitee_app_ids: list[str]) -> list[WhatIfAsk]:
    """Exchange Online, directory access, then each Recruitee appId (deduplicated, in order)."""
    asks = [
        WhatIfAsk(
            "what_if_exchange",
            WhatIfResource.EXCHANGE_ONLINE,
            (EXCHANGE_ONLINE_APP_ID,),
            "Office 365 Exchange Online (mailbox, calendar)",
        ),
        WhatIfAsk(
            "what_if_directory",
            WhatIfResource.DIRECTORY,
            (WINDOWS_AZURE_AD_APP_ID,),
            "Windows Azure Active Directory (rooms)",
        ),
    ]
    seen: set[str] = set()
    for app_id in recruitee_app_ids:
        if app_id.casefold() in seen:
            continue
        seen.add(app_id.casefold())
        asks.append(
            WhatIfAsk(
                f"what_if_app_{len(seen) - 1}",
                WhatIfResource.RECRUITEE,
                (app_id,),
                "Recruitee's application (connecting)",
            )
        )
    return asks
