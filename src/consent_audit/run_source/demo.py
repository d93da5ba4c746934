"""The bundled demo tenant: package data, no network, the same every run."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from consent_audit.run_source.interface import Obtained, RunSource

if TYPE_CHECKING:
    from consent_audit.manifest import Manifest
    from consent_audit.snapshot import TenantSnapshot

DEMO_FILE = "demo_tenant.json"


def demo_snapshot() -> TenantSnapshot:
    """The demo tenant as a snapshot (also used by tests that need a realistic tenant)."""
    from consent_audit.snapshot import parse_snapshot

    text = resources.files("consent_audit.data").joinpath(DEMO_FILE).read_text("utf-8")
    return parse_snapshot(text, "<bundled demo tenant>")


class DemoSource(RunSource):
    def obtain(self, manifest: Manifest) -> Obtained:
        from consent_audit.report import SourceInfo

        snap = demo_snapshot()
        return Obtained(snap, SourceInfo(kind="demo", collected_at=snap.collected_at))
