"""Automatic garbage collection waits while the CLI starts and resumes when data arrives
(consent_audit/gc_hold.py, issue 22): never left off for input whose size the user decides."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from consent_audit import gc_hold


@pytest.fixture
def collector_state() -> Iterator[None]:
    import gc

    enabled = gc.isenabled()
    yield
    gc_hold._held = False
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
def test_hold_then_resume_restores_collection_with_startup_frozen() -> None:
    import gc

    gc.enable()
    gc_hold.hold()
    assert not gc.isenabled()
    frozen = gc.get_freeze_count()
    made = [[n] for n in range(1000)]  # objects made while held
    gc_hold.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(made)
    gc.unfreeze()


@pytest.mark.usefixtures("collector_state")
def test_resume_leaves_a_collector_it_did_not_hold_alone() -> None:
    """A library caller that turned collection off keeps it off: only hold() is undone."""
    import gc

    gc.disable()
    gc_hold.hold()  # already off: nothing to undo later
    gc_hold.resume()
    assert not gc.isenabled()
    gc.enable()
    gc_hold.resume()  # without hold(): nothing frozen, nothing changed
    assert gc.isenabled()


READS = """
import gc, json, sys
from consent_audit.cli import main
from consent_audit import files
seen = {}
read = files.read_text_input
def reading(path, what):
    seen.setdefault("enabled_before_read", gc.isenabled())
    text = read(path, what)
    seen.setdefault("enabled_after_read", gc.isenabled())
    return text
files.read_text_input = reading
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(1))
sys.argv = ["consent-audit", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
seen["collections"] = len(collections)
sys.stderr.write("\\nSEEN " + json.dumps(seen) + "\\n")
"""


def test_reading_a_snapshot_file_resumes_collection() -> None:
    """A snapshot can be large: the collector is back on before its text is parsed."""
    argv = [
        "check",
        "--snapshot",
        "examples/tenants/assignment-required.json",
        "--fail-on",
        "never",
        "-q",
        "--format",
        "json",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", READS, json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seen = json.loads(proc.stderr.rsplit("SEEN ", 1)[1].splitlines()[0])
    assert seen["enabled_before_read"] is False  # held while starting
    assert seen["enabled_after_read"] is True
    assert seen["collections"] > 0  # and it runs while the snapshot is evaluated


LIVE = """
import gc, json, sys
import consent_audit.live as live
from consent_audit.cli import main
seen = {}
collect_with = live.collect_with
def collecting(*args, **kwargs):
    seen["enabled_while_collecting"] = gc.isenabled()
    return collect_with(*args, **kwargs)
live.collect_with = collecting
sys.argv = ["consent-audit", "check", "--format", "json", "--fail-on", "never", "-q"]
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nSEEN " + json.dumps(seen) + "\\n")
"""


def test_a_live_tenant_is_read_with_collection_on() -> None:
    """A tenant's pages (100,000 grants and more) stream in with the collector back on."""
    import os

    from tests.emulator import GraphEmulator

    with GraphEmulator("examples/tenants/assignment-required.json", token="gc-token") as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_"))}
        env |= {"CONSENT_AUDIT_GRAPH_URL": emu.url, "CONSENT_AUDIT_ACCESS_TOKEN": "gc-token"}
        proc = subprocess.run(
            [sys.executable, "-c", LIVE],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    seen = json.loads(proc.stderr.rsplit("SEEN ", 1)[1].splitlines()[0])
    assert seen == {"enabled_while_collecting": True}
