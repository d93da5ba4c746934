"""Graph payloads with missing, null, extra or wrongly typed fields, fed to the collector.

A stub client answers every planned request with a generated body (a mutation of a realistic
answer, or arbitrary JSON); collection must always produce a TenantSnapshot -- a bad answer
becomes that part's ``error`` status -- and evaluation of it must not raise.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from consent_audit.evaluate import evaluate
from consent_audit.graph_objects import (
    ConditionalAccessPolicy,
    OAuth2PermissionGrant,
    ServicePrincipal,
)
from consent_audit.live.collector import collect_with
from consent_audit.live.graph_client import GraphCall, Outcome
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import PartStatus, TenantSnapshot
from tests.emulator.fixtures import demo_snapshot_dict
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import json_values, mutated

DEMO = demo_snapshot_dict()
APP = DEMO["recruitee_apps"]["data"][0]
USER = DEMO["users"][0]["user"]["data"]


def _values(items: list[Any]) -> dict[str, Any]:
    return {"value": items}


REALISTIC: dict[str, dict[str, Any]] = {
    "apps_by_name": _values([APP["service_principal"]]),
    "graph_sp": DEMO["graph_service_principal"]["data"],
    "classifications": _values(DEMO["delegated_permission_classifications"]["data"]),
    "authorization_policy": DEMO["authorization_policy"]["data"],
    "permission_grant_policies": _values(DEMO["permission_grant_policies"]["data"]),
    "admin_consent_request_policy": DEMO["admin_consent_request_policy"]["data"],
    "conditional_access": _values(DEMO["conditional_access_policies"]["data"]),
    "consent_requests": _values(DEMO["app_consent_requests"]["data"]),
    "organization": _values(
        [
            {
                "id": DEMO["tenant"]["id"],
                "verifiedDomains": [{"name": "c.example", "isDefault": True}],
            }
        ]
    ),
    "user": {"id": USER["id"], "userPrincipalName": USER["user_principal_name"]},
    "user_member_of": _values(
        [{"@odata.type": "#microsoft.graph.group", "id": USER["member_of_group_ids"][0]}]
    ),
    "user_groups": _values([{"id": g} for g in USER["transitive_member_of_group_ids"]]),
    "grants_0": _values(APP["oauth2_permission_grants"]["data"]),
    "grants_all_0": _values(APP["oauth2_permission_grants"]["data"][:1]),
    "grants_user_0": _values(APP["oauth2_permission_grants"]["data"][1:]),
    "assigned_0": _values(APP["app_role_assigned_to"]["data"]),
    "audits": _values(DEMO["directory_audits"]["data"]),
    "signins_0": _values(DEMO["sign_ins"]["data"]),
}


class StubClient:
    """Quacks like GraphClient: ``root`` and ``run(calls) -> {id: body}``."""

    root = "http://stub.invalid"

    def __init__(self, bodies: dict[str, Any]) -> None:
        self.bodies = bodies

    def run(self, calls: list[GraphCall]) -> dict[str, Outcome]:
        # Like GraphClient, every answer is a fresh object the collector may consume.
        return {c.id: copy.deepcopy(self.bodies.get(c.id, REALISTIC.get(c.id, {}))) for c in calls}


def _key(call_id: str) -> str:
    return call_id if call_id in REALISTIC else call_id.rsplit("_", 1)[0] + "_0"


def _bodies(body: dict[str, Any]) -> st.SearchStrategy[Any]:
    junk_rows = st.fixed_dictionaries({"value": st.lists(json_values, max_size=3)})
    options = [mutated(body, max_mutations=3), json_values, junk_rows, st.just(body)]
    if body.get("value"):
        row = body["value"][0]
        options.append(st.lists(mutated(row), min_size=1, max_size=2).map(_values))
    return st.one_of(options)


body_for_key = {key: _bodies(body) for key, body in REALISTIC.items()}


@st.composite
def answers(draw: st.DrawFn) -> dict[str, Any]:
    """Mutate the answers of one to three requests; the rest stay realistic."""
    keys = draw(st.lists(st.sampled_from(sorted(REALISTIC)), min_size=1, max_size=3, unique=True))
    return {key: draw(body_for_key[key]) for key in keys}


def _collect(bodies: dict[str, Any], user: str | None) -> TenantSnapshot:
    client = StubClient(bodies)
    options = LiveOptions(user=user, with_logs=True)
    return collect_with(client, load_manifest(), options)  # type: ignore[arg-type]


@settings(FUZZ, max_examples=300)
@given(answers(), st.sampled_from([None, USER["user_principal_name"]]))
def test_collector_survives_any_payload(bodies: dict[str, Any], user: str | None) -> None:
    snapshot = _collect(bodies, user)
    assert isinstance(snapshot, TenantSnapshot)
    # what was collected must survive a snapshot round trip and evaluate
    TenantSnapshot.model_validate(snapshot.model_dump(mode="json", by_alias=True))
    evaluate(snapshot, load_manifest(), user=user)


def test_realistic_payloads_collect_cleanly() -> None:
    snapshot = _collect({}, USER["user_principal_name"])
    assert snapshot.conditional_access_policies.status is PartStatus.OK
    assert snapshot.recruitee_apps.data
    assert snapshot.users[0].user.status is PartStatus.OK


@FUZZ
@given(
    st.sampled_from([ServicePrincipal, OAuth2PermissionGrant, ConditionalAccessPolicy]).flatmap(
        lambda model: st.tuples(
            st.just(model),
            mutated(
                {
                    ServicePrincipal: APP["service_principal"],
                    OAuth2PermissionGrant: APP["oauth2_permission_grants"]["data"][0],
                    ConditionalAccessPolicy: DEMO["conditional_access_policies"]["data"][0],
                }[model]
            ),
        )
    )
)
def test_graph_objects_validate_or_raise_validation_error(pair: tuple[Any, Any]) -> None:
    from pydantic import ValidationError

    model, raw = pair
    with contextlib.suppress(ValidationError):
        model.model_validate(raw)
