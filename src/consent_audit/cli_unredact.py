"""``consent-audit unredact REPORT --snapshot MINE``: arguments and files; the work is
render/unredact.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from consent_audit.cli_options import fail
from consent_audit.errors import ConsentAuditError, InputError

_KINDS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}


def _kind(path: Path, text: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm", ".xml"):
        from consent_audit.files import shown

        raise InputError(
            f"{shown(path)}: unredact reads text, Markdown and JSON reports, not HTML or JUnit.",
            fix="Ask for the report as JSON (-o report.json), Markdown or text and unredact that.",
        )
    if suffix in _KINDS:
        return _KINDS[suffix]
    return "json" if text.lstrip().startswith("{") else "text"


def _same(a: Path, b: Path) -> bool:
    import os

    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def unredact(
    report: Annotated[
        Path,
        typer.Argument(help="A report (text, Markdown or JSON) about your redacted snapshot."),
    ],
    snapshot: Annotated[
        Path,
        typer.Option(
            "--snapshot",
            "-s",
            help="Your own unredacted snapshot of the same tenant (consent-audit snapshot "
            "without --redact): where the names come from.",
        ),
    ],
    redact_key: Annotated[
        Path | None,
        typer.Option(
            "--redact-key",
            help="The redaction key the redacted snapshot was made with (default: the one in "
            "your config directory).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of stdout (never an input)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Map a report's pseudonyms back to names, with your redaction key, on your machine.

    Reads only: nothing is sent, no input is written to. Pseudonyms of people the snapshot
    does not hold stay as they are (stderr counts them).

    Example: consent-audit unredact examples/unredact/report.md --snapshot examples/tenants/assignment-required.json --redact-key examples/unredact/demo.key
    """  # noqa: E501 (an example is one line: tests/e2e/test_examples_run.py runs it)
    try:
        from consent_audit.files import read_text_input, shown, write_text_atomic
        from consent_audit.live.redact import pseudonym_names
        from consent_audit.redaction_key import load_key
        from consent_audit.render.unredact import unredact as rewrite
        from consent_audit.snapshot import load_snapshot

        key, key_path = load_key(redact_key)
        if output is not None and str(output) != "-":
            for source in (report, snapshot, key_path):
                if str(source) != "-" and _same(output, source):
                    raise InputError(
                        f"-o {shown(output)} is an input file; writing would replace it.",
                        fix="Write the unredacted report to another file.",
                    )
        text, name = read_text_input(report, "report")
        kind = _kind(report, text)
        snap = load_snapshot(snapshot)
        if snap.redacted:
            raise InputError(
                f"{shown(snapshot)} is itself redacted: it has pseudonyms, not names.",
                fix="Pass your own snapshot taken without --redact (consent-audit snapshot "
                "-o mine.json), of the same tenant.",
            )
        if kind == "json":
            from consent_audit.input_parsing import parse_json

            raw = parse_json(text, name, fix="Pass the JSON report support sent.")
            tenant = (raw.get("tenant") or {}).get("id") if isinstance(raw, dict) else None
            if tenant and str(tenant).casefold() != snap.tenant.id.casefold():
                raise InputError(
                    f"{name} is about tenant {shown(str(tenant))}, the snapshot about "
                    f"{snap.tenant.id}.",
                    fix="Pass a snapshot of the tenant the report is about.",
                )
        result = rewrite(text, kind, pseudonym_names(snap, key))
        if output is None or str(output) == "-":
            sys.stdout.write(result.text)
        else:
            try:
                write_text_atomic(output, result.text)
            except OSError as exc:
                raise InputError(
                    f"{shown(output)}: cannot write ({exc.strerror}).",
                    fix="Check the directory exists and is writable.",
                ) from None
        if not quiet:
            left = ""
            if result.unknown:
                listed = ", ".join(result.unknown[:5]) + (" ..." if len(result.unknown) > 5 else "")
                left = (
                    f"; {len(result.unknown)} not in {shown(snapshot)} (taken for other users, "
                    f"or another key): {shown(listed)}"
                )
            typer.echo(f"replaced {result.replaced} pseudonym(s){left}", err=True)
    except ConsentAuditError as error:
        fail(error)


def register(app: typer.Typer) -> None:
    app.command()(unredact)
