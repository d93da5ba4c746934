"""pytest fixtures and a small demo tenant for the Graph emulator.

Register in ``tests/conftest.py`` with ``pytest_plugins = ["tests.emulator.fixtures"]``.

* ``emulator_snapshot`` -> the demo :class:`TenantSnapshot` (override the fixture to serve another).
* ``graph_emulator`` -> a running :class:`GraphEmulator` over ``emulator_snapshot``
  (token ``test-token``, page size 100).
* ``graph_emulator_factory`` -> ``make(tenant=None, **kwargs)`` starting emulators that are
  stopped at teardown (kwargs as GraphEmulator's: faults, token, latency_ms, page_size, ...).
* ``graph_session`` -> a ``requests.Session`` with ``Authorization: Bearer test-token``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from consent_audit.snapshot import TenantSnapshot

from .server import GraphEmulator
from .tenant import GRAPH_APP_ID, EmulatorTenant

TOKEN = "test-token"

TENANT_ID = "11111111-1111-4111-8111-111111111111"
RECRUITEE_SP_ID = "aaaaaaaa-0000-4000-8000-000000000001"
RECRUITEE_APP_ID = "bbbbbbbb-0000-4000-8000-000000000001"
RECRUITEE_OLD_SP_ID = "aaaaaaaa-0000-4000-8000-000000000002"
RECRUITEE_OLD_APP_ID = "bbbbbbbb-0000-4000-8000-000000000002"
GRAPH_SP_ID = "cccccccc-0000-4000-8000-000000000003"
ALICE_ID = "dddddddd-0000-4000-8000-000000000001"
ALICE_UPN = "alice@contoso.example"
SALES_GROUP_ID = "eeeeeeee-0000-4000-8000-000000000001"
ALL_STAFF_GROUP_ID = "eeeeeeee-0000-4000-8000-000000000002"
GLOBAL_READER_TEMPLATE = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
OTHER_APP_ID = "de8bc8b5-d9f9-48b1-a8ad-b748da725064"  # Graph Explorer, from the samples

# Graph's delegated permission ids (graph-samples/graph-delegated-scope-ids.json).
GRAPH_SCOPES = {
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "User.ReadBasic.All": "b340eb25-3456-403f-be2f-af7a0d370277",
    "Mail.Send": "e383f46e-2787-4529-855e-0e479a3ffac0",
    "Mail.ReadWrite": "024d486e-b451-40bb-833d-3e66d98c5c73",
    "Calendars.ReadWrite": "1ec239c2-d7c9-4623-a91a-a9775856bb36",
}


def demo_snapshot_dict() -> dict[str, Any]:
    """The demo tenant as snapshot JSON (Graph objects camelCase); edit a copy per test."""
    return copy.deepcopy(_DEMO)


def make_snapshot(**overrides: Any) -> TenantSnapshot:
    """The demo tenant, with top-level snapshot keys replaced by ``overrides``."""
    raw = demo_snapshot_dict()
    raw.update(copy.deepcopy(overrides))
    return TenantSnapshot.model_validate(raw)


def _sign_in(n: int, app_id: str, error_code: int) -> dict[str, Any]:
    return {
        "id": f"99999999-0000-4000-8000-{n:012d}",
        "createdDateTime": f"2024-05-0{n}T10:00:00Z",
        "appId": app_id,
        "appDisplayName": "Recruitee" if app_id == RECRUITEE_APP_ID else "Graph Explorer",
        "userId": ALICE_ID,
        "userPrincipalName": ALICE_UPN,
        "resourceDisplayName": "Microsoft Graph",
        "isInteractive": True,
        "status": {"errorCode": error_code, "failureReason": None, "additionalDetails": None},
        "conditionalAccessStatus": "notApplied",
    }


def _ca_policy(n: int, state: str) -> dict[str, Any]:
    return {
        "id": f"77777777-0000-4000-8000-{n:012d}",
        "displayName": f"CA policy {n}",
        "state": state,
        "conditions": {
            "applications": {"includeApplications": ["All"]},
            "users": {"includeUsers": ["All"]},
            "clientAppTypes": ["all"],
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }


_DEMO: dict[str, Any] = {
    "schema_version": 1,
    "tool_version": "0.1.0",
    "collected_at": "2024-05-10T12:00:00Z",
    "tenant": {
        "id": TENANT_ID,
        "default_domain": "contoso.example",
        "display_name": "Contoso",
    },
    "recruitee_apps": {
        "status": "ok",
        "data": [
            {
                "service_principal": {
                    "id": RECRUITEE_SP_ID,
                    "appId": RECRUITEE_APP_ID,
                    "displayName": "Recruitee",
                    "accountEnabled": True,
                    "appRoleAssignmentRequired": False,
                    "publisherName": "Tellent",
                    "servicePrincipalType": "Application",
                    "signInAudience": "AzureADMultipleOrgs",
                },
                "app_role_assigned_to": {
                    "status": "ok",
                    "data": [
                        {
                            "id": "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE",
                            "principalId": SALES_GROUP_ID,
                            "principalType": "Group",
                            "principalDisplayName": "Sales",
                            "resourceId": RECRUITEE_SP_ID,
                        }
                    ],
                },
                "oauth2_permission_grants": {
                    "status": "ok",
                    "data": [
                        {
                            "id": "grant-all-principals",
                            "clientId": RECRUITEE_SP_ID,
                            "consentType": "AllPrincipals",
                            "principalId": None,
                            "resourceId": GRAPH_SP_ID,
                            "scope": "openid profile email offline_access User.Read",
                        },
                        {
                            "id": "grant-alice",
                            "clientId": RECRUITEE_SP_ID,
                            "consentType": "Principal",
                            "principalId": ALICE_ID,
                            "resourceId": GRAPH_SP_ID,
                            "scope": "Mail.Send Mail.ReadWrite",
                        },
                    ],
                },
            },
            {
                "service_principal": {
                    "id": RECRUITEE_OLD_SP_ID,
                    "appId": RECRUITEE_OLD_APP_ID,
                    "displayName": "recruitee sync (old)",
                    "accountEnabled": False,
                },
                "app_role_assigned_to": {"status": "forbidden"},
                "oauth2_permission_grants": {"status": "ok", "data": []},
            },
        ],
    },
    "graph_service_principal": {
        "status": "ok",
        "data": {
            "id": GRAPH_SP_ID,
            "appId": GRAPH_APP_ID,
            "displayName": "Microsoft Graph",
            "oauth2PermissionScopes": [
                {"id": pid, "value": name, "type": "User", "isEnabled": True}
                for name, pid in GRAPH_SCOPES.items()
            ],
        },
    },
    "delegated_permission_classifications": {
        "status": "ok",
        "data": [
            {
                "id": "2G3-4TG6YU2J54hjnaRoPQE",
                "permissionId": GRAPH_SCOPES["User.Read"],
                "permissionName": "User.Read",
                "classification": "low",
            }
        ],
    },
    "authorization_policy": {
        "status": "ok",
        "data": {
            "id": "authorizationPolicy",
            "allowUserConsentForRiskyApps": False,
            "defaultUserRolePermissions": {
                "allowedToCreateApps": True,
                "permissionGrantPoliciesAssigned": [
                    "ManagePermissionGrantsForSelf.microsoft-user-default-recommended",
                    "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team",
                ],
            },
        },
    },
    "permission_grant_policies": {
        "status": "ok",
        "data": [
            {
                "id": "microsoft-user-default-low",
                "displayName": "Default policy for user consent to apps",
                "includes": [
                    {
                        "id": "bddda1ec-0174-44d5-84e2-47fb0ac01595",
                        "permissionType": "delegated",
                        "permissionClassification": "low",
                        "clientApplicationsFromVerifiedPublisherOnly": True,
                    }
                ],
                "excludes": [],
            },
            {
                "id": "microsoft-user-default-legacy",
                "displayName": "Legacy user consent policy",
                "includes": [{"permissionType": "delegatedUserConsentable"}],
                "excludes": [],
            },
        ],
    },
    "admin_consent_request_policy": {
        "status": "ok",
        "data": {
            "isEnabled": True,
            "notifyReviewers": False,
            "remindersEnabled": False,
            "requestDurationInDays": 30,
            "reviewers": [{"query": f"/users/{ALICE_ID}", "queryType": "MicrosoftGraph"}],
        },
    },
    "app_consent_requests": {
        "status": "ok",
        "data": [
            {
                "id": "7322e5f3-0f15-4eb8-9e82-2029e8622f5d",
                "appId": RECRUITEE_APP_ID,
                "appDisplayName": "Recruitee",
                "pendingScopes": [{"displayName": "Mail.ReadWrite"}],
                "userConsentRequests": [
                    {"id": "ucr-1", "status": "InProgress", "reason": "need mail sync"}
                ],
            },
            {
                "id": "8433f6f4-0f15-4eb8-9e82-2029e8622f5e",
                "appId": OTHER_APP_ID,
                "appDisplayName": "Graph Explorer",
                "pendingScopes": [{"displayName": "openid"}],
                "userConsentRequests": [{"id": "ucr-2", "status": "Completed"}],
            },
        ],
    },
    "conditional_access_policies": {
        "status": "ok",
        "data": [_ca_policy(1, "enabled"), _ca_policy(2, "disabled"), _ca_policy(3, "enabled")],
    },
    "users": [
        {
            "query": ALICE_UPN,
            "user": {
                "status": "ok",
                "data": {
                    "id": ALICE_ID,
                    "user_principal_name": ALICE_UPN,
                    "display_name": "Alice Example",
                    "mail": ALICE_UPN,
                    "member_of_group_ids": [SALES_GROUP_ID],
                    "transitive_member_of_group_ids": [SALES_GROUP_ID, ALL_STAFF_GROUP_ID],
                    "directory_role_template_ids": [GLOBAL_READER_TEMPLATE],
                    "group_display_names": {
                        SALES_GROUP_ID: "Sales",
                        ALL_STAFF_GROUP_ID: "All staff",
                    },
                },
            },
        },
        {"query": "ghost@contoso.example", "user": {"status": "not_found"}},
        {"query": "secret@contoso.example", "user": {"status": "forbidden"}},
    ],
    "directory_audits": {
        "status": "ok",
        "data": [
            {
                "id": "audit-1",
                "category": "ApplicationManagement",
                "activityDisplayName": "Consent to application",
                "activityDateTime": "2024-05-01T09:00:00Z",
                "result": "success",
                "targetResources": [{"id": RECRUITEE_SP_ID, "displayName": "Recruitee"}],
            },
            {
                "id": "audit-2",
                "category": "ApplicationManagement",
                "activityDisplayName": "Add delegated permission grant",
                "activityDateTime": "2024-05-01T09:00:01Z",
                "result": "success",
                "targetResources": [{"id": GRAPH_SP_ID, "displayName": "Microsoft Graph"}],
            },
        ],
    },
    "sign_ins": {
        "status": "ok",
        "data": [
            _sign_in(1, RECRUITEE_APP_ID, 65001),
            _sign_in(2, OTHER_APP_ID, 0),
            _sign_in(3, RECRUITEE_APP_ID, 0),
        ],
    },
}


# -- fixtures ----------------------------------------------------------------------------------

EmulatorFactory = Callable[..., GraphEmulator]


@pytest.fixture
def emulator_snapshot() -> TenantSnapshot:
    """The tenant ``graph_emulator`` serves; override this fixture to serve another."""
    return make_snapshot()


@pytest.fixture
def graph_emulator_factory() -> Iterator[EmulatorFactory]:
    """``make(tenant=None, **kwargs)``: start an emulator (demo tenant by default)."""
    started: list[GraphEmulator] = []

    def make(
        tenant: TenantSnapshot | EmulatorTenant | str | None = None, **kwargs: Any
    ) -> GraphEmulator:
        kwargs.setdefault("token", TOKEN)
        emulator = GraphEmulator(tenant if tenant is not None else make_snapshot(), **kwargs)
        started.append(emulator.start())
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def graph_emulator(emulator_snapshot: TenantSnapshot) -> Iterator[GraphEmulator]:
    """A running emulator over ``emulator_snapshot`` accepting ``Bearer test-token``."""
    with GraphEmulator(emulator_snapshot, token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
def graph_session() -> Iterator[requests.Session]:
    """A requests session sending ``Authorization: Bearer test-token``."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        yield session
