"""The Graph client's own HTTP session: the environment's proxy settings are honoured (read
once, not per request) and ``.netrc`` never replaces the bearer token.

Real sockets on 127.0.0.1 (no ``responses``: it answers before requests picks a proxy): one
server plays Graph, another an HTTP proxy; each records the request lines it receives.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from consent_audit.live.graph_client import GraphCall, GraphClient

from .fakes import FakeTokens, Sleeper


class _Recorder(ThreadingHTTPServer):
    seen: list[tuple[str, str, str | None]]


class _BatchAnswers(BaseHTTPRequestHandler):
    """Answers any ``$batch`` with each inner request's URL as its only item."""

    server: _Recorder

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        inner = json.loads(self.rfile.read(length))["requests"]
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))
        answers = [{"id": r["id"], "status": 200, "body": {"value": [r["url"]]}} for r in inner]
        data = json.dumps({"responses": answers}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def servers() -> Iterator[tuple[_Recorder, _Recorder]]:
    """(graph, proxy): two recording servers on ephemeral ports."""
    made = []
    for _ in range(2):
        server = _Recorder(("127.0.0.1", 0), _BatchAnswers)
        server.seen = []
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True
        ).start()
        made.append(server)
    yield made[0], made[1]
    for server in made:
        server.shutdown()
        server.server_close()


def _url(server: _Recorder) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


def _client(root: str) -> GraphClient:
    return GraphClient(root, FakeTokens(["the-token"]), sleep=Sleeper(), random=lambda: 0.5)


def test_the_environments_proxy_carries_every_request(
    servers: tuple[_Recorder, _Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, proxy = servers
    monkeypatch.setenv("HTTP_PROXY", _url(proxy))
    # An address no one serves: only the proxy can answer for it.
    root = "http://graph.consent-audit.invalid"
    client = _client(root)
    for _ in range(2):
        out = client.run([GraphCall("a", "/things")])
        assert out == {"a": {"value": ["/things"]}}
    # A proxy receives the absolute URL; the token travels as the bearer header.
    assert proxy.seen == [("POST", f"{root}/v1.0/$batch", "Bearer the-token")] * 2
    assert graph.seen == []


def test_no_proxy_sends_graph_requests_direct(
    servers: tuple[_Recorder, _Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, proxy = servers
    monkeypatch.setenv("HTTP_PROXY", _url(proxy))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    out = _client(_url(graph)).run([GraphCall("a", "/things")])
    assert out == {"a": {"value": ["/things"]}}
    assert graph.seen == [("POST", "/v1.0/$batch", "Bearer the-token")]
    assert proxy.seen == []


def test_a_netrc_entry_never_replaces_the_bearer_token(
    servers: tuple[_Recorder, _Recorder], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    graph, _proxy = servers
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    _client(_url(graph)).run([GraphCall("a", "/things")])
    assert graph.seen == [("POST", "/v1.0/$batch", "Bearer the-token")]
