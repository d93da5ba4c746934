"""Live collection from Microsoft Graph: sign-in, collection, redaction.

The CLI calls only what is re-exported here; MSAL and requests are imported lazily by it so
that offline commands (``check --snapshot``) never need them.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from consent_audit import gc_hold
from consent_audit.live.bearer import SignedIn, static_sign_in
from consent_audit.live.clouds import resolve_endpoints
from consent_audit.live.collector import Progress, collect_with
from consent_audit.live.credentials import choose_settings
from consent_audit.live.graph_client import GraphClient, http_timeout, retry_backoff
from consent_audit.live.plan import collection_plan
from consent_audit.live.redact import redact
from consent_audit.live.transport import Deadline, run_deadline
from consent_audit.live_options import AuthMethod, LiveOptions
from consent_audit.manifest import Manifest
from consent_audit.snapshot import TenantSnapshot

if TYPE_CHECKING:
    from consent_audit.live.writes import ActionResult
    from consent_audit.report import PlanStep

__all__ = [
    "apply_fixes",
    "collect",
    "collect_with",
    "collection_plan",
    "login",
    "logout",
    "redact",
    "sharing_one_deadline",
    "token_cache_status",
]


@contextlib.contextmanager
def _status(options: LiveOptions) -> Iterator[Progress]:
    """A rich status line on stderr naming what is read; silent when quiet or not a TTY."""
    if options.quiet or not sys.stderr.isatty():
        yield lambda _text: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("Signing in") as status:
        yield lambda text: status.update(text)


def _sign_in(options: LiveOptions) -> SignedIn:
    """A given token needs no MSAL: auth.py (MSAL, msal-extensions) is imported only to sign in."""
    if choose_settings(options).method is AuthMethod.TOKEN:
        return static_sign_in(os.environ)
    from consent_audit.live.auth import Authenticator

    return Authenticator(options).sign_in()


def sharing_one_deadline(options: LiveOptions) -> LiveOptions:
    """``options`` with one deadline, started now, for every collection and write made with
    them: ``fix --apply``'s reads, writes and re-audit together stay within ``--deadline``.
    A bad value is bad input (exit 2) before anything is asked."""
    return replace(options, shared_deadline=Deadline(run_deadline(options.deadline)))


def _paused(deadline: Deadline | None) -> contextlib.AbstractContextManager[None]:
    """A sign-in may wait for a person (device code, browser): not the run's Graph time."""
    return deadline.paused() if deadline is not None else contextlib.nullcontext()


def collect(options: LiveOptions, manifest: Manifest) -> TenantSnapshot:
    """Sign in and collect a snapshot of the tenant (AccessError, exit 3, if impossible)."""
    timeout = http_timeout()
    backoff = retry_backoff()
    seconds = run_deadline(options.deadline)
    with _paused(options.shared_deadline):
        signed_in = _sign_in(options)
    endpoints = resolve_endpoints(options)
    client = GraphClient(
        endpoints.graph_root,
        signed_in.provider,
        timeout=timeout,
        backoff=backoff,
        log=GraphClient.verbose_logger() if options.verbose else None,
        deadline=options.shared_deadline or Deadline(seconds),
    )
    # What is loaded by now (modules, pydantic's validators and schemas: most of the heap)
    # lives until the process exits. Frozen, it is no longer re-scanned by each full garbage
    # collection while a large tenant's pages stream through: ~4% of a run's CPU
    # (docs/performance.md). The process is short-lived: objects frozen now are freed at exit.
    gc.freeze()
    gc_hold.resume()  # a tenant of any size: collect garbage again
    with _status(options) as progress:
        return collect_with(
            client,
            manifest,
            options,
            tenant_hint=signed_in.tenant_id,
            progress=progress,
            app_only=signed_in.app_only,
        )


def apply_fixes(options: LiveOptions, actions: Sequence[PlanStep]) -> list[ActionResult]:
    """Sign in with the write permissions the actions need, then perform them in order,
    within ``options.shared_deadline`` when set: once it has passed (the reads may have used
    it up) nothing is signed in to or sent."""
    from consent_audit.live.auth import Authenticator
    from consent_audit.live.writes import GraphWriter, deadline_passed

    deadline = options.shared_deadline
    if deadline is not None and deadline.passed:
        return deadline_passed(actions, deadline)
    permissions = sorted({a.permission for a in actions if a.permission})
    timeout = http_timeout()
    backoff = retry_backoff()
    with _paused(deadline):
        signed_in = Authenticator(options, extra_scopes=permissions).sign_in()
    writer = GraphWriter(
        resolve_endpoints(options).graph_root,
        signed_in.provider,
        timeout=timeout,
        backoff=backoff,
        deadline=deadline,
    )
    return writer.apply(actions)


def login(options: LiveOptions) -> str:
    """Sign in only (filling the token cache); returns the account's UPN or the app's id."""
    from consent_audit.live.auth import Authenticator

    return Authenticator(options).sign_in().account


def logout(options: LiveOptions) -> bool:
    """Forget the cached tokens in whichever store is in use; False when there were none."""
    from consent_audit.live.auth import Authenticator

    return Authenticator(options).logout()


def token_cache_status() -> str:
    """One line: where the token cache lives, whether it is encrypted and holds a sign-in."""
    from consent_audit.live.token_cache import open_token_store

    return open_token_store(notify=None).status_line()
