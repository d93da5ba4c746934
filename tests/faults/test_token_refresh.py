"""An expired token mid-run: one silent refresh through the MSAL-backed provider, then a clear
error if the refreshed token is refused too. In-process (the refresh needs a provider that can
rotate tokens; the CLI's bring-your-own token cannot)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from consent_audit.errors import AccessError
from consent_audit.evaluate import evaluate
from consent_audit.live.auth import MsalTokens
from consent_audit.live.collector import collect_with
from consent_audit.live.graph_client import GraphClient
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import load_manifest
from consent_audit.snapshot import load_snapshot
from tests.e2e.cli_runner import comparable
from tests.emulator.server import GraphEmulator

HEALTHY = Path(__file__).resolve().parents[2] / "examples" / "tenants" / "healthy.json"
Factory = Callable[..., GraphEmulator]


class Rotating:
    """Counts refreshes; hands out fresh-1, fresh-2, ... like MSAL's silent refresh."""

    def __init__(self) -> None:
        self.refreshes = 0

    def renew(self) -> str:
        self.refreshes += 1
        return f"fresh-{self.refreshes}"


def _collect(emu: GraphEmulator, rotating: Rotating) -> dict[str, object]:
    client = GraphClient(emu.url, MsalTokens("first-token", rotating.renew), sleep=lambda _s: None)
    manifest = load_manifest()
    snapshot = collect_with(client, manifest, LiveOptions())
    data: dict[str, object] = json.loads(evaluate(snapshot, manifest).model_dump_json())
    return data


def test_expired_token_is_refreshed_once_silently(graph_emulator_factory: Factory) -> None:
    emu = graph_emulator_factory(HEALTHY, token="first-token")
    emu.expire_token_after(1, token="first-token")
    emu.accept_token("fresh-1")
    rotating = Rotating()
    live = _collect(emu, rotating)
    offline = json.loads(evaluate(load_snapshot(HEALTHY), load_manifest()).model_dump_json())
    assert comparable(live) == comparable(offline)
    assert rotating.refreshes == 1


def test_refreshed_token_refused_too_is_a_clear_access_error(
    graph_emulator_factory: Factory,
) -> None:
    emu = graph_emulator_factory(HEALTHY, token="first-token")
    emu.expire_token_after(1, token="first-token")  # fresh-1 is never accepted
    rotating = Rotating()
    with pytest.raises(AccessError, match="even after a refresh") as caught:
        _collect(emu, rotating)
    assert rotating.refreshes == 1
    assert "first-token" not in str(caught.value)
    assert "fresh-1" not in str(caught.value)
