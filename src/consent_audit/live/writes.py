"""Graph writes for ``fix --apply``: one request at a time, in plan order, stopping at none.

Writes are few and ordered (enable the app before assigning users to it), so they are sent
one by one rather than batched, each retried on 429/503/504 honouring Retry-After, and the
token is sent only to the configured Graph host. A 403 names the permission and the roles
that can grant it: Privileged Role Administrator for delegated permission grants; Cloud
Application Administrator or Application Administrator for app changes and assignments
(entra-docs grant-admin-consent.md, assign-user-or-group-access-portal.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from consent_audit.live.graph_client import DEFAULT_BACKOFF, TokenProvider, parse_retry_after
from consent_audit.live.graph_errors import GraphError, parse_graph_error
from consent_audit.report import PlanStep

APP_ADMINS = "Cloud Application Administrator or Application Administrator"
ROLES_FOR = {
    "DelegatedPermissionGrant.ReadWrite.All": "Privileged Role Administrator",
    "Application.ReadWrite.All": APP_ADMINS,
    "AppRoleAssignment.ReadWrite.All": APP_ADMINS,
}
RETRYABLE = {429, 503, 504}


@dataclass(frozen=True)
class ActionResult:
    action: PlanStep
    ok: bool
    message: str


class GraphWriter:
    def __init__(
        self,
        graph_root: str,
        tokens: TokenProvider,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        attempts: int = 4,
        backoff: float = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = f"{graph_root.rstrip('/')}/v1.0"
        self.tokens = tokens
        self.session = session or requests.Session()
        self.timeout = timeout
        self.attempts = attempts
        self.sleep = sleep
        self.backoff = backoff

    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        refreshed = False
        for attempt in range(self.attempts):
            token = self.tokens.token(refresh=refreshed)
            try:
                response = self.session.request(
                    method,
                    self.base + path,
                    json=body,
                    timeout=self.timeout,
                    headers={"Authorization": f"Bearer {token}"},
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                raise GraphError(0, "ConnectionFailed", type(exc).__name__) from None
            if response.status_code == 401 and not refreshed:
                refreshed = True
                continue
            if response.status_code in RETRYABLE and attempt + 1 < self.attempts:
                delay = parse_retry_after(response.headers.get("Retry-After"))
                fallback = self.backoff * 2.0**attempt
                self.sleep(min(delay if delay is not None else fallback, 30.0))
                continue
            if 300 <= response.status_code < 400:
                # Redirects are not followed (the token would go elsewhere), so nothing was
                # written: a 3xx is a failure, never "done".
                raise GraphError(
                    response.status_code, "Redirected", "Graph answered with a redirect"
                )
            if not 200 <= response.status_code < 300:
                raise parse_graph_error(
                    response.status_code, _json(response), dict(response.headers)
                )
            return _json(response)
        raise GraphError(0, "RetriesExhausted", "Graph kept throttling the write")

    def apply(self, actions: Sequence[PlanStep]) -> list[ActionResult]:
        results: list[ActionResult] = []
        for action in actions:
            if action.method is None or action.path is None:
                continue  # a manual step: a person's decision, never sent
            try:
                self.send(action.method, action.path, action.body or {})
            except GraphError as error:
                hint = ""
                if error.status == 403:
                    hint = (
                        f" This change needs {action.permission} and the "
                        f"{ROLES_FOR.get(action.permission or '', 'right admin')} role."
                    )
                results.append(
                    ActionResult(
                        action, False, f"{error.status} {error.code}: {error.message}{hint}"
                    )
                )
                continue
            results.append(ActionResult(action, True, "done"))
        return results


def _json(response: requests.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
