"""The live tenant through Microsoft Graph.

MSAL and requests are imported only when ``obtain()`` runs, so offline commands and
``--help`` never load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from consent_audit.run_source.interface import Obtained, RunSource

if TYPE_CHECKING:
    from consent_audit.live_options import LiveOptions
    from consent_audit.manifest import Manifest


class LiveSource(RunSource):
    def __init__(self, options: LiveOptions) -> None:
        self.options = options

    def obtain(self, manifest: Manifest) -> Obtained:
        from consent_audit.live import collect
        from consent_audit.report import SourceInfo

        snap = collect(self.options, manifest)
        return Obtained(snap, SourceInfo(kind="live", collected_at=snap.collected_at))
