"""Microsoft's published Graph schema decides what the collector and the models may assume.

The vendored subset (graph_schema_subset.json, from microsoftgraph/msgraph-metadata, see
vendor.py) is checked against the collector's own request plan, every Graph model and the enum
members the code compares with (checker.py). Mistakes are injected to prove the check bites.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel, create_model

from consent_audit import graph_objects as g
from consent_audit.live.plan import collection_plan
from consent_audit.manifest import load_manifest
from tests.graph_schema import checker, deviations

SRC = Path(__file__).resolve().parents[2] / "src" / "consent_audit"
MODEL_TYPES: dict[type, str] = {
    g.ServicePrincipal: "servicePrincipal",
    g.OAuth2PermissionGrant: "oAuth2PermissionGrant",
    g.AppRoleAssignment: "appRoleAssignment",
    g.AuthorizationPolicy: "authorizationPolicy",
    g.PermissionGrantPolicy: "permissionGrantPolicy",
    g.DelegatedPermissionClassification: "delegatedPermissionClassification",
    g.AdminConsentRequestPolicy: "adminConsentRequestPolicy",
    g.AppConsentRequest: "appConsentRequest",
    g.UserConsentRequest: "userConsentRequest",
    g.ConditionalAccessPolicy: "conditionalAccessPolicy",
    g.DirectoryAudit: "directoryAudit",
    g.SignIn: "signIn",
    g.WhatIfAnalysisResult: "whatIfAnalysisResult",
    g.GroupSetting: "groupSetting",
}
"""Each Graph model read straight from a response, and the Graph type it is read as (the
versions come from the plan: the requests whose path addresses that type)."""


ENUM_READERS = ("evaluate",)
"""Where Graph values are interpreted: string literals compared with an enum field there are
the members the tool handles (elsewhere report and snapshot models have their own ``state``
and ``mode``, which are not Graph enums)."""


def _sources() -> dict[str, str]:
    return {
        str(p.relative_to(SRC.parent)): p.read_text("utf-8")
        for folder in ENUM_READERS
        for p in sorted((SRC / folder).rglob("*.py"))
    }


def _problems(**changes: object) -> list[str]:
    args: dict[str, object] = {
        "requests": checker.requests_of(collection_plan(load_manifest())),
        "roots": MODEL_TYPES,
        "all_models": checker.graph_models(g.GraphObject),
        "sources": _sources(),
    }
    args.update(changes)
    return checker.problems(**args)  # type: ignore[arg-type]


def test_the_collector_and_models_match_microsofts_schema() -> None:
    assert _problems() == []


def _patched_plan(key: str, old: str, new: str) -> list[checker.Request]:
    """The collector's request list with one path edited."""
    requests = checker.requests_of(collection_plan(load_manifest()))
    out = []
    for request in requests:
        if request.key == key:
            assert old in request.path, request.path
            request = replace(request, path=request.path.replace(old, new))
        out.append(request)
    return out


def _patched_model(model: type[BaseModel], **fields: Any) -> dict[str, object]:
    """MODEL_TYPES and the model list with ``model`` replaced by a copy with ``fields``."""
    patched = create_model(model.__name__, __base__=model, **fields)  # type: ignore[call-overload]
    roots = {patched if m is model else m: t for m, t in MODEL_TYPES.items()}
    models = [patched if m is model else m for m in checker.graph_models(g.GraphObject)]
    if model not in MODEL_TYPES:
        roots = dict(MODEL_TYPES)
    return {"roots": roots, "all_models": models}


def test_a_typo_in_a_select_is_caught() -> None:
    problems = _problems(requests=_patched_plan("graph_sp", "displayName", "displayNme"))
    assert problems == [
        "graph_sp (v1.0 /servicePrincipals(appId='00000003-0000-0000-c000-000000000000')"
        "?$select=id,appId,displayNme,oauth2PermissionScopes): $select names 'displayNme', "
        "not a property of servicePrincipal in Graph v1.0"
    ]


def test_a_typo_in_a_filter_and_in_a_lambda_is_caught() -> None:
    typo = _problems(requests=_patched_plan("apps_by_name", "displayName", "dispalyName"))
    # The name is in the $filter and in the $select (the collector selects what it reads).
    assert len(typo) == 2
    assert any("$filter 'dispalyName' is not a property of servicePrincipal" in p for p in typo)
    assert any("$select names 'dispalyName'" in p for p in typo)
    inner = _problems(requests=_patched_plan("consent_requests", "u/status", "u/stat"))
    assert len(inner) == 1
    assert "$filter 'stat' is not a property of userConsentRequest" in inner[0]


def test_a_typo_in_a_model_field_is_caught() -> None:
    problems = _problems(**_patched_model(g.ServicePrincipal, app_dispaly_name=(str | None, None)))
    assert problems == [
        "ServicePrincipal.app_dispaly_name ('appDispalyName' of servicePrincipal, v1.0): "
        "not a property of servicePrincipal in Graph v1.0"
    ]


def test_a_beta_only_field_read_from_v1_is_caught() -> None:
    """publisherName exists on beta's servicePrincipal only (graph_rules.py strips it from
    v1.0): selecting it, or a model field for it, on a v1.0 read fails."""
    selected = _problems(
        requests=_patched_plan("graph_sp", "$select=id,", "$select=id,publisherName,")
    )
    assert len(selected) == 1
    assert (
        "$select names 'publisherName', not a property of servicePrincipal in Graph v1.0"
        in selected[0]
    )
    assert selected[0].endswith("(it exists in beta only)")
    field = _problems(**_patched_model(g.ServicePrincipal, publisher_name=(str | None, None)))
    assert field == [
        "ServicePrincipal.publisher_name ('publisherName' of servicePrincipal, v1.0): not a "
        "property of servicePrincipal in Graph v1.0 (it exists in beta only)"
    ]


def test_the_beta_only_certified_condition_needs_its_beta_read() -> None:
    """certifiedClientApplicationsOnly is excused on v1.0 only because the same policies are
    read from beta; without that read the excuse no longer holds."""
    plan = [
        r
        for r in checker.requests_of(collection_plan(load_manifest()))
        if r.key != "permission_grant_policies_beta"
    ]
    problems = _problems(requests=plan)
    assert problems == [
        "PermissionGrantConditionSet.certified_client_applications_only "
        "('certifiedClientApplicationsOnly' of permissionGrantConditionSet, v1.0): excused as "
        "absent from v1.0, but no version it is read from has it"
    ]


def test_a_non_nullable_assumption_on_a_nullable_property_is_caught() -> None:
    """servicePrincipal.displayName is nullable in the v1.0 CSDL: a ``str`` field (null
    refused) fails, as would a required one."""
    problems = _problems(**_patched_model(g.ServicePrincipal, display_name=(str, "")))
    assert problems == [
        "ServicePrincipal.display_name ('displayName' of servicePrincipal, v1.0): Graph may "
        "send null (nullable in the v1.0 schema) but the field does not accept None"
    ]
    status = create_model("SignInStatus", __base__=g.SignInStatus, error_code=(int, 0))
    args = _patched_model(g.SignIn, status=(status | None, None))
    models: list[type[BaseModel]] = args["all_models"]  # type: ignore[assignment]
    args["all_models"] = [status if m is g.SignInStatus else m for m in models]
    nested = _problems(**args)
    assert nested == [
        f"SignInStatus.error_code ('errorCode' of signInStatus, {version}): Graph may send "
        f"null (nullable in the {version} schema) but the field does not accept None"
        for version in ("beta", "v1.0")  # sign-ins are read from both
    ]


def test_a_wrong_type_is_caught() -> None:
    problems = _problems(**_patched_model(g.OAuth2PermissionGrant, scope=(list[str] | None, None)))
    assert problems == [
        "OAuth2PermissionGrant.scope ('scope' of oAuth2PermissionGrant, v1.0): the field is a "
        "list, but Graph's Edm.String is not a collection"
    ]


def test_an_unknown_or_misspelt_enum_member_in_the_code_is_caught() -> None:
    """The code compares conditionalAccessGrantControl values with "block": misspelt there,
    the check names the file, the line and the enum."""
    sources = _sources()
    fields = checker.enum_fields(checker.load(), MODEL_TYPES)
    handled = checker.handled_members(sources, fields)
    name, line, value, _ = next(h for h in handled if h[2].casefold() == "block")
    lines = sources[name].split("\n")
    assert f'"{value}"' in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(f'"{value}"', '"blok"')
    problems = _problems(sources={**sources, name: "\n".join(lines)})
    assert problems == [
        f"{name}:{line}: 'blok' is not a member of Graph v1.0 conditionalAccessGrantControl"
    ]
    assert len(handled) >= 20, handled  # states, client app types, controls, permission types


def test_a_graph_model_nothing_checks_is_reported() -> None:
    class Orphan(g.GraphObject):
        id: str

    problems = _problems(all_models=[*checker.graph_models(g.GraphObject), Orphan])
    assert problems == [
        "Orphan: a Graph model no check reaches (add it to MODEL_TYPES in "
        "tests/graph_schema/test_graph_schema.py, or use it in a checked model)"
    ]


def test_a_stale_deviation_is_reported() -> None:
    excuses = SimpleNamespace(
        REQUIRED_THOUGH_NULLABLE={
            **deviations.REQUIRED_THOUGH_NULLABLE,
            ("servicePrincipal", "id"): "id is Nullable=false already",
        },
        ABSENT_FROM_VERSION=deviations.ABSENT_FROM_VERSION,
        DERIVED_TYPE_PROPERTIES=deviations.DERIVED_TYPE_PROPERTIES,
    )
    assert _problems(excuses=excuses) == [
        "deviations.REQUIRED_THOUGH_NULLABLE['servicePrincipal', 'id'] excuses nothing any "
        "more: remove it"
    ]


def test_the_vendored_subset_records_its_source() -> None:
    data = json.loads(checker.SUBSET.read_text("utf-8"))
    source = data["source"]
    assert source["repository"] == "microsoftgraph/msgraph-metadata"
    assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])
    assert source["v1.0"]["path"] == "schemas/v1.0-Prod.csdl"
    assert re.fullmatch(r"[0-9a-f]{40}", source["v1.0"]["blob"])
    assert source["beta"]["path"] == "schemas/beta-Prod.csdl"
    assert checker.SUBSET.stat().st_size < 400_000


def test_a_mistake_in_the_what_if_body_is_caught() -> None:
    """The What-If POST body: parameters, the derived types its @odata.type names, their
    properties and enum values all come from the action's declaration."""
    requests = checker.requests_of(collection_plan(load_manifest()))
    asked = next(r for r in requests if r.key == "what_if_exchange")
    body = json.loads(json.dumps(asked.body))
    body["signInContext"]["includeApplication"] = body["signInContext"].pop("includeApplications")
    body["signInConditions"]["clientAppType"] = "browsers"
    patched = [replace(r, body=body) if r is asked else r for r in requests]
    assert _problems(requests=patched) == [
        f"what_if_exchange (v1.0 {asked.path}): body signInContext: 'includeApplication' is "
        "not a property of applicationContext",
        f"what_if_exchange (v1.0 {asked.path}): body signInConditions/clientAppType: "
        "'browsers' is not a member of Graph v1.0 conditionalAccessClientApp",
    ]


def test_an_evolved_enum_member_needs_the_prefer_header() -> None:
    """The code handles grant control riskRemediation, declared after unknownFutureValue in
    v1.0: the Conditional Access read without 'Prefer: include-unknown-enum-members' would
    only ever see unknownFutureValue, and the check says so."""
    requests = checker.requests_of(collection_plan(load_manifest()))
    patched = [replace(r, headers=()) if r.key == "conditional_access" else r for r in requests]
    problems = _problems(requests=patched)
    assert problems
    assert all("riskremediation' comes after unknownfuturevalue" in p.casefold() for p in problems)
    assert all("conditional_access reads it without" in p for p in problems)
