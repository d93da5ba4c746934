"""A small tenant for the collector and redaction tests."""

from __future__ import annotations

from typing import Any

from consent_audit.live.plan import SP_FIELDS

from .fakes import FakeGraph

TENANT_ID = "aaaaaaaa-0000-0000-0000-000000000001"
SP_ID = "11111111-1111-1111-1111-111111111111"
APP_ID = "22222222-2222-2222-2222-222222222222"
NEAR_SP_ID = "33333333-3333-3333-3333-333333333333"
NEAR_APP_ID = "33333333-aaaa-3333-3333-333333333333"
GRAPH_SP_ID = "44444444-4444-4444-4444-444444444444"
USER_ID = "55555555-5555-5555-5555-555555555555"
GROUP_ID = "66666666-6666-6666-6666-666666666666"
NESTED_ID = "77777777-7777-7777-7777-777777777777"
OTHER_USER_ID = "88888888-8888-8888-8888-888888888888"
GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
UPN = "alice.smith@contoso.com"
MAIL = "alice@contoso.com"
GRAPH_APP = "00000003-0000-0000-c000-000000000000"
GRAPH = f"/servicePrincipals(appId='{GRAPH_APP}')"

SCOPES = [
    ("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read"),
    ("b340eb25-3456-403f-be2f-af7a0d370277", "User.ReadBasic.All"),
    ("e383f46e-2787-4529-855e-0e479a3ffac0", "Mail.Send"),
    ("024d486e-b451-40bb-833d-3e66d98c5c73", "Mail.ReadWrite"),
    ("1ec239c2-d7c9-4623-a91a-a9775856bb36", "Calendars.ReadWrite"),
    ("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access"),
    ("37f7f235-527c-4136-accd-4a02d197296e", "openid"),
    ("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email"),
    ("14dad69e-099b-42c9-810b-d002981feec1", "profile"),
]


def sp(sp_id: str, app_id: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": sp_id, "appId": app_id, "displayName": name, "accountEnabled": True, **extra}


def grant(principal: str | None, scope: str, gid: str = "g1") -> dict[str, Any]:
    return {
        "id": gid,
        "clientId": SP_ID,
        "consentType": "Principal" if principal else "AllPrincipals",
        "principalId": principal,
        "resourceId": GRAPH_SP_ID,
        "scope": scope,
    }


def wave_one_routes(graph: FakeGraph, *, user: bool = False) -> FakeGraph:
    graph.add(
        f"/servicePrincipals?$filter=startswith(displayName,'Recruitee')&$select={SP_FIELDS}",
        {
            "value": [
                sp(SP_ID, APP_ID, "Recruitee", appRoleAssignmentRequired=True),
                sp(NEAR_SP_ID, NEAR_APP_ID, "Recruitee Sandbox"),
            ]
        },
    )
    graph.add(
        f"{GRAPH}?$select=id,appId,displayName,oauth2PermissionScopes",
        sp(
            GRAPH_SP_ID,
            GRAPH_APP,
            "Microsoft Graph",
            oauth2PermissionScopes=[
                {"id": i, "value": v, "type": "User", "isEnabled": True} for i, v in SCOPES
            ],
        ),
    )
    graph.add(
        f"{GRAPH}/delegatedPermissionClassifications",
        {
            "value": [
                {
                    "id": "c1",
                    "permissionId": SCOPES[0][0],
                    "permissionName": "User.Read",
                    "classification": "low",
                }
            ]
        },
    )
    graph.add(
        "/policies/authorizationPolicy",
        {
            "id": "authorizationPolicy",
            "defaultUserRolePermissions": {
                "allowedToCreateApps": False,
                "permissionGrantPoliciesAssigned": [
                    "ManagePermissionGrantsForSelf.microsoft-user-default-legacy"
                ],
            },
        },
    )
    graph.add("/policies/permissionGrantPolicies", {"value": []})
    graph.add("/beta/policies/permissionGrantPolicies", {"value": []})
    graph.add(
        "/policies/adminConsentRequestPolicy",
        {
            "isEnabled": True,
            "reviewers": [{"query": f"/users/{OTHER_USER_ID}", "queryType": "MicrosoftGraph"}],
        },
    )
    graph.add(
        "/identity/conditionalAccess/policies",
        {
            "value": [
                {
                    "id": "ca-1",
                    "displayName": "Require MFA for Recruitee",
                    "state": "enabled",
                    "conditions": {
                        "applications": {"includeApplications": [APP_ID]},
                        "users": {
                            "includeUsers": ["All"],
                            "excludeUsers": [OTHER_USER_ID],
                            "includeGroups": [GROUP_ID],
                        },
                        "clientAppTypes": ["all"],
                    },
                    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
                }
            ]
        },
    )
    graph.add(
        "/identityGovernance/appConsent/appConsentRequests"
        "?$filter=userConsentRequests/any(u:u/status eq 'InProgress')",
        {
            "value": [
                {
                    "id": "7322e5f3-0f15-4eb8-9e82-2029e8622f5d",
                    "appId": APP_ID,
                    "appDisplayName": "Recruitee",
                    "pendingScopes": [{"displayName": "Mail.ReadWrite"}],
                    "userConsentRequests": [],
                }
            ]
        },
    )
    graph.add(
        "/identityGovernance/appConsent/appConsentRequests/7322e5f3-0f15-4eb8-9e82-2029e8622f5d/userConsentRequests"
        "?$filter=status eq 'InProgress'",
        {
            "value": [
                {
                    "id": "u1",
                    "status": "InProgress",
                    "reason": "please",
                    "createdDateTime": "2026-01-05T09:00:00Z",
                    "createdBy": {
                        "user": {
                            "id": USER_ID,
                            "displayName": "Alice Smith",
                            "userPrincipalName": UPN,
                        }
                    },
                }
            ]
        },
    )
    graph.add(
        "/organization?$select=id,displayName,verifiedDomains",
        {
            "value": [
                {
                    "id": TENANT_ID,
                    "displayName": "Contoso",
                    "verifiedDomains": [
                        {"name": "contoso.onmicrosoft.com", "isDefault": False},
                        {"name": "contoso.com", "isDefault": True},
                    ],
                }
            ]
        },
    )
    if user:
        base = f"/users/{UPN}"
        graph.add(
            f"{base}?$select=id,userPrincipalName,displayName,mail,accountEnabled,userType",
            {
                "id": USER_ID,
                "userPrincipalName": UPN,
                "displayName": "Alice Smith",
                "mail": MAIL,
                "accountEnabled": True,
                "userType": "Member",
            },
        )
        graph.add(
            f"{base}/memberOf?$select=id,displayName,roleTemplateId",
            {
                "value": [
                    {
                        "@odata.type": "#microsoft.graph.group",
                        "id": GROUP_ID,
                        "displayName": "Recruiters",
                    },
                    {
                        "@odata.type": "#microsoft.graph.directoryRole",
                        "id": "role-obj",
                        "displayName": "Global Reader",
                        "roleTemplateId": GLOBAL_READER,
                    },
                ]
            },
        )
        graph.add(
            f"{base}/transitiveMemberOf/microsoft.graph.group?$count=true&$select=id,displayName",
            {
                "value": [
                    {"id": GROUP_ID, "displayName": "Recruiters"},
                    {"id": NESTED_ID, "displayName": "All Staff"},
                ]
            },
        )
    return graph


def wave_two_routes(graph: FakeGraph, *, user: bool = False) -> FakeGraph:
    for sp_id in (SP_ID, NEAR_SP_ID):
        graph.add(
            f"/servicePrincipals/{sp_id}/appRoleAssignedTo?*",
            {
                "value": [
                    {
                        "id": "as1",
                        "principalId": GROUP_ID,
                        "principalType": "Group",
                        "principalDisplayName": "Recruiters",
                        "resourceId": sp_id,
                    }
                ]
                if sp_id == SP_ID
                else []
            },
        )
        graph.add(
            f"/servicePrincipals/{sp_id}/oauth2PermissionGrants?*",
            {
                "value": [
                    grant(None, "openid offline_access User.Read Mail.Send", "g-all"),
                    grant(OTHER_USER_ID, "Calendars.ReadWrite", "g-other"),
                ]
                if sp_id == SP_ID
                else []
            },
        )
        if user:
            graph.add(
                f"/oauth2PermissionGrants?$filter=clientId eq '{sp_id}' and consentType eq "
                "'AllPrincipals'*",
                {
                    "value": [grant(None, "openid offline_access User.Read Mail.Send", "g-all")]
                    if sp_id == SP_ID
                    else []
                },
            )
            graph.add(
                f"/oauth2PermissionGrants?$filter=clientId eq '{sp_id}' and principalId eq "
                f"'{USER_ID}'*",
                {
                    "value": [grant(USER_ID, "Calendars.ReadWrite", "g-alice")]
                    if sp_id == SP_ID
                    else []
                },
            )
    return graph


def audit(
    aid: str, target_id: str, name: str, props: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "id": aid,
        "category": "ApplicationManagement",
        "activityDisplayName": "Consent to application",
        "activityDateTime": "2026-01-02T03:04:05Z",
        "result": "success",
        "initiatedBy": {
            "user": {"id": USER_ID, "displayName": "Alice Smith", "userPrincipalName": UPN}
        },
        "targetResources": [
            {
                "id": target_id,
                "displayName": name,
                "type": "ServicePrincipal",
                "modifiedProperties": props or [],
            },
            {"id": USER_ID, "displayName": "Alice Smith", "type": "User", "userPrincipalName": UPN},
        ],
    }


def log_routes(graph: FakeGraph) -> FakeGraph:
    graph.add(
        "/auditLogs/directoryAudits?$filter=activityDateTime ge *",
        {
            "value": [
                audit(
                    "a1",
                    SP_ID,
                    "Recruitee",
                    [
                        {
                            "displayName": "ConsentAction.Permissions",
                            "oldValue": "",
                            "newValue": f"{UPN} {USER_ID}",
                        }
                    ],
                ),
                audit("a2", "99999999-9999-9999-9999-999999999999", "Some Other App"),
            ]
        },
    )
    graph.add(
        f"/auditLogs/signIns?$filter=appId eq '{APP_ID}'*",
        {
            "value": [
                {
                    "id": "s1",
                    "createdDateTime": "2026-01-03T00:00:00Z",
                    "appId": APP_ID,
                    "userId": USER_ID,
                    "userPrincipalName": UPN,
                    "status": {"errorCode": 65001, "failureReason": "consent"},
                }
            ]
        },
    )
    graph.add(
        f"/auditLogs/signIns?$filter=appId eq '{NEAR_APP_ID}'*",
        {"value": []},
    )
    return graph
