"""Automatic garbage collection waits while the CLI starts, and resumes when data arrives.

What a run makes while it starts (modules, Typer's commands, the model classes and their
validators) lives until the process exits: the cyclic collector finds nothing to free in it,
yet its young-generation collections scan it again and again as it is made (~100 of them for
``check --demo``, docs/performance.md). So ``main()`` holds the automatic collections, and the
first read of data whose size the user decides (a file or standard input, a live tenant)
resumes them, with what start-up made frozen out of their sight (``gc.freeze``). A run that
reads no such data (``--demo``, ``explain``, ``--help``) holds them to its end: what it makes
is bounded by the bundled data.
"""

from __future__ import annotations

import gc

_held = False


def hold() -> None:
    """Stop automatic collections until :func:`resume` (if they were on)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def resume() -> None:
    """Freeze what exists, then collect automatically again; only after :func:`hold`."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()
