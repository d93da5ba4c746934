"""A local Microsoft Graph emulator for end-to-end tests of consent-audit.

See ``server.GraphEmulator`` (HTTP server), ``faults.Fault`` (fault injection),
``tenant.EmulatorTenant`` (state built from a TenantSnapshot) and ``fixtures`` (pytest).
"""

from .faults import Fault, FaultKind
from .server import ForeignRecord, GraphEmulator, RequestRecord
from .tenant import GRAPH_APP_ID, EmulatorTenant

__all__ = [
    "GRAPH_APP_ID",
    "EmulatorTenant",
    "Fault",
    "FaultKind",
    "ForeignRecord",
    "GraphEmulator",
    "RequestRecord",
]
