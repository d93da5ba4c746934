"""Support that closes the loop (issue 20, item 8).

- The support playbook matches the tool: the verdict words it lists are the report's, the
  order it says findings come in is the order ``evaluate`` gives, and every command it shows
  is one the CLI accepts.
- ``consent-audit unredact`` maps a report's pseudonyms back to names with the customer's
  kept key and their own unredacted snapshot: text, Markdown and JSON; names through the
  sanitising boundary; never over an input.
- A snapshot records who reported the problem (the first ``snapshot --user``), as version 2,
  redacted like the user it names, and every report of a several-user snapshot says so.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from consent_audit.cli import app
from consent_audit.evaluate import evaluate
from consent_audit.evaluate.fixes import chain_position
from consent_audit.live.redact import redact
from consent_audit.manifest import load_manifest
from consent_audit.report import STATUS_WORD, VerdictStatus
from consent_audit.snapshot import dump_snapshot, load_snapshot, taken_for

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "docs" / "support-playbook.md"
TENANTS = ROOT / "examples" / "tenants"
THREE = TENANTS / "assignment-required.json"  # lynne.robbins, adele.vance, isaiah.langer
KEY = b"customer key 32 bytes long......"
runner = CliRunner()


def _reading_section() -> str:
    text = PLAYBOOK.read_text(encoding="utf-8")
    return text.split("## 3. Reading the report", 1)[1]


# ------------------------------------------------------------------ the playbook


def test_the_playbook_lists_every_status_word_the_report_uses() -> None:
    section = _reading_section()
    for status in VerdictStatus:
        assert f"`{STATUS_WORD[status]}`" in section, status
    assert "`not_checked`" in section


def test_the_playbook_says_the_order_findings_come_in() -> None:
    text = PLAYBOOK.read_text(encoding="utf-8")
    assert "ordered by severity" not in text
    assert "ordered along that chain" in _reading_section()


@pytest.mark.parametrize("path", sorted(TENANTS.glob("*.json")), ids=lambda p: p.stem)
def test_findings_come_along_the_chain_worst_first_as_the_playbook_says(path: Path) -> None:
    report = evaluate(load_snapshot(path), load_manifest())
    if len(report.apps) > 1:
        pytest.skip("a leftover app's findings are grouped apart (first screen)")
    keys = [(chain_position(f.id), -f.severity.rank) for f in report.findings]
    assert keys == sorted(keys)


def _playbook_commands() -> list[list[str]]:
    text = PLAYBOOK.read_text(encoding="utf-8").replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        for part in line.split("|"):
            part = part.split(" #", 1)[0].split(" > ", 1)[0].strip()
            if part.startswith("consent-audit "):
                commands.append(shlex.split(part)[1:])
    return commands


def test_every_command_in_the_playbook_is_one_the_cli_accepts() -> None:
    commands = _playbook_commands()
    assert any(c[0] == "unredact" for c in commands)
    group = typer.main.get_command(app)
    for argv in commands:
        parent = group.make_context("consent-audit", list(argv), resilient_parsing=True)
        command = group.get_command(parent, argv[0])  # type: ignore[attr-defined]
        assert command is not None, argv
        # Parsed as the CLI would (an unknown option or a missing value is a UsageError).
        ctx = command.make_context(argv[0], list(argv[1:]), parent=parent)
        assert not ctx.args, (argv, ctx.args)


# ------------------------------------------------------------------ unredact


def _files(
    tmp_path: Path, snapshot: Path = THREE, reporter: str = "lynne.robbins@fabrikam.com"
) -> tuple[Path, Path, Path]:
    """(the customer's own snapshot, the redacted one support got, the key file)."""
    mine = taken_for(load_snapshot(snapshot), reporter)
    own = tmp_path / "mine.json"
    own.write_text(dump_snapshot(mine), encoding="utf-8")
    sent = tmp_path / "sent.json"
    sent.write_text(dump_snapshot(redact(mine, KEY)), encoding="utf-8")
    key = tmp_path / "redaction.key"
    key.write_text("# key\n" + base64.b64encode(KEY).decode() + "\n", encoding="utf-8")
    return own, sent, key


def _support_reports(tmp_path: Path, sent: Path) -> dict[str, Path]:
    out = {
        kind: tmp_path / f"report.{ext}"
        for kind, ext in (("text", "txt"), ("markdown", "md"), ("json", "json"))
    }
    args = ["check", "-s", str(sent), "--fail-on", "never", "--details"]
    for path in out.values():
        args += ["-o", str(path)]
    assert runner.invoke(app, args).exit_code == 0
    return out


@pytest.mark.parametrize("kind", ["text", "markdown", "json"])
def test_unredact_maps_a_reports_pseudonyms_back_with_the_kept_key(
    tmp_path: Path, kind: str
) -> None:
    own, sent, key = _files(tmp_path)
    report = _support_reports(tmp_path, sent)[kind]
    before = report.read_text(encoding="utf-8")
    assert "lynne.robbins" not in before
    assert re.search(r"user-[0-9a-f]{10}\\?@redacted\.invalid", before)  # Markdown: \@
    result = runner.invoke(
        app, ["unredact", str(report), "--snapshot", str(own), "--redact-key", str(key)]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout.replace("\\@", "@")
    assert "lynne.robbins@fabrikam.com" in out
    assert not re.search(r"user-[0-9a-f]{10}@redacted\.invalid", out)
    assert re.match(r"replaced [1-9]\d* pseudonym\(s\)$", result.stderr.strip())
    assert report.read_text(encoding="utf-8") == before  # only read
    if kind == "json":
        data = json.loads(out)
        assert data["user"]["query"] == "lynne.robbins@fabrikam.com"
        assert data["user"]["display_name"] == "Lynne Robbins"
        assert data["source"]["reported_by"] == "lynne.robbins@fabrikam.com"
        mine = load_snapshot(own).find_user("lynne.robbins@fabrikam.com")
        assert mine is not None
        assert mine.user.data is not None
        assert data["user"]["id"] == mine.user.data.id  # the object id too


def test_unredact_restores_conditional_access_policy_names(tmp_path: Path) -> None:
    own, sent, key = _files(tmp_path, TENANTS / "ca-block-excluded-admins.json")
    report = _support_reports(tmp_path, sent)["markdown"]
    assert "CA policy " in report.read_text(encoding="utf-8")
    out = runner.invoke(
        app, ["unredact", str(report), "-s", str(own), "--redact-key", str(key)]
    ).stdout
    names = [p.display_name for p in load_snapshot(own).conditional_access_policies.data or []]
    assert not re.search(r"CA policy [0-9a-f]{8}\b", out)
    assert any(name and name.split(" ")[0] in out for name in names)


def test_unredacted_names_leave_through_the_boundary(tmp_path: Path) -> None:
    """A hostile UPN comes back inert: no control byte, no second line, no Markdown, and
    quoted for the shell where it stands in a suggested command; JSON keeps it as data."""
    raw = json.loads(THREE.read_text(encoding="utf-8"))
    hostile = "eve'\x1b[31m\n1. Delete *now*|x@fabrikam.com"
    for lookup in raw["users"]:
        user = lookup["user"]["data"]
        if user and user["user_principal_name"] == "lynne.robbins@fabrikam.com":
            user["user_principal_name"] = lookup["query"] = hostile
    source = tmp_path / "hostile.json"
    source.write_text(json.dumps(raw), encoding="utf-8")
    own, sent, key = _files(tmp_path, source, hostile)
    reports = _support_reports(tmp_path, sent)
    for kind in ("text", "markdown"):
        result = runner.invoke(
            app, ["unredact", str(reports[kind]), "-s", str(own), "--redact-key", str(key)]
        )
        assert result.exit_code == 0, result.output
        out = result.stdout
        assert "\x1b" not in out
        assert "x1b" in out  # the escape shown (Markdown escapes its backslash), not acted on
        assert not any(line.lstrip().startswith("1. Delete") for line in out.splitlines())
        assert "'\"'\"'" in out  # shlex.quote's apostrophe: the UPN is one shell word
        if kind == "markdown":
            assert "\\*now\\*" in out
            assert "\\|x" in out
    data = json.loads(
        runner.invoke(
            app, ["unredact", str(reports["json"]), "-s", str(own), "--redact-key", str(key)]
        ).stdout
    )
    assert data["user"]["query"] == hostile  # JSON keeps the data as it was
    assert data["source"]["reported_by"] == hostile


def test_unredact_never_writes_over_an_input_and_refuses_what_cannot_work(
    tmp_path: Path,
) -> None:
    own, sent, key = _files(tmp_path)
    report = _support_reports(tmp_path, sent)["markdown"]
    kept = {p: p.read_bytes() for p in (report, own, key)}
    for target in (report, own, key):
        result = runner.invoke(
            app,
            ["unredact", str(report), "-s", str(own), "--redact-key", str(key), "-o", str(target)],
        )
        assert result.exit_code == 2
        assert "is an input file" in result.stderr
    assert {p: p.read_bytes() for p in kept} == kept
    out = tmp_path / "names.md"
    ok = runner.invoke(
        app, ["unredact", str(report), "-s", str(own), "--redact-key", str(key), "-o", str(out)]
    )
    assert ok.exit_code == 0
    assert ok.stdout == ""
    assert "lynne.robbins\\@fabrikam.com" in out.read_text(encoding="utf-8")  # Markdown-escaped
    # Support's redacted snapshot has no names to give.
    refused = runner.invoke(
        app, ["unredact", str(report), "-s", str(sent), "--redact-key", str(key)]
    )
    assert refused.exit_code == 2
    assert "is itself redacted" in refused.stderr
    # A key that is not there is never made up (new pseudonyms could match nothing).
    missing = tmp_path / "nowhere.key"
    result = runner.invoke(
        app, ["unredact", str(report), "-s", str(own), "--redact-key", str(missing)]
    )
    assert result.exit_code == 2
    assert "no redaction key" in result.stderr
    assert not missing.exists()
    html = tmp_path / "r.html"
    html.write_text("<html></html>", encoding="utf-8")
    result = runner.invoke(app, ["unredact", str(html), "-s", str(own), "--redact-key", str(key)])
    assert result.exit_code == 2
    assert "not HTML or JUnit" in result.stderr


def test_another_key_maps_no_name_and_says_so(tmp_path: Path) -> None:
    own, sent, _ = _files(tmp_path)
    report = _support_reports(tmp_path, sent)["text"]
    other = tmp_path / "other.key"
    other.write_text(base64.b64encode(b"x" * 32).decode() + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["unredact", str(report), "-s", str(own), "--redact-key", str(other)]
    )
    assert result.exit_code == 0
    assert "lynne.robbins@fabrikam.com" not in result.stdout
    assert "not in" in result.stderr
    assert "user-" in result.stderr


# ------------------------------------------------------------------ who reported the problem


def test_a_snapshot_records_who_reported_as_version_2_and_reads_version_1(tmp_path: Path) -> None:
    old = load_snapshot(THREE)
    assert old.schema_version == 1
    assert old.reported_by is None
    new = taken_for(old, "adele.vance@fabrikam.com")
    path = tmp_path / "new.json"
    path.write_text(dump_snapshot(new), encoding="utf-8")
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["schema_version"] == 2
    assert raw["reported_by"] == "adele.vance@fabrikam.com"
    assert load_snapshot(path).reported_by == "adele.vance@fabrikam.com"
    raw["schema_version"] = 4
    path.write_text(json.dumps(raw), encoding="utf-8")
    result = runner.invoke(app, ["check", "-s", str(path)])
    assert result.exit_code == 2
    assert "reads schema_version 1, 2 and 3" in result.stderr


def test_redaction_names_the_reporter_by_their_pseudonym() -> None:
    plain = taken_for(load_snapshot(THREE), "adele.vance@fabrikam.com")
    at = [u.query for u in plain.users].index("adele.vance@fabrikam.com")
    snap = redact(plain, KEY)
    assert snap.reported_by is not None
    assert "adele" not in snap.reported_by
    assert snap.reported_by == snap.users[at].query  # the same pseudonym as her lookup


def test_a_several_user_snapshot_is_audited_for_the_reporter_and_every_report_says_so(
    tmp_path: Path,
) -> None:
    path = tmp_path / "three.json"
    path.write_text(dump_snapshot(taken_for(load_snapshot(THREE), "adele.vance@fabrikam.com")))
    outs = [tmp_path / n for n in ("r.json", "r.md", "r.html", "r.xml", "r.txt")]
    args = ["check", "-s", str(path), "--fail-on", "never"]
    for out in outs:
        args += ["-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "auditing adele.vance@fabrikam.com, who reported the problem; it also holds" in (
        result.stderr
    )
    report = json.loads(outs[0].read_text())
    assert report["user"]["query"] == "adele.vance@fabrikam.com"
    assert report["source"]["reported_by"] == "adele.vance@fabrikam.com"
    for out in outs[1:]:
        words = " ".join(out.read_text(encoding="utf-8").replace("\\@", "@").split())
        assert "adele.vance@fabrikam.com" in words, out.name
        assert re.search(r"reported (by|the problem)", words), out.name
    # A several-user snapshot of the older version (nobody recorded) stays a tenant audit.
    old = runner.invoke(app, ["check", "-s", str(THREE), "--format", "json"])
    assert json.loads(old.stdout)["user"] is None
    assert "holds 3 users" in old.stderr


@pytest.mark.parametrize("kind", ["text", "markdown", "json"])
def test_unredact_names_the_group_a_policy_excludes(tmp_path: Path, kind: str) -> None:
    """A redacted report names the group CA900 excludes by its pseudonym (not "1 group(s)"),
    and unredact maps it back to the customer's group name and object id."""
    own, sent, key = _files(
        tmp_path, TENANTS / "ca-block-excluded-admins.json", "miriam.graham@woodgrovebank.com"
    )
    real_id = "1e78782f-f4d3-4ebc-b672-7f85a20c7458"
    report = _support_reports(tmp_path, sent)[kind]
    before = report.read_text(encoding="utf-8")
    assert "group(s)" not in before
    assert "CA-Exclude-Tier0-Admins" not in before
    assert real_id not in before
    assert re.search(r"group 'Group [0-9a-f]{8}'", before)
    result = runner.invoke(app, ["unredact", str(report), "-s", str(own), "--redact-key", str(key)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "group 'CA-Exclude-Tier0-Admins'" in out.replace("\\-", "-")
    if kind == "json":
        rows = json.loads(out)["conditional_access"]
        excluded = [p for row in rows for p in row["excluded"] if p["kind"] == "group"]
        assert {"kind": "group", "id": real_id, "display_name": "CA-Exclude-Tier0-Admins"} in (
            excluded
        )
