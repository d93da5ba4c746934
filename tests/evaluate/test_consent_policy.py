"""Can a regular user consent to a scope for Recruitee? Table-driven permission grant policies.

Entra rules exercised (entra-docs configure-user-consent.md, manage-app-consent-policies.md;
microsoft-graph-docs-contrib resources/permissiongrantpolicy.md, permissiongrantconditionset.md):
an event matches a policy when it matches at least one include set and no exclude set; all
conditions of a set must hold; one approving policy is enough; admin-only scopes and apps that
require assignment always need admin consent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from consent_audit.catalog import graph_catalog
from consent_audit.evaluate.consent_policy import (
    ConsentDecision,
    decide,
    self_consent_policy_ids,
)
from consent_audit.evaluate.context import AuditContext
from consent_audit.evaluate.coverage import consent_inputs
from consent_audit.graph_objects import PermissionScope, ServicePrincipal
from consent_audit.snapshot import Part, PartStatus, TenantSnapshot

from .builders import (
    LEGACY,
    LOW,
    RECOMMENDED,
    RECRUITEE_TENANT_ID,
    TENANT_ID,
    condition_set,
    grant_policy,
    graph_sp,
    healthy,
    manifest,
    recruitee_sp,
    scope_id,
    with_classifications,
    with_grant_policies,
    with_part_status,
    with_policy_assigned,
)

Tweak = Callable[[TenantSnapshot], TenantSnapshot]


def _decide(
    snap: TenantSnapshot, scope: str, sp: ServicePrincipal | None = None
) -> ConsentDecision:
    m = manifest()
    ctx = AuditContext(snapshot=snap, manifest=m, full_manifest=m, catalog=graph_catalog())
    return decide(scope, sp or recruitee_sp(), consent_inputs(ctx))


def _assigned(*entries: str) -> Tweak:
    return lambda s: with_policy_assigned(s, *entries)


def _custom(*policies: object, assigned: str = "ManagePermissionGrantsForSelf.custom") -> Tweak:
    return lambda s: with_grant_policies(with_policy_assigned(s, assigned), *policies)  # type: ignore[arg-type]


def _low(**classes: str) -> Tweak:
    return lambda s: with_classifications(with_policy_assigned(s, LOW), **classes)


@dataclass(frozen=True)
class Case:
    tweak: Tweak
    scope: str
    allowed: bool | None
    reason: str
    sp: ServicePrincipal | None = None
    cause: str = "policy"


ALLOW_MAIL_RW_ONLY = grant_policy(
    "custom",
    includes=[condition_set(permission_type="delegated", permissions=[scope_id("Mail.ReadWrite")])],
)
ALL_BUT_MAIL_SEND = grant_policy(
    "custom",
    includes=[condition_set(permission_type="delegated")],
    excludes=[
        condition_set(
            permission_type="delegated",
            resource_application="00000003-0000-0000-c000-000000000000",
            permissions=[scope_id("Mail.Send")],
        )
    ],
)

CASES: dict[str, Case] = {
    "legacy allows a non-admin scope": Case(
        _assigned(LEGACY),
        "Mail.ReadWrite",
        True,
        "allowed by policy 'microsoft-user-default-legacy'",
    ),
    "recommended excludes Mail.ReadWrite": Case(
        _assigned(RECOMMENDED),
        "Mail.ReadWrite",
        False,
        "managed policy 'microsoft-user-default-recommended' excludes Mail.ReadWrite",
        cause="microsoft_managed",
    ),
    "recommended excludes Calendars.ReadWrite": Case(
        _assigned(RECOMMENDED),
        "calendars.readwrite",
        False,
        "not a choice made in this tenant",
        cause="microsoft_managed",
    ),
    "recommended allows User.ReadBasic.All": Case(
        _assigned(RECOMMENDED), "User.ReadBasic.All", True, "microsoft-user-default-recommended"
    ),
    "recommended allows Mail.Send": Case(
        _assigned(RECOMMENDED), "Mail.Send", True, "microsoft-user-default-recommended"
    ),
    "low: classified low and verified publisher": Case(
        _low(**{"Mail.Send": "low"}),
        "Mail.Send",
        True,
        "microsoft-user-default-low",
        sp=recruitee_sp(verified=True),
    ),
    "low: verified publisher but not classified": Case(
        _low(), "Mail.Send", False, "is not classified", sp=recruitee_sp(verified=True)
    ),
    "low: classified medium is not low": Case(
        _low(**{"Mail.Send": "medium"}),
        "Mail.Send",
        False,
        "is medium",
        sp=recruitee_sp(verified=True),
    ),
    "low: classified low but unverified publisher from another tenant": Case(
        _low(**{"Mail.Send": "low"}), "Mail.Send", False, "listed tenants only"
    ),
    "low: unverified app registered in the audited tenant": Case(
        _low(**{"Mail.Send": "low"}),
        "Mail.Send",
        True,
        "microsoft-user-default-low",
        sp=recruitee_sp(app_owner_organization_id=TENANT_ID),
    ),
    "low: classifications unreadable is unknown": Case(
        lambda s: with_part_status(
            with_policy_assigned(s, LOW),
            "delegated_permission_classifications",
            PartStatus.FORBIDDEN,
        ),
        "Mail.Send",
        None,
        "classifications could not be read",
        sp=recruitee_sp(verified=True),
    ),
    "custom include lists the permission": Case(
        _custom(ALLOW_MAIL_RW_ONLY), "Mail.ReadWrite", True, "allowed by policy 'custom'"
    ),
    "custom include lists another permission": Case(
        _custom(ALLOW_MAIL_RW_ONLY), "Mail.Send", False, "does not include Mail.Send"
    ),
    "custom exclude wins over include": Case(
        _custom(ALL_BUT_MAIL_SEND), "Mail.Send", False, "it excludes Mail.Send"
    ),
    "custom exclude leaves other scopes": Case(
        _custom(ALL_BUT_MAIL_SEND), "Mail.ReadWrite", True, "allowed by policy 'custom'"
    ),
    "custom include for another API": Case(
        _custom(grant_policy("custom", includes=[condition_set(resource_application="some-api")])),
        "Mail.Send",
        False,
        "another API",
    ),
    "custom include for application permissions only": Case(
        _custom(grant_policy("custom", includes=[condition_set(permission_type="application")])),
        "Mail.Send",
        False,
        "application permissions only",
    ),
    "custom include for certified apps only": Case(
        _custom(
            grant_policy(
                "custom", includes=[condition_set(certified_client_applications_only=True)]
            )
        ),
        "Mail.Send",
        False,
        "certified",
    ),
    "custom include for listed client apps only": Case(
        _custom(
            grant_policy("custom", includes=[condition_set(client_application_ids=["another-app"])])
        ),
        "Mail.Send",
        False,
        "other client applications",
    ),
    "custom include for verified publishers, unverified app": Case(
        _custom(
            grant_policy(
                "custom",
                includes=[condition_set(client_applications_from_verified_publisher_only=True)],
            )
        ),
        "Mail.Send",
        False,
        "unverified",
    ),
    "custom exclude of verified publishers spares an unverified app": Case(
        _custom(
            grant_policy(
                "custom",
                includes=[condition_set()],
                excludes=[condition_set(client_applications_from_verified_publisher_only=True)],
            )
        ),
        "Mail.Send",
        True,
        "allowed by policy 'custom'",
    ),
    "custom policy that cannot be read is unknown": Case(
        lambda s: with_part_status(
            with_policy_assigned(s, "ManagePermissionGrantsForSelf.custom"),
            "permission_grant_policies",
            PartStatus.FORBIDDEN,
        ),
        "Mail.Send",
        None,
        "'custom' could not be read",
    ),
    "built-in policy is known even when policies are unreadable": Case(
        lambda s: with_part_status(
            with_policy_assigned(s, RECOMMENDED), "permission_grant_policies", PartStatus.FORBIDDEN
        ),
        "Mail.ReadWrite",
        False,
        "excludes Mail.ReadWrite",
        cause="microsoft_managed",
    ),
    "popular mail clients policy does not cover Recruitee": Case(
        _assigned("ManagePermissionGrantsForSelf.microsoft-user-default-allow-consent-apps"),
        "Mail.Send",
        False,
        "other client applications",
    ),
    "one approving policy is enough": Case(
        _assigned(RECOMMENDED, LEGACY), "Mail.ReadWrite", True, "microsoft-user-default-legacy"
    ),
    "no self-consent policy: consent disabled": Case(
        _assigned(), "User.Read", False, "user consent is turned off", cause="consent_disabled"
    ),
    "admin-only scope is never user-consentable": Case(
        _assigned(LEGACY),
        "Directory.Read.All",
        False,
        "as requiring admin consent",
        cause="admin_only",
    ),
    "assignment required forces admin consent": Case(
        _assigned(LEGACY),
        "User.Read",
        False,
        "assignment is required",
        sp=recruitee_sp(app_role_assignment_required=True),
        cause="assignment_required",
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_consent_policy_evaluation(case: Case) -> None:
    d = _decide(case.tweak(healthy()), case.scope, case.sp)

    assert d.allowed is case.allowed, d.reason
    assert case.reason in d.reason
    if case.allowed is False:
        assert d.cause == case.cause
    if case.allowed is None:
        assert d.unknown_part is not None


def test_decision_uses_graph_casing_of_the_scope() -> None:
    assert _decide(healthy(), "mail.readwrite").scope == "Mail.ReadWrite"


def test_recommended_policy_lets_users_consent_to_rooms_but_not_mail() -> None:
    snap = with_policy_assigned(healthy(), RECOMMENDED)
    allowed = {
        feature.name: all(_decide(snap, s).allowed for s in feature.scopes)
        for feature in manifest().features
    }

    assert allowed == {"mailbox": False, "calendar": False, "rooms": True}


def test_low_policy_needs_verified_publisher_and_low_classification() -> None:
    classified = with_classifications(with_policy_assigned(healthy(), LOW), **{"Mail.Send": "low"})
    unclassified = with_policy_assigned(healthy(), LOW)
    verified = recruitee_sp(verified=True)
    unverified = recruitee_sp()

    assert _decide(classified, "Mail.Send", verified).allowed is True
    assert _decide(classified, "Mail.Send", unverified).allowed is False
    assert _decide(unclassified, "Mail.Send", verified).allowed is False


def test_admin_only_scope_is_never_user_consentable() -> None:
    """The tenant's Graph SP marks a scope Admin: no policy, not even legacy, lets users consent."""
    snap = healthy(graph_service_principal=Part(data=graph_sp(admin_only=["Mail.Send"])))
    snap = with_grant_policies(
        with_policy_assigned(snap, LEGACY, "ManagePermissionGrantsForSelf.custom"),
        grant_policy("custom", includes=[condition_set(permission_type="delegated")]),
    )

    d = _decide(snap, "Mail.Send")
    assert d.allowed is False
    assert d.cause == "admin_only"
    assert _decide(snap, "Mail.ReadWrite").allowed is True


def test_tenant_graph_scope_type_overrides_the_bundled_catalog() -> None:
    """Directory.Read.All is admin-only in the catalog; the tenant's own Graph SP is the truth."""
    assert graph_catalog().by_value("Directory.Read.All").admin_consent_required is True  # type: ignore[union-attr]
    assert _decide(healthy(), "Directory.Read.All").cause == "admin_only"

    user_type = PermissionScope(
        id=scope_id("Directory.Read.All"), value="Directory.Read.All", type="User"
    )
    lenient = graph_sp(scopes=[]).model_copy(update={"oauth2_permission_scopes": [user_type]})
    snap = healthy(graph_service_principal=Part(data=lenient))

    assert _decide(snap, "Directory.Read.All").allowed is True


def test_assignment_required_forces_admin_consent() -> None:
    sp = recruitee_sp(app_role_assignment_required=True)

    assert _decide(healthy(), "User.Read", recruitee_sp()).allowed is True
    d = _decide(healthy(), "User.Read", sp)
    assert d.allowed is False
    assert d.cause == "assignment_required"


@pytest.mark.parametrize(
    "entry",
    [
        "ManagePermissionGrantsForSelf.microsoft-user-default-legacy",
        "managePermissionGrantsForSelf.microsoft-user-default-legacy",
        "MANAGEPERMISSIONGRANTSFORSELF.microsoft-user-default-legacy",
    ],
)
def test_managepermissiongrantsforself_prefix_is_case_insensitive(entry: str) -> None:
    assert self_consent_policy_ids([entry]) == ["microsoft-user-default-legacy"]
    assert _decide(with_policy_assigned(healthy(), entry), "Mail.ReadWrite").allowed is True


def test_owned_resource_policies_are_not_user_consent() -> None:
    owned = [
        "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team",
        "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat",
    ]

    assert self_consent_policy_ids(owned) == []
    d = _decide(with_policy_assigned(healthy(), *owned), "User.Read")
    assert d.allowed is False
    assert d.cause == "consent_disabled"


def test_policy_id_lookup_is_case_insensitive() -> None:
    snap = with_policy_assigned(
        healthy(), "ManagePermissionGrantsForSelf.Microsoft-User-Default-Legacy"
    )

    assert _decide(snap, "Mail.ReadWrite").allowed is True


def test_tenant_copy_of_a_builtin_policy_wins_over_the_documented_definition() -> None:
    """A snapshot that holds 'microsoft-user-default-legacy' with excludes is evaluated as read."""
    tenant_legacy = grant_policy(
        "microsoft-user-default-legacy",
        includes=[condition_set(permission_type="delegatedUserConsentable")],
        excludes=[condition_set(permissions=[scope_id("Mail.Send")])],
    )
    snap = with_grant_policies(healthy(), tenant_legacy)

    assert _decide(snap, "Mail.Send").allowed is False
    assert _decide(snap, "Mail.ReadWrite").allowed is True


def test_low_policy_as_returned_by_graph_with_real_tenant_id() -> None:
    """Graph's sample of microsoft-user-default-low lists the tenant id, not '{tenant}'."""
    graph_low = grant_policy(
        "microsoft-user-default-low",
        includes=[
            condition_set(
                permission_classification="low", client_application_tenant_ids=[TENANT_ID]
            ),
            condition_set(
                permission_classification="low",
                client_applications_from_verified_publisher_only=True,
            ),
        ],
    )
    snap = with_grant_policies(
        with_classifications(with_policy_assigned(healthy(), LOW), **{"Mail.Send": "low"}),
        graph_low,
    )

    assert _decide(snap, "Mail.Send", recruitee_sp()).allowed is False
    assert (
        _decide(snap, "Mail.Send", recruitee_sp(app_owner_organization_id=TENANT_ID)).allowed
        is True
    )
    assert RECRUITEE_TENANT_ID != TENANT_ID


def test_definite_exclude_decides_even_after_an_undecidable_exclude() -> None:
    """Regression: "none of the excludes" (resources/permissiongrantpolicy.md) means one
    definite exclude match decides, whatever an undecidable exclude set says."""
    policy = grant_policy(
        "custom",
        includes=[condition_set(permission_type="delegated")],
        excludes=[
            condition_set(permission_classification="high"),
            condition_set(permissions=[scope_id("Mail.ReadWrite")]),
        ],
    )
    snap = with_part_status(
        _custom(policy)(healthy()), "delegated_permission_classifications", PartStatus.FORBIDDEN
    )

    assert _decide(snap, "Mail.ReadWrite").allowed is False


def test_step_up_caveat_only_for_unverified_publishers_and_non_basic_scopes() -> None:
    from consent_audit.graph_objects import VerifiedPublisher

    snap = with_policy_assigned(healthy(), LEGACY)
    unverified = _decide(snap, "Mail.Send")
    basic = _decide(snap, "User.Read")
    verified_sp = recruitee_sp().model_copy(
        update={"verified_publisher": VerifiedPublisher(verified_publisher_id="1234567")}
    )
    verified = _decide(snap, "Mail.Send", verified_sp)
    assert unverified.allowed is True
    assert "risk-based step-up" in unverified.reason
    assert "risk-based step-up" not in basic.reason
    assert verified.allowed is True
    assert "risk-based step-up" not in verified.reason
