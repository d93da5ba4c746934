"""Two installed versions say the same thing: every example tenant and the demo, every output.

    python bench/same_reports.py --python before=PATH --python after=PATH [--kind KIND ...]

Each PATH is the python of a virtualenv with consent-audit installed (its ``consent-audit``
console script beside it). The audits: for every snapshot in examples/tenants/ ``check
--snapshot FILE`` (which audits the user a snapshot was taken for, if one) and ``check
--snapshot FILE --tenant-only``, and for the demo ``check --demo`` without and with
``--user`` (each user the demo tenant holds). Each audit is compared as:

* ``json``: ``--format json``; the JSON must be identical but for ``generated_at`` (the clock);
* ``text``: the text report on a pipe at a fixed width (``COLUMNS=80``), byte for byte;
* ``details``: the same with ``--details``, at ``COLUMNS=100``;
* ``markdown``: ``--format markdown``, byte for byte but for the minute it was generated;
* ``fix``: ``fix`` (the dry run: the plan as printed) for the same snapshot and user
  (``--tenant-only`` has no ``fix`` counterpart: those audits are compared by ``check`` only).

Every run uses ``--fail-on never``; its exit code and standard error must be equal too.
Prints how many outputs were compared, per kind; exits 1 on the first difference, showing it.

A start-up change must not change what the tool says (issue 22): run this with the commit a
branch starts from and the branch.
"""

from __future__ import annotations

import argparse
import collections
import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENANTS = ROOT / "examples" / "tenants"
DEMO = ROOT / "src" / "consent_audit" / "data" / "demo_tenant.json"
KINDS = ("json", "text", "details", "markdown", "fix")
# The one clock reading Markdown prints ("report generated 2026-12-06 07:07 UTC").
GENERATED = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


def audits() -> list[list[str]]:
    """The audits (source and user options), without a format."""
    found: list[list[str]] = []
    for path in sorted(TENANTS.glob("*.json")):
        found.append(["--snapshot", str(path)])
        found.append(["--snapshot", str(path), "--tenant-only"])
    found.append(["--demo"])
    demo = json.loads(DEMO.read_text(encoding="utf-8"))
    for lookup in demo.get("users", []):
        found.append(["--demo", "--user", lookup["query"]])
    return found


def runs(kinds: tuple[str, ...]) -> list[tuple[str, list[str], dict[str, str]]]:
    """(kind, argv, extra environment) of every comparison."""
    found: list[tuple[str, list[str], dict[str, str]]] = []
    for audit in audits():
        common = [*audit, "--fail-on", "never"]
        if "json" in kinds:
            found.append(("json", ["check", *common, "--format", "json", "-q"], {}))
        if "text" in kinds:
            found.append(("text", ["check", *common], {"COLUMNS": "80"}))
        if "details" in kinds:
            found.append(("details", ["check", *common, "--details"], {"COLUMNS": "100"}))
        if "markdown" in kinds:
            found.append(("markdown", ["check", *common, "--format", "markdown"], {}))
        if "fix" in kinds and "--tenant-only" not in audit:
            found.append(("fix", ["fix", *common], {"COLUMNS": "80"}))
    return found


def output(python: str, kind: str, argv: list[str], extra: dict[str, str]) -> tuple[int, str]:
    script = str(Path(python).with_name("consent-audit"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSENT_AUDIT_", "AZURE_"))}
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("NO_COLOR", None)
    env |= extra
    done = subprocess.run([script, *argv], capture_output=True, text=True, env=env, check=False)
    if done.returncode not in (0, 1):
        return done.returncode, done.stderr
    stdout = done.stdout
    if kind == "json":
        data = json.loads(stdout)
        data.pop("generated_at", None)
        stdout = json.dumps(data, indent=1, sort_keys=True)
    elif kind == "markdown":
        stdout = GENERATED.sub("generated (the clock)", stdout)
    return done.returncode, f"{stdout}\n--- stderr ---\n{done.stderr}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--kind", action="append", choices=KINDS, help="default: all")
    args = parser.parse_args()
    versions = dict(item.partition("=")[::2] for item in args.python)
    if len(versions) != 2:
        raise SystemExit("give exactly two --python NAME=PATH")
    (name_a, python_a), (name_b, python_b) = versions.items()
    compared: collections.Counter[str] = collections.Counter()
    for kind, argv, extra in runs(tuple(args.kind or KINDS)):
        a, b = output(python_a, kind, argv, extra), output(python_b, kind, argv, extra)
        if a != b:
            shown = " ".join(f"{k}={v}" for k, v in extra.items())
            command = f"{shown} consent-audit {' '.join(argv)}".strip()
            print(f"DIFFERENT ({kind}): {command} (exit {a[0]} / {b[0]})")
            diff = difflib.unified_diff(
                a[1].splitlines(True), b[1].splitlines(True), name_a, name_b, n=2
            )
            sys.stdout.writelines(list(diff)[:80])
            raise SystemExit(1)
        compared[kind] += 1
    counts = ", ".join(f"{compared[k]} {k}" for k in KINDS if compared[k])
    print(
        f"{sum(compared.values())} outputs identical between {name_a} and {name_b}: {counts} "
        "(JSON but for generated_at, Markdown but for its generated minute; exit codes and "
        "stderr too)"
    )


if __name__ == "__main__":
    main()
