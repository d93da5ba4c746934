"""Routing of one (non-batch) Graph request to the tenant's resources.

The router knows nothing about sockets, auth, faults or ``$batch``; the server handles those
and calls :meth:`Router.handle` for every top-level and inner request.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from consent_audit.snapshot import PartStatus

from . import what_if
from .graph_rules import (
    NON_INTERACTIVE,
    Nulls,
    is_interactive,
    kind_of,
    shape,
    wants_unknown_enums,
)
from .odata import (
    Clause,
    GraphResponse,
    UnsupportedFilter,
    advanced_signatures,
    apply_filter,
    bad_request,
    clause_value,
    error,
    forbidden,
    not_found,
    not_licensed,
    parse_filter,
    server_error,
    unsupported_query,
)
from .tenant import GRAPH_APP_ID, ROLE_TEMPLATE_NAMES, EmulatorTenant, PartState

VERSIONS = ("v1.0", "beta")
MAX_TOP = 999

SP_FILTERS = frozenset(
    {"startswith:displayname", "eq:displayname", "eq:appid", "in:appid", "eq:id", "in:id"}
)
GRANT_FILTERS = frozenset({"eq:clientid", "eq:consenttype", "eq:principalid", "eq:resourceid"})
ASSIGNMENT_FILTERS = frozenset(
    {"eq:principalid", "eq:principaltype", "eq:principaldisplayname", "eq:resourceid"}
)
PGP_FILTERS = frozenset({"eq:id", "startswith:id"})
CA_FILTERS = frozenset({"eq:state", "eq:displayname", "startswith:displayname"})
CONSENT_REQUEST_FILTERS = frozenset(
    {"eq:appid", "eq:appdisplayname", "any:userconsentrequests/status"}
)
USER_CONSENT_REQUEST_FILTERS = frozenset({"eq:status"})
DIRECTORY_SEARCH = frozenset({"displayname"})
"""Properties ``$search`` covers on the directory collections the emulator searches."""
SIGNIN_FILTERS = frozenset(
    {
        "any:signineventtypes",
        "eq:appid",
        "eq:appdisplayname",
        "startswith:appdisplayname",
        "eq:userid",
        "eq:userprincipalname",
        "eq:status/errorcode",
        "eq:isinteractive",
        "date:createddatetime",
    }
)
AUDIT_FILTERS = frozenset(
    {
        "date:activitydatetime",
        "eq:activitydisplayname",
        "startswith:activitydisplayname",
        "eq:category",
        "eq:loggedbyservice",
        "eq:result",
        "eq:initiatedby/app/appid",
        "eq:initiatedby/user/id",
        "eq:initiatedby/user/userprincipalname",
        "any:targetresources/id",
        "any:targetresources/displayname",
    }
)
NO_FILTERS: frozenset[str] = frozenset()

GRANT_POST_KEYS = frozenset(
    {"clientId", "consentType", "principalId", "resourceId", "scope", "startTime", "expiryTime"}
)
SP_READ_ONLY = frozenset({"id", "appId", "appOwnerOrganizationId"})

_SEGMENT = re.compile(r"^([^()]+)(?:\((.*)\))?$")
_KEY = re.compile(r"^(?:(\w+)\s*=\s*)?'?(.*?)'?$", re.S)


@dataclass
class GraphRequest:
    """One request as the router sees it (inner $batch requests too)."""

    method: str
    version: str
    raw_path: str
    """Path after the version, still percent-encoded (for nextLinks)."""
    segments: list[str]
    """Decoded path segments after the version."""
    query_pairs: list[tuple[str, str]]
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    batch_inner: bool = False

    @property
    def query(self) -> dict[str, str]:
        return {(k.lower() if k.startswith("$") else k): v for k, v in self.query_pairs}


def parse_target(
    method: str,
    raw_target: str,
    headers: dict[str, str] | None = None,
    body: Any = None,
    batch_inner: bool = False,
) -> GraphRequest | None:
    """Split ``/v1.0/a/b?x=y``; None when the version segment is missing or unknown."""
    parts = urlsplit(raw_target)
    raw = parts.path
    pieces = raw.split("/")
    if len(pieces) < 2 or pieces[0] != "" or pieces[1] not in VERSIONS:
        return None
    version = pieces[1]
    raw_path = "/" + "/".join(pieces[2:])
    segments = [unquote(p) for p in pieces[2:] if p]
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    return GraphRequest(
        method=method.upper(),
        version=version,
        raw_path=raw_path,
        segments=segments,
        query_pairs=pairs,
        headers={k.lower(): v for k, v in (headers or {}).items()},
        body=body,
        batch_inner=batch_inner,
    )


def split_segment(segment: str) -> tuple[str, str | None]:
    """``servicePrincipals(appId='x')`` -> (``servicePrincipals``, ``appId='x'``)."""
    m = _SEGMENT.match(segment)
    if not m:
        return segment, None
    return m.group(1), m.group(2)


def parse_key(key: str) -> tuple[str | None, str]:
    """``appId='x'`` -> (``appId``, ``x``); ``'x'`` or ``x`` -> (None, ``x``)."""
    m = _KEY.match(key.strip())
    assert m is not None
    return m.group(1), m.group(2).replace("''", "'")


class Reply(Exception):
    """Short-circuits routing with a finished response."""

    def __init__(self, response: GraphResponse) -> None:
        super().__init__(response.status)
        self.response = response


def method_not_allowed() -> GraphResponse:
    return error(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def unknown_path(req: GraphRequest) -> GraphResponse:
    segment = req.segments[-1] if req.segments else ""
    return error(
        404,
        "ResourceNotFound",
        f"Resource not found for the segment '{segment}'. "
        f"(The emulator does not serve {req.method} /{req.version}{req.raw_path}.)",
    )


def _encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(f"emu-offset:{offset}".encode()).decode().rstrip("=")


def _decode_skiptoken(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "emu-offset":
            raise ValueError(text)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise Reply(bad_request(f"Invalid skip token '{token}'.")) from None


def _without_search(req: GraphRequest) -> GraphRequest:
    """The request minus ``$search`` (handled separately from ``$filter``)."""
    pairs = [(k, v) for k, v in req.query_pairs if k.lower() != "$search"]
    return GraphRequest(
        req.method, req.version, req.raw_path, req.segments, pairs, req.headers, req.body
    )


def _no_expand(req: GraphRequest, what: str) -> None:
    if "$expand" in req.query:
        raise Reply(bad_request(f"Expanding navigation properties is not supported on {what}."))


def check_part(state: PartState, key: str) -> None:
    """Raise the response a non-ok part maps to; ok and not_collected pass."""
    status = state.status
    if status is PartStatus.FORBIDDEN:
        raise Reply(forbidden())
    if status is PartStatus.NOT_LICENSED:
        raise Reply(not_licensed())
    if status is PartStatus.NOT_FOUND:
        raise Reply(not_found(key))
    if status is PartStatus.ERROR:
        raise Reply(server_error(state.message))


class Router:
    """Serves Graph resources from an :class:`EmulatorTenant`."""

    def __init__(
        self,
        tenant: EmulatorTenant,
        base_url: str = "",
        page_size: int = 100,
        nulls: Nulls = False,
    ) -> None:
        self.tenant = tenant
        self.base_url = base_url
        self.page_size = page_size
        self.nulls = nulls
        """``True``: answer ``null`` where real Graph does (the value says nothing);
        ``"all"``: also wherever the CSDL allows it (graph_rules.NULLS_EVERYWHERE)."""

    # -- entry ---------------------------------------------------------------------------------

    def handle(self, req: GraphRequest) -> GraphResponse:
        try:
            return self._dispatch(req)
        except Reply as reply:
            return reply.response

    def _dispatch(self, req: GraphRequest) -> GraphResponse:
        if not req.segments:
            raise Reply(unknown_path(req))
        name, key = split_segment(req.segments[0])
        rest = req.segments[1:]
        handlers: dict[str, Callable[[GraphRequest, str | None, list[str]], GraphResponse]] = {
            "serviceprincipals": self._service_principals,
            "oauth2permissiongrants": self._grants,
            "policies": self._policies,
            "identity": self._identity,
            "identitygovernance": self._identity_governance,
            "organization": self._organization,
            "users": self._users,
            "auditlogs": self._audit_logs,
            "groupsettings": self._group_settings,
        }
        handler = handlers.get(name.casefold())
        if handler is None:
            raise Reply(unknown_path(req))
        return handler(req, key, rest)

    # -- helpers -------------------------------------------------------------------------------

    def _filter(
        self, req: GraphRequest, allowed: frozenset[str], directory: bool = False
    ) -> list[Clause]:
        """Parse ``$filter``; on directory objects ``ne``/``not``/``endsWith`` are advanced
        queries (aad-advanced-queries.md) and need ConsistencyLevel + ``$count=true``."""
        query = req.query
        if "$search" in query:
            raise Reply(unsupported_query("The emulator does not support $search here."))
        text = query.get("$filter")
        if text is None:
            return []
        widened = allowed | advanced_signatures(allowed) if directory else allowed
        try:
            clauses = parse_filter(text, widened)
        except UnsupportedFilter as exc:
            raise Reply(unsupported_query(f"Unsupported query: $filter={text} ({exc}).")) from None
        if any(c.advanced for c in clauses) and not self._advanced(req):
            raise Reply(
                unsupported_query(
                    f"Unsupported query: $filter={text} needs the advanced query parameters "
                    "(ConsistencyLevel: eventual and $count=true)."
                )
            )
        return clauses

    @staticmethod
    def _eventual(req: GraphRequest) -> bool:
        return req.headers.get("consistencylevel", "").strip().lower() == "eventual"

    def _advanced(self, req: GraphRequest) -> bool:
        """``ConsistencyLevel: eventual`` and ``$count=true`` (the advanced query parameters)."""
        return self._eventual(req) and req.query.get("$count", "").lower() == "true"

    def _search(self, req: GraphRequest, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``$search="displayName:Recrui"`` on directory objects: needs ConsistencyLevel
        (aad-advanced-queries.md: "with the exception of $search", $count is not required);
        matches tokens that start with the text, case-insensitively."""
        raw = req.query.get("$search")
        if raw is None:
            return items
        if not self._eventual(req):
            raise Reply(
                unsupported_query(
                    "Request with $search query parameter only works through MSGraph with a "
                    "special request header: 'ConsistencyLevel: eventual'"
                )
            )
        text = raw.strip()
        if not (len(text) >= 2 and text[0] == text[-1] == '"'):
            raise Reply(bad_request(f"Syntax error: $search value {raw!r} is not quoted."))
        prop, sep, wanted = text[1:-1].partition(":")
        if not sep or prop.casefold() not in DIRECTORY_SEARCH or not wanted.strip():
            raise Reply(unsupported_query(f"Unsupported query: $search={raw}."))
        needle = wanted.strip().casefold()

        def hit(item: dict[str, Any]) -> bool:
            value = str(item.get("displayName") or "").casefold()
            return any(token.startswith(needle) for token in re.split(r"[^\w]+", value)) or (
                value.startswith(needle)
            )

        return [item for item in items if hit(item)]

    def _orderby_rule(self, req: GraphRequest) -> None:
        """Directory objects: $filter with $orderby needs $count=true + ConsistencyLevel."""
        query = req.query
        if "$orderby" in query and "$filter" in query:
            advanced = (
                query.get("$count", "").lower() == "true"
                and req.headers.get("consistencylevel", "").lower() == "eventual"
            )
            if not advanced:
                raise Reply(unsupported_query("Sorting not supported for current query."))

    def _context(self, req: GraphRequest, fragment: str) -> str:
        return f"{self.base_url}/{req.version}/$metadata#{fragment}"

    def _page(self, req: GraphRequest, items: list[dict[str, Any]], context: str) -> GraphResponse:
        query = req.query
        size = self.page_size
        if "$top" in query:
            try:
                size = int(query["$top"])
            except ValueError:
                raise Reply(
                    bad_request(f"Invalid page size specified: '{query['$top']}'.")
                ) from None
            if not 1 <= size <= MAX_TOP:
                raise Reply(
                    bad_request(
                        f"Invalid page size specified: '{size}'. Must be between 1 and "
                        f"{MAX_TOP} inclusive."
                    )
                )
        offset = 0
        if "$skiptoken" in query:
            offset = _decode_skiptoken(query["$skiptoken"])
        elif "$skip" in query:
            try:
                offset = max(0, int(query["$skip"]))
            except ValueError:
                raise Reply(bad_request(f"Invalid $skip '{query['$skip']}'.")) from None
        body: dict[str, Any] = {"@odata.context": self._context(req, context)}
        if query.get("$count", "").lower() == "true":
            body["@odata.count"] = len(items)
        end = offset + size
        if end < len(items):
            body["@odata.nextLink"] = self._next_link(req, end)
        kind = kind_of(context)
        body["value"] = [self._shape(req, kind, item) for item in items[offset:end]]
        return GraphResponse(200, body)

    def _shape(self, req: GraphRequest, kind: str, item: dict[str, Any]) -> dict[str, Any]:
        if not kind:
            return copy.deepcopy(item)
        return shape(
            item,
            kind,
            version=req.version,
            unknown_enums=wants_unknown_enums(req.headers),
            nulls=self.nulls,
        )

    def _next_link(self, req: GraphRequest, offset: int) -> str:
        pairs = [(k, v) for k, v in req.query_pairs if k.lower() not in ("$skiptoken", "$skip")]
        pairs.append(("$skiptoken", _encode_skiptoken(offset)))
        query = urlencode(pairs, quote_via=quote, safe="$'(),:@/")
        return f"{self.base_url}/{req.version}{req.raw_path}?{query}"

    def _entity(self, req: GraphRequest, entity: dict[str, Any], context: str) -> GraphResponse:
        body = {"@odata.context": self._context(req, f"{context}/$entity")}
        body.update(self._shape(req, kind_of(context), entity))
        return GraphResponse(200, body)

    def _list(
        self,
        req: GraphRequest,
        items: list[dict[str, Any]],
        context: str,
        allowed: frozenset[str],
        part: str | None,
    ) -> GraphResponse:
        """GET a plain collection: validate query, check the part, filter and page."""
        if req.method != "GET":
            raise Reply(method_not_allowed())
        clauses = self._filter(req, allowed)
        if part is not None:
            check_part(self.tenant.status(part), context)
        with self.tenant.lock:
            snapshot = copy.deepcopy(items)
        return self._page(req, apply_filter(snapshot, clauses), context)

    def _body_object(self, req: GraphRequest) -> dict[str, Any]:
        if not isinstance(req.body, dict):
            raise Reply(bad_request("Empty or invalid JSON request payload.", "BadRequest"))
        return req.body

    # -- servicePrincipals ---------------------------------------------------------------------

    def _service_principals(
        self, req: GraphRequest, key: str | None, rest: list[str]
    ) -> GraphResponse:
        tenant = self.tenant
        if key is None and not rest:
            if req.method != "GET":
                raise Reply(method_not_allowed())
            clauses = self._filter(_without_search(req), SP_FILTERS, directory=True)
            self._orderby_rule(req)
            check_part(tenant.status("servicePrincipals"), "servicePrincipals")
            with tenant.lock:
                items = copy.deepcopy(tenant.service_principals)
            found = self._search(req, apply_filter(items, clauses))
            return self._page(req, found, "servicePrincipals")

        sp_id: str | None = None
        app_id: str | None = None
        if key is not None:
            prop, value = parse_key(key)
            if prop is not None and prop.casefold() == "appid":
                app_id = value
            elif prop is None or prop.casefold() == "id":
                sp_id = value
            else:
                raise Reply(bad_request(f"Unsupported alternate key '{prop}'."))
        else:
            sp_id, rest = rest[0], rest[1:]
        lookup = app_id if app_id is not None else sp_id or ""
        check_part(tenant.sp_status(sp_id, app_id), lookup)
        sp = tenant.service_principal(sp_id, app_id)
        if sp is None:
            raise Reply(not_found(lookup))
        sp_key = sp["id"]

        if not rest:
            if req.method == "GET":
                return self._entity(req, sp, "servicePrincipals")
            if req.method == "PATCH":
                patch = self._body_object(req)
                bad = sorted(k for k in patch if k in SP_READ_ONLY)
                if bad:
                    raise Reply(bad_request(f"Property '{bad[0]}' is read-only and cannot be set."))
                tenant.update_service_principal(sp_key, patch)
                return GraphResponse(204)
            raise Reply(method_not_allowed())

        sub = rest[0].casefold()
        if len(rest) > 1:
            raise Reply(unknown_path(req))
        if sub == "oauth2permissiongrants":
            return self._list(
                req,
                tenant.grants_for(sp_key),
                "oauth2PermissionGrants",
                GRANT_FILTERS,
                f"oauth2PermissionGrants:{sp_key}",
            )
        if sub == "approleassignedto":
            if req.method == "POST":
                return self._create_assignment(req, sp)
            return self._list(
                req,
                tenant.assignments_for(sp_key),
                f"servicePrincipals('{sp_key}')/appRoleAssignedTo",
                ASSIGNMENT_FILTERS,
                f"appRoleAssignedTo:{sp_key}",
            )
        if sub == "delegatedpermissionclassifications":
            is_graph = sp["appId"] == GRAPH_APP_ID
            items = tenant.delegated_permission_classifications if is_graph else []
            return self._list(
                req,
                items,
                f"servicePrincipals('{sp_key}')/delegatedPermissionClassifications",
                NO_FILTERS,
                "delegatedPermissionClassifications" if is_graph else None,
            )
        raise Reply(unknown_path(req))

    def _create_assignment(self, req: GraphRequest, sp: dict[str, Any]) -> GraphResponse:
        body = self._body_object(req)
        for name in ("principalId", "resourceId", "appRoleId"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise Reply(bad_request(f"Property '{name}' is required."))
        if body["resourceId"].casefold() != sp["id"].casefold():
            raise Reply(
                bad_request("The resourceId in the request body must match the service principal.")
            )
        for existing in self.tenant.assignments_for(sp["id"]):
            if (
                existing["principalId"].casefold() == body["principalId"].casefold()
                and existing["appRoleId"].casefold() == body["appRoleId"].casefold()
            ):
                raise Reply(bad_request("Permission being assigned already exists on the object"))
        created = self.tenant.add_app_role_assignment(sp["id"], body)
        response = self._entity(req, created, f"servicePrincipals('{sp['id']}')/appRoleAssignedTo")
        response.status = 201
        return response

    # -- oauth2PermissionGrants ----------------------------------------------------------------

    def _grant_part(self, clauses: list[Clause]) -> PartState:
        tenant = self.tenant
        client = clause_value(clauses, "eq:clientid")
        if client is not None:
            return tenant.status(f"oauth2PermissionGrants:{client}")
        with tenant.lock:
            states = [s for k, s in tenant.parts.items() if k.startswith("oauth2PermissionGrants:")]
        bad = [s for s in states if s.status not in (PartStatus.OK, PartStatus.NOT_COLLECTED)]
        return bad[0] if bad else PartState(PartStatus.OK)

    def _grants(self, req: GraphRequest, key: str | None, rest: list[str]) -> GraphResponse:
        tenant = self.tenant
        grant_id = parse_key(key)[1] if key is not None else (rest[0] if rest else None)
        if grant_id is None:
            if req.method == "GET":
                clauses = self._filter(req, GRANT_FILTERS)
                check_part(self._grant_part(clauses), "oauth2PermissionGrants")
                with tenant.lock:
                    items = copy.deepcopy(tenant.grants)
                return self._page(req, apply_filter(items, clauses), "oauth2PermissionGrants")
            if req.method == "POST":
                return self._create_grant(req)
            raise Reply(method_not_allowed())
        if (key is None and len(rest) > 1) or (key is not None and rest):
            raise Reply(unknown_path(req))
        grant = tenant.grant(grant_id)
        if grant is None:
            raise Reply(not_found(grant_id))
        if req.method == "GET":
            check_part(tenant.status(f"oauth2PermissionGrants:{grant['clientId']}"), grant_id)
            return self._entity(req, grant, "oauth2PermissionGrants")
        if req.method == "PATCH":
            patch = self._body_object(req)
            extra = sorted(set(patch) - {"scope"})
            if extra:
                raise Reply(
                    bad_request(f"Property '{extra[0]}' cannot be updated; only 'scope' can.")
                )
            if not isinstance(patch.get("scope"), str):
                raise Reply(bad_request("Property 'scope' must be a string."))
            tenant.update_grant(grant_id, patch["scope"])
            return GraphResponse(204)
        if req.method == "DELETE":
            tenant.delete_grant(grant_id)
            return GraphResponse(204)
        raise Reply(method_not_allowed())

    def _create_grant(self, req: GraphRequest) -> GraphResponse:
        body = self._body_object(req)
        unknown = sorted(k for k in body if k not in GRANT_POST_KEYS and not k.startswith("@"))
        if unknown:
            raise Reply(
                bad_request(
                    f"Property '{unknown[0]}' does not exist on type "
                    "'microsoft.graph.oAuth2PermissionGrant'."
                )
            )
        for name in ("clientId", "consentType", "resourceId"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise Reply(bad_request(f"Property '{name}' is required."))
        consent_type = body["consentType"]
        principal = body.get("principalId")
        if consent_type not in ("AllPrincipals", "Principal"):
            raise Reply(bad_request(f"Invalid value '{consent_type}' for property 'consentType'."))
        if consent_type == "Principal" and not principal:
            raise Reply(bad_request("principalId is required when consentType is 'Principal'."))
        if consent_type == "AllPrincipals" and principal:
            raise Reply(
                bad_request("principalId must be null when consentType is 'AllPrincipals'.")
            )
        if "scope" in body and not isinstance(body["scope"], str):
            raise Reply(bad_request("Property 'scope' must be a string."))
        for name in ("clientId", "resourceId"):
            if self.tenant.service_principal(body[name]) is None:
                raise Reply(
                    bad_request(
                        f"Invalid value specified for property '{name}' of resource "
                        "'OAuth2PermissionGrant'."
                    )
                )
        if self.tenant.find_duplicate_grant(body) is not None:
            raise Reply(
                error(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "Permission entry already exists.",
                )
            )
        created = self.tenant.add_grant(body)
        response = self._entity(req, created, "oauth2PermissionGrants")
        response.status = 201
        return response

    # -- policies ------------------------------------------------------------------------------

    def _policies(self, req: GraphRequest, key: str | None, rest: list[str]) -> GraphResponse:
        tenant = self.tenant
        if key is not None or not rest:
            raise Reply(unknown_path(req))
        name = rest[0].casefold()
        if name == "authorizationpolicy" and (
            len(rest) == 1 or (len(rest) == 2 and rest[1].casefold() == "authorizationpolicy")
        ):
            return self._singleton(
                req,
                tenant.authorization_policy,
                "policies/authorizationPolicy",
                "authorizationPolicy",
            )
        if name == "adminconsentrequestpolicy" and len(rest) == 1:
            return self._singleton(
                req,
                tenant.admin_consent_request_policy,
                "policies/adminConsentRequestPolicy",
                "adminConsentRequestPolicy",
            )
        if name == "permissiongrantpolicies":
            context = "policies/permissionGrantPolicies"
            if len(rest) == 1:
                return self._list(
                    req,
                    tenant.permission_grant_policies,
                    context,
                    PGP_FILTERS,
                    "permissionGrantPolicies",
                )
            if req.method != "GET":
                raise Reply(method_not_allowed())
            check_part(tenant.status("permissionGrantPolicies"), rest[1])
            policy = next(
                (
                    p
                    for p in tenant.permission_grant_policies
                    if p["id"].casefold() == rest[1].casefold()
                ),
                None,
            )
            if policy is None:
                raise Reply(not_found(rest[1]))
            if len(rest) == 2:
                return self._entity(req, policy, context)
            if len(rest) == 3 and rest[2].casefold() in ("includes", "excludes"):
                field_name = rest[2].casefold()
                return self._list(
                    req,
                    policy[field_name],
                    f"{context}('{policy['id']}')/{field_name}",
                    NO_FILTERS,
                    None,
                )
        raise Reply(unknown_path(req))

    def _group_settings(self, req: GraphRequest, key: str | None, rest: list[str]) -> GraphResponse:
        """``GET /groupSettings`` (v1.0 groupsetting-list.md): the tenant-wide directory
        settings, groupSetting objects ``{id, displayName, templateId, values: [{name,
        value}]}`` with string values; "$filter is not supported". The snapshot keeps the
        Consent Policy Settings objects only, so a tenant without one answers ``[]``."""
        if key is not None or rest:
            raise Reply(unknown_path(req))
        if "$filter" in req.query:
            raise Reply(unsupported_query("$filter is not supported on groupSettings."))
        return self._list(
            req, self.tenant.group_settings, "groupSettings", NO_FILTERS, "groupSettings"
        )

    def _singleton(
        self, req: GraphRequest, entity: dict[str, Any], context: str, part: str
    ) -> GraphResponse:
        if req.method != "GET":
            raise Reply(method_not_allowed())
        self._filter(req, NO_FILTERS)
        check_part(self.tenant.status(part), part)
        return self._entity(req, entity, context)

    # -- conditional access / consent requests -------------------------------------------------

    def _identity(self, req: GraphRequest, key: str | None, rest: list[str]) -> GraphResponse:
        low = [r.casefold() for r in rest]
        if key is None and low == ["conditionalaccess", "evaluate"]:
            return self._what_if(req)
        if key is None and low[:2] == ["conditionalaccess", "policies"]:
            tenant = self.tenant
            context = "identity/conditionalAccess/policies"
            if len(rest) == 2:
                return self._list(
                    req,
                    tenant.conditional_access_policies,
                    context,
                    CA_FILTERS,
                    "conditionalAccessPolicies",
                )
            if len(rest) == 3 and req.method == "GET":
                check_part(tenant.status("conditionalAccessPolicies"), rest[2])
                policy = next(
                    (p for p in tenant.conditional_access_policies if p["id"] == rest[2]), None
                )
                if policy is None:
                    raise Reply(not_found(rest[2]))
                return self._entity(req, policy, context)
        raise Reply(unknown_path(req))

    def _what_if(self, req: GraphRequest) -> GraphResponse:
        """conditionalAccessRoot: evaluate (what_if.py); v1.0 and beta, POST only."""
        if req.method != "POST":
            raise Reply(method_not_allowed())
        tenant = self.tenant
        with tenant.lock:
            tenant.what_if_requests.append(copy.deepcopy(req.body))
        check_part(tenant.status("conditionalAccessWhatIf"), "conditionalAccess/evaluate")
        body = req.body if isinstance(req.body, dict) else {}
        identity = body.get("signInIdentity")
        context = body.get("signInContext")
        user_id = identity.get("userId") if isinstance(identity, dict) else None
        apps = context.get("includeApplications") if isinstance(context, dict) else None
        entry = tenant.find_user(user_id) if isinstance(user_id, str) else None
        user = entry.user if entry is not None else None
        recorded = None
        if user is not None and isinstance(apps, list):
            asked = (user.id.casefold(), tuple(str(a).casefold() for a in apps))
            recorded = tenant.what_if_recorded.get(asked)
        with tenant.lock:
            policies = copy.deepcopy(tenant.conditional_access_policies)
        answer = what_if.evaluate(req.body, user, policies)
        if isinstance(answer, GraphResponse):
            return answer
        if recorded is not None:
            state, recorded_answer = recorded
            check_part(state, "conditionalAccess/evaluate")
            answer = copy.deepcopy(recorded_answer)
            if body.get("appliedPoliciesOnly"):
                answer = [a for a in answer if a.get("policyApplies")]
        value = [
            shape(
                a,
                "caPolicy",
                version=req.version,
                unknown_enums=wants_unknown_enums(req.headers),
                nulls=self.nulls,
            )
            for a in answer
        ]
        context_url = self._context(req, "Collection(microsoft.graph.whatIfAnalysisResult)")
        return GraphResponse(200, {"@odata.context": context_url, "value": value})

    def _identity_governance(
        self, req: GraphRequest, key: str | None, rest: list[str]
    ) -> GraphResponse:
        """appConsentRequests (appconsentrequest-list.md): the list does not expand
        ``userConsentRequests`` (they come back ``[]``, and ``$expand`` is refused); each
        request's are read at ``/appConsentRequests/{id}/userConsentRequests``."""
        low = [r.casefold() for r in rest]
        if key is not None or low[:2] != ["appconsent", "appconsentrequests"]:
            raise Reply(unknown_path(req))
        context = "identityGovernance/appConsent/appConsentRequests"
        tenant = self.tenant
        if req.method != "GET":
            raise Reply(method_not_allowed())
        _no_expand(req, "appConsentRequests")
        if len(rest) == 2:
            clauses = self._filter(req, CONSENT_REQUEST_FILTERS)
            check_part(tenant.status("appConsentRequests"), context)
            with tenant.lock:
                items = copy.deepcopy(tenant.app_consent_requests)
            listed = [{**r, "userConsentRequests": []} for r in apply_filter(items, clauses)]
            return self._page(req, listed, context)
        check_part(tenant.status("appConsentRequests"), rest[2])
        request = next((r for r in tenant.app_consent_requests if r["id"] == rest[2]), None)
        if request is None:
            raise Reply(not_found(rest[2]))
        if len(rest) == 3:
            self._filter(req, NO_FILTERS)
            return self._entity(req, {**request, "userConsentRequests": []}, context)
        if len(rest) == 4 and low[3] == "userconsentrequests":
            return self._list(
                req,
                request.get("userConsentRequests") or [],
                f"{context}('{request['id']}')/userConsentRequests",
                USER_CONSENT_REQUEST_FILTERS,
                None,
            )
        raise Reply(unknown_path(req))

    # -- organization / users ------------------------------------------------------------------

    def _organization(self, req: GraphRequest, key: str | None, rest: list[str]) -> GraphResponse:
        if key is not None or rest:
            raise Reply(unknown_path(req))
        tenant = self.tenant
        domains: list[dict[str, Any]] = []
        if tenant.default_domain:
            domains.append(
                {
                    "capabilities": "Email, OfficeCommunicationsOnline",
                    "isDefault": True,
                    "isInitial": tenant.default_domain.endswith(".onmicrosoft.com"),
                    "name": tenant.default_domain,
                    "type": "Managed",
                }
            )
        org = {
            "id": tenant.tenant_id,
            "displayName": tenant.display_name,
            "verifiedDomains": domains,
        }
        return self._list(req, [org], "organization", NO_FILTERS, None)

    @staticmethod
    def _user_json(entry_user: Any) -> dict[str, Any]:
        return {
            "id": entry_user.id,
            "userPrincipalName": entry_user.user_principal_name,
            "displayName": entry_user.display_name,
            "mail": entry_user.mail,
            "accountEnabled": entry_user.account_enabled,
            "userType": entry_user.user_type,
        }

    def _users(self, req: GraphRequest, key: str | None, rest: list[str]) -> GraphResponse:
        tenant = self.tenant
        if key is None and not rest:
            users = [self._user_json(u.user) for u in tenant.users if u.user is not None]
            clauses = self._filter(req, frozenset({"eq:userprincipalname", "eq:id"}), True)
            return self._page(req, apply_filter(users, clauses), "users")
        if key is not None:
            user_key = parse_key(key)[1]
        else:
            user_key, rest = rest[0], rest[1:]
        if req.method != "GET":
            raise Reply(method_not_allowed())
        entry = tenant.find_user(user_key)
        if entry is None:
            raise Reply(not_found(user_key))
        check_part(entry.state, user_key)
        user = entry.user
        if user is None:
            raise Reply(not_found(user_key))
        low = [r.casefold() for r in rest]
        if not low:
            self._filter(req, NO_FILTERS)
            return self._entity(req, self._user_json(user), "users")
        group = "#microsoft.graph.group"

        def groups(ids: list[str]) -> list[dict[str, Any]]:
            return [
                {"@odata.type": group, "id": gid, "displayName": user.group_display_names.get(gid)}
                for gid in ids
            ]

        roles = [
            {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": f"role-{template}",
                "displayName": ROLE_TEMPLATE_NAMES.get(template),
                "roleTemplateId": template,
            }
            for template in user.directory_role_template_ids
        ]
        direct = list(dict.fromkeys(user.member_of_group_ids))
        transitive = list(
            dict.fromkeys([*user.member_of_group_ids, *user.transitive_member_of_group_ids])
        )
        if low == ["memberof"]:
            return self._list(req, groups(direct) + roles, "directoryObjects", NO_FILTERS, None)
        if low == ["transitivememberof"]:
            return self._list(req, groups(transitive) + roles, "directoryObjects", NO_FILTERS, None)
        if len(low) == 2 and low[0] in ("memberof", "transitivememberof"):
            if low[1] != "microsoft.graph.group":
                raise Reply(unknown_path(req))
            # aad-advanced-queries.md, "Use of OData cast": .../transitiveMemberOf/
            # microsoft.graph.group?$count=true with ConsistencyLevel: eventual.
            if not self._advanced(req):
                raise Reply(
                    unsupported_query(
                        "The OData cast /microsoft.graph.group needs the advanced query "
                        "parameters (ConsistencyLevel: eventual and $count=true)."
                    )
                )
            ids = direct if low[0] == "memberof" else transitive
            return self._list(req, groups(ids), "groups", NO_FILTERS, None)
        raise Reply(unknown_path(req))

    # -- audit logs ----------------------------------------------------------------------------

    def _audit_logs(self, req: GraphRequest, key: str | None, rest: list[str]) -> GraphResponse:
        low = [r.casefold() for r in rest]
        if key is None and low == ["directoryaudits"]:
            return self._list(
                req,
                self.tenant.directory_audits,
                "auditLogs/directoryAudits",
                AUDIT_FILTERS,
                "directoryAudits",
            )
        if key is None and low == ["signins"]:
            return self._sign_ins(req)
        raise Reply(unknown_path(req))

    def _sign_ins(self, req: GraphRequest) -> GraphResponse:
        """v1.0 signin-list.md: "Sign-ins that are interactive in nature ... are currently
        included"; beta answers non-interactive rows under
        ``signInEventTypes/any(t: t eq 'nonInteractiveUser')`` (interactive by default)."""
        if req.method != "GET":
            raise Reply(method_not_allowed())
        allowed = (
            SIGNIN_FILTERS if req.version == "beta" else SIGNIN_FILTERS - {"any:signineventtypes"}
        )
        clauses = self._filter(req, allowed)
        check_part(self.tenant.status("signIns"), "auditLogs/signIns")
        kinds = [c for c in clauses if c.signature == "any:signineventtypes"]
        wanted_non_interactive = any(
            str(c.values[0]).casefold() == NON_INTERACTIVE.casefold() for c in kinds
        )
        with self.tenant.lock:
            rows = copy.deepcopy(self.tenant.sign_ins)
        rows = [r for r in rows if is_interactive(r) != wanted_non_interactive]
        rest = [c for c in clauses if c.signature != "any:signineventtypes"]
        return self._page(req, apply_filter(rows, rest), "auditLogs/signIns")
