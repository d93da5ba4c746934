"""HTML: well-formed, self-contained (no external asset), every finding and verdict shown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from consent_audit.render import RenderOptions
from consent_audit.render.html import render_html
from consent_audit.report import Report

VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class _Checker(HTMLParser):
    """Tracks open elements and every reference the page would fetch."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.fetches: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        for name in ("src", "srcset", "poster", "data"):
            if name in attributes:
                self.fetches.append(f"{tag}[{name}]={attributes[name]}")
        if tag == "link" or tag == "script" or tag == "iframe":
            self.fetches.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _check(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker


def test_well_formed(report: Report) -> None:
    html = render_html(report, RenderOptions())
    assert html.startswith("<!DOCTYPE html>")
    checker = _check(html)
    assert checker.errors == []
    assert checker.stack == []
    assert len(checker.ids) == len(set(checker.ids)), "ids are unique"


def test_self_contained_no_external_assets(report: Report) -> None:
    html = render_html(report, RenderOptions())
    checker = _check(html)
    assert checker.fetches == []
    style = html.split("<style>")[1].split("</style>")[0]
    assert "url(" not in style
    assert "@import" not in style
    assert checker.tags.count("style") == 1
    # Links to documentation are fine; nothing the page loads points to http(s).
    for match in re.finditer(r'(\w+)="(https?://[^"]*)"', html):
        assert match.group(1) == "href", match.group(0)


def test_contains_every_finding_id_and_verdict(report: Report) -> None:
    html = render_html(report, RenderOptions())
    text = " ".join(_check(html).text)
    for f in report.findings:
        assert f.id in text
        assert f.title in text
    for feature in report.features:
        assert f'class="card s-{feature.status.value}"' in html
        assert feature.title in text
    assert f'class="banner s-{report.summary.status.value}"' in html
    # Verdicts come before findings.
    assert html.index('class="cards"') < html.index('id="findings"')


def test_evidence_and_raw_report_are_collapsed(demo_report: Report) -> None:
    html = render_html(demo_report, RenderOptions())
    with_evidence = [f for f in demo_report.findings if f.evidence]
    assert html.count("<summary>Evidence</summary>") == len(with_evidence)
    assert "<summary>The full report as JSON</summary>" in html
    assert "<details open><summary>Evidence" not in html
    assert "<details open><summary>The full report" not in html


def test_tenant_data_is_escaped(demo_report: Report) -> None:
    tenant = demo_report.tenant.model_copy(update={"default_domain": "<script>x</script>"})
    html = render_html(demo_report.model_copy(update={"tenant": tenant}), RenderOptions())
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
