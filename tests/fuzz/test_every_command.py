"""Hostile strings through every command and every format (issue 19), as a tenant or a
snapshot would send them: names, grant scopes, the audited user's query and every id of an
example snapshot hold a payload, and each snapshot goes through ``check`` (text with
--details, JSON, Markdown, HTML, JUnit in one run), ``fix``, ``diff`` (text, Markdown, JSON)
and ``consent-url``. Checks: tests/fuzz/hostile_corpus.py. Command-line values and manifests:
test_every_command_args.py.

Size: the combined payload in both field groups of all four example tenants, and each single
payload in both field groups of one tenant (rotating), each case through the 4 commands and
their 9 formats. Each run is one CLI process (forked from the fork server, ~0.08 s).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_runner import Run, run_cli
from tests.fuzz.hostile_corpus import (
    ALL_PAYLOADS,
    PAYLOADS,
    assert_html,
    assert_json,
    assert_markdown,
    assert_readable,
    check_commands,
    check_html_commands,
    check_report_commands,
    with_ids,
    with_text,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
BASES: dict[str, tuple[str, str | None]] = {
    "grant": ("partial-scopes.json", None),
    "assign": ("assignment-required.json", "lynne.robbins@fabrikam.com"),
    "enable": ("disabled-app.json", None),
    "unreadable": ("ca-unreadable.json", None),
}
GROUPS = {"text": with_text, "ids": with_ids}
CASES = [("combined", base, group) for base in BASES for group in GROUPS] + [
    (name, list(BASES)[i % len(BASES)], group)
    for i, name in enumerate(PAYLOADS)
    for group in GROUPS
]
EXITS: Counter[tuple[str, int]] = Counter()
"""(command, exit code) seen over the run, for the closing numbers (``pytest -s``)."""


def _cli(home: Path, command: str, *args: str) -> Run:
    run = run_cli([command, *args], None, home, token=None)
    EXITS[(command, run.code)] += 1
    assert_readable(f"{command} stderr", run.stderr)
    return run


def _snapshot(tmp_path: Path, payload: str, base: str, group: str) -> tuple[Path, list[str]]:
    """The hostile snapshot, and the options that name its user and (when names are
    hostile, so the app cannot be found by name) Recruitee's appId."""
    file, user = BASES[base]
    raw: dict[str, Any] = json.loads((EXAMPLES / file).read_text(encoding="utf-8"))
    document = GROUPS[group](raw, payload)
    options = []
    if group == "text":
        app_id = raw["recruitee_apps"]["data"][0]["service_principal"]["appId"]
        options += ["--app-id", app_id]
        if user is not None:
            user = next(u["query"] for u in document["users"] if u["query"].startswith(user))
    if user is not None:
        options += ["--user", user]
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    # What diff compares it with: the same hostile tenant a little later (one Conditional
    # Access policy fewer, the app enabled or disabled), so the changes it lists carry data.
    policies = document["conditional_access_policies"]
    if isinstance(policies.get("data"), list) and policies["data"]:
        policies["data"] = policies["data"][:-1]
    sp = document["recruitee_apps"]["data"][0]["service_principal"]
    sp["accountEnabled"] = not sp.get("accountEnabled", True)
    (tmp_path / "later.json").write_text(json.dumps(document), encoding="utf-8")
    return path, options


@pytest.mark.parametrize(("payload", "base", "group"), CASES)
def test_every_command_and_format_with_hostile_snapshot_fields(
    payload: str, base: str, group: str, tmp_path: Path
) -> None:
    snapshot, who = _snapshot(tmp_path, ALL_PAYLOADS[payload], base, group)
    outputs = {ext: tmp_path / f"r.{ext}" for ext in ("json", "md", "html", "xml", "txt")}
    files = [a for p in outputs.values() for a in ("-o", str(p))]
    run = _cli(tmp_path, "check", "--snapshot", str(snapshot), *who, "--details", *files, "-o", "-")
    assert run.code in (0, 1), run.stderr  # every field here is free text for the model
    written = {ext: p.read_text(encoding="utf-8") for ext, p in outputs.items()}
    report = assert_json("check json", written["json"])
    commands = check_report_commands("check json", report)
    assert_markdown("check markdown", written["md"])
    commands += check_commands("check markdown", written["md"], markdown=True)
    assert_html("check html", written["html"])
    commands += check_html_commands("check html", written["html"])
    assert_readable("check junit", written["xml"])
    for name, text in (("check text", run.stdout), ("check txt", written["txt"])):
        assert_readable(name, text)
        commands += check_commands(name, text)
    assert commands >= 2, "the report suggests commands to check"
    assert report["apps"], "Recruitee is found: the fields around it are rendered"

    run = _cli(tmp_path, "fix", "--snapshot", str(snapshot), *who)
    assert run.code in (0, 1), run.stderr
    assert_readable("fix", run.stdout)
    check_commands("fix", run.stdout)

    later = tmp_path / "later.json"
    for fmt in ("text", "markdown", "json"):
        app = who[:2] if who[:1] == ["--app-id"] else []
        run = _cli(tmp_path, "diff", str(snapshot), str(later), "--format", fmt, *app)
        assert run.code in (0, 1), run.stderr
        if fmt == "json":
            assert_json("diff json", run.stdout)
        elif fmt == "markdown":
            assert_markdown("diff markdown", run.stdout)
        else:
            assert_readable("diff text", run.stdout)

    app = who[:2] if who[:1] == ["--app-id"] else []
    run = _cli(tmp_path, "consent-url", "--snapshot", str(snapshot), *app)
    assert run.code in (0, 2), run.stderr
    assert_readable("consent-url", run.stdout)
    if run.code == 0:
        assert run.stdout.startswith("https://login.microsoftonline.com/")
        assert " " not in run.stdout.strip()
