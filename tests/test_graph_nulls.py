"""Every property the v1.0 CSDL leaves nullable may come back ``null``: each model reads it.

The nullable lists below were read from microsoftgraph/msgraph-metadata
``schemas/v1.0-Prod.csdl`` (a property without ``Nullable="false"``), for the properties the
models keep. Each test feeds a Graph-shaped payload with all of them ``null`` at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from consent_audit.catalog import graph_catalog
from consent_audit.evaluate.consent_policy import ConsentInputs, decide
from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AppConsentRequest,
    ConditionalAccessPolicy,
    DirectoryAudit,
    PermissionGrantConditionSet,
    PermissionGrantPolicy,
    ServicePrincipal,
    SignIn,
    UserConsentRequest,
)

NULLABLE: list[tuple[type[BaseModel], dict[str, Any], list[str]]] = [
    (
        ServicePrincipal,
        {"id": "sp", "appId": "app"},
        [
            "displayName",
            "accountEnabled",
            "appRoleAssignmentRequired",
            "verifiedPublisher",
            "appOwnerOrganizationId",
            "servicePrincipalType",
            "signInAudience",
            "disabledByMicrosoftStatus",
        ],
    ),
    (
        PermissionGrantConditionSet,
        {"id": "cs"},
        [
            "permissionType",
            "permissionClassification",
            "permissions",
            "resourceApplication",
            "clientApplicationIds",
            "clientApplicationTenantIds",
            "clientApplicationPublisherIds",
            "clientApplicationsFromVerifiedPublisherOnly",
            "certifiedClientApplicationsOnly",
        ],
    ),
    (
        AdminConsentRequestPolicy,
        {"isEnabled": True, "notifyReviewers": False, "requestDurationInDays": 30},
        ["reviewers"],
    ),
    (AppConsentRequest, {"id": "r", "appId": "app"}, ["appDisplayName", "pendingScopes"]),
    (
        UserConsentRequest,
        {"id": "u", "status": "InProgress"},
        ["reason", "createdBy", "createdDateTime"],
    ),
    (
        ConditionalAccessPolicy,
        {
            "id": "ca",
            "displayName": "CA",
            "state": "enabled",
            "conditions": {
                "applications": {"includeApplications": ["All"]},
                "users": {"includeUsers": ["All"]},
                "clientAppTypes": ["all"],
                "platforms": None,
                "locations": None,
            },
        },
        ["grantControls", "sessionControls"],
    ),
    (
        DirectoryAudit,
        {
            "id": "a",
            "category": "ApplicationManagement",
            "activityDisplayName": "Consent to application",
            "activityDateTime": "2026-01-01T00:00:00Z",
            "initiatedBy": {},
        },
        ["result", "resultReason", "targetResources"],
    ),
    (
        SignIn,
        {"id": "s", "createdDateTime": "2026-01-01T00:00:00Z", "userId": "u"},
        ["appId", "appDisplayName", "userPrincipalName", "isInteractive", "status"],
    ),
]


@pytest.mark.parametrize(
    ("model", "base", "nullable"), NULLABLE, ids=[m.__name__ for m, _b, _n in NULLABLE]
)
def test_model_reads_null_wherever_the_csdl_allows(
    model: type[BaseModel], base: dict[str, Any], nullable: list[str]
) -> None:
    obj = model.model_validate({**base, **dict.fromkeys(nullable, None)})
    dumped = obj.model_dump(by_alias=True)
    for name in nullable:
        assert dumped[name] is None, name


def test_nested_nulls_in_sessions_statuses_and_audit_targets() -> None:
    policy = ConditionalAccessPolicy.model_validate(
        {
            "id": "ca",
            "displayName": "CA",
            "state": "enabled",
            "conditions": {"users": {"includeUsers": ["All"]}, "clientAppTypes": []},
            "sessionControls": {
                "signInFrequency": {"isEnabled": None, "value": None, "type": None},
                "persistentBrowser": None,
            },
            "grantControls": {"operator": None, "builtInControls": ["mfa"]},
        }
    )
    assert policy.session_controls is not None
    assert policy.session_controls.sign_in_frequency is not None
    assert policy.session_controls.sign_in_frequency.is_enabled is None
    sign_in = SignIn.model_validate(
        {
            "id": "s",
            "createdDateTime": "2026-01-01T00:00:00Z",
            "userId": "u",
            "status": {"errorCode": None, "failureReason": None, "additionalDetails": None},
        }
    )
    assert sign_in.status is not None
    assert sign_in.status.error_code is None
    audit = DirectoryAudit.model_validate(
        {
            "id": "a",
            "category": "ApplicationManagement",
            "activityDisplayName": "Revoke consent",
            "activityDateTime": "2026-01-01T00:00:00Z",
            "initiatedBy": {"user": None, "app": None},
            "targetResources": [{"id": "sp", "modifiedProperties": None}],
        }
    )
    assert audit.target_resources is not None
    assert audit.target_resources[0].modified_properties is None


def _inputs(cs: PermissionGrantConditionSet) -> ConsentInputs:
    policy = PermissionGrantPolicy(id="custom", includes=[cs])
    return ConsentInputs(
        assigned=["ManagePermissionGrantsForSelf.custom"],
        policies={"custom": policy},
        builtin_policies={},
        classifications={},
        graph_scopes=None,
        catalog=graph_catalog(),
        resource_app_id="00000003-0000-0000-c000-000000000000",
        tenant_id="t",
    )


@pytest.mark.parametrize(
    "name",
    [
        "permissions",
        "client_application_ids",
        "client_application_tenant_ids",
        "client_application_publisher_ids",
        "certified_client_applications_only",
        "permission_type",
    ],
)
def test_a_null_consent_condition_is_unknown_not_its_default(name: str) -> None:
    app = ServicePrincipal(id="sp", app_id="app", display_name="Recruitee")
    open_set = PermissionGrantConditionSet(permission_type="delegated")
    assert decide("User.ReadBasic.All", app, _inputs(open_set)).allowed is True
    nulled = open_set.model_copy(update={name: None})
    decision = decide("User.ReadBasic.All", app, _inputs(nulled))
    assert decision.allowed is None
    assert decision.unknown_part == "permission_grant_policies"
