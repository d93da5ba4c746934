"""The documented way to replay a snapshot through the emulator matches the emulator."""

from __future__ import annotations

import re
from pathlib import Path

from tests.emulator.__main__ import build_parser

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_testing_and_playbook_document_the_emulator_command() -> None:
    for name in ("testing.md", "support-playbook.md"):
        assert "python -m tests.emulator --snapshot" in (DOCS / name).read_text(encoding="utf-8")


def test_every_documented_emulator_option_exists() -> None:
    text = (DOCS / "testing.md").read_text(encoding="utf-8")
    section = text[text.index("## Reproducing a live run from a snapshot") :]
    options = section[section.index("Options:") :].split("\n\n")[0]
    documented = set(re.findall(r"`(--[a-z-]+)`", options))
    known = {o for action in build_parser()._actions for o in action.option_strings}
    assert documented
    assert documented <= known, documented - known
