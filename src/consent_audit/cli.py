"""Command-line interface: argument handling only; the work lives in the other modules.

Heavy modules (pydantic models, MSAL, requests) are imported inside commands so that
``--help`` and ``check --demo`` stay fast and never load MSAL or requests.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 bad input or
usage; 3 could not authenticate or reach Microsoft Graph; 4 internal error (a bug: report it).
"""

from __future__ import annotations

import atexit
import copy
import gc
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consent_audit import __version__, gc_hold
from consent_audit.cli_diff import register as register_diff
from consent_audit.cli_options import (
    AppIdOpt,
    AuthOpt,
    ClientIdOpt,
    CloudOpt,
    DeadlineOpt,
    FailOnOpt,
    Format,
    GraphUrlOpt,
    ManifestOpt,
    QuietOpt,
    TenantOpt,
    UserOpt,
    VerboseOpt,
    WithLogsOpt,
    fail,
    live_options,
)
from consent_audit.cli_remediation import register as register_remediation
from consent_audit.cli_unredact import register as register_unredact
from consent_audit.errors import ConsentAuditError, ExitCode, InputError
from consent_audit.gate import FailOn
from consent_audit.live_options import Cloud

if TYPE_CHECKING:
    from consent_audit.baseline import Baseline
    from consent_audit.manifest import Manifest
    from consent_audit.render import RenderOptions
    from consent_audit.report import Report
    from consent_audit.snapshot import TenantSnapshot

EXIT_CODES_HELP = (
    "Exit codes: 0 = no finding at or above --fail-on; 1 = findings at or above it; "
    "2 = bad input or usage; 3 = could not sign in or reach Microsoft Graph; 4 = internal error; "
    "5 = standard output closed, full or a broken pipe."
)

app = typer.Typer(
    name="consent-audit",
    help=(
        "Explain why Recruitee can or cannot sync Microsoft 365 mail, calendars and meeting "
        "rooms in your Microsoft Entra ID tenant, and what to change.\n\n"
        "Example: consent-audit check --demo\n\n" + EXIT_CODES_HELP
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
manifest_app = typer.Typer(
    help="Show or validate the manifest of required scopes.\n\n"
    "Example: consent-audit manifest show > m.toml && consent-audit manifest validate m.toml",
    no_args_is_help=True,
)
app.add_typer(manifest_app, name="manifest")
register_remediation(app)
register_diff(app)
register_unredact(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"consent-audit {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """consent-audit."""


def _load_manifest(path: Path | None) -> Manifest:
    from consent_audit.manifest import load_manifest

    return load_manifest(path)


STEP_SUMMARY_VAR = "GITHUB_STEP_SUMMARY"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _refuse_over_inputs(path: Path, flag: str, inputs: list[tuple[str, Path | None]]) -> None:
    """``flag PATH`` naming a file this run reads or writes -- the same path, a hard link or
    a symlink to it (``os.path.samefile``: same device and inode) -- is refused (exit 2)
    before any work: writing there would silently replace the evidence, the manifest, the
    redaction key (and with it every pseudonym) or another report."""
    from consent_audit.files import shown

    for what, source in inputs:
        if source is not None and str(source) != "-" and _same_file(path, source):
            raise InputError(
                f"{flag} {shown(path)} is {what}; writing there would replace it.",
                fix=f"Give {flag} a file of its own.",
            )


def _refuse_clashing_outputs(outputs: list[Path], inputs: list[tuple[str, Path | None]]) -> None:
    """Two reports on stdout, two on one file, or a report over an input: refused up front.

    ``-o - -o -`` would give a reader two JSON documents in one stream, and ``-o`` naming
    the snapshot being audited would silently replace the evidence with the report.
    """
    from consent_audit.files import shown

    if sum(str(p) == "-" for p in outputs) > 1:
        raise InputError(
            "'-o -' is given more than once: stdout can carry one report.",
            fix="Keep one '-o -' and write the other formats to files.",
        )
    files = [p for p in outputs if str(p) != "-"]
    for index, path in enumerate(files):
        if any(_same_file(path, other) for other in files[:index]):
            raise InputError(
                f"-o {shown(path)} is given twice.", fix="Give each report its own file name."
            )
        _refuse_over_inputs(path, "-o", inputs)


def _output_formats(
    outputs: list[Path],
    stdout_format: Format,
    inputs: list[tuple[str, Path | None]] | None = None,
) -> list[tuple[Path, str]]:
    """Each ``-o`` with its format, checked before any work so a typo fails fast."""
    from consent_audit.files import shown
    from consent_audit.render import EXTENSIONS, format_for_path

    _refuse_clashing_outputs(outputs, inputs or [])
    resolved: list[tuple[Path, str]] = []
    for path in outputs:
        if str(path) == "-":
            resolved.append((path, stdout_format.value))
            continue
        fmt = format_for_path(path)
        if fmt is None:
            known = ", ".join(sorted(EXTENSIONS))
            raise InputError(
                f"{shown(path)}: cannot tell the format from the extension "
                f"{shown(repr(path.suffix))}.",
                fix=f"Use one of {known}, or '-' for stdout (in --format).",
            )
        resolved.append((path, fmt.value))
    return resolved


def _render_options(details: bool = False) -> RenderOptions:
    from consent_audit.render import RenderOptions

    return RenderOptions(details=details)


def _write_stdout(report: Report, fmt: str, options: RenderOptions) -> None:
    from consent_audit.render import OutputFormat, renderer

    if fmt == Format.TEXT.value:
        from consent_audit.render.safe_text import report_console
        from consent_audit.render.text import render_to_console

        # rich turns colour off for pipes and NO_COLOR strips colour but keeps bold: with
        # NO_COLOR set, no escape code at all (https://no-color.org).
        plain = bool(os.environ.get("NO_COLOR"))
        render_to_console(
            report,
            report_console(color_system=None if plain else "auto"),
            details=options.details,
        )
        return
    sys.stdout.write(renderer(OutputFormat(fmt), options)(report))


def _write_outputs(
    report: Report,
    outputs: list[tuple[Path, str]],
    stdout_format: Format,
    quiet: bool,
    options: RenderOptions,
) -> None:
    from consent_audit.files import shown, write_text_atomic
    from consent_audit.render import OutputFormat, renderer

    if not outputs:
        _write_stdout(report, stdout_format.value, options)
        return
    for path, fmt in outputs:
        if str(path) == "-":
            _write_stdout(report, fmt, options)
            continue
        try:
            write_text_atomic(path, renderer(OutputFormat(fmt), options)(report))
        except OSError as exc:
            raise InputError(
                f"{shown(path)}: cannot write the report ({exc.strerror}).",
                fix="Check the directory exists and is writable.",
            ) from None
        if not quiet:
            typer.echo(f"wrote {fmt} report to {shown(path)}", err=True)


def _append_step_summary(report: Report, options: RenderOptions, quiet: bool) -> None:
    """In GitHub Actions, add the Markdown report to the job summary (GITHUB_STEP_SUMMARY)."""
    target = os.environ.get(STEP_SUMMARY_VAR)
    if not target:
        return
    from consent_audit.render import OutputFormat, renderer

    try:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(renderer(OutputFormat.MARKDOWN, options)(report) + "\n")
    except OSError as exc:
        # The job summary is a courtesy: it never changes the exit code.
        typer.echo(f"warning: cannot append to {STEP_SUMMARY_VAR} ({exc.strerror}).", err=True)
        return
    if not quiet:
        typer.echo(f"appended markdown report to {STEP_SUMMARY_VAR}", err=True)


def _load_baseline(path: Path | None) -> Baseline | None:
    if path is None:
        return None
    from consent_audit.baseline import load_baseline

    return load_baseline(path)


def _write_baseline(report: Report, path: Path, reason: str, today: date, quiet: bool) -> Baseline:
    """Write the baseline accepting ``report``'s findings; return it, to gate this run with.

    The run then exits as the next one reading the file will: 0 once written, unless a
    finding no baseline accepts (data a verdict needs could not be read) counts.
    """
    from consent_audit.baseline import as_baseline, baseline_entries, baseline_toml
    from consent_audit.files import shown, write_text_atomic

    entries = baseline_entries(report, reason, today)
    try:
        write_text_atomic(path, baseline_toml(entries))
    except OSError as exc:
        raise InputError(
            f"{shown(path)}: cannot write the baseline ({exc.strerror}).",
            fix="Check the directory exists and is writable.",
        ) from None
    left_out = len(report.findings) - len(entries)
    if not quiet:
        typer.echo(
            f"wrote a baseline of {len(entries)} finding(s) to {shown(path)}"
            + (
                f"; left out {left_out} saying data could not be read (give the "
                "identity the permissions they name)"
                if left_out
                else ""
            ),
            err=True,
        )
    return as_baseline(shown(path), entries)


def _snapshot_user(snap: TenantSnapshot, quiet: bool) -> str | None:
    """A snapshot taken with --user is about that user (the first --user: who reported the
    problem): audit them unless told otherwise."""
    from consent_audit.render.safe_text import clean

    queries = [clean(lookup.query) for lookup in snap.users]
    reporter = snap.find_user(snap.reported_by) if snap.reported_by else None
    if len(queries) == 1 or reporter is not None:
        chosen = reporter or snap.users[0]
        others = [q for q in queries if q != clean(chosen.query)]
        also = f"; it also holds {', '.join(others)}" if others else ""
        who = "who reported the problem" if others else "the user this snapshot was taken for"
        if not quiet:
            _notice(
                f"auditing {clean(chosen.query)}, {who}{also} "
                "(--user picks another, --tenant-only the tenant alone)"
            )
        return chosen.query
    if queries and not quiet:
        _notice(
            f"the snapshot holds {len(queries)} users ({', '.join(queries)}): auditing the "
            "tenant; pass --user to audit one of them"
        )
    return None


def _notice(text: str) -> None:
    """A note on standard error, wrapped at the terminal's width like the report."""
    from consent_audit.render.plan import wrap_prose
    from consent_audit.render.safe_text import report_console

    typer.echo("\n".join(wrap_prose("", text, report_console(stderr=True).width)), err=True)


@app.command()
def check(
    ctx: typer.Context,
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", "-s", help="Audit a saved snapshot ('-' = stdin) offline."),
    ] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Audit the bundled demo tenant.")] = False,
    user: UserOpt = None,
    feature: Annotated[
        list[str] | None,
        typer.Option(
            "--feature", "-f", help="Only this feature (repeatable): mailbox, calendar, rooms."
        ),
    ] = None,
    app_id: AppIdOpt = None,
    manifest: ManifestOpt = None,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="Report format on stdout (and for '-o -'): text, json, markdown, junit, html.",
        ),
    ] = Format.TEXT,
    details: Annotated[
        bool,
        typer.Option(
            "--details",
            help="Text: show everything (the plan's requests, findings, chains, consent and "
            "Conditional Access tables, apps, settings), not only the first screen.",
        ),
    ] = False,
    output: Annotated[
        list[Path] | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the report to FILE (repeatable; format from the extension: .json, .md, "
            ".xml = JUnit, .html, .txt; '-' = stdout in --format). Without '-o -', stdout "
            "stays empty.",
        ),
    ] = None,
    fail_on: FailOnOpt = FailOn.ERROR,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            help="TOML file of accepted findings (each with a reason, optional expires): they "
            "stay in the report, marked, and do not count toward --fail-on.",
        ),
    ] = None,
    tenant_only: Annotated[
        bool,
        typer.Option(
            "--tenant-only",
            help="With --snapshot: audit the tenant only, not the user the snapshot was taken for.",
        ),
    ] = False,
    write_baseline: Annotated[
        Path | None,
        typer.Option(
            "--write-baseline",
            help="Write this run's findings as a baseline file, each with --reason; the run "
            "then exits as the next one with --baseline FILE will (0 unless data could not be "
            "read).",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason", help="With --write-baseline: why the team accepts these findings."
        ),
    ] = None,
    tenant: TenantOpt = None,
    client_id: ClientIdOpt = None,
    auth: AuthOpt = None,
    cloud: CloudOpt = Cloud.GLOBAL,
    graph_url: GraphUrlOpt = None,
    with_logs: WithLogsOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    deadline: DeadlineOpt = None,
) -> None:
    """Audit a tenant (live, a snapshot, or the demo) and report per feature.

    Examples:

      consent-audit check --demo

      consent-audit check --demo --details

      consent-audit check --snapshot examples/tenants/partial-scopes.json --format json

      consent-audit check --demo -o r.json -o r.md -o r.xml -o r.html

      consent-audit check --tenant contoso.onmicrosoft.com -o report.json --fail-on warning

      consent-audit check --demo --write-baseline baseline.toml --reason "ticket 4711"

      consent-audit check --demo --baseline baseline.toml --fail-on unknown

    In GitHub Actions (GITHUB_STEP_SUMMARY set) the Markdown report is also appended to the
    job summary. NO_COLOR turns colour off.
    """
    try:
        inputs: list[tuple[str, Path | None]] = [
            ("the snapshot being audited", snapshot),
            ("the manifest", manifest),
            ("the baseline read", baseline),
        ]
        outputs = _output_formats(output or [], output_format, inputs)
        if write_baseline is not None:
            reports = [("also an -o report file", p) for p, _ in outputs]
            _refuse_over_inputs(write_baseline, "--write-baseline", [*inputs, *reports])
        options = _render_options(details)
        accepted = _load_baseline(baseline)
        if write_baseline is not None:
            from consent_audit.baseline import check_reason

            reason = check_reason(reason)
        from consent_audit.run_source import choose_source

        live = live_options(
            tenant=tenant,
            client_id=client_id,
            auth=auth,
            cloud=cloud,
            graph_url=graph_url,
            deadline=deadline,
            user=user,
            app_ids=app_id,
            with_logs=with_logs,
            quiet=quiet,
            verbose=verbose,
            ctx=ctx,
        )
        source_of_run = choose_source(snapshot, demo, live)
        full_manifest = _load_manifest(manifest)
        selected = full_manifest.select(feature or [])
        obtained = source_of_run.obtain(full_manifest)
        source = obtained.info
        if user is None and source.kind == "snapshot" and not tenant_only:
            user = _snapshot_user(obtained.snapshot, quiet)
        from consent_audit.evaluate import evaluate

        report = evaluate(
            obtained.snapshot,
            selected,
            full_manifest=full_manifest,
            user=user,
            app_ids=live.app_ids,
            source=source,
        )
        if manifest is not None or tenant_only:
            # What a suggested command must carry to audit the same way (render/plan.py).
            shaped: dict[str, object] = {
                "manifest_path": str(manifest) if manifest else None,
                "tenant_only": tenant_only and user is None,
            }
            report = report.model_copy(update={"options": report.options.model_copy(update=shaped)})
        from consent_audit.gate import decide

        today = datetime.now(timezone.utc).date()
        report = decide(report, fail_on, accepted, today)
        if write_baseline is not None:
            written = _write_baseline(report, write_baseline, reason or "", today, quiet)
            report = decide(report, fail_on, written, today)
        if verbose and source.kind != "live":
            from consent_audit.files import shown
            from consent_audit.render.common import source_label

            typer.echo(
                f"audited {shown(source_label(report))}: {len(report.features)} feature(s), "
                f"{len(report.apps)} Recruitee app(s), {len(report.findings)} finding(s)",
                err=True,
            )
        _write_outputs(report, outputs, output_format, quiet, options)
        from consent_audit.stdout_guard import finish_stdout

        finish_stdout()  # a reader gone with the report unread: exit 5 before the summary
        _append_step_summary(report, options, quiet)
        code = report.gate.exit_code
        if not quiet and (output or output_format is not Format.TEXT):
            s = report.summary
            typer.echo(
                f"{s.status.value}: {s.errors} error(s), {s.warnings} warning(s), {s.infos} info",
                err=True,
            )
            typer.echo(f"exit {code}: {report.gate.reason}", err=True)
    except ConsentAuditError as error:
        fail(error)
    raise typer.Exit(code)


def _redaction_key(path: Path | None, quiet: bool) -> bytes:
    from consent_audit.redaction_key import load_or_create_key

    key, where, created = load_or_create_key(path)
    if created and not quiet:
        from consent_audit.files import shown

        typer.echo(
            f"made a redaction key at {shown(where)}: keep it (same key, same pseudonyms "
            "next time); "
            "never send it",
            err=True,
        )
    return key


@app.command("snapshot")
def snapshot_cmd(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the snapshot ('-' = stdout).")
    ],
    user: Annotated[
        list[str] | None,
        typer.Option(
            "--user",
            "-u",
            help="Also read this user (UPN or object id); repeatable, all kept. The first is "
            "recorded as the person the snapshot is taken for (who reported the problem).",
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Replace names, UPNs, emails, user/group ids and CA policy names with "
            "pseudonyms (stable across snapshots with the same --redact-key).",
        ),
    ] = False,
    redact_key: Annotated[
        Path | None,
        typer.Option(
            "--redact-key",
            help="The redaction key file (made owner-only on first use; default: in the "
            "user's config directory). Keep it; never send it.",
        ),
    ] = None,
    app_id: AppIdOpt = None,
    manifest: ManifestOpt = None,
    tenant: TenantOpt = None,
    client_id: ClientIdOpt = None,
    auth: AuthOpt = None,
    cloud: CloudOpt = Cloud.GLOBAL,
    graph_url: GraphUrlOpt = None,
    with_logs: WithLogsOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    deadline: DeadlineOpt = None,
) -> None:
    """Collect a tenant snapshot for offline replay (e.g. to send to support).

    Example: consent-audit snapshot --user adele.vance@contoso.com --redact -o contoso.json
    """
    try:
        if str(output) != "-":
            from consent_audit.redaction_key import default_key_path

            _refuse_over_inputs(
                output,
                "-o",
                [
                    ("the manifest", manifest),
                    ("the redaction key", redact_key or default_key_path()),
                ],
            )
        key = _redaction_key(redact_key, quiet) if redact else None
        full_manifest = _load_manifest(manifest)
        from consent_audit.run_source import LiveSource

        options = live_options(
            tenant=tenant,
            client_id=client_id,
            auth=auth,
            cloud=cloud,
            graph_url=graph_url,
            deadline=deadline,
            app_ids=app_id,
            with_logs=with_logs,
            quiet=quiet,
            verbose=verbose,
        )
        snap = LiveSource(options, tuple(user or ())).obtain(full_manifest).snapshot
        if user:
            from consent_audit.snapshot import taken_for

            snap = taken_for(snap, user[0])
        from consent_audit.live import redact as redact_snapshot
        from consent_audit.snapshot import dump_snapshot

        if key is not None:
            snap = redact_snapshot(snap, key)
        text = dump_snapshot(snap)
        if str(output) == "-":
            sys.stdout.write(text)
        else:
            from consent_audit.files import shown, write_text_atomic

            try:
                write_text_atomic(output, text)
            except OSError as exc:
                raise InputError(
                    f"{shown(output)}: cannot write the snapshot ({exc.strerror}).",
                    fix="Check the directory exists and is writable.",
                ) from None
            if not quiet:
                typer.echo(f"wrote snapshot to {shown(output)}", err=True)
    except ConsentAuditError as error:
        fail(error)


@app.command()
def login(
    tenant: TenantOpt = None,
    client_id: ClientIdOpt = None,
    auth: AuthOpt = None,
    cloud: CloudOpt = Cloud.GLOBAL,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Print one line: where the token cache lives and whether it is encrypted "
            "(signs nothing in).",
        ),
    ] = False,
) -> None:
    """Sign in and cache the token (no audit). Example: consent-audit login --tenant contoso.com"""
    try:
        if status:
            from consent_audit.files import shown
            from consent_audit.live import token_cache_status

            typer.echo(shown(token_cache_status()))
            return
        from consent_audit.live import login as do_login

        who = do_login(live_options(tenant=tenant, client_id=client_id, auth=auth, cloud=cloud))
        from consent_audit.render.safe_text import clean

        typer.echo(f"signed in as {clean(str(who))}", err=True)  # the account name is the server's
    except ConsentAuditError as error:
        fail(error)


@app.command()
def logout(
    tenant: TenantOpt = None,
    client_id: ClientIdOpt = None,
    cloud: CloudOpt = Cloud.GLOBAL,
) -> None:
    """Remove the cached token. Example: consent-audit logout"""
    try:
        from consent_audit.live import logout as do_logout

        removed = do_logout(live_options(tenant=tenant, client_id=client_id, cloud=cloud))
        typer.echo("token cache removed" if removed else "no token cache to remove", err=True)
    except ConsentAuditError as error:
        fail(error)


@manifest_app.command("show")
def manifest_show(manifest: ManifestOpt = None) -> None:
    """Print the effective manifest as TOML. Example: consent-audit manifest show > m.toml"""
    try:
        sys.stdout.write(_load_manifest(manifest).to_toml())
    except ConsentAuditError as error:
        fail(error)


@manifest_app.command("validate")
def manifest_validate(
    file: Annotated[Path, typer.Argument(help="Manifest TOML to check ('-' = stdin).")],
) -> None:
    """Check a manifest; exit 0 when valid, 2 when not. Example: consent-audit manifest
    validate m.toml"""
    try:
        m = _load_manifest(file)
        from consent_audit.files import shown

        typer.echo(
            shown(
                f"{file}: valid ({len(m.features)} features: "
                f"{', '.join(f.name for f in m.features)})"
            )
        )
    except ConsentAuditError as error:
        fail(error)


def main() -> None:
    """Entry point: no Python traceback ever reaches the user."""
    # The interpreter's exit ends with a full garbage collection over every object the run
    # made (pydantic's schemas, Typer's commands, the report), none of which can be freed
    # sooner. Frozen just before it (atexit handlers run first), they are not scanned: ~50 ms
    # of CPU for check --demo (docs/performance.md). Registered once, also when called again.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    # No automatic collection while the command starts; reading a file or a tenant resumes
    # it (gc_hold.py: ~1.8% of check --demo's CPU).
    gc_hold.hold()
    try:
        from consent_audit.stdio import make_stdio_unicode_safe
        from consent_audit.stdout_guard import StdoutLost, guard_stdout, silence_stdout

        make_stdio_unicode_safe()  # before the guard wraps sys.stdout
        guard_stdout()
        try:
            _run_app()
        except StdoutLost as lost:
            silence_stdout()
            if not lost.broken_pipe:
                typer.echo(f"error: cannot write to standard output ({lost}).", err=True)
                typer.echo("fix: write the report to a file with -o FILE.", err=True)
            sys.exit(int(ExitCode.OUTPUT_LOST))
    finally:
        gc_hold.resume()


def _only_the_command(argv: list[str]) -> typer.Typer:
    """The app holding just the command ``argv`` starts with, when it names one.

    Typer builds every command's parameters (and their help) before running one: ~10 ms of
    start-up spent on commands that do not run. The command's own behaviour, help, usage line
    and errors are the same; anything else (``--help``, ``--version``, a typo that wants the
    list of commands) gets the whole app.

    ``registered_commands``, ``registered_groups``, ``CommandInfo`` and
    ``typer.main.get_command_name`` are Typer's internals, not its documented API: a Typer
    without one of them gets the whole app, whose output is the same, only built more slowly.
    """
    try:
        return _narrowed_app(argv)
    except AttributeError:
        return app


def _narrowed_app(argv: list[str]) -> typer.Typer:
    """:func:`_only_the_command`'s work, through Typer's internals."""
    if argv == ["--help"] and not any(name.endswith("_COMPLETE") for name in os.environ):
        return _listing_app()
    if not argv or argv[0].startswith("-"):
        return app
    commands = [
        info
        for info in app.registered_commands
        if (info.name or (info.callback and typer.main.get_command_name(info.callback.__name__)))
        == argv[0]
    ]
    groups = [info for info in app.registered_groups if info.name == argv[0]]
    if len(commands) + len(groups) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands = commands
    one.registered_groups = groups
    return one


def _listing_app() -> typer.Typer:
    """The app for the top-level ``--help``: every command with its help, no parameters.

    That page lists each command's name and first help line; building their parameters
    (~8 ms) changes nothing on it (tests/test_startup_imports.py compares the two pages).
    Shell completion, which needs the parameters, is left out by the caller.
    """
    listing = copy.copy(app)
    listing.registered_commands = []
    for info in app.registered_commands:
        if info.callback is None:  # pragma: no cover - every command has one
            return app

        def bare() -> None:  # pragma: no cover - only listed, never run
            """Stands in for a command whose help is listed."""

        bare.__name__ = info.callback.__name__
        bare.__doc__ = info.callback.__doc__
        listed = copy.copy(info)
        listed.callback = bare
        listing.registered_commands.append(listed)
    return listing


def _run_app() -> None:
    """Run the commands, flushing stdout inside the guard so a late write error is caught."""
    try:
        _only_the_command(sys.argv[1:])()
    except SystemExit:
        from consent_audit.stdout_guard import finish_stdout

        finish_stdout()
        raise
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("CONSENT_AUDIT_DEBUG"):
            raise
        from consent_audit.render.safe_text import clean

        typer.echo(f"internal error: {type(exc).__name__}: {clean(str(exc))}", err=True)
        typer.echo(
            "fix: this is a bug in consent-audit; rerun with CONSENT_AUDIT_DEBUG=1 "
            "and report the output.",
            err=True,
        )
        sys.exit(4)
