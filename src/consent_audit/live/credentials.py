"""Which sign-in to use, from options and azure-identity's environment variable conventions.

Names follow azure-identity's ``EnvironmentCredential`` (``AZURE_TENANT_ID``,
``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``, ``AZURE_CLIENT_CERTIFICATE_PATH``,
``AZURE_CLIENT_CERTIFICATE_PASSWORD``) and ``WorkloadIdentityCredential``
(``AZURE_FEDERATED_TOKEN_FILE``), so a CI job configured for the Azure SDKs works unchanged.
``CONSENT_AUDIT_ACCESS_TOKEN`` is a bearer token the caller already has.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from consent_audit.errors import AccessError, InputError
from consent_audit.live_options import AuthMethod, LiveOptions

# Microsoft Graph Command Line Tools, the public client Microsoft Graph PowerShell signs in
# with (msgraph-sdk-powershell src/Authentication/Authentication/Models/AuthContext.cs).
GRAPH_CLI_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
DEFAULT_TENANT = "organizations"

TOKEN_VAR = "CONSENT_AUDIT_ACCESS_TOKEN"
SECRET_VAR = "AZURE_CLIENT_SECRET"
CERT_VAR = "AZURE_CLIENT_CERTIFICATE_PATH"
CERT_PASSWORD_VAR = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
FEDERATED_VAR = "AZURE_FEDERATED_TOKEN_FILE"

_METHOD_VARS: dict[AuthMethod, str] = {
    AuthMethod.TOKEN: TOKEN_VAR,
    AuthMethod.CLIENT_SECRET: SECRET_VAR,
    AuthMethod.CERTIFICATE: CERT_VAR,
    AuthMethod.FEDERATED: FEDERATED_VAR,
}
NON_INTERACTIVE_HELP = (
    f"Set {TOKEN_VAR} (a Graph access token), or AZURE_TENANT_ID and AZURE_CLIENT_ID with one "
    f"of {SECRET_VAR}, {CERT_VAR} (+ {CERT_PASSWORD_VAR}) or {FEDERATED_VAR}; or run "
    "`consent-audit login` in a terminal first."
)


@dataclass(frozen=True)
class SignInSettings:
    method: AuthMethod
    tenant: str
    client_id: str
    client_id_given: bool


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value else None


# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def check_bearer_token(token: str) -> str:
    """``token`` if it can be sent as ``Authorization: Bearer`` as is; else exit 2.

    A line break would be refused by requests with an error quoting the header (the token)
    and a non-latin-1 character crashes http.client; neither may reach a message or a log,
    so the check happens before any request, and the message names only the position.
    """
    if _BEARER_TOKEN.fullmatch(token):
        return token
    bad = next(
        (i for i, c in enumerate(token) if not _BEARER_TOKEN.fullmatch(c) and c != "="), None
    )
    where = f" (character {bad + 1} is not allowed)" if bad is not None else ""
    raise InputError(
        f"{TOKEN_VAR} is not a bearer token{where}: RFC 6750 allows letters, digits, "
        "'-._~+/' and trailing '='.",
        fix=f"Put the access token itself in {TOKEN_VAR}, with no quotes, spaces or line breaks.",
    )


def choose_settings(options: LiveOptions, env: Mapping[str, str] | None = None) -> SignInSettings:
    """Explicit ``--auth`` wins; else token > secret > certificate > federated > device code."""
    env = os.environ if env is None else env
    method = options.auth
    if method is None:
        method = next(
            (m for m, var in _METHOD_VARS.items() if _env(env, var)), AuthMethod.DEVICE_CODE
        )
    elif method in _METHOD_VARS and not _env(env, _METHOD_VARS[method]):
        raise AccessError(
            f"--auth {method.value} needs the environment variable {_METHOD_VARS[method]}.",
            fix=f"Set {_METHOD_VARS[method]}, or choose another --auth.",
        )
    client_id = options.client_id or _env(env, "AZURE_CLIENT_ID")
    tenant = options.tenant or _env(env, "AZURE_TENANT_ID") or DEFAULT_TENANT
    if method in (AuthMethod.CLIENT_SECRET, AuthMethod.CERTIFICATE, AuthMethod.FEDERATED):
        missing = [
            name
            for name, value in (("AZURE_CLIENT_ID", client_id), ("AZURE_TENANT_ID", tenant))
            if not value or value in ("organizations", "common")
        ]
        if missing:
            raise AccessError(
                f"app-only sign-in ({method.value}) needs {' and '.join(missing)}: it signs in "
                "as your own app registration in one tenant.",
                fix="Set " + " and ".join(missing) + " (or pass --client-id / --tenant).",
            )
    return SignInSettings(
        method=method,
        tenant=tenant,
        client_id=client_id or GRAPH_CLI_CLIENT_ID,
        client_id_given=client_id is not None,
    )


def certificate_credential(path: str, password: str | None) -> dict[str, str]:
    """MSAL's certificate credential from a PEM or PFX file: private key PEM + SHA-1 thumbprint.

    MSAL signs the client assertion with ``private_key`` and sends ``thumbprint`` as ``x5t``
    (msal ``ConfidentialClientApplication`` docstring). The key never leaves memory.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AccessError(
            f"cannot read the certificate {path} ({exc.strerror}).",
            fix=f"Point {CERT_VAR} at a readable PEM or PFX file.",
        ) from None
    secret = password.encode() if password else None
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=secret)
            cert = x509.load_pem_x509_certificate(data)
        else:
            loaded_key, loaded_cert, _ = pkcs12.load_key_and_certificates(data, secret)
            if loaded_key is None or loaded_cert is None:
                raise ValueError("the PFX holds no private key or no certificate")
            key, cert = loaded_key, loaded_cert
    except (ValueError, TypeError) as exc:
        raise AccessError(
            f"cannot load the certificate {path}: {exc}",
            fix=f"Give a PEM holding the private key and certificate, or a PFX; set "
            f"{CERT_PASSWORD_VAR} when it is encrypted.",
        ) from None
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {"private_key": pem, "thumbprint": cert.fingerprint(hashes.SHA1()).hex()}


def federated_assertion(path: str) -> str:
    """Read the federated token file on every call: Kubernetes rotates it in place."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AccessError(
            f"cannot read the federated token file {path} ({exc.strerror}).",
            fix=f"Point {FEDERATED_VAR} at the projected service-account token.",
        ) from None
