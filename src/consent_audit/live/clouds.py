"""Where to sign in and where Graph lives, per national cloud.

Tokens are not interchangeable between clouds, so the login host and the Graph root must be
chosen together (microsoft-graph-docs-contrib ``concepts/deployments.md``: Global
``graph.microsoft.com`` / ``login.microsoftonline.com``; US Gov L4 ``graph.microsoft.us``;
US Gov L5 (DoD) ``dod-graph.microsoft.us``, both signing in at ``login.microsoftonline.us``;
China (21Vianet) ``microsoftgraph.chinacloudapi.cn`` / ``login.chinacloudapi.cn``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from consent_audit.errors import InputError
from consent_audit.live_options import Cloud, LiveOptions

_LOGIN_HOSTS: dict[Cloud, str] = {
    Cloud.GLOBAL: "https://login.microsoftonline.com",
    Cloud.USGOV: "https://login.microsoftonline.us",
    Cloud.USGOV_DOD: "https://login.microsoftonline.us",
    Cloud.CHINA: "https://login.chinacloudapi.cn",
}

_GRAPH_ROOTS: dict[Cloud, str] = {
    Cloud.GLOBAL: "https://graph.microsoft.com",
    Cloud.USGOV: "https://graph.microsoft.us",
    Cloud.USGOV_DOD: "https://dod-graph.microsoft.us",
    Cloud.CHINA: "https://microsoftgraph.chinacloudapi.cn",
}

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def login_hosts() -> frozenset[str]:
    """The national clouds' sign-in hosts (no scheme), e.g. ``login.microsoftonline.us``."""
    return frozenset(urlsplit(url).netloc for url in _LOGIN_HOSTS.values())


@dataclass(frozen=True)
class CloudEndpoints:
    """The sign-in host, the Graph root requests go to, and the Graph resource scopes name.

    ``graph_resource`` stays the cloud's real Graph root even when ``graph_root`` is
    overridden (an emulator or a proxy): scopes name the resource, not the host.
    """

    authority_host: str
    graph_root: str
    graph_resource: str

    @property
    def login_host(self) -> str:
        return urlsplit(self.authority_host).netloc


def _bad_url(what: str, why: str) -> InputError:
    # The value is not echoed: a URL with userinfo carries a password.
    return InputError(
        f"{what} is not usable: {why}.", fix="Pass e.g. https://host or https://host:port."
    )


def _normalise_url(value: str, what: str, *, allow_local_http: bool) -> str:
    """``value`` as requests will use it, or InputError (exit 2).

    Parsed with urllib3's ``parse_url``, the parser requests itself uses to prepare a URL, so
    the host checked here is the host connected to. ``http://127.0.0.2:8767\\@127.0.0.1``
    reads as host 127.0.0.1 to ``urllib.parse`` but 127.0.0.2 to urllib3: backslashes and
    userinfo (``user:password@``) are refused outright, and both parsers must agree on the host.
    The URL returned is rebuilt from the parsed parts (no query, no fragment).
    """
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    text = value.strip().rstrip("/")
    if "://" not in text:
        text = f"https://{text}"
    if "\\" in text or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise _bad_url(what, "it contains a backslash, a space or a control character")
    try:
        parsed = parse_url(text)
        split = urlsplit(text)
        split_port = split.port
    except (LocationParseError, ValueError):
        raise _bad_url(what, "it is not a URL (host, or port after ':', unreadable)") from None
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise _bad_url(what, "it is not an http(s) URL with a host")
    if parsed.auth is not None or "@" in (split.netloc or ""):
        raise _bad_url(what, "it contains a user name or password (user@host)")
    if parsed.query is not None or parsed.fragment is not None:
        raise _bad_url(what, "it has a query or fragment")
    host = parsed.host.strip("[]").lower()
    if host != (split.hostname or "") or parsed.port != split_port:
        raise _bad_url(what, "its host is ambiguous")
    if parsed.scheme == "http" and not (allow_local_http and host in _LOCAL_HOSTS):
        raise InputError(
            f"{what} uses plain http; tokens are only sent over https.",
            fix="Use an https URL (plain http is accepted for localhost only).",
        )
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path or ''}".rstrip("/")


def resolve_endpoints(options: LiveOptions, env: Mapping[str, str] | None = None) -> CloudEndpoints:
    """Endpoints for ``--cloud``, honouring ``AZURE_AUTHORITY_HOST`` (azure-identity's name)
    and ``--graph-url`` / ``CONSENT_AUDIT_GRAPH_URL`` (a Graph root without ``/v1.0``)."""
    env = os.environ if env is None else env
    authority = env.get("AZURE_AUTHORITY_HOST") or _LOGIN_HOSTS[options.cloud]
    graph = options.graph_url or env.get("CONSENT_AUDIT_GRAPH_URL") or _GRAPH_ROOTS[options.cloud]
    graph_root = _normalise_url(graph, "Graph URL", allow_local_http=True)
    if graph_root.endswith(("/v1.0", "/beta")):
        graph_root = graph_root.rsplit("/", 1)[0]
    return CloudEndpoints(
        authority_host=_normalise_url(authority, "authority host", allow_local_http=True),
        graph_root=graph_root,
        graph_resource=_GRAPH_ROOTS[options.cloud],
    )
