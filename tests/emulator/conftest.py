"""Makes the emulator fixtures available to the emulator's own tests.

The rest of the suite registers them via ``pytest_plugins`` in tests/conftest.py.
"""

from .fixtures import emulator_snapshot, graph_emulator, graph_emulator_factory, graph_session

__all__ = ["emulator_snapshot", "graph_emulator", "graph_emulator_factory", "graph_session"]
