"""The first screen never claims what the sign-in log would show when it was not read (issue
18, item 2): on a tenant whose refreshes fail with AADSTS50076, ``check --user`` without the
log says the Session link was not checked and how to check it, and stays one screen."""

from __future__ import annotations

import io
from pathlib import Path

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render.safe_text import report_console
from consent_audit.render.text import render_to_console
from consent_audit.report import Report, VerdictStatus
from consent_audit.snapshot import Part, PartStatus, TenantSnapshot, load_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
GRADY = "grady.archie@margiestravel.com"
"""His latest refreshes failed with AADSTS50076 (the sign-in log of mfa-after-connect.json)."""


def _without_logs(snap: TenantSnapshot) -> TenantSnapshot:
    unread: Part[list[object]] = Part(status=PartStatus.NOT_COLLECTED, message="needs --with-logs")
    return snap.model_copy(update={"sign_ins": unread, "directory_audits": unread})


def _first_screen(report: Report, *, details: bool = False) -> list[str]:
    buffer = io.StringIO()
    console = report_console(file=buffer, width=80, no_color=True, force_terminal=False)
    render_to_console(report, console, details=details)
    return buffer.getvalue().splitlines()


def test_mfa_failures_unseen_are_not_checked_never_a_clean_pass() -> None:
    snap = load_snapshot(EXAMPLES / "mfa-after-connect.json")
    with_logs = evaluate(snap, load_manifest(), user=GRADY)
    assert {f.status for f in with_logs.features} == {
        VerdictStatus.FAIL,
        VerdictStatus.PASS,
    }  # the log shows his failing refreshes

    blind = evaluate(_without_logs(snap), load_manifest(), user=GRADY)
    sessions = [link for f in blind.features for link in f.chain if link.name == "session"]
    assert sessions
    assert all(link.status is VerdictStatus.NOT_CHECKED for link in sessions)
    screen = _first_screen(blind)
    text = " ".join(" ".join(screen).split())
    assert "Not checked: whether background refreshes succeed" in text
    assert "--with-logs" in text
    assert "AuditLog.Read.All" in text
    assert len(screen) <= 24
    details = " ".join(" ".join(_first_screen(blind, details=True)).split())
    assert "NOT CHECKED" in details
    if "No findings." in details:  # never a bare PASS + "No findings."
        assert "Not checked: whether background refreshes succeed" in details


def test_the_line_is_absent_when_the_log_was_read() -> None:
    snap = load_snapshot(EXAMPLES / "mfa-after-connect.json")
    report = evaluate(snap, load_manifest(), user="joni.sherman@margiestravel.com")
    assert not any("Not checked" in line for line in _first_screen(report))


def test_the_demo_first_screen_stays_short() -> None:
    demo = load_snapshot(
        Path(__file__).resolve().parents[2] / "src/consent_audit/data/demo_tenant.json"
    )
    for snap in (demo, _without_logs(demo)):
        assert len(_first_screen(evaluate(snap, load_manifest()))) <= 24


def test_markdown_and_html_say_it_too() -> None:
    from consent_audit.render.html import render_html
    from consent_audit.render.markdown import render_markdown

    snap = _without_logs(load_snapshot(EXAMPLES / "mfa-after-connect.json"))
    report = evaluate(snap, load_manifest(), user=GRADY)
    for rendered in (render_markdown(report), render_html(report)):
        head = rendered.split("Do this next", 1)[0]
        assert "Not checked: whether background refreshes succeed" in head
        assert "--with-logs" in head
