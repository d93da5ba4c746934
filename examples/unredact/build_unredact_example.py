"""Build the unredact example: what a customer holds after support answered.

- demo.key: a redaction key made for this example only (never use it for a real tenant);
- sent.json: examples/tenants/assignment-required.json, taken for lynne.robbins@fabrikam.com
  (who reported the problem), redacted with demo.key: what the customer sent to support;
- report.md: support's report about sent.json (`check -s sent.json -o report.md`).

The customer's own unredacted snapshot is examples/tenants/assignment-required.json itself:

    consent-audit unredact examples/unredact/report.md \\
        --snapshot examples/tenants/assignment-required.json --redact-key examples/unredact/demo.key

Run: python examples/unredact/build_unredact_example.py (``--output-dir DIR``: write them into
DIR; tests/test_examples_reproduced.py compares those with the committed files).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
from pathlib import Path

from typer.testing import CliRunner

from consent_audit.cli import STEP_SUMMARY_VAR, app
from consent_audit.live.redact import redact
from consent_audit.snapshot import dump_snapshot, load_snapshot, taken_for

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "tenants" / "assignment-required.json"
REPORTER = "lynne.robbins@fabrikam.com"
KEY = hashlib.sha256(b"consent-audit unredact example key").digest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the consent-audit unredact example.")
    parser.add_argument("--output-dir", type=Path, default=HERE, help="where to write them")
    out: Path = parser.parse_args(argv).output_dir.resolve()
    (out / "demo.key").write_text(
        "# consent-audit redaction key for examples/unredact only: never use it for a tenant\n"
        + base64.b64encode(KEY).decode()
        + "\n",
        encoding="utf-8",
    )
    sent = redact(taken_for(load_snapshot(SOURCE), REPORTER), KEY)
    (out / "sent.json").write_text(dump_snapshot(sent), encoding="utf-8")
    # Run where sent.json is, so the report names it as support would see it ("snapshot
    # sent.json") whatever the directory; no job summary is written (a CI run of the tests).
    before = Path.cwd()
    os.chdir(out)
    try:
        result = CliRunner().invoke(
            app,
            ["check", "-s", "sent.json", "--fail-on", "never", "--format", "markdown"],
            env={STEP_SUMMARY_VAR: None},
        )
    finally:
        os.chdir(before)
    if result.exit_code != 0:
        raise SystemExit(f"consent-audit check failed ({result.exit_code}): {result.output}")
    (out / "report.md").write_text(result.stdout, encoding="utf-8")


if __name__ == "__main__":
    main()
