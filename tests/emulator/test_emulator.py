"""Tests of the Graph emulator itself, driven with plain ``requests``."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from consent_audit.snapshot import dump_snapshot

from .__main__ import serve
from .faults import Fault
from .fixtures import (
    ALICE_ID,
    ALICE_UPN,
    ALL_STAFF_GROUP_ID,
    GLOBAL_READER_TEMPLATE,
    GRAPH_SP_ID,
    OTHER_APP_ID,
    RECRUITEE_APP_ID,
    RECRUITEE_OLD_SP_ID,
    RECRUITEE_SP_ID,
    SALES_GROUP_ID,
    TOKEN,
    EmulatorFactory,
    demo_snapshot_dict,
    make_snapshot,
)
from .server import GraphEmulator
from .tenant import GRAPH_APP_ID

AUTH = {"Authorization": f"Bearer {TOKEN}"}
TIMEOUT = 3.0


def get(
    emu: GraphEmulator, path: str, params: dict[str, str] | None = None, **kw: Any
) -> requests.Response:
    kw.setdefault("headers", AUTH)
    kw.setdefault("timeout", TIMEOUT)
    return requests.get(f"{emu.url}/v1.0{path}", params=params, **kw)


def send(emu: GraphEmulator, method: str, path: str, body: Any) -> requests.Response:
    return requests.request(
        method, f"{emu.url}/v1.0{path}", json=body, headers=AUTH, timeout=TIMEOUT
    )


def values(resp: requests.Response) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    return list(resp.json()["value"])


def assert_error(resp: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    err: dict[str, Any] = resp.json()["error"]
    assert err["code"] == code
    assert err["message"]
    assert err["innerError"]["request-id"]
    assert err["innerError"]["date"]
    return err


# -- basics, paging ----------------------------------------------------------------------------


def test_collection_shape_and_paging(graph_emulator_factory: EmulatorFactory) -> None:
    emu = graph_emulator_factory(page_size=2)
    first = get(emu, "/servicePrincipals")
    body = first.json()
    assert body["@odata.context"].endswith("$metadata#servicePrincipals")
    assert len(body["value"]) == 2
    link = body["@odata.nextLink"]
    assert link.startswith(f"{emu.url}/v1.0/servicePrincipals?")
    assert "$skiptoken=" in link
    second = requests.get(link, headers=AUTH, timeout=TIMEOUT).json()
    assert "@odata.nextLink" not in second
    ids = [sp["id"] for sp in body["value"] + second["value"]]
    assert ids == [RECRUITEE_SP_ID, RECRUITEE_OLD_SP_ID, GRAPH_SP_ID]


def test_top_sets_page_size_and_keeps_filter(graph_emulator: GraphEmulator) -> None:
    params = {"$filter": "startswith(displayName,'recruitee')", "$top": "1"}
    resp = get(graph_emulator, "/servicePrincipals", params)
    link = resp.json()["@odata.nextLink"]
    assert "$top=1" in link
    assert "startswith" in link
    page2 = requests.get(link, headers=AUTH, timeout=TIMEOUT).json()
    assert [sp["id"] for sp in page2["value"]] == [RECRUITEE_OLD_SP_ID]
    assert "@odata.nextLink" not in page2
    assert get(graph_emulator, "/servicePrincipals", {"$top": "1000"}).status_code == 400


def test_select_and_count_do_not_break(graph_emulator: GraphEmulator) -> None:
    params = {"$select": "id,appId", "$count": "true"}
    body = get(graph_emulator, "/servicePrincipals", params).json()
    assert body["@odata.count"] == 3
    assert get(graph_emulator, "/organization", {"$select": "id"}).status_code == 200


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ("startswith(displayName,'RECRUITEE')", [RECRUITEE_SP_ID, RECRUITEE_OLD_SP_ID]),
        ("startsWith(displayName, 'Micro')", [GRAPH_SP_ID]),
        ("displayName eq 'Recruitee'", [RECRUITEE_SP_ID]),
        (f"appId eq '{RECRUITEE_APP_ID}'", [RECRUITEE_SP_ID]),
        (f"appId in ('{RECRUITEE_APP_ID}','{GRAPH_APP_ID}')", [RECRUITEE_SP_ID, GRAPH_SP_ID]),
        ("appId eq 'nope'", []),
    ],
)
def test_service_principal_filters(
    graph_emulator: GraphEmulator, filter_: str, expected: list[str]
) -> None:
    found = values(get(graph_emulator, "/servicePrincipals", {"$filter": filter_}))
    assert [sp["id"] for sp in found] == expected


@pytest.mark.parametrize(
    "filter_",
    [
        "displayName ne 'Recruitee'",
        "displayName eq 'a' or displayName eq 'b'",
        "contains(displayName,'cru')",
        "startswith(displayName,'unclosed)",
    ],
)
def test_unsupported_filter_is_400(graph_emulator: GraphEmulator, filter_: str) -> None:
    resp = get(graph_emulator, "/servicePrincipals", {"$filter": filter_})
    assert_error(resp, 400, "Request_UnsupportedQuery")


def test_unsupported_filters_elsewhere(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    assert_error(
        get(emu, "/oauth2PermissionGrants", {"$filter": "scope eq 'x'"}),
        400,
        "Request_UnsupportedQuery",
    )
    assert_error(
        get(emu, "/auditLogs/signIns", {"$filter": "createdDateTime ge yesterday"}),
        400,
        "Request_UnsupportedQuery",
    )
    classifications = (
        f"/servicePrincipals(appId='{GRAPH_APP_ID}')/delegatedPermissionClassifications"
    )
    assert_error(
        get(emu, classifications, {"$filter": "classification eq 'low'"}),
        400,
        "Request_UnsupportedQuery",
    )
    # $filter with $orderby on directory objects needs $count=true + ConsistencyLevel.
    params = {"$filter": "startswith(displayName,'R')", "$orderby": "displayName"}
    assert_error(get(emu, "/servicePrincipals", params), 400, "Request_UnsupportedQuery")
    params["$count"] = "true"
    ok = get(emu, "/servicePrincipals", params, headers={**AUTH, "ConsistencyLevel": "eventual"})
    assert ok.status_code == 200


# -- addressing --------------------------------------------------------------------------------


def test_service_principal_addressing(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    by_id = get(emu, f"/servicePrincipals/{RECRUITEE_SP_ID}").json()
    assert by_id["appId"] == RECRUITEE_APP_ID
    assert by_id["@odata.context"].endswith("#servicePrincipals/$entity")
    graph = get(emu, f"/servicePrincipals(appId='{GRAPH_APP_ID}')").json()
    assert graph["id"] == GRAPH_SP_ID
    assert {s["value"] for s in graph["oauth2PermissionScopes"]} >= {"Mail.ReadWrite", "openid"}
    missing = get(emu, "/servicePrincipals(appId='99999999-9999-9999-9999-999999999999')")
    assert_error(missing, 404, "Request_ResourceNotFound")
    assert_error(get(emu, "/servicePrincipals/unknown-id"), 404, "Request_ResourceNotFound")


def test_service_principal_sub_collections(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    classifications = values(
        get(emu, f"/servicePrincipals(appId='{GRAPH_APP_ID}')/delegatedPermissionClassifications")
    )
    assert [c["permissionName"] for c in classifications] == ["User.Read"]
    same = values(get(emu, f"/servicePrincipals/{GRAPH_SP_ID}/delegatedPermissionClassifications"))
    assert same == classifications
    grants = values(get(emu, f"/servicePrincipals/{RECRUITEE_SP_ID}/oauth2PermissionGrants"))
    assert {g["id"] for g in grants} == {"grant-all-principals", "grant-alice"}
    assigned = values(get(emu, f"/servicePrincipals(appId='{RECRUITEE_APP_ID}')/appRoleAssignedTo"))
    assert assigned[0]["principalId"] == SALES_GROUP_ID
    assert assigned[0]["principalType"] == "Group"


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        (f"clientId eq '{RECRUITEE_SP_ID}'", {"grant-all-principals", "grant-alice"}),
        (
            f"clientId eq '{RECRUITEE_SP_ID}' and consentType eq 'AllPrincipals'",
            {"grant-all-principals"},
        ),
        (f"clientId eq '{RECRUITEE_SP_ID}' and principalId eq '{ALICE_ID}'", {"grant-alice"}),
        (f"clientId eq '{RECRUITEE_OLD_SP_ID}'", set()),
    ],
)
def test_grant_filters(graph_emulator: GraphEmulator, filter_: str, expected: set[str]) -> None:
    found = values(get(graph_emulator, "/oauth2PermissionGrants", {"$filter": filter_}))
    assert {g["id"] for g in found} == expected


def test_policies(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    auth = get(emu, "/policies/authorizationPolicy").json()
    assigned = auth["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"]
    assert assigned[0] == "ManagePermissionGrantsForSelf.microsoft-user-default-recommended"
    policies = values(get(emu, "/policies/permissionGrantPolicies"))
    assert [p["id"] for p in policies] == [
        "microsoft-user-default-low",
        "microsoft-user-default-legacy",
    ]
    low = get(emu, "/policies/permissionGrantPolicies/microsoft-user-default-low").json()
    assert low["includes"][0]["permissionClassification"] == "low"
    assert_error(
        get(emu, "/policies/permissionGrantPolicies/nope"), 404, "Request_ResourceNotFound"
    )
    acr = get(emu, "/policies/adminConsentRequestPolicy").json()
    assert acr["isEnabled"] is True
    assert acr["reviewers"][0]["query"] == f"/users/{ALICE_ID}"
    ca = values(get(emu, "/identity/conditionalAccess/policies"))
    assert [p["state"] for p in ca] == ["enabled", "disabled", "enabled"]


def test_app_consent_request_filters(graph_emulator: GraphEmulator) -> None:
    path = "/identityGovernance/appConsent/appConsentRequests"
    assert len(values(get(graph_emulator, path))) == 2
    mine = values(get(graph_emulator, path, {"$filter": f"appId eq '{RECRUITEE_APP_ID}'"}))
    assert [r["appId"] for r in mine] == [RECRUITEE_APP_ID]
    pending = values(
        get(
            graph_emulator, path, {"$filter": "userConsentRequests/any(u:u/status eq 'InProgress')"}
        )
    )
    assert [r["appId"] for r in pending] == [RECRUITEE_APP_ID]
    both = f"appId eq '{OTHER_APP_ID}' and userConsentRequests/any (x: x/status eq 'InProgress')"
    assert values(get(graph_emulator, path, {"$filter": both})) == []


def test_organization(graph_emulator: GraphEmulator) -> None:
    [org] = values(get(graph_emulator, "/organization"))
    assert org["id"] == make_snapshot().tenant.id
    assert org["verifiedDomains"][0] == {
        "capabilities": "Email, OfficeCommunicationsOnline",
        "isDefault": True,
        "isInitial": False,
        "name": "contoso.example",
        "type": "Managed",
    }


def test_users(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    for path in (
        "/users/ALICE@Contoso.Example",
        "/users/alice%40contoso.example",
        f"/users('{ALICE_UPN}')",
        f"/users/{ALICE_ID}",
    ):
        user = get(emu, path).json()
        assert user["id"] == ALICE_ID, path
        assert user["userPrincipalName"] == ALICE_UPN
    assert_error(get(emu, "/users/nobody@contoso.example"), 404, "Request_ResourceNotFound")
    assert_error(get(emu, "/users/ghost@contoso.example"), 404, "Request_ResourceNotFound")
    assert_error(get(emu, "/users/secret@contoso.example"), 403, "Authorization_RequestDenied")

    member_of = values(get(emu, f"/users/{ALICE_UPN}/memberOf"))
    assert member_of == [
        {"@odata.type": "#microsoft.graph.group", "id": SALES_GROUP_ID, "displayName": "Sales"},
        {
            "@odata.type": "#microsoft.graph.directoryRole",
            "id": f"role-{GLOBAL_READER_TEMPLATE}",
            "displayName": "Global Reader",
            "roleTemplateId": GLOBAL_READER_TEMPLATE,
        },
    ]
    transitive = values(
        get(
            emu,
            f"/users/{ALICE_ID}/transitiveMemberOf/microsoft.graph.group",
            {"$count": "true"},
            headers={**AUTH, "ConsistencyLevel": "eventual"},
        )
    )
    assert [g["id"] for g in transitive] == [SALES_GROUP_ID, ALL_STAFF_GROUP_ID]
    assert {g["@odata.type"] for g in transitive} == {"#microsoft.graph.group"}


def test_audit_logs(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    assert len(values(get(emu, "/auditLogs/signIns"))) == 3
    since = "createdDateTime ge 2024-01-01T00:00:00Z"
    mine = values(
        get(emu, "/auditLogs/signIns", {"$filter": f"appId eq '{RECRUITEE_APP_ID}' and {since}"})
    )
    assert [s["status"]["errorCode"] for s in mine] == [65001, 0]
    audits = values(
        get(emu, "/auditLogs/directoryAudits", {"$filter": "activityDateTime ge 2024-04-01"})
    )
    assert [a["activityDisplayName"] for a in audits] == [
        "Consent to application",
        "Add delegated permission grant",
    ]
    by_target = values(
        get(
            emu,
            "/auditLogs/directoryAudits",
            {"$filter": f"targetResources/any(t: t/id eq '{RECRUITEE_SP_ID}')"},
        )
    )
    assert [a["id"] for a in by_target] == ["audit-1"]


def test_unknown_path_and_method(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    assert_error(get(emu, "/nothingHere"), 404, "ResourceNotFound")
    resp = requests.get(f"{emu.url}/v9/organization", headers=AUTH, timeout=TIMEOUT)
    assert resp.status_code == 404
    assert_error(send(emu, "DELETE", "/organization", None), 405, "Request_BadRequest")


# -- part statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "http", "code"),
    [
        ("forbidden", 403, "Authorization_RequestDenied"),
        ("not_licensed", 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant"),
        ("not_found", 404, "Request_ResourceNotFound"),
        ("error", 500, "UnknownError"),
    ],
)
def test_part_status_envelopes(
    graph_emulator_factory: EmulatorFactory, status: str, http: int, code: str
) -> None:
    raw = demo_snapshot_dict()
    raw["sign_ins"] = {"status": status, "message": "boom" if status == "error" else None}
    raw["conditional_access_policies"] = {"status": status}
    emu = graph_emulator_factory(make_snapshot(**raw))
    err = assert_error(get(emu, "/auditLogs/signIns"), http, code)
    assert_error(get(emu, "/identity/conditionalAccess/policies"), http, code)
    if status == "forbidden":
        assert err["message"] == "Insufficient privileges to complete the operation."
    if status == "not_licensed":
        assert err["message"] == "Tenant is not a B2C tenant and doesn't have premium license"


def test_not_collected_serves_empty_and_per_app_parts(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    emu = graph_emulator_factory(make_snapshot(directory_audits={"status": "not_collected"}))
    assert values(get(emu, "/auditLogs/directoryAudits")) == []
    # The old Recruitee app's appRoleAssignedTo part is forbidden in the demo tenant.
    resp = get(emu, f"/servicePrincipals/{RECRUITEE_OLD_SP_ID}/appRoleAssignedTo")
    assert_error(resp, 403, "Authorization_RequestDenied")
    emu.tenant.set_status("signIns", "not_licensed")
    assert get(emu, "/auditLogs/signIns").status_code == 403


def test_graph_sp_part_status(graph_emulator_factory: EmulatorFactory) -> None:
    emu = graph_emulator_factory(make_snapshot(graph_service_principal={"status": "forbidden"}))
    resp = get(emu, f"/servicePrincipals(appId='{GRAPH_APP_ID}')")
    assert_error(resp, 403, "Authorization_RequestDenied")


def test_snapshot_file_as_tenant(graph_emulator_factory: EmulatorFactory, tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    path.write_text(dump_snapshot(make_snapshot()), encoding="utf-8")
    emu = graph_emulator_factory(str(path))
    assert values(get(emu, "/organization"))[0]["displayName"] == "Contoso"


# -- auth --------------------------------------------------------------------------------------


def test_auth_required(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    assert_error(get(emu, "/organization", headers={}), 401, "InvalidAuthenticationToken")
    bad = get(emu, "/organization", headers={"Authorization": "Bearer wrong"})
    assert_error(bad, 401, "InvalidAuthenticationToken")
    assert "WWW-Authenticate" in bad.headers
    assert [r.had_auth for r in emu.requests] == [False, True]


def test_token_rotation(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    emu.expire_token_after(2)
    assert get(emu, "/organization").status_code == 200
    assert get(emu, "/organization").status_code == 200
    expired = assert_error(get(emu, "/organization"), 401, "InvalidAuthenticationToken")
    assert "expired" in expired["message"]
    emu.accept_token("new")
    fresh = get(emu, "/organization", headers={"Authorization": "Bearer new"})
    assert fresh.status_code == 200
    assert get(emu, "/organization").status_code == 401


# -- $batch ------------------------------------------------------------------------------------


def batch(emu: GraphEmulator, requests_: list[dict[str, Any]]) -> requests.Response:
    return send(emu, "POST", "/$batch", {"requests": requests_})


def test_batch_shuffles_and_routes(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    reqs = [
        {"id": "1", "method": "GET", "url": f"/servicePrincipals/{RECRUITEE_SP_ID}"},
        {"id": "2", "method": "GET", "url": "organization"},
        {"id": "3", "method": "GET", "url": "/users/nobody@contoso.example"},
        {
            "id": "4",
            "method": "GET",
            "url": f"/servicePrincipals?$filter=appId eq '{RECRUITEE_APP_ID}'",
        },
    ]
    resp = batch(emu, reqs)
    assert resp.status_code == 200
    responses = resp.json()["responses"]
    assert [r["id"] for r in responses] != ["1", "2", "3", "4"]
    by_id = {r["id"]: r for r in responses}
    assert set(by_id) == {"1", "2", "3", "4"}
    assert by_id["1"]["status"] == 200
    assert by_id["1"]["body"]["id"] == RECRUITEE_SP_ID
    assert by_id["2"]["body"]["value"][0]["displayName"] == "Contoso"
    assert by_id["3"]["status"] == 404
    assert by_id["3"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert [sp["id"] for sp in by_id["4"]["body"]["value"]] == [RECRUITEE_SP_ID]
    assert by_id["1"]["headers"]["Content-Type"].startswith("application/json")
    inner = [r for r in emu.requests if r.batch_inner]
    assert len(inner) == 4
    assert all(r.had_auth for r in inner)
    assert inner[1].target == "/v1.0/organization"


def test_batch_inner_throttle(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    fault = emu.add_fault(Fault.throttle(r"/organization", retry_after="0.01", scope="batch"))
    reqs = [
        {"id": "a", "method": "GET", "url": "/organization"},
        {"id": "b", "method": "GET", "url": "/policies/authorizationPolicy"},
    ]
    by_id = {r["id"]: r for r in batch(emu, reqs).json()["responses"]}
    assert by_id["a"]["status"] == 429
    assert by_id["a"]["headers"]["Retry-After"] == "0.01"
    assert by_id["a"]["body"]["error"]["code"] == "TooManyRequests"
    assert by_id["b"]["status"] == 200
    assert fault.fired == 1
    again = {r["id"]: r for r in batch(emu, reqs).json()["responses"]}
    assert again["a"]["status"] == 200
    # A batch-scoped fault does not touch top-level requests.
    emu.add_fault(Fault.throttle(r"/organization", scope="batch"))
    assert get(emu, "/organization").status_code == 200


@pytest.mark.parametrize(
    "reqs",
    [
        [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(21)],
        [
            {"id": "x", "method": "GET", "url": "/organization"},
            {"id": "X", "method": "GET", "url": "/organization"},
        ],
        [{"id": "1", "method": "POST", "url": "/oauth2PermissionGrants", "body": {}}],
        [],
    ],
    ids=["over-20", "duplicate-ids", "body-without-content-type", "empty"],
)
def test_batch_rejected_whole(graph_emulator: GraphEmulator, reqs: list[dict[str, Any]]) -> None:
    assert_error(batch(graph_emulator, reqs), 400, "BadRequest")


def test_batch_depends_on(graph_emulator: GraphEmulator) -> None:
    reqs: list[dict[str, Any]] = [
        {"id": "1", "method": "GET", "url": "/users/nobody@contoso.example"},
        {"id": "2", "method": "GET", "url": "/organization", "dependsOn": ["1"]},
    ]
    by_id = {r["id"]: r for r in batch(graph_emulator, reqs).json()["responses"]}
    assert by_id["2"]["status"] == 424


def test_keep_alive_round_trips_are_fast(
    graph_emulator: GraphEmulator, graph_session: requests.Session
) -> None:
    url = f"{graph_emulator.url}/v1.0/organization"
    graph_session.get(url, timeout=TIMEOUT)
    start = time.monotonic()
    for _ in range(20):
        assert graph_session.get(url, timeout=TIMEOUT).status_code == 200
    assert time.monotonic() - start < 0.4  # Nagle + delayed ACK would cost ~40 ms each


def test_latency_is_per_http_request(graph_emulator_factory: EmulatorFactory) -> None:
    emu = graph_emulator_factory(latency_ms=60)
    start = time.monotonic()
    get(emu, "/organization")
    single = time.monotonic() - start
    start = time.monotonic()
    batch(emu, [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(5)])
    batched = time.monotonic() - start
    assert single >= 0.06
    assert batched >= 0.06
    assert batched < 0.06 * 3  # one round trip, not five
    stamps = [r.timestamp for r in emu.requests]
    assert stamps == sorted(stamps)


# -- faults ------------------------------------------------------------------------------------


def test_throttle_then_success(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    emu.add_fault(Fault.throttle(r"/servicePrincipals", count=2, retry_after="0.01"))
    first = get(emu, "/servicePrincipals")
    assert_error(first, 429, "TooManyRequests")
    assert first.headers["Retry-After"] == "0.01"
    assert get(emu, "/servicePrincipals").status_code == 429
    assert get(emu, "/servicePrincipals").status_code == 200
    emu.add_fault(Fault.throttle(r"/organization", retry_after=None))
    no_header = get(emu, "/organization")
    assert no_header.status_code == 429
    assert "Retry-After" not in no_header.headers


def test_fault_skip_and_method(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    emu.add_fault(Fault.server_error(r"/organization", status=503, skip=1, method="GET"))
    assert get(emu, "/organization").status_code == 200
    assert_error(get(emu, "/organization"), 503, "serviceNotAvailable")
    assert get(emu, "/organization").status_code == 200


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(graph_emulator: GraphEmulator, status: int) -> None:
    graph_emulator.add_fault(Fault.server_error(r"/policies/", status=status))
    resp = get(graph_emulator, "/policies/authorizationPolicy")
    assert resp.status_code == status
    assert resp.json()["error"]["code"]
    assert get(graph_emulator, "/policies/authorizationPolicy").status_code == 200


def test_read_timeout(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    emu.add_fault(Fault.timeout(r"/organization", seconds=0.5))
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(emu, "/organization", timeout=0.1)
    assert get(emu, "/organization").status_code == 200


def test_connection_reset(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    emu.add_fault(Fault.reset(r"/organization"))
    with pytest.raises(requests.exceptions.ConnectionError):
        get(emu, "/organization")
    assert get(emu, "/organization").status_code == 200


def test_broken_bodies(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    emu.add_fault(Fault.truncated(r"/organization"))
    truncated = get(emu, "/organization")
    assert truncated.status_code == 200
    with pytest.raises(requests.exceptions.JSONDecodeError):
        truncated.json()
    emu.add_fault(Fault.non_json(r"/organization"))
    html = get(emu, "/organization")
    assert html.status_code == 200
    assert html.headers["Content-Type"] == "text/html"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        html.json()
    emu.add_fault(Fault.short_body(r"/organization"))
    with pytest.raises(requests.exceptions.RequestException):
        get(emu, "/organization")
    assert get(emu, "/organization").json()["value"]


def test_repeating_next_link(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    emu.add_fault(Fault.repeat_next_link(r"/identity/conditionalAccess/policies", count=None))
    first = get(emu, "/identity/conditionalAccess/policies", {"$top": "5"})
    link = first.json()["@odata.nextLink"]
    assert link == first.url
    again = requests.get(link, headers=AUTH, timeout=TIMEOUT)
    assert again.json()["@odata.nextLink"] == link


def test_foreign_next_link(graph_emulator_factory: EmulatorFactory) -> None:
    emu = graph_emulator_factory(page_size=1)
    emu.add_fault(Fault.foreign_next_link(r"/identity/conditionalAccess/policies"))
    link = get(emu, "/identity/conditionalAccess/policies").json()["@odata.nextLink"]
    parts = urlsplit(link)
    assert parts.netloc != urlsplit(emu.url).netloc
    assert parts.hostname != "127.0.0.1"
    assert "$skiptoken=" in link
    # A careless client that follows it with the token is seen by the foreign listener.
    assert requests.get(link, headers=AUTH, timeout=TIMEOUT).status_code == 200
    requests.get(link, timeout=TIMEOUT)
    assert [r.had_auth for r in emu.foreign_requests] == [True, False]
    assert emu.foreign_requests[0].authorization == f"Bearer {TOKEN}"


# -- mutations ---------------------------------------------------------------------------------


def test_create_and_patch_grant(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    body = {
        "clientId": RECRUITEE_OLD_SP_ID,
        "consentType": "AllPrincipals",
        "principalId": None,
        "resourceId": GRAPH_SP_ID,
        "scope": "openid offline_access",
    }
    created = send(emu, "POST", "/oauth2PermissionGrants", body)
    assert created.status_code == 201
    grant = created.json()
    assert grant["id"]
    assert grant["scope"] == "openid offline_access"
    assert_error(
        send(emu, "POST", "/oauth2PermissionGrants", body),
        409,
        "Request_MultipleObjectsWithSameKeyValue",
    )
    patched = send(emu, "PATCH", f"/oauth2PermissionGrants/{grant['id']}", {"scope": "openid"})
    assert patched.status_code == 204
    stored = emu.tenant.grant(grant["id"])
    assert stored is not None
    assert stored["scope"] == "openid"
    listed = values(
        get(emu, "/oauth2PermissionGrants", {"$filter": f"clientId eq '{RECRUITEE_OLD_SP_ID}'"})
    )
    assert [g["scope"] for g in listed] == ["openid"]
    bad = send(emu, "PATCH", f"/oauth2PermissionGrants/{grant['id']}", {"consentType": "x"})
    assert_error(bad, 400, "Request_BadRequest")
    assert_error(
        send(emu, "PATCH", "/oauth2PermissionGrants/nope", {"scope": "x"}),
        404,
        "Request_ResourceNotFound",
    )


@pytest.mark.parametrize(
    "body",
    [
        {"clientId": RECRUITEE_SP_ID, "consentType": "Principal", "resourceId": GRAPH_SP_ID},
        {"clientId": "unknown", "consentType": "AllPrincipals", "resourceId": GRAPH_SP_ID},
        {"clientId": RECRUITEE_SP_ID, "consentType": "Everyone", "resourceId": GRAPH_SP_ID},
        {"consentType": "AllPrincipals", "resourceId": GRAPH_SP_ID},
    ],
)
def test_create_grant_validation(graph_emulator: GraphEmulator, body: dict[str, Any]) -> None:
    assert_error(
        send(graph_emulator, "POST", "/oauth2PermissionGrants", body), 400, "Request_BadRequest"
    )


def test_patch_service_principal(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    resp = send(emu, "PATCH", f"/servicePrincipals/{RECRUITEE_OLD_SP_ID}", {"accountEnabled": True})
    assert resp.status_code == 204
    stored = emu.tenant.service_principal(RECRUITEE_OLD_SP_ID)
    assert stored is not None
    assert stored["accountEnabled"] is True
    assert get(emu, f"/servicePrincipals/{RECRUITEE_OLD_SP_ID}").json()["accountEnabled"] is True
    ro = send(emu, "PATCH", f"/servicePrincipals/{RECRUITEE_SP_ID}", {"appId": "x"})
    assert_error(ro, 400, "Request_BadRequest")


def test_assign_app_role(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    body = {
        "principalId": ALICE_ID,
        "resourceId": RECRUITEE_SP_ID,
        "appRoleId": "00000000-0000-0000-0000-000000000000",
    }
    path = f"/servicePrincipals/{RECRUITEE_SP_ID}/appRoleAssignedTo"
    created = send(emu, "POST", path, body)
    assert created.status_code == 201
    assert created.json()["principalType"] == "User"
    assert created.json()["principalDisplayName"] == "Alice Example"
    assert {a["principalId"] for a in emu.tenant.assignments_for(RECRUITEE_SP_ID)} == {
        SALES_GROUP_ID,
        ALICE_ID,
    }
    assert_error(send(emu, "POST", path, body), 400, "Request_BadRequest")
    wrong = dict(body, resourceId=GRAPH_SP_ID, principalId=ALL_STAFF_GROUP_ID)
    assert_error(send(emu, "POST", path, wrong), 400, "Request_BadRequest")


# -- standalone --------------------------------------------------------------------------------


def test_standalone_serve(tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    path.write_text(dump_snapshot(make_snapshot()), encoding="utf-8")
    done = threading.Event()
    out = io.StringIO()
    thread = threading.Thread(
        target=serve, args=(["--snapshot", str(path), "--latency-ms", "1"], done, out), daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + 3
        while not out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        url = out.getvalue().strip()
        assert url.startswith("http://127.0.0.1:")
        resp = requests.get(f"{url}/v1.0/organization", headers=AUTH, timeout=TIMEOUT)
        assert resp.status_code == 200
    finally:
        done.set()
        thread.join(timeout=3)
    assert not thread.is_alive()


# -- where real Graph is strict (tests/emulator/graph_rules.py) --------------------------------

EVENTUAL = {**AUTH, "ConsistencyLevel": "eventual"}


def get_beta(
    emu: GraphEmulator, path: str, params: dict[str, str] | None = None, **kw: Any
) -> requests.Response:
    kw.setdefault("headers", AUTH)
    kw.setdefault("timeout", TIMEOUT)
    return requests.get(f"{emu.url}/beta{path}", params=params, **kw)


@pytest.mark.parametrize("segment", ["transitiveMemberOf", "memberOf"])
@pytest.mark.parametrize(
    ("params", "headers"),
    [({}, AUTH), ({"$count": "true"}, AUTH), ({}, EVENTUAL), ({"$count": "false"}, EVENTUAL)],
    ids=["neither", "count-only", "header-only", "count-false"],
)
def test_odata_cast_needs_both_advanced_query_parameters(
    graph_emulator: GraphEmulator, segment: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    path = f"/users/{ALICE_ID}/{segment}/microsoft.graph.group"
    assert_error(
        get(graph_emulator, path, params, headers=headers), 400, "Request_UnsupportedQuery"
    )
    ok = values(get(graph_emulator, path, {"$count": "true"}, headers=EVENTUAL))
    assert SALES_GROUP_ID in {g["id"] for g in ok}
    assert ALL_STAFF_GROUP_ID in {g["id"] for g in ok} or segment == "memberOf"


@pytest.mark.parametrize(
    ("filter_", "excluded"),
    [
        ("displayName ne 'Recruitee'", "Recruitee"),
        ("endswith(displayName,'ruitee')", "Microsoft Graph"),
        ("not(startswith(displayName,'Microsoft'))", "Microsoft Graph"),
    ],
)
def test_advanced_filter_operators_need_both_parameters(
    graph_emulator: GraphEmulator, filter_: str, excluded: str
) -> None:
    emu = graph_emulator
    refused = get(emu, "/servicePrincipals", {"$filter": filter_}, headers=EVENTUAL)
    assert_error(refused, 400, "Request_UnsupportedQuery")
    refused = get(emu, "/servicePrincipals", {"$filter": filter_, "$count": "true"})
    assert_error(refused, 400, "Request_UnsupportedQuery")
    found = values(
        get(emu, "/servicePrincipals", {"$filter": filter_, "$count": "true"}, headers=EVENTUAL)
    )
    assert found
    assert excluded not in {sp["displayName"] for sp in found}


def test_basic_filters_need_no_advanced_parameters(graph_emulator: GraphEmulator) -> None:
    found = values(
        get(graph_emulator, "/servicePrincipals", {"$filter": f"appId eq '{RECRUITEE_APP_ID}'"})
    )
    assert [sp["appId"] for sp in found] == [RECRUITEE_APP_ID]


def test_advanced_operators_are_refused_outside_directory_objects(
    graph_emulator: GraphEmulator,
) -> None:
    refused = get(
        graph_emulator,
        "/identity/conditionalAccess/policies",
        {"$filter": "state ne 'enabled'", "$count": "true"},
        headers=EVENTUAL,
    )
    assert_error(refused, 400, "Request_UnsupportedQuery")


def test_search_needs_consistency_level(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    query = {"$search": '"displayName:Recrui"'}
    assert_error(get(emu, "/servicePrincipals", query), 400, "Request_UnsupportedQuery")
    found = values(get(emu, "/servicePrincipals", query, headers=EVENTUAL))
    assert found
    assert all(sp["displayName"].casefold().startswith("recruitee") for sp in found)
    assert_error(
        get(emu, "/servicePrincipals", {"$search": "displayName:x"}, headers=EVENTUAL),
        400,
        "Request_BadRequest",
    )


def test_consent_requests_list_without_user_requests(graph_emulator: GraphEmulator) -> None:
    emu = graph_emulator
    path = "/identityGovernance/appConsent/appConsentRequests"
    listed = values(get(emu, path))
    assert listed
    assert all(r["userConsentRequests"] == [] for r in listed)
    pending = values(
        get(emu, path, {"$filter": "userConsentRequests/any(u:u/status eq 'InProgress')"})
    )
    assert [r["appId"] for r in pending] == [RECRUITEE_APP_ID]
    assert pending[0]["userConsentRequests"] == []
    assert_error(get(emu, path, {"$expand": "userConsentRequests"}), 400, "Request_BadRequest")
    one = pending[0]["id"]
    assert get(emu, f"{path}/{one}").json()["userConsentRequests"] == []
    asked = values(get(emu, f"{path}/{one}/userConsentRequests"))
    assert [(u["id"], u["status"], u["reason"]) for u in asked] == [
        ("ucr-1", "InProgress", "need mail sync")
    ]
    waiting = values(
        get(emu, f"{path}/{one}/userConsentRequests", {"$filter": "status eq 'InProgress'"})
    )
    assert [u["id"] for u in waiting] == ["ucr-1"]
    assert_error(
        get(emu, f"{path}/no-such-request/userConsentRequests"), 404, "Request_ResourceNotFound"
    )


def _tenant_with_beta_fields() -> Any:
    raw = demo_snapshot_dict()
    raw["permission_grant_policies"]["data"][0]["includes"][0][
        "certifiedClientApplicationsOnly"
    ] = True
    return make_snapshot(permission_grant_policies=raw["permission_grant_policies"])


def test_v1_drops_beta_only_properties_and_beta_keeps_them(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    emu = graph_emulator_factory(_tenant_with_beta_fields())
    policy = "/policies/permissionGrantPolicies/microsoft-user-default-low"
    for path in (policy, "/policies/permissionGrantPolicies"):
        body = get(emu, path).json()
        sets = body["includes"] if "includes" in body else body["value"][0]["includes"]
        assert "certifiedClientApplicationsOnly" not in sets[0]
        assert "scopeSensitivityLabels" not in sets[0]
    assert "certifiedClientApplicationsOnly" not in values(get(emu, f"{policy}/includes"))[0]
    beta = get_beta(emu, policy).json()["includes"][0]
    assert beta["certifiedClientApplicationsOnly"] is True
    assert beta["scopeSensitivityLabels"]["labelKind"] == "all"
    assert values(get_beta(emu, f"{policy}/includes"))[0]["certifiedClientApplicationsOnly"]


def _tenant_with_background_sign_in() -> Any:
    raw = demo_snapshot_dict()
    rows = raw["sign_ins"]["data"]
    background = {**rows[0], "id": "99999999-0000-4000-8000-00000000bbbb", "isInteractive": False}
    background["status"] = {"errorCode": 70043, "failureReason": "Sign-in frequency"}
    rows.append(background)
    return make_snapshot(sign_ins=raw["sign_ins"])


def test_sign_ins_v1_interactive_only_beta_background_on_request(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    emu = graph_emulator_factory(_tenant_with_background_sign_in())
    v1 = values(get(emu, "/auditLogs/signIns"))
    assert len(v1) == 3
    assert all(s["isInteractive"] for s in v1)
    assert 70043 not in {s["status"]["errorCode"] for s in v1}
    non_interactive = "signInEventTypes/any(t: t eq 'nonInteractiveUser')"
    assert_error(
        get(emu, "/auditLogs/signIns", {"$filter": non_interactive}),
        400,
        "Request_UnsupportedQuery",
    )
    beta_default = values(get_beta(emu, "/auditLogs/signIns"))
    assert {s["signInEventTypes"][0] for s in beta_default} == {"interactiveUser"}
    background = values(
        get_beta(
            emu,
            "/auditLogs/signIns",
            {"$filter": f"appId eq '{RECRUITEE_APP_ID}' and {non_interactive}"},
        )
    )
    assert [(s["status"]["errorCode"], s["signInEventTypes"]) for s in background] == [
        (70043, ["nonInteractiveUser"])
    ]


def _tenant_with_evolved_enums() -> Any:
    raw = demo_snapshot_dict()
    policy = raw["conditional_access_policies"]["data"][0]
    policy["grantControls"] = {"operator": "OR", "builtInControls": ["mfa", "riskRemediation"]}
    policy["conditions"]["platforms"] = {"includePlatforms": ["linux", "windows"]}
    return make_snapshot(conditional_access_policies=raw["conditional_access_policies"])


def test_enum_members_after_unknown_future_value_need_prefer(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    emu = graph_emulator_factory(_tenant_with_evolved_enums())
    path = "/identity/conditionalAccess/policies"
    plain = values(get(emu, path))[0]
    assert plain["grantControls"]["builtInControls"] == ["mfa", "unknownFutureValue"]
    assert plain["conditions"]["platforms"]["includePlatforms"] == ["unknownFutureValue", "windows"]
    prefer = {**AUTH, "Prefer": "include-unknown-enum-members"}
    full = values(get(emu, path, headers=prefer))[0]
    assert full["grantControls"]["builtInControls"] == ["mfa", "riskRemediation"]
    assert full["conditions"]["platforms"]["includePlatforms"] == ["linux", "windows"]
    one = get(emu, f"{path}/{plain['id']}").json()
    assert one["grantControls"]["builtInControls"] == ["mfa", "unknownFutureValue"]


def test_prefer_header_inside_batch(graph_emulator_factory: EmulatorFactory) -> None:
    emu = graph_emulator_factory(_tenant_with_evolved_enums())
    path = "/identity/conditionalAccess/policies"
    body = {
        "requests": [
            {"id": "1", "method": "GET", "url": path},
            {
                "id": "2",
                "method": "GET",
                "url": path,
                "headers": {"Prefer": "include-unknown-enum-members"},
            },
        ]
    }
    resp = requests.post(f"{emu.url}/v1.0/$batch", json=body, headers=AUTH, timeout=TIMEOUT)
    answers = {a["id"]: a["body"]["value"][0] for a in resp.json()["responses"]}
    assert "riskRemediation" not in answers["1"]["grantControls"]["builtInControls"]
    assert "riskRemediation" in answers["2"]["grantControls"]["builtInControls"]


def test_nulls_mode_answers_null_where_the_csdl_allows(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    plain = graph_emulator_factory()
    emu = graph_emulator_factory(nulls=True)
    signin = values(get(emu, "/auditLogs/signIns"))[0]
    assert signin["status"]["failureReason"] is None
    assert signin["status"]["additionalDetails"] is None
    assert (
        signin["status"]["errorCode"]
        == values(get(plain, "/auditLogs/signIns"))[0]["status"]["errorCode"]
    )
    sets = values(get_beta(emu, "/policies/permissionGrantPolicies"))[0]["includes"]
    assert sets[0]["clientApplicationIds"] is None
    assert sets[0]["permissionClassification"] == "low"
    ca = values(get(emu, "/identity/conditionalAccess/policies"))
    assert all(p["conditions"]["platforms"] is None for p in ca)
    assert all(p["conditions"]["locations"] is None for p in ca)
    assert all(p["conditions"]["users"] is not None for p in ca)
    assert any(p["sessionControls"] is None for p in ca)
    audits = values(get(emu, "/auditLogs/directoryAudits"))
    targets = [t for a in audits for t in a["targetResources"]]
    assert any(t["modifiedProperties"] is None for t in targets)
    assert all(t["modifiedProperties"] is None or t["modifiedProperties"] for t in targets)


# -- nulls everywhere: where only the CSDL allows null (graph_rules.NULLS_EVERYWHERE) ---------


def _three_modes(factory: EmulatorFactory) -> tuple[GraphEmulator, GraphEmulator, GraphEmulator]:
    """The demo tenant plain, with real Graph's nulls, and with nulls wherever the CSDL allows."""
    return factory(), factory(nulls=True), factory(nulls="all")


def _without(item: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in names}


def test_nulls_all_answers_null_for_permission_grant_policies_assigned(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    plain, seen, everywhere = _three_modes(graph_emulator_factory)

    def perms(emu: GraphEmulator) -> dict[str, Any]:
        resp = get(emu, "/policies/authorizationPolicy")
        assert resp.status_code == 200, resp.text
        found: dict[str, Any] = resp.json()["defaultUserRolePermissions"]
        return found

    assert perms(plain)["permissionGrantPoliciesAssigned"]
    assert perms(seen) == perms(plain)
    assert perms(everywhere)["permissionGrantPoliciesAssigned"] is None
    name = "permissionGrantPoliciesAssigned"
    assert _without(perms(everywhere), name) == _without(perms(plain), name)


def test_nulls_all_answers_null_for_a_grants_consent_type(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    plain, seen, everywhere = _three_modes(graph_emulator_factory)
    grants = values(get(plain, "/oauth2PermissionGrants"))
    assert {g["consentType"] for g in grants} == {"AllPrincipals", "Principal"}
    assert values(get(seen, "/oauth2PermissionGrants")) == grants
    nulled = values(get(everywhere, "/oauth2PermissionGrants"))
    assert [g["consentType"] for g in nulled] == [None] * len(grants)
    assert [_without(g, "consentType") for g in nulled] == [
        _without(g, "consentType") for g in grants
    ]
    by_sp = values(get(everywhere, f"/servicePrincipals/{RECRUITEE_SP_ID}/oauth2PermissionGrants"))
    assert by_sp
    assert {g["consentType"] for g in by_sp} == {None}


def test_nulls_all_answers_null_for_an_assignments_principal(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    plain, seen, everywhere = _three_modes(graph_emulator_factory)
    path = f"/servicePrincipals/{RECRUITEE_SP_ID}/appRoleAssignedTo"
    principal = ("principalId", "principalType", "principalDisplayName")
    assigned = values(get(plain, path))
    assert assigned
    assert all(a[name] for a in assigned for name in principal)
    assert values(get(seen, path)) == assigned
    nulled = values(get(everywhere, path))
    assert [[a[name] for name in principal] for a in nulled] == [[None] * 3] * len(assigned)
    assert [_without(a, *principal) for a in nulled] == [_without(a, *principal) for a in assigned]


def test_nulls_all_answers_null_for_a_scopes_value(graph_emulator_factory: EmulatorFactory) -> None:
    plain, seen, everywhere = _three_modes(graph_emulator_factory)
    path = f"/servicePrincipals(appId='{GRAPH_APP_ID}')"

    def scopes(emu: GraphEmulator) -> list[dict[str, Any]]:
        resp = get(emu, path)
        assert resp.status_code == 200, resp.text
        found: list[dict[str, Any]] = resp.json()["oauth2PermissionScopes"]
        return found

    assert all(s["value"] for s in scopes(plain))
    assert scopes(seen) == scopes(plain)
    assert [s["value"] for s in scopes(everywhere)] == [None] * len(scopes(plain))
    assert [_without(s, "value") for s in scopes(everywhere)] == [
        _without(s, "value") for s in scopes(plain)
    ]


def test_nulls_all_answers_null_for_a_classifications_fields(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    plain, seen, everywhere = _three_modes(graph_emulator_factory)
    path = f"/servicePrincipals/{GRAPH_SP_ID}/delegatedPermissionClassifications"
    fields = ("classification", "permissionId", "permissionName")
    listed = values(get(plain, path))
    assert listed
    assert all(c[name] for c in listed for name in fields)
    assert values(get(seen, path)) == listed
    nulled = values(get(everywhere, path))
    assert [[c[name] for name in fields] for c in nulled] == [[None] * 3] * len(listed)
    assert [c["id"] for c in nulled] == [c["id"] for c in listed]


def test_nulls_all_keeps_the_nulls_real_graph_sends(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    everywhere = graph_emulator_factory(nulls="all")
    signin = values(get(everywhere, "/auditLogs/signIns"))[0]
    assert signin["status"]["failureReason"] is None
    ca = values(get(everywhere, "/identity/conditionalAccess/policies"))
    assert all(p["conditions"]["platforms"] is None for p in ca)


@pytest.mark.parametrize(
    ("argv", "expected"), [([], False), (["--nulls"], True), (["--nulls", "all"], "all")]
)
def test_command_line_nulls_modes(argv: list[str], expected: object) -> None:
    from .__main__ import build_parser

    assert build_parser().parse_args(["--snapshot", "t.json", *argv]).nulls == expected
