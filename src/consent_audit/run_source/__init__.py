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
    if demo or snapshot is not None:
        _refuse_live_only(live, "--demo" if demo else "--snapshot")
    if demo:
        return DemoSource()
    if snapshot is not None:
        return SnapshotFileSource(snapshot)
    return LiveSource(live)


LIVE_ONLY_EFFECT = {
    "--tenant": ("names the tenant to sign in to", "the tenant audited is the saved one"),
    "--client-id": ("names the application to sign in with", "no one signs in"),
    "--auth": ("chooses how to sign in", "no one signs in"),
    "--cloud": ("picks the national cloud to sign in to and read from", "no cloud is contacted"),
    "--graph-url": ("is the Microsoft Graph address to read from", "no address is contacted"),
    "--deadline": ("bounds the time spent on Microsoft Graph", "there is no Graph time to bound"),
}
"""What each live-only option does in a live run, and why it does nothing in a replay."""


def _refuse_live_only(live: LiveOptions, replay: str) -> None:
    """A live-only option typed with ``--demo``/``--snapshot`` would be silently ignored, so
    the run would claim an effect it never had (``--tenant X`` replaying tenant Y): refused,
    exit 2, naming the option. The same values from the environment (a CI job's
    ``AZURE_TENANT_ID``, ``CONSENT_AUDIT_DEADLINE``) are not ``live.given`` and pass."""
    given = [flag for flag in LIVE_ONLY_EFFECT if flag in live.given]
    if live.with_logs:
        given.insert(0, "--with-logs")
    if not given:
        return
    if given == ["--with-logs"]:
        # A replay reads nothing from Graph: the logs are those the snapshot was taken with.
        raise InputError(
            f"--with-logs reads the sign-in and audit logs from Microsoft Graph, but {replay} "
            "replays a saved tenant and reads nothing: its logs are those it was taken with.",
            fix="Take the snapshot with 'consent-audit snapshot --with-logs', or run "
            "'consent-audit check --with-logs' against the live tenant.",
        )
    named = ", ".join(given[:-1]) + " and " + given[-1] if len(given) > 1 else given[0]
    if len(given) == 1:
        does, nothing = LIVE_ONLY_EFFECT[given[0]]
        summary = (
            f"{given[0]} {does}, but {replay} replays a saved tenant and reads nothing: "
            f"{nothing}, so it has no effect."
        )
    else:
        summary = (
            f"{named} only matter when reading a live tenant, but {replay} replays a saved "
            "tenant and reads nothing: they have no effect."
        )
    raise InputError(
        summary,
        fix=f"Drop {named} to replay {'the demo' if replay == '--demo' else 'the snapshot'}, "
        f"or drop {replay} to audit the live tenant.",
    )
