"""A batch-aware fake of Microsoft Graph served through ``responses``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
import responses

ROOT = "https://graph.microsoft.com"
BATCH_URL = f"{ROOT}/v1.0/$batch"
BETA_BATCH_URL = f"{ROOT}/beta/$batch"

Answer = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class Raw:
    """A page GET's body sent as is (a proxy's HTML page), not as JSON."""

    text: str


def error_body(code: str, message: str, request_id: str = "rid-1") -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": request_id}}}


@dataclass
class FakeGraph:
    """Routes inner ``$batch`` requests and plain GETs (pages) by their (decoded) URL.

    Requests of a ``/beta/$batch`` are routed as ``/beta`` + their URL (a beta route is added
    as ``/beta/policies/...``); unrouted beta requests get 404, as from a Graph that lacks
    them. A GET of ``{ROOT}/v1.0/x`` is routed as ``/x`` (``/beta/x`` for beta). A route ending
    in ``*`` matches by prefix. A route holds a queue of answers; the last one repeats.
    ``outer`` queues whole-batch answers (status, body, headers) served first. ``gets`` holds
    the plain GETs' routed URLs with their headers; ``urls()`` every routed URL in order.
    """

    routes: dict[str, list[Answer]] = field(default_factory=dict)
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    outer: list[Answer] = field(default_factory=list)
    gets: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

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
        root = url.rsplit("/", 2)[0]
        rsps.add_callback(
            responses.GET, re.compile(re.escape(root) + r"/(v1\.0|beta)/"), callback=self._get
        )
        return self

    def _get(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.auth_headers.append(str(request.headers.get("Authorization")))
        parts = urlsplit(str(request.url))
        version, _, rest = parts.path.lstrip("/").partition("/")
        path = ("/beta" if version == "beta" else "") + "/" + rest
        if parts.query:
            path += "?" + parts.query
        self.gets.append((unquote(path), dict(request.headers)))
        self.requested.append(unquote(path))
        status, payload, headers = self._answer(path)
        if isinstance(payload, Exception):
            raise payload  # a transport failure: reset, refused, timed out
        if isinstance(payload, Raw):
            return status, {"Content-Type": "text/html", **headers}, payload.text
        return status, {"Content-Type": "application/json", **headers}, json.dumps(payload)

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
        beta_batch = "/beta/" in str(request.url)
        self.requested.extend(
            unquote(("/beta" if beta_batch else "") + r["url"]) for r in body["requests"]
        )
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
        """Every URL asked for, inner batch requests and page GETs, in order (beta ones as
        ``/beta/...``)."""
        return list(self.requested)


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
