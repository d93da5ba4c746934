"""Markdown forgery (issue 19 item 10): tenant data in a table cell or a line of text is shown
as written, never as a code span, a cell separator, emphasis, strikethrough or a link.

The Markdown is parsed with markdown-it-py (CommonMark plus GFM tables and strikethrough) and
every inline token that came from a table cell or a text line is inspected. Bare URLs are
checked on the source: GFM's extended autolinks start at ``://``, ``www.`` and ``@``, which
must reach the viewer escaped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render import RenderOptions
from consent_audit.render.markdown import render_markdown
from consent_audit.snapshot import parse_snapshot

EXAMPLES = Path(__file__).parents[2] / "examples" / "tenants"
APP_ID = "5c8e2f4a-91d3-4b7e-a6f0-3d2b9e71c845"
FORGED_CELLS = "` | `x` | yes | no | Recruitee B.V. (verified) | `"
PAYLOADS = {
    "code_span_cells": APP_ID + FORGED_CELLS,
    "emphasis": "_Enabled_ *yes* __bold__",
    "strike": "~~NO~~ yes",
    "link": "[Grant consent](https://evil.example/consent)",
    "autolink": "<https://evil.example/a>",
    "bare_url": "see https://evil.example/b and www.evil.example",
    "email": "admin@evil.example",
    "image": "![x](https://evil.example/x.png)",
}
_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_ACTIVE = {"code_inline", "em_open", "strong_open", "s_open", "link_open", "image", "html_inline"}


def _markdown(app_id: str, name: str) -> str:
    raw: dict[str, Any] = json.loads((EXAMPLES / "disabled-app.json").read_text(encoding="utf-8"))
    sp = raw["recruitee_apps"]["data"][0]["service_principal"]
    text = json.dumps(raw).replace(sp["appId"], app_id)
    raw = json.loads(text)
    raw["recruitee_apps"]["data"][0]["service_principal"]["publisherName"] = name
    raw["tenant"]["display_name"] = name
    for policy in raw["conditional_access_policies"]["data"]:
        policy["displayName"] = name
    snap = parse_snapshot(json.dumps(raw), "forged.json")
    return render_markdown(evaluate(snap, load_manifest()), RenderOptions())


def _apps_rows(md: str) -> list[list[Token]]:
    """The cells (inline tokens) of each body row of the applications table."""
    section = md.split("## Recruitee enterprise applications", 1)[1].split("\n## ", 1)[0]
    tokens = _PARSER.parse(section)
    rows: list[list[Token]] = []
    in_body = False
    for token in tokens:
        if token.type == "tbody_open":
            in_body = True
        elif token.type == "tbody_close":
            in_body = False
        elif token.type == "tr_open" and in_body:
            rows.append([])
        elif token.type == "inline" and in_body and rows:
            rows[-1].append(token)
    return rows


def test_a_crafted_app_id_cannot_make_a_disabled_app_read_enabled_and_verified() -> None:
    """Old code: the appId went into a raw code span; its backtick closed the span and its
    pipes made cells, so the row read "Enabled: yes, Publisher: Recruitee B.V. (verified)"."""
    md = _markdown(PAYLOADS["code_span_cells"], "plain")
    [row] = _apps_rows(md)
    assert len(row) == 7
    cells = [cell.content for cell in row]
    assert cells[3] == "NO"  # Enabled
    assert "verified" not in cells[6] or cells[6] == "unverified"  # Publisher
    for cell in row:
        assert not {c.type for c in cell.children or []} & _ACTIVE, cell.content


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_tenant_text_is_never_markdown_syntax(name: str) -> None:
    payload = PAYLOADS[name]
    md = _markdown(APP_ID, payload)
    tokens = _PARSER.parse(md)
    checked = 0
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        plain = "".join(c.content for c in token.children)
        kinds = {c.type for c in token.children}
        if "evil" in plain or "Enabled" in plain or "NO yes" in plain:
            checked += 1
            assert not kinds & _ACTIVE, token.content
    assert checked >= 3, "the payload reaches the CA table, the apps table and the text"
    # Bare URLs and email autolinks: GFM links them without any syntax, so the source must
    # carry them escaped wherever the data appears.
    fenced = False
    for line in md.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced  # evidence JSON: a code block shows data as written
        elif "evil" in line and not fenced:
            assert not re.search(r"(?<!\\)://|\bwww\.|(?<!\\)@evil", line), line
