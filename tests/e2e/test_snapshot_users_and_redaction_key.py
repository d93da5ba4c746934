"""snapshot --user A --user B keeps both and records A as who reported the problem;
--redact with a kept key gives the same pseudonyms; check --snapshot audits the snapshot's
user (of several, the reporter) by default and says so."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from consent_audit.errors import InputError
from consent_audit.redaction_key import load_or_create_key
from consent_audit.snapshot import load_snapshot
from tests.e2e.cli_runner import comparable, run_cli
from tests.emulator.server import GraphEmulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
Factory = Callable[..., GraphEmulator]
TWO = ["isaiah.langer@fabrikam.com", "lynne.robbins@fabrikam.com"]


def test_snapshot_with_two_users_keeps_both_and_each_replays_like_live(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "assignment-required.json")
    out = tmp_path / "two.json"
    args = ["snapshot", "-o", str(out), "--user", TWO[0], "--user", TWO[1]]
    assert run_cli(args, emu.url, tmp_path).code == 0
    snap = load_snapshot(out)
    assert [u.query for u in snap.users] == TWO
    assert snap.reported_by == TWO[0]  # issue 20 item 8: who reported the problem
    assert snap.schema_version == 3  # it also records how the run signed in (sign_in)
    for user in TWO:
        replay = run_cli(
            ["check", "-s", str(out), "--user", user, "--format", "json"], None, tmp_path, None
        )
        live = run_cli(["check", "--user", user, "--format", "json"], emu.url, tmp_path)
        assert replay.report["user"]["query"] == user
        assert comparable(replay.report) == comparable(live.report)
    both = run_cli(["check", "-s", str(out), "--format", "json"], None, tmp_path, None)
    assert both.report["user"]["query"] == TWO[0]
    assert both.report["source"]["reported_by"] == TWO[0]
    said = " ".join(both.stderr.split())  # the note wraps at the terminal's width
    assert f"auditing {TWO[0]}, who reported the problem; it also holds {TWO[1]}" in said
    tenant = run_cli(
        ["check", "-s", str(out), "--tenant-only", "--format", "json"], None, tmp_path, None
    )
    assert tenant.report["user"] is None


def test_redaction_with_the_kept_key_gives_the_same_pseudonyms(
    graph_emulator_factory: Factory, tmp_path: Path
) -> None:
    emu = graph_emulator_factory(EXAMPLES / "assignment-required.json")
    first, second, other = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"
    base = ["snapshot", "--redact", "--user", TWO[0]]
    made = run_cli([*base, "-o", str(first)], emu.url, tmp_path)
    assert made.code == 0
    assert "made a redaction key" in made.stderr
    again = run_cli([*base, "-o", str(second)], emu.url, tmp_path)
    assert "made a redaction key" not in again.stderr
    key_file = tmp_path / "other.key"
    run_cli([*base, "--redact-key", str(key_file), "-o", str(other)], emu.url, tmp_path)
    a, b, c = (load_snapshot(p) for p in (first, second, other))
    assert a.users[0].query == b.users[0].query != c.users[0].query
    assert a.reported_by == a.users[0].query  # redacted like the lookup it names
    assert a.users[0].user.data == b.users[0].user.data
    # Object ids do not depend on the key: fingerprints stay comparable with any key.
    assert a.users[0].user.data is not None
    assert c.users[0].user.data is not None
    assert a.users[0].user.data.id == c.users[0].user.data.id
    if os.name != "nt":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    replay = run_cli(["check", "-s", str(first), "--format", "json"], None, tmp_path, None)
    live = run_cli(["check", "--user", TWO[0], "--format", "json"], emu.url, tmp_path)
    assert "the user this snapshot was taken for" in replay.stderr
    assert [f["fingerprint"] for f in replay.report["findings"]] == [
        f["fingerprint"] for f in live.report["findings"]
    ]


def test_check_snapshot_audits_its_user_unless_tenant_only(tmp_path: Path) -> None:
    path = str(EXAMPLES / "healthy.json")  # taken for megan.bowen@contoso.com
    default = run_cli(["check", "-s", path, "--format", "json"], None, tmp_path, None)
    assert default.report["user"]["query"] == "megan.bowen@contoso.com"
    assert "auditing megan.bowen@contoso.com" in default.stderr
    tenant = run_cli(
        ["check", "-s", path, "--tenant-only", "--format", "json"], None, tmp_path, None
    )
    assert tenant.report["user"] is None
    assert "auditing" not in tenant.stderr


def test_key_file_is_made_once_owner_only_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "dir" / "k.key"
    key, where, created = load_or_create_key(path)
    assert (where, created, len(key)) == (path, True, 32)
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_or_create_key(path) == (key, path, False)
    bad = tmp_path / "bad.key"
    bad.write_text("not a key\n")
    with pytest.raises(InputError, match="is not a consent-audit redaction key"):
        load_or_create_key(bad)
    assert bad.read_text() == "not a key\n"  # never overwritten


def test_default_key_lives_in_the_config_dir(tmp_path: Path) -> None:
    _key, where, _ = load_or_create_key()
    assert where.name == "redaction.key"
    assert str(where).startswith(os.environ["XDG_CONFIG_HOME"])
