"""Hostile-manifest benchmark: evaluation time against manifest size, and spelling suggestions.

    python bench/manifest_scale.py [--features 200 2000 20000] [--unknown 5000 50000]
                                   [--timeout 300]

A manifest comes from a file the admin may have been handed (``--manifest``), so its size is
an input to bound. Two measurements, each in a child process with a wall-clock limit:

* ``evaluate``: a valid manifest with N features (each a few real Graph scopes), parsed and
  evaluated against the bundled demo tenant, then rendered as JSON and text. Linear time is
  the goal: 10x the features should cost about 10x the time, not 100x.
* ``suggest``: ``manifest validate`` of a manifest whose one feature lists N distinct unknown
  scopes (typos), each of which asks the catalog for a "did you mean" suggestion.

Measured, not asserted (no timed tests): issue #12 and docs/security.md record the figures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.security.big_manifest import (  # noqa: E402
    manifest_with_features,
    manifest_with_unknown_scopes,
)

CHILD_EVALUATE = """
import sys, time
from consent_audit.run_source.demo import demo_snapshot
from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render import OutputFormat, renderer
from pathlib import Path
t0 = time.perf_counter()
manifest = load_manifest(Path(sys.argv[1]))
t1 = time.perf_counter()
report = evaluate(demo_snapshot(), manifest)
t2 = time.perf_counter()
renderer(OutputFormat.JSON)(report)
renderer(OutputFormat.TEXT)(report)
t3 = time.perf_counter()
print(f"parse {t1 - t0:.2f} s, evaluate {t2 - t1:.2f} s, render {t3 - t2:.2f} s")
"""


def timed(args: list[str], timeout: float) -> tuple[str, str]:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f} s (stopped)", ""
    elapsed = time.perf_counter() - started
    detail = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode not in (0, 1, 2):
        detail = f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
    return f"{elapsed:.2f} s", detail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--unknown", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/consent-audit-bench"))
    opts = parser.parse_args()
    opts.workdir.mkdir(parents=True, exist_ok=True)
    for count in opts.features:
        path = opts.workdir / f"features-{count}.toml"
        path.write_text(manifest_with_features(count))
        wall, detail = timed([sys.executable, "-c", CHILD_EVALUATE, str(path)], opts.timeout)
        print(f"evaluate  features={count:<6} wall {wall:<18} {detail}", flush=True)
    for count in opts.unknown:
        path = opts.workdir / f"unknown-{count}.toml"
        path.write_text(manifest_with_unknown_scopes(count))
        args = [sys.executable, "-m", "consent_audit", "manifest", "validate", str(path)]
        wall, _ = timed(args, opts.timeout)
        print(f"suggest   unknown={count:<7} wall {wall}", flush=True)


if __name__ == "__main__":
    main()
