"""Startup benchmark: median wall time of `consent-audit --help` and `check --demo`.

Usage: python bench/startup.py [--runs N]. Runs the installed console script as a user would.
Aims (issue #2): --help under 0.2 s, check --demo under 0.4 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "--help": ["--help"],
    "check --demo": ["check", "--demo", "--fail-on", "never"],
}


def measure(argv: list[str], runs: int) -> list[float]:
    exe = shutil.which("consent-audit")
    base = [exe] if exe else [sys.executable, "-m", "consent_audit"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*base, *argv], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    measure(["--help"], 2)  # warm the OS file cache
    for name, argv in COMMANDS.items():
        times = measure(argv, args.runs)
        print(
            f"{name:14s} median {statistics.median(times) * 1000:7.1f} ms  "
            f"min {min(times) * 1000:7.1f} ms  max {max(times) * 1000:7.1f} ms  "
            f"({args.runs} runs)"
        )


if __name__ == "__main__":
    main()
