"""APP_LOOKALIKE: Recruitee is authenticated by owner tenant, audience and publisher, not by name.

A service principal named "Recruitee" is Recruitee's only when it is a multi-tenant application
(``signInAudience`` AzureADMultipleOrgs / AzureADandPersonalMicrosoftAccount) registered in
another tenant (``appOwnerOrganizationId`` is not this tenant's id), and, when the manifest pins
them, with a pinned owner tenant and verified publisher (Graph v1.0 servicePrincipal). Anything
else is a look-alike: never the app in use, never a plan step, never a consent URL.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.report import Report

from .builders import (
    COLLECTED_AT,
    RECRUITEE_APP_ID,
    RECRUITEE_SP_ID,
    RECRUITEE_TENANT_ID,
    SECOND_APP_ID,
    SECOND_SP_ID,
    TENANT_ID,
    codes,
    findings,
    grant,
    healthy,
    manifest,
    one,
    recruitee_app,
    recruitee_sp,
    run,
    statuses,
    with_apps,
)

LOOKALIKE_SP_ID = SECOND_SP_ID


def _lookalike(**overrides: object) -> object:
    fields: dict[str, object] = {"app_owner_organization_id": TENANT_ID}
    fields.update(overrides)
    sp = recruitee_sp(id=LOOKALIKE_SP_ID, app_id=SECOND_APP_ID, **fields)
    return recruitee_app(sp, grants=[])


def _writes_to(report: Report, object_id: str) -> list[str]:
    """Every plan step that would write to (or grant to) ``object_id``."""
    return [
        f"{s.number}: {s.method} {s.path} {s.body}"
        for s in report.plan
        if s.kind == "graph"
        and (
            s.app_object_id == object_id
            or object_id in (s.path or "")
            or object_id in str(s.body or {})
        )
    ]


@pytest.mark.parametrize(
    ("case", "overrides"),
    [
        ("registered in this tenant", {"app_owner_organization_id": TENANT_ID}),
        (
            "single-tenant audience",
            {"app_owner_organization_id": RECRUITEE_TENANT_ID, "sign_in_audience": "AzureADMyOrg"},
        ),
        (
            "personal accounts only",
            {
                "app_owner_organization_id": RECRUITEE_TENANT_ID,
                "sign_in_audience": "PersonalMicrosoftAccount",
            },
        ),
    ],
)
def test_a_lookalike_alone_is_not_recruitee_and_gets_no_grant(
    case: str, overrides: dict[str, object]
) -> None:
    app = _lookalike(**overrides)
    report = run(with_apps(healthy(), app))  # type: ignore[arg-type]

    f = one(report, "APP_LOOKALIKE")
    assert f.severity.value == "error", case
    assert f.app_object_id == LOOKALIKE_SP_ID
    assert f.features == []
    assert "APP_NOT_FOUND" in codes(report)  # Recruitee itself is not there
    assert statuses(report) == {"mailbox": "fail", "calendar": "fail", "rooms": "fail"}
    assert report.app_in_use is None
    assert _writes_to(report, LOOKALIKE_SP_ID) == []
    assert [a.identity for a in report.apps] == ["lookalike"]
    assert report.apps[0].in_use is False
    assert report.gate.exit_code == 1


def test_a_lookalike_beside_the_real_app_never_decides_and_never_gets_a_write() -> None:
    real = recruitee_app(grants=[grant("User.Read")])  # needs admin consent for the rest
    fake = _lookalike()
    report = run(with_apps(healthy(), real, fake))  # type: ignore[arg-type]

    assert report.app_in_use is not None
    assert report.app_in_use.object_id == RECRUITEE_SP_ID
    assert report.app_in_use.chosen_by == "only_app"  # the look-alike is no candidate
    assert report.app_in_use.owner_tenant_id == RECRUITEE_TENANT_ID
    assert "APP_DUPLICATE" not in codes(report)
    assert one(report, "APP_LOOKALIKE").app_object_id == LOOKALIKE_SP_ID
    grants = [s for s in report.plan if s.kind == "graph"]
    assert grants, "the real app still gets its admin-consent step"
    assert all(s.app_object_id == RECRUITEE_SP_ID for s in grants)
    assert _writes_to(report, LOOKALIKE_SP_ID) == []
    assert {a.object_id: a.in_use for a in report.apps} == {
        RECRUITEE_SP_ID: True,
        LOOKALIKE_SP_ID: False,
    }


def test_a_lookalike_with_a_known_app_id_is_still_a_lookalike() -> None:
    """Even --app-id naming it does not make it Recruitee's: it gets no step."""
    fake = _lookalike()
    report = run(with_apps(healthy(), fake), app_ids=(SECOND_APP_ID,))  # type: ignore[arg-type]
    assert "APP_LOOKALIKE" in codes(report)
    assert report.app_in_use is None
    assert _writes_to(report, LOOKALIKE_SP_ID) == []


def test_pins_make_an_unknown_owner_or_publisher_a_lookalike() -> None:
    snap = with_apps(healthy(), recruitee_app(recruitee_sp(verified=True)))
    pinned_owner = replace(manifest(), owner_tenant_ids=(RECRUITEE_TENANT_ID,))
    other_owner = replace(manifest(), owner_tenant_ids=("dddddddd-0000-0000-0000-00000000000d",))
    pinned_publisher = replace(manifest(), verified_publisher_ids=("5555555",))
    other_publisher = replace(manifest(), verified_publisher_ids=("7777777",))

    def identity(m: object) -> str:
        report = evaluate(snap, m, now=COLLECTED_AT)  # type: ignore[arg-type]
        return report.apps[0].identity

    assert identity(manifest()) == "multi_tenant"
    assert identity(pinned_owner) == "pinned"
    assert identity(pinned_publisher) == "pinned"
    assert identity(other_owner) == "lookalike"
    assert identity(other_publisher) == "lookalike"


def test_an_owner_graph_did_not_report_is_unconfirmed_not_a_lookalike_without_pins() -> None:
    snap = with_apps(healthy(), recruitee_app(recruitee_sp(app_owner_organization_id=None)))
    report = run(snap)
    assert "APP_LOOKALIKE" not in codes(report)
    assert report.apps[0].identity == "unconfirmed"
    pinned = replace(manifest(), owner_tenant_ids=(RECRUITEE_TENANT_ID,))
    strict = evaluate(snap, pinned, now=COLLECTED_AT)
    assert "APP_LOOKALIKE" in codes(strict)


def test_an_unconfirmed_app_gets_no_write_until_its_app_id_is_named() -> None:
    """Graph did not report the owner tenant: only the name says the app is Recruitee's, so
    the plan grants nothing to it (entra-behaviour.md: "Never grant to it on name alone"); a
    manual step asks to confirm its appId. Named by --app-id or the manifest's known appIds,
    it gets its admin-consent step."""
    app = recruitee_app(recruitee_sp(app_owner_organization_id=None), grants=[grant("User.Read")])
    snap = with_apps(healthy(), app)

    by_name = run(snap)
    assert report_identity(by_name) == "unconfirmed"
    assert _writes_to(by_name, RECRUITEE_SP_ID) == []
    confirm = by_name.plan[0]
    assert confirm.kind == "manual"
    assert confirm.summary.startswith("Confirm with Recruitee")
    assert f"--app-id {RECRUITEE_APP_ID}" in (confirm.detail or "")
    for f in findings(by_name, "SCOPE_MISSING"):
        assert f.remediation[0].plan_step == confirm.number
        assert all(r.graph is None and r.powershell is None for r in f.remediation)

    for named in (
        run(snap, app_ids=(RECRUITEE_APP_ID,)),
        evaluate(snap, replace(manifest(), known_app_ids=(RECRUITEE_APP_ID,)), now=COLLECTED_AT),
    ):
        assert _writes_to(named, RECRUITEE_SP_ID), named.plan
        assert not any(s.summary.startswith("Confirm with Recruitee") for s in named.plan)


def report_identity(report: Report) -> str:
    return report.apps[0].identity
