"""MSAL's own code, end to end: the installed CLI signs in against the emulator's identity
endpoints over HTTPS, with no fake of MSAL anywhere.

Each test runs the real ``consent-audit`` console script as a subprocess (exec'd, not forked:
the person at the terminal is a pseudo-terminal on stdin, and ``CI`` is unset) with
``AZURE_AUTHORITY_HOST`` naming the identity emulator (tests/emulator/identity.py) and
``REQUESTS_CA_BUNDLE`` the test CA that signed its certificate, so MSAL's HTTP client verifies
TLS as it does against login.microsoftonline.com. The browser of the interactive flow is
``$BROWSER`` = tests/e2e/browser_player.py, which follows Entra's form_post page to MSAL's
loopback listener. Where a Graph run follows, the Graph emulator accepts exactly the access
tokens the identity emulator issued.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.e2e import browser_player
from tests.e2e.cli_runner import SPAWN_VAR, Run, cli_command
from tests.emulator import GraphEmulator
from tests.emulator.identity import (
    DEVICE_GRANT,
    FEDERATED_AUDIENCE,
    ConfidentialClient,
    DeviceScript,
    FederatedCredential,
    IdentityEmulator,
)
from tests.emulator.tls import TLSFiles, make_test_tls

pytestmark = [
    pytest.mark.skipif(
        sys.platform == "win32" or not hasattr(os, "openpty"),
        reason="a pseudo-terminal plays the admin at the terminal (POSIX only)",
    ),
    pytest.mark.skipif(
        os.environ.get(SPAWN_VAR) == "exec",
        reason="every run here is exec'd already; `make test-exec` would repeat the same runs",
    ),
]

REPO = Path(__file__).resolve().parents[2]
HEALTHY = REPO / "examples" / "tenants" / "healthy.json"
TENANT = "contoso.onmicrosoft.com"
UPN = "adele.vance@contoso.com"
APP = "11111111-2222-4333-8444-555555555555"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_test_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def graph() -> Iterator[GraphEmulator]:
    with GraphEmulator(HEALTHY, token="no-token-but-the-issued-ones") as emu:
        yield emu


def _identity(
    tls: TLSFiles, graph: GraphEmulator | None = None, **kwargs: object
) -> IdentityEmulator:
    accept = graph.accept_token if graph is not None else None
    return IdentityEmulator(tls, on_access_token=accept, **kwargs)  # type: ignore[arg-type]


def run(
    args: list[str],
    home: Path,
    identity: IdentityEmulator,
    tls: TLSFiles,
    *,
    graph: GraphEmulator | None = None,
    extra: dict[str, str] | None = None,
    terminal: bool = True,
    timeout: float = 60,
) -> Run:
    """``consent-audit args`` as its own process; ``terminal``: stdin is a pseudo-terminal."""
    env = _env(home, identity, tls, graph=graph, extra=extra, terminal=terminal)
    master, slave = os.openpty()
    try:
        proc = subprocess.run(
            [*cli_command(), *args],
            stdin=slave if terminal else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    finally:
        os.close(master)
        os.close(slave)
    assert "Traceback" not in proc.stderr, proc.stderr
    return Run(proc.returncode, proc.stdout, proc.stderr)


def _env(
    home: Path,
    identity: IdentityEmulator,
    tls: TLSFiles,
    *,
    graph: GraphEmulator | None = None,
    extra: dict[str, str] | None = None,
    terminal: bool = True,
) -> dict[str, str]:
    dropped = ("AZURE_", "CONSENT_AUDIT_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    for name in ("CI", "BROWSER", "DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)
    env.update(
        {
            "HOME": str(home),
            "XDG_CACHE_HOME": str(home / "cache"),
            "AZURE_AUTHORITY_HOST": identity.url,
            "REQUESTS_CA_BUNDLE": str(tls.ca_file),
            "CONSENT_AUDIT_RETRY_BACKOFF": "0.01",
            "CONSENT_AUDIT_GRAPH_URL": graph.url if graph is not None else "http://127.0.0.1:9",
        }
    )
    if not terminal:
        env["CI"] = "true"
    env.update(extra or {})
    return env


def _status(home: Path, identity: IdentityEmulator, tls: TLSFiles) -> str:
    done = run(["login", "--status"], home, identity, tls)
    assert done.code == 0, done.stderr
    return done.stdout


def _cache_file(home: Path) -> Path:
    return home / "cache" / "consent-audit" / "token_cache.json"


# -- device code -------------------------------------------------------------------------------


def test_device_code_approved_after_polls_is_cached_reused_silently_and_logged_out(
    tmp_path: Path, tls: TLSFiles, graph: GraphEmulator
) -> None:
    with _identity(tls, graph, device=DeviceScript(pending_polls=2)) as identity:
        started = time.monotonic()
        login = run(["login", "--tenant", TENANT], tmp_path, identity, tls, graph=graph)
        took = time.monotonic() - started
        assert login.code == 0, login.stderr
        assert f"signed in as {UPN}" in login.stderr
        assert "https://microsoft.com/devicelogin and enter the code" in login.stderr
        polls = identity.token_requests(DEVICE_GRANT)
        assert [p.outcome for p in polls] == ["authorization_pending"] * 2 + ["ok"]
        assert took >= 2  # MSAL waited the interval (1 s) between polls
        assert len(identity.paths("/oauth2/v2.0/devicecode")) == 1
        scope = identity.paths("/oauth2/v2.0/devicecode")[0].params["scope"].split()
        assert {"openid", "profile", "offline_access"} <= set(scope)  # MSAL added them
        assert "https://graph.microsoft.com/Policy.Read.All" in scope

        # The store this platform offers (here the owner-only file: no keyring in the session).
        status = _status(tmp_path, identity, tls)
        assert "holds a sign-in" in status
        cache = _cache_file(tmp_path)
        if cache.exists():
            assert stat.S_IMODE(cache.stat().st_mode) == 0o600
            saved = json.loads(cache.read_text())
            assert saved["RefreshToken"]
            assert saved["AccessToken"]
            assert saved["IdToken"]

        # The next run signs in silently: no device code, no token request; Graph accepts it.
        before = len(identity.requests)
        check = run(
            ["check", "--tenant", TENANT, "--format", "json"],
            tmp_path,
            identity,
            tls,
            graph=graph,
        )
        assert check.code == 0, check.stderr
        assert check.report["features"]
        new = identity.requests[before:]
        assert not [r for r in new if r.path.endswith(("/devicecode", "/token"))]
        assert graph.requests
        assert all(r.had_auth for r in graph.requests)

        # logout empties the store: status says so and a non-interactive run has nothing.
        out = run(["logout"], tmp_path, identity, tls)
        assert out.code == 0
        assert "token cache removed" in out.stderr
        assert "(empty)" in _status(tmp_path, identity, tls)
        after = run(["login", "--tenant", TENANT], tmp_path, identity, tls, terminal=False)
        assert after.code == 3
        assert "no terminal to sign in" in after.stderr


def test_device_code_declined_is_one_clear_error(tmp_path: Path, tls: TLSFiles) -> None:
    with _identity(tls, device=DeviceScript(pending_polls=1, outcome="decline")) as identity:
        done = run(["login", "--tenant", TENANT], tmp_path, identity, tls)
        assert "holds a sign-in" not in _status(tmp_path, identity, tls)
    assert done.code == 3
    assert "error: the device-code sign-in was declined in the browser" in done.stderr
    assert [p.outcome for p in identity.token_requests(DEVICE_GRANT)] == [
        "authorization_pending",
        "authorization_declined",
    ]


def test_device_code_expired_is_one_clear_error(tmp_path: Path, tls: TLSFiles) -> None:
    with _identity(tls, device=DeviceScript(pending_polls=1, outcome="expire")) as identity:
        done = run(["login", "--tenant", TENANT], tmp_path, identity, tls)
    assert done.code == 3
    assert "error: the device code expired before the sign-in was completed (expired_token)" in (
        done.stderr
    )
    assert identity.token_requests(DEVICE_GRANT)[-1].outcome == "expired_token"


def test_device_code_blocked_by_conditional_access_offers_the_browser(
    tmp_path: Path, tls: TLSFiles
) -> None:
    with _identity(tls, device=DeviceScript(outcome="block")) as identity:
        done = run(["login", "--tenant", TENANT], tmp_path, identity, tls)
    assert done.code == 3
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: Conditional Access blocked the device-code sign-in (AADSTS53003); many tenants "
        "block this flow, as Microsoft recommends: sign in with a browser instead "
        "(--auth browser)."
    ]
    assert "fix: Run the command again with --auth browser" in done.stderr
    assert "Trace ID" not in done.stderr


# -- browser: authorization code with PKCE through the loopback --------------------------------


def test_browser_sign_in_with_pkce_through_the_loopback_then_silent(
    tmp_path: Path, tls: TLSFiles, graph: GraphEmulator
) -> None:
    """The device-code flow is blocked in this tenant; ``--auth browser`` still signs in."""
    log = tmp_path / "browser.log"
    browser = {
        "BROWSER": str(browser_player.install(tmp_path / "bin")),
        browser_player.LOG_VAR: str(log),
    }
    with _identity(tls, graph, device=DeviceScript(outcome="block")) as identity:
        login = run(
            ["login", "--tenant", TENANT, "--auth", "browser"],
            tmp_path,
            identity,
            tls,
            graph=graph,
            extra=browser,
        )
        assert login.code == 0, login.stderr + log.read_text() if log.exists() else login.stderr
        assert f"signed in as {UPN}" in login.stderr
        assert "Opening your web browser to sign in" in login.stderr
        assert not identity.paths("/devicecode")

        authorize = identity.paths("/oauth2/v2.0/authorize")
        assert len(authorize) == 1
        asked = authorize[0].params
        assert asked["code_challenge_method"] == "S256"
        assert asked["code_challenge"]
        assert asked["response_mode"] == "form_post"
        assert asked["redirect_uri"].startswith("http://localhost:")
        assert [r.outcome for r in identity.token_requests("authorization_code")] == [
            "pkce-verified"
        ]
        steps = [json.loads(line) for line in log.read_text().splitlines()]
        redirect = next(s for s in steps if s["step"] == "redirect")
        assert redirect["action"] == asked["redirect_uri"]
        assert redirect["status"] == 200
        assert "Authentication complete" in redirect["page"]

        before = len(identity.requests)
        check = run(
            ["check", "--tenant", TENANT, "--auth", "browser", "--format", "json"],
            tmp_path,
            identity,
            tls,
            graph=graph,
            extra={"BROWSER": "/bin/false"},
        )
        assert check.code == 0, check.stderr
        assert not [
            r for r in identity.requests[before:] if r.path.endswith(("authorize", "token"))
        ]


def test_where_no_browser_opens_the_address_is_printed_and_works(
    tmp_path: Path, tls: TLSFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``$BROWSER`` fails (a server with no desktop): MSAL calls back with the address, which
    is printed; the person opens it elsewhere (here: this test) and the sign-in completes."""
    with _identity(tls) as identity:
        env = _env(tmp_path, identity, tls, extra={"BROWSER": "/bin/false"})
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen(
                [*cli_command(), "login", "--tenant", TENANT, "--auth", "browser"],
                stdin=slave,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            assert proc.stderr is not None
            seen: list[str] = []
            for line in proc.stderr:
                seen.append(line)
                if line.startswith(f"  {identity.url}/"):
                    break
            assert "No browser opened. Open this address" in "".join(seen), seen
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca_file))
            browser_player.browse(seen[-1].strip())
            _out, err = proc.communicate(timeout=60)
        finally:
            os.close(master)
            os.close(slave)
    assert proc.returncode == 0, err
    assert f"signed in as {UPN}" in err
    assert [r.outcome for r in identity.token_requests("authorization_code")] == ["pkce-verified"]


# -- refresh after expiry ----------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_without_a_new_sign_in(
    tmp_path: Path, tls: TLSFiles, graph: GraphEmulator
) -> None:
    """Access tokens of 60 s: MSAL treats one with under 5 minutes left as expired."""
    with _identity(tls, graph, access_token_lifetime=60) as identity:
        assert run(["login", "--tenant", TENANT], tmp_path, identity, tls).code == 0
        first = list(identity.issued_access_tokens)
        check = run(
            ["check", "--tenant", TENANT, "--format", "json"], tmp_path, identity, tls, graph=graph
        )
        assert check.code == 0, check.stderr
        assert len(identity.paths("/devicecode")) == 1
        assert [r.outcome for r in identity.token_requests("refresh_token")] == ["ok"]
        refreshed = identity.issued_access_tokens[len(first) :]
        assert len(refreshed) == 1
        assert refreshed[0] not in first
        assert "offline_access" in identity.token_requests("refresh_token")[0].params["scope"]


def test_a_token_graph_calls_expired_mid_run_is_refreshed_by_msal(
    tmp_path: Path, tls: TLSFiles, graph: GraphEmulator
) -> None:
    """Graph answers 401 (token expired) part-way: MSAL redeems the cached refresh token
    (force_refresh) and the audit finishes with the new token, no new sign-in."""
    with _identity(tls, graph) as identity:
        assert run(["login", "--tenant", TENANT], tmp_path, identity, tls).code == 0
        signed_in = list(identity.issued_access_tokens)
        graph.expire_token_after(2)
        check = run(
            ["check", "--tenant", TENANT, "--format", "json"], tmp_path, identity, tls, graph=graph
        )
        assert check.code == 0, check.stderr
        assert [r.outcome for r in identity.token_requests("refresh_token")] == ["ok"]
        assert len(identity.paths("/devicecode")) == 1
        assert len(identity.issued_access_tokens) == len(signed_in) + 1


# -- app-only ----------------------------------------------------------------------------------


def _app_env(**extra: str) -> dict[str, str]:
    return {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": APP, **extra}


def _certificate(directory: Path) -> tuple[Path, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "consent-audit ci")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    public = cert.public_bytes(serialization.Encoding.PEM)
    path = directory / "app.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + public
    )
    return path, public


def _app_check(
    tmp_path: Path,
    tls: TLSFiles,
    graph: GraphEmulator,
    client: ConfidentialClient,
    env: dict[str, str],
) -> tuple[Run, IdentityEmulator]:
    with _identity(tls, graph, confidential_clients=[client]) as identity:
        done = run(
            ["check", "--format", "json"],
            tmp_path,
            identity,
            tls,
            graph=graph,
            extra=env,
            terminal=False,
        )
    return done, identity


def test_client_secret(tmp_path: Path, tls: TLSFiles, graph: GraphEmulator) -> None:
    client = ConfidentialClient(APP, secret="s3cret-value")
    done, identity = _app_check(
        tmp_path, tls, graph, client, _app_env(AZURE_CLIENT_SECRET="s3cret-value")
    )
    assert done.code == 0, done.stderr
    assert [r.outcome for r in identity.token_requests("client_credentials")] == ["client_secret"]
    assert "s3cret-value" not in done.stdout + done.stderr
    assert not _cache_file(tmp_path).exists()  # app-only tokens stay in memory

    wrong, identity = _app_check(
        tmp_path, tls, graph, client, _app_env(AZURE_CLIENT_SECRET="not-the-secret")
    )
    assert wrong.code == 3
    assert "AADSTS7000215" in wrong.stderr
    assert "not-the-secret" not in wrong.stderr


def test_certificate(tmp_path: Path, tls: TLSFiles, graph: GraphEmulator) -> None:
    path, public = _certificate(tmp_path)
    client = ConfidentialClient(APP, certificate_pem=public)
    done, identity = _app_check(
        tmp_path, tls, graph, client, _app_env(AZURE_CLIENT_CERTIFICATE_PATH=str(path))
    )
    assert done.code == 0, done.stderr
    assert [r.outcome for r in identity.token_requests("client_credentials")] == ["certificate"]

    (tmp_path / "other").mkdir()
    other, _ = _certificate(tmp_path / "other")
    refused, identity = _app_check(
        tmp_path, tls, graph, client, _app_env(AZURE_CLIENT_CERTIFICATE_PATH=str(other))
    )
    assert refused.code == 3
    assert "AADSTS700027" in refused.stderr


def _federated_token(key: rsa.RSAPrivateKey, issuer: str, subject: str) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": FEDERATED_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "ci"})


def test_federated_assertion_file(tmp_path: Path, tls: TLSFiles, graph: GraphEmulator) -> None:
    issuer = "https://token.actions.githubusercontent.com"
    subject = "repo:contoso/audit:ref:refs/heads/main"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    client = ConfidentialClient(APP, federated=FederatedCredential(issuer, subject, public))
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(_federated_token(key, issuer, subject) + "\n")
    done, identity = _app_check(
        tmp_path, tls, graph, client, _app_env(AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    )
    assert done.code == 0, done.stderr
    assert [r.outcome for r in identity.token_requests("client_credentials")] == ["federated"]

    token_file.write_text(_federated_token(key, issuer, "repo:evil/fork:pull_request"))
    refused, _ = _app_check(
        tmp_path, tls, graph, client, _app_env(AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    )
    assert refused.code == 3
    assert "AADSTS700213" in refused.stderr
