"""Endpoints and tokens: the bearer token goes only where it was checked to go, never into a
message, and a "Graph" that answers nothing about the tenant is exit 3.

Each test runs the CLI in process against a tiny local HTTP server of its own that records
what it received, so "the token was not sent" is observed, not assumed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consent_audit.cli import app

TOKEN = "eyJ0eXAiOiJKV1QifQ.e30.c2VjcmV0LXNpZ25hdHVyZQ"
Answer = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


class _Server:
    def __init__(self, host: str, answer: Answer) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(length)
                outer.requests.append((self.command, self.path, dict(self.headers)))
                status, headers, body = answer(self)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.005,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server_factory() -> Iterator[Callable[[str, Answer], _Server]]:
    servers: list[_Server] = []

    def make(host: str, answer: Answer) -> _Server:
        server = _Server(host, answer)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def _not_found(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    return 404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"


def _redirect(_: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    return 302, {"Location": "https://login.example/elsewhere"}, b""


def _batch_with(status: object) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        # Answer every sub-request of the $batch with the given status value.
        asked = json.loads(getattr(handler, "body", b"") or b"{}").get("requests", [])
        body = {"responses": [{"id": r["id"], "status": status, "body": {}} for r in asked]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    return answer


def run_live(
    tmp_path: Path, *args: str, graph_url: str, token: str = TOKEN
) -> tuple[int, str, str]:
    env = {
        "CONSENT_AUDIT_GRAPH_URL": graph_url,
        "CONSENT_AUDIT_ACCESS_TOKEN": token,
        "CONSENT_AUDIT_RETRY_BACKOFF": "0.01",
        "CONSENT_AUDIT_HTTP_TIMEOUT": "5",
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CI": "true",
        "GITHUB_STEP_SUMMARY": "",
    }
    result = CliRunner().invoke(app, ["check", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_backslash_url_is_refused_before_the_token_goes_anywhere(
    tmp_path: Path, server_factory: Callable[[str, Answer], _Server]
) -> None:
    trap = server_factory("127.0.0.2", _not_found)
    port = trap.url.rsplit(":", 1)[1]
    # urllib.parse reads host 127.0.0.1 (local, so plain http looked fine); requests/urllib3
    # connect to 127.0.0.2 and would send the bearer token in clear text.
    code, out, err = run_live(tmp_path, graph_url=f"http://127.0.0.2:{port}\\@127.0.0.1")
    assert code == 2, err
    assert trap.requests == []
    assert TOKEN not in out + err


def test_userinfo_in_the_graph_url_is_refused_and_never_echoed(
    tmp_path: Path, server_factory: Callable[[str, Answer], _Server]
) -> None:
    server = server_factory("127.0.0.1", _not_found)
    host = server.url.removeprefix("http://")
    code, out, err = run_live(tmp_path, "-v", graph_url=f"http://admin:hunter2@{host}")
    assert code == 2, err
    assert "hunter2" not in out + err
    assert server.requests == []


@pytest.mark.parametrize(
    "url", ["127.0.0.1:notaport", "javascript:alert(1)", "http://[::1", "https://h/?q=1"]
)
def test_unusable_graph_urls_are_bad_input(tmp_path: Path, url: str) -> None:
    code, _, err = run_live(tmp_path, graph_url=url)
    assert code == 2, err
    assert err.startswith("error: ")


@pytest.mark.parametrize(
    "token",
    [TOKEN + "\r\nX-Injected: 1", TOKEN + "\n", "tök" + TOKEN, TOKEN + " extra", TOKEN + "λ"],
    ids=["crlf-header", "trailing-lf-inside", "latin1", "space", "non-latin1"],
)
def test_a_malformed_token_is_refused_up_front_and_never_echoed(
    tmp_path: Path, server_factory: Callable[[str, Answer], _Server], token: str
) -> None:
    server = server_factory("127.0.0.1", _not_found)
    # .strip() is applied to the variable, so a lone trailing newline is fine; inside is not.
    token = token if not token.endswith("\n") else token.replace(TOKEN, TOKEN[:10] + "\n" + TOKEN)
    code, out, err = run_live(tmp_path, graph_url=server.url, token=token)
    assert code == 2, err
    assert "CONSENT_AUDIT_ACCESS_TOKEN is not a bearer token" in err
    assert TOKEN[10:30] not in out + err
    assert server.requests == []


@pytest.mark.parametrize("fail_on", ["error", "never"])
@pytest.mark.parametrize("answer", [_not_found, _redirect], ids=["404", "302"])
def test_a_graph_that_answers_nothing_about_the_tenant_is_exit_3(
    tmp_path: Path,
    server_factory: Callable[[str, Answer], _Server],
    answer: Answer,
    fail_on: str,
) -> None:
    server = server_factory("127.0.0.1", answer)
    code, _, err = run_live(tmp_path, "--fail-on", fail_on, graph_url=server.url)
    assert code == 3, err
    assert "cannot reach Microsoft Graph" in err
    assert server.requests, "it did try"


@pytest.mark.parametrize("status", ["200 OK", None, 2.5, True, "abc"])
def test_batch_answers_without_an_integer_status_are_the_servers_fault(
    tmp_path: Path, server_factory: Callable[[str, Answer], _Server], status: object
) -> None:
    server = server_factory("127.0.0.1", _batch_with(status))
    code, _, err = run_live(tmp_path, graph_url=server.url)
    assert code == 3, err
    assert "internal error" not in err
