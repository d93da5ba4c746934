"""Sign-in with MSAL: device code or a browser for people, app-only credentials for CI, or a
given token.

Why these choices:

* Device code works over SSH and in containers with no browser; the prompt goes to stderr so
  stdout stays the report. It never runs without a terminal: in CI a device-code prompt would
  hang until it expires, so a non-interactive run without credentials fails at once (exit 3).
* Microsoft recommends blocking the device-code flow with a Conditional Access
  authentication-flows policy (entra-docs ``conditional-access/concept-authentication-flows.md``:
  "Microsoft recommends blocking device code flow wherever possible"). Entra then refuses the
  sign-in with AADSTS53003 (BlockedByConditionalAccess, ``reference-error-codes.md``; the code
  Azure CLI users see in that case, Azure/azure-cli#32420) or, for device-based policies, 530033.
  ``--auth browser`` is the way out: MSAL's ``acquire_token_interactive`` opens the system
  browser, receives the code on a loopback redirect (``http://localhost:<port>``, form_post)
  and redeems it with PKCE. On Windows it goes through the WAM broker when ``msal[broker]``
  (pymsalruntime) is installed, which also satisfies device-based Conditional Access.
* ``AZURE_AUTHORITY_HOST`` naming a host that is not one of Microsoft's (a test emulator, a
  proxy) means MSAL must not ask ``login.microsoftonline.com`` to validate it (instance
  discovery, msal ``application.py`` ``instance_discovery``): it is turned off for such hosts.
* MSAL refuses ``openid``/``profile``/``offline_access`` in ``scopes=`` and adds them itself
  (msal ``application.py`` ``_decorate_scope``), so only the Graph read scopes are listed, fully
  qualified with the cloud's Graph resource so national clouds get the right audience.
* App-only flows ask for ``{graph}/.default``: the app's granted application permissions.
* AADSTS65001 / 90094 / 90095 (entra-docs ``reference-error-codes.md``) mean nobody consented
  to these scopes for this client; the way out is an admin-consent URL
  (``v2-admin-consent.md``: tenant, client_id, scope and redirect_uri are required) or the
  user's own app registration via ``--client-id``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn, TextIO
from urllib.parse import quote, urlsplit

import msal  # type: ignore[import-untyped]
import requests

from consent_audit.errors import AccessError
from consent_audit.live.bearer import SignedIn, _jwt_claims, static_sign_in
from consent_audit.live.clouds import CloudEndpoints, resolve_endpoints
from consent_audit.live.credentials import (
    CERT_PASSWORD_VAR,
    CERT_VAR,
    FEDERATED_VAR,
    NON_INTERACTIVE_HELP,
    SECRET_VAR,
    SignInSettings,
    certificate_credential,
    choose_settings,
    federated_assertion,
)
from consent_audit.live.plan import app_only_permissions, sign_in_scopes
from consent_audit.live.scrub import scrub
from consent_audit.live.token_cache import (
    TokenStore,
    notify_once,
    open_token_store,
    saved_cache_exists,
)
from consent_audit.live_options import AuthMethod, LiveOptions

CONSENT_CODES = {65001, 90094, 90095}
DEVICE_CODE_BLOCKED_CODES = {53003, 530033}
"""BlockedByConditionalAccess, and the device-based block of a remote device flow."""
DEVICE_CODE_EXPIRED = {"expired_token", "code_expired", "authorization_pending"}
"""``authorization_pending`` is what MSAL returns when its own wait for the code runs out."""
DELEGATED = (AuthMethod.DEVICE_CODE, AuthMethod.BROWSER)
BROWSER_TIMEOUT_S = 600
"""Seconds the browser sign-in waits for the redirect (MSAL's default: forever)."""
# The Graph Command Line Tools registration lists http://localhost as a redirect URI (Graph
# PowerShell's interactive sign-in uses it); the admin-consent endpoint requires one.
CONSENT_REDIRECT_URI = "http://localhost"


def delegated_scopes(endpoints: CloudEndpoints, with_logs: bool) -> list[str]:
    """The collection plan's delegated permissions (plan.sign_in_scopes), fully qualified."""
    return [f"{endpoints.graph_resource}/{name}" for name in sign_in_scopes(with_logs)]


def admin_consent_url(
    endpoints: CloudEndpoints, tenant: str, client_id: str, scopes: list[str]
) -> str:
    """The v2 admin-consent URL; ``common`` is not allowed there, ``organizations`` is."""
    where = "organizations" if tenant.casefold() == "common" else tenant
    return (
        f"{endpoints.authority_host}/{quote(where, safe='')}/v2.0/adminconsent"
        f"?client_id={quote(client_id, safe='')}"
        f"&scope={quote(' '.join(scopes), safe='')}"
        f"&redirect_uri={quote(CONSENT_REDIRECT_URI, safe='')}"
    )


def microsoft_login_hosts() -> frozenset[str]:
    """Hosts MSAL knows as Microsoft's (its own list) plus every national cloud's login host."""
    from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS  # type: ignore[import-untyped]

    from consent_audit.live.clouds import login_hosts

    return frozenset(WELL_KNOWN_AUTHORITY_HOSTS) | login_hosts()


def instance_discovery_options(endpoints: CloudEndpoints) -> dict[str, Any]:
    """``instance_discovery=False`` for an authority host that is not Microsoft's.

    MSAL otherwise asks ``https://login.microsoftonline.com/common/discovery/instance`` whether
    an unknown host is a valid authority: a machine that cannot reach Microsoft (an emulator,
    an air-gapped test) fails there, and a private host would be named to Microsoft.
    """
    host = (urlsplit(endpoints.authority_host).hostname or "").lower()
    return {} if host in microsoft_login_hosts() else {"instance_discovery": False}


def broker_options(
    platform: str | None = None, find_spec: Callable[[str], object | None] | None = None
) -> dict[str, Any]:
    """``enable_broker_on_windows=True`` on Windows when ``pymsalruntime`` is installed.

    WAM (the Web Account Manager) signs in with the Windows account and device identity, so
    device-based Conditional Access is met and no browser is needed. It needs ``msal[broker]``;
    without it MSAL would raise ImportError, so the plain browser flow is used instead.
    """
    platform = sys.platform if platform is None else platform
    if platform != "win32":
        return {}
    try:
        found = (find_spec or importlib.util.find_spec)("pymsalruntime")
    except (ImportError, ValueError):  # a broken install: as good as none
        found = None
    return {} if found is None else {"enable_broker_on_windows": True}


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def raise_for_msal_error(
    result: Mapping[str, Any],
    *,
    endpoints: CloudEndpoints,
    settings: SignInSettings,
    scopes: list[str],
) -> NoReturn:
    """Turn MSAL's error dict into an AccessError; consent errors name the ways out."""
    # The identity server's text: scrubbed of tokens and assertions it may echo (scrub.py).
    error = scrub(str(result.get("error") or "unknown_error"))
    description = scrub(_first_line(str(result.get("error_description") or "")))
    codes = {int(c) for c in result.get("error_codes") or [] if str(c).isdigit()}
    codes |= {int(m) for m in re.findall(r"AADSTS(\d+)", description)}
    consent = bool(codes & CONSENT_CODES) or "consent_required" in (
        error,
        str(result.get("suberror") or ""),
    )
    device_code = settings.method is AuthMethod.DEVICE_CODE
    if device_code and codes & DEVICE_CODE_BLOCKED_CODES:
        code = min(codes & DEVICE_CODE_BLOCKED_CODES)
        raise AccessError(
            f"Conditional Access blocked the device-code sign-in (AADSTS{code}); many tenants "
            "block this flow, as Microsoft recommends: sign in with a browser instead "
            "(--auth browser).",
            fix=(
                "Run the command again with --auth browser on a machine with a web browser "
                "(e.g. consent-audit login --auth browser). Over SSH or in CI, sign in on your "
                "workstation, or use an app-only credential (AZURE_CLIENT_ID with "
                f"{CERT_VAR} or {FEDERATED_VAR})."
            ),
        )
    if device_code and error == "authorization_declined":
        raise AccessError(
            "the device-code sign-in was declined in the browser (authorization_declined).",
            fix="Run it again and approve the sign-in with the account that audits the tenant.",
        )
    if device_code and error in DEVICE_CODE_EXPIRED:
        raise AccessError(
            f"the device code expired before the sign-in was completed ({error}).",
            fix="Run it again and finish signing in at the address shown, with the code shown, "
            "before it expires (about 15 minutes).",
        )
    if consent and settings.method in DELEGATED:
        url = admin_consent_url(endpoints, settings.tenant, settings.client_id, scopes)
        raise AccessError(
            f"sign-in needs consent to consent-audit's read-only Graph scopes for client "
            f"{settings.client_id} ({description or error}).",
            fix=(
                "Either a Cloud Application Administrator or Application Administrator "
                f"consents once, for the whole tenant, by opening:\n  {url}\n"
                "or sign in with your own app registration that already has these delegated "
                "permissions granted: --client-id <appId> (or AZURE_CLIENT_ID)."
            ),
        )
    if consent:
        raise AccessError(
            f"the app {settings.client_id} lacks admin consent for Microsoft Graph "
            f"({description or error}).",
            fix="Grant admin consent for its Microsoft Graph application permissions "
            f"({app_only_permissions()}) in Entra ID > App registrations > API permissions "
            "(docs/permissions.md).",
        )
    raise AccessError(
        f"sign-in failed: {error}: {description or 'no description'}",
        fix="Check --tenant, --client-id and the credentials, then try again.",
    )


class MsalTokens:
    """Tokens from MSAL; ``refresh`` calls ``renew`` once per request for a new token."""

    def __init__(self, first: str, renew: Callable[[], str]) -> None:
        self._token = first
        self._renew = renew

    def token(self, *, refresh: bool = False) -> str:
        if refresh:
            self._token = self._renew()
        return self._token


def _guard(action: Callable[[], Any], endpoints: CloudEndpoints) -> Any:
    """MSAL raises ValueError (authority discovery) or requests errors (no network)."""
    try:
        return action()
    except (ValueError, requests.RequestException) as exc:
        # Only the type: a requests error's text can quote request headers or bodies.
        raise AccessError(
            f"cannot reach the sign-in service at {endpoints.authority_host} "
            f"({type(exc).__name__}).",
            fix="Check the network, --tenant and --cloud (tokens differ per national cloud).",
        ) from None


def _bind(function: Callable[..., Any], scopes: list[str], account: Any) -> Callable[[], Any]:
    return lambda: function(scopes, account=account)


def _default_interactive(env: Mapping[str, str]) -> bool:
    ci = env.get("CI", "").strip().casefold() in ("true", "1", "yes")
    return sys.stdin is not None and sys.stdin.isatty() and not ci


class Authenticator:
    """Builds MSAL applications and runs the chosen flow; every dependency is injectable."""

    def __init__(
        self,
        options: LiveOptions,
        *,
        env: Mapping[str, str] | None = None,
        with_logs: bool | None = None,
        interactive: Callable[[], bool] | None = None,
        out: TextIO | None = None,
        extra_scopes: Sequence[str] = (),
    ) -> None:
        self.extra_scopes = tuple(extra_scopes)
        """Write permissions for ``fix --apply`` (e.g. DelegatedPermissionGrant.ReadWrite.All)."""
        self.env = os.environ if env is None else env
        self.options = options
        self.endpoints = resolve_endpoints(options, self.env)
        self.settings = choose_settings(options, self.env)
        self.with_logs = options.with_logs if with_logs is None else with_logs
        self.interactive = interactive or (lambda: _default_interactive(self.env))
        self.out = out or sys.stderr
        self._token_store: TokenStore | None = None

    def token_store(self) -> TokenStore:
        """Opened on first use: app-only and bring-your-own-token runs never touch a keyring."""
        if self._token_store is None:
            self._token_store = open_token_store(notify=lambda text: notify_once(text, self.out))
        return self._token_store

    @property
    def authority(self) -> str:
        return f"{self.endpoints.authority_host}/{self.settings.tenant}"

    def sign_in(self) -> SignedIn:
        method = self.settings.method
        if method is AuthMethod.TOKEN:
            return static_sign_in(self.env)
        if method in DELEGATED:
            return self._delegated()
        return self._app_only()

    def _fail(self, result: Mapping[str, Any], scopes: list[str]) -> NoReturn:
        raise_for_msal_error(
            result, endpoints=self.endpoints, settings=self.settings, scopes=scopes
        )

    # -- delegated: cache, then device code or the browser ---------------------------------

    def public_client(self, cache: Any) -> msal.PublicClientApplication:
        """The public client, through WAM on Windows when it is installed, else plain.

        MSAL raises ImportError when the broker is asked for but pymsalruntime cannot be
        loaded (msal ``broker.py``); then the same app is built without it. A broker that is
        installed but fails to start is MSAL's own silent fallback (RuntimeError).
        """
        options = {
            "authority": self.authority,
            "token_cache": cache,
            **instance_discovery_options(self.endpoints),
        }
        broker = broker_options()
        if broker:
            try:
                return _guard(
                    lambda: msal.PublicClientApplication(
                        self.settings.client_id, **options, **broker
                    ),
                    self.endpoints,
                )
            except ImportError:
                pass
        return _guard(
            lambda: msal.PublicClientApplication(self.settings.client_id, **options),
            self.endpoints,
        )

    def requested_scopes(self) -> list[str]:
        """What a person's sign-in asks for: the reads the run can make (the plan's delegated
        permissions), then the writes of ``fix --apply``."""
        return delegated_scopes(self.endpoints, self.with_logs) + [
            f"{self.endpoints.graph_resource}/{name}" for name in self.extra_scopes
        ]

    def _delegated(self) -> SignedIn:
        scopes = self.requested_scopes()
        interactive = self.interactive()
        if not interactive and not saved_cache_exists():
            self._refuse_non_interactive()
        store = self.token_store()
        with store.guard():
            # A PersistedTokenCache: MSAL's every change is written through under the lock.
            cache = store.cache()
            app = self.public_client(cache)
            result = self._silent(app, scopes)
            if result is None:
                if not interactive:
                    self._refuse_non_interactive()
                if self.settings.method is AuthMethod.BROWSER:
                    result = self._browser(app, scopes)
                else:
                    result = self._device_code(app, scopes)
            account = _guard(lambda: app.get_accounts(), self.endpoints)
        who = (result.get("id_token_claims") or {}).get("preferred_username") or (
            account[0].get("username") if account else "(unknown account)"
        )
        claims = result.get("id_token_claims") or {}

        def renew() -> str:
            with store.guard():
                accounts = app.get_accounts(username=who) or app.get_accounts()
                fresh = _guard(
                    lambda: app.acquire_token_silent_with_error(
                        scopes, account=accounts[0] if accounts else None, force_refresh=True
                    ),
                    self.endpoints,
                )
            if not fresh or "access_token" not in fresh:
                self._fail(fresh or {"error": "no_cached_account"}, scopes)
            return str(fresh["access_token"])

        return SignedIn(
            MsalTokens(str(result["access_token"]), renew),
            str(who),
            claims.get("tid"),
            self.settings.method,
        )

    def _silent(
        self, app: msal.PublicClientApplication, scopes: list[str]
    ) -> dict[str, Any] | None:
        accounts = _guard(lambda: app.get_accounts(), self.endpoints)
        for account in accounts:
            result = _guard(_bind(app.acquire_token_silent, scopes, account), self.endpoints)
            if result and "access_token" in result:
                return dict(result)
        return None

    def _device_code(self, app: msal.PublicClientApplication, scopes: list[str]) -> dict[str, Any]:
        flow = _guard(lambda: app.initiate_device_flow(scopes=scopes), self.endpoints)
        if "user_code" not in flow:
            self._fail(flow, scopes)
        from consent_audit.render.safe_text import clean

        # The authority's own text (server text): one inert line, like every message.
        print(clean(str(flow["message"])), file=self.out, flush=True)
        result = _guard(lambda: app.acquire_token_by_device_flow(flow), self.endpoints)
        if "access_token" not in result:
            self._fail(result, scopes)
        return dict(result)

    def _browser(self, app: msal.PublicClientApplication, scopes: list[str]) -> dict[str, Any]:
        """Authorization code with PKCE: the system browser and a loopback redirect (or WAM).

        MSAL listens on ``http://localhost:<free port>``, opens the authorize URL with
        ``webbrowser`` (``$BROWSER`` chooses the browser), receives the code by form_post and
        redeems it with the PKCE verifier. Where no browser opens, the address is printed.
        """

        def before_ui(ui: str = "browser", **_kwargs: Any) -> None:
            what = "the Windows sign-in window" if ui == "broker" else "your web browser"
            print(f"Opening {what} to sign in...", file=self.out, flush=True)

        def no_browser(uri: str) -> None:
            print(
                f"No browser opened. Open this address in a browser on this machine:\n  {uri}",
                file=self.out,
                flush=True,
            )

        try:
            result = _guard(
                lambda: app.acquire_token_interactive(
                    scopes,
                    timeout=BROWSER_TIMEOUT_S,
                    parent_window_handle=msal.PublicClientApplication.CONSOLE_WINDOW_HANDLE,
                    on_before_launching_ui=before_ui,
                    auth_uri_callback=no_browser,
                ),
                self.endpoints,
            )
        except msal.BrowserInteractionTimeoutError:
            raise AccessError(
                f"no sign-in came back from the browser within {BROWSER_TIMEOUT_S // 60} minutes.",
                fix="Run it again and finish signing in in the browser window it opens.",
            ) from None
        if "access_token" not in result:
            self._fail(result, scopes)
        return dict(result)

    def _person_flow(self) -> str:
        return "a browser" if self.settings.method is AuthMethod.BROWSER else "a device code"

    def _refuse_non_interactive(self) -> NoReturn:
        raise AccessError(
            f"no terminal to sign in with {self._person_flow()} (stdin is not a TTY or CI is "
            "set), and no non-interactive credential is configured.",
            fix=NON_INTERACTIVE_HELP,
        )

    # -- app-only ----------------------------------------------------------------------------

    def _credential(self) -> Any:
        method = self.settings.method
        if method is AuthMethod.CLIENT_SECRET:
            return self.env[SECRET_VAR]
        if method is AuthMethod.CERTIFICATE:
            return certificate_credential(self.env[CERT_VAR], self.env.get(CERT_PASSWORD_VAR))
        path = self.env[FEDERATED_VAR]
        return {"client_assertion": lambda: federated_assertion(path)}

    def _app_only(self) -> SignedIn:
        scopes = [f"{self.endpoints.graph_resource}/.default"]
        credential = self._credential()

        def acquire() -> str:
            # A new app (and in-memory cache) each time: acquire_token_for_client refuses
            # force_refresh, and a refresh after a 401 must not return the cached token.
            app = _guard(
                lambda: msal.ConfidentialClientApplication(
                    self.settings.client_id,
                    client_credential=credential,
                    authority=self.authority,
                    token_cache=msal.TokenCache(),
                    **instance_discovery_options(self.endpoints),
                ),
                self.endpoints,
            )
            result = _guard(lambda: app.acquire_token_for_client(scopes=scopes), self.endpoints)
            if "access_token" not in result:
                self._fail(result, scopes)
            return str(result["access_token"])

        first = acquire()
        tid = _jwt_claims(first).get("tid") or self.settings.tenant
        return SignedIn(
            MsalTokens(first, acquire),
            f"app {self.settings.client_id}",
            tid,
            self.settings.method,
            app_only=True,
        )

    def logout(self) -> bool:
        """Forget the cached tokens in whichever store is in use; False when there were none."""
        return self.token_store().clear()
