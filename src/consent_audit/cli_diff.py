"""``consent-audit diff BEFORE AFTER``: argument handling and loading; the diff is diff.py."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from consent_audit.cli_options import AppIdOpt, ManifestOpt, fail
from consent_audit.errors import ConsentAuditError, ExitCode, InputError

if TYPE_CHECKING:
    from consent_audit.manifest import Manifest
    from consent_audit.report import Report
    from consent_audit.snapshot import TenantSnapshot


class DiffFormat(str, Enum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def _load(
    path: Path, manifest: Manifest, user: str | None, app_ids: tuple[str, ...]
) -> tuple[Report, TenantSnapshot | None, str]:
    """A snapshot (audited here, for its one user unless --user) or a JSON report, by shape."""
    from consent_audit.files import read_text_input

    text, name = read_text_input(path, "snapshot or report")
    try:
        raw = json.loads(text)
    except ValueError:
        raw = None
    if isinstance(raw, dict) and "recruitee_apps" in raw:
        from consent_audit.evaluate import evaluate
        from consent_audit.report import SourceInfo
        from consent_audit.snapshot import parse_snapshot

        snap = parse_snapshot(text, name)
        if user is None and len(snap.users) == 1:
            user = snap.users[0].query
        elif user is None and snap.reported_by and snap.find_user(snap.reported_by):
            user = snap.reported_by
        info = SourceInfo(
            kind="snapshot",
            path=name,
            collected_at=snap.collected_at,
            redacted=snap.redacted,
            reported_by=snap.reported_by,
        )
        report = evaluate(snap, manifest, user=user, app_ids=app_ids, source=info)
        return report, snap, f"{name} (snapshot of {snap.collected_at:%Y-%m-%d %H:%M} UTC)"
    if isinstance(raw, dict) and "findings" in raw and "features" in raw:
        from pydantic import ValidationError

        from consent_audit.report import Report

        try:
            report = Report.model_validate(raw)
        except ValidationError as exc:
            raise InputError(
                f"{name}: not a consent-audit report of this version ({exc.error_count()} "
                "problem(s)).",
                fix="Diff snapshots, or reports written by this version (--format json).",
            ) from None
        return report, None, f"{name} (report of {report.generated_at:%Y-%m-%d %H:%M} UTC)"
    raise InputError(
        f"{name}: neither a consent-audit snapshot nor a JSON report.",
        fix="Pass two files from `consent-audit snapshot` or `consent-audit check --format json`.",
    )


def diff(
    before: Annotated[Path, typer.Argument(help="Earlier snapshot or JSON report ('-' = stdin).")],
    after: Annotated[Path, typer.Argument(help="Later snapshot or JSON report.")],
    output_format: Annotated[
        DiffFormat, typer.Option("--format", help="text, json or markdown.")
    ] = DiffFormat.TEXT,
    user: Annotated[
        str | None,
        typer.Option("--user", "-u", help="Audit this user in both snapshots (default: theirs)."),
    ] = None,
    app_id: AppIdOpt = None,
    manifest: ManifestOpt = None,
) -> None:
    """What changed between two snapshots (or two JSON reports) of one tenant.

    Verdicts per feature and per app, findings appeared/resolved (by fingerprint), grants
    whose scopes were added or removed, Conditional Access policies and consent settings,
    and in their own section security-relevant Conditional Access changes (a policy no
    longer enforced, exclusions added, grant controls removed or weakened, deleted).
    Exit 1 when sync got worse (a verdict dropped or a new error), 0 otherwise, 2 for bad
    input: the security section never changes the exit code.

    Example: consent-audit diff examples/diff/before.json examples/diff/after.json --format markdown
    """
    try:
        if str(before) == "-" and str(after) == "-":
            raise InputError("BEFORE and AFTER cannot both be stdin.", fix="Pass a file.")
        from consent_audit.diff import diff_reports
        from consent_audit.manifest import load_manifest
        from consent_audit.render.diff_formats import (
            render_diff_json,
            render_diff_markdown,
            render_diff_text,
        )

        full = load_manifest(manifest)
        ids = tuple(app_id or ())
        old, old_snap, old_label = _load(before, full, user, ids)
        new, new_snap, new_label = _load(after, full, user, ids)
        if old.tenant.id.casefold() != new.tenant.id.casefold():
            raise InputError(
                f"BEFORE is tenant {old.tenant.id} and AFTER is tenant {new.tenant.id}.",
                fix="Diff two audits of the same tenant.",
            )
        snapshots = (old_snap, new_snap) if old_snap and new_snap else None
        result = diff_reports(
            old, new, before_label=old_label, after_label=new_label, snapshots=snapshots
        )
        render = {
            DiffFormat.TEXT: render_diff_text,
            DiffFormat.JSON: render_diff_json,
            DiffFormat.MARKDOWN: render_diff_markdown,
        }[output_format]
        sys.stdout.write(render(result))
    except ConsentAuditError as error:
        fail(error)
    raise typer.Exit(int(ExitCode.FINDINGS if result.worse else ExitCode.OK))


def register(app: typer.Typer) -> None:
    app.command()(diff)
