"""Hostile strings as command-line values, file names and manifest fields, through every
command that takes them (issue 19); and a live ``snapshot`` of a hostile tenant. The checks
are tests/fuzz/hostile_corpus.py's: documented exit codes, readable output, safe commands.

Every payload of the corpus (and all of them combined) goes into each value below.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.e2e.cli_runner import Run, run_cli
from tests.emulator.fixtures import EmulatorFactory
from tests.fuzz.hostile_corpus import (
    ALL_PAYLOADS,
    assert_json,
    assert_markdown,
    assert_readable,
    check_commands,
    with_text,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
EXITS: Counter[tuple[str, int]] = Counter()
ARGS: dict[str, tuple[list[str], set[int]]] = {
    # name: (command line with {} for the payload, the exit codes it may give)
    "explain": (["explain", "{}"], {2}),
    "check --user": (["check", "--demo", "--user", "{}"], {2}),
    "check --app-id": (["check", "--demo", "--app-id", "{}"], {0, 1, 2}),
    "fix --feature": (["fix", "--demo", "--feature", "{}"], {2}),
    "consent-url --tenant": (["consent-url", "--demo", "--tenant", "{}"], {2}),
    "consent-url --app-id": (["consent-url", "--demo", "--app-id", "{}"], {2}),
    "consent-url --redirect-uri": (["consent-url", "--demo", "--redirect-uri", "{}"], {2}),
    "diff --user": (
        ["diff", str(EXAMPLES / "healthy.json"), str(EXAMPLES / "healthy.json"), "--user", "{}"],
        {2},
    ),
}


def _cli(home: Path, args: list[str], graph_url: str | None = None) -> Run:
    run = run_cli(args, graph_url, home, token=None if graph_url is None else "test-token")
    EXITS[(args[0], run.code)] += 1
    assert "internal error" not in run.stderr
    assert_readable(f"{args[0]} stderr", run.stderr)
    assert_readable(f"{args[0]} stdout", run.stdout)
    check_commands(f"{args[0]} stderr", run.stderr)
    return run


@pytest.mark.parametrize("payload", list(ALL_PAYLOADS))
@pytest.mark.parametrize("arg", list(ARGS))
def test_a_hostile_command_line_value_is_refused_or_shown_inert(
    arg: str, payload: str, tmp_path: Path
) -> None:
    template, exits = ARGS[arg]
    # argv cannot carry NUL; a lone surrogate arrives as surrogateescape'd bytes would.
    value = ALL_PAYLOADS[payload].replace("\x00", "")
    run = _cli(tmp_path, [part.replace("{}", value) for part in template])
    assert run.code in exits, f"{arg}: exit {run.code}: {run.stderr}"


def _file_name(payload: str) -> str:
    """The payload as a file name: no NUL or '/', no lone surrogate, at most 200 bytes."""
    name = re.sub("[\x00/\ud800-\udfff]", "", payload)
    while len(name.encode()) > 200:
        name = name[:-1]
    return name + ".json"


@pytest.mark.parametrize("payload", list(ALL_PAYLOADS))
def test_a_hostile_snapshot_file_name_is_quoted_in_the_suggested_command(
    payload: str, tmp_path: Path
) -> None:
    path = tmp_path / _file_name(ALL_PAYLOADS[payload])
    shutil.copy(EXAMPLES / "partial-scopes.json", path)
    run = _cli(tmp_path, ["check", "--snapshot", str(path)])
    assert run.code in (0, 1), run.stderr
    assert check_commands("check text", run.stdout) >= 1  # consent-audit fix --snapshot ...
    out = tmp_path / "r.md"
    run = _cli(tmp_path, ["check", "--snapshot", str(path), "-o", str(out)])
    assert run.code in (0, 1), run.stderr
    assert_markdown("check markdown", out.read_text(encoding="utf-8"))


def _manifest(payload: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "app": {"display_name": f"Recruitee{payload}", "known_app_ids": []},
        "resource": {
            "display_name": f"Microsoft Graph{payload}",
            "app_id": "00000003-0000-0000-c000-000000000000",
        },
        "feature": [
            {"name": "mailbox", "title": f"Mailbox{payload}", "scopes": ["offline_access"]},
            {"name": "rooms", "title": "Rooms", "scopes": ["User.ReadBasic.All", f"X{payload}"]},
        ],
    }


@pytest.mark.parametrize("payload", list(ALL_PAYLOADS))
def test_a_hostile_manifest_through_manifest_validate_show_and_check(
    payload: str, tmp_path: Path
) -> None:
    text = ALL_PAYLOADS[payload].replace("\x00", "")
    text = re.sub("[\ud800-\udfff]", "\ufffd", text)  # TOML files are UTF-8
    path = tmp_path / "m.toml"
    path.write_text(tomli_w.dumps(_manifest(text)), encoding="utf-8")
    run = _cli(tmp_path, ["manifest", "validate", str(path)])
    assert run.code == 2, run.stdout  # the scope with the payload is not a permission
    good = _manifest(text)
    good["feature"][1]["scopes"] = ["User.ReadBasic.All"]
    path.write_text(tomli_w.dumps(good), encoding="utf-8")
    run = _cli(tmp_path, ["manifest", "show", "--manifest", str(path)])
    assert run.code == 0, run.stderr
    run = _cli(tmp_path, ["check", "--demo", "--manifest", str(path), "--format", "markdown"])
    assert run.code in (0, 1), run.stderr
    assert_markdown("check markdown", run.stdout)


@pytest.mark.parametrize("payload", ["combined", "unicode", "terminal"])
def test_a_live_snapshot_of_a_hostile_tenant_is_written_escaped(
    payload: str, graph_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    raw = json.loads((EXAMPLES / "assignment-required.json").read_text(encoding="utf-8"))
    document = with_text(raw, ALL_PAYLOADS[payload])
    for lookup in document["users"]:  # the emulator serves users by their real name
        lookup["query"] = raw["users"][0]["query"]
    tenant = tmp_path / "tenant.json"
    tenant.write_text(json.dumps(document), encoding="utf-8")
    emu = graph_emulator_factory(str(tenant))
    for redact in ([], ["--redact", "--redact-key", str(tmp_path / "key.txt")]):
        out = tmp_path / f"snap{len(redact)}.json"
        user = raw["users"][0]["query"]
        run = _cli(tmp_path, ["snapshot", "--user", user, "-o", str(out), *redact], emu.url)
        assert run.code == 0, run.stderr
        assert_json("snapshot", out.read_text(encoding="utf-8"))
