"""No output flag replaces a file the run reads, or another output: ``--write-baseline``,
``check -o`` and ``snapshot -o`` naming the snapshot, the manifest, the baseline read, the
redaction key or another ``-o`` file -- by the same path, a hard link or a symlink -- are
refused with one message and exit 2, before any work, and the file is left as it was."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from consent_audit.redaction_key import load_or_create_key
from tests.e2e.cli_runner import run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Alias = Callable[[Path, Path], Path]


def _same(target: Path, where: Path) -> Path:
    return target


def _hard_link(target: Path, where: Path) -> Path:
    link = where / f"hard-{target.name}"
    os.link(target, link)
    return link


def _symlink(target: Path, where: Path) -> Path:
    link = where / f"sym-{target.name}"
    link.symlink_to(target)
    return link


ALIASES = pytest.mark.parametrize(
    "alias", [_same, _hard_link, _symlink], ids=["same_path", "hard_link", "symlink"]
)


def _files(tmp_path: Path) -> tuple[Path, Path]:
    snapshot = tmp_path / "tenant.json"
    shutil.copy(EXAMPLES / "partial-scopes.json", snapshot)
    manifest = tmp_path / "manifest.toml"
    manifest.write_bytes(
        resources.files("consent_audit").joinpath("data/manifest.toml").read_bytes()
    )
    return snapshot, manifest


def _refused(run_args: list[str], tmp_path: Path, kept: Path, flag: str) -> None:
    before = kept.read_bytes()
    env = {"XDG_CONFIG_HOME": str(tmp_path / ".config")}
    run = run_cli(run_args, "http://127.0.0.1:9", tmp_path, extra_env=env)
    assert run.code == 2, run.stdout + run.stderr
    assert run.stderr.startswith(f"error: {flag} "), run.stderr
    assert "writing there would replace it" in run.stderr
    assert run.stderr.count("\n") == 2  # the error and its fix, nothing else
    assert kept.read_bytes() == before


@ALIASES
@pytest.mark.parametrize("which", ["snapshot", "manifest"])
def test_write_baseline_never_replaces_an_input(alias: Alias, which: str, tmp_path: Path) -> None:
    snapshot, manifest = _files(tmp_path)
    target = snapshot if which == "snapshot" else manifest
    args = ["check", "-s", str(snapshot), "--manifest", str(manifest), "-q"]
    _refused(
        [*args, "--write-baseline", str(alias(target, tmp_path))],
        tmp_path,
        target,
        "--write-baseline",
    )


@ALIASES
def test_write_baseline_never_replaces_an_output(alias: Alias, tmp_path: Path) -> None:
    snapshot, _ = _files(tmp_path)
    report = tmp_path / "report.json"
    report.write_text("{}")
    args = ["check", "-s", str(snapshot), "-o", str(report), "-q"]
    _refused(
        [*args, "--write-baseline", str(alias(report, tmp_path))],
        tmp_path,
        report,
        "--write-baseline",
    )


@ALIASES
def test_report_never_replaces_the_baseline_read(alias: Alias, tmp_path: Path) -> None:
    snapshot, _ = _files(tmp_path)
    baseline = tmp_path / "baseline.toml"
    made = run_cli(
        ["check", "-s", str(snapshot), "--write-baseline", str(baseline), "--reason", "known"],
        None,
        tmp_path,
    )
    assert baseline.exists(), made.stderr
    args = ["check", "-s", str(snapshot), "--baseline", str(baseline)]
    _refused([*args, "-o", str(alias(baseline, tmp_path))], tmp_path, baseline, "-o")


@ALIASES
def test_snapshot_never_replaces_the_manifest(alias: Alias, tmp_path: Path) -> None:
    _, manifest = _files(tmp_path)
    args = ["snapshot", "--manifest", str(manifest), "-o", str(alias(manifest, tmp_path))]
    _refused(args, tmp_path, manifest, "-o")


@ALIASES
def test_snapshot_never_replaces_the_redaction_key(alias: Alias, tmp_path: Path) -> None:
    key = tmp_path / "redaction.key"
    load_or_create_key(key)
    args = ["snapshot", "--redact", "--redact-key", str(key), "-o", str(alias(key, tmp_path))]
    _refused(args, tmp_path, key, "-o")


def test_snapshot_never_replaces_the_default_redaction_key(tmp_path: Path) -> None:
    """Without --redact-key the key lives in the config directory; -o naming it is refused
    too, with or without --redact (the key, and every pseudonym made with it, would be lost)."""
    key = tmp_path / ".config" / "consent-audit" / "redaction.key"
    key.parent.mkdir(parents=True)
    load_or_create_key(key)
    for extra in ([], ["--redact"]):
        _refused(["snapshot", *extra, "-o", str(key)], tmp_path, key, "-o")
