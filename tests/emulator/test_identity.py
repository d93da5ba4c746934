"""The identity emulator refuses what Entra refuses, so a sign-in test cannot pass by leniency.

Each test talks to it with plain ``requests`` (no MSAL): TLS is real (an untrusting client
fails), PKCE is checked, codes are single-use and bound to their redirect URI and client,
assertions are verified against the registered certificate or federated credential.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .identity import (
    DEVICE_GRANT,
    GRAPH_CLI_CLIENT_ID,
    JWT_BEARER,
    ConfidentialClient,
    DeviceScript,
    FederatedCredential,
    IdentityEmulator,
    b64url,
    pkce_challenge,
)
from .tls import TLSFiles, make_test_tls

TENANT = "contoso.onmicrosoft.com"
APP = "11111111-2222-4333-8444-555555555555"
SCOPE = "https://graph.microsoft.com/Policy.Read.All openid profile offline_access"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    return make_test_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def app_cert(app_key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app")])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(app_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .sign(app_key, hashes.SHA256())
    )


@pytest.fixture
def identity(
    tls: TLSFiles, app_key: rsa.RSAPrivateKey, app_cert: x509.Certificate
) -> Iterator[IdentityEmulator]:
    public = app_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    client = ConfidentialClient(
        APP,
        secret="right",
        certificate_pem=app_cert.public_bytes(serialization.Encoding.PEM),
        federated=FederatedCredential("https://issuer.test", "subject-1", public),
    )
    with IdentityEmulator(
        tls, confidential_clients=[client], device=DeviceScript(pending_polls=1)
    ) as emu:
        yield emu


def _post(emu: IdentityEmulator, tls: TLSFiles, path: str, **form: str) -> requests.Response:
    return requests.post(f"{emu.url}/{TENANT}/{path}", data=form, verify=tls.ca_file, timeout=10)


def _token(emu: IdentityEmulator, tls: TLSFiles, **form: str) -> tuple[int, dict[str, Any]]:
    answer = _post(emu, tls, "oauth2/v2.0/token", **form)
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def _authorize(
    emu: IdentityEmulator, tls: TLSFiles, verifier: str = "v" * 50, **extra: str
) -> requests.Response:
    params = {
        "client_id": GRAPH_CLI_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": "http://localhost:5555",
        "scope": SCOPE,
        "state": "st",
        "nonce": "n",
        "code_challenge": pkce_challenge(verifier),
        "code_challenge_method": "S256",
        **extra,
    }
    return requests.get(
        f"{emu.url}/{TENANT}/oauth2/v2.0/authorize",
        params=params,
        verify=tls.ca_file,
        allow_redirects=False,
        timeout=10,
    )


def _code(answer: requests.Response) -> str:
    location = answer.headers["Location"]
    return location.split("code=", 1)[1].split("&", 1)[0]


def test_tls_is_verified_a_client_without_the_test_ca_is_refused(
    identity: IdentityEmulator,
) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{identity.url}/{TENANT}/v2.0/.well-known/openid-configuration", timeout=10)


def test_openid_configuration_names_the_endpoints_and_refuses_an_unknown_tenant(
    identity: IdentityEmulator, tls: TLSFiles
) -> None:
    config = requests.get(
        f"{identity.url}/{TENANT}/v2.0/.well-known/openid-configuration",
        verify=tls.ca_file,
        timeout=10,
    ).json()
    assert config["token_endpoint"] == f"{identity.url}/{TENANT}/oauth2/v2.0/token"
    assert config["device_authorization_endpoint"].endswith("/oauth2/v2.0/devicecode")
    unknown = requests.get(
        f"{identity.url}/fabrikam.com/v2.0/.well-known/openid-configuration",
        verify=tls.ca_file,
        timeout=10,
    )
    assert unknown.status_code == 400
    assert unknown.json()["error_codes"] == [90002]


def test_authorization_code_needs_the_pkce_verifier_and_is_single_use(
    identity: IdentityEmulator, tls: TLSFiles
) -> None:
    form = {
        "grant_type": "authorization_code",
        "client_id": GRAPH_CLI_CLIENT_ID,
        "redirect_uri": "http://localhost:5555",
        "scope": SCOPE,
    }
    wrong = _code(_authorize(identity, tls))
    status, body = _token(identity, tls, code=wrong, code_verifier="w" * 50, **form)
    assert (status, body["error"], body["error_codes"]) == (400, "invalid_grant", [501481])

    code = _code(_authorize(identity, tls))
    status, body = _token(identity, tls, code=code, code_verifier="v" * 50, **form)
    assert status == 200
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert claims["nonce"] == "n"
    assert claims["aud"] == GRAPH_CLI_CLIENT_ID
    assert body["refresh_token"]
    status, body = _token(identity, tls, code=code, code_verifier="v" * 50, **form)
    assert (status, body["error"]) == (400, "invalid_grant")  # already redeemed


def test_authorization_code_is_bound_to_its_redirect_uri(
    identity: IdentityEmulator, tls: TLSFiles
) -> None:
    code = _code(_authorize(identity, tls))
    status, body = _token(
        identity,
        tls,
        grant_type="authorization_code",
        client_id=GRAPH_CLI_CLIENT_ID,
        redirect_uri="http://localhost:6666",
        code=code,
        code_verifier="v" * 50,
    )
    assert (status, body["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"code_challenge_method": "plain"}, 50148),
        ({"redirect_uri": "https://evil.test/callback"}, 50011),
        ({"client_id": "00000000-0000-0000-0000-000000000000"}, 700016),
    ],
)
def test_authorize_refuses_no_pkce_a_foreign_redirect_and_an_unknown_client(
    identity: IdentityEmulator, tls: TLSFiles, extra: dict[str, str], code: int
) -> None:
    answer = _authorize(identity, tls, **extra)
    assert answer.status_code == 400
    assert answer.json()["error_codes"] == [code]


def test_form_post_answers_with_entras_self_posting_form(
    identity: IdentityEmulator, tls: TLSFiles
) -> None:
    page = _authorize(identity, tls, response_mode="form_post")
    assert page.status_code == 200
    assert '<form method="POST" name="hiddenform" action="http://localhost:5555">' in page.text
    assert 'name="state" value="st"' in page.text


def test_device_code_is_pending_then_approved_once(
    identity: IdentityEmulator, tls: TLSFiles
) -> None:
    flow = _post(
        identity, tls, "oauth2/v2.0/devicecode", client_id=GRAPH_CLI_CLIENT_ID, scope=SCOPE
    ).json()
    poll = {"grant_type": DEVICE_GRANT, "client_id": GRAPH_CLI_CLIENT_ID}
    status, body = _token(identity, tls, device_code=flow["device_code"], **poll)
    assert (status, body["error"], body["error_codes"]) == (400, "authorization_pending", [70016])
    status, body = _token(identity, tls, device_code=flow["device_code"], **poll)
    assert status == 200
    assert body["access_token"] in identity.issued_access_tokens
    status, body = _token(identity, tls, device_code=flow["device_code"], **poll)
    assert (status, body["error"]) == (400, "invalid_grant")


def _assertion(key: rsa.RSAPrivateKey, headers: dict[str, str], **claims: Any) -> str:
    now = int(time.time())
    return jwt.encode(
        {"iat": now, "nbf": now, "exp": now + 600, **claims},
        key,
        algorithm="RS256",
        headers=headers,
    )


def _client_credentials(
    identity: IdentityEmulator, tls: TLSFiles, **form: str
) -> tuple[int, dict[str, Any]]:
    return _token(
        identity,
        tls,
        grant_type="client_credentials",
        client_id=APP,
        scope="https://graph.microsoft.com/.default",
        **form,
    )


def test_client_credentials_check_secret_certificate_and_federated_assertions(
    identity: IdentityEmulator,
    tls: TLSFiles,
    app_key: rsa.RSAPrivateKey,
    app_cert: x509.Certificate,
) -> None:
    assert _client_credentials(identity, tls, client_secret="right")[0] == 200
    status, body = _client_credentials(identity, tls, client_secret="wrong")
    assert (status, body["error_codes"]) == (401, [7000215])

    audience = f"{identity.url}/{TENANT}/oauth2/v2.0/token"
    x5t = {"x5t": b64url(app_cert.fingerprint(hashes.SHA1()))}
    good = _assertion(app_key, x5t, aud=audience, iss=APP, sub=APP)
    assertion = {"client_assertion_type": JWT_BEARER}
    assert _client_credentials(identity, tls, client_assertion=good, **assertion)[0] == 200
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _assertion(other, x5t, aud=audience, iss=APP, sub=APP)
    status, body = _client_credentials(identity, tls, client_assertion=forged, **assertion)
    assert (status, body["error_codes"]) == (401, [700027])
    elsewhere = _assertion(app_key, x5t, aud="https://other.test/token", iss=APP, sub=APP)
    status, body = _client_credentials(identity, tls, client_assertion=elsewhere, **assertion)
    assert (status, body["error_codes"]) == (401, [700027])

    federated = {"kid": "k"}
    ok = _assertion(
        app_key,
        federated,
        aud="api://AzureADTokenExchange",
        iss="https://issuer.test",
        sub="subject-1",
    )
    assert _client_credentials(identity, tls, client_assertion=ok, **assertion)[0] == 200
    for claims, code in [
        ({"aud": "api://Other", "iss": "https://issuer.test", "sub": "subject-1"}, 700212),
        (
            {"aud": "api://AzureADTokenExchange", "iss": "https://evil.test", "sub": "subject-1"},
            700211,
        ),
        (
            {"aud": "api://AzureADTokenExchange", "iss": "https://issuer.test", "sub": "other"},
            700213,
        ),
    ]:
        bad = _assertion(app_key, federated, **claims)
        status, body = _client_credentials(identity, tls, client_assertion=bad, **assertion)
        assert (status, body["error_codes"]) == (401, [code])

    status, body = _token(
        identity,
        tls,
        grant_type="client_credentials",
        client_id=APP,
        client_secret="right",
        scope="https://graph.microsoft.com/Policy.Read.All",
    )
    assert (status, body["error"]) == (400, "invalid_scope")


def test_no_secret_reaches_the_request_log(identity: IdentityEmulator, tls: TLSFiles) -> None:
    _client_credentials(identity, tls, client_secret="right")
    assert "right" not in str(identity.requests)
    assert Path(tls.key_file).stat().st_mode & 0o077 == 0
