"""Pseudonymise people in a snapshot so it can be shared with support.

What goes: user and group names, UPNs, e-mail addresses and object ids wherever they occur
(grants, assignments, CA include/exclude lists -- in the policies and in Entra's What-If
answers --, admin-consent reviewers, consent requests, audit and sign-in logs, the audited
users), and Conditional Access policy names (they often
carry incident or project names; the policy id stays). What stays: tenant settings, policy
ids, role template ids, app ids, scopes, Recruitee's and Graph's names, and each app's owner
tenant (``appOwnerOrganizationId``), sign-in audience and verified publisher -- everything
evaluation reasons about. Tenant ids and publisher ids name organisations, not people, and
they decide whether an app named Recruitee is Recruitee's (evaluate/identity.py).

Two kinds of pseudonym, for two kinds of value:

- **People's names, UPNs, e-mail addresses** are guessable (first.last@domain), so they are
  an HMAC-SHA256 under the customer's redaction key (redaction_key.py: made once, kept in
  their config directory). One person has one pseudonym everywhere: the display name
  ``User 3fa2c1d0`` and the UPN ``user-3fa2c1d0e4@redacted.invalid`` both come from the HMAC
  of their object id (or, where a log row has no id, of their UPN, resolved to the id when
  the snapshot knows it). The same key gives the same pseudonyms in a snapshot taken days
  later; without the key nobody can reverse or confirm a guess.
- **Object ids** are random GUIDs nobody can guess, so they become an unkeyed, tenant-scoped
  hash (pseudonymous_ids.py). That keeps joins working (a user's id in their grant, their
  group in an assignment) and keeps finding fingerprints identical with and without
  redaction, whatever key is used. Someone who can already list the tenant's users could
  match them; nobody else can.
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
    """Keyed pseudonyms per person; values compare case-insensitively, as Entra does."""

    def __init__(self, tenant_id: str, key: bytes | None = None) -> None:
        self._tenant_id = tenant_id
        self._key = key or secrets.token_bytes(32)
        self._ids_by_handle: dict[str, str] = {}
        self.replacements: dict[str, str] = {}
        """Every original value replaced, for scrubbing free text (audit old/new values)."""

    def learn(self, object_id: str | None, *handles: str | None) -> None:
        """Remember that these UPNs / e-mail addresses belong to ``object_id``."""
        if not object_id:
            return
        for handle in handles:
            if handle:
                self._ids_by_handle.setdefault(handle.strip().casefold(), object_id)

    def _token(self, object_id: str | None, handle: str | None, name: str | None) -> str:
        if not object_id and handle:
            object_id = self._ids_by_handle.get(handle.strip().casefold())
        kind, value = (
            ("person", object_id)
            if object_id
            else ("handle", handle)
            if handle
            else ("name", name or "")
        )
        message = f"{kind}\0{value.strip().casefold()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _keep(self, original: str, replacement: str) -> str:
        if len(original) >= 4:
            self.replacements.setdefault(original, replacement)
        return replacement

    def object_id(self, value: str) -> str:
        """Unkeyed, tenant-scoped (pseudonymous_ids.py): fingerprints survive redaction."""
        return self._keep(value, stable_object_id(self._tenant_id, value))

    def upn(self, value: str, object_id: str | None = None) -> str:
        token = self._token(object_id, value, None)
        return self._keep(value, f"user-{token[:10]}@redacted.invalid")

    def name(
        self,
        value: str,
        kind: str = "user",
        object_id: str | None = None,
        handle: str | None = None,
    ) -> str:
        label = "Group" if kind == "group" else "User"
        return self._keep(value, f"{label} {self._token(object_id, handle, value)[:8]}")

    def policy_name(self, value: str, policy_id: str) -> str:
        """CA policy names often carry incident or project names; the id stays to find it."""
        return self._keep(value, f"CA policy {policy_id[:8]}")

    def opaque_id(self, value: str) -> str:
        """Grant and app-role-assignment ids are base64url of the GUIDs they join -- a
        Principal grant's id carries the user's object id -- so they are replaced too, with
        the same shape (base64url, same length)."""
        digest = hmac.new(self._key, f"opaque\0{value}".encode(), hashlib.sha256).digest()
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
        """Scrub free text of every value already pseudonymised (longest first)."""
        if not text:
            return text
        for original in sorted(self.replacements, key=len, reverse=True):
            if original in text:
                text = text.replace(original, self.replacements[original])
        return text


def _ref(p: Pseudonyms, ref: dict[str, Any] | None, kind: str = "user") -> None:
    """An identity (id, displayName, userPrincipalName) in logs and consent requests."""
    if not ref:
        return
    oid, upn = ref.get("id"), ref.get("userPrincipalName")
    if ref.get("displayName"):
        ref["displayName"] = p.name(ref["displayName"], kind, oid, upn)
    if upn:
        ref["userPrincipalName"] = p.upn(upn, oid)
    if oid:
        ref["id"] = p.object_id(oid)


def _learn_all(p: Pseudonyms, raw: dict[str, Any]) -> None:
    """First pass: which UPNs and addresses belong to which object id, wherever it is said."""
    for lookup in raw.get("users") or []:
        user = _data(lookup.get("user"))
        if user:
            p.learn(user.get("id"), user.get("user_principal_name"), user.get("mail"))
    for sign_in in _data(raw.get("sign_ins")) or []:
        p.learn(sign_in.get("userId"), sign_in.get("userPrincipalName"))
    refs: list[dict[str, Any]] = []
    for audit in _data(raw.get("directory_audits")) or []:
        refs.append((audit.get("initiatedBy") or {}).get("user") or {})
        refs += audit.get("targetResources") or []
    for request in _data(raw.get("app_consent_requests")) or []:
        for user_request in request.get("userConsentRequests") or []:
            refs.append((user_request.get("createdBy") or {}).get("user") or {})
    for ref in refs:
        p.learn(ref.get("id"), ref.get("userPrincipalName"))


def _apps(p: Pseudonyms, apps: list[dict[str, Any]]) -> None:
    for app in apps:
        for grant in (app.get("oauth2_permission_grants") or {}).get("data") or []:
            if grant.get("principalId"):
                grant["principalId"] = p.object_id(grant["principalId"])
                if grant.get("id"):
                    grant["id"] = p.opaque_id(grant["id"])
        # Counted per-user grants keep a few grant ids, and a Principal grant's id carries
        # the person's object id: replaced like the grants' own.
        for group in app.get("principal_grant_groups") or []:
            group["grant_ids"] = [p.opaque_id(g) for g in group.get("grant_ids") or []]
        for assignment in (app.get("app_role_assigned_to") or {}).get("data") or []:
            kind = str(assignment.get("principalType", "")).casefold()
            if kind not in _PEOPLE_TYPES:
                continue
            if assignment.get("id"):
                assignment["id"] = p.opaque_id(assignment["id"])
            oid = assignment["principalId"]
            if assignment.get("principalDisplayName"):
                assignment["principalDisplayName"] = p.name(
                    assignment["principalDisplayName"], kind, oid
                )
            assignment["principalId"] = p.object_id(oid)


def _conditional_access(p: Pseudonyms, policies: list[dict[str, Any]]) -> None:
    for policy in policies:
        if policy.get("displayName"):
            policy["displayName"] = p.policy_name(policy["displayName"], str(policy.get("id")))
        users = (policy.get("conditions") or {}).get("users") or {}
        for key in ("includeUsers", "excludeUsers", "includeGroups", "excludeGroups"):
            users[key] = [p.any_id(v) for v in users.get(key) or []]


def _user(p: Pseudonyms, user: dict[str, Any]) -> None:
    oid = user["id"]
    if user.get("display_name"):
        user["display_name"] = p.name(user["display_name"], "user", oid)
    user["user_principal_name"] = p.upn(user["user_principal_name"], oid)
    if user.get("mail"):
        user["mail"] = p.upn(user["mail"], oid)
    user["group_display_names"] = {
        p.object_id(gid): p.name(name, "group", gid)
        for gid, name in (user.get("group_display_names") or {}).items()
    }
    for key in ("member_of_group_ids", "transitive_member_of_group_ids"):
        user[key] = [p.object_id(g) for g in user.get(key) or []]
    user["id"] = p.object_id(oid)


def _audits(p: Pseudonyms, audits: list[dict[str, Any]]) -> None:
    for audit in audits:
        _ref(p, (audit.get("initiatedBy") or {}).get("user"))
        for target in audit.get("targetResources") or []:
            kind = str(target.get("type", "")).casefold()
            if kind in _PEOPLE_TYPES:
                _ref(p, target, kind)


def _scrub_free_text(p: Pseudonyms, raw: dict[str, Any]) -> None:
    """After every identity is known: audit old/new values and consent-request reasons."""
    for audit in _data(raw.get("directory_audits")) or []:
        for target in audit.get("targetResources") or []:
            for prop in target.get("modifiedProperties") or []:
                prop["oldValue"] = p.in_text(prop.get("oldValue"))
                prop["newValue"] = p.in_text(prop.get("newValue"))
    for request in _data(raw.get("app_consent_requests")) or []:
        for user_request in request.get("userConsentRequests") or []:
            user_request["reason"] = p.in_text(user_request.get("reason"))


def _data(part: dict[str, Any] | None) -> Any:
    return (part or {}).get("data")


def redact(snapshot: TenantSnapshot, key: bytes | None = None) -> TenantSnapshot:
    """A copy of ``snapshot`` with people pseudonymised and ``redacted`` set.

    ``key`` is the customer's redaction key (redaction_key.py); without one a random key is
    used, so names cannot be linked to any other snapshot.
    """
    raw, _ = _redacted(snapshot, key)
    return TenantSnapshot.model_validate(raw)


def pseudonym_names(snapshot: TenantSnapshot, key: bytes) -> dict[str, str]:
    """Every pseudonym ``redact(snapshot, key)`` writes, with the value it replaces.

    The way back for the customer, who holds the key and their own unredacted snapshot
    (``consent-audit unredact``): the same computation, read the other way. Object ids are
    unkeyed (pseudonymous_ids.py), so every GUID the snapshot holds is mapped, also one
    redaction itself never met (an id only a report names).
    """
    if snapshot.redacted:
        raise ValueError("the snapshot is already redacted")
    _, p = _redacted(snapshot, key)
    names: dict[str, str] = {}
    for original, pseudonym in p.replacements.items():
        names.setdefault(pseudonym, original)
    document = snapshot.model_dump_json(by_alias=True)
    for guid in dict.fromkeys(GUID.findall(document)):
        names.setdefault(stable_object_id(snapshot.tenant.id, guid), guid)
    return names


def _redacted(snapshot: TenantSnapshot, key: bytes | None) -> tuple[dict[str, Any], Pseudonyms]:
    p = Pseudonyms(snapshot.tenant.id, key)
    raw: dict[str, Any] = snapshot.model_dump(mode="json", by_alias=True)
    _learn_all(p, raw)
    for lookup in raw.get("users") or []:
        if _data(lookup.get("user")):
            _user(p, lookup["user"]["data"])
        lookup["query"] = p.query(lookup["query"])
    _apps(p, _data(raw.get("recruitee_apps")) or [])
    _conditional_access(p, _data(raw.get("conditional_access_policies")) or [])
    # Entra's What-If answers are policies too (whatifanalysisresult.md): the same names and
    # user lists, redacted the same way so a policy keeps one pseudonym throughout.
    for lookup in raw.get("users") or []:
        for question in _data(lookup.get("conditional_access_what_if")) or []:
            _conditional_access(p, _data(question.get("answer")) or [])
    for reviewer in (_data(raw.get("admin_consent_request_policy")) or {}).get("reviewers") or []:
        reviewer["query"] = GUID.sub(lambda m: p.object_id(m.group(0)), reviewer["query"])
    for request in _data(raw.get("app_consent_requests")) or []:
        for user_request in request.get("userConsentRequests") or []:
            _ref(p, (user_request.get("createdBy") or {}).get("user"))
    for sign_in in _data(raw.get("sign_ins")) or []:
        oid = sign_in.get("userId")
        if sign_in.get("userPrincipalName"):
            sign_in["userPrincipalName"] = p.upn(sign_in["userPrincipalName"], oid)
        if oid:
            sign_in["userId"] = p.object_id(oid)
    _audits(p, _data(raw.get("directory_audits")) or [])
    _scrub_free_text(p, raw)
    if raw.get("reported_by"):
        raw["reported_by"] = p.query(raw["reported_by"])
    raw["redacted"] = True
    return raw, p
