"""Round-trip benchmark: consent-audit's batched collector vs a naive sequential one.

    python bench/roundtrips.py [--latency-ms 100 ...] [--snapshot examples/tenants/X.json]

For each injected latency, the Graph emulator (tests/emulator, on 127.0.0.1) serves the
tenant; the tool's collector reads it with $batch in waves, then a naive collector GETs the
very same URLs one at a time (following nextLinks). Prints HTTP requests, sequential waves
and wall time for both, tenant-wide and with --user. Measured, not asserted: see
docs/performance.md for recorded figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.emulator.server import GraphEmulator  # noqa: E402

from consent_audit.live.bearer import StaticToken  # noqa: E402
from consent_audit.live.collector import collect_with  # noqa: E402
from consent_audit.live.graph_client import GraphClient  # noqa: E402
from consent_audit.live_options import LiveOptions  # noqa: E402
from consent_audit.manifest import load_manifest  # noqa: E402

TOKEN = "bench-token"


def batched(url: str, user: str | None) -> tuple[int, int, float]:
    client = GraphClient(url, StaticToken(TOKEN))
    start = time.perf_counter()
    collect_with(client, load_manifest(), LiveOptions(user=user))
    return client.stats.http_requests, client.stats.waves, time.perf_counter() - start


def naive(url: str, targets: list[str]) -> tuple[int, float]:
    """One GET at a time, each waiting for the previous: the same data, no batching."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    count = 0
    start = time.perf_counter()
    for target in targets:
        next_url: str | None = url + target
        while next_url:
            response = session.get(next_url, timeout=30)
            count += 1
            body = response.json() if response.content else {}
            next_url = body.get("@odata.nextLink") if isinstance(body, dict) else None
    return count, time.perf_counter() - start


def measure(snapshot: Path, latency_ms: int, user: str | None) -> None:
    with GraphEmulator(snapshot, token=TOKEN, latency_ms=latency_ms) as emu:
        requests_made, waves, wall = batched(emu.url, user)
        targets = sorted(
            {r.target for r in emu.requests if r.method == "GET" and "$skiptoken" not in r.target}
        )
        naive_requests, naive_wall = naive(emu.url, targets)
    label = f"--user {user}" if user else "tenant-wide"
    print(
        f"{latency_ms:4d} ms  {label:38s} batched: {requests_made:3d} requests "
        f"{waves} waves {wall:6.2f} s | naive: {naive_requests:3d} requests "
        f"{naive_requests} waves {naive_wall:6.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument(
        "--snapshot", type=Path, default=ROOT / "examples" / "tenants" / "assignment-required.json"
    )
    parser.add_argument("--user", default="isaiah.langer@fabrikam.com")
    args = parser.parse_args()
    for latency in args.latency_ms:
        measure(args.snapshot, latency, None)
        measure(args.snapshot, latency, args.user)


if __name__ == "__main__":
    main()
