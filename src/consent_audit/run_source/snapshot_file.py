"""A saved snapshot (``--snapshot FILE``, ``-`` = stdin): offline replay, no sign-in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from consent_audit.run_source.interface import Obtained, RunSource

if TYPE_CHECKING:
    from consent_audit.manifest import Manifest


class SnapshotFileSource(RunSource):
    def __init__(self, path: Path) -> None:
        self.path = path

    def obtain(self, manifest: Manifest) -> Obtained:
        from consent_audit.report import SourceInfo
        from consent_audit.snapshot import load_snapshot

        snap = load_snapshot(self.path)
        info = SourceInfo(
            kind="snapshot",
            path=str(self.path),
            collected_at=snap.collected_at,
            redacted=snap.redacted,
            reported_by=snap.reported_by,
        )
        return Obtained(snap, info)
