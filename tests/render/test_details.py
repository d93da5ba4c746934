"""The causal chain, per-scope consent and Conditional Access appear in every human format."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render.common import chain_table, conditional_access_table, detail_tables
from consent_audit.render.html import render_html
from consent_audit.render.markdown import render_markdown
from consent_audit.render.text import render_text_plain
from consent_audit.report import Report
from consent_audit.snapshot import load_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"


def _report(name: str, user: str | None = None) -> Report:
    return evaluate(load_snapshot(EXAMPLES / name), load_manifest(), user=user)


def test_first_broken_link_is_marked_as_the_verdict() -> None:
    report = _report("ca-block-excluded-admins.json", "nestor.wilke@woodgrovebank.com")
    rows = chain_table(report.features[0]).rows
    marked = [row for row in rows if row[1].endswith("<- verdict")]
    assert len(marked) == 1
    assert marked[0][2] == "A Conditional Access policy blocks Recruitee"
    assert [row[1] for row in rows[: rows.index(marked[0])]] == ["PASS"] * rows.index(marked[0])


def test_ca_table_says_whether_a_policy_applies_to_the_user() -> None:
    blocked = conditional_access_table(
        _report("ca-block-excluded-admins.json", "nestor.wilke@woodgrovebank.com")
    )
    spared = conditional_access_table(
        _report("ca-block-excluded-admins.json", "miriam.graham@woodgrovebank.com")
    )
    assert blocked is not None
    assert spared is not None
    assert "Applies to user" in blocked.headers
    assert any(r[3] == "yes" and r[-1] == "blocks Recruitee" for r in blocked.rows)
    assert any(r[3] == "no" and r[-1] == "does not apply to this user" for r in spared.rows)


def test_scope_table_names_admin_only_scopes_under_the_managed_policy() -> None:
    tables = detail_tables(_report("recommended-policy.json"))
    mailbox = next(t for t in tables if t.title.startswith("Mailbox sync: who can consent"))
    row = next(r for r in mailbox.rows if r[0] == "Mail.ReadWrite")
    assert row[2] == "only admins can consent"
    assert "not a choice made in this tenant" in row[3]


def test_without_user_only_features_that_do_not_pass_show_a_chain() -> None:
    report = _report("partial-scopes.json")
    titles = [t.title for t in detail_tables(report)]
    assert "Mailbox sync: why, step by step" in titles
    assert "Calendar sync: why, step by step" not in titles


def test_every_human_format_shows_the_details() -> None:
    report = _report("ca-block-excluded-admins.json", "nestor.wilke@woodgrovebank.com")
    plain = render_text_plain(report)
    markdown = render_markdown(report)
    html = render_html(report)
    for out in (plain, markdown, html):
        assert "why, step by step" in out
        assert "who can consent to each scope" in out
        assert "Conditional Access policies that target Recruitee" in out
        assert "&lt;- verdict" in out if out is html else "<- verdict" in out
    assert not re.search(r"\x1b\[", plain)


def test_html_details_are_escaped_and_self_contained() -> None:
    report = _report("recommended-policy.json", "patti.fernandez@fourthcoffee.com")
    html = render_html(report)
    parser = HTMLParser()
    parser.feed(html)
    assert "'microsoft-user-default-recommended'" not in html  # quotes are escaped
    assert "&#x27;microsoft-user-default-recommended&#x27;" in html
    assert not re.search(r"(src|href)=\"https?://", html)
