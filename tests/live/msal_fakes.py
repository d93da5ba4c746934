"""Mock Entra ID endpoints for MSAL, served through ``responses``."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import responses

from consent_audit.live.plan import sign_in_scopes

LOGIN = "https://login.microsoftonline.com"
TENANT = "contoso.onmicrosoft.com"
TENANT_ID = "aaaaaaaa-0000-0000-0000-000000000001"
CLIENT = "14d82eec-204b-4c2f-b7e8-296a70dab67e"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def id_token(upn: str = "admin@contoso.com", client: str = CLIENT) -> str:
    now = int(time.time())
    claims = {
        "aud": client,
        "iss": f"{LOGIN}/{TENANT_ID}/v2.0",
        "tid": TENANT_ID,
        "oid": "00000000-0000-0000-0000-0000000000aa",
        "sub": "sub",
        "preferred_username": upn,
        "iat": now,
        "exp": now + 3600,
        "ver": "2.0",
    }
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.sig"


def token_response(access: str = "at-1", client: str = CLIENT) -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "access_token": access,
        "expires_in": 3600,
        "refresh_token": "rt-1",
        "scope": " ".join(
            [f"https://graph.microsoft.com/{s}" for s in sign_in_scopes(with_logs=False)]
            + ["openid", "profile", "offline_access"]
        ),
        "id_token": id_token(client=client),
        "client_info": b64({"uid": "00000000-0000-0000-0000-0000000000aa", "utid": TENANT_ID}),
    }


def app_token(access: str = "app-at") -> dict[str, Any]:
    return {"token_type": "Bearer", "access_token": access, "expires_in": 3600}


def discovery(rsps: responses.RequestsMock, tenant: str = TENANT) -> str:
    base = f"{LOGIN}/{tenant}"
    rsps.add(
        responses.GET,
        f"{base}/v2.0/.well-known/openid-configuration",
        json={
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "issuer": f"{LOGIN}/{TENANT_ID}/v2.0",
        },
    )
    rsps.add(
        responses.GET,
        f"{LOGIN}/common/discovery/instance",
        json={
            "tenant_discovery_endpoint": f"{base}/v2.0/.well-known/openid-configuration",
            "metadata": [
                {
                    "preferred_network": "login.microsoftonline.com",
                    "preferred_cache": "login.windows.net",
                    "aliases": ["login.microsoftonline.com", "login.windows.net"],
                }
            ],
        },
    )
    return base


def device_code(rsps: responses.RequestsMock, base: str) -> None:
    rsps.add(
        responses.POST,
        f"{base}/oauth2/v2.0/devicecode",
        json={
            "user_code": "ABCD1234",
            "device_code": "dc",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": "To sign in, use a web browser to open https://microsoft.com/devicelogin "
            "and enter the code ABCD1234.",
        },
    )
