"""Every committed generated example is exactly what its builder writes now.

Support replays examples/tenants/*.json, the golden reports were made from them, the bundled
``--demo`` tenant is built beside them, and examples/diff and examples/unredact are built from
two of them. A change to the snapshot model or a renderer that lands without running the
builders leaves these silently apart (234049f: every example lacked ``reported_by``,
examples/diff still held fields the model had dropped, examples/unredact/report.md predated
three renderer changes). So each builder runs into a temporary directory (``--output-dir``)
and every file it writes must equal the committed one, and every committed file must be one
it writes. Nothing is ignored except, in a Markdown report, the "report generated" minute: the
one value that depends on when it is built (``VOLATILE``).
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DEMO = ROOT / "src" / "consent_audit" / "data" / "demo_tenant.json"

VOLATILE = re.compile(r"report generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
"""The time ``check`` stamps on a report (render/markdown.py); nothing else is ignored."""


@dataclass(frozen=True)
class Builder:
    script: Path
    committed: dict[str, Path]
    """File name the builder writes -> where it is committed."""
    then: tuple[str, ...] = ()
    """What to run after it: what is built from its files."""
    volatile: frozenset[str] = field(default_factory=frozenset)
    """Names whose "report generated" minute is not compared."""


def _in(folder: Path, pattern: str) -> dict[str, Path]:
    return {path.name: path for path in sorted(folder.glob(pattern)) if path.is_file()}


TENANTS = EXAMPLES / "tenants"
DIFF = EXAMPLES / "diff"
UNREDACT = EXAMPLES / "unredact"
BUILDERS = {
    "tenants": Builder(
        TENANTS / "build_examples.py",
        {**_in(TENANTS, "*.json"), DEMO.name: DEMO},
        then=(
            ".venv/bin/python examples/diff/build_diff_example.py",
            ".venv/bin/python examples/unredact/build_unredact_example.py",
            "UPDATE_GOLDEN=1 .venv/bin/pytest -q -n 0 tests/test_examples.py",
        ),
    ),
    "diff": Builder(DIFF / "build_diff_example.py", _in(DIFF, "*.json")),
    "unredact": Builder(
        UNREDACT / "build_unredact_example.py",
        {name: path for name, path in _in(UNREDACT, "*").items() if path.suffix != ".py"},
        volatile=frozenset({"report.md"}),
    ),
}


def _command(builder: Builder) -> str:
    return f".venv/bin/python {builder.script.relative_to(ROOT).as_posix()}"


def _run(builder: Builder, out: Path) -> None:
    """Run the builder's ``main`` in this process (no second interpreter start-up)."""
    spec = importlib.util.spec_from_file_location(f"_builder_{builder.script.stem}", builder.script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--output-dir", str(out)])


def _text(path: Path, volatile: bool) -> str:
    text = path.read_text(encoding="utf-8")
    if volatile:
        assert len(VOLATILE.findall(text)) == 1, f"{path.name}: no single 'report generated' time"
        text = VOLATILE.sub("report generated <time> UTC", text)
    return text


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_committed_examples_are_what_their_builder_writes(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = BUILDERS[name]
    _run(builder, tmp_path)
    capsys.readouterr()
    built = {path.name: path for path in tmp_path.iterdir()}
    problems: list[str] = []
    for file_name in sorted(built.keys() - builder.committed.keys()):
        problems.append(f"{file_name}: written by the builder, not committed")
    for file_name in sorted(builder.committed.keys() - built.keys()):
        path = builder.committed[file_name].relative_to(ROOT).as_posix()
        problems.append(f"{path}: committed, but the builder no longer writes it (remove it)")
    for file_name in sorted(built.keys() & builder.committed.keys()):
        volatile = file_name in builder.volatile
        new = _text(built[file_name], volatile)
        old = _text(builder.committed[file_name], volatile)
        if new != old:
            path = builder.committed[file_name].relative_to(ROOT).as_posix()
            diff = difflib.unified_diff(
                old.splitlines(), new.splitlines(), f"{path} (committed)", "built", lineterm=""
            )
            problems.append("\n".join([*list(diff)[:12], "..."]))
    regenerate = " && ".join([_command(builder), *builder.then])
    if problems:
        pytest.fail(
            f"The committed files are not what {_command(builder)} writes now "
            f"({len(problems)} file(s)). Regenerate from the repository root with "
            f"`{regenerate}`, review the diff, commit:\n" + "\n".join(problems),
            pytrace=False,
        )


def test_readme_unredact_example_gives_the_committed_report_its_names_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """README's `consent-audit unredact examples/unredact/report.md ...`, run as written on the
    committed report, maps every pseudonym of the customer's tenant back: the reporter (UPN and
    object id), the Conditional Access policy the report lists; no redacted UPN or policy
    pseudonym is left."""
    from typer.testing import CliRunner

    from consent_audit.cli import app
    from consent_audit.snapshot import load_snapshot

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = r"^consent-audit (unredact examples/unredact/report\.md [^#\n]*)"
    line = re.search(shown, readme, re.M)
    assert line, "README no longer shows unredact on examples/unredact/report.md"
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(line.group(1)))
    assert result.exit_code == 0, result.output
    report = result.stdout.replace("\\@", "@")
    own = load_snapshot(TENANTS / "assignment-required.json")
    reporter = own.find_user("lynne.robbins@fabrikam.com")
    assert reporter is not None
    assert reporter.user.data is not None
    assert f"{reporter.user.data.id} = lynne.robbins@fabrikam.com" in report  # the plan's ids
    assert "| CA002 - Require multifactor authentication for all users | enabled |" in report
    assert "redacted.invalid" not in report
    assert not re.search(r"\b(User|CA policy) [0-9a-f]{8}\b", report)
