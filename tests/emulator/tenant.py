"""Mutable tenant state built from a :class:`TenantSnapshot`.

Graph objects are kept as camelCase JSON dicts (what Graph would send), so tests assert on
exactly what a client would read back. Each snapshot part's collection status decides how the
matching endpoint answers; ``status_keys`` below names the keys, and :meth:`set_status` changes
one at run time. All access goes through ``lock`` (the server is threaded).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel

from consent_audit.graph_objects import (
    AdminConsentRequestPolicy,
    AuthorizationPolicy,
)
from consent_audit.snapshot import AuditedUser, Part, PartStatus, TenantSnapshot

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
NO_APP_ROLE = "00000000-0000-0000-0000-000000000000"

# Display names of a few well-known directory role templates (for memberOf answers).
ROLE_TEMPLATE_NAMES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "4a5d8f65-41da-4de4-8968-e035b65339cf": "Reports Reader",
    "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
}


def dump(model: BaseModel) -> dict[str, Any]:
    """A Graph object as Graph's JSON (camelCase)."""
    return model.model_dump(mode="json", by_alias=True)


@dataclass
class PartState:
    status: PartStatus
    message: str | None = None


@dataclass
class UserEntry:
    """One ``users[]`` lookup of the snapshot."""

    query: str
    state: PartState
    user: AuditedUser | None

    def matches(self, key: str) -> bool:
        wanted = key.casefold()
        if self.query.casefold() == wanted:
            return True
        return self.user is not None and wanted in (
            self.user.id.casefold(),
            self.user.user_principal_name.casefold(),
        )


def _state(part: Part[Any]) -> PartState:
    return PartState(part.status, part.message)


def _dumps(part: Part[Any]) -> list[dict[str, Any]]:
    """A list part's data as dicts; empty unless the part is ok with data."""
    if part.status is PartStatus.OK and part.data is not None:
        return [dump(item) for item in part.data]
    return []


def _grant_id(client_id: str, resource_id: str, principal_id: str | None) -> str:
    """Graph-like grant id: base64url of the GUIDs' little-endian bytes (as Graph does)."""
    try:
        raw = uuid.UUID(client_id).bytes_le + uuid.UUID(resource_id).bytes_le
        if principal_id:
            raw += uuid.UUID(principal_id).bytes_le
    except ValueError:
        raw = hashlib.sha256(f"{client_id}|{resource_id}|{principal_id}".encode()).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class EmulatorTenant:
    """The tenant the emulator serves, and the state mutation endpoints change.

    Status keys: ``servicePrincipals`` (the Recruitee apps part), ``graphServicePrincipal``,
    ``delegatedPermissionClassifications``, ``authorizationPolicy``,
    ``permissionGrantPolicies``, ``adminConsentRequestPolicy``, ``appConsentRequests``,
    ``conditionalAccessPolicies``, ``conditionalAccessWhatIf`` (the evaluate action),
    ``directoryAudits``, ``signIns``, ``groupSettings``, and per app
    ``oauth2PermissionGrants:{spId}`` and ``appRoleAssignedTo:{spId}``.
    """

    def __init__(self, snapshot: TenantSnapshot) -> None:
        self.snapshot = snapshot
        self.lock = threading.RLock()
        self.tenant_id = snapshot.tenant.id
        self.display_name = snapshot.tenant.display_name
        self.default_domain = snapshot.tenant.default_domain
        self.parts: dict[str, PartState] = {}

        apps = snapshot.recruitee_apps
        self.parts["servicePrincipals"] = _state(apps)
        self.service_principals: list[dict[str, Any]] = []
        self.grants: list[dict[str, Any]] = []
        self.app_role_assignments: dict[str, list[dict[str, Any]]] = {}
        app_list = (apps.data or []) if apps.status is PartStatus.OK else []
        for app in app_list:
            sp = dump(app.service_principal)
            self.service_principals.append(sp)
            self.parts[f"oauth2PermissionGrants:{sp['id']}"] = _state(app.oauth2_permission_grants)
            self.parts[f"appRoleAssignedTo:{sp['id']}"] = _state(app.app_role_assigned_to)
            self.grants.extend(_dumps(app.oauth2_permission_grants))
            self.app_role_assignments[sp["id"]] = _dumps(app.app_role_assigned_to)

        graph = snapshot.graph_service_principal
        self.parts["graphServicePrincipal"] = _state(graph)
        self.graph_sp_id: str | None = None
        if graph.status is PartStatus.OK and graph.data is not None:
            graph_sp = dump(graph.data)
            self.graph_sp_id = graph_sp["id"]
            self.service_principals.append(graph_sp)

        def put(key: str, part: Part[Any]) -> None:
            self.parts[key] = _state(part)

        put("delegatedPermissionClassifications", snapshot.delegated_permission_classifications)
        self.delegated_permission_classifications = _dumps(
            snapshot.delegated_permission_classifications
        )
        put("authorizationPolicy", snapshot.authorization_policy)
        self.authorization_policy = (
            dump(snapshot.authorization_policy.data)
            if snapshot.authorization_policy.data is not None
            else dump(AuthorizationPolicy())
        )
        put("permissionGrantPolicies", snapshot.permission_grant_policies)
        self.permission_grant_policies = _dumps(snapshot.permission_grant_policies)
        put("adminConsentRequestPolicy", snapshot.admin_consent_request_policy)
        self.admin_consent_request_policy = (
            dump(snapshot.admin_consent_request_policy.data)
            if snapshot.admin_consent_request_policy.data is not None
            else dump(AdminConsentRequestPolicy())
        )
        put("appConsentRequests", snapshot.app_consent_requests)
        self.app_consent_requests = _dumps(snapshot.app_consent_requests)
        put("conditionalAccessPolicies", snapshot.conditional_access_policies)
        self.conditional_access_policies = _dumps(snapshot.conditional_access_policies)
        put("directoryAudits", snapshot.directory_audits)
        self.directory_audits = _dumps(snapshot.directory_audits)
        put("signIns", snapshot.sign_ins)
        self.sign_ins = _dumps(snapshot.sign_ins)
        put("groupSettings", snapshot.consent_policy_settings)
        self.group_settings = _dumps(snapshot.consent_policy_settings)

        self.users = [
            UserEntry(lookup.query, _state(lookup.user), lookup.user.data)
            for lookup in snapshot.users
        ]

        # Entra's What-If (what_if.py): answered like the policy list (a tenant whose policies
        # cannot be read answers it the same way) unless set_status says otherwise; answers a
        # snapshot recorded are replayed for the same user and applications.
        self.parts["conditionalAccessWhatIf"] = self.parts["conditionalAccessPolicies"]
        self.what_if_recorded: dict[tuple[str, tuple[str, ...]], tuple[PartState, Any]] = {}
        for lookup in snapshot.users:
            asked = lookup.conditional_access_what_if
            if lookup.user.data is None or not asked.ok:
                continue
            for question in asked.data or []:
                apps = tuple(a.casefold() for a in question.include_applications)
                answer = question.answer
                self.what_if_recorded[(lookup.user.data.id.casefold(), apps)] = (
                    _state(answer),
                    _dumps(answer),
                )
        self.what_if_requests: list[Any] = []
        """Every evaluate body received, in order (tests assert on what the CLI asked)."""

    # -- statuses -----------------------------------------------------------------------

    def status(self, key: str) -> PartState:
        with self.lock:
            return self.parts.get(key, PartState(PartStatus.OK))

    def set_status(self, key: str, status: PartStatus | str, message: str | None = None) -> None:
        with self.lock:
            self.parts[key] = PartState(PartStatus(status), message)

    # -- reads --------------------------------------------------------------------------

    def service_principal(
        self, sp_id: str | None = None, app_id: str | None = None
    ) -> dict[str, Any] | None:
        with self.lock:
            for sp in self.service_principals:
                if sp_id is not None and sp["id"].casefold() == sp_id.casefold():
                    return sp
                if app_id is not None and sp["appId"].casefold() == app_id.casefold():
                    return sp
            return None

    def sp_status(self, sp_id: str | None = None, app_id: str | None = None) -> PartState:
        """The part that governs reading this service principal."""
        sp = self.service_principal(sp_id, app_id)
        is_graph = (app_id is not None and app_id.casefold() == GRAPH_APP_ID) or (
            sp is not None and sp["appId"] == GRAPH_APP_ID
        )
        return self.status("graphServicePrincipal" if is_graph else "servicePrincipals")

    def grants_for(self, client_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [g for g in self.grants if g["clientId"].casefold() == client_id.casefold()]

    def grant(self, grant_id: str) -> dict[str, Any] | None:
        with self.lock:
            return next((g for g in self.grants if g["id"] == grant_id), None)

    def assignments_for(self, sp_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.app_role_assignments.get(sp_id, []))

    def find_user(self, key: str) -> UserEntry | None:
        with self.lock:
            return next((u for u in self.users if u.matches(key)), None)

    def known_group_ids(self) -> dict[str, str | None]:
        groups: dict[str, str | None] = {}
        for entry in self.users:
            if entry.user is None:
                continue
            for gid in [
                *entry.user.member_of_group_ids,
                *entry.user.transitive_member_of_group_ids,
            ]:
                groups.setdefault(gid, entry.user.group_display_names.get(gid))
        return groups

    # -- writes (used by the mutation endpoints; tests may call them directly) ------------

    def add_service_principal(self, sp: dict[str, Any]) -> dict[str, Any]:
        """Add an extra service principal (camelCase dict with at least id and appId)."""
        with self.lock:
            self.service_principals.append(copy.deepcopy(sp))
            return sp

    def add_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a grant from a validated POST body; returns the stored dict."""
        with self.lock:
            principal = body.get("principalId")
            grant = {
                "id": _grant_id(body["clientId"], body["resourceId"], principal),
                "clientId": body["clientId"],
                "consentType": body["consentType"],
                "principalId": principal,
                "resourceId": body["resourceId"],
                "scope": body.get("scope") or "",
            }
            self.grants.append(grant)
            return grant

    def find_duplicate_grant(self, body: dict[str, Any]) -> dict[str, Any] | None:
        with self.lock:
            for g in self.grants:
                if (
                    g["clientId"].casefold() == str(body.get("clientId")).casefold()
                    and g["resourceId"].casefold() == str(body.get("resourceId")).casefold()
                    and g["consentType"] == body.get("consentType")
                    and (g.get("principalId") or "").casefold()
                    == (body.get("principalId") or "").casefold()
                ):
                    return g
            return None

    def update_grant(self, grant_id: str, scope: str) -> dict[str, Any] | None:
        with self.lock:
            grant = self.grant(grant_id)
            if grant is not None:
                grant["scope"] = scope
            return grant

    def delete_grant(self, grant_id: str) -> bool:
        with self.lock:
            before = len(self.grants)
            self.grants = [g for g in self.grants if g["id"] != grant_id]
            return len(self.grants) != before

    def update_service_principal(self, sp_id: str, patch: dict[str, Any]) -> dict[str, Any] | None:
        with self.lock:
            sp = self.service_principal(sp_id)
            if sp is not None:
                sp.update(copy.deepcopy(patch))
            return sp

    def principal_type(self, principal_id: str) -> str | None:
        with self.lock:
            wanted = principal_id.casefold()
            if any(u.user is not None and u.user.id.casefold() == wanted for u in self.users):
                return "User"
            if wanted in {g.casefold() for g in self.known_group_ids()}:
                return "Group"
            if self.service_principal(principal_id) is not None:
                return "ServicePrincipal"
            return None

    def principal_display_name(self, principal_id: str) -> str | None:
        with self.lock:
            wanted = principal_id.casefold()
            for entry in self.users:
                if entry.user is not None and entry.user.id.casefold() == wanted:
                    return entry.user.display_name
            for gid, name in self.known_group_ids().items():
                if gid.casefold() == wanted:
                    return name
            sp = self.service_principal(principal_id)
            return sp.get("displayName") if sp else None

    def add_app_role_assignment(self, sp_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            sp = self.service_principal(sp_id)
            principal_id = body["principalId"]
            assignment = {
                "id": _grant_id(principal_id, sp_id, body.get("appRoleId")),
                "appRoleId": body.get("appRoleId") or NO_APP_ROLE,
                "createdDateTime": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                "principalDisplayName": self.principal_display_name(principal_id),
                "principalId": principal_id,
                "principalType": body.get("principalType")
                or self.principal_type(principal_id)
                or "Group",
                "resourceDisplayName": sp.get("displayName") if sp else None,
                "resourceId": sp_id,
            }
            self.app_role_assignments.setdefault(sp_id, []).append(assignment)
            return assignment
