"""The causal chain, who can consent to each scope, and the Conditional Access policies that
target Recruitee appear in every human format (text, Markdown, HTML), from real example
tenants, with the first broken link marked and tenant values escaped."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render import RenderOptions
from consent_audit.render.common import (
    CA_HEADING,
    SCOPES_HEADING,
    all_scope_tables,
    app_label,
    chain_features,
    chain_steps,
    conditional_access_note,
    conditional_access_tables,
)
from consent_audit.render.html import render_html
from consent_audit.render.markdown import render_markdown
from consent_audit.render.text import render_text_plain
from consent_audit.report import Report, VerdictStatus
from consent_audit.snapshot import load_snapshot
from tests.render.test_cli_outputs import ANSI, run
from tests.render.test_html import _check

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tenants"
CA_BLOCK = "ca-block-excluded-admins.json"
NESTOR = "nestor.wilke@woodgrovebank.com"  # blocked by CA900
MIRIAM = "miriam.graham@woodgrovebank.com"  # excluded from CA900

DETAILS = RenderOptions(details=True)


@cache
def _report(name: str, user: str | None = None) -> Report:
    return evaluate(load_snapshot(EXAMPLES / name), load_manifest(), user=user)


def _section(out: str, start: str, end: str) -> str:
    """The part of ``out`` from heading ``start`` up to the next heading ``end``."""
    return out[out.index(start) : out.index(end, out.index(start))]


# The causal chain ---------------------------------------------------------------------------


def test_first_broken_link_is_the_only_one_marked_as_the_verdict() -> None:
    steps = chain_steps(_report(CA_BLOCK, NESTOR).features[0])
    assert [s.label for s in steps] == [
        "User",
        "App",
        "Consent",
        "Assignment",
        "Conditional Access",
        "Session",
    ]
    marked = [s for s in steps if s.is_verdict]
    assert len(marked) == 1
    verdict = marked[0]
    assert verdict.marked_word == "FAIL <- verdict"
    assert verdict.detail == "A Conditional Access policy blocks Recruitee"
    assert all(s.status is VerdictStatus.PASS for s in steps[: verdict.number - 1])
    # the links after the verdict are still listed, with their own status
    assert steps[-1].marked_word == "PASS"


def test_a_chain_that_passes_marks_nothing() -> None:
    report = _report(CA_BLOCK, MIRIAM)
    assert all(not s.is_verdict for f in report.features for s in chain_steps(f))
    why = _section(render_text_plain(report, DETAILS), "Why, step by step", SCOPES_HEADING)
    assert "FAIL" not in why
    assert not re.search(r"(FAIL|UNKNOWN) <- verdict", why)


def test_text_with_user_spells_out_each_feature_step_by_step() -> None:
    report = _report(CA_BLOCK, NESTOR)
    why = _section(render_text_plain(report, DETAILS), "Why, step by step", SCOPES_HEADING)
    assert "Causal chain" not in why
    for feature in report.features:
        assert f"{feature.title}: FAIL" in why
    rows = [line for line in why.splitlines() if line.startswith("│")]
    verdict_lines = [line for line in rows if "<- verdict" in line]
    assert len(verdict_lines) == len(report.features)
    assert all("Conditional Access" in line and "FAIL" in line for line in verdict_lines)
    assert why.count("Background refresh succeeds") == len(report.features)  # links after it


def test_text_without_user_lists_a_compact_chain_for_failing_features_only() -> None:
    report = _report("partial-scopes.json")
    assert [f.name for f in chain_features(report)] == ["mailbox"]
    plain = render_text_plain(report, DETAILS)
    assert "Why, step by step" not in plain
    chain = _section(plain, "Causal chain", SCOPES_HEADING)
    assert "Mailbox sync: FAIL" in chain
    assert "Calendar sync" not in chain
    assert "App PASS > Consent FAIL <- verdict > Assignment PASS" in chain
    assert "2. Consent: Mailbox sync is missing Mail.ReadWrite, Mail.Send" in chain


def test_compact_chain_lists_every_link_that_does_not_pass() -> None:
    chain = _section(
        render_text_plain(_report("ca-unreadable.json"), DETAILS), "Causal chain", SCOPES_HEADING
    )
    # Unreadable policies leave the CA link unknown; background refresh (the sign-in log)
    # does not depend on them.
    assert "Conditional Access UNKNOWN <- verdict > Session PASS" in chain
    assert (
        "4. Conditional Access: No Conditional Access block: unknown (Conditional Access "
        "policies could not be read)" in chain
    )


def test_a_tenant_where_everything_passes_has_no_chain_section_without_user() -> None:
    plain = render_text_plain(_report("healthy.json"), DETAILS)
    assert "Causal chain" not in plain
    assert SCOPES_HEADING in plain
    assert CA_HEADING in plain


def test_markdown_and_html_mark_the_first_broken_link() -> None:
    report = _report(CA_BLOCK, NESTOR)
    md = _section(render_markdown(report), "## Why, step by step", f"## {SCOPES_HEADING}")
    assert md.count("5. **FAIL \\<- verdict** Conditional Access:") == 3
    assert "1. PASS User: User exists and can sign in" in md
    html = render_html(report)
    verdicts = re.findall(r'<li class="verdict">(.*?)</li>', html)
    assert len(verdicts) == 3
    assert all('badge fail">FAIL<' in v and "&lt;- verdict" in v for v in verdicts)
    assert html.count("<details open><summary>Why, step by step</summary>") == 3


def test_html_collapses_every_chain_without_user_so_the_plan_follows_the_cards() -> None:
    html = render_html(_report("partial-scopes.json"))
    assert '<details open><summary>Causal chain</summary><ol class="chain">' not in html
    assert html.count('<details><summary>Causal chain</summary><ol class="chain">') == 3
    assert html.index('<h2 id="plan">') < html.index('<details class="more">')


def test_several_apps_say_the_chain_is_the_worst_one() -> None:
    report = _report("duplicate-apps.json")
    assert "Mailbox sync: FAIL (worst of 2 Recruitee apps)" in render_text_plain(report, DETAILS)
    assert "Causal chain (worst of 2 Recruitee apps)" in render_html(report)


# Who can consent to each scope ----------------------------------------------------------------


def test_managed_policy_leaves_mail_readwrite_to_admins_in_every_format() -> None:
    report = _report("recommended-policy.json")
    mailbox = next(t for t in all_scope_tables(report) if t.title == "Mailbox sync")
    assert mailbox.headers == ["Scope", "Granted", "User consent", "Reason"]
    row = next(r for r in mailbox.rows if r[0] == "Mail.ReadWrite")
    assert row[1:3] == ["no", "only admins can consent"]
    assert "not a choice made in this tenant" in row[3]
    plain = render_text_plain(report, DETAILS)
    scopes = _section(plain, SCOPES_HEADING, CA_HEADING)
    assert re.search(r"Mail\.ReadWrite\s+│ no\s+│ only admins can consent", scopes)
    md = render_markdown(report)
    assert "| Mail.ReadWrite | no | only admins can consent |" in md
    assert '<td class="nw" data-label="Scope">Mail.ReadWrite</td>' in render_html(report)


def test_one_scope_table_per_app_titled_with_the_app_label() -> None:
    report = _report("duplicate-apps.json")
    titles = [t.title for t in all_scope_tables(report)]
    labels = [app_label(report, a.object_id) for a in report.apps]
    for feature in report.features:
        for label in labels:
            assert f"{feature.title}: {label}" in titles
    plain = render_text_plain(report, DETAILS)
    for label in labels:
        assert f"Mailbox sync: {label}" in plain


# Conditional Access -----------------------------------------------------------------------


def test_ca_table_says_the_lockdown_policy_blocks_nestor() -> None:
    report = _report(CA_BLOCK, NESTOR)
    (table,) = conditional_access_tables(report)
    assert table.headers == [
        "Policy",
        "State",
        "Users",
        "Applies to this user",
        "Controls",
        "Session",
        "Effect on Recruitee",
    ]
    row = next(r for r in table.rows if r[0].startswith("CA900"))
    assert row[3:] == ["yes", "block", "-", "blocks Recruitee"]
    md = render_markdown(report)
    assert (
        "| enabled | all users except user 76e6084b-4e00-4221-8260-5d7b074762bd; group "
        "'CA-Exclude-Tier0-Admins' | yes | block | - | blocks"
    ) in md
    html = render_html(report)
    assert '<td data-label="Effect on Recruitee">blocks Recruitee</td>' in html


def test_ca_table_says_the_lockdown_policy_does_not_apply_to_miriam() -> None:
    report = _report(CA_BLOCK, MIRIAM)
    (table,) = conditional_access_tables(report)
    row = next(r for r in table.rows if r[0].startswith("CA900"))
    assert row[3] == "no"
    assert row[-1] == "does not apply to this user"
    ca = _section(
        render_text_plain(report, DETAILS), CA_HEADING, "Recruitee enterprise applications"
    )
    assert "does not apply to" in ca  # may wrap in the 110-column table
    assert "Applies to" in ca
    assert "does not apply to this user" in render_markdown(report)
    assert "does not apply to this user" in render_html(report)


def test_ca_table_has_no_user_column_without_user() -> None:
    report = _report(CA_BLOCK)
    (table,) = conditional_access_tables(report)
    assert "Applies to this user" not in table.headers
    assert "Applies to" not in render_text_plain(report, DETAILS)
    assert "Applies to this user" not in render_markdown(report)


def test_unknown_applicability_is_said_not_guessed() -> None:
    report = _report(CA_BLOCK, NESTOR)
    rows = [r.model_copy(update={"applies_to_user": None}) for r in report.conditional_access]
    (table,) = conditional_access_tables(report.model_copy(update={"conditional_access": rows}))
    assert {r[3] for r in table.rows} == {"unknown"}


def test_session_controls_have_their_own_column() -> None:
    (table,) = conditional_access_tables(_report("signin-frequency.json"))
    row = next(r for r in table.rows if r[0].startswith("CA010"))
    assert row[table.headers.index("Controls")] == "-"
    assert row[table.headers.index("Session")] == (
        "sign-in frequency every 1 hour, persistent browser never"
    )
    assert row[-1] == "sign-in again at the next connect"


def test_unreadable_conditional_access_is_said_instead_of_an_empty_table() -> None:
    report = _report("ca-unreadable.json")
    assert conditional_access_tables(report) == []
    note = conditional_access_note(report)
    assert note is not None
    assert "unreadable (forbidden)" in note
    for out in (render_text_plain(report, DETAILS), render_markdown(report), render_html(report)):
        assert "Conditional Access in this tenant: unreadable (forbidden)" in out


def test_several_apps_get_one_ca_table_each() -> None:
    report = _report("duplicate-apps.json")
    tables = conditional_access_tables(report)
    assert [t.title for t in tables] == [app_label(report, a.object_id) for a in report.apps]


# Every format, colour, escaping ------------------------------------------------------------


@pytest.mark.parametrize("user", [None, NESTOR])
def test_every_human_format_has_the_three_sections(user: str | None) -> None:
    report = _report(CA_BLOCK, user)
    chain = "Why, step by step" if user else "Causal chain"
    for out in (render_text_plain(report, DETAILS), render_markdown(report), render_html(report)):
        assert chain in out
        assert SCOPES_HEADING in out
        assert CA_HEADING in out
        # after the findings, before the tenant's tables
        assert out.index(chain) < out.index(SCOPES_HEADING) < out.index(CA_HEADING)
        assert out.index(CA_HEADING) < out.index("Recruitee enterprise applications")


def test_plain_text_fits_110_columns_and_has_no_ansi() -> None:
    plain = render_text_plain(_report(CA_BLOCK, NESTOR), DETAILS)
    assert ANSI not in plain
    # Commands are never wrapped (they must copy whole); everything else fits.
    prose = [
        line
        for line in plain.splitlines()
        if not line.lstrip().startswith(("Graph: ", "PowerShell: "))
    ]
    assert max(len(line) for line in prose) <= 110
    assert "FAIL <- verdict" in plain


def test_no_color_terminal_output_keeps_the_status_words() -> None:
    env = {"FORCE_COLOR": "1", "NO_COLOR": "1"}
    _, out, _ = run("check", "--demo", "--user", "adele.vance@contoso.com", "--details", env=env)
    assert ANSI not in out
    assert "Why, step by step" in out
    assert "<- verdict" in out
    assert re.search(r"│ (PASS|FAIL|UNKNOWN)", out)


def _hostile(report: Report) -> Report:
    """Tenant-controlled strings with markup in them."""
    evil = '<img src="https://evil.example/x.png">&"|`*'
    ca = [
        r.model_copy(update={"display_name": f"CA {evil}", "users": evil})
        for r in report.conditional_access
    ]
    features = [
        f.model_copy(
            update={
                "chain": [c.model_copy(update={"detail": evil}) for c in f.chain],
                "apps": [
                    a.model_copy(
                        update={"scopes": [s.model_copy(update={"reason": evil}) for s in a.scopes]}
                    )
                    for a in f.apps
                ],
            }
        )
        for f in report.features
    ]
    return report.model_copy(update={"conditional_access": ca, "features": features})


def test_html_details_are_escaped_and_fetch_nothing() -> None:
    html = render_html(_hostile(_report(CA_BLOCK, NESTOR)))
    assert "<img" not in html
    assert "&lt;img src=&quot;https://evil.example/x.png&quot;&gt;&amp;&quot;|`*" in html
    checker = _check(html)
    assert checker.errors == []
    assert checker.stack == []
    assert checker.fetches == []
    assert not re.search(r"(src|href)=\"https?://", html)
    assert "url(" not in html
    assert "@import" not in html


def test_markdown_details_are_escaped() -> None:
    md = render_markdown(_hostile(_report(CA_BLOCK, NESTOR)))
    assert not re.search(r"(?<!\\)<img", md)
    assert '\\<img src="https\\://evil.example/x.png"\\>\\&"\\|\\`\\*' in md


def test_real_policy_names_keep_their_quotes_escaped_in_html() -> None:
    html = render_html(_report("recommended-policy.json", "patti.fernandez@fourthcoffee.com"))
    assert "'microsoft-user-default-recommended'" not in html
    assert "&#x27;microsoft-user-default-recommended&#x27;" in html
