"""Run the emulator standalone: ``python -m tests.emulator --snapshot FILE``.

Prints the Graph root URL (no version) as the first line of standard output, then serves until
interrupted (SIGINT/SIGTERM). Used by the bench/ scripts.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TextIO

from .server import GraphEmulator


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator", description="Local Microsoft Graph emulator."
    )
    parser.add_argument("--snapshot", required=True, type=Path, help="TenantSnapshot JSON file")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay per HTTP request")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: ephemeral)")
    parser.add_argument("--token", default="test-token", help="accepted bearer token")
    parser.add_argument("--page-size", type=int, default=100, help="default page size")
    parser.add_argument("--seed", type=int, default=0, help="seed of the $batch shuffle")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    parser.add_argument(
        "--nulls",
        nargs="?",
        const=True,
        default=False,
        choices=["all"],
        help="answer null where real Graph does; '--nulls all': also wherever the CSDL allows it",
    )
    return parser


def serve(argv: list[str] | None, done: threading.Event, out: TextIO = sys.stdout) -> int:
    """Start the emulator, write its URL to ``out``, serve until ``done`` is set."""
    args = build_parser().parse_args(argv)
    emulator = GraphEmulator(
        args.snapshot,
        token=args.token,
        latency_ms=args.latency_ms,
        page_size=args.page_size,
        seed=args.seed,
        port=args.port or None,
        verbose=args.verbose,
        nulls=args.nulls,
    )
    with emulator:
        print(emulator.url, file=out, flush=True)
        print(
            f"serving {args.snapshot} with token {args.token!r}; Ctrl-C to stop",
            file=sys.stderr,
            flush=True,
        )
        while not done.wait(0.5):
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return serve(argv, done)


if __name__ == "__main__":
    sys.exit(main())
