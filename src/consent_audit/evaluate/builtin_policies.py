"""Documented definitions of Microsoft's built-in permission grant policies.

Graph returns these policies like any other, and a snapshot normally holds them. When it
does not (the read was forbidden, or an older snapshot), evaluation falls back to what the
documentation says they contain:

- ``microsoft-user-default-legacy``: "allows all users to consent to any permission that
  doesn't require admin consent, for any application" (entra-docs configure-user-consent.md).
- ``microsoft-user-default-low``: "apps from verified publishers and apps that are registered
  in your tenant, and only for permissions that you classify as low impact" — two include
  sets (permissiongrantpolicy-get.md sample, microsoft-graph-docs-contrib).
- ``microsoft-user-default-recommended`` ("Let Microsoft manage your consent settings"):
  user-consentable delegated permissions except a Microsoft-maintained list, for Graph
  including Mail.ReadWrite and Calendars.ReadWrite (entra-docs manage-app-consent-policies.md);
  the list is bundled in ``data/recommended_policy_exclusions.json``.
- ``microsoft-user-default-allow-consent-apps``: named popular mail clients only; Recruitee
  is not one of them, so it is modelled as matching no client.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from consent_audit.graph_objects import PermissionGrantConditionSet, PermissionGrantPolicy

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def _recommended_exclusion_ids() -> list[str]:
    raw = json.loads(
        resources.files("consent_audit.data")
        .joinpath("recommended_policy_exclusions.json")
        .read_text("utf-8")
    )
    # Entries newer than the bundled catalog have no id and cannot be matched by id.
    return [entry["id"] for entry in raw["excluded_permissions"] if entry.get("id")]


@lru_cache(maxsize=1)
def builtin_policies() -> dict[str, PermissionGrantPolicy]:
    """Built-in policies keyed by casefolded id. ``{tenant}`` stands for the audited tenant."""
    consentable = PermissionGrantConditionSet(permission_type="delegatedUserConsentable")
    policies = [
        PermissionGrantPolicy(
            id="microsoft-user-default-legacy",
            display_name="Allow user consent for apps (built-in definition)",
            includes=[consentable],
        ),
        PermissionGrantPolicy(
            id="microsoft-user-default-low",
            display_name="Allow user consent for apps from verified publishers, for selected "
            "permissions (built-in definition)",
            includes=[
                PermissionGrantConditionSet(
                    permission_type="delegated",
                    permission_classification="low",
                    client_application_tenant_ids=["{tenant}"],
                ),
                PermissionGrantConditionSet(
                    permission_type="delegated",
                    permission_classification="low",
                    client_applications_from_verified_publisher_only=True,
                ),
            ],
        ),
        PermissionGrantPolicy(
            id="microsoft-user-default-recommended",
            display_name="Let Microsoft manage your consent settings (built-in definition)",
            includes=[consentable],
            excludes=[
                PermissionGrantConditionSet(
                    permission_type="delegated",
                    resource_application=GRAPH_APP_ID,
                    permissions=_recommended_exclusion_ids(),
                )
            ],
        ),
        PermissionGrantPolicy(
            id="microsoft-user-default-allow-consent-apps",
            display_name="Popular mail clients consentable for users (built-in definition)",
            includes=[
                PermissionGrantConditionSet(
                    permission_type="delegatedUserConsentable", client_application_ids=[]
                )
            ],
        ),
    ]
    return {p.id.casefold(): p for p in policies}
