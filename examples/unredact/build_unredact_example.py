"""Build the unredact example: what a customer holds after support answered.

- demo.key: a redaction key made for this example only (never use it for a real tenant);
- sent.json: examples/tenants/assignment-required.json, taken for lynne.robbins@fabrikam.com
  (who reported the problem), redacted with demo.key: what the customer sent to support;
- report.md: support's report about sent.json (`check -s sent.json -o report.md`).

The customer's own unredacted snapshot is examples/tenants/assignment-required.json itself:

    consent-audit unredact examples/unredact/report.md \\
        --snapshot examples/tenants/assignment-required.json --redact-key examples/unredact/demo.key

Run: python examples/unredact/build_unredact_example.py
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.live.redact import redact
from consent_audit.snapshot import dump_snapshot, load_snapshot, taken_for

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "tenants" / "assignment-required.json"
REPORTER = "lynne.robbins@fabrikam.com"
KEY = hashlib.sha256(b"consent-audit unredact example key").digest()


def main() -> None:
    (HERE / "demo.key").write_text(
        "# consent-audit redaction key for examples/unredact only: never use it for a tenant\n"
        + base64.b64encode(KEY).decode()
        + "\n",
        encoding="utf-8",
    )
    sent = redact(taken_for(load_snapshot(SOURCE), REPORTER), KEY)
    (HERE / "sent.json").write_text(dump_snapshot(sent), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["check", "-s", str(HERE / "sent.json"), "--fail-on", "never", "--format", "markdown"],
    )
    text = result.stdout.replace(str(HERE / "sent.json"), "sent.json")
    (HERE / "report.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
