"""The emulator's identity side: the Microsoft identity platform endpoints MSAL Python calls.

Served over HTTPS (MSAL refuses a plain-http authority) with a certificate from a test CA
(``tls.make_test_tls``), on 127.0.0.1, for one tenant. Shapes follow entra-docs
(``identity-platform/v2-protocols-oidc.md``, ``v2-oauth2-device-code.md``,
``v2-oauth2-auth-code-flow.md``, ``v2-oauth2-client-creds-grant-flow.md``,
``reference-error-codes.md``):

* ``GET /{tenant}/v2.0/.well-known/openid-configuration`` - what MSAL reads when it builds an
  application (tenant discovery); ``{tenant}`` is the domain, the id, ``organizations`` or
  ``common``; anything else is AADSTS90002.
* ``POST /{tenant}/oauth2/v2.0/devicecode`` - user and device code, ``interval``, message.
* ``GET /{tenant}/oauth2/v2.0/authorize`` - the user is signed in at once (the emulator's one
  user) and sent back to the loopback ``redirect_uri``: with ``response_mode=form_post`` (what
  MSAL asks for) as Entra does it, an HTML page whose form posts ``code`` and ``state``; PKCE
  (S256) is required.
* ``POST /{tenant}/oauth2/v2.0/token`` - grants ``device_code`` (``authorization_pending``
  until the scripted number of polls, then approved, ``authorization_declined``,
  ``expired_token`` or AADSTS53003 when Conditional Access blocks the device-code flow),
  ``authorization_code`` (code single-use, bound to client, redirect URI and the PKCE
  challenge), ``refresh_token`` and ``client_credentials`` with a client secret, a certificate
  assertion (RS256/PS256, ``x5t`` or ``x5t#S256`` naming a registered certificate, audience the
  token endpoint) or a federated assertion (issuer, subject and audience of a registered
  federated credential, signed by that issuer's key).
* ``GET /{tenant}/discovery/v2.0/keys`` - the key that signs every token issued.

Tokens are JWTs signed RS256 with realistic claims: the id token's ``aud`` is the client, its
``iss`` the configuration's issuer, ``nonce`` echoed; ``client_info`` is base64url JSON with
``uid``/``utid`` (MSAL's account key); access tokens are v1 Graph tokens (``aud``
``https://graph.microsoft.com``, ``scp`` for a user, ``roles`` for an app).
``on_access_token`` hands each access token to a Graph emulator (``GraphEmulator.accept_token``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import html
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .tls import TLSFiles

HOST = "127.0.0.1"
GRAPH = "https://graph.microsoft.com"
GRAPH_CLI_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FEDERATED_AUDIENCE = "api://AzureADTokenExchange"
OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}

_SIGNING_KEY: rsa.RSAPrivateKey | None = None
_KEY_LOCK = threading.Lock()


def signing_key() -> rsa.RSAPrivateKey:
    """One RSA key per process (2048-bit generation costs ~0.1 s; tests start many emulators)."""
    global _SIGNING_KEY
    with _KEY_LOCK:
        if _SIGNING_KEY is None:
            _SIGNING_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _SIGNING_KEY


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(ascii(code_verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class User:
    upn: str = "adele.vance@contoso.com"
    oid: str = "6e7b768e-07e2-4810-8459-485f84f8f204"
    name: str = "Adele Vance"


@dataclass(frozen=True)
class FederatedCredential:
    """A federated identity credential: who may present assertions, and the issuer's key."""

    issuer: str
    subject: str
    public_key_pem: bytes
    audience: str = FEDERATED_AUDIENCE


@dataclass(frozen=True)
class ConfidentialClient:
    client_id: str
    secret: str | None = None
    certificate_pem: bytes | None = None
    """The public certificate uploaded to the app registration."""
    federated: FederatedCredential | None = None
    roles: tuple[str, ...] = ("Application.Read.All", "Directory.Read.All", "Policy.Read.All")


@dataclass(frozen=True)
class DeviceScript:
    """How the person at the browser answers a device code: after ``pending_polls`` polls that
    get ``authorization_pending``, ``approve``, ``decline``, ``expire`` or ``block`` (Conditional
    Access refuses the device-code flow: AADSTS53003)."""

    pending_polls: int = 0
    outcome: str = "approve"


class IdentityRecord(NamedTuple):
    method: str
    path: str
    """Path without query, e.g. ``/contoso.onmicrosoft.com/oauth2/v2.0/token``."""
    grant_type: str | None
    client_id: str | None
    params: dict[str, str]
    """Query (GET) or form (POST) values; secrets and assertions replaced by ``***``."""
    outcome: str
    """What the emulator answered: ``ok``, ``pkce-verified``, or the OAuth error."""


_SECRET_PARAMS = {"client_secret", "client_assertion", "refresh_token", "code", "code_verifier"}


@dataclass
class _Grant:
    client_id: str
    scopes: list[str]
    user: User
    nonce: str | None = None
    redirect_uri: str | None = None
    challenge: str | None = None
    challenge_method: str | None = None
    expires_at: float = 0.0
    polls: int = 0


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class _OAuthError(Exception):
    def __init__(self, error: str, code: int | None, text: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.code = code
        self.text = text
        self.status = status


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: IdentityEmulator) -> None:
        self.owner = owner
        super().__init__((HOST, 0), _Handler)

    def server_bind(self) -> None:
        import socketserver

        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup (HTTPServer's getfqdn)
        self.server_name = HOST
        self.server_port = self.server_address[1]

    def get_request(self) -> tuple[Any, Any]:
        # The TLS handshake happens in the handler thread (on first read), not in the accept
        # loop, so one stalled client cannot stop the server.
        sock, address = self.socket.accept()
        context = self.owner.tls.server_context()
        return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "IdentityEmulator/1.0"
    sys_version = ""
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            answer = self.server.owner.serve(self.command, self.path, body)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Cache-Control", "no-store, no-cache")
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:  # client went away, or a failed TLS handshake
            self.close_connection = True

    do_GET = do_POST = _handle


class IdentityEmulator:
    """Entra ID's sign-in endpoints for one tenant, over HTTPS on 127.0.0.1.

    ``url`` is the authority host (``AZURE_AUTHORITY_HOST``); ``requests`` lists what arrived.
    """

    def __init__(
        self,
        tls: TLSFiles,
        *,
        tenant_domain: str = "contoso.onmicrosoft.com",
        tenant_id: str = "aaaaaaaa-0000-4000-8000-000000000001",
        user: User = User(),
        public_clients: Iterable[str] = (GRAPH_CLI_CLIENT_ID,),
        confidential_clients: Iterable[ConfidentialClient] = (),
        device: DeviceScript = DeviceScript(),
        interval: int = 1,
        access_token_lifetime: int = 3600,
        on_access_token: Callable[[str], None] | None = None,
    ) -> None:
        self.tls = tls
        self.tenant_domain = tenant_domain
        self.tenant_id = tenant_id
        self.user = user
        self.public_clients = set(public_clients)
        self.confidential = {c.client_id: c for c in confidential_clients}
        self.device = device
        self.interval = interval
        self.access_token_lifetime = access_token_lifetime
        self.on_access_token = on_access_token
        self.kid = b64url(hashlib.sha256(self._public_pem()).digest()[:15])
        self._lock = threading.Lock()
        self._records: list[IdentityRecord] = []
        self._device_codes: dict[str, _Grant] = {}
        self._auth_codes: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, _Grant] = {}
        self.issued_access_tokens: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> IdentityEmulator:
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.005},
                name=f"identity-emulator-{self._server.server_port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> IdentityEmulator:
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
            raise RuntimeError("IdentityEmulator is not running; use it as a context manager.")
        return f"https://{HOST}:{self._server.server_port}"

    @property
    def requests(self) -> list[IdentityRecord]:
        with self._lock:
            return list(self._records)

    def token_requests(self, grant_type: str | None = None) -> list[IdentityRecord]:
        return [
            r
            for r in self.requests
            if r.path.endswith("/oauth2/v2.0/token")
            and (grant_type is None or r.grant_type == grant_type)
        ]

    def paths(self, suffix: str) -> list[IdentityRecord]:
        return [r for r in self.requests if r.path.endswith(suffix)]

    def refresh_token_count(self) -> int:
        with self._lock:
            return len(self._refresh_tokens)

    # -- helpers -------------------------------------------------------------------------------

    def _public_pem(self) -> bytes:
        return (
            signing_key()
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def _issuer(self) -> str:
        return f"{self.url}/{self.tenant_id}/v2.0"

    def _known_tenant(self, tenant: str) -> bool:
        return tenant.casefold() in {
            self.tenant_domain.casefold(),
            self.tenant_id,
            "organizations",
            "common",
        }

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, signing_key(), algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"}
        )

    def _error(self, exc: _OAuthError) -> _Answer:
        now = dt.datetime.now(dt.timezone.utc)
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        prefix = f"AADSTS{exc.code}: " if exc.code is not None else ""
        body: dict[str, Any] = {
            "error": exc.error,
            "error_description": f"{prefix}{exc.text} Trace ID: {trace} Correlation ID: "
            f"{correlation} Timestamp: {stamp}",
            "error_codes": [exc.code] if exc.code is not None else [],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
        }
        if exc.code is not None:
            body["error_uri"] = f"{self.url}/error?code={exc.code}"
        return _Answer(exc.status, json.dumps(body).encode())

    @staticmethod
    def _json(body: Mapping[str, Any], status: int = 200) -> _Answer:
        return _Answer(status, json.dumps(body).encode())

    def _record(self, method: str, path: str, params: Mapping[str, str], outcome: str) -> None:
        shown = {k: ("***" if k in _SECRET_PARAMS else v) for k, v in params.items()}
        record = IdentityRecord(
            method, path, params.get("grant_type"), params.get("client_id"), shown, outcome
        )
        with self._lock:
            self._records.append(record)

    # -- dispatch ------------------------------------------------------------------------------

    def serve(self, method: str, target: str, body: bytes) -> _Answer:
        split = urlsplit(target)
        path = split.path
        if method == "POST":
            raw = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        else:
            raw = parse_qs(split.query, keep_blank_values=True)
        params = {k: v[0] for k, v in raw.items()}
        parts = [p for p in path.split("/") if p]
        outcome = "ok"
        try:
            if not parts or not self._known_tenant(parts[0]):
                raise _OAuthError(
                    "invalid_tenant",
                    90002,
                    f"Tenant '{parts[0] if parts else ''}' not found. Check to make sure you "
                    "have the correct tenant ID and are signing into the correct cloud.",
                )
            route = "/".join(parts[1:])
            if method == "GET" and route == "v2.0/.well-known/openid-configuration":
                answer = self._json(self._openid_configuration(parts[0]))
            elif method == "GET" and route == "discovery/v2.0/keys":
                answer = self._json(self._keys())
            elif method == "POST" and route == "oauth2/v2.0/devicecode":
                answer = self._json(self._device_code(params))
            elif method == "GET" and route == "oauth2/v2.0/authorize":
                answer = self._authorize(params)
            elif method == "POST" and route == "oauth2/v2.0/token":
                result, outcome = self._token(params, parts[0])
                answer = self._json(result)
            else:
                answer = _Answer(404, b'{"error":"not_found"}')
                outcome = "not_found"
        except _OAuthError as exc:
            answer = self._error(exc)
            outcome = exc.error
        self._record(method, path, params, outcome)
        return answer

    # -- metadata ------------------------------------------------------------------------------

    def _openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{self.url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": self._issuer(),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{GRAPH}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "tid", "oid"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def _keys(self) -> dict[str, Any]:
        numbers = signing_key().public_key().public_numbers()

        def b64int(value: int) -> str:
            return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        key = {"kty": "RSA", "use": "sig", "kid": self.kid, "n": b64int(numbers.n)}
        key["e"] = b64int(numbers.e)
        return {"keys": [key]}

    # -- device code ---------------------------------------------------------------------------

    def _public_client(self, params: Mapping[str, str]) -> str:
        client_id = params.get("client_id", "")
        if client_id in self.confidential and not (
            params.get("client_secret") or params.get("client_assertion")
        ):
            raise _OAuthError(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
                401,
            )
        if client_id not in self.public_clients and client_id not in self.confidential:
            raise _OAuthError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant_domain}'.",
            )
        return client_id

    @staticmethod
    def _scopes(params: Mapping[str, str]) -> list[str]:
        return [s for s in params.get("scope", "").split() if s]

    def _device_code(self, params: Mapping[str, str]) -> dict[str, Any]:
        client_id = self._public_client(params)
        device_code = secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        expires_in = 900
        with self._lock:
            self._device_codes[device_code] = _Grant(
                client_id, self._scopes(params), self.user, expires_at=time.time() + expires_in
            )
        return {
            "user_code": user_code,
            "device_code": device_code,
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": expires_in,
            "interval": self.interval,
            "message": "To sign in, use a web browser to open the page "
            f"https://microsoft.com/devicelogin and enter the code {user_code} to authenticate.",
        }

    def _redeem_device_code(self, params: Mapping[str, str]) -> tuple[_Grant, str]:
        with self._lock:
            grant = self._device_codes.get(params.get("device_code", ""))
            if grant is None:
                raise _OAuthError("invalid_grant", 70000, "The provided device code is invalid.")
            if grant.client_id != params.get("client_id"):
                raise _OAuthError(
                    "invalid_grant", 70000, "The device code was issued to another client."
                )
            grant.polls += 1
            if grant.polls <= self.device.pending_polls and grant.expires_at > time.time():
                raise _OAuthError(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            del self._device_codes[params["device_code"]]
        outcome = self.device.outcome
        if outcome == "expire" or grant.expires_at <= time.time():
            raise _OAuthError(
                "expired_token",
                70019,
                "Verification code expired. Have the user retry the sign-in.",
            )
        if outcome == "decline":
            raise _OAuthError(
                "authorization_declined", None, "The end user denied the authorization request."
            )
        if outcome == "block":
            raise _OAuthError(
                "invalid_grant",
                53003,
                "Access has been blocked by Conditional Access policies. The access policy does "
                "not allow token issuance.",
            )
        return grant, "ok"

    # -- authorization code with PKCE ----------------------------------------------------------

    def _authorize(self, params: Mapping[str, str]) -> _Answer:
        client_id = params.get("client_id", "")
        if client_id not in self.public_clients:
            raise _OAuthError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        redirect_uri = params.get("redirect_uri", "")
        where = urlsplit(redirect_uri)
        # The client registers http://localhost; Entra accepts any port on a loopback
        # redirect URI (RFC 8252 section 7.3), nothing else.
        if where.scheme != "http" or where.hostname != "localhost" or where.path not in ("", "/"):
            raise _OAuthError(
                "invalid_request",
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match the "
                f"redirect URIs configured for the application '{client_id}'.",
            )
        if params.get("response_type") != "code":
            raise _OAuthError("unsupported_response_type", 70005, "response_type must be code.")
        challenge, method = params.get("code_challenge"), params.get("code_challenge_method")
        if not challenge or method != "S256":
            raise _OAuthError(
                "invalid_request",
                50148,
                "PKCE is required: code_challenge with code_challenge_method S256.",
            )
        code = secrets.token_urlsafe(48)
        with self._lock:
            self._auth_codes[code] = _Grant(
                client_id,
                self._scopes(params),
                self.user,
                nonce=params.get("nonce"),
                redirect_uri=redirect_uri,
                challenge=challenge,
                challenge_method=method,
                expires_at=time.time() + 600,
            )
        answer = {
            "code": code,
            "state": params.get("state", ""),
            "session_state": str(uuid.uuid4()),
        }
        if params.get("response_mode") == "form_post":
            inputs = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}" />'
                for k, v in answer.items()
            )
            page = (
                "<html><head><title>Working...</title></head><body>"
                f'<form method="POST" name="hiddenform" action="{html.escape(redirect_uri)}">'
                f"{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p>"
                '<input type="submit" value="Submit" /></noscript></form>'
                "<script>document.forms[0].submit();</script></body></html>"
            )
            return _Answer(200, page.encode(), "text/html; charset=utf-8")
        return _Answer(302, b"", "text/html", {"Location": f"{redirect_uri}?{urlencode(answer)}"})

    def _redeem_auth_code(self, params: Mapping[str, str]) -> tuple[_Grant, str]:
        with self._lock:
            grant = self._auth_codes.pop(params.get("code", ""), None)
        if grant is None or grant.expires_at < time.time():
            raise _OAuthError(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has "
                "expired due to inactivity, or was already redeemed.",
            )
        if grant.client_id != params.get("client_id"):
            raise _OAuthError("invalid_grant", 70000, "The code was issued to another client.")
        if grant.redirect_uri != params.get("redirect_uri"):
            raise _OAuthError(
                "invalid_grant", 70000, "The redirect_uri differs from the authorization request."
            )
        verifier = params.get("code_verifier", "")
        if not verifier or pkce_challenge(verifier) != grant.challenge:
            raise _OAuthError(
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the "
                "authorization request.",
            )
        return grant, "pkce-verified"

    # -- refresh -------------------------------------------------------------------------------

    def _redeem_refresh_token(self, params: Mapping[str, str]) -> tuple[_Grant, str]:
        with self._lock:
            grant = self._refresh_tokens.get(params.get("refresh_token", ""))
        if grant is None or grant.client_id != params.get("client_id"):
            raise _OAuthError(
                "invalid_grant",
                9002313,
                "Invalid request. The refresh token is malformed or not valid for this client.",
            )
        asked = [s for s in self._scopes(params) if s not in OIDC_SCOPES]
        scopes = (asked or grant.scopes) + [s for s in grant.scopes if s in OIDC_SCOPES]
        return _Grant(grant.client_id, scopes, grant.user), "ok"

    # -- client credentials --------------------------------------------------------------------

    def _authenticate_app(self, params: Mapping[str, str], token_endpoint: str) -> str:
        client = self.confidential.get(params.get("client_id", ""))
        if client is None:
            raise _OAuthError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{params.get('client_id', '')}' was not found.",
            )
        if "client_secret" in params:
            if client.secret is None or not secrets.compare_digest(
                params["client_secret"], client.secret
            ):
                raise _OAuthError("invalid_client", 7000215, "Invalid client secret provided.", 401)
            return "client_secret"
        if params.get("client_assertion_type") != JWT_BEARER or not params.get("client_assertion"):
            raise _OAuthError(
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
                401,
            )
        assertion = params["client_assertion"]
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise _OAuthError(
                "invalid_client", 50027, "JWT token is invalid or malformed.", 401
            ) from None
        if ("x5t" in header or "x5t#S256" in header) and client.certificate_pem is not None:
            return self._check_certificate_assertion(client, assertion, header, token_endpoint)
        if client.federated is not None:
            return self._check_federated_assertion(client.federated, assertion)
        raise _OAuthError(
            "invalid_client", 700027, "Client assertion failed signature validation.", 401
        )

    def _check_certificate_assertion(
        self,
        client: ConfidentialClient,
        assertion: str,
        header: Mapping[str, Any],
        token_endpoint: str,
    ) -> str:
        assert client.certificate_pem is not None
        cert = x509.load_pem_x509_certificate(client.certificate_pem)
        named = {
            "x5t": b64url(cert.fingerprint(hashes.SHA1())),
            "x5t#S256": b64url(cert.fingerprint(hashes.SHA256())),
        }
        # MSAL sends the thumbprint base64url-encoded with its padding; Entra accepts both.
        if not any(str(header.get(k, "")).rstrip("=") == v for k, v in named.items()):
            raise _OAuthError(
                "invalid_client",
                700027,
                "Client assertion contains an invalid signature. [Reason - The key was not found.]",
                401,
            )
        try:
            claims = jwt.decode(
                assertion,
                cert.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=token_endpoint,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise _OAuthError(
                "invalid_client",
                700027,
                f"Client assertion failed signature validation ({type(exc).__name__}).",
                401,
            ) from None
        if claims["iss"] != client.client_id or claims["sub"] != client.client_id:
            raise _OAuthError(
                "invalid_client",
                700023,
                "Client assertion issuer and subject must be the app.",
                401,
            )
        return "certificate"

    def _check_federated_assertion(self, federated: FederatedCredential, assertion: str) -> str:
        key = serialization.load_pem_public_key(federated.public_key_pem)
        try:
            claims = jwt.decode(
                assertion,
                key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=federated.audience,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.InvalidAudienceError:
            raise _OAuthError(
                "invalid_client",
                700212,
                f"No matching federated identity record found for presented assertion audience "
                f"(expected '{federated.audience}').",
                401,
            ) from None
        except jwt.PyJWTError as exc:
            raise _OAuthError(
                "invalid_client",
                700024,
                f"Client assertion is not within its valid time range or not validly signed "
                f"({type(exc).__name__}).",
                401,
            ) from None
        if claims["iss"] != federated.issuer:
            raise _OAuthError(
                "invalid_client",
                700211,
                f"No matching federated identity record found for presented assertion issuer "
                f"'{claims['iss']}'.",
                401,
            )
        if claims["sub"] != federated.subject:
            raise _OAuthError(
                "invalid_client",
                700213,
                f"No matching federated identity record found for presented assertion subject "
                f"'{claims['sub']}'.",
                401,
            )
        return "federated"

    # -- token endpoint ------------------------------------------------------------------------

    def _token(self, params: Mapping[str, str], tenant: str) -> tuple[dict[str, Any], str]:
        grant_type = params.get("grant_type", "")
        token_endpoint = f"{self.url}/{tenant}/oauth2/v2.0/token"
        if grant_type == "client_credentials":
            how = self._authenticate_app(params, token_endpoint)
            scopes = self._scopes(params)
            if len(scopes) != 1 or not scopes[0].endswith("/.default"):
                raise _OAuthError(
                    "invalid_scope",
                    1002012,
                    "The provided value for scope is not valid. Client credential flows must "
                    "have a scope value with /.default suffixed to the resource identifier.",
                )
            return self._app_tokens(params["client_id"], scopes[0]), how
        if grant_type == DEVICE_GRANT:
            self._public_client(params)
            grant, outcome = self._redeem_device_code(params)
        elif grant_type == "authorization_code":
            self._public_client(params)
            grant, outcome = self._redeem_auth_code(params)
        elif grant_type == "refresh_token":
            self._public_client(params)
            grant, outcome = self._redeem_refresh_token(params)
        else:
            raise _OAuthError(
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant_type}'.",
            )
        return self._user_tokens(grant, params.get("client_info") == "1"), outcome

    def _user_tokens(self, grant: _Grant, client_info: bool) -> dict[str, Any]:
        now = int(time.time())
        resource_scopes = [s for s in grant.scopes if s not in OIDC_SCOPES]
        short = sorted({s.rsplit("/", 1)[-1] for s in resource_scopes})
        access = self._sign(
            {
                "aud": GRAPH,
                "iss": f"https://sts.windows.net/{self.tenant_id}/",
                "iat": now,
                "nbf": now,
                "exp": now + self.access_token_lifetime,
                "appid": grant.client_id,
                "idtyp": "user",
                "name": grant.user.name,
                "oid": grant.user.oid,
                "scp": " ".join(short),
                "sub": b64url(hashlib.sha256(grant.user.oid.encode()).digest()),
                "tid": self.tenant_id,
                "unique_name": grant.user.upn,
                "upn": grant.user.upn,
                "uti": b64url(secrets.token_bytes(16)),
                "ver": "1.0",
            }
        )
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(
                [
                    *resource_scopes,
                    *sorted(s for s in grant.scopes if s in OIDC_SCOPES - {"offline_access"}),
                ]
            ),
            "expires_in": self.access_token_lifetime,
            "ext_expires_in": self.access_token_lifetime,
            "access_token": access,
        }
        if "offline_access" in grant.scopes:
            refresh = secrets.token_urlsafe(64)
            with self._lock:
                self._refresh_tokens[refresh] = _Grant(grant.client_id, grant.scopes, grant.user)
            body["refresh_token"] = refresh
        if "openid" in grant.scopes:
            claims: dict[str, Any] = {
                "aud": grant.client_id,
                "iss": self._issuer(),
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "name": grant.user.name,
                "oid": grant.user.oid,
                "preferred_username": grant.user.upn,
                "rh": "0.AAAA",
                "sub": b64url(hashlib.sha256((grant.user.oid + grant.client_id).encode()).digest()),
                "tid": self.tenant_id,
                "uti": b64url(secrets.token_bytes(16)),
                "ver": "2.0",
            }
            if grant.nonce:
                claims["nonce"] = grant.nonce
            body["id_token"] = self._sign(claims)
        if client_info:
            info = {"uid": grant.user.oid, "utid": self.tenant_id}
            body["client_info"] = b64url(json.dumps(info).encode())
        self._issued(access)
        return body

    def _app_tokens(self, client_id: str, scope: str) -> dict[str, Any]:
        now = int(time.time())
        client = self.confidential[client_id]
        access = self._sign(
            {
                "aud": scope.removesuffix("/.default"),
                "iss": f"https://sts.windows.net/{self.tenant_id}/",
                "iat": now,
                "nbf": now,
                "exp": now + self.access_token_lifetime,
                "appid": client_id,
                "idtyp": "app",
                "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
                "roles": list(client.roles),
                "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, client_id)),
                "tid": self.tenant_id,
                "uti": b64url(secrets.token_bytes(16)),
                "ver": "1.0",
            }
        )
        self._issued(access)
        return {
            "token_type": "Bearer",
            "expires_in": self.access_token_lifetime,
            "ext_expires_in": self.access_token_lifetime,
            "access_token": access,
        }

    def _issued(self, access: str) -> None:
        with self._lock:
            self.issued_access_tokens.append(access)
        if self.on_access_token is not None:
            with contextlib.suppress(Exception):
                self.on_access_token(access)
