"""Two installed versions give the same JSON reports: every example tenant, and the demo.

    python bench/same_reports.py --python before=PATH --python after=PATH

Each PATH is the python of a virtualenv with consent-audit installed (its ``consent-audit``
console script beside it). For every snapshot in examples/tenants/ the report of
``check --snapshot FILE`` (which audits the user a snapshot was taken for, if one) and of
``check --snapshot FILE --tenant-only``, and for the demo ``check --demo`` without and with
``--user`` (each user the demo tenant holds), all ``--format json --fail-on never``: the JSON
must be identical but for ``generated_at`` (the clock), and the exit codes equal. Prints
how many reports were compared; exits 1 on the first difference, showing it.

A start-up change must not change what the tool says (issue 22): run this with the commit a
branch starts from and the branch.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENANTS = ROOT / "examples" / "tenants"
DEMO = ROOT / "src" / "consent_audit" / "data" / "demo_tenant.json"


def runs() -> list[list[str]]:
    common = ["--format", "json", "--fail-on", "never", "-q"]
    found: list[list[str]] = []
    for path in sorted(TENANTS.glob("*.json")):
        found.append(["check", "--snapshot", str(path), *common])
        found.append(["check", "--snapshot", str(path), "--tenant-only", *common])
    found.append(["check", "--demo", *common])
    demo = json.loads(DEMO.read_text(encoding="utf-8"))
    for lookup in demo.get("users", []):
        found.append(["check", "--demo", "--user", lookup["query"], *common])
    return found


def report(python: str, argv: list[str]) -> tuple[int, str]:
    script = str(Path(python).with_name("consent-audit"))
    done = subprocess.run([script, *argv], capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        return done.returncode, done.stderr
    data = json.loads(done.stdout)
    data.pop("generated_at", None)
    return done.returncode, json.dumps(data, indent=1, sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", action="append", required=True, metavar="NAME=PATH")
    args = parser.parse_args()
    versions = dict(item.partition("=")[::2] for item in args.python)
    if len(versions) != 2:
        raise SystemExit("give exactly two --python NAME=PATH")
    (name_a, python_a), (name_b, python_b) = versions.items()
    compared = 0
    for argv in runs():
        a, b = report(python_a, argv), report(python_b, argv)
        if a != b:
            print(f"DIFFERENT: consent-audit {' '.join(argv)} (exit {a[0]} / {b[0]})")
            diff = difflib.unified_diff(
                a[1].splitlines(True), b[1].splitlines(True), name_a, name_b, n=2
            )
            sys.stdout.writelines(list(diff)[:80])
            raise SystemExit(1)
        compared += 1
    print(f"{compared} JSON reports identical between {name_a} and {name_b} (generated_at aside)")


if __name__ == "__main__":
    main()
