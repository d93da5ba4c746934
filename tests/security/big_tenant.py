"""Generated tenants at any size: many per-user grants, groups, CA policies, people.

Used by ``bench/scale.py`` (100,000 per-user grants for Recruitee, 5,000 groups, 195
Conditional Access policies: the per-tenant maximum) and by the redaction tests (hundreds of
users and groups with distinctive names). Everything is built in memory and deterministic for
a seed; nothing large is written to the repository.

Ids follow Graph's shapes: object ids are GUIDs, grant ids are base64url of the client,
resource and principal GUIDs' little-endian bytes, app-role-assignment ids start with the
principal's bytes -- so a grant or assignment id carries a person's object id, as in Graph.
"""

from __future__ import annotations

import base64
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from consent_audit.snapshot import TenantSnapshot
from tests.emulator.fixtures import GRAPH_SCOPES, GRAPH_SP_ID, demo_snapshot_dict

RECRUITEE_SP_ID = "aaaaaaaa-0000-4000-8000-00000000a001"
RECRUITEE_APP_ID = "bbbbbbbb-0000-4000-8000-00000000b001"
NO_APP_ROLE = "00000000-0000-0000-0000-000000000000"
_GIVEN = ["Zelda", "Quirin", "Ottoline", "Barnaby", "Ysolde", "Cosimo", "Philippa", "Thaddeus"]
_FAMILY = ["Quixote", "Vandermeer", "Okonkwo", "Lindqvist", "Szabo", "Marchetti", "Ferreira"]


@dataclass
class Person:
    id: str
    upn: str
    name: str


@dataclass
class GeneratedTenant:
    snapshot: TenantSnapshot
    audited_upn: str
    people: list[Person] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)
    """Group id -> display name."""
    originals: set[str] = field(default_factory=set)
    """Every value redaction must remove: names, UPNs, mails, person and group ids, and the
    grant / assignment ids that encode them."""


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def grant_id(client: str, resource: str, principal: str | None) -> str:
    raw = uuid.UUID(client).bytes_le + uuid.UUID(resource).bytes_le
    if principal:
        raw += uuid.UUID(principal).bytes_le
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def assignment_id(principal: str, rng: random.Random) -> str:
    raw = uuid.UUID(principal).bytes_le + rng.getrandbits(128).to_bytes(16, "little")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _ca_policy(n: int, rng: random.Random, group_ids: list[str], people: list[Person]) -> Any:
    """A spread of realistic policies; a few target Recruitee or all apps."""
    kind = n % 6
    apps: dict[str, Any] = {"includeApplications": ["All"]}
    if kind == 1:
        apps = {"includeApplications": [RECRUITEE_APP_ID]}
    elif kind in (2, 3):
        apps = {"includeApplications": [_guid(rng) for _ in range(3)]}
    users: dict[str, Any] = {
        "includeUsers": ["All"] if kind != 4 else [p.id for p in rng.sample(people, 1)],
        "excludeUsers": [p.id for p in rng.sample(people, min(2, len(people)))],
        "includeGroups": rng.sample(group_ids, min(10, len(group_ids))),
        "excludeGroups": rng.sample(group_ids, min(25, len(group_ids))),
        "includeRoles": [],
        "excludeRoles": ["62e90394-69f5-4237-9190-012177145e10"] if kind == 0 else [],
    }
    policy: dict[str, Any] = {
        "id": f"77777777-0000-4000-8000-{n:012d}",
        "displayName": f"CA{n:03d} baseline policy",
        "state": ["enabled", "enabledForReportingButNotEnforced", "disabled"][n % 3],
        "conditions": {
            "applications": apps,
            "users": users,
            "clientAppTypes": ["all"],
            "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}
            if kind == 5
            else None,
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }
    if kind == 3:
        policy["grantControls"] = {"operator": "OR", "builtInControls": ["block"]}
    if kind == 2:
        policy["sessionControls"] = {
            "signInFrequency": {"isEnabled": True, "type": "hours", "value": 8}
        }
    return policy


def build_tenant(
    *,
    grants: int = 100_000,
    groups: int = 5_000,
    policies: int = 195,
    people: int = 1,
    audited_groups: int = 50,
    seed: int = 0,
) -> GeneratedTenant:
    """``grants`` per-user (Principal) grants for Recruitee plus one AllPrincipals grant.

    ``people`` user lookups are in the snapshot (the first is the audited user); every grant
    beyond them goes to a generated principal id. ``groups`` groups are assigned to Recruitee
    (assignment required), referenced by CA policies and, ``audited_groups`` of them, by the
    audited user's memberships.
    """
    rng = random.Random(seed)
    raw = demo_snapshot_dict()
    persons = [
        Person(
            id=_guid(rng),
            upn=f"{_GIVEN[i % 8].lower()}.{_FAMILY[i % 7].lower()}{i:05d}@fabrikam-scale.example",
            name=f"{_GIVEN[i % 8]} {_FAMILY[i % 7]} {i:05d}",
        )
        for i in range(max(1, people))
    ]
    group_names = {_guid(rng): f"Grp Orchid-{i:05d} Staff" for i in range(groups)}
    group_ids = list(group_names)
    out = GeneratedTenant(
        snapshot=None,  # type: ignore[arg-type]  # set below
        audited_upn=persons[0].upn,
        people=persons,
        groups=group_names,
    )
    scope_user = "Mail.Send Mail.ReadWrite Calendars.ReadWrite"
    grant_rows: list[dict[str, Any]] = [
        {
            "id": grant_id(RECRUITEE_SP_ID, GRAPH_SP_ID, None),
            "clientId": RECRUITEE_SP_ID,
            "consentType": "AllPrincipals",
            "principalId": None,
            "resourceId": GRAPH_SP_ID,
            "scope": "openid profile email offline_access User.Read User.ReadBasic.All",
        }
    ]
    for i in range(grants):
        principal = persons[i].id if i < len(persons) else _guid(rng)
        gid = grant_id(RECRUITEE_SP_ID, GRAPH_SP_ID, principal)
        if i < len(persons):
            out.originals.add(gid)
        grant_rows.append(
            {
                "id": gid,
                "clientId": RECRUITEE_SP_ID,
                "consentType": "Principal",
                "principalId": principal,
                "resourceId": GRAPH_SP_ID,
                "scope": scope_user if i % 10 else "Mail.Send",
            }
        )
    assignments = []
    for gid_, name in group_names.items():
        aid = assignment_id(gid_, rng)
        out.originals.add(aid)
        assignments.append(
            {
                "id": aid,
                "principalId": gid_,
                "principalType": "Group",
                "principalDisplayName": name,
                "resourceId": RECRUITEE_SP_ID,
                "appRoleId": NO_APP_ROLE,
            }
        )
    for person in persons[1 : min(len(persons), 200)]:
        aid = assignment_id(person.id, rng)
        out.originals.add(aid)
        assignments.append(
            {
                "id": aid,
                "principalId": person.id,
                "principalType": "User",
                "principalDisplayName": person.name,
                "resourceId": RECRUITEE_SP_ID,
                "appRoleId": NO_APP_ROLE,
            }
        )
    raw["recruitee_apps"] = {
        "status": "ok",
        "data": [
            {
                "service_principal": {
                    "id": RECRUITEE_SP_ID,
                    "appId": RECRUITEE_APP_ID,
                    "displayName": "Recruitee",
                    "accountEnabled": True,
                    "appRoleAssignmentRequired": True,
                    "publisherName": "Tellent",
                    "verifiedPublisher": {
                        "displayName": "Tellent",
                        "verifiedPublisherId": "5183842",
                    },
                },
                "app_role_assigned_to": {"status": "ok", "data": assignments},
                "oauth2_permission_grants": {"status": "ok", "data": grant_rows},
            }
        ],
    }
    raw["conditional_access_policies"] = {
        "status": "ok",
        "data": [_ca_policy(n, rng, group_ids or [_guid(rng)], persons) for n in range(policies)],
    }
    lookups = []
    for index, person in enumerate(persons):
        mine = rng.sample(group_ids, min(audited_groups, len(group_ids))) if group_ids else []
        direct = mine[: len(mine) // 2]
        lookups.append(
            {
                "query": person.upn,
                "user": {
                    "status": "ok",
                    "data": {
                        "id": person.id,
                        "user_principal_name": person.upn,
                        "display_name": person.name,
                        "mail": person.upn,
                        "member_of_group_ids": direct,
                        "transitive_member_of_group_ids": mine,
                        "directory_role_template_ids": [],
                        "group_display_names": {g: group_names[g] for g in mine},
                    },
                },
            }
        )
        if index == 0:
            continue
    raw["users"] = lookups
    reviewer = persons[-1]
    raw["admin_consent_request_policy"]["data"]["reviewers"] = [
        {"query": f"/users/{reviewer.id}", "queryType": "MicrosoftGraph"}
    ]
    requester = persons[min(1, len(persons) - 1)]
    raw["app_consent_requests"]["data"][0]["appId"] = RECRUITEE_APP_ID
    raw["app_consent_requests"]["data"][0]["userConsentRequests"] = [
        {
            "id": "ucr-1",
            "status": "InProgress",
            "reason": "need mail sync",
            "createdBy": {
                "user": {
                    "id": requester.id,
                    "displayName": requester.name,
                    "userPrincipalName": requester.upn,
                }
            },
        }
    ]
    signers = persons[: min(len(persons), 50)]
    raw["sign_ins"]["data"] = [
        {
            "id": f"99999999-0000-4000-8000-{n:012d}",
            "createdDateTime": f"2024-05-0{1 + n % 9}T10:00:00Z",
            "appId": RECRUITEE_APP_ID,
            "appDisplayName": "Recruitee",
            "userId": p.id,
            "userPrincipalName": p.upn,
            "resourceDisplayName": "Microsoft Graph",
            "isInteractive": True,
            "status": {"errorCode": 65001 if n % 5 == 0 else 0},
            "conditionalAccessStatus": "notApplied",
        }
        for n, p in enumerate(signers)
    ]
    admin = persons[-1]
    raw["directory_audits"]["data"] = [
        {
            "id": "audit-consent-1",
            "category": "ApplicationManagement",
            "activityDisplayName": "Consent to application",
            "activityDateTime": "2024-05-01T09:00:00Z",
            "result": "success",
            "initiatedBy": {
                "user": {"id": admin.id, "displayName": admin.name, "userPrincipalName": admin.upn}
            },
            "targetResources": [
                {"id": RECRUITEE_SP_ID, "displayName": "Recruitee", "type": "ServicePrincipal"},
                {
                    "id": requester.id,
                    "displayName": requester.name,
                    "userPrincipalName": requester.upn,
                    "type": "User",
                    "modifiedProperties": [
                        {
                            "displayName": "ConsentAction.Permissions",
                            "oldValue": None,
                            "newValue": f"PrincipalId: {requester.id}, Scope: Mail.Send, "
                            f"by {requester.upn}",
                        }
                    ],
                },
            ],
        }
    ]
    for person in persons:
        out.originals |= {person.id, person.upn, person.name}
    out.originals |= set(group_names) | set(group_names.values())
    out.snapshot = TenantSnapshot.model_validate(raw)
    return out


__all__ = ["GRAPH_SCOPES", "RECRUITEE_APP_ID", "RECRUITEE_SP_ID", "GeneratedTenant", "build_tenant"]
