"""Remediation commands: ``explain``, ``consent-url`` and ``fix``.

Argument handling only; planning lives in evaluate/fixes.py, writing in live/writes.py.
"""

from __future__ import annotations

import re
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

import typer

from consent_audit.cli_options import (
    AppIdOpt,
    AuthOpt,
    ClientIdOpt,
    CloudOpt,
    DeadlineOpt,
    FailOnOpt,
    GraphUrlOpt,
    ManifestOpt,
    QuietOpt,
    TenantOpt,
    UserOpt,
    VerboseOpt,
    fail,
    live_options,
)
from consent_audit.errors import ConsentAuditError, ExitCode, InputError
from consent_audit.gate import FailOn, decide, exit_code
from consent_audit.live_options import Cloud, LiveOptions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from consent_audit.live.writes import ActionResult
    from consent_audit.manifest import Manifest
    from consent_audit.report import PlanStep, Report
    from consent_audit.snapshot import TenantSnapshot

AUTHORITY_HOSTS = {
    Cloud.GLOBAL: ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    Cloud.USGOV: ("https://login.microsoftonline.us", "https://graph.microsoft.us"),
    Cloud.USGOV_DOD: ("https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    Cloud.CHINA: ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}
OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}


def explain(
    code: Annotated[
        str,
        typer.Argument(
            help="AADSTS code (AADSTS65001 or 65001), a finding id, or the message the user "
            "saw, in quotes ('Need admin approval', 'Approval required', an AADSTS error text)."
        ),
    ],
) -> None:
    """Explain a sign-in error, a finding, or what a user reported: meaning, usual cause here,
    and the fix.

    Examples:

      consent-audit explain AADSTS65001

      consent-audit explain "Need admin approval"

      consent-audit explain SCOPE_MISSING
    """
    try:
        from consent_audit.render.safe_text import clean_lines

        sys.stdout.write(clean_lines(explain_text(code)))
    except ConsentAuditError as error:
        fail(error)


def explain_text(code: str) -> str:
    from consent_audit.evaluate.aadsts import aadsts_catalog
    from consent_audit.evaluate.registry import registry

    spec = registry().get(code.strip().upper())
    if spec is not None:
        causes = "\n".join(f"  - {c}" for c in spec.causes)
        return (
            f"{spec.id} ({spec.severity.value}): {spec.title}\n\n{spec.meaning}\n\n"
            f"Usual causes:\n{causes}\n\nWhere to fix it: Entra admin center > {spec.portal_path}\n"
        )
    seen: str | None = None
    match = re.fullmatch(r"(?:AADSTS)?(\d{4,7})", code.strip(), flags=re.IGNORECASE)
    if match is not None:
        number = int(match.group(1))
    else:
        from consent_audit.reported_phrases import reported_code

        found = reported_code(code)
        if found is None:
            raise InputError(
                f"{code!r} is neither an AADSTS error code, a finding id, nor a message "
                "consent-audit recognises.",
                fix="Pass e.g. AADSTS65001, 65001, SCOPE_MISSING, or the message in quotes: "
                '"Need admin approval", "Approval required".',
            )
        number, seen = found
    entry = aadsts_catalog().get(number)
    if entry is None:
        known = ", ".join(str(c) for c in sorted(aadsts_catalog()))
        raise InputError(
            f"AADSTS{number} is not in consent-audit's catalog of consent, assignment, "
            "Conditional Access and token codes.",
            fix=f"See https://login.microsoftonline.com/error?code={number}. Known: {known}.",
        )
    # An unverified code has no name from Microsoft's page (the catalog says "(not in page)"):
    # the heading says that once.
    verified = entry.get("verified", True)
    heading = entry["name"] if verified else "(not in Microsoft's error-code page)"
    said = f"That message is {seen}; Entra records it as AADSTS{number}.\n\n" if seen else ""
    return (
        f"{said}AADSTS{number} {heading}\n\n"
        f"Meaning: {entry['meaning']}\n\n"
        f"Usual cause with Recruitee: {entry['cause']}\n\n"
        f"Fix: {entry['fix']}\n"
    )


def consent_url(
    tenant: Annotated[
        str | None,
        typer.Option(
            "--tenant",
            envvar="AZURE_TENANT_ID",
            help="Tenant id or domain (default: the snapshot's or demo's tenant, else "
            "'organizations').",
        ),
    ] = None,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", "-f", help="Only this feature (repeatable).")
    ] = None,
    app_id: Annotated[
        str | None, typer.Option("--app-id", help="Recruitee's appId (default: the manifest's).")
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", "-s", help="Take the tenant and Recruitee's appId from here."),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Take the tenant and appId from the demo tenant.")
    ] = False,
    redirect_uri: Annotated[
        str | None,
        typer.Option("--redirect-uri", help="A reply URL registered by Recruitee, if known."),
    ] = None,
    manifest: ManifestOpt = None,
    cloud: CloudOpt = Cloud.GLOBAL,
) -> None:
    """Print the admin-consent URL for Recruitee with exactly the scopes needed.

    Examples:

      consent-audit consent-url --snapshot examples/tenants/partial-scopes.json

      consent-audit consent-url --demo --feature calendar
    """
    try:
        from consent_audit.manifest import load_manifest

        chosen = load_manifest(manifest).select(feature or [])
        snap = None
        if demo or snapshot is not None:
            from consent_audit.run_source import choose_source

            # --tenant and --cloud shape the URL, also from a replay: not refused (no ctx).
            source = choose_source(
                snapshot, demo, live_options(tenant=None, client_id=None, cloud=cloud)
            )
            snap = source.obtain(chosen).snapshot
        from consent_audit.files import shown

        origin = shown(snapshot) if snapshot is not None else "the demo tenant"
        if app_id:
            _refuse_lookalike(snap, app_id, chosen)
        recruitee = app_id or _app_id_from(snap, origin, chosen)
        _refuse_microsoft_disabled(snap, recruitee)
        where = tenant or (snap.tenant.id if snap is not None else "organizations")
        _check_url_values(recruitee, where, redirect_uri)
        url = admin_consent_url(chosen, recruitee, where, cloud, redirect_uri)
        from consent_audit.render.safe_text import clean

        typer.echo(clean(url))
        mail = sorted(
            (s for s in chosen.all_scopes if s.casefold() in ("mail.readwrite", "mail.send")),
            key=str.casefold,
        )
        if mail:
            # The careful order (grant-admin-consent.md; the fix plan's manual step first).
            typer.echo(
                f"note: admin consent to {' and '.join(mail)} lets Recruitee read, change and "
                "send the mail of everyone who connects it: first limit who can use Recruitee "
                "(assign the people who sync, then set 'Assignment required?' to Yes); "
                "`consent-audit fix` prints that order.",
                err=True,
            )
        if redirect_uri is None:
            typer.echo(
                "note: the v2 admin-consent endpoint redirects to one of Recruitee's registered "
                "reply URLs; if Microsoft reports a redirect URI error after you accept, the "
                "consent is not recorded: use `consent-audit fix` instead (it adds the scopes "
                "to the admin grant and keeps what is granted; the admin center's 'Grant admin "
                "consent' may revoke permissions already granted tenant-wide).",
                err=True,
            )
    except ConsentAuditError as error:
        fail(error)


def _check_url_values(app_id: str, tenant: str, redirect_uri: str | None) -> None:
    """The URL's values, validated for their kind before they are put into it (graph_ids):
    an appId is a GUID, a tenant a GUID or domain, a redirect URI one line of printable
    ASCII. A value from a snapshot or the command line that is not (a lone surrogate, a
    control character, a path) is bad input, never part of a URL and never exit 4."""
    from consent_audit.graph_ids import IdKind, problem

    for name, kind, value, fix in (
        ("Recruitee's appId", IdKind.APP_ID, app_id, "Pass --app-id with the GUID."),
        ("the tenant", IdKind.TENANT, tenant, "Pass --tenant with the tenant id or domain."),
    ):
        reason = problem(kind, value)
        if reason is not None:
            raise InputError(f"{name} is {reason}.", fix=fix)
    if redirect_uri is not None and not re.fullmatch(r"https?://[!-~]+", redirect_uri):
        raise InputError(
            "--redirect-uri is not an http(s) URL of printable ASCII characters.",
            fix="Pass one of Recruitee's registered reply URLs, or leave --redirect-uri out.",
        )


def _app_id_from(snap: TenantSnapshot | None, source: str, manifest: Manifest) -> str:
    """Recruitee's appId for the consent URL: the app the audit decides is in use. A service
    principal that only looks like Recruitee (APP_LOOKALIKE: registered in this tenant,
    single-tenant, or not matching the manifest's pins) is never linked, whatever its name."""
    if snap is not None:
        from consent_audit.evaluate import evaluate

        report = evaluate(snap, manifest)
        genuine = sorted({a.app_id for a in report.apps if a.identity != "lookalike"})
        in_use = report.app_in_use.app_id if report.app_in_use is not None else None
        if in_use is not None:
            _refuse_unconfirmed(report, in_use, source, manifest)
            return in_use
        if genuine:
            raise InputError(
                f"{source}: several Recruitee appIds ({', '.join(genuine)}).",
                fix="Pick one with --app-id.",
            )
        lookalikes = sorted({a.app_id for a in report.apps if a.identity == "lookalike"})
        if lookalikes:
            raise InputError(
                f"{source}: the only application named like Recruitee (appId "
                f"{', '.join(lookalikes)}) is not Recruitee's (APP_LOOKALIKE): no consent URL "
                "is made for it.",
                fix="Confirm Recruitee's appId with Recruitee and pass it with --app-id; run "
                "`consent-audit check` to see why the application is a look-alike.",
            )
    if manifest.known_app_ids:
        return manifest.known_app_ids[0]
    from consent_audit.evaluate.remediation import ENTERPRISE_APPS

    raise InputError(
        "Recruitee's appId is not known: no public appId is published and the manifest lists none.",
        fix=f"Pass --app-id ({ENTERPRISE_APPS} > All applications > Recruitee > Properties > "
        "Application ID) or --snapshot FILE from the tenant.",
    )


def _refuse_microsoft_disabled(snap: TenantSnapshot | None, app_id: str) -> None:
    """No consent URL for an application Microsoft disabled (``disabledByMicrosoftStatus``):
    the fix plan grants nothing to it either; it is suspect until Recruitee explains
    (entra-behaviour.md, "Remediation that does not make things worse")."""
    if snap is None:
        return
    from consent_audit.evaluate.fixes import microsoft_disabled

    for app in snap.recruitee_apps.data or []:
        sp = app.service_principal
        if sp.app_id.casefold() == app_id.casefold() and microsoft_disabled(sp):
            raise InputError(
                f"Microsoft disabled the application with appId {app_id} "
                f"({sp.disabled_by_microsoft_status}): no consent URL is made for it, and no "
                "consent in this tenant brings it back (APP_DISABLED_BY_MICROSOFT).",
                fix="Contact Recruitee and ask why; treat the application as suspect until "
                "they explain.",
            )


def _refuse_unconfirmed(report: Report, app_id: str, source: str, manifest: Manifest) -> None:
    """No consent URL for an app only its name says is Recruitee's: Graph did not report its
    owner tenant or sign-in audience (identity ``unconfirmed``) and no appId named it
    (entra-behaviour.md: "Never grant to it on name alone"). --app-id, or the manifest's
    known appIds, name it."""
    named = {a.casefold() for a in manifest.known_app_ids}
    if app_id.casefold() in named:
        return
    if any(a.app_id == app_id and a.identity == "unconfirmed" for a in report.apps):
        raise InputError(
            f"{source}: Graph did not report the owner tenant or sign-in audience of the "
            f"application named Recruitee (appId {app_id}), so only its name says it is "
            "Recruitee's: no consent URL is made for it.",
            fix="Confirm Recruitee's appId with Recruitee and pass it with --app-id.",
        )


def _refuse_lookalike(snap: TenantSnapshot | None, app_id: str, manifest: Manifest) -> None:
    """--app-id naming an application the snapshot shows is a look-alike: no URL."""
    if snap is None:
        return
    from consent_audit.evaluate import evaluate

    report = evaluate(snap, manifest, app_ids=(app_id,))
    if any(a.identity == "lookalike" for a in report.apps):
        raise InputError(
            f"appId {app_id} is not Recruitee's application in this tenant (APP_LOOKALIKE): "
            "no consent URL is made for it.",
            fix="Run `consent-audit check --app-id` with it to see why; confirm Recruitee's "
            "appId with Recruitee.",
        )


def admin_consent_url(
    manifest: Manifest, app_id: str, tenant: str, cloud: Cloud, redirect_uri: str | None
) -> str:
    """The v2 admin-consent URL (entra-docs identity-platform/v2-admin-consent.md): Graph
    scopes as full URIs on the cloud's Graph resource, OIDC scopes bare."""
    from consent_audit.catalog import graph_catalog

    login, graph = AUTHORITY_HOSTS[cloud]
    scopes = [
        s if s.casefold() in OIDC_SCOPES else f"{graph}/{s}"
        for s in manifest.all_scopes.canonical(graph_catalog())
    ]
    where = "organizations" if tenant.casefold() == "common" else tenant
    url = (
        f"{login}/{quote(where, safe='')}/v2.0/adminconsent?client_id={quote(app_id, safe='')}"
        f"&scope={quote(' '.join(scopes), safe='')}"
    )
    if redirect_uri:
        url += f"&redirect_uri={quote(redirect_uri, safe='')}"
    return url


def fix(
    ctx: typer.Context,
    user: UserOpt = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Perform the changes (asks first).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    manual_steps_done: Annotated[
        list[int] | None,
        typer.Option(
            "--manual-steps-done",
            help="With --apply: this manual step of the printed plan is done (repeatable). "
            "A Graph change printed after a manual step is sent only once that step is done.",
            metavar="STEP",
        ),
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option("--snapshot", "-s", help="Plan from a snapshot (no --apply).")
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Plan for the bundled demo tenant (no --apply).")
    ] = False,
    feature: Annotated[
        list[str] | None, typer.Option("--feature", "-f", help="Only this feature (repeatable).")
    ] = None,
    app_id: AppIdOpt = None,
    manifest: ManifestOpt = None,
    fail_on: FailOnOpt = FailOn.ERROR,
    tenant: TenantOpt = None,
    client_id: ClientIdOpt = None,
    auth: AuthOpt = None,
    cloud: CloudOpt = Cloud.GLOBAL,
    graph_url: GraphUrlOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    deadline: DeadlineOpt = None,
) -> None:
    """Show (or, with --apply, make) the audit's fix plan: the same steps `check` prints.

    Nothing is written without --apply. Made through Graph: missing admin consent (one
    request per grant, adding every missing scope to the admin grant or creating it), a
    disabled Recruitee application, a user not assigned. Tenant-wide policy stays with a
    person: those steps name the admin-center path and the trade-off.

    Examples:

      consent-audit fix --demo

      consent-audit fix --snapshot examples/tenants/partial-scopes.json

      consent-audit fix --user adele.vance@contoso.com --apply --yes

      consent-audit fix --apply --yes --manual-steps-done 1

    Every step is safe only in the order printed: a Graph change that comes after a manual
    step (for Mail.ReadWrite / Mail.Send: limit who can use Recruitee, then consent) is sent
    only once that step is done. --apply asks about each such step (default no); with --yes,
    name the manual steps you did with --manual-steps-done, or the run stops before them.
    """
    try:
        if apply and (snapshot is not None or demo):
            raise InputError(
                "--apply works on the live tenant, not on a snapshot or the demo.",
                fix="Drop --snapshot/--demo to plan and apply against the tenant.",
            )
        if not apply:
            replay = "--demo" if demo else "--snapshot" if snapshot is not None else None
            _refuse_apply_only(
                [
                    f
                    for f, typed in (("--yes", yes), ("--manual-steps-done", manual_steps_done))
                    if typed
                ],
                replay,
            )
        from consent_audit.manifest import load_manifest

        full = load_manifest(manifest)
        chosen = full.select(feature or [])
        options = live_options(
            tenant=tenant,
            client_id=client_id,
            auth=auth,
            cloud=cloud,
            graph_url=graph_url,
            deadline=deadline,
            user=user,
            app_ids=app_id,
            # The directory audit log shows a consent someone removed: the plan then asks why
            # before anything consents again, and --apply holds the grant until that step is
            # confirmed. Read for the dry run too, so both number the same plan.
            with_logs=snapshot is None and not demo,
            quiet=quiet,
            verbose=verbose,
            ctx=ctx,
        )
        ids = options.app_ids
        if snapshot is None and not demo:
            # One --deadline for the whole run: the reads, the writes and the re-audit.
            from consent_audit.live import sharing_one_deadline

            options = sharing_one_deadline(options)
        snap = _read(snapshot, demo, options, full)
        before = _audit(snap, chosen, full, user, ids)
        from consent_audit.evaluate.fixes import graph_steps, writes_in_order

        writes = graph_steps(before.plan)
        typer.echo(render_plan(before))
        unchecked = _revocation_not_checked(snap, writes)
        if unchecked:
            typer.echo(unchecked, err=True)
        if not apply:
            if writes:
                from consent_audit.render.plan import wrap_prose
                from consent_audit.render.safe_text import report_console

                said = (
                    _replayed_dry_run("--demo" if demo else "--snapshot")
                    if snapshot is not None or demo
                    else "Nothing was changed. Run again with --apply to make the Graph changes"
                    f"{_manual_first(before.plan)}."
                )
                typer.echo("\n".join(wrap_prose("", said, report_console().width)), err=True)
            raise typer.Exit(exit_code(decide(before, fail_on)))
        if not writes:
            raise typer.Exit(exit_code(decide(before, fail_on)))
        done = _manual_steps_named(before.plan, manual_steps_done or [])
        if not yes:
            # sys.stdin is None when stdin is closed (`<&-`).
            if sys.stdin is None or sys.stdin.closed or not sys.stdin.isatty():
                raise InputError(
                    "--apply needs confirmation and standard input is not a terminal.",
                    fix="Pass --yes to confirm non-interactively.",
                )
            with _paused(options):
                done |= _ask_manual_steps(before.plan, done)
        writes, pending = writes_in_order(before.plan, done)
        if pending is not None:
            typer.echo(_pending_message(before.plan, pending, writes), err=True)
        if not writes:
            # The tenant is as audited: its findings decide the exit, as without --apply.
            raise typer.Exit(exit_code(decide(before, fail_on)))
        if not yes:
            with _paused(options):
                agreed = _confirmed(f"Make these {len(writes)} change(s) in the tenant?")
            if not agreed:
                # Declining is not a failure and not a finding: exit 0, tenant untouched.
                typer.echo("Nothing changed.", err=True)
                raise typer.Exit(int(ExitCode.OK))
        from consent_audit.live import apply_fixes

        results = apply_fixes(options, writes)
        typer.echo(render_results(results))
        failed = [r for r in results if not r.ok]
        run_end = options.shared_deadline
        out_of_time = run_end is not None and run_end.passed
        if failed:
            made = sum(r.ok for r in results)
            unsent = sum(not r.sent for r in results)
            unknown = sum(not r.known for r in results)
            typer.echo(
                f"Stopped at step {failed[0].action.number}: {made} of {len(results)} "
                f"change(s) made, {unsent} not sent"
                + (f", {unknown} sent with an unknown outcome" if unknown else "")
                + ("." if out_of_time else ". Re-auditing the tenant as it is now.")
            )
        if run_end is not None and out_of_time:
            # Nothing more may be read: a re-audit now would be all unknown, not the tenant.
            typer.echo(
                f"Not re-audited: the run's --deadline of {run_end.seconds:g} s has passed. "
                "`consent-audit check` shows the tenant as it is now."
            )
            raise typer.Exit(int(ExitCode.NO_ACCESS))
        after = _audit(_read(None, False, options, full), chosen, full, user, ids)
        typer.echo(render_before_after(before, after))
        sent_ok = [r.action.number for r in results if r.ok]
        check = render_prediction_check(before, after, sent_ok)
        if check:
            typer.echo(check)
        if failed:
            raise typer.Exit(int(ExitCode.NO_ACCESS))
        raise typer.Exit(exit_code(decide(after, fail_on)))
    except ConsentAuditError as error:
        fail(error)


def _paused(options: LiveOptions) -> AbstractContextManager[None]:
    """The run's deadline stopped while a person answers: it bounds the time on Graph."""
    deadline = options.shared_deadline
    return deadline.paused() if deadline is not None else nullcontext()


def _read(
    snapshot: Path | None, demo: bool, options: LiveOptions, manifest: Manifest
) -> TenantSnapshot:
    from consent_audit.run_source import choose_source

    return choose_source(snapshot, demo, options).obtain(manifest).snapshot


def _audit(
    snap: TenantSnapshot,
    chosen: Manifest,
    full: Manifest,
    user: str | None,
    app_ids: tuple[str, ...],
) -> Report:
    from consent_audit.evaluate import evaluate

    return evaluate(snap, chosen, full_manifest=full, user=user, app_ids=app_ids)


def render_plan(report: Report, width: int | None = None) -> str:
    """The plan as `fix` prints it: every step, Graph changes with their request, wrapped at
    ``width`` (the terminal's, like `check`): prose under itself, commands only between
    arguments with their shell's continuation character.

    Tenant text goes through the one boundary (render.safe_text) like every report format:
    the report's strings are cleaned to one inert line each before they are put into lines,
    so a name cannot retitle the terminal or forge a plan line above the confirmation."""
    from consent_audit.render.plan import plan_step_lines
    from consent_audit.render.safe_text import clean_lines, clean_report

    report = clean_report(report)
    if not report.plan:
        return "Nothing to change: no finding needs a fix."
    from consent_audit.render.plan import wrap_prose
    from consent_audit.render.safe_text import report_console

    width = report_console().width if width is None else width
    lines = [f"Fix plan ({len(report.plan)} step(s), in this order):"]
    for step in report.plan:
        lines += plan_step_lines(step, width=width)
    if report.prediction is not None:
        summary = f"{report.prediction.summary} (worked out offline, before any change)"
        lines += wrap_prose("", summary, width)
    return clean_lines("\n".join(lines))


def render_results(results: Sequence[ActionResult]) -> str:
    """One line per planned write: done, FAILED with what Graph said (server text, cleaned
    to one inert line: an error message is written by whoever answers), outcome unknown (sent,
    no complete answer), or not sent (an earlier write was not made, or the deadline passed)."""
    from consent_audit.render.safe_text import clean

    def word(r: ActionResult) -> str:
        if r.ok:
            return "done"
        if not r.known:
            return "outcome unknown"
        return "FAILED" if r.sent else "not sent"

    return "\n".join(
        clean(f"{word(r)}: {r.action.summary}") + ("" if r.ok else f" ({clean(r.message)})")
        for r in results
    )


def render_before_after(before: Report, after: Report) -> str:
    from consent_audit.render.safe_text import clean_report

    before, after = clean_report(before), clean_report(after)
    rows = ["Before -> after:"]
    old = {f.name: f.status.value for f in before.features}
    for f in after.features:
        rows.append(f"  {f.title}: {old.get(f.name, '?')} -> {f.status.value}")
    rows.append(
        f"  errors: {before.summary.errors} -> {after.summary.errors}, "
        f"warnings: {before.summary.warnings} -> {after.summary.warnings}"
    )
    return "\n".join(rows)


def render_prediction_check(before: Report, after: Report, made: list[int]) -> str | None:
    """The re-audit against what the plan predicted before anything was sent
    (``Report.prediction``): where they agree, and every feature where they differ."""
    from consent_audit.evaluate.prediction import step_range
    from consent_audit.render.safe_text import clean_report
    from consent_audit.report import STATUS_WORD, VerdictStatus

    before, after = clean_report(before), clean_report(after)
    predicted = before.prediction
    if predicted is None:
        return None
    if sorted(made) != sorted(predicted.steps):
        return (
            f"Predicted: {predicted.summary}. That assumed {step_range(predicted.steps)} made; "
            + (f"{step_range(sorted(made))} made" if made else "none was made")
            + ", so the re-audit is not compared with it."
        )
    now = {f.name: f.status for f in after.features}
    # A feature the re-audit could not read in full (UNKNOWN: refused, throttled, cut off by
    # --deadline) says nothing about the tenant: neither agreement nor a change.
    unread = [
        p.title
        for p in predicted.features
        if now.get(p.name) is VerdictStatus.UNKNOWN and p.status is not VerdictStatus.UNKNOWN
    ]
    differ = [
        f"{p.title}: predicted {STATUS_WORD[p.status]}, re-audit "
        f"{STATUS_WORD[now[p.name]] if p.name in now else 'not audited'}"
        for p in predicted.features
        if now.get(p.name) is not p.status and p.title not in unread
    ]
    said = f"Predicted before sending: {predicted.summary}."
    if unread:
        said += (
            f" The re-audit could not read all it needs for {', '.join(unread)} (UNKNOWN), so "
            "it neither confirms nor contradicts the prediction there."
        )
    if not differ:
        if not unread:
            return said + " The re-audit agrees."
        return said + (" Elsewhere it agrees." if len(unread) < len(predicted.features) else "")
    return (
        said
        + " The re-audit differs: "
        + "; ".join(differ)
        + ". The tenant changed in ways the plan's requests do not explain (another change "
        "made meanwhile, or Graph not yet showing the write): audit again in a few minutes."
    )


APPLY_ONLY_EFFECT = {
    "--yes": "skips --apply's questions",
    "--manual-steps-done": "tells --apply which manual steps are done",
}
"""What each option of ``fix --apply`` does; without --apply it does nothing."""


def _refuse_apply_only(given: Sequence[str], replay: str | None) -> None:
    """``--yes`` or ``--manual-steps-done`` without ``--apply`` would be silently ignored (the
    run only prints the plan), so the run would seem to have honoured them: refused, exit 2,
    naming each, like a live-only option on a replay (run_source.choose_source)."""
    if not given:
        return
    named = " and ".join(given)
    if replay is None:
        why = "without --apply fix only prints the plan and changes nothing"
        fix = f"Add --apply to make the changes, or drop {named} to see the plan."
    else:
        why = f"{replay} plans from a saved tenant and --apply changes only the live tenant"
        fix = (
            f"Drop {named} to see the plan of the {replay.removeprefix('--')}, or drop "
            f"{replay} and add --apply to change the live tenant."
        )
    if len(given) == 1:
        summary = f"{given[0]} {APPLY_ONLY_EFFECT[given[0]]}, but {why}: it has no effect."
    else:
        summary = f"{named} only matter with --apply, but {why}: they have no effect."
    raise InputError(summary, fix=fix)


def _revocation_not_checked(snap: TenantSnapshot, writes: Sequence[PlanStep]) -> str | None:
    """Said when the plan grants consent but the directory audit log, which shows a consent
    someone removed (perhaps on purpose), could not be read: not checked, never assumed."""
    from consent_audit.evaluate.fixes import GRANT_WRITE
    from consent_audit.render.plan import wrap_prose
    from consent_audit.render.safe_text import clean, report_console

    part = snap.directory_audits
    if part.ok or not any(s.permission == GRANT_WRITE for s in writes):
        return None
    said = (
        f"Not checked: this audit did not read the directory audit log ({part.status.value}), "
        "so whether someone removed Recruitee's consent on purpose is unknown: look in Entra "
        "ID > Monitoring & health > Audit logs before consenting again."
    )
    return clean("\n".join(wrap_prose("", said, report_console().width)))


def _replayed_dry_run(replay: str) -> str:
    """The dry run's last line on a saved tenant, where --apply is refused: the changes are
    made by a live run, which reads the tenant again and numbers its own plan (the live
    tenant may have moved on, and live ``fix`` also reads the audit log), so this plan's step
    numbers are not repeated here as if they held there."""
    what = (
        "--demo shows a sample tenant, not yours"
        if replay == "--demo"
        else "--snapshot replays a saved tenant"
    )
    return (
        f"Nothing was changed: {what}. To make the Graph changes, run "
        "consent-audit fix --apply against the live tenant (without "
        f"{replay}): it reads the tenant again, prints its own plan and asks about each "
        "manual step before a write that needs it."
    )


def _manual_first(plan: Sequence[PlanStep]) -> str:
    """The dry run's reminder that --apply sends a write only after the manual steps before
    it are done."""
    from consent_audit.evaluate.fixes import manual_steps_before_writes

    numbers = [str(s.number) for s in manual_steps_before_writes(list(plan))]
    if not numbers:
        return ""
    flags = " ".join(f"--manual-steps-done {n}" for n in numbers)
    return f", once manual step(s) {', '.join(numbers)} are done (with --yes: {flags})"


def _manual_steps_named(plan: Sequence[PlanStep], numbers: Sequence[int]) -> set[int]:
    """--manual-steps-done, checked against the plan just printed: a number that is not a
    manual step of it (the plan changed since it was read, or a typo) is bad input, never
    taken as consent to send a write."""
    manual = {s.number for s in plan if s.kind == "manual"}
    wrong = sorted(set(numbers) - manual)
    if wrong:
        listed = ", ".join(str(n) for n in sorted(manual)) or "none"
        raise InputError(
            f"--manual-steps-done {wrong[0]}: step {wrong[0]} is not a manual step of the plan "
            f"printed above (its manual steps: {listed}).",
            fix="Read the plan again (it may have changed since) and name the manual steps "
            "you have done.",
        )
    return set(numbers)


def _ask_manual_steps(plan: Sequence[PlanStep], done: set[int]) -> set[int]:
    """Ask, in plan order, whether each manual step printed before a Graph change is done
    (default no); stop at the first no: the writes after it stay unsent."""
    from consent_audit.evaluate.fixes import manual_steps_before_writes
    from consent_audit.render.safe_text import clean

    confirmed: set[int] = set()
    for step in manual_steps_before_writes(list(plan)):
        if step.number in done:
            continue
        if not _confirmed(clean(f"Step {step.number} is yours to do: {step.summary}. Done?")):
            break
        confirmed.add(step.number)
    return confirmed


def _pending_message(
    plan: Sequence[PlanStep], pending: PlanStep, writes: Sequence[PlanStep]
) -> str:
    """Which manual step holds the writes back, and how to go on (one cleaned line each)."""
    from consent_audit.render.safe_text import clean

    held = [s.number for s in plan if s.kind == "graph" and s.number > pending.number]
    steps = ", ".join(str(n) for n in held)
    sent = f"Steps before it are sent ({len(writes)} change(s)). " if writes else ""
    return "\n".join(
        [
            clean(
                f"Not sent: step(s) {steps}, as manual step {pending.number} comes first and "
                f"is not done: {pending.summary}."
            ),
            clean(
                f"{sent}Do step {pending.number} in the admin center, then run this command "
                f"again with --manual-steps-done {pending.number} (or answer yes when asked)."
            ),
        ]
    )


def _confirmed(question: str) -> bool:
    """The admin's yes; no, Ctrl-D and Ctrl-C at the prompt all mean no."""
    try:
        return bool(typer.confirm(question, default=False))
    except (typer.Abort, EOFError):
        return False


def register(app: typer.Typer) -> None:
    app.command()(explain)
    app.command("consent-url")(consent_url)
    app.command()(fix)
