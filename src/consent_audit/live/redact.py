"""Pseudonymise people in a snapshot so it can be shared with support.

What goes: user and group names, UPNs, e-mail addresses and object ids wherever they occur
(grants, assignments, CA include/exclude lists, admin-consent reviewers, consent requests,
audit and sign-in logs, the audited user). What stays: tenant settings, policy ids, role
template ids, app ids, scopes, app and policy names (Recruitee, Microsoft Graph) -- everything
evaluation reasons about.

Names, UPNs and e-mail addresses are HMAC-SHA256 pseudonyms under a random key made per run
and never stored, so the same value maps to the same pseudonym within one snapshot but cannot
be reversed or linked across runs. User and group object ids become an unkeyed, tenant-scoped
hash (pseudonymous_ids.py): random GUIDs cannot be guessed, and the same id in every snapshot
keeps finding fingerprints identical with and without redaction. Ids keep the GUID shape so
the snapshot still validates and evaluation still joins a user to their grant and group.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any

from consent_audit.pseudonymous_ids import stable_object_id
from consent_audit.snapshot import TenantSnapshot

GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PEOPLE_TYPES = {"user", "group"}


class Pseudonyms:
    """Stable, keyed pseudonyms; values are compared case-insensitively, as Entra does."""

    def __init__(self, tenant_id: str, key: bytes | None = None) -> None:
        self._tenant_id = tenant_id
        self._key = key or secrets.token_bytes(32)
        self.originals: set[str] = set()

    def _digest(self, kind: str, value: str) -> bytes:
        self.originals.add(value)
        message = f"{kind}\0{value.strip().casefold()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def object_id(self, value: str) -> str:
        """Unkeyed, tenant-scoped (pseudonymous_ids.py): fingerprints survive redaction."""
        self.originals.add(value)
        return stable_object_id(self._tenant_id, value)

    def upn(self, value: str) -> str:
        return f"user-{self._digest('upn', value).hex()[:10]}@redacted.invalid"

    def name(self, value: str, kind: str = "user") -> str:
        label = "Group" if kind == "group" else "User"
        return f"{label} {self._digest('name', value).hex()[:8]}"

    def opaque_id(self, value: str) -> str:
        """Grant and app-role-assignment ids are base64url of the GUIDs they join -- a
        Principal grant's id carries the user's object id -- so they are replaced too, with
        the same shape (base64url, same length)."""
        digest = self._digest("opaque", value)
        while len(digest) * 4 < len(value) * 3:
            digest += hashlib.sha256(digest).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")[: len(value)]

    def any_id(self, value: str | None) -> str | None:
        """Replace GUIDs only: CA lists also hold keywords such as All or GuestsOrExternalUsers."""
        if value is None or not GUID.fullmatch(value):
            return value
        return self.object_id(value)

    def query(self, value: str) -> str:
        if GUID.fullmatch(value):
            return self.object_id(value)
        return self.upn(value) if "@" in value else self.name(value)

    def in_text(self, text: str | None) -> str | None:
        """Scrub free text (audit old/new values) of every value already pseudonymised."""
        if not text:
            return text
        for original in sorted(self.originals, key=len, reverse=True):
            if len(original) < 4 or original not in text:
                continue
            replacement = (
                self.object_id(original)
                if GUID.fullmatch(original)
                else self.upn(original)
                if "@" in original
                else self.name(original)
            )
            text = text.replace(original, replacement)
        return text


def _identity(p: Pseudonyms, ref: dict[str, Any] | None) -> None:
    if not ref:
        return
    if ref.get("id"):
        ref["id"] = p.object_id(ref["id"])
    if ref.get("displayName"):
        ref["displayName"] = p.name(ref["displayName"])
    if ref.get("userPrincipalName"):
        ref["userPrincipalName"] = p.upn(ref["userPrincipalName"])


def _apps(p: Pseudonyms, apps: list[dict[str, Any]]) -> None:
    for app in apps:
        for grant in (app.get("oauth2_permission_grants") or {}).get("data") or []:
            if grant.get("principalId"):
                grant["principalId"] = p.object_id(grant["principalId"])
                if grant.get("id"):
                    grant["id"] = p.opaque_id(grant["id"])
        for assignment in (app.get("app_role_assigned_to") or {}).get("data") or []:
            kind = str(assignment.get("principalType", "")).casefold()
            if kind not in _PEOPLE_TYPES:
                continue
            if assignment.get("id"):
                assignment["id"] = p.opaque_id(assignment["id"])
            assignment["principalId"] = p.object_id(assignment["principalId"])
            if assignment.get("principalDisplayName"):
                assignment["principalDisplayName"] = p.name(
                    assignment["principalDisplayName"], kind
                )


def _conditional_access(p: Pseudonyms, policies: list[dict[str, Any]]) -> None:
    for policy in policies:
        users = (policy.get("conditions") or {}).get("users") or {}
        for key in ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups"):
            users[key] = [p.any_id(v) for v in users.get(key) or []]


def _user(p: Pseudonyms, user: dict[str, Any]) -> None:
    user["id"] = p.object_id(user["id"])
    user["user_principal_name"] = p.upn(user["user_principal_name"])
    if user.get("mail"):
        user["mail"] = p.upn(user["mail"])
    if user.get("display_name"):
        user["display_name"] = p.name(user["display_name"])
    for key in ("member_of_group_ids", "transitive_member_of_group_ids"):
        user[key] = [p.object_id(g) for g in user.get(key) or []]
    user["group_display_names"] = {
        p.object_id(gid): p.name(name, "group")
        for gid, name in (user.get("group_display_names") or {}).items()
    }


def _audits(p: Pseudonyms, audits: list[dict[str, Any]]) -> None:
    for audit in audits:
        _identity(p, (audit.get("initiatedBy") or {}).get("user"))
        for target in audit.get("targetResources") or []:
            if str(target.get("type", "")).casefold() in _PEOPLE_TYPES:
                _identity(p, target)
    for audit in audits:  # after every identity is known, scrub the free text
        for target in audit.get("targetResources") or []:
            for prop in target.get("modifiedProperties") or []:
                prop["oldValue"] = p.in_text(prop.get("oldValue"))
                prop["newValue"] = p.in_text(prop.get("newValue"))


def _data(part: dict[str, Any] | None) -> Any:
    return (part or {}).get("data")


def redact(snapshot: TenantSnapshot, key: bytes | None = None) -> TenantSnapshot:
    """A copy of ``snapshot`` with people pseudonymised and ``redacted`` set."""
    p = Pseudonyms(snapshot.tenant.id, key)
    raw: dict[str, Any] = snapshot.model_dump(mode="json", by_alias=True)
    for lookup in raw.get("users") or []:
        if _data(lookup.get("user")):
            _user(p, lookup["user"]["data"])
        lookup["query"] = p.query(lookup["query"])
    _apps(p, _data(raw.get("recruitee_apps")) or [])
    _conditional_access(p, _data(raw.get("conditional_access_policies")) or [])
    for reviewer in (_data(raw.get("admin_consent_request_policy")) or {}).get("reviewers") or []:
        reviewer["query"] = GUID.sub(lambda m: p.object_id(m.group(0)), reviewer["query"])
    for request in _data(raw.get("app_consent_requests")) or []:
        for user_request in request.get("userConsentRequests") or []:
            _identity(p, (user_request.get("createdBy") or {}).get("user"))
    for sign_in in _data(raw.get("sign_ins")) or []:
        if sign_in.get("userId"):
            sign_in["userId"] = p.object_id(sign_in["userId"])
        if sign_in.get("userPrincipalName"):
            sign_in["userPrincipalName"] = p.upn(sign_in["userPrincipalName"])
    _audits(p, _data(raw.get("directory_audits")) or [])
    raw["redacted"] = True
    return TenantSnapshot.model_validate(raw)
