"""The one boundary between tenant/file data and any output: every renderer goes through it.

Every name in a report (application, policy, user, group, scope, consent reason, snapshot
path, manifest title) was written by someone the admin may not trust, and snapshots come
from customers. Such a string must reach the admin as *text*: never as terminal control
sequences, rich markup, Markdown blocks, HTML or a second line that forges a verdict.

What this module guarantees, and where:

- :func:`clean` - one line of inert text. Lone surrogates (which UTF-8 cannot encode, so
  writing them crashes) become U+FFFD; C0/C1 controls, DEL, ESC (and so every CSI/OSC
  sequence), BEL, NUL, bidi controls and the XML non-characters are shown as visible escapes
  (``\\x1b``, ``\\u202e``) so the evidence survives without acting; every kind of line break
  and tab becomes a space so a name never starts a new line, Markdown block or log record.
- :func:`clean_lines` - text the CLI composed (``fix``'s plan, ``explain``, ``consent-url``),
  each of its own lines cleaned: the last step before such text is printed.
- :func:`clean_report` - the whole report with :func:`clean` applied to every string it holds
  (dict keys too). Every human-readable renderer (text, Markdown, JUnit, HTML) starts with it,
  so a field added to the report later is covered without touching a renderer.
- :func:`json_safe_report` - for the JSON report, which is data for programs: strings stay
  as collected except lone surrogates (U+FFFD); :func:`escape_json_bidi` then writes bidi
  controls as ``\\uXXXX`` escapes, which JSON parsers read back unchanged but a terminal
  printing the document does not reorder.
- :func:`rich_text` / :func:`report_console` - the text renderer passes data to rich only as
  ``Text`` objects, on a console whose markup parsing is off, so ``[link=...]`` or ``[/]`` in
  a policy name is shown, never interpreted (and can never raise ``MarkupError``).

Format-specific escaping stays with its format, applied to already-clean strings:
``html.escape`` in html.py, backslash escaping of Markdown syntax in markdown.py, XML
escaping by ElementTree in junit.py.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    # rich costs ~20 ms to import: only the text renderer needs it, so JSON, Markdown, HTML
    # and JUnit runs never load it (bench/scale.py, docs/performance.md).
    from rich.console import Console
    from rich.text import Text

# Line breaks Python, terminals or Markdown honour (str.splitlines' set) and tab: a space.
_LINE_BREAKS = "\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
# Bidirectional formatting controls (Unicode TR9): they reorder what the admin reads.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_SURROGATE = "[\ud800-\udfff]"
_LINE_BREAK_RUN = f"[{_LINE_BREAKS}]+"
# Everything else that acts instead of printing: C0 (ESC starts CSI/OSC), DEL, C1, bidi,
# and the two XML 1.0 non-characters (JUnit could not carry them).
_INERT = f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}\ufffe\uffff]"
_BIDI = f"[{BIDI_CONTROLS}]"
# Anything clean() would change (line breaks are within C0/C1 except the two separators).
_NEEDS_CLEANING = re.compile(
    f"[\ud800-\udfff\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}\ufffe\uffff]"
)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled when first needed: most runs never meet text that needs cleaning,
    and each of these Unicode classes costs ~0.2 ms to compile (docs/performance.md)."""
    return re.compile(pattern)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(value: str) -> str:
    """``value`` as one line of inert, encodable text (idempotent)."""
    if not _NEEDS_CLEANING.search(value):
        return value
    value = _compiled(_SURROGATE).sub("\ufffd", value)
    value = _compiled(_LINE_BREAK_RUN).sub(" ", value)
    return _compiled(_INERT).sub(_visible, value)


T = TypeVar("T")


def _walk(value: T, fix: Any) -> T:
    result: Any = value
    if isinstance(value, str):
        result = fix(value)
    elif isinstance(value, BaseModel):
        updates = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = _walk(old, fix)
            if new is not old:
                updates[name] = new
        result = value.model_copy(update=updates) if updates else value
    elif isinstance(value, list | tuple):
        items = [_walk(item, fix) for item in value]
        changed = any(a is not b for a, b in zip(items, value, strict=True))
        result = type(value)(items) if changed else value
    elif isinstance(value, dict):
        pairs = [(_walk(k, fix), _walk(v, fix)) for k, v in value.items()]
        changed = any(
            k2 is not k or v2 is not v
            for (k2, v2), (k, v) in zip(pairs, value.items(), strict=True)
        )
        result = dict(pairs) if changed else value
    return result  # type: ignore[no-any-return]


def clean_lines(text: str) -> str:
    """Text we composed, line by line through :func:`clean`: our own line breaks stay, any
    control, escape or bidi character becomes visible. Data must already be clean (one line)
    when it is put into ``text``: this keeps a line from acting, not from being forged."""
    return "\n".join(clean(line) for line in text.split("\n"))


def clean_report(report: T) -> T:
    """``report`` (any pydantic model) with every string, at any depth, passed through clean."""
    return _walk(report, clean)


def _no_surrogates(value: str) -> str:
    surrogate = _compiled(_SURROGATE)
    return surrogate.sub("\ufffd", value) if surrogate.search(value) else value


def json_safe_report(report: T) -> T:
    """``report`` with lone surrogates replaced: JSON keeps the data as it was, but encodable."""
    return _walk(report, _no_surrogates)


def escape_json_bidi(document: str) -> str:
    """A JSON document with bidi controls written as ``\\uXXXX`` escapes (same data).

    Outside strings JSON has only ASCII, so every bidi control is inside a string, where the
    escape is valid JSON that parsers read back as the same character.
    """
    return _compiled(_BIDI).sub(lambda m: f"\\u{ord(m.group()):04x}", document)


_TOML_INVISIBLE = f"[\x80-\x9f\u2028\u2029{BIDI_CONTROLS}\ufffe\uffff]"


def toml_safe(document: str) -> str:
    """A TOML document written by tomli_w, safe to print and to save as UTF-8.

    tomli_w writes every string as a basic string and escapes C0 controls and DEL, but
    leaves C1 controls (0x9b starts a CSI sequence), line and paragraph separators and bidi
    controls as they are: here they become ``\\uXXXX`` escapes, which TOML reads back as the
    same characters. Lone surrogates (UTF-8 cannot encode them) become U+FFFD.
    """
    document = _no_surrogates(document)
    return _compiled(_TOML_INVISIBLE).sub(lambda m: f"\\u{ord(m.group()):04x}", document)


def rich_text(value: str, style: str = "") -> Text:
    """Data for the text renderer: a rich ``Text`` (never parsed as markup), cleaned."""
    from rich.text import Text

    return Text(clean(value), style=style)


def report_console(**options: Any) -> Console:
    """A rich console for the report: markup, emoji codes and highlighting all off.

    Renderers pass data as :func:`rich_text`; turning markup off as well means a plain string
    that slips through is still printed as written.
    """
    from rich.console import Console

    return Console(markup=False, emoji=False, highlight=False, **options)
