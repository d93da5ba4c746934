"""Start the local Graph emulator for benchmarks (same options as ``python -m tests.emulator``).

    python bench/emulator_server.py --snapshot examples/tenants/FILE.json --latency-ms 100

Prints the Graph root URL (no version) on the first line of standard output and serves until
interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.emulator.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
