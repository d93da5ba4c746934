"""What pyproject.toml promises about dependency versions stays tested.

CI's floors run (``.ci/run``) installs ``.ci/floors.txt`` -- the lowest version of every
dependency pyproject.toml allows -- on the lowest Python it allows and runs part of the suite
there. These tests keep that file and README's reasons in step with pyproject.toml, and hold
the fallback that lets cli.py run on a Typer without the internals it narrows the app with.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _dependencies() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def _floor(requirement: Requirement) -> str:
    floors = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    assert len(floors) == 1, f"{requirement}: one '>=' floor, tested by .ci/floors.txt"
    return floors[0]


def _constraints() -> dict[str, Requirement]:
    lines = (ROOT / ".ci" / "floors.txt").read_text(encoding="utf-8").splitlines()
    pins = [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]
    return {pin.name: pin for pin in pins}


def test_floors_file_pins_exactly_the_floor_of_every_dependency() -> None:
    pins = _constraints()
    assert sorted(pins) == sorted(dep.name for dep in _dependencies())
    for dep in _dependencies():
        pin = pins[dep.name]
        assert str(pin.specifier) == f"=={_floor(dep)}", (dep, pin)
        assert pin.marker == dep.marker, (dep, pin)


def test_ci_runs_the_floors_on_the_lowest_python_pyproject_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lowest = re.fullmatch(r">=(3\.\d+)", project["requires-python"])
    assert lowest, project["requires-python"]
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # .ci/run reads the version from pyproject.toml, so the two cannot drift apart.
    assert "requires-python" in run
    assert "-c .ci/floors.txt" in run


def test_readme_says_each_floor_and_why() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Dependencies, and why", 1)[1].split("\n## ", 1)[0]
    rows = {row.split("|")[1].strip(): row for row in section.splitlines() if row.startswith("| ")}
    for dep in _dependencies():
        row = rows.get(dep.name)
        assert row is not None, f"README's dependency table has no row for {dep.name}"
        assert f">={_floor(dep)}" in row, f"README's row for {dep.name} misses >={_floor(dep)}"


def test_without_typers_internals_the_whole_app_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from consent_audit import cli

    whole = SimpleNamespace(registered_commands=list(cli.app.registered_commands))
    monkeypatch.setattr(cli, "app", whole)  # no registered_groups
    assert cli._only_the_command(["check", "--demo"]) is whole
    whole.registered_commands = [SimpleNamespace(name=None)]  # a CommandInfo without callback
    monkeypatch.delenv("_CONSENT_AUDIT_COMPLETE", raising=False)
    assert cli._only_the_command(["--help"]) is whole


WHOLE_APP = """
import sys
import consent_audit.cli as cli
if sys.argv[1] == "whole":
    def _missing(argv):
        raise AttributeError("'Typer' object has no attribute 'registered_groups'")
    cli._narrowed_app = _missing
sys.argv = ["consent-audit", *sys.argv[2:]]
cli.main()
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["check", "--help"],
        ["check", "--demo", "--format", "json"],
        ["check", "--demo", "--fail-on", "never"],
        ["manifest", "show"],
        ["chek"],
    ],
)
def test_the_whole_app_says_what_the_narrowed_one_says(argv: list[str]) -> None:
    def run(mode: str) -> tuple[int, str, str]:
        proc = subprocess.run(
            [sys.executable, "-c", WHOLE_APP, mode, *argv],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "NO_COLOR": "1"},
        )
        out = proc.stdout
        if "--format" in argv:
            report = json.loads(out)
            report.pop("generated_at", None)
            out = json.dumps(report)
        return proc.returncode, out, proc.stderr

    narrowed = run("narrowed")
    assert narrowed[0] in (0, 1, 2), narrowed
    assert run("whole") == narrowed
