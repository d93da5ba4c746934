"""Every property the v1.0 CSDL leaves nullable may come back ``null``: each model reads it.

The nullable lists below were read from microsoftgraph/msgraph-metadata
``schemas/v1.0-Prod.csdl`` (a property without ``Nullable="false"``), for the properties the
models keep. Each test feeds a Graph-shaped payload with all of them ``null`` at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from consent_audit.catalog import graph_catalog
from consent_audit.evaluate import evaluate
from consent_audit.evaluate.consent_policy import (
    UNPLACED_CLASSIFICATION,
    ConsentInputs,
    decide,
    scope_id_key,
)
from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AppConsentRequest,
    AppRoleAssignment,
    AuthorizationPolicy,
    ConditionalAccessPolicy,
    DefaultUserRolePermissions,
    DelegatedPermissionClassification,
    DirectoryAudit,
    OAuth2PermissionGrant,
    PermissionGrantConditionSet,
    PermissionGrantPolicy,
    PermissionScope,
    ServicePrincipal,
    SignIn,
    UserConsentRequest,
)
from consent_audit.manifest import load_manifest
from consent_audit.report import Report
from consent_audit.snapshot import TenantSnapshot

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "tenants"

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
    (
        DefaultUserRolePermissions,
        {"allowedToReadOtherUsers": True},
        ["permissionGrantPoliciesAssigned", "allowedToCreateApps"],
    ),
    (
        OAuth2PermissionGrant,
        {"id": "g", "clientId": "sp", "resourceId": "graph"},
        ["consentType", "principalId", "scope"],
    ),
    (
        AppRoleAssignment,
        {"id": "a", "appRoleId": "00000000-0000-0000-0000-000000000000"},
        ["principalId", "principalType", "principalDisplayName", "resourceId"],
    ),
    (PermissionScope, {"id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d"}, ["value", "type"]),
    (
        DelegatedPermissionClassification,
        {},
        ["id", "permissionId", "permissionName", "classification"],
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


def test_a_null_policy_assignment_in_the_authorization_policy_is_read_as_null() -> None:
    policy = AuthorizationPolicy.model_validate(
        {"defaultUserRolePermissions": {"permissionGrantPoliciesAssigned": None}}
    )
    assert policy.default_user_role_permissions.permission_grant_policies_assigned is None


def _report(name: str, edit: Callable[[dict[str, Any]], None], user: str | None = None) -> Report:
    import json

    raw = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    edit(raw)
    return evaluate(TenantSnapshot.model_validate(raw), load_manifest(), user=user)


def _unavailable(report: Report, part: str) -> list[str]:
    return [
        f.detail
        for f in report.findings
        if f.id == "DATA_UNAVAILABLE" and f.evidence.get("part") == part
    ]


def test_null_policies_assigned_leaves_user_consent_unknown_not_off() -> None:
    """partial-scopes.json lacks Mail.* admin consent and has user consent off; with a null
    permissionGrantPoliciesAssigned the tool may no longer say "turned off"."""

    def null(raw: dict[str, Any]) -> None:
        perms = raw["authorization_policy"]["data"]["defaultUserRolePermissions"]
        perms["permissionGrantPoliciesAssigned"] = None

    plain = _report("partial-scopes.json", lambda raw: None)
    assert "USER_CONSENT_DISABLED" in {f.id for f in plain.findings}
    report = _report("partial-scopes.json", null)
    assert "USER_CONSENT_DISABLED" not in {f.id for f in report.findings}
    assert report.settings.user_consent.startswith("unknown")
    [detail] = _unavailable(report, "authorization_policy")
    assert "permissionGrantPoliciesAssigned" in detail
    mailbox = next(f for f in report.features if f.name == "mailbox")
    missing = {
        row.scope: row.user_consent
        for app in mailbox.apps
        for row in app.scopes
        if row.granted == "no"
    }
    assert set(missing.values()) == {"unknown"}, missing
    assert {"Mail.ReadWrite", "Mail.Send"} <= set(missing)


def test_a_grant_with_null_consent_type_is_neither_admin_nor_user_consent() -> None:
    def null(raw: dict[str, Any]) -> None:
        for app in raw["recruitee_apps"]["data"]:
            for grant in app["oauth2_permission_grants"]["data"]:
                grant["consentType"] = None

    plain = _report("healthy.json", lambda raw: None)
    assert {f.status.value for f in plain.features} == {"pass"}
    report = _report("healthy.json", null)
    assert {f.status.value for f in report.features} == {"unknown"}
    assert "SCOPE_MISSING" not in {f.id for f in report.findings}
    [detail] = _unavailable(report, "oauth2_permission_grants")
    [grant] = report.grants
    assert grant.grant_id in detail
    assert "consentType" in detail
    assert grant.consent_type == "unknown"
    for feature in report.features:
        # Unknown verdicts carry no figure that reads as a fact: not "the admin grant does
        # not cover it", not "0 people covered".
        assert feature.admin_consent_covers is None, feature.name
        assert feature.people_covered is None, feature.name
        for app in feature.apps:
            assert app.admin_consent_covers is None
            assert app.people_covered is None


def test_a_null_consent_type_beside_per_user_grants_counts_nobody_as_covered() -> None:
    """Tenant-wide with per-user grants only: one grant whose consentType is null may be an
    admin grant, so "N people covered" and "nobody is covered" are both unfounded."""

    def null(raw: dict[str, Any]) -> None:
        [app] = raw["recruitee_apps"]["data"]
        app["oauth2_permission_grants"]["data"][1]["consentType"] = None

    plain = _report("per-user-consent-only.json", lambda raw: None)
    assert any(f.people_covered for f in plain.features)
    report = _report("per-user-consent-only.json", null)
    for feature in report.features:
        assert feature.people_covered is None, feature.name
        assert feature.status.value == "unknown", feature.name
    assert not [f for f in report.findings if "people" in f.title and "0 " in f.title]


def test_an_assignment_with_a_null_principal_may_be_the_users() -> None:
    """Adele is assigned in assignment-required.json; with the assignments' principals null
    "not assigned" cannot be confirmed, nor can "nobody is assigned"."""

    def null(raw: dict[str, Any]) -> None:
        for app in raw["recruitee_apps"]["data"]:
            for assignment in app["app_role_assigned_to"]["data"]:
                assignment["principalId"] = None
                assignment["principalType"] = None

    for user in ("adele.vance@fabrikam.com", None):
        report = _report("assignment-required.json", null, user=user)
        ids = {f.id for f in report.findings}
        assert "ASSIGNMENT_REQUIRED_USER_NOT_ASSIGNED" not in ids
        assert not [f for f in report.findings if f.id == "ASSIGNMENT_REQUIRED" and f.features]
        [detail] = _unavailable(report, "app_role_assigned_to")
        assert "principal" in detail
        assert {f.status.value for f in report.features} == {"unknown"}


def _low_inputs(
    classifications: dict[str, str | None], scopes: dict[str, PermissionScope] | None = None
) -> ConsentInputs:
    cs = PermissionGrantConditionSet(permission_type="delegated", permission_classification="low")
    base = _inputs(cs)
    return ConsentInputs(
        **{**base.__dict__, "classifications": classifications, "graph_scopes": scopes}
    )


def test_a_null_classification_is_unknown_not_unclassified() -> None:
    app = ServicePrincipal(id="sp", app_id="app", display_name="Recruitee")
    scope = graph_catalog().by_value("User.ReadBasic.All")
    assert scope is not None
    key = scope.id.casefold()
    assert decide("User.ReadBasic.All", app, _low_inputs({key: "low"})).allowed is True
    assert decide("User.ReadBasic.All", app, _low_inputs({})).allowed is False
    nulled = decide("User.ReadBasic.All", app, _low_inputs({key: None}))
    assert nulled.allowed is None
    assert nulled.unknown_part == "delegated_permission_classifications"
    unplaced = decide("User.ReadBasic.All", app, _low_inputs({UNPLACED_CLASSIFICATION: "low"}))
    assert unplaced.allowed is None


def test_a_classification_without_permission_id_is_placed_by_name() -> None:
    def named(raw: dict[str, Any]) -> None:
        raw["delegated_permission_classifications"] = {
            "status": "ok",
            "data": [{"permissionId": None, "permissionName": "Mail.Send", "classification": None}],
        }

    report = _report("healthy.json", named)
    assert {f.status.value for f in report.features} == {"pass"}


def test_a_scope_with_null_value_is_found_by_id() -> None:
    """The tenant's Graph SP marks a scope admin-only; its null ``value`` must not send the
    decision back to the bundled catalog (which has it user-consentable)."""
    app = ServicePrincipal(id="sp", app_id="app", display_name="Recruitee")
    known = graph_catalog().by_value("User.ReadBasic.All")
    assert known is not None
    assert not known.admin_consent_required
    cs = PermissionGrantConditionSet(permission_type="delegatedUserConsentable")
    admin_only = PermissionScope(id=known.id, value=None, type="Admin")
    base = _inputs(cs)
    inputs = ConsentInputs(
        **{**base.__dict__, "graph_scopes": {scope_id_key(known.id): admin_only}}
    )
    assert decide("User.ReadBasic.All", app, base).allowed is True
    decision = decide("User.ReadBasic.All", app, inputs)
    assert decision.allowed is False
    assert "admin consent" in decision.reason


def test_what_graph_left_open_is_checked_not_re_read_as_global_reader() -> None:
    """A part that was read but whose answer leaves a verdict open (a null consentType) is not
    fixed by a stronger role or by retaking a snapshot of a live run: the plan says to check
    it, and only a forbidden part says Global Reader."""

    def null(raw: dict[str, Any]) -> None:
        for app in raw["recruitee_apps"]["data"]:
            for grant in app["oauth2_permission_grants"]["data"]:
                grant["consentType"] = None

    report = _report("healthy.json", null)
    [finding] = [f for f in report.findings if f.id == "DATA_UNAVAILABLE"]
    assert finding.evidence["status"] == "incomplete"
    [step] = [s for s in report.plan if "DATA_UNAVAILABLE" in s.finding_ids]
    text = " ".join([step.summary, step.detail or ""]).casefold()
    assert "global reader" not in text
    assert "admin center" in text

    def forbid(raw: dict[str, Any]) -> None:
        raw["conditional_access_policies"] = {
            "status": "forbidden",
            "permission": "Policy.Read.All",
            "data": None,
        }

    forbidden = _report("healthy.json", forbid)
    steps = [
        s for s in forbidden.plan if {"DATA_UNAVAILABLE", "CA_UNREADABLE"} & set(s.finding_ids)
    ]
    assert steps
    assert all("Global Reader" in s.summary for s in steps)
