"""Writes go only where the plan intends: the URL ``fix --apply`` sends is rebuilt from
validated, percent-encoded ids (live/writes.py ``write_path``), so ``/../``, ``?``, ``#`` or
``%2F`` in an id can never change the path Graph receives. Asserted on the URLs the fake
Graph (``responses``) actually received."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from consent_audit.live.writes import GraphWriter, UnsafeWrite, write_path
from consent_audit.report import PlanStep
from tests.live.fakes import ROOT, FakeTokens

SP = "5b2f1c9e-4d3a-4e8b-9a7c-2f6d8e1b3c40"
GRAPH = "0d4a6f3e-7a4b-4f3c-9c51-6f1c3b1f7a10"
USER = "a1b2c3d4-0000-4000-8000-00000000a11c"
GRANT = "AVs6JuUDjkCFV7q2gd8QTPimBBgj5iBFj0C6GwwRxC0"
ROLE = "00000000-0000-0000-0000-000000000000"

HOSTILE_GRANT_IDS = [
    f"x/../../servicePrincipals/{SP}?$select=id#",  # the id seen in issue #19
    f"../servicePrincipals/{SP}",
    f"{GRANT}?$select=id",
    f"{GRANT}#fragment",
    f"x%2F..%2F..%2FservicePrincipals%2F{SP}",
    f"{GRANT}/",
    "..",
    "",
]


def _step(number: int, method: str, path: str, body: dict[str, Any]) -> PlanStep:
    return PlanStep(
        number=number,
        kind="graph",
        summary=f"step {number}",
        finding_ids=["SCOPE_MISSING"],
        method=method,  # type: ignore[arg-type]
        path=path,
        body=body,
        permission="DelegatedPermissionGrant.ReadWrite.All",
    )


def _writer() -> GraphWriter:
    return GraphWriter(ROOT, FakeTokens(["write-token-123"]), sleep=lambda _s: None)


@pytest.mark.parametrize("grant_id", HOSTILE_GRANT_IDS)
def test_a_hostile_grant_id_never_reaches_graph(grant_id: str) -> None:
    later = _step(2, "PATCH", f"/servicePrincipals/{SP}", {"accountEnabled": True})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.PATCH, f"{ROOT}/v1.0/servicePrincipals/{SP}", json={})
        results = _writer().apply(
            [
                _step(1, "PATCH", f"/oauth2PermissionGrants/{grant_id}", {"scope": "User.Read"}),
                later,
            ]
        )
        assert [call.request.url for call in rsps.calls] == []
    assert [(r.ok, r.sent) for r in results] == [(False, False), (False, False)]
    assert results[0].message.startswith("refused: ")
    assert grant_id not in results[0].message or not grant_id


def test_valid_writes_go_exactly_to_their_planned_paths() -> None:
    steps = [
        _step(1, "PATCH", f"/servicePrincipals/{SP}", {"accountEnabled": True}),
        _step(2, "PATCH", f"/oauth2PermissionGrants/{GRANT}", {"scope": "User.Read"}),
        _step(
            3,
            "POST",
            "/oauth2PermissionGrants",
            {"clientId": SP, "consentType": "AllPrincipals", "resourceId": GRAPH, "scope": "x"},
        ),
        _step(
            4,
            "POST",
            f"/servicePrincipals/{SP}/appRoleAssignedTo",
            {"principalId": USER, "resourceId": SP, "appRoleId": ROLE},
        ),
    ]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, f"{ROOT}/v1.0/servicePrincipals/{SP}", json={})
        rsps.add(responses.PATCH, f"{ROOT}/v1.0/oauth2PermissionGrants/{GRANT}", json={})
        rsps.add(responses.POST, f"{ROOT}/v1.0/oauth2PermissionGrants", json={}, status=201)
        rsps.add(responses.POST, f"{ROOT}/v1.0/servicePrincipals/{SP}/appRoleAssignedTo", json={})
        results = _writer().apply(steps)
        received = [(c.request.method, c.request.url) for c in rsps.calls]
    assert all(r.ok for r in results), [r.message for r in results]
    assert received == [
        ("PATCH", f"{ROOT}/v1.0/servicePrincipals/{SP}"),
        ("PATCH", f"{ROOT}/v1.0/oauth2PermissionGrants/{GRANT}"),
        ("POST", f"{ROOT}/v1.0/oauth2PermissionGrants"),
        ("POST", f"{ROOT}/v1.0/servicePrincipals/{SP}/appRoleAssignedTo"),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", f"/servicePrincipals/{SP}/../../users/{USER}", {}),
        ("PATCH", f"/servicePrincipals/{SP}%2F..%2Fx", {}),
        ("PATCH", "/servicePrincipals/not-a-guid", {}),
        ("POST", f"/servicePrincipals/{SP}/appRoleAssignedTo", {"principalId": "x/../y"}),
        ("POST", "/oauth2PermissionGrants", {"clientId": SP, "resourceId": "../../x"}),
        ("PATCH", f"/users/{USER}", {}),
        ("POST", f"/servicePrincipals/{SP}", {}),
        ("PATCH", f"servicePrincipals/{SP}", {}),
    ],
)
def test_only_the_planned_writes_with_valid_ids_are_built(
    method: str, path: str, body: dict[str, Any]
) -> None:
    with pytest.raises(UnsafeWrite) as refused:
        write_path(method, path, body)
    assert "../" not in str(refused.value)
