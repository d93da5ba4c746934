"""The run-source seam: demo, snapshot file and live all yield a snapshot through obtain()."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from consent_audit.errors import InputError
from consent_audit.gate import FailOn, decide, exit_code
from consent_audit.live_options import LiveOptions
from consent_audit.manifest import load_manifest
from consent_audit.run_source import (
    DemoSource,
    LiveSource,
    SnapshotFileSource,
    choose_source,
    demo_snapshot,
)
from consent_audit.snapshot import load_snapshot

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "tenants" / "assignment-required.json"


def test_choose_source_picks_demo_snapshot_or_live() -> None:
    live = LiveOptions(tenant="contoso.onmicrosoft.com")
    assert isinstance(choose_source(None, True, live), DemoSource)
    chosen = choose_source(EXAMPLE, False, live)
    assert isinstance(chosen, SnapshotFileSource)
    assert chosen.path == EXAMPLE
    picked = choose_source(None, False, live)
    assert isinstance(picked, LiveSource)
    assert picked.options is live


def test_demo_and_snapshot_together_is_a_usage_error() -> None:
    with pytest.raises(InputError, match="cannot be used together"):
        choose_source(EXAMPLE, True, LiveOptions())


def test_snapshot_source_names_its_file_and_redaction() -> None:
    obtained = SnapshotFileSource(EXAMPLE).obtain(load_manifest())
    assert obtained.info.kind == "snapshot"
    assert obtained.info.path == str(EXAMPLE)
    assert obtained.snapshot == load_snapshot(EXAMPLE)
    assert obtained.info.redacted is obtained.snapshot.redacted


def test_demo_source_is_the_bundled_tenant() -> None:
    obtained = DemoSource().obtain(load_manifest())
    assert obtained.info.kind == "demo"
    assert obtained.snapshot == demo_snapshot()
    assert obtained.info.collected_at == obtained.snapshot.collected_at


def test_live_source_collects_with_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    import consent_audit.live as live

    seen: list[LiveOptions] = []
    snap = demo_snapshot()

    def fake_collect(options: LiveOptions, manifest: object) -> object:
        seen.append(options)
        return snap

    monkeypatch.setattr(live, "collect", fake_collect)
    options = LiveOptions(user="adele.vance@contoso.com", app_ids=("a",))
    obtained = LiveSource(options).obtain(load_manifest())
    assert seen == [options]
    assert obtained.snapshot is snap
    assert obtained.info.kind == "live"
    assert obtained.info.path is None


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(FailOn.ERROR, 1), (FailOn.WARNING, 1), (FailOn.INFO, 1), (FailOn.NEVER, 0)],
)
def test_exit_code_follows_fail_on(fail_on: FailOn, expected: int) -> None:
    from consent_audit.evaluate import evaluate

    report = evaluate(load_snapshot(EXAMPLE), load_manifest(), user="isaiah.langer@fabrikam.com")
    assert any(f.severity.value == "error" for f in report.findings)
    assert exit_code(decide(report, fail_on)) == expected


def test_exit_code_is_zero_when_nothing_reaches_the_threshold() -> None:
    from consent_audit.evaluate import evaluate

    report = evaluate(load_snapshot(EXAMPLE), load_manifest(), user="isaiah.langer@fabrikam.com")
    without_errors = report.model_copy(
        update={"findings": [f for f in report.findings if f.severity.value != "error"]}
    )
    assert exit_code(decide(without_errors, FailOn.ERROR)) == 0


@pytest.mark.parametrize("module", ["cli.py", "cli_remediation.py"])
def test_commands_build_live_options_through_one_function(module: str) -> None:
    """LiveOptions is built from the command line in cli_options.live_options only."""
    tree = ast.parse((ROOT / "src" / "consent_audit" / module).read_text(encoding="utf-8"))
    direct = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "LiveOptions"
    ]
    assert direct == []
