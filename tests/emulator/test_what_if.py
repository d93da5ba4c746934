"""The emulator's ``POST /identity/conditionalAccess/evaluate`` (what_if.py), driven over HTTP.

Each rule is the documented behaviour (conditionalaccessroot-evaluate.md, signinconditions.md,
whatifanalysisresult.md): a malformed body is 400 with Graph's error envelope; targeting
follows the tenant (nested groups, roles, the Office365 group, client app types); a condition
the request gives no detail for is ``notEnoughInformation``; ``appliedPoliciesOnly`` filters.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest
import requests

from .fixtures import (
    ALICE_ID,
    ALL_STAFF_GROUP_ID,
    GLOBAL_READER_TEMPLATE,
    RECRUITEE_APP_ID,
    TOKEN,
    EmulatorFactory,
    demo_snapshot_dict,
    make_snapshot,
)

EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
DIRECTORY = "00000002-0000-0000-c000-000000000000"
PATH = "/v1.0/identity/conditionalAccess/evaluate"


def _policy(name: str, conditions: dict[str, Any], state: str = "enabled") -> dict[str, Any]:
    base: dict[str, Any] = {
        "applications": {"includeApplications": ["All"]},
        "users": {"includeUsers": ["All"]},
        "clientAppTypes": ["all"],
    }
    base.update(conditions)
    return {
        "id": f"77777777-0000-4000-8000-{zlib.crc32(name.encode()):012d}",
        "displayName": name,
        "state": state,
        "conditions": base,
        "grantControls": {"operator": "OR", "builtInControls": ["block"]},
    }


POLICIES = [
    _policy("nested group", {"users": {"includeGroups": [ALL_STAFF_GROUP_ID]}}),
    _policy(
        "role excluded",
        {"users": {"includeUsers": ["All"], "excludeRoles": [GLOBAL_READER_TEMPLATE]}},
    ),
    _policy("office365", {"applications": {"includeApplications": ["Office365"]}}),
    _policy("recruitee only", {"applications": {"includeApplications": [RECRUITEE_APP_ID]}}),
    _policy("mobile and desktop", {"clientAppTypes": ["mobileAppsAndDesktopClients"]}),
    _policy("browser", {"clientAppTypes": ["browser"]}),
    _policy(
        "country block",
        {"locations": {"includeLocations": ["11111111-2222-4333-8444-555555555555"]}},
    ),
    _policy("linux", {"platforms": {"includePlatforms": ["linux"]}}),
    _policy("user risk", {"userRiskLevels": ["high"]}),
    _policy("off", {}, state="disabled"),
]


def _body(apps: list[str], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "signInIdentity": {"@odata.type": "#microsoft.graph.userSignIn", "userId": ALICE_ID},
        "signInContext": {
            "@odata.type": "#microsoft.graph.applicationContext",
            "includeApplications": apps,
        },
        "signInConditions": {"clientAppType": "browser"},
        "appliedPoliciesOnly": False,
    }
    body.update(extra)
    return body


def _post(url: str, body: Any) -> requests.Response:
    return requests.post(
        url + PATH, json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )


@pytest.fixture
def url(graph_emulator_factory: EmulatorFactory) -> str:
    snapshot = make_snapshot(conditional_access_policies={"status": "ok", "data": POLICIES})
    return graph_emulator_factory(snapshot).url


def _answers(resp: requests.Response) -> dict[str, tuple[bool, str]]:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["@odata.context"].endswith(
        "$metadata#Collection(microsoft.graph.whatIfAnalysisResult)"
    )
    return {p["displayName"]: (p["policyApplies"], p["analysisReasons"]) for p in body["value"]}


def test_targeting_follows_the_tenant_for_exchange_online(url: str) -> None:
    got = _answers(_post(url, _body([EXCHANGE])))
    assert got == {
        "nested group": (True, "notSet"),  # All staff holds Alice only through Sales
        "role excluded": (False, "users"),  # Alice is a Global Reader
        "office365": (True, "notSet"),  # Exchange Online is in the Office365 group
        "recruitee only": (False, "application"),
        "mobile and desktop": (False, "clientApps"),
        "browser": (True, "notSet"),
        "country block": (False, "notEnoughInformation"),  # no IP address or country given
        "linux": (False, "notEnoughInformation"),  # no device platform given
        "user risk": (False, "userRisk"),  # userRiskLevel defaults to none
        "off": (False, "policyNotEnabled"),
    }


def test_the_directory_is_not_in_the_office365_group_and_an_app_is_targeted_by_app_id(
    url: str,
) -> None:
    assert _answers(_post(url, _body([DIRECTORY])))["office365"] == (False, "application")
    assert _answers(_post(url, _body([RECRUITEE_APP_ID])))["recruitee only"] == (True, "notSet")


def test_a_given_condition_settles_what_was_not_enough_information(url: str) -> None:
    body = _body([EXCHANGE])
    body["signInConditions"] = {"clientAppType": "browser", "devicePlatform": "windows"}
    assert _answers(_post(url, body))["linux"] == (False, "devicePlatform")
    body["signInConditions"] = {"clientAppType": "browser", "userRiskLevel": "high"}
    assert _answers(_post(url, body))["user risk"] == (True, "notSet")


def test_applied_policies_only_leaves_out_the_ones_that_do_not_apply(url: str) -> None:
    got = _answers(_post(url, _body([EXCHANGE], appliedPoliciesOnly=True)))
    assert set(got) == {"nested group", "office365", "browser"}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"signInContext": None}, "'signInContext' must be a JSON object"),
        ({"appliedPoliciesOnly": "yes"}, "'appliedPoliciesOnly' must be a Boolean"),
        ({"extra": 1}, "The parameter 'extra' is not defined"),
        (
            {"signInIdentity": {"@odata.type": "#microsoft.graph.user", "userId": ALICE_ID}},
            "needs an '@odata.type'",
        ),
        (
            {"signInConditions": {"clientAppType": "server"}},
            "'server' is not valid for 'clientAppType'",
        ),
        (
            {"signInConditions": {"ipRange": "10.0.0.0/8"}},
            "The property 'ipRange' does not exist on type 'microsoft.graph.signInConditions'",
        ),
        (
            {
                "signInContext": {
                    "@odata.type": "#microsoft.graph.applicationContext",
                    "includeApplications": [],
                }
            },
            "includeApplications' must be a list of appIds",
        ),
    ],
)
def test_a_malformed_body_is_400_with_graphs_error_envelope(
    url: str, change: dict[str, Any], words: str
) -> None:
    resp = _post(url, {**_body([EXCHANGE]), **change})
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert error["code"] == "BadRequest"
    assert words in error["message"]
    assert error["innerError"]["request-id"]


def test_a_missing_required_parameter_is_400(url: str) -> None:
    body = _body([EXCHANGE])
    del body["signInConditions"]
    resp = _post(url, body)
    assert resp.status_code == 400
    assert "'signInConditions' is required" in resp.json()["error"]["message"]


def test_evaluate_is_a_post_and_every_body_is_recorded(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    emu = graph_emulator_factory()
    resp = requests.get(emu.url + PATH, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert resp.status_code == 405
    _post(emu.url, _body([EXCHANGE]))
    assert emu.tenant.what_if_requests == [_body([EXCHANGE])]


@pytest.mark.parametrize(("status", "code"), [("forbidden", 403), ("not_found", 404)])
def test_a_refused_or_absent_what_if_answers_with_graphs_status(
    graph_emulator_factory: EmulatorFactory, status: str, code: int
) -> None:
    emu = graph_emulator_factory()
    emu.tenant.set_status("conditionalAccessWhatIf", status)
    resp = _post(emu.url, _body([EXCHANGE]))
    assert resp.status_code == code
    assert resp.json()["error"]["code"]


def test_what_if_follows_the_policy_list_when_the_tenant_has_no_licence(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    emu = graph_emulator_factory(
        make_snapshot(conditional_access_policies={"status": "not_licensed"})
    )
    resp = _post(emu.url, _body([EXCHANGE]))
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


def test_answers_a_snapshot_recorded_are_replayed_not_recomputed(
    graph_emulator_factory: EmulatorFactory,
) -> None:
    raw = demo_snapshot_dict()
    recorded = {
        **_policy("said by Microsoft", {}),
        "policyApplies": False,
        "analysisReasons": "users",
    }
    raw["users"][0]["conditional_access_what_if"] = {
        "status": "ok",
        "data": [
            {
                "resource": "exchange_online",
                "include_applications": [EXCHANGE],
                "answer": {"status": "ok", "data": [recorded]},
            },
            {
                "resource": "directory",
                "include_applications": [DIRECTORY],
                "answer": {"status": "forbidden", "permission": "Policy.Read.ConditionalAccess"},
            },
        ],
    }
    emu = graph_emulator_factory(make_snapshot(**raw))
    assert _answers(_post(emu.url, _body([EXCHANGE]))) == {"said by Microsoft": (False, "users")}
    assert _post(emu.url, _body([DIRECTORY])).status_code == 403
    # A question the snapshot did not record is evaluated from the tenant's policies.
    assert set(_answers(_post(emu.url, _body([RECRUITEE_APP_ID])))) == {
        "CA policy 1",
        "CA policy 2",
        "CA policy 3",
    }
