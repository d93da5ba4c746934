"""Where a run's snapshot comes from: demo, a snapshot file, or the live tenant.

``choose_source`` is the one place that turns the command line's ``--demo`` / ``--snapshot``
/ neither into a source; every command obtains its snapshot through it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from consent_audit.errors import InputError
from consent_audit.run_source.demo import DemoSource, demo_snapshot
from consent_audit.run_source.interface import Obtained, RunSource
from consent_audit.run_source.live import LiveSource
from consent_audit.run_source.snapshot_file import SnapshotFileSource

if TYPE_CHECKING:
    from consent_audit.live_options import LiveOptions

__all__ = [
    "DemoSource",
    "LiveSource",
    "Obtained",
    "RunSource",
    "SnapshotFileSource",
    "choose_source",
    "demo_snapshot",
]


def choose_source(snapshot: Path | None, demo: bool, live: LiveOptions) -> RunSource:
    """``--demo``, ``--snapshot FILE`` or, with neither, the live tenant; both is a usage error."""
    if snapshot is not None and demo:
        raise InputError(
            "--snapshot and --demo cannot be used together.",
            fix="Pass one of them (or neither, for a live tenant).",
        )
    if live.with_logs and (demo or snapshot is not None):
        # A replay reads nothing from Graph: the logs are those the snapshot was taken with.
        raise InputError(
            f"--with-logs reads the sign-in and audit logs from Microsoft Graph, but "
            f"{'--demo' if demo else '--snapshot'} replays a saved tenant and reads nothing: "
            "its logs are those it was taken with.",
            fix="Take the snapshot with 'consent-audit snapshot --with-logs', or run "
            "'consent-audit check --with-logs' against the live tenant.",
        )
    if demo:
        return DemoSource()
    if snapshot is not None:
        return SnapshotFileSource(snapshot)
    return LiveSource(live)
