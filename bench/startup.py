"""Start-up benchmark: CPU seconds of short consent-audit runs, one or more versions side by side.

    python bench/startup.py [--runs 9] [--python NAME=PATH ...] [--importtime N]

Each ``--python`` names an installed consent-audit: the ``python`` of its virtualenv (its
``consent-audit`` console script sits beside it). Without one, the interpreter running this
script. Two versions (e.g. a worktree of the commit before a change, with its own venv, and
the change) are measured in one run, interleaved: every round runs each command once per
version, so both see the same machine load. On a shared machine CPU time moves with the
load (two cores, other work: 20-40% between minutes), so compare versions inside one run,
never across runs.

Measured per run: CPU seconds (user + system) of the whole process, from
``resource.getrusage(RUSAGE_CHILDREN)`` before and after; the table shows the median, min
and max of ``--runs`` runs. Wall time is not used: under load it measures the other work.

Commands:

* ``--help``, ``check --demo`` (text, stdout a pipe), ``check --demo --format json``,
  ``explain AADSTS65001``: the console script as a user runs it.
* ``live check: first request``: ``check`` with the token and Graph URL from the environment
  (``CONSENT_AUDIT_ACCESS_TOKEN``, ``CONSENT_AUDIT_GRAPH_URL``) against the local Graph
  emulator (tests/emulator, examples/tenants/assignment-required.json): the process's own CPU
  seconds at its first ``socket.connect`` (an audit hook reports them, then the process ends).
  That is what the tool costs before it can ask Graph anything.
* ``live check: whole run``: the same, run to its end (JSON report).

``--instructions``: also each command's instruction count per version (valgrind's cachegrind,
one run each, ``PYTHONHASHSEED=0``): it does not move with the machine's load, so small
changes show.

Before measuring, each version's package is byte-compiled (``python -m compileall``, which
only writes what is stale): where ``PYTHONDONTWRITEBYTECODE`` is set (these machines), an
editable install would otherwise recompile its sources on every start.

``--importtime N``: also the top 10 of ``python -X importtime`` for ``check --demo`` and
``explain AADSTS65001`` per version: the median over N runs (interleaved across versions) of
each module's own import time, summed per top-level package (``consent_audit`` split by
subpackage).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"
LIVE_TENANT = ROOT / "examples" / "tenants" / "assignment-required.json"

COMMANDS: dict[str, list[str]] = {
    "--help": ["--help"],
    "check --demo": ["check", "--demo", "--fail-on", "never"],
    "check --demo --format json": ["check", "--demo", "--fail-on", "never", "--format", "json"],
    "explain AADSTS65001": ["explain", "AADSTS65001"],
}
LIVE_FIRST = "live check: first request"
LIVE_WHOLE = "live check: whole run"

# Run in the measured interpreter: the CLI's entry point, with an audit hook that reports the
# process's CPU seconds at its first outgoing connection and ends the process there.
FIRST_REQUEST = """
import os, resource, sys
def hook(event, args):
    if event == "socket.connect":
        u = resource.getrusage(resource.RUSAGE_SELF)
        os.write(2, f"\\nFIRST-CONNECT-CPU {u.ru_utime + u.ru_stime}\\n".encode())
        os._exit(0)
sys.addaudithook(hook)
sys.argv[0] = "consent-audit"
from consent_audit.cli import main
main()
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_cpu(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    before = children_cpu()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    return children_cpu() - before, done


def first_connect_cpu(python: str, env: dict[str, str]) -> float:
    done = subprocess.run(
        [python, "-c", FIRST_REQUEST, "check", "--format", "json", "--fail-on", "never"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    found = re.search(r"FIRST-CONNECT-CPU (\S+)", done.stderr)
    if found is None:
        raise SystemExit(f"{python}: the live check made no connection: {done.stderr[-2000:]}")
    return float(found.group(1))


def script_of(python: str) -> str:
    script = Path(python).with_name("consent-audit")
    if not script.exists():
        raise SystemExit(f"{script}: no consent-audit console script beside {python}")
    return str(script)


def byte_compile(python: str) -> str:
    """Compile the version's package (stale files only); returns where it lives."""
    where = subprocess.run(
        [python, "-c", "import consent_audit, os; print(os.path.dirname(consent_audit.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([python, "-m", "compileall", "-q", where], check=True)
    return where


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}


def fmt(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:.0f} ms "
        f"({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"
    )


def importtime_own(python: str, argv: list[str]) -> dict[str, int]:
    """One ``python -X importtime`` run: each module's own import time (microseconds)."""
    done = subprocess.run(
        [python, "-X", "importtime", script_of(python), *argv],
        capture_output=True,
        text=True,
        env=base_env(),
        check=False,
    )
    own: dict[str, int] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if m:
            own[m.group(3)] = int(m.group(1))
    return own


def importtime_top(runs: list[dict[str, int]], top: int = 10) -> list[str]:
    """The median over ``runs`` of each module's own time, summed per package."""
    own: dict[str, list[int]] = collections.defaultdict(list)
    for run in runs:
        for name, micros in run.items():
            own[name].append(micros)
    per_module = {name: statistics.median(times) for name, times in own.items()}
    packages: collections.Counter[str] = collections.Counter()
    for name, micros in per_module.items():
        parts = name.split(".")
        key = ".".join(parts[:2]) if parts[0] == "consent_audit" else parts[0]
        packages[key] += micros
    lines = [f"{len(per_module)} modules, {sum(per_module.values()) / 1000:.0f} ms of import time"]
    lines += [f"{micros / 1000:6.1f} ms  {name}" for name, micros in packages.most_common(top)]
    return lines


def instructions(python: str, argv: list[str]) -> int:
    """Instructions one run executes (valgrind's cachegrind, ``Ir``): independent of the load,
    so a change of 1% is seen where CPU seconds on a shared machine move by 20%."""
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [
                "valgrind",
                "--tool=cachegrind",
                "--cache-sim=no",
                f"--cachegrind-out-file={tmp}/out",
                python,
                script_of(python),
                *argv,
            ],
            capture_output=True,
            text=True,
            env={**base_env(), "PYTHONHASHSEED": "0"},
            check=False,
        )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"valgrind gave no instruction count: {done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="a version to measure: a label and the python of its venv (repeatable)",
    )
    parser.add_argument("--importtime", type=int, default=0, metavar="N")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions with valgrind (one run each)",
    )
    parser.add_argument("--no-live", action="store_true", help="skip the live check rows")
    args = parser.parse_args()
    versions: dict[str, str] = {}
    for item in args.python or [f"this={sys.executable}"]:
        name, _, path = item.partition("=")
        versions[name] = path
    for name, python in versions.items():
        print(f"{name}: {python}; byte-compiled {byte_compile(python)}")

    results: dict[tuple[str, str], list[float]] = collections.defaultdict(list)
    emulator = None
    live_env = base_env()
    if not args.no_live:
        from tests.emulator.server import GraphEmulator

        emulator = GraphEmulator(LIVE_TENANT, token=TOKEN).__enter__()
        live_env.update(
            {"CONSENT_AUDIT_GRAPH_URL": emulator.url, "CONSENT_AUDIT_ACCESS_TOKEN": TOKEN}
        )
    try:
        for python in versions.values():  # warm the file cache, check each version runs
            run_cpu([script_of(python), "--help"], base_env())
        for _ in range(args.runs):
            for command, argv in COMMANDS.items():
                for name, python in versions.items():
                    cpu, done = run_cpu([script_of(python), *argv], base_env())
                    if done.returncode != 0:  # every command here succeeds (--fail-on never)
                        raise SystemExit(f"{name}: {command} exited {done.returncode}")
                    results[(command, name)].append(cpu)
            if emulator is not None:
                for name, python in versions.items():
                    results[(LIVE_FIRST, name)].append(first_connect_cpu(python, live_env))
                    cpu, done = run_cpu(
                        [script_of(python), "check", "--format", "json", "--fail-on", "never"],
                        live_env,
                    )
                    if done.returncode not in (0, 1):
                        raise SystemExit(f"{name}: live check exited {done.returncode}")
                    results[(LIVE_WHOLE, name)].append(cpu)
    finally:
        if emulator is not None:
            emulator.__exit__(None, None, None)

    names = list(versions)
    commands = [*COMMANDS, *([] if emulator is None else [LIVE_FIRST, LIVE_WHOLE])]
    print(f"\nCPU seconds (user + system), median (min-max) of {args.runs} interleaved runs\n")
    # The last version's change against each earlier one (medians).
    last, earlier = names[-1], names[:-1]
    header = "| command | " + " | ".join(names) + " |"
    header += "".join(f" {last} vs {name} |" for name in earlier)
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for command in commands:
        cells = [fmt(results[(command, name)]) for name in names]
        after = statistics.median(results[(command, last)])
        changes = ""
        for name in earlier:
            before = statistics.median(results[(command, name)])
            changes += f" {100 * (after - before) / before:+.0f}% |"
        print(f"| `{command}` | " + " | ".join(cells) + " |" + changes)
    if args.instructions:
        print("\nInstructions executed (valgrind --tool=cachegrind, PYTHONHASHSEED=0), millions\n")
        print(header)
        print("|---" * (header.count("|") - 1) + "|")
        for command, argv in COMMANDS.items():
            counts = {name: instructions(python, argv) for name, python in versions.items()}
            changes = "".join(
                f" {100 * (counts[last] - counts[name]) / counts[name]:+.1f}% |" for name in earlier
            )
            cells = " | ".join(f"{counts[name] / 1e6:,.0f} M" for name in names)
            print(f"| `{command}` | {cells} |{changes}")
    if args.importtime:
        for command in ("check --demo", "explain AADSTS65001"):
            traced: dict[str, list[dict[str, int]]] = collections.defaultdict(list)
            for _ in range(args.importtime):  # interleaved too: the same load for each
                for name, python in versions.items():
                    traced[name].append(importtime_own(python, COMMANDS[command]))
            for name in versions:
                print(f"\npython -X importtime, {command}, {name} (median of {args.importtime}):")
                for line in importtime_top(traced[name]):
                    print("  " + line)


if __name__ == "__main__":
    main()
