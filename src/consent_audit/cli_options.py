"""Options and helpers shared by every command, so command modules stay small."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from consent_audit.errors import ConsentAuditError, InputError
from consent_audit.gate import FailOn
from consent_audit.live_options import AuthMethod, Cloud, LiveOptions


class Format(str, Enum):
    """Mirrors ``render.OutputFormat`` (kept here so ``--help`` does not import the renderers)."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    JUNIT = "junit"
    HTML = "html"


ManifestOpt = Annotated[
    Path | None,
    typer.Option("--manifest", help="Manifest TOML replacing the bundled one ('-' = stdin)."),
]
UserOpt = Annotated[
    str | None,
    typer.Option("--user", "-u", help="Audit this user (UPN or object id) as well."),
]
AppIdOpt = Annotated[
    list[str] | None,
    typer.Option("--app-id", help="Recruitee appId to audit (repeatable); default: by name."),
]
TenantOpt = Annotated[
    str | None,
    typer.Option("--tenant", envvar="AZURE_TENANT_ID", help="Tenant id or domain."),
]
ClientIdOpt = Annotated[
    str | None,
    typer.Option(
        "--client-id", envvar="AZURE_CLIENT_ID", help="Public/confidential client to sign in with."
    ),
]
AuthOpt = Annotated[
    AuthMethod | None,
    typer.Option(
        "--auth",
        help="Sign-in method: device-code (the default for a person), browser (the system "
        "browser, or WAM on Windows; use it where the tenant blocks device code), or an "
        "app-only credential; default: picked from the environment.",
    ),
]
CloudOpt = Annotated[Cloud, typer.Option("--cloud", help="National cloud.")]
GraphUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--graph-url",
        envvar="CONSENT_AUDIT_GRAPH_URL",
        help="Graph root without version, e.g. https://graph.microsoft.com.",
    ),
]
WithLogsOpt = Annotated[
    bool,
    typer.Option("--with-logs", help="Also read audit and sign-in logs (needs Entra ID P1)."),
]
FailOnOpt = Annotated[
    FailOn,
    typer.Option(
        "--fail-on",
        help="Exit 1 when a finding not accepted by a baseline is at least this serious: "
        "info < warning < unknown (part of the tenant could not be read, wholly or in part) "
        "< error; never = 0.",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
DeadlineOpt = Annotated[
    # Text, checked when a live run starts (live/transport.run_deadline: one message, exit
    # 2): a CONSENT_AUDIT_DEADLINE a CI job sets for its live runs never stops a replay.
    str | None,
    typer.Option(
        "--deadline",
        envvar="CONSENT_AUDIT_DEADLINE",
        metavar="SECONDS",
        help="Stop talking to Graph after this long (fix --apply: its reads, writes and "
        "re-audit together); unread parts are unknown, unsent writes named (default 900). "
        "Live runs only.",
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="More on stderr: Graph requests (never tokens), what was audited."
    ),
]


def fail(error: ConsentAuditError) -> NoReturn:
    """One message on stderr, then the error's exit code.

    Messages quote what the user or the tenant wrote (paths, field names, values, a user
    name from a snapshot), so each part is one line through the same cleaning as the report
    (render.safe_text.clean): the problem, each listed item, the fix. A line break inside
    any of them is a space, so data cannot start a line of its own (a forged "fix:").
    """
    from consent_audit.render.safe_text import clean

    lines = [f"error: {clean(error.summary)}", *(f"  - {clean(i)}" for i in error.items)]
    if error.fix:
        lines.append(f"fix: {clean(error.fix)}")
    typer.echo("\n".join(lines), err=True)
    raise typer.Exit(int(error.exit_code))


LIVE_ONLY = {
    "tenant": "--tenant",
    "client_id": "--client-id",
    "auth": "--auth",
    "cloud": "--cloud",
    "graph_url": "--graph-url",
    "deadline": "--deadline",
}
"""The options (parameter name: flag) that only say how to sign in to and read a live tenant;
``--with-logs`` is LiveOptions.with_logs."""


def _typed(ctx: typer.Context | None) -> tuple[str, ...]:
    """The LIVE_ONLY flags the command line gave: not their defaults, not the environment
    (``AZURE_TENANT_ID`` and the like, set for every job of a CI pipeline)."""
    if ctx is None:
        return ()
    return tuple(
        flag
        for name, flag in LIVE_ONLY.items()
        if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"
    )


def live_options(
    *,
    tenant: str | None,
    client_id: str | None,
    cloud: Cloud,
    auth: AuthMethod | None = None,
    graph_url: str | None = None,
    user: str | None = None,
    app_ids: list[str] | None = None,
    with_logs: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    deadline: str | None = None,
    ctx: typer.Context | None = None,
) -> LiveOptions:
    """The one place command-line values become ``LiveOptions`` (every command that signs in).

    Each ``--app-id`` must be a GUID (graph_ids): anything else names no application, and
    would otherwise end as an audit of nothing (exit 1) instead of bad input (exit 2).
    ``ctx``, from a command that can also replay (``--snapshot``/``--demo``), records which
    live-only options were typed, so that a replay can refuse them (run_source)."""
    from consent_audit.graph_ids import IdKind, problem

    for value in app_ids or ():
        reason = problem(IdKind.APP_ID, value)
        if reason is not None:
            raise InputError(
                f"--app-id is {reason}.",
                fix="Pass Recruitee's Application ID, a GUID (8-4-4-4-12 hex digits), as the "
                "admin center shows it under Enterprise apps > Recruitee > Properties.",
            )
    return LiveOptions(
        tenant=tenant,
        client_id=client_id,
        auth=auth,
        cloud=cloud,
        graph_url=graph_url,
        user=user,
        app_ids=tuple(app_ids or ()),
        with_logs=with_logs,
        quiet=quiet,
        verbose=verbose,
        deadline=deadline,
        given=_typed(ctx),
    )
