"""Each CI recipe's install and audit steps, run for real in a plain shell (no container).

The recipes build a wheel from a pinned checkout of consent-audit and install it. Here the
checkout is a copy of this repository (``./consent-audit`` in a temporary work directory),
the shell lines that call pip are taken from each recipe and run as written in a fresh
virtual environment, and each recipe's audit command then runs from that environment with
the live sign-in options replaced by ``--demo``. The fresh environment sees the already
installed dependencies (typer, rich, pydantic, msal, requests, ...) through a ``.pth`` file
and never this checkout's editable install, so it is the wheel that is exercised; building
the wheel needs only the package index (for setuptools), as in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import venv
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.test_ci_recipes import RECIPES, _commands, _load, _offline, _outputs, _strings

ROOT = Path(__file__).resolve().parents[1]
INSTALL = [
    "python -m pip wheel --no-deps --wheel-dir dist ./consent-audit",
    "python -m pip install dist/consent_audit-*.whl",
]
NOT_SHIPPED = (".venv", ".git", "build", "dist", "*.egg-info", "tests", "bench", "examples")


def _install_lines(name: str) -> list[str]:
    return [
        line.strip().removeprefix("- ")
        for text in _strings(_load(name))
        for line in text.splitlines()
        if "python -m pip" in line
    ]


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_installs_a_wheel_built_from_a_pinned_release(name: str) -> None:
    text = (ROOT / "examples" / "ci" / name).read_text(encoding="utf-8")
    assert _install_lines(name) == INSTALL
    assert "v0.1.0" in text  # the pinned tag, as the README explains
    assert "pip install consent-audit" not in text  # not on PyPI


def _deps_dir(target: Path) -> Path:
    """This environment's packages except consent-audit itself, for the fresh venv to see."""
    target.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        lowered = entry.name.casefold()
        if "consent_audit" in lowered or lowered.startswith(("__editable__", "_distutils_hack")):
            continue
        if entry.suffix == ".pth":
            continue
        (target / entry.name).symlink_to(entry)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(work dir, venv bin dir) after running the recipes' install lines in a shell."""
    if os.name == "nt":
        pytest.skip("the recipes' shell steps run on Linux agents")
    base = tmp_path_factory.mktemp("recipe")
    work = base / "work"
    shutil.copytree(ROOT, work / "consent-audit", ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    purelib = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "recipe-deps.pth").write_text(str(_deps_dir(base / "deps")) + "\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))},
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    script = "set -eu\n" + "\n".join(INSTALL) + "\n"
    proc = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return work, bin_dir


def test_the_installed_package_is_the_wheel(installed: tuple[Path, Path]) -> None:
    _work, bin_dir = installed
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import consent_audit; print(consent_audit.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert str(bin_dir.parent) in where
    assert str(ROOT / "src") not in where


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_audit_step_runs_from_the_installed_wheel(
    name: str, installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _work, bin_dir = installed
    (argv,) = _commands(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "CONSENT_AUDIT_"))}
    env.update({"HOME": str(tmp_path), "CI": "true", "GITHUB_STEP_SUMMARY": ""})
    proc = subprocess.run(
        [str(bin_dir / "consent-audit"), *_offline(argv)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # the demo tenant has errors: the job fails
    assert "Traceback" not in proc.stderr
    for out in _outputs(argv):
        assert (tmp_path / out).stat().st_size > 0, out
    report = json.loads((tmp_path / "consent-audit.json").read_text())
    assert report["gate"]["exit_code"] == 1
    assert ET.parse(tmp_path / "consent-audit.xml").getroot().tag == "testsuites"
