"""A batch-aware fake of Microsoft Graph served through ``responses``."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import requests
import responses

ROOT = "https://graph.microsoft.com"
BATCH_URL = f"{ROOT}/v1.0/$batch"
BETA_BATCH_URL = f"{ROOT}/beta/$batch"

Answer = tuple[int, Any, dict[str, str]]


def error_body(code: str, message: str, request_id: str = "rid-1") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": request_id}}}


@dataclass
class FakeGraph:
    """Routes inner ``$batch`` requests by their (decoded) URL.

    Requests of a ``/beta/$batch`` are routed as ``/beta`` + their URL (a beta route is added
    as ``/beta/policies/...``); unrouted beta requests get 404, as from a Graph that lacks
    them. A route ending in ``*`` matches by prefix. A route holds a queue of answers; the last one
    repeats. ``outer`` queues whole-batch answers (status, body, headers) served first.
    """

    routes: dict[str, list[Answer]] = field(default_factory=dict)
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    outer: list[Answer] = field(default_factory=list)

    def add(
        self,
        path: str,
        body: Any = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> FakeGraph:
        self.routes.setdefault(path, []).append((status, body, headers or {}))
        return self

    def install(self, rsps: responses.RequestsMock, url: str = BATCH_URL) -> FakeGraph:
        rsps.add_callback(responses.POST, url, callback=self._callback)
        if url == BATCH_URL:
            rsps.add_callback(responses.POST, BETA_BATCH_URL, callback=self._callback)
        return self

    def _answer(self, url: str) -> Answer:
        path = unquote(url)
        queue = self.routes.get(path)
        if queue is None:
            matches = [k for k in self.routes if k.endswith("*") and path.startswith(k[:-1])]
            queue = self.routes[max(matches, key=len)] if matches else None
        if queue is None:
            return 404, error_body("Request_ResourceNotFound", f"no route {path}"), {}
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def _callback(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.auth_headers.append(str(request.headers.get("Authorization")))
        body = json.loads(request.body or b"{}")
        self.batches.append(body["requests"])
        if self.outer:
            status, payload, headers = self.outer.pop(0)
            return status, headers, json.dumps(payload)
        answers = []
        beta = "/beta/" in str(request.url)
        for item in reversed(body["requests"]):  # any order, as Graph says
            status, payload, headers = self._answer(("/beta" if beta else "") + item["url"])
            answers.append(
                {"id": item["id"], "status": status, "headers": headers, "body": payload}
            )
        return 200, {"Content-Type": "application/json"}, json.dumps({"responses": answers})

    def urls(self) -> list[str]:
        return [unquote(r["url"]) for batch in self.batches for r in batch]


class FakeTokens:
    """A TokenProvider that counts refreshes."""

    def __init__(self, tokens: list[str] | None = None) -> None:
        self.tokens = tokens or ["token-1", "token-2"]
        self.refreshes = 0

    def token(self, *, refresh: bool = False) -> str:
        if refresh:
            self.refreshes += 1
        return self.tokens[min(self.refreshes, len(self.tokens) - 1)]


class Sleeper:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(
    tokens: FakeTokens | None = None, sleep: Callable[[float], None] | None = None, **kw: Any
) -> Any:
    from consent_audit.live.graph_client import GraphClient

    return GraphClient(
        ROOT,
        tokens or FakeTokens(),
        sleep=sleep or Sleeper(),
        random=lambda: 0.5,
        **kw,
    )
