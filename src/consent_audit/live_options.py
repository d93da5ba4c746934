"""Options for talking to a live tenant, shared by ``check``, ``snapshot``, ``login``, ``logout``.

Kept free of MSAL and requests so that the CLI can build it without importing either.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consent_audit.live.transport import Deadline


class AuthMethod(str, Enum):
    DEVICE_CODE = "device-code"
    BROWSER = "browser"
    """MSAL's interactive flow: the system browser (WAM on Windows), loopback redirect, PKCE."""
    CLIENT_SECRET = "client-secret"
    CERTIFICATE = "certificate"
    FEDERATED = "federated"
    TOKEN = "token"


class Cloud(str, Enum):
    GLOBAL = "global"
    USGOV = "usgov"
    USGOV_DOD = "usgov-dod"
    CHINA = "china"


@dataclass(frozen=True)
class LiveOptions:
    """Everything the collector needs besides the manifest. ``None`` = take from environment."""

    tenant: str | None = None
    client_id: str | None = None
    auth: AuthMethod | None = None
    cloud: Cloud = Cloud.GLOBAL
    graph_url: str | None = None
    user: str | None = None
    app_ids: tuple[str, ...] = ()
    with_logs: bool = False
    quiet: bool = False
    verbose: bool = False
    deadline: float | str | None = None
    """Seconds the run may spend on Graph (``--deadline``, checked when a live run starts:
    live/transport.run_deadline); None: ``CONSENT_AUDIT_DEADLINE`` or the default."""
    shared_deadline: Deadline | None = None
    """One deadline for every collection and write made with these options (``fix --apply``:
    the reads, the writes and the re-audit; live.sharing_one_deadline); None: each collection
    starts its own from ``deadline``."""
    given: tuple[str, ...] = ()
    """The live-only options typed on the command line (``--tenant``, ``--deadline``, ...),
    not those taken from the environment: a replay refuses these (run_source.choose_source),
    while a CI job's ``AZURE_TENANT_ID`` or ``CONSENT_AUDIT_DEADLINE`` leaves it alone."""
