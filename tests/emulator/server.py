"""The Graph emulator's HTTP side: a real stdlib server on 127.0.0.1 with auth, faults, $batch.

Usage::

    faults = [Fault.throttle(r"/servicePrincipals", count=2, retry_after="0.01")]
    with GraphEmulator(snapshot, token="test-token", faults=faults) as emu:
        requests.get(f"{emu.url}/v1.0/servicePrincipals",
                     headers={"Authorization": "Bearer test-token"}, timeout=5)
        emu.requests      # [RequestRecord(method, target, batch_inner, had_auth, timestamp), ...]
        emu.tenant.grants # state after mutations
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import quote, unquote, unquote_plus, urlsplit

from consent_audit.snapshot import TenantSnapshot, load_snapshot

from .faults import Fault, FaultKind, pick_fault
from .graph_rules import Nulls
from .odata import JSON_CONTENT_TYPE, GraphResponse, bad_request, error, error_envelope
from .router import GraphRequest, Router, method_not_allowed, parse_target
from .tenant import EmulatorTenant

HOST = "127.0.0.1"
MAX_BATCH = 20
_STATUS_CODES = {
    500: ("generalException", "An unexpected error occurred."),
    502: ("BadGateway", "The gateway received an invalid response."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please try again later."),
    504: ("GatewayTimeout", "The gateway did not receive a timely response."),
}
_HTML_BODY = b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"


def decode_target(raw_target: str) -> str:
    """Readable form of a request target: path percent-decoded, query also ``+`` -> space."""
    path, sep, query = raw_target.partition("?")
    return unquote(path) + sep + unquote_plus(query)


class RequestRecord(NamedTuple):
    """One request as it arrived (inner $batch requests are recorded too)."""

    method: str
    target: str
    """Decoded path and query, e.g. ``/v1.0/servicePrincipals?$filter=appId eq 'x'``."""
    batch_inner: bool
    had_auth: bool
    """Whether an Authorization header came with it (inner requests: the batch's)."""
    timestamp: float
    """``time.monotonic()`` at arrival."""


class ForeignRecord(NamedTuple):
    """A request that reached the foreign-origin listener (see Fault.foreign_next_link)."""

    method: str
    target: str
    had_auth: bool
    authorization: str | None
    timestamp: float


@dataclass
class _Outgoing:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    mode: str = "normal"  # normal | reset | truncated | short_body | non_json | drip_* | huge
    fault: Fault | None = None


def _throttle_body() -> dict[str, Any]:
    """The 429 body of concepts/throttling.md (graph-samples/error-429-throttled.json)."""
    body = error_envelope("TooManyRequests", "Please retry again later.")
    inner = body["error"]["innerError"]
    inner.update({"code": "429", "message": "Please retry after", "status": "429"})
    return body


# -- HTTP plumbing -----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], owner: GraphEmulator) -> None:
        self.owner = owner
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(
            (HOST, 0 if owner.requested_port is None else owner.requested_port), handler
        )

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can stall.
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GraphEmulator/1.0"
    sys_version = ""
    timeout = 30  # idle keep-alive connections end on their own
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Without this, Nagle + delayed ACK add ~40 ms to every keep-alive response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.owner.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        try:
            body = self._read_body()
            try:
                out = self.server.owner._serve_http(
                    self.command, self.path, dict(self.headers), body
                )
            except Exception as exc:  # an emulator bug: say so instead of dropping the socket
                envelope = error_envelope("EmulatorInternalError", f"{type(exc).__name__}: {exc}")
                out = _Outgoing(
                    500, {"Content-Type": JSON_CONTENT_TYPE}, json.dumps(envelope).encode()
                )
            self._send(out)
        except OSError:  # client went away (timeout, reset): nothing to answer
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    def _send(self, out: _Outgoing) -> None:
        if out.mode == "reset":
            self._reset()
            return
        if out.mode in ("drip_headers", "drip_body", "huge") and out.fault is not None:
            self._send_hostile(out, out.fault)
            return
        body = out.body
        headers = dict(out.headers)
        declared = len(body)
        payload = body
        if out.mode == "non_json":
            payload = _HTML_BODY
            declared = len(payload)
            headers["Content-Type"] = "text/html"
        elif out.mode == "truncated":
            payload = body[: max(1, len(body) // 2)] if body else b""
            declared = len(payload)
        elif out.mode == "short_body":
            payload = body[: len(body) // 2]
            headers["Connection"] = "close"
            self.close_connection = True
        self.send_response(out.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _send_hostile(self, out: _Outgoing, fault: Fault) -> None:
        """A drip (one byte every ``fault.seconds``) or a huge body, written by hand."""
        owner = self.server.owner
        self.close_connection = True
        if out.mode == "huge":
            head = b'{"value":["'
            tail = b'"]}'
            pad = max(0, fault.size - len(head) - len(tail))
            lines = [f"HTTP/1.1 200 OK\r\nContent-Type: {JSON_CONTENT_TYPE}\r\n"]
            lines.append(f"Content-Length: {fault.size}\r\n" if fault.declared else "")
            lines.append("Connection: close\r\n\r\n")
            self.wfile.write("".join(lines).encode())
            self.wfile.write(head)
            owner.note_sent(len(head))
            chunk = b"x" * (1024 * 1024)
            while pad > 0 and not owner.stopping:
                piece = chunk[: min(pad, len(chunk))]
                self.wfile.write(piece)
                owner.note_sent(len(piece))
                pad -= len(piece)
            self.wfile.write(tail)
            self.wfile.flush()
            return
        head = (
            f"HTTP/1.1 {out.status} OK\r\nContent-Type: {JSON_CONTENT_TYPE}\r\n"
            f"Content-Length: {len(out.body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        slow, fast = (head, b"") if out.mode == "drip_headers" else (out.body, head)
        if fast:
            self.wfile.write(fast)
            self.wfile.flush()
        for index in range(len(slow)):
            self.wfile.write(slow[index : index + 1])
            self.wfile.flush()
            owner.note_sent(1)
            if owner.stopping:
                return
            owner._stop.wait(fault.seconds)
        if out.mode == "drip_headers":
            self.wfile.write(out.body)
            self.wfile.flush()

    def _reset(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.connection.close()


class _ForeignHandler(_Handler):
    """Answers anything with an empty collection, recording whether auth was sent."""

    def _handle(self) -> None:
        try:
            self._read_body()
            self.server.owner._record_foreign(
                self.command, self.path, self.headers.get("Authorization")
            )
            body = json.dumps({"value": []}).encode()
            self._send(_Outgoing(200, {"Content-Type": "application/json"}, body))
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


# -- the emulator ------------------------------------------------------------------------------


class GraphEmulator:
    """A local Microsoft Graph (v1.0 and beta, as strict as Graph's docs) over a TenantSnapshot.

    ``nulls=True`` answers ``null`` where the CSDL allows it (tests/emulator/graph_rules.py).

    ``tenant`` may be a TenantSnapshot, an EmulatorTenant, or a path to a snapshot file.
    ``url`` is the Graph root without version (``http://127.0.0.1:PORT``).
    """

    def __init__(
        self,
        tenant: TenantSnapshot | EmulatorTenant | str | os.PathLike[str],
        *,
        token: str = "test-token",
        faults: Iterable[Fault] = (),
        latency_ms: float = 0.0,
        page_size: int = 100,
        seed: int = 0,
        port: int | None = None,
        foreign_host: str = "localhost",
        max_sleep_s: float = 10.0,
        verbose: bool = False,
        nulls: Nulls = False,
    ) -> None:
        if isinstance(tenant, EmulatorTenant):
            self.tenant = tenant
        elif isinstance(tenant, TenantSnapshot):
            self.tenant = EmulatorTenant(tenant)
        else:
            self.tenant = EmulatorTenant(load_snapshot(Path(tenant)))
        self.faults: list[Fault] = list(faults)
        self.latency_ms = float(latency_ms)
        self.max_sleep_s = float(max_sleep_s)
        self.requested_port = port
        self.foreign_host = foreign_host
        self.verbose = verbose
        self.router = Router(self.tenant, page_size=page_size, nulls=nulls)
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._tokens: set[str] = {token}
        self._budgets: dict[str, int] = {}
        self._expired: set[str] = set()
        self._requests: list[RequestRecord] = []
        self._foreign_requests: list[ForeignRecord] = []
        self._stop = threading.Event()
        self.hostile_bytes_sent = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._foreign: _Server | None = None
        self._foreign_thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> GraphEmulator:
        if self._server is not None:
            return self
        self._stop.clear()
        self._server, self._thread = self._listen(_Handler)
        self.router.base_url = self.url
        return self

    def _listen(self, handler: type[_Handler]) -> tuple[_Server, threading.Thread]:
        server = _Server(handler, self)
        thread = threading.Thread(
            target=server.serve_forever,
            # stop() waits for the loop to see the shutdown flag: up to one poll interval.
            # A test starts and stops an emulator in ~0.1 s, so 5 ms keeps that wait short
            # (about 6 s of the suite's wall time at 0.05 s) for ~200 idle wake-ups a second.
            kwargs={"poll_interval": 0.005},
            name=f"graph-emulator-{server.server_port}",
            daemon=True,
        )
        thread.start()
        return server, thread

    def stop(self) -> None:
        self._stop.set()  # wakes injected sleeps
        for server, thread in ((self._server, self._thread), (self._foreign, self._foreign_thread)):
            if server is None:
                continue
            server.shutdown()
            server.close_connections()
            server.server_close()
            if thread is not None:
                thread.join(timeout=5)
        self._server = self._thread = self._foreign = self._foreign_thread = None

    def __enter__(self) -> GraphEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("GraphEmulator is not running; use it as a context manager.")
        return f"http://{HOST}:{self._server.server_port}"

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 0

    @property
    def page_size(self) -> int:
        return self.router.page_size

    @page_size.setter
    def page_size(self, value: int) -> None:
        self.router.page_size = value

    # -- inspection ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def foreign_requests(self) -> list[ForeignRecord]:
        with self._lock:
            return list(self._foreign_requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._foreign_requests.clear()

    @property
    def foreign_url(self) -> str:
        """Origin of the foreign listener (started on first use)."""
        with self._lock:
            if self._foreign is None:
                self._foreign, self._foreign_thread = self._listen(_ForeignHandler)
            return f"http://{self.foreign_host}:{self._foreign.server_port}"

    # -- configuration at run time -------------------------------------------------------------

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def expire_token_after(self, n_requests: int, token: str | None = None) -> None:
        """Accept the current token(s) for ``n_requests`` more requests, then answer 401."""
        with self._lock:
            for tok in [token] if token is not None else list(self._tokens):
                self._budgets[tok] = n_requests

    def accept_token(self, token: str) -> None:
        """Make ``token`` valid (e.g. the refreshed one after expire_token_after)."""
        with self._lock:
            self._tokens.add(token)
            self._expired.discard(token)
            self._budgets.pop(token, None)

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.discard(token)
            self._expired.add(token)

    # -- request processing --------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def note_sent(self, count: int) -> None:
        """Bytes a drip or a huge body got onto the socket (before the client hung up)."""
        with self._lock:
            self.hostile_bytes_sent += count

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(min(seconds, self.max_sleep_s))

    def _log(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def _record_foreign(self, method: str, target: str, authorization: str | None) -> None:
        with self._lock:
            self._foreign_requests.append(
                ForeignRecord(
                    method,
                    decode_target(target),
                    authorization is not None,
                    authorization,
                    time.monotonic(),
                )
            )

    def _authenticate(self, header: str | None) -> GraphResponse | None:
        def deny(message: str) -> GraphResponse:
            resp = error(401, "InvalidAuthenticationToken", message)
            resp.headers["WWW-Authenticate"] = (
                'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
            )
            return resp

        if not header:
            return deny("Access token is empty.")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return deny("Access token validation failure. Invalid audience.")
        with self._lock:
            if token in self._expired:
                return deny("Lifetime validation failed, the token is expired.")
            if token not in self._tokens:
                return deny("Access token validation failure. Invalid audience.")
            budget = self._budgets.get(token)
            if budget is not None:
                if budget <= 0:
                    self._tokens.discard(token)
                    self._expired.add(token)
                    self._budgets.pop(token)
                    return deny("Lifetime validation failed, the token is expired.")
                self._budgets[token] = budget - 1
        return None

    def _pick(self, method: str, target: str, batch_inner: bool) -> Fault | None:
        with self._lock:
            faults = list(self.faults)
        return pick_fault(faults, method, target, batch_inner)

    def _pre_fault(self, fault: Fault | None) -> GraphResponse | None:
        """Faults that replace the answer (or delay it); None lets routing go on."""
        if fault is None:
            return None
        if fault.kind is FaultKind.THROTTLE:
            resp = GraphResponse(429, _throttle_body())
            if fault.retry_after is not None:
                resp.headers["Retry-After"] = fault.retry_after
            return resp
        if fault.kind is FaultKind.STATUS:
            default_code, default_message = _STATUS_CODES.get(
                fault.status, ("UnknownError", "An error occurred.")
            )
            resp = error(fault.status, fault.code or default_code, fault.message or default_message)
            if fault.retry_after is not None:
                resp.headers["Retry-After"] = fault.retry_after
            return resp
        if fault.kind is FaultKind.DELAY:
            self._sleep(fault.seconds)
        if fault.kind is FaultKind.BODY:
            return GraphResponse(200, fault.body)
        return None

    def _post_fault(
        self, fault: Fault | None, resp: GraphResponse, absolute_url: str
    ) -> GraphResponse:
        if fault is None or not isinstance(resp.body, dict) or "value" not in resp.body:
            return resp
        if fault.kind is FaultKind.REPEAT_NEXT_LINK:
            resp.body["@odata.nextLink"] = absolute_url
        elif fault.kind is FaultKind.FOREIGN_NEXT_LINK:
            link = resp.body.get("@odata.nextLink") or (
                absolute_url + ("&" if "?" in absolute_url else "?") + "$skiptoken=foreign"
            )
            parts = urlsplit(link)
            resp.body["@odata.nextLink"] = f"{self.foreign_url}{parts.path}?{parts.query}"
        return resp

    def _serve_http(
        self, method: str, raw_target: str, headers: Mapping[str, str], body: bytes
    ) -> _Outgoing:
        """Answer one top-level HTTP request (called from handler threads)."""
        arrived = time.monotonic()
        lower = {k.lower(): v for k, v in headers.items()}
        auth = lower.get("authorization")
        target = decode_target(raw_target)
        self._log(RequestRecord(method, target, False, auth is not None, arrived))
        self._sleep(self.latency_ms / 1000.0)
        out_headers = {"request-id": str(uuid.uuid4())}
        if "client-request-id" in lower:
            out_headers["client-request-id"] = lower["client-request-id"]

        resp = self._authenticate(auth)
        fault: Fault | None = None
        if resp is None:
            fault = self._pick(method, target, False)
            if fault is not None and fault.kind is FaultKind.RESET:
                return _Outgoing(0, mode="reset")
            resp = self._pre_fault(fault)
        if resp is None:
            resp = self._route_top(method, raw_target, lower, body, auth is not None)
            resp = self._post_fault(fault, resp, self.url + raw_target)

        mode = "normal"
        if fault is not None and fault.kind in (
            FaultKind.TRUNCATED,
            FaultKind.SHORT_BODY,
            FaultKind.NON_JSON,
            FaultKind.DRIP_HEADERS,
            FaultKind.DRIP_BODY,
            FaultKind.HUGE,
        ):
            mode = fault.kind.value
        out_headers.update(resp.headers)
        payload = resp.json_bytes()
        if payload:
            out_headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        return _Outgoing(resp.status, out_headers, payload, mode, fault)

    def _route_top(
        self, method: str, raw_target: str, headers: dict[str, str], body: bytes, had_auth: bool
    ) -> GraphResponse:
        parsed_body: Any = None
        if body:
            try:
                parsed_body = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return bad_request(
                    "Unable to read JSON request payload. Please ensure Content-Type header is set "
                    "and payload is of valid JSON format.",
                    "BadRequest",
                )
        req = parse_target(method, raw_target, headers, parsed_body)
        if req is None:
            return error(404, "ResourceNotFound", f"Unknown API version or path: {raw_target}")
        if [s.casefold() for s in req.segments] == ["$batch"]:
            return self._batch(req, had_auth)
        return self.router.handle(req)

    # -- $batch --------------------------------------------------------------------------------

    def _batch(self, req: GraphRequest, had_auth: bool) -> GraphResponse:
        if req.method != "POST":
            return method_not_allowed()
        body = req.body
        if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
            return bad_request("Invalid batch payload format.", "BadRequest")
        items: list[Any] = body["requests"]
        if not items:
            return bad_request("Invalid batch payload format.", "BadRequest")
        if len(items) > MAX_BATCH:
            return bad_request(
                f"The batch contains {len(items)} requests; the limit is {MAX_BATCH}.", "BadRequest"
            )
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) and item.get(k) for k in ("id", "method", "url")
            ):
                return bad_request(
                    "Each batch request needs string 'id', 'method' and 'url'.", "BadRequest"
                )
            rid = item["id"].casefold()
            if rid in seen:
                return bad_request(
                    f"Batch request contains duplicate id '{item['id']}'.", "BadRequest"
                )
            seen.add(rid)
            hdrs = item.get("headers") or {}
            if "body" in item and not any(k.lower() == "content-type" for k in hdrs):
                return bad_request(
                    f"Write request id : {item['id']} does not contain Content-Type header "
                    "or body.",
                    "BadRequest",
                )
            for dep in item.get("dependsOn") or []:
                if not isinstance(dep, str) or dep.casefold() not in seen - {rid}:
                    message = f"dependsOn '{dep}' names no earlier request."
                    return bad_request(message, "BadRequest")

        statuses: dict[str, int] = {}
        responses: list[dict[str, Any]] = []
        for item in items:
            deps = [d.casefold() for d in item.get("dependsOn") or []]
            if any(statuses.get(d, 0) >= 400 for d in deps):
                inner = error(424, "FailedDependency", "A dependent request failed.")
            else:
                inner = self._inner(req.version, item, had_auth)
            statuses[item["id"].casefold()] = inner.status
            headers = dict(inner.headers)
            entry: dict[str, Any] = {"id": item["id"], "status": inner.status, "headers": headers}
            if inner.body is not None:
                headers.setdefault("Content-Type", "application/json")
                entry["body"] = inner.body
            responses.append(entry)
        shuffled = list(responses)
        with self._lock:
            self._rng.shuffle(shuffled)
        if len(shuffled) > 1 and shuffled == responses:
            shuffled = shuffled[1:] + shuffled[:1]  # always out of order
        return GraphResponse(200, {"responses": shuffled})

    def _inner(self, version: str, item: dict[str, Any], had_auth: bool) -> GraphResponse:
        method = item["method"].upper()
        url = item["url"].strip()
        if url.lower().startswith(("http://", "https://")):
            return bad_request("Batch request urls must be relative.", "BadRequest")
        if not url.startswith("/"):
            url = "/" + url
        raw_target = f"/{version}{url}"
        target = decode_target(raw_target)
        self._log(RequestRecord(method, target, True, had_auth, time.monotonic()))
        fault = self._pick(method, target, True)
        resp = self._pre_fault(fault)
        if resp is not None:
            return resp
        req = parse_target(method, raw_target, item.get("headers") or {}, item.get("body"), True)
        if req is None:
            return error(404, "ResourceNotFound", f"Unknown path in batch: {url}")
        if [s.casefold() for s in req.segments] == ["$batch"]:
            return bad_request("A batch request cannot contain a batch.", "BadRequest")
        resp = self.router.handle(req)
        absolute = self.url + quote(raw_target, safe="/?&=$'(),:@%+")
        return self._post_fault(fault, resp, absolute)
