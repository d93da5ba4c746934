"""The one seam every command obtains its tenant facts through.

A run audits one snapshot, whatever produced it: the bundled demo tenant, a saved snapshot
file, or a live collection from Microsoft Graph. Commands (``check``, ``fix``, ``consent-url``,
``snapshot``, ``diff``) ask a ``RunSource`` to ``obtain()`` it and never choose by hand, so a
new source (or a new rule about sources) changes one place. Modelled on pip-audit's
``_dependency_source/interface.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from consent_audit.manifest import Manifest
    from consent_audit.report import SourceInfo
    from consent_audit.snapshot import TenantSnapshot


@dataclass(frozen=True)
class Obtained:
    """A snapshot together with how the report should name where it came from."""

    snapshot: TenantSnapshot
    info: SourceInfo


class RunSource(ABC):
    """Where the facts of a run come from."""

    @abstractmethod
    def obtain(self, manifest: Manifest) -> Obtained:
        """Produce the snapshot to audit; the manifest says which apps and scopes to read.

        Raises ``InputError`` (exit 2) for unreadable input and ``AccessError`` (exit 3) when
        the tenant cannot be reached.
        """
