"""Every example in README.md and in each command's --help runs as written.

Offline examples (--demo, --snapshot) run as they are; examples that talk to a live tenant run
against the project's Graph emulator serving the demo tenant (CONSENT_AUDIT_GRAPH_URL and a
bearer token, docs/testing.md). "Runs" means: exit 0 or 1 (1 = findings at or above
--fail-on), no traceback, and every file it was asked to write exists.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli_runner import run_cli
from tests.emulator.server import GraphEmulator

ROOT = Path(__file__).resolve().parents[2]
Factory = Callable[..., GraphEmulator]
COMMANDS = (
    "check",
    "snapshot",
    "explain",
    "consent-url",
    "fix",
    "diff",
    "login",
    "logout",
    "manifest",
)


def _readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            first = command.split(" ", 1)[0]
            if first.endswith("consent-audit"):
                lines.append("consent-audit " + command.split(" ", 1)[1])
    return lines


def _help_examples() -> list[str]:
    """The examples in every command's help text, as --help prints them (unwrapped)."""
    import typer

    from consent_audit.cli import app

    found: list[str] = []

    def walk(command: Any) -> None:
        for line in (command.help or "").splitlines():
            line = line.strip().removeprefix("Example: ").strip()
            if re.match(r"consent-audit \w", line):
                found.append(line)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return list(dict.fromkeys(found))


README = _readme_examples()
HELP = _help_examples()


def test_examples_were_found() -> None:
    assert len(README) >= 10
    assert len(HELP) >= 8
    assert any(e.startswith("consent-audit fix") for e in HELP)
    assert any(e.startswith("consent-audit consent-url") for e in HELP)


def _run(example: str, emu: GraphEmulator, home: Path) -> None:
    for part in example.split("&&"):
        words = shlex.split(part)
        target = None
        if ">" in words:
            at = words.index(">")
            words, target = words[:at], home / words[at + 1]
        assert words[0] == "consent-audit", example
        args = [str(ROOT / w) if (ROOT / w).is_file() and "/" in w else w for w in words[1:]]
        args = [str(home / a) if a.startswith("my-") else a for a in args]
        run = run_cli(args, emu.url, home, extra_env={"COLUMNS": "80"})
        assert run.code in (0, 1), (example, run.code, run.stderr)
        assert not run.stderr.startswith("error:"), (example, run.stderr)
        if target is not None:
            target.write_text(run.stdout, encoding="utf-8")
            assert run.stdout, example


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for all examples, in order: a file one example writes (a baseline, a
    snapshot) is there for the next, as when a person follows them."""
    return tmp_path_factory.mktemp("examples")


@pytest.mark.parametrize("example", README + HELP)
def test_example_runs_as_written(
    example: str, graph_emulator_factory: Factory, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    emu = graph_emulator_factory()
    _run(example, emu, workdir)
