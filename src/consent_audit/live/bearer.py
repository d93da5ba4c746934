"""A bring-your-own bearer token (``CONSENT_AUDIT_ACCESS_TOKEN``): no MSAL at all.

Kept apart from auth.py so that a run with a given token never imports MSAL,
msal-extensions or cryptography (about a tenth of a second of start-up CPU, measured by
bench/scale.py against a naive client).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from consent_audit.errors import AccessError
from consent_audit.live.credentials import TOKEN_VAR, check_bearer_token
from consent_audit.live.graph_client import TokenProvider
from consent_audit.live_options import AuthMethod


def _jwt_claims(token: str) -> dict[str, Any]:
    """Unverified claims, only to name the account and tenant; Graph verifies the token."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@dataclass
class SignedIn:
    """The result of a sign-in: who, which tenant, and where to get (fresh) tokens."""

    provider: TokenProvider
    account: str
    tenant_id: str | None
    method: AuthMethod
    app_only: bool = False
    """Signed in as an app (client credentials): Graph checks its application permissions."""


class StaticToken:
    """A bring-your-own token: no MSAL, nothing cached, and no way to refresh it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self, *, refresh: bool = False) -> str:
        if refresh:
            raise AccessError(
                f"Microsoft Graph refused the token in {TOKEN_VAR} (HTTP 401).",
                fix=f"Put a fresh Graph access token in {TOKEN_VAR}, or unset it to sign in.",
            )
        return self._token


def static_sign_in(env: Mapping[str, str]) -> SignedIn:
    """The token as given (checked sendable), with the account and tenant its claims name."""
    token = check_bearer_token(env[TOKEN_VAR].strip())
    claims = _jwt_claims(token)
    who = claims.get("upn") or claims.get("preferred_username") or claims.get("appid")
    return SignedIn(
        StaticToken(token),
        str(who or "(token)"),
        claims.get("tid"),
        AuthMethod.TOKEN,
        app_only=is_app_token(claims),
    )


def is_app_token(claims: Mapping[str, Any]) -> bool:
    """An app-only access token: no ``scp`` (delegated scopes) but application ``roles``, or
    ``idtyp`` app (Microsoft identity platform access-token claims reference)."""
    return not claims.get("scp") and (claims.get("idtyp") == "app" or "roles" in claims)
